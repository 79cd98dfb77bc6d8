//! Key commands: `DEL`, `EXISTS`, `EXPIRE`, `TTL`, and `SCAN` as a stream.

use std::future::Future;
use std::time::Duration;

use super::{cmd, Commands, ToArg};
use crate::error::Result;
use crate::resp::{FromRedis, Value};

/// The time to live of a key, as `TTL` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist.
    Missing,
    /// The key exists and never expires.
    Persistent,
    /// The key expires in this long (whole seconds).
    ExpiresIn(Duration),
}

/// Key commands.
pub trait KeyCommands: Commands {
    /// `DEL key…`: how many keys were removed.
    fn del(&self, keys: impl ToArg) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("DEL").key(keys))
    }

    /// `EXISTS key…`: how many of the keys exist.
    fn exists(&self, keys: impl ToArg) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("EXISTS").key(keys))
    }

    /// `PEXPIRE key ms`: whether the key exists (and now expires).
    fn expire(&self, key: impl ToArg, ttl: Duration) -> impl Future<Output = Result<bool>> + Send {
        self.send(cmd("PEXPIRE").key(key).arg(ttl.as_millis() as u64))
    }

    /// `TTL key`.
    fn ttl(&self, key: impl ToArg) -> impl Future<Output = Result<Ttl>> + Send {
        let reply = self.send::<i64>(cmd("TTL").key(key));
        async move {
            Ok(match reply.await? {
                -2 => Ttl::Missing,
                -1 => Ttl::Persistent,
                secs => Ttl::ExpiresIn(Duration::from_secs(secs.max(0) as u64)),
            })
        }
    }

    /// `SCAN` over every key matching `pattern` (all keys for `None`), as a stream that fetches
    /// a page of about `count` keys at a time; on a cluster, every master's keys in turn. Keys
    /// may repeat if the keyspace changes meanwhile, as `SCAN` guarantees.
    ///
    /// ```no_run
    /// # async fn demo(client: redis_model::Client) -> redis_model::Result<()> {
    /// use futures_util::StreamExt;
    /// use redis_model::prelude::*;
    /// let mut keys = client.scan::<String>(Some("user:*"), 500);
    /// while let Some(key) = keys.next().await {
    ///     println!("{}", key?);
    /// }
    /// # Ok(()) }
    /// ```
    fn scan<T: FromRedis>(&self, pattern: Option<&str>, count: u32) -> ScanStream<'_, T>
    where
        Self: Sized,
    {
        let pattern = pattern.map(str::to_owned);
        let nodes = self.key_slots();
        // Where the scan is: which node (by its place in `nodes`), and its cursor there.
        crate::paged::Paged::new((0, 0), move |(node, cursor): (usize, u64)| {
            let c = cmd("SCAN")
                .arg(cursor)
                .arg(pattern.as_deref().map(|p| ("MATCH", p)))
                .arg("COUNT")
                .arg(count)
                .routed(nodes[node]);
            let page = self.send::<(u64, Vec<Value>)>(c);
            let last = node + 1 == nodes.len();
            Box::pin(async move {
                let (next, keys) = page.await?;
                // Each key converts on its own: one that does not fit `T` is one error item.
                let keys = keys.into_iter().map(T::from_redis).collect();
                let at = match next {
                    0 if last => None,
                    0 => Some((node + 1, 0)),
                    next => Some((node, next)),
                };
                Ok((keys, at))
            })
        })
    }
}

impl<C: Commands> KeyCommands for C {}

/// The stream [`KeyCommands::scan`] returns.
pub type ScanStream<'a, T> = crate::paged::Paged<'a, T, (usize, u64)>;
