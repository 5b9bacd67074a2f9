//! The engine layer: the matcher on its own pinned thread, fed and drained
//! through single-producer/single-consumer rings in shared memory.
//!
//! ```text
//!  Deno (producer) ──cmd ring──► engine thread ──evt ring──► Deno (consumer)
//! ```
//!
//! The shared block and its layout are in the `rings` module.
//!
//! # Invariants
//! - No event is dropped while the engine runs: when the event ring is full
//!   the engine waits for the consumer.
//!
//! # Known limitations
//! - A consumer that stops draining stalls the engine (by design: events are
//!   never dropped). The gateway (issue 4) bounds each client's queue instead.

use crate::journal::{Faults, Journal, JournalConfig, json_string};
use crate::matcher::Matcher;
use crate::record::*;
use crate::{snapshot, sys};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering, fence};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod durability;
mod layer;
mod placement;
mod rings;
mod signals;
use durability::Journaling;
pub use durability::{Durability, JournalOptions, kind};
pub use layer::Core;
pub use placement::Placement;
pub use rings::*;
pub use signals::{Halt, Signals};

/// Idle polls before the engine thread parks (about 50 µs of spinning).
const SPIN_POLLS: u32 = 20_000;
/// Commands between publications of the event tail under load.
const PUBLISH_EVERY: u32 = 32;
/// The same in synchronous mode, where each publication costs a sync.
const PUBLISH_EVERY_SYNCHRONOUS: u32 = 4096;
/// Longest park; a safety net, since every publish that finds the engine
/// asleep wakes it.
const PARK: Duration = Duration::from_millis(50);

/// What recovery found and did.
#[derive(Debug)]
pub struct RecoveryReport {
    /// The journal scan (with any torn tail that was cut).
    pub journal: String,
    /// The snapshot restored, by journal sequence number.
    pub snapshot: Option<u64>,
    /// Snapshots passed over, each with why.
    pub snapshots_skipped: Vec<String>,
    /// Commands replayed after the snapshot.
    pub replayed: u64,
    /// Journaled trades compared with the replay's (all equal, or recovery fails).
    pub trades_checked: u64,
    pub replay_ns: u64,
    /// Account names from the snapshot and the journal, by number.
    pub accounts: Vec<(u32, String)>,
    /// True when the journal was new.
    pub created: bool,
    /// The highest order id the recovered engine has seen (ids are never
    /// reused, so new orders must go above it).
    pub max_order_id: Option<u64>,
    /// `MADV_HUGEPAGE` on the active segment's mapping: bytes advised, or the
    /// errno the host answered (file mappings take huge pages only on some
    /// filesystems and kernels; the journal works either way).
    pub journal_huge_pages: Result<usize, i32>,
}

impl Default for RecoveryReport {
    fn default() -> Self {
        RecoveryReport {
            journal: String::new(),
            snapshot: None,
            snapshots_skipped: Vec::new(),
            replayed: 0,
            trades_checked: 0,
            replay_ns: 0,
            accounts: Vec::new(),
            created: false,
            max_order_id: None,
            journal_huge_pages: Ok(0),
        }
    }
}

impl RecoveryReport {
    /// The report as JSON (field names are a contract of `engine_open_journal`).
    pub fn to_json(&self) -> String {
        let per_second = if self.replay_ns == 0 { 0.0 } else { self.replayed as f64 * 1e9 / self.replay_ns as f64 };
        let accounts: Vec<String> =
            self.accounts.iter().map(|(n, name)| format!("[{n},{}]", json_string(name))).collect();
        let skipped: Vec<String> = self.snapshots_skipped.iter().map(|s| json_string(s)).collect();
        format!(
            "{{\"created\":{},\"journal\":{},\"snapshot\":{},\"snapshotsSkipped\":[{}],\"replayed\":{},\"tradesChecked\":{},\"replaySeconds\":{},\"commandsPerSecond\":{:.0},\"accounts\":[{}],\"maxOrderId\":{},\"journalHugePages\":{}}}",
            self.created,
            self.journal,
            self.snapshot.map_or_else(|| "null".to_string(), |s| s.to_string()),
            skipped.join(","),
            self.replayed,
            self.trades_checked,
            self.replay_ns as f64 / 1e9,
            per_second,
            accounts.join(","),
            self.max_order_id.map_or_else(|| "null".to_string(), |m| m.to_string()),
            match self.journal_huge_pages {
                Ok(bytes) => format!("{{\"bytes\":{bytes}}}"),
                Err(errno) => format!("{{\"errno\":{errno}}}"),
            }
        )
    }
}

