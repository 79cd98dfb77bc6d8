//! Redis Cluster: each command goes to the master serving its keys' slot. The slot map is
//! learnt from the cluster when the client connects and kept current by the redirections nodes
//! answer with.
//!
//! | file | what it holds |
//! |---|---|
//! | `slot.rs` | the slot of a key: CRC16, `{hash tags}` |
//! | `slot_map.rs` | which node serves which slot, from `CLUSTER SHARDS` or `CLUSTER SLOTS` |
//! | `redirect.rs` | `MOVED`, `ASK`, and the replies asking to try again later |
//! | `split.rs` | `MGET`, `MSET`, `DEL`, … over many slots: one command per slot, replies merged |
//! | `reads.rs` | the read-only commands, which replicas may serve |
//!
//! Each node is a [`Node`]: its own pool and shared, auto-pipelined connections, as a
//! standalone client has for its one server. A command's slot was worked out when it was built
//! ([`Cmd::key`]), so routing it is an index into the slot table and two reference counts.
//!
//! A command is sent again, after a pause that doubles each time (`max_retries`,
//! `retry_delay`), while the node serving its slot cannot be reached or answers `TRYAGAIN`,
//! `CLUSTERDOWN` or `LOADING`, and the slot map is read again in between: when a master dies,
//! the cluster hands its slots to a replica within a few seconds. A command whose connection
//! failed after it may have reached the node is sent again only if it is read-only: a write
//! could run twice.

pub(crate) mod reads;
pub(crate) mod redirect;
pub(crate) mod slot;
pub(crate) mod slot_map;
pub(crate) mod split;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use redirect::{redirect, Redirect};
use slot_map::SlotMap;
use split::Split;

use crate::commands::{cmd, Cmd, KeySlot};
use crate::config::{ClusterConfig, Config, ReadFrom, ServerAddr};
use crate::connection::{Expect, Payload, Reply};
use crate::error::{Error, Result};
use crate::pipeline::auto::Lanes;
use crate::pool::{self, Pool};
use crate::resp::Frame;

/// The shortest time between two refreshes of the slot map that a `MOVED` or an unreachable
/// node asks for: a resharding answers many commands with `MOVED` at once, and one refresh
/// serves them all.
const REFRESH_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) type ClusterRequest<'a> = Pin<Box<dyn Future<Output = Result<Reply>> + Send + 'a>>;

pub(crate) struct Cluster {
    shared: Arc<Shared>,
    /// The pool exclusive connections come from: the first master's when the client connected.
    exclusive: Pool,
}

struct Shared {
    /// The settings every node's connections use; `addr` is set per node.
    config: Config,
    /// The cluster's own settings, from `config`.
    cluster: ClusterConfig,
    routes: RwLock<Arc<Routes>>,
    /// Every node connected to so far, by address: kept across refreshes, so a node keeps its
    /// connections while it serves slots.
    nodes: Mutex<HashMap<String, Arc<Node>>>,
    /// Held while the slot map is fetched, with the time of the last fetch: one refresh at a
    /// time, and none sooner than [`REFRESH_INTERVAL`] after the last.
    refresh: tokio::sync::Mutex<Option<Instant>>,
    /// Which master a command without keys goes to next.
    next_master: AtomicUsize,
    /// Which of a shard's nodes the next read goes to, when reads go to replicas.
    next_read: AtomicUsize,
}

/// The slot map, with each shard's nodes in the map's shard order.
struct Routes {
    map: SlotMap,
    masters: Vec<Arc<Node>>,
    /// Each shard's online replicas; all empty when reads go to masters.
    replicas: Vec<Vec<Arc<Node>>>,
    /// See [`Cluster::master_tags`]: worked out once per map, as every search and scan asks.
    tags: Vec<(String, u16)>,
}

impl Routes {
    fn new(map: SlotMap, masters: Vec<Arc<Node>>, replicas: Vec<Vec<Arc<Node>>>) -> Self {
        let tags = master_tags(&map, masters.len());
        Routes {
            map,
            masters,
            replicas,
            tags,
        }
    }
}

