//! Pre-trade risk in the engine layer: each limit, kill switches, positions
//! from fills, and that a journal replay makes the same decisions.

mod common;

use tradecaptain_native::engine::*;
use tradecaptain_native::journal::Faults;
use tradecaptain_native::record::*;
use tradecaptain_native::risk::{ALL_ACCOUNTS, limit};

fn engine() -> Engine {
    Engine::new(&[1, 1], 64, 64).unwrap()
}

fn set_limit(account: u32, which: u32, value: i64) -> CommandRecord {
    CommandRecord { kind: CMD_SET_RISK_LIMIT, account, instrument: which, qty: value, ..CommandRecord::default() }
}

fn kill(account: u32, on: bool) -> CommandRecord {
    CommandRecord { kind: CMD_SET_KILL_SWITCH, account, qty: i64::from(on), ..CommandRecord::default() }
}

fn reference(instrument: u32, price: i64) -> CommandRecord {
    CommandRecord { kind: CMD_SET_REFERENCE_PRICE, instrument, price, ..CommandRecord::default() }
}

/// The first event's kind and reason.
fn ack(e: &mut Engine, cmd: CommandRecord) -> (u32, u32) {
    let ev = e.core().unwrap().process(&cmd)[0];
    (ev.kind, ev.reason)
}

fn buy(id: u64, account: u32, price: i64, qty: i64) -> CommandRecord {
    CommandRecord::limit(id, account, 0, SIDE_BUY, price, qty)
}

fn sell(id: u64, account: u32, price: i64, qty: i64) -> CommandRecord {
    CommandRecord::limit(id, account, 0, SIDE_SELL, price, qty)
}

const ACCEPTED: (u32, u32) = (EV_ACCEPTED, 0);
const APPLIED: (u32, u32) = (EV_CONTROL_APPLIED, 0);

fn rejected(reason: u32) -> (u32, u32) {
    (EV_REJECTED, reason)
}

#[test]
fn smoke() {
    let mut e = engine();
    assert_eq!(ack(&mut e, buy(1, 1, 100, 1_000_000)), ACCEPTED, "no limits until some are set");
}

#[test]
fn max_order_qty_applies_by_default_and_per_account() {
    let mut e = engine();
    assert_eq!(ack(&mut e, set_limit(ALL_ACCOUNTS, limit::MAX_ORDER_QTY, 100)), APPLIED);
    assert_eq!(ack(&mut e, set_limit(7, limit::MAX_ORDER_QTY, 500)), APPLIED);
    assert_eq!(ack(&mut e, buy(1, 1, 100, 101)), rejected(reject::MAX_ORDER_QTY));
    assert_eq!(ack(&mut e, buy(2, 1, 100, 100)), ACCEPTED);
    assert_eq!(ack(&mut e, buy(3, 7, 100, 500)), ACCEPTED, "account 7's own limit");
    // A replace above the limit is refused and leaves the order as it was.
    assert_eq!(ack(&mut e, CommandRecord::replace(2, 100, 150)), rejected(reject::MAX_ORDER_QTY));
    assert_eq!(ack(&mut e, CommandRecord::cancel(2)).0, EV_CANCELLED);
}

#[test]
fn the_matchers_own_reasons_come_first_and_a_refused_id_stays_used() {
    let mut e = engine();
    ack(&mut e, set_limit(ALL_ACCOUNTS, limit::MAX_ORDER_QTY, 10));
    let unknown = CommandRecord::limit(1, 1, 9, SIDE_BUY, 100, 50);
    assert_eq!(ack(&mut e, unknown), rejected(reject::UNKNOWN_SYMBOL));
    assert_eq!(ack(&mut e, buy(2, 1, 100, 50)), rejected(reject::MAX_ORDER_QTY));
    assert_eq!(ack(&mut e, buy(2, 1, 100, 5)), rejected(reject::DUPLICATE_ID));
}

