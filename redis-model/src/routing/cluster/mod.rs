//! Redis Cluster: each command goes to the master serving its keys' slot. The slot map is
//! learnt from the cluster when the client connects and kept current by the redirections nodes
//! answer with.
//!
//! | file | what it holds |
//! |---|---|
//! | `slot.rs` | the slot of a key: CRC16, `{hash tags}` |
//! | `slot_map.rs` | which node serves which slot, from `CLUSTER SHARDS` or `CLUSTER SLOTS` |
//! | `redirect.rs` | `MOVED` and `ASK` replies |
//!
//! Each master is a [`Node`]: its own pool and shared, auto-pipelined connections, as a
//! standalone client has for its one server. A command's slot was worked out when it was built
//! ([`Cmd::key`]), so routing it is an index into the slot table and two reference counts.

pub(crate) mod redirect;
pub(crate) mod slot;
pub(crate) mod slot_map;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use redirect::{redirect, Redirect};
use slot_map::SlotMap;

use crate::commands::{cmd, Cmd, KeySlot};
use crate::config::{Config, ServerAddr};
use crate::connection::{Expect, Payload, Reply};
use crate::error::{Error, Result};
use crate::pipeline::auto::Lanes;
use crate::pool::{self, Pool};
use crate::resp::Frame;

/// The shortest time between two refreshes of the slot map that a `MOVED` asks for: a
/// resharding answers many commands with `MOVED` at once, and one refresh serves them all.
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
    seeds: Vec<ServerAddr>,
    max_redirects: u32,
    routes: RwLock<Arc<Routes>>,
    /// Every node connected to so far, by address: kept across refreshes, so a node keeps its
    /// connections while it serves slots.
    nodes: Mutex<HashMap<String, Arc<Node>>>,
    /// Held while the slot map is fetched, with the time of the last fetch: one refresh at a
    /// time, and none sooner than [`REFRESH_INTERVAL`] after the last.
    refresh: tokio::sync::Mutex<Option<Instant>>,
    /// Which master a command without keys goes to next.
    next_master: AtomicUsize,
}

