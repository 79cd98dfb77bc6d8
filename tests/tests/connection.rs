//! Connecting by URL against real servers: databases, Unix sockets, client names, both RESP
//! versions, passwords and ACL users, the RESP2 fallback, and the errors of a connection that
//! cannot be made.

use std::time::Duration;

use redis_model::prelude::*;
use redis_model::{Connection, Protocol};
use redis_model_tests::{free_port, RedisServer, ServerOptions};

/// `CLIENT INFO` of the connection `c` sends it on, e.g. `id=3 addr=… db=3 … resp=2 …`.
async fn client_info(c: &impl Commands) -> String {
    c.send::<String>(cmd("CLIENT").arg("INFO")).await.unwrap()
}

/// The value of `field=` in a `CLIENT INFO`/`CLIENT LIST` line.
fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

async fn connection(url: &str) -> Result<Connection> {
    Connection::connect(&Config::from_url(url)?).await
}

#[tokio::test]
async fn plain_url_connects_and_speaks_resp3() {
    let server = RedisServer::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let pong: String = client.send(cmd("PING")).await.unwrap();
    assert_eq!(pong, "PONG");
    let info = client_info(&client).await;
    assert_eq!(field(&info, "db"), Some("0"), "{info}");
    assert_eq!(field(&info, "resp"), Some("3"), "{info}");

    let conn = connection(&server.url()).await.unwrap();
    assert_eq!(conn.protocol(), Protocol::Resp3);
    assert_eq!(conn.node(), format!("127.0.0.1:{}", server.port()));
    assert!(!conn.is_broken());
}

#[tokio::test]
async fn db_in_the_path_selects_it() {
    let server = RedisServer::start();
    let client = Client::connect(&format!("{}/3", server.url()))
        .await
        .unwrap();
    let info = client_info(&client).await;
    assert_eq!(field(&info, "db"), Some("3"), "{info}");

    client.set("only-in-3", "x").await.unwrap();
    // Seen from outside: the key is in database 3 and not in 0.
    assert_eq!(server.cli(&["-n", "3", "GET", "only-in-3"]).trim(), "x");
    assert_eq!(server.cli(&["-n", "0", "EXISTS", "only-in-3"]).trim(), "0");

    // An exclusive connection from the same pool is in database 3 too.
    let exclusive = client.exclusive().await.unwrap();
    assert_eq!(
        exclusive
            .get::<String>("only-in-3")
            .await
            .unwrap()
            .as_deref(),
        Some("x")
    );
    drop(exclusive);

    // `?db=` says the same thing, and a client on database 0 does not see the key.
    let via_query = Client::connect(&format!("{}?db=3", server.url()))
        .await
        .unwrap();
    assert_eq!(via_query.exists("only-in-3").await.unwrap(), 1);
    let db0 = Client::connect(&server.url()).await.unwrap();
    assert_eq!(db0.exists("only-in-3").await.unwrap(), 0);
}

#[tokio::test]
async fn unix_socket_url() {
    let server = ServerOptions::default().unix_socket().start();
    let sock = server.unix_socket().expect("started with a socket");
    let url = format!("redis+unix://{}?db=2&client_name=over-unix", sock.display());
    let client = Client::connect(&url).await.unwrap();
    client.set("via-socket", "1").await.unwrap();
    let info = client_info(&client).await;
    assert_eq!(field(&info, "db"), Some("2"), "{info}");
    assert_eq!(field(&info, "name"), Some("over-unix"), "{info}");
    // The TCP listener's clients are not the socket's: the socket client is flagged `U`.
    assert!(field(&info, "flags").unwrap().contains('U'), "{info}");
    assert_eq!(server.cli(&["-n", "2", "GET", "via-socket"]).trim(), "1");

    // `unix://` is the same.
    let conn = connection(&format!("unix://{}", sock.display()))
        .await
        .unwrap();
    assert_eq!(conn.node(), sock.display().to_string());
    let pong: String = conn.send(cmd("PING")).await.unwrap();
    assert_eq!(pong, "PONG");
}

#[tokio::test]
async fn client_name_is_set_on_every_connection() {
    let server = RedisServer::start();
    let client = Client::connect(&format!("{}?client_name=web-7", server.url()))
        .await
        .unwrap();
    let name: String = client.send(cmd("CLIENT").arg("GETNAME")).await.unwrap();
    assert_eq!(name, "web-7");
    let exclusive = client.exclusive().await.unwrap();
    let name: String = exclusive.send(cmd("CLIENT").arg("GETNAME")).await.unwrap();
    assert_eq!(name, "web-7");
    // Both connections are listed under that name.
    let list = server.cli(&["CLIENT", "LIST"]);
    let named = list
        .lines()
        .filter(|l| field(l, "name") == Some("web-7"))
        .count();
    assert_eq!(named, 2, "{list}");

    // A name needing percent-encoding arrives decoded; RESP2 sets it with CLIENT SETNAME.
    let conn = connection(&format!(
        "{}?protocol=resp2&client_name=batch%2Djob",
        server.url()
    ))
    .await
    .unwrap();
    let name: String = conn.send(cmd("CLIENT").arg("GETNAME")).await.unwrap();
    assert_eq!(name, "batch-job");
}

