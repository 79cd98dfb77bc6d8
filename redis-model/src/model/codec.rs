//! How documents are written and read: hash fields per type, JSON through serde.
//!
//! Hash encoding is generated code calling [`HashValue`] for each field, not a detour through
//! JSON: a `u32` becomes its decimal digits, a vector its little-endian `FLOAT32` bytes (the
//! form RediSearch indexes), a tag list its elements joined by the tag separator.

use crate::commands::Cmd;
use crate::error::{Error, Result};
use crate::resp::{Frame, FrameReader};

/// Per-field settings the codec needs.
#[derive(Clone, Copy, Debug)]
pub struct FieldOpts {
    /// The tag separator, for tag lists.
    pub separator: char,
}

impl Default for FieldOpts {
    fn default() -> Self {
        FieldOpts {
            separator: crate::search::schema::DEFAULT_TAG_SEPARATOR,
        }
    }
}

/// A type that can be one field of a hash-stored model.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a hash field",
    label = "not a flat value",
    note = "hash fields hold strings, numbers, bools, tag lists (`Vec<String>`), vectors (`Vec<f32>`), `GeoPoint`, `Ulid` and `Option`s of them; for nested types use `#[redis(storage = \"json\")]`"
)]
pub trait HashValue: Sized {
    /// Writes the value into `out`; `Ok(false)` when it is absent (`None`).
    fn write(&self, opts: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String>;

    /// Reads the value back.
    fn read(raw: &[u8], opts: FieldOpts) -> std::result::Result<Self, String>;

    /// The value when the field is absent from the hash: an error unless the type is optional.
    fn missing() -> Option<Self> {
        None
    }

    /// Refuses a value of a tag field that the index would not hold as it is: one holding the
    /// field's tag `separator` (the index would split it into other tags) or NUL (the index
    /// would cut it there). Only text holds them; other types have nothing to refuse.
    fn check_tags(&self, separator: Option<char>) -> std::result::Result<(), String> {
        let _ = separator;
        Ok(())
    }
}

impl HashValue for String {
    fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
        out.extend_from_slice(self.as_bytes());
        Ok(true)
    }

    fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
        String::from_utf8(raw.to_vec()).map_err(|_| "not UTF-8".to_owned())
    }

    fn check_tags(&self, separator: Option<char>) -> std::result::Result<(), String> {
        check_tag(self, separator).map_err(|what| format!("the tag contains {what}"))
    }
}

/// What in `tag` the index would not hold as it is, if anything.
fn check_tag(tag: &str, separator: Option<char>) -> std::result::Result<(), String> {
    if let Some(sep) = separator.filter(|sep| tag.contains(*sep)) {
        return Err(format!("the tag separator {sep:?}"));
    }
    if tag.contains('\0') {
        return Err("NUL, where the index would cut it".into());
    }
    Ok(())
}

fn utf8(raw: &[u8]) -> std::result::Result<&str, String> {
    std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_owned())
}

macro_rules! numeric_value {
    ($($t:ty),*) => {$(
        impl HashValue for $t {
            fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
                out.extend_from_slice(self.to_string().as_bytes());
                Ok(true)
            }

            fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
                utf8(raw)?
                    .parse()
                    .map_err(|_| concat!("not a valid ", stringify!($t)).to_owned())
            }
        }
    )*};
}

numeric_value!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! float_value {
    ($($t:ty),*) => {$(
        impl HashValue for $t {
            fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
                if self.is_nan() {
                    return Err("NaN cannot be indexed".into());
                }
                // `{:?}` is the shortest form that reads back exactly, and uses exponents
                // where `Display` would print hundreds of digits.
                out.extend_from_slice(format!("{self:?}").as_bytes());
                Ok(true)
            }

            fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
                utf8(raw)?
                    .parse()
                    .map_err(|_| concat!("not a valid ", stringify!($t)).to_owned())
            }
        }
    )*};
}

float_value!(f32, f64);

impl HashValue for bool {
    fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
        Ok(true)
    }

    fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
        match raw {
            b"true" | b"1" => Ok(true),
            b"false" | b"0" => Ok(false),
            _ => Err("not a bool (true/false)".into()),
        }
    }
}

