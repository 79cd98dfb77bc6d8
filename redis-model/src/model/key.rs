//! Keys and ids: `{namespace}{prefix}:{id}`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// A type a model's id can have: `String` (an empty one gets a new ULID on save), an integer,
/// or [`Ulid`].
pub trait ModelId: Clone + Send + Sync + 'static {
    /// The id as it appears in the key; `None` when it is empty and one must be generated.
    fn key_part(&self) -> Option<String>;

    /// The id a key's id part stands for; the reason when it is not one of this type.
    fn from_key_part(part: &str) -> std::result::Result<Self, String>;

    /// The id, given as its key part, as a JSON document holds it.
    fn json(key_part: &str) -> serde_json::Value {
        serde_json::Value::String(key_part.to_owned())
    }
}

impl ModelId for String {
    fn key_part(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.clone())
    }

    fn from_key_part(part: &str) -> std::result::Result<Self, String> {
        Ok(part.to_owned())
    }
}

macro_rules! int_id {
    ($($t:ty),*) => {$(
        impl ModelId for $t {
            fn key_part(&self) -> Option<String> {
                Some(self.to_string())
            }

            fn from_key_part(part: &str) -> std::result::Result<Self, String> {
                part.parse()
                    .map_err(|_| concat!("the key's id is not a valid ", stringify!($t)).to_owned())
            }

            fn json(key_part: &str) -> serde_json::Value {
                key_part
                    .parse::<$t>()
                    .map(serde_json::Value::from)
                    .unwrap_or_else(|_| serde_json::Value::String(key_part.to_owned()))
            }
        }
    )*};
}

int_id!(i32, i64, u32, u64);

impl ModelId for Ulid {
    fn key_part(&self) -> Option<String> {
        (self.0 != 0).then(|| self.to_string())
    }

    fn from_key_part(part: &str) -> std::result::Result<Self, String> {
        Ulid::parse(part).map_err(|_| "the key's id is not a ULID".to_owned())
    }
}

/// A ULID: 48 bits of milliseconds since 1970, then 80 random bits, written as 26 Crockford
/// base-32 characters. Sorts by creation time. `Ulid::default()` is the empty (nil) ULID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(pub u128);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Ulid {
    /// A new ULID, its random part from the operating system.
    pub fn new() -> Self {
        static LAST: AtomicU64 = AtomicU64::new(0);
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            & ((1 << 48) - 1);
        let mut random = [0u8; 10];
        // Without an OS random source, time and a counter still keep ids unique in-process.
        if getrandom::getrandom(&mut random).is_err() {
            let n = LAST.fetch_add(1, Ordering::Relaxed);
            random[2..].copy_from_slice(&n.to_be_bytes());
        }
        let mut r = [0u8; 16];
        r[6..].copy_from_slice(&random);
        Ulid((u128::from(millis) << 80) | u128::from_be_bytes(r))
    }

    /// Parses the 26-character form (case-insensitive).
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() != 26 {
            return Err(Error::config("ulid", "a ULID has 26 characters"));
        }
        let mut n: u128 = 0;
        for c in s.bytes() {
            let c = c.to_ascii_uppercase();
            let v = CROCKFORD
                .iter()
                .position(|&d| d == c)
                .ok_or_else(|| Error::config("ulid", "not a Crockford base-32 character"))?;
            n = n
                .checked_mul(32)
                .map(|n| n | v as u128)
                .ok_or_else(|| Error::config("ulid", "out of range"))?;
        }
        Ok(Ulid(n))
    }
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 26];
        for (i, c) in out.iter_mut().enumerate() {
            let shift = 5 * (25 - i);
            *c = CROCKFORD[((self.0 >> shift) & 31) as usize];
        }
        f.write_str(std::str::from_utf8(&out).expect("ASCII"))
    }
}

impl serde::Serialize for Ulid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Ulid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(Ulid::default());
        }
        Ulid::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The key of a document: `{namespace}{prefix}:{id}`, formatted in one allocation.
pub(crate) fn key(namespace: &str, prefix: &str, id: impl fmt::Display) -> String {
    use fmt::Write;
    let mut k = String::with_capacity(namespace.len() + prefix.len() + 27);
    k.push_str(namespace);
    k.push_str(prefix);
    k.push(':');
    let _ = write!(k, "{id}");
    k
}

/// The id part of a document's key: what follows the model's key prefix `{namespace}{prefix}:`.
/// The prefix is stripped, never split on, as ids may hold `:`. A key outside the prefix, or
/// whose id part is no UTF-8, is [`Error::Decode`] naming the key and the id field.
pub(crate) fn id_part<'k>(key: &'k [u8], key_prefix: &str, id_field: &str) -> Result<&'k str> {
    let error = |reason: String| Error::Decode {
        key: String::from_utf8_lossy(key).into_owned(),
        field: Some(id_field.to_owned()),
        reason,
    };
    let part = key.strip_prefix(key_prefix.as_bytes()).ok_or_else(|| {
        error(format!(
            "the key is not under the model's prefix `{key_prefix}`"
        ))
    })?;
    std::str::from_utf8(part).map_err(|_| error("the key's id is not UTF-8".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_round_trip_and_sort() {
        let a = Ulid::new();
        let s = a.to_string();
        assert_eq!(s.len(), 26);
        assert_eq!(Ulid::parse(&s).unwrap(), a);
        assert_eq!(Ulid::parse(&s.to_lowercase()).unwrap(), a);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(Ulid::new() > a);
        assert!(Ulid::parse("not-a-ulid").is_err());
        assert_eq!(Ulid(0).to_string(), "00000000000000000000000000");
        assert_eq!(Ulid(0).key_part(), None);
    }

    #[test]
    fn keys() {
        assert_eq!(key("app:", "user", "42"), "app:user:42");
        assert_eq!(String::new().key_part(), None);
        assert_eq!(7u64.key_part().as_deref(), Some("7"));
    }

    #[test]
    fn ids_from_keys() {
        assert_eq!(id_part(b"app:user:a:b", "app:user:", "id").unwrap(), "a:b");
        assert_eq!(id_part(b"app:user:", "app:user:", "id").unwrap(), "");
        for bad in [&b"app:other:1"[..], b"app:user", b"app:user:\xff"] {
            match id_part(bad, "app:user:", "id") {
                Err(Error::Decode { field, .. }) => assert_eq!(field.as_deref(), Some("id")),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(String::from_key_part("a:b").unwrap(), "a:b");
        assert_eq!(i32::from_key_part("-42").unwrap(), -42);
        assert_eq!(u64::from_key_part("42").unwrap(), 42);
        assert!(u32::from_key_part("-1").is_err());
        assert!(i64::from_key_part("abc").is_err());
        let u = Ulid::new();
        assert_eq!(Ulid::from_key_part(&u.to_string()).unwrap(), u);
        assert!(Ulid::from_key_part("abc").is_err());
    }
}
