//! Resharding under load: slots move between masters (`redis-cli --cluster reshard`) while
//! tasks write, read and read from replicas, and no caller sees an error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use redis_model::prelude::*;
use redis_model_tests::cluster::RedisCluster;

/// How many slots move: the source master's lowest ones, as `redis-cli` picks them.
const MOVED_SLOTS: u16 = 500;

/// How many tasks write at once.
const WRITERS: usize = 16;

/// The master serving slot 0, from its own `CLUSTER NODES` line.
fn master_of_slot_zero(cluster: &RedisCluster) -> u16 {
    cluster
        .master_ports()
        .into_iter()
        .find(|&p| {
            let nodes = cluster.cli(p, &["CLUSTER", "NODES"]);
            let me = nodes.lines().find(|l| l.contains("myself")).unwrap();
            me.split_whitespace().any(|range| range.starts_with("0-"))
        })
        .expect("a master serves slot 0")
}

/// Writes `writer`'s keys one after another until `stop`: the keys and values acknowledged,
/// and the errors seen.
async fn write_until(
    client: Arc<Client>,
    writer: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<(String, u64)>, Vec<String>) {
    let (mut acknowledged, mut errors) = (Vec::new(), Vec::new());
    let mut value = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("rs:{writer}:{value}");
        match client.set(&key, value).await {
            Ok(()) => acknowledged.push((key, value)),
            Err(e) => errors.push(e.to_string()),
        }
        value += 1;
    }
    (acknowledged, errors)
}

/// Reads `keys` with `MGET` (split per slot, several keys in each) until `stop`; every value
/// must be the key itself. The errors seen.
async fn mget_until(client: Arc<Client>, keys: Vec<String>, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut errors = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match client.mget::<String>(&keys).await {
            Ok(values) => {
                for (key, value) in keys.iter().zip(values) {
                    assert_eq!(value.as_deref(), Some(key.as_str()));
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    errors
}

/// Reads `keys` one by one from replicas until `stop`. A replica may not have a key its master
/// just received by migration, so a value may be missing, but never wrong. The errors seen.
async fn replica_reads_until(
    client: Client,
    keys: Vec<String>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut errors = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        for key in &keys {
            match client.get::<String>(key).await {
                Ok(value) => assert!(value.is_none() || value.as_deref() == Some(key.as_str())),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_under_load_shows_callers_no_error() {
    let cluster = RedisCluster::start_stack();
    let client = Arc::new(Client::connect(&cluster.url()).await.unwrap());
    let from = master_of_slot_zero(&cluster);
    let to = *cluster.master_ports().iter().find(|&&p| p != from).unwrap();

    // Ten hash tags in the slots that move, 25 keys each: multi-key reads of one slot while
    // its keys migrate, which `redis-cli` does ten at a time (`TRYAGAIN` in between).
    let candidates: Vec<String> = (0..2_000).map(|i| format!("{{t{i}}}")).collect();
    let slots = try_join_all(
        candidates
            .iter()
            .map(|tag| client.send::<u16>(cmd("CLUSTER").arg("KEYSLOT").arg(tag))),
    )
    .await
    .unwrap();
    let tags: Vec<&String> = candidates
        .iter()
        .zip(slots)
        .filter(|(_, slot)| *slot < MOVED_SLOTS)
        .map(|(tag, _)| tag)
        .take(10)
        .collect();
    assert_eq!(tags.len(), 10);
    let tagged: Vec<String> = tags
        .iter()
        .flat_map(|tag| (0..25).map(move |i| format!("{tag}:{i}")))
        .collect();
    let pairs: Vec<(&str, &str)> = tagged.iter().map(|k| (k.as_str(), k.as_str())).collect();
    client.mset(&pairs).await.unwrap();

    let replicas = Client::connect(&format!("{}?read_from=replica", cluster.url()))
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write_until(client.clone(), w, stop.clone())))
        .collect();
    let mgets = tokio::spawn(mget_until(client.clone(), tagged.clone(), stop.clone()));
    let replica_reads = tokio::spawn(replica_reads_until(replicas, tagged.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    tokio::task::block_in_place(|| cluster.reshard(from, to, usize::from(MOVED_SLOTS)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    let mut errors = Vec::new();
    for writer in writers {
        let (acked, failed) = writer.await.unwrap();
        acknowledged.extend(acked);
        errors.extend(failed);
    }
    errors.extend(mgets.await.unwrap());
    errors.extend(replica_reads.await.unwrap());
    assert!(
        errors.is_empty(),
        "{} errors, the first: {:?}",
        errors.len(),
        errors.first()
    );

    // The slots moved, and the client followed them through redirections.
    for key in &tagged {
        assert_eq!(
            cluster.cli(to, &["EXISTS", key]).trim(),
            "1",
            "{key} on {to}"
        );
    }
    let redirected = cluster.cli(from, &["INFO", "errorstats"]);
    assert!(
        redirected.contains("errorstat_ASK") || redirected.contains("errorstat_MOVED"),
        "{redirected}"
    );

    // Every acknowledged write reads back.
    let count = |code: &str| {
        redirected
            .lines()
            .find_map(|l| l.strip_prefix(&format!("errorstat_{code}:count=")))
            .unwrap_or("0")
            .trim()
            .to_owned()
    };
    println!(
        "{} writes acknowledged while {MOVED_SLOTS} slots moved; the source answered {} ASK, \
         {} MOVED, {} TRYAGAIN",
        acknowledged.len(),
        count("ASK"),
        count("MOVED"),
        count("TRYAGAIN")
    );
    for chunk in acknowledged.chunks(500) {
        let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
        let values: Vec<Option<u64>> = client.mget(&keys).await.unwrap();
        for ((key, value), read) in chunk.iter().zip(values) {
            assert_eq!(read, Some(*value), "{key}");
        }
    }
}
