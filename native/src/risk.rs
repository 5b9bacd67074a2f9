//! Pre-trade risk: per-account limits, kill switches and positions, checked
//! on the engine thread after the matcher's own validation and before an
//! order can trade or rest.
//!
//! Limits are set, and switches flipped, by control commands that travel the
//! command ring and the journal like orders, so a replay of the journal makes
//! exactly the same risk decisions. Nothing here reads a clock: the order
//! rate is counted by the commands' journaled ingress time.
//!
//! # Invariants
//! - A limit of 0 means "no limit"; an account without limits of its own
//!   has the defaults (set with account [`ALL_ACCOUNTS`]).
//! - Cancels are never refused by risk: reducing risk must always work.
//! - Positions change only by trades, for both the taker's and the maker's
//!   account.
//! - No arithmetic here overflows: products (notional, collar) are taken in
//!   `i128`, positions and would-be positions saturate at `i64::MIN`/`MAX`
//!   (unreachable in practice: every order is capped by its instrument's
//!   maximum order quantity, and reaching 2^63 lots takes over 4 × 10^12
//!   fills at 2^21 lots).
//! - An instrument's maximum order quantity (its `ceiling`, from the
//!   instrument table) caps every order on it, whatever the account's own
//!   limit: an account's `max_order_qty` can only be tighter.
//! - [`Risk::mode`] is always what the limits, switches and ceilings make it
//!   ([`Mode`]): every change of those (a control, the ceilings, a restore, a
//!   decode) recomputes it, and debug builds check it on every read. Under
//!   [`Mode::CeilingsOnly`], [`Risk::check_ceiling`] gives the answer
//!   [`Risk::check`] would, and neither changes any state.
//!
//! # Known limitations
//! - The position check assumes the whole order fills (the conservative
//!   reading) and ignores the account's other working orders on the same side.
//! - A market order's notional is priced at the best opposite price when
//!   there is one, else not checked.
//! - An account's entry stays once it has had a limit; while one of its
//!   limits is non-zero the full check runs for every account's orders.
//!
//! # Performance
//! - The usual configuration is the instrument table's ceilings and nothing
//!   else. The engine layer reads the cached [`Mode`] per order and then
//!   compares the quantity with the ceiling ([`Risk::check_ceiling`]),
//!   without gathering the book's best price and the account's working
//!   orders or copying limits (about 10% of ring throughput otherwise).
//! - The mode is recomputed at every control command, in time linear in the
//!   accounts that have had limits of their own: controls are rare next to
//!   orders.

use crate::cursor::Cursor;
use crate::ids::IdHasher;
use crate::record::*;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

/// Net positions, touched twice per trade: a row per account for the small
/// account numbers the gateway assigns (an array index, no hashing), a map
/// keyed by `account << 32 | instrument` for the rest.
#[derive(Default)]
struct Positions {
    rows: Vec<Vec<i64>>,
    other: HashMap<u64, i64, BuildHasherDefault<IdHasher>>,
}

impl Positions {
    const DENSE_ACCOUNTS: u32 = 4096;

    #[inline]
    fn get(&self, account: u32, instrument: u32) -> i64 {
        if account < Self::DENSE_ACCOUNTS {
            self.rows.get(account as usize).and_then(|r| r.get(instrument as usize)).copied().unwrap_or(0)
        } else {
            self.other.get(&(u64::from(account) << 32 | u64::from(instrument))).copied().unwrap_or(0)
        }
    }

    /// Adds `delta` lots, saturating at `i64::MIN`/`MAX` (a wrapped position
    /// would flip its sign, and an overflow must not panic the engine thread).
    #[inline]
    fn add(&mut self, account: u32, instrument: u32, delta: i64) {
        let slot = if account < Self::DENSE_ACCOUNTS {
            let (a, i) = (account as usize, instrument as usize);
            if self.rows.len() <= a {
                self.rows.resize_with(a + 1, Vec::new);
            }
            let row = &mut self.rows[a];
            if row.len() <= i {
                row.resize(i + 1, 0);
            }
            &mut row[i]
        } else {
            self.other.entry(u64::from(account) << 32 | u64::from(instrument)).or_insert(0)
        };
        *slot = slot.saturating_add(delta);
    }
}

/// The account number meaning "every account" (defaults; global kill switch).
pub const ALL_ACCOUNTS: u32 = u32::MAX;

/// Limit identifiers (the `instrument` word of a [`CMD_SET_RISK_LIMIT`] record).
pub mod limit {
    /// Largest quantity of one order, in lots.
    pub const MAX_ORDER_QTY: u32 = 1;
    /// Largest price × quantity of one order, in price units × lots.
    pub const MAX_NOTIONAL: u32 = 2;
    /// Largest absolute position per instrument, in lots.
    pub const POSITION: u32 = 3;
    /// Most working (resting) orders at once.
    pub const OPEN_ORDERS: u32 = 4;
    /// Most new orders and replaces per second of ingress time.
    pub const ORDERS_PER_SECOND: u32 = 5;
    /// Farthest a limit price may be from the instrument's reference price,
    /// in basis points.
    pub const COLLAR_BPS: u32 = 6;
}

/// One account's limits; 0 is "no limit".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_order_qty: i64,
    pub max_notional: i64,
    pub position: i64,
    pub open_orders: i64,
    pub orders_per_second: i64,
    pub collar_bps: i64,
}

