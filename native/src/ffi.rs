//! Every function the library exports, and nothing else.
//!
//! Conventions (nautilus's ffi module, wasmtime): C symbols are
//! `<noun>_<verb>`; an engine is an opaque `Box<EngineHandle>` made by
//! [`engine_new`] and freed by [`engine_drop`]; buffers are caller-owned. No panic crosses into Deno:
//! every body runs under `catch_unwind`, and a failure becomes an error value
//! with its message kept for [`tc_last_error`]. `core/native/symbols.ts` holds
//! the matching `Deno.dlopen` table.

use crate::engine::{Durability, Engine, JournalOptions, Signals};
use crate::journal::{Faults, Reader};
use crate::record::{CommandRecord, EventRecord};
use crate::timing;
use std::cell::{RefCell, UnsafeCell};
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f`, turning an `Err` or a panic into `fallback` and a stored message.
fn guard<T>(fallback: T, f: impl FnOnce() -> Result<T, String>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(msg)) => {
            LAST_ERROR.with(|e| *e.borrow_mut() = msg);
            fallback
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            LAST_ERROR.with(|e| *e.borrow_mut() = format!("Native kernel failed: {msg}"));
            fallback
        }
    }
}

/// What [`engine_new`] hands out: the engine, and what other threads share
/// with it.
///
/// [`engine_wait_events`] is a nonblocking Deno call: it runs on a worker
/// thread while the main thread goes on calling into the same handle
/// ([`engine_wake`], [`engine_stop`], …). So no call ever makes a `&mut` of
/// the handle itself: the calls that own the engine for their duration reach
/// it through the `UnsafeCell` (a `&mut Engine` covers only the cell's
/// contents), and waiting, waking and reading the halt cause take a shared
/// reference to the handle and touch only `signals`, which lies outside the
/// cell and is never written after [`engine_new`].
pub struct EngineHandle {
    signals: Arc<Signals>,
    engine: UnsafeCell<Engine>,
}

/// Converts a handle into a shared reference, or an error for null.
///
/// # Safety
/// `e` is null or a live handle from [`engine_new`] (not dropped while the
/// reference lives).
unsafe fn handle<'a>(e: *mut EngineHandle) -> Result<&'a EngineHandle, String> {
    // SAFETY: per this function's contract, a non-null `e` points to a live
    // EngineHandle; a shared reference to it asserts nothing about the
    // cell's contents, which another call may be mutating.
    unsafe { e.as_ref() }.ok_or_else(|| "Cannot use engine: the handle is null".to_string())
}

/// The engine behind a handle, for a call that owns it for its duration.
///
/// # Safety
/// `e` is null or a live handle from [`engine_new`], and no other call that
/// reaches the engine (any but [`engine_wake`], [`engine_wait_events`],
/// [`engine_halt_reason`] and [`engine_halt_cause`]) runs on it concurrently.
unsafe fn engine<'a>(e: *mut EngineHandle) -> Result<&'a mut Engine, String> {
    // SAFETY: a live handle (contract).
    let h = unsafe { handle(e) }?;
    // SAFETY: no other call holds a reference into the cell (contract); the
    // calls that may run concurrently touch only `signals`, outside it.
    Ok(unsafe { &mut *h.engine.get() })
}

/// A path argument: `ptr[0..len]` as the OS's bytes (Linux paths need not
/// be UTF-8); `None` for a null pointer.
///
/// # Safety
/// `ptr` is null or valid for `len` bytes of reads.
unsafe fn path_arg(ptr: *const u8, len: usize) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and valid for len reads (contract).
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// Writes `values` to `out[0..values.len()]`.
///
/// # Safety
/// `out` is valid for `values.len()` `u64` writes (any alignment).
unsafe fn write_u64s(out: *mut u64, values: &[u64]) {
    for (i, &v) in values.iter().enumerate() {
        // SAFETY: i < values.len() and out is valid for that many writes (contract).
        unsafe { std::ptr::write_unaligned(out.add(i), v) };
    }
}

/// Library name, version, compiler and profile, a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn native_version() -> *const c_char {
    static VERSION: &str = concat!(
        "tradecaptain-native ",
        env!("CARGO_PKG_VERSION"),
        " (",
        env!("TC_RUSTC_VERSION"),
        ", ",
        env!("TC_PROFILE"),
        ")\0"
    );
    VERSION.as_ptr().cast()
}

/// Copies the calling thread's last error message into `buf` (UTF-8, not
/// NUL-terminated) and returns its full length in bytes (which may exceed `cap`).
///
/// # Safety
/// `buf` is null or valid for `cap` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tc_last_error(buf: *mut u8, cap: usize) -> usize {
    LAST_ERROR.with(|e| {
        let msg = e.borrow();
        let n = msg.len().min(cap);
        if !buf.is_null() && n > 0 {
            // SAFETY: buf is valid for cap >= n bytes (contract); the source is a live String.
            unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), buf, n) };
        }
        msg.len()
    })
}

/// Creates an engine for `n` instruments whose tick sizes are `ticks[0..n]`,
/// with rings of the given capacities (powers of two, 64 to 2^24). Returns
/// null on failure (see [`tc_last_error`]).
///
/// # Safety
/// `ticks` is valid for `n` reads of `i64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_new(
    ticks: *const i64,
    n: u32,
    cmd_capacity: u32,
    evt_capacity: u32,
) -> *mut EngineHandle {
    guard(std::ptr::null_mut(), || {
        if ticks.is_null() && n > 0 {
            return Err("Cannot create engine: the tick table is null".into());
        }
        let ticks = if n == 0 {
            &[][..]
        } else {
            // SAFETY: non-null and valid for n reads (contract).
            unsafe { std::slice::from_raw_parts(ticks, n as usize) }
        };
        let engine = Engine::new(ticks, cmd_capacity, evt_capacity)?;
        let handle = EngineHandle { signals: engine.signals(), engine: UnsafeCell::new(engine) };
        Ok(Box::into_raw(Box::new(handle)))
    })
}

