//! Incremental RESP2/RESP3 decoding.
//!
//! Decoding runs in two passes, as mini-redis does: a *scan* walks the buffer to find where the
//! next complete frame ends, without allocating; only then is the frame split off the buffer and
//! *parsed* into a [`Value`] whose strings are slices of it. A frame that has not fully arrived is
//! the expected state `Ok(None)`, not an error.
//!
//! The scan is resumable: when a read ends in the middle of a large array, the next call goes on
//! from the last complete element instead of walking the array again, so a reply arriving in many
//! reads costs time linear in its size.
//!
//! Hostile input: declared lengths are only compared against the limits and the bytes at hand,
//! never used to allocate; aggregates are allocated once their elements are all in the buffer
//! (each takes at least three bytes, so the allocation is bounded by what was received).

use bytes::BytesMut;

use super::frame::{self, Frame};
use super::value::Value;
use crate::error::{Error, Result};

/// Caps that protect the client from a broken or hostile server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest bulk string, bulk error or verbatim string accepted, in bytes, and longest line.
    /// Default 512 MiB, the largest string Redis stores.
    pub max_bulk_len: usize,
    /// Deepest nesting of aggregates (arrays, maps, sets, pushes, attributes). Default 128.
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bulk_len: 512 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// Decodes frames from a growing buffer. Keeps the scan position between calls.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: DecodeLimits,
    /// Where the scan of the pending frame stopped: the start of its first incomplete element.
    pos: usize,
    /// Elements still missing in each open aggregate, innermost last.
    open: Vec<u64>,
    /// Bytes after the type byte at `pos` already searched for the line's CRLF in vain: a long
    /// line arriving in many reads is searched once, not again from its start at each read.
    line_searched: usize,
    /// Bytes examined for CRLFs, to test the above.
    #[cfg(test)]
    examined: usize,
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: DecodeLimits) -> Self {
        Decoder {
            limits,
            pos: 0,
            open: Vec::new(),
            line_searched: 0,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// Splits the next complete frame off `buf` and parses it; `Ok(None)` when more bytes are
    /// needed. After an error the decoder and the buffer are unusable: drop the connection.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Value>> {
        self.decode_frame(buf)?.map(|f| f.parse()).transpose()
    }

    /// Splits the next complete frame off `buf`, checked but not taken apart; `Ok(None)` when
    /// more bytes are needed. Errors as for [`Decoder::decode`].
    pub fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>> {
        let Some(len) = self.scan(buf)? else {
            return Ok(None);
        };
        self.pos = 0;
        self.open.clear();
        self.line_searched = 0;
        Ok(Some(Frame::new(buf.split_to(len).freeze())))
    }

    /// Finds the end of the frame at the start of `buf`.
    fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        loop {
            let Some((kind, line, after_line)) = self.line_at(buf)? else {
                return Ok(None);
            };
            let mut end = after_line;
            match kind {
                b'+' | b'-' => {}
                b':' => drop(frame::integer(line)?),
                b'_' => frame::null(line)?,
                b'#' => drop(frame::boolean(line)?),
                b',' => drop(frame::double(line)?),
                b'(' => drop(frame::big_number(line)?),
                b'$' | b'!' | b'=' => {
                    if let Some(len) = self.length(line, kind == b'$')? {
                        if len > self.limits.max_bulk_len {
                            return Err(Error::protocol(format!(
                                "bulk length {len} exceeds the limit of {}",
                                self.limits.max_bulk_len
                            )));
                        }
                        end = match after_line.checked_add(len + 2) {
                            Some(end) if end <= buf.len() => end,
                            _ => return Ok(None),
                        };
                        if &buf[end - 2..end] != b"\r\n" {
                            return Err(Error::protocol("bulk string not terminated by CRLF"));
                        }
                        if kind == b'=' {
                            frame::verbatim(&buf[after_line..end - 2])?;
                        }
                    }
                }
                b'*' | b'~' | b'>' | b'%' | b'|' => {
                    if let Some(n) = self.length(line, kind == b'*')? {
                        let n = n as u64;
                        let children = match kind {
                            b'%' => n * 2,
                            b'|' => n * 2 + 1,
                            _ => n,
                        };
                        if children > 0 {
                            if self.open.len() >= self.limits.max_depth {
                                return Err(Error::protocol(format!(
                                    "nesting deeper than the limit of {}",
                                    self.limits.max_depth
                                )));
                            }
                            self.open.push(children);
                            self.pos = end;
                            continue;
                        }
                    }
                }
                other => {
                    return Err(Error::protocol(format!(
                        "unknown RESP type byte {:?}",
                        char::from(other).escape_default().to_string()
                    )))
                }
            }
            // One element is complete; close every aggregate it completes.
            self.pos = end;
            loop {
                match self.open.last_mut() {
                    None => return Ok(Some(end)),
                    Some(missing) => {
                        *missing -= 1;
                        if *missing > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
    }

    /// The type byte, the line after it and the offset past its CRLF, of the element at `pos`.
    fn line_at<'b>(&mut self, buf: &'b [u8]) -> Result<Option<(u8, &'b [u8], usize)>> {
        let at = self.pos;
        let Some(&kind) = buf.get(at) else {
            return Ok(None);
        };
        let rest = &buf[at + 1..];
        let too_long = || {
            Error::protocol(format!(
                "line longer than the limit of {} bytes",
                self.limits.max_bulk_len
            ))
        };
        // Resume one byte back: the last search may have ended between `\r` and `\n`.
        let from = self.line_searched.saturating_sub(1).min(rest.len());
        #[cfg(test)]
        {
            self.examined += rest.len() - from;
        }
        let found = frame::find_crlf(&rest[from..]).map(|n| from + n);
        self.line_searched = if found.is_some() { 0 } else { rest.len() };
        // The cap holds for a complete line as for a partial one, so that the same bytes are
        // accepted or refused however the reads split them. A partial line may end in the `\r`
        // of its CRLF: only more than one byte past the cap proves the line too long.
        match found {
            Some(n) if n > self.limits.max_bulk_len => Err(too_long()),
            Some(n) => Ok(Some((kind, &rest[..n], at + 1 + n + 2))),
            None if rest.len() > self.limits.max_bulk_len.saturating_add(1) => Err(too_long()),
            None => Ok(None),
        }
    }

    /// A declared length; `None` for the RESP2 null (`-1`) where it is allowed.
    fn length(&self, line: &[u8], null_allowed: bool) -> Result<Option<usize>> {
        if line == b"-1" && null_allowed {
            return Ok(None);
        }
        if line == b"?" {
            return Err(Error::protocol(
                "streamed RESP3 aggregates are not supported",
            ));
        }
        frame::length(line).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn decode_all(input: &[u8]) -> Result<Option<Value>> {
        Decoder::default().decode(&mut BytesMut::from(input))
    }

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn scalars() {
        assert_eq!(
            decode_all(b"+OK\r\n").unwrap(),
            Some(Value::SimpleString("OK".into()))
        );
        assert_eq!(decode_all(b":-42\r\n").unwrap(), Some(Value::Integer(-42)));
        assert_eq!(decode_all(b"$-1\r\n").unwrap(), Some(Value::Nil));
        assert_eq!(decode_all(b"*-1\r\n").unwrap(), Some(Value::Nil));
        assert_eq!(decode_all(b"_\r\n").unwrap(), Some(Value::Nil));
        assert_eq!(decode_all(b"#t\r\n").unwrap(), Some(Value::Boolean(true)));
        assert_eq!(
            decode_all(b",-inf\r\n").unwrap(),
            Some(Value::Double(f64::NEG_INFINITY))
        );
        assert_eq!(decode_all(b"$0\r\n\r\n").unwrap(), Some(bulk("")));
        let Some(Value::Error(e)) = decode_all(b"-WRONGTYPE Operation against\r\n").unwrap() else {
            panic!("not an error")
        };
        assert_eq!((e.code(), e.message()), ("WRONGTYPE", "Operation against"));
    }

    #[test]
    fn aggregates() {
        let v = decode_all(b"%1\r\n+a\r\n*2\r\n:1\r\n~1\r\n$1\r\nx\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            v,
            Value::Map(vec![(
                Value::SimpleString("a".into()),
                Value::Array(vec![Value::Integer(1), Value::Set(vec![bulk("x")])])
            )])
        );
        let v = decode_all(b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            v,
            Value::Attribute {
                attributes: vec![(Value::SimpleString("ttl".into()), Value::Integer(3))],
                value: Box::new(bulk("hi")),
            }
        );
        assert_eq!(decode_all(b"*0\r\n").unwrap(), Some(Value::Array(vec![])));
        assert_eq!(
            decode_all(b"=8\r\ntxt:abcd\r\n").unwrap(),
            Some(Value::Verbatim {
                format: *b"txt",
                text: "abcd".into()
            })
        );
    }

    #[test]
    fn partial_reads_resume_and_leave_the_rest() {
        let input = b"*3\r\n$5\r\nhello\r\n:7\r\n*1\r\n+x\r\n+next\r\n";
        let mut dec = Decoder::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for (i, b) in input.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            if let Some(v) = dec.decode(&mut buf).unwrap() {
                got = Some((i, v));
                break;
            }
        }
        let (at, v) = got.unwrap();
        assert_eq!(at, input.len() - "+next\r\n".len() - 1);
        assert_eq!(
            v,
            Value::Array(vec![
                bulk("hello"),
                Value::Integer(7),
                Value::Array(vec![Value::SimpleString("x".into())])
            ])
        );
        buf.extend_from_slice(&input[at + 1..]);
        assert_eq!(
            dec.decode(&mut buf).unwrap(),
            Some(Value::SimpleString("next".into()))
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn hostile_input_is_an_error_not_an_allocation() {
        let limits = DecodeLimits {
            max_bulk_len: 1024,
            max_depth: 4,
        };
        let mut dec = Decoder::new(limits);
        // An absurd declared count is never allocated: the frame is just incomplete.
        let mut buf = BytesMut::from(&b"*4000000000\r\n:1\r\n"[..]);
        assert_eq!(dec.decode(&mut buf).unwrap(), None);

        for bad in [
            &b"$2000\r\n"[..],
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
            b"$-2\r\n",
            b"*-5\r\n",
            b"?3\r\n",
            b":12a\r\n",
            b":99999999999999999999\r\n",
            b"$3\r\nabcde\r\n",
            b"#x\r\n",
            b"=2\r\nab\r\n",
            b"$?\r\n",
        ] {
            let mut dec = Decoder::new(limits);
            let err = dec.decode(&mut BytesMut::from(bad)).unwrap_err();
            assert!(matches!(err, Error::Protocol { .. }), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_long_line_in_many_reads_is_searched_once() {
        let line = format!("+{}\r\n", "x".repeat(1 << 20));
        let mut dec = Decoder::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in line.as_bytes().chunks(1000) {
            buf.extend_from_slice(chunk);
            got = dec.decode(&mut buf).unwrap();
        }
        assert_eq!(got, Some(Value::SimpleString("x".repeat(1 << 20).into())));
        // One byte looked at twice per read, at most.
        assert!(
            dec.examined <= line.len() + line.len() / 1000 + 1,
            "{}",
            dec.examined
        );
    }

    #[test]
    fn line_cap_does_not_depend_on_read_splits() {
        let limits = DecodeLimits {
            max_bulk_len: 8,
            max_depth: 4,
        };
        for (input, ok) in [
            (&b"+aaaaaaaa\r\n"[..], true),
            (b"+aaaaaaaaa\r\n", false),
            (b"*1\r\n-ERRRRRRRRRRRRR\r\n", false),
        ] {
            let whole = Decoder::new(limits).decode(&mut BytesMut::from(input));
            let mut dec = Decoder::new(limits);
            let mut buf = BytesMut::new();
            let mut split = Ok(None);
            for b in input {
                buf.extend_from_slice(&[*b]);
                split = dec.decode(&mut buf);
                if !matches!(split, Ok(None)) {
                    break;
                }
            }
            assert_eq!(whole.is_ok(), ok, "{input:?}: {whole:?}");
            assert_eq!(split.is_ok(), ok, "{input:?}: {split:?}");
        }
    }
}
