//! The one error type of the crate.
//!
//! Every fallible operation returns [`Result<T>`]. Variants carry the context a caller needs to
//! act (the node, the command's name, the key or field) and never a command's arguments or a
//! secret: an error may be logged as it is.

use std::io;
use std::time::Duration;

/// `Result` with this crate's [`Error`] as its default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Redis.
///
/// Match on the variant for detail, or ask the predicates ([`Error::is_retryable`],
/// [`Error::is_timeout`], [`Error::is_connection_dropped`]) what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connection URL or a setting is malformed; `part` names what is wrong (`"port"`, `"db"`, …).
    #[error("invalid configuration: {part}: {reason}")]
    Config {
        /// The part of the URL or configuration that is wrong.
        part: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The connection could not be established. Nothing was sent: retrying is safe.
    #[error("cannot connect to {node}: {source}")]
    Connect {
        /// The server address (`host:port` or a socket path).
        node: String,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },

    /// Reading or writing an established connection failed. A command in flight may or may not
    /// have run on the server.
    #[error("I/O error on {node}: {source}")]
    Io {
        /// The server address.
        node: String,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },

    /// The connection closed while a command was queued or in flight. `sent` tells whether the
    /// command had been written to the socket (if not, retrying is safe).
    #[error("connection to {node} closed{}", if *.sent { " with a command in flight" } else { "" })]
    ConnectionClosed {
        /// The server address.
        node: String,
        /// Whether the command had already been written.
        sent: bool,
    },

    /// TLS could not be set up or the handshake failed.
    #[error("TLS error with {node}: {reason}")]
    Tls {
        /// The server address, or `"config"` for a configuration problem.
        node: String,
        /// What failed.
        reason: String,
    },

    /// The server sent bytes that are not valid RESP, or broke a configured limit. The
    /// connection is discarded.
    #[error("protocol error from {node}: {reason}")]
    Protocol {
        /// The server address, empty when decoding outside a connection.
        node: String,
        /// What was wrong with the bytes.
        reason: String,
    },

    /// The server answered a command with an error reply.
    #[error("{command}: {code} {message}")]
    Server {
        /// The command's name, e.g. `"SET"`.
        command: String,
        /// The error code: the first word of the reply, e.g. `"WRONGTYPE"`, `"ERR"`.
        code: String,
        /// The rest of the error reply.
        message: String,
    },

    /// Authentication was refused (`WRONGPASS`, `NOAUTH`, `NOPERM` during the handshake).
    #[error("authentication failed on {node}: {message}")]
    Auth {
        /// The server address.
        node: String,
        /// The server's message.
        message: String,
    },

    /// A reply did not have the shape the caller asked for.
    #[error("cannot convert {got} to {expected}{}", context.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Conversion {
        /// The Rust type or shape that was expected.
        expected: &'static str,
        /// The RESP type (and, for short scalars, the value) that came.
        got: String,
        /// Where in the reply it was (a command name or an element position).
        context: Option<String>,
    },

    /// A command did not get its reply in time. The command may still run on the server.
    #[error("{command} timed out after {after:?}")]
    Timeout {
        /// The command's name, or `"connect"`.
        command: String,
        /// The configured timeout.
        after: Duration,
    },

    /// No connection could be had from the pool within its `connection_timeout`.
    #[error("timed out waiting for a pooled connection")]
    PoolTimedOut,

    /// A stored document could not be decoded into its model: a field that does not parse, a
    /// required field missing, a document that is not valid JSON for the type.
    #[error("cannot decode {key}{}: {reason}", field.as_ref().map(|f| format!(" field `{f}`")).unwrap_or_default())]
    Decode {
        /// The document's key.
        key: String,
        /// The field, when one is to blame: a hash field, or a JSON path such as `address.city`.
        field: Option<String>,
        /// What is wrong (never the stored value itself).
        reason: String,
    },

    /// A save with a stale `#[redis(version)]`: someone saved the document since it was read.
    /// Nothing was written.
    #[error("conflict on {key}: expected version {expected}, found {found}")]
    Conflict {
        /// The document's key.
        key: String,
        /// The version the save expected to replace.
        expected: u64,
        /// The version stored.
        found: u64,
    },

    /// A vector of the wrong dimension, refused before anything is sent.
    #[error("vector field `{field}` has dimension {expected}, got {got}")]
    VectorDimension {
        /// The vector field.
        field: String,
        /// The dimension the schema declares.
        expected: usize,
        /// The dimension given.
        got: usize,
    },

    /// A value the index would silently skip or a query could not express (a latitude beyond
    /// ±90, a tag containing the tag separator), refused before anything is sent.
    #[error("invalid value for `{field}`: {reason}")]
    InvalidValue {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },

    /// A `MULTI`/`EXEC` transaction was aborted because a `WATCH`ed key changed.
    #[error("transaction aborted: a watched key changed")]
    TransactionAborted,

    /// On a cluster, a command (or an atomic pipeline) whose keys hash to different slots,
    /// which no one node holds. Nothing was sent.
    #[error("{command}: keys in different cluster slots {slots:?}")]
    CrossSlot {
        /// The command's name (`MULTI` for an atomic pipeline).
        command: String,
        /// Two of the slots involved.
        slots: Vec<u16>,
    },

    /// On a cluster, a command still redirected (`MOVED`, `ASK`) after the configured number
    /// of redirections: the cluster's layout keeps changing, or its nodes disagree.
    #[error("{command}: slot {slot} still redirected after visiting {nodes:?}")]
    TooManyRedirects {
        /// The command's name.
        command: String,
        /// The slot it was sent for.
        slot: u16,
        /// The nodes it was sent to, in order.
        nodes: Vec<String>,
    },

    /// On a cluster, no node could tell the cluster's layout: every seed and known node was
    /// unreachable or answered an error.
    #[error("no cluster node answered CLUSTER SHARDS or CLUSTER SLOTS (last error: {last})")]
    ClusterUnavailable {
        /// The last error seen, from the last node tried.
        last: Box<Error>,
    },
}

