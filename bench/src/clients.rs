//! The clients under test, behind one enum, and the three operations every workload is made of.
//!
//! Each client is used the way its documentation recommends for a server shared by many tasks:
//!
//! | name | what it is |
//! |---|---|
//! | `redis-model` | one [`redis_model::Client`], cloned into every task (auto-pipelined over one socket) |
//! | `redis-rs mux` | one `redis::aio::MultiplexedConnection`, cloned into every task |
//! | `redis-rs ×10` | ten multiplexed connections; task *i* uses connection *i* mod 10 |
//! | `fred` | one `fred` client (auto-pipelining on, its default) |
//! | `fred pool` | a `fred` round-robin pool of ten clients; each command takes the next one |

use std::future::Future;

use bytes::Bytes;
use fred::prelude::{ClientLike, KeysInterface};
use redis_model::prelude::{Commands, StringCommands};

/// Errors of any client, with the client's own message.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
/// A result of a benchmark step.
pub type BenchResult<T> = Result<T, BenchError>;

/// Connections the pooled variants open.
pub const POOL_SIZE: usize = 10;

/// A client under test, connected.
pub enum Subject {
    Model(redis_model::Client),
    RedisMux(redis::aio::MultiplexedConnection),
    RedisConns(Vec<redis::aio::MultiplexedConnection>),
    Fred(fred::prelude::Client),
    FredPool(fred::prelude::Pool),
}

/// The names, in the order clients appear in the tables; `redis-model` first.
pub const NAMES: [&str; 5] = [
    "redis-model",
    "redis-rs mux",
    "redis-rs ×10",
    "fred",
    "fred pool",
];

impl Subject {
    /// Connects the client called `name` (one of [`NAMES`]) to `url`.
    pub async fn connect(name: &str, url: &str) -> BenchResult<Self> {
        Ok(match name {
            "redis-model" => Subject::Model(redis_model::Client::connect(url).await?),
            "redis-rs mux" => {
                let client = redis::Client::open(url)?;
                Subject::RedisMux(client.get_multiplexed_async_connection().await?)
            }
            "redis-rs ×10" => {
                let client = redis::Client::open(url)?;
                let mut conns = Vec::with_capacity(POOL_SIZE);
                for _ in 0..POOL_SIZE {
                    conns.push(client.get_multiplexed_async_connection().await?);
                }
                Subject::RedisConns(conns)
            }
            "fred" => {
                let config = fred::prelude::Config::from_url(url)?;
                let client = fred::prelude::Builder::from_config(config).build()?;
                // The connection task runs until `quit`; its handle is not needed.
                let _task = client.init().await?;
                Subject::Fred(client)
            }
            "fred pool" => {
                let config = fred::prelude::Config::from_url(url)?;
                let pool = fred::prelude::Builder::from_config(config).build_pool(POOL_SIZE)?;
                let _tasks = pool.init().await?;
                Subject::FredPool(pool)
            }
            other => return Err(format!("unknown client `{other}`").into()),
        })
    }

    /// Spawns the tokio task number `task` of a cell, running `body` on this client's handle
    /// for that task. The body is compiled once per handle type, so each client's futures are
    /// its own size, not the size of the largest.
    pub fn spawn<B: TaskBody>(&self, task: usize, body: B) -> tokio::task::JoinHandle<B::Output> {
        match self {
            Subject::Model(c) => tokio::spawn(body.run(c.clone())),
            Subject::RedisMux(c) => tokio::spawn(body.run(c.clone())),
            Subject::RedisConns(cs) => tokio::spawn(body.run(cs[task % cs.len()].clone())),
            Subject::Fred(c) => tokio::spawn(body.run(c.clone())),
            Subject::FredPool(p) => tokio::spawn(body.run(p.clone())),
        }
    }

    /// Closes connections that need an explicit goodbye.
    pub async fn close(self) {
        match self {
            Subject::Fred(c) => {
                let _ = c.quit().await;
            }
            Subject::FredPool(p) => {
                let _ = p.quit().await;
            }
            Subject::Model(_) | Subject::RedisMux(_) | Subject::RedisConns(_) => {}
        }
    }
}

/// What a task does with its handle, generic over the handle's type.
pub trait TaskBody: Send + 'static {
    type Output: Send + 'static;
    fn run<H: Ops>(self, handle: H) -> impl Future<Output = Self::Output> + Send + 'static;
}

