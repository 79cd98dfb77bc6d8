//! The client on a real Redis Cluster (3 masters, 3 replicas, RediSearch and RedisJSON loaded):
//! routing by slot, pipelines split per node, `ASK` and `MOVED` during a slot migration.

use futures_util::future::try_join_all;
use futures_util::StreamExt;
use redis_model::prelude::*;
use redis_model::search::{Expr, Migration, Query, VectorQuery};
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
    // A scan walks every master.
    let scanned: std::collections::HashSet<String> = client
        .scan::<String>(None, 1_000)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(scanned, keys.iter().cloned().collect());
    let tagged = client
        .scan::<String>(Some("{user7}:*"), 1_000)
        .count()
        .await;
    assert_eq!(tagged, 100);
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
    // (`MGET` and the like are split per slot instead: tests/tests/cluster_multikey.rs.)
    assert!(matches!(
        client.send::<()>(cmd("RENAME").key("a").key("b")).await,
        Err(Error::CrossSlot { command, .. }) if command == "RENAME"
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

/// A searchable model in the storage `$container` names: text, tag, numbers and vectors.
macro_rules! city_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub id: String,
            #[redis(text, sortable)]
            pub name: String,
            #[redis(tag, sortable)]
            pub city: String,
            #[redis(numeric, sortable)]
            pub age: u32,
            #[redis(vector(dim = 2, distance = "l2", algorithm = "flat"))]
            pub at: Vec<f32>,
        }

        impl $name {
            fn many() -> Vec<$name> {
                (0..300u32)
                    .map(|i| $name {
                        id: format!("p{i}"),
                        // Unique names and ages: orders have no ties to break.
                        name: format!("{} {i:03}", ["Ann", "bob", "Cy", "dee"][i as usize % 4]),
                        city: ["Paris", "Oslo", "Rome"][i as usize % 3].to_owned(),
                        age: (i * 7919) % 1000,
                        at: vec![i as f32, (i % 17) as f32],
                    })
                    .collect()
            }
        }
    };
}

city_model!(Citizen, prefix = "citizen", index = "citizen-idx");
city_model!(
    JsonCitizen,
    prefix = "jcitizen",
    index = "jcitizen-idx",
    storage = "json"
);

