//! The engine with its journal: recovery to the same state, snapshots and
//! their fallback, halting on journal failure, and what each durability mode
//! releases.

mod common;

use common::Driver;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tradecaptain_native::engine::*;
use tradecaptain_native::journal::{Faults, Journal, JournalConfig};
use tradecaptain_native::matcher::Matcher;
use tradecaptain_native::record::*;

const TICKS: [i64; 3] = [1, 1, 25];
const META: &[u8] = br#"{"instruments":["A","B","C"]}"#;

/// A fresh folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tc-recovery-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(dir: &TempDir) -> JournalOptions {
    common::journal_options(dir.0.clone(), META)
}

/// A seeded stream over three instruments and five accounts that crosses often.
fn flow(n: u64, first_id: u64) -> Vec<CommandRecord> {
    let mut x = 0x2545_F491_4F6C_DD1Du64 ^ first_id;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = first_id + i;
            let side = (x & 1) as u8;
            let instrument = (x >> 8) as u32 % 3;
            let price = if instrument == 2 { 25 * (40 + (x >> 12) as i64 % 8) } else { 1000 + (x >> 12) as i64 % 20 };
            match x % 10 {
                0..=5 => {
                    CommandRecord::limit(id, (x >> 24) as u32 % 5, instrument, side, price, 1 + (x >> 16) as i64 % 9)
                }
                6 | 7 => CommandRecord::cancel(id.saturating_sub(1 + (x >> 40) % 30)),
                8 => CommandRecord::replace(id.saturating_sub(1 + (x >> 40) % 30), price, 1 + (x >> 16) as i64 % 9),
                _ => CommandRecord::place(id, 9, instrument, side, TYPE_MARKET, TIF_IOC, 0, 20, false),
            }
        })
        .collect()
}

/// Events and hash of the same commands on a fresh matcher without a journal.
fn reference(cmds: &[CommandRecord]) -> (usize, u64) {
    let mut m = Matcher::new(&TICKS).unwrap();
    let mut out = Vec::new();
    for c in cmds {
        m.apply(c, &mut out);
    }
    (out.len(), m.state_hash())
}

fn hash(engine: &mut Engine) -> u64 {
    engine.core().unwrap().matcher.state_hash()
}

#[test]
fn smoke() {
    let dir = TempDir::new("smoke");
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert!(report.created);
    let core = engine.core().unwrap();
    assert_eq!(core.process(&CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 5))[0].kind, EV_ACCEPTED);
    drop(engine);
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!((report.created, report.replayed), (false, 1));
    assert_eq!(engine.core().unwrap().process(&CommandRecord::cancel(1))[0].kind, EV_CANCELLED);
}

#[test]
fn a_run_split_across_restarts_through_the_rings_ends_where_one_run_ends() {
    let dir = TempDir::new("split");
    let cmds = flow(30_000, 1);
    let mut seqs = Vec::new();
    for part in cmds.chunks(10_000) {
        let mut engine = Engine::new(&TICKS, 256, 256).unwrap();
        engine.open_journal(options(&dir)).unwrap();
        engine.start(-1).unwrap();
        let evs = Driver::new(&engine).run(part);
        seqs.extend(evs.iter().map(|e| e.seq));
        // No stop(): dropping is the closest a test gets to kill -9 here;
        // the rings have been drained, the journal is in the page cache.
        drop(engine);
    }
    let (events, expected) = reference(&cmds);
    assert_eq!(seqs.len(), events);
    assert!(seqs.iter().enumerate().all(|(i, &s)| s == i as u64 + 1), "event numbers run on across restarts");
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!(report.replayed, 30_000);
    assert!(report.trades_checked > 1000, "trades are journaled and checked: {report:?}");
    assert_eq!(hash(&mut engine), expected);
}

