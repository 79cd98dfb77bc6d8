//! Connection settings and the URLs users of other Redis clients write.
//!
//! ```text
//! redis://[user[:password]@]host[:port][/db][?option=value&…]
//! rediss://…                         (TLS)
//! redis+unix:///path/to/sock[?db=N&…] (also unix://)
//! options: protocol=resp2|resp3, client_name=NAME, db=N
//! redis+cluster://[user[:password]@]host:port,host:port…[?max_redirects=N&read_from=replica]
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::connection::TlsConfig;
use crate::error::{Error, Result};
use crate::resp::DecodeLimits;

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerAddr {
    /// A TCP host (name, IPv4 or IPv6 address) and port.
    Tcp {
        /// Host name or address, without IPv6 brackets.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            ServerAddr::Tcp { host, port } => write!(f, "{host}:{port}"),
            ServerAddr::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The RESP version to speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2: `AUTH` and `CLIENT SETNAME`, no push frames.
    Resp2,
    /// RESP3 through `HELLO 3`, falling back to RESP2 when the server rejects `HELLO`.
    #[default]
    Resp3,
}

/// A password or key: shown as `***` by `Debug`, never logged, never put in an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Pool settings (see [`Pool`](crate::pool::Pool)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open at once. Default 16.
    pub max_size: u32,
    /// Idle connections kept ready. Default none.
    pub min_idle: Option<u32>,
    /// Connections older than this are closed when returned. Default 30 minutes.
    pub max_lifetime: Option<Duration>,
    /// Idle connections are closed after this long. Default 10 minutes.
    pub idle_timeout: Option<Duration>,
    /// How long a checkout may wait for a connection. Default 5 s.
    pub connection_timeout: Duration,
    /// A connection idle longer than this is `PING`ed before it is handed out; a busy one is not,
    /// so checkouts under load cost no round trip. Default 30 s.
    pub health_check_after_idle: Duration,
    /// Connections the [`Client`](crate::Client) shares among all tasks for auto-pipelined
    /// commands. Default 1: one socket coalesces best; more help only with many cores.
    pub multiplexed_connections: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 16,
            min_idle: None,
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            connection_timeout: Duration::from_secs(5),
            health_check_after_idle: Duration::from_secs(30),
            multiplexed_connections: 1,
        }
    }
}

/// Everything needed to open connections to one server.
#[derive(Clone, Debug)]
pub struct Config {
    /// The server's address.
    pub addr: ServerAddr,
    /// TLS settings; `None` for plain TCP.
    pub tls: Option<TlsConfig>,
    /// ACL user name (`AUTH user pass`); `None` for the default user.
    pub username: Option<String>,
    /// Password; `None` for no `AUTH`.
    pub password: Option<Secret>,
    /// Database selected after connecting.
    pub db: i64,
    /// RESP version.
    pub protocol: Protocol,
    /// Connection name set with `SETNAME`.
    pub client_name: Option<String>,
    /// Time allowed for TCP connect, TLS and the handshake. Default 5 s.
    pub connect_timeout: Duration,
    /// Time allowed for each command's reply; `None` waits as long as the connection lives.
    /// Default `None`.
    pub command_timeout: Option<Duration>,
    /// Decoder caps.
    pub limits: DecodeLimits,
    /// Pool settings.
    pub pool: PoolConfig,
    /// Prepended to every model key and index name (`"staging:"`), so several applications or
    /// environments can share a server. Empty by default.
    pub namespace: String,
    /// Set when the deployment is a Redis Cluster; every other setting then applies to each
    /// node, and `addr` is the first seed.
    pub cluster: Option<ClusterConfig>,
    /// Whether each connection sends `READONLY` after the handshake. Set on the connections of
    /// a cluster that reads from replicas: a replica serves reads of its master's slots only to
    /// a connection that asked.
    pub(crate) read_only: bool,
}

/// How to reach a Redis Cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Nodes to learn the cluster's layout from: any one that answers is enough.
    pub seeds: Vec<ServerAddr>,
    /// How many redirections (`MOVED`, `ASK`) one command follows before it fails with
    /// [`Error::TooManyRedirects`]. Default 5.
    pub max_redirects: u32,
    /// Which node of a shard serves read-only commands. Default [`ReadFrom::Master`].
    pub read_from: ReadFrom,
    /// How many times one command is sent again after a reply asking for patience
    /// (`TRYAGAIN` during a migration, `CLUSTERDOWN`, `LOADING`) or while the node serving its
    /// slot cannot be reached (a failover), re-reading the slot map in between. Default 5.
    pub max_retries: u32,
    /// The pause before the first of those retries; each later pause is twice the one before.
    /// Default 30 ms, so the default retries span about a second.
    pub retry_delay: Duration,
}