/// An engine: inline (the caller's thread applies commands) until started,
/// then threaded (commands only through the rings) until stopped.
pub struct Engine {
    ticks: Vec<i64>,
    /// The last recovery report, as JSON.
    report: String,
    /// What waiters and wakers on other threads share (the core's halt
    /// reason too).
    signals: Arc<Signals>,
    core: Option<Core>,
    thread: Option<JoinHandle<Option<Core>>>,
    stop: Arc<AtomicBool>,
    placement: Placement,
    /// Failures the next journal opened through the C ABI will inject (tests).
    faults: Faults,
}

impl Engine {
    pub fn new(ticks: &[i64], cmd_capacity: u32, evt_capacity: u32) -> Result<Self, String> {
        let matcher = Matcher::new(ticks)?;
        let core = Core::new(matcher);
        Ok(Engine {
            ticks: ticks.to_vec(),
            report: String::new(),
            signals: Arc::new(Signals::new(Shared::new(cmd_capacity, evt_capacity)?, &core.halting)),
            core: Some(core),
            thread: None,
            stop: Arc::new(AtomicBool::new(false)),
            placement: Placement::default(),
            faults: Faults::default(),
        })
    }

    pub fn ticks(&self) -> &[i64] {
        &self.ticks
    }

    /// Sets every instrument's maximum order quantity (`max_qty[i]` for
    /// instrument `i`; 0: none), enforced by pre-trade risk on every order
    /// whatever the account's own limit. Configuration like the tick sizes:
    /// only before the journal is opened (recovery replays with it) and
    /// before any command.
    ///
    /// # Errors
    /// Not one value per instrument, a negative value, the engine thread
    /// running, or a journal opened or a command processed already.
    pub fn set_max_order_qty(&mut self, max_qty: &[i64]) -> Result<(), String> {
        if max_qty.len() != self.ticks.len() {
            return Err(format!(
                "Cannot set maximum order quantities: {} values for {} instruments",
                max_qty.len(),
                self.ticks.len()
            ));
        }
        let core = self.core.as_mut().ok_or("Cannot set maximum order quantities: the engine thread is running")?;
        if core.next_seq != 1 || core.journaling.is_on() {
            return Err(
                "Cannot set maximum order quantities: the engine has opened its journal or processed commands".into()
            );
        }
        core.risk.set_ceilings(max_qty)
    }

    pub fn shared(&self) -> &Shared {
        self.signals.shared()
    }

    /// What waiters and wakers on other threads may hold (and keep after
    /// the engine is dropped).
    pub fn signals(&self) -> Arc<Signals> {
        Arc::clone(&self.signals)
    }

    /// The inline core, or `None` while the thread runs.
    pub fn core(&mut self) -> Option<&mut Core> {
        self.core.as_mut()
    }

    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// Failures for the C ABI's next `engine_open_journal` to inject, so that
    /// the Deno side can test what a full disk or a failed sync does.
    pub fn inject_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The failures set by [`Engine::inject_faults`] (none unless set).
    pub fn injected_faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Every account's non-zero net position per instrument, in lots, as
    /// `(account, instrument, net)` ascending; read while the engine thread
    /// is not running (after recovery, before [`Engine::start`]).
    pub fn positions(&self) -> Result<Vec<(u32, u32, i64)>, String> {
        let core = self.core.as_ref().ok_or("Cannot read positions: the engine thread is running")?;
        Ok(core.risk.positions())
    }

