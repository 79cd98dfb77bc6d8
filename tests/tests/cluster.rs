//! The client on a real Redis Cluster (3 masters, 3 replicas, RediSearch and RedisJSON loaded):
//! routing by slot, pipelines split per node, `ASK` and `MOVED` during a slot migration.

use futures_util::future::try_join_all;
use redis_model::prelude::*;
use redis_model::Error;
use redis_model_tests::cluster::RedisCluster;

/// How many times `node` has answered with this error code (`MOVED`, `ASK`).
fn errors(cluster: &RedisCluster, port: u16, code: &str) -> u64 {
    let stats = cluster.cli(port, &["INFO", "errorstats"]);
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&format!("errorstat_{code}:count=")))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// The master holding `key`: the one that answers for it without redirecting.
fn owner(cluster: &RedisCluster, key: &str) -> u16 {
    cluster
        .master_ports()
        .into_iter()
        .find(|&p| cluster.cli(p, &["EXISTS", key]).trim() == "1")
        .unwrap_or_else(|| panic!("no master holds {key}"))
}

#[tokio::test]
async fn keys_go_to_the_node_serving_their_slot() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    // Half the keys spread over every slot, half grouped by a hash tag.
    let keys: Vec<String> = (0..10_000)
        .map(|i| match i % 2 {
            0 => format!("key:{i}"),
            _ => format!("{{user{}}}:key:{i}", i % 100),
        })
        .collect();
    for chunk in keys.chunks(1_000) {
        try_join_all(chunk.iter().map(|k| client.set(k, k.as_str())))
            .await
            .unwrap();
    }
    for chunk in keys.chunks(1_000) {
        let read = try_join_all(chunk.iter().map(|k| client.get::<String>(k)))
            .await
            .unwrap();
        for (k, v) in chunk.iter().zip(read) {
            assert_eq!(v.as_deref(), Some(k.as_str()));
        }
    }
    let masters = cluster.master_ports();
    let mut total = 0;
    for &port in &masters {
        // No node had to redirect a command: the client's slots are the cluster's.
        assert_eq!(errors(&cluster, port, "MOVED"), 0, "node {port}");
        let size: u64 = cluster.cli(port, &["DBSIZE"]).trim().parse().unwrap();
        assert!(size > 2_000, "node {port} holds {size} keys");
        total += size;
    }
    assert_eq!(total, 10_000);
    // And each key is on the master serving the slot the cluster computes for it.
    for key in keys.iter().step_by(250) {
        let slot = cluster.cli(masters[0], &["CLUSTER", "KEYSLOT", key]);
        let holder = owner(&cluster, key);
        let count = cluster.cli(holder, &["CLUSTER", "COUNTKEYSINSLOT", slot.trim()]);
        assert_ne!(count.trim(), "0", "{key} (slot {slot}) on {holder}");
    }
}

#[tokio::test]
async fn pipelines_are_split_per_node_and_keep_their_order() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    let mut p = pipe();
    for i in 0..300 {
        p = p
            .cmd(cmd("SET").key(format!("p:{i}")).arg(i))
            .cmd(cmd("INCR").key(format!("p:{i}")))
            .cmd(cmd("GET").key(format!("p:{i}")));
    }
    let replies = client.pipeline(p).await.unwrap();
    assert_eq!(replies.len(), 900);
    for (i, reply) in replies.into_iter().skip(2).step_by(3).enumerate() {
        let got: i64 = FromRedis::from_redis(reply.unwrap()).unwrap();
        assert_eq!(got, i as i64 + 1);
    }
    for port in cluster.master_ports() {
        assert_eq!(errors(&cluster, port, "MOVED"), 0, "node {port}");
    }

    // A transaction runs on the node of its one slot.
    let tx = pipe()
        .atomic()
        .cmd(cmd("SET").key("{acct:1}:a").arg(10))
        .cmd(cmd("INCRBY").key("{acct:1}:b").arg(5));
    assert_eq!(client.pipeline(tx).await.unwrap().len(), 2);
    // Keys in several slots are refused before anything is sent.
    let across = pipe()
        .atomic()
        .cmd(cmd("SET").key("a").arg(1))
        .cmd(cmd("SET").key("b").arg(2));
    assert!(matches!(
        client.pipeline(across).await,
        Err(Error::CrossSlot { command, .. }) if command == "MULTI"
    ));
    assert!(matches!(
        client.mget::<String>(&["a", "b"]).await,
        Err(Error::CrossSlot { command, .. }) if command == "MGET"
    ));
    let script = Script::new("return redis.call('GET', KEYS[1])");
    let two: Result<Option<String>> = script.invoke(&client, &["a", "b"], &[""; 0]).await;
    assert!(matches!(two, Err(Error::CrossSlot { .. })), "{two:?}");
    assert!(client.exists(&["a"]).await.is_ok());
    // A command without keys goes to some master.
    client.send::<()>(cmd("PING")).await.unwrap();
}

