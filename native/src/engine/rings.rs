//! The shared block: the counters and the two single-producer/single-consumer
//! rings that Deno and the engine thread exchange records through.
//!
//! ```text
//!  Deno (producer) ──cmd ring──► engine thread ──evt ring──► Deno (consumer)
//! ```
//!
//! The block is one page-aligned allocation that Deno maps as an
//! `ArrayBuffer` (`Deno.UnsafePointerView.getArrayBuffer`) and reads and
//! writes directly: the hot path makes no FFI call and allocates nothing per
//! order. `NativeEngine` in `core/native/engine.ts` mirrors the layout below
//! (in 32-bit words).
//!
//! ```text
//! offset  field (u32 unless noted)  written by
//!      0  cmd_tail                  Deno       commands published
//!     64  cmd_head                  engine     commands consumed
//!    128  evt_tail                  engine     events published
//!    192  evt_head                  Deno       events consumed
//!    256  processed                 engine     commands fully processed (all events published)
//!    260  status                    engine     0 not started, 1 running, 2 stopped, 3 failed, 4 halted
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
//! - Offsets and [`LAYOUT_VERSION`] change together: Deno refuses a block
//!   whose version or record size is not the one it was written for.
//!
//! # Known limitations
//! - Capacities are fixed when the engine is created (powers of two from 64
//!   to 2^24 records per ring); the block is never resized.
//!
//! # Performance
//! - Counters sit on separate cache lines, so the producer's and the
//!   consumer's stores do not bounce one line between cores; records are
//!   read and written whole (`ptr::read`/`ptr::write` of 64 bytes).

use crate::record::{CommandRecord, EventRecord};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

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
/// The thread runs but the engine has halted (journal failure): it rejects
/// every order with `HALTED`; `engine_halt_reason` says why.
pub const STATUS_HALTED: u32 = 4;

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
    pub(super) fn new(cmd_capacity: u32, evt_capacity: u32) -> Result<Self, String> {
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

    /// The block's size in bytes.
    pub fn size(&self) -> usize {
        self.layout.size()
    }

    /// Event slots in the event ring (a power of two).
    #[inline]
    pub fn evt_capacity(&self) -> u32 {
        self.evt_capacity
    }

    #[inline]
    pub(super) fn cmd(&self, position: u32) -> CommandRecord {
        let i = (position & (self.cmd_capacity - 1)) as usize;
        // SAFETY: i < cmd_capacity, so the record lies inside the block; the
        // producer published it (acquire on cmd_tail) and will not touch it
        // until cmd_head passes it. CommandRecord is plain data.
        unsafe { std::ptr::read(self.ptr.as_ptr().add(OFF_RECORDS + i * RECORD) as *const CommandRecord) }
    }

    #[inline]
    pub(super) fn read_evt(&self, position: u32) -> EventRecord {
        let i = (position & (self.evt_capacity - 1)) as usize;
        let off = OFF_RECORDS + self.cmd_capacity as usize * RECORD + i * RECORD;
        // SAFETY: i < evt_capacity, so the record lies inside the block; only
        // the engine thread calls this, on slots it wrote and has not published.
        unsafe { std::ptr::read(self.ptr.as_ptr().add(off) as *const EventRecord) }
    }

    #[inline]
    pub(super) fn write_evt(&self, position: u32, ev: &EventRecord) {
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
