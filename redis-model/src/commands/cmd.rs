//! [`Cmd`]: a command and its arguments, already encoded for the wire.

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};

use crate::resp::{put_bulk, put_header};

/// A command being built. Each argument is encoded as a RESP bulk string the moment it is added,
/// so sending a command is one copy into the connection's write buffer.
///
/// ```
/// use redis_model::cmd;
/// let set = cmd("SET").arg("greeting").arg("hello").arg("EX").arg(60);
/// assert_eq!(set.name(), "SET");
/// assert_eq!(set.arg_count(), 5);
/// ```
#[derive(Clone)]
pub struct Cmd {
    name: Cow<'static, str>,
    args: BytesMut,
    argc: usize,
    keys: KeySlot,
}

/// The cluster slot of a command's keys, worked out as they are added, so routing a command
/// costs a look-up, not a parse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum KeySlot {
    /// No key: any master serves the command.
    #[default]
    None,
    /// Every key hashes to this slot.
    One(u16),
    /// The keys hash to different slots, two of which are named: no one node holds them all.
    Cross(u16, u16),
}

impl KeySlot {
    /// These keys and one in `slot`.
    pub(crate) fn with(self, slot: u16) -> Self {
        match self {
            KeySlot::None => KeySlot::One(slot),
            KeySlot::One(s) if s == slot => self,
            KeySlot::One(s) => KeySlot::Cross(s, slot),
            KeySlot::Cross(..) => self,
        }
    }
}

/// Starts a command: `cmd("HSET").arg(key).arg(field).arg(value)`.
pub fn cmd(name: impl Into<Cow<'static, str>>) -> Cmd {
    let name = name.into();
    let mut args = BytesMut::with_capacity(64);
    put_bulk(&mut args, name.as_bytes());
    Cmd {
        name,
        args,
        argc: 1,
        keys: KeySlot::None,
    }
}

impl Cmd {
    /// Appends one argument.
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        self.push(arg);
        self
    }

    /// Appends a key, or every key of a list: the arguments a cluster routes the command by
    /// (all of a command's keys must then hash to one slot).
    ///
    /// ```
    /// use redis_model::cmd;
    /// let c = cmd("RENAME").key("{user:1}:old").key("{user:1}:new");
    /// assert_eq!(c.arg_count(), 3);
    /// ```
    pub fn key(mut self, key: impl ToArg) -> Self {
        key.write_arg(&mut ArgWriter {
            buf: &mut self.args,
            argc: &mut self.argc,
            keys: Some(&mut self.keys),
        });
        self
    }

    /// Appends every item of `args`.
    pub fn args<A: ToArg>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        for a in args {
            self.push(a);
        }
        self
    }

    /// Appends one argument in place.
    pub fn push(&mut self, arg: impl ToArg) {
        arg.write_arg(&mut ArgWriter {
            buf: &mut self.args,
            argc: &mut self.argc,
            keys: None,
        });
    }

    /// Routes a keyless command on a cluster as if it had a key in `slot` (`None`: anywhere).
    pub(crate) fn routed(mut self, slot: Option<u16>) -> Self {
        if let Some(slot) = slot {
            self.keys = KeySlot::One(slot);
        }
        self
    }

    /// The slot of the keys given with [`Cmd::key`].
    pub(crate) fn key_slot(&self) -> KeySlot {
        self.keys
    }

    /// The command's name as given to [`cmd`], for errors and traces (never its arguments).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_cow(&self) -> Cow<'static, str> {
        self.name.clone()
    }

    /// How many words the command has, its name included.
    pub fn arg_count(&self) -> usize {
        self.argc
    }

    /// Writes the complete command, `*N` header first, into `buf`.
    pub(crate) fn encode_into(&self, buf: &mut BytesMut) {
        put_header(buf, b'*', self.argc);
        buf.put_slice(&self.args);
    }

    /// The encoded words (name and arguments) without the `*N` header.
    pub(crate) fn encoded_args(&self) -> &[u8] {
        &self.args
    }

    /// The complete encoding, header included.
    #[cfg(test)]
    pub(crate) fn encoded(&self) -> Bytes {
        let mut buf = BytesMut::new();
        self.encode_into(&mut buf);
        buf.freeze()
    }
}

impl std::fmt::Debug for Cmd {
    // Arguments may be secrets (AUTH) or private data: only the name and count are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cmd")
            .field("name", &self.name)
            .field("args", &(self.argc - 1))
            .finish()
    }
}

