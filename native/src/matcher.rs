//! The pure matching core: `(state, command) -> events`.
//!
//! [`Matcher::apply`] validates one command, matches it by price-time
//! priority and appends its events to a caller-owned `Vec`. It never calls
//! out, reads a clock or allocates once warm (the `Vec`, the order slab and
//! the id map keep their capacity), so the same command stream always yields
//! the same events and the same [`Matcher::state_hash`].
//!
//! # Invariants
//! - Books are never crossed between commands.
//! - Every command yields at least one event; the first is its
//!   acknowledgement (`accepted`, `rejected`, `cancelled` or `replaced`).
//! - An id, once carried by a `new` command, is never accepted again in the
//!   matcher's lifetime, whatever became of the first order.
//! - Quantity is conserved: an accepted order's quantity equals what it
//!   traded, plus what was cancelled or expired, plus what rests.
//! - A resting order keeps its place command's `tag` and `placer` (who
//!   placed it: `record.rs`) until it leaves the book, replaces included.
//!   They are labels for recovery, never matching inputs, and not in the
//!   state hash: the same books with other labels hash the same.
//!
//! # Known limitations
//! - The id map keeps every id ever seen (to reject duplicates), so memory
//!   grows with the number of orders in a session: 32 to 64 bytes per id.
//!   A trading day's session bounds it: nothing trims it, and a snapshot
//!   carries it whole.
//!
//! # Performance
//! Order lookup is one probe in the id table (`ids.rs`); levels are found
//! in O(1) in the book's ladder (see `book.rs`). `benches/matching.rs` and
//! `deno task bench` measure it.

use crate::book::{Book, NIL, Order, Orders, Side};
use crate::ids::IdTable;
use crate::record::*;
use crate::risk::Proposed;

/// What [`Matcher::apply_with`] consults before accepting an order.
pub trait PreTradeCheck {
    /// False for a check that never refuses: the matcher then skips even
    /// gathering what a check would need (compiled away).
    const ACTIVE: bool = true;
    /// False for a check that reads only the order itself, not the book's
    /// best opposite price ([`Proposed::opposite`]) or the account's working
    /// orders ([`Proposed::open_orders`]): the matcher then does not look
    /// them up and passes `None` and 0 (compiled away).
    const NEEDS_CONTEXT: bool = true;
    /// Returns a reject reason, or 0 to let the order through.
    fn check(&mut self, order: &Proposed) -> u32;
}

/// The check that never refuses.
pub struct NoCheck;

impl PreTradeCheck for NoCheck {
    const ACTIVE: bool = false;
    fn check(&mut self, _: &Proposed) -> u32 {
        0
    }
}

impl<F: FnMut(&Proposed) -> u32> PreTradeCheck for F {
    fn check(&mut self, order: &Proposed) -> u32 {
        self(order)
    }
}

/// An id that was carried by a `new` but is not resting.
pub(crate) const GONE: u32 = NIL;

/// A resting order as a snapshot stores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestingOrder {
    pub id: u64,
    pub account: u32,
    pub side: u8,
    pub post_only: bool,
    pub price: i64,
    pub leaves: i64,
    /// Its place command's `tag` (the client's order id; 0: none).
    pub tag: u64,
    /// Its place command's `placer` (0: its own account; else the placing
    /// account's number + 1).
    pub placer: u32,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Every book, every resting order, every id seen.
pub struct Matcher {
    books: Vec<Book>,
    orders: Orders,
    ids: IdTable,
    /// Working orders per account.
    open: OpenCounts,
}

/// Working orders per account: dense for the small account numbers the
/// gateway assigns, a map for the rest.
#[derive(Default)]
struct OpenCounts {
    small: Vec<u32>,
    large: std::collections::HashMap<u32, u32>,
}

impl OpenCounts {
    const SMALL: u32 = 4096;

    #[inline]
    fn get(&self, account: u32) -> u32 {
        if account < Self::SMALL {
            self.small.get(account as usize).copied().unwrap_or(0)
        } else {
            self.large.get(&account).copied().unwrap_or(0)
        }
    }

    #[inline]
    fn add(&mut self, account: u32, delta: i32) {
        let slot = if account < Self::SMALL {
            let i = account as usize;
            if self.small.len() <= i {
                self.small.resize(i + 1, 0);
            }
            &mut self.small[i]
        } else {
            self.large.entry(account).or_insert(0)
        };
        *slot = slot.wrapping_add_signed(delta);
    }
}