impl Error {
    /// Whether sending the same command again is safe: the command certainly did not run, or
    /// the server asked for a retry.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::PoolTimedOut => true,
            Error::ConnectionClosed { sent, .. } => !sent,
            Error::Server { code, .. } => {
                matches!(
                    code.as_str(),
                    "TRYAGAIN" | "LOADING" | "MASTERDOWN" | "CLUSTERDOWN"
                )
            }
            _ => false,
        }
    }

    /// Whether this is a command, connect or pool timeout.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::PoolTimedOut => true,
            Error::Connect { source, .. } | Error::Io { source, .. } => {
                source.kind() == io::ErrorKind::TimedOut
            }
            _ => false,
        }
    }

    /// Whether the connection this error came from is unusable now.
    pub fn is_connection_dropped(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::ConnectionClosed { .. } | Error::Protocol { .. }
        )
    }

    /// The server's error code (`"WRONGTYPE"`, `"NOSCRIPT"`, …) when this is an error reply.
    pub fn server_code(&self) -> Option<&str> {
        match self {
            Error::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn config(part: &'static str, reason: impl Into<String>) -> Self {
        Error::Config {
            part,
            reason: reason.into(),
        }
    }

    pub(crate) fn protocol(reason: impl Into<String>) -> Self {
        Error::Protocol {
            node: String::new(),
            reason: reason.into(),
        }
    }

    /// Fills in the node of errors made where it was not known (the codec).
    pub(crate) fn at_node(mut self, at: &str) -> Self {
        if let Error::Protocol { node, .. } = &mut self {
            if node.is_empty() {
                at.clone_into(node);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let closed = Error::ConnectionClosed {
            node: "n".into(),
            sent: false,
        };
        assert!(closed.is_retryable() && closed.is_connection_dropped());
        let in_flight = Error::ConnectionClosed {
            node: "n".into(),
            sent: true,
        };
        assert!(!in_flight.is_retryable());
        let busy = Error::Server {
            command: "GET".into(),
            code: "LOADING".into(),
            message: "loading".into(),
        };
        assert!(busy.is_retryable() && !busy.is_timeout());
        assert_eq!(busy.server_code(), Some("LOADING"));
        assert!(Error::PoolTimedOut.is_timeout());
    }

    #[test]
    fn messages_name_the_part() {
        let e = Error::config("port", "not a number");
        assert_eq!(e.to_string(), "invalid configuration: port: not a number");
        let c = Error::Conversion {
            expected: "i64",
            got: "bulk string".into(),
            context: Some("GET".into()),
        };
        assert_eq!(c.to_string(), "cannot convert bulk string to i64 (GET)");
    }
}
