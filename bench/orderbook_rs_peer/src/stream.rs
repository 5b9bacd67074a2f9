//! The stream file `bench/orderbook_rs_subject.ts` writes: the bench's
//! command stream in a plain little-endian layout of this crate's own, so the
//! peer depends on nothing of the engine's (not its record layout, not its
//! library).
//!
//! ```text
//! header   8 bytes  magic "TCOBPEER"
//!          u32      version (1)
//!          u32      books (one per instrument)
//!          u64      commands
//!          u64 × books   tick size of each book
//! command  40 bytes each:
//!          u8 kind (1 place, 2 cancel, 3 replace), u8 side (0 buy, 1 sell),
//!          u8 type (0 limit, 1 market), u8 tif (0 GTC, 1 IOC, 2 FOK),
//!          u8 post-only, 3 bytes zero,
//!          u64 id, i64 price, i64 quantity, u32 account, u32 book
//! ```
//!
//! Commands the peer cannot express are left out by the writer, which counts
//! them; cancels and replaces carry the book their order went to.

use std::collections::HashMap;

/// The file's first eight bytes.
pub const MAGIC: &[u8; 8] = b"TCOBPEER";
/// The layout's version.
pub const VERSION: u32 = 1;
/// Bytes per command.
pub const COMMAND_BYTES: usize = 40;
const HEADER_BYTES: usize = 24;

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

/// Time in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tif {
    Gtc,
    Ioc,
    Fok,
}

/// One command, decoded, with what the peer needs decided before timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// A limit order.
    Limit { book: u32, id: u64, user: u32, side: Side, tif: Tif, post_only: bool, price: u128, qty: u64 },
    /// A market order (immediate or cancel).
    Market { book: u32, id: u64, user: u32, side: Side, qty: u64 },
    /// Cancel a resting order.
    Cancel { book: u32, id: u64 },
    /// A replace that keeps the order's price: only its quantity changes.
    Amend { book: u32, id: u64, qty: u64 },
    /// A replace that moves the order's price.
    Reprice { book: u32, id: u64, price: u128, qty: u64 },
}

/// A decoded stream.
#[derive(Debug)]
pub struct Stream {
    /// Tick size of each book.
    pub ticks: Vec<u128>,
    /// The commands, in order.
    pub commands: Vec<Command>,
}

/// Decodes a stream file.
///
/// A replace is classified here, outside the timing, by the price its order
/// was last given in the stream: at the same price it is an
/// [`Command::Amend`] (the library keeps time priority when the quantity
/// shrinks, as our engine does), otherwise a [`Command::Reprice`].
///
/// # Errors
/// A message saying what is wrong with the file.
pub fn decode(bytes: &[u8]) -> Result<Stream, String> {
    let header =
        bytes.get(..HEADER_BYTES).ok_or_else(|| format!("the file has {} bytes, fewer than a header", bytes.len()))?;
    if &header[..8] != MAGIC {
        return Err("it does not start with TCOBPEER".into());
    }
    let version = u32_at(header, 8);
    if version != VERSION {
        return Err(format!("version {version}, this peer reads {VERSION}"));
    }
    let books = usize::try_from(u32_at(header, 12)).map_err(|e| e.to_string())?;
    let count = usize::try_from(u64_at(header, 16)).map_err(|e| e.to_string())?;
    let ticks_end = books.checked_mul(8).and_then(|t| t.checked_add(HEADER_BYTES)).ok_or("too many books")?;
    let expected =
        count.checked_mul(COMMAND_BYTES).and_then(|c| c.checked_add(ticks_end)).ok_or("too many commands")?;
    if bytes.len() != expected {
        return Err(format!("{books} books and {count} commands need {expected} bytes, the file has {}", bytes.len()));
    }
    let ticks = (0..books).map(|b| u128::from(u64_at(bytes, HEADER_BYTES + 8 * b))).collect::<Vec<_>>();
    let mut last_price: HashMap<u64, i64> = HashMap::with_capacity(count / 2);
    let mut commands = Vec::with_capacity(count);
    for (i, r) in bytes[ticks_end..].chunks_exact(COMMAND_BYTES).enumerate() {
        let fail = |what: String| format!("command {i}: {what}");
        let id = u64_at(r, 8);
        let price = i64_at(r, 16);
        let qty = u64::try_from(i64_at(r, 24).max(0)).unwrap_or(0);
        let user = u32_at(r, 32);
        let book = u32_at(r, 36);
        if book as usize >= books {
            return Err(fail(format!("book {book} of {books}")));
        }
        // A price that is not positive goes to the library as 0, which it refuses.
        let to_price = |p: i64| u128::try_from(p.max(0)).unwrap_or(0);
        let side = match r[1] {
            0 => Side::Buy,
            1 => Side::Sell,
            s => return Err(fail(format!("side {s}"))),
        };
        let tif = match r[3] {
            0 => Tif::Gtc,
            1 => Tif::Ioc,
            2 => Tif::Fok,
            t => return Err(fail(format!("time in force {t}"))),
        };
        commands.push(match (r[0], r[2]) {
            (1, 0) => {
                last_price.insert(id, price);
                Command::Limit { book, id, user, side, tif, post_only: r[4] != 0, price: to_price(price), qty }
            }
            (1, 1) => Command::Market { book, id, user, side, qty },
            (1, t) => return Err(fail(format!("order type {t}"))),
            (2, _) => Command::Cancel { book, id },
            (3, _) => {
                if last_price.insert(id, price) == Some(price) {
                    Command::Amend { book, id, qty }
                } else {
                    Command::Reprice { book, id, price: to_price(price), qty }
                }
            }
            (k, _) => return Err(fail(format!("kind {k}"))),
        });
    }
    Ok(Stream { ticks, commands })
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(records: &[[u8; COMMAND_BYTES]]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&(records.len() as u64).to_le_bytes());
        b.extend_from_slice(&5u64.to_le_bytes());
        for r in records {
            b.extend_from_slice(r);
        }
        b
    }

    fn record(kind: u8, order_type: u8, id: u64, price: i64, qty: i64) -> [u8; COMMAND_BYTES] {
        let mut r = [0; COMMAND_BYTES];
        r[0] = kind;
        r[2] = order_type;
        r[8..16].copy_from_slice(&id.to_le_bytes());
        r[16..24].copy_from_slice(&price.to_le_bytes());
        r[24..32].copy_from_slice(&qty.to_le_bytes());
        r
    }

    #[test]
    fn a_replace_at_the_order_s_last_price_is_an_amend() {
        let s = decode(&file(&[
            record(1, 0, 7, 100, 5),
            record(3, 0, 7, 100, 3),
            record(3, 0, 7, 105, 3),
            record(3, 0, 7, 105, 2),
        ]))
        .unwrap();
        assert_eq!(s.ticks, vec![5]);
        assert!(matches!(s.commands[1], Command::Amend { id: 7, qty: 3, .. }));
        assert!(matches!(s.commands[2], Command::Reprice { id: 7, price: 105, .. }));
        assert!(matches!(s.commands[3], Command::Amend { id: 7, qty: 2, .. }));
    }

    #[test]
    fn a_file_of_the_wrong_length_or_book_is_refused() {
        let mut short = file(&[record(2, 0, 1, 0, 0)]);
        short.pop();
        assert!(decode(&short).unwrap_err().contains("need"));
        let mut bad_book = record(2, 0, 1, 0, 0);
        bad_book[36] = 1;
        assert!(decode(&file(&[bad_book])).unwrap_err().contains("book 1 of 1"));
    }
}
