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

use crate::journal::Faults;
use crate::matcher::Matcher;
use crate::record::*;
use crate::sys;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering, fence};
use std::thread::JoinHandle;
use std::time::Duration;

mod durability;
mod layer;
mod placement;
mod recovery;
mod rings;
mod signals;
pub use durability::{Durability, JournalOptions, kind};
pub use layer::Core;
pub use placement::Placement;
pub use recovery::RecoveryReport;
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
        let core = self.core.as_mut().ok_or("Cannot open journal: the engine thread is running")?;
        if core.next_seq != 1 || core.journaling.is_on() {
            return Err("Cannot open journal: the engine has already processed commands".into());
        }
        let report = recovery::recover(core, &self.ticks, opts)?;
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
