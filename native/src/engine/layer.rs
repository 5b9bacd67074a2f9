//! The engine layer around the pure matcher: sequence numbers, ingress
//! stamps, first/last flags, pre-trade risk and positions, the journal's
//! batch (through [`Journaling`]) and halting. [`Core`] applies one command
//! at a time; it moves into the engine thread when it starts and back when
//! it stops, and recovery replays the journal through it.
//!
//! # Invariants
//! - Live commands and replay go through one path ([`Core::execute`]), so
//!   replay makes the same decisions, and replay never reads the clock: the
//!   ingress time a risk check sees is the one journaled with the command.
//! - Every event has a sequence number, one more than the event before it,
//!   but a state-hash answer, which is out of band (no journal entry, no
//!   sequence number).
//! - A command's entry joins the journal's batch before it is matched, its
//!   trades after it is matched and before its events are stamped; nothing
//!   here releases an event (the caller flushes first).
//! - Once halted, every command but a state-hash query is rejected with
//!   `HALTED` and none is journaled.
//!
//! # Known limitations
//! - One command at a time on one thread: an engine scales by instrument
//!   shards (one engine each), not by threads inside one.
//!
//! # Performance
//! - A command record is never rewritten: the ingress stamp goes into the
//!   journal entry and the risk check instead (a store into the copy would
//!   stall the batch's loads on store forwarding, about 10 ns per command).
//! - The risk check runs only when a limit is configured.

use super::durability::{Journaling, SnapshotSource, kind, stamped_flags};
use super::signals::{Halt, Halting};
use crate::matcher::Matcher;
use crate::record::*;
use crate::risk::{Proposed, Risk};
use crate::sys;

/// The matcher plus what the engine layer adds: the journal, sequence
/// numbers, ingress stamps, first/last flags, and halting. Moves into the
/// engine thread and back.
pub struct Core {
    pub matcher: Matcher,
    /// The next event's sequence number.
    pub(super) next_seq: u64,
    staged: Vec<EventRecord>,
    /// The journal, batching and durability (or nothing, when off).
    pub(super) journaling: Journaling,
    /// Pre-trade risk: limits, kill switches, positions.
    pub risk: Risk,
    /// Why the engine halted, if it has.
    pub(super) halting: Halting,
}

impl Core {
    pub fn new(matcher: Matcher) -> Self {
        Core {
            matcher,
            next_seq: 1,
            staged: Vec::with_capacity(1024),
            journaling: Journaling::Off,
            risk: Risk::default(),
            halting: Halting::new(),
        }
    }

    /// Why the engine halted, if it has.
    pub fn halt_reason(&self) -> Option<String> {
        self.halt().map(|h| h.reason)
    }

    /// Why the engine halted, with the errno, if it has.
    pub fn halt(&self) -> Option<Halt> {
        self.halting.cause()
    }

    /// True once the engine has halted (it then rejects every order).
    #[inline]
    pub(super) fn is_halted(&self) -> bool {
        self.halting.is_halted()
    }

    /// Applies one command: stamps it, adds it to the journal's batch, matches
    /// it, adds its trades. Its events, stamped, are in the returned slice.
    /// The caller must [`Core::flush`] before releasing any of them (the
    /// engine thread does at each publication); [`Core::process`] does both.
    pub fn process_batched(&mut self, cmd: &CommandRecord) -> &[EventRecord] {
        let ingress = if cmd.ingress_ns == 0 { sys::now_ns() } else { cmd.ingress_ns };
        self.process_stamped(cmd, ingress)
    }

    /// [`Core::process_batched`] with the ingress time decided by the
    /// caller (`ingress`, which replaces the record's own). The record
    /// itself is never rewritten: an 8-byte store into a copy followed by
    /// the 16-byte loads that copy it into the batch would stall on store
    /// forwarding, about 10 ns per command. The stamp goes into the journal
    /// entry and the risk check instead.
    #[inline]
    pub(super) fn process_stamped(&mut self, cmd: &CommandRecord, ingress: u64) -> &[EventRecord] {
        self.staged.clear();
        match cmd.kind {
            CMD_QUERY_STATE_HASH => {
                // Out of band: no journal record, no sequence number.
                self.matcher.apply(cmd, &mut self.staged);
                self.staged[0].tag = cmd.tag;
                self.staged[0].flags |= EVF_FIRST | EVF_LAST;
                return &self.staged;
            }
            _ if self.halting.is_halted() => self.staged.push(reject_event(cmd, reject::HALTED)),
            CMD_DEFINE_ACCOUNT => match cmd.account_definition() {
                None => self.staged.push(reject_event(cmd, reject::UNKNOWN_COMMAND)),
                Some((account, name)) => {
                    self.journaling.define_account(cmd, ingress, account, name, &mut self.halting);
                    self.staged.push(EventRecord::account_defined(account));
                }
            },
            _ => {
                self.journaling.command(kind::COMMAND, cmd, ingress, &mut self.halting);
                self.execute(cmd, ingress);
                self.journaling.trades(&self.staged, self.next_seq, cmd.tag, &mut self.halting);
                self.stamp(cmd.tag);
                let state = SnapshotSource { matcher: &self.matcher, risk: &self.risk, next_seq: self.next_seq };
                self.journaling.maybe_snapshot(state, &mut self.halting);
                return &self.staged;
            }
        }
        self.stamp(cmd.tag);
        &self.staged
    }