#[inline]
fn side_of(s: u8) -> Side {
    if s == SIDE_BUY { Side::Bid } else { Side::Ask }
}

#[inline]
fn opposite(s: Side) -> Side {
    match s {
        Side::Bid => Side::Ask,
        Side::Ask => Side::Bid,
    }
}

impl Matcher {
    /// A matcher for instruments with these tick sizes (instrument `i` has
    /// `ticks[i]`). Fails when a tick is not positive.
    pub fn new(ticks: &[i64]) -> Result<Self, String> {
        if let Some(i) = ticks.iter().position(|&t| t <= 0) {
            return Err(format!(
                "Cannot create matcher: instrument {i} has tick size {}; it must be positive",
                ticks[i]
            ));
        }
        Ok(Matcher {
            books: ticks.iter().map(|&t| Book::new(t)).collect(),
            orders: Orders::default(),
            ids: IdTable::default(),
            open: OpenCounts::default(),
        })
    }

    /// Pre-sizes the order slab and id map for `orders` orders.
    pub fn reserve(&mut self, orders: usize) {
        self.orders.reserve(orders);
        self.ids.reserve(orders);
    }

    /// The large allocations behind the books and orders, for placement.
    pub fn memory(&self) -> Vec<(*const u8, usize)> {
        let mut regions: Vec<(*const u8, usize)> = self.books.iter().flat_map(Book::memory).collect();
        regions.push(self.orders.memory());
        regions
    }

    /// Number of instruments.
    pub fn instruments(&self) -> usize {
        self.books.len()
    }

    /// Applies one command, appending its events to `out`.
    pub fn apply(&mut self, cmd: &CommandRecord, out: &mut Vec<EventRecord>) {
        self.apply_with(cmd, out, &mut NoCheck);
    }

    /// [`Matcher::apply`], with `check` consulted for every new order and
    /// replace that passed the matcher's own validation, before it is
    /// accepted: a non-zero reason rejects it (the engine layer's pre-trade
    /// risk). The matcher stays pure as long as `check` is.
    pub fn apply_with<C: PreTradeCheck>(&mut self, cmd: &CommandRecord, out: &mut Vec<EventRecord>, check: &mut C) {
        match cmd.kind {
            CMD_PLACE_ORDER => self.place(cmd, out, check),
            CMD_CANCEL_ORDER => self.cancel(cmd.id, out),
            CMD_REPLACE_ORDER => self.replace(cmd, out, check),
            CMD_QUERY_STATE_HASH => {
                out.push(EventRecord::state_hash_answer(cmd.id, self.state_hash()));
            }
            _ => out.push(reject(cmd.id, NO_INSTRUMENT, reject::UNKNOWN_COMMAND)),
        }
    }

