//! Black-box tests of what an engine shares with other threads. Deno waits
//! for events with a nonblocking FFI call, so on a worker thread, while its
//! main thread goes on driving the same engine: waiting, waking and reading
//! the halt cause must race soundly with the owner's start, stop and drop.
//!
//! No timing assertions: every wait is bounded by its timeout, and the
//! claims are about what is seen. Soundness itself (no `&mut` to anything
//! another thread reads) is Miri's to check, without the engine thread,
//! which Miri cannot place on a NUMA node:
//!
//! ```sh
//! MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test --manifest-path native/Cargo.toml --test signals
//! ```
//!
//! Before `EngineHandle`, Miri found a data race there between
//! `engine_wake`'s `&mut Engine` and a waiter's `&Engine`.

mod common;

use common::Driver;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use tradecaptain_native::engine::*;
use tradecaptain_native::ffi::{
    EngineHandle, engine_apply, engine_drop, engine_halt_cause, engine_new, engine_start, engine_state_hash,
    engine_stop, engine_wait_events, engine_wake,
};
use tradecaptain_native::record::*;

/// Rests `n` one-lot orders alternately on each side, far apart (no trades),
/// with ids from `first`.
fn resting(first: u64, n: u64) -> Vec<CommandRecord> {
    (first..first + n)
        .map(|id| {
            let (side, price) = if id % 2 == 0 { (SIDE_BUY, 100) } else { (SIDE_SELL, 200) };
            CommandRecord::limit(id, 1, 0, side, price, 1)
        })
        .collect()
}

fn evt_tail(signals: &Signals) -> u32 {
    signals.shared().word(OFF_EVT_TAIL).load(Ordering::Acquire)
}

#[test]
#[cfg_attr(miri, ignore = "starts the engine thread")]
fn smoke() {
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    let signals = engine.signals();
    assert!(!signals.is_running());
    engine.start(-1).unwrap();
    assert!(signals.is_running());
    let evs = Driver::new(&engine).run(&resting(1, 3));
    engine.stop().unwrap();
    assert!(!signals.is_running());
    drop(engine);
    // The block outlives the engine for whoever holds the signals.
    assert_eq!(evt_tail(&signals), evs.len() as u32);
    // Not running: a wait returns at once with the tail, however long its timeout.
    assert_eq!(signals.wait_events(evs.len() as u32, Duration::from_secs(3600)), evs.len() as u32);
}

#[test]
#[cfg_attr(miri, ignore = "starts the engine thread")]
fn waiters_and_wakers_race_with_start_stop_and_drop_from_other_threads() {
    const WAITERS: usize = 3;
    for round in 0..6 {
        let mut engine = Engine::new(&[1], 64, 64).unwrap();
        let signals = engine.signals();
        let done = Arc::new(AtomicBool::new(false));
        let ready = Arc::new(Barrier::new(WAITERS + 2));
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (signals, done, ready) = (Arc::clone(&signals), Arc::clone(&done), Arc::clone(&ready));
                std::thread::spawn(move || {
                    ready.wait();
                    let (mut last, mut waits) = (0u32, 0u64);
                    while !done.load(Ordering::SeqCst) {
                        let tail = signals.wait_events(evt_tail(&signals), Duration::from_millis(1));
                        // Published events are never taken back.
                        assert!(tail >= last, "the event tail went back from {last} to {tail}");
                        assert_eq!(signals.halt(), None);
                        last = tail;
                        waits += 1;
                    }
                    waits
                })
            })
            .collect();
        let waker = {
            let (signals, done, ready) = (Arc::clone(&signals), Arc::clone(&done), Arc::clone(&ready));
            std::thread::spawn(move || {
                ready.wait();
                while !done.load(Ordering::SeqCst) {
                    signals.wake();
                    std::thread::yield_now();
                }
            })
        };
        ready.wait();
        // The owner starts, drives and stops the engine a few times, then
        // drops it running, while the others wait and wake throughout.
        let (mut cmd_tail, mut evt_head, mut events) = (0u32, 0u32, 0usize);
        for cycle in 0..3u64 {
            engine.start(-1).unwrap();
            let mut d = Driver::new(&engine);
            (d.cmd_tail, d.evt_head) = (cmd_tail, evt_head);
            events += d.run(&resting(1 + 200 * cycle, 200)).len();
            (cmd_tail, evt_head) = (d.cmd_tail, d.evt_head);
            engine.stop().unwrap();
        }
        engine.start(-1).unwrap();
        drop(engine);
        assert!(!signals.is_running());
        done.store(true, Ordering::SeqCst);
        for w in waiters {
            assert!(w.join().unwrap() > 0, "round {round}: a waiter never waited");
        }
        waker.join().unwrap();
        assert_eq!(events, 600, "round {round}");
        assert_eq!(evt_tail(&signals), events as u32, "round {round}");
    }
}

/// A handle passed to other threads, as Deno's worker threads get it.
#[derive(Clone, Copy)]
struct Handle(*mut EngineHandle);
// SAFETY: the threads given it call only engine_wait_events, engine_wake and
// engine_halt_cause, which the C ABI allows from any thread during any call
// but engine_drop; the test drops the handle after joining them.
unsafe impl Send for Handle {}

#[test]
fn ffi_waits_wakes_and_halt_reads_run_beside_the_owners_calls() {
    let ticks = [1i64];
    // SAFETY: ticks is valid for one read.
    let h = unsafe { engine_new(ticks.as_ptr(), 1, 64, 64) };
    assert!(!h.is_null());
    let handle = Handle(h);
    let done = Arc::new(AtomicBool::new(false));
    let others: Vec<_> = (0..3)
        .map(|i| {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let h = handle;
                let mut calls = 0u64;
                while !done.load(Ordering::SeqCst) || calls == 0 {
                    // SAFETY: a live handle, dropped only after this thread is joined.
                    unsafe {
                        match i {
                            0 => {
                                engine_wake(h.0);
                            }
                            1 => assert_eq!(engine_halt_cause(h.0, std::ptr::null_mut(), 0), 0),
                            _ => {
                                engine_wait_events(h.0, u32::MAX, 1);
                            }
                        }
                    }
                    calls += 1;
                }
            })
        })
        .collect();
    let rounds = if cfg!(miri) { 4 } else { 200 };
    let mut hash = 0u64;
    for id in 1..=rounds {
        // SAFETY: a live handle; the owner's calls are sequential on this thread.
        unsafe {
            if !cfg!(miri) {
                assert!(engine_start(h, -1) >= 0);
                assert_eq!(engine_stop(h), 0);
            }
            let cmd = resting(id, 1)[0];
            assert_eq!(engine_apply(h, &cmd), 1);
            assert_eq!(engine_state_hash(h, &mut hash), 0);
        }
    }
    done.store(true, Ordering::SeqCst);
    for t in others {
        t.join().unwrap();
    }
    // SAFETY: every other thread has been joined; the handle is not used again.
    unsafe { engine_drop(h) };
    assert_ne!(hash, 0);
}
