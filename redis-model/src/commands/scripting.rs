//! Lua scripts: `EVALSHA`, falling back to `EVAL` when the server does not have the script.

use super::{cmd, Cmd, Commands, ToArg};
use crate::error::{Error, Result};
use crate::resp::FromRedis;

/// A Lua script, sent by its SHA-1 digest; the source is sent only when the server answers
/// `NOSCRIPT` (first use, or after `SCRIPT FLUSH` or a restart), which also caches it there.
///
/// ```no_run
/// # async fn demo(client: redis_model::Client) -> redis_model::Result<()> {
/// use redis_model::Script;
/// let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
/// let n: i64 = add.invoke(&client, &["counter"], &[5]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Script {
    source: String,
    sha: String,
}

impl Script {
    /// A script with this Lua source.
    pub fn new(source: impl Into<String>) -> Self {
        let source = source.into();
        let sha = sha1_hex(source.as_bytes());
        Script { source, sha }
    }

    /// The SHA-1 digest Redis knows the script by, in lowercase hex.
    pub fn sha(&self) -> &str {
        &self.sha
    }

    /// Runs the script with `keys` and `args`.
    pub async fn invoke<T, C, K, A>(&self, on: &C, keys: &[K], args: &[A]) -> Result<T>
    where
        T: FromRedis,
        C: Commands,
        K: ToArg + Sync,
        A: ToArg + Sync,
    {
        let call = |name: &'static str, script: &str| -> Cmd {
            cmd(name).arg(script).arg(keys.len()).key(keys).arg(args)
        };
        match on.send(call("EVALSHA", &self.sha)).await {
            Err(Error::Server { code, .. }) if code == "NOSCRIPT" => {
                on.send(call("EVAL", &self.source)).await
            }
            other => other,
        }
    }
}

/// SHA-1 (FIPS 180-4), which `EVALSHA` names scripts by. Not used for security.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            sha1_hex(&[b'a'; 1000]),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }
}