#[tokio::test]
async fn protocol_resp2_never_sends_hello() {
    let server = RedisServer::start();
    let conn = connection(&format!("{}?protocol=resp2", server.url()))
        .await
        .unwrap();
    assert_eq!(conn.protocol(), Protocol::Resp2);
    let info = client_info(&conn).await;
    assert_eq!(field(&info, "resp"), Some("2"), "{info}");
    let stats: String = conn.send(cmd("INFO").arg("commandstats")).await.unwrap();
    assert!(stats.contains("cmdstat_client"), "{stats}");
    assert!(!stats.contains("cmdstat_hello"), "{stats}");
    // RESP2 replies still decode as usual: a map comes as a flat array.
    conn.send::<()>(cmd("HSET").arg("h").arg("f").arg("v"))
        .await
        .unwrap();
    let flat: Vec<String> = conn.send(cmd("HGETALL").arg("h")).await.unwrap();
    assert_eq!(flat, ["f", "v"]);

    // The same through a client: the pooled connection speaks RESP2.
    let client = Client::connect(&format!("{}?protocol=2", server.url()))
        .await
        .unwrap();
    let info = client_info(&client).await;
    assert_eq!(field(&info, "resp"), Some("2"), "{info}");
}

#[tokio::test]
async fn password_only() {
    let server = ServerOptions::default().password("s3cret-pass").start();
    let port = server.port();
    // `:password@` and the bare `password@` form both mean the default user.
    for url in [
        format!("redis://:s3cret-pass@127.0.0.1:{port}"),
        format!("redis://s3cret-pass@127.0.0.1:{port}"),
        format!("redis://:s3cret-pass@127.0.0.1:{port}?protocol=resp2"),
    ] {
        let client = Client::connect(&url).await.unwrap();
        client.set("k", "v").await.unwrap();
        let who: String = client.send(cmd("ACL").arg("WHOAMI")).await.unwrap();
        assert_eq!(who, "default", "{url}");
    }

    // No password at all: the handshake is refused, as an authentication error.
    let err = connection(&server.url()).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    // RESP2 without a password sends no AUTH: the connection opens, commands are refused.
    let conn = connection(&format!("{}?protocol=resp2", server.url()))
        .await
        .unwrap();
    let refused = conn.send::<Option<String>>(cmd("GET").arg("k")).await;
    assert_eq!(
        refused.unwrap_err().server_code(),
        Some("NOAUTH"),
        "commands are refused"
    );
}

#[tokio::test]
async fn acl_user_and_password() {
    let server = ServerOptions::default()
        .config("user app on >app-pw-1 ~* +@all")
        .start();
    let port = server.port();
    for url in [
        format!("redis://app:app-pw-1@127.0.0.1:{port}"),
        format!("redis://app:app-pw-1@127.0.0.1:{port}?protocol=resp2"),
    ] {
        let client = Client::connect(&url).await.unwrap();
        let who: String = client.send(cmd("ACL").arg("WHOAMI")).await.unwrap();
        assert_eq!(who, "app", "{url}");
        client.set("written-by-app", "1").await.unwrap();
    }
    // A percent-encoded password is decoded before it is sent.
    let server2 = ServerOptions::default()
        .config("user ops on >p@ss:w/rd ~* +@all")
        .start();
    let conn = connection(&format!(
        "redis://ops:p%40ss%3Aw%2Frd@127.0.0.1:{}",
        server2.port()
    ))
    .await
    .unwrap();
    let who: String = conn.send(cmd("ACL").arg("WHOAMI")).await.unwrap();
    assert_eq!(who, "ops");
}

