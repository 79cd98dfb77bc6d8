//! What no real server sends: truncated frames, unknown type bytes, lengths that are negative
//! or beyond the caps, nesting beyond the cap, replies nobody asked for. Each must give a typed
//! error — never a panic or a hang — and the client must go on serving on a fresh connection.

use std::future::Future;
use std::time::Duration;

use redis_model::prelude::*;
use redis_model::resp::DecodeLimits;
use redis_model::Connection;
use redis_model_tests::fake::{Action, FakeServer};

/// Every test is bounded: a hang is a failure, not a stuck suite.
async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 5 s"))
}

/// Small caps, so that "beyond the limit" needs few bytes.
fn limits() -> DecodeLimits {
    DecodeLimits {
        max_bulk_len: 1024,
        max_depth: 4,
    }
}

fn config(fake: &FakeServer) -> Config {
    let mut config = Config::from_url(&fake.url()).unwrap();
    config.limits = limits();
    config
}

/// The first connection answers `HELLO` properly, then `GET` with `action`.
async fn fake_after_hello(action: Action) -> FakeServer {
    FakeServer::start(vec![vec![Action::Healthy, action]]).await
}

/// Sends a GET through a client on `fake`, expects it to fail, then checks the client serves
/// the next command on a second, healthy connection. Returns the error.
async fn fails_then_recovers(fake: &FakeServer) -> Error {
    let client = Client::with_config(config(fake)).await.unwrap();
    let err = bounded("the bad reply", client.get::<String>("k"))
        .await
        .unwrap_err();
    assert_eq!(fake.connections(), 1);
    // The broken connection is never used again: the next command opens another.
    let ok: String = bounded(
        "the next command",
        client.send(cmd("SET").arg("k").arg("v")),
    )
    .await
    .unwrap_or_else(|e| panic!("after {err}: {e:?}"));
    assert_eq!(ok, "OK");
    assert_eq!(fake.connections(), 2, "after {err}");
    let pong: String = bounded("PING", client.send(cmd("PING"))).await.unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(fake.connections(), 2, "the fresh connection stays in use");
    err
}