#[test]
fn notional_is_price_times_quantity_and_market_orders_use_the_opposite_best() {
    let mut e = engine();
    ack(&mut e, set_limit(ALL_ACCOUNTS, limit::MAX_NOTIONAL, 10_000));
    assert_eq!(ack(&mut e, buy(1, 1, 100, 101)), rejected(reject::MAX_NOTIONAL));
    assert_eq!(ack(&mut e, sell(2, 2, 200, 50)), ACCEPTED);
    let market = CommandRecord::place(3, 1, 0, SIDE_BUY, TYPE_MARKET, TIF_IOC, 0, 51, false);
    assert_eq!(ack(&mut e, market), rejected(reject::MAX_NOTIONAL), "51 lots at 200");
    let market = CommandRecord::place(4, 1, 0, SIDE_BUY, TYPE_MARKET, TIF_IOC, 0, 50, false);
    assert_eq!(ack(&mut e, market), ACCEPTED);
}

#[test]
fn the_collar_follows_the_reference_price_then_the_last_trade() {
    let mut e = engine();
    ack(&mut e, set_limit(ALL_ACCOUNTS, limit::COLLAR_BPS, 500));
    assert_eq!(ack(&mut e, buy(1, 1, 1, 1)), ACCEPTED, "no reference price yet");
    assert_eq!(ack(&mut e, reference(0, 10_000)), APPLIED);
    assert_eq!(ack(&mut e, buy(2, 1, 10_501, 1)), rejected(reject::PRICE_COLLAR));
    assert_eq!(ack(&mut e, buy(3, 1, 10_500, 1)), ACCEPTED, "exactly 5% is inside");
    assert_eq!(ack(&mut e, sell(4, 1, 9_499, 1)), rejected(reject::PRICE_COLLAR));
    // A trade at 10,500 moves the reference: 11,000 is now within 5%.
    assert_eq!(ack(&mut e, sell(5, 2, 10_500, 1)), ACCEPTED);
    assert_eq!(ack(&mut e, buy(6, 1, 11_000, 1)), ACCEPTED);
    assert_eq!(ack(&mut e, reference(0, 0)), rejected(reject::INVALID_PRICE));
}

#[test]
fn positions_move_with_fills_for_taker_and_maker_and_bound_new_orders() {
    let mut e = engine();
    ack(&mut e, set_limit(ALL_ACCOUNTS, limit::POSITION, 100));
    assert_eq!(ack(&mut e, sell(1, 2, 100, 80)), ACCEPTED);
    assert_eq!(ack(&mut e, buy(2, 1, 100, 80)), ACCEPTED);
    let core = e.core().unwrap();
    assert_eq!((core.risk.position(1, 0), core.risk.position(2, 0)), (80, -80));
    assert_eq!(ack(&mut e, buy(3, 1, 90, 21)), rejected(reject::POSITION_LIMIT), "80 + 21 > 100");
    assert_eq!(ack(&mut e, buy(4, 1, 90, 20)), ACCEPTED);
    assert_eq!(ack(&mut e, sell(5, 2, 90, 21)), rejected(reject::POSITION_LIMIT), "-80 - 21");
    assert_eq!(ack(&mut e, sell(6, 1, 200, 180)), ACCEPTED, "80 - 180 = -100 is at the limit");
    assert_eq!(ack(&mut e, sell(7, 1, 200, 181)), rejected(reject::POSITION_LIMIT), "80 - 181 = -101");
}

