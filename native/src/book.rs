//! One instrument's price levels: where resting orders queue by price and time.
//!
//! The book owns only levels; the orders themselves live in the matcher's
//! shared [`Orders`] slab and are linked into a level's FIFO by index.
//!
//! # Invariants
//! - Never crossed between commands: every bid price < every ask price. So a
//!   non-empty level below the best bid is a bid level and one above the best
//!   ask is an ask level, and one bitmap serves both sides.
//! - A level exists exactly while it has at least one order.
//! - Prices are multiples of the tick; levels are keyed by tick index
//!   (`price / tick`).
//!
//! # Performance
//! Levels near the action live in a dense *ladder*: a window of
//! [`WINDOW`] slots indexed by tick, with a two-level bitmap of non-empty slots,
//! so finding, adding and removing a level and finding the next best are O(1)
//! (a few word scans). The window is placed around the first price and moved
//! whenever the book is empty. Prices outside it go to ordered maps (`far`):
//! correct for any positive price, slower, and rare in practice.
//!
//! # Known limitations
//! - The window does not follow a price that drifts while the book is never
//!   empty; orders beyond it take the slower `far` path.

use std::collections::BTreeMap;

/// Ladder slots per book (ticks of price covered densely).
pub const WINDOW: usize = 1 << 16;
const WORDS: usize = WINDOW / 64;
const SUMMARY_WORDS: usize = WORDS / 64;

/// "No index" for order links and level heads.
pub const NIL: u32 = u32::MAX;

/// A resting order. 64-byte aligned so one order is one cache line.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
pub struct Order {
    pub id: u64,
    pub price: i64,
    pub leaves: i64,
    /// Its place command's `tag` (the client's order id), kept for
    /// recovery; never read by matching.
    pub tag: u64,
    pub account: u32,
    pub instrument: u32,
    pub level: u32,
    pub prev: u32,
    pub next: u32,
    /// Its place command's `placer` (0: its own account; else the placing
    /// account's number + 1), kept for recovery; never read by matching.
    pub placer: u32,
    pub side: u8,
    pub post_only: bool,
}

// Still one cache line with the labels kept for recovery.
const _: () = assert!(std::mem::size_of::<Order>() == 64);

/// All resting orders of all books: a slab with a free list.
#[derive(Default)]
pub struct Orders {
    slots: Vec<Order>,
    free: Vec<u32>,
}

impl Orders {
    /// Stores an order and returns its index.
    ///
    /// Indexes are `u32` below [`NIL`]: fewer than 2^32 − 1 orders can rest
    /// at once. That bound is what keeps every level total and open
    /// quantity below 2^53 (with quantities below 2^21, `crate::risk`), and
    /// it is out of reach in memory: that many 64-byte orders would take
    /// 256 GiB. Debug builds check it.
    pub fn insert(&mut self, order: Order) -> u32 {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = order;
            i
        } else {
            debug_assert!(self.slots.len() < NIL as usize, "order slab full: {} orders rest", self.slots.len());
            self.slots.push(order);
            (self.slots.len() - 1) as u32
        }
    }

    /// Frees an index for reuse.
    pub fn remove(&mut self, i: u32) {
        self.free.push(i);
    }

    #[inline]
    pub fn get(&self, i: u32) -> &Order {
        &self.slots[i as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut Order {
        &mut self.slots[i as usize]
    }

    /// Reserves room for `n` orders so the hot path does not reallocate.
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
        self.free.reserve(n);
    }

    /// The slab's allocation, for placement (NUMA binding, huge pages).
    pub fn memory(&self) -> (*const u8, usize) {
        (self.slots.as_ptr().cast(), self.slots.capacity() * std::mem::size_of::<Order>())
    }
}

/// A price level: a FIFO of orders at one price.
#[derive(Clone, Copy, Debug)]
pub struct Level {
    pub price: i64,
    pub head: u32,
    pub tail: u32,
    pub count: u32,
}

impl Level {
    const EMPTY: Level = Level { price: 0, head: NIL, tail: NIL, count: 0 };
}

/// Which side a level holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Bid,
    Ask,
}

/// One instrument's levels.
pub struct Book {
    tick: i64,
    /// Tick index of ladder slot 0.
    base: i64,
    /// Slots `0..WINDOW` are the ladder; later ones are far levels.
    levels: Vec<Level>,
    free_far: Vec<u32>,
    bits: Box<[u64; WORDS]>,
    summary: [u64; SUMMARY_WORDS],
    ladder_bid: u32,
    ladder_ask: u32,
    far_bids: BTreeMap<i64, u32>,
    far_asks: BTreeMap<i64, u32>,
    /// Number of non-empty levels, both sides.
    live_levels: u32,
}

