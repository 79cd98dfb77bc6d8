//! [`Value`]: one decoded RESP2 or RESP3 frame.

use bytes::Bytes;

/// A reply from the server, in any RESP2 or RESP3 type.
///
/// Strings are [`Bytes`] slices of the connection's read buffer: decoding copies nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// RESP3 `_`, and RESP2's null bulk string and null array.
    Nil,
    /// `+OK`
    SimpleString(Bytes),
    /// `-ERR …` (simple error) or `!` (bulk error).
    Error(ServerError),
    /// `:42`
    Integer(i64),
    /// `$5\r\nhello`
    BulkString(Bytes),
    /// `*`
    Array(Vec<Value>),
    /// RESP3 `#t` / `#f`.
    Boolean(bool),
    /// RESP3 `,3.14` (also `inf`, `-inf`, `nan`).
    Double(f64),
    /// RESP3 `(` — an integer of any size, kept as its decimal digits.
    BigNumber(Bytes),
    /// RESP3 `=` — text with a three-letter format (`txt`, `mkd`).
    Verbatim {
        /// The format, e.g. `b"txt"`.
        format: [u8; 3],
        /// The text after the format prefix.
        text: Bytes,
    },
    /// RESP3 `%`, pairs in the order the server sent them.
    Map(Vec<(Value, Value)>),
    /// RESP3 `~`.
    Set(Vec<Value>),
    /// RESP3 `|` — out-of-band attributes attached to the reply that follows them.
    Attribute {
        /// The attribute pairs.
        attributes: Vec<(Value, Value)>,
        /// The reply they describe.
        value: Box<Value>,
    },
    /// RESP3 `>` — a frame the server sent on its own (pub/sub messages, invalidations).
    Push(Vec<Value>),
}

/// An error reply: `-CODE message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    /// The whole reply line, e.g. `WRONGTYPE Operation against a key …`.
    line: Bytes,
}

impl ServerError {
    pub(crate) fn new(line: Bytes) -> Self {
        ServerError { line }
    }

    /// The first word: `ERR`, `WRONGTYPE`, `NOSCRIPT`, `MOVED`, …
    pub fn code(&self) -> &str {
        let text = self.text();
        text.split(' ').next().unwrap_or(text)
    }

    /// The text after the code.
    pub fn message(&self) -> &str {
        let text = self.text();
        text.split_once(' ').map_or("", |(_, rest)| rest)
    }

    /// The whole reply line as it came.
    pub fn as_bytes(&self) -> &[u8] {
        &self.line
    }

    fn text(&self) -> &str {
        // Redis sends ASCII error lines; anything else is shown lossily by `Display`.
        std::str::from_utf8(&self.line).unwrap_or("ERR <error reply is not UTF-8>")
    }

    /// Turns the reply into an [`Error::Server`](crate::Error::Server) for `command`.
    pub fn into_error(self, command: &str) -> crate::Error {
        crate::Error::Server {
            command: command.to_owned(),
            code: self.code().to_owned(),
            message: self.message().to_owned(),
        }
    }
}

impl Value {
    /// The RESP type's name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::SimpleString(_) => "simple string",
            Value::Error(_) => "error",
            Value::Integer(_) => "integer",
            Value::BulkString(_) => "bulk string",
            Value::Array(_) => "array",
            Value::Boolean(_) => "boolean",
            Value::Double(_) => "double",
            Value::BigNumber(_) => "big number",
            Value::Verbatim { .. } => "verbatim string",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Attribute { .. } => "attribute",
            Value::Push(_) => "push",
        }
    }

    /// The bytes of a string-like value (simple, bulk, verbatim), if it is one.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::SimpleString(b) | Value::BulkString(b) | Value::Verbatim { text: b, .. } => {
                Some(b)
            }
            _ => None,
        }
    }

    /// Whether this is `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Value::SimpleString(s) if s.as_ref() == b"OK")
    }

    /// Turns an error reply into `Err`, leaving every other value as it is.
    pub fn into_result(self, command: &str) -> crate::Result<Value> {
        match self {
            Value::Error(e) => Err(e.into_error(command)),
            other => Ok(other),
        }
    }
}