#[test]
fn open_orders_count_working_orders_only() {
    let mut e = engine();
    ack(&mut e, set_limit(1, limit::OPEN_ORDERS, 2));
    assert_eq!(ack(&mut e, buy(1, 1, 100, 1)), ACCEPTED);
    assert_eq!(ack(&mut e, buy(2, 1, 99, 1)), ACCEPTED);
    assert_eq!(ack(&mut e, buy(3, 1, 98, 1)), rejected(reject::OPEN_ORDER_LIMIT));
    // An IOC never rests, but it is still a third working order when it arrives.
    let ioc = CommandRecord::place(4, 1, 0, SIDE_BUY, TYPE_LIMIT, TIF_IOC, 100, 1, false);
    assert_eq!(ack(&mut e, ioc), rejected(reject::OPEN_ORDER_LIMIT));
    // Replacing a working order does not add one.
    assert_eq!(ack(&mut e, CommandRecord::replace(2, 97, 1)).0, EV_REPLACED);
    assert_eq!(ack(&mut e, CommandRecord::cancel(1)).0, EV_CANCELLED);
    assert_eq!(ack(&mut e, buy(5, 1, 98, 1)), ACCEPTED);
    // A fill takes the maker's order off its count.
    assert_eq!(ack(&mut e, sell(6, 2, 97, 1)), ACCEPTED);
    assert_eq!(ack(&mut e, buy(7, 1, 96, 1)), ACCEPTED);
}

#[test]
fn the_order_rate_counts_by_ingress_second_and_never_blocks_a_cancel() {
    let mut e = engine();
    ack(&mut e, set_limit(ALL_ACCOUNTS, limit::ORDERS_PER_SECOND, 3));
    let at = |mut c: CommandRecord, ns: u64| {
        c.ingress_ns = ns;
        c
    };
    let second = 1_000_000_000;
    for id in 1..=3 {
        assert_eq!(ack(&mut e, at(buy(id, 1, 100 - id as i64, 1), 5 * second + id)), ACCEPTED);
    }
    assert_eq!(ack(&mut e, at(buy(4, 1, 90, 1), 5 * second + 999)), rejected(reject::ORDER_RATE_LIMIT));
    assert_eq!(ack(&mut e, at(CommandRecord::cancel(1), 5 * second + 999)).0, EV_CANCELLED);
    assert_eq!(ack(&mut e, at(buy(5, 2, 90, 1), 5 * second + 999)), ACCEPTED, "another account");
    assert_eq!(ack(&mut e, at(buy(6, 1, 90, 1), 6 * second)), ACCEPTED, "a new second");
}

#[test]
fn kill_switches_stop_new_orders_and_replaces_but_not_cancels() {
    let mut e = engine();
    assert_eq!(ack(&mut e, buy(1, 1, 100, 1)), ACCEPTED);
    assert_eq!(ack(&mut e, kill(1, true)), APPLIED);
    assert_eq!(ack(&mut e, buy(2, 1, 100, 1)), rejected(reject::KILL_SWITCH));
    assert_eq!(ack(&mut e, CommandRecord::replace(1, 101, 1)), rejected(reject::KILL_SWITCH));
    assert_eq!(ack(&mut e, buy(3, 2, 100, 1)), ACCEPTED, "other accounts trade on");
    assert_eq!(ack(&mut e, CommandRecord::cancel(1)).0, EV_CANCELLED);
    assert_eq!(ack(&mut e, kill(ALL_ACCOUNTS, true)), APPLIED);
    assert_eq!(ack(&mut e, buy(4, 2, 100, 1)), rejected(reject::KILL_SWITCH));
    ack(&mut e, kill(ALL_ACCOUNTS, false));
    ack(&mut e, kill(1, false));
    assert_eq!(ack(&mut e, buy(5, 1, 100, 1)), ACCEPTED);
}

#[test]
fn a_bad_control_command_is_refused() {
    let mut e = engine();
    assert_eq!(ack(&mut e, set_limit(1, 99, 5)), rejected(reject::UNKNOWN_COMMAND));
    assert_eq!(ack(&mut e, set_limit(1, limit::POSITION, -5)), rejected(reject::UNKNOWN_COMMAND));
}