/// Checks that neither rendering of `err` shows `password`.
fn assert_hides(err: &Error, password: &str) {
    let shown = format!("{err} / {err:?}");
    assert!(!shown.contains(password), "the password leaked: {shown}");
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_that_hides_it() {
    let server = ServerOptions::default()
        .password("right-pass")
        .config("user app on >app-right ~* +@all")
        .start();
    let port = server.port();
    for (url, secret) in [
        (
            format!("redis://:wrong-Zq9x@127.0.0.1:{port}"),
            "wrong-Zq9x",
        ),
        (
            format!("redis://:wrong-Zq9x@127.0.0.1:{port}?protocol=resp2"),
            "wrong-Zq9x",
        ),
        (
            format!("redis://app:wrong-Kp3y@127.0.0.1:{port}"),
            "wrong-Kp3y",
        ),
        (
            format!("redis://nobody:wrong-Kp3y@127.0.0.1:{port}?protocol=resp2"),
            "wrong-Kp3y",
        ),
    ] {
        let err = connection(&url).await.unwrap_err();
        match &err {
            Error::Auth { node, message } => {
                assert_eq!(node, &format!("127.0.0.1:{port}"));
                assert!(message.contains("WRONGPASS"), "{url}: {message}");
            }
            other => panic!("{url}: expected Error::Auth, got {other:?}"),
        }
        assert!(!err.is_retryable(), "{url}");
        assert_hides(&err, secret);

        // Through a client the first command reports the same refusal, promptly: not a pool
        // timeout after `connection_timeout`.
        let client = Client::connect(&url).await.unwrap();
        let err = tokio::time::timeout(Duration::from_secs(3), client.get::<String>("k"))
            .await
            .expect("the refusal is reported before the pool's timeout")
            .unwrap_err();
        assert!(matches!(err, Error::Auth { .. }), "{url}: {err:?}");
        assert_hides(&err, secret);
        // The client's own Debug does not show it either.
        assert!(!format!("{client:?} {:?}", client.config()).contains(secret));
    }
}

#[tokio::test]
async fn resp2_fallback_when_hello_is_unknown() {
    let server = ServerOptions::default()
        .password("fallback-pw")
        .config("rename-command HELLO \"\"")
        .start();
    let base = format!("redis://:fallback-pw@127.0.0.1:{}", server.port());
    let conn = connection(&format!("{base}/1?client_name=old-server"))
        .await
        .unwrap();
    assert_eq!(conn.protocol(), Protocol::Resp2);
    let info = client_info(&conn).await;
    assert_eq!(field(&info, "resp"), Some("2"), "{info}");
    assert_eq!(field(&info, "db"), Some("1"), "{info}");
    // AUTH ran: commands are accepted, and SETNAME ran the RESP2 way.
    assert_eq!(field(&info, "name"), Some("old-server"), "{info}");
    conn.send::<()>(cmd("SET").arg("k").arg("v")).await.unwrap();
    let v: String = conn.send(cmd("GET").arg("k")).await.unwrap();
    assert_eq!(v, "v");

    // A client falls back the same way.
    let client = Client::connect(&base).await.unwrap();
    let info = client_info(&client).await;
    assert_eq!(field(&info, "resp"), Some("2"), "{info}");

    // A wrong password is still refused as an authentication error after the fallback.
    let err = connection(&format!("redis://:not-it-Wq1@127.0.0.1:{}", server.port()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_hides(&err, "not-it-Wq1");
}

#[tokio::test]
async fn closed_port_is_a_retryable_connect_error() {
    // A port that was free a moment ago and that nothing listens on.
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let err = connection(&url).await.unwrap_err();
    match &err {
        Error::Connect { node, source } => {
            assert_eq!(node, &format!("127.0.0.1:{port}"));
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected Error::Connect, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert!(!err.is_timeout());
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")));

    // A client opens no connection until it needs one; its first command reports the refusal
    // (not a pool timeout), and is safe to retry.
    let client = Client::connect(&url).await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(3), client.get::<String>("k"))
        .await
        .expect("the refusal is reported before the pool's timeout")
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    let err = tokio::time::timeout(Duration::from_secs(3), client.exclusive())
        .await
        .expect("reported before the pool's timeout")
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");

    // With `min_idle` the pool connects up front, and so `with_config` fails.
    let mut config = Config::from_url(&url).unwrap();
    config.pool.min_idle = Some(1);
    let err = Client::with_config(config).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn bad_urls_name_the_part() {
    for (url, part) in [
        ("127.0.0.1:6379", "scheme"),
        ("http://127.0.0.1", "scheme"),
        ("redis://127.0.0.1:notaport", "port"),
        ("redis://127.0.0.1:0", "port"),
        ("redis://127.0.0.1:65536", "port"),
        ("redis://:6379", "host"),
        ("redis://[::1:6379", "host"),
        ("redis://127.0.0.1/zero", "db"),
        ("redis://127.0.0.1/-2", "db"),
        ("redis://127.0.0.1?db=x", "db"),
        ("redis://127.0.0.1?protocol=resp1", "protocol"),
        ("redis://127.0.0.1?timeout=5", "query"),
        ("redis://127.0.0.1?client_name=%G0", "query"),
        ("redis://us%er:pw@127.0.0.1", "username"),
        ("redis://user:p%4@127.0.0.1", "password"),
        ("redis+unix://", "path"),
    ] {
        match Client::connect(url).await {
            Err(Error::Config { part: p, reason }) => {
                assert_eq!(p, part, "{url}: {reason}");
                let err = Error::Config { part: p, reason };
                assert!(err.to_string().contains(part), "{url}: {err}");
            }
            other => panic!("{url}: expected Error::Config, got {other:?}"),
        }
    }
    // A bad password's bytes are not echoed back in the error.
    let err = Config::from_url("redis://user:hunter%zz@h").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter"), "{err:?}");
}