impl HashValue for Vec<String> {
    /// Tags joined by the separator; a tag containing it would not read back whole, so it is
    /// refused.
    fn write(&self, opts: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
        self.check_tags(Some(opts.separator))?;
        let mut sep = [0u8; 4];
        let sep = opts.separator.encode_utf8(&mut sep).as_bytes();
        for (i, tag) in self.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(sep);
            }
            out.extend_from_slice(tag.as_bytes());
        }
        Ok(true)
    }

    fn read(raw: &[u8], opts: FieldOpts) -> std::result::Result<Self, String> {
        let s = utf8(raw)?;
        if s.is_empty() {
            return Ok(Vec::new());
        }
        Ok(s.split(opts.separator).map(str::to_owned).collect())
    }

    fn check_tags(&self, separator: Option<char>) -> std::result::Result<(), String> {
        for (i, tag) in self.iter().enumerate() {
            check_tag(tag, separator).map_err(|what| format!("tag {i} contains {what}"))?;
        }
        Ok(())
    }
}

macro_rules! vector_value {
    ($($t:ty),*) => {$(
        impl HashValue for Vec<$t> {
            fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
                for x in self {
                    out.extend_from_slice(&x.to_le_bytes());
                }
                Ok(true)
            }

            fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
                const SIZE: usize = std::mem::size_of::<$t>();
                if raw.len() % SIZE != 0 {
                    return Err(format!(
                        "{} bytes is not a whole number of {}s",
                        raw.len(),
                        stringify!($t)
                    ));
                }
                Ok(raw
                    .chunks_exact(SIZE)
                    .map(|c| <$t>::from_le_bytes(c.try_into().expect("chunk of SIZE bytes")))
                    .collect())
            }
        }

        impl<const N: usize> HashValue for [$t; N] {
            fn write(&self, opts: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
                self.to_vec().write(opts, out)
            }

            fn read(raw: &[u8], opts: FieldOpts) -> std::result::Result<Self, String> {
                let v = Vec::<$t>::read(raw, opts)?;
                let got = v.len();
                v.try_into()
                    .map_err(|_| format!("vector of dimension {got}, expected {N}"))
            }
        }
    )*};
}

vector_value!(f32, f64);

impl<T: HashValue> HashValue for Option<T> {
    fn write(&self, opts: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
        match self {
            Some(v) => v.write(opts, out),
            None => Ok(false),
        }
    }

    fn read(raw: &[u8], opts: FieldOpts) -> std::result::Result<Self, String> {
        T::read(raw, opts).map(Some)
    }

    fn missing() -> Option<Self> {
        Some(None)
    }

    fn check_tags(&self, separator: Option<char>) -> std::result::Result<(), String> {
        match self {
            Some(v) => v.check_tags(separator),
            None => Ok(()),
        }
    }
}

impl HashValue for super::Ulid {
    fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
        out.extend_from_slice(self.to_string().as_bytes());
        Ok(true)
    }

    fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
        super::Ulid::parse(utf8(raw)?).map_err(|_| "not a ULID".to_owned())
    }
}

/// A point on Earth: longitude then latitude, in degrees, as RediSearch's GEO fields take it.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct GeoPoint {
    /// Longitude, -180 to 180.
    pub lon: f64,
    /// Latitude, -85.05112878 to 85.05112878 (the range Redis geo indexes).
    pub lat: f64,
}

impl GeoPoint {
    /// A point from longitude and latitude.
    pub fn new(lon: f64, lat: f64) -> Self {
        GeoPoint { lon, lat }
    }

    /// Whether the index can hold it: the index skips documents with points out of range.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !(-180.0..=180.0).contains(&self.lon) {
            return Err(format!("longitude {} is outside -180..180", self.lon));
        }
        if !(-85.051_128_78..=85.051_128_78).contains(&self.lat) {
            return Err(format!("latitude {} is outside -85.05..85.05", self.lat));
        }
        Ok(())
    }
}

impl From<GeoPoint> for String {
    fn from(p: GeoPoint) -> String {
        format!("{:?},{:?}", p.lon, p.lat)
    }
}

impl TryFrom<String> for GeoPoint {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        let (lon, lat) = s
            .split_once(',')
            .ok_or_else(|| "a geo point is \"lon,lat\"".to_owned())?;
        let parse = |v: &str| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| "a geo point is \"lon,lat\" in degrees".to_owned())
        };
        Ok(GeoPoint::new(parse(lon)?, parse(lat)?))
    }
}

impl HashValue for GeoPoint {
    fn write(&self, _: FieldOpts, out: &mut Vec<u8>) -> std::result::Result<bool, String> {
        out.extend_from_slice(String::from(*self).as_bytes());
        Ok(true)
    }

