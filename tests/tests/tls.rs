//! TLS against real servers with certificates made at run time: a custom CA, mutual TLS, a
//! wrong CA, host name verification, and verification turned off.
//!
//! Each test passes with a note when the installed server was built without TLS.

use std::time::Duration;

use redis_model::prelude::*;
use redis_model::{Connection, TlsConfig};
use redis_model_tests::tls::Certificates;
use redis_model_tests::{server_has_tls, RedisServer, ServerOptions};

/// Whether TLS servers can be started here; prints why a test does nothing when not.
fn tls_available(test: &str) -> bool {
    let ok = server_has_tls();
    if !ok {
        eprintln!("note: {test} skipped: the installed redis-server has no TLS support");
    }
    ok
}

fn tls_server(certs: &Certificates, require_client_cert: bool) -> RedisServer {
    ServerOptions::default()
        .tls(certs.server(require_client_cert))
        .start()
}

/// The server's `rediss://` settings with `tls` in place of the default webpki roots.
fn config(server: &RedisServer, tls: TlsConfig) -> Config {
    let mut config = Config::from_url(&server.url()).unwrap();
    assert!(config.tls.is_some(), "rediss:// turns TLS on");
    config.tls = Some(tls);
    // A failing handshake must fail, not hang.
    config.connect_timeout = Duration::from_secs(5);
    config
}

fn trusting(certs: &Certificates) -> TlsConfig {
    TlsConfig::new()
        .with_ca_pem(certs.ca_pem.as_bytes())
        .unwrap()
}

async fn ping(conn: &impl Commands) -> Result<String> {
    conn.send::<String>(cmd("PING")).await
}

