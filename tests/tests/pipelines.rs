//! Pipelines against a real server: explicit ones (each command its own outcome), atomic
//! `MULTI`/`EXEC` ones with queue-time and run-time errors, `WATCH` transactions aborted by
//! another client, `UNWATCH` on drop, and automatic pipelining of many tasks over one socket.

use std::collections::BTreeSet;
use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use redis_model::prelude::*;
use redis_model::Protocol;
use redis_model_tests::RedisServer;

/// The server's URL for each RESP version, so one test body runs on both.
fn urls(server: &RedisServer) -> [(Protocol, String); 2] {
    [
        (Protocol::Resp3, server.url()),
        (Protocol::Resp2, format!("{}?protocol=resp2", server.url())),
    ]
}

fn ok(v: &Result<Value>) -> bool {
    matches!(v, Ok(v) if v.is_ok())
}

fn int(v: &Result<Value>) -> i64 {
    match v {
        Ok(Value::Integer(n)) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

#[tokio::test]
async fn explicit_pipeline_reports_each_command() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let c = Client::connect(&url).await.unwrap();
        c.del(&["a", "list"]).await.unwrap();
        let results = c
            .pipeline(
                pipe()
                    .cmd(cmd("SET").arg("a").arg(1))
                    .cmd(cmd("LPUSH").arg("a").arg("x"))
                    .cmd(cmd("INCR").arg("a"))
                    .cmd(cmd("GET").arg("a"))
                    .cmd(cmd("NOSUCHCOMMAND"))
                    .cmd(cmd("RPUSH").arg("list").arg(["p", "q"]))
                    .cmd(cmd("GET").arg("missing")),
            )
            .await
            .unwrap();
        assert_eq!(results.len(), 7, "{p:?}");
        assert!(ok(&results[0]), "{p:?}: {:?}", results[0]);
        match &results[1] {
            Err(Error::Server { command, code, .. }) => {
                assert_eq!((command.as_str(), code.as_str()), ("LPUSH", "WRONGTYPE"))
            }
            other => panic!("{p:?}: {other:?}"),
        }
        // The failure did not stop the commands after it, and replies are in order.
        assert_eq!(int(&results[2]), 2);
        assert_eq!(
            String::from_redis(results[3].as_ref().unwrap().clone()).unwrap(),
            "2"
        );
        assert!(
            matches!(&results[4], Err(Error::Server { command, code, .. }) if command == "NOSUCHCOMMAND" && code == "ERR"),
            "{:?}",
            results[4]
        );
        assert_eq!(int(&results[5]), 2);
        assert_eq!(results[6].as_ref().unwrap(), &Value::Nil);
        // Everything applied, and the connection is in step afterwards.
        assert_eq!(c.get::<i64>("a").await.unwrap(), Some(2));
        assert_eq!(c.llen("list").await.unwrap(), 2);

        // `add` builds the same thing in place.
        let mut many = Pipeline::new();
        for i in 0..500 {
            many.add(cmd("RPUSH").arg("big").arg(i));
        }
        assert_eq!(many.len(), 500);
        let results = c.pipeline(many).await.unwrap();
        c.del("big").await.unwrap();
        let lens: Vec<i64> = results.iter().map(int).collect();
        assert_eq!(lens, (1..=500).collect::<Vec<i64>>(), "{p:?}");
    }
}

#[tokio::test]
async fn empty_pipelines() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let c = Client::connect(&url).await.unwrap();
        assert!(pipe().is_empty());
        let results = c.pipeline(pipe()).await.unwrap();
        assert!(results.is_empty(), "{p:?}");
        // An empty atomic pipeline is MULTI then EXEC, whose result list is empty.
        let results = c.pipeline(pipe().atomic()).await.unwrap();
        assert!(results.is_empty(), "{p:?}");
        // Nothing got out of step.
        let pong: String = c.send(cmd("PING")).await.unwrap();
        assert_eq!(pong, "PONG");
        // On an exclusive connection too.
        let conn = c.exclusive().await.unwrap();
        assert!(conn.pipeline(pipe()).await.unwrap().is_empty());
        let pong: String = conn.send(cmd("PING")).await.unwrap();
        assert_eq!(pong, "PONG");
    }
}

