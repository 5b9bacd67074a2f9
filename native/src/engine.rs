//! The engine layer: the matcher on its own pinned thread, fed and drained
//! through single-producer/single-consumer rings in shared memory.
//!
//! ```text
//!  Deno (producer) ──cmd ring──► engine thread ──evt ring──► Deno (consumer)
//! ```
//!
//! The shared block is one page-aligned allocation that Deno maps as an
//! `ArrayBuffer` (`Deno.UnsafePointerView.getArrayBuffer`) and reads and
//! writes directly: the hot path makes no FFI call and allocates nothing per
//! order. `core/native/shared_block.ts` mirrors the layout below.
//!
//! ```text
//! offset  field (u32 unless noted)  written by
//!      0  cmd_tail                  Deno       commands published
//!     64  cmd_head                  engine     commands consumed
//!    128  evt_tail                  engine     events published
//!    192  evt_head                  Deno       events consumed
//!    256  processed                 engine     commands fully processed (all events published)
//!    260  status                    engine     0 not started, 1 running, 2 stopped, 3 failed
//!    320  sleeping                  engine     1 while parked on cmd_tail; Deno then calls engine_wake
//!    324  evt_waiters               FFI        threads blocked in engine_wait_events
//!    384  layout: version, cmd_capacity, evt_capacity, record_size, cmd_offset, evt_offset
//!   4096  command records  [cmd_capacity × 64 bytes]
//!      …  event records    [evt_capacity × 64 bytes]
//! ```
//! Counters are free-running `u32`s (they wrap); a ring's fill is
//! `tail - head` in wrapping arithmetic and capacities are powers of two.
//!
//! # Invariants
//! - Each counter has exactly one writer, on its own cache line.
//! - A record is written before the tail that covers it is published
//!   (release); a reader loads the tail (acquire) before the record.
//! - `processed` is published after the last event of a command, so a reader
//!   that sees `processed == n` has all events of the first `n` commands.
//! - No event is dropped while the engine runs: when the event ring is full
//!   the engine waits for the consumer.
//!
//! # Known limitations
//! - A consumer that stops draining stalls the engine (by design: events are
//!   never dropped). The gateway (issue 4) bounds each client's queue instead.

use crate::matcher::Matcher;
use crate::record::*;
use crate::sys;
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering, fence};
use std::thread::JoinHandle;
use std::time::Duration;

/// Shared block layout version, bumped when an offset changes.
pub const LAYOUT_VERSION: u32 = 1;
pub const OFF_CMD_TAIL: usize = 0;
pub const OFF_CMD_HEAD: usize = 64;
pub const OFF_EVT_TAIL: usize = 128;
pub const OFF_EVT_HEAD: usize = 192;
pub const OFF_PROCESSED: usize = 256;
pub const OFF_STATUS: usize = 260;
pub const OFF_SLEEPING: usize = 320;
pub const OFF_EVT_WAITERS: usize = 324;
pub const OFF_LAYOUT: usize = 384;
pub const OFF_RECORDS: usize = 4096;
const RECORD: usize = 64;

pub const STATUS_NOT_STARTED: u32 = 0;
pub const STATUS_RUNNING: u32 = 1;
pub const STATUS_STOPPED: u32 = 2;
pub const STATUS_FAILED: u32 = 3;

/// Idle polls before the engine thread parks (about 50 µs of spinning).
const SPIN_POLLS: u32 = 20_000;
/// Commands between publications of the event tail under load.
const PUBLISH_EVERY: u32 = 32;
/// Longest park; a safety net, since every publish that finds the engine
/// asleep wakes it.
const PARK: Duration = Duration::from_millis(50);

/// The page-aligned block holding the counters and both rings.
pub struct Shared {
    ptr: NonNull<u8>,
    layout: Layout,
    cmd_capacity: u32,
    evt_capacity: u32,
}