/// One cluster node: its address and its connections.
pub(crate) struct Node {
    addr: ServerAddr,
    lanes: Lanes,
}

impl Cluster {
    /// Learns the cluster's layout from the first seed that answers.
    pub(crate) async fn new(config: &Config) -> Result<Self> {
        let cluster = config
            .cluster
            .clone()
            .filter(|c| !c.seeds.is_empty())
            .ok_or_else(|| Error::config("cluster", "no seed nodes"))?;
        let shared = Shared {
            config: config.clone(),
            cluster,
            routes: RwLock::new(Arc::new(Routes::new(
                SlotMap::default(),
                Vec::new(),
                Vec::new(),
            ))),
            nodes: Mutex::new(HashMap::new()),
            refresh: tokio::sync::Mutex::new(None),
            next_master: AtomicUsize::new(0),
            next_read: AtomicUsize::new(0),
        };
        shared.refresh(None).await?;
        let exclusive = match shared.routes().masters.first() {
            Some(master) => master.lanes.pool().clone(),
            None => {
                return Err(Error::ClusterUnavailable {
                    last: Box::new(Error::protocol("the cluster has no master serving slots")),
                })
            }
        };
        Ok(Cluster {
            shared: Arc::new(shared),
            exclusive,
        })
    }

    pub(crate) fn request(&self, payload: Payload, expect: Expect) -> ClusterRequest<'_> {
        Box::pin(async move {
            match payload {
                // Keys in several slots: a multi-key command split per slot, or refused.
                Payload::One(cmd) if matches!(cmd.key_slot(), KeySlot::Cross(..)) => {
                    match self.shared.many(vec![cmd], Expect::Replies(1)).await? {
                        Reply::Many(mut frames) if frames.len() == 1 => {
                            Ok(Reply::One(frames.pop().expect("one frame")))
                        }
                        _ => Err(Error::protocol("one reply expected")),
                    }
                }
                Payload::One(cmd) => self.shared.one(cmd, expect).await,
                Payload::Many(cmds) => self.shared.many(cmds, expect).await,
            }
        })
    }

    /// The pool exclusive connections come from.
    pub(crate) fn pool(&self) -> &Pool {
        &self.exclusive
    }

    /// The pool of the master serving `command`'s keys, for a connection the command and
    /// those after it (a `WATCH` transaction) have to themselves.
    pub(crate) async fn pool_for(&self, command: &Cmd) -> Result<Pool> {
        let node = self.shared.route(slot_of(command)?, false).await?;
        Ok(node.lanes.pool().clone())
    }
}

impl Shared {
    fn routes(&self) -> Arc<Routes> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The node at `addr`, made (without connecting) if it is new.
    async fn node(&self, addr: &ServerAddr) -> Result<Arc<Node>> {
        let name = addr.to_string();
        if let Some(node) = self
            .nodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
        {
            return Ok(node.clone());
        }
        let config = self.config.for_node(addr.clone());
        let pool = pool::build(&config).await?;
        let node = Arc::new(Node {
            addr: addr.clone(),
            lanes: Lanes::new(
                pool,
                name.clone(),
                config.pool.multiplexed_connections,
                config.pool.max_lifetime,
            ),
        });
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        // Another task may have made it meanwhile: theirs is kept.
        Ok(nodes.entry(name).or_insert(node).clone())
    }