impl Limits {
    fn set(&mut self, which: u32, value: i64) -> bool {
        let slot = match which {
            limit::MAX_ORDER_QTY => &mut self.max_order_qty,
            limit::MAX_NOTIONAL => &mut self.max_notional,
            limit::POSITION => &mut self.position,
            limit::OPEN_ORDERS => &mut self.open_orders,
            limit::ORDERS_PER_SECOND => &mut self.orders_per_second,
            limit::COLLAR_BPS => &mut self.collar_bps,
            _ => return false,
        };
        *slot = value;
        true
    }
}

/// Which check orders need, kept by [`Risk`] as its state changes
/// ([`Risk::mode`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Nothing configured: orders skip the check.
    #[default]
    Off,
    /// Only instruments' ceilings: no default or account limit, no
    /// override, no kill switch. [`Risk::check_ceiling`] answers as
    /// [`Risk::check`] would.
    CeilingsOnly,
    /// Anything else: [`Risk::check`].
    Full,
}

/// What the risk check needs to know of an order about to be accepted.
#[derive(Clone, Copy, Debug)]
pub struct Proposed {
    pub account: u32,
    pub instrument: u32,
    pub buy: bool,
    /// The limit price, or 0 for a market order.
    pub price: i64,
    /// The quantity that may trade (a replace's new open quantity).
    pub qty: i64,
    /// The best opposite price, if any (prices a market order's notional).
    /// `None` for a check that does not ask for it
    /// (`PreTradeCheck::NEEDS_CONTEXT`, `matcher.rs`).
    pub opposite: Option<i64>,
    /// The account's working orders now (0 for a check that does not ask
    /// for it, as `opposite`).
    pub open_orders: u32,
    /// True for a new order (counts toward the open-order limit).
    pub new_order: bool,
    /// The command's ingress time (for the rate limit).
    pub ingress_ns: u64,
}

/// Limits, switches, positions and rate counters.
#[derive(Default)]
pub struct Risk {
    defaults: Limits,
    accounts: HashMap<u32, Limits>,
    killed: HashSet<u32>,
    global_kill: bool,
    positions: Positions,
    /// Per account: (second of ingress time, requests in it).
    rate: HashMap<u32, (u64, i64)>,
    /// Per instrument: the reference price for the collar (last trade, or set).
    reference: Vec<i64>,
    /// Per account and instrument (`account << 32 | instrument`): limits that
    /// replace the account's own for that instrument.
    overrides: HashMap<u64, Override, BuildHasherDefault<IdHasher>>,
    /// Per instrument: the largest quantity of one order (0: none), from the
    /// instrument table. Configuration like the tick sizes, not state: not
    /// journaled, not in snapshots (the journal's meta record holds the
    /// table, so a journal is only continued with the same ceilings).
    ceilings: Vec<i64>,
    /// Some ceiling is set.
    has_ceilings: bool,
    /// Which check orders need (read per order, so kept apart).
    mode: Mode,
}

/// The limits one account has for one instrument instead of its own; `None`
/// keeps the account's. Only the limits that concern one order or one
/// position can differ by instrument (see [`Override::slot`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Override {
    max_order_qty: Option<i64>,
    max_notional: Option<i64>,
    position: Option<i64>,
    collar_bps: Option<i64>,
}

impl Override {
    /// The field for limit `which`, if that limit can be set per instrument.
    fn slot(&mut self, which: u32) -> Option<&mut Option<i64>> {
        match which {
            limit::MAX_ORDER_QTY => Some(&mut self.max_order_qty),
            limit::MAX_NOTIONAL => Some(&mut self.max_notional),
            limit::POSITION => Some(&mut self.position),
            limit::COLLAR_BPS => Some(&mut self.collar_bps),
            _ => None,
        }
    }

    fn apply(&self, l: &mut Limits) {
        l.max_order_qty = self.max_order_qty.unwrap_or(l.max_order_qty);
        l.max_notional = self.max_notional.unwrap_or(l.max_notional);
        l.position = self.position.unwrap_or(l.position);
        l.collar_bps = self.collar_bps.unwrap_or(l.collar_bps);
    }

    fn fields(&self) -> [Option<i64>; 4] {
        [self.max_order_qty, self.max_notional, self.position, self.collar_bps]
    }
}

impl Risk {
    /// Sets every instrument's maximum order quantity (instrument `i` has
    /// `ceilings[i]`; 0: none), replacing any set before.
    ///
    /// # Errors
    /// A negative ceiling; nothing changes then.
    pub fn set_ceilings(&mut self, ceilings: &[i64]) -> Result<(), String> {
        if let Some(i) = ceilings.iter().position(|&c| c < 0) {
            return Err(format!(
                "Cannot set maximum order quantities: instrument {i} has {}; it must be 0 (none) or positive",
                ceilings[i]
            ));
        }
        self.ceilings = ceilings.to_vec();
        self.has_ceilings = ceilings.iter().any(|&c| c > 0);
        self.refresh_mode();
        Ok(())
    }

    /// The maximum order quantity of every instrument (see [`Risk::set_ceilings`]).
    pub fn ceilings(&self) -> &[i64] {
        &self.ceilings
    }

