//! The pool and the connections it hands out, against real servers: size limits and the
//! checkout timeout, connections killed server-side, health checks after idle, and command
//! timeouts and abandoned commands that must not put a connection out of step.

use std::time::{Duration, Instant};

use redis_model::prelude::*;
use redis_model_tests::RedisServer;

fn config(server: &RedisServer) -> Config {
    Config::from_url(&server.url()).unwrap()
}

async fn client_id(c: &impl Commands) -> i64 {
    c.send(cmd("CLIENT").arg("ID")).await.unwrap()
}

/// Calls of `command` the server counted so far (`INFO commandstats`).
fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats = server.cli(&["INFO", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

/// Lines of `CLIENT LIST` whose connection is named `name`.
fn clients_named(server: &RedisServer, name: &str) -> usize {
    let needle = format!(" name={name} ");
    server
        .cli(&["CLIENT", "LIST"])
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

/// Kills the connection with this id from outside, and gives its driver a moment to see it.
async fn kill(server: &RedisServer, id: i64) {
    assert_eq!(
        server
            .cli(&["CLIENT", "KILL", "ID", &id.to_string()])
            .trim(),
        "1"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// SET/GET pairs with values unique to `tag`, each reply checked against its own command: a
/// connection out of step would hand one command another's reply.
async fn assert_in_step(c: &impl Commands, tag: &str) {
    for i in 0..20 {
        let key = format!("{tag}:{i}");
        let value = format!("{tag}-value-{i}");
        let ok: String = c
            .send(cmd("SET").arg(&key).arg(&value))
            .await
            .unwrap_or_else(|e| panic!("SET {key}: {e}"));
        assert_eq!(ok, "OK");
        let got: Option<String> = c
            .send(cmd("GET").arg(&key))
            .await
            .unwrap_or_else(|e| panic!("GET {key}: {e}"));
        assert_eq!(got.as_deref(), Some(value.as_str()), "reply to GET {key}");
        let n: i64 = c.send(cmd("STRLEN").arg(&key)).await.unwrap();
        assert_eq!(n, value.len() as i64, "reply to STRLEN {key}");
    }
}

/// Makes the whole server sleep for `secs` from another connection; returns once the server
/// has started sleeping.
async fn stall_server(server: &RedisServer, secs: f64) -> tokio::task::JoinHandle<()> {
    let sleeper = Client::connect(&server.url()).await.unwrap();
    let pong: String = sleeper.send(cmd("PING")).await.unwrap();
    assert_eq!(pong, "PONG");
    let task = tokio::spawn(async move {
        let ok: String = sleeper
            .send(cmd("DEBUG").arg("SLEEP").arg(secs))
            .await
            .unwrap();
        assert_eq!(ok, "OK");
    });
    // The DEBUG SLEEP has left and the server is inside it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_size_and_checkout_timeout() {
    let server = RedisServer::start();
    let mut config = config(&server);
    config.pool.max_size = 2;
    config.pool.connection_timeout = Duration::from_millis(200);
    config.client_name = Some("sized".into());
    let client = Client::with_config(config).await.unwrap();

    let a = client.exclusive().await.unwrap();
    let b = client.exclusive().await.unwrap();
    assert_ne!(client_id(&a).await, client_id(&b).await);
    assert_eq!(client.pool().state().connections, 2);

    let started = Instant::now();
    let err = client.exclusive().await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::PoolTimedOut), "{err:?}");
    assert!(err.is_timeout() && err.is_retryable());
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_secs(2),
        "waited {waited:?}"
    );
    // The shared connection comes from the same pool: it has to wait as well.
    let err = client.get::<String>("k").await.unwrap_err();
    assert!(matches!(err, Error::PoolTimedOut), "{err:?}");
    assert_eq!(clients_named(&server, "sized"), 2);

    // A connection given back serves the next checkout; the pool opened no third one.
    let a_id = client_id(&a).await;
    drop(a);
    let c = client.exclusive().await.unwrap();
    assert_eq!(client_id(&c).await, a_id);
    drop((b, c));
    client.set("k", "v").await.unwrap();
    assert_eq!(
        client.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    // The shared connection stays checked out: one slot is left for exclusive use.
    let only = client.exclusive().await.unwrap();
    assert!(matches!(
        client.exclusive().await.unwrap_err(),
        Error::PoolTimedOut
    ));
    drop(only);
    assert_eq!(client.pool().state().connections, 2);
    assert_eq!(clients_named(&server, "sized"), 2);
}

#[tokio::test]
async fn min_idle_connections_open_up_front() {
    let server = RedisServer::start();
    let mut config = config(&server);
    config.pool.min_idle = Some(3);
    config.pool.max_size = 5;
    config.client_name = Some("warm".into());
    let client = Client::with_config(config).await.unwrap();
    // Open before any command was sent.
    assert_eq!(client.pool().state().connections, 3);
    assert_eq!(client.pool().state().idle_connections, 3);
    assert_eq!(clients_named(&server, "warm"), 3);
    // A checkout takes an idle one rather than opening another.
    let conn = client.exclusive().await.unwrap();
    assert_eq!(client.pool().state().idle_connections, 2);
    let pong: String = conn.send(cmd("PING")).await.unwrap();
    assert_eq!(pong, "PONG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_idle_connection_is_not_handed_out_again() {
    let server = RedisServer::start();
    let client = Client::with_config(config(&server)).await.unwrap();
    let conn = client.exclusive().await.unwrap();
    let killed = client_id(&conn).await;
    drop(conn);
    kill(&server, killed).await;

    for _ in 0..3 {
        let conn = client.exclusive().await.unwrap();
        assert!(!conn.is_broken());
        let id = client_id(&conn).await;
        assert_ne!(id, killed, "the killed connection was handed out");
        assert_in_step(&conn, "after-idle-kill").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_checked_out_connection_fails_then_is_replaced() {
    let server = RedisServer::start();
    let client = Client::with_config(config(&server)).await.unwrap();
    let conn = client.exclusive().await.unwrap();
    let killed = client_id(&conn).await;
    kill(&server, killed).await;

    assert!(conn.is_broken());
    let err = conn.send::<String>(cmd("PING")).await.unwrap_err();
    assert!(err.is_connection_dropped(), "{err:?}");
    // It had closed before the command was queued: the command was never sent.
    assert!(err.is_retryable(), "{err:?}");
    drop(conn);

    let fresh = client.exclusive().await.unwrap();
    assert_ne!(client_id(&fresh).await, killed);
    assert_in_step(&fresh, "after-kill").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_shared_connection_is_replaced() {
    let server = RedisServer::start();
    let client = Client::with_config(config(&server)).await.unwrap();
    let killed = client_id(&client).await;
    kill(&server, killed).await;

    // The next command goes out on a fresh shared connection, and works.
    client.set("k", "v").await.unwrap();
    let replaced = client_id(&client).await;
    assert_ne!(replaced, killed);
    assert_eq!(
        client.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    // And it stays the shared one: commands are not spread over new connections.
    assert_eq!(client_id(&client).await, replaced);

    // Many tasks at once after a second kill: every one gets its own reply.
    kill(&server, replaced).await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let key = format!("task:{i}");
                client.set(&key, i).await.unwrap();
                assert_eq!(client.get::<i64>(&key).await.unwrap(), Some(i));
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let third = client_id(&client).await;
    assert!(third != killed && third != replaced);
    // The broken connections went back to the pool and were closed, not kept.
    assert!(client.pool().state().connections <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_pings_only_after_idle() {
    let server = RedisServer::start();
    let mut config = config(&server);
    config.pool.health_check_after_idle = Duration::from_millis(100);
    let client = Client::with_config(config).await.unwrap();
    let conn = client.exclusive().await.unwrap();
    let id = client_id(&conn).await;
    drop(conn);
    let before = calls(&server, "ping");

    // Checked out again at once: trusted as it is, no round trip.
    let conn = client.exclusive().await.unwrap();
    assert_eq!(client_id(&conn).await, id);
    drop(conn);
    assert_eq!(calls(&server, "ping"), before);

    // Idle past the threshold: PINGed before it is handed out.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let conn = client.exclusive().await.unwrap();
    assert_eq!(calls(&server, "ping"), before + 1);
    assert_eq!(client_id(&conn).await, id, "a healthy connection is kept");
    drop(conn);

    // A connection that died while idle is found out and replaced.
    kill(&server, id).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let conn = client.exclusive().await.unwrap();
    assert_ne!(client_id(&conn).await, id);
    assert_in_step(&conn, "health").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_timeout_while_the_server_sleeps_keeps_the_connection_in_step() {
    let server = RedisServer::start();
    let mut config = config(&server);
    config.command_timeout = Some(Duration::from_millis(100));
    let client = Client::with_config(config).await.unwrap();
    let conn = client.exclusive().await.unwrap();
    conn.set("k", "before").await.unwrap();
    // The shared connection is open before the server stalls (opening it would wait out the
    // stall under `connect_timeout`, not time out).
    client.set("warm", 1).await.unwrap();

    let sleeper = stall_server(&server, 0.5).await;
    let started = Instant::now();
    let err = conn.get::<String>("k").await.unwrap_err();
    let waited = started.elapsed();
    match &err {
        Error::Timeout { command, after } => {
            assert_eq!(command, "GET");
            assert_eq!(*after, Duration::from_millis(100));
        }
        other => panic!("expected Error::Timeout, got {other:?}"),
    }
    assert!(err.is_timeout() && !err.is_retryable() && !err.is_connection_dropped());
    assert!(waited < Duration::from_millis(400), "waited {waited:?}");
    // The timeout did not break the connection.
    assert!(!conn.is_broken());

    // The shared connection times out the same way, for every task waiting on it.
    let waiting: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get::<String>(format!("w{i}")).await })
        })
        .collect();
    for w in waiting {
        assert!(w.await.unwrap().unwrap_err().is_timeout());
    }

    sleeper.await.unwrap();
    // The late GET reply ("before") is read and dropped; every later command gets its own.
    assert_in_step(&conn, "exclusive").await;
    assert_in_step(&client, "shared").await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { assert_in_step(&client, &format!("task{i}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_command_on_the_same_connection_does_not_desync() {
    let server = RedisServer::start();
    let mut config = config(&server);
    config.command_timeout = Some(Duration::from_millis(300));
    let client = Client::with_config(config).await.unwrap();
    let conn = client.exclusive().await.unwrap();
    conn.set("k", "old").await.unwrap();

    // The sleep itself times out; its `+OK` comes later, and must not answer the next command.
    let err = conn
        .send::<String>(cmd("DEBUG").arg("SLEEP").arg(0.5))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { command, .. } if command == "DEBUG"),
        "{err:?}"
    );
    // Sent right away, queued behind the sleep on the same socket: answered after it, within
    // their own timeout, each with its own reply.
    let ok: String = conn.send(cmd("SET").arg("k").arg("new")).await.unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(
        conn.get::<String>("k").await.unwrap().as_deref(),
        Some("new")
    );
    assert_in_step(&conn, "same-conn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_command_futures_do_not_desync() {
    let server = RedisServer::start();
    let client = Client::with_config(config(&server)).await.unwrap();
    let conn = client.exclusive().await.unwrap();
    conn.set("k", "stale").await.unwrap();
    client.set("shared-k", "stale").await.unwrap();

    let sleeper = stall_server(&server, 0.3).await;
    // A future dropped by select! while its command is in flight.
    tokio::select! {
        r = conn.get::<String>("k") => panic!("the server was asleep, yet: {r:?}"),
        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    // A spawned task aborted while its command is in flight on the shared connection.
    let c = client.clone();
    let task = tokio::spawn(async move { c.get::<String>("shared-k").await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    // A pipeline dropped mid-flight: all its replies are skipped, not just the first.
    tokio::select! {
        r = conn.pipeline(pipe().cmd(cmd("GET").arg("k")).cmd(cmd("INCR").arg("n")).cmd(cmd("GET").arg("k"))) => {
            panic!("the server was asleep, yet: {r:?}")
        }
        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    sleeper.await.unwrap();

    assert_in_step(&conn, "dropped-exclusive").await;
    assert_in_step(&client, "dropped-shared").await;
    // The abandoned INCR still ran: a command that left is not unsent.
    assert_eq!(conn.get::<i64>("n").await.unwrap(), Some(1));
    // A future dropped before it was ever polled sends nothing at all.
    drop(conn.send::<i64>(cmd("INCR").arg("n")));
    assert_eq!(conn.get::<i64>("n").await.unwrap(), Some(1));
}