    /// Fetches the slot map again, unless one was fetched less than `min_age` ago (`None`:
    /// whenever it was). Tasks asking at once share one fetch.
    async fn refresh(&self, min_age: Option<Duration>) -> Result<()> {
        let asked = Instant::now();
        let mut last = self.refresh.lock().await;
        if let (Some(at), Some(min_age)) = (*last, min_age) {
            // Fetched while this task waited for the lock, or too recently to ask again.
            if at >= asked || at.elapsed() < min_age {
                return Ok(());
            }
        }
        let map = self.fetch_map().await?;
        let mut masters = Vec::with_capacity(map.shards().len());
        let mut replicas = Vec::with_capacity(map.shards().len());
        for shard in map.shards() {
            masters.push(self.node(&shard.master).await?);
            let mut readers = Vec::new();
            if self.cluster.read_from != ReadFrom::Master {
                for replica in &shard.replicas {
                    readers.push(self.node(replica).await?);
                }
            }
            replicas.push(readers);
        }
        *self.routes.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(Routes::new(map, masters, replicas));
        *last = Some(Instant::now());
        Ok(())
    }

    /// Refreshes the slot map in the background, unless it was read less than
    /// [`REFRESH_INTERVAL`] ago.
    fn refresh_soon(self: &Arc<Self>) {
        let shared = self.clone();
        tokio::spawn(async move {
            // A failed refresh is retried by the next command it leaves misrouted.
            let _ = shared.refresh(Some(REFRESH_INTERVAL)).await;
        });
    }

    /// The slot map, from the first node that tells it: the known masters, the seeds, then the
    /// known replicas (all masters may be out of reach while their replicas take over).
    async fn fetch_map(&self) -> Result<SlotMap> {
        let routes = self.routes();
        let shards = routes.map.shards();
        let candidates = shards
            .iter()
            .map(|s| &s.master)
            .chain(&self.cluster.seeds)
            .chain(shards.iter().flat_map(|s| &s.replicas));
        let mut last = None;
        for addr in candidates {
            match self.map_from(addr).await {
                Ok(map) => return Ok(map),
                Err(e) => last = Some(e),
            }
        }
        Err(Error::ClusterUnavailable {
            last: Box::new(last.unwrap_or_else(|| Error::config("cluster", "no seed nodes"))),
        })
    }

    /// The slot map as the node at `addr` sees it: `CLUSTER SHARDS`, or `CLUSTER SLOTS` on a
    /// server older than 7.
    async fn map_from(&self, addr: &ServerAddr) -> Result<SlotMap> {
        let host = match addr {
            ServerAddr::Tcp { host, .. } => host.as_str(),
            ServerAddr::Unix(_) => "",
        };
        let node = self.node(addr).await?;
        let slots_map = || async {
            let slots = ask(&node, cmd("CLUSTER").arg("SLOTS")).await?;
            SlotMap::from_slots(&slots, host)
        };
        let map = match ask(&node, cmd("CLUSTER").arg("SHARDS")).await {
            Ok(shards) => SlotMap::from_shards(&shards, host, self.config.tls.is_some())?,
            Err(Error::Server { .. }) => return slots_map().await,
            Err(e) => return Err(e),
        };
        if map.assigned() == usize::from(slot::SLOTS) {
            return Ok(map);
        }
        // Redis 7.2 to 7.4 list a shard whose master failed over with no slots when the failed
        // master comes first in it (redis/redis#13414): `CLUSTER SLOTS` tells who serves them.
        match slots_map().await {
            Ok(slots) if slots.assigned() > map.assigned() => Ok(slots),
            _ => Ok(map),
        }
    }

    /// The node for a command on `slot` (a command without keys: any master's shard): the
    /// shard's master, or for a read, the node `read_from` names. `None` when no shard serves
    /// the slot.
    fn pick(&self, routes: &Routes, slot: Option<u16>, read: bool) -> Option<Arc<Node>> {
        let shard = match slot {
            Some(slot) => routes.map.owner(slot)?,
            None if routes.masters.is_empty() => return None,
            None => self.next_master.fetch_add(1, Ordering::Relaxed) % routes.masters.len(),
        };
        let master = &routes.masters[shard];
        let replicas = &routes.replicas[shard];
        if !read || replicas.is_empty() {
            return Some(master.clone());
        }
        let turn = self.next_read.fetch_add(1, Ordering::Relaxed);
        let node = match self.cluster.read_from {
            ReadFrom::Master => master,
            ReadFrom::Replica => &replicas[turn % replicas.len()],
            ReadFrom::RoundRobin => match turn % (replicas.len() + 1) {
                0 => master,
                i => &replicas[i - 1],
            },
        };
        Some(node.clone())
    }

