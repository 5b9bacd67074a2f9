//! Fixed-size records: the engine's only input and output format.
//!
//! Commands enter and events leave as 64-byte, little-endian `#[repr(C)]`
//! records. The same bytes sit in the shared-memory rings that Deno reads and
//! writes (`core/native/records.ts` mirrors these offsets), and later in the
//! journal, so a field's offset and every numeric code here are fixed forever:
//! a new field takes reserved space, a new code the next free number.
//!
//! # Invariants
//! - `size_of::<CommandRecord>() == size_of::<EventRecord>() == 64`, checked at
//!   compile time below.
//! - Codes are never reused or renumbered.

/// `CommandRecord::kind`: place a new order.
pub const CMD_PLACE_ORDER: u32 = 1;
/// `CommandRecord::kind`: cancel a resting order.
pub const CMD_CANCEL_ORDER: u32 = 2;
/// `CommandRecord::kind`: change a resting order's price and open quantity.
pub const CMD_REPLACE_ORDER: u32 = 3;
/// `CommandRecord::kind`: report the state hash (a control command; books are
/// untouched, nothing is journaled, no event sequence number is used).
pub const CMD_QUERY_STATE_HASH: u32 = 64;
/// `CommandRecord::kind`: name an account number (journaled so that tools can
/// print names). Layout: `instrument` holds the account number, the byte at
/// offset 8 the name's length, bytes 9.. the UTF-8 name (at most
/// [`MAX_ACCOUNT_NAME`] bytes).
pub const CMD_DEFINE_ACCOUNT: u32 = 65;
/// `CommandRecord::kind`: set one pre-trade risk limit (`crate::risk`):
/// `account` (or `ALL_ACCOUNTS` for the defaults), the limit's id in
/// `instrument`, its value in `qty` (0: no limit).
pub const CMD_SET_RISK_LIMIT: u32 = 66;
/// `CommandRecord::kind`: a kill switch: `account` (or `ALL_ACCOUNTS` for
/// every account), `qty` 1 to stop new orders and replaces, 0 to allow them.
pub const CMD_SET_KILL_SWITCH: u32 = 67;
/// `CommandRecord::kind`: set `instrument`'s reference price (`price`) for
/// the price collar; trades move it afterwards.
pub const CMD_SET_REFERENCE_PRICE: u32 = 68;
/// Longest account name a [`CMD_DEFINE_ACCOUNT`] record carries, in UTF-8 bytes.
pub const MAX_ACCOUNT_NAME: usize = 48;

/// `EventRecord::kind`: the order passed validation.
pub const EV_ACCEPTED: u32 = 1;
/// `EventRecord::kind`: the command was refused; `reason` says why.
pub const EV_REJECTED: u32 = 2;
/// `EventRecord::kind`: `id` (taker) traded with `maker` at `price` for `qty`.
pub const EV_TRADE: u32 = 3;
/// `EventRecord::kind`: a resting order left the book with `qty` lots open.
pub const EV_CANCELLED: u32 = 4;
/// `EventRecord::kind`: an IOC, FOK or market order's rest (`qty` lots) was dropped.
pub const EV_EXPIRED: u32 = 5;
/// `EventRecord::kind`: a resting order now has `price` and `qty`.
pub const EV_REPLACED: u32 = 6;
/// `EventRecord::kind`: answer to [`CMD_QUERY_STATE_HASH`]; the hash is in `maker`.
pub const EV_STATE_HASH: u32 = 64;
/// `EventRecord::kind`: answer to [`CMD_DEFINE_ACCOUNT`]; the account number is in `id`.
pub const EV_ACCOUNT_DEFINED: u32 = 65;
/// `EventRecord::kind`: a risk control command was applied; `id` echoes the command's.
pub const EV_CONTROL_APPLIED: u32 = 66;

