//! [`Frame`]: one complete reply as it came off the wire, and [`FrameReader`], a cursor that
//! walks its elements in place.
//!
//! The connection hands replies over as frames; whoever asked turns one into a [`Value`] with
//! [`Frame::parse`], or, where a typed decoder knows what it wants (a model from a hash, search
//! hits), reads the elements straight from the bytes without building a tree of values.
//!
//! The decoder's scan checked the frame before it was split off: its lengths, its nesting and
//! the syntax of every scalar. The reader still returns errors, never panics, should a frame
//! come from anywhere else.

use bytes::Bytes;

use super::value::{ServerError, Value};
use crate::error::{Error, Result};

/// One complete reply, not yet taken apart. Cheap to clone: it shares the connection's read
/// buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame(Bytes);

impl Frame {
    /// A frame the decoder's scan found complete and well-formed.
    pub(crate) fn new(bytes: Bytes) -> Self {
        Frame(bytes)
    }

    /// The frame's bytes as they came.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The RESP type byte of the reply: `+`, `$`, `*`, `%`, `>`, …
    pub fn type_byte(&self) -> u8 {
        self.0.first().copied().unwrap_or(0)
    }

    /// Whether the reply is an error (`-` or `!`).
    pub fn is_error(&self) -> bool {
        matches!(self.type_byte(), b'-' | b'!')
    }

    /// The reply as a [`Value`], whose strings are slices of the frame.
    pub fn parse(&self) -> Result<Value> {
        let mut reader = self.reader();
        let value = build(&mut reader, &self.0)?;
        if reader.at != self.0.len() {
            return Err(Error::protocol("bytes after the end of a frame"));
        }
        Ok(value)
    }

    /// An error reply as [`Error::Server`](crate::Error::Server) for `command`; any other reply
    /// as it is.
    pub fn into_result(self, command: &str) -> Result<Frame> {
        if self.is_error() {
            self.parse()?.into_result(command)?;
        }
        Ok(self)
    }

    /// A cursor at the frame's first element.
    pub(crate) fn reader(&self) -> FrameReader<'_> {
        FrameReader {
            buf: &self.0,
            at: 0,
        }
    }
}

