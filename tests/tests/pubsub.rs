//! Pub/sub against a real server, on RESP3 (push frames) and RESP2 (plain arrays): messages
//! from `SUBSCRIBE` and `PSUBSCRIBE`, unsubscribing, confirmations among a flood of messages,
//! push frames among ordinary replies, and the end of the stream when the server drops the
//! connection.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use redis_model::commands::{Message, Subscription};
use redis_model::prelude::*;
use redis_model::{Connection, Protocol, ToArg};
use redis_model_tests::RedisServer;

/// The server's URL for each RESP version, so one test body runs on both.
fn urls(server: &RedisServer) -> [(Protocol, String); 2] {
    [
        (Protocol::Resp3, server.url()),
        (Protocol::Resp2, format!("{}?protocol=resp2", server.url())),
    ]
}

/// The next item of the stream, failing the test instead of waiting forever.
async fn next(sub: &mut Subscription) -> Option<Result<Message>> {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("no message within 5 s")
}

async fn next_message(sub: &mut Subscription) -> Message {
    next(sub).await.expect("stream ended").expect("message")
}

/// Nothing arrives within a short while.
async fn assert_quiet(sub: &mut Subscription) {
    if let Ok(item) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
        panic!("expected no message, got {item:?}");
    }
}

async fn publish(c: &Client, channel: &str, payload: impl ToArg) -> i64 {
    c.send(cmd("PUBLISH").arg(channel).arg(payload))
        .await
        .unwrap()
}

/// Bounds an operation that could hang, so a bug fails the test instead of stalling it.
async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 5 s"))
}

#[tokio::test]
async fn subscribe_receives_messages() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let mut sub = client.subscriber().await.unwrap();
        within("subscribe", sub.subscribe(&["news", "sport"]))
            .await
            .unwrap();
        // Both subscriptions are in place when `subscribe` returns.
        assert_eq!(publish(&client, "news", "hello").await, 1, "{p:?}");
        assert_eq!(publish(&client, "sport", b"\x00bin\r\n".to_vec()).await, 1);
        assert_eq!(publish(&client, "weather", "nobody").await, 0);

        let m = next_message(&mut sub).await;
        assert_eq!(
            m,
            Message {
                channel: Bytes::from_static(b"news"),
                pattern: None,
                payload: Bytes::from_static(b"hello"),
            },
            "{p:?}"
        );
        let m = next_message(&mut sub).await;
        assert_eq!(m.channel, "sport");
        assert_eq!(m.payload, Bytes::from_static(b"\x00bin\r\n"), "binary-safe");
        assert_quiet(&mut sub).await;

        // Messages keep their order.
        for i in 0..100 {
            publish(&client, "news", i).await;
        }
        for i in 0..100 {
            let m = next_message(&mut sub).await;
            assert_eq!(m.payload, i.to_string(), "{p:?}");
        }
    }
}

#[tokio::test]
async fn psubscribe_reports_the_pattern() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let mut sub = client.subscriber().await.unwrap();
        within("psubscribe", sub.psubscribe("user:*"))
            .await
            .unwrap();
        within("subscribe", sub.subscribe("user:1")).await.unwrap();

        // A channel matched by the pattern only.
        assert_eq!(publish(&client, "user:7", "seven").await, 1, "{p:?}");
        let m = next_message(&mut sub).await;
        assert_eq!(
            m,
            Message {
                channel: Bytes::from_static(b"user:7"),
                pattern: Some(Bytes::from_static(b"user:*")),
                payload: Bytes::from_static(b"seven"),
            },
            "{p:?}"
        );
        // A channel matched both ways arrives twice: once plain, once through the pattern.
        assert_eq!(publish(&client, "user:1", "one").await, 2);
        let mut got = [next_message(&mut sub).await, next_message(&mut sub).await];
        got.sort_by_key(|m| m.pattern.is_some());
        assert_eq!(got[0].pattern, None);
        assert_eq!(got[1].pattern.as_deref(), Some(&b"user:*"[..]));
        assert!(got
            .iter()
            .all(|m| m.channel == "user:1" && m.payload == "one"));
        assert_eq!(publish(&client, "order:1", "x").await, 0);
        assert_quiet(&mut sub).await;
    }
}