// SAFETY: the block is plain memory; every concurrently written word is
// accessed through atomics, and each ring slot has one writer at a time,
// handed over by the release/acquire counters (see the module invariants).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    fn new(cmd_capacity: u32, evt_capacity: u32) -> Result<Self, String> {
        for (name, c) in [("command", cmd_capacity), ("event", evt_capacity)] {
            if !c.is_power_of_two() || !(64..=1 << 24).contains(&c) {
                return Err(format!(
                    "Cannot create engine: {name} ring capacity {c} must be a power of two from 64 to 16777216"
                ));
            }
        }
        let size = OFF_RECORDS + (cmd_capacity as usize + evt_capacity as usize) * RECORD;
        let layout = Layout::from_size_align(size, 4096).map_err(|e| e.to_string())?;
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) })
            .ok_or_else(|| format!("Cannot create engine: out of memory for a {size}-byte shared block"))?;
        let shared = Shared { ptr, layout, cmd_capacity, evt_capacity };
        let words = [
            LAYOUT_VERSION,
            cmd_capacity,
            evt_capacity,
            RECORD as u32,
            OFF_RECORDS as u32,
            (OFF_RECORDS + cmd_capacity as usize * RECORD) as u32,
        ];
        for (i, w) in words.iter().enumerate() {
            shared.word(OFF_LAYOUT + 4 * i).store(*w, Ordering::Relaxed);
        }
        Ok(shared)
    }

    /// The counter at a fixed offset.
    #[inline]
    pub fn word(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset < OFF_RECORDS && offset % 4 == 0);
        // SAFETY: offset is inside the header (checked by callers' constants),
        // 4-byte aligned, and the block lives as long as `self`.
        unsafe { &*(self.ptr.as_ptr().add(offset) as *const AtomicU32) }
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn len(&self) -> usize {
        self.layout.size()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    #[inline]
    fn cmd(&self, position: u32) -> CommandRecord {
        let i = (position & (self.cmd_capacity - 1)) as usize;
        // SAFETY: i < cmd_capacity, so the record lies inside the block; the
        // producer published it (acquire on cmd_tail) and will not touch it
        // until cmd_head passes it. CommandRecord is plain data.
        unsafe { std::ptr::read(self.ptr.as_ptr().add(OFF_RECORDS + i * RECORD) as *const CommandRecord) }
    }

    #[inline]
    fn write_evt(&self, position: u32, ev: &EventRecord) {
        let i = (position & (self.evt_capacity - 1)) as usize;
        let off = OFF_RECORDS + self.cmd_capacity as usize * RECORD + i * RECORD;
        // SAFETY: i < evt_capacity, so the record lies inside the block; the
        // slot is free (the caller checked tail - head < capacity) and only
        // this thread writes events.
        unsafe { std::ptr::write(self.ptr.as_ptr().add(off) as *mut EventRecord, *ev) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this very layout, freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// The matcher plus what the engine layer adds: sequence numbers, ingress
/// stamps and first/last flags. Moves into the engine thread and back.
pub struct Core {
    pub matcher: Matcher,
    next_seq: u64,
    staged: Vec<EventRecord>,
}

impl Core {
    pub fn new(matcher: Matcher) -> Self {
        Core { matcher, next_seq: 1, staged: Vec::with_capacity(1024) }
    }

    /// Applies one command; its events, stamped, are in the returned slice.
    pub fn process(&mut self, cmd: &CommandRecord) -> &[EventRecord] {
        self.staged.clear();
        self.matcher.apply(cmd, &mut self.staged);
        let n = self.staged.len();
        for (i, ev) in self.staged.iter_mut().enumerate() {
            ev.seq = self.next_seq;
            self.next_seq += 1;
            ev.tag = cmd.tag;
            if i == 0 {
                ev.flags |= EVF_FIRST;
            }
            if i + 1 == n {
                ev.flags |= EVF_LAST;
            }
        }
        &self.staged
    }

    /// The events of the last [`Core::process`].
    pub fn staged(&self) -> &[EventRecord] {
        &self.staged
    }
}

/// Where the engine thread and its memory ended up. Each step is best
/// effort: an errno records what the host refused, and the engine runs on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Placement {
    /// The CPU asked for.
    pub cpu: i32,
    /// 0 when pinned, else the errno the kernel answered.
    pub pin_errno: i32,
    /// The thread's kernel id.
    pub tid: i64,
    /// The CPU's NUMA node from `/sys`, or -1 where the host shows none.
    pub node: i32,
    /// 0 when the thread's memory policy is bound to `node`; an errno; -1 when not attempted (no node).
    pub mempolicy_errno: i32,
    /// Bytes of books, orders and rings moved to and bound on `node`.
    pub bound_bytes: u64,
    /// 0, the first errno `mbind` answered, or -1 when not attempted.
    pub bind_errno: i32,
    /// Bytes of books, orders and rings advised for huge pages.
    pub huge_bytes: u64,
    /// 0, or the first errno `madvise` answered.
    pub huge_errno: i32,
    /// Transparent huge pages: 0 unknown, 1 always, 2 madvise, 3 never.
    pub thp: i32,
}

impl Placement {
    /// Pins the calling thread to `cpu` and binds its memory, and `regions`,
    /// to the CPU's node; advises huge pages for `regions`.
    fn apply(cpu: i32, regions: &[(*const u8, usize)]) -> Placement {
        let mut p = Placement {
            cpu,
            pin_errno: sys::pin_current_thread(cpu as usize).err().unwrap_or(0),
            tid: sys::thread_id(),
            node: -1,
            mempolicy_errno: -1,
            bind_errno: -1,
            thp: match sys::transparent_huge_pages().as_deref() {
                Some("always") => 1,
                Some("madvise") => 2,
                Some("never") => 3,
                _ => 0,
            },
            ..Placement::default()
        };
        if let Some(node) = sys::numa_node_of_cpu(cpu as usize) {
            p.node = node as i32;
            p.mempolicy_errno = sys::bind_thread_memory(node).err().unwrap_or(0);
            p.bind_errno = 0;
            for &(ptr, len) in regions {
                match sys::bind_memory(ptr, len, node) {
                    Ok(n) => p.bound_bytes += n as u64,
                    Err(e) if p.bind_errno == 0 => p.bind_errno = e,
                    Err(_) => {}
                }
            }
        }
        for &(ptr, len) in regions {
            match sys::advise_huge_pages(ptr, len) {
                Ok(n) => p.huge_bytes += n as u64,
                Err(e) if p.huge_errno == 0 => p.huge_errno = e,
                Err(_) => {}
            }
        }
        p
    }

    /// The fields as `i64`s, in the order `engine_placement` documents.
    pub fn to_words(self) -> [i64; 10] {
        [
            i64::from(self.cpu),
            i64::from(self.pin_errno),
            self.tid,
            i64::from(self.node),
            i64::from(self.mempolicy_errno),
            self.bound_bytes as i64,
            i64::from(self.bind_errno),
            self.huge_bytes as i64,
            i64::from(self.huge_errno),
            i64::from(self.thp),
        ]
    }
}

/// An engine: inline (the caller's thread applies commands) until started,
/// then threaded (commands only through the rings) until stopped.
pub struct Engine {
    ticks: Vec<i64>,
    shared: Arc<Shared>,
    core: Option<Core>,
    thread: Option<JoinHandle<Option<Core>>>,
    stop: Arc<AtomicBool>,
    placement: Placement,
}

impl Engine {
    pub fn new(ticks: &[i64], cmd_capacity: u32, evt_capacity: u32) -> Result<Self, String> {
        let matcher = Matcher::new(ticks)?;
        Ok(Engine {
            ticks: ticks.to_vec(),
            shared: Arc::new(Shared::new(cmd_capacity, evt_capacity)?),
            core: Some(Core::new(matcher)),
            thread: None,
            stop: Arc::new(AtomicBool::new(false)),
            placement: Placement::default(),
        })
    }

    pub fn ticks(&self) -> &[i64] {
        &self.ticks
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The inline core, or `None` while the thread runs.
    pub fn core(&mut self) -> Option<&mut Core> {
        self.core.as_mut()
    }

    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// Starts the engine thread pinned to `cpu` (negative: the last CPU).
    /// Pinning is best effort: a refusal is recorded in [`Placement`].
    pub fn start(&mut self, cpu: i32) -> Result<Placement, String> {
        let Some(mut core) = self.core.take() else {
            return Err("Cannot start engine: it is already running".into());
        };
        let cpu = if cpu < 0 { sys::online_cpus() as i32 - 1 } else { cpu };
        let shared = Arc::clone(&self.shared);
        let stop = Arc::clone(&self.stop);
        stop.store(false, Ordering::SeqCst);
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("tc-engine".into()).spawn(move || {
            let mut regions = core.matcher.memory();
            regions.push((shared.as_ptr().cast_const(), shared.len()));
            let _ = tx.send(Placement::apply(cpu, &regions));
            shared.word(OFF_STATUS).store(STATUS_RUNNING, Ordering::SeqCst);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&mut core, &shared, &stop);
                core
            }));
            match outcome {
                Ok(core) => {
                    shared.word(OFF_STATUS).store(STATUS_STOPPED, Ordering::SeqCst);
                    Some(core)
                }
                Err(_) => {
                    shared.word(OFF_STATUS).store(STATUS_FAILED, Ordering::SeqCst);
                    None
                }
            }
        });
        let handle = spawned.map_err(|e| format!("Cannot start engine: cannot spawn its thread: {e}"))?;
        self.placement = rx.recv().map_err(|_| "Cannot start engine: its thread died at start".to_string())?;
        self.thread = Some(handle);
        Ok(self.placement)
    }

    /// Stops the engine thread once it has drained the command ring, and takes
    /// the matcher back for inline use.
    pub fn stop(&mut self) -> Result<(), String> {
        let Some(handle) = self.thread.take() else { return Ok(()) };
        self.stop.store(true, Ordering::SeqCst);
        sys::futex_wake(self.shared.word(OFF_CMD_TAIL));
        match handle.join() {
            Ok(Some(core)) => {
                self.core = Some(core);
                Ok(())
            }
            _ => Err("Cannot stop engine: its thread failed; the matcher state is lost".into()),
        }
    }

    /// Wakes a parked engine thread (Deno calls this after publishing
    /// commands when it reads `sleeping == 1`).
    pub fn wake(&self) {
        sys::futex_wake(self.shared.word(OFF_CMD_TAIL));
    }

    /// Blocks until `evt_tail != seen` or `timeout` passes; returns `evt_tail`.
    pub fn wait_events(&self, seen: u32, timeout: Duration) -> u32 {
        let tail = self.shared.word(OFF_EVT_TAIL);
        let waiters = self.shared.word(OFF_EVT_WAITERS);
        waiters.fetch_add(1, Ordering::SeqCst);
        if tail.load(Ordering::SeqCst) == seen && self.thread.is_some() {
            sys::futex_wait(tail, seen, timeout);
        }
        waiters.fetch_sub(1, Ordering::SeqCst);
        tail.load(Ordering::Acquire)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The engine thread's loop.
fn run(core: &mut Core, shared: &Shared, stop: &AtomicBool) {
    let cmd_tail = shared.word(OFF_CMD_TAIL);
    let cmd_head = shared.word(OFF_CMD_HEAD);
    let evt_tail = shared.word(OFF_EVT_TAIL);
    let evt_head = shared.word(OFF_EVT_HEAD);
    let processed = shared.word(OFF_PROCESSED);
    let sleeping = shared.word(OFF_SLEEPING);
    let waiters = shared.word(OFF_EVT_WAITERS);
    let evt_capacity = shared.evt_capacity;
    let mut head = cmd_head.load(Ordering::Relaxed);
    let mut out = evt_tail.load(Ordering::Relaxed);
    let mut done = processed.load(Ordering::Relaxed);
    let mut idle = 0u32;
    loop {
        let tail = cmd_tail.load(Ordering::Acquire);
        if tail == head {
            if stop.load(Ordering::Acquire) {
                return;
            }
            idle += 1;
            if idle < SPIN_POLLS {
                std::hint::spin_loop();
                continue;
            }
            // Park. The SeqCst store/load pair pairs with Deno's
            // store(cmd_tail) then load(sleeping): one side sees the other.
            sleeping.store(1, Ordering::SeqCst);
            if cmd_tail.load(Ordering::SeqCst) == head && !stop.load(Ordering::SeqCst) {
                sys::futex_wait(cmd_tail, head, PARK);
            }
            sleeping.store(0, Ordering::SeqCst);
            idle = 0;
            continue;
        }
        idle = 0;
        while head != tail {
            let cmd = shared.cmd(head);
            head = head.wrapping_add(1);
            let mut cmd = cmd;
            if cmd.ingress_ns == 0 {
                cmd.ingress_ns = sys::now_ns();
            }
            for ev in core.process(&cmd) {
                let mut polls = 0u32;
                while out.wrapping_sub(evt_head.load(Ordering::Acquire)) >= evt_capacity {
                    // Full: publish what we have so the consumer can drain it.
                    evt_tail.store(out, Ordering::Release);
                    notify(waiters, evt_tail);
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    backoff(&mut polls);
                }
                shared.write_evt(out, ev);
                out = out.wrapping_add(1);
            }
            done = done.wrapping_add(1);
            // Publish every PUBLISH_EVERY commands and whenever the ring runs
            // dry: each store moves a cache line to the polling Deno thread,
            // so publishing per command costs throughput under load, while
            // publishing at the end of a burst keeps latency when idle.
            if done % PUBLISH_EVERY == 0 || head == tail {
                evt_tail.store(out, Ordering::Release);
                processed.store(done, Ordering::Release);
                cmd_head.store(head, Ordering::Release);
            }
        }
        notify(waiters, evt_tail);
    }
}

#[inline]
fn notify(waiters: &AtomicU32, evt_tail: &AtomicU32) {
    fence(Ordering::SeqCst);
    if waiters.load(Ordering::SeqCst) > 0 {
        sys::futex_wake(evt_tail);
    }
}

#[inline]
fn backoff(polls: &mut u32) {
    *polls += 1;
    if *polls < 1000 {
        std::hint::spin_loop();
    } else if *polls < 2000 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(50));
    }
}
