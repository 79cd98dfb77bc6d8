//! The cost of the typed layer: each typed repository operation against the raw command it
//! compiles to, sent through the same client to the same server, interleaved round by round.
//!
//! | typed | raw | target |
//! |---|---|---|
//! | `get` of a 10-field hash model, 10 tasks | `HGETALL` | ≥ 90% |
//! | `get` of a JSON model, 10 tasks | `JSON.GET` | ≥ 90% |
//! | `save_all` of 100,000 models | pipelined `HSET`, chunks of 1,000, three in flight | ≥ 80% |
//! | `find` of a 10-hit query | `FT.SEARCH`, same query | ≤ 5% added to the round trip |

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_model::prelude::*;

use crate::report::{median_f64, paired_ratios};
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

/// The get comparisons run this many rounds, each this much shorter, per round of the others.
const GET_ROUNDS_PER_ROUND: usize = 16;

/// One typed-versus-raw comparison: a sample per round on each side.
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

impl Row {
    /// Its line of the table: medians of each side, and the median and range of the paired
    /// ratios, against the target.
    fn render(&self) -> String {
        // Typed over raw, round by round: each pair ran back to back, so drift between rounds
        // (another program on the machine, the server's background work) cancels out of it.
        let ratios = paired_ratios(&self.typed, &self.raw);
        let (lo, hi) = ratios
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(*r), hi.max(*r))
            });
        let ratio = median_f64(&ratios);
        let (shown, range, target, met) = match self.target {
            Target::AtLeast(t) => (
                format!("{ratio:.2}"),
                format!("{lo:.2}–{hi:.2}"),
                format!("≥ {t:.2}"),
                ratio >= t,
            ),
            Target::AddsAtMost(t) => (
                format!("{:+.1}%", (ratio - 1.0) * 100.0),
                format!("{:+.1}% – {:+.1}%", (lo - 1.0) * 100.0, (hi - 1.0) * 100.0),
                format!("≤ +{:.0}%", t * 100.0),
                ratio - 1.0 <= t,
            ),
        };
        format!(
            "| {} | {:.0} | {:.0} | {shown} | {range} | {target} | {} |\n",
            self.name,
            median_f64(&self.typed),
            median_f64(&self.raw),
            if met { "yes" } else { "no" }
        )
    }
}

/// Operations per second of `op` run by `tasks` tasks for `time`.
async fn throughput<F, Fut>(tasks: usize, time: Duration, op: F) -> f64
where
    F: Fn(u32) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
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

