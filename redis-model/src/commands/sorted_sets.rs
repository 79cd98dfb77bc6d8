//! Sorted set commands: `ZADD`, `ZREM`, `ZSCORE`, `ZINCRBY`, `ZRANGE`, `ZCARD`.

use std::future::Future;

use super::{cmd, Commands, ToArg};
use crate::error::{Error, Result};
use crate::resp::{FromRedis, Value};

/// Sorted set commands.
pub trait SortedSetCommands: Commands {
    /// `ZADD key score member …`, from `(score, member)` pairs: how many were new.
    fn zadd<M: ToArg>(
        &self,
        key: impl ToArg,
        members: &[(f64, M)],
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("ZADD").key(key).arg(members))
    }

    /// `ZREM key member…`: how many were removed.
    fn zrem(
        &self,
        key: impl ToArg,
        members: impl ToArg,
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("ZREM").key(key).arg(members))
    }

    /// `ZSCORE key member`.
    fn zscore(
        &self,
        key: impl ToArg,
        member: impl ToArg,
    ) -> impl Future<Output = Result<Option<f64>>> + Send {
        self.send(cmd("ZSCORE").key(key).arg(member))
    }

    /// `ZINCRBY key delta member`: the new score.
    fn zincr_by(
        &self,
        key: impl ToArg,
        delta: f64,
        member: impl ToArg,
    ) -> impl Future<Output = Result<f64>> + Send {
        self.send(cmd("ZINCRBY").key(key).arg(delta).arg(member))
    }

    /// `ZRANGE key start stop`: members by rank, lowest score first.
    fn zrange<T: FromRedis>(
        &self,
        key: impl ToArg,
        start: i64,
        stop: i64,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        self.send(cmd("ZRANGE").key(key).arg(start).arg(stop))
    }

    /// `ZRANGE key start stop WITHSCORES`: `(member, score)` pairs, whether the server answers
    /// in RESP3 (pairs) or RESP2 (a flat list).
    fn zrange_with_scores<T: FromRedis>(
        &self,
        key: impl ToArg,
        start: i64,
        stop: i64,
    ) -> impl Future<Output = Result<Vec<(T, f64)>>> + Send {
        let reply = self.send::<Value>(
            cmd("ZRANGE")
                .key(key)
                .arg(start)
                .arg(stop)
                .arg("WITHSCORES"),
        );
        async move { scored(reply.await?) }
    }

    /// `ZCARD key`.
    fn zcard(&self, key: impl ToArg) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("ZCARD").key(key))
    }
}

impl<C: Commands> SortedSetCommands for C {}

fn scored<T: FromRedis>(reply: Value) -> Result<Vec<(T, f64)>> {
    match reply {
        Value::Array(items) if items.iter().all(|i| matches!(i, Value::Array(_))) => {
            items.into_iter().map(<(T, f64)>::from_redis).collect()
        }
        flat @ Value::Array(_) => crate::resp::pairs(flat)?
            .into_iter()
            .map(|(m, s)| Ok((T::from_redis(m)?, f64::from_redis(s)?)))
            .collect(),
        other => Err(Error::Conversion {
            expected: "array of (member, score)",
            got: other.kind().into(),
            context: Some("ZRANGE".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_of_scores() {
        let b = |s: &str| Value::BulkString(s.to_owned().into());
        let resp3 = Value::Array(vec![Value::Array(vec![b("a"), Value::Double(1.5)])]);
        let resp2 = Value::Array(vec![b("a"), b("1.5")]);
        for v in [resp3, resp2] {
            assert_eq!(scored::<String>(v).unwrap(), vec![("a".to_owned(), 1.5)]);
        }
    }
}
