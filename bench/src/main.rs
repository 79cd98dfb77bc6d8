//! Benchmarks redis-model's [`Client`](redis_model::Client) against redis-rs and fred, in one
//! process, against one server, and prints markdown tables with ratios.
//!
//! ```text
//! cargo run --release -p redis-model-bench [-- --quick]
//! ```
//!
//! # Layout
//! | module | what it holds |
//! |---|---|
//! | `clients` | the clients under test behind one enum, and `GET`, `SET`, pipeline on each |
//! | `workload` | the workloads, and running one on one client for a fixed time (a *cell*) |
//! | `ceiling` | `redis-benchmark` against the same server: the server's own limit |
//! | `report` | medians over rounds, the tables, the ratios |
//! | `models` | the typed layer against the raw commands it compiles to |
//!
//! # Method
//! A server is started on a free loopback port (or `REDIS_URL` is used). Every client connects
//! once. Each round runs every workload on every client in turn, the client order rotating from
//! round to round so that none always runs first or last after another; a cell runs a short
//! unmeasured warm-up, then a fixed measured time. The tables give, per cell, the median over
//! rounds of ops/s, of p50 and of p99 latency (per operation; per pipeline for the pipeline
//! workload), and the spread of ops/s. The benchmark, the clients and the server share one
//! machine: the numbers compare clients with each other, not with a networked deployment.

mod ceiling;
mod clients;
mod models;
mod report;
mod workload;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_model::prelude::StringCommands;
use redis_model::ServerAddr;

use clients::{BenchResult, Subject, NAMES};
use report::{Ceilings, Cell};
use workload::{Data, Workload};

const USAGE: &str = "\
usage: redis-model-bench [--quick] [--rounds N] [--seconds S] [--clients LIST] [--workloads LIST]
                         [--no-ceiling] [--no-models]

  --quick           one round of 0.4 s per cell (default: 3 rounds of 1.5 s, after 0.3 s warm-up)
  --rounds N        rounds over every workload and client
  --seconds S       measured seconds per cell and round
  --clients LIST    comma-separated, from: model, redis-mux, redis-10, fred, fred-pool
                    (redis-model always runs: the ratios are to it)
  --workloads LIST  comma-separated, from: get1, get10, set10, pipe10, get100, get1000
  --no-ceiling      skip redis-benchmark
  --no-models       skip the typed-model comparisons (they need RediSearch and RedisJSON)

REDIS_URL, when set, names the server to use instead of starting one (keys bench:* and
key:__rand_int__ are written).";

/// Short names for `--clients`, in the order of [`NAMES`].
const CLIENT_FLAGS: [&str; 5] = ["model", "redis-mux", "redis-10", "fred", "fred-pool"];
/// Short names for `--workloads`, in the order of [`workload::ALL`].
const WORKLOAD_FLAGS: [&str; 6] = ["get1", "get10", "set10", "pipe10", "get100", "get1000"];

struct Options {
    rounds: usize,
    warmup: Duration,
    measure: Duration,
    clients: Vec<&'static str>,
    workloads: Vec<Workload>,
    ceiling: bool,
    ceiling_requests: u32,
    models: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            rounds: 3,
            warmup: Duration::from_millis(300),
            measure: Duration::from_millis(1500),
            clients: NAMES.to_vec(),
            workloads: workload::ALL.to_vec(),
            ceiling: true,
            models: true,
            ceiling_requests: 200_000,
        };
        let value = |args: &mut dyn Iterator<Item = String>, flag: &str| {
            args.next().ok_or_else(|| format!("{flag} needs a value"))
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => {
                    o.rounds = 1;
                    o.warmup = Duration::from_millis(100);
                    o.measure = Duration::from_millis(400);
                    o.ceiling_requests = 50_000;
                }
                "--rounds" => {
                    o.rounds = value(&mut args, "--rounds")?
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("--rounds: expected a positive number")?
                }
                "--seconds" => {
                    let s: f64 = value(&mut args, "--seconds")?
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0 && s.is_finite())
                        .ok_or("--seconds: expected a positive number")?;
                    o.measure = Duration::from_secs_f64(s);
                }
                "--clients" => {
                    let list = value(&mut args, "--clients")?;
                    o.clients = pick(&list, &CLIENT_FLAGS, &NAMES, "--clients")?;
                    if o.clients.first() != Some(&NAMES[0]) {
                        o.clients.insert(0, NAMES[0]);
                    }
                }
                "--workloads" => {
                    let list = value(&mut args, "--workloads")?;
                    o.workloads = pick(&list, &WORKLOAD_FLAGS, &workload::ALL, "--workloads")?;
                }
                "--no-ceiling" => o.ceiling = false,
                "--no-models" => o.models = false,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(o)
    }
}

