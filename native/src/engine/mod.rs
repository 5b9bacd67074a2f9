//! The engine: the matcher on its own pinned thread, fed and drained
//! through single-producer/single-consumer rings in shared memory, with
//! pre-trade risk, the journal and recovery around it.
//!
//! ```text
//!  Deno (producer) ──cmd ring──► engine thread ──evt ring──► Deno (consumer)
//! ```
//!
//! [`Engine`], here, is the owner's handle: it composes the parts, one job
//! each, and holds nothing of their logic:
//!
//! - `rings`: the shared block's layout (counters, the two rings, status
//!   codes) that Deno maps and mirrors;
//! - `signals`: what other threads share ([`Signals`]: wake, wait, running,
//!   the [`Halt`] cause);
//! - `layer`: [`Core`], the engine layer around the matcher (stamps,
//!   sequence numbers, risk, halting), for live commands and replay alike;
//! - `durability`: batching and durability behind one type (`Journaling`:
//!   off, or the journal with its batch, [`Durability`] mode and snapshots);
//! - `recovery`: the state rebuilt from the journal folder
//!   ([`RecoveryReport`]);
//! - `placement`: the thread's CPU, NUMA node and huge pages ([`Placement`]);
//! - `thread`: the engine thread's loop, publication and withdrawal.
//!
//! The parts depend on one another in one direction only and never on this
//! module (`native/tests/modules.rs` checks both).
//!
//! # Invariants
//! - The [`Core`] is in one place at a time: here, inline, until
//!   [`Engine::start`] moves it onto the engine thread, and here again after
//!   [`Engine::stop`] joins the thread. Commands reach it either inline or
//!   through the rings, never both.
//! - Configuration that replay depends on (maximum order quantities, the
//!   journal) is set only before the first command.
//! - Other threads hold only [`Signals`] (by `Arc`), never the engine: the
//!   owner's `&mut` calls never alias what they read.

use crate::journal::Faults;
use crate::matcher::Matcher;
use crate::sys;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

mod durability;
mod layer;
mod placement;
mod recovery;
mod rings;
mod signals;
mod thread;
pub use durability::{Durability, JournalOptions, kind};
pub use layer::Core;
pub use placement::Placement;
pub use recovery::RecoveryReport;
pub use rings::*;
pub use signals::{Halt, Signals};

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
        self.stop.store(false, Ordering::SeqCst);
        self.signals.set_running(true);
        let spawned = thread::spawn(core, Arc::clone(&self.signals), Arc::clone(&self.stop), cpu);
        let (handle, placed) = match spawned {
            Ok(spawned) => spawned,
            Err(e) => {
                self.signals.set_running(false);
                return Err(format!("Cannot start engine: cannot spawn its thread: {e}"));
            }
        };
        // Kept even if the thread died at start: stop() joins it and clears `running`.
        self.thread = Some(handle);
        self.placement = placed.recv().map_err(|_| "Cannot start engine: its thread died at start".to_string())?;
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