impl ClusterConfig {
    /// A cluster known by these seed nodes, with every default.
    pub fn new(seeds: Vec<ServerAddr>) -> Self {
        ClusterConfig {
            seeds,
            max_redirects: 5,
            read_from: ReadFrom::Master,
            max_retries: 5,
            retry_delay: Duration::from_millis(30),
        }
    }
}

/// Which node of a cluster shard serves a read-only command (`GET`, `HGETALL`, `JSON.GET`, …;
/// writes always go to the master).
///
/// A replica copies its master asynchronously: a read from a replica may not see a write the
/// master has acknowledged a moment before.
///
/// ```
/// use redis_model::{Config, ReadFrom};
/// let c = Config::from_url("redis+cluster://10.0.0.1:7000?read_from=replica").unwrap();
/// assert_eq!(c.cluster.unwrap().read_from, ReadFrom::Replica);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadFrom {
    /// The master of the slot, which sees every acknowledged write.
    #[default]
    Master,
    /// A replica of the slot's master, in turn if it has several; the master if it has none
    /// online.
    Replica,
    /// The master and its online replicas, in turn.
    RoundRobin,
}

impl Config {
    /// Settings for a plain TCP server with every default.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Config {
            addr: ServerAddr::Tcp {
                host: host.into(),
                port,
            },
            tls: None,
            username: None,
            password: None,
            db: 0,
            protocol: Protocol::Resp3,
            client_name: None,
            connect_timeout: Duration::from_secs(5),
            command_timeout: None,
            limits: DecodeLimits::default(),
            pool: PoolConfig::default(),
            namespace: String::new(),
            cluster: None,
            read_only: false,
        }
    }

    /// Settings for a Redis Cluster known by these seed nodes (plain TCP, every default).
    pub fn cluster(seeds: Vec<ServerAddr>) -> Self {
        let first = seeds.first().cloned().unwrap_or(ServerAddr::Tcp {
            host: String::new(),
            port: 0,
        });
        let mut config = Config::tcp("", 0);
        config.addr = first;
        config.cluster = Some(ClusterConfig::new(seeds));
        config
    }

    /// These settings for one node of a cluster: the same credentials, TLS and limits, its
    /// address. When reads go to replicas every node's connections send `READONLY`, masters'
    /// too (where it changes nothing): a node keeps its connections when a failover changes
    /// its role.
    pub(crate) fn for_node(&self, addr: ServerAddr) -> Config {
        let read_only = self
            .cluster
            .as_ref()
            .is_some_and(|c| c.read_from != ReadFrom::Master);
        Config {
            addr,
            cluster: None,
            read_only,
            ..self.clone()
        }
    }

    /// Parses a connection URL.
    ///
    /// ```
    /// use redis_model::{Config, ServerAddr};
    /// let c = Config::from_url("redis://app:s3cret@cache.internal:6380/2?client_name=web").unwrap();
    /// assert_eq!(c.addr, ServerAddr::Tcp { host: "cache.internal".into(), port: 6380 });
    /// assert_eq!((c.username.as_deref(), c.db), (Some("app"), 2));
    /// assert!(!format!("{c:?}").contains("s3cret"));
    /// assert!(Config::from_url("redis://host:port").is_err());
    ///
    /// // A cluster: seed nodes separated by commas; any one that answers is enough.
    /// let c = Config::from_url("redis+cluster://app:s3cret@10.0.0.1:7000,10.0.0.2:7001").unwrap();
    /// assert_eq!(c.cluster.unwrap().seeds.len(), 2);
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::config("scheme", "missing `scheme://`"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut config = match scheme {
            "redis" | "rediss" => {
                let mut c = parse_tcp(rest)?;
                if scheme == "rediss" {
                    c.tls = Some(TlsConfig::new());
                }
                c
            }
            "redis+cluster" | "rediss+cluster" => {
                let mut c = parse_cluster(rest)?;
                if scheme == "rediss+cluster" {
                    c.tls = Some(TlsConfig::new());
                }
                c
            }
            "redis+unix" | "unix" => {
                if rest.is_empty() {
                    return Err(Error::config("path", "a Unix socket URL needs a path"));
                }
                let mut c = Config::tcp("", 0);
                c.addr = ServerAddr::Unix(PathBuf::from(percent_decode(rest, "path")?));
                c
            }
            other => {
                return Err(Error::config(
                    "scheme",
                    format!(
                        "`{other}` is not one of redis, rediss, redis+cluster, rediss+cluster, \
                         redis+unix, unix"
                    ),
                ))
            }
        };
        if let Some(query) = query {
            config.apply_query(query)?;
        }
        Ok(config)
    }

    fn apply_query(&mut self, query: &str) -> Result<()> {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value, "query")?;
            match key {
                "protocol" => {
                    self.protocol = match value.to_ascii_lowercase().as_str() {
                        "resp2" | "2" => Protocol::Resp2,
                        "resp3" | "3" => Protocol::Resp3,
                        _ => return Err(Error::config("protocol", "expected resp2 or resp3")),
                    }
                }
                "client_name" => self.client_name = Some(value),
                "db" => self.db = parse_db(&value)?,
                "max_redirects" => {
                    self.cluster_option("max_redirects")?.max_redirects =
                        value.parse().map_err(|_| {
                            Error::config("max_redirects", "expected a number of redirections")
                        })?;
                }
                "read_from" => {
                    self.cluster_option("read_from")?.read_from =
                        match value.to_ascii_lowercase().as_str() {
                            "master" => ReadFrom::Master,
                            "replica" => ReadFrom::Replica,
                            "round_robin" => ReadFrom::RoundRobin,
                            _ => {
                                return Err(Error::config(
                                    "read_from",
                                    "expected master, replica or round_robin",
                                ))
                            }
                        };
                }
                other => {
                    return Err(Error::config(
                        "query",
                        format!(
                            "unknown option `{other}` (known: protocol, client_name, db, \
                             max_redirects, read_from)"
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    /// The cluster settings a URL option named `option` sets; an error for a URL that is not
    /// a cluster's.
    fn cluster_option(&mut self, option: &'static str) -> Result<&mut ClusterConfig> {
        self.cluster
            .as_mut()
            .ok_or_else(|| Error::config(option, "only a cluster URL takes it"))
    }
}

fn parse_tcp(rest: &str) -> Result<Config> {
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    let (userinfo, hostport) = split_userinfo(authority);
    let mut config = Config::tcp("", 0);
    config.addr = parse_host_port(hostport)?;
    apply_userinfo(&mut config, userinfo)?;
    if !path.is_empty() {
        config.db = parse_db(path)?;
    }
    Ok(config)
}

/// `[user[:password]@]host[:port],host[:port]…[/0]`: a cluster's seeds share the credentials.
fn parse_cluster(rest: &str) -> Result<Config> {
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    let (userinfo, hosts) = split_userinfo(authority);
    let seeds = hosts
        .split(',')
        .map(parse_host_port)
        .collect::<Result<Vec<_>>>()?;
    let mut config = Config::cluster(seeds);
    apply_userinfo(&mut config, userinfo)?;
    if !path.is_empty() && parse_db(path)? != 0 {
        return Err(Error::config("db", "a cluster has database 0 only"));
    }
    Ok(config)
}

/// The credentials and the rest of a URL's authority. The last `@` ends the credentials: a
/// password may contain `@` if percent-encoded or not.
fn split_userinfo(authority: &str) -> (Option<&str>, &str) {
    match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    }
}

fn parse_host_port(hostport: &str) -> Result<ServerAddr> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| Error::config("host", "unclosed `[` in IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| Error::config("port", "expected `:` after `]`"))?,
            ),
        };
        (host, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(Error::config("host", "missing host"));
    }
    let port = match port {
        None => 6379,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| Error::config("port", "expected a number from 1 to 65535"))?,
    };
    Ok(ServerAddr::Tcp {
        host: host.to_owned(),
        port,
    })
}