#[test]
fn a_journal_replay_restores_limits_switches_and_positions() {
    let dir = std::env::temp_dir().join(format!("tc-risk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = || common::journal_options(dir.clone(), b"{}");
    let script = [
        set_limit(ALL_ACCOUNTS, limit::POSITION, 100),
        kill(3, true),
        sell(1, 2, 100, 80),
        buy(2, 1, 100, 80),
        buy(3, 1, 100, 30),
    ];
    let mut first = engine();
    first.open_journal(options()).unwrap();
    let decisions: Vec<_> = script.iter().map(|c| ack(&mut first, *c)).collect();
    assert_eq!(decisions[4], rejected(reject::POSITION_LIMIT));
    let hash = first.core().unwrap().matcher.state_hash();
    drop(first);

    let mut again = engine();
    let report = again.open_journal(options()).unwrap();
    assert_eq!(report.replayed, script.len() as u64);
    assert_eq!(again.core().unwrap().matcher.state_hash(), hash);
    assert_eq!(again.core().unwrap().risk.position(1, 0), 80);
    assert_eq!(ack(&mut again, buy(4, 1, 100, 21)), rejected(reject::POSITION_LIMIT));
    assert_eq!(ack(&mut again, buy(5, 3, 100, 1)), rejected(reject::KILL_SWITCH));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_snapshot_carries_limits_switches_positions_and_rate_windows() {
    let dir = std::env::temp_dir().join(format!("tc-risk-snap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = |snapshot_every| JournalOptions {
        dir: dir.clone(),
        durability: Durability::ProcessCrash,
        segment_bytes: 64 * 1024,
        snapshot_every,
        meta: b"{}".to_vec(),
        recycle: false,
        faults: Faults::default(),
    };
    let at = |cmd: CommandRecord, second: u64| CommandRecord { ingress_ns: second * 1_000_000_000 + 1, ..cmd };
    let script = [
        set_limit(ALL_ACCOUNTS, limit::POSITION, 100),
        set_limit(4, limit::ORDERS_PER_SECOND, 1),
        kill(3, true),
        sell(1, 2, 100, 80),
        buy(2, 1, 100, 80),
        at(buy(3, 4, 90, 1), 7),
    ];
    let mut first = engine();
    // A snapshot after the last command: recovery replays nothing.
    first.open_journal(options(script.len() as u64)).unwrap();
    for c in script {
        ack(&mut first, c);
    }
    drop(first);

    let mut again = engine();
    let report = again.open_journal(options(0)).unwrap();
    assert_eq!((report.snapshot.is_some(), report.replayed), (true, 0), "{report:?}");
    assert_eq!(again.core().unwrap().risk.position(1, 0), 80);
    assert_eq!(ack(&mut again, buy(4, 1, 100, 21)), rejected(reject::POSITION_LIMIT));
    assert_eq!(ack(&mut again, buy(5, 3, 100, 1)), rejected(reject::KILL_SWITCH));
    assert_eq!(ack(&mut again, at(buy(6, 4, 90, 1), 7)), rejected(reject::ORDER_RATE_LIMIT));
    assert_eq!(ack(&mut again, at(buy(7, 4, 90, 1), 8)), ACCEPTED);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_limit_can_differ_by_instrument_and_go_back_to_the_accounts_own() {
    let override_of = |account: u32, instrument: u32, which: u32, value: i64| CommandRecord {
        price: i64::from(instrument) + 1,
        ..set_limit(account, which, value)
    };
    let on = |id: u64, instrument: u32, qty: i64| CommandRecord::limit(id, 1, instrument, SIDE_BUY, 100, qty);
    let mut e = engine();
    assert_eq!(ack(&mut e, set_limit(1, limit::MAX_ORDER_QTY, 100)), APPLIED);
    assert_eq!(ack(&mut e, override_of(1, 1, limit::MAX_ORDER_QTY, 10)), APPLIED);
    assert_eq!(ack(&mut e, on(1, 1, 11)), rejected(reject::MAX_ORDER_QTY));
    assert_eq!(ack(&mut e, on(2, 0, 11)), ACCEPTED, "other instruments keep the account's limit");
    assert_eq!(ack(&mut e, on(3, 1, 10)), ACCEPTED);
    assert_eq!(ack(&mut e, override_of(1, 1, limit::MAX_ORDER_QTY, -1)), APPLIED);
    assert_eq!(ack(&mut e, on(4, 1, 11)), ACCEPTED, "cleared: the account's own limit again");
    assert_eq!(ack(&mut e, on(5, 1, 101)), rejected(reject::MAX_ORDER_QTY));
    // Only per-order and per-position limits differ by instrument; defaults have none.
    for bad in [
        override_of(1, 1, limit::ORDERS_PER_SECOND, 5),
        override_of(1, 1, limit::OPEN_ORDERS, 5),
        override_of(ALL_ACCOUNTS, 1, limit::POSITION, 5),
        override_of(1, 1, limit::POSITION, -2),
    ] {
        assert_eq!(ack(&mut e, bad), rejected(reject::UNKNOWN_COMMAND));
    }
}

#[test]
fn an_instruments_maximum_order_quantity_caps_orders_and_replaces_whatever_the_account_limit() {
    let mut e = engine();
    assert!(e.set_max_order_qty(&[1_000]).is_err(), "one value per instrument");
    e.set_max_order_qty(&[1_000, 0]).unwrap();
    assert_eq!(ack(&mut e, buy(1, 1, 100, i64::MAX)), rejected(reject::MAX_ORDER_QTY));
    assert_eq!(ack(&mut e, buy(2, 1, 100, 1_001)), rejected(reject::MAX_ORDER_QTY));
    assert_eq!(ack(&mut e, buy(3, 1, 100, 1_000)), ACCEPTED);
    assert_eq!(ack(&mut e, CommandRecord::replace(3, 100, 1_001)), rejected(reject::MAX_ORDER_QTY));
    let elsewhere = CommandRecord::limit(4, 1, 1, SIDE_BUY, 100, 1 << 53);
    assert_eq!(ack(&mut e, elsewhere), ACCEPTED, "instrument 1 has no maximum");
    assert_eq!(ack(&mut e, set_limit(1, limit::MAX_ORDER_QTY, 5_000)), APPLIED);
    assert_eq!(ack(&mut e, buy(5, 1, 100, 1_001)), rejected(reject::MAX_ORDER_QTY), "a looser limit does not lift it");
    assert_eq!(ack(&mut e, set_limit(1, limit::MAX_ORDER_QTY, 10)), APPLIED);
    assert_eq!(ack(&mut e, buy(6, 1, 100, 11)), rejected(reject::MAX_ORDER_QTY), "a tighter one applies");
    assert!(e.set_max_order_qty(&[5, 5]).is_err(), "configuration, not a command: fixed once commands ran");
}

#[test]
fn the_maximum_order_quantity_holds_after_a_restart_from_the_journal_or_a_snapshot() {
    for snapshot_every in [0, 2] {
        let dir = std::env::temp_dir().join(format!("tc-risk-ceiling-{}-{snapshot_every}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let options = || JournalOptions { snapshot_every, ..common::journal_options(dir.clone(), b"{}") };
        let ceilings = [100, 100];
        let mut first = engine();
        first.set_max_order_qty(&ceilings).unwrap();
        first.open_journal(options()).unwrap();
        assert!(first.set_max_order_qty(&ceilings).is_err(), "not once the journal is open");
        assert_eq!(ack(&mut first, sell(1, 2, 100, 100)), ACCEPTED);
        assert_eq!(ack(&mut first, buy(2, 1, 100, 101)), rejected(reject::MAX_ORDER_QTY));
        let hash = first.core().unwrap().matcher.state_hash();
        drop(first);

        let mut again = engine();
        again.set_max_order_qty(&ceilings).unwrap();
        let report = again.open_journal(options()).unwrap();
        assert_eq!(report.snapshot.is_some(), snapshot_every > 0, "{report:?}");
        assert_eq!(again.core().unwrap().matcher.state_hash(), hash);
        assert_eq!(ack(&mut again, buy(3, 1, 100, 101)), rejected(reject::MAX_ORDER_QTY));
        assert_eq!(ack(&mut again, buy(4, 1, 100, 100)).0, EV_ACCEPTED);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
