//! Where a command goes: the one seam between the API and the topology.
//!
//! Today there is one topology, a single server ([`standalone`]). Cluster (slot routing,
//! `MOVED`/`ASK`, per-node pipelines) and Sentinel (following failovers) slot in beside it as
//! further variants of [`Router`]: everything above this module sends a request to the router
//! and never learns which node served it.

pub(crate) mod standalone;

use std::future::Future;

use crate::connection::{Expect, Payload, Reply};
use crate::error::Result;
use crate::pool::Pool;

/// The topology a client talks to.
pub(crate) enum Router {
    Standalone(standalone::Standalone),
}

impl Router {
    /// Sends a request to the node that serves it. A plain function returning the topology's
    /// future, not an `async fn`: each `async` layer would keep its own copy of the payload in
    /// every command's future.
    pub(crate) fn request(
        &self,
        payload: Payload,
        expect: Expect,
    ) -> impl Future<Output = Result<Reply>> + Send + '_ {
        match self {
            Router::Standalone(s) => s.request(payload, expect),
        }
    }

    /// The pool exclusive connections come from.
    pub(crate) fn pool(&self) -> &Pool {
        match self {
            Router::Standalone(s) => s.pool(),
        }
    }
}
