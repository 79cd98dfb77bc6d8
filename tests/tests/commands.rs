//! Every typed command group against a real server, on RESP3 and RESP2: what the replies
//! convert into, the conversion and server errors, scripts with their `NOSCRIPT` fallback, and
//! the generic `cmd(..)` builder.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use redis_model::commands::{SetOptions, Ttl};
use redis_model::prelude::*;
use redis_model::Protocol;
use redis_model_tests::RedisServer;

/// The server's URL for each RESP version, so one test body runs on both.
fn urls(server: &RedisServer) -> [(Protocol, String); 2] {
    [
        (Protocol::Resp3, server.url()),
        (Protocol::Resp2, format!("{}?protocol=resp2", server.url())),
    ]
}

/// A client on each RESP version, each on its own database so their keys never meet.
async fn clients(server: &RedisServer) -> Vec<(Protocol, Client)> {
    let mut out = Vec::new();
    for (db, (protocol, url)) in urls(server).into_iter().enumerate() {
        let url = match protocol {
            Protocol::Resp3 => format!("{url}/{db}"),
            Protocol::Resp2 => url.replace("?protocol", &format!("/{db}?protocol")),
        };
        out.push((protocol, Client::connect(&url).await.unwrap()));
    }
    out
}

#[tokio::test]
async fn strings_get_set_mget_mset_incr() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        assert_eq!(c.get::<String>("missing").await.unwrap(), None, "{p:?}");
        c.set("s", "hello").await.unwrap();
        assert_eq!(
            c.get::<String>("s").await.unwrap().as_deref(),
            Some("hello")
        );

        c.mset(&[("m1", "a"), ("m2", "b")]).await.unwrap();
        let got: Vec<Option<String>> = c.mget(&["m1", "nope", "m2"]).await.unwrap();
        assert_eq!(got, [Some("a".into()), None, Some("b".into())], "{p:?}");

        assert_eq!(c.incr_by("n", 5).await.unwrap(), 5);
        assert_eq!(c.incr_by("n", -7).await.unwrap(), -2);
        assert_eq!(c.get::<i64>("n").await.unwrap(), Some(-2));
        // Numbers written as arguments come back as the same numbers.
        c.mset(&[("i", 42i64), ("j", -1)]).await.unwrap();
        let nums: Vec<Option<i64>> = c.mget(&["i", "j", "none"]).await.unwrap();
        assert_eq!(nums, [Some(42), Some(-1), None]);
    }
}

