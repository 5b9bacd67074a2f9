//! Every operating-system call the kernels make, in one place.
//!
//! Linux only: CPU affinity, futexes on ring counters, and the clock. Each
//! wrapper returns `Err(errno)` instead of panicking, because the engine
//! carries on where the host refuses a placement step and reports it.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Pins the calling thread to `cpu`.
pub fn pin_current_thread(cpu: usize) -> Result<(), i32> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(libc::EINVAL);
    }
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set, and CPU_SET
    // is given an index checked against CPU_SETSIZE above.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        set
    };
    set_affinity(&set)
}

/// Takes `cpu` out of the calling thread's CPU affinity, unless it is the
/// only CPU left there. Returns whether the affinity changed.
pub fn avoid_cpu(cpu: usize) -> Result<bool, i32> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(libc::EINVAL);
    }
    let mut set = current_affinity()?;
    // SAFETY: CPU_ISSET, CPU_COUNT and CPU_CLR read or write plain
    // cpu_set_t data at an index checked against CPU_SETSIZE above.
    unsafe {
        if !libc::CPU_ISSET(cpu, &set) || libc::CPU_COUNT(&set) < 2 {
            return Ok(false);
        }
        libc::CPU_CLR(cpu, &mut set);
    }
    set_affinity(&set)?;
    Ok(true)
}

/// The loading thread's CPU affinity when the library was loaded, before
/// any thread of ours was pinned: the process's own (all CPUs, or what
/// `taskset` gave it).
static PROCESS_AFFINITY: std::sync::OnceLock<libc::cpu_set_t> = std::sync::OnceLock::new();

/// Records [`PROCESS_AFFINITY`]; run by the loader (`.init_array`).
#[cfg(target_os = "linux")]
extern "C" fn record_process_affinity() {
    if let Ok(set) = current_affinity() {
        let _ = PROCESS_AFFINITY.set(set);
    }
}

#[cfg(target_os = "linux")]
#[used]
// SAFETY: `.init_array` holds plain `extern "C" fn()` pointers the loader
// calls once when the library (or a binary linking it) is loaded;
// `record_process_affinity` only reads the affinity and sets a OnceLock.
#[unsafe(link_section = ".init_array")]
static RECORD_PROCESS_AFFINITY: extern "C" fn() = record_process_affinity;

/// The calling thread's CPU affinity.
fn current_affinity() -> Result<libc::cpu_set_t, i32> {
    // SAFETY: cpu_set_t is plain data (zeroed is the empty set);
    // sched_getaffinity fills at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(errno());
        }
        Ok(set)
    }
}

/// Sets the calling thread's CPU affinity.
fn set_affinity(set: &libc::cpu_set_t) -> Result<(), i32> {
    // SAFETY: sched_setaffinity reads one whole cpu_set_t, which `set` is.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
    if rc == 0 { Ok(()) } else { Err(errno()) }
}

/// Gives the calling thread the process's CPU affinity back when it is
/// pinned to a single CPU the process is not confined to (a pin inherited
/// from the thread that spawned it, meant for that thread). A process
/// confined to one CPU (`taskset -c 3`) stays so. Returns whether it changed.
pub fn unpin_if_pinned() -> Result<bool, i32> {
    let Some(process) = PROCESS_AFFINITY.get() else { return Ok(false) };
    let set = current_affinity()?;
    // SAFETY: CPU_COUNT reads plain cpu_set_t data.
    if unsafe { libc::CPU_COUNT(&set) != 1 || libc::CPU_COUNT(process) < 2 } {
        return Ok(false);
    }
    set_affinity(process)?;
    Ok(true)
}

/// Number of online CPUs. Not the calling thread's affinity: once a thread
/// is pinned, that would say 1 and "the last CPU" would change meaning.
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 { n as usize } else { 1 }
}

/// Waits while `*word == expected`, for at most `timeout`. Spurious wake-ups
/// are allowed; callers re-check their condition.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: `word` is a live, aligned u32 for the duration of the call and
    // `ts` outlives it; FUTEX_WAIT only reads both.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

/// Wakes every thread waiting on `word`.
pub fn futex_wake(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE does not access memory
    // beyond the futex word's address.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX);
    }
}

/// Nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Gives the free pages of the process's C heap back to the kernel
/// (glibc's `malloc_trim(0)`, which walks every arena). Memory freed in many
/// small blocks (a WebSocket's queued frames, say) otherwise stays resident.
/// Returns whether any was released; false where the C library has no such
/// call.
pub fn trim_heap() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes no pointers; it works on the allocator's
        // own free lists under the allocator's locks.
        unsafe { libc::malloc_trim(0) != 0 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// The kernel's id for the calling thread.
pub fn thread_id() -> i64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

// ---- Placement: NUMA and huge pages -------------------------------------

const MPOL_BIND: libc::c_int = 2;
const MPOL_MF_MOVE: libc::c_uint = 1 << 1;
/// Bits in the node masks we pass (nodes 0..63 are plenty for one host).
const MAX_NODES: libc::c_ulong = 64;

/// The NUMA node that `cpu` belongs to, read from `/sys`; `None` where the
/// host exposes no topology (then there is one node, or we cannot tell).
pub fn numa_node_of_cpu(cpu: usize) -> Option<u32> {
    let dir = std::fs::read_dir(format!("/sys/devices/system/cpu/cpu{cpu}")).ok()?;
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_prefix("node")).and_then(|n| n.parse().ok()))
        .next()
}

/// Binds the calling thread's future allocations to `node`.
pub fn bind_thread_memory(node: u32) -> Result<(), i32> {
    if u64::from(node) >= MAX_NODES {
        return Err(libc::EINVAL);
    }
    let mask: libc::c_ulong = 1 << node;
    // SAFETY: the mask outlives the call and holds MAX_NODES bits, as maxnode says.
    let rc = unsafe { libc::syscall(libc::SYS_set_mempolicy, MPOL_BIND, &mask as *const libc::c_ulong, MAX_NODES + 1) };
    if rc == 0 { Ok(()) } else { Err(errno()) }
}

/// The whole pages inside `[ptr, ptr + len)`, or `None` when there are none.
fn inner_pages(ptr: *const u8, len: usize) -> Option<(*mut libc::c_void, usize)> {
    const PAGE: usize = 4096;
    let start = (ptr as usize).checked_add(PAGE - 1)? & !(PAGE - 1);
    let end = (ptr as usize).checked_add(len)? & !(PAGE - 1);
    (end > start).then(|| (start as *mut libc::c_void, end - start))
}

/// Moves the pages of `[ptr, ptr + len)` to `node` and binds them there.
/// Returns the bytes covered (whole pages only).
pub fn bind_memory(ptr: *const u8, len: usize, node: u32) -> Result<usize, i32> {
    if u64::from(node) >= MAX_NODES {
        return Err(libc::EINVAL);
    }
    let Some((addr, bytes)) = inner_pages(ptr, len) else { return Ok(0) };
    let mask: libc::c_ulong = 1 << node;
    // SAFETY: [addr, addr + bytes) is whole pages inside a live allocation of
    // the caller's; mbind changes only placement, never contents; the mask
    // outlives the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mbind,
            addr,
            bytes as libc::c_ulong,
            MPOL_BIND,
            &mask as *const libc::c_ulong,
            MAX_NODES + 1,
            MPOL_MF_MOVE,
        )
    };
    if rc == 0 { Ok(bytes) } else { Err(errno()) }
}

/// Advises the kernel to back `[ptr, ptr + len)` with huge pages. Returns the
/// bytes covered (whole pages only).
pub fn advise_huge_pages(ptr: *const u8, len: usize) -> Result<usize, i32> {
    let Some((addr, bytes)) = inner_pages(ptr, len) else { return Ok(0) };
    // SAFETY: whole pages inside a live allocation of the caller's; the advice
    // changes only how the kernel backs them, never their contents.
    let rc = unsafe { libc::madvise(addr, bytes, libc::MADV_HUGEPAGE) };
    if rc == 0 { Ok(bytes) } else { Err(errno()) }
}

/// The transparent huge page mode (`always`, `madvise` or `never`), if known.
pub fn transparent_huge_pages() -> Option<String> {
    let text = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    Some(text[start..end].to_string())
}