impl Book {
    /// A book for an instrument with this tick size (price units per tick, > 0).
    pub fn new(tick: i64) -> Self {
        debug_assert!(tick > 0);
        Book {
            tick,
            base: 0,
            levels: vec![Level::EMPTY; WINDOW],
            free_far: Vec::new(),
            bits: Box::new([0; WORDS]),
            summary: [0; SUMMARY_WORDS],
            ladder_bid: NIL,
            ladder_ask: NIL,
            far_bids: BTreeMap::new(),
            far_asks: BTreeMap::new(),
            live_levels: 0,
        }
    }

    /// The ladder's allocations (levels, bitmap), for placement.
    pub fn memory(&self) -> [(*const u8, usize); 2] {
        [
            (self.levels.as_ptr().cast(), self.levels.capacity() * std::mem::size_of::<Level>()),
            (self.bits.as_ptr().cast(), std::mem::size_of::<[u64; WORDS]>()),
        ]
    }

    /// Price units per tick.
    #[inline]
    pub fn tick(&self) -> i64 {
        self.tick
    }

    #[inline]
    pub fn level(&self, l: u32) -> &Level {
        &self.levels[l as usize]
    }

    #[inline]
    fn slot_of(&self, price: i64) -> Option<u32> {
        let i = price / self.tick - self.base;
        if (0..WINDOW as i64).contains(&i) { Some(i as u32) } else { None }
    }

    /// The best level of a side, if any.
    #[inline]
    pub fn best(&self, side: Side) -> Option<u32> {
        match side {
            Side::Bid => {
                let far = self.far_bids.last_key_value();
                match (self.ladder_bid, far) {
                    (NIL, None) => None,
                    (NIL, Some((_, &f))) => Some(f),
                    (l, None) => Some(l),
                    (l, Some((&p, &f))) => Some(if p > self.levels[l as usize].price { f } else { l }),
                }
            }
            Side::Ask => {
                let far = self.far_asks.first_key_value();
                match (self.ladder_ask, far) {
                    (NIL, None) => None,
                    (NIL, Some((_, &f))) => Some(f),
                    (l, None) => Some(l),
                    (l, Some((&p, &f))) => Some(if p < self.levels[l as usize].price { f } else { l }),
                }
            }
        }
    }

    /// The best price of a side, if any.
    #[inline]
    pub fn best_price(&self, side: Side) -> Option<i64> {
        self.best(side).map(|l| self.levels[l as usize].price)
    }

    /// True when the book has no orders at all.
    pub fn is_empty(&self) -> bool {
        self.live_levels == 0
    }

    /// Appends order `o` (already in `orders`, with price and side set) to the
    /// back of its price level, creating the level if needed.
    pub fn push_back(&mut self, orders: &mut Orders, o: u32, side: Side) {
        let price = orders.get(o).price;
        let l = self.find_or_create(price, side);
        let level = &mut self.levels[l as usize];
        let tail = level.tail;
        level.tail = o;
        level.count += 1;
        if tail == NIL {
            level.head = o;
        } else {
            orders.get_mut(tail).next = o;
        }
        let order = orders.get_mut(o);
        order.level = l;
        order.prev = tail;
        order.next = NIL;
    }

    /// Unlinks order `o` from its level, removing the level when it empties.
    pub fn unlink(&mut self, orders: &mut Orders, o: u32, side: Side) {
        let Order { level: l, prev, next, .. } = *orders.get(o);
        if prev == NIL {
            self.levels[l as usize].head = next;
        } else {
            orders.get_mut(prev).next = next;
        }
        if next == NIL {
            self.levels[l as usize].tail = prev;
        } else {
            orders.get_mut(next).prev = prev;
        }
        let level = &mut self.levels[l as usize];
        level.count -= 1;
        if level.count == 0 {
            self.remove_level(l, side);
        }
    }

