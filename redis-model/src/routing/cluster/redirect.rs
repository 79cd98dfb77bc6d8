//! `MOVED` and `ASK`: a cluster node answering that another node serves the command's slot.

use crate::config::ServerAddr;
use crate::resp::Frame;

/// Where a node sent a command instead of running it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// The slot now lives at `to`, for good: the slot map is out of date.
    Moved { slot: u16, to: ServerAddr },
    /// The slot is being migrated to `to`, and the key may already be there: ask once, after
    /// `ASKING`, without changing the slot map.
    Ask { slot: u16, to: ServerAddr },
}

/// The redirection a reply is, if it is one. `from` is the node that answered: its host stands
/// in for an endpoint the cluster does not know (`MOVED 3999 :6381`).
pub(crate) fn redirect(reply: &Frame, from: &ServerAddr) -> Option<Redirect> {
    // Redirections are simple errors: `-MOVED 3999 127.0.0.1:6381\r\n`.
    let line = reply.as_bytes().strip_prefix(b"-")?.strip_suffix(b"\r\n")?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split(' ');
    let kind = words.next()?;
    if kind != "MOVED" && kind != "ASK" {
        return None;
    }
    let slot = words.next()?.parse().ok()?;
    let (host, port) = words.next()?.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = match host.trim_start_matches('[').trim_end_matches(']') {
        "" | "?" => match from {
            ServerAddr::Tcp { host, .. } => host.clone(),
            ServerAddr::Unix(_) => return None,
        },
        host => host.to_owned(),
    };
    let to = ServerAddr::Tcp { host, port };
    Some(match kind {
        "MOVED" => Redirect::Moved { slot, to },
        _ => Redirect::Ask { slot, to },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn frame(s: &'static str) -> Frame {
        Frame::new(Bytes::from_static(s.as_bytes()))
    }

    fn tcp(host: &str, port: u16) -> ServerAddr {
        ServerAddr::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn redirections() {
        let from = tcp("10.0.0.1", 7000);
        assert_eq!(
            redirect(&frame("-MOVED 3999 127.0.0.1:6381\r\n"), &from),
            Some(Redirect::Moved {
                slot: 3999,
                to: tcp("127.0.0.1", 6381)
            })
        );
        assert_eq!(
            redirect(&frame("-ASK 12 node-b.internal:7001\r\n"), &from),
            Some(Redirect::Ask {
                slot: 12,
                to: tcp("node-b.internal", 7001)
            })
        );
        // An unknown endpoint is the answering node's host.
        assert_eq!(
            redirect(&frame("-MOVED 1 :7002\r\n"), &from),
            Some(Redirect::Moved {
                slot: 1,
                to: tcp("10.0.0.1", 7002)
            })
        );
        assert_eq!(
            redirect(&frame("-MOVED 1 [::1]:7002\r\n"), &from),
            Some(Redirect::Moved {
                slot: 1,
                to: tcp("::1", 7002)
            })
        );
        for other in [
            "-ERR unknown command\r\n",
            "+OK\r\n",
            "-MOVED notaslot 1.2.3.4:5\r\n",
            "-MOVED 1 nohostport\r\n",
            "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
        ] {
            assert_eq!(redirect(&frame(other), &from), None, "{other}");
        }
    }
}
