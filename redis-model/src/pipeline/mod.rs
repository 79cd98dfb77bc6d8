//! Pipelines: many commands in one write.
//!
//! - [`Pipeline`] (`explicit.rs`): commands the caller batches, each with its own outcome, or
//!   wrapped in `MULTI`/`EXEC` with [`Pipeline::atomic`].
//! - automatic pipelining (`auto.rs`): single commands from many tasks coalesced by the shared
//!   connections of a [`Client`](crate::Client).

pub(crate) mod auto;
mod explicit;

pub use explicit::{pipe, Pipeline};
