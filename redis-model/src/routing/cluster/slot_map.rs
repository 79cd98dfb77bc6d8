//! The slot map: which shard serves each of the 16384 slots, as the client last learned it.
//!
//! It is read whole from `CLUSTER SHARDS` (Redis 7+) or `CLUSTER SLOTS` (older servers), then
//! patched one slot at a time by `MOVED` redirections until the next refresh.
//!
//! ```text
//! CLUSTER SHARDS  [{slots: [0, 5460], nodes: [{endpoint, ip, port, role, health, …}, …]}, …]
//! CLUSTER SLOTS   [[0, 5460, [endpoint, port, id, {ip, hostname}], replica…], …]
//! ```

use std::fmt;

use super::slot::SLOTS;
use crate::config::ServerAddr;
use crate::error::{Error, Result};
use crate::resp::{pairs, take_field, FromRedis, Value};

/// A master and the replicas that copy it: the nodes serving the same slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    /// The node that takes writes for the shard's slots.
    pub(crate) master: ServerAddr,
    /// The replicas that were online when the map was read.
    pub(crate) replicas: Vec<ServerAddr>,
}

/// The entry of a slot no shard serves. Never a shard's index: [`SlotMap::shard_index`] stops
/// short of it.
const UNASSIGNED: u16 = u16::MAX;

/// The cluster's layout as the client sees it.
#[derive(Clone)]
pub(crate) struct SlotMap {
    shards: Vec<Shard>,
    /// For each slot, the index in `shards` of the shard serving it, or [`UNASSIGNED`]: one
    /// 32 KiB table makes a lookup a single load, with nothing to search or allocate.
    owners: Box<[u16; SLOTS as usize]>,
}

impl Default for SlotMap {
    /// No shard, every slot unassigned.
    fn default() -> SlotMap {
        SlotMap {
            shards: Vec::new(),
            owners: Box::new([UNASSIGNED; SLOTS as usize]),
        }
    }
}

impl SlotMap {
    /// Reads a `CLUSTER SHARDS` reply, in RESP3 maps or RESP2 flat arrays. `seed_host` is the
    /// host the reply came from: it stands in for nodes whose endpoint the cluster does not
    /// know.
    ///
    /// Replicas not `online` are left out. A master that is not online keeps its slots:
    /// requests to it fail, and the failure is what makes the router read the map again.
    /// A node listing a plain and a TLS port is reached on the one `tls` says.
    pub(crate) fn from_shards(reply: &Value, seed_host: &str, tls: bool) -> Result<SlotMap> {
        parse_shards(reply.clone(), seed_host, tls).map_err(|e| malformed("CLUSTER SHARDS", e))
    }

    /// Reads a `CLUSTER SLOTS` reply. Each range names its master; ranges with the same master
    /// become one shard. `seed_host` is as for [`SlotMap::from_shards`].
    pub(crate) fn from_slots(reply: &Value, seed_host: &str) -> Result<SlotMap> {
        parse_slots(reply.clone(), seed_host).map_err(|e| malformed("CLUSTER SLOTS", e))
    }

    /// The index in [`SlotMap::shards`] of the shard serving `slot`, or `None` when no shard
    /// does.
    pub(crate) fn owner(&self, slot: u16) -> Option<usize> {
        let index = usize::from(*self.owners.get(usize::from(slot))?);
        // `UNASSIGNED` is past the end of `shards`, so it finds nothing.
        (index < self.shards.len()).then_some(index)
    }

    /// The shard serving `slot`, or `None` when no shard does.
    #[cfg(test)]
    pub(crate) fn shard(&self, slot: u16) -> Option<&Shard> {
        self.owner(slot).map(|i| &self.shards[i])
    }

    /// Whether the shard at `index` serves any slot.
    pub(crate) fn serves_slots(&self, index: usize) -> bool {
        self.owners.iter().any(|&i| usize::from(i) == index)
    }