    /// Starts the engine thread pinned to `cpu` (negative: the last CPU).
    /// Pinning is best effort: a refusal is recorded in [`Placement`].
    pub fn start(&mut self, cpu: i32) -> Result<Placement, String> {
        let Some(mut core) = self.core.take() else {
            return Err("Cannot start engine: it is already running".into());
        };
        let cpu = if cpu < 0 { sys::online_cpus() as i32 - 1 } else { cpu };
        core.journaling.keep_preparation_off(cpu as usize);
        let signals = Arc::clone(&self.signals);
        let stop = Arc::clone(&self.stop);
        stop.store(false, Ordering::SeqCst);
        self.signals.set_running(true);
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("tc-engine".into()).spawn(move || {
            let shared = signals.shared();
            let mut regions = core.matcher.memory();
            regions.push((shared.as_ptr().cast_const(), shared.size()));
            let _ = tx.send(Placement::apply(cpu, &regions));
            shared.word(OFF_STATUS).store(STATUS_RUNNING, Ordering::SeqCst);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&mut core, shared, &stop);
                core
            }));
            match outcome {
                Ok(core) => {
                    shared.word(OFF_STATUS).store(STATUS_STOPPED, Ordering::SeqCst);
                    Some(core)
                }
                Err(_) => {
                    shared.word(OFF_STATUS).store(STATUS_FAILED, Ordering::SeqCst);
                    // No event will come: waiters return and read the status.
                    signals.set_running(false);
                    signals.release_waiters();
                    None
                }
            }
        });
        let handle = match spawned {
            Ok(handle) => handle,
            Err(e) => {
                self.signals.set_running(false);
                return Err(format!("Cannot start engine: cannot spawn its thread: {e}"));
            }
        };
        // Kept even if the thread died at start: stop() joins it and clears `running`.
        self.thread = Some(handle);
        self.placement = rx.recv().map_err(|_| "Cannot start engine: its thread died at start".to_string())?;
        Ok(self.placement)
    }

    /// Stops the engine thread once it has drained the command ring, and takes
    /// the matcher back for inline use.
    pub fn stop(&mut self) -> Result<(), String> {
        let Some(handle) = self.thread.take() else { return Ok(()) };
        self.signals.set_running(false);
        self.stop.store(true, Ordering::SeqCst);
        self.signals.wake();
        let joined = handle.join();
        // Waiters return now rather than at their timeout: no event comes.
        self.signals.release_waiters();
        match joined {
            Ok(Some(core)) => {
                self.core = Some(core);
                Ok(())
            }
            _ => Err("Cannot stop engine: its thread failed; the matcher state is lost".into()),
        }
    }

    /// Opens (or creates) the journal in `opts.dir`, recovers from it (the
    /// newest valid snapshot, then the journal after it), and journals every
    /// command from now on. Inline mode, on an engine that has processed
    /// nothing yet. A journal written for other instruments is refused.
    pub fn open_journal(&mut self, opts: JournalOptions) -> Result<RecoveryReport, String> {
        let ticks = self.ticks.clone();
        let core = self.core.as_mut().ok_or("Cannot open journal: the engine thread is running")?;
        if core.next_seq != 1 || core.journaling.is_on() {
            return Err("Cannot open journal: the engine has already processed commands".into());
        }
        let dir = opts.dir.clone();
        let config = JournalConfig {
            dir: dir.clone(),
            segment_bytes: opts.segment_bytes,
            recycle: opts.recycle,
            faults: opts.faults.clone(),
        };
        let (mut journal, scan) = Journal::open(config).map_err(|e| format!("Cannot recover: {e}"))?;
        let last = journal.next_seq() - 1;
        let mut report = RecoveryReport { journal: scan.to_json(), ..RecoveryReport::default() };
        let (snap, skipped) = snapshot::load_latest(&dir, &ticks, last);
        report.snapshots_skipped = skipped;
        let mut accounts = BTreeMap::new();
        let mut meta: Option<Vec<u8>> = None;
        let from = match snap {
            Some(s) => {
                report.snapshot = Some(s.journal_seq);
                core.matcher = s.matcher;
                core.risk.restore(s.risk);
                core.next_seq = s.next_event_seq;
                accounts = s.accounts;
                meta = Some(s.meta);
                s.journal_seq + 1
            }
            None => 1,
        };
        // Segments before the kept snapshots may have been released: the
        // journal must still hold every record after the snapshot restored.
        if let Some(first) = scan.first_seq
            && first > from
        {
            let why = match report.snapshots_skipped.as_slice() {
                [] => "there is none".to_string(),
                skipped => format!("none is usable: {}", skipped.join("; ")),
            };
            return Err(format!(
                "Cannot recover: the journal in {} starts at record {first} (older segments were released after a snapshot), and no snapshot at or after record {} can be restored: {why}",
                dir.display(),
                first - 1
            ));
        }
        let bad = |seq: u64, what: &str| format!("Cannot recover: journal record {seq} is not a valid {what}");
        let mut trades: Vec<EventRecord> = Vec::new();
        let mut next_trade = 0;
        let started = Instant::now();
        let mut reader = journal.reader().map_err(|e| format!("Cannot recover: {e}"))?;
        while let Some(record) = reader.next() {
            let record = record.map_err(|e| format!("Cannot recover: {e}"))?;
            let seq = record.seq;
            match record.kind {
                kind::META => {
                    if meta.as_deref().is_some_and(|m| m != record.payload) {
                        return Err(format!(
                            "Cannot recover: the journal in {} and its snapshot were written for different instrument tables",
                            dir.display()
                        ));
                    }
                    meta.get_or_insert_with(|| record.payload.to_vec());
                }
                kind::BATCH => {
                    if record.payload.len() % kind::ENTRY_BYTES != 0 {
                        return Err(bad(seq, "batch"));
                    }
                    for (entry, bytes) in kind::entries(record.payload) {
                        match entry {
                            kind::ACCOUNT => {
                                let cmd = CommandRecord::from_bytes(bytes).ok_or_else(|| bad(seq, "batch"))?;
                                let (number, name) = cmd.account_definition().ok_or_else(|| bad(seq, "batch"))?;
                                accounts.insert(number, name);
                                if seq >= from {
                                    core.replay(kind::ACCOUNT, &cmd);
                                }
                            }
                            kind::COMMAND if seq >= from => {
                                let cmd = CommandRecord::from_bytes(bytes).ok_or_else(|| bad(seq, "batch"))?;
                                trades.clear();
                                trades.extend(core.replay(kind::COMMAND, &cmd).iter().filter(|e| e.kind == EV_TRADE));
                                next_trade = 0;
                                report.replayed += 1;
                            }
                            kind::TRADE if seq >= from => {
                                let journaled = EventRecord::from_bytes(bytes).ok_or_else(|| bad(seq, "batch"))?;
                                if trades.get(next_trade) != Some(&journaled) {
                                    return Err(format!(
                                        "Cannot recover: journal record {seq} holds a trade ({} x {} at {}) that replaying the journal does not produce; the journal or the engine build is inconsistent",
                                        journaled.id, journaled.maker, journaled.price
                                    ));
                                }
                                next_trade += 1;
                                report.trades_checked += 1;
                            }
                            kind::COMMAND | kind::TRADE => {}
                            _ => return Err(bad(seq, "batch")),
                        }
                    }
                }
                _ => {}
            }
        }
        report.replay_ns = started.elapsed().as_nanos() as u64;
        report.accounts = accounts.iter().map(|(n, name)| (*n, name.clone())).collect();
        report.max_order_id = core.matcher.ids().iter().map(|(id, _)| id).max();
        report.journal_huge_pages = journal.huge_page_advice();
        // Take no order while the next segment is still being prepared. A
        // disk too full for it would halt the engine at its first roll: say
        // so now, before a single order is taken.
        journal.wait_ready().map_err(|e| {
            format!(
                "Cannot recover: the journal in {} has no room to grow: {e}; free space on that device, then start again",
                dir.display()
            )
        })?;
        match meta {
            Some(m) if m != opts.meta => {
                return Err(format!(
                    "Cannot recover: the journal in {} was written for another instrument table; use that table or another folder",
                    dir.display()
                ));
            }
            Some(_) => {}
            None if last == 0 => {
                journal
                    .append(kind::META, sys::now_ns(), &opts.meta)
                    .map_err(|e| format!("Cannot create journal: {e}"))?;
                journal.sync().map_err(|e| format!("Cannot create journal: {e}"))?;
                report.created = true;
            }
            None => return Err(format!("Cannot recover: the journal in {} has no meta record", dir.display())),
        }
        core.journaling = Journaling::on(journal, opts, accounts);
        self.report = report.to_json();
        Ok(report)
    }

    /// The last recovery report as JSON ("" before any recovery).
    pub fn recovery_report(&self) -> &str {
        &self.report
    }

    /// Why the engine halted, if it has (readable from any thread).
    pub fn halt_reason(&self) -> Option<String> {
        self.halt().map(|h| h.reason)
    }

    /// Why the engine halted, with the errno, if it has (readable from any thread).
    pub fn halt(&self) -> Option<Halt> {
        self.signals.halt()
    }

    /// [`Signals::wake`].
    pub fn wake(&self) {
        self.signals.wake();
    }

    /// [`Signals::wait_events`]. Another thread that waits holds
    /// [`Engine::signals`] instead of a reference to the engine.
    pub fn wait_events(&self, seen: u32, timeout: Duration) -> u32 {
        self.signals.wait_events(seen, timeout)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The engine thread's loop.
fn run(core: &mut Core, shared: &Shared, stop: &AtomicBool) {
    let cmd_tail = shared.word(OFF_CMD_TAIL);
    let evt_head = shared.word(OFF_EVT_HEAD);
    let sleeping = shared.word(OFF_SLEEPING);
    let waiters = shared.word(OFF_EVT_WAITERS);
    let evt_capacity = shared.evt_capacity();
    let publish_every = if core.synchronous() { PUBLISH_EVERY_SYNCHRONOUS } else { PUBLISH_EVERY };
    let mut at = Cursor {
        head: shared.word(OFF_CMD_HEAD).load(Ordering::Relaxed),
        out: shared.word(OFF_EVT_TAIL).load(Ordering::Relaxed),
        published: shared.word(OFF_EVT_TAIL).load(Ordering::Relaxed),
        done: shared.word(OFF_PROCESSED).load(Ordering::Relaxed),
    };
    let mut idle = 0u32;
    loop {
        let tail = cmd_tail.load(Ordering::Acquire);
        if tail == at.head {
            if stop.load(Ordering::Acquire) {
                publish(core, shared, &mut at, true);
                return;
            }
            idle += 1;
            if idle < SPIN_POLLS {
                std::hint::spin_loop();
                continue;
            }
            // Going idle: group commit syncs now, so its delay stays bounded.
            publish(core, shared, &mut at, true);
            // Park. The SeqCst store/load pair pairs with Deno's
            // store(cmd_tail) then load(sleeping): one side sees the other.
            sleeping.store(1, Ordering::SeqCst);
            if cmd_tail.load(Ordering::SeqCst) == at.head && !stop.load(Ordering::SeqCst) {
                sys::futex_wait(cmd_tail, at.head, PARK);
            }
            sleeping.store(0, Ordering::SeqCst);
            idle = 0;
            continue;
        }
        idle = 0;
        // One clock read per burst: every command of a burst entered the
        // engine at this moment, and reading the clock per command would
        // cost a fifth of the engine layer's time.
        let burst_ns = sys::now_ns();
        while at.head != tail {
            let cmd = shared.cmd(at.head);
            at.head = at.head.wrapping_add(1);
            let ingress = if cmd.ingress_ns == 0 { burst_ns } else { cmd.ingress_ns };
            let n = core.process_stamped(&cmd, ingress).len();
            'events: for i in 0..n {
                let mut polls = 0u32;
                while at.out.wrapping_sub(evt_head.load(Ordering::Acquire)) >= evt_capacity {
                    // Full: publish what we have so the consumer can drain it.
                    if at.published != at.out && publish(core, shared, &mut at, false) {
                        // This command's first events were withdrawn as a
                        // rejection: the rest of them must not follow it.
                        break 'events;
                    }
                    notify(waiters, shared.word(OFF_EVT_TAIL));
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    backoff(&mut polls);
                }
                shared.write_evt(at.out, &core.staged()[i]);
                at.out = at.out.wrapping_add(1);
            }
            at.done = at.done.wrapping_add(1);
            // Publish every few commands and whenever the ring runs dry: each
            // store moves a cache line to the polling Deno thread, so
            // publishing per command costs throughput under load, while
            // publishing at the end of a burst keeps latency when idle.
            if at.done % publish_every == 0 || at.head == tail || core.wants_publish() {
                publish(core, shared, &mut at, false);
            }
        }
        notify(waiters, shared.word(OFF_EVT_TAIL));
    }
}

