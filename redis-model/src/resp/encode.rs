//! RESP encoding: commands as arrays of bulk strings, written straight into a buffer.
//!
//! [`encode_value`] writes any [`Value`] in RESP3; the client never sends one, but tests, the fuzz
//! corpus and fake servers do.

use bytes::{BufMut, BytesMut};

use super::value::Value;

/// Formats `n` in decimal into the tail of `digits`, without going through `fmt`: integers are
/// on every hot path (lengths, `EX`, scores).
pub(crate) fn decimal(n: i128, digits: &mut [u8; 40]) -> &[u8] {
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        digits[i] = b'-';
    }
    &digits[i..]
}

/// Writes `n` in decimal.
pub(crate) fn put_decimal(buf: &mut BytesMut, n: i64) {
    buf.put_slice(decimal(n.into(), &mut [0; 40]));
}

/// A header line: a type byte, a length, CRLF (`*3\r\n`, `$5\r\n`).
pub(crate) fn put_header(buf: &mut BytesMut, kind: u8, len: usize) {
    buf.put_u8(kind);
    put_decimal(buf, len as i64);
    buf.put_slice(b"\r\n");
}

/// One bulk string: `$len\r\nbytes\r\n`.
pub(crate) fn put_bulk(buf: &mut BytesMut, bytes: &[u8]) {
    put_bulk_kind(buf, b'$', bytes);
}

fn put_bulk_kind(buf: &mut BytesMut, kind: u8, bytes: &[u8]) {
    put_header(buf, kind, bytes.len());
    buf.put_slice(bytes);
    buf.put_slice(b"\r\n");
}

/// Encodes `value` in RESP3.
pub fn encode_value(value: &Value, buf: &mut BytesMut) {
    match value {
        Value::Nil => buf.put_slice(b"_\r\n"),
        Value::SimpleString(s) => put_line(buf, b'+', s),
        Value::Error(e) => put_bulk_kind(buf, b'!', e.as_bytes()),
        Value::Integer(n) => {
            buf.put_u8(b':');
            put_decimal(buf, *n);
            buf.put_slice(b"\r\n");
        }
        Value::BulkString(b) => put_bulk(buf, b),
        Value::Array(items) => put_items(buf, b'*', items),
        Value::Boolean(b) => buf.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Value::Double(d) => {
            let text = if d.is_nan() {
                "nan".to_owned()
            } else if d.is_infinite() {
                if *d > 0.0 { "inf" } else { "-inf" }.to_owned()
            } else {
                format!("{d:?}")
            };
            put_line(buf, b',', text.as_bytes());
        }
        Value::BigNumber(n) => put_line(buf, b'(', n),
        Value::Verbatim { format, text } => {
            put_header(buf, b'=', text.len() + 4);
            buf.put_slice(format);
            buf.put_u8(b':');
            buf.put_slice(text);
            buf.put_slice(b"\r\n");
        }
        Value::Map(pairs) => {
            put_header(buf, b'%', pairs.len());
            put_pairs(buf, pairs);
        }
        Value::Set(items) => put_items(buf, b'~', items),
        Value::Attribute { attributes, value } => {
            put_header(buf, b'|', attributes.len());
            put_pairs(buf, attributes);
            encode_value(value, buf);
        }
        Value::Push(items) => put_items(buf, b'>', items),
    }
}

fn put_line(buf: &mut BytesMut, kind: u8, line: &[u8]) {
    buf.put_u8(kind);
    buf.put_slice(line);
    buf.put_slice(b"\r\n");
}

fn put_items(buf: &mut BytesMut, kind: u8, items: &[Value]) {
    put_header(buf, kind, items.len());
    for item in items {
        encode_value(item, buf);
    }
}

fn put_pairs(buf: &mut BytesMut, pairs: &[(Value, Value)]) {
    for (k, v) in pairs {
        encode_value(k, buf);
        encode_value(v, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for n in [0, 7, -7, 10, 12345, i64::MAX, i64::MIN] {
            let mut buf = BytesMut::new();
            put_decimal(&mut buf, n);
            assert_eq!(&buf[..], n.to_string().as_bytes());
        }
    }
}
