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
//! - The risk check runs only when a limit is configured, and when only the
//!   instruments' ceilings are (the usual case, [`Mode::CeilingsOnly`]) it
//!   is one comparison of the quantity with the ceiling ([`CeilingsOnly`]):
//!   no best price, no working-order count, no copy of the limits. The mode
//!   is cached by [`Risk`] and read once per order.

use super::durability::{Journaling, SnapshotSource, kind, stamped_flags};
use super::signals::{Halt, Halting};
use crate::matcher::{Matcher, PreTradeCheck};
use crate::record::*;
use crate::risk::{Mode, Proposed, Risk};
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
    #[inline]
    fn execute(&mut self, cmd: &CommandRecord, ingress: u64) {
        let mode = self.risk.mode();
        self.execute_in(cmd, ingress, mode);
    }

    /// [`Core::execute`] with orders checked as `mode` says. [`Mode::Full`]
    /// is right in every mode (what the tests compare the others with).
    #[inline]
    fn execute_in(&mut self, cmd: &CommandRecord, ingress: u64, mode: Mode) {
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
                match mode {
                    Mode::Off => self.matcher.apply(cmd, &mut self.staged),
                    Mode::CeilingsOnly => {
                        self.matcher.apply_with(cmd, &mut self.staged, &mut CeilingsOnly(&self.risk));
                    }
                    Mode::Full => {
                        let risk = &mut self.risk;
                        let mut check = |p: &Proposed| risk.check(&Proposed { ingress_ns: ingress, ..*p });
                        self.matcher.apply_with(cmd, &mut self.staged, &mut check);
                    }
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

/// The pre-trade check under [`Mode::CeilingsOnly`]: the order's quantity
/// against its instrument's ceiling, asking the matcher for nothing else.
struct CeilingsOnly<'a>(&'a Risk);

impl PreTradeCheck for CeilingsOnly<'_> {
    const NEEDS_CONTEXT: bool = false;
    #[inline]
    fn check(&mut self, order: &Proposed) -> u32 {
        self.0.check_ceiling(order.instrument, order.qty)
    }
}