#[tokio::test]
async fn set_with_options() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        // NX: written only when absent; the nil reply reads as `None`.
        let first: Option<()> = c
            .set_with("nx", "1", SetOptions::new().only_if_absent())
            .await
            .unwrap();
        assert_eq!(first, Some(()), "{p:?}");
        let second: Option<()> = c
            .set_with("nx", "2", SetOptions::new().only_if_absent())
            .await
            .unwrap();
        assert_eq!(second, None, "{p:?}");
        assert_eq!(c.get::<String>("nx").await.unwrap().as_deref(), Some("1"));

        // XX: written only when present.
        let absent: Option<()> = c
            .set_with("xx", "1", SetOptions::new().only_if_present())
            .await
            .unwrap();
        assert_eq!(absent, None);
        assert_eq!(c.exists("xx").await.unwrap(), 0);
        let present: Option<()> = c
            .set_with("nx", "3", SetOptions::new().only_if_present())
            .await
            .unwrap();
        assert_eq!(present, Some(()));
        assert_eq!(c.get::<String>("nx").await.unwrap().as_deref(), Some("3"));

        // GET: the previous value, or nil when there was none.
        let prev: Option<String> = c
            .set_with("nx", "4", SetOptions::new().get_previous())
            .await
            .unwrap();
        assert_eq!(prev.as_deref(), Some("3"));
        let prev: Option<String> = c
            .set_with("fresh", "x", SetOptions::new().get_previous())
            .await
            .unwrap();
        assert_eq!(prev, None);
        // NX and GET together (Redis 7): the old value and no write.
        let prev: Option<String> = c
            .set_with("nx", "5", SetOptions::new().only_if_absent().get_previous())
            .await
            .unwrap();
        assert_eq!(prev.as_deref(), Some("4"));
        assert_eq!(c.get::<String>("nx").await.unwrap().as_deref(), Some("4"));

        // EX for whole seconds, PX otherwise.
        let _: () = c
            .set_with(
                "ex",
                "v",
                SetOptions::new().expire(Duration::from_secs(100)),
            )
            .await
            .unwrap();
        let ttl: i64 = c.send(cmd("TTL").arg("ex")).await.unwrap();
        assert!((98..=100).contains(&ttl), "EX: {ttl}");
        let _: () = c
            .set_with(
                "px",
                "v",
                SetOptions::new().expire(Duration::from_millis(50_500)),
            )
            .await
            .unwrap();
        let pttl: i64 = c.send(cmd("PTTL").arg("px")).await.unwrap();
        assert!((48_000..=50_500).contains(&pttl), "PX: {pttl}");
        // Seconds are never rounded into milliseconds or the other way: 1.5 s stays 1500 ms.
        let _: () = c
            .set_with(
                "short",
                "v",
                SetOptions::new().expire(Duration::from_millis(1500)),
            )
            .await
            .unwrap();
        let pttl: i64 = c.send(cmd("PTTL").arg("short")).await.unwrap();
        assert!((1000..=1500).contains(&pttl), "PX: {pttl}");

        // Everything at once: PX, XX and GET.
        let prev: Option<String> = c
            .set_with(
                "px",
                "w",
                SetOptions::new()
                    .expire(Duration::from_millis(20_250))
                    .only_if_present()
                    .get_previous(),
            )
            .await
            .unwrap();
        assert_eq!(prev.as_deref(), Some("v"));
        let pttl: i64 = c.send(cmd("PTTL").arg("px")).await.unwrap();
        assert!((18_000..=20_250).contains(&pttl), "PX: {pttl}");
    }
}

#[tokio::test]
async fn keys_del_exists_expire_ttl() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        c.mset(&[("a", 1), ("b", 2), ("c", 3)]).await.unwrap();
        assert_eq!(c.exists(&["a", "b", "zz"]).await.unwrap(), 2, "{p:?}");
        // EXISTS counts a key named twice twice.
        assert_eq!(c.exists(&["a", "a"]).await.unwrap(), 2);
        assert_eq!(c.del(&["a", "zz"]).await.unwrap(), 1);
        assert_eq!(c.exists("a").await.unwrap(), 0);

        assert_eq!(c.ttl("a").await.unwrap(), Ttl::Missing);
        assert_eq!(c.ttl("b").await.unwrap(), Ttl::Persistent);
        assert!(c.expire("b", Duration::from_secs(100)).await.unwrap());
        match c.ttl("b").await.unwrap() {
            Ttl::ExpiresIn(d) => assert!(
                (Duration::from_secs(98)..=Duration::from_secs(100)).contains(&d),
                "{d:?}"
            ),
            other => panic!("{p:?}: {other:?}"),
        }
        // EXPIRE of a missing key: false, and nothing appears.
        assert!(!c.expire("a", Duration::from_secs(10)).await.unwrap());
        assert_eq!(c.ttl("a").await.unwrap(), Ttl::Missing);

        // A short expiry really expires.
        assert!(c.expire("c", Duration::from_millis(100)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(c.exists("c").await.unwrap(), 0);
        assert_eq!(c.ttl("c").await.unwrap(), Ttl::Missing);
    }
}