#[tokio::test]
async fn unsubscribe_stops_messages() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let mut sub = client.subscriber().await.unwrap();
        within("subscribe", sub.subscribe(&["a", "b", "c"]))
            .await
            .unwrap();
        within("psubscribe", sub.psubscribe(&["p:*", "q:*"]))
            .await
            .unwrap();

        within("unsubscribe", sub.unsubscribe("a")).await.unwrap();
        assert_eq!(publish(&client, "a", "gone").await, 0, "{p:?}");
        assert_eq!(publish(&client, "b", "still").await, 1);
        let m = next_message(&mut sub).await;
        assert_eq!(
            (m.channel.as_ref(), m.payload.as_ref()),
            (&b"b"[..], &b"still"[..])
        );

        within("punsubscribe", sub.punsubscribe("p:*"))
            .await
            .unwrap();
        assert_eq!(publish(&client, "p:1", "gone").await, 0, "{p:?}");
        assert_eq!(publish(&client, "q:1", "still").await, 1);
        assert_eq!(next_message(&mut sub).await.channel, "q:1");

        // From every channel at once, while a pattern remains.
        within("unsubscribe all", sub.unsubscribe(None::<&str>))
            .await
            .unwrap();
        assert_eq!(publish(&client, "b", "x").await, 0, "{p:?}");
        assert_eq!(publish(&client, "c", "x").await, 0);
        assert_eq!(publish(&client, "q:2", "still").await, 1);
        assert_eq!(next_message(&mut sub).await.channel, "q:2");

        // Subscribing again works after unsubscribing.
        within("subscribe", sub.subscribe("a")).await.unwrap();
        assert_eq!(publish(&client, "a", "back").await, 1);
        assert_eq!(next_message(&mut sub).await.payload, "back");

        // From every pattern at once, while a channel remains.
        within("punsubscribe all", sub.punsubscribe(None::<&str>))
            .await
            .unwrap();
        assert_eq!(publish(&client, "q:3", "x").await, 0, "{p:?}");
        assert_eq!(publish(&client, "a", "last").await, 1);
        assert_eq!(next_message(&mut sub).await.payload, "last");

        // And from everything: nothing arrives any more.
        within("unsubscribe all", sub.unsubscribe(None::<&str>))
            .await
            .unwrap();
        assert_eq!(publish(&client, "a", "x").await, 0);
        assert_quiet(&mut sub).await;
        // Unsubscribing with no subscription left still gets its (single) confirmation.
        within("unsubscribe none", sub.unsubscribe(None::<&str>))
            .await
            .unwrap();
        within("punsubscribe none", sub.punsubscribe(None::<&str>))
            .await
            .unwrap();

        // Subscribing to nothing is refused before anything is sent.
        let e = sub.subscribe(None::<&str>).await.unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmations_among_a_flood_of_messages() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let mut sub = client.subscriber().await.unwrap();
        within("subscribe", sub.subscribe("flood")).await.unwrap();

        // While messages pour in, subscription changes wait for their own confirmations and
        // never take a message for one (or the other way round).
        let publisher = {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..2000 {
                    publish(&client, "flood", i).await;
                }
            })
        };
        for i in 0..50 {
            let ch = format!("extra:{i}");
            within("subscribe", sub.subscribe(&[ch.as_str(), "extra:all"]))
                .await
                .unwrap();
            within("psubscribe", sub.psubscribe(format!("pat:{i}:*")))
                .await
                .unwrap();
            if i % 2 == 0 {
                within("unsubscribe", sub.unsubscribe(&ch)).await.unwrap();
            }
        }
        publisher.await.unwrap();
        for i in 0..2000 {
            let m = next_message(&mut sub).await;
            assert_eq!(
                (m.channel.as_ref(), m.payload.as_ref()),
                (&b"flood"[..], i.to_string().as_bytes()),
                "{p:?}"
            );
        }
        // The changes made during the flood took effect.
        assert_eq!(publish(&client, "extra:1", "odd").await, 1, "{p:?}");
        assert_eq!(publish(&client, "extra:2", "even").await, 0);
        assert_eq!(publish(&client, "pat:7:x", "pat").await, 1);
        assert_eq!(next_message(&mut sub).await.payload, "odd");
        let m = next_message(&mut sub).await;
        assert_eq!(m.pattern.as_deref(), Some(&b"pat:7:*"[..]));
        assert_quiet(&mut sub).await;
    }
}

