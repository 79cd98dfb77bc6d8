//! List commands: `LPUSH`, `RPUSH`, `LPOP`, `RPOP`, `LRANGE`, `LLEN`.

use std::future::Future;

use super::{cmd, Commands, ToArg};
use crate::error::Result;
use crate::resp::FromRedis;

/// List commands.
pub trait ListCommands: Commands {
    /// `LPUSH key value…`: the new length.
    fn lpush(
        &self,
        key: impl ToArg,
        values: impl ToArg,
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("LPUSH").key(key).arg(values))
    }

    /// `RPUSH key value…`: the new length.
    fn rpush(
        &self,
        key: impl ToArg,
        values: impl ToArg,
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("RPUSH").key(key).arg(values))
    }

    /// `LPOP key`: `None` when the list is empty.
    fn lpop<T: FromRedis>(
        &self,
        key: impl ToArg,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        self.send(cmd("LPOP").key(key))
    }

    /// `RPOP key`: `None` when the list is empty.
    fn rpop<T: FromRedis>(
        &self,
        key: impl ToArg,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        self.send(cmd("RPOP").key(key))
    }

    /// `LRANGE key start stop` (inclusive; negative indexes count from the end).
    fn lrange<T: FromRedis>(
        &self,
        key: impl ToArg,
        start: i64,
        stop: i64,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        self.send(cmd("LRANGE").key(key).arg(start).arg(stop))
    }

    /// `LLEN key`.
    fn llen(&self, key: impl ToArg) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("LLEN").key(key))
    }
}

impl<C: Commands> ListCommands for C {}
