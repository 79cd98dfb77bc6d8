//! Fuzzes the RESP decoder with arbitrary bytes.
//!
//! The first two input bytes pick small limits (so "beyond the cap" and "too deep" are reached
//! with short inputs), the next eight seed the read splits, the rest is what the "server" sent.
//! The bytes are fed in random-sized reads, as a socket delivers them, and decoded after every
//! read. Besides "no panic, no hang, no huge allocation", the target checks that the split does
//! not matter: the same frames come out, and the same bytes are refused, as when everything
//! arrives in one read. `debug_assertions` (on in fuzz builds) also check that the decoder's
//! scan and parse agree on where each frame ends.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use redis_model::resp::{DecodeLimits, Decoder, Value};

/// Frames decoded until the buffer ran dry or an error came; `true` if an error ended it.
type Outcome = (Vec<Value>, bool);

fn decode_whole(limits: DecodeLimits, input: &[u8]) -> Outcome {
    let mut decoder = Decoder::new(limits);
    let mut buf = BytesMut::from(input);
    let mut frames = Vec::new();
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(v)) => frames.push(v),
            Ok(None) => return (frames, false),
            Err(_) => return (frames, true),
        }
    }
}

fn decode_split(limits: DecodeLimits, mut seed: u64, input: &[u8]) -> Outcome {
    let mut decoder = Decoder::new(limits);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        // xorshift: cheap, deterministic read sizes from 1 to 16 bytes.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = ((seed % 16) as usize + 1).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        loop {
            let before = buf.len();
            match decoder.decode(&mut buf) {
                Ok(Some(v)) => {
                    assert!(buf.len() < before, "a frame consumed no bytes");
                    frames.push(v);
                }
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

fuzz_target!(|data: &[u8]| {
    let [depth, bulk, s0, s1, s2, s3, s4, s5, s6, s7, input @ ..] = data else {
        return;
    };
    let limits = DecodeLimits {
        max_bulk_len: usize::from(*bulk),
        max_depth: usize::from(depth % 8),
    };
    // A zero seed would make xorshift stick at zero.
    let seed = u64::from_le_bytes([*s0, *s1, *s2, *s3, *s4, *s5, *s6, *s7]) | 1;

    let whole = decode_whole(limits, input);
    let split = decode_split(limits, seed, input);
    // Compared through Debug: a NaN double is not equal to itself.
    assert_eq!(
        format!("{whole:?}"),
        format!("{split:?}"),
        "the frames depend on how the reads were split"
    );
});
