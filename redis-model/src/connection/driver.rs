//! The task that owns a connection's socket, and the auto-pipelining it does.
//!
//! Callers never touch the socket. Each [`Request`] goes into an unbounded channel; the driver,
//! a hand-written future polled by tokio, repeats three steps until none makes progress:
//!
//! 1. drain every queued request into one write buffer (so commands sent concurrently by many
//!    tasks leave in one `write`, the automatic pipelining fred and redis-rs's multiplexed
//!    connection do) and remember each in order;
//! 2. write as much of the buffer as the socket takes; but first yield once, so that the tasks
//!    the last replies woke queue their next commands behind the first (see
//!    [`Driver::deferred`]); and while the server owes many replies and nothing was read since
//!    the last write, let new commands gather until the next read, so that under load they
//!    leave in a few large writes rather than one small write each;
//! 3. read what the socket has, decode every complete frame, and hand each reply to the oldest
//!    request still waiting (Redis answers in order). Push frames go to the push sink instead.
//!
//! Reading and writing are interleaved in one task, so a long write never delays replies and
//! no lock guards the socket. Both buffers grow with the traffic and are given back when the
//! connection turns idle (see `buffer.rs`).
//!
//! A caller that stops waiting (timeout, dropped future) leaves its request in the queue: its
//! reply is still read and thrown away, so the connection never falls out of step. An I/O or
//! protocol error fails every waiting request, marks the connection broken (the pool never hands
//! it out again) and ends the task.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes};
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, oneshot};

use super::buffer::Buffer;
use super::transport::Transport;
use crate::commands::Cmd;
use crate::error::{Error, Result};
use crate::resp::{DecodeLimits, Decoder, Frame, Value};

/// What a caller sends to the driver.
pub(crate) struct Request {
    pub(crate) payload: Payload,
    pub(crate) expect: Expect,
    /// Where the reply goes; `None` when nobody waits for it (the command is sent regardless).
    pub(crate) reply: Option<oneshot::Sender<Result<Reply>>>,
}

/// The commands of one request, written back to back.
pub enum Payload {
    One(Cmd),
    Many(Vec<Cmd>),
}

/// What completes a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// This many replies, one per command.
    Replies(usize),
    /// This many pub/sub confirmations (`subscribe`, `psubscribe`, `ssubscribe` and their
    /// `un-` forms), which arrive as push frames in RESP3.
    Confirmations(usize),
    /// Unsubscribe confirmations until the server reports no subscription left.
    UnsubscribeAll,
}

/// The reply, or replies, of a request, as frames: the caller, not the driver, takes them
/// apart, so the driver's time goes to the socket and a typed decoder can read a frame in place.
#[derive(Debug)]
pub enum Reply {
    One(Frame),
    Many(Vec<Frame>),
}

/// State the driver and the connection's handles share.
///
/// The driver writes it only when the connection turns idle or busy, not per command: every
/// thread that sends a command reads this cache line.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) node: String,
    broken: AtomicBool,
    /// Whether requests are queued, written or unanswered.
    busy: AtomicBool,
    epoch: Instant,
    /// Milliseconds since `epoch` at which the connection last turned idle.
    idle_since: AtomicU64,
}