#[test]
fn snapshots_shorten_replay_and_a_bad_newest_one_falls_back_to_the_older() {
    let dir = TempDir::new("snapshots");
    let cmds = flow(2_500, 1);
    let (_, expected) = reference(&cmds);
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(JournalOptions { snapshot_every: 1000, ..options(&dir) }).unwrap();
        let core = engine.core().unwrap();
        for c in &cmds {
            core.process(c);
        }
    }
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert!(report.snapshot.is_some() && report.replayed == 500, "{report:?}");
    assert_eq!(hash(&mut engine), expected);
    drop(engine);

    let newest = std::fs::read_dir(dir.0.join("snapshots")).unwrap().filter_map(Result::ok).map(|e| e.path()).max();
    std::fs::write(newest.unwrap(), b"not a snapshot").unwrap();
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!(report.replayed, 1500, "falls back to the older snapshot: {report:?}");
    assert_eq!(report.snapshots_skipped.len(), 1);
    assert_eq!(hash(&mut engine), expected);
}

#[test]
fn a_journal_for_other_instruments_is_refused() {
    let dir = TempDir::new("meta");
    Engine::new(&TICKS, 64, 64).unwrap().open_journal(options(&dir)).unwrap();
    let err = Engine::new(&TICKS, 64, 64)
        .unwrap()
        .open_journal(JournalOptions { meta: b"{}".to_vec(), ..options(&dir) })
        .unwrap_err();
    assert!(err.contains("another instrument table"), "{err}");
}

#[test]
fn a_journaled_trade_that_replay_does_not_produce_is_refused() {
    let dir = TempDir::new("mismatch");
    Engine::new(&TICKS, 64, 64).unwrap().open_journal(options(&dir)).unwrap();
    let (mut journal, _) = Journal::open(JournalConfig::new(&dir.0)).unwrap();
    let lonely = CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 5);
    let mut fake = EventRecord { kind: EV_TRADE, id: 1, maker: 99, price: 100, qty: 5, ..EventRecord::default() };
    fake.seq = 2;
    let mut batch = Vec::new();
    for (k, bytes) in [(kind::COMMAND, lonely.as_bytes()), (kind::TRADE, fake.as_bytes())] {
        batch.extend_from_slice(&u32::from(k).to_le_bytes());
        batch.extend_from_slice(&[0; 4]);
        batch.extend_from_slice(bytes);
    }
    journal.append(kind::BATCH, 1, &batch).unwrap();
    drop(journal);
    let err = Engine::new(&TICKS, 64, 64).unwrap().open_journal(options(&dir)).unwrap_err();
    assert!(err.contains("that replaying the journal does not produce"), "{err}");
}