    /// Like [`Shared::pick`], reading the map again once if no shard serves the slot.
    async fn route(&self, slot: Option<u16>, read: bool) -> Result<Arc<Node>> {
        if let Some(node) = self.pick(&self.routes(), slot, read) {
            return Ok(node);
        }
        self.refresh(Some(REFRESH_INTERVAL)).await?;
        self.pick(&self.routes(), slot, read)
            .ok_or_else(|| Error::ClusterUnavailable {
                last: Box::new(Error::protocol(format!(
                    "no node serves slot {}",
                    slot.unwrap_or(0)
                ))),
            })
    }

    /// A `MOVED` for `slot`: the map points it at `to` at once; a refresh of the whole map
    /// follows in the background, as one `MOVED` usually means more slots moved.
    async fn moved(self: &Arc<Self>, slot: u16, to: &ServerAddr) -> Result<Arc<Node>> {
        let node = self.node(to).await?;
        {
            let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
            let mut map = routes.map.clone();
            map.moved(slot, to.clone());
            let mut masters = routes.masters.clone();
            let mut replicas = routes.replicas.clone();
            if masters.len() < map.shards().len() {
                masters.push(node.clone());
                replicas.push(Vec::new());
            }
            *routes = Arc::new(Routes::new(map, masters, replicas));
        }
        self.refresh_soon();
        Ok(node)
    }

    /// One command, to the node serving its slot.
    async fn one(self: &Arc<Self>, command: Cmd, expect: Expect) -> Result<Reply> {
        let slot = slot_of(&command)?;
        self.deliver(Routed::Command(command), slot, expect).await
    }