    /// Takes the state of `from` (a snapshot's), keeping this risk book's
    /// configuration (the ceilings).
    pub fn restore(&mut self, from: Risk) {
        let ceilings = std::mem::take(&mut self.ceilings);
        let has_ceilings = self.has_ceilings;
        *self = Risk { ceilings, has_ceilings, ..from };
        self.refresh_mode();
    }

    /// Which check orders need now (see [`Mode`]).
    #[inline]
    pub fn mode(&self) -> Mode {
        debug_assert_eq!(self.mode, self.configured_mode(), "the cached risk mode is stale");
        self.mode
    }

    /// The mode the limits, switches and ceilings make: [`Mode::Full`] when
    /// any of them could refuse an order for another reason than its
    /// instrument's ceiling. Accounts whose limits are all 0 count as none
    /// (their entry stays after their limits are cleared).
    fn configured_mode(&self) -> Mode {
        let none = Limits::default();
        if self.global_kill
            || !self.killed.is_empty()
            || !self.overrides.is_empty()
            || self.defaults != none
            || self.accounts.values().any(|l| *l != none)
        {
            Mode::Full
        } else if self.has_ceilings {
            Mode::CeilingsOnly
        } else {
            Mode::Off
        }
    }

    fn refresh_mode(&mut self) {
        self.mode = self.configured_mode();
    }

    /// Applies a control command; returns the reject reason, or 0 when applied.
    pub fn control(&mut self, cmd: &CommandRecord) -> u32 {
        let reason = self.apply_control(cmd);
        self.refresh_mode();
        reason
    }

    fn apply_control(&mut self, cmd: &CommandRecord) -> u32 {
        match cmd.kind {
            CMD_SET_RISK_LIMIT => match cmd.risk_limit_scope() {
                LimitScope::Every => {
                    if cmd.risk_limit_value() < 0 {
                        return reject::UNKNOWN_COMMAND;
                    }
                    let limits = if cmd.account == ALL_ACCOUNTS {
                        &mut self.defaults
                    } else {
                        let defaults = self.defaults;
                        self.accounts.entry(cmd.account).or_insert(defaults)
                    };
                    if limits.set(cmd.risk_limit_id(), cmd.risk_limit_value()) { 0 } else { reject::UNKNOWN_COMMAND }
                }
                LimitScope::Instrument(instrument) => self.set_override(cmd, instrument),
                LimitScope::Invalid => reject::UNKNOWN_COMMAND,
            },
            CMD_SET_KILL_SWITCH => {
                let on = cmd.kill_switch_on();
                if cmd.account == ALL_ACCOUNTS {
                    self.global_kill = on;
                } else if on {
                    self.killed.insert(cmd.account);
                } else {
                    self.killed.remove(&cmd.account);
                }
                0
            }
            CMD_SET_REFERENCE_PRICE => {
                if cmd.price <= 0 {
                    return reject::INVALID_PRICE;
                }
                self.set_reference(cmd.instrument, cmd.price);
                0
            }
            _ => reject::UNKNOWN_COMMAND,
        }
    }

    /// A limit for one account and one instrument: the record's value, or
    /// -1 to go back to the account's own limit.
    fn set_override(&mut self, cmd: &CommandRecord, instrument: u32) -> u32 {
        let value = cmd.risk_limit_value();
        if cmd.account == ALL_ACCOUNTS || value < -1 {
            return reject::UNKNOWN_COMMAND;
        }
        let key = u64::from(cmd.account) << 32 | u64::from(instrument);
        let mut o = self.overrides.get(&key).copied().unwrap_or_default();
        let Some(slot) = o.slot(cmd.risk_limit_id()) else { return reject::UNKNOWN_COMMAND };
        *slot = (value >= 0).then_some(value);
        if o == Override::default() {
            self.overrides.remove(&key);
        } else {
            self.overrides.insert(key, o);
        }
        0
    }

    #[inline]
    fn set_reference(&mut self, instrument: u32, price: i64) {
        let i = instrument as usize;
        if self.reference.len() <= i {
            self.reference.resize(i + 1, 0);
        }
        self.reference[i] = price;
    }

    fn limits(&self, account: u32) -> &Limits {
        self.accounts.get(&account).unwrap_or(&self.defaults)
    }

    /// The check under [`Mode::CeilingsOnly`]: [`Risk::check`]'s answer for
    /// a `qty` lot order on `instrument` when only ceilings are configured
    /// (`MAX_ORDER_QTY` past the ceiling, else 0), and like it, nothing
    /// counted (no rate limit is set).
    #[inline]
    pub fn check_ceiling(&self, instrument: u32, qty: i64) -> u32 {
        debug_assert_eq!(self.mode, Mode::CeilingsOnly, "the ceilings alone decide only in their mode");
        match self.ceilings.get(instrument as usize) {
            Some(&ceiling) if ceiling > 0 && qty > ceiling => reject::MAX_ORDER_QTY,
            _ => 0,
        }
    }