/// The same documents on a cluster and on one server: every query answers the same.
macro_rules! search_answers_as_one_server {
    ($cluster:expr, $single:expr, $model:ident) => {{
        let (on_cluster, on_one) = (
            $cluster.repository::<$model>(),
            $single.repository::<$model>(),
        );
        for repo in [&on_cluster, &on_one] {
            repo.migrate().await.unwrap();
            repo.save_all(&$model::many()).await.unwrap();
            assert!(matches!(
                repo.migrate().await.unwrap(),
                Migration::UpToDate { .. }
            ));
        }
        let f = $model::fields();
        let ids = |found: Vec<$model>| found.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        for (what, on) in [("cluster", &on_cluster), ("one server", &on_one)] {
            assert_eq!(on.find_all().count().await.unwrap(), 300, "{what}");
            assert_eq!(
                on.find(f.city.eq("Oslo")).count().await.unwrap(),
                100,
                "{what}"
            );
        }
        // Sorted: pages anywhere, first, streams.
        for order in [Order::Asc, Order::Desc] {
            fn by_age(r: &Repository<$model>, order: Order) -> Query<'_, $model> {
                let f = $model::fields();
                r.find(f.age.gt(100)).sort_by(f.age, order)
            }
            fn by_name(r: &Repository<$model>, order: Order) -> Query<'_, $model> {
                r.find_all().sort_by($model::fields().name, order)
            }
            for (offset, n) in [(0, 300), (0, 10), (95, 20), (250, 100)] {
                assert_eq!(
                    ids(by_age(&on_cluster, order)
                        .limit(offset, n)
                        .all()
                        .await
                        .unwrap()),
                    ids(by_age(&on_one, order).limit(offset, n).all().await.unwrap()),
                    "age {order:?} {offset} {n}"
                );
                assert_eq!(
                    ids(by_name(&on_cluster, order)
                        .limit(offset, n)
                        .all()
                        .await
                        .unwrap()),
                    ids(by_name(&on_one, order)
                        .limit(offset, n)
                        .all()
                        .await
                        .unwrap()),
                    "name {order:?} {offset} {n}"
                );
            }
            let page = by_age(&on_cluster, order).page(3, 25).await.unwrap();
            let want = by_age(&on_one, order).page(3, 25).await.unwrap();
            assert_eq!((ids(page.items), page.total), (ids(want.items), want.total));
            assert_eq!(
                by_name(&on_cluster, order).first().await.unwrap(),
                by_name(&on_one, order).first().await.unwrap()
            );
            let streamed: Vec<String> = by_age(&on_cluster, order)
                .stream()
                .map(|m| m.unwrap().id)
                .collect()
                .await;
            assert_eq!(streamed, ids(by_age(&on_one, order).all().await.unwrap()));
        }
        // Unordered and ranked: the same documents (ranks use each shard's term statistics).
        fn rome(r: &Repository<$model>) -> Query<'_, $model> {
            r.find($model::fields().city.eq("Rome"))
        }
        assert_eq!(
            sorted(ids(rome(&on_cluster).all().await.unwrap())),
            sorted(ids(rome(&on_one).all().await.unwrap()))
        );
        fn text(r: &Repository<$model>) -> Query<'_, $model> {
            let f = $model::fields();
            r.find(f.name.matches("bob") | f.name.matches("dee"))
        }
        assert_eq!(
            sorted(ids(text(&on_cluster).all().await.unwrap())),
            sorted(ids(text(&on_one).all().await.unwrap()))
        );
        assert_eq!(text(&on_cluster).count().await.unwrap(), 150);
        // Vectors: the global nearest, with and without a pre-filter.
        for filter in [None, Some(f.city.eq("Paris"))] {
            fn knn(
                r: &Repository<$model>,
                filter: Option<Expr<$model>>,
            ) -> VectorQuery<'_, $model> {
                let q = r.knn($model::fields().at, &[100.2, 3.1], 5);
                match filter {
                    Some(f) => q.filter(f),
                    None => q,
                }
            }
            let near = |hits: Vec<($model, f32)>| {
                hits.into_iter().map(|(m, d)| (m.id, d)).collect::<Vec<_>>()
            };
            assert_eq!(
                near(knn(&on_cluster, filter.clone()).all().await.unwrap()),
                near(knn(&on_one, filter.clone()).all().await.unwrap())
            );
        }
        fn within(r: &Repository<$model>) -> VectorQuery<'_, $model> {
            r.vector_range($model::fields().at, &[10.0, 10.0], 50.0)
        }
        assert_eq!(
            within(&on_cluster).all().await.unwrap().len(),
            within(&on_one).all().await.unwrap().len()
        );
    }};
}

#[tokio::test]
async fn search_on_a_cluster_answers_as_one_server() {
    let cluster = RedisCluster::start_stack();
    let single = redis_model_tests::RedisServer::start_stack();
    let on_cluster = Client::connect(&cluster.url()).await.unwrap();
    let on_one = Client::connect(&single.url()).await.unwrap();
    search_answers_as_one_server!(on_cluster, on_one, Citizen);
    search_answers_as_one_server!(on_cluster, on_one, JsonCitizen);
    // Each master holds the index of its own documents.
    for port in cluster.master_ports() {
        let indexes = cluster.cli(port, &["FT._LIST"]);
        assert_eq!(
            indexes
                .lines()
                .filter(|l| l.starts_with("citizen-idx{"))
                .count(),
            1,
            "{indexes}"
        );
        let size: u64 = cluster.cli(port, &["DBSIZE"]).trim().parse().unwrap();
        assert!(size > 100, "node {port}: {size}");
    }
}

#[tokio::test]
async fn watch_transactions_run_on_the_keys_master() {
    let cluster = RedisCluster::start_stack();
    let client = Client::connect(&cluster.url()).await.unwrap();
    let other = Client::connect(&cluster.url()).await.unwrap();
    // Keys on every master.
    for i in 0..12 {
        let key = format!("{{balance{i}}}:amount");
        client.set(&key, 10).await.unwrap();
        let tx = client.watch(&[key.as_str()]).await.unwrap();
        let amount: i64 = tx.get(&key).await.unwrap().unwrap();
        let done = tx
            .exec(pipe().cmd(cmd("SET").key(&key).arg(amount + 5)))
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(client.get::<i64>(&key).await.unwrap(), Some(15));
        // A write by another client between WATCH and EXEC aborts the transaction.
        let tx = client.watch(&[key.as_str()]).await.unwrap();
        other.set(&key, 0).await.unwrap();
        assert!(matches!(
            tx.exec(pipe().cmd(cmd("SET").key(&key).arg(99))).await,
            Err(Error::TransactionAborted)
        ));
    }
    assert!(matches!(
        client.watch(&["a", "b"]).await,
        Err(Error::CrossSlot { .. })
    ));
}