#[test]
fn account_names_are_journaled_and_recovered() {
    let dir = TempDir::new("accounts");
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(options(&dir)).unwrap();
        let core = engine.core().unwrap();
        let ack = core.process(&CommandRecord::define_account(0, "ALICE").unwrap())[0];
        assert_eq!((ack.kind, ack.id), (EV_ACCOUNT_DEFINED, 0));
        core.process(&CommandRecord::define_account(1, "Bøb").unwrap());
    }
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!(report.accounts, vec![(0, "ALICE".to_string()), (1, "Bøb".to_string())]);
    assert!(report.to_json().contains(r#""accounts":[[0,"ALICE"],[1,"Bøb"]]"#), "{}", report.to_json());
    assert!(CommandRecord::define_account(2, &"x".repeat(MAX_ACCOUNT_NAME + 1)).is_none());
}

#[test]
fn running_out_of_space_halts_the_engine_and_keeps_every_acknowledged_command() {
    let dir = TempDir::new("enospc");
    let cmds = flow(5_000, 1);
    let mut acknowledged = 0;
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        let faults = Faults { enospc_on_segment: Some(2), ..Faults::default() };
        engine.open_journal(JournalOptions { faults, ..options(&dir) }).unwrap();
        let core = engine.core().unwrap();
        let mut halted = false;
        for c in &cmds {
            let ev = core.process(c)[0];
            if ev.kind == EV_REJECTED && ev.reason == reject::HALTED {
                halted = true;
            } else {
                assert!(!halted, "nothing is accepted after the halt");
                acknowledged += 1;
            }
        }
        assert!(halted && acknowledged > 100, "the journal filled up after {acknowledged} commands");
        let halt = engine.halt().unwrap();
        let segment = dir.0.join("segment-0000000000000002.tcj");
        assert_eq!(
            halt.reason,
            format!(
                "Engine halted: Cannot prepare journal segment {}: no space left on device (ENOSPC)",
                segment.display()
            )
        );
        assert_eq!(halt.errno, Some(libc::ENOSPC));
        assert_eq!(
            halt.to_json(),
            format!(r#"{{"reason":"{}","errno":{},"code":"ENOSPC"}}"#, halt.reason, libc::ENOSPC)
        );
    }
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!(report.replayed, acknowledged as u64);
    assert_eq!(hash(&mut engine), reference(&cmds[..acknowledged]).1);
}

#[test]
fn a_failed_sync_in_synchronous_mode_withdraws_the_batch_as_in_doubt_and_halts() {
    let dir = TempDir::new("syncfail");
    let mut engine = Engine::new(&TICKS, 64, 256).unwrap();
    let faults = Faults { fail_sync_on: Some(3), ..Faults::default() };
    engine.open_journal(JournalOptions { durability: Durability::Synchronous, faults, ..options(&dir) }).unwrap();
    engine.start(-1).unwrap();
    let mut driver = Driver::new(&engine);
    // Sync 1 wrote the meta record; syncs 2 and 3 confirm the next two batches.
    let first = driver.run(&flow(10, 1));
    assert!(first.iter().all(|e| e.reason != reject::IN_DOUBT));
    let second = driver.run(&flow(10, 100));
    assert_eq!(second.len(), 10, "one event per command: {second:?}");
    assert!(second.iter().all(|e| e.kind == EV_REJECTED && e.reason == reject::IN_DOUBT));
    let third = driver.run(&flow(3, 200));
    assert!(third.iter().all(|e| e.kind == EV_REJECTED && e.reason == reject::HALTED));
    assert_eq!(engine.shared().word(OFF_STATUS).load(Ordering::SeqCst), STATUS_HALTED);
    let halt = engine.halt().unwrap();
    assert!(halt.reason.contains("never retries a failed sync"), "{}", halt.reason);
    assert_eq!(halt.errno, Some(libc::EIO));
    assert!(halt.to_json().ends_with(r#""errno":5,"code":"EIO"}"#), "{}", halt.to_json());
}

#[test]
fn a_restart_on_a_full_disk_is_refused_naming_enospc_and_the_segment() {
    let dir = TempDir::new("fullrestart");
    let cmds = flow(100, 1);
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(options(&dir)).unwrap();
        let core = engine.core().unwrap();
        for c in &cmds {
            core.process(c);
        }
    }
    // The disk filled up meanwhile: the next segment (1) cannot be made. The
    // engine would halt at its first roll; it refuses to start instead.
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let faults = Faults { enospc_on_segment: Some(1), ..Faults::default() };
    let err = engine.open_journal(JournalOptions { faults, ..options(&dir) }).unwrap_err();
    let segment = dir.0.join("segment-0000000000000001.tcj");
    assert_eq!(
        err,
        format!(
            "Cannot recover: the journal in {} has no room to grow: Cannot prepare journal segment {}: \
             no space left on device (ENOSPC); free space on that device, then start again",
            dir.0.display(),
            segment.display()
        )
    );
    // A new journal on a full disk: its first segment cannot be made.
    let fresh = TempDir::new("fullfresh");
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let faults = Faults { enospc_on_segment: Some(0), ..Faults::default() };
    let err = engine.open_journal(JournalOptions { faults, ..options(&fresh) }).unwrap_err();
    let segment = fresh.0.join("segment-0000000000000000.tcj");
    assert!(err.contains(&format!("{}: no space left on device (ENOSPC)", segment.display())), "{err}");
    // Once there is room, the journal opens as it was.
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    assert_eq!(engine.open_journal(options(&dir)).unwrap().replayed, 100);
    assert_eq!(hash(&mut engine), reference(&cmds).1);
}

#[test]
fn group_commit_syncs_when_the_engine_goes_idle() {
    let dir = TempDir::new("group");
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let durability = Durability::GroupCommit { max_delay: Duration::from_secs(3600) };
    engine.open_journal(JournalOptions { durability, ..options(&dir) }).unwrap();
    engine.start(-1).unwrap();
    Driver::new(&engine).run(&flow(100, 1));
    // The delay is an hour, so only going idle can have synced: the engine
    // parks (sleeping = 1) only after its idle sync.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while engine.shared().word(OFF_SLEEPING).load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    engine.stop().unwrap();
    assert_eq!(engine.core().unwrap().journal_unsynced(), Some(0));
}

#[test]
fn a_sweep_whose_trades_outgrow_a_segment_is_journaled_across_records_and_recovered() {
    let dir = TempDir::new("bigsweep");
    let mut cmds: Vec<CommandRecord> =
        (1..=2000).map(|id| CommandRecord::limit(id, 1, 0, SIDE_SELL, 1000 + id as i64, 1)).collect();
    cmds.push(CommandRecord::place(5000, 2, 0, SIDE_BUY, TYPE_MARKET, TIF_IOC, 0, 3000, false));
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(options(&dir)).unwrap();
        let core = engine.core().unwrap();
        for c in &cmds {
            core.process(c);
        }
        let sweep = core.staged();
        assert_eq!(sweep.iter().filter(|e| e.kind == EV_TRADE).count(), 2000, "2000 trades of 72 bytes: 144 KB");
        assert!(engine.halt_reason().is_none(), "{:?}", engine.halt_reason());
    }
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!((report.replayed, report.trades_checked), (2001, 2000));
    assert_eq!(hash(&mut engine), reference(&cmds).1);
}

/// `n` resting one-lot sells from account 1 at rising prices, then a market
/// buy from account 2 sweeping all of them.
fn sells_then_sweep(n: u64) -> Vec<CommandRecord> {
    let mut cmds: Vec<CommandRecord> =
        (1..=n).map(|id| CommandRecord::limit(id, 1, 0, SIDE_SELL, 1000 + id as i64, 1)).collect();
    cmds.push(CommandRecord::place(100_000, 2, 0, SIDE_BUY, TYPE_MARKET, TIF_IOC, 0, n as i64, false));
    cmds
}

#[test]
fn a_sweep_whose_own_batch_cannot_be_written_is_answered_halted_and_never_replayed() {
    // 1228 single-command records (104 bytes each) fill segment 0 (628 after
    // the meta record) and nearly fill segment 1 (600); the sweep's first
    // 32 KiB record, holding the sweep itself, must roll to segment 2, whose
    // creation fails. (Segment 1 is prepared while the journal opens, where a
    // failure refuses the open instead.)
    let dir = TempDir::new("sweeplost");
    let n = 1228;
    let cmds = sells_then_sweep(n as u64);
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        let faults = Faults { enospc_on_segment: Some(2), ..Faults::default() };
        engine.open_journal(JournalOptions { faults, ..options(&dir) }).unwrap();
        let core = engine.core().unwrap();
        for c in &cmds[..n] {
            assert_eq!(core.process(c)[0].kind, EV_ACCEPTED);
        }
        let answer = core.process(&cmds[n]).to_vec();
        assert_eq!(answer.len(), 1, "no trade may be released: {answer:?}");
        assert_eq!((answer[0].kind, answer[0].reason), (EV_REJECTED, reject::HALTED));
        assert!(engine.halt_reason().unwrap().contains("no space left on device"));
    }
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!(report.replayed, n as u64);
    assert_eq!(hash(&mut engine), reference(&cmds[..n]).1);
}