#[tokio::test]
async fn scan_streams_every_key() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        // 2,600 keys under one prefix, 300 under another: many SCAN pages.
        let users: BTreeSet<String> = (0..2600).map(|i| format!("user:{i}")).collect();
        let others: BTreeSet<String> = (0..300).map(|i| format!("order:{i}")).collect();
        for chunk in users.iter().chain(&others).collect::<Vec<_>>().chunks(500) {
            let pairs: Vec<(&str, &str)> = chunk.iter().map(|k| (k.as_str(), "x")).collect();
            c.mset(&pairs).await.unwrap();
        }

        // No pattern: every key, each at least once.
        let all: Vec<String> = c.scan::<String>(None, 100).try_collect().await.unwrap();
        let all_set: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(all_set.len(), users.len() + others.len(), "{p:?}");
        assert!(users.is_subset(&all_set) && others.is_subset(&all_set));
        // The keyspace did not change meanwhile, so no key repeats.
        assert_eq!(all.len(), all_set.len(), "{p:?}");

        // A pattern: exactly the matching keys.
        let matched: BTreeSet<String> = c
            .scan::<String>(Some("user:*"), 250)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(matched, users, "{p:?}");
        let none: Vec<String> = c
            .scan::<String>(Some("nothing:*"), 1000)
            .try_collect()
            .await
            .unwrap();
        assert!(none.is_empty());

        // Keys as raw bytes work too, and the stream ends after the last page.
        let mut raw = c.scan::<Bytes>(Some("order:*"), 1000);
        let mut n = 0;
        while let Some(k) = raw.next().await {
            assert!(k.unwrap().starts_with(b"order:"));
            n += 1;
        }
        assert_eq!(n, others.len());
        assert!(raw.next().await.is_none(), "a finished scan stays finished");

        // A key that does not convert is an error item, not a panic.
        let mut as_numbers = c.scan::<i64>(Some("user:1"), 10);
        let first = as_numbers.next().await.unwrap();
        assert!(matches!(first, Err(Error::Conversion { .. })), "{first:?}");
    }
}

#[tokio::test]
async fn hashes() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        assert_eq!(
            c.hset("h", &[("name", "ada"), ("age", "36")])
                .await
                .unwrap(),
            2
        );
        // Updating a field is not a new field.
        assert_eq!(
            c.hset("h", &[("age", "37"), ("lang", "en")]).await.unwrap(),
            1
        );
        assert_eq!(
            c.hget::<String>("h", "name").await.unwrap().as_deref(),
            Some("ada")
        );
        assert_eq!(c.hget::<u32>("h", "age").await.unwrap(), Some(37));
        assert_eq!(c.hget::<String>("h", "nope").await.unwrap(), None);
        assert_eq!(c.hget::<String>("nokey", "f").await.unwrap(), None);

        let all: HashMap<String, String> = c.hgetall("h").await.unwrap();
        assert_eq!(all.len(), 3, "{p:?}");
        assert_eq!(all["name"], "ada");
        let sorted: BTreeMap<String, Bytes> = c.hgetall("h").await.unwrap();
        assert_eq!(
            sorted.keys().collect::<Vec<_>>(),
            ["age", "lang", "name"],
            "{p:?}"
        );
        assert_eq!(sorted["lang"], Bytes::from_static(b"en"));
        let empty: HashMap<String, String> = c.hgetall("nokey").await.unwrap();
        assert!(empty.is_empty());

        let some: Vec<Option<String>> = c.hmget("h", &["lang", "x", "name"]).await.unwrap();
        assert_eq!(some, [Some("en".into()), None, Some("ada".into())]);
        assert_eq!(c.hdel("h", &["lang", "x"]).await.unwrap(), 1);
        assert_eq!(c.hdel("h", &["name", "age"]).await.unwrap(), 2);
        // The last field gone, the key is gone.
        assert_eq!(c.exists("h").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn sets() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        assert_eq!(
            c.sadd("s", &["a", "b", "c", "a"]).await.unwrap(),
            3,
            "{p:?}"
        );
        assert_eq!(c.sadd("s", "c").await.unwrap(), 0);
        assert_eq!(c.scard("s").await.unwrap(), 3);
        assert!(c.sismember("s", "b").await.unwrap());
        assert!(!c.sismember("s", "z").await.unwrap());
        let members: HashSet<String> = c.smembers("s").await.unwrap();
        assert_eq!(members, HashSet::from(["a".into(), "b".into(), "c".into()]));
        // A RESP3 set reply reads into a Vec and a BTreeSet too.
        let mut v: Vec<String> = c.smembers("s").await.unwrap();
        v.sort();
        assert_eq!(v, ["a", "b", "c"]);
        let b: BTreeSet<Bytes> = c.smembers("s").await.unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(c.srem("s", &["a", "z"]).await.unwrap(), 1);
        assert_eq!(c.scard("s").await.unwrap(), 2);
        assert_eq!(c.scard("nokey").await.unwrap(), 0);
        let none: HashSet<String> = c.smembers("nokey").await.unwrap();
        assert!(none.is_empty());
    }
}