/// One element of a frame: a scalar with its content, or the header of an aggregate whose
/// elements follow it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Token<'a> {
    Nil,
    Simple(&'a [u8]),
    /// A simple or bulk error's text.
    Error(&'a [u8]),
    Integer(i64),
    Bulk(&'a [u8]),
    Boolean(bool),
    Double(f64),
    BigNumber(&'a [u8]),
    Verbatim([u8; 3], &'a [u8]),
    Array(usize),
    Set(usize),
    Push(usize),
    /// This many key-value pairs follow.
    Map(usize),
    /// This many key-value pairs follow, then the value they describe.
    Attribute(usize),
}

impl<'a> Token<'a> {
    /// The bytes of a string-like token (simple, bulk, verbatim).
    pub(crate) fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Token::Simple(b) | Token::Bulk(b) | Token::Verbatim(_, b) => Some(b),
            _ => None,
        }
    }

    /// How many elements follow the token as its own: its children, or none for a scalar.
    fn children(self) -> usize {
        match self {
            Token::Array(n) | Token::Set(n) | Token::Push(n) => n,
            Token::Map(n) => n.saturating_mul(2),
            Token::Attribute(n) => n.saturating_mul(2).saturating_add(1),
            _ => 0,
        }
    }
}

/// A cursor over the elements of a frame, in the order they were sent (an aggregate's header,
/// then its elements).
#[derive(Clone, Debug)]
pub(crate) struct FrameReader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> FrameReader<'a> {
    /// The next element.
    pub(crate) fn next(&mut self) -> Result<Token<'a>> {
        let buf = self.buf;
        let kind = *buf
            .get(self.at)
            .ok_or_else(|| Error::protocol("frame ended early"))?;
        let start = self.at + 1;
        let eol =
            start + find_crlf(&buf[start..]).ok_or_else(|| Error::protocol("frame ended early"))?;
        let line = &buf[start..eol];
        self.at = eol + 2;
        Ok(match kind {
            b'+' => Token::Simple(line),
            b'-' => Token::Error(line),
            b':' => Token::Integer(integer(line)?),
            b'_' => {
                null(line)?;
                Token::Nil
            }
            b'#' => Token::Boolean(boolean(line)?),
            b',' => Token::Double(double(line)?),
            b'(' => Token::BigNumber(big_number(line)?),
            b'$' | b'!' | b'=' => {
                if line == b"-1" {
                    return Ok(Token::Nil);
                }
                let len = length(line)?;
                let body = self
                    .at
                    .checked_add(len)
                    .and_then(|end| buf.get(self.at..end))
                    .ok_or_else(|| Error::protocol("frame ended early"))?;
                self.at += len + 2;
                match kind {
                    b'$' => Token::Bulk(body),
                    b'!' => Token::Error(body),
                    _ => {
                        let (format, text) = verbatim(body)?;
                        Token::Verbatim(format, text)
                    }
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                if line == b"-1" {
                    return Ok(Token::Nil);
                }
                let n = length(line)?;
                match kind {
                    b'*' => Token::Array(n),
                    b'~' => Token::Set(n),
                    b'>' => Token::Push(n),
                    b'%' => Token::Map(n),
                    _ => Token::Attribute(n),
                }
            }
            _ => return Err(Error::protocol("unknown RESP type byte")),
        })
    }

    /// The next element if it is a bulk string, on a fast path for the element that fills
    /// hashes and search hits; `None`, with nothing read, for any other element.
    #[inline]
    pub(crate) fn bulk(&mut self) -> Option<&'a [u8]> {
        let rest = self.buf.get(self.at..)?;
        let (&b'$', after) = rest.split_first()? else {
            return None;
        };
        // At most 18 digits: no overflow, and longer lengths take the general path.
        let digits = after
            .iter()
            .take(18)
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 || after.get(digits..digits + 2) != Some(b"\r\n") {
            return None;
        }
        let len = after[..digits]
            .iter()
            .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        let start = self.at + 1 + digits + 2;
        let end = start.checked_add(len)?;
        if self.buf.get(end..end + 2) != Some(b"\r\n") {
            return None;
        }
        self.at = end + 2;
        Some(&self.buf[start..end])
    }

    /// The next element that is not an attribute: RESP3 attributes annotate the value after
    /// them without changing what it is, so they are passed over.
    #[inline]
    pub(crate) fn next_value(&mut self) -> Result<Token<'a>> {
        match self.next()? {
            Token::Attribute(n) => self.past_attribute(n),
            token => Ok(token),
        }
    }

    /// Passes over an attribute's `n` pairs, then reads the value they describe.
    #[cold]
    fn past_attribute(&mut self, n: usize) -> Result<Token<'a>> {
        for _ in 0..n.saturating_mul(2) {
            self.skip()?;
        }
        self.next_value()
    }

    /// Passes over one element and everything inside it.
    pub(crate) fn skip(&mut self) -> Result<()> {
        let mut left = 1usize;
        while left > 0 {
            left = left - 1 + self.next()?.children();
        }
        Ok(())
    }

    /// Passes over the elements that `token`, just read, holds.
    fn skip_children(&mut self, token: Token<'a>) -> Result<()> {
        for _ in 0..token.children() {
            self.skip()?;
        }
        Ok(())
    }

    /// The number of key-value pairs in the next element: a RESP3 map, or a RESP2 array of
    /// alternating keys and values.
    pub(crate) fn pairs(&mut self) -> Result<usize> {
        let start = self.clone();
        match self.next_value()? {
            Token::Map(n) => Ok(n),
            Token::Array(n) if n % 2 == 0 => Ok(n / 2),
            Token::Array(_) => Err(Error::Conversion {
                expected: "map",
                got: "array of odd length".into(),
                context: None,
            }),
            _ => Err(start.mismatch("map")),
        }
    }

    /// The number of elements in the next element, an array (or set).
    pub(crate) fn array(&mut self, expected: &'static str) -> Result<usize> {
        let start = self.clone();
        match self.next_value()? {
            Token::Array(n) | Token::Set(n) => Ok(n),
            _ => Err(start.mismatch(expected)),
        }
    }

    /// The next element's bytes if it is a string; anything else is passed over.
    #[inline]
    pub(crate) fn string_or_skip(&mut self) -> Result<Option<&'a [u8]>> {
        if let Some(bytes) = self.bulk() {
            return Ok(Some(bytes));
        }
        let token = self.next_value()?;
        if token.bytes().is_none() {
            self.skip_children(token)?;
        }
        Ok(token.bytes())
    }

    /// The next element's bytes, a string.
    pub(crate) fn string(&mut self, expected: &'static str) -> Result<&'a [u8]> {
        if let Some(bytes) = self.bulk() {
            return Ok(bytes);
        }
        let start = self.clone();
        self.next_value()?
            .bytes()
            .ok_or_else(|| start.mismatch(expected))
    }

    /// The next element as a non-negative integer (an integer, or its digits in a string).
    pub(crate) fn uint(&mut self) -> Result<u64> {
        let start = self.clone();
        let n = match self.next_value()? {
            Token::Integer(n) => u64::try_from(n).ok(),
            token => token
                .bytes()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok()),
        };
        n.ok_or_else(|| start.mismatch("non-negative integer"))
    }

    /// The conversion error for an element, read from here, that is not the `expected` type.
    pub(crate) fn mismatch(self, expected: &'static str) -> Error {
        // Built on the error path only: the value's own name for its type, as `FromRedis` says it.
        let frame = Bytes::copy_from_slice(self.buf);
        let mut reader = FrameReader {
            buf: &frame,
            at: self.at,
        };
        match build(&mut reader, &frame) {
            Ok(value) => super::mismatch(expected, &value),
            Err(e) => e,
        }
    }
}