fn apply_userinfo(config: &mut Config, userinfo: Option<&str>) -> Result<()> {
    let Some(userinfo) = userinfo else {
        return Ok(());
    };
    let (user, pass) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let user = percent_decode(user, "username")?;
    match pass {
        Some(p) => {
            config.password = Some(Secret::new(percent_decode(p, "password")?));
            config.username = (!user.is_empty()).then_some(user);
        }
        // `redis://secret@host` is how several clients spell a password without a user.
        None if !user.is_empty() => config.password = Some(Secret::new(user)),
        None => {}
    }
    Ok(())
}

fn parse_db(s: &str) -> Result<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|db| *db >= 0)
        .ok_or_else(|| Error::config("db", "expected a non-negative database number"))
}

fn percent_decode(s: &str, part: &'static str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::config(part, "malformed percent-encoding"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::config(part, "not UTF-8 after percent-decoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = Config::from_url("redis://localhost").unwrap();
        assert_eq!(c.addr.to_string(), "localhost:6379");
        assert_eq!(
            (c.db, c.protocol, c.tls.is_none()),
            (0, Protocol::Resp3, true)
        );

        let c = Config::from_url("rediss://:p%40ss@[::1]:7000/3?protocol=resp2").unwrap();
        assert_eq!(c.addr.to_string(), "[::1]:7000");
        assert_eq!(c.password.as_ref().unwrap().expose(), "p@ss");
        assert_eq!((c.username, c.db, c.protocol), (None, 3, Protocol::Resp2));
        assert!(c.tls.is_some());

        let c = Config::from_url("redis+unix:///tmp/redis.sock?db=1&client_name=a%20b").unwrap();
        assert_eq!(c.addr, ServerAddr::Unix("/tmp/redis.sock".into()));
        assert_eq!((c.db, c.client_name.as_deref()), (1, Some("a b")));

        let c = Config::from_url("redis://onlypass@h").unwrap();
        assert_eq!(c.password.unwrap().expose(), "onlypass");
    }

    #[test]
    fn cluster_urls() {
        let c = Config::from_url(
            "rediss+cluster://app:p%40ss@10.0.0.1:7000,[::1]:7001,node-c?max_redirects=3&protocol=resp2",
        )
        .unwrap();
        let cluster = c.cluster.as_ref().unwrap();
        let seeds: Vec<String> = cluster.seeds.iter().map(ToString::to_string).collect();
        assert_eq!(seeds, ["10.0.0.1:7000", "[::1]:7001", "node-c:6379"]);
        assert_eq!(cluster.max_redirects, 3);
        assert_eq!(cluster.read_from, ReadFrom::Master);
        assert_eq!(c.addr.to_string(), "10.0.0.1:7000");
        assert_eq!(c.username.as_deref(), Some("app"));
        assert_eq!(c.password.as_ref().map(|p| p.expose()), Some("p@ss"));
        assert!(c.tls.is_some());
        assert_eq!(c.protocol, Protocol::Resp2);
        // Each node is reached with the same settings at its own address.
        let node = c.for_node(cluster.seeds[1].clone());
        assert_eq!(node.addr.to_string(), "[::1]:7001");
        assert!(node.cluster.is_none() && node.tls.is_some());
        assert_eq!(node.username.as_deref(), Some("app"));
        assert!(!node.read_only);
        assert!(Config::from_url("redis+cluster://a:1/0").is_ok());
    }

    #[test]
    fn replica_reads() {
        for (option, read_from) in [
            ("master", ReadFrom::Master),
            ("replica", ReadFrom::Replica),
            ("Round_Robin", ReadFrom::RoundRobin),
        ] {
            let c =
                Config::from_url(&format!("redis+cluster://a:1,b:2?read_from={option}")).unwrap();
            assert_eq!(c.cluster.as_ref().unwrap().read_from, read_from);
            // Every node's connections ask for replica reads, or none do.
            let node = c.for_node(ServerAddr::Tcp {
                host: "b".into(),
                port: 2,
            });
            assert_eq!(node.read_only, read_from != ReadFrom::Master, "{option}");
            assert!(!c.read_only);
        }
        let defaults = ClusterConfig::new(vec![]);
        assert_eq!(
            (defaults.max_retries, defaults.retry_delay),
            (5, Duration::from_millis(30))
        );
    }

    #[test]
    fn bad_urls_name_the_part() {
        for (url, part) in [
            ("localhost:6379", "scheme"),
            ("http://h", "scheme"),
            ("redis://h:99999", "port"),
            ("redis://h:", "port"),
            ("redis://:6379", "host"),
            ("redis://h/x", "db"),
            ("redis://h/-1", "db"),
            ("redis://h?protocol=resp4", "protocol"),
            ("redis://h?color=red", "query"),
            ("redis://u:%zz@h", "password"),
            ("redis://[::1", "host"),
            ("unix://", "path"),
            ("redis+cluster://a:1,,b:2", "host"),
            ("redis+cluster://a:1,b:x", "port"),
            ("redis+cluster://a:1/2", "db"),
            ("redis+cluster://a:1?max_redirects=many", "max_redirects"),
            ("redis://a:1?max_redirects=3", "max_redirects"),
            ("redis+cluster://a:1?read_from=nearest", "read_from"),
            ("redis://a:1?read_from=replica", "read_from"),
        ] {
            match Config::from_url(url) {
                Err(Error::Config { part: p, .. }) => assert_eq!(p, part, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn secrets_stay_hidden() {
        let c = Config::from_url("redis://user:hunter2@h").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("***"));
        let e = Config::from_url("redis://user:hunter2@h:bad").unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
    }
}
