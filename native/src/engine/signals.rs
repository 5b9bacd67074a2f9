//! What the engine shares with threads other than its owner's: the shared
//! block, whether the engine thread runs, and why the engine halted; and the
//! waits and wake-ups on the block's futex words.
//!
//! # Invariants
//! - Nothing here is ever reached through a `&mut`: waiters and wakers hold
//!   [`Signals`] by shared reference behind an `Arc` while the owner starts,
//!   stops and drops the engine through its own `&mut`, so no call creates a
//!   `&mut` to anything another thread may be reading.
//! - The halt cause is set once, for the first cause only ([`Halting`]), on
//!   the thread that runs the engine; any thread reads it.
//! - Every wait is bounded by its timeout.
//!
//! # Known limitations
//! - A stop that lands between a waiter's check and its sleep is seen only
//!   at the waiter's timeout.
//!
//! # Performance
//! - Waking and waiting are futex calls made only when the engine thread is
//!   parked (`sleeping`) or a waiter is counted (`evt_waiters`), never per
//!   event while both sides are busy.

use super::rings::{OFF_CMD_TAIL, OFF_EVT_TAIL, OFF_EVT_WAITERS, Shared};
use crate::journal::json_string;
use crate::sys;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What an engine shares with threads other than its owner's: the shared
/// block, whether the engine thread runs, and why it halted.
///
/// Waiters ([`Signals::wait_events`], which Deno calls as a nonblocking FFI
/// call, so on a worker thread) and wakers reach the engine only through
/// this, by shared reference behind an `Arc`. Nothing here is ever behind a
/// `&mut`, so the owner may start, stop and drop the [`Engine`](super::Engine) (through its
/// `&mut`) while they wait: a waiter holding its own `Arc` keeps the block
/// alive past the engine's drop.
pub struct Signals {
    shared: Arc<Shared>,
    /// True from [`Engine::start`](super::Engine::start) until
    /// [`Engine::stop`](super::Engine::stop) asks the thread to
    /// end: only then can events arrive, so only then is waiting worth it.
    running: AtomicBool,
    /// Why the engine halted; the core sets it through its [`Halting`].
    halted: Arc<Mutex<Option<Halt>>>,
}

impl Signals {
    /// Signals over `shared`, not running, reading the halt cause `halting` records.
    pub(super) fn new(shared: Shared, halting: &Halting) -> Self {
        Signals { shared: Arc::new(shared), running: AtomicBool::new(false), halted: Arc::clone(&halting.cause) }
    }

    /// The shared block (counters and rings).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// True while the engine thread runs (from start until stop is asked).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Wakes a parked engine thread (Deno calls this after publishing
    /// commands when it reads `sleeping == 1`).
    pub fn wake(&self) {
        sys::futex_wake(self.shared.word(OFF_CMD_TAIL));
    }

    /// Blocks until `evt_tail != seen`, the engine stops, or `timeout`
    /// passes; returns `evt_tail`. Returns at once when the thread is not
    /// running. A stop that lands between the check and the sleep is seen
    /// only at the timeout: the timeout bounds every wait.
    pub fn wait_events(&self, seen: u32, timeout: Duration) -> u32 {
        let tail = self.shared.word(OFF_EVT_TAIL);
        let waiters = self.shared.word(OFF_EVT_WAITERS);
        waiters.fetch_add(1, Ordering::SeqCst);
        if tail.load(Ordering::SeqCst) == seen && self.is_running() {
            sys::futex_wait(tail, seen, timeout);
        }
        waiters.fetch_sub(1, Ordering::SeqCst);
        tail.load(Ordering::Acquire)
    }

    /// Why the engine halted, with the errno, if it has.
    pub fn halt(&self) -> Option<Halt> {
        self.halted.lock().ok().and_then(|h| h.clone())
    }

    /// Says whether the engine thread runs (only its owner, starting and
    /// stopping it, and the thread itself, when it fails, say so).
    pub(super) fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::SeqCst);
    }

    /// Wakes every thread blocked in [`Signals::wait_events`].
    pub(super) fn release_waiters(&self) {
        sys::futex_wake(self.shared.word(OFF_EVT_TAIL));
    }
}

/// Why an engine halted: the message (what failed and why) and, when an OS
/// call failed, its errno (`ENOSPC` for a full disk, `EIO` for a failed
/// sync, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Halt {
    pub reason: String,
    pub errno: Option<i32>,
}

impl Halt {
    /// As JSON (a contract of `engine_halt_cause`): `reason`, `errno` (null
    /// without one) and `code`, the errno's symbolic name (`"ENOSPC"`), or
    /// `"errno N"` for one without a name here, or null.
    pub fn to_json(&self) -> String {
        let code = self.errno.map(|n| match crate::journal::errno_name(n) {
            "errno" => format!("errno {n}"),
            name => name.to_string(),
        });
        format!(
            "{{\"reason\":{},\"errno\":{},\"code\":{}}}",
            json_string(&self.reason),
            self.errno.map_or_else(|| "null".to_string(), |n| n.to_string()),
            code.map_or_else(|| "null".to_string(), |c| json_string(&c)),
        )
    }
}

/// The engine's halt as the engine side records it: the cause, shared with
/// [`Signals`] so that any thread can read it, and whether it is set, read
/// per command without the mutex.
pub(super) struct Halting {
    cause: Arc<Mutex<Option<Halt>>>,
    halted: bool,
}

impl Halting {
    pub(super) fn new() -> Self {
        Halting { cause: Arc::new(Mutex::new(None)), halted: false }
    }

    /// True once the engine has halted.
    #[inline]
    pub(super) fn is_halted(&self) -> bool {
        self.halted
    }

    /// Why the engine halted, with the errno, if it has.
    pub(super) fn cause(&self) -> Option<Halt> {
        self.cause.lock().ok().and_then(|h| h.clone())
    }

    /// Halts for the first cause only: what follows a failure (a poisoned
    /// journal refusing appends) is its consequence, not news.
    pub(super) fn halt(&mut self, reason: String, errno: Option<i32>) {
        if let Ok(mut h) = self.cause.lock() {
            h.get_or_insert(Halt { reason, errno });
        }
        self.halted = true;
    }
}