    /// How many slots some shard serves.
    pub(crate) fn assigned(&self) -> usize {
        self.owners.iter().filter(|&&i| i != UNASSIGNED).count()
    }

    /// Every shard, including those that serve no slot (they may be about to receive some).
    pub(crate) fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Applies a `MOVED` redirection: `slot` is now served by the master at `addr`, a shard of
    /// its own (with no known replicas) if no shard has that master. Only that slot changes;
    /// the rest waits for the next full read.
    pub(crate) fn moved(&mut self, slot: u16, addr: ServerAddr) {
        if slot >= SLOTS {
            return;
        }
        // With no index left the slot is unassigned: a lookup that finds nothing refreshes the
        // whole map, which is the cure for that many masters coming and going anyway.
        let index = self.shard_index(addr).unwrap_or(UNASSIGNED);
        self.owners[usize::from(slot)] = index;
    }

    /// The index of the shard `master` heads, adding one with no replicas if none does; `None`
    /// once the indexes a table entry can hold are used up.
    fn shard_index(&mut self, master: ServerAddr) -> Option<u16> {
        if let Some(i) = self.shards.iter().position(|s| s.master == master) {
            return u16::try_from(i).ok();
        }
        let index = u16::try_from(self.shards.len())
            .ok()
            .filter(|&i| i != UNASSIGNED)?;
        self.shards.push(Shard {
            master,
            replicas: Vec::new(),
        });
        Some(index)
    }

    /// Like [`SlotMap::shard_index`], for a map being read: running out is a broken reply.
    fn add_shard(&mut self, master: ServerAddr) -> Result<u16> {
        self.shard_index(master)
            .ok_or_else(|| Error::protocol(format!("more than {UNASSIGNED} shards")))
    }

    /// Points the slots `start..=end` at the shard at `index`.
    fn assign(&mut self, start: u16, end: u16, index: u16) -> Result<()> {
        if start > end || end >= SLOTS {
            return Err(Error::protocol(format!("slot range {start}-{end}")));
        }
        self.owners[usize::from(start)..=usize::from(end)].fill(index);
        Ok(())
    }
}

impl fmt::Debug for SlotMap {
    // The table itself is 16384 entries: the count of assigned slots says enough.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotMap")
            .field("shards", &self.shards)
            .field("assigned_slots", &self.assigned())
            .finish()
    }
}

fn parse_shards(reply: Value, seed_host: &str, tls: bool) -> Result<SlotMap> {
    let mut map = SlotMap::default();
    for shard in Vec::<Value>::from_redis(reply)? {
        let mut shard = pairs(shard)?;
        let slots: Vec<u16> = required(&mut shard, "slots")?;
        if slots.len() % 2 != 0 {
            return Err(Error::protocol("`slots` is not a list of start, end pairs"));
        }
        let mut master: Option<ShardNode> = None;
        let mut replicas = Vec::new();
        for node in Vec::<Value>::from_redis(required(&mut shard, "nodes")?)? {
            let node = ShardNode::parse(node, seed_host, tls)?;
            if node.role == "master" {
                // After a failover the failed master is still listed as one, often before the
                // replica that took its place: the online one wins.
                if master
                    .as_ref()
                    .is_none_or(|m| !m.is_online() && node.is_online())
                {
                    master = Some(node);
                }
            } else if node.is_online() {
                replicas.push(node.addr);
            }
        }
        // A shard without a master (one just lost, say) leaves its slots unassigned: a request
        // for them makes the router read the map again, by which time a replica has taken over.
        let Some(master) = master else {
            continue;
        };
        let index = map.add_shard(master.addr)?;
        map.shards[usize::from(index)].replicas = replicas;
        for range in slots.chunks_exact(2) {
            map.assign(range[0], range[1], index)?;
        }
    }
    Ok(map)
}

/// What the slot map needs of one node in a `CLUSTER SHARDS` reply.
struct ShardNode {
    addr: ServerAddr,
    role: String,
    health: String,
}