/// Asserts `err` is a protocol error from `fake` whose reason contains `needle`.
fn assert_protocol(err: &Error, fake: &FakeServer, needle: &str) {
    match err {
        Error::Protocol { node, reason } => {
            assert_eq!(node, &fake.addr().to_string());
            assert!(
                reason.contains(needle),
                "reason {reason:?} lacks {needle:?}"
            );
        }
        other => panic!("expected Error::Protocol ({needle}), got {other:?}"),
    }
    assert!(err.is_connection_dropped());
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn truncated_frame_then_close() {
    let fake = fake_after_hello(Action::ReplyAndClose(b"$10\r\nabc".to_vec())).await;
    let err = fails_then_recovers(&fake).await;
    match err {
        // The GET had left: it may have run, so it is not safe to resend blindly.
        Error::ConnectionClosed { ref node, sent } => {
            assert_eq!(node, &fake.addr().to_string());
            assert!(sent);
            assert!(!err.is_retryable() && err.is_connection_dropped());
        }
        other => panic!("expected Error::ConnectionClosed, got {other:?}"),
    }
}

#[tokio::test]
async fn closed_mid_aggregate() {
    let fake = fake_after_hello(Action::ReplyAndClose(b"*3\r\n:1\r\n:2\r\n".to_vec())).await;
    let err = fails_then_recovers(&fake).await;
    assert!(
        matches!(err, Error::ConnectionClosed { sent: true, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn closed_without_answering() {
    let fake = fake_after_hello(Action::Close).await;
    let err = fails_then_recovers(&fake).await;
    assert!(
        matches!(err, Error::ConnectionClosed { sent: true, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_type_byte() {
    let fake = fake_after_hello(Action::Reply(b"@what\r\n".to_vec())).await;
    let err = fails_then_recovers(&fake).await;
    assert_protocol(&err, &fake, "unknown RESP type byte");
}

#[tokio::test]
async fn negative_length() {
    for bad in [&b"$-5\r\n"[..], b"*-2\r\n", b"%-1\r\n"] {
        let fake = fake_after_hello(Action::Reply(bad.to_vec())).await;
        let err = fails_then_recovers(&fake).await;
        assert_protocol(&err, &fake, "negative length");
    }
}

#[tokio::test]
async fn length_beyond_the_cap() {
    // Only the header is sent: the declared length alone is refused, nothing is allocated.
    let fake = fake_after_hello(Action::Reply(b"$1000000\r\n".to_vec())).await;
    let err = fails_then_recovers(&fake).await;
    assert_protocol(&err, &fake, "exceeds the limit of 1024");

    // A line with no end in sight, longer than the cap.
    let fake = fake_after_hello(Action::Reply([b"+".as_slice(), &[b'a'; 2000]].concat())).await;
    let err = fails_then_recovers(&fake).await;
    assert_protocol(&err, &fake, "line longer than the limit");

    // A length that is not even an i64.
    let fake = fake_after_hello(Action::Reply(b"$99999999999999999999\r\n".to_vec())).await;
    let err = fails_then_recovers(&fake).await;
    assert_protocol(&err, &fake, "integer");

    // An absurd element count is not allocated up front: it waits for elements, and the close
    // that follows ends it cleanly.
    let fake = fake_after_hello(Action::ReplyAndClose(b"*4000000000\r\n:1\r\n".to_vec())).await;
    let err = fails_then_recovers(&fake).await;
    assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
}

#[tokio::test]
async fn nesting_beyond_the_cap() {
    let mut deep = b"*1\r\n".repeat(10);
    deep.extend_from_slice(b":1\r\n");
    let fake = fake_after_hello(Action::Reply(deep)).await;
    let err = fails_then_recovers(&fake).await;
    assert_protocol(&err, &fake, "nesting deeper than the limit of 4");

    // Within the cap the same shape is fine.
    let mut ok = b"*1\r\n".repeat(4);
    ok.extend_from_slice(b"$2\r\nhi\r\n");
    let fake = FakeServer::start(vec![vec![Action::Healthy, Action::Reply(ok)]]).await;
    let client = Client::with_config(config(&fake)).await.unwrap();
    let v: Value = bounded("nested", client.send(cmd("GET").arg("k")))
        .await
        .unwrap();
    let mut depth = 0;
    let mut at = &v;
    while let Value::Array(items) = at {
        depth += 1;
        at = &items[0];
    }
    assert_eq!(depth, 4);
    assert_eq!(at, &Value::BulkString("hi".into()));
}

#[tokio::test]
async fn malformed_scalars() {
    for (bad, needle) in [
        (&b":12x\r\n"[..], "malformed integer"),
        (b"#maybe\r\n", "boolean"),
        (b",one\r\n", "double"),
        (b"$3\r\nabcde\r\n", "CRLF"),
        (b"=2\r\nab\r\n", "verbatim"),
        (b"?3\r\n", "unknown RESP type byte"),
        (b"*?\r\n", "streamed"),
        (b"_x\r\n", "null"),
    ] {
        let fake = fake_after_hello(Action::Reply(bad.to_vec())).await;
        let err = fails_then_recovers(&fake).await;
        assert_protocol(&err, &fake, needle);
    }
}

#[tokio::test]
async fn reply_with_no_request() {
    // Two replies to one command: the first answers it, the second has no owner, so the
    // connection cannot be trusted any more.
    let fake = fake_after_hello(Action::Reply(b"$3\r\nyes\r\n+EXTRA\r\n".to_vec())).await;
    let client = Client::with_config(config(&fake)).await.unwrap();
    let got = bounded("GET", client.get::<String>("k")).await.unwrap();
    assert_eq!(got.as_deref(), Some("yes"));
    // Give the driver the moment it needs to see the extra frame if it came in its own read.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ok: String = bounded("SET", client.send(cmd("SET").arg("k").arg("v")))
        .await
        .unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(
        fake.connections(),
        2,
        "the connection that got a stray reply was retired"
    );

    // Unasked bytes while the connection is idle: it breaks, nobody is waiting, and the next
    // command goes to a fresh connection.
    let fake = fake_after_hello(Action::ReplyThenSendLater {
        reply: b"$3\r\nyes\r\n".to_vec(),
        delay: Duration::from_millis(20),
        later: b":42\r\n".to_vec(),
    })
    .await;
    let client = Client::with_config(config(&fake)).await.unwrap();
    assert_eq!(
        bounded("GET", client.get::<String>("k"))
            .await
            .unwrap()
            .as_deref(),
        Some("yes")
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let pong: String = bounded("PING", client.send(cmd("PING"))).await.unwrap();
    assert_eq!(pong, "PONG", "the stray :42 answered nothing");
    assert_eq!(fake.connections(), 2);

    // The same on a plain connection: it reports itself broken and refuses further commands.
    let fake = fake_after_hello(Action::ReplyThenSendLater {
        reply: b"+OK\r\n".to_vec(),
        delay: Duration::from_millis(20),
        later: b"+STRAY\r\n".to_vec(),
    })
    .await;
    let conn = bounded("connect", Connection::connect(&config(&fake)))
        .await
        .unwrap();
    let _: () = bounded("SET", conn.send(cmd("SET").arg("a").arg("b")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(conn.is_broken());
    let err = bounded("after", conn.send::<String>(cmd("PING")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConnectionClosed { sent: false, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn push_frames_and_error_replies_do_not_break_the_connection() {
    // An unsolicited RESP3 push (an invalidation, say) is not a reply; an error reply is a
    // reply. Neither retires the connection.
    let fake = FakeServer::start(vec![vec![
        Action::Healthy,
        Action::Reply(b">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nv\r\n".to_vec()),
        Action::Reply(b"-WRONGTYPE Operation against a key holding the wrong kind\r\n".to_vec()),
    ]])
    .await;
    let client = Client::with_config(config(&fake)).await.unwrap();
    assert_eq!(
        bounded("GET", client.get::<String>("k"))
            .await
            .unwrap()
            .as_deref(),
        Some("v")
    );
    let err = bounded("GET", client.get::<String>("k")).await.unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
    assert!(!err.is_connection_dropped());
    let pong: String = bounded("PING", client.send(cmd("PING"))).await.unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(fake.connections(), 1);
}

#[tokio::test]
async fn garbage_during_the_handshake() {
    let fake = FakeServer::start(vec![vec![Action::Reply(b"^^^\r\n".to_vec())]]).await;
    let err = bounded("connect", Connection::connect(&config(&fake)))
        .await
        .unwrap_err();
    assert_protocol(&err, &fake, "unknown RESP type byte");

    // Through a client: the first command reports it, the next connects afresh.
    let fake = FakeServer::start(vec![vec![Action::ReplyAndClose(b"%1\r\n+pro".to_vec())]]).await;
    let client = Client::with_config(config(&fake)).await.unwrap();
    let err = bounded("GET", client.get::<String>("k")).await.unwrap_err();
    assert!(err.is_connection_dropped(), "{err:?}");
    let ok: String = bounded("SET", client.send(cmd("SET").arg("k").arg("v")))
        .await
        .unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(fake.connections(), 2);
}

#[tokio::test]
async fn bad_replies_to_an_exclusive_connection() {
    let fake = fake_after_hello(Action::Reply(b"$-7\r\n".to_vec())).await;
    let client = Client::with_config(config(&fake)).await.unwrap();
    let conn = bounded("checkout", client.exclusive()).await.unwrap();
    let err = bounded("GET", conn.get::<String>("k")).await.unwrap_err();
    assert_protocol(&err, &fake, "negative length");
    assert!(conn.is_broken());
    drop(conn);
    let conn = bounded("checkout", client.exclusive()).await.unwrap();
    assert!(!conn.is_broken());
    let pong: String = bounded("PING", conn.send(cmd("PING"))).await.unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(fake.connections(), 2);
}
