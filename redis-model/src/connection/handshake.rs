//! The handshake: `HELLO 3` with `AUTH` and `SETNAME`, a RESP2 fallback, `SELECT`, and
//! `READONLY` for a cluster that reads from replicas.

use super::Connection;
use crate::commands::{cmd, Commands};
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::resp::Value;

/// Runs the handshake on a fresh connection and returns the protocol it settled on.
pub(super) async fn run(conn: &Connection, config: &Config) -> Result<Protocol> {
    let protocol = match config.protocol {
        Protocol::Resp3 => match hello(conn, config).await? {
            true => Protocol::Resp3,
            false => {
                resp2_setup(conn, config).await?;
                Protocol::Resp2
            }
        },
        Protocol::Resp2 => {
            resp2_setup(conn, config).await?;
            Protocol::Resp2
        }
    };
    if config.db != 0 {
        expect_ok(conn, cmd("SELECT").arg(config.db)).await?;
    }
    if config.read_only {
        expect_ok(conn, cmd("READONLY")).await?;
    }
    Ok(protocol)
}

/// `HELLO 3 [AUTH user pass] [SETNAME name]`; `Ok(false)` when the server does not know
/// `HELLO` (before Redis 6) or refuses RESP3.
async fn hello(conn: &Connection, config: &Config) -> Result<bool> {
    let mut hello = cmd("HELLO").arg(3);
    if let Some(password) = &config.password {
        hello = hello
            .arg("AUTH")
            .arg(config.username.as_deref().unwrap_or("default"))
            .arg(password.expose());
    }
    if let Some(name) = &config.client_name {
        hello = hello.arg("SETNAME").arg(name);
    }
    match conn.send::<Value>(hello).await {
        Ok(_) => Ok(true),
        Err(Error::Server { code, message, .. })
            if code == "NOPROTO"
                || (code == "ERR" && message.to_ascii_lowercase().contains("unknown command")) =>
        {
            tracing::debug!(node = conn.node(), "server rejects HELLO; speaking RESP2");
            Ok(false)
        }
        Err(e) => Err(auth_error(conn, e)),
    }
}

/// `AUTH` and `CLIENT SETNAME`, the RESP2 way.
async fn resp2_setup(conn: &Connection, config: &Config) -> Result<()> {
    if let Some(password) = &config.password {
        let auth = cmd("AUTH")
            .arg(config.username.as_deref())
            .arg(password.expose());
        expect_ok(conn, auth)
            .await
            .map_err(|e| auth_error(conn, e))?;
    }
    if let Some(name) = &config.client_name {
        expect_ok(conn, cmd("CLIENT").arg("SETNAME").arg(name)).await?;
    }
    Ok(())
}

async fn expect_ok(conn: &Connection, command: crate::Cmd) -> Result<()> {
    conn.send::<Value>(command).await.map(drop)
}

/// Authentication refusals become [`Error::Auth`]; the message never includes the credentials
/// (the server's does not either).
fn auth_error(conn: &Connection, e: Error) -> Error {
    match e {
        Error::Server { code, message, .. }
            if matches!(code.as_str(), "WRONGPASS" | "NOAUTH" | "NOPERM")
                || message.contains("AUTH") =>
        {
            Error::Auth {
                node: conn.node().to_owned(),
                message: format!("{code} {message}"),
            }
        }
        other => other,
    }
}