    fn read(raw: &[u8], _: FieldOpts) -> std::result::Result<Self, String> {
        GeoPoint::try_from(utf8(raw)?.to_owned())
    }
}

/// Collects the fields of a hash-stored document.
#[derive(Debug)]
pub struct HashWriter {
    key: String,
    pub(crate) pairs: Vec<(&'static str, Vec<u8>)>,
    /// Fields left out because they are `None`: a save removes them from the stored hash.
    pub(crate) absent: Vec<&'static str>,
}

impl HashWriter {
    #[doc(hidden)]
    pub fn new(key: String) -> Self {
        HashWriter {
            key,
            pairs: Vec::with_capacity(16),
            absent: Vec::new(),
        }
    }

    /// Writes the id field: the key part, as a string.
    pub fn id(&mut self, name: &'static str, id: &str) {
        self.pairs.push((name, id.as_bytes().to_vec()));
    }

    /// Writes one field (called by derived code).
    pub fn field<T: HashValue>(
        &mut self,
        name: &'static str,
        value: &T,
        opts: FieldOpts,
    ) -> Result<()> {
        let mut out = Vec::new();
        match value.write(opts, &mut out) {
            Ok(true) => self.pairs.push((name, out)),
            Ok(false) => self.absent.push(name),
            Err(reason) => {
                return Err(Error::InvalidValue {
                    field: name.to_owned(),
                    reason,
                })
            }
        }
        Ok(())
    }

    /// The document's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The fields written, as name-value pairs.
    pub fn pairs(&self) -> &[(&'static str, Vec<u8>)] {
        &self.pairs
    }

    /// The `HSET` of every present field.
    pub(crate) fn hset(&self) -> Cmd {
        let mut c = crate::cmd("HSET").key(&self.key);
        for (name, value) in &self.pairs {
            c.push(*name);
            c.push(&value[..]);
        }
        c
    }
}

/// The fields of a hash read back, for derived code to decode. It reads them in place from
/// the reply's frame: no value is built for a field the model does not want.
#[derive(Debug)]
pub struct HashReader<'a> {
    /// The document's key, for errors only.
    key: &'a [u8],
    /// The key's id part: the document's id, whatever the hash holds.
    id: &'a str,
    /// At the fields not looked at yet, in the order they came. Redis returns a hash's fields
    /// in the order they were written, which is the order the derived code reads them, so the
    /// field asked for is nearly always the next one.
    ahead: FrameReader<'a>,
    /// How many field-value pairs `ahead` still holds.
    left: usize,
    /// Fields passed over while looking for another: the name, and the value if it is a string.
    passed: Vec<(&'a [u8], Option<&'a [u8]>)>,
}

impl<'a> HashReader<'a> {
    /// The fields of the map (or RESP2 array of pairs) that `reader` is at: an `HGETALL`
    /// reply, or a search hit's attributes, of the document at `key` whose id part is `id`.
    pub(crate) fn new(key: &'a [u8], id: &'a str, mut reader: FrameReader<'a>) -> Result<Self> {
        let left = reader.pairs()?;
        Ok(HashReader {
            key,
            id,
            ahead: reader,
            left,
            passed: Vec::new(),
        })
    }

    /// The fields of the `HGETALL` reply `frame` for the document at `key`, whose id part is
    /// `id`.
    #[doc(hidden)]
    pub fn from_frame(key: &'a str, id: &'a str, frame: &'a Frame) -> Result<Self> {
        Self::new(key.as_bytes(), id, frame.reader())
    }

    /// Whether the hash has no fields (the key does not exist).
    pub fn is_empty(&self) -> bool {
        self.left == 0 && self.passed.is_empty()
    }

    /// Reads one field (called by derived code). A value that does not parse, or a required
    /// field that is missing, is [`Error::Decode`] naming the key and the field.
    pub fn field<T: HashValue>(&mut self, name: &'static str, opts: FieldOpts) -> Result<T> {
        match self.take(name)? {
            Some(Some(raw)) => T::read(raw, opts).map_err(|reason| self.error(name, reason)),
            Some(None) => Err(self.error(name, "not a string")),
            None => T::missing().ok_or_else(|| self.error(name, "required field is missing")),
        }
    }

    /// The id (called by derived code for the id field `name`): the key's id part, since the
    /// key is the document's identity. A stored id field is not read: another program may
    /// have written the hash without it, or with another value. An id part that is not one of
    /// type `I` is [`Error::Decode`] naming the key and `name`.
    pub fn id<I: super::ModelId>(&self, name: &'static str) -> Result<I> {
        I::from_key_part(self.id).map_err(|reason| self.error(name, reason))
    }

