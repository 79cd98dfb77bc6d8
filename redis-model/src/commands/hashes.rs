//! Hash commands: `HSET`, `HGET`, `HGETALL`, `HMGET`, `HDEL`.

use std::future::Future;

use super::{cmd, Commands, ToArg};
use crate::error::Result;
use crate::resp::FromRedis;

/// Hash commands.
pub trait HashCommands: Commands {
    /// `HSET key field value …`: how many fields were new.
    fn hset<F: ToArg, V: ToArg>(
        &self,
        key: impl ToArg,
        fields: &[(F, V)],
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("HSET").key(key).arg(fields))
    }

    /// `HGET key field`.
    fn hget<T: FromRedis>(
        &self,
        key: impl ToArg,
        field: impl ToArg,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        self.send(cmd("HGET").key(key).arg(field))
    }

    /// `HGETALL key`, into a map type (`HashMap<String, String>`, `BTreeMap`, …); empty when the
    /// key does not exist.
    fn hgetall<T: FromRedis>(&self, key: impl ToArg) -> impl Future<Output = Result<T>> + Send {
        self.send(cmd("HGETALL").key(key))
    }

    /// `HMGET key field…`: one entry per field.
    fn hmget<T: FromRedis>(
        &self,
        key: impl ToArg,
        fields: impl ToArg,
    ) -> impl Future<Output = Result<Vec<Option<T>>>> + Send {
        self.send(cmd("HMGET").key(key).arg(fields))
    }

    /// `HDEL key field…`: how many fields were removed.
    fn hdel(
        &self,
        key: impl ToArg,
        fields: impl ToArg,
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("HDEL").key(key).arg(fields))
    }
}

impl<C: Commands> HashCommands for C {}