/// Sets every instrument's maximum order quantity: instrument `i` takes
/// `max_qty[i]` lots at most per order (0: no maximum), whatever its
/// account's own limit (pre-trade risk, reject `max_order_qty`). Only on a
/// new engine, before [`engine_open_journal`] and any command. Returns 0,
/// or -1 on error (see [`tc_last_error`]).
///
/// # Safety
/// `e` is a live handle, not used concurrently; `max_qty` is valid for `n`
/// reads of `i64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_set_max_order_qty(e: *mut EngineHandle, max_qty: *const i64, n: u32) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        if max_qty.is_null() && n > 0 {
            return Err("Cannot set maximum order quantities: the table is null".into());
        }
        let max_qty = if n == 0 {
            &[][..]
        } else {
            // SAFETY: non-null and valid for n reads (contract).
            unsafe { std::slice::from_raw_parts(max_qty, n as usize) }
        };
        e.set_max_order_qty(max_qty)?;
        Ok(0)
    })
}

/// Stops the engine thread if it runs and frees the engine.
///
/// # Safety
/// `e` is null or a handle from [`engine_new`], not used after this call nor
/// during it: every [`engine_wait_events`] on it has returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_drop(e: *mut EngineHandle) {
    guard((), || {
        if !e.is_null() {
            // SAFETY: e came from Box::into_raw in engine_new and is dropped once (contract).
            drop(unsafe { Box::from_raw(e) });
        }
        Ok(())
    })
}

/// Pre-sizes the order slab and id map for `orders` orders (inline mode).
/// Returns 0, or -1 on error.
///
/// # Safety
/// `e` is a live handle, not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_reserve(e: *mut EngineHandle, orders: u64) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        let core = e.core().ok_or("Cannot reserve: the engine thread is running")?;
        core.matcher.reserve(orders as usize);
        Ok(0)
    })
}

/// Applies one command on the caller's thread (inline mode, before
/// [`engine_start`] or after [`engine_stop`]). Returns the number of events,
/// readable at [`engine_events`] until the next call; -1 on error.
///
/// # Safety
/// `e` is a live handle, not used concurrently; `cmd` points to a readable
/// 64-byte command record.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_apply(e: *mut EngineHandle, cmd: *const CommandRecord) -> i64 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        if cmd.is_null() {
            return Err("Cannot apply command: the record pointer is null".into());
        }
        // SAFETY: non-null and readable for 64 bytes (contract); read_unaligned
        // because a Deno buffer need not be 8-byte aligned.
        let cmd = unsafe { std::ptr::read_unaligned(cmd) };
        let core = e.core().ok_or("Cannot apply command inline: the engine thread is running; use the rings")?;
        Ok(core.process(&cmd).len() as i64)
    })
}

/// The events of the last [`engine_apply`] (null while the thread runs).
///
/// # Safety
/// `e` is a live handle. The pointer is valid until the next call on `e`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_events(e: *mut EngineHandle) -> *const EventRecord {
    guard(std::ptr::null(), || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        Ok(e.core().map_or(std::ptr::null(), |c| c.staged().as_ptr()))
    })
}

