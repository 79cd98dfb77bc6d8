//! Pub/sub: `SUBSCRIBE`/`PSUBSCRIBE` on a dedicated connection, messages as a [`Stream`].
//!
//! In RESP3 messages arrive as push frames beside ordinary replies; the connection's driver
//! routes them here and matches subscription confirmations to the requests that asked for them.
//! Over RESP2 the same works with plain arrays, which the driver recognises once subscribed.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use tokio::sync::mpsc;

use super::{cmd, sealed::Execute, Cmd, ToArg};
use crate::config::Config;
use crate::connection::{Connection, Expect, Payload};
use crate::error::{Error, Result};
use crate::resp::Value;

/// A message received on a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The channel it was published to.
    pub channel: Bytes,
    /// The pattern that matched, for `PSUBSCRIBE` subscriptions.
    pub pattern: Option<Bytes>,
    /// The message.
    pub payload: Bytes,
}

/// A connection dedicated to subscriptions, and the stream of its messages.
///
/// ```no_run
/// # async fn demo(client: redis_model::Client) -> redis_model::Result<()> {
/// use futures_util::StreamExt;
/// let mut sub = client.subscriber().await?;
/// sub.subscribe(&["news"]).await?;
/// while let Some(msg) = sub.next().await {
///     let msg = msg?;
///     println!("{:?}: {:?}", msg.channel, msg.payload);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Subscription {
    conn: Connection,
    messages: mpsc::UnboundedReceiver<Value>,
    ended: bool,
}

impl Subscription {
    pub(crate) async fn open(config: &Config) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let conn = Connection::connect_with_push(config, tx).await?;
        Ok(Subscription {
            conn,
            messages: rx,
            ended: false,
        })
    }

    /// `SUBSCRIBE channel…`; returns once the server confirmed every channel.
    pub async fn subscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(cmd("SUBSCRIBE").arg(channels)).await
    }

    /// `PSUBSCRIBE pattern…`.
    pub async fn psubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(cmd("PSUBSCRIBE").arg(patterns)).await
    }

    /// `UNSUBSCRIBE channel…`; with no channel, from all of them.
    pub async fn unsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(cmd("UNSUBSCRIBE").arg(channels)).await
    }

    /// `PUNSUBSCRIBE pattern…`; with no pattern, from all of them.
    pub async fn punsubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(cmd("PUNSUBSCRIBE").arg(patterns)).await
    }

    async fn change(&self, command: Cmd) -> Result<()> {
        let name = command.name_cow();
        let expect = match command.arg_count() - 1 {
            0 if name.contains("UNSUB") => Expect::UnsubscribeAll,
            0 => return Err(Error::config("channels", "subscribe to at least one")),
            n => Expect::Confirmations(n),
        };
        match self.conn.execute(Payload::One(command), expect).await? {
            crate::connection::Reply::One(f) => f.into_result(&name).map(drop),
            crate::connection::Reply::Many(_) => Ok(()),
        }
    }
}

impl Stream for Subscription {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            match self.messages.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    // The connection is gone: say so once, then end.
                    self.ended = true;
                    return Poll::Ready(Some(Err(Error::ConnectionClosed {
                        node: self.conn.node().to_owned(),
                        sent: false,
                    })));
                }
                Poll::Ready(Some(Value::Push(items))) => {
                    if let Some(message) = message(items) {
                        return Poll::Ready(Some(Ok(message)));
                    }
                    // Other push frames (server-side unsubscribes, invalidations) are not
                    // messages.
                }
                Poll::Ready(Some(_)) => {}
            }
        }
    }
}

fn message(items: Vec<Value>) -> Option<Message> {
    let mut it = items.into_iter().map(|v| match v {
        Value::BulkString(b) | Value::SimpleString(b) => Some(b),
        _ => None,
    });
    let kind = it.next()??;
    match kind.as_ref() {
        b"message" | b"smessage" => Some(Message {
            channel: it.next()??,
            pattern: None,
            payload: it.next()??,
        }),
        b"pmessage" => Some(Message {
            pattern: Some(it.next()??),
            channel: it.next()??,
            payload: it.next()??,
        }),
        _ => None,
    }
}
