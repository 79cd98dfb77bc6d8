//! [`FromRedis`]: typed conversion of replies.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;

use super::value::Value;
use crate::error::{Error, Result};

/// Converts a reply into a Rust value. A mismatch is [`Error::Conversion`] naming what was
/// expected and what came; it never panics and never substitutes a default.
///
/// ```
/// use redis_model::resp::{FromRedis, Value};
/// assert_eq!(i64::from_redis(Value::BulkString("42".into())).unwrap(), 42);
/// assert!(u8::from_redis(Value::Integer(300)).is_err());
/// assert_eq!(Option::<String>::from_redis(Value::Nil).unwrap(), None);
/// ```
pub trait FromRedis: Sized {
    /// Converts `value`.
    fn from_redis(value: Value) -> Result<Self>;

    /// How a bulk string converts to `Vec<Self>`; only `u8` overrides it, so that `Vec<u8>` is
    /// raw bytes while `Vec<T>` is an array.
    #[doc(hidden)]
    fn from_byte_string(bytes: Bytes) -> Result<Vec<Self>> {
        Err(mismatch("array", &Value::BulkString(bytes)))
    }
}

/// The conversion error for `value` where `expected` was wanted. Only the RESP type is named:
/// reply contents may be private data.
pub(crate) fn mismatch(expected: &'static str, value: &Value) -> Error {
    Error::Conversion {
        expected,
        got: value.kind().to_owned(),
        context: None,
    }
}

impl FromRedis for Value {
    fn from_redis(value: Value) -> Result<Self> {
        Ok(value)
    }
}

impl FromRedis for () {
    fn from_redis(_: Value) -> Result<Self> {
        Ok(())
    }
}

/// Strips RESP3 attributes, which annotate a reply without changing what it is.
fn unwrap_attribute(value: Value) -> Value {
    match value {
        Value::Attribute { value, .. } => unwrap_attribute(*value),
        other => other,
    }
}

impl FromRedis for Bytes {
    fn from_redis(value: Value) -> Result<Self> {
        match unwrap_attribute(value) {
            Value::BulkString(b) | Value::SimpleString(b) | Value::Verbatim { text: b, .. } => {
                Ok(b)
            }
            other => Err(mismatch("bytes", &other)),
        }
    }
}

impl FromRedis for String {
    fn from_redis(value: Value) -> Result<Self> {
        match unwrap_attribute(value) {
            Value::Integer(n) => Ok(n.to_string()),
            Value::Double(d) => Ok(d.to_string()),
            Value::BigNumber(b) => utf8(b),
            other => utf8(Bytes::from_redis(other)?),
        }
    }
}

fn utf8(bytes: Bytes) -> Result<String> {
    String::from_utf8(bytes.into()).map_err(|_| Error::Conversion {
        expected: "String",
        got: "bytes that are not UTF-8".into(),
        context: None,
    })
}

impl FromRedis for bool {
    fn from_redis(value: Value) -> Result<Self> {
        match unwrap_attribute(value) {
            Value::Boolean(b) => Ok(b),
            Value::Integer(0) => Ok(false),
            Value::Integer(1) => Ok(true),
            v @ (Value::BulkString(_) | Value::SimpleString(_)) => match v.as_bytes() {
                Some(b) if b.as_ref() == b"0" => Ok(false),
                Some(b) if b.as_ref() == b"1" => Ok(true),
                _ => Err(mismatch("bool", &v)),
            },
            other => Err(mismatch("bool", &other)),
        }
    }
}

/// Parses a number sent as a string (`GET` of a counter, `HGET` of a numeric field).
fn parse_text<T: std::str::FromStr>(value: &Value, expected: &'static str) -> Result<T> {
    value
        .as_bytes()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| mismatch(expected, value))
}

macro_rules! from_redis_int {
    ($($t:ty $({ $($extra:tt)* })?),*) => {$(
        impl FromRedis for $t {
            fn from_redis(value: Value) -> Result<Self> {
                match unwrap_attribute(value) {
                    Value::Integer(n) => <$t>::try_from(n).map_err(|_| Error::Conversion {
                        expected: stringify!($t),
                        got: "integer out of range".into(),
                        context: None,
                    }),
                    Value::BigNumber(b) => parse_text(&Value::BulkString(b), stringify!($t)),
                    other => parse_text(&other, stringify!($t)),
                }
            }
            $($($extra)*)?
        }
    )*};
}

from_redis_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize, u8 {
    // `Vec<u8>` is the bytes of a bulk string.
    fn from_byte_string(bytes: Bytes) -> Result<Vec<Self>> {
        Ok(bytes.into())
    }
});

macro_rules! from_redis_float {
    ($($t:ty),*) => {$(
        impl FromRedis for $t {
            fn from_redis(value: Value) -> Result<Self> {
                match unwrap_attribute(value) {
                    Value::Double(d) => Ok(d as $t),
                    Value::Integer(n) => Ok(n as $t),
                    other => parse_text(&other, stringify!($t)),
                }
            }
        }
    )*};
}

from_redis_float!(f32, f64);

impl<T: FromRedis> FromRedis for Option<T> {
    fn from_redis(value: Value) -> Result<Self> {
        match unwrap_attribute(value) {
            Value::Nil => Ok(None),
            other => T::from_redis(other).map(Some),
        }
    }
}

/// The elements of an array-like reply (array, set, push).
fn elements(value: Value, expected: &'static str) -> Result<Vec<Value>> {
    match unwrap_attribute(value) {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => Ok(items),
        other => Err(mismatch(expected, &other)),
    }
}