#[test]
fn a_sweep_whose_later_trades_cannot_be_written_stands_since_its_command_is_journaled() {
    // 779 sells fill segment 0 and 151 records of segment 1; the sweep's first
    // 32 KiB record (the sweep and 454 trades) still fits there, its last one
    // must roll to segment 2, whose creation fails: only trades are lost, and
    // replay recreates them.
    let dir = TempDir::new("sweepstands");
    let cmds = sells_then_sweep(779);
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        let faults = Faults { enospc_on_segment: Some(2), ..Faults::default() };
        engine.open_journal(JournalOptions { faults, ..options(&dir) }).unwrap();
        let core = engine.core().unwrap();
        for c in &cmds[..779] {
            assert_eq!(core.process(c)[0].kind, EV_ACCEPTED);
        }
        let answer = core.process(&cmds[779]);
        assert_eq!(answer[0].kind, EV_ACCEPTED);
        assert_eq!(answer.iter().filter(|e| e.kind == EV_TRADE).count(), 779);
        assert!(engine.halt_reason().is_some(), "the lost trade record halts the engine");
    }
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert_eq!(report.replayed, 780);
    assert!(report.trades_checked > 0 && report.trades_checked < 779, "{report:?}");
    assert_eq!(hash(&mut engine), reference(&cmds).1);
}

