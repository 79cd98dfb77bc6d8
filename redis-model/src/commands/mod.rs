//! Commands: the generic [`Cmd`] builder and typed methods for the commands applications use
//! daily, one trait per command group.
//!
//! Every typed method builds a [`Cmd`] and sends it through [`Commands::send`], so they work
//! alike on a [`Client`](crate::Client) (auto-pipelined), a [`Connection`](crate::Connection)
//! and a connection checked out of the pool.
//!
//! ```no_run
//! # async fn demo(client: redis_model::Client) -> redis_model::Result<()> {
//! use redis_model::prelude::*;
//! client.set("greeting", "hello").await?;
//! let v: Option<String> = client.get("greeting").await?;
//! let n: i64 = client.send(cmd("STRLEN").arg("greeting")).await?;
//! # Ok(()) }
//! ```

mod cmd;
mod hashes;
mod keys;
mod lists;
mod pubsub;
mod scripting;
mod sets;
mod sorted_sets;
mod strings;
mod transactions;

use std::future::Future;

pub(crate) use cmd::KeySlot;
pub use cmd::{cmd, ArgWriter, Cmd, ToArg};
pub use hashes::HashCommands;
pub use keys::{KeyCommands, ScanStream, Ttl};
pub use lists::ListCommands;
pub use pubsub::{Message, Subscription};
pub use scripting::Script;
pub use sets::SetCommands;
pub use sorted_sets::SortedSetCommands;
pub use strings::{SetOptions, StringCommands};
pub use transactions::Watched;

use crate::connection::{Expect, Payload, Reply};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::resp::{Frame, FromRedis, Value};

pub(crate) mod sealed {
    use super::*;

    /// How a command reaches a server; implemented by the crate's handles only.
    pub trait Execute: Sync {
        /// Sends a request and waits for its replies.
        fn execute(
            &self,
            payload: Payload,
            expect: Expect,
        ) -> impl Future<Output = Result<Reply>> + Send;

        /// One slot per server holding keys, for a keyless command that must visit each
        /// (`SCAN`): `None` alone where there is one server.
        fn key_slots(&self) -> Vec<Option<u16>> {
            vec![None]
        }
    }
}

/// Sending commands and pipelines. Implemented by [`Client`](crate::Client),
/// [`Connection`](crate::Connection), pooled connections and [`Watched`].
pub trait Commands: sealed::Execute {
    /// Sends one command and converts its reply; an error reply is [`Error::Server`].
    fn send<T: FromRedis>(&self, cmd: Cmd) -> impl Future<Output = Result<T>> + Send {
        let name = cmd.name_cow();
        let reply = self.execute(Payload::One(cmd), Expect::Replies(1));
        async move { T::from_redis(one(reply.await?)?.parse()?.into_result(&name)?) }
    }

    /// Sends a pipeline in one write and reads all its replies. Each command's outcome is
    /// reported on its own: one failing command does not fail the others. An atomic pipeline
    /// (`MULTI`/`EXEC`) that a `WATCH` aborted is [`Error::TransactionAborted`].
    fn pipeline(
        &self,
        pipeline: Pipeline,
    ) -> impl Future<Output = Result<Vec<Result<Value>>>> + Send {
        let (payload, expect, decoder) = pipeline.into_request();
        // An empty pipeline has nothing to send and no reply to wait for.
        let reply = (expect != Expect::Replies(0)).then(|| self.execute(payload, expect));
        async move {
            match reply {
                None => Ok(Vec::new()),
                Some(reply) => {
                    let frames = match reply.await? {
                        Reply::Many(frames) => frames,
                        Reply::One(frame) => vec![frame],
                    };
                    decoder.decode(frames.iter().map(Frame::parse).collect::<Result<_>>()?)
                }
            }
        }
    }
}

impl<E: sealed::Execute> Commands for E {}

/// Sends one command and hands its reply back unparsed, for a decoder that reads it in place;
/// an error reply is [`Error::Server`].
pub(crate) fn send_frame<'a>(
    to: &'a impl sealed::Execute,
    cmd: Cmd,
) -> impl Future<Output = Result<Frame>> + Send + 'a {
    let name = cmd.name_cow();
    let reply = to.execute(Payload::One(cmd), Expect::Replies(1));
    async move { one(reply.await?)?.into_result(&name) }
}

/// Sends commands in one write and hands their replies back unparsed, each error reply as
/// [`Error::Server`] in its place.
pub(crate) fn send_frames<'a>(
    to: &'a impl sealed::Execute,
    cmds: Vec<Cmd>,
) -> impl Future<Output = Result<Vec<Result<Frame>>>> + Send + 'a {
    let names: Vec<_> = cmds.iter().map(Cmd::name_cow).collect();
    let reply =
        (!cmds.is_empty()).then(|| to.execute(Payload::Many(cmds), Expect::Replies(names.len())));
    async move {
        let frames = match reply {
            None => return Ok(Vec::new()),
            Some(reply) => match reply.await? {
                Reply::Many(frames) => frames,
                Reply::One(frame) => vec![frame],
            },
        };
        Ok(frames
            .into_iter()
            .zip(&names)
            .map(|(f, name)| f.into_result(name))
            .collect())
    }
}

/// The single reply of a one-command request.
pub(crate) fn one(reply: Reply) -> Result<Frame> {
    match reply {
        Reply::One(f) => Ok(f),
        Reply::Many(_) => Err(Error::protocol("several replies to one command")),
    }
}