#[tokio::test]
async fn a_migrating_slot_is_served_through_ask_then_moved() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    let (moving, staying) = ("{mig}moving", "{mig}staying");
    client.set(moving, "m").await.unwrap();
    client.set(staying, "s").await.unwrap();
    let masters = cluster.master_ports();
    let slot = cluster.cli(masters[0], &["CLUSTER", "KEYSLOT", moving]);
    let slot = slot.trim();
    let from = owner(&cluster, moving);
    let to = *masters.iter().find(|&&p| p != from).unwrap();
    let id = |port| cluster.cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
    let (from_id, to_id) = (id(from), id(to));
    cluster.cli(to, &["CLUSTER", "SETSLOT", slot, "IMPORTING", &from_id]);
    cluster.cli(from, &["CLUSTER", "SETSLOT", slot, "MIGRATING", &to_id]);
    let to_port = to.to_string();
    let migrate = |key: &str| {
        let out = cluster.cli(
            from,
            &[
                "MIGRATE",
                "127.0.0.1",
                &to_port,
                "",
                "0",
                "5000",
                "KEYS",
                key,
            ],
        );
        assert_eq!(out.trim(), "OK", "MIGRATE {key}");
    };
    migrate(moving);

    // Mid-migration: the old owner answers `ASK` for the key it no longer has.
    assert_eq!(
        client.get::<String>(moving).await.unwrap().as_deref(),
        Some("m")
    );
    assert_eq!(
        client.get::<String>(staying).await.unwrap().as_deref(),
        Some("s")
    );
    assert!(errors(&cluster, from, "ASK") >= 1);
    // A write follows the same way: it lands on the importing node (read back below).
    client.set(moving, "m2").await.unwrap();

    // Done: the slot belongs to the new owner, which the client learns from `MOVED`.
    migrate(staying);
    for port in &masters {
        cluster.cli(*port, &["CLUSTER", "SETSLOT", slot, "NODE", &to_id]);
    }
    assert_eq!(
        client.get::<String>(staying).await.unwrap().as_deref(),
        Some("s")
    );
    let moved = errors(&cluster, from, "MOVED");
    assert!(moved >= 1);
    for _ in 0..10 {
        assert_eq!(
            client.get::<String>(moving).await.unwrap().as_deref(),
            Some("m2")
        );
    }
    assert_eq!(
        errors(&cluster, from, "MOVED"),
        moved,
        "later commands go straight there"
    );
}

#[derive(RedisModel, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[redis(prefix = "acct")]
pub struct Account {
    #[redis(id)]
    pub id: String,
    #[redis(tag)]
    pub owner: String,
    #[redis(numeric)]
    pub balance: i64,
    #[redis(version)]
    pub version: u64,
}

#[derive(RedisModel, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[redis(prefix = "jacct", storage = "json")]
pub struct JsonAccount {
    #[redis(id)]
    pub id: String,
    #[redis(tag)]
    pub owner: String,
    #[redis(numeric)]
    pub balance: i64,
}

#[tokio::test]
async fn repositories_read_and_write_across_masters() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    let accounts = client.repository::<Account>();
    let many: Vec<Account> = (0..1_000)
        .map(|i| Account {
            id: format!("a{i}"),
            owner: format!("o{}", i % 7),
            balance: i,
            version: 0,
        })
        .collect();
    let ids = accounts.save_all(&many).await.unwrap();
    assert_eq!(ids.len(), 1_000);
    let read = accounts.get_many(&ids).await.unwrap();
    for (want, got) in many.iter().zip(&read) {
        let got = got.as_ref().expect("saved");
        assert_eq!(
            (got.id.as_str(), got.balance, got.version),
            (want.id.as_str(), want.balance, 1)
        );
    }
    for port in cluster.master_ports() {
        let size: u64 = cluster.cli(port, &["DBSIZE"]).trim().parse().unwrap();
        assert!(size > 200, "node {port} holds {size} documents");
    }
    // A versioned save (a script on the document's key) and a partial update.
    let mut a = accounts.get("a7").await.unwrap().unwrap();
    a.balance = 70;
    accounts.save(&a).await.unwrap();
    assert!(matches!(
        accounts.save(&a).await,
        Err(Error::Conflict { .. })
    ));
    let f = Account::fields();
    assert!(accounts
        .update_field("a7", f.balance, &71i64)
        .await
        .unwrap());
    assert_eq!(accounts.get("a7").await.unwrap().unwrap().balance, 71);
    assert!(accounts.delete("a7").await.unwrap());
    assert!(!accounts.exists("a7").await.unwrap());

    let json = client.repository::<JsonAccount>();
    let doc = JsonAccount {
        id: "j1".into(),
        owner: "o".into(),
        balance: 5,
    };
    json.save(&doc).await.unwrap();
    assert_eq!(json.get("j1").await.unwrap(), Some(doc));

    // Search is refused on a cluster rather than answered from one shard's index.
    for refused in [
        accounts.migrate().await.map(drop),
        accounts.find(f.owner.eq("o1")).count().await.map(drop),
        accounts.find(f.owner.eq("o1")).all().await.map(drop),
    ] {
        assert!(
            matches!(
                refused,
                Err(Error::Config {
                    part: "cluster",
                    ..
                })
            ),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn a_cluster_url_needs_a_cluster() {
    // A server without cluster mode cannot tell a slot map.
    let server = redis_model_tests::RedisServer::start();
    let url = format!("redis+cluster://127.0.0.1:{}", server.port());
    match Client::connect(&url).await {
        Err(Error::ClusterUnavailable { last }) => {
            assert!(matches!(*last, Error::Server { .. }), "{last:?}")
        }
        other => panic!("{other:?}"),
    }
    // Nothing listens: the last seed's connect error is kept.
    drop(server);
    match Client::connect(&url).await {
        Err(Error::ClusterUnavailable { last }) => {
            assert!(last.is_connection_dropped() || matches!(*last, Error::Connect { .. }))
        }
        other => panic!("{other:?}"),
    }
}