#[tokio::test]
async fn custom_ca() {
    if !tls_available("custom_ca") {
        return;
    }
    let certs = Certificates::generate();
    let server = tls_server(&certs, false);
    let config = config(&server, trusting(&certs));

    let conn = Connection::connect(&config).await.unwrap();
    assert_eq!(ping(&conn).await.unwrap(), "PONG");

    let client = Client::with_config(config).await.unwrap();
    client.set("over-tls", "yes").await.unwrap();
    assert_eq!(
        client.get::<String>("over-tls").await.unwrap().as_deref(),
        Some("yes")
    );
    // A larger value crosses several TLS records both ways intact.
    let big = "x".repeat(256 * 1024);
    client.set("big", big.as_str()).await.unwrap();
    assert_eq!(client.get::<String>("big").await.unwrap(), Some(big));
    let exclusive = client.exclusive().await.unwrap();
    assert_eq!(ping(&exclusive).await.unwrap(), "PONG");

    // Without the custom CA the webpki roots do not know the server's issuer.
    let err = Connection::connect(&self::config(&server, TlsConfig::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn mutual_tls() {
    if !tls_available("mutual_tls") {
        return;
    }
    let certs = Certificates::generate();
    let server = tls_server(&certs, true);

    // No client certificate: the server refuses. With TLS 1.3 the refusal may arrive only after
    // the client finished its side of the handshake, as an alert on the first read; either way
    // the connection is not made.
    let refused = Connection::connect(&config(&server, trusting(&certs))).await;
    match refused {
        Err(Error::Tls { .. } | Error::Io { .. } | Error::ConnectionClosed { .. }) => {}
        other => panic!("expected a refused connection, got {other:?}"),
    }

    let with_cert = trusting(&certs)
        .with_client_auth(
            certs.client_cert_pem.as_bytes(),
            certs.client_key_pem.as_bytes(),
        )
        .unwrap();
    // The key never shows in the settings' Debug.
    let shown = format!("{with_cert:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(shown.contains("client_auth: true"), "{shown}");

    let config = config(&server, with_cert);
    let conn = Connection::connect(&config).await.unwrap();
    assert_eq!(ping(&conn).await.unwrap(), "PONG");
    let client = Client::with_config(config).await.unwrap();
    client.set("mtls", "1").await.unwrap();
    assert_eq!(client.get::<i64>("mtls").await.unwrap(), Some(1));

    // A client certificate from another CA is refused too.
    let other = Certificates::generate();
    let foreign = trusting(&certs)
        .with_client_auth(
            other.client_cert_pem.as_bytes(),
            other.client_key_pem.as_bytes(),
        )
        .unwrap();
    assert!(Connection::connect(&self::config(&server, foreign))
        .await
        .is_err());
}

#[tokio::test]
async fn wrong_ca_is_rejected() {
    if !tls_available("wrong_ca_is_rejected") {
        return;
    }
    let certs = Certificates::generate();
    let server = tls_server(&certs, false);
    let other = Certificates::generate();
    let err = Connection::connect(&config(&server, trusting(&other)))
        .await
        .unwrap_err();
    match &err {
        Error::Tls { node, reason } => {
            assert_eq!(node, &format!("127.0.0.1:{}", server.port()));
            assert!(
                reason.to_ascii_lowercase().contains("certificate"),
                "{reason}"
            );
        }
        other => panic!("expected Error::Tls, got {other:?}"),
    }
    assert!(!err.is_retryable());

    // Through a client, the first command reports it.
    let client = Client::with_config(config(&server, trusting(&other)))
        .await
        .unwrap();
    let err = client.get::<String>("k").await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");

    // A CA PEM that holds no certificate is a configuration error, before any connection.
    let err = TlsConfig::new()
        .with_ca_pem(certs.client_key_pem.as_bytes())
        .unwrap_err();
    match err {
        Error::Tls { node, .. } => assert_eq!(node, "config"),
        other => panic!("expected Error::Tls, got {other:?}"),
    }
}

#[tokio::test]
async fn host_name_is_verified() {
    if !tls_available("host_name_is_verified") {
        return;
    }
    let certs = Certificates::generate();
    let server = tls_server(&certs, false);

    // The certificate names `localhost` and `127.0.0.1`, not `wrong.example`.
    let wrong = trusting(&certs).with_server_name("wrong.example");
    let err = Connection::connect(&config(&server, wrong))
        .await
        .unwrap_err();
    match &err {
        Error::Tls { reason, .. } => {
            assert!(reason.contains("not valid for name"), "{reason}")
        }
        other => panic!("expected Error::Tls, got {other:?}"),
    }

    let by_name = trusting(&certs).with_server_name("localhost");
    let conn = Connection::connect(&config(&server, by_name))
        .await
        .unwrap();
    assert_eq!(ping(&conn).await.unwrap(), "PONG");

    // With no override, the address itself (an IP SAN) is what is verified.
    let conn = Connection::connect(&config(&server, trusting(&certs)))
        .await
        .unwrap();
    assert_eq!(ping(&conn).await.unwrap(), "PONG");

    // And connecting by the host name `localhost` verifies that name.
    let mut by_host = Config::from_url(&format!("rediss://localhost:{}", server.port())).unwrap();
    by_host.tls = Some(trusting(&certs));
    // `localhost` may resolve to ::1 first, where the server does not listen; only a TLS
    // verdict would be wrong here.
    if let Err(e) = Connection::connect(&by_host).await {
        assert!(!matches!(e, Error::Tls { .. }), "{e:?}");
    }

    // A server name that is not a name at all is a configuration error.
    let err = Connection::connect(&config(
        &server,
        trusting(&certs).with_server_name("not a name!"),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Tls { ref node, .. } if node == "config"),
        "{err:?}"
    );
}

#[tokio::test]
async fn disabled_verification_accepts_an_untrusted_server() {
    if !tls_available("disabled_verification_accepts_an_untrusted_server") {
        return;
    }
    let certs = Certificates::generate();
    let server = tls_server(&certs, false);

    let err = Connection::connect(&config(&server, TlsConfig::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");

    // Any CA, any name: still encrypted, no longer authenticated.
    let anything = TlsConfig::new()
        .with_server_name("wrong.example")
        .dangerously_disable_certificate_verification();
    let conn = Connection::connect(&config(&server, anything.clone()))
        .await
        .unwrap();
    assert_eq!(ping(&conn).await.unwrap(), "PONG");
    let client = Client::with_config(config(&server, anything))
        .await
        .unwrap();
    client.set("unverified", "ok").await.unwrap();
    assert_eq!(
        client.get::<String>("unverified").await.unwrap().as_deref(),
        Some("ok")
    );

    // Plain TCP to a TLS-only port does not get a RESP reply: it fails, it does not hang.
    let mut plain = Config::tcp("127.0.0.1", server.port());
    plain.connect_timeout = Duration::from_secs(2);
    let result = tokio::time::timeout(Duration::from_secs(5), Connection::connect(&plain))
        .await
        .expect("bounded by connect_timeout");
    assert!(result.is_err(), "plain TCP to a TLS port: {result:?}");
}
