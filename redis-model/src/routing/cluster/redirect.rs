//! What a cluster node answers instead of running a command: `MOVED` and `ASK` (another node
//! serves the slot), or a request to try again later (`TRYAGAIN`, `CLUSTERDOWN`, `LOADING`).

use crate::config::ServerAddr;
use crate::resp::Frame;

/// Why a node did not run a command, and where to send it instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// The slot now lives at `to`, for good: the slot map is out of date.
    Moved { slot: u16, to: ServerAddr },
    /// The slot is being migrated to `to`, and the key may already be there: ask once, after
    /// `ASKING`, without changing the slot map.
    Ask { slot: u16, to: ServerAddr },
    /// The node cannot serve the command now, but may soon: `TRYAGAIN` (a multi-key command
    /// whose keys are split by a slot migration), `LOADING` (a node reading its data set after
    /// a restart), `CLUSTERDOWN` (slots unserved, as while a failed master's replica takes
    /// over; `refresh`: the slot map is likely out of date).
    Later { refresh: bool },
}

/// The redirection a reply is, if it is one. `from` is the node that answered: its host stands
/// in for an endpoint the cluster does not know (`MOVED 3999 :6381`).
pub(crate) fn redirect(reply: &Frame, from: &ServerAddr) -> Option<Redirect> {
    // Redirections are simple errors: `-MOVED 3999 127.0.0.1:6381\r\n`.
    let line = reply.as_bytes().strip_prefix(b"-")?.strip_suffix(b"\r\n")?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split(' ');
    let kind = words.next()?;
    match kind {
        "MOVED" | "ASK" => {}
        "TRYAGAIN" | "LOADING" => return Some(Redirect::Later { refresh: false }),
        "CLUSTERDOWN" => return Some(Redirect::Later { refresh: true }),
        _ => return None,
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
        for (later, refresh) in [
            (
                "-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
                false,
            ),
            ("-LOADING Redis is loading the dataset in memory\r\n", false),
            ("-CLUSTERDOWN The cluster is down\r\n", true),
            ("-CLUSTERDOWN Hash slot not served\r\n", true),
        ] {
            assert_eq!(
                redirect(&frame(later), &from),
                Some(Redirect::Later { refresh }),
                "{later}"
            );
        }
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