/// The segment files in a journal folder.
fn segment_files(dir: &TempDir) -> usize {
    std::fs::read_dir(&dir.0)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tcj"))
        .count()
}

#[test]
fn recycling_bounds_the_journal_and_recovery_stays_exact() {
    let dir = TempDir::new("recycle");
    let recycling = |dir: &TempDir| JournalOptions { snapshot_every: 2_000, recycle: true, ..options(dir) };
    let cmds = flow(40_000, 1);
    let (_, expected) = reference(&cmds);
    let mut most = 0;
    for (run, part) in cmds.chunks(10_000).enumerate() {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(recycling(&dir)).unwrap();
        let core = engine.core().unwrap();
        if run == 0 {
            let define = CommandRecord::define_account(7, "ALICE").unwrap();
            assert_eq!(core.process(&define)[0].kind, EV_ACCOUNT_DEFINED);
        }
        for c in part {
            core.process(c);
            most = most.max(segment_files(&dir));
        }
    }
    // ~6 MB of records went through 64 KiB segments; only what the two kept
    // snapshots need stays, plus the segment being prepared and spares.
    assert!(most <= 12, "at most {most} segment files at once");
    let scan = tradecaptain_native::journal::verify(&dir.0).unwrap();
    assert!(scan.first_seq.unwrap() > 30_000 && scan.corruption.is_none() && scan.torn_tail.is_none(), "{scan:?}");
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let report = engine.open_journal(options(&dir)).unwrap();
    assert!(report.snapshot.is_some() && report.replayed < 2_000, "{report:?}");
    assert_eq!(report.accounts, vec![(7, "ALICE".to_string())], "the account outlives its record");
    assert_eq!(hash(&mut engine), expected);
}

/// The permission bits of a path.
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_journal_makes_its_folders_and_files_for_the_owner_only() {
    let root = TempDir::new("modes");
    // A folder that does not exist yet, two levels down (as data/journal).
    let dir = root.0.join("data").join("journal");
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    let opts = JournalOptions { snapshot_every: 1_000, recycle: true, ..common::journal_options(dir.clone(), META) };
    engine.open_journal(opts).unwrap();
    let core = engine.core().unwrap();
    // Enough to roll and recycle segments and to write snapshots.
    for c in &flow(20_000, 1) {
        core.process(c);
    }
    drop(engine);
    for folder in [root.0.join("data"), dir.clone(), dir.join("snapshots")] {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
    }
    let mut files = 0;
    for folder in [dir.clone(), dir.join("snapshots")] {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files += 1;
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
    assert!(files >= 4, "segments and snapshots: {files} files");
}

#[test]
fn a_released_journal_without_a_usable_snapshot_is_refused_not_half_replayed() {
    let dir = TempDir::new("released");
    {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(JournalOptions { snapshot_every: 2_000, recycle: true, ..options(&dir) }).unwrap();
        let core = engine.core().unwrap();
        for c in &flow(20_000, 1) {
            core.process(c);
        }
    }
    for entry in std::fs::read_dir(dir.0.join("snapshots")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"damaged").unwrap();
    }
    let err = Engine::new(&TICKS, 64, 64).unwrap().open_journal(options(&dir)).err().unwrap();
    assert!(err.contains("older segments were released") && err.contains("none is usable"), "{err}");
}