    fn place<C: PreTradeCheck>(&mut self, cmd: &CommandRecord, out: &mut Vec<EventRecord>, check: &mut C) {
        let instrument = cmd.instrument;
        let Some(book) = self.books.get(instrument as usize) else {
            self.remember(cmd.id);
            return out.push(reject(cmd.id, NO_INSTRUMENT, reject::UNKNOWN_SYMBOL));
        };
        let limit = cmd.order_type == TYPE_LIMIT;
        let reason = if cmd.qty <= 0 {
            reject::INVALID_QTY
        } else if limit && (cmd.price <= 0 || cmd.price % book.tick() != 0) {
            reject::INVALID_PRICE
        } else {
            0
        };
        if reason != 0 {
            self.remember(cmd.id);
            return out.push(reject(cmd.id, instrument, reason));
        }
        if self.ids.contains(cmd.id) {
            return out.push(reject(cmd.id, instrument, reject::DUPLICATE_ID));
        }
        // From here the id is taken whatever happens: every exit below
        // records it once, as resting or gone (one table write, not two).
        let post_only = cmd.flags & FLAG_POST_ONLY != 0;
        let known_type = cmd.order_type == TYPE_LIMIT || cmd.order_type == TYPE_MARKET;
        let known_tif = cmd.tif <= TIF_FOK && cmd.side <= SIDE_SELL;
        if !known_type || !known_tif || (post_only && !(limit && cmd.tif == TIF_GTC)) || (!limit && cmd.price != 0) {
            self.ids.insert(cmd.id, GONE);
            return out.push(reject(cmd.id, instrument, reject::INVALID_ORDER));
        }
        let side = side_of(cmd.side);
        if post_only && self.crosses(instrument, side, cmd.price) {
            self.ids.insert(cmd.id, GONE);
            return out.push(reject(cmd.id, instrument, reject::WOULD_CROSS));
        }
        let reason = if !C::ACTIVE {
            0
        } else {
            check.check(&Proposed {
                account: cmd.account,
                instrument,
                buy: side == Side::Bid,
                price: if limit { cmd.price } else { 0 },
                qty: cmd.qty,
                opposite: self.opposite_best(C::NEEDS_CONTEXT, instrument, side),
                open_orders: if C::NEEDS_CONTEXT { self.open.get(cmd.account) } else { 0 },
                new_order: true,
                ingress_ns: cmd.ingress_ns,
            })
        };
        if reason != 0 {
            self.ids.insert(cmd.id, GONE);
            return out.push(reject(cmd.id, instrument, reason));
        }
        let mut accepted = EventRecord::new(EV_ACCEPTED, instrument, cmd.id);
        accepted.price = cmd.price;
        accepted.qty = cmd.qty;
        accepted.flags = side_flag(side);
        out.push(accepted);

        let limit_price = if limit { Some(cmd.price) } else { None };
        if cmd.tif == TIF_FOK && self.available(instrument, side, limit_price, cmd.account, cmd.qty) < cmd.qty {
            self.ids.insert(cmd.id, GONE);
            return out.push(leaves_event(EV_EXPIRED, cmd.id, instrument, side, cmd.qty, 0));
        }
        let leaves = self.take(instrument, cmd.id, cmd.account, side, limit_price, cmd.qty, out);
        if leaves == 0 {
            self.ids.insert(cmd.id, GONE);
            return;
        }
        if limit && cmd.tif == TIF_GTC {
            let o = self.orders.insert(Order {
                id: cmd.id,
                price: cmd.price,
                leaves,
                tag: cmd.tag,
                account: cmd.account,
                instrument,
                level: NIL,
                prev: NIL,
                next: NIL,
                placer: cmd.placer,
                side: cmd.side,
                post_only,
            });
            self.books[instrument as usize].push_back(&mut self.orders, o, side);
            self.ids.insert(cmd.id, o);
            self.open.add(cmd.account, 1);
        } else {
            self.ids.insert(cmd.id, GONE);
            out.push(leaves_event(EV_EXPIRED, cmd.id, instrument, side, leaves, 0));
        }
    }

    fn cancel(&mut self, id: u64, out: &mut Vec<EventRecord>) {
        let Some(o) = self.resting(id) else {
            return out.push(reject(id, NO_INSTRUMENT, reject::UNKNOWN_ORDER));
        };
        let order = *self.orders.get(o);
        self.remove(o);
        out.push(leaves_event(
            EV_CANCELLED,
            id,
            order.instrument,
            side_of(order.side),
            order.leaves,
            cancel::REQUESTED,
        ));
    }

    fn replace<C: PreTradeCheck>(&mut self, cmd: &CommandRecord, out: &mut Vec<EventRecord>, check: &mut C) {
        let Some(o) = self.resting(cmd.id) else {
            return out.push(reject(cmd.id, NO_INSTRUMENT, reject::UNKNOWN_ORDER));
        };
        let order = *self.orders.get(o);
        let instrument = order.instrument;
        let side = side_of(order.side);
        let tick = self.books[instrument as usize].tick();
        if cmd.qty <= 0 {
            return out.push(reject(cmd.id, instrument, reject::INVALID_QTY));
        }
        if cmd.price <= 0 || cmd.price % tick != 0 {
            return out.push(reject(cmd.id, instrument, reject::INVALID_PRICE));
        }
        if order.post_only && self.crosses(instrument, side, cmd.price) {
            return out.push(reject(cmd.id, instrument, reject::WOULD_CROSS));
        }
        let reason = if !C::ACTIVE {
            0
        } else {
            check.check(&Proposed {
                account: order.account,
                instrument,
                buy: side == Side::Bid,
                price: cmd.price,
                qty: cmd.qty,
                opposite: self.opposite_best(C::NEEDS_CONTEXT, instrument, side),
                open_orders: if C::NEEDS_CONTEXT { self.open.get(order.account) } else { 0 },
                new_order: false,
                ingress_ns: cmd.ingress_ns,
            })
        };
        if reason != 0 {
            return out.push(reject(cmd.id, instrument, reason));
        }
        let mut replaced = EventRecord::new(EV_REPLACED, instrument, cmd.id);
        replaced.price = cmd.price;
        replaced.qty = cmd.qty;
        replaced.flags = side_flag(side);
        out.push(replaced);
        if cmd.price == order.price && cmd.qty <= order.leaves {
            // Reducing in place keeps time priority.
            self.orders.get_mut(o).leaves = cmd.qty;
            return;
        }
        // Anything else loses priority: out of the level, then in again as a
        // GTC limit taker at the new price, keeping its slab slot (and with
        // it the order's tag and placer).
        self.books[instrument as usize].unlink(&mut self.orders, o, side);
        let leaves = self.take(instrument, cmd.id, order.account, side, Some(cmd.price), cmd.qty, out);
        if leaves == 0 {
            self.orders.remove(o);
            self.ids.insert(cmd.id, GONE);
            self.open.add(order.account, -1);
            return;
        }
        let order = self.orders.get_mut(o);
        order.price = cmd.price;
        order.leaves = leaves;
        self.books[instrument as usize].push_back(&mut self.orders, o, side);
    }