/// Where [`ToArg`] writes: each call to [`ArgWriter::bytes`] is one argument.
pub struct ArgWriter<'a> {
    buf: &'a mut BytesMut,
    argc: &'a mut usize,
    /// Where the slot of key arguments is kept; `None` for other arguments.
    keys: Option<&'a mut KeySlot>,
}

impl ArgWriter<'_> {
    /// Writes one argument.
    pub fn bytes(&mut self, bytes: &[u8]) {
        put_bulk(self.buf, bytes);
        *self.argc += 1;
        if let Some(keys) = self.keys.as_deref_mut() {
            *keys = keys.with(crate::routing::cluster::slot::slot(bytes));
        }
    }
}

/// A value that becomes one or more command arguments.
pub trait ToArg {
    /// Writes the argument(s) into `out`.
    fn write_arg(&self, out: &mut ArgWriter<'_>);
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        (**self).write_arg(out)
    }
}

impl ToArg for str {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self.as_bytes())
    }
}

impl ToArg for String {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self.as_bytes())
    }
}

impl ToArg for [u8] {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self)
    }
}

impl<const N: usize> ToArg for [u8; N] {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self)
    }
}

impl ToArg for Vec<u8> {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self)
    }
}

impl ToArg for Bytes {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self)
    }
}

impl ToArg for bool {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(if *self { b"1" } else { b"0" })
    }
}

macro_rules! to_arg_int {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_arg(&self, out: &mut ArgWriter<'_>) {
                // Every type here fits in i128: the cast is lossless.
                out.bytes(crate::resp::decimal(*self as i128, &mut [0; 40]))
            }
        }
    )*};
}

// Not `u8`: `[u8]` and `Vec<u8>` are one binary argument, not a list of numbers.
to_arg_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, usize);

impl ToArg for u128 {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        out.bytes(self.to_string().as_bytes())
    }
}

impl ToArg for f64 {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        // Redis spells infinities `inf` / `-inf`; `{:?}` keeps the shortest exact form.
        if self.is_infinite() {
            out.bytes(if *self > 0.0 { b"+inf" } else { b"-inf" })
        } else {
            out.bytes(format!("{self:?}").as_bytes())
        }
    }
}

impl ToArg for f32 {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        f64::from(*self).write_arg(out)
    }
}

impl<T: ToArg> ToArg for Option<T> {
    /// `None` writes nothing: optional arguments are simply left out.
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        if let Some(v) = self {
            v.write_arg(out)
        }
    }
}

impl<T: ToArg> ToArg for [T] {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        for v in self {
            v.write_arg(out)
        }
    }
}

impl<T: ToArg, const N: usize> ToArg for [T; N] {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        self.as_slice().write_arg(out)
    }
}

impl<T: ToArg> ToArg for Vec<T> {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        self.as_slice().write_arg(out)
    }
}

impl<A: ToArg, B: ToArg> ToArg for (A, B) {
    fn write_arg(&self, out: &mut ArgWriter<'_>) {
        self.0.write_arg(out);
        self.1.write_arg(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_bulk_array() {
        let c = cmd("SET")
            .arg("k")
            .arg(b"v".to_vec())
            .arg(-5i64)
            .arg(1.5f64);
        assert_eq!(
            &c.encoded()[..],
            b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\n-5\r\n$3\r\n1.5\r\n"
        );
        let c = cmd("MSET")
            .arg(vec![("a", 1u16), ("b", 2u16)])
            .arg(None::<&str>);
        assert_eq!(c.arg_count(), 5);
        assert_eq!(
            format!("{:?}", cmd("AUTH").arg("secret")),
            "Cmd { name: \"AUTH\", args: 1 }"
        );
    }

    #[test]
    fn keys_carry_their_slot() {
        assert_eq!(cmd("PING").key_slot(), KeySlot::None);
        let one = cmd("GET").key("{user1000}.following");
        let slot = crate::routing::cluster::slot::slot(b"user1000");
        assert_eq!(one.key_slot(), KeySlot::One(slot));
        // Arguments that are not keys do not count.
        assert_eq!(one.clone().arg("other").key_slot(), KeySlot::One(slot));
        let same = cmd("MGET").key(["{user1000}.a", "{user1000}.b"]);
        assert_eq!(same.key_slot(), KeySlot::One(slot));
        let cross = cmd("MGET").key(["foo", "bar", "baz"]);
        assert_eq!(cross.key_slot(), KeySlot::Cross(12182, 5061));
    }

    #[test]
    fn big_integers() {
        let c = cmd("X").arg(u64::MAX);
        assert!(c.encoded().ends_with(b"18446744073709551615\r\n"));
    }
}