/// Writes the state hash to `*out` (inline mode). Returns 0, or -1 on error.
///
/// # Safety
/// `e` is a live handle; `out` is valid for one `u64` write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_state_hash(e: *mut EngineHandle, out: *mut u64) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        let core = e.core().ok_or("Cannot hash state inline: the engine thread is running; send a query command")?;
        if out.is_null() {
            return Err("Cannot hash state: the output pointer is null".into());
        }
        // SAFETY: out is non-null and writable (contract); unaligned-safe.
        unsafe { std::ptr::write_unaligned(out, core.matcher.state_hash()) };
        Ok(0)
    })
}

/// Writes instrument `instrument`'s resting orders, bids then asks, best
/// first, in time priority, as 6 words each into `out` (at most `cap`
/// orders): id, `account | side << 32 | post_only << 40`, price, open
/// quantity (these two as two's complement), and its place command's `tag`
/// and `placer` (`record.rs`: the client's order id, and who placed it).
/// Returns how many orders rest
/// (call again with a bigger buffer when it exceeds `cap`), or -1 on error:
/// an unknown instrument, or the engine thread running (read the books
/// before `engine_start`, e.g. after recovery).
///
/// # Safety
/// `e` is a live handle, not used concurrently; `out` is null with `cap` 0,
/// or valid for `6 * cap` u64 writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_resting_orders(e: *mut EngineHandle, instrument: u32, out: *mut u64, cap: u64) -> i64 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        let instruments = e.ticks().len();
        let core = e.core().ok_or("Cannot list resting orders: the engine thread is running")?;
        if instrument as usize >= instruments {
            return Err(format!("Cannot list resting orders: instrument {instrument} is not one of {instruments}"));
        }
        if out.is_null() && cap > 0 {
            return Err("Cannot list resting orders: the output pointer is null".into());
        }
        let orders = core.matcher.resting_orders(instrument as usize);
        for (i, o) in orders.iter().take(cap as usize).enumerate() {
            let words = [
                o.id,
                u64::from(o.account) | u64::from(o.side) << 32 | u64::from(o.post_only) << 40,
                o.price as u64,
                o.leaves as u64,
                o.tag,
                u64::from(o.placer),
            ];
            // SAFETY: i < cap, so out is valid for the 6 words at 6 * i (contract).
            unsafe { write_u64s(out.add(6 * i), &words) };
        }
        Ok(orders.len() as i64)
    })
}

/// The shared block (counters and rings; layout in `engine/rings.rs`).
///
/// # Safety
/// `e` is a live handle. The block lives until [`engine_drop`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_shared(e: *mut EngineHandle) -> *mut u8 {
    // SAFETY: contract.
    guard(std::ptr::null_mut(), || Ok(unsafe { engine(e) }?.shared().as_ptr()))
}

/// The shared block's length in bytes.
///
/// # Safety
/// `e` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_shared_len(e: *mut EngineHandle) -> u64 {
    // SAFETY: contract.
    guard(0, || Ok(unsafe { engine(e) }?.shared().size() as u64))
}

/// Starts the engine thread pinned to `cpu` (negative: the last CPU). Returns
/// 0 when pinned, a positive errno when the host refused pinning (the thread
/// runs unpinned), or -1 when the thread could not start.
///
/// # Safety
/// `e` is a live handle, not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_start(e: *mut EngineHandle, cpu: i32) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        Ok(e.start(cpu)?.pin_errno)
    })
}

/// Writes the placement to `out[0..10]`: `[cpu, pin errno, thread id, NUMA
/// node (-1: none), mempolicy errno (-1: not attempted), bytes bound to the
/// node, mbind errno (-1: not attempted), bytes advised for huge pages,
/// madvise errno, THP mode (0 unknown, 1 always, 2 madvise, 3 never)]`.
///
/// # Safety
/// `e` is a live handle; `out` is valid for ten `i64` writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_placement(e: *mut EngineHandle, out: *mut i64) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let p = unsafe { engine(e) }?.placement();
        if out.is_null() {
            return Err("Cannot report placement: the output pointer is null".into());
        }
        for (i, v) in p.to_words().into_iter().enumerate() {
            // SAFETY: out is valid for 10 writes (contract), i < 10.
            unsafe { std::ptr::write_unaligned(out.add(i), v) };
        }
        Ok(0)
    })
}

/// Stops the engine thread after it has drained the command ring and returns
/// to inline mode. Returns 0, or -1 when the thread had failed.
///
/// # Safety
/// `e` is a live handle, not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_stop(e: *mut EngineHandle) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        unsafe { engine(e) }?.stop()?;
        Ok(0)
    })
}

/// Wakes a parked engine thread. Cheap; call it after publishing commands
/// when the shared `sleeping` word reads 1.
///
/// # Safety
/// `e` is a live handle (any thread may call this, during any other call
/// but [`engine_drop`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_wake(e: *mut EngineHandle) {
    guard((), || {
        // SAFETY: contract; only the shared signals are touched.
        unsafe { handle(e) }?.signals.wake();
        Ok(())
    })
}

