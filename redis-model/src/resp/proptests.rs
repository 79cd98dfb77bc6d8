//! Round trips of every RESP3 type through the encoder and the decoder, with the encoded bytes
//! delivered in reads split at arbitrary points.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::{encode_value, DecodeLimits, Decoder, Frame, ServerError, Value};

fn line() -> impl Strategy<Value = Bytes> {
    // Simple strings and errors are lines: no CR or LF inside.
    "[^\r\n]{0,24}".prop_map(Bytes::from)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        line().prop_map(Value::SimpleString),
        "[A-Z]{1,8} [^\r\n]{0,16}".prop_map(|s| Value::Error(ServerError::new(Bytes::from(s)))),
        any::<i64>().prop_map(Value::Integer),
        proptest::collection::vec(any::<u8>(), 0..48).prop_map(|b| Value::BulkString(b.into())),
        any::<bool>().prop_map(Value::Boolean),
        // NaN is excluded only because it is not equal to itself.
        any::<f64>()
            .prop_filter("nan", |d| !d.is_nan())
            .prop_map(Value::Double),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Value::BigNumber(Bytes::from(s))),
        ("[a-z]{3}", proptest::collection::vec(any::<u8>(), 0..24)).prop_map(|(f, t)| {
            let f = f.as_bytes();
            Value::Verbatim {
                format: [f[0], f[1], f[2]],
                text: t.into(),
            }
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        let items = proptest::collection::vec(inner.clone(), 0..6);
        let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            items.clone().prop_map(Value::Array),
            items.clone().prop_map(Value::Set),
            proptest::collection::vec(inner.clone(), 1..6).prop_map(Value::Push),
            pairs.clone().prop_map(Value::Map),
            (pairs, inner).prop_map(|(attributes, value)| Value::Attribute {
                attributes,
                value: Box::new(value),
            }),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip_with_split_reads(values in proptest::collection::vec(value(), 1..4), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let mut wire = BytesMut::new();
        for v in &values {
            encode_value(v, &mut wire);
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        points.push(wire.len());
        points.sort_unstable();

        let mut decoder = Decoder::new(DecodeLimits::default());
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        let mut from = 0;
        for to in points {
            buf.extend_from_slice(&wire[from..to]);
            from = to;
            while let Some(v) = decoder.decode(&mut buf).unwrap() {
                decoded.push(v);
            }
        }
        prop_assert_eq!(decoded, values);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn reader_skips_exactly_one_frame(v in value()) {
        let mut wire = BytesMut::new();
        encode_value(&v, &mut wire);
        let frame = Decoder::default().decode_frame(&mut wire).unwrap().unwrap();
        let mut reader = frame.reader();
        reader.skip().unwrap();
        prop_assert!(reader.next().is_err(), "nothing after the frame");
    }

    #[test]
    fn unchecked_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let frame = Frame::new(Bytes::from(bytes));
        let _ = frame.parse();
        let _ = frame.reader().skip();
        let _ = frame.reader().pairs();
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut decoder = Decoder::new(DecodeLimits { max_bulk_len: 64, max_depth: 8 });
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(_)) = decoder.decode(&mut buf) {}
    }
}