/// The engine thread's positions in the rings.
struct Cursor {
    /// Next command to read.
    head: u32,
    /// Next event slot to write.
    out: u32,
    /// Event tail as last published.
    published: u32,
    /// Commands processed.
    done: u32,
}

/// Makes the events written so far visible, after the sync the durability
/// mode asks for (`force`: sync anything unsynced). Commands the journal did
/// not take, or whose synchronous-mode sync failed, have their events
/// withdrawn first; returns true then.
fn publish(core: &mut Core, shared: &Shared, at: &mut Cursor, force: bool) -> bool {
    let mut withdrawn = false;
    if !core.flush() {
        // Not journaled: these commands never happened, and say so.
        at.out = withdraw(shared, at.published, at.out, reject::HALTED);
        withdrawn = true;
    } else if !core.confirm(force) && core.synchronous() {
        at.out = withdraw(shared, at.published, at.out, reject::IN_DOUBT);
        withdrawn = true;
    }
    if core.is_halted() {
        shared.word(OFF_STATUS).store(STATUS_HALTED, Ordering::SeqCst);
    }
    shared.word(OFF_EVT_TAIL).store(at.out, Ordering::Release);
    shared.word(OFF_PROCESSED).store(at.done, Ordering::Release);
    shared.word(OFF_CMD_HEAD).store(at.head, Ordering::Release);
    at.published = at.out;
    withdrawn
}