/// Blocks until the event tail differs from `seen` or `timeout_ms` passes,
/// and returns the event tail. Meant for a nonblocking Deno call (it runs on
/// a worker thread), so the event loop sleeps instead of spinning when idle.
///
/// It returns early when the engine thread is not running, and, save for a
/// stop that races with the start of the wait, when it stops.
///
/// # Safety
/// `e` is a live handle, not dropped during the call (any thread may call
/// this, during any other call but [`engine_drop`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_wait_events(e: *mut EngineHandle, seen: u32, timeout_ms: u32) -> u32 {
    guard(seen, || {
        // SAFETY: contract; only the shared signals are touched.
        let signals = &unsafe { handle(e) }?.signals;
        Ok(signals.wait_events(seen, Duration::from_millis(u64::from(timeout_ms))))
    })
}

/// The kernel alone: applies `cmds[0..n]` to a fresh matcher with this
/// engine's instruments, on the caller's thread, and writes
/// `[elapsed nanoseconds, events emitted]` to `out[0..2]`. When `latencies`
/// is not null, each command's latency in nanoseconds (cycle counter) is
/// written to `latencies[i]`; reading the counter costs a few nanoseconds per
/// command, so time throughput in a run with `latencies` null. Returns 0, or
/// -1 on error.
///
/// # Safety
/// `e` is a live handle; `cmds` is valid for `n` reads of 64-byte records;
/// `out` is valid for two `u64` writes; `latencies` is null or valid for `n`
/// writes of `f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_bench(
    e: *mut EngineHandle,
    cmds: *const CommandRecord,
    n: u64,
    out: *mut u64,
    latencies: *mut f64,
) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        if (cmds.is_null() && n > 0) || out.is_null() {
            return Err("Cannot bench: a required pointer is null".into());
        }
        let n = n as usize;
        // SAFETY: cmds is valid for n records (contract); read_unaligned, since
        // a Deno buffer need not be 8-byte aligned.
        let read = |i: usize| unsafe { std::ptr::read_unaligned(cmds.add(i)) };
        let mut matcher = crate::matcher::Matcher::new(e.ticks())?;
        matcher.reserve(n);
        let mut events = Vec::with_capacity(4096);
        let mut emitted = 0u64;
        let start = std::time::Instant::now();
        if latencies.is_null() {
            for i in 0..n {
                events.clear();
                matcher.apply(std::hint::black_box(&read(i)), &mut events);
                emitted += std::hint::black_box(&events).len() as u64;
            }
        } else {
            static TICKS_PER_NS: OnceLock<f64> = OnceLock::new();
            let per_ns = *TICKS_PER_NS.get_or_init(|| timing::ticks_per_ns(Duration::from_millis(20)));
            for i in 0..n {
                let cmd = read(i);
                events.clear();
                let t0 = timing::ticks();
                matcher.apply(std::hint::black_box(&cmd), &mut events);
                let t1 = timing::ticks();
                emitted += std::hint::black_box(&events).len() as u64;
                // SAFETY: i < n and latencies is valid for n writes (contract).
                unsafe { std::ptr::write_unaligned(latencies.add(i), t1.wrapping_sub(t0) as f64 / per_ns) };
            }
        }
        // SAFETY: out is valid for two writes (contract).
        unsafe { write_u64s(out, &[start.elapsed().as_nanos() as u64, emitted]) };
        Ok(0)
    })
}

/// Opens (or creates) the engine's journal in the folder `dir[0..dir_len]`
/// (UTF-8), recovers from it, and journals from then on. `meta` describes
/// the run (the instrument table) and must equal the journal's. `durability`:
/// 0 process-crash safe, 1 group commit within `group_delay_us`, 2
/// synchronous. `snapshot_every`: commands between snapshots (0: none).
/// `recycle` (0 or 1): release the segments before the oldest kept snapshot
/// and reuse their files.
/// Inline mode, before any command. Returns 0, or -1 on failure
/// ([`tc_last_error`] says why); [`engine_recovery_report`] then tells what
/// recovery found.
///
/// # Safety
/// `e` is a live handle, not used concurrently; `dir` and `meta` are valid
/// for their lengths.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn engine_open_journal(
    e: *mut EngineHandle,
    dir: *const u8,
    dir_len: usize,
    meta: *const u8,
    meta_len: usize,
    durability: u32,
    group_delay_us: u32,
    segment_bytes: u64,
    snapshot_every: u64,
    recycle: u32,
) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        // SAFETY: dir is null or valid for dir_len bytes (contract).
        let dir = unsafe { path_arg(dir, dir_len) }.ok_or("Cannot open journal: the folder pointer is null")?;
        if meta.is_null() {
            return Err("Cannot open journal: the meta pointer is null".into());
        }
        // SAFETY: meta is valid for meta_len bytes (contract).
        let meta = unsafe { std::slice::from_raw_parts(meta, meta_len) };
        let durability = match durability {
            0 => Durability::ProcessCrash,
            1 => Durability::GroupCommit { max_delay: Duration::from_micros(u64::from(group_delay_us)) },
            2 => Durability::Synchronous,
            d => return Err(format!("Cannot open journal: durability {d} is not 0, 1 or 2")),
        };
        e.open_journal(JournalOptions {
            dir,
            durability,
            segment_bytes,
            snapshot_every,
            meta: meta.to_vec(),
            recycle: recycle != 0,
            faults: e.injected_faults(),
        })?;
        Ok(0)
    })
}