#[tokio::test]
async fn sorted_sets_on_both_protocols() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        assert_eq!(
            c.zadd("z", &[(1.0, "one"), (2.5, "two"), (-3.0, "neg")])
                .await
                .unwrap(),
            3,
            "{p:?}"
        );
        assert_eq!(c.zadd("z", &[(1.5, "one")]).await.unwrap(), 0);
        assert_eq!(c.zcard("z").await.unwrap(), 3);
        assert_eq!(c.zscore("z", "one").await.unwrap(), Some(1.5));
        assert_eq!(c.zscore("z", "missing").await.unwrap(), None);
        assert_eq!(c.zincr_by("z", 0.25, "two").await.unwrap(), 2.75);
        assert_eq!(c.zincr_by("z", 4.0, "new").await.unwrap(), 4.0);

        let members: Vec<String> = c.zrange("z", 0, -1).await.unwrap();
        assert_eq!(members, ["neg", "one", "two", "new"], "{p:?}");
        let scored: Vec<(String, f64)> = c.zrange_with_scores("z", 0, -1).await.unwrap();
        assert_eq!(
            scored,
            [
                ("neg".to_owned(), -3.0),
                ("one".to_owned(), 1.5),
                ("two".to_owned(), 2.75),
                ("new".to_owned(), 4.0)
            ],
            "{p:?}"
        );
        let top: Vec<(Bytes, f64)> = c.zrange_with_scores("z", -1, -1).await.unwrap();
        assert_eq!(top, [(Bytes::from_static(b"new"), 4.0)]);
        let empty: Vec<(String, f64)> = c.zrange_with_scores("nokey", 0, -1).await.unwrap();
        assert!(empty.is_empty());

        // Infinite scores are written as `+inf`/`-inf` and read back.
        c.zadd("inf", &[(f64::INFINITY, "hi"), (f64::NEG_INFINITY, "lo")])
            .await
            .unwrap();
        let inf: Vec<(String, f64)> = c.zrange_with_scores("inf", 0, -1).await.unwrap();
        assert_eq!(
            inf,
            [
                ("lo".to_owned(), f64::NEG_INFINITY),
                ("hi".to_owned(), f64::INFINITY)
            ],
            "{p:?}"
        );

        assert_eq!(c.zrem("z", &["neg", "missing"]).await.unwrap(), 1);
        assert_eq!(c.zcard("z").await.unwrap(), 3);
    }
}

#[tokio::test]
async fn lists() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        assert_eq!(c.rpush("l", &["b", "c"]).await.unwrap(), 2, "{p:?}");
        assert_eq!(c.lpush("l", "a").await.unwrap(), 3);
        assert_eq!(c.llen("l").await.unwrap(), 3);
        let all: Vec<String> = c.lrange("l", 0, -1).await.unwrap();
        assert_eq!(all, ["a", "b", "c"]);
        let tail: Vec<String> = c.lrange("l", -2, -1).await.unwrap();
        assert_eq!(tail, ["b", "c"]);
        assert_eq!(c.lpop::<String>("l").await.unwrap().as_deref(), Some("a"));
        assert_eq!(c.rpop::<String>("l").await.unwrap().as_deref(), Some("c"));
        assert_eq!(c.rpop::<String>("l").await.unwrap().as_deref(), Some("b"));
        assert_eq!(c.lpop::<String>("l").await.unwrap(), None);
        assert_eq!(c.rpop::<String>("l").await.unwrap(), None);
        assert_eq!(c.llen("l").await.unwrap(), 0);
        let none: Vec<String> = c.lrange("l", 0, -1).await.unwrap();
        assert!(none.is_empty());
        // Numbers pushed as arguments come back as numbers.
        c.rpush("nums", &[1i64, -2, 300]).await.unwrap();
        let nums: Vec<i64> = c.lrange("nums", 0, -1).await.unwrap();
        assert_eq!(nums, [1, -2, 300]);
    }
}

