//! A fake server for malformed-protocol tests: it reads each command the client sends and
//! answers with the next scripted action. Real behaviour is tested against real servers; this
//! exists only to send what no real server would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use redis_model::resp::{DecodeLimits, Decoder, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake server does when a command arrives.
#[derive(Clone, Debug)]
pub enum Action {
    /// Answers with these bytes.
    Reply(Vec<u8>),
    /// Answers with these bytes and closes the connection.
    ReplyAndClose(Vec<u8>),
    /// Closes the connection without answering.
    Close,
    /// Answers with `reply`, then after `delay` sends `later` unasked (while the client waits
    /// for nothing), and goes on serving.
    ReplyThenSendLater {
        /// The answer to the command.
        reply: Vec<u8>,
        /// How long to wait before sending `later`.
        delay: std::time::Duration,
        /// The unsolicited bytes.
        later: Vec<u8>,
    },
    /// Answers like a healthy server would (`HELLO` with a map, `PING` with `PONG`, everything
    /// else with `+OK`).
    Healthy,
}

/// Scripts per connection: the first connection follows `scripts[0]`, the second `scripts[1]`,
/// and so on; once a script runs out, or for connections beyond the scripts, it answers
/// [`Action::Healthy`].
pub struct FakeServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Starts listening on a free loopback port. Call inside a tokio runtime.
    pub async fn start(scripts: Vec<Vec<Action>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let script = scripts.get(n).cloned().unwrap_or_default();
                tokio::spawn(serve(socket, script));
            }
        });
        FakeServer {
            addr,
            accepted,
            task,
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections it accepted.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut socket: TcpStream, script: Vec<Action>) {
    let mut decoder = Decoder::new(DecodeLimits::default());
    let mut buf = BytesMut::new();
    let mut script = script.into_iter();
    loop {
        let command = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(v)) => break v,
                Ok(None) => {}
                Err(_) => return,
            }
            match socket.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let action = script.next().unwrap_or(Action::Healthy);
        let (bytes, close) = match action {
            Action::ReplyThenSendLater {
                reply,
                delay,
                later,
            } => {
                if socket.write_all(&reply).await.is_err() {
                    return;
                }
                tokio::time::sleep(delay).await;
                (later, false)
            }
            Action::Reply(b) => (b, false),
            Action::ReplyAndClose(b) => (b, true),
            Action::Close => return,
            Action::Healthy => (healthy_reply(&command), false),
        };
        if socket.write_all(&bytes).await.is_err() || close {
            return;
        }
    }
}

fn healthy_reply(command: &Value) -> Vec<u8> {
    let name = match command {
        Value::Array(items) => items
            .first()
            .and_then(Value::as_bytes)
            .map(|b| String::from_utf8_lossy(b).to_ascii_uppercase())
            .unwrap_or_default(),
        _ => String::new(),
    };
    match name.as_str() {
        "HELLO" => b"%1\r\n+proto\r\n:3\r\n".to_vec(),
        "PING" => b"+PONG\r\n".to_vec(),
        _ => b"+OK\r\n".to_vec(),
    }
}
