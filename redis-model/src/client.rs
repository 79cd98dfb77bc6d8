//! [`Client`]: the handle applications hold.

use std::future::Future;
use std::sync::Arc;

use crate::commands::{sealed::Execute, Subscription, ToArg, Watched};
use crate::config::Config;
use crate::connection::{Expect, Payload, Reply};
use crate::error::Result;
use crate::pool::{self, Pool, PooledConnection};
use crate::routing::{cluster::Cluster, standalone::Standalone, Router};

/// A client for one Redis deployment: cheap to clone, safe to share between tasks.
///
/// Commands sent concurrently from many tasks are pipelined automatically over the client's
/// shared connections; [`Client::exclusive`] checks a connection out of the pool for commands
/// that need one to themselves.
///
/// ```no_run
/// # async fn demo() -> redis_model::Result<()> {
/// use redis_model::prelude::*;
/// let client = Client::connect("redis://127.0.0.1:6379").await?;
/// client.set("k", "v").await?;
/// assert_eq!(client.get::<String>("k").await?.as_deref(), Some("v"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    router: Router,
}

impl Client {
    /// Connects to the server, or the cluster, a URL names (see [`Config::from_url`]).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::with_config(Config::from_url(url)?).await
    }

    /// Connects with explicit settings. The pool opens its `min_idle` connections here; the
    /// first command opens the shared connection if none is idle.
    pub async fn with_config(config: Config) -> Result<Self> {
        let router = match config.cluster {
            Some(_) => Router::Cluster(Cluster::new(&config).await?),
            None => Router::Standalone(Standalone::new(&config).await?),
        };
        Ok(Client {
            inner: Arc::new(Inner { config, router }),
        })
    }

    /// The settings the client was made with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        self.inner.router.pool()
    }

    /// Checks a connection out of the pool for exclusive use (blocking commands, per-connection
    /// state). It returns to the pool when dropped.
    pub async fn exclusive(&self) -> Result<PooledConnection> {
        pool::checkout(self.pool()).await
    }

    /// Checks a connection out and `WATCH`es `keys` on it; see [`Watched`]. On a cluster the
    /// connection is to the master serving the keys, which must share a slot.
    pub async fn watch(&self, keys: impl ToArg) -> Result<Watched> {
        let watch = crate::cmd("WATCH").key(keys);
        let pool = self.inner.router.pool_for(&watch).await?;
        Watched::new(pool::checkout(&pool).await?, watch).await
    }

    /// The hash tags a model's index names carry (see [`Router::search_tags`]).
    pub(crate) fn search_tags(&self, key_prefix: &str) -> Vec<String> {
        self.inner.router.search_tags(key_prefix)
    }

    /// Opens a connection dedicated to pub/sub.
    pub async fn subscriber(&self) -> Result<Subscription> {
        Subscription::open(&self.inner.config).await
    }
}

impl Execute for Client {
    fn execute(
        &self,
        payload: Payload,
        expect: Expect,
    ) -> impl Future<Output = Result<Reply>> + Send {
        self.inner.router.request(payload, expect)
    }

    fn key_slots(&self) -> Vec<Option<u16>> {
        self.inner.router.key_slots()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.inner.config.addr)
            .finish_non_exhaustive()
    }
}