/// The value at the reader, its strings sliced from `frame` (the bytes the reader walks).
fn build(reader: &mut FrameReader<'_>, frame: &Bytes) -> Result<Value> {
    let slice = |b: &[u8]| frame.slice_ref(b);
    let values = |reader: &mut FrameReader<'_>, n: usize| -> Result<Vec<Value>> {
        // The scan proved every element present, so `n` is bounded by the bytes received.
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(build(reader, frame)?);
        }
        Ok(items)
    };
    let pairs = |reader: &mut FrameReader<'_>, n: usize| -> Result<Vec<(Value, Value)>> {
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            let k = build(reader, frame)?;
            pairs.push((k, build(reader, frame)?));
        }
        Ok(pairs)
    };
    if let Some(bulk) = reader.bulk() {
        return Ok(Value::BulkString(slice(bulk)));
    }
    Ok(match reader.next()? {
        Token::Nil => Value::Nil,
        Token::Simple(s) => Value::SimpleString(slice(s)),
        Token::Error(e) => Value::Error(ServerError::new(slice(e))),
        Token::Integer(n) => Value::Integer(n),
        Token::Bulk(b) => Value::BulkString(slice(b)),
        Token::Boolean(b) => Value::Boolean(b),
        Token::Double(d) => Value::Double(d),
        Token::BigNumber(b) => Value::BigNumber(slice(b)),
        Token::Verbatim(format, text) => Value::Verbatim {
            format,
            text: slice(text),
        },
        Token::Array(n) => Value::Array(values(reader, n)?),
        Token::Set(n) => Value::Set(values(reader, n)?),
        Token::Push(n) => Value::Push(values(reader, n)?),
        Token::Map(n) => Value::Map(pairs(reader, n)?),
        Token::Attribute(n) => Value::Attribute {
            attributes: pairs(reader, n)?,
            value: Box::new(build(reader, frame)?),
        },
    })
}

/// Where the first CRLF in `bytes` starts.
pub(super) fn find_crlf(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(n) = bytes[from..].iter().position(|&b| b == b'\r') {
        let cr = from + n;
        if bytes.get(cr + 1) == Some(&b'\n') {
            return Some(cr);
        }
        from = cr + 1;
    }
    None
}

/// An aggregate's or a string's declared length (the RESP2 nulls are handled before).
pub(super) fn length(line: &[u8]) -> Result<usize> {
    let n = integer(line)?;
    usize::try_from(n).map_err(|_| Error::protocol(format!("negative length {n}")))
}

/// The scalar checks below are shared by the scan, which refuses a malformed frame before it
/// is split off, and the reader, which takes the values out.
pub(super) fn null(line: &[u8]) -> Result<()> {
    if line.is_empty() {
        Ok(())
    } else {
        Err(Error::protocol("null frame with content"))
    }
}

pub(super) fn boolean(line: &[u8]) -> Result<bool> {
    match line {
        b"t" => Ok(true),
        b"f" => Ok(false),
        _ => Err(Error::protocol("boolean is neither t nor f")),
    }
}

pub(super) fn double(line: &[u8]) -> Result<f64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::protocol("malformed double"))
}

pub(super) fn big_number(line: &[u8]) -> Result<&[u8]> {
    let digits = line.strip_prefix(b"-").unwrap_or(line);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Error::protocol("malformed big number"));
    }
    Ok(line)
}

/// A verbatim string's format and text: `txt:…`.
pub(super) fn verbatim(body: &[u8]) -> Result<([u8; 3], &[u8])> {
    match body {
        [a, b, c, b':', text @ ..] => Ok(([*a, *b, *c], text)),
        _ => Err(Error::protocol("verbatim string without a format")),
    }
}