/// Reject reasons (`EventRecord::reason` of [`EV_REJECTED`]).
pub mod reject {
    pub const UNKNOWN_SYMBOL: u32 = 1;
    pub const INVALID_QTY: u32 = 2;
    pub const INVALID_PRICE: u32 = 3;
    pub const DUPLICATE_ID: u32 = 4;
    pub const INVALID_ORDER: u32 = 5;
    pub const WOULD_CROSS: u32 = 6;
    pub const UNKNOWN_ORDER: u32 = 7;
    /// Not a command this engine knows (an unknown `kind`), or a malformed control command.
    pub const UNKNOWN_COMMAND: u32 = 8;
    /// The engine has halted (its journal failed) and takes no more orders.
    pub const HALTED: u32 = 9;
    /// The journal could not confirm this command (a failed sync in
    /// synchronous mode): whether it happened is known after recovery.
    pub const IN_DOUBT: u32 = 10;
    /// Pre-trade risk (see `crate::risk`): quantity above the per-order limit.
    pub const MAX_ORDER_QTY: u32 = 11;
    /// Price × quantity above the per-order notional limit.
    pub const MAX_NOTIONAL: u32 = 12;
    /// Price too far from the instrument's reference price.
    pub const PRICE_COLLAR: u32 = 13;
    /// A full fill would take the position beyond its limit.
    pub const POSITION_LIMIT: u32 = 14;
    /// Too many working orders.
    pub const OPEN_ORDER_LIMIT: u32 = 15;
    /// Too many orders per second.
    pub const ORDER_RATE_LIMIT: u32 = 16;
    /// Trading is switched off for the account, or for everyone.
    pub const KILL_SWITCH: u32 = 17;
}

/// Cancel reasons (`EventRecord::reason` of [`EV_CANCELLED`]).
pub mod cancel {
    pub const REQUESTED: u32 = 0;
    pub const SELF_TRADE: u32 = 1;
}

/// Sides.
pub const SIDE_BUY: u8 = 0;
/// Sides.
pub const SIDE_SELL: u8 = 1;
/// Order types.
pub const TYPE_LIMIT: u8 = 0;
/// Order types.
pub const TYPE_MARKET: u8 = 1;
/// Time in force.
pub const TIF_GTC: u8 = 0;
/// Time in force.
pub const TIF_IOC: u8 = 1;
/// Time in force.
pub const TIF_FOK: u8 = 2;
/// `CommandRecord::flags` bit: post-only.
pub const FLAG_POST_ONLY: u8 = 1;

/// `EventRecord::flags` bit: the order `id` is a sell (else a buy), where known.
pub const EVF_SELL: u32 = 1;
/// `EventRecord::flags` bit: the first event of its command (the acknowledgement).
pub const EVF_FIRST: u32 = 2;
/// `EventRecord::flags` bit: the last event of its command.
pub const EVF_LAST: u32 = 4;

/// The instrument number that no instrument has.
pub const NO_INSTRUMENT: u32 = u32::MAX;

/// One command, 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommandRecord {
    /// `CMD_*`.
    pub kind: u32,
    /// Instrument number (its position in the instrument table).
    pub instrument: u32,
    /// Client order id.
    pub id: u64,
    /// Price units; 0 = not given; negative = given but invalid.
    pub price: i64,
    /// Lots.
    pub qty: i64,
    /// Interned account number.
    pub account: u32,
    /// `SIDE_*`.
    pub side: u8,
    /// `TYPE_*`.
    pub order_type: u8,
    /// `TIF_*`.
    pub tif: u8,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Nanoseconds since the Unix epoch at ingress; the engine stamps it when 0.
    pub ingress_ns: u64,
    /// The caller's correlation tag, echoed on the command's events. For
    /// [`CMD_PLACE_ORDER`], the client's order id (0: none), which the
    /// order keeps while it rests (through replaces, in snapshots) and
    /// which `engine_resting_orders` returns: the gateway's `clientOrderId`.
    pub tag: u64,
    /// For [`CMD_PLACE_ORDER`]: who placed the order, when not its own
    /// `account`: that account's number + 1 (an admin placing for a
    /// trader); 0 means the order's own account (and is what every other
    /// command and every older record holds). The order keeps it while it
    /// rests, as it keeps `tag`. Offset 56.
    pub placer: u32,
    /// Reserved; must be 0. Offset 60.
    pub reserved: u32,
}

/// One event, 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventRecord {
    /// `EV_*`.
    pub kind: u32,
    /// Instrument number, or [`NO_INSTRUMENT`].
    pub instrument: u32,
    /// Order id (the taker's, for a trade).
    pub id: u64,
    /// Price units.
    pub price: i64,
    /// Lots: traded, left open, or the new open quantity.
    pub qty: i64,
    /// The maker's order id for a trade; the state hash for [`EV_STATE_HASH`].
    pub maker: u64,
    /// `reject::*` or `cancel::*`; for [`EV_TRADE`], the maker's account.
    pub reason: u32,
    /// `EVF_*` bits.
    pub flags: u32,
    /// The command's correlation tag.
    pub tag: u64,
    /// Engine event sequence number, from 1, stamped by the engine layer.
    pub seq: u64,
}

