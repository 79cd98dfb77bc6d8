//! A master killed under load: its replica takes over, and the same client finds it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_model::prelude::*;
use redis_model_tests::cluster::RedisCluster;

/// How many tasks write at once.
const WRITERS: usize = 16;

/// One write as its caller saw it.
struct Write {
    key: String,
    value: u64,
    /// When it ended, from the start of the load.
    at: Duration,
    acknowledged: bool,
    /// The kind of error it failed with (the variant, or the server's error code).
    error: Option<String>,
}

/// Writes `writer`'s keys one after another until `stop`.
async fn write_until(
    client: Arc<Client>,
    writer: usize,
    start: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    let mut value = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("f:{writer}:{value}");
        let outcome = client.set(&key, value).await;
        writes.push(Write {
            key,
            value,
            at: start.elapsed(),
            acknowledged: outcome.is_ok(),
            error: outcome.err().map(|e| match e.server_code() {
                Some(code) => code.to_owned(),
                None => format!("{e:?}")
                    .split([' ', '{', '('])
                    .next()
                    .unwrap()
                    .to_owned(),
            }),
        });
        value += 1;
    }
    writes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_is_replaced_without_restarting_the_client() {
    let mut cluster = RedisCluster::start_stack();
    let client = Arc::new(Client::connect(&cluster.url()).await.unwrap());
    let victim = cluster.master_ports()[0];
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write_until(client.clone(), w, start, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let killed = start.elapsed();
    cluster.kill(victim);
    // The others mark it failed after the node timeout (2 s), then its replica is elected.
    let promoted = tokio::task::block_in_place(|| loop {
        let masters = cluster.master_ports();
        let whole = masters.iter().all(|&p| {
            cluster
                .cli(p, &["CLUSTER", "INFO"])
                .contains("cluster_state:ok")
        });
        if masters.len() == 3 && whole {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < killed + Duration::from_secs(30),
            "no replica took over"
        );
        std::thread::sleep(Duration::from_millis(50));
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut writes = Vec::new();
    for writer in writers {
        writes.extend(writer.await.unwrap());
    }

    let failed: Vec<Duration> = writes
        .iter()
        .filter(|w| !w.acknowledged)
        .map(|w| w.at)
        .collect();
    let mut kinds: Vec<&str> = writes.iter().filter_map(|w| w.error.as_deref()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let (first, last) = match (failed.iter().min(), failed.iter().max()) {
        (Some(&first), Some(&last)) => (first, last),
        _ => (killed, killed),
    };
    println!(
        "master {victim} killed at {killed:?}, replica promoted {:?} later; \
         callers saw errors from {:?} to {:?} after the kill ({} of {} writes failed, \
         over {:?}: {kinds:?})",
        promoted - killed,
        first.saturating_sub(killed),
        last.saturating_sub(killed),
        failed.len(),
        writes.len(),
        last - first,
    );
    assert!(first >= killed, "errors before the kill");
    // Errors stop soon after the replica took over: the client found it by itself.
    assert!(
        last < promoted + Duration::from_secs(1),
        "errors until {:?} after the promotion",
        last.saturating_sub(promoted)
    );
    let after: Vec<&Write> = writes
        .iter()
        .filter(|w| w.at > promoted + Duration::from_secs(1))
        .collect();
    assert!(
        after.len() > 100,
        "{} writes after the promotion",
        after.len()
    );
    assert!(after.iter().all(|w| w.acknowledged));

    // Every write acknowledged after the promotion reads back (from the masters).
    let acknowledged: Vec<&Write> = writes
        .iter()
        .filter(|w| w.acknowledged && w.at > promoted)
        .collect();
    for chunk in acknowledged.chunks(500) {
        let keys: Vec<&str> = chunk.iter().map(|w| w.key.as_str()).collect();
        let values: Vec<Option<u64>> = client.mget(&keys).await.unwrap();
        for (write, value) in chunk.iter().zip(values) {
            assert_eq!(value, Some(write.value), "{}", write.key);
        }
    }
}