    /// Checks an order; returns the reject reason, or 0 to let it through.
    /// A pass counts toward the account's order rate. Right in every
    /// [`Mode`] (it changes nothing when no rate limit applies).
    pub fn check(&mut self, p: &Proposed) -> u32 {
        // The emptiness tests keep an order clear of any hashing when only
        // defaults (and ceilings) are set.
        if self.global_kill || (!self.killed.is_empty() && self.killed.contains(&p.account)) {
            return reject::KILL_SWITCH;
        }
        let mut l = if self.accounts.is_empty() { self.defaults } else { *self.limits(p.account) };
        if !self.overrides.is_empty()
            && let Some(o) = self.overrides.get(&(u64::from(p.account) << 32 | u64::from(p.instrument)))
        {
            o.apply(&mut l);
        }
        let second = p.ingress_ns / 1_000_000_000;
        if l.orders_per_second > 0 {
            let (window, count) = self.rate.get(&p.account).copied().unwrap_or((second, 0));
            let count = if window == second { count } else { 0 };
            if count >= l.orders_per_second {
                return reject::ORDER_RATE_LIMIT;
            }
        }
        let ceiling = self.ceilings.get(p.instrument as usize).copied().unwrap_or(0);
        if ceiling > 0 && (l.max_order_qty == 0 || l.max_order_qty > ceiling) {
            l.max_order_qty = ceiling;
        }
        if l.max_order_qty > 0 && p.qty > l.max_order_qty {
            return reject::MAX_ORDER_QTY;
        }
        let reference = self.reference.get(p.instrument as usize).copied().unwrap_or(0);
        if l.collar_bps > 0 && p.price > 0 && reference > 0 {
            // |price - reference| / reference > bps / 10_000, in integers.
            let off = i128::from((p.price - reference).abs()) * 10_000;
            if off > i128::from(l.collar_bps) * i128::from(reference) {
                return reject::PRICE_COLLAR;
            }
        }
        if l.max_notional > 0 {
            let price = if p.price > 0 { Some(p.price) } else { p.opposite };
            if let Some(price) = price
                && i128::from(price) * i128::from(p.qty) > i128::from(l.max_notional)
            {
                return reject::MAX_NOTIONAL;
            }
        }
        if l.open_orders > 0 && p.new_order && i64::from(p.open_orders) >= l.open_orders {
            return reject::OPEN_ORDER_LIMIT;
        }
        if l.position > 0 {
            let now = self.positions.get(p.account, p.instrument);
            let after = if p.buy { now.saturating_add(p.qty) } else { now.saturating_sub(p.qty) };
            // unsigned_abs: i64::MIN has no i64 absolute value (abs() would
            // overflow, and wrap to a negative that passes the check).
            if after.unsigned_abs() > l.position.unsigned_abs() {
                return reject::POSITION_LIMIT;
            }
        }
        if l.orders_per_second > 0 {
            let entry = self.rate.entry(p.account).or_insert((second, 0));
            if entry.0 != second {
                *entry = (second, 0);
            }
            entry.1 += 1;
        }
        0
    }

    /// Books a trade: the taker bought (`taker_buys`) or sold `qty` at `price`.
    pub fn on_trade(&mut self, instrument: u32, taker: u32, maker: u32, taker_buys: bool, price: i64, qty: i64) {
        let signed = if taker_buys { qty } else { -qty };
        self.positions.add(taker, instrument, signed);
        self.positions.add(maker, instrument, -signed);
        self.set_reference(instrument, price);
    }

    /// An account's net position in an instrument, in lots.
    pub fn position(&self, account: u32, instrument: u32) -> i64 {
        self.positions.get(account, instrument)
    }

    /// Every non-zero net position as `(account, instrument, lots)`, ascending.
    pub fn positions(&self) -> Vec<(u32, u32, i64)> {
        let mut positions: Vec<(u32, u32, i64)> = Vec::new();
        for (account, row) in self.positions.rows.iter().enumerate() {
            for (instrument, &net) in row.iter().enumerate() {
                if net != 0 {
                    positions.push((account as u32, instrument as u32, net));
                }
            }
        }
        positions.extend(
            self.positions
                .other
                .iter()
                .filter(|(_, net)| **net != 0)
                .map(|(&k, &net)| ((k >> 32) as u32, k as u32, net)),
        );
        positions.sort_unstable();
        positions
    }

    /// True when any limit, ceiling or kill switch is set ([`Mode::Off`]
    /// otherwise). Until then orders skip the check; positions and reference
    /// prices are kept from the start anyway, so that limits set later see
    /// the true positions.
    pub fn checks_configured(&self) -> bool {
        self.mode() != Mode::Off
    }
}

impl Limits {
    const FIELDS: usize = 6;

    fn values(&self) -> [i64; Self::FIELDS] {
        [
            self.max_order_qty,
            self.max_notional,
            self.position,
            self.open_orders,
            self.orders_per_second,
            self.collar_bps,
        ]
    }

    fn from_values(v: [i64; Self::FIELDS]) -> Self {
        let [max_order_qty, max_notional, position, open_orders, orders_per_second, collar_bps] = v;
        Limits { max_order_qty, max_notional, position, open_orders, orders_per_second, collar_bps }
    }
}

