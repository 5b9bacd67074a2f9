//! The engine thread: it drains the command ring, applies each command
//! through the engine layer, writes the events to the event ring, and
//! publishes them once the journal holds their commands (and, in
//! synchronous mode, has synced them); it parks on a futex when idle.
//!
//! # Invariants
//! - No event is published before the batch holding its command is written
//!   ([`Core::flush`] in [`publish`]), nor, in synchronous mode, before the
//!   journal is synced; the events of commands the journal did not take are
//!   withdrawn first, each command's replaced by one `rejected` event.
//! - No event is dropped while the engine runs: when the event ring is full
//!   the thread publishes what it has and waits for the consumer.
//! - `processed` and `cmd_head` are published with the event tail, after
//!   the events they cover.
//! - Parking cannot lose a wake-up: the thread stores `sleeping = 1` and
//!   re-reads `cmd_tail` (SeqCst) before it sleeps, pairing with Deno's store
//!   of `cmd_tail` then load of `sleeping`; the park is also bounded.
//! - A panic on the thread is caught: the status becomes failed, waiters are
//!   released, and the matcher state is reported lost at stop.
//!
//! # Known limitations
//! - A consumer that stops draining stalls the engine (by design: events are
//!   never dropped). The gateway bounds each client's queue instead.
//! - Idle, the thread spins about 50 µs before it parks: a core's worth of
//!   CPU in short bursts, for latency.
//!
//! # Performance
//! - The event tail is published every [`PUBLISH_EVERY`] commands under
//!   load, and whenever the command ring runs dry: each publication moves a
//!   cache line to the polling Deno thread (and writes a journal batch).
//! - One clock read per burst of commands, not one per command.

use super::layer::Core;
use super::placement::Placement;
use super::rings::*;
use super::signals::Signals;
use crate::record::{EV_REJECTED, EVF_FIRST, EVF_LAST, EventRecord, NO_INSTRUMENT, reject};
use crate::sys;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering, fence};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Idle polls before the engine thread parks (about 50 µs of spinning).
const SPIN_POLLS: u32 = 20_000;
/// Commands between publications of the event tail under load.
const PUBLISH_EVERY: u32 = 32;
/// The same in synchronous mode, where each publication costs a sync.
const PUBLISH_EVERY_SYNCHRONOUS: u32 = 4096;
/// Longest park; a safety net, since every publish that finds the engine
/// asleep wakes it.
const PARK: Duration = Duration::from_millis(50);

/// Starts the engine thread (named `tc-engine`) with `core`: it applies its
/// [`Placement`] on `cpu` (sent on the returned channel before it takes a
/// command), runs until `stop` is set and the command ring is drained, and
/// hands `core` back when joined, or `None` if it panicked.
pub(super) fn spawn(
    mut core: Core,
    signals: Arc<Signals>,
    stop: Arc<AtomicBool>,
    cpu: i32,
) -> std::io::Result<(JoinHandle<Option<Core>>, mpsc::Receiver<Placement>)> {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new().name("tc-engine".into()).spawn(move || {
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
    })?;
    Ok((handle, rx))
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
