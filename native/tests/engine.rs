//! Black-box tests of the engine thread through its shared-memory rings,
//! driven the way Deno drives them: write records, publish the tail, drain
//! events, never an FFI call per command.

mod common;

use common::Driver;
use std::sync::atomic::Ordering;
use tradecaptain_native::engine::*;
use tradecaptain_native::matcher::Matcher;
use tradecaptain_native::record::*;

/// The same commands, applied inline on a fresh matcher.
fn inline(ticks: &[i64], cmds: &[CommandRecord]) -> (Vec<EventRecord>, u64) {
    let mut m = Matcher::new(ticks).unwrap();
    let mut out = Vec::new();
    for c in cmds {
        m.apply(c, &mut out);
    }
    (out, m.state_hash())
}

/// Strip what the engine layer adds, to compare with the pure matcher.
fn core_fields(evs: &[EventRecord]) -> Vec<EventRecord> {
    evs.iter().map(|e| EventRecord { flags: e.flags & EVF_SELL, seq: 0, tag: 0, ..*e }).collect()
}

fn flow(n: u64) -> Vec<CommandRecord> {
    let mut cmds = Vec::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for id in 1..=n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let side = (x & 1) as u8;
        let price = 1000 + (x >> 8) as i64 % 20;
        let qty = 1 + (x >> 16) as i64 % 9;
        match x % 10 {
            0..=5 => cmds.push(CommandRecord::limit(id, (x >> 24) as u32 % 5, (x >> 32) as u32 % 3, side, price, qty)),
            6 | 7 => cmds.push(CommandRecord::cancel(id.saturating_sub(1 + (x >> 40) % 20))),
            8 => cmds.push(CommandRecord::replace(id.saturating_sub(1 + (x >> 40) % 20), price, qty)),
            _ => cmds.push(CommandRecord::place(id, 9, 0, side, TYPE_MARKET, TIF_IOC, 0, 30, false)),
        }
    }
    cmds
}

#[test]
fn smoke() {
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    engine.start(-1).unwrap();
    let mut d = Driver::new(&engine);
    let evs =
        d.run(&[CommandRecord::limit(1, 1, 0, SIDE_SELL, 100, 5), CommandRecord::limit(2, 2, 0, SIDE_BUY, 100, 5)]);
    let kinds: Vec<u32> = evs.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EV_ACCEPTED, EV_ACCEPTED, EV_TRADE]);
    assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(evs[1].flags & (EVF_FIRST | EVF_LAST), EVF_FIRST);
    assert_eq!(evs[2].flags & EVF_LAST, EVF_LAST);
    engine.stop().unwrap();
}

#[test]
fn rings_wrap_many_times_and_match_the_inline_matcher_event_for_event() {
    let ticks = [1, 1, 1];
    let cmds = flow(50_000);
    let mut engine = Engine::new(&ticks, 64, 128).unwrap();
    engine.start(-1).unwrap();
    let evs = Driver::new(&engine).run(&cmds);
    engine.stop().unwrap();
    let (expected, hash) = inline(&ticks, &cmds);
    assert_eq!(core_fields(&evs), expected);
    assert_eq!(engine.core().unwrap().matcher.state_hash(), hash);
    // Sequence numbers are dense from 1.
    assert!(evs.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
}

#[test]
fn a_sweep_larger_than_the_event_ring_waits_for_the_consumer_and_loses_nothing() {
    let mut cmds: Vec<CommandRecord> =
        (1..=500).map(|id| CommandRecord::limit(id, 1, 0, SIDE_SELL, 100 + id as i64, 1)).collect();
    cmds.push(CommandRecord::place(1000, 2, 0, SIDE_BUY, TYPE_MARKET, TIF_IOC, 0, 1000, false));
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    engine.start(-1).unwrap();
    let evs = Driver::new(&engine).run(&cmds);
    let trades = evs.iter().filter(|e| e.kind == EV_TRADE).count();
    assert_eq!(trades, 500);
    let last = evs.last().unwrap();
    assert_eq!((last.kind, last.qty, last.flags & EVF_LAST), (EV_EXPIRED, 500, EVF_LAST));
    engine.stop().unwrap();
}

#[test]
fn stop_then_start_keeps_the_books_and_the_sequence() {
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    engine.start(0).unwrap();
    Driver::new(&engine).run(&[CommandRecord::limit(1, 1, 0, SIDE_SELL, 100, 5)]);
    engine.stop().unwrap();
    engine.start(0).unwrap();
    let mut d = Driver::new(&engine);
    // The new driver starts its local counters from the block's.
    d.cmd_tail = engine.shared().word(OFF_CMD_TAIL).load(Ordering::Relaxed);
    d.evt_head = engine.shared().word(OFF_EVT_HEAD).load(Ordering::Relaxed);
    let evs = d.run(&[CommandRecord::limit(2, 2, 0, SIDE_BUY, 100, 5)]);
    assert_eq!(evs[1].kind, EV_TRADE);
    assert_eq!(evs[1].seq, 3);
    engine.stop().unwrap();
}

#[test]
fn a_parked_engine_wakes_for_new_commands() {
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    engine.start(-1).unwrap();
    let mut d = Driver::new(&engine);
    d.run(&[CommandRecord::limit(1, 1, 0, SIDE_SELL, 100, 5)]);
    // Long enough for the engine to stop spinning and park.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while engine.shared().word(OFF_SLEEPING).load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(engine.shared().word(OFF_SLEEPING).load(Ordering::SeqCst), 1, "the engine never parked");
    let evs = d.run(&[CommandRecord::cancel(1)]);
    assert_eq!(evs[0].kind, EV_CANCELLED);
    engine.stop().unwrap();
}

#[test]
fn placement_reports_the_cpu_and_thread() {
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    let p = engine.start(0).unwrap();
    assert_eq!(p.cpu, 0);
    assert_eq!(p.pin_errno, 0, "pinning to CPU 0 should be allowed here");
    assert!(p.tid > 0);
    // This kind of host shows its topology and allows binding and advice;
    // elsewhere the engine must still run, which the start below checks.
    if std::path::Path::new("/sys/devices/system/cpu/cpu0/node0").exists() {
        assert_eq!((p.node, p.mempolicy_errno, p.bind_errno), (0, 0, 0));
        assert!(p.bound_bytes > 1 << 20, "books and rings should be bound: {p:?}");
    }
    if p.thp != 3 {
        assert_eq!(p.huge_errno, 0, "{p:?}");
        assert!(p.huge_bytes > 1 << 20, "books and rings should be advised: {p:?}");
    }
    engine.stop().unwrap();
    // An impossible CPU is refused by the host and reported, and the engine still runs.
    let p = engine.start(100_000).unwrap();
    assert_ne!(p.pin_errno, 0);
    let evs = Driver::new(&engine).run(&[CommandRecord::cancel(5)]);
    assert_eq!(evs[0].reason, reject::UNKNOWN_ORDER);
}

#[test]
fn bad_configuration_is_refused_with_a_message() {
    assert!(Engine::new(&[0], 64, 64).err().unwrap().contains("tick size 0"));
    assert!(Engine::new(&[1], 100, 64).err().unwrap().contains("power of two"));
}
