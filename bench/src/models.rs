//! The cost of the typed layer: each typed repository operation against the raw command it
//! compiles to, sent through the same client to the same server, interleaved round by round.
//!
//! | typed | raw | target |
//! |---|---|---|
//! | `get` of a 10-field hash model, 10 tasks | `HGETALL` | ≥ 90% |
//! | `get` of a JSON model, 10 tasks | `JSON.GET` | ≥ 90% |
//! | `save_all` of 100,000 models | pipelined `HSET`, chunks of 1,000, three in flight | ≥ 80% |
//! | `find` of a 10-hit query | `FT.SEARCH`, same query | ≤ 5% added to the round trip |

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_model::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "bench:user", index = "bench-user-idx")]
pub struct HashUser {
    #[redis(id)]
    pub id: String,
    #[redis(text)]
    pub name: String,
    #[redis(tag)]
    pub city: String,
    #[redis(numeric, sortable)]
    pub age: u32,
    #[redis(tag)]
    pub skills: Vec<String>,
    pub email: String,
    pub score: f64,
    pub active: bool,
    pub visits: u64,
    pub bio: Option<String>,
}

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "bench:juser", storage = "json", index = "bench-juser-idx")]
pub struct JsonUser {
    #[redis(id)]
    pub id: String,
    #[redis(text)]
    pub name: String,
    #[redis(tag)]
    pub city: String,
    #[redis(numeric)]
    pub age: u32,
    #[redis(tag)]
    pub skills: Vec<String>,
    pub email: String,
    pub score: f64,
    pub active: bool,
    pub visits: u64,
    pub bio: Option<String>,
}

fn hash_user(i: u32) -> HashUser {
    HashUser {
        id: i.to_string(),
        name: format!("User Number {i}"),
        city: ["Paris", "Lyon", "Nice", "Lille"][i as usize % 4].into(),
        age: 18 + i % 60,
        skills: vec!["rust".into(), format!("skill{}", i % 7)],
        email: format!("user{i}@example.com"),
        score: f64::from(i) * 1.5,
        active: i % 2 == 0,
        visits: u64::from(i) * 3,
        bio: Some("A short biography of a benchmark user.".into()),
    }
}

fn json_user(i: u32) -> JsonUser {
    let h = hash_user(i);
    JsonUser {
        id: h.id,
        name: h.name,
        city: h.city,
        age: h.age,
        skills: h.skills,
        email: h.email,
        score: h.score,
        active: h.active,
        visits: h.visits,
        bio: h.bio,
    }
}

/// One typed-versus-raw comparison: medians over rounds.
struct Row {
    name: &'static str,
    typed: Vec<f64>,
    raw: Vec<f64>,
    /// Typed must reach this fraction of raw (throughput), or add at most this much (latency).
    target: Target,
}

