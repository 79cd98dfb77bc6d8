//! Set commands: `SADD`, `SREM`, `SMEMBERS`, `SISMEMBER`, `SCARD`.

use std::future::Future;

use super::{cmd, Commands, ToArg};
use crate::error::Result;
use crate::resp::FromRedis;

/// Set commands.
pub trait SetCommands: Commands {
    /// `SADD key member…`: how many were new.
    fn sadd(
        &self,
        key: impl ToArg,
        members: impl ToArg,
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("SADD").key(key).arg(members))
    }

    /// `SREM key member…`: how many were removed.
    fn srem(
        &self,
        key: impl ToArg,
        members: impl ToArg,
    ) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("SREM").key(key).arg(members))
    }

    /// `SMEMBERS key`, into a collection (`HashSet<String>`, `Vec<String>`, …).
    fn smembers<T: FromRedis>(&self, key: impl ToArg) -> impl Future<Output = Result<T>> + Send {
        self.send(cmd("SMEMBERS").key(key))
    }

    /// `SISMEMBER key member`.
    fn sismember(
        &self,
        key: impl ToArg,
        member: impl ToArg,
    ) -> impl Future<Output = Result<bool>> + Send {
        self.send(cmd("SISMEMBER").key(key).arg(member))
    }

    /// `SCARD key`.
    fn scard(&self, key: impl ToArg) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("SCARD").key(key))
    }
}

impl<C: Commands> SetCommands for C {}