/// Copies the last recovery report (JSON; see `RecoveryReport::to_json`)
/// into `out` and returns its full length (0 before any recovery); call
/// again with a larger `cap` when it exceeds it.
///
/// # Safety
/// `e` is a live handle; `out` is null or valid for `cap` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_recovery_report(e: *mut EngineHandle, out: *mut u8, cap: usize) -> usize {
    guard(0, || {
        // SAFETY: contract.
        let json = unsafe { engine(e) }?.recovery_report().to_string();
        let n = json.len().min(cap);
        if !out.is_null() && n > 0 {
            // SAFETY: out is valid for cap >= n bytes (contract).
            unsafe { std::ptr::copy_nonoverlapping(json.as_ptr(), out, n) };
        }
        Ok(json.len())
    })
}

/// Copies why the engine halted into `buf` and returns the message's full
/// length; 0 when it has not halted.
///
/// # Safety
/// `e` is a live handle (any thread may call this); `buf` is null or valid
/// for `cap` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_halt_reason(e: *mut EngineHandle, buf: *mut u8, cap: usize) -> usize {
    guard(0, || {
        // SAFETY: contract; only the shared signals are touched.
        let signals = &unsafe { handle(e) }?.signals;
        let msg = signals.halt().map(|h| h.reason).unwrap_or_default();
        let n = msg.len().min(cap);
        if !buf.is_null() && n > 0 {
            // SAFETY: buf is valid for cap >= n bytes (contract).
            unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), buf, n) };
        }
        Ok(msg.len())
    })
}

/// Copies why the engine halted, as JSON, into `buf` and returns its full
/// length; 0 when it has not halted. The JSON (see `Halt::to_json`):
/// `{"reason": "Engine halted: …", "errno": 28, "code": "ENOSPC"}`, with
/// `errno` and `code` null when no OS call failed.
///
/// # Safety
/// `e` is a live handle (any thread may call this); `buf` is null or valid
/// for `cap` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_halt_cause(e: *mut EngineHandle, buf: *mut u8, cap: usize) -> usize {
    guard(0, || {
        // SAFETY: contract; only the shared signals are touched.
        let signals = &unsafe { handle(e) }?.signals;
        let json = signals.halt().map(|h| h.to_json()).unwrap_or_default();
        let n = json.len().min(cap);
        if !buf.is_null() && n > 0 {
            // SAFETY: buf is valid for cap >= n bytes (contract).
            unsafe { std::ptr::copy_nonoverlapping(json.as_ptr(), buf, n) };
        }
        Ok(json.len())
    })
}

/// Writes every account's non-zero net position per instrument (lots, from
/// the engine's risk state: fills since the journal began), ascending by
/// account then instrument, as 2 words each into `out` (at most `cap`):
/// `account | instrument << 32`, then the net quantity as two's
/// complement. Returns how many positions there are (call again with a
/// bigger buffer when it exceeds `cap`), or -1 on error (the engine thread
/// running: read them before `engine_start`, e.g. after recovery).
///
/// # Safety
/// `e` is a live handle, not used concurrently; `out` is null with `cap` 0,
/// or valid for `2 * cap` u64 writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_positions(e: *mut EngineHandle, out: *mut u64, cap: u64) -> i64 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        if out.is_null() && cap > 0 {
            return Err("Cannot read positions: the output pointer is null".into());
        }
        let positions = e.positions()?;
        for (i, &(account, instrument, net)) in positions.iter().take(cap as usize).enumerate() {
            let words = [u64::from(account) | u64::from(instrument) << 32, net as u64];
            // SAFETY: i < cap, so out is valid for the 2 words at 2 * i (contract).
            unsafe { write_u64s(out.add(2 * i), &words) };
        }
        Ok(positions.len() as i64)
    })
}