    /// The field `name`, as it came: `None` when there is none, `Some(None)` when its value is
    /// no string.
    #[inline]
    pub(crate) fn take(&mut self, name: &str) -> Result<Option<Option<&'a [u8]>>> {
        let wanted = name.as_bytes();
        if let Some(i) = self.passed.iter().position(|(k, _)| *k == wanted) {
            return Ok(Some(self.passed.swap_remove(i).1));
        }
        loop {
            match self.next_pair()? {
                Some((Some(k), v)) if k == wanted => return Ok(Some(v)),
                Some((Some(k), v)) => self.passed.push((k, v)),
                // A field name that is no string cannot be asked for.
                Some((None, _)) => {}
                None => return Ok(None),
            }
        }
    }

    /// A decode error for `field` of this document.
    pub fn error(&self, field: &str, reason: impl Into<String>) -> Error {
        Error::Decode {
            // Redis keys are nearly always UTF-8; the key only names the document.
            key: String::from_utf8_lossy(self.key).into_owned(),
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }

    /// The reader just past the hash, the fields nobody asked for passed over.
    pub(crate) fn finish(mut self) -> Result<FrameReader<'a>> {
        while self.next_pair()?.is_some() {}
        Ok(self.ahead)
    }

    /// The next field's name and value, each when it is a string.
    #[allow(clippy::type_complexity)]
    #[inline]
    fn next_pair(&mut self) -> Result<Option<(Option<&'a [u8]>, Option<&'a [u8]>)>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let name = self.ahead.string_or_skip()?;
        Ok(Some((name, self.ahead.string_or_skip()?)))
    }
}

