//! Memory per connection. A cluster client keeps a pool per node, so what each idle connection
//! holds is multiplied by nodes and pool sizes: 1,000 pooled connections are opened, and what
//! the process holds per connection is measured while they sit idle, fresh and again after each
//! has carried a 1 MiB reply.
//!
//! The figure checked is bytes allocated and not freed, counted by this binary's global
//! allocator: exact, and unmoved by what the allocator keeps after a free. The process's
//! resident set is printed beside it for information: it grows in the first round, and later
//! rounds mostly reuse the pages the one before freed. The server is another process and counts
//! in neither.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use redis_model::pool::{self, Pool, PooledConnection};
use redis_model::prelude::*;
use redis_model::{Connection, TlsConfig};
use redis_model_tests::tls::Certificates;
use redis_model_tests::{server_has_tls, RedisServer, ServerOptions};

/// The system allocator, counting the bytes it has handed out and not had back.
struct Counting;

/// Bytes allocated and not freed. Signed: a block allocated before a sample may be freed after.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call goes to `System` unchanged; the counter only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `alloc` are `System::alloc`'s.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is the caller's to check, as for `System`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The counter is the whole process's: one measurement at a time.
static ALONE: Mutex<()> = Mutex::new(());

const CONNECTIONS: usize = 1_000;
/// The reply each connection carries once.
const LARGE_REPLY: usize = 1 << 20;
/// What an idle connection may hold, fresh or after a large reply.
const LIMIT: f64 = 16.0 * 1024.0;
/// What an idle TLS connection may hold: rustls adds about 8.5 KiB per session (a 4 KiB receive
/// buffer it keeps, the keys of both directions, the session's state).
const TLS_LIMIT: f64 = 24.0 * 1024.0;
/// Measurements, each with a pool of its own; the median is checked.
const ROUNDS: usize = 3;

/// What the process holds: bytes allocated, and its resident set in bytes.
#[derive(Clone, Copy)]
struct Sample {
    live: isize,
    rss: isize,
}

impl Sample {
    /// Taken once every connection's driver has had time to settle: they are idle, but the
    /// last of them may not have been polled since its reply left.
    async fn settled() -> Sample {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Sample {
            live: LIVE.load(Ordering::Relaxed),
            rss: rss(),
        }
    }

    /// Bytes per connection gained since `before`: allocated, and resident.
    fn per_connection_since(self, before: Sample) -> (f64, f64) {
        let per = |now: isize, then: isize| (now - then) as f64 / CONNECTIONS as f64;
        (per(self.live, before.live), per(self.rss, before.rss))
    }
}

/// `VmRSS` of this process, in bytes.
fn rss() -> isize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: isize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

/// Checks every connection of `pool` out at once: all of them, each a different one.
async fn check_out_all(pool: &Pool) -> Vec<PooledConnection> {
    join_all((0..CONNECTIONS).map(|_| pool.get_owned()))
        .await
        .into_iter()
        .map(|c| c.expect("check out"))
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Bytes allocated per idle connection to the server `config` names, fresh and after a 1 MiB
/// reply: medians over [`ROUNDS`], each round printed.
fn measure(label: &str, mut config: Config) -> (f64, f64) {
    let _alone = ALONE.lock().unwrap_or_else(PoisonError::into_inner);
    config.pool.max_size = CONNECTIONS as u32;
    config.pool.connection_timeout = Duration::from_secs(60);
    config.connect_timeout = Duration::from_secs(60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        // One connection does first what happens once per process (the runtime's I/O driver,
        // lazy statics), so that none of it is counted per connection, and writes the value.
        let first = Connection::connect(&config).await.unwrap();
        let _: () = first
            .send(cmd("SET").arg("large").arg(vec![b'x'; LARGE_REPLY]))
            .await
            .unwrap();
        let large: Bytes = first.send(cmd("GET").arg("large")).await.unwrap();
        assert_eq!(large.len(), LARGE_REPLY);
        drop(large);

        let (mut fresh, mut after_large) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let before = Sample::settled().await;
            let pool = pool::build(&config).await.unwrap();
            // Checked out together, so that the pool opens them all; then back to it, idle.
            drop(check_out_all(&pool).await);
            let opened = Sample::settled().await;

            let conns = check_out_all(&pool).await;
            for conn in &conns {
                let reply: Bytes = conn.send(cmd("GET").arg("large")).await.unwrap();
                assert_eq!(reply.len(), LARGE_REPLY);
            }
            drop(conns);
            let carried = Sample::settled().await;
            assert_eq!(pool.state().connections as usize, CONNECTIONS);

            for (sample, when, all) in [
                (opened, "fresh", &mut fresh),
                (carried, "after a 1 MiB reply", &mut after_large),
            ] {
                let (live, rss) = sample.per_connection_since(before);
                println!(
                    "{label}, round {round}: an idle connection {when}: \
                     {live:.0} B allocated, {rss:.0} B resident"
                );
                all.push(live);
            }
        }
        let (fresh, after_large) = (median(fresh), median(after_large));
        println!(
            "{label}: an idle connection holds {fresh:.0} B fresh, {after_large:.0} B after \
             a 1 MiB reply (allocated, median of {ROUNDS})"
        );
        (fresh, after_large)
    })
}

#[test]
fn an_idle_connection_holds_at_most_16_kib_fresh_and_after_a_large_reply() {
    let server = RedisServer::start();
    let (fresh, after_large) = measure("TCP", Config::from_url(&server.url()).unwrap());
    assert!(fresh <= LIMIT, "a fresh idle connection holds {fresh:.0} B");
    assert!(
        after_large <= LIMIT,
        "an idle connection holds {after_large:.0} B after a 1 MiB reply"
    );
}

#[test]
fn an_idle_tls_connection_holds_at_most_24_kib_fresh_and_after_a_large_reply() {
    if !server_has_tls() {
        eprintln!("note: skipped: the installed redis-server has no TLS support");
        return;
    }
    let certs = Certificates::generate();
    let server = ServerOptions::default().tls(certs.server(false)).start();
    let mut config = Config::from_url(&server.url()).unwrap();
    config.tls = Some(
        TlsConfig::new()
            .with_ca_pem(certs.ca_pem.as_bytes())
            .unwrap(),
    );
    let (fresh, after_large) = measure("TLS", config);
    assert!(
        fresh <= TLS_LIMIT,
        "a fresh idle TLS connection holds {fresh:.0} B"
    );
    assert!(
        after_large <= TLS_LIMIT,
        "an idle TLS connection holds {after_large:.0} B after a 1 MiB reply"
    );
}