#[tokio::test]
async fn conversions_from_real_replies() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        // Binary-safe values: every byte survives, CR LF and NUL included.
        let binary: Vec<u8> = (0..=255u8).chain(*b"\r\n\0end").collect();
        c.set("bin", binary.clone()).await.unwrap();
        assert_eq!(c.get::<Vec<u8>>("bin").await.unwrap(), Some(binary.clone()));
        assert_eq!(
            c.get::<Bytes>("bin").await.unwrap(),
            Some(Bytes::from(binary.clone()))
        );
        // ... but not into a String: not UTF-8.
        let e = c.get::<String>("bin").await.unwrap_err();
        assert!(matches!(e, Error::Conversion { .. }), "{p:?}: {e:?}");

        c.set("text", "héllo wörld").await.unwrap();
        assert_eq!(
            c.get::<String>("text").await.unwrap().as_deref(),
            Some("héllo wörld")
        );

        // Integers: from integer replies and from numeric strings, in every width.
        c.set("num", 200).await.unwrap();
        assert_eq!(c.get::<u8>("num").await.unwrap(), Some(200));
        assert_eq!(c.get::<i16>("num").await.unwrap(), Some(200));
        assert_eq!(c.get::<u64>("num").await.unwrap(), Some(200));
        assert_eq!(c.get::<i128>("num").await.unwrap(), Some(200));
        assert!(matches!(
            c.get::<i8>("num").await,
            Err(Error::Conversion { .. })
        ));
        let n: i64 = c.send(cmd("INCR").arg("num")).await.unwrap();
        assert_eq!(n, 201);
        let n: u16 = c.send(cmd("STRLEN").arg("text")).await.unwrap();
        assert_eq!(n as usize, "héllo wörld".len());
        // An integer reply read as a String is its decimal form.
        let s: String = c.send(cmd("INCR").arg("num")).await.unwrap();
        assert_eq!(s, "202");
        c.set("big", u64::MAX).await.unwrap();
        assert_eq!(c.get::<u64>("big").await.unwrap(), Some(u64::MAX));
        assert!(matches!(
            c.get::<i64>("big").await,
            Err(Error::Conversion { .. })
        ));

        // Floats: from strings and (RESP3) doubles.
        c.set("f", 2.5).await.unwrap();
        assert_eq!(c.get::<f64>("f").await.unwrap(), Some(2.5));
        let f: f64 = c.send(cmd("INCRBYFLOAT").arg("f").arg(0.25)).await.unwrap();
        assert_eq!(f, 2.75);
        c.zadd("z", &[(0.1, "m")]).await.unwrap();
        let score: f64 = c.send(cmd("ZSCORE").arg("z").arg("m")).await.unwrap();
        assert_eq!(score, 0.1, "{p:?}: the shortest exact form round-trips");

        // bool: from integer replies (and RESP3 booleans).
        let b: bool = c.send(cmd("EXISTS").arg("f")).await.unwrap();
        assert!(b);
        let b: bool = c.send(cmd("EXISTS").arg("nope")).await.unwrap();
        assert!(!b);
        c.set("flag", true).await.unwrap();
        assert_eq!(c.get::<bool>("flag").await.unwrap(), Some(true));
        assert_eq!(c.get::<String>("flag").await.unwrap().as_deref(), Some("1"));

        // () accepts anything; Option of a missing key is None; Value keeps the reply as is.
        let _: () = c.send(cmd("SET").arg("u").arg("1")).await.unwrap();
        let v: Value = c.send(cmd("GET").arg("nope")).await.unwrap();
        assert_eq!(v, Value::Nil);
        let v: Value = c.send(cmd("SET").arg("u").arg("2")).await.unwrap();
        assert!(v.is_ok(), "{v:?}");

        // Tuples and nested collections.
        c.mset(&[("t1", "x"), ("t2", "7")]).await.unwrap();
        let t: (String, i64, Option<String>) =
            c.send(cmd("MGET").arg(["t1", "t2", "t3"])).await.unwrap();
        assert_eq!(t, ("x".into(), 7, None));
        let e = c
            .send::<(String, String)>(cmd("MGET").arg(["t1", "t2", "t3"]))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conversion { .. }), "{e:?}");
        c.hset("h", &[("a", 1), ("b", 2)]).await.unwrap();
        let m: HashMap<String, i64> = c.send(cmd("HGETALL").arg("h")).await.unwrap();
        assert_eq!(m, HashMap::from([("a".into(), 1), ("b".into(), 2)]));
        let m: BTreeMap<Bytes, u8> = c.hgetall("h").await.unwrap();
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [1, 2]);
        let v: Vec<Option<Vec<u8>>> = c.mget(&["t1", "t3"]).await.unwrap();
        assert_eq!(v, [Some(b"x".to_vec()), None]);

        // A map reply (HELLO's in RESP3, a flat list in RESP2) reads into a map of Values.
        let info: HashMap<String, Value> = c.send(cmd("HELLO")).await.unwrap();
        let proto = i64::from_redis(info["proto"].clone()).unwrap();
        assert_eq!(proto, if p == Protocol::Resp3 { 3 } else { 2 });
    }
}