/// Both directions of one hash field's codec, and its tag check, behind a single
/// `T: HashValue` bound (called by derived code): a field type that is no flat value is then
/// reported once, at the field, not once for encoding, again for decoding and again for
/// validating.
#[doc(hidden)]
pub struct FieldCodec<T> {
    write: fn(&mut HashWriter, &'static str, &T, FieldOpts) -> Result<()>,
    read: for<'r, 'a> fn(&'r mut HashReader<'a>, &'static str, FieldOpts) -> Result<T>,
    check_tags: fn(&T, Option<char>) -> std::result::Result<(), String>,
}

impl<T> FieldCodec<T> {
    /// [`HashWriter::field`].
    pub fn write(
        &self,
        out: &mut HashWriter,
        name: &'static str,
        value: &T,
        opts: FieldOpts,
    ) -> Result<()> {
        (self.write)(out, name, value, opts)
    }

    /// [`HashReader::field`].
    pub fn read(
        &self,
        reader: &mut HashReader<'_>,
        name: &'static str,
        opts: FieldOpts,
    ) -> Result<T> {
        (self.read)(reader, name, opts)
    }

    /// [`HashValue::check_tags`], refusing the value of the tag field `name` as
    /// [`Error::InvalidValue`].
    pub fn check_tags(&self, name: &'static str, value: &T, separator: Option<char>) -> Result<()> {
        (self.check_tags)(value, separator).map_err(|reason| Error::InvalidValue {
            field: name.to_owned(),
            reason,
        })
    }
}

/// The codec of the hash field type `T` (called by derived code).
#[doc(hidden)]
pub fn field_codec<T: HashValue>() -> FieldCodec<T> {
    FieldCodec {
        write: |out, name, value, opts| out.field(name, value, opts),
        read: |reader, name, opts| reader.field(name, opts),
        check_tags: T::check_tags,
    }
}

/// Serialises a JSON-stored document, setting its id field to `id` (the key part, converted
/// as the id type holds it) and its version field to `version` where given (called by derived
/// code).
pub fn encode_json<T: serde::Serialize, I: super::ModelId>(
    value: &T,
    id: (&str, &str),
    version: Option<(&str, u64)>,
) -> Result<Vec<u8>> {
    let mut doc = serde_json::to_value(value).map_err(|e| Error::InvalidValue {
        field: "document".into(),
        reason: e.to_string(),
    })?;
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert(id.0.to_owned(), I::json(id.1));
        if let Some((field, v)) = version {
            map.insert(field.to_owned(), serde_json::Value::from(v));
        }
    }
    serde_json::to_vec(&doc).map_err(|e| Error::InvalidValue {
        field: "document".into(),
        reason: e.to_string(),
    })
}

/// Deserialises a JSON-stored document read from `key`, whose id part is `id.1` and id member
/// `id.0`, and returns it with the id that part stands for (called by derived code, which sets
/// it: the key is the document's identity, whatever the document holds). A document written
/// without its id (or with one that is no id of type `I`) by another program is read with
/// the key's id in its place; only then is it parsed again, so the usual read stays one pass.
pub fn decode_json<T: serde::de::DeserializeOwned, I: super::ModelId>(
    key: &str,
    id: (&str, &str),
    json: &[u8],
) -> Result<(T, I)> {
    let (member, part) = id;
    let id = I::from_key_part(part).map_err(|reason| Error::Decode {
        key: key.to_owned(),
        field: Some(member.to_owned()),
        reason,
    })?;
    let error = match serde_json::from_slice(json) {
        Ok(doc) => return Ok((doc, id)),
        Err(e) => e,
    };
    let at = json_error_path::<T>(json);
    if at.as_deref() == Some(member) {
        if let Ok(serde_json::Value::Object(mut doc)) = serde_json::from_slice(json) {
            doc.insert(member.to_owned(), I::json(part));
            let patched = serde_json::to_vec(&doc).expect("a JSON value serialises");
            return deserialize(key, &patched).map(|doc| (doc, id));
        }
    }
    Err(decode_error(key, at, &error))
}

/// Deserialises the document at `key`.
fn deserialize<T: serde::de::DeserializeOwned>(key: &str, json: &[u8]) -> Result<T> {
    serde_json::from_slice(json).map_err(|e| decode_error(key, json_error_path::<T>(json), &e))
}

fn decode_error(key: &str, field: Option<String>, error: &serde_json::Error) -> Error {
    Error::Decode {
        key: key.to_owned(),
        field,
        reason: redact_quoted(&error.to_string()),
    }
}

/// Where in a document that failed to decode the failure is (`address.city`, `skills[2]`), a
/// missing field included, or `None` at its root (malformed JSON). The document is parsed a
/// second time, only on failure: tracking the path on every read would slow them all.
fn json_error_path<T: serde::de::DeserializeOwned>(json: &[u8]) -> Option<String> {
    use serde_path_to_error::Segment;
    use std::fmt::Write;
    let mut de = serde_json::Deserializer::from_slice(json);
    let err = serde_path_to_error::deserialize::<_, T>(&mut de).err()?;
    let mut path = String::new();
    let push_key = |path: &mut String, key: &str| {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    };
    for segment in err.path().iter() {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(path, "[{index}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => push_key(&mut path, key),
            // Past what the parser could make out: the path so far is the best answer.
            Segment::Unknown => return (!path.is_empty()).then_some(path),
        }
    }
    // A missing field is reported at the object that lacks it; serde names it only in the
    // message (`missing field `city``).
    let message = err.inner().to_string();
    if let Some((field, _)) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        push_key(&mut path, field);
    }
    (!path.is_empty()).then_some(path)
}