/// Replaces the unpublished events `[from, to)` of unconfirmed commands with
/// one `rejected` event each (`reason`: `HALTED` when their batch was never
/// journaled, `IN_DOUBT` when its sync failed), and returns the new end. Events
/// before the first command start belong to a command that was confirmed
/// (its records were synced when its first events were published) and stay.
fn withdraw(shared: &Shared, from: u32, to: u32, reason: u32) -> u32 {
    let mut write = from;
    let mut read = from;
    let mut confirmed = true;
    while read != to {
        let ev = shared.read_evt(read);
        read = read.wrapping_add(1);
        if ev.flags & EVF_FIRST != 0 {
            confirmed = false;
        }
        let kept = if confirmed {
            ev
        } else if ev.flags & EVF_FIRST != 0 {
            let mut r = EventRecord::new(EV_REJECTED, NO_INSTRUMENT, ev.id);
            r.reason = reason;
            r.flags = EVF_FIRST | EVF_LAST;
            r.seq = ev.seq;
            r.tag = ev.tag;
            r
        } else {
            continue;
        };
        shared.write_evt(write, &kept);
        write = write.wrapping_add(1);
    }
    write
}

#[inline]
fn notify(waiters: &AtomicU32, evt_tail: &AtomicU32) {
    fence(Ordering::SeqCst);
    if waiters.load(Ordering::SeqCst) > 0 {
        sys::futex_wake(evt_tail);
    }
}

#[inline]
fn backoff(polls: &mut u32) {
    *polls += 1;
    if *polls < 1000 {
        std::hint::spin_loop();
    } else if *polls < 2000 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(50));
    }
}
