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

    /// The id, given as its key part, as a JSON document holds it.
    fn json(key_part: &str) -> serde_json::Value {
        serde_json::Value::String(key_part.to_owned())
    }
}

impl ModelId for String {
    fn key_part(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.clone())
    }
}

macro_rules! int_id {
    ($($t:ty),*) => {$(
        impl ModelId for $t {
            fn key_part(&self) -> Option<String> {
                Some(self.to_string())
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
}
