//! The workloads, and running one of them on one client for a fixed time: a *cell*.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::clients::{BenchResult, Ops, Subject, TaskBody};

/// Keys the GET workloads read (preloaded) and the SET workloads write.
pub const KEYS: usize = 100;
/// Size of every value written or read.
pub const VALUE_SIZE: usize = 1024;
/// Commands in one pipeline of [`Workload::Pipeline`].
pub const PIPELINE_LEN: usize = 10;

/// What the tasks of a cell do, and how many tasks there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `GET` of a 1 KiB value.
    Get { tasks: usize },
    /// `SET` of a 1 KiB value.
    Set { tasks: usize },
    /// A pipeline of 5 `SET`s and 5 `GET`s, alternating, 1 KiB values.
    Pipeline { tasks: usize },
}

/// The workloads of a run, in table order.
pub const ALL: [Workload; 6] = [
    Workload::Get { tasks: 1 },
    Workload::Get { tasks: 10 },
    Workload::Set { tasks: 10 },
    Workload::Pipeline { tasks: 10 },
    Workload::Get { tasks: 100 },
    Workload::Get { tasks: 1000 },
];

impl Workload {
    /// Its name in the tables.
    pub fn label(self) -> String {
        match self {
            Workload::Get { tasks: 1 } => "GET 1 KiB, 1 task".to_owned(),
            Workload::Get { tasks } => format!("GET 1 KiB, {tasks} tasks"),
            Workload::Set { tasks } => format!("SET 1 KiB, {tasks} tasks"),
            Workload::Pipeline { tasks } => {
                format!("pipeline of {PIPELINE_LEN} (SET/GET), {tasks} tasks")
            }
        }
    }

    /// Concurrent tasks.
    pub fn tasks(self) -> usize {
        match self {
            Workload::Get { tasks } | Workload::Set { tasks } | Workload::Pipeline { tasks } => {
                tasks
            }
        }
    }
}

/// The keys and the value, built once.
pub struct Data {
    pub get_keys: Vec<String>,
    pub set_keys: Vec<String>,
    pub value: Bytes,
}

impl Data {
    pub fn new() -> Self {
        Data {
            get_keys: (0..KEYS).map(|i| format!("bench:get:{i}")).collect(),
            set_keys: (0..KEYS).map(|i| format!("bench:set:{i}")).collect(),
            value: Bytes::from(
                (0..VALUE_SIZE)
                    .map(|i| b'a' + (i % 26) as u8)
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

/// What one cell measured.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Operations (pipelines, for [`Workload::Pipeline`]) per second.
    pub ops_per_sec: f64,
    /// Median latency of one operation.
    pub p50: Duration,
    /// 99th percentile latency of one operation.
    pub p99: Duration,
    /// Operations that failed; they count neither as operations nor in the latencies.
    pub errors: usize,
    /// The first error's message.
    pub first_error: Option<String>,
    /// CPU time this process (clients and benchmark loop) spent per operation, over the whole
    /// cell, warm-up included. Unlike ops/s, it hardly moves when other programs share the CPU.
    pub client_cpu: Option<Duration>,
    /// CPU time the server spent per operation, when its process id is known.
    pub server_cpu: Option<Duration>,
}

/// Runs `workload` on `subject`: its tasks start together, run `warmup` unmeasured, then
/// `measure`. An operation counts when it started after the warm-up and ended before the end,
/// so ops/s is the rate in the measured window.
pub async fn run_cell(
    subject: &Subject,
    workload: Workload,
    data: &Arc<Data>,
    warmup: Duration,
    measure: Duration,
    server_pid: Option<u32>,
) -> Sample {
    let cpu_before = (cpu_time(None), server_pid.and_then(|p| cpu_time(Some(p))));
    let begin = Instant::now();
    let measured_from = begin + warmup;
    let until = measured_from + measure;
    let tasks: Vec<_> = (0..workload.tasks())
        .map(|task| {
            subject.spawn(
                task,
                CellTask {
                    task,
                    workload,
                    data: data.clone(),
                    measured_from,
                    until,
                },
            )
        })
        .collect();

    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    let mut all_ops = 0u64;
    for task in tasks {
        let TaskOutcome {
            latencies: l,
            errors: e,
            first_error: f,
            all_ops: n,
        } = task.await.expect("benchmark task panicked");
        latencies.extend(l);
        errors += e;
        first_error = first_error.or(f);
        all_ops += n;
    }
    let cpu_after = (cpu_time(None), server_pid.and_then(|p| cpu_time(Some(p))));
    let per_op = |before: Option<Duration>, after: Option<Duration>| {
        Some(after?.saturating_sub(before?) / u32::try_from(all_ops.max(1)).unwrap_or(u32::MAX))
    };
    latencies.sort_unstable();
    Sample {
        ops_per_sec: latencies.len() as f64 / measure.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        errors,
        first_error,
        client_cpu: per_op(cpu_before.0, cpu_after.0),
        server_cpu: per_op(cpu_before.1, cpu_after.1),
    }
}

/// CPU time the threads of process `pid` (this one for `None`) have run so far, in
/// nanoseconds, summed from `/proc/PID/task/*/schedstat` (whose first field is the time a thread
/// spent on a CPU). Unlike `/proc/PID/stat`, whose ticks are 10 ms, it resolves the fraction of a
/// microsecond one operation costs. Threads that ended are no longer counted; the runtime's
/// workers and the server's threads live through a cell.
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}/task"),
        None => "/proc/self/task".to_owned(),
    };
    let mut total = 0u64;
    for task in std::fs::read_dir(dir).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// One task of a cell.
struct CellTask {
    task: usize,
    workload: Workload,
    data: Arc<Data>,
    measured_from: Instant,
    until: Instant,
}

/// What one task of a cell saw.
struct TaskOutcome {
    /// Nanoseconds, of the operations in the measured window.
    latencies: Vec<u64>,
    errors: usize,
    first_error: Option<String>,
    /// Operations done, warm-up and failures included.
    all_ops: u64,
}

impl TaskBody for CellTask {
    type Output = TaskOutcome;

