//! String commands: `GET`, `SET`, `MGET`, `MSET`, `INCRBY`.

use std::future::Future;
use std::time::Duration;

use super::{cmd, Cmd, Commands, ToArg};
use crate::error::Result;
use crate::resp::FromRedis;

/// Options of `SET`: expiry (`EX`/`PX`), condition (`NX`/`XX`) and `GET`.
///
/// ```
/// use std::time::Duration;
/// use redis_model::commands::SetOptions;
/// let opts = SetOptions::new().expire(Duration::from_secs(60)).only_if_absent();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    expire: Option<Duration>,
    condition: Option<&'static str>,
    get: bool,
}

impl SetOptions {
    /// No options: a plain `SET`.
    pub fn new() -> Self {
        SetOptions::default()
    }

    /// Expire after `ttl`: `EX` for whole seconds, `PX` otherwise.
    pub fn expire(mut self, ttl: Duration) -> Self {
        self.expire = Some(ttl);
        self
    }

    /// Set only if the key does not exist (`NX`).
    pub fn only_if_absent(mut self) -> Self {
        self.condition = Some("NX");
        self
    }

    /// Set only if the key exists (`XX`).
    pub fn only_if_present(mut self) -> Self {
        self.condition = Some("XX");
        self
    }

    /// Return the previous value (`GET`).
    pub fn get_previous(mut self) -> Self {
        self.get = true;
        self
    }

    fn apply(self, mut c: Cmd) -> Cmd {
        if let Some(ttl) = self.expire {
            if ttl.subsec_nanos() == 0 {
                c = c.arg("EX").arg(ttl.as_secs());
            } else {
                c = c.arg("PX").arg(ttl.as_millis() as u64);
            }
        }
        if let Some(cond) = self.condition {
            c = c.arg(cond);
        }
        if self.get {
            c = c.arg("GET");
        }
        c
    }
}

/// String commands.
pub trait StringCommands: Commands {
    /// `GET key`: `None` when the key does not exist.
    fn get<T: FromRedis>(&self, key: impl ToArg) -> impl Future<Output = Result<Option<T>>> + Send {
        self.send(cmd("GET").key(key))
    }

    /// `SET key value`.
    fn set(&self, key: impl ToArg, value: impl ToArg) -> impl Future<Output = Result<()>> + Send {
        self.send(cmd("SET").key(key).arg(value))
    }

    /// `SET key value [EX|PX] [NX|XX] [GET]`. The reply is `OK` or nil (read it as
    /// `Option<()>`: `None` when `NX`/`XX` prevented the write), or with `GET` the previous
    /// value (`Option<String>`).
    fn set_with<T: FromRedis>(
        &self,
        key: impl ToArg,
        value: impl ToArg,
        options: SetOptions,
    ) -> impl Future<Output = Result<T>> + Send {
        self.send(options.apply(cmd("SET").key(key).arg(value)))
    }

    /// `MGET key…`: one entry per key, `None` where it does not exist.
    fn mget<T: FromRedis>(
        &self,
        keys: impl ToArg,
    ) -> impl Future<Output = Result<Vec<Option<T>>>> + Send {
        self.send(cmd("MGET").key(keys))
    }

    /// `MSET key value …`, from pairs.
    fn mset<K: ToArg, V: ToArg>(
        &self,
        pairs: &[(K, V)],
    ) -> impl Future<Output = Result<()>> + Send {
        let mut c = cmd("MSET");
        for (key, value) in pairs {
            c = c.key(key).arg(value);
        }
        self.send(c)
    }

    /// `INCRBY key delta`: the new value.
    fn incr_by(&self, key: impl ToArg, delta: i64) -> impl Future<Output = Result<i64>> + Send {
        self.send(cmd("INCRBY").key(key).arg(delta))
    }
}

impl<C: Commands> StringCommands for C {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_options_encode() {
        let c = SetOptions::new()
            .expire(Duration::from_millis(1500))
            .only_if_present()
            .get_previous()
            .apply(cmd("SET").arg("k").arg("v"));
        assert_eq!(c.arg_count(), 7);
        let c = SetOptions::new()
            .expire(Duration::from_secs(2))
            .apply(cmd("SET"));
        assert!(c.encoded().ends_with(b"$2\r\nEX\r\n$1\r\n2\r\n"));
    }
}