/// A strict decimal `i64`: an optional `-` and digits, nothing else.
pub(super) fn integer(line: &[u8]) -> Result<i64> {
    let (negative, digits) = match line.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, line),
    };
    if digits.is_empty() || digits.len() > 19 {
        return Err(Error::protocol("malformed integer"));
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(Error::protocol("malformed integer"));
        }
        let digit = i64::from(d - b'0');
        n = n
            .checked_mul(10)
            .and_then(|n| {
                if negative {
                    n.checked_sub(digit)
                } else {
                    n.checked_add(digit)
                }
            })
            .ok_or_else(|| Error::protocol("integer out of range"))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &'static [u8]) -> Frame {
        Frame::new(Bytes::from_static(bytes))
    }

    #[test]
    fn reader_walks_elements_in_order_and_skips_whole_aggregates() {
        let f = frame(b"%2\r\n+a\r\n*2\r\n:1\r\n~1\r\n$1\r\nx\r\n$1\r\nb\r\n:7\r\n");
        let mut r = f.reader();
        assert_eq!(r.next().unwrap(), Token::Map(2));
        assert_eq!(r.next().unwrap(), Token::Simple(b"a"));
        r.skip().unwrap();
        assert_eq!(r.next().unwrap(), Token::Bulk(b"b"));
        assert_eq!(r.uint().unwrap(), 7);
        assert!(r.next().is_err(), "nothing past the frame");
    }

    #[test]
    fn attributes_are_passed_over_and_kept_by_parse() {
        let f = frame(b"|1\r\n+ttl\r\n:3\r\n*2\r\n$2\r\nhi\r\n$2\r\nyo\r\n");
        assert_eq!(f.reader().pairs().unwrap(), 1);
        assert!(matches!(f.parse().unwrap(), Value::Attribute { .. }));
    }

    #[test]
    fn wrong_shapes_are_conversion_errors_naming_the_type() {
        let f = frame(b"*3\r\n:1\r\n:2\r\n:3\r\n");
        assert!(
            matches!(f.reader().pairs(), Err(Error::Conversion { got, .. }) if got == "array of odd length")
        );
        let f = frame(b"+OK\r\n");
        assert!(
            matches!(f.reader().pairs(), Err(Error::Conversion { got, .. }) if got == "simple string")
        );
        assert!(matches!(
            f.reader().array("rows"),
            Err(Error::Conversion {
                expected: "rows",
                ..
            })
        ));
    }

    #[test]
    fn error_replies_become_server_errors() {
        let err = frame(b"-WRONGTYPE Operation\r\n")
            .into_result("HGETALL")
            .unwrap_err();
        assert!(matches!(err, Error::Server { code, .. } if code == "WRONGTYPE"));
        assert!(frame(b"$2\r\nok\r\n").into_result("GET").is_ok());
    }

    #[test]
    fn a_truncated_frame_is_an_error_not_a_panic() {
        for bad in [&b"$5\r\nab"[..], b"*2\r\n:1\r\n", b":12", b""] {
            let f = Frame::new(Bytes::copy_from_slice(bad));
            assert!(f.parse().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_bulk_fast_path_reads_bulks_only_and_agrees_with_next() {
        let f = frame(b"*4\r\n$3\r\nabc\r\n$0\r\n\r\n$-1\r\n+ok\r\n");
        let mut r = f.reader();
        assert_eq!(r.bulk(), None, "an array header is left to next");
        assert_eq!(r.next().unwrap(), Token::Array(4));
        assert_eq!(r.bulk(), Some(&b"abc"[..]));
        assert_eq!(r.bulk(), Some(&b""[..]));
        assert_eq!(r.bulk(), None, "a null is left to next");
        assert_eq!(r.next().unwrap(), Token::Nil);
        assert_eq!(r.bulk(), None);
        assert_eq!(r.next().unwrap(), Token::Simple(b"ok"));
        for bad in [&b"$3\r\nab"[..], b"$3\r\nabcd", b"$x\r\n", b"$3\n"] {
            let f = Frame::new(Bytes::copy_from_slice(bad));
            assert_eq!(f.reader().bulk(), None, "{bad:?}");
        }
    }

    #[test]
    fn crlf_is_found_past_a_lone_cr() {
        assert_eq!(find_crlf(b"a\rb\r\n"), Some(3));
        assert_eq!(find_crlf(b"ab\r"), None);
    }
}
