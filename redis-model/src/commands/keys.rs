//! Key commands: `DEL`, `EXISTS`, `EXPIRE`, `TTL`, and `SCAN` as a stream.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

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
        self.send(cmd("DEL").arg(keys))
    }

    /// `EXISTS key…`: how many of the keys exist.
    fn exists(&self, keys: impl ToArg) -> impl Future<Output = Result<u64>> + Send {
        self.send(cmd("EXISTS").arg(keys))
    }

    /// `PEXPIRE key ms`: whether the key exists (and now expires).
    fn expire(&self, key: impl ToArg, ttl: Duration) -> impl Future<Output = Result<bool>> + Send {
        self.send(cmd("PEXPIRE").arg(key).arg(ttl.as_millis() as u64))
    }

    /// `TTL key`.
    fn ttl(&self, key: impl ToArg) -> impl Future<Output = Result<Ttl>> + Send {
        let reply = self.send::<i64>(cmd("TTL").arg(key));
        async move {
            Ok(match reply.await? {
                -2 => Ttl::Missing,
                -1 => Ttl::Persistent,
                secs => Ttl::ExpiresIn(Duration::from_secs(secs.max(0) as u64)),
            })
        }
    }

    /// `SCAN` over every key matching `pattern` (all keys for `None`), as a stream that fetches
    /// a page of about `count` keys at a time. Keys may repeat if the keyspace changes meanwhile,
    /// as `SCAN` guarantees.
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
        ScanStream {
            fetch: Box::new(move |cursor| {
                let c = cmd("SCAN")
                    .arg(cursor)
                    .arg(pattern.as_deref().map(|p| ("MATCH", p)))
                    .arg("COUNT")
                    .arg(count);
                Box::pin(self.send::<(u64, Vec<Value>)>(c))
            }),
            cursor: Some(0),
            page: VecDeque::new(),
            pending: None,
            _item: PhantomData,
        }
    }
}

impl<C: Commands> KeyCommands for C {}

type Page<'a> = Pin<Box<dyn Future<Output = Result<(u64, Vec<Value>)>> + Send + 'a>>;

/// The stream [`KeyCommands::scan`] returns.
pub struct ScanStream<'a, T> {
    fetch: Box<dyn Fn(u64) -> Page<'a> + Send + Sync + 'a>,
    /// The next cursor to ask for; `None` once the server returned cursor 0.
    cursor: Option<u64>,
    page: VecDeque<Value>,
    pending: Option<Page<'a>>,
    _item: PhantomData<fn() -> T>,
}

impl<T: FromRedis> Stream for ScanStream<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(key) = self.page.pop_front() {
                return Poll::Ready(Some(T::from_redis(key)));
            }
            if self.pending.is_none() {
                let Some(cursor) = self.cursor else {
                    return Poll::Ready(None);
                };
                self.pending = Some((self.fetch)(cursor));
            }
            let page = self.pending.as_mut().expect("set above");
            match page.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => {
                    self.pending = None;
                    match result {
                        Err(e) => {
                            // A failed page ends the walk; the error is its last item.
                            self.cursor = None;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Ok((next, keys)) => {
                            self.cursor = (next != 0).then_some(next);
                            self.page.extend(keys);
                        }
                    }
                }
            }
        }
    }
}