/// Test seam: failures the next [`engine_open_journal`] on this engine will
/// inject into its journal. `enospc_on_segment`: preparing the segment with
/// this index fails as with `ENOSPC` (-1: never); `fail_sync_on`: the n-th
/// sync (1-based) fails as with `EIO` (0: never). Returns 0, or -1 on error.
///
/// # Safety
/// `e` is a live handle, not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_inject_faults(e: *mut EngineHandle, enospc_on_segment: i64, fail_sync_on: u64) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        e.inject_faults(Faults {
            enospc_on_segment: u64::try_from(enospc_on_segment).ok(),
            fail_sync_on: (fail_sync_on > 0).then_some(fail_sync_on),
        });
        Ok(0)
    })
}

/// The engine layer on the caller's thread: applies `cmds[0..n]` through a
/// fresh core (stamping, and journaling in batches of 32 commands, as the
/// engine thread publishes under load, into a new journal in
/// `dir[0..dir_len]` when `dir` is not null, process-crash mode, no
/// snapshots) and writes `[elapsed nanoseconds, events]` to `out[0..2]`.
/// Compared with the same call without a journal, it measures what
/// journaling costs. Returns 0, or -1 on error.
///
/// # Safety
/// `e` is a live handle; `cmds` is valid for `n` 64-byte records; `dir` is
/// null or valid for `dir_len` bytes; `out` is valid for two `u64` writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn engine_bench_core(
    e: *mut EngineHandle,
    cmds: *const CommandRecord,
    n: u64,
    dir: *const u8,
    dir_len: usize,
    out: *mut u64,
) -> i32 {
    guard(-1, || {
        // SAFETY: contract.
        let e = unsafe { engine(e) }?;
        if (cmds.is_null() && n > 0) || out.is_null() {
            return Err("Cannot bench: a required pointer is null".into());
        }
        let ticks = e.ticks().to_vec();
        let mut fresh = Engine::new(&ticks, 64, 64)?;
        // The same pre-trade risk as the engine measured against.
        if let Some(ceilings) = e.core().map(|c| c.risk.ceilings().to_vec()).filter(|c| !c.is_empty()) {
            fresh.set_max_order_qty(&ceilings)?;
        }
        // SAFETY: dir is null or valid for dir_len bytes (contract).
        if let Some(dir) = unsafe { path_arg(dir, dir_len) } {
            fresh.open_journal(JournalOptions {
                dir,
                durability: Durability::ProcessCrash,
                segment_bytes: crate::journal::DEFAULT_SEGMENT_BYTES,
                snapshot_every: 0,
                meta: b"{}".to_vec(),
                recycle: false,
                faults: Faults::default(),
            })?;
        }
        let core = fresh.core().ok_or("Cannot bench: no inline core")?;
        core.matcher.reserve(n as usize);
        let mut emitted = 0u64;
        let start = std::time::Instant::now();
        for i in 0..n as usize {
            // SAFETY: cmds is valid for n records (contract); unaligned-safe read.
            let cmd = unsafe { std::ptr::read_unaligned(cmds.add(i)) };
            emitted += core.process_batched(std::hint::black_box(&cmd)).len() as u64;
            // As the engine thread does: journal before each publication.
            if i % 32 == 31 {
                core.flush();
            }
        }
        core.flush();
        // SAFETY: out is valid for two writes (contract).
        unsafe { write_u64s(out, &[start.elapsed().as_nanos() as u64, emitted]) };
        Ok(0)
    })
}

/// Opens a read-only journal reader over the folder `dir[0..dir_len]`.
/// `live` 0: it maps the segments, holding the folder's lock shared until
/// [`journal_reader_drop`], and refuses a folder a writer holds (the message
/// names its pid). `live` 1: it reads each segment by `pread`, without the
/// lock, safely beside a writer (its record in flight may read as a torn
/// tail). Returns null on failure ([`tc_last_error`] says why); free it with
/// [`journal_reader_drop`].
///
/// # Safety
/// `dir` is valid for `dir_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_reader_open(dir: *const u8, dir_len: usize, live: u32) -> *mut Reader {
    guard(std::ptr::null_mut(), || {
        // SAFETY: dir is null or valid for dir_len bytes (contract).
        let dir = unsafe { path_arg(dir, dir_len) }.ok_or("Cannot read journal: the folder pointer is null")?;
        let reader = if live != 0 { Reader::open_live(&dir) } else { Reader::open(&dir) };
        let reader = reader.map_err(|e| format!("Cannot read journal: {e}"))?;
        Ok(Box::into_raw(Box::new(reader)))
    })
}

