//! `WATCH` transactions: optimistic locking over an exclusive connection.
//!
//! Atomic batches without `WATCH` need no exclusive connection: see
//! [`Pipeline::atomic`](crate::Pipeline::atomic).

use std::future::Future;

use super::{cmd, sealed::Execute, Cmd, Commands};
use crate::connection::{Expect, Payload, Reply};
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::pool::PooledConnection;
use crate::resp::Value;

/// A connection checked out of the pool with keys `WATCH`ed on it: read them, then
/// [`exec`](Watched::exec) an atomic pipeline, which fails with
/// [`Error::TransactionAborted`](crate::Error::TransactionAborted) if any watched key changed meanwhile.
///
/// ```no_run
/// # async fn demo(client: redis_model::Client) -> redis_model::Result<()> {
/// use redis_model::prelude::*;
/// let tx = client.watch(&["balance"]).await?;
/// let balance: i64 = tx.get("balance").await?.unwrap_or(0);
/// let result = tx.exec(Pipeline::new().atomic().cmd(cmd("SET").arg("balance").arg(balance + 10))).await;
/// match result {
///     Err(Error::TransactionAborted) => { /* someone else wrote it: retry */ }
///     other => { other?; }
/// }
/// # Ok(()) }
/// ```
pub struct Watched {
    conn: Option<PooledConnection>,
}

impl Watched {
    /// Sends `watch` (the `WATCH` of the keys) on `conn`.
    pub(crate) async fn new(conn: PooledConnection, watch: Cmd) -> Result<Self> {
        conn.send::<()>(watch).await?;
        Ok(Watched { conn: Some(conn) })
    }

    /// Runs `pipeline` as `MULTI`/`EXEC` (whether or not it was made atomic) and ends the
    /// transaction.
    pub async fn exec(mut self, pipeline: Pipeline) -> Result<Vec<Result<Value>>> {
        let conn = self.conn.as_ref().expect("present until exec or drop");
        // The connection stays in `self` until EXEC has answered: if this future is dropped
        // first, the driver may never send MULTI/EXEC (a request whose caller left is
        // skipped), and `Drop` must still queue the UNWATCH.
        let outcome = conn.pipeline(pipeline.atomic()).await;
        // EXEC answered, which cleared the watch whatever its outcome: no UNWATCH is owed.
        // A connection error also needs none: the connection is broken and never reused.
        self.conn = None;
        outcome
    }
}

impl Execute for Watched {
    fn execute(
        &self,
        payload: Payload,
        expect: Expect,
    ) -> impl Future<Output = Result<Reply>> + Send {
        let conn = self.conn.as_ref().expect("present until exec or drop");
        conn.execute(payload, expect)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(conn) = &self.conn {
            // Queued before the connection returns to the pool, so its next user starts clean.
            conn.send_and_forget(cmd("UNWATCH"));
        }
    }
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched").finish_non_exhaustive()
    }
}