#[test]
fn positions_survive_a_restart_and_are_read_before_the_thread_starts() {
    let dir = TempDir::new("positions");
    let cmds = [
        CommandRecord::limit(1, 1, 0, SIDE_SELL, 1000, 5),
        CommandRecord::limit(2, 2, 0, SIDE_BUY, 1000, 3),
        CommandRecord::limit(3, 3, 2, SIDE_BUY, 1000, 4),
        CommandRecord::limit(4, 1, 2, SIDE_SELL, 1000, 4),
        // Account 5,000 is past the dense rows: kept in the sparse map.
        CommandRecord::limit(5, 5000, 0, SIDE_BUY, 1000, 2),
    ];
    let before = {
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        engine.open_journal(options(&dir)).unwrap();
        for c in &cmds {
            engine.core().unwrap().process(c);
        }
        engine.positions().unwrap()
    };
    assert_eq!(before, vec![(1, 0, -5), (1, 2, -4), (2, 0, 3), (3, 2, 4), (5000, 0, 2)]);
    let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
    engine.open_journal(options(&dir)).unwrap();
    assert_eq!(engine.positions().unwrap(), before);
    engine.start(-1).unwrap();
    assert!(engine.positions().unwrap_err().contains("running"));
}

#[test]
fn a_resting_orders_client_id_and_placer_survive_a_restart_by_replay_and_by_snapshot() {
    let labels = |engine: &mut Engine| -> Vec<(u64, u32, u64, u32)> {
        let m = &engine.core().unwrap().matcher;
        (0..TICKS.len()).flat_map(|i| m.resting_orders(i)).map(|o| (o.id, o.account, o.tag, o.placer)).collect()
    };
    // Account 7 places for itself (placer 0); account 9 (an admin) for
    // account 7 (placer 9 + 1); then a replace that loses priority.
    let cmds = [
        CommandRecord { tag: 1001, ..CommandRecord::limit(1, 7, 0, SIDE_BUY, 1000, 5) },
        CommandRecord { tag: 1002, placer: 10, ..CommandRecord::limit(2, 7, 0, SIDE_BUY, 1000, 5) },
        CommandRecord { tag: u64::MAX, ..CommandRecord::limit(3, 8, 2, SIDE_SELL, 2000, 1) },
        CommandRecord::replace(1, 999, 4),
    ];
    let expected = vec![(2, 7, 1002, 10), (1, 7, 1001, 0), (3, 8, u64::MAX, 0)];
    for snapshot_every in [0, 2] {
        let dir = TempDir::new(&format!("labels-{snapshot_every}"));
        {
            let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
            engine.open_journal(JournalOptions { snapshot_every, ..options(&dir) }).unwrap();
            for c in &cmds {
                engine.core().unwrap().process(c);
            }
            assert_eq!(labels(&mut engine), expected);
        }
        let mut engine = Engine::new(&TICKS, 64, 64).unwrap();
        let report = engine.open_journal(options(&dir)).unwrap();
        assert_eq!(report.snapshot.is_some(), snapshot_every > 0, "{report:?}");
        assert_eq!(labels(&mut engine), expected, "snapshot every {snapshot_every}");
    }
}