#[tokio::test]
async fn atomic_pipeline_runs_multi_exec() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let c = Client::connect(&url).await.unwrap();
        c.del(&["n", "s"]).await.unwrap();
        let results = c
            .pipeline(
                pipe()
                    .atomic()
                    .cmd(cmd("INCR").arg("n"))
                    .cmd(cmd("INCRBY").arg("n").arg(10))
                    .cmd(cmd("SET").arg("s").arg("v"))
                    .cmd(cmd("GET").arg("s")),
            )
            .await
            .unwrap();
        // One outcome per command, not for MULTI/QUEUED/EXEC.
        assert_eq!(results.len(), 4, "{p:?}: {results:?}");
        assert_eq!(int(&results[0]), 1);
        assert_eq!(int(&results[1]), 11);
        assert!(ok(&results[2]));
        assert_eq!(
            results[3].as_ref().unwrap().as_bytes().map(|b| b.as_ref()),
            Some(&b"v"[..])
        );

        // A run-time error inside EXEC fails that command only; the others ran (Redis does
        // not roll back).
        let results = c
            .pipeline(
                pipe()
                    .atomic()
                    .cmd(cmd("SET").arg("t").arg("x"))
                    .cmd(cmd("INCR").arg("t"))
                    .cmd(cmd("SET").arg("u").arg("y")),
            )
            .await
            .unwrap();
        assert!(ok(&results[0]), "{p:?}");
        assert!(
            matches!(&results[1], Err(Error::Server { command, code, .. }) if command == "INCR" && code == "ERR"),
            "{p:?}: {:?}",
            results[1]
        );
        assert!(ok(&results[2]));
        assert_eq!(c.get::<String>("u").await.unwrap().as_deref(), Some("y"));
        c.del(&["t", "u"]).await.unwrap();
    }
}

#[tokio::test]
async fn atomic_pipeline_is_not_interleaved_with_other_tasks() {
    let server = RedisServer::start();
    let c = Client::connect(&server.url()).await.unwrap();
    // While many tasks increment `n` one by one, a transaction reads it twice: with no other
    // command between its own, both reads see the same value.
    let writers: Vec<_> = (0..20)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    c.incr_by("n", 1).await.unwrap();
                }
            })
        })
        .collect();
    for _ in 0..50 {
        let r = c
            .pipeline(
                pipe()
                    .atomic()
                    .cmd(cmd("GET").arg("n"))
                    .cmd(cmd("GET").arg("n")),
            )
            .await
            .unwrap();
        assert_eq!(r[0].as_ref().unwrap(), r[1].as_ref().unwrap());
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(c.get::<i64>("n").await.unwrap(), Some(1000));
}

#[tokio::test]
async fn queue_time_error_discards_the_transaction() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let c = Client::connect(&url).await.unwrap();
        c.del(&["before", "after", "ctr"]).await.unwrap();
        let e = c
            .pipeline(
                pipe()
                    .atomic()
                    .cmd(cmd("SET").arg("before").arg(1))
                    .cmd(cmd("NOSUCHCOMMAND").arg("x"))
                    .cmd(cmd("SET").arg("after").arg(2)),
            )
            .await
            .unwrap_err();
        // The error names the command that could not be queued, not EXEC.
        match &e {
            Error::Server { command, code, .. } => {
                assert_eq!((command.as_str(), code.as_str()), ("NOSUCHCOMMAND", "ERR"))
            }
            other => panic!("{p:?}: {other:?}"),
        }
        // Nothing was applied, not even the command queued before the bad one.
        assert_eq!(c.exists(&["before", "after"]).await.unwrap(), 0, "{p:?}");

        // A wrong number of arguments is also caught at queue time.
        let e = c
            .pipeline(
                pipe()
                    .atomic()
                    .cmd(cmd("SET").arg("before").arg(1))
                    .cmd(cmd("GET")),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::Server { command, .. } if command == "GET"),
            "{p:?}: {e:?}"
        );
        assert_eq!(c.exists("before").await.unwrap(), 0);

        // The shared connection is not left inside a MULTI: the next commands run normally.
        c.set("plain", "v").await.unwrap();
        assert_eq!(
            c.get::<String>("plain").await.unwrap().as_deref(),
            Some("v")
        );
        let r = c
            .pipeline(pipe().atomic().cmd(cmd("INCR").arg("ctr")))
            .await
            .unwrap();
        assert_eq!(int(&r[0]), 1);
    }
}

