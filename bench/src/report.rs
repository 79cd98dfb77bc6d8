//! The markdown tables: medians over rounds, and redis-model's ratio to each peer.
//!
//! A ratio is the median of the round-by-round ratios, not the ratio of the medians: the
//! clients of one round ran minutes apart at most, so drift on a shared machine (another
//! program, the server's background work) cancels out of each pair.

use std::fmt::Write as _;
use std::time::Duration;

use crate::ceiling::Ceiling;
use crate::workload::{Sample, Workload};

/// The rounds' samples of one cell, summarised.
#[derive(Clone, Debug)]
pub struct Cell {
    pub ops_per_sec: f64,
    /// Ops/s of each round, in round order.
    pub per_round: Vec<f64>,
    pub min_ops: f64,
    pub max_ops: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub client_cpu: Option<Duration>,
    pub server_cpu: Option<Duration>,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl Cell {
    /// Medians of each measure, taken separately, over `samples`.
    pub fn from_samples(samples: &[Sample]) -> Option<Cell> {
        if samples.is_empty() {
            return None;
        }
        let ops: Vec<f64> = samples.iter().map(|s| s.ops_per_sec).collect();
        Some(Cell {
            ops_per_sec: median_f64(&ops),
            per_round: ops.clone(),
            min_ops: ops.iter().copied().fold(f64::INFINITY, f64::min),
            max_ops: ops.iter().copied().fold(0.0, f64::max),
            p50: median_duration(samples.iter().map(|s| s.p50).collect()),
            p99: median_duration(samples.iter().map(|s| s.p99).collect()),
            client_cpu: samples
                .iter()
                .map(|s| s.client_cpu)
                .collect::<Option<Vec<_>>>()
                .map(median_duration),
            server_cpu: samples
                .iter()
                .map(|s| s.server_cpu)
                .collect::<Option<Vec<_>>>()
                .map(median_duration),
            errors: samples.iter().map(|s| s.errors).sum(),
            first_error: samples.iter().find_map(|s| s.first_error.clone()),
        })
    }
}

/// What the server itself reaches, for comparison.
pub struct Ceilings {
    /// `-c 10`, no pipelining.
    pub plain: Option<Ceiling>,
    /// `-c 10 -P 100`: 1,000 commands in flight.
    pub pipelined: Option<Ceiling>,
}

/// The full report: the per-client table, then redis-model against the best peer.
///
/// `cells[w][c]` is workload `workloads[w]` on client `clients[c]`; `clients[0]` is redis-model.
pub fn render(
    workloads: &[Workload],
    clients: &[&str],
    cells: &[Vec<Option<Cell>>],
    ceilings: &Ceilings,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | client | ops/s (median) | ops/s (min–max) | p50 | p99 | client CPU/op | server CPU/op | redis-model ÷ client |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (w, workload) in workloads.iter().enumerate() {
        let model = cells[w][0].as_ref();
        for (c, name) in clients.iter().enumerate() {
            let Some(cell) = &cells[w][c] else { continue };
            let ratio = match (c, model) {
                (0, _) => "—".to_owned(),
                (_, Some(m)) => ratio(m, cell),
                (_, None) => "n/a".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}–{} | {} | {} | {} | {} | {} |",
                workload.label(),
                name,
                thousands(cell.ops_per_sec),
                thousands(cell.min_ops),
                thousands(cell.max_ops),
                latency(cell.p50),
                latency(cell.p99),
                cpu(cell.client_cpu),
                cpu(cell.server_cpu),
                ratio
            );
        }
    }
    for (label, ceiling) in [
        ("redis-benchmark GET, -c 10", &ceilings.plain),
        ("redis-benchmark GET, -c 10 -P 100", &ceilings.pipelined),
    ] {
        if let Some(c) = ceiling {
            let p50 = c.p50_ms.map_or("n/a".to_owned(), |ms| {
                latency(Duration::from_secs_f64(ms / 1e3))
            });
            let _ = writeln!(
                out,
                "| {label} (server limit) | redis-benchmark (C) | {} | — | {p50} | — | — | — | — |",
                thousands(c.ops_per_sec)
            );
        }
    }

