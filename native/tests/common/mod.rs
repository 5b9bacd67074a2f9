//! Shared by the black-box tests: drives an engine through its rings, and
//! the journal options they start from.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use tradecaptain_native::engine::*;
use tradecaptain_native::journal::Faults;
use tradecaptain_native::record::*;

/// Journal options for a test: `dir`, `meta`, process-crash mode, the
/// smallest segments (so that tests roll), no snapshots, no recycling, no faults.
pub fn journal_options(dir: impl Into<PathBuf>, meta: &[u8]) -> JournalOptions {
    JournalOptions {
        dir: dir.into(),
        durability: Durability::ProcessCrash,
        segment_bytes: 64 * 1024,
        snapshot_every: 0,
        meta: meta.to_vec(),
        recycle: false,
        faults: Faults::default(),
    }
}

/// A Rust stand-in for `core/native/engine.ts`.
pub struct Driver<'a> {
    engine: &'a Engine,
    base: *mut u8,
    cmd_cap: u32,
    evt_cap: u32,
    pub cmd_tail: u32,
    pub evt_head: u32,
}

impl<'a> Driver<'a> {
    pub fn new(engine: &'a Engine) -> Self {
        let shared = engine.shared();
        let layout = |i: usize| shared.word(OFF_LAYOUT + 4 * i).load(Ordering::Relaxed);
        assert_eq!(layout(0), LAYOUT_VERSION);
        Driver { engine, base: shared.as_ptr(), cmd_cap: layout(1), evt_cap: layout(2), cmd_tail: 0, evt_head: 0 }
    }

    fn word(&self, off: usize) -> &AtomicU32 {
        self.engine.shared().word(off)
    }

    fn try_push(&mut self, cmd: &CommandRecord) -> bool {
        let head = self.word(OFF_CMD_HEAD).load(Ordering::Acquire);
        if self.cmd_tail.wrapping_sub(head) >= self.cmd_cap {
            return false;
        }
        let i = (self.cmd_tail & (self.cmd_cap - 1)) as usize;
        // SAFETY: i < cmd_cap, so the slot is inside the block's command area,
        // and it is free (tail - head < capacity).
        unsafe { std::ptr::write(self.base.add(OFF_RECORDS + i * 64) as *mut CommandRecord, *cmd) };
        self.cmd_tail = self.cmd_tail.wrapping_add(1);
        true
    }

    fn flush(&self) {
        self.word(OFF_CMD_TAIL).store(self.cmd_tail, Ordering::SeqCst);
        if self.word(OFF_SLEEPING).load(Ordering::SeqCst) == 1 {
            self.engine.wake();
        }
    }

    fn drain(&mut self, out: &mut Vec<EventRecord>) {
        let tail = self.word(OFF_EVT_TAIL).load(Ordering::Acquire);
        while self.evt_head != tail {
            let i = (self.evt_head & (self.evt_cap - 1)) as usize;
            let off = OFF_RECORDS + self.cmd_cap as usize * 64 + i * 64;
            // SAFETY: i < evt_cap, so the record is inside the event area, and
            // the engine published it (acquire on evt_tail above).
            out.push(unsafe { std::ptr::read(self.base.add(off) as *const EventRecord) });
            self.evt_head = self.evt_head.wrapping_add(1);
        }
        self.word(OFF_EVT_HEAD).store(self.evt_head, Ordering::Release);
    }

    /// Sends every command, draining as it goes, until all are processed.
    pub fn run(&mut self, cmds: &[CommandRecord]) -> Vec<EventRecord> {
        let mut out = Vec::new();
        let start = self.word(OFF_PROCESSED).load(Ordering::Acquire);
        let mut next = 0;
        loop {
            while next < cmds.len() && self.try_push(&cmds[next]) {
                next += 1;
            }
            self.flush();
            self.drain(&mut out);
            let done = self.word(OFF_PROCESSED).load(Ordering::Acquire).wrapping_sub(start) as usize;
            if next == cmds.len() && done == cmds.len() {
                self.drain(&mut out);
                return out;
            }
            std::hint::spin_loop();
        }
    }
}