impl ShardNode {
    fn parse(node: Value, seed_host: &str, tls: bool) -> Result<ShardNode> {
        let mut node = pairs(node)?;
        // The port of the client's kind first; a node that has only the other listens there.
        let (wanted, other) = match tls {
            true => ("tls-port", "port"),
            false => ("port", "tls-port"),
        };
        let port = match optional(&mut node, wanted)? {
            Some(port) => port,
            None => required(&mut node, other)?,
        };
        let endpoint: String = required(&mut node, "endpoint")?;
        let ip: Option<String> = optional(&mut node, "ip")?;
        Ok(ShardNode {
            addr: ServerAddr::Tcp {
                host: host(Some(&endpoint), ip.as_deref(), seed_host),
                port,
            },
            role: required(&mut node, "role")?,
            health: required(&mut node, "health")?,
        })
    }

    fn is_online(&self) -> bool {
        self.health == "online"
    }
}

fn parse_slots(reply: Value, seed_host: &str) -> Result<SlotMap> {
    let mut map = SlotMap::default();
    for range in Vec::<Value>::from_redis(reply)? {
        let mut items = Vec::<Value>::from_redis(range)?.into_iter();
        let (Some(start), Some(end), Some(master)) = (items.next(), items.next(), items.next())
        else {
            return Err(Error::protocol("a slot range without its master"));
        };
        let index = map.add_shard(slots_node(master, seed_host)?)?;
        let replicas = items
            .map(|node| slots_node(node, seed_host))
            .collect::<Result<Vec<_>>>()?;
        // Every range of a master lists the same replicas.
        let shard = &mut map.shards[usize::from(index)];
        if shard.replicas.is_empty() {
            shard.replicas = replicas;
        }
        map.assign(u16::from_redis(start)?, u16::from_redis(end)?, index)?;
    }
    Ok(map)
}

/// One node of a `CLUSTER SLOTS` range: `[endpoint, port, id, {ip, hostname}]`, the last two
/// missing before Redis 4 and 7. The server lists online replicas only.
fn slots_node(node: Value, seed_host: &str) -> Result<ServerAddr> {
    let mut items = Vec::<Value>::from_redis(node)?.into_iter();
    let (Some(endpoint), Some(port)) = (items.next(), items.next()) else {
        return Err(Error::protocol("a node without its endpoint and port"));
    };
    let endpoint: Option<String> = FromRedis::from_redis(endpoint)?;
    let ip = match items.nth(1) {
        Some(metadata) => optional::<String>(&mut pairs(metadata)?, "ip")?,
        None => None,
    };
    Ok(ServerAddr::Tcp {
        host: host(endpoint.as_deref(), ip.as_deref(), seed_host),
        port: u16::from_redis(port)?,
    })
}

/// The host to reach a node at. The endpoint is the address the cluster wants clients to use.
/// `?` means it prefers host names and the node announced none, so the node's IP stands in. An
/// endpoint that is null (`cluster-preferred-endpoint-type unknown-endpoint`, for nodes behind
/// a load balancer) or empty (a node that does not yet know its own IP) is unknown: Redis says
/// to keep using the host the client reached the cluster by.
fn host(endpoint: Option<&str>, ip: Option<&str>, seed_host: &str) -> String {
    match endpoint {
        Some("?") => ip.filter(|ip| !ip.is_empty()).unwrap_or(seed_host),
        None | Some("") => seed_host,
        Some(endpoint) => endpoint,
    }
    .to_owned()
}

/// Takes the field `name` out of a reply's pairs.
fn required<T: FromRedis>(fields: &mut Vec<(Value, Value)>, name: &str) -> Result<T> {
    let value = take_field(fields, name).ok_or_else(|| Error::protocol(format!("no `{name}`")))?;
    T::from_redis(value).map_err(|e| Error::protocol(format!("`{name}`: {e}")))
}