enum Target {
    AtLeast(f64),
    AddsAtMost(f64),
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Operations per second of `op` run by `tasks` tasks for `time`.
async fn throughput<F, Fut>(tasks: usize, time: Duration, op: F) -> f64
where
    F: Fn(u32) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                let mut i = t as u32;
                while start.elapsed() < time {
                    op(i % 1000).await;
                    i = i.wrapping_add(tasks as u32);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.await.expect("benchmark task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Median latency in microseconds of `op`, run back to back `n` times.
async fn latency<F, Fut>(n: usize, op: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        op().await;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    median(&samples)
}

/// Runs the comparisons and returns the markdown table.
pub async fn run(client: &Client, rounds: usize, measure: Duration, quick: bool) -> Result<String> {
    let users = client.repository::<HashUser>();
    let jusers = client.repository::<JsonUser>();
    users.migrate().await?;
    jusers.migrate().await?;
    users
        .save_all(&(0..1000).map(hash_user).collect::<Vec<_>>())
        .await?;
    jusers
        .save_all(&(0..1000).map(json_user).collect::<Vec<_>>())
        .await?;
    let bulk = if quick { 20_000 } else { 100_000 };

    let mut get_hash = Row {
        name: "typed `get`, 10-field hash, 10 tasks (ops/s) vs `HGETALL`",
        typed: vec![],
        raw: vec![],
        target: Target::AtLeast(0.90),
    };
    let mut get_json = Row {
        name: "typed `get`, JSON model, 10 tasks (ops/s) vs `JSON.GET`",
        typed: vec![],
        raw: vec![],
        target: Target::AtLeast(0.90),
    };
    let mut save_all = Row {
        name: "`save_all` of 100,000 models (models/s) vs pipelined `HSET`",
        typed: vec![],
        raw: vec![],
        target: Target::AtLeast(0.80),
    };
    let mut find = Row {
        name: "`find`, 10 hits (µs per query, median) vs `FT.SEARCH`",
        typed: vec![],
        raw: vec![],
        target: Target::AddsAtMost(0.05),
    };
    let f = HashUser::fields();
    let query_text = (f.city.eq("Paris") & f.age.between(20, 40))
        .to_query()
        .expect("a valid query");

    let (mut typed_saves, mut raw_saves) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let u = users.clone();
        get_hash.typed.push(
            throughput(10, measure, move |i| {
                let u = u.clone();
                async move {
                    u.get(i).await.expect("get").expect("present");
                }
            })
            .await,
        );
        let c = client.clone();
        get_hash.raw.push(
            throughput(10, measure, move |i| {
                let c = c.clone();
                async move {
                    c.send::<Value>(cmd("HGETALL").arg(format!("bench:user:{i}")))
                        .await
                        .expect("HGETALL");
                }
            })
            .await,
        );

        let u = jusers.clone();
        get_json.typed.push(
            throughput(10, measure, move |i| {
                let u = u.clone();
                async move {
                    u.get(i).await.expect("get").expect("present");
                }
            })
            .await,
        );
        let c = client.clone();
        get_json.raw.push(
            throughput(10, measure, move |i| {
                let c = c.clone();
                async move {
                    c.send::<Value>(cmd("JSON.GET").arg(format!("bench:juser:{i}")))
                        .await
                        .expect("JSON.GET");
                }
            })
            .await,
        );

        // Fresh keys for both sides every round (creating a document costs the index more than
        // replacing one), and the side that goes first alternates.
        let fresh = |side: &str| -> Vec<HashUser> {
            (0..bulk)
                .map(|i| HashUser {
                    id: format!("{side}{}-{i}", typed_saves.len()),
                    ..hash_user(i)
                })
                .collect()
        };
        let (typed_models, raw_models) = (fresh("t"), fresh("r"));
        for side in if typed_saves.len() % 2 == 0 {
            [0, 1]
        } else {
            [1, 0]
        } {
            let t = Instant::now();
            if side == 0 {
                users.save_all(&typed_models).await?;
                typed_saves.push(f64::from(bulk) / t.elapsed().as_secs_f64());
            } else {
                raw_save(client, &raw_models).await?;
                raw_saves.push(f64::from(bulk) / t.elapsed().as_secs_f64());
            }
        }

        let n = if quick { 200 } else { 1000 };
        find.typed.push(
            latency(n, || async {
                let hits = users
                    .find(f.city.eq("Paris") & f.age.between(20, 40))
                    .limit(0, 10)
                    .all()
                    .await
                    .expect("find");
                assert_eq!(hits.len(), 10);
            })
            .await,
        );
        find.raw.push(
            latency(n, || async {
                client
                    .send::<Value>(
                        cmd("FT.SEARCH")
                            .arg("bench-user-idx")
                            .arg(&query_text)
                            .arg("LIMIT")
                            .arg(0)
                            .arg(10)
                            .arg("DIALECT")
                            .arg(2),
                    )
                    .await
                    .expect("FT.SEARCH");
            })
            .await,
        );
    }

    save_all.typed = typed_saves;
    save_all.raw = raw_saves;
    let mut out = String::from(
        "| typed operation vs raw command | typed | raw | ratio | target | met |\n|---|---:|---:|---:|---:|:-:|\n",
    );
    for row in [&get_hash, &get_json, &save_all, &find] {
        let (typed, raw) = (median(&row.typed), median(&row.raw));
        let (ratio, target, met) = match row.target {
            Target::AtLeast(t) => (
                format!("{:.2}", typed / raw),
                format!("≥ {t:.2}"),
                typed / raw >= t,
            ),
            Target::AddsAtMost(t) => {
                let added = typed / raw - 1.0;
                (
                    format!("{:+.1}%", added * 100.0),
                    format!("≤ +{:.0}%", t * 100.0),
                    added <= t,
                )
            }
        };
        out.push_str(&format!(
            "| {} | {:.0} | {:.0} | {ratio} | {target} | {} |\n",
            row.name,
            typed,
            raw,
            if met { "yes" } else { "no" }
        ));
    }
    Ok(out)
}

/// The same fields the typed save writes, encoded by hand, in pipelines of 1,000, three in
/// flight at a time as `save_all` keeps them: what is left between the two is the typed layer.
async fn raw_save(client: &Client, models: &[HashUser]) -> Result<()> {
    for group in models.chunks(3000) {
        let mut tasks = Vec::new();
        for chunk in group.chunks(1000) {
            let mut p = Pipeline::new();
            for m in chunk {
                p.add(
                    cmd("HSET")
                        .arg(format!("bench:user:{}", m.id))
                        .arg(("id", &m.id))
                        .arg(("name", &m.name))
                        .arg(("city", &m.city))
                        .arg(("age", m.age.to_string()))
                        .arg(("skills", m.skills.join("\u{1f}")))
                        .arg(("email", &m.email))
                        .arg(("score", format!("{:?}", m.score)))
                        .arg(("active", m.active.to_string()))
                        .arg(("visits", m.visits.to_string()))
                        .arg(("bio", m.bio.as_deref().unwrap_or(""))),
                );
            }
            let client = client.clone();
            tasks.push(tokio::spawn(async move { client.pipeline(p).await }));
        }
        for t in tasks {
            for r in t.await.expect("pipeline task")? {
                r?;
            }
        }
    }
    Ok(())
}
