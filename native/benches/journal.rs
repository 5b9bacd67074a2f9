//! Journal benchmarks, no harness: `cargo bench --bench journal`.
//!
//! 1. Process-crash mode (never sync): per-append latency of a 64-byte
//!    payload, cycle counter, every append of a run that rolls over several
//!    64 MiB segments, flat out and paced at 1 M appends/s (a roll waits for
//!    the preparation thread only when appends outrun it); then throughput
//!    in a run without the per-append clock.
//! 2. Group commit: batches of 1000 appends, each followed by a real
//!    `msync(MS_SYNC)`, sustained for at least 2 seconds.
//!
//! Targets (as `bench/journal_bench.ts` checks them): append p50 <= 50 ns,
//! p99 <= 500 ns; group commit >= 1 M records/s. The directory is under
//! `TC_JOURNAL_BENCH_DIR` if set, else the system temp dir; the figures mean
//! little without the filesystem and device printed with them.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tradecaptain_native::journal::{DEFAULT_SEGMENT_BYTES, Journal, JournalConfig, Reader};
use tradecaptain_native::timing;

const PAYLOAD: usize = 64;
const KIND_COMMAND: u16 = 2;

/// A fresh, empty directory for one case, removed on drop.
struct BenchDir(PathBuf);

impl BenchDir {
    fn new(case: &str) -> Self {
        let base = std::env::var_os("TC_JOURNAL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
        // Case names are prose ("paced at 1 M/s"): keep only a file-name-safe form.
        let case: String = case.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let path = base.join(format!("tc-journal-bench-{case}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        BenchDir(path)
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The filesystem type and device holding `dir`, from `/proc/mounts`.
fn filesystem(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && dir.starts_with(f[1])).then(|| (f[1].len(), format!("{} on {} ({})", f[2], f[1], f[0])))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "unknown".into(), |(_, s)| s)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Nanoseconds in a readable unit.
fn human(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{:.1} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.1} us", ns / 1e3),
        ns => format!("{ns:.0} ns"),
    }
}

fn open(dir: &Path) -> Journal {
    let (journal, _) = Journal::open(JournalConfig::new(dir)).expect("open journal");
    journal
}

/// Appends `n` records, one every `gap_ns` (0: flat out), timing each with
/// the cycle counter, and prints percentiles.
fn latency_run(case: &str, per_ns: f64, n: usize, gap_ns: f64) {
    let payload = [0x5Au8; PAYLOAD];
    let dir = BenchDir::new(case);
    let mut j = open(&dir.0);
    let mut lat = vec![0f64; n];
    let gap_ticks = (gap_ns * per_ns) as u64;
    let start = timing::ticks();
    for (i, slot) in lat.iter_mut().enumerate() {
        let due = start + i as u64 * gap_ticks;
        while timing::ticks() < due {
            std::hint::spin_loop();
        }
        let t0 = timing::ticks();
        j.append(KIND_COMMAND, i as u64, black_box(&payload)).expect("append");
        let t1 = timing::ticks();
        *slot = t1.wrapping_sub(t0) as f64 / per_ns;
    }
    let huge = j.huge_page_advice();
    drop(j);
    let stalls: Vec<f64> = lat.iter().copied().filter(|l| *l > 100_000.0).collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "append latency, process-crash mode, {case} ({n} appends, {} segment rolls): p50 {:.0} ns  p99 {:.0} ns  \
         p99.9 {:.0} ns  p99.99 {:.0} ns  max {}; appends over 100 us: {} (sum {:.1} ms)",
        n * (32 + PAYLOAD) / DEFAULT_SEGMENT_BYTES as usize,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 0.999),
        percentile(&lat, 0.9999),
        human(lat[n - 1]),
        stalls.len(),
        stalls.iter().fold(0.0, |a, b| a + b) / 1e6,
    );
    println!("  huge page advice on the last segment: {huge:?}");
}

fn process_crash_mode(per_ns: f64) {
    let n = 3_000_000usize;
    latency_run("flat out", per_ns, n, 0.0);
    latency_run("paced at 1 M/s", per_ns, n, 1000.0);

    let payload = [0x5Au8; PAYLOAD];
    let dir = BenchDir::new("throughput");
    let mut j = open(&dir.0);
    let start = Instant::now();
    for i in 0..n {
        j.append(KIND_COMMAND, i as u64, black_box(&payload)).expect("append");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "append throughput, process-crash mode: {:.2} M records/s ({:.1} ns/append incl. segment rolls)",
        n as f64 / secs / 1e6,
        secs * 1e9 / n as f64
    );
    drop(j);

    // Replay reads what was just written (page cache warm, as after a process restart).
    let start = Instant::now();
    let mut reader = Reader::open(&dir.0).expect("reader");
    let (mut records, mut bytes) = (0u64, 0u64);
    while let Some(r) = reader.next() {
        let r = r.expect("valid record");
        records += 1;
        bytes += black_box(r.payload).len() as u64 + black_box(r.ingress_ns) % 2;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(records, n as u64);
    black_box(bytes);
    println!("replay (Reader, CRC-checked): {:.2} M records/s", records as f64 / secs / 1e6);
}

fn group_commit() {
    let batch = 1000usize;
    let payload = [0xA5u8; PAYLOAD];
    let dir = BenchDir::new("group");
    let mut j = open(&dir.0);
    let mut sync_ms = Vec::new();
    let mut records = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        for _ in 0..batch {
            j.append(KIND_COMMAND, records, black_box(&payload)).expect("append");
            records += 1;
        }
        let t = Instant::now();
        j.sync().expect("sync");
        sync_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let secs = start.elapsed().as_secs_f64();
    sync_ms.sort_by(f64::total_cmp);
    println!(
        "group commit, {batch} appends + msync per batch: {:.2} M records/s over {secs:.2} s ({records} records, \
         {} syncs; sync p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms)",
        records as f64 / secs / 1e6,
        sync_ms.len(),
        percentile(&sync_ms, 0.5),
        percentile(&sync_ms, 0.99),
        sync_ms[sync_ms.len() - 1],
    );
}

fn main() {
    let probe = BenchDir::new("probe");
    std::fs::create_dir_all(&probe.0).expect("bench directory");
    let per_ns = timing::ticks_per_ns(Duration::from_millis(50));
    println!(
        "journal bench: segments {} MiB, payload {PAYLOAD} bytes ({} bytes/record), dir {} on {}, THP {}, {} CPUs, {:.3} ticks/ns",
        DEFAULT_SEGMENT_BYTES >> 20,
        (32 + PAYLOAD + 7) & !7,
        probe.0.parent().map_or_else(|| "?".into(), |p| p.display().to_string()),
        filesystem(&probe.0),
        tradecaptain_native::sys::transparent_huge_pages().unwrap_or_else(|| "unknown".into()),
        tradecaptain_native::sys::online_cpus(),
        per_ns,
    );
    drop(probe);
    process_crash_mode(per_ns);
    group_commit();
}