/// serde_json quotes the offending value in its messages; errors must not carry stored data.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            inside = !inside;
            out.push(c);
            if inside {
                out.push('…');
            }
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: HashValue + PartialEq + std::fmt::Debug>(v: T) {
        let mut out = Vec::new();
        assert!(v.write(FieldOpts::default(), &mut out).unwrap());
        assert_eq!(T::read(&out, FieldOpts::default()).unwrap(), v);
    }

    #[test]
    fn values_round_trip() {
        round_trip("héllo".to_owned());
        round_trip(42u32);
        round_trip(-7i64);
        round_trip(0.1f64);
        round_trip(1e300f64);
        round_trip(true);
        round_trip(vec!["a b".to_owned(), "c,d".to_owned()]);
        round_trip(vec![0.5f32, -1.25]);
        round_trip([1.0f64, 2.0]);
        round_trip(GeoPoint::new(2.35, 48.85));
        round_trip(Some(3u8));
    }

    #[test]
    fn bad_values() {
        let o = FieldOpts::default();
        assert!(u32::read(b"-1", o).is_err());
        assert!(u8::read(b"300", o).is_err());
        assert!(Vec::<f32>::read(&[0, 0, 0], o).is_err());
        assert!(<[f32; 2]>::read(&[0; 12], o).is_err());
        assert!(bool::read(b"yes", o).is_err());
        assert!(GeoPoint::read(b"2.35", o).is_err());
        let sep = FieldOpts { separator: '|' };
        assert!(vec!["a|b".to_owned()].write(sep, &mut Vec::new()).is_err());
        assert!(vec!["a,b".to_owned()].write(sep, &mut Vec::new()).is_ok());
        assert!(f64::NAN.write(o, &mut Vec::new()).is_err());
        assert_eq!(Option::<u8>::missing(), Some(None));
        assert_eq!(u8::missing(), None);
        assert!(GeoPoint::new(0.0, 89.0).check().is_err());
    }

    #[test]
    fn json_errors_hide_values() {
        let e = deserialize::<Vec<u32>>("k", br#"["secret"]"#).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.to_string().contains("cannot decode k"));
    }

    #[test]
    fn json_errors_name_the_field() {
        // Only decoded, never read: the fields are there to fail.
        #[allow(dead_code)]
        #[derive(Debug, serde::Deserialize)]
        struct Inner {
            city: String,
        }
        #[allow(dead_code)]
        #[derive(Debug, serde::Deserialize)]
        struct Doc {
            age: u32,
            address: Inner,
            tags: Vec<String>,
        }
        let field = |json: &str| match deserialize::<Doc>("k", json.as_bytes()) {
            Err(Error::Decode { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let ok = r#""address":{"city":"Paris"},"tags":["a"]"#;
        assert_eq!(
            field(&format!(r#"{{"age":"old",{ok}}}"#)).as_deref(),
            Some("age")
        );
        assert_eq!(
            field(r#"{"age":1,"address":{"city":7},"tags":[]}"#).as_deref(),
            Some("address.city")
        );
        assert_eq!(
            field(r#"{"age":1,"address":{"city":"x"},"tags":["a",2]}"#).as_deref(),
            Some("tags[1]")
        );
        assert_eq!(field(r#"{"age":1}"#).as_deref(), Some("address"));
        assert_eq!(
            field(r#"{"age":1,"address":{},"tags":[]}"#).as_deref(),
            Some("address.city")
        );
        assert_eq!(field("{"), None);
    }

    #[test]
    fn tags_holding_their_separator_are_refused() {
        assert!("a,b".to_owned().check_tags(Some(',')).is_err());
        assert!("a,b".to_owned().check_tags(Some('|')).is_ok());
        let tags = vec!["a".to_owned(), "b|c".to_owned()];
        assert_eq!(
            tags.check_tags(Some('|')).unwrap_err(),
            "tag 1 contains the tag separator '|'"
        );
        assert!(Some(tags.clone()).check_tags(Some('|')).is_err());
        assert!(Option::<String>::None.check_tags(Some('|')).is_ok());
        assert!(42u32.check_tags(Some('4')).is_ok(), "only text is checked");
        // NUL, where the index cuts a tag, is refused with or without a separator.
        assert!("x\0y".to_owned().check_tags(None).is_err());
        assert!(vec!["x\0y".to_owned()].check_tags(Some('|')).is_err());
        assert!("a,b".to_owned().check_tags(None).is_ok());
        let refused = field_codec::<Vec<String>>().check_tags("skills", &tags, Some('|'));
        assert!(matches!(refused, Err(Error::InvalidValue { field, .. }) if field == "skills"));
    }

    #[test]
    fn json_ids_come_from_the_key() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Doc {
            id: u64,
            name: String,
        }
        let decode = |json: &str| decode_json::<Doc, u64>("doc:7", ("id", "7"), json.as_bytes());
        // Whatever the document holds as its id, the key's is returned beside it.
        let (doc, id) = decode(r#"{"id":9,"name":"a"}"#).unwrap();
        assert_eq!((doc.id, id), (9, 7));
        for json in [r#"{"name":"a"}"#, r#"{"id":"x","name":"a"}"#] {
            let (doc, id) = decode(json).unwrap();
            assert_eq!(
                doc,
                Doc {
                    id: 7,
                    name: "a".into()
                }
            );
            assert_eq!(id, 7);
        }
        match decode(r#"{"id":7}"#) {
            Err(Error::Decode { field, .. }) => assert_eq!(field.as_deref(), Some("name")),
            other => panic!("{other:?}"),
        }
        match decode(r#"{}"#) {
            Err(Error::Decode { field, .. }) => assert_eq!(field.as_deref(), Some("name")),
            other => panic!("{other:?}"),
        }
        match decode_json::<Doc, u64>("doc:x", ("id", "x"), br#"{"id":1,"name":"a"}"#) {
            Err(Error::Decode { key, field, .. }) => {
                assert_eq!((key.as_str(), field.as_deref()), ("doc:x", Some("id")))
            }
            other => panic!("{other:?}"),
        }
    }
}
