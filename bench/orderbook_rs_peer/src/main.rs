//! `orderbook-rs-peer <stream file> [--warmup N]`: replays the bench's
//! command stream (see [`stream`]) through the `orderbook-rs` crate, one book
//! per instrument, and prints one JSON line with its own timing:
//!
//! ```text
//! {"crate":"orderbook-rs 0.15.3","commands":N,"seconds":S,"trades":T,"refused":R,"warmup":W}
//! ```
//!
//! Only the loop over the decoded commands is timed; reading and decoding the
//! file, making the books and dropping them are not. With `--warmup N` the
//! first N commands run first on books that are then dropped, so the timed
//! pass starts from empty books on a warm process.
//!
//! `trades` counts every trade the books report to their trade listener (a
//! limit order, a market order or a re-priced order that crosses); `refused`
//! counts calls that returned an error (a cancel of an order not resting,
//! an IOC or FOK remainder, a post-only order that would cross, …).
//!
//! # Mapping, and where the semantics differ from our engine
//! - limit → `add_limit_order_with_user` (GTC, IOC, FOK), post-only →
//!   `add_post_only_order_with_user`; market → `submit_market_order_with_user`;
//!   cancel → `cancel_order`; a replace at the order's price →
//!   `UpdateQuantity` (keeps time priority when it shrinks, as ours), at
//!   another price → `UpdatePriceAndQuantity` (cancel then add, as ours).
//! - Self-trade prevention `CancelMaker`: our engine cancels the resting
//!   order it would trade with and goes on; the library cancels every order
//!   of the same user at each level the sweep touches, reached or not.
//! - The library is built for concurrent use (lock-free skip lists, a
//!   `DashMap` of orders, atomics on every level) and reads the wall clock
//!   for each order's timestamp; ours is single-threaded and reads no clock.
//! - It has no pre-trade risk and no market FOK (the writer leaves those
//!   out); ticks are checked as ours are (`set_tick_size`).

mod stream;

use orderbook_rs::{OrderBook, STPMode, TradeResult};
use pricelevel::{Hash32, Id, OrderUpdate, Price, Quantity, Side, TimeInForce};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use stream::{Command, Stream, Tif};

/// The crate and version measured, as printed.
const PEER: &str = "orderbook-rs 0.15.3";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("orderbook-rs-peer: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<String, String> {
    let usage = "usage: orderbook-rs-peer <stream file> [--warmup N]";
    let (path, warmup) = match args.as_slice() {
        [path] => (path, 0),
        [path, flag, n] if flag == "--warmup" => (path, n.parse::<usize>().map_err(|e| format!("--warmup {n}: {e}"))?),
        _ => return Err(usage.into()),
    };
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let stream = stream::decode(&bytes).map_err(|e| format!("cannot decode {path}: {e}"))?;
    let warmup = warmup.min(stream.commands.len());
    if warmup > 0 {
        let books = Books::new(&stream);
        books.replay(&stream.commands[..warmup]);
    }
    let books = Books::new(&stream);
    let start = Instant::now();
    let refused = books.replay(&stream.commands);
    let seconds = start.elapsed().as_secs_f64();
    let trades = books.trades.load(Ordering::Relaxed);
    Ok(format!(
        "{{\"crate\":\"{PEER}\",\"commands\":{},\"seconds\":{seconds:e},\"trades\":{trades},\"refused\":{refused},\"warmup\":{warmup}}}",
        stream.commands.len()
    ))
}

/// One book per instrument and the trade count they share.
struct Books {
    books: Vec<OrderBook<()>>,
    trades: Arc<AtomicU64>,
}

impl Books {
    fn new(stream: &Stream) -> Self {
        let trades = Arc::new(AtomicU64::new(0));
        let books = stream
            .ticks
            .iter()
            .enumerate()
            .map(|(i, &tick)| {
                let mut book = OrderBook::<()>::with_stp_mode(&format!("I{i}"), STPMode::CancelMaker);
                book.set_tick_size(tick);
                let count = Arc::clone(&trades);
                book.set_trade_listener(Arc::new(move |t: &TradeResult| {
                    count.fetch_add(t.match_result.trades().len() as u64, Ordering::Relaxed);
                }));
                book
            })
            .collect();
        Books { books, trades }
    }

    /// Applies `commands` in order; returns how many calls returned an error.
    fn replay(&self, commands: &[Command]) -> u64 {
        let mut refused = 0;
        for &c in commands {
            let ok = match c {
                Command::Limit { book, id, user, side, tif, post_only, price, qty } => {
                    let book = &self.books[book as usize];
                    let (id, side, tif, user) = (Id::sequential(id), side_of(side), tif_of(tif), user_of(user));
                    if post_only {
                        book.add_post_only_order_with_user(id, price, qty, side, tif, user, None).is_ok()
                    } else {
                        book.add_limit_order_with_user(id, price, qty, side, tif, user, None).is_ok()
                    }
                }
                Command::Market { book, id, user, side, qty } => self.books[book as usize]
                    .submit_market_order_with_user(Id::sequential(id), qty, side_of(side), user_of(user))
                    .is_ok(),
                Command::Cancel { book, id } => {
                    matches!(self.books[book as usize].cancel_order(Id::sequential(id)), Ok(Some(_)))
                }
                Command::Amend { book, id, qty } => self.books[book as usize]
                    .update_order(OrderUpdate::UpdateQuantity {
                        order_id: Id::sequential(id),
                        new_quantity: Quantity::new(qty),
                    })
                    .is_ok_and(|o| o.is_some()),
                Command::Reprice { book, id, price, qty } => self.books[book as usize]
                    .update_order(OrderUpdate::UpdatePriceAndQuantity {
                        order_id: Id::sequential(id),
                        new_price: Price::new(price),
                        new_quantity: Quantity::new(qty),
                    })
                    .is_ok_and(|o| o.is_some()),
            };
            refused += u64::from(!ok);
        }
        refused
    }
}

fn side_of(side: stream::Side) -> Side {
    match side {
        stream::Side::Buy => Side::Buy,
        stream::Side::Sell => Side::Sell,
    }
}

fn tif_of(tif: Tif) -> TimeInForce {
    match tif {
        Tif::Gtc => TimeInForce::Gtc,
        Tif::Ioc => TimeInForce::Ioc,
        Tif::Fok => TimeInForce::Fok,
    }
}

/// Account n is user n + 1: the library exempts the zero user from
/// self-trade prevention.
fn user_of(account: u32) -> Hash32 {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&(u64::from(account) + 1).to_le_bytes());
    Hash32::new(bytes)
}