const _: () = assert!(std::mem::size_of::<CommandRecord>() == 64);
// Fixed forever: `placer` and `reserved` split what was one reserved u64.
const _: () = assert!(std::mem::offset_of!(CommandRecord, tag) == 48);
const _: () = assert!(std::mem::offset_of!(CommandRecord, placer) == 56);
const _: () = assert!(std::mem::offset_of!(CommandRecord, reserved) == 60);
const _: () = assert!(std::mem::size_of::<EventRecord>() == 64);

impl EventRecord {
    /// The record's 64 bytes (for the journal).
    pub fn as_bytes(&self) -> &[u8; 64] {
        // SAFETY: EventRecord is repr(C), 64 bytes (checked above) of plain
        // integers with no padding between or after its fields.
        unsafe { &*(self as *const EventRecord).cast::<[u8; 64]>() }
    }

    /// Writes the record's 64 bytes (as [`EventRecord::as_bytes`] holds
    /// them on a little-endian machine) field by field: narrow loads of
    /// fields just stored, where a 16-byte copy would wait for the stores.
    #[inline]
    pub fn write_le(&self, out: &mut [u8; 64]) {
        fn put(out: &mut [u8; 64], at: usize, bytes: &[u8]) {
            out[at..at + bytes.len()].copy_from_slice(bytes);
        }
        // Pairs of u32 fields as one u64: the copy out of `out` then reads
        // each word as it was stored.
        let pair = |lo: u32, hi: u32| (u64::from(lo) | u64::from(hi) << 32).to_le_bytes();
        put(out, 0, &pair(self.kind, self.instrument));
        put(out, 8, &self.id.to_le_bytes());
        put(out, 16, &self.price.to_le_bytes());
        put(out, 24, &self.qty.to_le_bytes());
        put(out, 32, &self.maker.to_le_bytes());
        put(out, 40, &pair(self.reason, self.flags));
        put(out, 48, &self.tag.to_le_bytes());
        put(out, 56, &self.seq.to_le_bytes());
    }

    /// A record from 64 journaled bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 64] = bytes.try_into().ok()?;
        // SAFETY: 64 readable bytes; every bit pattern is a valid EventRecord
        // (plain integers); read_unaligned needs no alignment.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<EventRecord>()) })
    }

    pub(crate) fn new(kind: u32, instrument: u32, id: u64) -> Self {
        EventRecord { kind, instrument, id, ..EventRecord::default() }
    }

    // Fields that carry something other than their name says, by what they carry.

    /// An [`EV_STATE_HASH`] answer to command `id`: the hash rides in `maker`.
    pub fn state_hash_answer(id: u64, hash: u64) -> Self {
        EventRecord { maker: hash, ..EventRecord::new(EV_STATE_HASH, NO_INSTRUMENT, id) }
    }

    /// The state hash of an [`EV_STATE_HASH`] event (its `maker` field).
    pub fn state_hash(&self) -> u64 {
        self.maker
    }

    /// An [`EV_ACCOUNT_DEFINED`] acknowledgement: the account number rides in `id`.
    pub fn account_defined(account: u32) -> Self {
        EventRecord::new(EV_ACCOUNT_DEFINED, NO_INSTRUMENT, u64::from(account))
    }

    /// The account number an [`EV_ACCOUNT_DEFINED`] event acknowledges (its
    /// `id` field), or `None` for another kind of event.
    pub fn defined_account(&self) -> Option<u32> {
        (self.kind == EV_ACCOUNT_DEFINED).then_some(self.id as u32)
    }

    /// The resting order's account in an [`EV_TRADE`] event (its `reason` field).
    pub fn maker_account(&self) -> u32 {
        self.reason
    }

    /// Sets the resting order's account of an [`EV_TRADE`] event (its `reason` field).
    pub fn set_maker_account(&mut self, account: u32) {
        self.reason = account;
    }
}

/// Which instruments a [`CMD_SET_RISK_LIMIT`] record's limit is for, as its
/// `price` field carries it: 0 for every instrument, an instrument's number
/// + 1 for that instrument alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitScope {
    /// Every instrument (`price` 0): the account's own limit, or the default.
    Every,
    /// One instrument: an override for one account.
    Instrument(u32),
    /// A `price` no instrument number gives (negative, or past `u32`).
    Invalid,
}

impl CommandRecord {
    /// Where `ingress_ns` lies in the record's bytes.
    pub const INGRESS_OFFSET: usize = std::mem::offset_of!(CommandRecord, ingress_ns);