    async fn run<H: Ops>(self, mut handle: H) -> TaskOutcome {
        let CellTask {
            task,
            workload,
            data,
            measured_from,
            until,
        } = self;
        let mut out = TaskOutcome {
            latencies: Vec::with_capacity(1024),
            errors: 0,
            first_error: None,
            all_ops: 0,
        };
        let mut n = task;
        loop {
            let key = n % KEYS;
            let started = Instant::now();
            let outcome: BenchResult<()> = match workload {
                Workload::Get { .. } => handle
                    .get(&data.get_keys[key])
                    .await
                    .and_then(|len| check(len, VALUE_SIZE, "GET")),
                Workload::Set { .. } => handle.set(&data.set_keys[key], &data.value).await,
                Workload::Pipeline { .. } => {
                    let half = PIPELINE_LEN / 2;
                    let at = key.min(KEYS - half);
                    handle
                        .pipeline(
                            &data.set_keys[at..at + half],
                            &data.get_keys[at..at + half],
                            &data.value,
                        )
                        .await
                        .and_then(|len| check(len, PIPELINE_LEN, "pipeline"))
                }
            };
            let ended = Instant::now();
            out.all_ops += 1;
            let counted = started >= measured_from && ended <= until;
            match outcome {
                Ok(()) if counted => out.latencies.push((ended - started).as_nanos() as u64),
                Ok(()) => {}
                Err(e) => {
                    out.errors += 1;
                    out.first_error.get_or_insert_with(|| e.to_string());
                }
            }
            if ended >= until {
                break;
            }
            n += workload.tasks();
        }
        out
    }
}

fn check(got: usize, want: usize, what: &str) -> BenchResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: expected {want}, got {got}").into())
    }
}

/// The `q` quantile of sorted nanosecond latencies.
fn percentile(sorted: &[u64], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    Duration::from_nanos(sorted[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_nanos(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_nanos(99));
        assert_eq!(percentile(&[7], 0.99), Duration::from_nanos(7));
    }

    #[test]
    fn reads_cpu_time() {
        assert!(cpu_time(None).is_some());
    }
}