impl Risk {
    /// Appends the whole risk state to a snapshot, in a canonical order (so
    /// equal states encode to equal bytes):
    ///
    /// ```text
    /// defaults: 6 x i64 (max_order_qty, max_notional, position, open_orders, orders_per_second, collar_bps)
    /// u64 n | n x (u32 account, 6 x i64)          per-account limits, by account
    /// u64 n | n x u32                              killed accounts, ascending
    /// u32 global kill (0 or 1)
    /// u64 n | n x (u32 account, u32 instrument, i64 net lots)   non-zero positions, ascending
    /// u64 n | n x (u32 account, u64 second, i64 count)          order-rate windows, by account
    /// u64 n | n x i64                              reference price per instrument (0: none)
    /// u64 n | n x (u32 account, u32 instrument, 4 x i64)   per-instrument overrides of max_order_qty,
    ///                                              max_notional, position, collar_bps (-1: none), ascending
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) {
        let limits = |out: &mut Vec<u8>, l: &Limits| {
            for v in l.values() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        };
        limits(out, &self.defaults);
        let mut accounts: Vec<_> = self.accounts.iter().collect();
        accounts.sort_unstable_by_key(|(a, _)| **a);
        out.extend_from_slice(&(accounts.len() as u64).to_le_bytes());
        for (account, l) in accounts {
            out.extend_from_slice(&account.to_le_bytes());
            limits(out, l);
        }
        let mut killed: Vec<u32> = self.killed.iter().copied().collect();
        killed.sort_unstable();
        out.extend_from_slice(&(killed.len() as u64).to_le_bytes());
        for account in killed {
            out.extend_from_slice(&account.to_le_bytes());
        }
        out.extend_from_slice(&u32::from(self.global_kill).to_le_bytes());
        let positions = self.positions();
        out.extend_from_slice(&(positions.len() as u64).to_le_bytes());
        for (account, instrument, net) in positions {
            out.extend_from_slice(&account.to_le_bytes());
            out.extend_from_slice(&instrument.to_le_bytes());
            out.extend_from_slice(&net.to_le_bytes());
        }
        let mut rate: Vec<_> = self.rate.iter().collect();
        rate.sort_unstable_by_key(|(a, _)| **a);
        out.extend_from_slice(&(rate.len() as u64).to_le_bytes());
        for (account, (second, count)) in rate {
            out.extend_from_slice(&account.to_le_bytes());
            out.extend_from_slice(&second.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
        }
        out.extend_from_slice(&(self.reference.len() as u64).to_le_bytes());
        for price in &self.reference {
            out.extend_from_slice(&price.to_le_bytes());
        }
        let mut overrides: Vec<_> = self.overrides.iter().collect();
        overrides.sort_unstable_by_key(|(k, _)| **k);
        out.extend_from_slice(&(overrides.len() as u64).to_le_bytes());
        for (key, o) in overrides {
            out.extend_from_slice(&((key >> 32) as u32).to_le_bytes());
            out.extend_from_slice(&(*key as u32).to_le_bytes());
            for v in o.fields() {
                out.extend_from_slice(&v.unwrap_or(-1).to_le_bytes());
            }
        }
    }

    /// Reads what [`Risk::encode`] wrote.
    pub fn decode(c: &mut Cursor<'_>) -> Result<Risk, String> {
        let limits = |c: &mut Cursor<'_>| -> Result<Limits, String> {
            let mut v = [0i64; Limits::FIELDS];
            for slot in &mut v {
                *slot = c.i64()?;
            }
            Ok(Limits::from_values(v))
        };
        let mut risk = Risk { defaults: limits(c)?, ..Risk::default() };
        for _ in 0..c.count(4 + 8 * Limits::FIELDS)? {
            let account = c.u32()?;
            risk.accounts.insert(account, limits(c)?);
        }
        for _ in 0..c.count(4)? {
            risk.killed.insert(c.u32()?);
        }
        risk.global_kill = match c.u32()? {
            0 => false,
            1 => true,
            v => return Err(format!("global kill switch {v} is not 0 or 1")),
        };
        for _ in 0..c.count(16)? {
            let (account, instrument, net) = (c.u32()?, c.u32()?, c.i64()?);
            risk.positions.add(account, instrument, net);
        }
        for _ in 0..c.count(20)? {
            let account = c.u32()?;
            risk.rate.insert(account, (c.u64()?, c.i64()?));
        }
        for _ in 0..c.count(8)? {
            risk.reference.push(c.i64()?);
        }
        for _ in 0..c.count(8 + 4 * 8)? {
            let key = u64::from(c.u32()?) << 32 | u64::from(c.u32()?);
            let mut v = [None; 4];
            for slot in &mut v {
                let x = c.i64()?;
                *slot = (x >= 0).then_some(x);
            }
            let [max_order_qty, max_notional, position, collar_bps] = v;
            risk.overrides.insert(key, Override { max_order_qty, max_notional, position, collar_bps });
        }
        risk.refresh_mode();
        Ok(risk)
    }
}

/// Seeded draws for the property tests here and in the engine layer's.
#[cfg(test)]
pub(crate) mod test_draws {
    use super::*;

