//! The server's own limit: `redis-benchmark`, the C client shipped with Redis, against the same
//! server.

use std::path::Path;
use std::process::Command;

/// One `redis-benchmark` run.
#[derive(Clone, Debug)]
pub struct Ceiling {
    /// The command line after the program name.
    pub args: String,
    pub ops_per_sec: f64,
    /// Its reported median latency, in milliseconds.
    pub p50_ms: Option<f64>,
}

/// Runs `redis-benchmark -h host -p port -c 10 -d 1024 -t get -n requests -q`, with
/// `-P pipeline` when `pipeline > 1`. `None`, with a note on stderr, when it cannot be run or
/// its output is not understood.
pub fn run(dir: &Path, host: &str, port: u16, requests: u32, pipeline: u32) -> Option<Ceiling> {
    let mut args: Vec<String> = [
        "-h",
        host,
        "-p",
        &port.to_string(),
        "-c",
        "10",
        "-d",
        "1024",
        "-t",
        "get",
        "-n",
        &requests.to_string(),
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if pipeline > 1 {
        args.extend(["-P".to_owned(), pipeline.to_string()]);
    }
    let output = Command::new(dir.join("bin/redis-benchmark"))
        .args(&args)
        .env("LD_LIBRARY_PATH", dir.join("lib"))
        .output();
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!(
                "redis-benchmark failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("redis-benchmark could not run: {e}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    match parse(&text) {
        Some((ops_per_sec, p50_ms)) => Some(Ceiling {
            args: args.join(" "),
            ops_per_sec,
            p50_ms,
        }),
        None => {
            eprintln!("redis-benchmark output not understood: {text:?}");
            None
        }
    }
}

/// Reads `GET: 85106.38 requests per second, p50=0.087 msec` from `-q` output, whose progress
/// lines end in `\r` and precede the final one.
fn parse(text: &str) -> Option<(f64, Option<f64>)> {
    let line = text
        .split(['\r', '\n'])
        .rfind(|l| l.contains("requests per second"))?;
    let (before, after) = line.split_once("requests per second")?;
    let ops = before.rsplit(':').next()?.trim().parse().ok()?;
    let p50 = after
        .split_once("p50=")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok());
    Some((ops, p50))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quiet_output() {
        let out = "GET: rps=0.0 (overall: nan) avg_msec=nan (overall: nan)\r\
                   GET: 85106.38 requests per second, p50=0.087 msec                    \n\n";
        assert_eq!(parse(out), Some((85106.38, Some(0.087))));
        assert_eq!(
            parse("GET: 1000.00 requests per second\n"),
            Some((1000.0, None))
        );
        assert_eq!(parse("nothing"), None);
    }
}
