//! A Redis Cluster of real servers on loopback ports, for the cluster suites.
//!
//! [`RedisCluster::start`] starts every node at once, joins them with
//! `redis-cli --cluster create`, and returns only once every node agrees the cluster is whole:
//! all slots served, every node known to every other, every replica in sync with its master.
//! Nodes are [`RedisServer`]s, so each is killed when the cluster is dropped, when a test
//! panics too.
//!
//! Everything here runs `redis-cli` subprocesses rather than a client, so that starting and
//! inspecting a cluster needs no async runtime and works from inside a `#[tokio::test]`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::{free_port, redis_cli, RedisServer, ServerOptions};

/// How long a node may stay unreachable before the others mark it failed. Short, so that
/// failover tests see a replica promoted within a few seconds.
const NODE_TIMEOUT_MS: u32 = 2000;

/// How long a new cluster may take to agree on its layout before [`RedisCluster::start`]
/// gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The number of hash slots a cluster divides its keys into.
const SLOTS: usize = 16384;

/// A running Redis Cluster; dropping it kills every node.
#[derive(Debug)]
pub struct RedisCluster {
    /// The running nodes by port; [`RedisCluster::kill`] removes one.
    nodes: BTreeMap<u16, RedisServer>,
}

impl RedisCluster {
    /// A cluster of plain nodes: `masters` masters sharing the slots, each with
    /// `replicas_per_master` replicas.
    pub fn start(masters: usize, replicas_per_master: usize) -> Self {
        Self::start_with(ServerOptions::default(), masters, replicas_per_master)
    }

    /// Three masters with one replica each, every node loading RediSearch and RedisJSON.
    pub fn start_stack() -> Self {
        Self::start_with(ServerOptions::default().stack(), 3, 1)
    }