    /// Sends `request` to the node serving `slot`, following redirections (at most
    /// `max_redirects`), and sending it again after a pause (at most `max_retries` times)
    /// while no reachable node serves the slot or the node asks to try later.
    async fn deliver(
        self: &Arc<Self>,
        request: Routed,
        slot: Option<u16>,
        expect: Expect,
    ) -> Result<Reply> {
        let read = request.is_read_only();
        let mut backoff = Backoff::new(&self.cluster);
        let mut redirected: Option<(Arc<Node>, bool)> = None;
        let mut redirects = 0;
        let mut visited = Vec::new();
        loop {
            let (node, asking) = match redirected.take() {
                Some(to) => to,
                None => match self.route(slot, read).await {
                    Ok(node) => (node, false),
                    Err(e) if backoff.pause().await => {
                        tracing::debug!(slot, error = %e, "no node serves the slot; retrying");
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            visited.push(node.addr.to_string());
            let refresh = match request.send(&node, asking, expect).await {
                Ok(reply) => match request.redirect(&reply, &node.addr) {
                    None => return Ok(reply),
                    Some(Redirect::Later { refresh }) => {
                        if !backoff.pause().await {
                            return Ok(reply);
                        }
                        refresh
                    }
                    Some(redirect) => {
                        redirects += 1;
                        if redirects > self.cluster.max_redirects {
                            return Err(Error::TooManyRedirects {
                                command: request.name().to_owned(),
                                slot: slot.unwrap_or(0),
                                nodes: visited,
                            });
                        }
                        redirected = Some(match redirect {
                            Redirect::Moved { slot, to } => (self.moved(slot, &to).await?, false),
                            Redirect::Ask { to, .. } => (self.node(&to).await?, true),
                            Redirect::Later { .. } => unreachable!("matched above"),
                        });
                        continue;
                    }
                },
                Err(e) => {
                    if !may_send_again(&e, read) || !backoff.pause().await {
                        // The node may be gone, its slots about to move to a replica.
                        if never_sent(&e) || e.is_connection_dropped() {
                            self.refresh_soon();
                        }
                        return Err(e);
                    }
                    tracing::debug!(node = %node.addr, error = %e, "node unreachable; retrying");
                    true
                }
            };
            if refresh {
                // A failed refresh leaves the map as it was; the next attempt tells.
                let _ = self.refresh(Some(REFRESH_INTERVAL)).await;
            }
        }
    }

    /// A pipeline: split by the node serving each command, sent to every node at once, the
    /// replies put back in the caller's order. A multi-key command whose keys are in several
    /// slots becomes one command per slot ([`Split`]), their replies merged back into one. An
    /// atomic pipeline (`MULTI` … `EXEC`) must have all its keys in one slot.
    async fn many(self: &Arc<Self>, cmds: Vec<Cmd>, expect: Expect) -> Result<Reply> {
        if cmds.first().is_some_and(|c| c.name() == "MULTI") {
            let mut together = KeySlot::None;
            for c in &cmds {
                if let Some(slot) = slot_of(c)? {
                    together = together.with(slot);
                }
            }
            let slot = match together {
                KeySlot::Cross(a, b) => {
                    return Err(Error::CrossSlot {
                        command: "MULTI".to_owned(),
                        slots: vec![a, b],
                    })
                }
                KeySlot::One(slot) => Some(slot),
                KeySlot::None => None,
            };
            return self.deliver(Routed::Transaction(cmds), slot, expect).await;
        }
        let mut sent = Vec::with_capacity(cmds.len());
        // For each of the caller's commands, the split standing for it, if it was split.
        let mut splits = Vec::with_capacity(cmds.len());
        for c in cmds {
            if let KeySlot::Cross(..) = c.key_slot() {
                let (split, parts) = Split::of(&c).ok_or_else(|| cross_slot(&c))?;
                sent.extend(parts);
                splits.push(Some(split));
            } else {
                sent.push(c);
                splits.push(None);
            }
        }
        let mut frames = self.scatter(sent).await?.into_iter();
        let merged = splits
            .into_iter()
            .map(|split| match split {
                None => frames
                    .next()
                    .ok_or_else(|| Error::protocol("a pipeline reply is missing")),
                Some(split) => split.merge(frames.by_ref().take(split.parts()).collect()),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Reply::Many(merged))
    }

    /// Commands of one slot each (or none): split by the node serving each, sent to every node
    /// at once, their replies in the commands' order. A command whose slot no node serves, or
    /// that a node redirected or asked to try later, is then sent on its own, in order
    /// ([`Shared::one`]); so are a node's commands when the node could not be reached, or when
    /// its connection failed and they all only read.
    async fn scatter(self: &Arc<Self>, cmds: Vec<Cmd>) -> Result<Vec<Frame>> {
        let routes = self.routes();
        let mut groups: Vec<(Arc<Node>, Vec<usize>)> = Vec::new();
        let mut alone = Vec::new();
        for (i, c) in cmds.iter().enumerate() {
            let Some(node) = self.pick(&routes, slot_of(c)?, reads::is_read_only(c.name())) else {
                alone.push(i);
                continue;
            };
            match groups.iter_mut().find(|(n, _)| Arc::ptr_eq(n, &node)) {
                Some((_, members)) => members.push(i),
                None => groups.push((node, vec![i])),
            }
        }
        let sent = groups.iter().map(|(node, members)| {
            let part: Vec<Cmd> = members.iter().map(|&i| cmds[i].clone()).collect();
            let n = part.len();
            node.lanes.request(Payload::Many(part), Expect::Replies(n))
        });
        let replies = join_all(sent.collect()).await;
        let mut frames: Vec<Option<Frame>> = (0..cmds.len()).map(|_| None).collect();
        for ((node, members), reply) in groups.iter().zip(replies) {
            match reply {
                Ok(reply) => {
                    let got = match reply {
                        Reply::Many(frames) => frames,
                        Reply::One(frame) => vec![frame],
                    };
                    for (&i, frame) in members.iter().zip(got) {
                        match redirect(&frame, &node.addr) {
                            None => frames[i] = Some(frame),
                            Some(_) => alone.push(i),
                        }
                    }
                }
                Err(e) => {
                    let reads = members.iter().all(|&i| reads::is_read_only(cmds[i].name()));
                    if !may_send_again(&e, reads) {
                        if e.is_connection_dropped() {
                            self.refresh_soon();
                        }
                        return Err(e);
                    }
                    alone.extend(members);
                }
            }
        }
        alone.sort_unstable();
        for i in alone {
            frames[i] = Some(match self.one(cmds[i].clone(), Expect::Replies(1)).await? {
                Reply::One(frame) => frame,
                Reply::Many(_) => return Err(Error::protocol("one reply expected")),
            });
        }
        frames
            .into_iter()
            .map(|f| f.ok_or_else(|| Error::protocol("a pipeline reply is missing")))
            .collect()
    }
}

/// What [`Shared::deliver`] sends to the node serving one slot.
enum Routed {
    /// One command.
    Command(Cmd),
    /// A `MULTI` … `EXEC` transaction, sent whole.
    Transaction(Vec<Cmd>),
}

impl Routed {
    /// The command's name, for errors: `MULTI` for a transaction.
    fn name(&self) -> &str {
        match self {
            Routed::Command(c) => c.name(),
            Routed::Transaction(_) => "MULTI",
        }
    }

    /// Whether it only reads: a replica may serve it, and it may be sent twice.
    fn is_read_only(&self) -> bool {
        matches!(self, Routed::Command(c) if reads::is_read_only(c.name()))
    }

    /// Sends it to `node`, after `ASKING` when a migration's `ASK` sent it there.
    async fn send(&self, node: &Node, asking: bool, expect: Expect) -> Result<Reply> {
        match self {
            Routed::Command(c) if asking => {
                // `ASKING` lets the importing node serve the next command for a slot it does
                // not own yet.
                let both = Payload::Many(vec![cmd("ASKING"), c.clone()]);
                match node.lanes.request(both, Expect::Replies(2)).await? {
                    Reply::Many(mut frames) if frames.len() == 2 => {
                        Ok(Reply::One(frames.pop().expect("two frames")))
                    }
                    _ => Err(Error::protocol("ASKING: not two replies")),
                }
            }
            Routed::Command(c) => node.lanes.request(Payload::One(c.clone()), expect).await,
            Routed::Transaction(cmds) => {
                node.lanes
                    .request(Payload::Many(cmds.clone()), expect)
                    .await
            }
        }
    }

    /// What the node answered instead of running it, if anything.
    fn redirect(&self, reply: &Reply, from: &ServerAddr) -> Option<Redirect> {
        match (self, reply) {
            (Routed::Command(_), Reply::One(frame)) => redirect(frame, from),
            (Routed::Transaction(_), Reply::Many(frames)) => {
                // A command refused while queued makes `EXEC` refuse the transaction: nothing
                // ran, so it may go again. `ASK` is not followed: the importing node would
                // need `ASKING` before each of the transaction's commands.
                if !frames.last().is_some_and(Frame::is_error) {
                    return None;
                }
                frames
                    .iter()
                    .filter_map(|f| redirect(f, from))
                    .find(|r| !matches!(r, Redirect::Ask { .. }))
            }
            _ => None,
        }
    }
}

/// The pauses one request may still take before it gives up: `retry_delay`, twice as long
/// each time, at most `max_retries` of them.
struct Backoff {
    left: u32,
    next: Duration,
}

impl Backoff {
    fn new(cluster: &ClusterConfig) -> Self {
        Backoff {
            left: cluster.max_retries,
            next: cluster.retry_delay,
        }
    }

    /// Waits before another attempt; `false`, at once, when no attempt is left.
    async fn pause(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        tokio::time::sleep(self.next).await;
        self.next = self.next.saturating_mul(2);
        true
    }
}

/// The one slot of a command's keys (`None` without keys); keys in several slots, which no
/// node holds together, are [`Error::CrossSlot`] before anything is sent.
fn slot_of(command: &Cmd) -> Result<Option<u16>> {
    match command.key_slot() {
        KeySlot::None => Ok(None),
        KeySlot::One(slot) => Ok(Some(slot)),
        KeySlot::Cross(..) => Err(cross_slot(command)),
    }
}

/// [`Error::CrossSlot`] for a command whose keys are in several slots.
fn cross_slot(command: &Cmd) -> Error {
    let slots = match command.key_slot() {
        KeySlot::Cross(a, b) => vec![a, b],
        _ => Vec::new(),
    };
    Error::CrossSlot {
        command: command.name().to_owned(),
        slots,
    }
}

/// Whether a request certainly never reached the server: sending it again is safe.
fn never_sent(e: &Error) -> bool {
    match e {
        Error::Connect { .. } | Error::ConnectionClosed { sent: false, .. } => true,
        // The connection, handshake included, did not come up in time.
        Error::Timeout { command, .. } => command == "connect",
        _ => false,
    }
}

/// Whether a request that failed with `e` may be sent again: it certainly never arrived, or
/// it only reads (`read_only`), so running it twice changes nothing.
fn may_send_again(e: &Error, read_only: bool) -> bool {
    never_sent(e) || (read_only && e.is_connection_dropped())
}

/// Sends `c` to `node` and parses its reply; an error reply is [`Error::Server`].
async fn ask(node: &Node, c: Cmd) -> Result<crate::resp::Value> {
    let name = c.name_cow();
    match node
        .lanes
        .request(Payload::One(c), Expect::Replies(1))
        .await?
    {
        Reply::One(frame) => frame.into_result(&name)?.parse(),
        Reply::Many(_) => Err(Error::protocol("one reply expected")),
    }
}

/// Runs every future at once; their outcomes in order.
async fn join_all<F: Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut outcomes: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, outcome) in futures.iter_mut().zip(outcomes.iter_mut()) {
            if outcome.is_none() {
                match Pin::new(&mut *future).poll(cx) {
                    Poll::Ready(v) => *outcome = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outcomes
        .into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}

impl Cluster {
    /// Hash tags placing a model's index on each master holding its documents. Each master
    /// indexes only its own documents, so search keeps one index per master, under
    /// [`Cluster::master_tags`]. Documents whose key prefix has a hash tag all live in that
    /// tag's slot: their one index takes the same tag.
    pub(crate) fn search_tags(&self, key_prefix: &str) -> Vec<String> {
        let prefix = key_prefix.as_bytes();
        let tag = slot::hash_tag(prefix);
        if tag.len() < prefix.len() {
            // The index in the documents' own slot, where a search can read them.
            return vec![format!("{{{}}}", String::from_utf8_lossy(tag))];
        }
        self.master_tags()
            .into_iter()
            .map(|(tag, _)| format!("{{{tag}}}"))
            .collect()
    }

    /// For each master serving slots, a hash tag `n` (the smallest) whose slot it serves, and
    /// that slot: a name carrying `{n}`, or a command routed to that slot, goes to that master.
    pub(crate) fn master_tags(&self) -> Vec<(String, u16)> {
        self.shared.routes().tags.clone()
    }
}

/// [`Cluster::master_tags`] of `map`, whose first `masters` shards have master nodes.
fn master_tags(map: &SlotMap, masters: usize) -> Vec<(String, u16)> {
    let mut tags: Vec<Option<(String, u16)>> = vec![None; masters];
    let mut missing = (0..masters).filter(|&i| map.serves_slots(i)).count();
    // A master with a single slot is found after about 16,384 tries; the bound only stops a
    // map whose masters serve no slot at all.
    for n in 0..1_000_000u32 {
        if missing == 0 {
            break;
        }
        let tag = n.to_string();
        let slot = slot::slot(tag.as_bytes());
        if let Some(i) = map.owner(slot).filter(|&i| i < masters) {
            if tags[i].is_none() {
                tags[i] = Some((tag, slot));
                missing -= 1;
            }
        }
    }
    tags.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn backoff_doubles_its_pause_up_to_the_budget() {
        let mut cluster = ClusterConfig::new(Vec::new());
        cluster.max_retries = 3;
        cluster.retry_delay = Duration::from_millis(5);
        let mut backoff = Backoff::new(&cluster);
        let started = Instant::now();
        for _ in 0..3 {
            assert!(backoff.pause().await);
        }
        // 5 + 10 + 20 ms.
        assert!(started.elapsed() >= Duration::from_millis(35));
        let spent = Instant::now();
        assert!(!backoff.pause().await);
        assert!(
            spent.elapsed() < Duration::from_millis(5),
            "no pause once spent"
        );
    }

    #[test]
    fn only_unsent_requests_are_certainly_safe_to_send_again() {
        let refused = Error::Connect {
            node: "n".into(),
            source: std::io::ErrorKind::ConnectionRefused.into(),
        };
        let queued = Error::ConnectionClosed {
            node: "n".into(),
            sent: false,
        };
        let connect_timeout = Error::Timeout {
            command: "connect".into(),
            after: Duration::from_secs(1),
        };
        for unsent in [refused, queued, connect_timeout] {
            assert!(never_sent(&unsent), "{unsent:?}");
        }
        let in_flight = Error::ConnectionClosed {
            node: "n".into(),
            sent: true,
        };
        let reset = Error::Io {
            node: "n".into(),
            source: std::io::ErrorKind::ConnectionReset.into(),
        };
        let slow = Error::Timeout {
            command: "SET".into(),
            after: Duration::from_secs(1),
        };
        for maybe_sent in [in_flight, reset, slow] {
            assert!(!never_sent(&maybe_sent), "{maybe_sent:?}");
        }
    }

    #[test]
    fn a_transaction_goes_again_only_if_it_did_not_run() {
        let from = ServerAddr::Tcp {
            host: "10.0.0.1".into(),
            port: 7000,
        };
        let frame = |s: &'static str| Frame::new(bytes::Bytes::from_static(s.as_bytes()));
        let tx = Routed::Transaction(vec![cmd("MULTI"), cmd("SET").key("k").arg(1), cmd("EXEC")]);
        let moved = Reply::Many(vec![
            frame("+OK\r\n"),
            frame("-MOVED 7 10.0.0.2:7001\r\n"),
            frame("-EXECABORT Transaction discarded because of previous errors.\r\n"),
        ]);
        assert!(matches!(
            tx.redirect(&moved, &from),
            Some(Redirect::Moved { slot: 7, .. })
        ));
        let down = Reply::Many(vec![
            frame("-CLUSTERDOWN The cluster is down\r\n"),
            frame("-CLUSTERDOWN The cluster is down\r\n"),
            frame("-ERR EXEC without MULTI\r\n"),
        ]);
        assert_eq!(
            tx.redirect(&down, &from),
            Some(Redirect::Later { refresh: true })
        );
        // EXEC ran: whatever a command inside answered, the transaction is done.
        let ran = Reply::Many(vec![
            frame("+OK\r\n"),
            frame("+QUEUED\r\n"),
            frame("*1\r\n-LOADING Redis is loading\r\n"),
        ]);
        assert_eq!(tx.redirect(&ran, &from), None);
        // A migration's ASK is not followed by a transaction.
        let ask = Reply::Many(vec![
            frame("+OK\r\n"),
            frame("-ASK 7 10.0.0.2:7001\r\n"),
            frame("-EXECABORT Transaction discarded because of previous errors.\r\n"),
        ]);
        assert_eq!(tx.redirect(&ask, &from), None);
        assert!(!tx.is_read_only());
        assert!(Routed::Command(cmd("GET").key("k")).is_read_only());
    }
}