/// Median latencies in microseconds of `a` and `b`, run `n` times each, taking turns (and
/// turns at going first), so that both see the same moments of a noisy machine.
async fn latencies<A, B, FA, FB>(n: usize, a: A, b: B) -> Result<[f64; 2]>
where
    A: Fn() -> FA,
    B: Fn() -> FB,
    FA: Future<Output = Result<()>>,
    FB: Future<Output = Result<()>>,
{
    let mut samples = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for i in 0..n {
        for side in if i % 2 == 0 { [0, 1] } else { [1, 0] } {
            let t = Instant::now();
            if side == 0 {
                a().await?;
            } else {
                b().await?;
            }
            samples[side].push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(samples.map(|s| median_f64(&s)))
}

/// Runs `rounds` rounds of `typed` and `raw`, alternating which goes first, and returns each
/// side's samples. Each comparison runs all its rounds before the next begins, so that what one
/// leaves behind (the index work after a bulk write) cannot land on another's typed side only.
async fn compare<T, R, FT, FR>(rounds: usize, mut typed: T, mut raw: R) -> Result<[Vec<f64>; 2]>
where
    T: FnMut(usize) -> FT,
    R: FnMut(usize) -> FR,
    FT: Future<Output = Result<f64>>,
    FR: Future<Output = Result<f64>>,
{
    let mut out = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let sample = if side == 0 {
                typed(round).await?
            } else {
                raw(round).await?
            };
            out[side].push(sample);
        }
    }
    Ok(out)
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
    // Ten tasks waiting on round trips are at the mercy of the scheduler on a small machine:
    // the gets run in more, shorter rounds, so that more pairs average the noise out.
    let (get_rounds, get_time) = (
        rounds * GET_ROUNDS_PER_ROUND,
        measure / GET_ROUNDS_PER_ROUND as u32,
    );

    let [typed, raw] = compare_gets(client, &users, "HGETALL", get_rounds, get_time).await?;
    let get_hash = Row {
        name: "typed `get`, 10-field hash, 10 tasks (ops/s) vs `HGETALL`",
        typed,
        raw,
        target: Target::AtLeast(0.90),
    };

    let [typed, raw] = compare_gets(client, &jusers, "JSON.GET", get_rounds, get_time).await?;
    let get_json = Row {
        name: "typed `get`, JSON model, 10 tasks (ops/s) vs `JSON.GET`",
        typed,
        raw,
        target: Target::AtLeast(0.90),
    };

    let f = HashUser::fields();
    let query_text = (f.city.eq("Paris") & f.age.between(20, 40))
        .to_query()
        .expect("a valid query")
        .expect("a query that matches something");
    let n = if quick { 200 } else { 1000 };
    let mut typed = Vec::with_capacity(rounds);
    let mut raw = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let [t, r] = latencies(
            n,
            || async {
                let hits = users
                    .find(f.city.eq("Paris") & f.age.between(20, 40))
                    .limit(0, 10)
                    .all()
                    .await?;
                assert_eq!(hits.len(), 10);
                Ok(())
            },
            || async {
                client
                    .send::<Value>(
                        // What the typed query sends: tag values as parameters, and an
                        // unranked query scored alike so it comes back in index order.
                        cmd("FT.SEARCH")
                            .arg("bench-user-idx")
                            .arg(&query_text.query)
                            .arg("SCORER")
                            .arg("DOCSCORE")
                            .arg("LIMIT")
                            .arg(0)
                            .arg(10)
                            .arg("PARAMS")
                            .arg(query_text.params.len() * 2)
                            .arg(&query_text.params[..])
                            .arg("DIALECT")
                            .arg(2),
                    )
                    .await
                    .map(drop)
            },
        )
        .await?;
        typed.push(t);
        raw.push(r);
    }
    let find = Row {
        name: "`find`, 10 hits (µs per query, median) vs `FT.SEARCH`",
        typed,
        raw,
        target: Target::AddsAtMost(0.05),
    };

    // Last, as it leaves the most work behind. Fresh keys for both sides every round (creating
    // a document costs the index more than replacing one).
    let fresh = |side: &str, round: usize| -> Vec<HashUser> {
        (0..bulk)
            .map(|i| HashUser {
                id: format!("{side}{round}-{i}"),
                ..hash_user(i)
            })
            .collect()
    };
    let per_sec = |t: Instant| f64::from(bulk) / t.elapsed().as_secs_f64();
    let [typed, raw] = compare(
        rounds,
        |round| {
            let models = fresh("t", round);
            let users = &users;
            async move {
                let t = Instant::now();
                users.save_all(&models).await?;
                Ok(per_sec(t))
            }
        },
        |round| {
            let models = fresh("r", round);
            async move {
                let t = Instant::now();
                raw_save(client, &models).await?;
                Ok(per_sec(t))
            }
        },
    )
    .await?;
    let save_all = Row {
        name: "`save_all` of 100,000 models (models/s) vs pipelined `HSET`",
        typed,
        raw,
        target: Target::AtLeast(0.80),
    };

    let mut out = String::from(
        "| typed operation vs raw command | typed | raw | ratio | ratio range | target | met |\n\
         |---|---:|---:|---:|---:|---:|:-:|\n",
    );
    for row in [&get_hash, &get_json, &find, &save_all] {
        out.push_str(&row.render());
    }
    Ok(out)
}

/// Ops/s of typed `get`s of ids `0..1000` by 10 tasks for `measure`.
async fn typed_get<M>(repo: &Repository<M>, measure: Duration) -> Result<f64>
where
    M: RedisModel + Send + Sync + 'static,
{
    let repo = repo.clone();
    Ok(throughput(10, measure, move |i| {
        let repo = repo.clone();
        async move {
            repo.get(i).await.expect("get").expect("present");
        }
    })
    .await)
}

/// Ops/s of the raw read `command` of the same keys as [`typed_get`], through `client`.
async fn raw_get<M>(
    client: &Client,
    repo: &Repository<M>,
    command: &'static str,
    measure: Duration,
) -> Result<f64>
where
    M: RedisModel + Send + Sync + 'static,
{
    let c = client.clone();
    let repo = repo.clone();
    Ok(throughput(10, measure, move |i| {
        let c = c.clone();
        let key = repo.key(i);
        async move {
            c.send::<Value>(cmd(command).arg(key)).await.expect(command);
        }
    })
    .await)
}

/// Typed `get`s against the raw read `command` they compile to, in `rounds` paired rounds of
/// `time` each.
async fn compare_gets<M>(
    client: &Client,
    repo: &Repository<M>,
    command: &'static str,
    rounds: usize,
    time: Duration,
) -> Result<[Vec<f64>; 2]>
where
    M: RedisModel + Send + Sync + 'static,
{
    compare(
        rounds,
        |_| typed_get(repo, time),
        |_| raw_get(client, repo, command, time),
    )
    .await
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