    /// Matches an incoming order against the opposite side and returns its
    /// unfilled quantity. Same-account resting orders met on the way are
    /// cancelled (self-trade prevention) and matching goes on.
    #[allow(clippy::too_many_arguments)]
    fn take(
        &mut self,
        instrument: u32,
        taker: u64,
        account: u32,
        side: Side,
        limit: Option<i64>,
        mut qty: i64,
        out: &mut Vec<EventRecord>,
    ) -> i64 {
        let resting_side = opposite(side);
        while qty > 0 {
            let book = &self.books[instrument as usize];
            let Some(l) = book.best(resting_side) else { break };
            let level = *book.level(l);
            if let Some(limit) = limit {
                let acceptable = match side {
                    Side::Bid => level.price <= limit,
                    Side::Ask => level.price >= limit,
                };
                if !acceptable {
                    break;
                }
            }
            let m = level.head;
            let maker = *self.orders.get(m);
            if maker.account == account {
                self.remove(m);
                out.push(leaves_event(
                    EV_CANCELLED,
                    maker.id,
                    instrument,
                    resting_side,
                    maker.leaves,
                    cancel::SELF_TRADE,
                ));
                continue;
            }
            let fill = qty.min(maker.leaves);
            qty -= fill;
            let mut trade = EventRecord::new(EV_TRADE, instrument, taker);
            trade.maker = maker.id;
            trade.price = level.price;
            trade.qty = fill;
            trade.flags = side_flag(side);
            trade.set_maker_account(maker.account);
            out.push(trade);
            if fill == maker.leaves {
                self.remove(m);
            } else {
                self.orders.get_mut(m).leaves -= fill;
            }
        }
        qty
    }

    /// Quantity resting on the opposite side at acceptable prices from other
    /// accounts, counted up to `needed` (FOK's test).
    fn available(&self, instrument: u32, side: Side, limit: Option<i64>, account: u32, needed: i64) -> i64 {
        let book = &self.books[instrument as usize];
        let mut total = 0i64;
        for l in book.levels_best_first(opposite(side)) {
            let level = book.level(l);
            let acceptable = match (limit, side) {
                (None, _) => true,
                (Some(p), Side::Bid) => level.price <= p,
                (Some(p), Side::Ask) => level.price >= p,
            };
            if !acceptable {
                break;
            }
            let mut o = level.head;
            while o != NIL {
                let order = self.orders.get(o);
                if order.account != account {
                    total = total.saturating_add(order.leaves);
                    if total >= needed {
                        return total;
                    }
                }
                o = order.next;
            }
        }
        total
    }

    /// The best price opposite a `side` order, when `wanted` (a check's
    /// [`PreTradeCheck::NEEDS_CONTEXT`]).
    #[inline]
    fn opposite_best(&self, wanted: bool, instrument: u32, side: Side) -> Option<i64> {
        if wanted { self.books[instrument as usize].best_price(opposite(side)) } else { None }
    }

    /// Would a `side` order at `price` meet the opposite best?
    fn crosses(&self, instrument: u32, side: Side, price: i64) -> bool {
        let book = &self.books[instrument as usize];
        match (side, book.best_price(opposite(side))) {
            (_, None) => false,
            (Side::Bid, Some(ask)) => price >= ask,
            (Side::Ask, Some(bid)) => price <= bid,
        }
    }

