//! The connection pool: a bb8 [`ManageConnection`](bb8::ManageConnection) for [`Connection`].
//!
//! A checkout hands out a connection for exclusive use: `WATCH` transactions, blocking
//! commands, anything that sets per-connection state. Ordinary commands do not check out per
//! command; the [`Client`](crate::Client) keeps its shared, auto-pipelined connections checked
//! out and pays for a checkout only when one of them must be replaced.

use std::future::Future;

use crate::commands::{cmd, sealed::Execute, Commands};
use crate::config::Config;
use crate::connection::{Connection, Expect, Payload, Reply};
use crate::error::{Error, Result};
use crate::resp::Value;

/// A pool of connections to one server.
pub type Pool = bb8::Pool<ConnectionManager>;

/// A connection checked out of a [`Pool`]; it goes back when dropped.
pub type PooledConnection = bb8::PooledConnection<'static, ConnectionManager>;

/// Opens, checks and retires [`Connection`]s for a [`Pool`].
#[derive(Debug)]
pub struct ConnectionManager {
    config: Config,
}

impl ConnectionManager {
    /// A manager opening connections as `config` says.
    pub fn new(config: Config) -> Self {
        ConnectionManager { config }
    }
}

impl bb8::ManageConnection for ConnectionManager {
    type Connection = Connection;
    type Error = Error;

    async fn connect(&self) -> Result<Connection> {
        Connection::connect(&self.config).await
    }

    /// Runs on checkout. A connection in use recently is trusted as it is, so checkouts under
    /// load add no round trip; one idle longer than `health_check_after_idle` must answer `PING`.
    async fn is_valid(&self, conn: &mut Connection) -> Result<()> {
        if conn.is_broken() {
            return Err(Error::ConnectionClosed {
                node: conn.node().to_owned(),
                sent: false,
            });
        }
        if conn.idle_for() >= self.config.pool.health_check_after_idle {
            conn.send::<Value>(cmd("PING")).await?;
        }
        Ok(())
    }

    /// A connection that saw an I/O or protocol error is never handed out again.
    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.is_broken()
    }
}

/// Builds a pool with the settings of `config.pool`. Opens `min_idle` connections first.
pub async fn build(config: &Config) -> Result<Pool> {
    let p = &config.pool;
    let builder = bb8::Pool::builder()
        .max_size(p.max_size)
        .min_idle(p.min_idle)
        .max_lifetime(p.max_lifetime)
        .idle_timeout(p.idle_timeout)
        .connection_timeout(p.connection_timeout)
        .retry_connection(false);
    builder.build(ConnectionManager::new(config.clone())).await
}

/// Checks a connection out of `pool`, for exclusive use.
pub(crate) async fn checkout(pool: &Pool) -> Result<PooledConnection> {
    // bb8 hands a failed connect to its error sink, never to the caller waiting for the
    // connection, who would see only `PoolTimedOut` once `connection_timeout` passed: a server
    // that is down or a wrong password would look like a busy pool. So when no connection is
    // idle and there is room for one, connect here, where the error reaches the caller.
    let state = pool.state();
    if state.idle_connections == 0 && state.connections < pool.config().max_size {
        let conn = pool.dedicated_connection().await?;
        // If another checkout filled the pool meanwhile, this connection is closed and the
        // wait below is served by theirs.
        let _ = pool.add(conn);
    }
    pool.get_owned().await.map_err(|e| match e {
        bb8::RunError::User(e) => e,
        bb8::RunError::TimedOut => Error::PoolTimedOut,
    })
}

impl Execute for PooledConnection {
    fn execute(
        &self,
        payload: Payload,
        expect: Expect,
    ) -> impl Future<Output = Result<Reply>> + Send {
        (**self).execute(payload, expect)
    }
}
