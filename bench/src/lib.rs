//! Benchmark harness for the functions, measured the way Lambda runs them: a real release binary
//! started by a Lambda Runtime API stand-in, against local stand-ins (moto, the Suomi.fi sandbox,
//! local TLS endpoints). `tools/bench.sh` builds everything and runs `bench-runner`, which prints
//! a Markdown table and writes the results into `BENCHMARKS.md`.
//!
//! The Runtime API stand-in is the integration tests' own
//! ([`integration_tests::runtime`]), which also records *when* the process first asked for work
//! (`GET /invocation/next`) — the end of a cold start as Lambda sees it. This library holds what
//! only the benchmarks need:
//! - [`start_api`]: that stand-in with the benchmark's settings ([`api_settings`]: a 15-minute
//!   deadline);
//! - [`Process`]: a function process, with its peak resident memory ([`Process::peak_rss_kib`],
//!   from `VmHWM` in `/proc/<pid>/status`, read while the process is still alive) and its CPU
//!   time;
//! - [`Stats`]: medians of repeated runs.

use integration_tests::runtime::{ApiSettings, FunctionProcess, Launch, Output, RuntimeApi};
use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, Instant};

/// The Runtime API settings of a benchmark: function `bench`, 15 minutes per invocation (Lambda's
/// longest, so that even the largest backlog scan is not cut short).
pub fn api_settings() -> ApiSettings {
    ApiSettings::for_function("bench", Duration::from_secs(900))
}

/// A Runtime API stand-in with the benchmark's [`api_settings`].
pub async fn start_api() -> std::io::Result<RuntimeApi> {
    RuntimeApi::start_with(api_settings()).await
}

/// A function process started as Lambda starts one, with its resource use.
pub struct Process {
    inner: FunctionProcess,
    /// When `spawn` was called: the start of the cold start.
    pub spawned_at: Instant,
}

impl Process {
    /// Starts `binary` with the variables Lambda sets plus `env` (function `bench`, Lambda's
    /// default log level). Its output goes to `log` (appended), so that a failing benchmark can
    /// be diagnosed and nothing slows it down.
    pub fn spawn(
        binary: &FsPath,
        api: &RuntimeApi,
        env: &[(String, String)],
        log: &FsPath,
    ) -> std::io::Result<Process> {
        let launch = Launch {
            function_name: "bench".into(),
            log_stream: "bench".into(),
            log_level: None,
            env: env.to_vec(),
        };
        let inner = FunctionProcess::spawn(binary, api, &launch, &Output::AppendTo(log.into()))?;
        let spawned_at = inner.spawned_at;
        Ok(Process { inner, spawned_at })
    }

    /// Peak resident set size so far, in KiB (`VmHWM`). `None` once the process has exited.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.inner.id().and_then(peak_rss_kib)
    }

    /// CPU time used so far, in milliseconds ([`cpu_time_ms`]).
    pub fn cpu_ms(&self) -> Option<f64> {
        self.inner.id().and_then(cpu_time_ms)
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub async fn kill(mut self) {
        self.inner.kill().await;
    }
}

/// CPU time used so far by every thread of a live process, in milliseconds (the first field of
/// `/proc/<pid>/task/<tid>/schedstat`, nanoseconds on the CPU). Unlike wall-clock time it does
/// not grow when other work on a shared machine makes the process wait for a core.
///
/// A thread may exit between listing the tasks and reading its file: such a thread is left out
/// of the sum rather than failing the whole reading. `None` when the process itself is gone or
/// no thread could be read.
pub fn cpu_time_ms(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns = 0u64;
    let mut read_any = false;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue; // the thread exited meanwhile
        };
        if let Some(v) = stat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
        {
            ns += v;
            read_any = true;
        }
    }
    read_any.then(|| ns as f64 / 1e6)
}

/// `VmHWM` of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Summary of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// How many.
    pub n: usize,
}

impl Stats {
    /// `None` for no samples.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let mid = s.len() / 2;
        let median = if s.len() % 2 == 1 {
            s[mid]
        } else {
            (s[mid - 1] + s[mid]) / 2.0
        };
        Some(Stats {
            median,
            min: s[0],
            max: s[s.len() - 1],
            n: s.len(),
        })
    }
}

/// Where the release binaries are: `$BENCH_BIN_DIR`, else `<workspace>/target/release`.
pub fn release_dir() -> PathBuf {
    std::env::var_os("BENCH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| integration_tests::workspace_root().join("target/release"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn cpu_time_of_this_process_is_readable() {
        // Other tests' threads start and exit while this one reads: the reading must survive it.
        let workers: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| std::hint::black_box((0..200_000u64).sum::<u64>())))
            .collect();
        let ms = cpu_time_ms(std::process::id()).expect("schedstat of self");
        for w in workers {
            w.join().unwrap();
        }
        assert!(ms > 0.0, "{ms}");
    }

    #[test]
    fn cpu_time_of_a_missing_process_is_none() {
        assert_eq!(cpu_time_ms(u32::MAX), None);
    }

    #[test]
    fn peak_rss_of_this_process_is_readable() {
        let kib = peak_rss_kib(std::process::id()).expect("VmHWM of self");
        assert!(kib > 100, "{kib}");
    }
}