/// Reads the next valid record: writes `[seq, kind, ingress_ns, payload
/// length]` to `header[0..4]` and copies up to `cap` payload bytes to
/// `payload`. Returns 1 for a record, 0 at the end of the valid records (a
/// torn tail ends them too), -1 on corruption or error ([`tc_last_error`]).
///
/// # Safety
/// `r` is a live reader; `header` is valid for four `u64` writes; `payload`
/// is null or valid for `cap` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_reader_next(r: *mut Reader, header: *mut u64, payload: *mut u8, cap: usize) -> i32 {
    guard(-1, || {
        // SAFETY: contract: a live, unaliased reader.
        let r = unsafe { r.as_mut() }.ok_or("Cannot read journal: the reader is null")?;
        if header.is_null() {
            return Err("Cannot read journal: the header pointer is null".into());
        }
        let Some(record) = r.next() else { return Ok(0) };
        let record = record.map_err(|e| format!("Cannot read journal: {e}"))?;
        let fields = [record.seq, u64::from(record.kind), record.ingress_ns, record.payload.len() as u64];
        // SAFETY: header is valid for 4 writes (contract).
        unsafe { write_u64s(header, &fields) };
        let n = record.payload.len().min(cap);
        if !payload.is_null() && n > 0 {
            // SAFETY: payload is valid for cap >= n bytes (contract).
            unsafe { std::ptr::copy_nonoverlapping(record.payload.as_ptr(), payload, n) };
        }
        Ok(1)
    })
}

/// Frees a reader from [`journal_reader_open`].
///
/// # Safety
/// `r` is null or a reader from [`journal_reader_open`], not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_reader_drop(r: *mut Reader) {
    guard((), || {
        if !r.is_null() {
            // SAFETY: r came from Box::into_raw in journal_reader_open, dropped once (contract).
            drop(unsafe { Box::from_raw(r) });
        }
        Ok(())
    })
}

/// Pins the calling thread to `cpu` (the Deno side uses it to keep its main
/// thread off the engine's CPU). Returns 0, or the errno the host answered.
#[unsafe(no_mangle)]
pub extern "C" fn thread_pin(cpu: u32) -> i32 {
    guard(-1, || Ok(crate::sys::pin_current_thread(cpu as usize).err().unwrap_or(0)))
}

/// Gives the free pages of the process's C heap back to the kernel
/// (glibc's `malloc_trim(0)`): the core calls it after connections close,
/// since the many small blocks their queues freed otherwise stay resident.
/// Returns 1 when some memory was released, 0 when none was (or the C
/// library cannot), -1 on an internal failure. Any thread, any time; it
/// holds the allocator's locks while it runs (milliseconds on a large heap).
#[unsafe(no_mangle)]
pub extern "C" fn heap_trim() -> i32 {
    guard(-1, || Ok(i32::from(crate::sys::trim_heap())))
}

// ---- Journal tools ----

/// The pid of the process writing the journal in `dir` (it holds the
/// folder's lock exclusively); 0 when none does; -2 when one does whose pid
/// cannot be told; -1 on error (see [`tc_last_error`]). Takes no lock and
/// creates nothing.
///
/// # Safety
/// `dir` is valid for `dir_len` reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_writer(dir: *const u8, dir_len: usize) -> i64 {
    guard(-1, || {
        // SAFETY: dir is null or valid for dir_len reads (contract).
        let dir = unsafe { path_arg(dir, dir_len) }.ok_or("Cannot read journal: the folder pointer is null")?;
        let holder = crate::journal::holder(&dir).map_err(|e| format!("Cannot read journal: {e}"))?;
        Ok(holder.map_or(0, |h| h.pid.map_or(-2, i64::from)))
    })
}

/// Checks every segment of the journal in `dir` (read-only) and writes the
/// report's JSON (`VerifyReport::to_json`), or `{"error":"…"}` when the check
/// could not run, into `out` (UTF-8, not NUL-terminated, cut at `cap`).
/// `live` as in [`journal_reader_open`]: 0 maps the segments and refuses a
/// folder a writer holds; 1 reads them by `pread`. Returns the JSON's full
/// length, which may exceed `cap` (call again with a bigger buffer), or -1
/// when `dir` is null, or `out` is null with `cap > 0`.
///
/// # Safety
/// `dir` is valid for `dir_len` reads; `out` is null or valid for `cap` writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_verify(dir: *const u8, dir_len: usize, out: *mut u8, cap: usize, live: u32) -> i64 {
    guard(-1, || {
        if dir.is_null() || (out.is_null() && cap > 0) {
            return Err("Cannot verify journal: a required pointer is null".into());
        }
        // SAFETY: dir is non-null (checked above) and valid for dir_len reads (contract).
        let dir = unsafe { path_arg(dir, dir_len) }.unwrap_or_default();
        let report = if live != 0 { crate::journal::verify_live(&dir) } else { crate::journal::verify(&dir) };
        let json = match report {
            Ok(report) => report.to_json(),
            Err(e) => format!(r#"{{"error":{}}}"#, crate::journal::json_string(&e.to_string())),
        };
        let n = json.len().min(cap);
        if n > 0 {
            // SAFETY: out is non-null here (cap > 0) and valid for cap >= n writes (contract).
            unsafe { std::ptr::copy_nonoverlapping(json.as_ptr(), out, n) };
        }
        Ok(json.len() as i64)
    })
}