#[tokio::test]
async fn conversion_errors_name_the_types() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        c.set("word", "abc").await.unwrap();
        match c.get::<i64>("word").await {
            Err(Error::Conversion { expected, got, .. }) => {
                assert_eq!(expected, "i64");
                assert_eq!(got, "bulk string", "{p:?}");
            }
            other => panic!("{p:?}: {other:?}"),
        }
        assert!(matches!(
            c.get::<f64>("word").await,
            Err(Error::Conversion { .. })
        ));
        assert!(matches!(
            c.get::<bool>("word").await,
            Err(Error::Conversion { .. })
        ));
        // Nil into a non-Option type is an error, not a default.
        assert!(matches!(
            c.send::<String>(cmd("GET").arg("missing")).await,
            Err(Error::Conversion { .. })
        ));
        assert!(matches!(
            c.send::<i64>(cmd("GET").arg("missing")).await,
            Err(Error::Conversion { .. })
        ));
        // An array into a scalar, a scalar into a map.
        c.rpush("l", &["1", "x"]).await.unwrap();
        assert!(matches!(
            c.send::<String>(cmd("LRANGE").arg("l").arg(0).arg(-1))
                .await,
            Err(Error::Conversion { .. })
        ));
        match c
            .send::<Vec<i64>>(cmd("LRANGE").arg("l").arg(0).arg(-1))
            .await
        {
            Err(Error::Conversion { context, .. }) => {
                assert_eq!(context.as_deref(), Some("element 1"))
            }
            other => panic!("{p:?}: {other:?}"),
        }
        assert!(matches!(
            c.send::<HashMap<String, String>>(cmd("GET").arg("word"))
                .await,
            Err(Error::Conversion { .. })
        ));
        // An odd-length list is no map.
        c.rpush("odd", &["a", "b", "c"]).await.unwrap();
        assert!(matches!(
            c.send::<HashMap<String, String>>(cmd("LRANGE").arg("odd").arg(0).arg(-1))
                .await,
            Err(Error::Conversion { .. })
        ));
        // The conversion error did not disturb the connection: the next reply is the right one.
        assert_eq!(
            c.get::<String>("word").await.unwrap().as_deref(),
            Some("abc")
        );
    }
}

