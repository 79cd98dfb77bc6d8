//! Multi-key commands whose keys hash to different slots: sent as one command per slot, their
//! replies merged into the one a single server would give.
//!
//! ```text
//! MGET a b c   (a, c in slot 15495; b in 3300)  →  MGET a c  ·  MGET b
//! [va, vc] · [vb]                              →  [va, vb, vc]   (the caller's key order)
//! DEL / EXISTS / UNLINK / TOUCH                →  the sum of the parts' counts
//! MSET a 1 b 2                                 →  MSET a 1  ·  MSET b 2  →  OK if every part is
//! ```
//!
//! Not atomic: each part runs on its own node, so another client may see some parts done and
//! others not, and an error in one part leaves the others done. Any other command with keys in
//! several slots is refused before sending ([`Error::CrossSlot`]).

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};

use super::slot::slot;
use crate::commands::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::resp::{encode_value, Frame, Token, Value};

/// How the replies of a split command's parts become one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merge {
    /// `MGET`: each part's values, put back at their keys' places.
    Values,
    /// `DEL`, `EXISTS`, `UNLINK`, `TOUCH`: the sum of the parts' counts.
    Sum,
    /// `MSET`: `OK` once every part said so.
    AllOk,
}

impl Merge {
    /// How `name`'s replies merge and how many words each key comes with (itself included);
    /// `None` for a command the cluster does not split.
    fn of(name: &str) -> Option<(Merge, usize)> {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("MGET") {
            Some((Merge::Values, 1))
        } else if is("MSET") {
            Some((Merge::AllOk, 2))
        } else if is("DEL") || is("EXISTS") || is("UNLINK") || is("TOUCH") {
            Some((Merge::Sum, 1))
        } else {
            None
        }
    }
}

/// A command split per slot, and how to merge its parts' replies.
#[derive(Debug)]
pub(crate) struct Split {
    name: String,
    merge: Merge,
    /// For each part, the places among the caller's keys of the keys it carries.
    places: Vec<Vec<usize>>,
}

impl Split {
    /// `command` (whose keys are in several slots) as one command per slot, in the order of
    /// each slot's first key; `None` when the cluster does not split it, or its arguments do
    /// not come in whole key-value pairs.
    pub(crate) fn of(command: &Cmd) -> Option<(Split, Vec<Cmd>)> {
        let (merge, stride) = Merge::of(command.name())?;
        let words = command.arg_count() - 1;
        if words == 0 || words % stride != 0 {
            return None;
        }
        // The command holds its arguments encoded only; they are read back here, on this rare
        // path, so that building a command never pays to keep them apart.
        let encoded = Frame::new(Bytes::copy_from_slice(command.encoded_args()));
        let mut reader = encoded.reader();
        // Past the name to the keys and values.
        reader.next().ok()?;
        // Per part: the places of its keys among the caller's, and its words.
        let mut groups: Vec<(Vec<usize>, Vec<&[u8]>)> = Vec::new();
        let mut part_of_slot: HashMap<u16, usize> = HashMap::new();
        for place in 0..words / stride {
            let mut key_and_values = Vec::with_capacity(stride);
            for _ in 0..stride {
                let Ok(Token::Bulk(word)) = reader.next() else {
                    return None;
                };
                key_and_values.push(word);
            }
            let part = *part_of_slot
                .entry(slot(key_and_values[0]))
                .or_insert_with(|| {
                    groups.push((Vec::new(), Vec::new()));
                    groups.len() - 1
                });
            groups[part].0.push(place);
            groups[part].1.extend(key_and_values);
        }
        let parts = groups
            .iter()
            .map(|(_, words)| {
                words
                    .chunks(stride)
                    .fold(cmd(command.name_cow()), |c, key_and_values| {
                        c.key(key_and_values[0]).args(&key_and_values[1..])
                    })
            })
            .collect();
        let places = groups.into_iter().map(|(places, _)| places).collect();
        let split = Split {
            name: command.name().to_owned(),
            merge,
            places,
        };
        Some((split, parts))
    }

    /// How many commands the split made.
    pub(crate) fn parts(&self) -> usize {
        self.places.len()
    }

    /// The one reply for the caller, from the parts' replies in the parts' order: the first
    /// error reply if a part had one, otherwise the merged values, sum or `OK`.
    pub(crate) fn merge(&self, replies: Vec<Frame>) -> Result<Frame> {
        if replies.len() != self.parts() {
            return Err(Error::protocol(format!(
                "{}: {} replies for {} parts",
                self.name,
                replies.len(),
                self.parts()
            )));
        }
        if let Some(error) = replies.iter().find(|f| f.is_error()) {
            return Ok(error.clone());
        }
        let merged = match self.merge {
            Merge::AllOk => return Ok(replies.into_iter().next().expect("one part at least")),
            Merge::Sum => {
                let mut sum = 0i64;
                for reply in &replies {
                    match reply.parse()? {
                        Value::Integer(n) => sum = sum.saturating_add(n),
                        _ => return Err(self.malformed("an integer")),
                    }
                }
                Value::Integer(sum)
            }
            Merge::Values => {
                let keys = self.places.iter().map(Vec::len).sum();
                let mut values = vec![Value::Nil; keys];
                for (reply, places) in replies.iter().zip(&self.places) {
                    match reply.parse()? {
                        Value::Array(got) if got.len() == places.len() => {
                            for (value, &place) in got.into_iter().zip(places) {
                                values[place] = value;
                            }
                        }
                        _ => return Err(self.malformed("one value per key")),
                    }
                }
                Value::Array(values)
            }
        };
        let mut buf = BytesMut::new();
        encode_value(&merged, &mut buf);
        Ok(Frame::new(buf.freeze()))
    }