    /// The account of resting order `id`, if it rests.
    pub fn account_of(&self, id: u64) -> Option<u32> {
        self.resting(id).map(|o| self.orders.get(o).account)
    }

    #[inline]
    fn resting(&self, id: u64) -> Option<u32> {
        match self.ids.get(id) {
            Some(o) if o != GONE => Some(o),
            _ => None,
        }
    }

    /// Takes a resting order out of its book and the slab.
    fn remove(&mut self, o: u32) {
        let order = *self.orders.get(o);
        self.books[order.instrument as usize].unlink(&mut self.orders, o, side_of(order.side));
        self.orders.remove(o);
        self.ids.insert(order.id, GONE);
        self.open.add(order.account, -1);
    }

    fn remember(&mut self, id: u64) {
        self.ids.insert_if_absent(id, GONE);
    }

    /// FNV-1a 64 over every book, as `core/matching/STATE_HASH.md` defines it.
    pub fn state_hash(&self) -> u64 {
        let mut h = FNV_OFFSET;
        let mut word = |x: u64| {
            for b in x.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            }
        };
        for (i, book) in self.books.iter().enumerate() {
            word(i as u64);
            for side in [Side::Bid, Side::Ask] {
                let levels = book.levels_best_first(side);
                word(levels.len() as u64);
                for l in levels {
                    let level = book.level(l);
                    word(level.price as u64);
                    word(u64::from(level.count));
                    let mut o = level.head;
                    while o != NIL {
                        let order = self.orders.get(o);
                        word(order.id);
                        word(u64::from(order.account));
                        word(order.leaves as u64);
                        o = order.next;
                    }
                }
            }
        }
        h
    }

    /// Every id seen, with the slab index of the ones resting (or `GONE`).
    pub(crate) fn ids(&self) -> &IdTable {
        &self.ids
    }

    /// The tick sizes the matcher was made with.
    pub fn ticks(&self) -> Vec<i64> {
        self.books.iter().map(Book::tick).collect()
    }

    /// Rebuilds a matcher from its parts: `orders[i]` are instrument `i`'s
    /// resting orders, bids then asks, each side best first and in time
    /// priority; `gone` are the ids seen that rest nowhere.
    pub(crate) fn from_parts(ticks: &[i64], orders: &[Vec<RestingOrder>], gone: &[u64]) -> Result<Self, String> {
        let mut m = Matcher::new(ticks)?;
        if orders.len() != ticks.len() {
            return Err(format!("{} order lists for {} instruments", orders.len(), ticks.len()));
        }
        m.ids.reserve(gone.len() + orders.iter().map(Vec::len).sum::<usize>());
        for &id in gone {
            m.ids.insert(id, GONE);
        }
        for (instrument, list) in orders.iter().enumerate() {
            for r in list {
                if r.leaves <= 0 || r.price <= 0 || r.side > SIDE_SELL || m.ids.contains(r.id) {
                    return Err(format!("order {} of instrument {instrument} is not a valid resting order", r.id));
                }
                let o = m.orders.insert(Order {
                    id: r.id,
                    price: r.price,
                    leaves: r.leaves,
                    tag: r.tag,
                    account: r.account,
                    instrument: instrument as u32,
                    level: NIL,
                    prev: NIL,
                    next: NIL,
                    placer: r.placer,
                    side: r.side,
                    post_only: r.post_only,
                });
                m.books[instrument].push_back(&mut m.orders, o, side_of(r.side));
                m.ids.insert(r.id, o);
                m.open.add(r.account, 1);
            }
        }
        Ok(m)
    }

    /// Instrument `i`'s resting orders, bids then asks, best first, in time
    /// priority (the order [`Matcher::from_parts`] takes).
    pub fn resting_orders(&self, instrument: usize) -> Vec<RestingOrder> {
        let book = &self.books[instrument];
        let mut out = Vec::new();
        for side in [Side::Bid, Side::Ask] {
            for l in book.levels_best_first(side) {
                let mut o = book.level(l).head;
                while o != NIL {
                    let order = self.orders.get(o);
                    out.push(RestingOrder {
                        id: order.id,
                        account: order.account,
                        side: order.side,
                        post_only: order.post_only,
                        price: order.price,
                        leaves: order.leaves,
                        tag: order.tag,
                        placer: order.placer,
                    });
                    o = order.next;
                }
            }
        }
        out
    }

    /// The resting orders of one instrument and side, best first, in time
    /// priority: `(id, account, price, leaves)`. For tests and tools.
    pub fn depth(&self, instrument: u32, buy: bool) -> Vec<(u64, u32, i64, i64)> {
        let Some(book) = self.books.get(instrument as usize) else { return Vec::new() };
        let mut out = Vec::new();
        for l in book.levels_best_first(if buy { Side::Bid } else { Side::Ask }) {
            let mut o = book.level(l).head;
            while o != NIL {
                let order = self.orders.get(o);
                out.push((order.id, order.account, order.price, order.leaves));
                o = order.next;
            }
        }
        out
    }
}