fn optional<T: FromRedis>(fields: &mut Vec<(Value, Value)>, name: &str) -> Result<Option<T>> {
    take_field(fields, name)
        .map(|value| T::from_redis(value).map_err(|e| Error::protocol(format!("`{name}`: {e}"))))
        .transpose()
}

/// A reply of the wrong shape as the protocol error it is, naming the command.
fn malformed(command: &str, e: Error) -> Error {
    let reason = match e {
        Error::Protocol { reason, .. } => reason,
        other => other.to_string(),
    };
    Error::protocol(format!("{command} reply: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn tcp(host: &str, port: u16) -> ServerAddr {
        ServerAddr::Tcp {
            host: host.into(),
            port,
        }
    }

    /// A RESP3 map, or the RESP2 flat array of alternating keys and values.
    fn map(resp3: bool, fields: Vec<(&str, Value)>) -> Value {
        if resp3 {
            Value::Map(fields.into_iter().map(|(k, v)| (bulk(k), v)).collect())
        } else {
            Value::Array(fields.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect())
        }
    }

    /// A node of a `CLUSTER SHARDS` reply as Redis 7.4 sends it.
    fn shard_node(resp3: bool, port: i64, endpoint: &str, role: &str, health: &str) -> Value {
        map(
            resp3,
            vec![
                ("id", bulk("02aa6979bcd3f77fa6317f9f781f5856d342822d")),
                ("port", Value::Integer(port)),
                ("ip", bulk("127.0.0.1")),
                ("endpoint", bulk(endpoint)),
                ("role", bulk(role)),
                ("replication-offset", Value::Integer(14)),
                ("health", bulk(health)),
            ],
        )
    }

    fn shard(resp3: bool, slots: &[i64], nodes: Vec<Value>) -> Value {
        let slots = slots.iter().map(|&s| Value::Integer(s)).collect();
        map(
            resp3,
            vec![
                ("slots", Value::Array(slots)),
                ("nodes", Value::Array(nodes)),
            ],
        )
    }

    /// `CLUSTER SHARDS` of a three-shard cluster made by `redis-cli --cluster create` with one
    /// replica each.
    fn three_shards(resp3: bool) -> Value {
        Value::Array(
            [(0, 5460, 31000, 31003), (5461, 10922, 31001, 31004)]
                .into_iter()
                .chain([(10923, 16383, 31002, 31005)])
                .map(|(start, end, master, replica)| {
                    shard(
                        resp3,
                        &[start, end],
                        vec![
                            shard_node(resp3, master, "127.0.0.1", "master", "online"),
                            shard_node(resp3, replica, "127.0.0.1", "replica", "online"),
                        ],
                    )
                })
                .collect(),
        )
    }

    /// A node of a `CLUSTER SLOTS` reply; `ip` is the metadata Redis 7 adds when the endpoint
    /// is not the IP.
    fn slots_node(resp3: bool, endpoint: Value, port: i64, ip: Option<&str>) -> Value {
        let metadata = ip.map_or(vec![], |ip| vec![("ip", bulk(ip))]);
        Value::Array(vec![
            endpoint,
            Value::Integer(port),
            bulk("c47534da3f795246362f98a01c867166177fffa7"),
            map(resp3, metadata),
        ])
    }

    fn three_slot_ranges(resp3: bool) -> Value {
        let range = |start, end, master, replica| {
            Value::Array(vec![
                Value::Integer(start),
                Value::Integer(end),
                slots_node(resp3, bulk("127.0.0.1"), master, None),
                slots_node(resp3, bulk("127.0.0.1"), replica, None),
            ])
        };
        Value::Array(vec![
            range(0, 5460, 31000, 31003),
            range(5461, 10922, 31001, 31004),
            range(10923, 16383, 31002, 31005),
        ])
    }

    fn assert_three_shards(map: &SlotMap) {
        let masters: Vec<_> = map.shards().iter().map(|s| s.master.clone()).collect();
        assert_eq!(
            masters,
            [
                tcp("127.0.0.1", 31000),
                tcp("127.0.0.1", 31001),
                tcp("127.0.0.1", 31002)
            ]
        );
        assert_eq!(map.shards()[1].replicas, [tcp("127.0.0.1", 31004)]);
        for slot in 0..SLOTS {
            let expected = match slot {
                0..=5460 => 31000,
                5461..=10922 => 31001,
                _ => 31002,
            };
            assert_eq!(
                map.shard(slot).map(|s| &s.master),
                Some(&tcp("127.0.0.1", expected)),
                "slot {slot}"
            );
        }
        assert!(map.shard(SLOTS).is_none());
    }

    #[test]
    fn every_slot_of_three_shards() {
        for resp3 in [true, false] {
            assert_three_shards(
                &SlotMap::from_shards(&three_shards(resp3), "seed", false).unwrap(),
            );
            assert_three_shards(&SlotMap::from_slots(&three_slot_ranges(resp3), "seed").unwrap());
        }
    }

    #[test]
    fn endpoints() {
        for resp3 in [true, false] {
            let reply = Value::Array(vec![
                shard(
                    resp3,
                    &[0, 99],
                    vec![shard_node(
                        resp3,
                        7000,
                        "node-a.internal",
                        "master",
                        "online",
                    )],
                ),
                shard(
                    resp3,
                    &[100, 199],
                    vec![shard_node(resp3, 7001, "?", "master", "online")],
                ),
                shard(
                    resp3,
                    &[200, 299],
                    vec![shard_node(resp3, 7002, "", "master", "online")],
                ),
            ]);
            let map = SlotMap::from_shards(&reply, "seed.example", false).unwrap();
            assert_eq!(map.shard(0).unwrap().master, tcp("node-a.internal", 7000));
            assert_eq!(map.shard(100).unwrap().master, tcp("127.0.0.1", 7001));
            assert_eq!(map.shard(200).unwrap().master, tcp("seed.example", 7002));

            let range = |start, node| {
                Value::Array(vec![Value::Integer(start), Value::Integer(start), node])
            };
            let reply = Value::Array(vec![
                range(
                    0,
                    slots_node(resp3, bulk("node-a.internal"), 7000, Some("10.0.0.1")),
                ),
                range(1, slots_node(resp3, bulk("?"), 7001, Some("10.0.0.2"))),
                range(2, slots_node(resp3, Value::Nil, 7002, Some("10.0.0.3"))),
                range(3, slots_node(resp3, bulk(""), 7003, None)),
                // Redis 3: no id, no metadata.
                range(
                    4,
                    Value::Array(vec![bulk("10.0.0.5"), Value::Integer(7004)]),
                ),
            ]);
            let map = SlotMap::from_slots(&reply, "seed.example").unwrap();
            let hosts: Vec<_> = (0..5)
                .map(|s| map.shard(s).unwrap().master.clone())
                .collect();
            assert_eq!(
                hosts,
                [
                    tcp("node-a.internal", 7000),
                    tcp("10.0.0.2", 7001),
                    tcp("seed.example", 7002),
                    tcp("seed.example", 7003),
                    tcp("10.0.0.5", 7004),
                ]
            );
        }
    }

    #[test]
    fn health_and_roles() {
        let node = |port, role, health| shard_node(true, port, "10.0.0.1", role, health);
        let reply = Value::Array(vec![shard(
            true,
            &[0, 9, 20, 29],
            vec![
                node(7001, "replica", "online"),
                node(7002, "replica", "loading"),
                node(7000, "master", "failed"),
                node(7003, "replica", "failed"),
            ],
        )]);
        let map = SlotMap::from_shards(&reply, "seed", false).unwrap();
        let served = map.shard(25).unwrap();
        assert_eq!(served.master, tcp("10.0.0.1", 7000));
        assert_eq!(served.replicas, [tcp("10.0.0.1", 7001)]);
        assert_eq!(map.shard(5), Some(served));
        assert_eq!(map.shard(15), None);

        // After a failover: the failed master first, the promoted replica after it.
        let reply = Value::Array(vec![shard(
            true,
            &[0, 9],
            vec![
                node(7000, "master", "fail"),
                node(7001, "master", "online"),
                node(7002, "replica", "online"),
            ],
        )]);
        let map = SlotMap::from_shards(&reply, "seed", false).unwrap();
        let served = map.shard(0).unwrap();
        assert_eq!(served.master, tcp("10.0.0.1", 7001));
        assert_eq!(served.replicas, [tcp("10.0.0.1", 7002)]);
        assert_eq!(map.assigned(), 10);

        // A shard whose master is gone leaves its slots unassigned.
        let reply = Value::Array(vec![shard(
            true,
            &[0, 9],
            vec![node(7001, "replica", "online")],
        )]);
        let map = SlotMap::from_shards(&reply, "seed", false).unwrap();
        assert!(map.shards().is_empty() && map.shard(0).is_none());

        // A TLS-only node has `tls-port` and no `port`.
        let tls_only = tls_only_node(true);
        let reply = Value::Array(vec![shard(true, &[0, 0], vec![tls_only])]);
        let map = SlotMap::from_shards(&reply, "seed", false).unwrap();
        assert_eq!(map.shard(0).unwrap().master, tcp("10.0.0.9", 6380));

        // A node with both ports is reached on the client's kind.
        let both = |tls| {
            let node = node_with_both_ports();
            let reply = Value::Array(vec![shard(true, &[0, 0], vec![node])]);
            SlotMap::from_shards(&reply, "seed", tls)
                .unwrap()
                .shard(0)
                .unwrap()
                .master
                .clone()
        };
        assert_eq!(both(false), tcp("10.0.0.9", 6379));
        assert_eq!(both(true), tcp("10.0.0.9", 6380));
    }

    /// [`tls_only_node`] with a plain port too.
    fn node_with_both_ports() -> Value {
        let Value::Map(mut fields) = tls_only_node(true) else {
            unreachable!("a RESP3 node is a map")
        };
        fields.push((bulk("port"), Value::Integer(6379)));
        Value::Map(fields)
    }

    fn tls_only_node(resp3: bool) -> Value {
        map(
            resp3,
            vec![
                ("id", bulk("99f05a02b9901b77076c24c9d3f076024eecca72")),
                ("tls-port", Value::Integer(6380)),
                ("ip", bulk("10.0.0.9")),
                ("endpoint", bulk("10.0.0.9")),
                ("role", bulk("master")),
                ("replication-offset", Value::Integer(0)),
                ("health", bulk("online")),
            ],
        )
    }

    #[test]
    fn ranges_of_one_master_make_one_shard() {
        let range = |start, end, port| {
            Value::Array(vec![
                Value::Integer(start),
                Value::Integer(end),
                slots_node(false, bulk("10.0.0.1"), port, None),
                slots_node(false, bulk("10.0.0.2"), port, None),
            ])
        };
        let reply = Value::Array(vec![
            range(0, 99, 7000),
            range(100, 199, 7001),
            range(200, 299, 7000),
        ]);
        let map = SlotMap::from_slots(&reply, "seed").unwrap();
        assert_eq!(map.shards().len(), 2);
        assert_eq!(map.shard(0), map.shard(250));
        assert_eq!(map.shard(0).unwrap().replicas, [tcp("10.0.0.2", 7000)]);
        assert_eq!(map.shard(150).unwrap().master, tcp("10.0.0.1", 7001));
        assert_eq!(map.shard(300), None);
    }

    #[test]
    fn moved_repoints_one_slot() {
        let mut map = SlotMap::from_shards(&three_shards(true), "seed", false).unwrap();
        map.moved(100, tcp("127.0.0.1", 31001));
        assert_eq!(map.shard(100).unwrap().master, tcp("127.0.0.1", 31001));
        assert_eq!(map.shard(99).unwrap().master, tcp("127.0.0.1", 31000));
        assert_eq!(map.shard(101).unwrap().master, tcp("127.0.0.1", 31000));
        assert_eq!(map.shards().len(), 3);

        map.moved(101, tcp("127.0.0.1", 31006));
        let new = map.shard(101).unwrap();
        assert_eq!(
            (&new.master, new.replicas.len()),
            (&tcp("127.0.0.1", 31006), 0)
        );
        assert_eq!(map.shards().len(), 4);
        assert_eq!(map.shard(102).unwrap().master, tcp("127.0.0.1", 31000));

        map.moved(SLOTS, tcp("127.0.0.1", 31007));
        assert_eq!(map.shards().len(), 4);
    }

    #[test]
    fn unassigned_slots() {
        let reply = Value::Array(vec![shard(
            false,
            &[1000, 1999],
            vec![shard_node(false, 7000, "10.0.0.1", "master", "online")],
        )]);
        let map = SlotMap::from_shards(&reply, "seed", false).unwrap();
        assert_eq!(map.shard(999), None);
        assert!(map.shard(1000).is_some() && map.shard(1999).is_some());
        assert_eq!(map.shard(2000), None);
        assert_eq!(
            format!("{map:?}"),
            "SlotMap { shards: [Shard { master: Tcp { host: \"10.0.0.1\", port: 7000 }, \
             replicas: [] }], assigned_slots: 1000 }"
        );
        let empty = SlotMap::from_slots(&Value::Array(vec![]), "seed").unwrap();
        assert!(empty.shards().is_empty() && empty.shard(0).is_none());
    }

    #[test]
    fn wrong_shapes_are_protocol_errors() {
        let master = || shard_node(true, 7000, "10.0.0.1", "master", "online");
        let shards_replies = [
            bulk("not an array"),
            Value::Array(vec![bulk("not a shard")]),
            Value::Array(vec![map(true, vec![("slots", Value::Array(vec![]))])]),
            Value::Array(vec![shard(true, &[0], vec![master()])]),
            Value::Array(vec![shard(true, &[10, 5], vec![master()])]),
            Value::Array(vec![shard(true, &[0, 16384], vec![master()])]),
            Value::Array(vec![shard(true, &[0, 1], vec![map(true, vec![])])]),
            Value::Array(vec![shard(
                true,
                &[0, 1],
                vec![shard_node(true, 70000, "10.0.0.1", "master", "online")],
            )]),
        ];
        for reply in shards_replies {
            match SlotMap::from_shards(&reply, "seed", false) {
                Err(Error::Protocol { reason, .. }) => {
                    assert!(reason.starts_with("CLUSTER SHARDS reply: "), "{reason}")
                }
                other => panic!("{reply:?}: {other:?}"),
            }
        }

        let slots_replies = [
            Value::Integer(1),
            Value::Array(vec![Value::Array(vec![
                Value::Integer(0),
                Value::Integer(1),
            ])]),
            Value::Array(vec![Value::Array(vec![
                Value::Integer(0),
                Value::Integer(1),
                Value::Array(vec![bulk("10.0.0.1")]),
            ])]),
            Value::Array(vec![Value::Array(vec![
                bulk("zero"),
                Value::Integer(1),
                slots_node(true, bulk("10.0.0.1"), 7000, None),
            ])]),
        ];
        for reply in slots_replies {
            match SlotMap::from_slots(&reply, "seed") {
                Err(Error::Protocol { reason, .. }) => {
                    assert!(reason.starts_with("CLUSTER SLOTS reply: "), "{reason}")
                }
                other => panic!("{reply:?}: {other:?}"),
            }
        }
    }
}