// ---- Journal files (mmap, preallocation, sync) ---------------------------
// (Appended by the journal module's author; keep every OS call in this file.)

/// Reserves `[offset, offset + len)` of `file` on disk (`fallocate`, mode 0):
/// afterwards, stores into a shared mapping of that range cannot fail for
/// lack of space (no `SIGBUS`), and the file is at least `offset + len` long.
pub fn fallocate(file: &std::fs::File, offset: u64, len: u64) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    let (Ok(off), Ok(n)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(libc::EFBIG);
    };
    loop {
        // SAFETY: the descriptor is open for the call's duration (borrowed
        // File); fallocate touches no memory of ours.
        let rc = unsafe { libc::fallocate(file.as_raw_fd(), 0, off, n) };
        if rc == 0 {
            return Ok(());
        }
        match errno() {
            libc::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// Flushes `file`'s data and the metadata needed to read it back (`fdatasync`).
pub fn fdatasync(file: &std::fs::File) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the call's duration.
    let rc = unsafe { libc::fdatasync(file.as_raw_fd()) };
    if rc == 0 { Ok(()) } else { Err(errno()) }
}

/// Flushes a directory, making the creation, renaming and removal of its
/// entries durable (`fsync` on the directory).
pub fn fsync_dir(dir: &std::fs::File) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the call's duration.
    let rc = unsafe { libc::fsync(dir.as_raw_fd()) };
    if rc == 0 { Ok(()) } else { Err(errno()) }
}

/// Takes an advisory lock on the whole of `file` without waiting (`flock`
/// with `LOCK_NB`): exclusive, or shared. The lock belongs to the open file
/// description, so two opens of one file conflict even within one process,
/// and closing `file` releases it. `Err(EWOULDBLOCK)` when a conflicting
/// lock is held.
pub fn try_flock(file: &std::fs::File, exclusive: bool) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    let op = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH } | libc::LOCK_NB;
    loop {
        // SAFETY: the descriptor is open for the call's duration (borrowed
        // File); flock touches no memory of ours.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(());
        }
        match errno() {
            libc::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// The page-aligned span covering `[ptr, ptr + len)`, or `None` when empty.
fn outer_pages(ptr: *const u8, len: usize) -> Option<(*mut libc::c_void, usize)> {
    const PAGE: usize = 4096;
    if len == 0 {
        return None;
    }
    let start = ptr as usize & !(PAGE - 1);
    let end = (ptr as usize).checked_add(len)?;
    Some((start as *mut libc::c_void, end - start))
}

/// Writes the dirty pages of a shared file mapping that overlap `bytes` to
/// disk and waits for them (`msync(MS_SYNC)`). The start is rounded down to
/// its page, which lies in the same mapping, since mappings are page-aligned.
pub fn msync(bytes: &[u8]) -> Result<(), i32> {
    let Some((addr, len)) = outer_pages(bytes.as_ptr(), bytes.len()) else { return Ok(()) };
    // SAFETY: [addr, addr + len) is whole pages of one live mapping (the
    // slice's, rounded out to its pages); msync writes pages back and never
    // changes their contents.
    let rc = unsafe { libc::msync(addr, len, libc::MS_SYNC) };
    if rc == 0 { Ok(()) } else { Err(errno()) }
}

/// Pre-faults the pages of a shared writable file mapping overlapping `bytes`
/// as writable (`MADV_POPULATE_WRITE`, Linux 5.14+), so that the first store
/// to each page takes no fault later. Contents are unchanged; the pages
/// become dirty. Returns the bytes covered.
pub fn populate_write(bytes: &[u8]) -> Result<usize, i32> {
    let Some((addr, len)) = outer_pages(bytes.as_ptr(), bytes.len()) else { return Ok(0) };
    // SAFETY: whole pages of one live mapping; populating faults pages in and
    // never changes what they hold.
    let rc = unsafe { libc::madvise(addr, len, libc::MADV_POPULATE_WRITE) };
    if rc == 0 { Ok(len) } else { Err(errno()) }
}

/// Asks for the cache line holding `at` in a writable state (`PREFETCHW`
/// on x86-64; nothing elsewhere). A hint: it never faults.
#[inline(always)]
pub fn prefetch_write(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults or changes memory,
    // whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(at.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
