//! The hash slot of a key: which of the cluster's 16384 slots, and so which shard, holds it.
//!
//! ```text
//! slot(key) = CRC16-XMODEM(hash tag of key, or the whole key) mod 16384
//! "{user1000}.following" and "{user1000}.followers" → both hash "user1000"
//! ```

/// How many hash slots a Redis Cluster has.
pub(crate) const SLOTS: u16 = 16384;

/// The slot `key` belongs to, as Redis Cluster computes it.
pub(crate) fn slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) % SLOTS
}

/// The part of `key` that is hashed: the bytes between the first `{` and the first `}` after
/// it, so that related keys can be put in one slot on purpose. An empty tag (`{}`) or an
/// unclosed `{` hashes the whole key, as the Redis Cluster specification says.
pub(crate) fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &rest[..close],
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_slots() {
        // 0x31C3 is the XMODEM check value of "123456789".
        assert_eq!(slot(b"123456789"), 0x31C3 % SLOTS);
        assert_eq!(slot(b"123456789"), 12739);
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        assert_eq!(slot(b""), 0);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(slot(b"{user1000}.following"), slot(b"{user1000}.followers"));
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        // The first `{` opens the tag and the first `}` after it closes it.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        assert_eq!(hash_tag(b"foo}bar{"), b"foo}bar{");
        assert_eq!(slot(b"foo{bar}{zap}"), slot(b"bar"));
    }

    /// Up to 31 bytes, none of them `byte`.
    fn without(byte: u8) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            any::<u8>().prop_filter("excluded byte", move |b| *b != byte),
            0..32,
        )
    }

    proptest! {
        #[test]
        fn a_tag_alone_decides_the_slot(
            prefix in without(b'{'),
            tag in without(b'}').prop_filter("empty tag", |t| !t.is_empty()),
            suffix in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let key = [&prefix[..], b"{", &tag, b"}", &suffix].concat();
            prop_assert_eq!(slot(&key), slot(&tag));
        }

        #[test]
        fn every_slot_is_in_range(key in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(slot(&key) < SLOTS);
        }
    }
}