#[tokio::test]
async fn watch_aborts_when_another_client_writes() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let other = Client::connect(&url).await.unwrap();
        client.set("balance", 100).await.unwrap();

        let tx = client.watch(&["balance"]).await.unwrap();
        let balance: i64 = tx.get("balance").await.unwrap().unwrap();
        assert_eq!(balance, 100);
        // Someone else writes the watched key between the read and EXEC.
        other.set("balance", 500).await.unwrap();
        let result = tx
            .exec(pipe().cmd(cmd("SET").arg("balance").arg(balance + 10)))
            .await;
        assert!(
            matches!(result, Err(Error::TransactionAborted)),
            "{p:?}: {result:?}"
        );
        // The other client's write stands.
        assert_eq!(client.get::<i64>("balance").await.unwrap(), Some(500));

        // With no one writing, the same transaction goes through.
        let tx = client.watch(&["balance"]).await.unwrap();
        let balance: i64 = tx.get("balance").await.unwrap().unwrap();
        let results = tx
            .exec(
                pipe()
                    .cmd(cmd("SET").arg("balance").arg(balance + 10))
                    .cmd(cmd("GET").arg("balance")),
            )
            .await
            .unwrap();
        assert!(ok(&results[0]), "{p:?}: {results:?}");
        assert_eq!(
            i64::from_redis(results[1].as_ref().unwrap().clone()).unwrap(),
            510
        );
        assert_eq!(client.get::<i64>("balance").await.unwrap(), Some(510));

        // A write to a key that is not watched does not abort.
        let tx = client.watch(&["balance", "other"]).await.unwrap();
        other.set("unrelated", 1).await.unwrap();
        let results = tx
            .exec(pipe().atomic().cmd(cmd("INCR").arg("balance")))
            .await
            .unwrap();
        assert_eq!(int(&results[0]), 511);

        // Deleting a watched key counts as a change too.
        let tx = client.watch("balance").await.unwrap();
        other.del("balance").await.unwrap();
        let result = tx.exec(pipe().cmd(cmd("SET").arg("balance").arg(1))).await;
        assert!(matches!(result, Err(Error::TransactionAborted)), "{p:?}");
        assert_eq!(client.exists("balance").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn dropped_watch_leaves_its_connection_clean() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        // One connection in the pool: the second transaction must reuse the first one's.
        let mut config = Config::from_url(&url).unwrap();
        config.pool.max_size = 1;
        config.pool.connection_timeout = Duration::from_secs(3);
        let client = Client::with_config(config).await.unwrap();
        let other = Client::connect(&url).await.unwrap();

        let tx = client.watch("k").await.unwrap();
        let first_id: i64 = tx.send(cmd("CLIENT").arg("ID")).await.unwrap();
        // The watched key changes, so this connection's next EXEC would abort if the watch
        // were still on it.
        other.set("k", "changed").await.unwrap();
        drop(tx);

        let tx = client.watch("j").await.unwrap();
        let second_id: i64 = tx.send(cmd("CLIENT").arg("ID")).await.unwrap();
        assert_eq!(first_id, second_id, "{p:?}: the same pooled connection");
        let results = tx
            .exec(pipe().cmd(cmd("SET").arg("j").arg("done")))
            .await
            .unwrap();
        assert!(ok(&results[0]), "{p:?}: {results:?}");
        assert_eq!(
            other.get::<String>("j").await.unwrap().as_deref(),
            Some("done")
        );

        // After exec the connection is back in the pool and usable for a third transaction.
        let tx = client.watch("j").await.unwrap();
        let third_id: i64 = tx.send(cmd("CLIENT").arg("ID")).await.unwrap();
        assert_eq!(first_id, third_id);
        let results = tx.exec(pipe().cmd(cmd("DEL").arg("j"))).await.unwrap();
        assert_eq!(int(&results[0]), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_tasks_share_one_connection() {
    let server = RedisServer::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.send::<i64>(cmd("INCR").arg("hits")).await })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap().unwrap());
    }
    // Every INCR ran once, each task got its own reply.
    assert_eq!(seen, (1..=1000).collect::<BTreeSet<i64>>());
    assert_eq!(client.get::<i64>("hits").await.unwrap(), Some(1000));

    // A thousand concurrent tasks, yet the server saw a handful of connections: the shared one
    // and redis-cli's own.
    let info = server.cli(&["INFO", "clients"]);
    let connected: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .expect("INFO clients has connected_clients")
        .trim()
        .parse()
        .unwrap();
    assert!(connected <= 3, "{connected} connections:\n{info}");
    let list = server.cli(&["CLIENT", "LIST"]);
    assert!(list.lines().count() <= 3, "{list}");
    let incrs = server.cli(&["INFO", "commandstats"]);
    assert!(incrs.contains("cmdstat_incr:calls=1000,"), "{incrs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pipelines_and_commands_keep_their_replies() {
    let server = RedisServer::start();
    let client = Client::connect(&server.url()).await.unwrap();
    // Tasks mixing single commands and pipelines on the same shared connection: each gets
    // exactly its own replies.
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                let key = format!("k{i}");
                c.set(&key, i).await.unwrap();
                let r = c
                    .pipeline(
                        pipe()
                            .cmd(cmd("INCR").arg(&key))
                            .cmd(cmd("INCRBY").arg(&key).arg(i))
                            .cmd(cmd("GET").arg(&key)),
                    )
                    .await
                    .unwrap();
                assert_eq!(int(&r[0]), i + 1);
                assert_eq!(int(&r[1]), 2 * i + 1);
                let r = c
                    .pipeline(pipe().atomic().cmd(cmd("DECR").arg(&key)))
                    .await
                    .unwrap();
                assert_eq!(int(&r[0]), 2 * i);
                assert_eq!(c.get::<i64>(&key).await.unwrap(), Some(2 * i));
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn cancelled_exec_leaves_its_connection_clean() {
    let server = RedisServer::start();
    let mut config = Config::from_url(&server.url()).unwrap();
    config.pool.max_size = 1;
    config.pool.connection_timeout = Duration::from_secs(3);
    let client = Client::with_config(config).await.unwrap();
    let other = Client::connect(&server.url()).await.unwrap();

    let tx = client.watch("k").await.unwrap();
    other.set("k", "changed").await.unwrap();
    // The caller gives up on `exec` at once: its MULTI/EXEC may never be sent, and the watch
    // must not outlive the transaction on the pooled connection.
    // Polled once (its request queued), then dropped before the driver task could run: on
    // this single-threaded runtime nothing else runs in between.
    let mut exec = Box::pin(tx.exec(pipe().cmd(cmd("SET").arg("k").arg("mine"))));
    let first = std::future::poll_fn(|cx| Poll::Ready(exec.as_mut().poll(cx))).await;
    assert!(first.is_pending(), "{first:?}");
    drop(exec);

    let tx = client.watch("j").await.unwrap();
    let results = tx
        .exec(pipe().cmd(cmd("SET").arg("j").arg("done")))
        .await
        .unwrap();
    assert!(ok(&results[0]), "{results:?}");
    assert_eq!(
        other.get::<String>("j").await.unwrap().as_deref(),
        Some("done")
    );
    // Whatever became of the cancelled transaction, it did not apply over the other write.
    assert_eq!(
        other.get::<String>("k").await.unwrap().as_deref(),
        Some("changed")
    );
}