/// The slot map, with each shard's master node in the map's shard order.
struct Routes {
    map: SlotMap,
    masters: Vec<Arc<Node>>,
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
            .as_ref()
            .ok_or_else(|| Error::config("cluster", "no seed nodes"))?;
        if cluster.seeds.is_empty() {
            return Err(Error::config("cluster", "no seed nodes"));
        }
        let shared = Shared {
            config: config.clone(),
            seeds: cluster.seeds.clone(),
            max_redirects: cluster.max_redirects,
            routes: RwLock::new(Arc::new(Routes {
                map: SlotMap::default(),
                masters: Vec::new(),
            })),
            nodes: Mutex::new(HashMap::new()),
            refresh: tokio::sync::Mutex::new(None),
            next_master: AtomicUsize::new(0),
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
                Payload::One(cmd) => self.shared.one(cmd, expect).await,
                Payload::Many(cmds) => self.shared.many(cmds, expect).await,
            }
        })
    }

    /// The pool exclusive connections come from.
    pub(crate) fn pool(&self) -> &Pool {
        &self.exclusive
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

    /// Fetches the slot map again, unless one was fetched less than [`REFRESH_INTERVAL`] ago
    /// (`None`: whenever it was). Tasks asking at once share one fetch.
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
        for shard in map.shards() {
            masters.push(self.node(&shard.master).await?);
        }
        *self.routes.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Routes { map, masters });
        *last = Some(Instant::now());
        Ok(())
    }

    /// The slot map, from the first node that tells it: the known masters, then the seeds.
    async fn fetch_map(&self) -> Result<SlotMap> {
        let routes = self.routes();
        let candidates = routes
            .map
            .shards()
            .iter()
            .map(|s| &s.master)
            .chain(&self.seeds);
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
        match ask(&node, cmd("CLUSTER").arg("SHARDS")).await {
            Ok(shards) => SlotMap::from_shards(&shards, host, self.config.tls.is_some()),
            Err(Error::Server { .. }) => {
                let slots = ask(&node, cmd("CLUSTER").arg("SLOTS")).await?;
                SlotMap::from_slots(&slots, host)
            }
            Err(e) => Err(e),
        }
    }

    /// The master serving `slot`, or any master for a command without keys.
    fn master(&self, routes: &Routes, slot: Option<u16>) -> Option<Arc<Node>> {
        match slot {
            Some(slot) => routes.map.owner(slot).map(|i| routes.masters[i].clone()),
            None if routes.masters.is_empty() => None,
            None => {
                let i = self.next_master.fetch_add(1, Ordering::Relaxed) % routes.masters.len();
                Some(routes.masters[i].clone())
            }
        }
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
            if masters.len() < map.shards().len() {
                masters.push(node.clone());
            }
            *routes = Arc::new(Routes { map, masters });
        }
        let shared = self.clone();
        tokio::spawn(async move {
            // A failed refresh is retried by the next command it leaves misrouted.
            let _ = shared.refresh(Some(REFRESH_INTERVAL)).await;
        });
        Ok(node)
    }

    /// One command, to the master of its slot, following redirections.
    async fn one(self: &Arc<Self>, command: Cmd, expect: Expect) -> Result<Reply> {
        let slot = slot_of(&command)?;
        let mut redirected: Option<(Arc<Node>, bool)> = None;
        let mut visited = Vec::new();
        let mut rerouted = false;
        for _ in 0..=self.max_redirects {
            let (node, asking) = match redirected.take() {
                Some(to) => to,
                None => (self.serving(slot).await?, false),
            };
            visited.push(node.addr.to_string());
            let reply = if asking {
                // `ASKING` lets the importing node serve the next command for a slot it does
                // not own yet.
                let both = Payload::Many(vec![cmd("ASKING"), command.clone()]);
                match node.lanes.request(both, Expect::Replies(2)).await? {
                    Reply::Many(mut frames) if frames.len() == 2 => {
                        Reply::One(frames.pop().expect("two frames"))
                    }
                    _ => return Err(Error::protocol("ASKING: not two replies")),
                }
            } else {
                match node
                    .lanes
                    .request(Payload::One(command.clone()), expect)
                    .await
                {
                    Ok(reply) => reply,
                    // The node is gone and the command never reached it: the map may be
                    // stale. Once, read it again and send the command where it says.
                    Err(e) if never_sent(&e) && !rerouted => {
                        rerouted = true;
                        self.refresh(Some(REFRESH_INTERVAL)).await?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            };
            let Reply::One(frame) = &reply else {
                return Ok(reply);
            };
            match redirect(frame, &node.addr) {
                None => return Ok(reply),
                Some(Redirect::Moved { slot, to }) => {
                    redirected = Some((self.moved(slot, &to).await?, false));
                }
                Some(Redirect::Ask { to, .. }) => redirected = Some((self.node(&to).await?, true)),
            }
        }
        Err(Error::TooManyRedirects {
            command: command.name().to_owned(),
            slot: slot.unwrap_or(0),
            nodes: visited,
        })
    }

    /// The master serving `slot` (any master when `None`), refreshing the map once if no node
    /// serves it.
    async fn serving(&self, slot: Option<u16>) -> Result<Arc<Node>> {
        if let Some(node) = self.master(&self.routes(), slot) {
            return Ok(node);
        }
        self.refresh(Some(REFRESH_INTERVAL)).await?;
        self.master(&self.routes(), slot)
            .ok_or_else(|| Error::ClusterUnavailable {
                last: Box::new(Error::protocol(format!(
                    "no node serves slot {}",
                    slot.unwrap_or(0)
                ))),
            })
    }

    /// A pipeline: split by the node serving each command, sent to every node at once, the
    /// replies put back in the caller's order. A command a node redirected is sent again on
    /// its own. An atomic pipeline (`MULTI` … `EXEC`) must have all its keys in one slot.
    async fn many(self: &Arc<Self>, cmds: Vec<Cmd>, expect: Expect) -> Result<Reply> {
        let mut slots = Vec::with_capacity(cmds.len());
        let mut together = KeySlot::None;
        for c in &cmds {
            let slot = slot_of(c)?;
            if let Some(slot) = slot {
                together = together.with(slot);
            }
            slots.push(slot);
        }
        let atomic = cmds.first().is_some_and(|c| c.name() == "MULTI");
        if atomic {
            return match together {
                KeySlot::Cross(a, b) => Err(Error::CrossSlot {
                    command: "MULTI".to_owned(),
                    slots: vec![a, b],
                }),
                KeySlot::One(slot) => self.whole(cmds, expect, Some(slot)).await,
                KeySlot::None => self.whole(cmds, expect, None).await,
            };
        }
        let routes = self.routes();
        let mut groups: Vec<(Arc<Node>, Vec<usize>)> = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            let node = match self.master(&routes, *slot) {
                Some(node) => node,
                None => self.serving(*slot).await?,
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
            let got = match reply? {
                Reply::Many(frames) => frames,
                Reply::One(frame) => vec![frame],
            };
            for (&i, frame) in members.iter().zip(got) {
                frames[i] = Some(match redirect(&frame, &node.addr) {
                    None => frame,
                    Some(_) => match self.one(cmds[i].clone(), Expect::Replies(1)).await? {
                        Reply::One(frame) => frame,
                        Reply::Many(_) => return Err(Error::protocol("one reply expected")),
                    },
                });
            }
        }
        let frames = frames
            .into_iter()
            .map(|f| f.ok_or_else(|| Error::protocol("a pipeline reply is missing")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Reply::Many(frames))
    }

    /// A pipeline sent whole to the master of `slot`, following a `MOVED` that its first
    /// redirected reply names (a transaction a node redirected did not run).
    async fn whole(
        self: &Arc<Self>,
        cmds: Vec<Cmd>,
        expect: Expect,
        slot: Option<u16>,
    ) -> Result<Reply> {
        let mut node = self.serving(slot).await?;
        let mut visited = Vec::new();
        for _ in 0..=self.max_redirects {
            visited.push(node.addr.to_string());
            let reply = node
                .lanes
                .request(Payload::Many(cmds.clone()), expect)
                .await?;
            let moved = match &reply {
                Reply::Many(frames) => frames.iter().find_map(|f| match redirect(f, &node.addr) {
                    Some(Redirect::Moved { slot, to }) => Some((slot, to)),
                    _ => None,
                }),
                Reply::One(_) => None,
            };
            match moved {
                None => return Ok(reply),
                Some((slot, to)) => node = self.moved(slot, &to).await?,
            }
        }
        Err(Error::TooManyRedirects {
            command: "MULTI".to_owned(),
            slot: slot.unwrap_or(0),
            nodes: visited,
        })
    }
}

/// The one slot of a command's keys (`None` without keys); keys in several slots, which no
/// node holds together, are [`Error::CrossSlot`] before anything is sent.
fn slot_of(command: &Cmd) -> Result<Option<u16>> {
    match command.key_slot() {
        KeySlot::None => Ok(None),
        KeySlot::One(slot) => Ok(Some(slot)),
        KeySlot::Cross(a, b) => Err(Error::CrossSlot {
            command: command.name().to_owned(),
            slots: vec![a, b],
        }),
    }
}

/// Whether a request certainly never reached the server: sending it elsewhere is safe.
fn never_sent(e: &Error) -> bool {
    matches!(
        e,
        Error::Connect { .. } | Error::ConnectionClosed { sent: false, .. }
    )
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
    /// Hash tags placing a model's index on each master holding its documents: `{n}` with the
    /// smallest `n` whose slot that master serves. Each master indexes only its own documents,
    /// so search keeps one index per master. Documents whose key prefix has a hash tag all live
    /// in that tag's slot: their one index takes the same tag.
    pub(crate) fn search_tags(&self, key_prefix: &str) -> Vec<String> {
        let routes = self.shared.routes();
        let prefix = key_prefix.as_bytes();
        let tag = slot::hash_tag(prefix);
        if tag.len() < prefix.len() {
            // The index in the documents' own slot, where a search can read them.
            return vec![format!("{{{}}}", String::from_utf8_lossy(tag))];
        }
        let mut tags: Vec<Option<String>> = vec![None; routes.masters.len()];
        let wanted: Vec<bool> = (0..routes.masters.len())
            .map(|i| routes.map.serves_slots(i))
            .collect();
        let mut missing = wanted.iter().filter(|&&w| w).count();
        // A master with a single slot is found after about 16,384 tries; the bound only stops
        // a map that changed under the search.
        for n in 0..1_000_000u32 {
            if missing == 0 {
                break;
            }
            let tag = n.to_string();
            if let Some(i) = routes.map.owner(slot::slot(tag.as_bytes())) {
                if wanted[i] && tags[i].is_none() {
                    tags[i] = Some(format!("{{{tag}}}"));
                    missing -= 1;
                }
            }
        }
        tags.into_iter().flatten().collect()
    }
}