impl<T: FromRedis> FromRedis for Vec<T> {
    fn from_redis(value: Value) -> Result<Self> {
        match unwrap_attribute(value) {
            Value::BulkString(b) => T::from_byte_string(b),
            other => elements(other, "array")?
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_redis(v).map_err(|e| at_index(e, i)))
                .collect(),
        }
    }
}

fn at_index(e: Error, i: usize) -> Error {
    match e {
        Error::Conversion {
            expected,
            got,
            context: None,
        } => Error::Conversion {
            expected,
            got,
            context: Some(format!("element {i}")),
        },
        other => other,
    }
}

impl<T: FromRedis + Eq + Hash, S: BuildHasher + Default> FromRedis for HashSet<T, S> {
    fn from_redis(value: Value) -> Result<Self> {
        elements(value, "set")?
            .into_iter()
            .map(T::from_redis)
            .collect()
    }
}

impl<T: FromRedis + Ord> FromRedis for BTreeSet<T> {
    fn from_redis(value: Value) -> Result<Self> {
        elements(value, "set")?
            .into_iter()
            .map(T::from_redis)
            .collect()
    }
}

/// Takes the value of the pair whose key is the string `name` out of `fields` (the order of
/// the rest may change).
pub(crate) fn take_field(fields: &mut Vec<(Value, Value)>, name: &str) -> Option<Value> {
    let i = fields
        .iter()
        .position(|(k, _)| k.as_bytes().is_some_and(|k| k.as_ref() == name.as_bytes()))?;
    Some(fields.swap_remove(i).1)
}

/// The pairs of a map reply, or of a RESP2 flat array of alternating keys and values.
pub(crate) fn pairs(value: Value) -> Result<Vec<(Value, Value)>> {
    match unwrap_attribute(value) {
        Value::Map(pairs) => Ok(pairs),
        Value::Array(items) if items.len() % 2 == 0 => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Ok(pairs)
        }
        Value::Array(_) => Err(Error::Conversion {
            expected: "map",
            got: "array of odd length".into(),
            context: None,
        }),
        other => Err(mismatch("map", &other)),
    }
}

impl<K: FromRedis + Eq + Hash, V: FromRedis, S: BuildHasher + Default> FromRedis
    for HashMap<K, V, S>
{
    fn from_redis(value: Value) -> Result<Self> {
        pairs(value)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_redis(k)?, V::from_redis(v)?)))
            .collect()
    }
}

impl<K: FromRedis + Ord, V: FromRedis> FromRedis for BTreeMap<K, V> {
    fn from_redis(value: Value) -> Result<Self> {
        pairs(value)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_redis(k)?, V::from_redis(v)?)))
            .collect()
    }
}

macro_rules! from_redis_tuple {
    ($n:literal: $($t:ident),+) => {
        impl<$($t: FromRedis),+> FromRedis for ($($t,)+) {
            fn from_redis(value: Value) -> Result<Self> {
                let items = elements(value, concat!("array of ", $n))?;
                if items.len() != $n {
                    return Err(Error::Conversion {
                        expected: concat!("array of ", $n),
                        got: format!("array of {}", items.len()),
                        context: None,
                    });
                }
                let mut it = items.into_iter().enumerate();
                Ok(($({
                    let (i, v) = it.next().expect("length checked above");
                    $t::from_redis(v).map_err(|e| at_index(e, i))?
                },)+))
            }
        }
    };
}

from_redis_tuple!(1: A);
from_redis_tuple!(2: A, B);
from_redis_tuple!(3: A, B, C);
from_redis_tuple!(4: A, B, C, D);
from_redis_tuple!(5: A, B, C, D, E);
from_redis_tuple!(6: A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn scalars() {
        assert_eq!(String::from_redis(bulk("héllo")).unwrap(), "héllo");
        assert_eq!(i64::from_redis(bulk("-12")).unwrap(), -12);
        assert_eq!(f64::from_redis(Value::Double(1.5)).unwrap(), 1.5);
        assert_eq!(f64::from_redis(bulk("2.5")).unwrap(), 2.5);
        assert!(bool::from_redis(Value::Integer(1)).unwrap());
        assert_eq!(Vec::<u8>::from_redis(bulk("ab")).unwrap(), b"ab".to_vec());
        assert_eq!(
            u128::from_redis(Value::BigNumber("123".into())).unwrap(),
            123
        );
    }

    #[test]
    fn mismatches_say_what_came() {
        let e = i64::from_redis(bulk("abc")).unwrap_err();
        assert_eq!(e.to_string(), "cannot convert bulk string to i64");
        let e =
            Vec::<i64>::from_redis(Value::Array(vec![Value::Integer(1), bulk("x")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot convert bulk string to i64 (element 1)"
        );
        assert!(String::from_redis(Value::BulkString(Bytes::from_static(&[0xff]))).is_err());
        assert!(Vec::<i64>::from_redis(bulk("ab")).is_err());
        assert!(<(i64, i64)>::from_redis(Value::Array(vec![Value::Integer(1)])).is_err());
        assert!(i8::from_redis(Value::Integer(128)).is_err());
        assert!(String::from_redis(Value::Nil).is_err());
    }

    #[test]
    fn maps_from_resp2_and_resp3() {
        let resp3 = Value::Map(vec![(bulk("a"), Value::Integer(1))]);
        let resp2 = Value::Array(vec![bulk("a"), bulk("1")]);
        for v in [resp3, resp2] {
            let m: HashMap<String, i64> = FromRedis::from_redis(v).unwrap();
            assert_eq!(m["a"], 1);
        }
        assert!(BTreeMap::<String, String>::from_redis(Value::Array(vec![bulk("a")])).is_err());
        let t: (String, Option<i64>) =
            FromRedis::from_redis(Value::Array(vec![bulk("k"), Value::Nil])).unwrap();
        assert_eq!(t, ("k".into(), None));
    }
}