    /// The record's 64 bytes (for the journal).
    pub fn as_bytes(&self) -> &[u8; 64] {
        // SAFETY: CommandRecord is repr(C), 64 bytes (checked above) of plain
        // integers with no padding between or after its fields.
        unsafe { &*(self as *const CommandRecord).cast::<[u8; 64]>() }
    }

    /// A record from 64 journaled bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 64] = bytes.try_into().ok()?;
        // SAFETY: 64 readable bytes; every bit pattern is a valid
        // CommandRecord (plain integers); read_unaligned needs no alignment.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<CommandRecord>()) })
    }

    /// A [`CMD_DEFINE_ACCOUNT`] record; `None` when the name is empty or too long.
    pub fn define_account(account: u32, name: &str) -> Option<Self> {
        if name.is_empty() || name.len() > MAX_ACCOUNT_NAME {
            return None;
        }
        let mut r = CommandRecord { kind: CMD_DEFINE_ACCOUNT, instrument: account, ..CommandRecord::default() };
        let mut bytes = *r.as_bytes();
        bytes[8] = name.len() as u8;
        bytes[9..9 + name.len()].copy_from_slice(name.as_bytes());
        r = CommandRecord::from_bytes(&bytes)?;
        Some(r)
    }

    /// The account number and name of a [`CMD_DEFINE_ACCOUNT`] record, if well formed.
    pub fn account_definition(&self) -> Option<(u32, String)> {
        let bytes = self.as_bytes();
        let len = bytes[8] as usize;
        if self.kind != CMD_DEFINE_ACCOUNT || len == 0 || len > MAX_ACCOUNT_NAME {
            return None;
        }
        let name = std::str::from_utf8(&bytes[9..9 + len]).ok()?;
        Some((self.instrument, name.to_string()))
    }

    // Control records carry their values in fields named for orders: these
    // say what each carries.

    /// A [`CMD_SET_RISK_LIMIT`] record: limit `limit` (`crate::risk::limit`)
    /// of `account` (or `ALL_ACCOUNTS`: the defaults) is `value` (0: no
    /// limit; -1 with an instrument: drop the override) for `instrument`,
    /// or for every instrument when `None`.
    pub fn set_risk_limit(account: u32, limit: u32, instrument: Option<u32>, value: i64) -> Self {
        CommandRecord {
            kind: CMD_SET_RISK_LIMIT,
            account,
            instrument: limit,
            price: instrument.map_or(0, |i| i64::from(i) + 1),
            qty: value,
            ..CommandRecord::default()
        }
    }

    /// The limit's id of a [`CMD_SET_RISK_LIMIT`] record (its `instrument` field).
    pub fn risk_limit_id(&self) -> u32 {
        self.instrument
    }

    /// The limit's value of a [`CMD_SET_RISK_LIMIT`] record (its `qty` field).
    pub fn risk_limit_value(&self) -> i64 {
        self.qty
    }

    /// Which instruments a [`CMD_SET_RISK_LIMIT`] record is for (its `price` field).
    pub fn risk_limit_scope(&self) -> LimitScope {
        match self.price {
            0 => LimitScope::Every,
            // checked: i64::MIN - 1 would overflow.
            p => {
                p.checked_sub(1).and_then(|i| u32::try_from(i).ok()).map_or(LimitScope::Invalid, LimitScope::Instrument)
            }
        }
    }

    /// A [`CMD_SET_KILL_SWITCH`] record: `on` stops `account`'s (or, with
    /// `ALL_ACCOUNTS`, everyone's) new orders and replaces.
    pub fn kill_switch(account: u32, on: bool) -> Self {
        CommandRecord { kind: CMD_SET_KILL_SWITCH, account, qty: i64::from(on), ..CommandRecord::default() }
    }

    /// Whether a [`CMD_SET_KILL_SWITCH`] record turns the switch on (its `qty` field, nonzero).
    pub fn kill_switch_on(&self) -> bool {
        self.qty != 0
    }

    /// A [`CMD_SET_REFERENCE_PRICE`] record: `instrument`'s reference price is `price`.
    pub fn reference_price(instrument: u32, price: i64) -> Self {
        CommandRecord { kind: CMD_SET_REFERENCE_PRICE, instrument, price, ..CommandRecord::default() }
    }

    /// A limit or market order (tests and tools).
    #[allow(clippy::too_many_arguments)]
    pub fn place(
        id: u64,
        account: u32,
        instrument: u32,
        side: u8,
        order_type: u8,
        tif: u8,
        price: i64,
        qty: i64,
        post_only: bool,
    ) -> Self {
        CommandRecord {
            kind: CMD_PLACE_ORDER,
            instrument,
            id,
            price,
            qty,
            account,
            side,
            order_type,
            tif,
            flags: if post_only { FLAG_POST_ONLY } else { 0 },
            ..CommandRecord::default()
        }
    }

    /// A GTC limit order (tests and tools).
    pub fn limit(id: u64, account: u32, instrument: u32, side: u8, price: i64, qty: i64) -> Self {
        Self::place(id, account, instrument, side, TYPE_LIMIT, TIF_GTC, price, qty, false)
    }

    /// A cancel (tests and tools).
    pub fn cancel(id: u64) -> Self {
        CommandRecord { kind: CMD_CANCEL_ORDER, id, ..CommandRecord::default() }
    }

    /// A replace (tests and tools).
    pub fn replace(id: u64, price: i64, qty: i64) -> Self {
        CommandRecord { kind: CMD_REPLACE_ORDER, id, price, qty, ..CommandRecord::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_le_writes_the_bytes_as_bytes_holds() {
        let ev = EventRecord {
            kind: 0x0102_0304,
            instrument: 0x0506_0708,
            id: 0x1112_1314_1516_1718,
            price: -0x2122_2324_2526_2728,
            qty: 0x3132_3334_3536_3738,
            maker: 0x4142_4344_4546_4748,
            reason: 0x5152_5354,
            flags: 0x6162_6364,
            tag: 0x7172_7374_7576_7778,
            seq: 0x8182_8384_8586_8788,
        };
        let mut out = [0u8; 64];
        ev.write_le(&mut out);
        assert_eq!(&out, ev.as_bytes());
        assert_eq!(EventRecord::from_bytes(&out), Some(ev));
    }

    #[test]
    fn control_records_carry_their_values_where_the_fields_say_otherwise() {
        let limit = CommandRecord::set_risk_limit(7, 6, Some(2), -1);
        assert_eq!(
            (limit.kind, limit.account, limit.instrument, limit.price, limit.qty),
            (CMD_SET_RISK_LIMIT, 7, 6, 3, -1)
        );
        assert_eq!(
            (limit.risk_limit_id(), limit.risk_limit_value(), limit.risk_limit_scope()),
            (6, -1, LimitScope::Instrument(2))
        );
        let every = CommandRecord::set_risk_limit(u32::MAX, 3, None, 50);
        assert_eq!((every.price, every.risk_limit_scope()), (0, LimitScope::Every));
        for price in [-1, i64::from(u32::MAX) + 2, i64::MIN] {
            let bad = CommandRecord { price, ..every };
            assert_eq!(bad.risk_limit_scope(), LimitScope::Invalid, "{price}");
        }
        let last = CommandRecord { price: i64::from(u32::MAX) + 1, ..every };
        assert_eq!(last.risk_limit_scope(), LimitScope::Instrument(u32::MAX));
        let kill = CommandRecord::kill_switch(4, true);
        assert_eq!((kill.kind, kill.account, kill.qty, kill.kill_switch_on()), (CMD_SET_KILL_SWITCH, 4, 1, true));
        assert!(!CommandRecord::kill_switch(4, false).kill_switch_on());
        let reference = CommandRecord::reference_price(2, 12_345);
        assert_eq!((reference.kind, reference.instrument, reference.price), (CMD_SET_REFERENCE_PRICE, 2, 12_345));
    }

    #[test]
    fn events_carry_their_values_where_the_fields_say_otherwise() {
        let hash = EventRecord::state_hash_answer(9, 0xfeed_beef_dead_cafe);
        assert_eq!(
            (hash.kind, hash.id, hash.maker, hash.state_hash()),
            (EV_STATE_HASH, 9, 0xfeed_beef_dead_cafe, 0xfeed_beef_dead_cafe)
        );
        let defined = EventRecord::account_defined(u32::MAX - 1);
        assert_eq!(
            (defined.kind, defined.id, defined.defined_account()),
            (EV_ACCOUNT_DEFINED, u64::from(u32::MAX - 1), Some(u32::MAX - 1))
        );
        assert_eq!(hash.defined_account(), None);
        let mut trade = EventRecord::new(EV_TRADE, 0, 1);
        trade.set_maker_account(5);
        assert_eq!((trade.reason, trade.maker_account()), (5, 5));
    }
}