    fn find_or_create(&mut self, price: i64, side: Side) -> u32 {
        if self.live_levels == 0 {
            self.recenter(price);
        }
        if let Some(s) = self.slot_of(price) {
            if self.levels[s as usize].count == 0 {
                self.levels[s as usize] = Level { price, ..Level::EMPTY };
                self.set_bit(s);
                self.live_levels += 1;
                match side {
                    Side::Bid if self.ladder_bid == NIL || s > self.ladder_bid => self.ladder_bid = s,
                    Side::Ask if self.ladder_ask == NIL || s < self.ladder_ask => self.ladder_ask = s,
                    _ => {}
                }
            }
            return s;
        }
        let map = match side {
            Side::Bid => &mut self.far_bids,
            Side::Ask => &mut self.far_asks,
        };
        if let Some(&l) = map.get(&price) {
            return l;
        }
        let l = match self.free_far.pop() {
            Some(l) => {
                self.levels[l as usize] = Level { price, ..Level::EMPTY };
                l
            }
            None => {
                self.levels.push(Level { price, ..Level::EMPTY });
                (self.levels.len() - 1) as u32
            }
        };
        map.insert(price, l);
        self.live_levels += 1;
        l
    }

    fn remove_level(&mut self, l: u32, side: Side) {
        self.live_levels -= 1;
        if (l as usize) >= WINDOW {
            let price = self.levels[l as usize].price;
            match side {
                Side::Bid => self.far_bids.remove(&price),
                Side::Ask => self.far_asks.remove(&price),
            };
            self.free_far.push(l);
            return;
        }
        self.clear_bit(l);
        match side {
            Side::Bid if l == self.ladder_bid => {
                self.ladder_bid = if l == 0 { NIL } else { self.highest_at_or_below(l - 1) }
            }
            Side::Ask if l == self.ladder_ask => self.ladder_ask = self.lowest_at_or_above(l + 1),
            _ => {}
        }
    }

    /// Moves the ladder window so that it is centred on `price`. Only called
    /// when the book is empty, so no slot needs moving.
    fn recenter(&mut self, price: i64) {
        debug_assert!(self.live_levels == 0);
        let t = price / self.tick;
        if self.slot_of(price).is_some_and(|s| s as usize > WINDOW / 8 && (s as usize) < WINDOW * 7 / 8) {
            return;
        }
        self.base = t - (WINDOW / 2) as i64;
        self.ladder_bid = NIL;
        self.ladder_ask = NIL;
    }

    #[inline]
    fn set_bit(&mut self, s: u32) {
        let w = (s >> 6) as usize;
        self.bits[w] |= 1 << (s & 63);
        self.summary[w >> 6] |= 1 << (w & 63);
    }

    #[inline]
    fn clear_bit(&mut self, s: u32) {
        let w = (s >> 6) as usize;
        self.bits[w] &= !(1 << (s & 63));
        if self.bits[w] == 0 {
            self.summary[w >> 6] &= !(1 << (w & 63));
        }
    }

    /// Highest non-empty ladder slot `<= s`, or NIL.
    fn highest_at_or_below(&self, s: u32) -> u32 {
        let w = (s >> 6) as usize;
        let mask = if s & 63 == 63 { u64::MAX } else { (1u64 << ((s & 63) + 1)) - 1 };
        let m = self.bits[w] & mask;
        if m != 0 {
            return (w as u32) * 64 + 63 - m.leading_zeros();
        }
        // Whole words below `w`, found through the summary.
        if w == 0 {
            return NIL;
        }
        let w = w - 1;
        let mut sw = w >> 6;
        let smask = if w & 63 == 63 { u64::MAX } else { (1u64 << ((w & 63) + 1)) - 1 };
        let mut sm = self.summary[sw] & smask;
        loop {
            if sm != 0 {
                let word = sw * 64 + 63 - sm.leading_zeros() as usize;
                return (word as u32) * 64 + 63 - self.bits[word].leading_zeros();
            }
            if sw == 0 {
                return NIL;
            }
            sw -= 1;
            sm = self.summary[sw];
        }
    }

    /// Lowest non-empty ladder slot `>= s`, or NIL.
    fn lowest_at_or_above(&self, s: u32) -> u32 {
        if s as usize >= WINDOW {
            return NIL;
        }
        let w = (s >> 6) as usize;
        let m = self.bits[w] & (u64::MAX << (s & 63));
        if m != 0 {
            return (w as u32) * 64 + m.trailing_zeros();
        }
        let w = w + 1;
        if w >= WORDS {
            return NIL;
        }
        let mut sw = w >> 6;
        let mut sm = self.summary[sw] & (u64::MAX << (w & 63));
        loop {
            if sm != 0 {
                let word = sw * 64 + sm.trailing_zeros() as usize;
                return (word as u32) * 64 + self.bits[word].trailing_zeros();
            }
            sw += 1;
            if sw >= SUMMARY_WORDS {
                return NIL;
            }
            sm = self.summary[sw];
        }
    }