#[tokio::test]
async fn server_errors_carry_code_and_command() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        c.set("str", "v").await.unwrap();
        match c.lpush("str", "x").await {
            Err(Error::Server {
                command,
                code,
                message,
            }) => {
                assert_eq!(command, "LPUSH", "{p:?}");
                assert_eq!(code, "WRONGTYPE");
                assert!(message.contains("wrong kind of value"), "{message}");
            }
            other => panic!("{p:?}: {other:?}"),
        }
        let e = c.hget::<String>("str", "f").await.unwrap_err();
        assert_eq!(e.server_code(), Some("WRONGTYPE"));
        assert!(!e.is_retryable() && !e.is_connection_dropped());
        let e = c.zadd("str", &[(1.0, "m")]).await.unwrap_err();
        assert!(
            matches!(&e, Error::Server { command, .. } if command == "ZADD"),
            "{e:?}"
        );
        // Errors that are not WRONGTYPE: a value that is no integer, an unknown command.
        let e = c.incr_by("str", 1).await.unwrap_err();
        assert!(
            matches!(&e, Error::Server { command, code, .. } if command == "INCRBY" && code == "ERR"),
            "{e:?}"
        );
        let e = c
            .send::<Value>(cmd("NOSUCHCOMMAND").arg("x"))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::Server { command, code, .. } if command == "NOSUCHCOMMAND" && code == "ERR"),
            "{e:?}"
        );
        // The message names the error and not the arguments.
        assert!(e.to_string().starts_with("NOSUCHCOMMAND: ERR"), "{e}");
        // The connection is still in step after errors.
        assert_eq!(c.get::<String>("str").await.unwrap().as_deref(), Some("v"));
    }
}

#[tokio::test]
async fn scripts_use_evalsha_and_fall_back_after_flush() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        c.send::<()>(cmd("SCRIPT").arg("FLUSH")).await.unwrap();
        c.send::<()>(cmd("CONFIG").arg("RESETSTAT")).await.unwrap();
        let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        assert_eq!(add.sha().len(), 40);
        let exists: Vec<bool> = c
            .send(cmd("SCRIPT").arg("EXISTS").arg(add.sha()))
            .await
            .unwrap();
        assert_eq!(exists, [false]);

        // First use: EVALSHA fails with NOSCRIPT, EVAL runs it and caches it.
        let n: i64 = add.invoke(&c, &["counter"], &[5]).await.unwrap();
        assert_eq!(n, 5, "{p:?}");
        let exists: Vec<bool> = c
            .send(cmd("SCRIPT").arg("EXISTS").arg(add.sha()))
            .await
            .unwrap();
        assert_eq!(exists, [true], "the digest is the one Redis computes");
        // Second use: EVALSHA alone.
        let n: i64 = add.invoke(&c, &["counter"], &[2]).await.unwrap();
        assert_eq!(n, 7);
        let stats = command_calls(&c).await;
        assert_eq!(stats.get("evalsha"), Some(&2), "{p:?}: {stats:?}");
        assert_eq!(stats.get("eval"), Some(&1), "{p:?}: {stats:?}");

        // After SCRIPT FLUSH the fallback runs again.
        c.send::<()>(cmd("SCRIPT").arg("FLUSH")).await.unwrap();
        let n: i64 = add.invoke(&c, &["counter"], &[3]).await.unwrap();
        assert_eq!(n, 10);
        let stats = command_calls(&c).await;
        assert_eq!(stats.get("evalsha"), Some(&3), "{p:?}: {stats:?}");
        assert_eq!(stats.get("eval"), Some(&2), "{p:?}: {stats:?}");

        // Scripts without keys, returning other shapes.
        let no_keys: [&str; 0] = [];
        let echo = Script::new("return {ARGV[1], ARGV[2], 42}");
        let t: (String, String, i64) = echo.invoke(&c, &no_keys, &["a", "b"]).await.unwrap();
        assert_eq!(t, ("a".into(), "b".into(), 42));
        // An error inside the script is a server error, not a retry with EVAL.
        let bad = Script::new("return redis.call('LPUSH', KEYS[1], 'x')");
        c.set("s", "v").await.unwrap();
        let e = bad.invoke::<Value, _, _, _>(&c, &["s"], &no_keys).await;
        assert_eq!(e.unwrap_err().server_code(), Some("WRONGTYPE"), "{p:?}");
        // A script that does not compile: EVAL's error comes back.
        let broken = Script::new("this is not lua");
        let e = broken
            .invoke::<Value, _, _, _>(&c, &no_keys, &no_keys)
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Server { ref command, .. } if command == "EVAL"),
            "{e:?}"
        );
    }
}