impl Shared {
    pub(crate) fn new(node: String) -> Self {
        Shared {
            node,
            broken: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            epoch: Instant::now(),
            idle_since: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    pub(crate) fn mark_broken(&self) {
        self.broken.store(true, Ordering::Release);
    }

    /// How long since the connection last had a request to serve; zero while it has one.
    pub(crate) fn idle_for(&self) -> std::time::Duration {
        if self.busy.load(Ordering::Relaxed) {
            return std::time::Duration::ZERO;
        }
        let since = self.idle_since.load(Ordering::Relaxed);
        self.epoch
            .elapsed()
            .saturating_sub(std::time::Duration::from_millis(since))
    }

    pub(crate) fn age(&self) -> std::time::Duration {
        self.epoch.elapsed()
    }

    /// Records that the connection turned busy, or idle.
    fn set_busy(&self, busy: bool) {
        if !busy {
            let now = self.epoch.elapsed().as_millis() as u64;
            self.idle_since.store(now, Ordering::Relaxed);
        }
        self.busy.store(busy, Ordering::Relaxed);
    }
}

/// A request written (or being written), waiting for its replies.
struct InFlight {
    reply: Option<oneshot::Sender<Result<Reply>>>,
    expect: Expect,
    collected: Vec<Frame>,
    /// Offset of its first byte in the stream of everything this connection wrote: it has been
    /// (at least partly) sent once `written` passes it.
    start: u64,
    /// Offset just past its last byte: the server has all of it once `written` reaches it.
    end: u64,
}

/// Stop taking requests into the write buffer past this size until it has drained a little,
/// so that one burst cannot grow it without bound.
const WRITE_HIGH_WATER: usize = 1 << 20;
/// While the server owes many replies, new commands wait in the write buffer until a read (or
/// this much) comes, rather than leaving in a `write` each; see [`Driver::may_hold_writes`].
const WRITE_COALESCE: usize = 16 * 1024;
/// Holding new commands needs at least this many written requests unanswered: enough queued
/// work that the server stays busy while new commands gather. With fewer, holding would leave it
/// idle for a round trip, and latency, not the cost of a `write`, is what limits throughput
/// (measured: 10 concurrent tasks lost a third of their throughput when every reply was waited
/// for; with 64, 1,000 tasks needed a quarter less client CPU per command).
const HOLD_MIN_UNANSWERED: usize = 64;
/// New commands are written at once, without the yield of [`Driver::deferred`], when they
/// already fill this much: a pipeline, or a few large values. Waiting for more then costs more
/// (an idle server while the woken tasks run) than the `write` it saves.
const DEFER_BELOW: usize = 4 * 1024;
/// Reads are given free buffer space this much at a time at most: the room made for them
/// doubles, up to this, while they fill it (see `buffer.rs`). Under load a read then takes about
/// a hundred 1 KiB replies; with 32 KiB, 1,000 tasks cost about 8% more client CPU per GET.
const READ_CHUNK: usize = 128 * 1024;
/// Reads are given free buffer space this much at a time at least: a small reply or two.
const READ_MIN: usize = 4 * 1024;
/// Commands are given buffer space this much at a time at least: a few small ones.
const WRITE_MIN: usize = 1024;
/// And at most, at the start of a busy period, which gets the room the last one needed: under
/// load, commands leave every [`WRITE_COALESCE`] bytes or sooner. A burst larger than this
/// grows the buffer as it comes.
const WRITE_CHUNK: usize = 64 * 1024;
/// An idle connection keeps room for this many requests in flight, and frees a larger queue.
const IDLE_IN_FLIGHT: usize = 16;
/// Rounds of the loop before the driver yields to other tasks on its thread.
const ROUNDS_PER_POLL: usize = 32;

pub(crate) struct Driver {
    transport: Transport,
    requests: mpsc::UnboundedReceiver<Request>,
    requests_closed: bool,
    shared: Arc<Shared>,
    decoder: Decoder,
    read_buf: Buffer,
    write_buf: Buffer,
    needs_flush: bool,
    /// Whether anything was read since the last write.
    read_since_write: bool,
    /// Whether the driver put off writing new commands and yielded, once, to let the tasks
    /// it just woke (or that woke it) run first. Each woken task sends its next command as
    /// soon as it runs; without the yield, tokio runs the driver right after the first of them
    /// (a woken task takes the front of the queue), and every command leaves in a `write` of
    /// its own. After the yield the driver finds them all queued and writes them in one.
    /// Commands that already fill [`DEFER_BELOW`] leave without it.
    deferred: bool,
    /// Requests accepted into the write buffer since it was last fully written.
    unwritten: usize,
    /// Bytes written so far, over the connection's life.
    written: u64,
    /// Bytes put into `write_buf` so far.
    queued: u64,
    in_flight: VecDeque<InFlight>,
    /// What [`Shared`] was last told: whether requests are waiting.
    busy: bool,
    push_sink: Option<mpsc::UnboundedSender<Value>>,
    /// Set once a subscription was made over RESP2, where pub/sub messages are plain arrays.
    resp2_pubsub: bool,
    /// What the server's confirmations say this connection is subscribed to.
    subscriptions: Subscriptions,
}

impl Driver {
    pub(crate) fn new(
        transport: Transport,
        requests: mpsc::UnboundedReceiver<Request>,
        shared: Arc<Shared>,
        limits: DecodeLimits,
        push_sink: Option<mpsc::UnboundedSender<Value>>,
    ) -> Self {
        Driver {
            transport,
            requests,
            requests_closed: false,
            shared,
            decoder: Decoder::new(limits),
            read_buf: Buffer::new(READ_MIN, READ_CHUNK),
            write_buf: Buffer::new(WRITE_MIN, WRITE_CHUNK),
            needs_flush: false,
            read_since_write: false,
            deferred: false,
            unwritten: 0,
            written: 0,
            queued: 0,
            in_flight: VecDeque::new(),
            busy: false,
            push_sink,
            resp2_pubsub: false,
            subscriptions: Subscriptions::default(),
        }
    }

    /// Takes queued requests into the write buffer. Returns whether any came.
    fn accept_requests(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while !self.requests_closed && self.write_buf.bytes.len() < WRITE_HIGH_WATER {
            match self.requests.poll_recv(cx) {
                Poll::Ready(Some(request)) => {
                    progress = true;
                    if request.reply.as_ref().is_some_and(|r| r.is_closed()) {
                        // The caller gave up before the command left: do not send it at all.
                        continue;
                    }
                    let start = self.queued;
                    self.write_buf.make_room();
                    let buf = &mut self.write_buf.bytes;
                    let before = buf.len();
                    match &request.payload {
                        Payload::One(cmd) => cmd.encode_into(buf),
                        Payload::Many(cmds) => {
                            for cmd in cmds {
                                cmd.encode_into(buf);
                            }
                        }
                    }
                    self.queued += (buf.len() - before) as u64;
                    self.write_buf.filled();
                    self.in_flight.push_back(InFlight {
                        reply: request.reply,
                        expect: request.expect,
                        collected: Vec::new(),
                        start,
                        end: self.queued,
                    });
                    self.unwritten += 1;
                }
                Poll::Ready(None) => self.requests_closed = true,
                Poll::Pending => break,
            }
        }
        progress
    }

    /// Whether new commands may wait in the write buffer for now. Under load, commands arrive
    /// one by one from many tasks, and writing each round's few at once costs a `write` per
    /// handful, on both sides of the socket. So while the server holds many complete requests
    /// it has not answered ([`HOLD_MIN_UNANSWERED`]: replies are certain to come, and it has
    /// work meanwhile), and nothing was read since the last write, the buffer fills instead;
    /// the next read (or [`WRITE_COALESCE`] bytes) sends it all. A command then waits at most
    /// for the server to answer what it already has, which it does before it would read the new
    /// command anyway. With few requests unanswered (a few callers), commands leave at once.
    fn may_hold_writes(&self) -> bool {
        !self.read_since_write
            && !self.needs_flush
            && self.write_buf.bytes.len() < WRITE_COALESCE
            && self.in_flight.len().saturating_sub(self.unwritten) >= HOLD_MIN_UNANSWERED
            && self
                .in_flight
                .front()
                .is_some_and(|f| f.end <= self.written)
    }

    /// Whether new commands are waiting to be written, but too few bytes for a `write` of their
    /// own to be worth the wait: see [`Driver::deferred`].
    fn should_defer(&self) -> bool {
        self.unwritten > 0 && self.write_buf.bytes.len() < DEFER_BELOW
    }

    /// Writes what the socket takes. Returns whether anything was written.
    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let mut progress = false;
        if self.may_hold_writes() {
            return Ok(false);
        }
        if !self.write_buf.bytes.is_empty() {
            self.read_since_write = false;
        }
        while !self.write_buf.bytes.is_empty() {
            match Pin::new(&mut self.transport).poll_write(cx, &self.write_buf.bytes) {
                Poll::Ready(Ok(0)) => {
                    return Err(self.io_error(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => {
                    self.write_buf.bytes.advance(n);
                    self.written += n as u64;
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(self.io_error(e)),
                Poll::Pending => return Ok(progress),
            }
        }
        self.unwritten = 0;
        if self.needs_flush {
            // TLS buffers inside the stream; TCP's flush is free.
            match Pin::new(&mut self.transport).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Err(self.io_error(e)),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Reads and dispatches what the socket has. Returns whether anything came; `Ok(None)` at a
    /// clean end of stream.
    fn read(&mut self, cx: &mut Context<'_>) -> Result<Option<bool>> {
        self.read_buf.make_room();
        let free = self.read_buf.free();
        let transport = Pin::new(&mut self.transport);
        match tokio_util::io::poll_read_buf(transport, cx, &mut self.read_buf.bytes) {
            Poll::Pending => Ok(Some(false)),
            Poll::Ready(Err(e)) => Err(self.io_error(e)),
            Poll::Ready(Ok(0)) => Ok(None),
            Poll::Ready(Ok(n)) => {
                self.read_since_write = true;
                self.read_buf.filled();
                if n == free {
                    self.read_buf.grow_chunk();
                }
                while let Some(frame) = self
                    .decoder
                    .decode_frame(&mut self.read_buf.bytes)
                    .map_err(|e| e.at_node(&self.shared.node))?
                {
                    self.dispatch(frame)?;
                }
                Ok(Some(true))
            }
        }
    }

    /// Hands a frame to the request it answers; push frames, and RESP2 pub/sub messages (plain
    /// arrays), are the only ones the driver takes apart.
    fn dispatch(&mut self, frame: Frame) -> Result<()> {
        let maybe_pubsub = match frame.type_byte() {
            b'>' => true,
            b'*' => self.resp2_pubsub || self.front_expects_confirmation(),
            _ => false,
        };
        if !maybe_pubsub {
            return self.on_reply(frame);
        }
        match frame.parse().map_err(|e| e.at_node(&self.shared.node))? {
            Value::Push(items) => self.on_push(frame, items),
            Value::Array(items) if is_pubsub_frame(&items) => {
                self.resp2_pubsub = true;
                self.on_push(frame, items)
            }
            _ => self.on_reply(frame),
        }
    }

    fn front_expects_confirmation(&self) -> bool {
        self.in_flight
            .front()
            .is_some_and(|f| !matches!(f.expect, Expect::Replies(_)))
    }

    fn on_reply(&mut self, reply: Frame) -> Result<()> {
        let Some(front) = self.in_flight.front_mut() else {
            let kind = reply.parse().map_or("malformed", |v| v.kind());
            return Err(Error::Protocol {
                node: self.shared.node.clone(),
                reason: format!("a {kind} reply came with no request waiting"),
            });
        };
        match front.expect {
            Expect::Replies(n) if n > 1 => {
                front.collected.push(reply);
                let done = front.collected.len() == n;
                self.complete_front_if(done);
            }
            // A single reply; or an error instead of a confirmation (e.g. SUBSCRIBE on a
            // connection that may not), which ends the request too.
            _ => {
                let front = self.in_flight.pop_front().expect("checked above");
                front.respond(Ok(Reply::One(reply)));
            }
        }
        Ok(())
    }

    /// Completes the oldest request with the replies it collected, when `done`.
    fn complete_front_if(&mut self, done: bool) {
        if done {
            let mut front = self.in_flight.pop_front().expect("a request is waiting");
            let collected = std::mem::take(&mut front.collected);
            front.respond(Ok(Reply::Many(collected)));
        }
    }

    /// A push frame (or RESP2 pub/sub message) `frame`, taken apart into `items`.
    fn on_push(&mut self, frame: Frame, items: Vec<Value>) -> Result<()> {
        // Every confirmation updates what the connection is subscribed to, whether a request
        // waits for it or not.
        let left_of_kind = confirmation_kind(&items).map(|kind| {
            self.subscriptions
                .apply(kind, items.get(1).and_then(Value::as_bytes))
        });
        if let (Some(front), Some(kind), Some(left_of_kind)) = (
            self.in_flight.front_mut(),
            confirmation_kind(&items),
            left_of_kind,
        ) {
            let done = match front.expect {
                Expect::Confirmations(n) => Some(front.collected.len() + 1 == n),
                Expect::UnsubscribeAll if kind.ends_with(b"unsubscribe") => {
                    // The server confirms each channel (or pattern) it drops, and once with a
                    // nil name when there was none. The count it sends (third element) covers
                    // channels *and* patterns, so it stays above 0 after `UNSUBSCRIBE` while
                    // patterns remain: the end is when none of this kind is left.
                    // A nil name or a total of 0 says the same, should the two disagree.
                    Some(
                        left_of_kind == 0
                            || matches!(items.get(1), Some(Value::Nil))
                            || matches!(items.get(2), Some(Value::Integer(0))),
                    )
                }
                Expect::UnsubscribeAll | Expect::Replies(_) => None,
            };
            if let Some(done) = done {
                front.collected.push(frame);
                self.complete_front_if(done);
                return Ok(());
            }
        }
        match &self.push_sink {
            Some(sink) => {
                if sink.send(Value::Push(items)).is_err() {
                    // Nobody listens any more; keep serving replies.
                    self.push_sink = None;
                }
            }
            None => {
                tracing::trace!(node = %self.shared.node, "push frame with no listener dropped")
            }
        }
        Ok(())
    }

    /// Frees what only a busy connection needs; see `buffer.rs`. Called whenever the driver
    /// waits with no request in flight, not only when it turns idle: a subscriber receives
    /// with none.
    fn on_idle(&mut self) {
        self.read_buf.on_idle();
        self.write_buf.on_idle();
        if self.in_flight.capacity() > IDLE_IN_FLIGHT {
            self.in_flight = VecDeque::new();
        }
    }

    /// Tells [`Shared`] whether requests wait, when that changed.
    fn note_busy(&mut self) {
        let busy = !self.in_flight.is_empty();
        if busy != self.busy {
            self.busy = busy;
            self.shared.set_busy(busy);
        }
    }

    fn io_error(&self, source: std::io::Error) -> Error {
        Error::Io {
            node: self.shared.node.clone(),
            source,
        }
    }

    /// Fails every waiting and queued request and closes the queue: the connection is done.
    fn fail(&mut self, error: Error) {
        self.shared.mark_broken();
        tracing::debug!(node = %self.shared.node, %error, "connection failed");
        self.requests.close();
        self.requests_closed = true;
        let written = self.written;
        let node = &self.shared.node;
        for f in self.in_flight.drain(..) {
            let sent = f.start < written;
            let e = match &error {
                Error::Io { source, .. } => Error::Io {
                    node: node.clone(),
                    source: std::io::Error::new(source.kind(), source.to_string()),
                },
                Error::Protocol { reason, .. } => Error::Protocol {
                    node: node.clone(),
                    reason: reason.clone(),
                },
                _ => Error::ConnectionClosed {
                    node: node.clone(),
                    sent,
                },
            };
            f.respond(Err(e));
        }
        while let Ok(r) = self.requests.try_recv() {
            if let Some(reply) = r.reply {
                let _ = reply.send(Err(Error::ConnectionClosed {
                    node: node.clone(),
                    sent: false,
                }));
            }
        }
    }
}

impl Drop for Driver {
    /// Torn down with requests waiting (the runtime shut down, or a panic): their callers get
    /// an error rather than no answer.
    fn drop(&mut self) {
        if !self.in_flight.is_empty() || !self.requests_closed {
            let node = self.shared.node.clone();
            self.fail(Error::ConnectionClosed { node, sent: true });
        }
    }
}

impl InFlight {
    fn respond(self, result: Result<Reply>) {
        if let Some(reply) = self.reply {
            // The caller may have stopped waiting; its reply is dropped here.
            let _ = reply.send(result);
        }
    }
}

/// The channels, patterns and shard channels a connection is subscribed to, kept from the
/// server's confirmations.
#[derive(Debug, Default)]
struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shard_channels: HashSet<Bytes>,
}

impl Subscriptions {
    /// Applies one confirmation of `kind` for `name`; returns how many subscriptions of that
    /// kind (channels, patterns or shard channels) are left.
    fn apply(&mut self, kind: &[u8], name: Option<&Bytes>) -> usize {
        let (set, subscribed) = match kind {
            b"subscribe" => (&mut self.channels, true),
            b"unsubscribe" => (&mut self.channels, false),
            b"psubscribe" => (&mut self.patterns, true),
            b"punsubscribe" => (&mut self.patterns, false),
            b"ssubscribe" => (&mut self.shard_channels, true),
            _ => (&mut self.shard_channels, false),
        };
        if let Some(name) = name {
            if subscribed {
                set.insert(name.clone());
            } else {
                set.remove(name);
            }
        }
        set.len()
    }
}

/// Whether a RESP2 array is a pub/sub frame (message or confirmation).
fn is_pubsub_frame(items: &[Value]) -> bool {
    matches!(
        items.first().and_then(Value::as_bytes).map(|b| b.as_ref()),
        Some(b"message" | b"pmessage" | b"smessage")
    ) || confirmation_kind(items).is_some()
}

/// The kind of a subscription confirmation frame, if it is one.
fn confirmation_kind(items: &[Value]) -> Option<&[u8]> {
    let kind = items.first()?.as_bytes()?;
    matches!(
        kind.as_ref(),
        b"subscribe"
            | b"psubscribe"
            | b"ssubscribe"
            | b"unsubscribe"
            | b"punsubscribe"
            | b"sunsubscribe"
    )
    .then_some(kind.as_ref())
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // See [`Driver::deferred`]: a poll that follows a deferral writes at once.
        let may_defer = !std::mem::take(&mut this.deferred);
        for _ in 0..ROUNDS_PER_POLL {
            let accepted = this.accept_requests(cx);
            let wrote = if may_defer && this.should_defer() {
                false
            } else {
                match this.write(cx) {
                    Ok(p) => p,
                    Err(e) => {
                        this.fail(e);
                        return Poll::Ready(());
                    }
                }
            };
            let read = match this.read(cx) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    let sent = !this.in_flight.is_empty();
                    let node = this.shared.node.clone();
                    this.fail(Error::ConnectionClosed { node, sent });
                    return Poll::Ready(());
                }
                Err(e) => {
                    this.fail(e);
                    return Poll::Ready(());
                }
            };
            if this.requests_closed && this.in_flight.is_empty() && this.write_buf.bytes.is_empty()
            {
                // Every handle is gone and every reply delivered.
                this.shared.mark_broken();
                return Poll::Ready(());
            }
            if !(accepted || wrote || read) {
                this.note_busy();
                if this.in_flight.is_empty() {
                    this.on_idle();
                }
                if may_defer && this.should_defer() {
                    this.deferred = true;
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
        }
        // Still busy: let other tasks on this thread run, then continue.
        this.note_busy();
        this.deferred = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_count_each_kind_apart() {
        let name = |s: &'static str| Bytes::from_static(s.as_bytes());
        let mut subs = Subscriptions::default();
        assert_eq!(subs.apply(b"subscribe", Some(&name("a"))), 1);
        assert_eq!(
            subs.apply(b"subscribe", Some(&name("a"))),
            1,
            "twice is once"
        );
        assert_eq!(subs.apply(b"subscribe", Some(&name("b"))), 2);
        assert_eq!(subs.apply(b"psubscribe", Some(&name("p*"))), 1);
        // Dropping the channels leaves the pattern: channels are done at 0, whatever the
        // server's total says.
        assert_eq!(subs.apply(b"unsubscribe", Some(&name("a"))), 1);
        assert_eq!(subs.apply(b"unsubscribe", Some(&name("b"))), 0);
        assert_eq!(subs.apply(b"unsubscribe", None), 0);
        assert_eq!(subs.apply(b"punsubscribe", Some(&name("p*"))), 0);
        assert_eq!(subs.apply(b"ssubscribe", Some(&name("s"))), 1);
        assert_eq!(subs.apply(b"sunsubscribe", Some(&name("s"))), 0);
    }
}