    /// xorshift64*, seeded: the property tests' draws.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        }
    }

    /// Draws control commands that switch things on and back off, so that
    /// the risk book goes in and out of every mode: half the time it clears
    /// something it set before, else it draws a limit of any kind for the
    /// defaults, an account or one instrument (or back to none), a kill
    /// switch, a reference price, or a refused command.
    #[derive(Default)]
    pub(crate) struct Controls {
        set: Vec<CommandRecord>,
    }

    impl Controls {
        pub(crate) fn next(&mut self, rng: &mut Rng) -> CommandRecord {
            if !self.set.is_empty() && rng.below(2) == 0 {
                let mut undo = self.set.swap_remove(rng.below(self.set.len() as u64) as usize);
                undo.qty = match (undo.kind, undo.risk_limit_scope()) {
                    (CMD_SET_RISK_LIMIT, LimitScope::Instrument(_)) => -1,
                    _ => 0,
                };
                return undo;
            }
            let account = [1, 2, ALL_ACCOUNTS][rng.below(3) as usize];
            let which = 1 + rng.below(7) as u32; // 7: no such limit
            let value = [0, 1, 50, 1_000][rng.below(4) as usize];
            let cmd = match rng.below(10) {
                0..=4 => CommandRecord::set_risk_limit(account, which, None, value),
                5..=6 => CommandRecord::set_risk_limit(account, which, Some(rng.below(3) as u32), value - 1),
                7..=8 => CommandRecord::kill_switch(account, rng.below(3) != 0),
                _ => return CommandRecord::reference_price(rng.below(3) as u32, 90 + rng.below(20) as i64),
            };
            self.set.push(cmd);
            cmd
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_draws::{Controls, Rng};
    use super::*;

    #[test]
    fn positions_are_kept_for_small_and_large_account_numbers_alike() {
        let mut risk = Risk::default();
        for (taker, maker) in [(1, 2), (Positions::DENSE_ACCOUNTS + 7, u32::MAX - 1)] {
            risk.on_trade(3, taker, maker, true, 100, 5);
            risk.on_trade(3, taker, maker, false, 100, 2);
            assert_eq!((risk.position(taker, 3), risk.position(maker, 3)), (3, -3));
            assert_eq!(risk.position(taker, 0), 0);
        }
    }

    fn order(account: u32, buy: bool, price: i64, qty: i64) -> Proposed {
        Proposed {
            account,
            instrument: 0,
            buy,
            price,
            qty,
            opposite: None,
            open_orders: 0,
            new_order: true,
            ingress_ns: 1,
        }
    }

    fn limit_of(account: u32, which: u32, qty: i64) -> CommandRecord {
        let mut c = CommandRecord::cancel(1);
        (c.kind, c.account, c.instrument, c.qty) = (CMD_SET_RISK_LIMIT, account, which, qty);
        c
    }

    #[test]
    fn positions_saturate_at_the_ends_of_i64_instead_of_wrapping() {
        let mut risk = Risk::default();
        for account in [1, Positions::DENSE_ACCOUNTS + 1] {
            let maker = account + 1;
            risk.on_trade(0, account, maker, true, 1, i64::MAX);
            risk.on_trade(0, account, maker, true, i64::MAX, i64::MAX);
            assert_eq!(risk.position(account, 0), i64::MAX, "a long past i64::MAX stays at the end");
            assert_eq!(risk.position(maker, 0), -i64::MAX - 1, "and the short at i64::MIN");
            risk.on_trade(0, account, maker, false, 1, 5);
            assert_eq!((risk.position(account, 0), risk.position(maker, 0)), (i64::MAX - 5, i64::MIN + 5));
        }
    }

    #[test]
    fn checks_take_extreme_prices_and_quantities_without_overflow() {
        let mut risk = Risk::default();
        for (which, value) in
            [(limit::MAX_NOTIONAL, i64::MAX), (limit::POSITION, i64::MAX), (limit::COLLAR_BPS, 10_000)]
        {
            assert_eq!(risk.control(&limit_of(ALL_ACCOUNTS, which, value)), 0);
        }
        risk.set_reference(0, 1);
        // i64::MAX x i64::MAX is far beyond i64: the notional is taken in i128.
        assert_eq!(risk.check(&order(1, true, 0, i64::MAX)), 0, "a market order without an opposite price");
        let p = Proposed { opposite: Some(i64::MAX), ..order(1, true, 0, i64::MAX) };
        assert_eq!(risk.check(&p), reject::MAX_NOTIONAL);
        assert_eq!(risk.check(&order(1, true, 2, i64::MAX / 2)), 0, "2 x (2^62 - 1) fits");
        assert_eq!(risk.check(&order(1, true, 2, i64::MAX / 2 + 1)), reject::MAX_NOTIONAL);
        // The collar's |price - reference| x 10,000 is taken in i128 too.
        assert_eq!(risk.check(&order(1, true, i64::MAX, 1)), reject::PRICE_COLLAR);
        // A short at i64::MIN selling more: its would-be position saturates,
        // and its size (2^63) is beyond any limit, including i64::MAX.
        risk.on_trade(0, 2, 3, false, 1, i64::MAX);
        risk.on_trade(0, 2, 3, false, 1, 1);
        assert_eq!(risk.position(2, 0), i64::MIN);
        assert_eq!(risk.check(&order(2, false, 1, 1)), reject::POSITION_LIMIT);
        assert_eq!(risk.check(&order(2, true, 1, 1)), 0, "buying back reduces it");
    }

    #[test]
    fn an_instruments_ceiling_caps_every_order_and_only_a_tighter_account_limit_wins() {
        let mut risk = Risk::default();
        assert!(!risk.checks_configured());
        assert!(risk.set_ceilings(&[1_000, -1]).is_err());
        assert!(!risk.checks_configured(), "a refused table changes nothing");
        risk.set_ceilings(&[1_000, 0]).unwrap();
        assert!(risk.checks_configured(), "a ceiling alone turns the check on");
        assert_eq!(risk.check(&order(1, true, 100, 1_000)), 0);
        assert_eq!(risk.check(&order(1, true, 100, 1_001)), reject::MAX_ORDER_QTY);
        assert_eq!(risk.check(&order(1, true, 100, i64::MAX)), reject::MAX_ORDER_QTY);
        let other = Proposed { instrument: 1, ..order(1, true, 100, i64::MAX) };
        assert_eq!(risk.check(&other), 0, "instrument 1 has no ceiling");
        // A looser limit of the account's (or the defaults') does not lift it...
        assert_eq!(risk.control(&limit_of(ALL_ACCOUNTS, limit::MAX_ORDER_QTY, 5_000)), 0);
        assert_eq!(risk.control(&limit_of(7, limit::MAX_ORDER_QTY, 2_000)), 0);
        assert_eq!(risk.check(&order(1, true, 100, 1_001)), reject::MAX_ORDER_QTY);
        assert_eq!(risk.check(&order(7, true, 100, 1_001)), reject::MAX_ORDER_QTY);
        assert_eq!(risk.check(&Proposed { instrument: 1, ..order(7, true, 100, 2_000) }), 0);
        // ...a tighter one applies.
        assert_eq!(risk.control(&limit_of(7, limit::MAX_ORDER_QTY, 10)), 0);
        assert_eq!(risk.check(&order(7, true, 100, 11)), reject::MAX_ORDER_QTY);
        assert_eq!(risk.check(&order(1, true, 100, 1_000)), 0);
    }

    #[test]
    fn a_restored_snapshot_keeps_the_ceilings_which_are_configuration() {
        let mut risk = Risk::default();
        risk.set_ceilings(&[10]).unwrap();
        risk.on_trade(0, 1, 2, true, 100, 3);
        let mut bytes = Vec::new();
        risk.encode(&mut bytes);
        let mut fresh = Risk::default();
        fresh.set_ceilings(&[10]).unwrap();
        fresh.restore(Risk::decode(&mut Cursor::new(&bytes)).unwrap());
        assert_eq!((fresh.position(1, 0), fresh.ceilings()), (3, &[10][..]));
        assert_eq!(fresh.check(&order(1, true, 100, 11)), reject::MAX_ORDER_QTY);
        let mut again = Vec::new();
        fresh.encode(&mut again);
        assert_eq!(bytes, again, "the ceilings are not part of the encoded state");
    }

    fn random_order(rng: &mut Rng) -> Proposed {
        Proposed {
            account: 1 + rng.below(3) as u32,
            instrument: rng.below(4) as u32, // 3: beyond the ceilings
            buy: rng.below(2) == 0,
            price: [0, 95, 100, 130][rng.below(4) as usize],
            qty: [1, 9, 10, 11, 100, i64::MAX][rng.below(6) as usize],
            opposite: [None, Some(101)][rng.below(2) as usize],
            open_orders: rng.below(3) as u32,
            new_order: rng.below(2) == 0,
            ingress_ns: rng.below(4) * 500_000_000,
        }
    }

    fn encoded(risk: &Risk) -> Vec<u8> {
        let mut bytes = Vec::new();
        risk.encode(&mut bytes);
        bytes
    }

    #[test]
    fn the_ceiling_check_answers_as_the_full_check_whenever_the_mode_says_ceilings_only() {
        let mut seen = [0usize; 3];
        for seed in 1..=40u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let mut risk = Risk::default();
            let ceilings: Vec<i64> =
                (0..3).map(|_| [0, 10, 100][rng.below(3) as usize] * (seed % 5).min(1) as i64).collect();
            risk.set_ceilings(&ceilings).unwrap();
            let mut controls = Controls::default();
            for _ in 0..60 {
                risk.control(&controls.next(&mut rng));
                if rng.below(4) == 0 {
                    risk.on_trade(rng.below(3) as u32, 1, 2, rng.below(2) == 0, 100, 1 + rng.below(20) as i64);
                }
                let mode = risk.mode();
                seen[mode as usize] += 1;
                for _ in 0..20 {
                    let p = random_order(&mut rng);
                    let before = encoded(&risk);
                    let full = risk.check(&p);
                    match mode {
                        Mode::Off => assert_eq!(full, 0, "nothing configured refuses nothing: {p:?}"),
                        Mode::CeilingsOnly => {
                            assert_eq!(risk.check_ceiling(p.instrument, p.qty), full, "seed {seed}: {p:?}");
                            assert_eq!(encoded(&risk), before, "the full check counted something: {p:?}");
                        }
                        Mode::Full => {}
                    }
                }
            }
        }
        // Every seed has some ceiling or none; both paths are visited often.
        assert!(seen.iter().all(|&n| n > 100), "modes visited (off, ceilings only, full): {seen:?}");
    }

    #[test]
    fn the_mode_follows_every_control_that_sets_or_clears_a_limit_or_switch() {
        let mut risk = Risk::default();
        assert_eq!(risk.mode(), Mode::Off);
        risk.set_ceilings(&[10, 0]).unwrap();
        assert_eq!(risk.mode(), Mode::CeilingsOnly);
        let steps: [(CommandRecord, Mode); 14] = [
            (CommandRecord::set_risk_limit(ALL_ACCOUNTS, limit::MAX_NOTIONAL, None, 500), Mode::Full),
            (CommandRecord::set_risk_limit(ALL_ACCOUNTS, limit::MAX_NOTIONAL, None, 0), Mode::CeilingsOnly),
            (CommandRecord::set_risk_limit(7, limit::OPEN_ORDERS, None, 3), Mode::Full),
            (CommandRecord::set_risk_limit(7, limit::OPEN_ORDERS, None, 0), Mode::CeilingsOnly),
            (CommandRecord::set_risk_limit(7, limit::POSITION, Some(1), 5), Mode::Full),
            (CommandRecord::set_risk_limit(7, limit::POSITION, Some(1), -1), Mode::CeilingsOnly),
            (CommandRecord::kill_switch(7, true), Mode::Full),
            (CommandRecord::kill_switch(7, false), Mode::CeilingsOnly),
            (CommandRecord::kill_switch(ALL_ACCOUNTS, true), Mode::Full),
            (CommandRecord::kill_switch(ALL_ACCOUNTS, false), Mode::CeilingsOnly),
            (CommandRecord::reference_price(0, 100), Mode::CeilingsOnly),
            (CommandRecord::set_risk_limit(7, 99, None, 5), Mode::CeilingsOnly),
            // An override of 0 ("no limit" for that instrument) still
            // replaces the account's own limit: the full check decides.
            (CommandRecord::set_risk_limit(7, limit::MAX_ORDER_QTY, Some(0), 0), Mode::Full),
            (CommandRecord::set_risk_limit(7, limit::MAX_ORDER_QTY, Some(0), -1), Mode::CeilingsOnly),
        ];
        for (i, (cmd, mode)) in steps.iter().enumerate() {
            risk.control(cmd);
            assert_eq!(risk.mode(), *mode, "step {i}");
        }
        risk.set_ceilings(&[0, 0]).unwrap();
        assert_eq!(risk.mode(), Mode::Off, "no ceiling left");
        risk.control(&CommandRecord::kill_switch(7, true));
        assert_eq!(risk.mode(), Mode::Full, "a switch alone turns the full check on");
    }

    #[test]
    fn a_restored_or_decoded_risk_book_recomputes_its_mode() {
        let ceilings_only = {
            let mut risk = Risk::default();
            risk.on_trade(0, 1, 2, true, 100, 3);
            encoded(&risk)
        };
        let limited = {
            let mut risk = Risk::default();
            risk.control(&CommandRecord::set_risk_limit(1, limit::POSITION, None, 5));
            encoded(&risk)
        };
        assert_eq!(Risk::decode(&mut Cursor::new(&ceilings_only)).unwrap().mode(), Mode::Off);
        assert_eq!(Risk::decode(&mut Cursor::new(&limited)).unwrap().mode(), Mode::Full);
        // Into a book with ceilings: its own mode before says nothing.
        let mut risk = Risk::default();
        risk.set_ceilings(&[10]).unwrap();
        risk.restore(Risk::decode(&mut Cursor::new(&ceilings_only)).unwrap());
        assert_eq!(risk.mode(), Mode::CeilingsOnly, "the ceilings stay and nothing else is set");
        assert_eq!(risk.check_ceiling(0, 11), reject::MAX_ORDER_QTY);
        risk.restore(Risk::decode(&mut Cursor::new(&limited)).unwrap());
        assert_eq!(risk.mode(), Mode::Full);
        risk.restore(Risk::decode(&mut Cursor::new(&ceilings_only)).unwrap());
        assert_eq!(risk.mode(), Mode::CeilingsOnly, "and back");
        assert_eq!(risk.position(1, 0), 3);
    }

    #[test]
    fn the_risk_state_round_trips_through_its_encoding() {
        let mut risk = Risk::default();
        let control = |kind, account, instrument, price, qty| {
            let mut c = CommandRecord::cancel(1);
            (c.kind, c.account, c.instrument, c.price, c.qty) = (kind, account, instrument, price, qty);
            c
        };
        for c in [
            control(CMD_SET_RISK_LIMIT, ALL_ACCOUNTS, limit::MAX_ORDER_QTY, 0, 100),
            control(CMD_SET_RISK_LIMIT, 7, limit::ORDERS_PER_SECOND, 0, 3),
            control(CMD_SET_RISK_LIMIT, 9, limit::POSITION, 0, 50),
            control(CMD_SET_KILL_SWITCH, 4, 0, 0, 1),
            control(CMD_SET_KILL_SWITCH, ALL_ACCOUNTS, 0, 0, 1),
            control(CMD_SET_REFERENCE_PRICE, 0, 2, 12_345, 0),
            control(CMD_SET_RISK_LIMIT, 9, limit::MAX_ORDER_QTY, 1 + 2, 7),
        ] {
            assert_eq!(risk.control(&c), 0);
        }
        risk.on_trade(1, 7, Positions::DENSE_ACCOUNTS + 3, true, 100, 5);
        let p = Proposed {
            account: 7,
            instrument: 1,
            buy: true,
            price: 100,
            qty: 1,
            opposite: None,
            open_orders: 0,
            new_order: true,
            ingress_ns: 5_000_000_000,
        };
        risk.global_kill = false;
        assert_eq!(risk.check(&p), 0);
        let mut bytes = Vec::new();
        risk.encode(&mut bytes);
        let back = Risk::decode(&mut Cursor::new(&bytes)).unwrap();
        let mut again = Vec::new();
        back.encode(&mut again);
        assert_eq!(bytes, again);
        assert_eq!(back.position(Positions::DENSE_ACCOUNTS + 3, 1), -5);
        assert_eq!(back.rate.get(&7), Some(&(5, 1)));
        assert!(back.killed.contains(&4) && back.checks_configured());
    }
}