    for c in [&ceilings.plain, &ceilings.pipelined].into_iter().flatten() {
        let _ = writeln!(out, "\n`redis-benchmark {}`", c.args);
    }

    if clients.len() > 1 {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| workload | redis-model ops/s | best peer | best peer ops/s | redis-model ÷ best peer | redis-model % of redis-benchmark |"
        );
        let _ = writeln!(out, "|---|---:|---|---:|---:|---:|");
        for (w, workload) in workloads.iter().enumerate() {
            let Some(model) = &cells[w][0] else { continue };
            let best = (1..clients.len())
                .filter_map(|c| cells[w][c].as_ref().map(|cell| (c, cell)))
                .max_by(|a, b| a.1.ops_per_sec.total_cmp(&b.1.ops_per_sec));
            let (best_name, best_ops, best_ratio) = match best {
                Some((c, peer)) => (
                    clients[c].to_owned(),
                    thousands(peer.ops_per_sec),
                    ratio(model, peer),
                ),
                None => ("n/a".into(), "n/a".into(), "n/a".into()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                workload.label(),
                thousands(model.ops_per_sec),
                best_name,
                best_ops,
                best_ratio,
                share_of_ceiling(*workload, model.ops_per_sec, ceilings)
            );
        }
    }

    let failures: Vec<String> = workloads
        .iter()
        .enumerate()
        .flat_map(|(w, workload)| {
            clients.iter().enumerate().filter_map(move |(c, name)| {
                let cell = cells[w][c].as_ref()?;
                (cell.errors > 0).then(|| {
                    format!(
                        "- {} / {}: {} failed operations, first: {}",
                        workload.label(),
                        name,
                        cell.errors,
                        cell.first_error.as_deref().unwrap_or("?")
                    )
                })
            })
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nErrors (not counted as operations):");
        for f in failures {
            let _ = writeln!(out, "{f}");
        }
    }
    out
}

/// redis-model against the `redis-benchmark` run with the same number of GETs in flight:
/// 10 tasks against `-c 10`, 100 and 1,000 tasks against `-c 10 -P 100` (1,000 in flight, the
/// most the server does).
fn share_of_ceiling(workload: Workload, ops: f64, ceilings: &Ceilings) -> String {
    let (ceiling, flag) = match workload {
        Workload::Get { tasks: 10 } => (&ceilings.plain, "-c 10"),
        Workload::Get { tasks } if tasks >= 100 => (&ceilings.pipelined, "-P 100"),
        _ => return "—".into(),
    };
    match ceiling {
        Some(c) => format!("{:.0}% of {flag}", 100.0 * ops / c.ops_per_sec),
        None => "n/a".into(),
    }
}

fn cpu(d: Option<Duration>) -> String {
    d.map_or("n/a".into(), |d| format!("{:.2} µs", d.as_secs_f64() * 1e6))
}

fn ratio(model: &Cell, peer: &Cell) -> String {
    paired_ratio(&model.per_round, &peer.per_round).map_or("n/a".into(), |r| format!("{r:.2}×"))
}

/// `a[i] / b[i]`, round by round, over the rounds where both sides measured something.
pub fn paired_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .filter(|(x, y)| **x > 0.0 && **y > 0.0)
        .map(|(x, y)| x / y)
        .collect()
}

/// The median of [`paired_ratios`].
pub fn paired_ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    let ratios = paired_ratios(a, b);
    (!ratios.is_empty()).then(|| median_f64(&ratios))
}

fn latency(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

/// `1234567.8` as `1,234,568`.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

pub fn median_f64(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn median_duration(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(latency(Duration::from_micros(87)), "87 µs");
        assert_eq!(latency(Duration::from_micros(1500)), "1.50 ms");
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f64(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        // Per round 2.0, 0.5, 1.0: the median ratio, not the ratio of medians (1.25).
        assert_eq!(paired_ratio(&[2.0, 1.0, 5.0], &[1.0, 2.0, 5.0]), Some(1.0));
        assert_eq!(paired_ratio(&[1.0], &[0.0]), None);
    }
}
