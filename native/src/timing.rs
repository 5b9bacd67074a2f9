//! A cheap cycle clock for latency measurement (benchmarks only).
//!
//! `Instant::now()` costs ~20 ns here, a large part of a ~100 ns command;
//! reading the TSC costs a few. The TSC is invariant on this kind of host
//! (`constant_tsc nonstop_tsc`), so ticks convert to nanoseconds with one
//! calibration against `Instant`.

use std::time::{Duration, Instant};

/// Reads the cycle counter (or a monotonic nanosecond count where there is none).
#[inline]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC is available on every x86_64 CPU and has no side effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// Ticks per nanosecond, measured over `window`.
pub fn ticks_per_ns(window: Duration) -> f64 {
    let (t0, i0) = (ticks(), Instant::now());
    while i0.elapsed() < window {
        std::hint::spin_loop();
    }
    let (t1, i1) = (ticks(), Instant::now());
    (t1 - t0) as f64 / (i1 - i0).as_nanos() as f64
}
