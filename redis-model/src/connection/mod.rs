//! One connection to one server: the socket, its driver task, the handshake.
//!
//! A [`Connection`] is a handle to a driver task that owns the socket (see `driver.rs` for how
//! it pipelines). Handles are cheap to clone and may be used from many tasks at once: their
//! commands are coalesced into shared writes.

mod buffer;
mod driver;
mod handshake;
mod tls;
mod transport;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::commands::sealed::Execute;
use crate::commands::Cmd;
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::resp::Value;

pub(crate) use driver::{Expect, Payload, Reply};
pub use tls::TlsConfig;

use driver::{Driver, Request, Shared};
use transport::Transport;

/// A connection to one Redis server.
///
/// ```no_run
/// # async fn demo() -> redis_model::Result<()> {
/// use redis_model::{cmd, Config, Connection};
/// let conn = Connection::connect(&Config::from_url("redis://127.0.0.1:6379")?).await?;
/// use redis_model::Commands;
/// let pong: String = conn.send(cmd("PING")).await?;
/// assert_eq!(pong, "PONG");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Connection {
    requests: mpsc::UnboundedSender<Request>,
    shared: Arc<Shared>,
    protocol: Protocol,
    command_timeout: Option<Duration>,
}

impl Connection {
    /// Connects, performs the handshake (`HELLO`/`AUTH`/`SETNAME`/`SELECT`) and starts the
    /// driver task, all within `config.connect_timeout`.
    pub async fn connect(config: &Config) -> Result<Self> {
        Self::connect_inner(config, None).await
    }

    /// Connects with a sink for push frames (pub/sub messages, invalidations).
    pub(crate) async fn connect_with_push(
        config: &Config,
        push: mpsc::UnboundedSender<Value>,
    ) -> Result<Self> {
        Self::connect_inner(config, Some(push)).await
    }

    async fn connect_inner(
        config: &Config,
        push: Option<mpsc::UnboundedSender<Value>>,
    ) -> Result<Self> {
        let node = config.addr.to_string();
        let setup = async {
            let transport = Transport::open(config, &node).await?;
            let (tx, rx) = mpsc::unbounded_channel();
            let shared = Arc::new(Shared::new(node.clone()));
            tokio::spawn(Driver::new(
                transport,
                rx,
                shared.clone(),
                config.limits,
                push,
            ));
            let mut conn = Connection {
                requests: tx,
                shared,
                protocol: config.protocol,
                command_timeout: Some(config.connect_timeout),
            };
            conn.protocol = handshake::run(&conn, config).await?;
            conn.command_timeout = config.command_timeout;
            Ok(conn)
        };
        match tokio::time::timeout(config.connect_timeout, setup).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                command: "connect".into(),
                after: config.connect_timeout,
            }),
        }
    }

    /// Queues a request and waits for its replies, within the command timeout.
    pub(crate) async fn request(&self, payload: Payload, expect: Expect) -> Result<Reply> {
        match self.try_request(payload, expect) {
            Ok(pending) => pending.wait(self.node()).await,
            Err(_) => Err(Error::ConnectionClosed {
                node: self.shared.node.clone(),
                sent: false,
            }),
        }
    }

    /// Queues a request, synchronously; the returned future waits for its replies within the
    /// command timeout. A connection that has closed gives the payload back, unsent.
    pub(crate) fn try_request(
        &self,
        payload: Payload,
        expect: Expect,
    ) -> std::result::Result<Pending, Payload> {
        let command = match &payload {
            Payload::One(c) => c.name_cow(),
            Payload::Many(cs) => cs.first().map_or("PIPELINE".into(), Cmd::name_cow),
        };
        let (tx, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError(request)) = self.requests.send(Request {
            payload,
            expect,
            reply: Some(tx),
        }) {
            return Err(request.payload);
        }
        Ok(Pending {
            rx,
            timeout: self.command_timeout,
            sleep: None,
            command,
        })
    }

    /// Queues a command whose reply nobody waits for (`UNWATCH` from a destructor).
    pub(crate) fn send_and_forget(&self, cmd: Cmd) {
        let _ = self.requests.send(Request {
            payload: Payload::One(cmd),
            expect: Expect::Replies(1),
            reply: None,
        });
    }

    /// The server's address.
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    /// The protocol the handshake settled on.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Whether the connection saw an I/O or protocol error, or closed; it serves nothing more.
    pub fn is_broken(&self) -> bool {
        self.shared.is_broken()
    }

    /// How long since the connection last had a request to serve (zero while it has one).
    pub fn idle_for(&self) -> Duration {
        self.shared.idle_for()
    }

    /// How long since the connection was opened.
    pub fn age(&self) -> Duration {
        self.shared.age()
    }
}

/// The answer to a queued request: waits for the driver's reply, within the command timeout.
///
/// A plain struct rather than an `async` block, so that it is small, `Unpin`, and can be a
/// state of the futures above it without pinning. It holds no handle on the connection (whose
/// shared counters every command would otherwise touch from every thread): the caller names the
/// node when it polls. Dropping it abandons the reply, never the command: the driver still reads
/// the reply and throws it away.
pub(crate) struct Pending {
    rx: oneshot::Receiver<Result<Reply>>,
    timeout: Option<Duration>,
    /// The timeout's timer, started at the first poll that finds no reply yet.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// For a timeout error.
    command: Cow<'static, str>,
}

impl Pending {
    /// Polls for the reply; `node` is the server's name, for the error should the driver be
    /// gone without answering.
    pub(crate) fn poll_reply(&mut self, cx: &mut Context<'_>, node: &str) -> Poll<Result<Reply>> {
        if let Poll::Ready(outcome) = Pin::new(&mut self.rx).poll(cx) {
            // The driver answers every request, even when it is dropped; no answer means the
            // runtime tore it down mid-poll.
            return Poll::Ready(outcome.unwrap_or_else(|_| {
                Err(Error::ConnectionClosed {
                    node: node.to_owned(),
                    sent: true,
                })
            }));
        }
        let Some(after) = self.timeout else {
            return Poll::Pending;
        };
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::Timeout {
                command: std::mem::take(&mut self.command).into_owned(),
                after,
            })),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits for the reply.
    pub(crate) async fn wait(mut self, node: &str) -> Result<Reply> {
        std::future::poll_fn(|cx| self.poll_reply(cx, node)).await
    }
}

impl Execute for Connection {
    fn execute(
        &self,
        payload: Payload,
        expect: Expect,
    ) -> impl Future<Output = Result<Reply>> + Send {
        self.request(payload, expect)
    }
}