/// The items of `all` whose flags `list` names, in `all`'s order.
fn pick<T: Copy>(list: &str, flags: &[&str], all: &[T], what: &str) -> Result<Vec<T>, String> {
    let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
    if let Some(bad) = wanted.iter().find(|w| !flags.contains(w)) {
        return Err(format!(
            "{what}: unknown `{bad}` (known: {})",
            flags.join(", ")
        ));
    }
    Ok(flags
        .iter()
        .zip(all)
        .filter(|(f, _)| wanted.contains(f))
        .map(|(_, t)| *t)
        .collect())
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> BenchResult<()> {
    // Kept alive until the end of the run: dropping it kills the server.
    let mut _server = None;
    let mut server_pid = None;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            // With RediSearch and RedisJSON, for the typed-model comparisons.
            let server = redis_model_tests::RedisServer::start_stack();
            let url = server.url();
            server_pid = Some(server.pid());
            _server = Some(server);
            url
        }
    };
    let started = Instant::now();
    let data = Arc::new(Data::new());
    preload(&url, &data).await?;

    let ceilings = if options.ceiling {
        measure_ceilings(&url, options.ceiling_requests)?
    } else {
        Ceilings {
            plain: None,
            pipelined: None,
        }
    };

    let mut subjects = Vec::new();
    for name in &options.clients {
        subjects.push(Subject::connect(name, &url).await?);
    }

    // samples[w][c]: one per round.
    let mut samples = vec![vec![Vec::new(); subjects.len()]; options.workloads.len()];
    for round in 0..options.rounds {
        for (w, workload) in options.workloads.iter().enumerate() {
            for i in 0..subjects.len() {
                let c = (i + round) % subjects.len();
                let sample = workload::run_cell(
                    &subjects[c],
                    *workload,
                    &data,
                    options.warmup,
                    options.measure,
                    server_pid,
                )
                .await;
                eprintln!(
                    "round {}/{} | {:<36} | {:<13} | {:>9.0} ops/s  p50 {:>8.1?}  p99 {:>8.1?}  \
                     cpu/op {:>6.1?} client {:>6.1?} server{}",
                    round + 1,
                    options.rounds,
                    workload.label(),
                    options.clients[c],
                    sample.ops_per_sec,
                    sample.p50,
                    sample.p99,
                    sample.client_cpu.unwrap_or_default(),
                    sample.server_cpu.unwrap_or_default(),
                    if sample.errors > 0 {
                        format!("  ({} errors)", sample.errors)
                    } else {
                        String::new()
                    }
                );
                samples[w][c].push(sample);
            }
        }
    }
    for subject in subjects {
        subject.close().await;
    }

    let cells: Vec<Vec<Option<Cell>>> = samples
        .iter()
        .map(|row| row.iter().map(|s| Cell::from_samples(s)).collect())
        .collect();
    println!("{}", machine_summary(&options, &url));
    println!(
        "{}",
        report::render(&options.workloads, &options.clients, &cells, &ceilings)
    );
    if options.models {
        let client = redis_model::Client::connect(&url).await?;
        let quick = options.measure < Duration::from_secs(1);
        let table = models::run(&client, options.rounds, options.measure, quick).await?;
        println!("\nThe typed layer against the raw commands, through the same client:\n\n{table}");
    }
    println!("Total run time: {:.0} s.", started.elapsed().as_secs_f64());
    Ok(())
}

/// Writes the keys the GET workloads read, and the key `redis-benchmark -t get` reads (it does
/// not write it), so every GET returns 1 KiB.
async fn preload(url: &str, data: &Data) -> BenchResult<()> {
    let client = redis_model::Client::connect(url).await?;
    for key in data.get_keys.iter().chain(&data.set_keys) {
        client.set(key, &data.value).await?;
    }
    client.set("key:__rand_int__", &data.value).await?;
    Ok(())
}

fn measure_ceilings(url: &str, requests: u32) -> BenchResult<Ceilings> {
    let config = redis_model::Config::from_url(url)?;
    let ServerAddr::Tcp { host, port } = &config.addr else {
        eprintln!("redis-benchmark skipped: not a TCP server");
        return Ok(Ceilings {
            plain: None,
            pipelined: None,
        });
    };
    let dir = redis_model_tests::server_dir();
    eprintln!("redis-benchmark: -c 10 -n {requests} …");
    let plain = ceiling::run(dir, host, *port, requests, 1);
    eprintln!("redis-benchmark: -c 10 -P 100 -n {} …", requests * 5);
    let pipelined = ceiling::run(dir, host, *port, requests * 5, 100);
    Ok(Ceilings { plain, pipelined })
}

fn machine_summary(options: &Options, url: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server = if std::env::var("REDIS_URL").is_ok() {
        url.to_owned()
    } else {
        format!("redis-server started on {url}")
    };
    format!(
        "\nMachine: {cores} cores, {cpu}; server: {server}; tokio multi-thread runtime with \
         {cores} workers.\n{} round(s) of {:.1} s measured per cell (after {:.1} s warm-up); \
         medians over rounds. Latency is per operation (per pipeline of {} commands for the \
         pipeline workload, whose ops/s are pipelines/s). CPU/op is user+system CPU time per \
         operation over the whole cell: of this process (client and benchmark loop) and of \
         redis-server; it is steadier than ops/s when other programs share the machine.\n",
        options.rounds,
        options.measure.as_secs_f64(),
        options.warmup.as_secs_f64(),
        workload::PIPELINE_LEN,
    )
}