    /// The levels of one side, best first. Not on the hot path: it merges the
    /// ladder with the far maps into one ordered list.
    pub fn levels_best_first(&self, side: Side) -> Vec<u32> {
        let mut out = Vec::new();
        match side {
            Side::Bid => {
                let mut s = self.ladder_bid;
                let mut ladder = Vec::new();
                while s != NIL {
                    ladder.push(s);
                    s = if s == 0 { NIL } else { self.highest_at_or_below(s - 1) };
                }
                let far: Vec<u32> = self.far_bids.values().rev().copied().collect();
                merge_by(&ladder, &far, &mut out, |a, b| self.level(a).price > self.level(b).price);
            }
            Side::Ask => {
                let mut s = self.ladder_ask;
                let mut ladder = Vec::new();
                while s != NIL {
                    ladder.push(s);
                    s = self.lowest_at_or_above(s + 1);
                }
                let far: Vec<u32> = self.far_asks.values().copied().collect();
                merge_by(&ladder, &far, &mut out, |a, b| self.level(a).price < self.level(b).price);
            }
        }
        out
    }
}

/// Merges two lists, each already ordered by `first`, into `out`.
fn merge_by(a: &[u32], b: &[u32], out: &mut Vec<u32>, first: impl Fn(u32, u32) -> bool) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if first(a[i], b[j]) {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(orders: &mut Orders, id: u64, price: i64, side: u8) -> u32 {
        orders.insert(Order {
            id,
            price,
            leaves: 1,
            tag: 0,
            account: 0,
            instrument: 0,
            level: NIL,
            prev: NIL,
            next: NIL,
            placer: 0,
            side,
            post_only: false,
        })
    }

    #[test]
    fn best_follows_insertions_and_removals_across_ladder_and_far_levels() {
        let mut orders = Orders::default();
        let mut book = Book::new(1);
        let prices = [100, 90, 95, 99, 1_000_000, 1];
        let mut ids = Vec::new();
        for (i, &p) in prices.iter().enumerate() {
            let o = order(&mut orders, i as u64, p, 0);
            book.push_back(&mut orders, o, Side::Bid);
            ids.push(o);
        }
        assert_eq!(book.best_price(Side::Bid), Some(1_000_000));
        let levels: Vec<i64> = book.levels_best_first(Side::Bid).iter().map(|&l| book.level(l).price).collect();
        assert_eq!(levels, vec![1_000_000, 100, 99, 95, 90, 1]);
        book.unlink(&mut orders, ids[4], Side::Bid);
        assert_eq!(book.best_price(Side::Bid), Some(100));
        book.unlink(&mut orders, ids[0], Side::Bid);
        assert_eq!(book.best_price(Side::Bid), Some(99));
        for &o in &[ids[1], ids[2], ids[3]] {
            book.unlink(&mut orders, o, Side::Bid);
        }
        assert_eq!(book.best_price(Side::Bid), Some(1));
        book.unlink(&mut orders, ids[5], Side::Bid);
        assert_eq!(book.best_price(Side::Bid), None);
        assert!(book.is_empty());
    }

    #[test]
    fn bitmap_scans_cross_words_and_summary_words() {
        let mut orders = Orders::default();
        let mut book = Book::new(1);
        // Centre the window on 100_000, then place asks far apart inside it.
        let centre = order(&mut orders, 0, 100_000, 1);
        book.push_back(&mut orders, centre, Side::Ask);
        let far_up = order(&mut orders, 1, 100_000 + 30_000, 1);
        book.push_back(&mut orders, far_up, Side::Ask);
        book.unlink(&mut orders, centre, Side::Ask);
        assert_eq!(book.best_price(Side::Ask), Some(130_000));
        let bid_low = order(&mut orders, 2, 100_000 - 30_000, 0);
        book.push_back(&mut orders, bid_low, Side::Bid);
        let bid_high = order(&mut orders, 3, 100_000 - 5, 0);
        book.push_back(&mut orders, bid_high, Side::Bid);
        book.unlink(&mut orders, bid_high, Side::Bid);
        assert_eq!(book.best_price(Side::Bid), Some(70_000));
    }
}