#[tokio::test]
async fn subscriber_and_client_share_nothing() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let mut sub = client.subscriber().await.unwrap();
        within("subscribe", sub.subscribe("events")).await.unwrap();
        // The client's commands, interleaved with messages arriving on the subscriber, get
        // their own replies; the subscriber gets only messages.
        for i in 0..200 {
            client.set("k", i).await.unwrap();
            assert_eq!(publish(&client, "events", i).await, 1, "{p:?}");
            assert_eq!(client.get::<i64>("k").await.unwrap(), Some(i), "{p:?}");
            let pong: String = client.send(cmd("PING")).await.unwrap();
            assert_eq!(pong, "PONG");
        }
        for i in 0..200 {
            assert_eq!(next_message(&mut sub).await.payload, i.to_string());
        }
        // Two subscribers of one client are two connections.
        let mut second = client.subscriber().await.unwrap();
        within("subscribe", second.subscribe("events"))
            .await
            .unwrap();
        assert_eq!(publish(&client, "events", "both").await, 2);
        assert_eq!(next_message(&mut sub).await.payload, "both");
        assert_eq!(next_message(&mut second).await.payload, "both");
    }
}

#[tokio::test]
async fn resp3_push_frames_between_replies() {
    // Client-side caching makes the server push `invalidate` frames onto an ordinary RESP3
    // connection, in between the replies to its commands. None may be taken for a reply.
    let server = RedisServer::start();
    let conn = Connection::connect(&Config::from_url(&server.url()).unwrap())
        .await
        .unwrap();
    assert_eq!(conn.protocol(), Protocol::Resp3);
    let other = Client::connect(&server.url()).await.unwrap();
    let _: () = conn
        .send(cmd("CLIENT").arg("TRACKING").arg("ON"))
        .await
        .unwrap();
    for i in 0..200i64 {
        // Reading tracks the key; the other client's write then invalidates it (a push).
        conn.set("tracked", i).await.unwrap();
        assert_eq!(conn.get::<i64>("tracked").await.unwrap(), Some(i));
        other.set("tracked", i + 1000).await.unwrap();
        // This connection's own write to a tracked key is also pushed to it.
        assert_eq!(conn.get::<i64>("tracked").await.unwrap(), Some(i + 1000));
        assert_eq!(conn.incr_by("tracked", 1).await.unwrap(), i + 1001);
        let pong: String = conn.send(cmd("PING")).await.unwrap();
        assert_eq!(pong, "PONG");
    }
    // Pipelines too get exactly their replies.
    let r = conn
        .pipeline(
            pipe()
                .cmd(cmd("GET").arg("tracked"))
                .cmd(cmd("SET").arg("tracked").arg("x"))
                .cmd(cmd("GET").arg("tracked")),
        )
        .await
        .unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(
        r[2].as_ref().unwrap().as_bytes().map(|b| b.as_ref()),
        Some(&b"x"[..])
    );
    // Tracking was really on, so the server did push invalidations between those replies.
    let info: std::collections::HashMap<String, Value> =
        conn.send(cmd("CLIENT").arg("TRACKINGINFO")).await.unwrap();
    let flags: Vec<String> = FromRedis::from_redis(info["flags"].clone()).unwrap();
    assert!(flags.iter().any(|f| f == "on"), "{flags:?}");
}

#[tokio::test]
async fn stream_ends_with_an_error_when_the_server_kills_the_connection() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let client = Client::connect(&url).await.unwrap();
        let mut sub = client.subscriber().await.unwrap();
        within("subscribe", sub.subscribe("doomed")).await.unwrap();
        assert_eq!(publish(&client, "doomed", "before").await, 1);
        assert_eq!(next_message(&mut sub).await.payload, "before");

        let killed: i64 = client
            .send(cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub"))
            .await
            .unwrap();
        assert_eq!(killed, 1, "{p:?}: the subscriber is a pub/sub client");

        // One error saying the connection is gone, then the end.
        match next(&mut sub).await {
            Some(Err(e)) => assert!(e.is_connection_dropped(), "{p:?}: {e:?}"),
            other => panic!("{p:?}: expected an error, got {other:?}"),
        }
        assert!(next(&mut sub).await.is_none(), "{p:?}");
        assert!(
            next(&mut sub).await.is_none(),
            "an ended stream stays ended"
        );
        // Changing subscriptions on the dead connection fails instead of hanging.
        let e = within("subscribe", sub.subscribe("again"))
            .await
            .unwrap_err();
        assert!(e.is_connection_dropped(), "{p:?}: {e:?}");
        // The client that killed it is fine.
        assert_eq!(publish(&client, "doomed", "after").await, 0);
    }
}
