//! Reads from replicas (`?read_from=replica`, `round_robin`): read-only commands are served by
//! the replicas of each slot's master, writes still by the master.

use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use redis_model::prelude::*;
use redis_model_tests::cluster::RedisCluster;

/// How many times the node on `port` ran `command`, from `INFO commandstats`.
fn calls(cluster: &RedisCluster, port: u16, command: &str) -> u64 {
    let stats = cluster.cli(port, &["INFO", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |rest| {
            rest.split(',').next().unwrap().parse().expect("a count")
        })
}

/// Waits until the replicas hold the `keys` keys written to the masters, and every master
/// tells them online in `CLUSTER SHARDS`: a replica that has received nothing yet is listed
/// as `loading`, and a client reads from online replicas only.
fn wait_for_replicas(cluster: &RedisCluster, keys: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let copied: u64 = cluster
            .replica_ports()
            .iter()
            .map(|&p| cluster.cli(p, &["DBSIZE"]).trim().parse::<u64>().unwrap())
            .sum();
        let online = cluster
            .master_ports()
            .iter()
            .all(|&p| !cluster.cli(p, &["CLUSTER", "SHARDS"]).contains("loading"));
        if copied == keys && online {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replicas hold {copied} of {keys} keys; all online: {online}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn reads_go_to_replicas_and_writes_to_masters() {
    let cluster = RedisCluster::start_stack();
    let writer = Client::connect(&cluster.url()).await.unwrap();
    let keys: Vec<String> = (0..1_000).map(|i| format!("r:{i}")).collect();
    for chunk in keys.chunks(250) {
        try_join_all(chunk.iter().map(|k| writer.set(k, k.as_str())))
            .await
            .unwrap();
    }
    wait_for_replicas(&cluster, 1_000);
    for port in cluster.ports() {
        cluster.cli(port, &["CONFIG", "RESETSTAT"]);
    }

    let url = format!("{}?read_from=replica", cluster.url());
    let reader = Client::connect(&url).await.unwrap();
    let read = try_join_all(keys.iter().map(|k| reader.get::<String>(k)))
        .await
        .unwrap();
    for (key, value) in keys.iter().zip(read) {
        assert_eq!(value.as_deref(), Some(key.as_str()));
    }
    // A multi-key read split per slot goes to replicas too; a write goes to the master.
    let values: Vec<Option<String>> = reader.mget(&keys[..10]).await.unwrap();
    assert!(values.iter().all(Option::is_some));
    reader.set("r:written", "w").await.unwrap();
    assert_eq!(
        writer.get::<String>("r:written").await.unwrap().as_deref(),
        Some("w")
    );

    for port in cluster.replica_ports() {
        let gets = calls(&cluster, port, "get");
        assert!(gets > 0, "replica {port} served no GET");
        assert!(
            calls(&cluster, port, "mget") > 0,
            "replica {port} served no MGET"
        );
        // Each replica connection sent READONLY: no replica answered with a redirection.
        let errors = cluster.cli(port, &["INFO", "errorstats"]);
        assert!(
            !errors.contains("errorstat_MOVED"),
            "replica {port}: {errors}"
        );
    }
    let on_replicas: u64 = cluster
        .replica_ports()
        .iter()
        .map(|&p| calls(&cluster, p, "get"))
        .sum();
    assert_eq!(on_replicas, 1_000);
    for port in cluster.master_ports() {
        // The writer's check above is the one GET a master ran.
        assert!(
            calls(&cluster, port, "get") <= 1,
            "master {port} served GETs"
        );
    }
    let writes: u64 = cluster
        .master_ports()
        .iter()
        .map(|&p| calls(&cluster, p, "set"))
        .sum();
    assert_eq!(writes, 1);

    // Round robin: the master and its replica take turns.
    for port in cluster.ports() {
        cluster.cli(port, &["CONFIG", "RESETSTAT"]);
    }
    let url = format!("{}?read_from=round_robin", cluster.url());
    let both = Client::connect(&url).await.unwrap();
    try_join_all(keys.iter().map(|k| both.get::<String>(k)))
        .await
        .unwrap();
    let mut total = 0;
    for port in cluster.ports() {
        let gets = calls(&cluster, port, "get");
        assert!(gets > 100, "node {port} served {gets} of 1000 GETs");
        total += gets;
    }
    assert_eq!(total, 1_000);
}