fn reject_event(cmd: &CommandRecord, reason: u32) -> EventRecord {
    let mut ev = EventRecord::new(EV_REJECTED, NO_INSTRUMENT, cmd.id);
    ev.reason = reason;
    ev
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::Cursor;
    use crate::risk::test_draws::{Controls, Rng};
    use crate::risk::{ALL_ACCOUNTS, limit};

    /// Three instruments (ticks 1, 1, 5) with these ceilings.
    fn core(ceilings: &[i64]) -> Core {
        let mut core = Core::new(Matcher::new(&[1, 1, 5]).unwrap());
        core.risk.set_ceilings(ceilings).unwrap();
        core
    }

    /// The reference: [`Core::process_stamped`] with every order through
    /// the full check, whatever the mode.
    fn full_path(core: &mut Core, cmd: &CommandRecord, ingress: u64) -> Vec<EventRecord> {
        core.staged.clear();
        core.execute_in(cmd, ingress, Mode::Full);
        core.stamp(cmd.tag);
        core.staged.clone()
    }

    /// Orders of every shape, valid or not (unknown instrument 3, zero
    /// quantity, off-tick or missing prices, reused ids, post-only crossing,
    /// market orders with a price), quantities about the ceilings; replaces
    /// and cancels of ids sent before.
    fn random_order(rng: &mut Rng, next_id: &mut u64) -> CommandRecord {
        let known = 1 + rng.below(*next_id);
        let qty = [0, 1, 9, 10, 11, 100, 101][rng.below(7) as usize];
        let price = [0, 7, 95, 100, 100, 105][rng.below(6) as usize];
        match rng.below(10) {
            0..=5 => {
                let id = if rng.below(10) == 0 { known } else { *next_id };
                *next_id += 1;
                let (order_type, tif) = match rng.below(6) {
                    0 => (TYPE_MARKET, TIF_IOC),
                    1 => (TYPE_LIMIT, TIF_FOK),
                    2 => (TYPE_LIMIT, TIF_IOC),
                    _ => (TYPE_LIMIT, TIF_GTC),
                };
                let price = if order_type == TYPE_MARKET && rng.below(4) != 0 { 0 } else { price };
                let side = if rng.below(2) == 0 { SIDE_BUY } else { SIDE_SELL };
                let post_only = rng.below(8) == 0;
                let (account, instrument) = (1 + rng.below(3) as u32, rng.below(4) as u32);
                CommandRecord::place(id, account, instrument, side, order_type, tif, price, qty, post_only)
            }
            6..=8 => CommandRecord::replace(known, price, qty),
            _ => CommandRecord::cancel(known),
        }
    }

    #[test]
    fn the_ceilings_only_path_makes_the_same_events_and_state_as_the_full_check() {
        // Per mode (off, ceilings only, full): orders, and of them refused by risk.
        let (mut orders, mut refused) = ([0usize; 3], [0usize; 3]);
        for seed in 1..=32u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let ceilings: Vec<i64> =
                (0..3).map(|_| [0, 10, 100][rng.below(3) as usize] * (seed % 4).min(1) as i64).collect();
            let (mut fast, mut reference) = (core(&ceilings), core(&ceilings));
            let (mut controls, mut next_id) = (Controls::default(), 1u64);
            for step in 0..500u64 {
                let ingress = 1 + step * 300_000_000;
                let cmd = match rng.below(12) {
                    0..=1 => controls.next(&mut rng),
                    2 => {
                        // A snapshot's round trip, as recovery does it.
                        let mut bytes = Vec::new();
                        fast.risk.encode(&mut bytes);
                        let mut restored = Risk::default();
                        restored.set_ceilings(&ceilings).unwrap();
                        restored.restore(Risk::decode(&mut Cursor::new(&bytes)).unwrap());
                        fast.risk = restored;
                        continue;
                    }
                    _ => random_order(&mut rng, &mut next_id),
                };
                let mode = fast.risk.mode() as usize;
                let got = fast.process_stamped(&cmd, ingress).to_vec();
                let want = full_path(&mut reference, &cmd, ingress);
                assert_eq!(got, want, "seed {seed}, step {step}: {cmd:?}");
                if matches!(cmd.kind, CMD_PLACE_ORDER | CMD_REPLACE_ORDER) {
                    orders[mode] += 1;
                    refused[mode] += usize::from(got[0].reason >= reject::MAX_ORDER_QTY);
                }
            }
            assert_eq!(fast.matcher.state_hash(), reference.matcher.state_hash(), "seed {seed}");
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fast.risk.encode(&mut a);
            reference.risk.encode(&mut b);
            assert_eq!(a, b, "seed {seed}: the risk state (positions, rate windows) differs");
        }
        assert!(orders.iter().all(|&n| n > 300), "orders per mode (off, ceilings only, full): {orders:?}");
        assert!(refused[1] > 100 && refused[2] > 100, "refused by risk per mode: {refused:?}");
    }

    /// The first event's kind and reason.
    fn ack(core: &mut Core, cmd: CommandRecord) -> (u32, u32) {
        let ev = core.process(&cmd)[0];
        (ev.kind, ev.reason)
    }

    #[test]
    fn controls_switch_between_the_ceilings_only_and_the_full_check_and_back() {
        const ACCEPTED: (u32, u32) = (EV_ACCEPTED, 0);
        const APPLIED: (u32, u32) = (EV_CONTROL_APPLIED, 0);
        let refused = |reason| (EV_REJECTED, reason);
        let buy = |id, qty| CommandRecord::limit(id, 1, 0, SIDE_BUY, 100, qty);
        let mut c = core(&[10, 0, 10]);
        assert_eq!(c.risk.mode(), Mode::CeilingsOnly);
        assert_eq!(ack(&mut c, buy(1, 11)), refused(reject::MAX_ORDER_QTY));
        assert_eq!(ack(&mut c, buy(2, 10)), ACCEPTED);
        assert_eq!(ack(&mut c, CommandRecord::replace(2, 100, 11)), refused(reject::MAX_ORDER_QTY));
        assert_eq!(ack(&mut c, CommandRecord::limit(3, 1, 1, SIDE_BUY, 100, 1 << 40)), ACCEPTED, "no ceiling");
        let notional = |value| CommandRecord::set_risk_limit(ALL_ACCOUNTS, limit::MAX_NOTIONAL, None, value);
        assert_eq!(ack(&mut c, notional(500)), APPLIED);
        assert_eq!(c.risk.mode(), Mode::Full);
        assert_eq!(ack(&mut c, buy(4, 6)), refused(reject::MAX_NOTIONAL));
        assert_eq!(ack(&mut c, buy(5, 11)), refused(reject::MAX_ORDER_QTY), "the ceiling holds in the full check");
        assert_eq!(ack(&mut c, notional(0)), APPLIED);
        assert_eq!(c.risk.mode(), Mode::CeilingsOnly);
        assert_eq!(ack(&mut c, buy(6, 6)), ACCEPTED);
        assert_eq!(ack(&mut c, CommandRecord::kill_switch(1, true)), APPLIED);
        assert_eq!(c.risk.mode(), Mode::Full);
        assert_eq!(ack(&mut c, buy(7, 1)), refused(reject::KILL_SWITCH));
        assert_eq!(ack(&mut c, CommandRecord::kill_switch(1, false)), APPLIED);
        assert_eq!(c.risk.mode(), Mode::CeilingsOnly);
        assert_eq!(ack(&mut c, buy(8, 1)), ACCEPTED);
        assert_eq!(ack(&mut c, CommandRecord::set_risk_limit(1, limit::OPEN_ORDERS, Some(0), 1)), refused(8));
        assert_eq!(c.risk.mode(), Mode::CeilingsOnly, "a refused control changes nothing");
    }

    #[test]
    fn under_ceilings_only_the_matchers_own_reasons_still_come_first() {
        let mut c = core(&[10, 10, 10]);
        c.process(&CommandRecord::limit(1, 2, 0, SIDE_SELL, 100, 5));
        c.process(&CommandRecord::limit(9, 2, 2, SIDE_SELL, 100, 5));
        let big = 1_000;
        for (cmd, reason) in [
            (CommandRecord::limit(2, 1, 3, SIDE_BUY, 100, big), reject::UNKNOWN_SYMBOL),
            (CommandRecord::limit(3, 1, 2, SIDE_BUY, 7, big), reject::INVALID_PRICE),
            (CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, big), reject::DUPLICATE_ID),
            (CommandRecord::place(4, 1, 0, SIDE_BUY, TYPE_MARKET, TIF_IOC, 100, big, false), reject::INVALID_ORDER),
            (CommandRecord::place(5, 1, 0, SIDE_BUY, TYPE_LIMIT, TIF_GTC, 100, big, true), reject::WOULD_CROSS),
            (CommandRecord::limit(6, 1, 0, SIDE_BUY, 99, big), reject::MAX_ORDER_QTY),
            (CommandRecord::limit(6, 1, 0, SIDE_BUY, 99, 1), reject::DUPLICATE_ID),
            (CommandRecord::replace(9, 7, big), reject::INVALID_PRICE),
            (CommandRecord::replace(1, 100, 0), reject::INVALID_QTY),
        ] {
            assert_eq!(c.risk.mode(), Mode::CeilingsOnly);
            let ev = c.process(&cmd)[0];
            assert_eq!((ev.kind, ev.reason), (EV_REJECTED, reason), "{cmd:?}");
        }
    }
}
