//! Automatic pipelining across tasks: the connections a [`Client`](crate::Client) shares.
//!
//! The known trap is checking a connection out of the pool for every command: each command then
//! has a socket to itself and nothing is coalesced. Instead a client keeps a few connections
//! ("lanes") checked out and sends every ordinary command through one of them; the connection's
//! driver writes whatever commands are queued in one `write`. The pool's checkout is paid when a
//! lane is first filled and when its connection broke or outlived `max_lifetime`, not per
//! command.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use tokio::sync::Mutex;

use crate::connection::{Connection, Expect, Payload, Reply};
use crate::error::{Error, Result};
use crate::pool::{self, Pool, PooledConnection};

/// The shared connections of a client.
pub(crate) struct Lanes {
    pool: Pool,
    lanes: Vec<Lane>,
    next: AtomicUsize,
    max_lifetime: Option<std::time::Duration>,
}

struct Lane {
    /// The checked-out connection; `None` until first used or after it broke.
    current: RwLock<Option<PooledConnection>>,
    /// Serialises refills, so a broken lane is replaced by one checkout, not one per caller.
    refill: Mutex<()>,
}

impl Lanes {
    pub(crate) fn new(pool: Pool, count: usize, max_lifetime: Option<std::time::Duration>) -> Self {
        let lanes = (0..count.max(1))
            .map(|_| Lane {
                current: RwLock::new(None),
                refill: Mutex::new(()),
            })
            .collect();
        Lanes {
            pool,
            lanes,
            next: AtomicUsize::new(0),
            max_lifetime,
        }
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Sends a request on a shared connection. A request that certainly never reached the
    /// server (the connection had already closed) is sent once more on a fresh connection.
    pub(crate) async fn request(&self, payload: Payload, expect: Expect) -> Result<Reply> {
        let lane = self.pick();
        // The common case: the lane's connection is healthy, and the request goes into its
        // driver's queue under the read lock, with no handle cloned and nothing awaited.
        let payload = match self.queue_on_current(lane, payload, expect) {
            Ok(pending) => return pending.await,
            Err(payload) => payload,
        };
        // Refilling awaits the pool's checkout, whose future is large; boxed, it does not
        // enlarge the future of every command, which is moved on each call.
        Box::pin(self.request_after_refill(lane, payload, expect)).await
    }

    /// Queues on `lane`'s current connection if it is usable; gives the payload back if not.
    fn queue_on_current(
        &self,
        lane: &Lane,
        payload: Payload,
        expect: Expect,
    ) -> std::result::Result<
        impl std::future::Future<Output = Result<Reply>> + Send + 'static,
        Payload,
    > {
        let guard = lane.current.read().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(conn) if self.is_usable(conn) => conn.try_request(payload, expect),
            _ => Err(payload),
        }
    }

    /// The slow path of [`Lanes::request`]: the lane is empty, broken, expired, or its queue
    /// just closed.
    async fn request_after_refill(
        &self,
        lane: &Lane,
        payload: Payload,
        expect: Expect,
    ) -> Result<Reply> {
        let conn = self.connection(lane).await?;
        // `try_request` consumes the payload only when it reaches the driver's queue; a closed
        // queue gives it back.
        match conn.try_request(payload, expect) {
            Ok(pending) => pending.await,
            Err(payload) => {
                let conn = self.connection(lane).await?;
                match conn.try_request(payload, expect) {
                    Ok(pending) => pending.await,
                    Err(_) => Err(Error::ConnectionClosed {
                        node: conn.node().to_owned(),
                        sent: false,
                    }),
                }
            }
        }
    }

    fn pick(&self) -> &Lane {
        if self.lanes.len() == 1 {
            return &self.lanes[0];
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.lanes.len();
        &self.lanes[i]
    }

    /// A healthy connection of `lane`, refilling it if needed.
    async fn connection(&self, lane: &Lane) -> Result<Connection> {
        if let Some(conn) = self.usable(lane) {
            return Ok(conn);
        }
        let _refilling = lane.refill.lock().await;
        // Another caller may have refilled it while this one waited.
        if let Some(conn) = self.usable(lane) {
            return Ok(conn);
        }
        let fresh = pool::checkout(&self.pool).await?;
        let conn = (*fresh).clone();
        // The old connection goes back to the pool, which closes it if broken or expired;
        // requests still in flight on it complete first.
        let old = lane
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace(fresh);
        drop(old);
        Ok(conn)
    }

    fn usable(&self, lane: &Lane) -> Option<Connection> {
        let guard = lane.current.read().unwrap_or_else(|e| e.into_inner());
        let conn = guard.as_ref()?;
        self.is_usable(conn).then(|| (**conn).clone())
    }

    /// Neither broken nor past `max_lifetime`.
    fn is_usable(&self, conn: &Connection) -> bool {
        let expired = self.max_lifetime.is_some_and(|max| conn.age() >= max);
        !conn.is_broken() && !expired
    }
}