/// Empties the journal in `dir` (and its snapshots) but keeps its segment
/// files as spares for the next journal opened there: the steady state of a
/// journal that recycles segments, for benchmarks (see
/// `journal::retire`). Destroys every record. Returns the number of
/// segments kept, or -1 on error (see [`tc_last_error`]).
///
/// # Safety
/// `dir` is valid for `dir_len` reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_retire(dir: *const u8, dir_len: usize) -> i64 {
    guard(-1, || {
        // SAFETY: dir is null or valid for dir_len reads (contract).
        let dir = unsafe { path_arg(dir, dir_len) }.ok_or("Cannot retire journal: the folder pointer is null")?;
        let snapshots = crate::snapshot::folder(&dir);
        if snapshots.exists() {
            std::fs::remove_dir_all(&snapshots)
                .map_err(|e| format!("Cannot retire journal: remove {}: {e}", snapshots.display()))?;
        }
        let kept = crate::journal::retire(&dir).map_err(|e| format!("Cannot retire journal: {e}"))?;
        Ok(kept as i64)
    })
}

/// Appends `count` records of `payload_len` bytes to a fresh journal in
/// `dir` (which must be empty or absent) with 64 MiB segments. With
/// `sync_every` 0 it never syncs (process-crash durability); otherwise it
/// syncs after every `sync_every` appends and once at the end (group
/// commit). Writes `[elapsed nanoseconds, syncs]` to `out[0..2]`; when
/// `latencies` is not null, each append's latency in nanoseconds (cycle
/// counter) to `latencies[i]`. Returns 0, or -1 on error (see [`tc_last_error`]).
///
/// # Safety
/// `dir` is valid for `dir_len` reads; `out` is valid for two `u64` writes;
/// `latencies` is null or valid for `count` writes of `f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn journal_bench(
    dir: *const u8,
    dir_len: usize,
    count: u64,
    payload_len: u32,
    sync_every: u64,
    out: *mut u64,
    latencies: *mut f64,
) -> i32 {
    guard(-1, || {
        if dir.is_null() || out.is_null() {
            return Err("Cannot bench journal: a required pointer is null".into());
        }
        // SAFETY: dir is non-null (checked above) and valid for dir_len reads (contract).
        let dir = unsafe { path_arg(dir, dir_len) }.unwrap_or_default();
        if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(format!("Cannot bench journal: {} is not empty", dir.display()));
        }
        let config = crate::journal::JournalConfig::new(&dir);
        let (mut journal, _) = crate::journal::Journal::open(config).map_err(|e| e.to_string())?;
        // As the engine does before it takes orders: the next segment is
        // ready, and its preparation does not compete with the first appends.
        journal.wait_ready().map_err(|e| e.to_string())?;
        let payload: Vec<u8> = (0..payload_len).map(|i| (i as u8) | 1).collect();
        static TICKS_PER_NS: OnceLock<f64> = OnceLock::new();
        let per_ns = match latencies.is_null() {
            true => 1.0,
            false => *TICKS_PER_NS.get_or_init(|| timing::ticks_per_ns(Duration::from_millis(20))),
        };
        let mut syncs = 0u64;
        let start = std::time::Instant::now();
        for i in 0..count {
            let t0 = timing::ticks();
            journal.append(2, i, std::hint::black_box(&payload)).map_err(|e| e.to_string())?;
            if !latencies.is_null() {
                let t1 = timing::ticks();
                // SAFETY: i < count and latencies is valid for count writes (contract).
                unsafe { std::ptr::write_unaligned(latencies.add(i as usize), t1.wrapping_sub(t0) as f64 / per_ns) };
            }
            if sync_every > 0 && (i + 1) % sync_every == 0 {
                journal.sync().map_err(|e| e.to_string())?;
                syncs += 1;
            }
        }
        if sync_every > 0 && journal.unsynced() > 0 {
            journal.sync().map_err(|e| e.to_string())?;
            syncs += 1;
        }
        let elapsed = start.elapsed().as_nanos() as u64;
        // SAFETY: out is valid for two writes (contract).
        unsafe { write_u64s(out, &[elapsed, syncs]) };
        Ok(0)
    })
}
