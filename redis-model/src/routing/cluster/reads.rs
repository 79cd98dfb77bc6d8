//! Which commands only read: those a replica may serve (with `read_from` other than master),
//! and that may be sent again after their connection failed mid-flight.
//!
//! Decided by the command's name, from a fixed list: the reads this crate's typed methods and
//! repositories send, and a few plain reads beside them. Any other command counts as a write,
//! and so goes to the master and is never sent twice: a read missing here is only served by
//! the master, never wrongly by a replica.

/// The read-only commands, upper case. Each has the `readonly` flag in `COMMAND INFO` on
/// Redis 7.4 with RedisJSON: a command gets onto the list only if it has.
pub(crate) const READ_ONLY: &[&str] = &[
    // Strings and keys.
    "GET",
    "MGET",
    "STRLEN",
    "GETRANGE",
    "EXISTS",
    "TTL",
    "PTTL",
    "TYPE",
    // Hashes.
    "HGET",
    "HGETALL",
    "HMGET",
    "HEXISTS",
    "HLEN",
    "HKEYS",
    "HVALS",
    // Lists.
    "LRANGE",
    "LLEN",
    "LINDEX",
    // Sets.
    "SMEMBERS",
    "SISMEMBER",
    "SCARD",
    // Sorted sets.
    "ZSCORE",
    "ZRANGE",
    "ZCARD",
    "ZRANK",
    // RedisJSON.
    "JSON.GET",
    "JSON.MGET",
    "JSON.TYPE",
];

/// Whether the command called `name` (in any case) only reads.
pub(crate) fn is_read_only(name: &str) -> bool {
    READ_ONLY.iter().any(|read| read.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_by_name_in_any_case() {
        for read in ["GET", "get", "HGetAll", "JSON.GET", "zrange"] {
            assert!(is_read_only(read), "{read}");
        }
        for write in [
            "SET",
            "DEL",
            "EVAL",
            "JSON.SET",
            "GETDEL",
            "GETEX",
            "ZRANGESTORE",
            "",
        ] {
            assert!(!is_read_only(write), "{write}");
        }
    }
}
