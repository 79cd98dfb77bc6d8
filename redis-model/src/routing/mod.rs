//! Where a command goes: the one seam between the API and the topology.
//!
//! A single server ([`standalone`]) or a Redis Cluster ([`cluster`]: slot routing,
//! `MOVED`/`ASK`, per-node pipelines); Sentinel (following failovers) slots in beside them as a
//! further variant of [`Router`]. Everything above this module sends a request to the router and
//! never learns which node served it.

pub(crate) mod cluster;
pub(crate) mod standalone;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::connection::{Expect, Payload, Reply};
use crate::error::Result;
use crate::pipeline::auto::LaneRequest;
use crate::pool::Pool;

/// The topology a client talks to.
pub(crate) enum Router {
    Standalone(standalone::Standalone),
    Cluster(cluster::Cluster),
}

impl Router {
    /// Sends a request to the node that serves it. A plain function returning the topology's
    /// future, not an `async fn`: each `async` layer would keep its own copy of the payload in
    /// every command's future.
    pub(crate) fn request(&self, payload: Payload, expect: Expect) -> Request<'_> {
        match self {
            Router::Standalone(s) => Request::Standalone(s.request(payload, expect)),
            Router::Cluster(c) => Request::Cluster(c.request(payload, expect)),
        }
    }

    /// The hash tags a model's index names carry, one per server holding documents under
    /// `key_prefix`: none on one server (`""`, names unchanged), one per master on a cluster
    /// (see [`cluster::Cluster::search_tags`]).
    pub(crate) fn search_tags(&self, key_prefix: &str) -> Vec<String> {
        match self {
            Router::Standalone(_) => vec![String::new()],
            Router::Cluster(c) => c.search_tags(key_prefix),
        }
    }

    /// One slot per server holding keys, to route a keyless command (`SCAN`) to each of them:
    /// `None` alone on one server.
    pub(crate) fn key_slots(&self) -> Vec<Option<u16>> {
        match self {
            Router::Standalone(_) => vec![None],
            Router::Cluster(c) => {
                let slots: Vec<Option<u16>> = c
                    .master_tags()
                    .into_iter()
                    .map(|(_, slot)| Some(slot))
                    .collect();
                // No master serving slots now: anywhere, where the command will tell.
                if slots.is_empty() {
                    vec![None]
                } else {
                    slots
                }
            }
        }
    }

    /// The pool of the server holding `command`'s keys: the one pool on one server.
    pub(crate) async fn pool_for(&self, command: &crate::commands::Cmd) -> Result<Pool> {
        match self {
            Router::Standalone(s) => Ok(s.pool().clone()),
            Router::Cluster(c) => c.pool_for(command).await,
        }
    }

    /// The pool exclusive connections come from.
    pub(crate) fn pool(&self) -> &Pool {
        match self {
            Router::Standalone(s) => s.pool(),
            Router::Cluster(c) => c.pool(),
        }
    }
}

/// The future of [`Router::request`].
pub(crate) enum Request<'a> {
    Standalone(LaneRequest<'a>),
    Cluster(cluster::ClusterRequest<'a>),
}

impl Future for Request<'_> {
    type Output = Result<Reply>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        match self.get_mut() {
            Request::Standalone(r) => Pin::new(r).poll(cx),
            Request::Cluster(r) => r.as_mut().poll(cx),
        }
    }
}