    /// Replays one journaled record into the matcher (recovery): the same as
    /// [`Core::process`] did, minus the journal. Returns the trades it made.
    pub(super) fn replay(&mut self, kind: u16, cmd: &CommandRecord) -> &[EventRecord] {
        self.staged.clear();
        match kind {
            kind::ACCOUNT => {
                let account = cmd.account_definition().map_or(0, |(a, _)| a);
                self.staged.push(EventRecord::account_defined(account));
            }
            _ => self.execute(cmd, cmd.ingress_ns),
        }
        self.stamp(cmd.tag);
        &self.staged
    }

    /// Applies a journaled command to the state: risk controls to the risk
    /// book; orders through the matcher, past the risk check, with their
    /// trades booked into positions. The same path serves live commands and
    /// replay, so replay makes the same decisions.
    fn execute(&mut self, cmd: &CommandRecord, ingress: u64) {
        match cmd.kind {
            CMD_SET_RISK_LIMIT | CMD_SET_KILL_SWITCH | CMD_SET_REFERENCE_PRICE => {
                let reason = self.risk.control(cmd);
                let mut ev = EventRecord::new(EV_CONTROL_APPLIED, NO_INSTRUMENT, cmd.id);
                if reason != 0 {
                    ev = reject_event(cmd, reason);
                }
                self.staged.push(ev);
            }
            _ => {
                // A replace's trades belong to the resting order's account.
                let taker = match cmd.kind {
                    CMD_REPLACE_ORDER => self.matcher.account_of(cmd.id).unwrap_or(cmd.account),
                    _ => cmd.account,
                };
                if self.risk.checks_configured() {
                    let risk = &mut self.risk;
                    let mut check = |p: &Proposed| risk.check(&Proposed { ingress_ns: ingress, ..*p });
                    self.matcher.apply_with(cmd, &mut self.staged, &mut check);
                } else {
                    self.matcher.apply(cmd, &mut self.staged);
                }
                for ev in self.staged.iter().filter(|e| e.kind == EV_TRADE) {
                    self.risk.on_trade(
                        ev.instrument,
                        taker,
                        ev.maker_account(),
                        ev.flags & EVF_SELL == 0,
                        ev.price,
                        ev.qty,
                    );
                }
            }
        }
    }

    /// Gives the staged events their sequence numbers, the command's tag
    /// and the first/last flags.
    fn stamp(&mut self, tag: u64) {
        let n = self.staged.len();
        for (i, ev) in self.staged.iter_mut().enumerate() {
            ev.seq = self.next_seq + i as u64;
            ev.tag = tag;
            ev.flags = stamped_flags(ev.flags, i, n);
        }
        self.next_seq += n as u64;
    }

    /// Writes the pending batch. Returns false when commands since the last
    /// call are not journaled (this write, holding command entries, failed,
    /// or an earlier mid-command one did): the engine has halted, and the
    /// caller must not release their events (it withdraws them). A failure
    /// that lost only trades of a journaled command returns true, and so does
    /// every call without a journal.
    pub fn flush(&mut self) -> bool {
        self.journaling.flush(&mut self.halting)
    }

    /// True once after a mid-command write or a batch past its publication
    /// size: the engine thread then publishes after the current command.
    #[inline]
    pub(super) fn wants_publish(&self) -> bool {
        self.journaling.wants_publish()
    }

    /// Applies one command and journals it before returning its events
    /// ([`Core::process_batched`] then [`Core::flush`]): for callers that
    /// release each command's events at once. When the journal refuses the
    /// command, its events become one `rejected` `HALTED`.
    pub fn process(&mut self, cmd: &CommandRecord) -> &[EventRecord] {
        self.process_batched(cmd);
        if !self.flush() {
            let mut ev = reject_event(cmd, reject::HALTED);
            ev.seq = self.staged.first().map_or(0, |e| e.seq);
            ev.tag = cmd.tag;
            ev.flags = EVF_FIRST | EVF_LAST;
            self.staged.clear();
            self.staged.push(ev);
        }
        &self.staged
    }

    /// Syncs the journal when the durability mode wants it before events are
    /// released (`force`: whenever anything is unsynced). Returns false when
    /// the sync failed (the engine has halted).
    pub(super) fn confirm(&mut self, force: bool) -> bool {
        self.journaling.confirm(force, &mut self.halting)
    }

    /// True when released events must wait for a sync.
    pub(super) fn synchronous(&self) -> bool {
        self.journaling.synchronous()
    }

    /// Records appended since the journal's last sync, if there is a journal.
    pub fn journal_unsynced(&self) -> Option<u64> {
        self.journaling.unsynced()
    }

    /// The events of the last [`Core::process`].
    pub fn staged(&self) -> &[EventRecord] {
        &self.staged
    }
}

fn reject_event(cmd: &CommandRecord, reason: u32) -> EventRecord {
    let mut ev = EventRecord::new(EV_REJECTED, NO_INSTRUMENT, cmd.id);
    ev.reason = reason;
    ev
}