/// The operations of the workloads, on one task's handle of a client.
pub trait Ops: Send + 'static {
    /// `GET key`; returns the value's length, so a missing key is noticed.
    fn get(&mut self, key: &str) -> impl Future<Output = BenchResult<usize>> + Send;

    /// `SET key value`.
    fn set(&mut self, key: &str, value: &Bytes) -> impl Future<Output = BenchResult<()>> + Send;

    /// One pipeline of `SET set_keys[i] value` and `GET get_keys[i]`, alternating; returns the
    /// number of replies.
    fn pipeline(
        &mut self,
        set_keys: &[String],
        get_keys: &[String],
        value: &Bytes,
    ) -> impl Future<Output = BenchResult<usize>> + Send;
}

fn length(key: &str, value: Option<Bytes>) -> BenchResult<usize> {
    value
        .map(|v| v.len())
        .ok_or_else(|| format!("GET {key}: no such key").into())
}

impl Ops for redis_model::Client {
    async fn get(&mut self, key: &str) -> BenchResult<usize> {
        length(key, StringCommands::get(self, key).await?)
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> BenchResult<()> {
        Ok(StringCommands::set(self, key, value).await?)
    }

    async fn pipeline(
        &mut self,
        set_keys: &[String],
        get_keys: &[String],
        value: &Bytes,
    ) -> BenchResult<usize> {
        let mut p = redis_model::pipe();
        for (s, g) in set_keys.iter().zip(get_keys) {
            p.add(redis_model::cmd("SET").arg(s).arg(value));
            p.add(redis_model::cmd("GET").arg(g));
        }
        let replies = Commands::pipeline(self, p).await?;
        for r in &replies {
            if let Err(e) = r {
                return Err(e.to_string().into());
            }
        }
        Ok(replies.len())
    }
}

impl Ops for redis::aio::MultiplexedConnection {
    async fn get(&mut self, key: &str) -> BenchResult<usize> {
        let value = redis::cmd("GET")
            .arg(key)
            .query_async::<Option<Vec<u8>>>(self)
            .await?;
        length(key, value.map(Bytes::from))
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> BenchResult<()> {
        Ok(redis::cmd("SET")
            .arg(key)
            .arg(&value[..])
            .query_async::<()>(self)
            .await?)
    }

    async fn pipeline(
        &mut self,
        set_keys: &[String],
        get_keys: &[String],
        value: &Bytes,
    ) -> BenchResult<usize> {
        let mut p = redis::pipe();
        for (s, g) in set_keys.iter().zip(get_keys) {
            p.cmd("SET").arg(s).arg(&value[..]).cmd("GET").arg(g);
        }
        Ok(p.query_async::<Vec<redis::Value>>(self).await?.len())
    }
}

impl Ops for fred::prelude::Client {
    async fn get(&mut self, key: &str) -> BenchResult<usize> {
        length(key, KeysInterface::get(self, key).await?)
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> BenchResult<()> {
        Ok(KeysInterface::set(self, key, value.clone(), None, None, false).await?)
    }

    async fn pipeline(
        &mut self,
        set_keys: &[String],
        get_keys: &[String],
        value: &Bytes,
    ) -> BenchResult<usize> {
        fred_pipeline(self, set_keys, get_keys, value).await
    }
}

impl Ops for fred::prelude::Pool {
    async fn get(&mut self, key: &str) -> BenchResult<usize> {
        length(key, KeysInterface::get(self, key).await?)
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> BenchResult<()> {
        Ok(KeysInterface::set(self, key, value.clone(), None, None, false).await?)
    }

    async fn pipeline(
        &mut self,
        set_keys: &[String],
        get_keys: &[String],
        value: &Bytes,
    ) -> BenchResult<usize> {
        fred_pipeline(self.next(), set_keys, get_keys, value).await
    }
}

async fn fred_pipeline(
    client: &fred::prelude::Client,
    set_keys: &[String],
    get_keys: &[String],
    value: &Bytes,
) -> BenchResult<usize> {
    let p = client.pipeline();
    for (s, g) in set_keys.iter().zip(get_keys) {
        // Queuing a command answers at once; the replies come from `all`.
        p.set::<(), _, _>(s.as_str(), value.clone(), None, None, false)
            .await?;
        p.get::<(), _>(g.as_str()).await?;
    }
    let replies: Vec<fred::prelude::Value> = p.all().await?;
    Ok(replies.len())
}