    fn malformed(&self, expected: &str) -> Error {
        Error::protocol(format!("{}: a part's reply is not {expected}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::KeySlot;

    fn frame(bytes: &[u8]) -> Frame {
        Frame::new(Bytes::copy_from_slice(bytes))
    }

    /// Each part's encoding, for comparison.
    fn encoded(parts: &[Cmd]) -> Vec<Bytes> {
        parts.iter().map(Cmd::encoded).collect()
    }

    #[test]
    fn one_command_per_slot_in_first_key_order() {
        // "foo" is in slot 12182, "bar" in 5061; "{foo}x" shares foo's slot.
        let mget = cmd("MGET").key(["foo", "bar", "{foo}x", "bar"]);
        let (split, parts) = Split::of(&mget).unwrap();
        assert_eq!(
            encoded(&parts),
            [
                cmd("MGET").key(["foo", "{foo}x"]).encoded(),
                cmd("MGET").key(["bar", "bar"]).encoded()
            ]
        );
        assert_eq!(split.places, [vec![0, 2], vec![1, 3]]);
        // Each part knows its one slot, so it is routed like any command.
        assert_eq!(parts[0].key_slot(), KeySlot::One(12182));
        assert_eq!(parts[1].key_slot(), KeySlot::One(5061));

        let mset = cmd("mset")
            .key("foo")
            .arg(1)
            .key("bar")
            .arg(b"two".to_vec());
        let (split, parts) = Split::of(&mset).unwrap();
        assert_eq!(split.merge, Merge::AllOk);
        assert_eq!(
            encoded(&parts),
            [
                cmd("mset").key("foo").arg(1).encoded(),
                cmd("mset").key("bar").arg("two").encoded()
            ]
        );
    }

    #[test]
    fn only_known_commands_in_whole_pairs_split() {
        for name in ["DEL", "exists", "UNLINK", "Touch"] {
            let (split, parts) = Split::of(&cmd(name).key(["foo", "bar"])).unwrap();
            assert_eq!((split.merge, parts.len()), (Merge::Sum, 2), "{name}");
        }
        assert!(Split::of(&cmd("EVAL").arg("s").arg(2).key(["foo", "bar"])).is_none());
        assert!(Split::of(&cmd("RENAME").key(["foo", "bar"])).is_none());
        assert!(Split::of(&cmd("MSET").key("foo").arg(1).key("bar")).is_none());
        assert!(Split::of(&cmd("MGET")).is_none());
    }

    #[test]
    fn replies_merge_as_one_server_answers() {
        let (mget, _) = Split::of(&cmd("MGET").key(["foo", "bar", "{foo}x", "nope"])).unwrap();
        assert_eq!(mget.places, [vec![0, 2], vec![1], vec![3]]);
        // RESP3 and RESP2 replies mixed: nil is nil either way.
        let merged = mget
            .merge(vec![
                frame(b"*2\r\n$1\r\na\r\n$-1\r\n"),
                frame(b"*1\r\n$1\r\nb\r\n"),
                frame(b"*1\r\n_\r\n"),
            ])
            .unwrap();
        let values: Vec<Option<String>> =
            crate::resp::FromRedis::from_redis(merged.parse().unwrap()).unwrap();
        assert_eq!(values, [Some("a".into()), Some("b".into()), None, None]);

        let (del, _) = Split::of(&cmd("DEL").key(["foo", "bar"])).unwrap();
        let sum = del.merge(vec![frame(b":2\r\n"), frame(b":1\r\n")]).unwrap();
        assert_eq!(sum.as_bytes(), b":3\r\n");

        let (mset, _) = Split::of(&cmd("MSET").key("foo").arg(1).key("bar").arg(2)).unwrap();
        let ok = mset
            .merge(vec![frame(b"+OK\r\n"), frame(b"+OK\r\n")])
            .unwrap();
        assert_eq!(ok.as_bytes(), b"+OK\r\n");
        // The first part's error is the reply.
        let failed = mset
            .merge(vec![frame(b"+OK\r\n"), frame(b"-OOM no memory\r\n")])
            .unwrap();
        assert_eq!(failed.as_bytes(), b"-OOM no memory\r\n");

        // Replies of the wrong shape or number are protocol errors naming the command.
        for bad in [
            mget.merge(vec![frame(b"*1\r\n$1\r\na\r\n")]),
            mget.merge(vec![
                frame(b"*1\r\n$1\r\na\r\n"),
                frame(b"*1\r\n$1\r\nb\r\n"),
                frame(b"*1\r\n_\r\n"),
            ]),
            del.merge(vec![frame(b":1\r\n"), frame(b"$1\r\n1\r\n")]),
        ] {
            match bad {
                Err(Error::Protocol { reason, .. }) => assert!(
                    reason.starts_with("MGET") || reason.starts_with("DEL"),
                    "{reason}"
                ),
                other => panic!("{other:?}"),
            }
        }
    }
}