    fn start_with(options: ServerOptions, masters: usize, replicas_per_master: usize) -> Self {
        // Cluster creation itself refuses fewer than three masters.
        assert!(masters >= 3, "a Redis Cluster needs at least 3 masters");
        let count = masters * (1 + replicas_per_master);
        // Loading modules is most of a node's start, and nodes need nothing from each other
        // until they are joined: start them side by side.
        let nodes: Vec<RedisServer> = std::thread::scope(|s| {
            let starts: Vec<_> = (0..count)
                .map(|_| s.spawn(|| RedisServer::start_retrying(|| node_options(&options))))
                .collect();
            starts
                .into_iter()
                .map(|start| {
                    start
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p))
                })
                .collect()
        });
        let cluster = RedisCluster {
            nodes: nodes.into_iter().map(|n| (n.port(), n)).collect(),
        };
        cluster.create(replicas_per_master);
        cluster.wait_ready(masters, replicas_per_master);
        cluster
    }

    /// Assigns the slots and the replicas, and introduces the nodes to each other.
    fn create(&self, replicas_per_master: usize) {
        let out = redis_cli()
            .arg("--cluster")
            .arg("create")
            .args(self.nodes.keys().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", &replicas_per_master.to_string()])
            .arg("--cluster-yes")
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits until every node agrees on a whole cluster of this shape, or panics saying what
    /// was still missing.
    fn wait_ready(&self, masters: usize, replicas_per_master: usize) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let missing = self
                .nodes
                .keys()
                .find_map(|&port| self.not_ready(port, masters, replicas_per_master));
            let Some(missing) = missing else { return };
            if Instant::now() > deadline {
                panic!(
                    "cluster on ports {:?} not ready after {} s: {missing}",
                    self.ports(),
                    READY_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the node on `port` does not yet see of a whole cluster, or `None` if it sees it
    /// all.
    fn not_ready(&self, port: u16, masters: usize, replicas_per_master: usize) -> Option<String> {
        let node = &self.nodes[&port];
        let info = node.cli(&["CLUSTER", "INFO"]);
        for want in [
            "cluster_state:ok".to_owned(),
            format!("cluster_slots_assigned:{SLOTS}"),
            format!("cluster_slots_ok:{SLOTS}"),
            format!("cluster_known_nodes:{}", self.nodes.len()),
        ] {
            if !info.lines().any(|l| l.trim() == want) {
                return Some(format!("node {port} lacks {want} in CLUSTER INFO:\n{info}"));
            }
        }
        let view = node.cli(&["CLUSTER", "NODES"]);
        let lines: Vec<NodeLine> = view.lines().filter_map(NodeLine::parse).collect();
        let settled = lines.len() == self.nodes.len()
            && lines.iter().filter(|l| l.is_master()).count() == masters
            && lines.iter().filter(|l| l.is_replica()).count() == masters * replicas_per_master
            && !lines
                .iter()
                .any(|l| l.has_flag("fail") || l.has_flag("fail?") || l.has_flag("handshake"));
        if !settled {
            return Some(format!("node {port} sees in CLUSTER NODES:\n{view}"));
        }
        // A replica that never synced holds no data and refuses to fail over: wait for it.
        if lines.iter().any(|l| l.has_flag("myself") && l.is_replica()) {
            let replication = node.cli(&["INFO", "replication"]);
            if !replication
                .lines()
                .any(|l| l.trim() == "master_link_status:up")
            {
                return Some(format!("replica {port} not in sync:\n{replication}"));
            }
        }
        None
    }

    /// Ports of every running node, masters and replicas.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.keys().copied().collect()
    }

    /// Ports of the running masters, as the cluster sees them now (a failover changes them).
    pub fn master_ports(&self) -> Vec<u16> {
        self.running_where(NodeLine::is_master)
    }

    /// Ports of the running replicas, as the cluster sees them now.
    pub fn replica_ports(&self) -> Vec<u16> {
        self.running_where(NodeLine::is_replica)
    }

    /// Running nodes whose line in a running node's `CLUSTER NODES` matches `keep`.
    fn running_where(&self, keep: fn(&NodeLine) -> bool) -> Vec<u16> {
        let (&port, node) = self.nodes.iter().next().expect("every node was killed");
        let view = node.cli(&["CLUSTER", "NODES"]);
        assert!(
            !view.trim().is_empty(),
            "node {port} answered nothing to CLUSTER NODES"
        );
        let mut ports: Vec<u16> = view
            .lines()
            .filter_map(NodeLine::parse)
            .filter(|l| keep(l) && self.nodes.contains_key(&l.port))
            .map(|l| l.port)
            .collect();
        ports.sort_unstable();
        ports
    }

    /// The cluster's URL, with the current masters as seeds:
    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,…`.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .master_ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// The running node on `port`, for its own URL, log or process id.
    pub fn node(&self, port: u16) -> &RedisServer {
        self.nodes
            .get(&port)
            .unwrap_or_else(|| panic!("no running cluster node on port {port}"))
    }

    /// Kills the node on `port`, as a crash would; the others notice after the node timeout
    /// and promote one of its replicas if it was a master.
    pub fn kill(&mut self, port: u16) {
        self.nodes
            .remove(&port)
            .unwrap_or_else(|| panic!("no running cluster node on port {port}"));
    }

    /// Runs `redis-cli` against the node on `port` with `args` (`CLUSTER KEYSLOT k`,
    /// `CLUSTER SETSLOT …`) and returns its output.
    pub fn cli(&self, port: u16, args: &[&str]) -> String {
        self.node(port).cli(args)
    }

    /// Moves `slots` slots, keys and all, from the master on `from` to the master on `to` with
    /// `redis-cli --cluster reshard`; returns once they are moved. It blocks meanwhile: from
    /// an async test, call it inside `tokio::task::block_in_place`.
    pub fn reshard(&self, from: u16, to: u16, slots: usize) {
        let id = |port| self.cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
        let out = redis_cli()
            .args(["--cluster", "reshard", &format!("127.0.0.1:{from}")])
            .args(["--cluster-from", &id(from), "--cluster-to", &id(to)])
            .args(["--cluster-slots", &slots.to_string(), "--cluster-yes"])
            .output()
            .expect("run redis-cli --cluster reshard");
        assert!(
            out.status.success(),
            "redis-cli --cluster reshard failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Options for one node: `options` plus cluster mode.
fn node_options(options: &ServerOptions) -> ServerOptions {
    options
        .clone()
        .config("cluster-enabled yes")
        // Relative to the node's `dir`: its own temporary directory.
        .config("cluster-config-file nodes.conf")
        .config(&format!("cluster-node-timeout {NODE_TIMEOUT_MS}"))
        // The default bus port, the client port + 10000, is past 65535 for a fifth of Linux's
        // ephemeral range; a port of its own also spares a clash with another test's server.
        .config(&format!("cluster-port {}", free_port()))
        // A master otherwise waits 5 s for more replicas before a first sync, and
        // `RedisCluster::start` waits for every replica to be in sync.
        .config("repl-diskless-sync-delay 0")
}

/// One line of `CLUSTER NODES`: `<id> <ip:port@bus-port> <flags> <master-id> …`.
struct NodeLine {
    port: u16,
    flags: String,
}

impl NodeLine {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace();
        let address = fields.nth(1)?;
        let flags = fields.next()?.to_owned();
        let (_, port) = address.split('@').next()?.rsplit_once(':')?;
        Some(NodeLine {
            port: port.parse().ok()?,
            flags,
        })
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags.split(',').any(|f| f == flag)
    }

    fn is_master(&self) -> bool {
        self.has_flag("master")
    }

    fn is_replica(&self) -> bool {
        self.has_flag("slave")
    }
}
