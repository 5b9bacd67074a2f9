//! Kernel benchmarks at fixed book depths (4, 32, 100, 1000 levels per side),
//! no harness: `cargo bench --bench matching`. Each case fills a book to the
//! depth, then times a seeded mix of 55% limit, 25% cancel, 10% market and
//! 10% replace that keeps the depth roughly steady.

use std::hint::black_box;
use std::time::Instant;
use tradecaptain_native::engine::{Durability, Engine, JournalOptions};
use tradecaptain_native::journal::Faults;
use tradecaptain_native::matcher::Matcher;
use tradecaptain_native::record::*;

/// xorshift64*: small, seeded, good enough to draw a command mix.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn stream(depth: i64, count: usize, seed: u64) -> Vec<CommandRecord> {
    let mut rng = Rng(seed | 1);
    let mid = 100_000i64;
    let mut live: Vec<u64> = Vec::new();
    let mut cmds = Vec::with_capacity(count + 2 * depth as usize);
    let mut id = 1u64;
    for level in 1..=depth {
        for (side, price) in [(SIDE_BUY, mid - level), (SIDE_SELL, mid + level)] {
            cmds.push(CommandRecord::limit(id, (id % 8) as u32, 0, side, price, 10));
            live.push(id);
            id += 1;
        }
    }
    // Orders per level the stream aims for; limits turn marketable when the
    // book holds more, so the depth stays steady as in a real book.
    let target = depth as usize * 2 * 8;
    while cmds.len() < count + 2 * depth as usize {
        let roll = rng.below(100);
        let side = if rng.below(2) == 0 { SIDE_BUY } else { SIDE_SELL };
        let offset = 1 + rng.below(depth as u64) as i64;
        let aggressive = live.len() > target && rng.below(2) == 0;
        let offset = if aggressive { -(rng.below(4) as i64) } else { offset };
        let price = if side == SIDE_BUY { mid - offset + 1 } else { mid + offset - 1 };
        let account = rng.below(8) as u32;
        if roll < 55 {
            cmds.push(CommandRecord::limit(id, account, 0, side, price, 1 + rng.below(20) as i64));
            live.push(id);
            id += 1;
        } else if roll < 80 && !live.is_empty() {
            let i = rng.below(live.len() as u64) as usize;
            cmds.push(CommandRecord::cancel(live.swap_remove(i)));
        } else if roll < 90 {
            cmds.push(CommandRecord::place(
                id,
                account,
                0,
                side,
                TYPE_MARKET,
                TIF_IOC,
                0,
                1 + rng.below(20) as i64,
                false,
            ));
            id += 1;
        } else if !live.is_empty() {
            let i = rng.below(live.len() as u64) as usize;
            cmds.push(CommandRecord::replace(live[i], price, 1 + rng.below(20) as i64));
        }
        // Forget ids the stream no longer believes are live once the list
        // runs long (filled orders), so cancels mostly hit resting orders.
        if live.len() > 2 * target {
            live.drain(..target / 2);
        }
    }
    cmds
}

fn main() {
    let count = 2_000_000;
    println!("kernel bench: {count} commands per case, mix 55/25/10/10 (limit/cancel/market/replace)");
    for depth in [4, 32, 100, 1000] {
        let cmds = stream(depth, count, 42);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let mut m = Matcher::new(&[1]).unwrap();
            m.reserve(cmds.len());
            let mut out = Vec::with_capacity(4096);
            let start = Instant::now();
            for c in &cmds {
                out.clear();
                m.apply(black_box(c), &mut out);
                black_box(&out);
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "depth {depth:>5} levels/side: {:>6.2} M commands/s ({:>5.1} ns/command, best of 3)",
            cmds.len() as f64 / best / 1e6,
            best * 1e9 / cmds.len() as f64
        );
    }
    // The engine layer around the matcher (stamps, sequence numbers), then
    // with the journal (process-crash mode): the ratio is journaling's cost.
    let cmds = stream(1000, count, 42);
    for journal in [false, true] {
        let mut best = f64::MAX;
        let mut faults = 0;
        for run in 0..3 {
            let dir = std::env::temp_dir().join(format!("tc-bench-engine-{}-{run}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let mut engine = Engine::new(&[1], 64, 64).unwrap();
            if journal {
                engine
                    .open_journal(JournalOptions {
                        dir: dir.clone(),
                        durability: Durability::ProcessCrash,
                        segment_bytes: 64 << 20,
                        snapshot_every: 0,
                        meta: b"{}".to_vec(),
                        recycle: false,
                        faults: Faults::default(),
                    })
                    .unwrap();
            }
            let core = engine.core().unwrap();
            core.matcher.reserve(cmds.len());
            let faults_before = thread_faults();
            let start = Instant::now();
            for (i, c) in cmds.iter().enumerate() {
                black_box(core.process_batched(black_box(c)));
                // As the engine thread does under load: journal before each publication.
                if i % 32 == 31 {
                    core.flush();
                }
            }
            core.flush();
            best = best.min(start.elapsed().as_secs_f64());
            faults = thread_faults() - faults_before;
            drop(engine);
            let _ = std::fs::remove_dir_all(&dir);
        }
        println!(
            "engine layer{} at depth 1000: {:>6.2} M commands/s ({:>5.1} ns/command, best of 3; {faults} page faults in the last run)",
            if journal { " + journal" } else { "          " },
            cmds.len() as f64 / best / 1e6,
            best * 1e9 / cmds.len() as f64
        );
    }
}

/// Page faults taken by the calling thread so far.
fn thread_faults() -> i64 {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_THREAD is Linux's.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage.ru_minflt + usage.ru_majflt
    }
}