#[inline]
fn side_flag(side: Side) -> u32 {
    if side == Side::Ask { EVF_SELL } else { 0 }
}

#[inline]
fn reject(id: u64, instrument: u32, reason: u32) -> EventRecord {
    let mut ev = EventRecord::new(EV_REJECTED, instrument, id);
    ev.reason = reason;
    ev
}

#[inline]
fn leaves_event(kind: u32, id: u64, instrument: u32, side: Side, leaves: i64, reason: u32) -> EventRecord {
    let mut ev = EventRecord::new(kind, instrument, id);
    ev.qty = leaves;
    ev.reason = reason;
    ev.flags = side_flag(side);
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(m: &mut Matcher, cmds: &[CommandRecord]) -> Vec<EventRecord> {
        let mut out = Vec::new();
        for c in cmds {
            m.apply(c, &mut out);
        }
        out
    }

    fn kinds(evs: &[EventRecord]) -> Vec<u32> {
        evs.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn match_fills_at_the_resting_price_when_crossing() {
        let mut m = Matcher::new(&[1]).unwrap();
        let evs = run(
            &mut m,
            &[CommandRecord::limit(1, 1, 0, SIDE_SELL, 100, 5), CommandRecord::limit(2, 2, 0, SIDE_BUY, 105, 3)],
        );
        assert_eq!(kinds(&evs), vec![EV_ACCEPTED, EV_ACCEPTED, EV_TRADE]);
        assert_eq!((evs[2].id, evs[2].maker, evs[2].price, evs[2].qty), (2, 1, 100, 3));
        assert_eq!(m.depth(0, false), vec![(1, 1, 100, 2)]);
    }

    #[test]
    fn self_trade_cancels_the_resting_order_and_matching_goes_on() {
        let mut m = Matcher::new(&[1]).unwrap();
        let evs = run(
            &mut m,
            &[
                CommandRecord::limit(1, 7, 0, SIDE_SELL, 100, 5),
                CommandRecord::limit(2, 8, 0, SIDE_SELL, 100, 5),
                CommandRecord::limit(3, 7, 0, SIDE_BUY, 100, 4),
            ],
        );
        assert_eq!(kinds(&evs), vec![EV_ACCEPTED, EV_ACCEPTED, EV_ACCEPTED, EV_CANCELLED, EV_TRADE]);
        assert_eq!((evs[3].id, evs[3].qty, evs[3].reason), (1, 5, cancel::SELF_TRADE));
        assert_eq!((evs[4].maker, evs[4].qty), (2, 4));
    }

    #[test]
    fn validation_order_takes_the_first_reason() {
        let mut m = Matcher::new(&[25]).unwrap();
        let evs = run(
            &mut m,
            &[
                CommandRecord::limit(1, 1, 9, SIDE_BUY, -1, 0),
                CommandRecord::limit(2, 1, 0, SIDE_BUY, -1, 0),
                CommandRecord::limit(3, 1, 0, SIDE_BUY, 10, 1),
                CommandRecord::limit(3, 1, 0, SIDE_BUY, 100, 1),
                CommandRecord::place(4, 1, 0, SIDE_BUY, TYPE_MARKET, TIF_GTC, 0, 1, true),
            ],
        );
        let reasons: Vec<u32> = evs.iter().map(|e| e.reason).collect();
        assert_eq!(
            reasons,
            vec![
                reject::UNKNOWN_SYMBOL,
                reject::INVALID_QTY,
                reject::INVALID_PRICE,
                reject::DUPLICATE_ID,
                reject::INVALID_ORDER
            ]
        );
    }

    #[test]
    fn a_resting_order_keeps_its_tag_and_placer_through_replaces_but_they_are_not_in_the_hash() {
        let mut m = Matcher::new(&[1]).unwrap();
        let labelled = |cmd: CommandRecord, tag: u64, placer: u32| CommandRecord { tag, placer, ..cmd };
        run(
            &mut m,
            &[
                labelled(CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 5), 0xFFFF_FFFF_FFFF_FFF7, 4),
                labelled(CommandRecord::limit(2, 1, 0, SIDE_BUY, 100, 5), 8, 0),
                labelled(CommandRecord::limit(3, 2, 0, SIDE_SELL, 101, 4), 9, 0),
                // In place, then losing priority and taking the 4 offered,
                // each replace carrying other labels the order must ignore.
                labelled(CommandRecord::replace(1, 100, 4), 55, 55),
                labelled(CommandRecord::replace(1, 101, 6), 66, 66),
            ],
        );
        let labels: Vec<(u64, i64, u64, u32)> =
            m.resting_orders(0).iter().map(|o| (o.id, o.leaves, o.tag, o.placer)).collect();
        assert_eq!(labels, vec![(1, 2, 0xFFFF_FFFF_FFFF_FFF7, 4), (2, 5, 8, 0)]);
        let mut unlabelled = Matcher::new(&[1]).unwrap();
        run(
            &mut unlabelled,
            &[
                CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 5),
                CommandRecord::limit(2, 1, 0, SIDE_BUY, 100, 5),
                CommandRecord::limit(3, 2, 0, SIDE_SELL, 101, 4),
                CommandRecord::replace(1, 100, 4),
                CommandRecord::replace(1, 101, 6),
            ],
        );
        assert_eq!(m.state_hash(), unlabelled.state_hash());
    }

    /// Records what it was asked, refusing quantities above 10.
    struct Recording<const CONTEXT: bool>(Vec<(i64, Option<i64>, u32)>);

    impl<const CONTEXT: bool> PreTradeCheck for Recording<CONTEXT> {
        const NEEDS_CONTEXT: bool = CONTEXT;
        fn check(&mut self, p: &Proposed) -> u32 {
            self.0.push((p.qty, p.opposite, p.open_orders));
            if p.qty > 10 { reject::MAX_ORDER_QTY } else { 0 }
        }
    }

    #[test]
    fn a_check_that_needs_no_context_is_not_given_the_best_price_or_working_orders_and_decides_alike() {
        let cmds = [
            CommandRecord::limit(1, 1, 0, SIDE_SELL, 101, 5),
            CommandRecord::limit(2, 2, 0, SIDE_BUY, 99, 5),
            CommandRecord::limit(3, 2, 0, SIDE_BUY, 98, 11),
            CommandRecord::replace(2, 99, 12),
            CommandRecord::replace(2, 99, 4),
        ];
        let (mut with, mut without) = (Matcher::new(&[1]).unwrap(), Matcher::new(&[1]).unwrap());
        let (mut a, mut b) = (Recording::<true>(Vec::new()), Recording::<false>(Vec::new()));
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        for c in &cmds {
            with.apply_with(c, &mut out_a, &mut a);
            without.apply_with(c, &mut out_b, &mut b);
        }
        assert_eq!(out_a, out_b);
        assert_eq!(with.state_hash(), without.state_hash());
        assert_eq!(
            a.0,
            vec![(5, None, 0), (5, Some(101), 0), (11, Some(101), 1), (12, Some(101), 1), (4, Some(101), 1)]
        );
        assert_eq!(b.0, a.0.iter().map(|&(qty, _, _)| (qty, None, 0)).collect::<Vec<_>>());
        assert_eq!(kinds(&out_a)[2..], [EV_REJECTED, EV_REJECTED, EV_REPLACED]);
    }

    #[test]
    fn state_hash_is_equal_for_equal_books_and_differs_otherwise() {
        let mut a = Matcher::new(&[1, 1]).unwrap();
        let mut b = Matcher::new(&[1, 1]).unwrap();
        run(&mut a, &[CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 5)]);
        run(&mut b, &[CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 9), CommandRecord::replace(1, 100, 5)]);
        assert_eq!(a.state_hash(), b.state_hash());
        run(&mut b, &[CommandRecord::limit(2, 1, 1, SIDE_BUY, 100, 5)]);
        assert_ne!(a.state_hash(), b.state_hash());
    }
}
