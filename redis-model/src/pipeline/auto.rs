//! Automatic pipelining across tasks: the connections a [`Client`](crate::Client) shares.
//!
//! The known trap is checking a connection out of the pool for every command: each command then
//! has a socket to itself and nothing is coalesced. Instead a client keeps a few connections
//! ("lanes") checked out and sends every ordinary command through one of them; the connection's
//! driver writes whatever commands are queued in one `write`. The pool's checkout is paid when a
//! lane is first filled and when its connection broke or outlived `max_lifetime`, not per
//! command.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::AbortHandle;

use crate::connection::{Connection, Expect, Payload, Pending, Reply};
use crate::error::{Error, Result};
use crate::pool::{self, Pool, PooledConnection};

/// The shared connections of a client.
pub(crate) struct Lanes {
    pool: Pool,
    /// The server's name, for errors.
    node: String,
    lanes: Vec<Lane>,
    next: AtomicUsize,
    max_lifetime: Option<Duration>,
}

struct Lane {
    /// The checked-out connection; `None` until first used or after it broke.
    current: RwLock<Option<Current>>,
    /// Serialises refills, so a broken lane is replaced by one checkout, not one per caller.
    refill: Mutex<()>,
}

impl Lanes {
    pub(crate) fn new(
        pool: Pool,
        node: String,
        count: usize,
        max_lifetime: Option<Duration>,
    ) -> Self {
        let lanes = (0..count.max(1))
            .map(|_| Lane {
                current: RwLock::new(None),
                refill: Mutex::new(()),
            })
            .collect();
        Lanes {
            pool,
            node,
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
    ///
    /// Nothing is sent before the returned future is first polled.
    pub(crate) fn request(&self, payload: Payload, expect: Expect) -> LaneRequest<'_> {
        LaneRequest {
            lanes: self,
            state: State::Start { payload, expect },
        }
    }

    /// Queues on `lane`'s current connection if it is usable; gives the payload back if not.
    fn queue_on_current(
        &self,
        lane: &Lane,
        payload: Payload,
        expect: Expect,
    ) -> std::result::Result<Pending, Payload> {
        let guard = lane.current.read().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(current) if current.is_usable() => current.conn.try_request(payload, expect),
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
            Ok(pending) => pending.wait(&self.node).await,
            Err(payload) => {
                let conn = self.connection(lane).await?;
                match conn.try_request(payload, expect) {
                    Ok(pending) => pending.wait(&self.node).await,
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
        let current = Current::new(fresh, self.max_lifetime);
        // The old connection goes back to the pool, which closes it if broken or expired;
        // requests still in flight on it complete first.
        let old = lane
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace(current);
        drop(old);
        Ok(conn)
    }

    fn usable(&self, lane: &Lane) -> Option<Connection> {
        let guard = lane.current.read().unwrap_or_else(|e| e.into_inner());
        let current = guard.as_ref()?;
        current.is_usable().then(|| (*current.conn).clone())
    }
}

/// A lane's connection, and whether it has outlived `max_lifetime`.
struct Current {
    conn: PooledConnection,
    /// Set by a timer task when the connection reaches `max_lifetime`, so that each command
    /// checks a flag instead of reading the clock.
    expired: Arc<AtomicBool>,
    /// That task, stopped when the lane lets go of the connection.
    timer: Option<AbortHandle>,
}

impl Current {
    fn new(conn: PooledConnection, max_lifetime: Option<Duration>) -> Self {
        let expired = Arc::new(AtomicBool::new(false));
        let timer = max_lifetime.map(|max| {
            let left = max.saturating_sub(conn.age());
            let flag = expired.clone();
            tokio::spawn(async move {
                tokio::time::sleep(left).await;
                flag.store(true, Ordering::Relaxed);
            })
            .abort_handle()
        });
        Current {
            conn,
            expired,
            timer,
        }
    }

    /// Neither broken nor past `max_lifetime`.
    fn is_usable(&self) -> bool {
        !self.conn.is_broken() && !self.expired.load(Ordering::Relaxed)
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        if let Some(timer) = &self.timer {
            timer.abort();
        }
    }
}

/// The future of [`Lanes::request`]. Written out by hand, not as an `async fn`, so that it holds
/// the payload once and is only as large as its largest state: the command before it is queued,
/// or the [`Pending`] reply after (the rare refill is boxed). Routing and the command methods
/// wrap it without copying the payload again.
pub(crate) struct LaneRequest<'a> {
    lanes: &'a Lanes,
    state: State<'a>,
}

enum State<'a> {
    Start { payload: Payload, expect: Expect },
    Queued(Pending),
    Refilling(Pin<Box<dyn Future<Output = Result<Reply>> + Send + 'a>>),
    Done,
}

impl Future for LaneRequest<'_> {
    type Output = Result<Reply>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        let this = &mut *self;
        let lanes = this.lanes;
        let state = &mut this.state;
        if let State::Start { .. } = state {
            let State::Start { payload, expect } = std::mem::replace(state, State::Done) else {
                unreachable!("matched above")
            };
            let lane = lanes.pick();
            // The common case: the lane's connection is healthy, and the request goes into its
            // driver's queue under the read lock, with no handle cloned and nothing awaited.
            *state = match lanes.queue_on_current(lane, payload, expect) {
                Ok(pending) => State::Queued(pending),
                // Refilling awaits the pool's checkout, whose future is large; boxed, it does
                // not enlarge the future of every command.
                Err(payload) => {
                    State::Refilling(Box::pin(lanes.request_after_refill(lane, payload, expect)))
                }
            };
        }
        let outcome = match state {
            State::Queued(pending) => pending.poll_reply(cx, &lanes.node),
            State::Refilling(refill) => refill.as_mut().poll(cx),
            State::Start { .. } | State::Done => panic!("LaneRequest polled after completion"),
        };
        if outcome.is_ready() {
            *state = State::Done;
        }
        outcome
    }
}
