//! Placement: the engine thread pinned to one CPU, its memory bound to that
//! CPU's NUMA node, and its large regions (books, orders, the rings)
//! advised for huge pages.
//!
//! # Invariants
//! - Every step is best effort: what the host refuses is recorded as the
//!   errno it answered, and the engine runs on. Nothing here fails a start.
//! - Runs on the engine thread itself, before it takes a command, so the
//!   thread's memory policy applies to what it allocates from then on.
//!
//! # Known limitations
//! - Memory allocated before the thread started (the books, the rings) is
//!   moved to the node by `mbind` where the kernel allows it; where it does
//!   not, it stays where it was first touched.

use crate::sys;

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
    pub(super) fn apply(cpu: i32, regions: &[(*const u8, usize)]) -> Placement {
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