/// Calls per command from `INFO commandstats`, e.g. `{"evalsha": 2}`.
async fn command_calls(c: &Client) -> HashMap<String, u64> {
    let info: String = c.send(cmd("INFO").arg("commandstats")).await.unwrap();
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn generic_cmd_builder() {
    let server = RedisServer::start();
    for (p, c) in clients(&server).await {
        let pong: String = c.send(cmd("PING")).await.unwrap();
        assert_eq!(pong, "PONG", "{p:?}");
        let echo: Bytes = c.send(cmd("ECHO").arg("hi there")).await.unwrap();
        assert_eq!(echo, "hi there");

        // Arguments of every kind: strings, bytes, numbers, floats, bools, options, lists.
        let mut rpush = cmd("RPUSH").arg("mixed");
        rpush.push(b"raw".to_vec());
        rpush.push(Bytes::from_static(b"bytes"));
        let rpush = rpush
            .arg(-12i32)
            .arg(u64::MAX)
            .arg(1.25f64)
            .arg(false)
            .arg(None::<&str>)
            .arg(Some("some"))
            .args(["x", "y"])
            .args(vec![String::from("owned")]);
        assert_eq!(rpush.arg_count(), 12);
        let len: u64 = c.send(rpush).await.unwrap();
        assert_eq!(len, 10);
        let items: Vec<String> = c.lrange("mixed", 0, -1).await.unwrap();
        assert_eq!(
            items,
            [
                "raw",
                "bytes",
                "-12",
                "18446744073709551615",
                "1.25",
                "0",
                "some",
                "x",
                "y",
                "owned"
            ]
        );

        // Pairs as arguments, and a lower-case command name.
        let _: () = c
            .send(cmd("hset").arg("h").arg(vec![("a", 1u32), ("b", 2u32)]))
            .await
            .unwrap();
        let m: BTreeMap<String, u32> = c.hgetall("h").await.unwrap();
        assert_eq!(m, BTreeMap::from([("a".into(), 1), ("b".into(), 2)]));

        // An owned command name works as well as a static one.
        let name = String::from("DBSIZE");
        let n: u64 = c.send(cmd(name)).await.unwrap();
        assert_eq!(n, 2);

        // Commands work the same on a connection checked out of the pool.
        let conn = c.exclusive().await.unwrap();
        let n: u64 = conn.send(cmd("LLEN").arg("mixed")).await.unwrap();
        assert_eq!(n, 10);
        assert_eq!(conn.hget::<u32>("h", "b").await.unwrap(), Some(2));
    }
}

#[tokio::test]
async fn commands_on_a_plain_connection() {
    let server = RedisServer::start();
    for (p, url) in urls(&server) {
        let conn = redis_model::Connection::connect(&Config::from_url(&url).unwrap())
            .await
            .unwrap();
        assert_eq!(conn.protocol(), p);
        conn.set("k", "v").await.unwrap();
        conn.sadd("s", &["a", "b"]).await.unwrap();
        let s: BTreeSet<String> = conn.smembers("s").await.unwrap();
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        let keys: BTreeSet<String> = conn.scan(None, 10).try_collect().await.unwrap();
        assert!(keys.contains("k") && keys.contains("s"), "{keys:?}");
        conn.del(&["k", "s"]).await.unwrap();
    }
}
