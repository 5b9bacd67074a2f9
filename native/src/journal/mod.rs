//! The trade execution log: memory-mapped, segmented, append-only files, and
//! the engine's source of truth. The engine thread appends every command it
//! takes and every execution before any event of that command is visible; on
//! restart it replays them to the same state. This module is the storage
//! layer only: durability policy, snapshots and replay live in the engine.
//!
//! ```text
//! DIR/segment-0000000000000000.tcj   each preallocated to segment_bytes, mapped whole
//!
//! segment header, 64 bytes (little-endian)
//!   0 magic "TCJRNL\0\x01"   8 u32 version = 1   12 u32 header_len = 64
//!  16 u64 epoch (random per initialisation)      24 u64 first_seq (0: spare)
//!  32 u64 segment index     40 u64 segment_bytes  48..60 zero   60 u32 CRC32C of 0..60
//!
//! record, 8-byte aligned, from offset 64, never spanning segments
//!   0 u32 len (whole record incl. padding; 0 = no record here)   4 u32 crc
//!   8 u64 seq   16 u64 ingress_ns   24 u16 kind   26 u16 reserved = 0
//!  28 u32 payload_len   32 payload, then zero padding to len
//!   crc = CRC32C(epoch ‖ len ‖ bytes 8..len)
//! ```
//!
//! # Invariants
//! - Sequence numbers are global and gapless from 1; a data segment's
//!   `first_seq` is its first record's. A spare segment (`first_seq == 0`:
//!   recycled, or made ready and not yet used) holds no records.
//! - A record is valid only if its CRC matches under its segment's current
//!   epoch, so bytes left over from a recycled segment's earlier life (or a
//!   partly written record) never validate.
//! - The writer stores everything but `len`, zeroes the next record's `len`
//!   word, then stores `len` last (release). At every instant the segment
//!   reads as the records appended so far, followed by `len == 0`: a process
//!   crash anywhere in `append` leaves the whole record visible or none of it.
//! - Segment files are preallocated (`fallocate`) before they are mapped, so
//!   a store into the mapping can never `SIGBUS` for lack of space.
//! - After any failed `sync` or segment creation the journal is poisoned: no
//!   later call writes, so the files stay valid up to the last record whose
//!   `append` returned `Ok`. An `fsync` is never retried (after a failed one
//!   the kernel may have dropped the dirty pages and report success next time).
//! - `open` cuts a torn tail (nothing valid follows the first invalid record)
//!   and refuses corruption (valid records follow it): cutting there would
//!   drop acknowledged records.
//!
//! - One writer per directory: a `Journal` holds the folder's lock file
//!   (`DIR/lock`, `flock`, its pid inside) exclusively for its life, so a
//!   second one (another core, or another engine in this process) is refused
//!   with the holder's pid. [`Reader::open`] and [`verify`] map segments, so
//!   they hold the lock shared while they read and refuse a folder a writer
//!   holds: a mapped file that the writer shrinks or recycles ends in
//!   `SIGBUS` (memmap2 documents it as undefined behaviour).
//!   [`Reader::open_live`] and [`verify_live`] read a live folder by `pread`
//!   instead, without the lock.
//!
//! # Known limitations
//! - The lock is advisory (see `lock.rs`). A live read is a view taken while
//!   the writer goes on: the record in flight may read as a torn tail, and a
//!   segment released or recycled during the read as a gap (corruption).
//! - A record larger than a segment's capacity (`segment_bytes - 64`) is
//!   refused (`JournalError::Config`); records never span segments.
//! - Durability is only what `sync` promises: records appended since the last
//!   successful `sync` survive a process crash (they are in the page cache)
//!   but not necessarily a power loss. After a power loss the unsynced tail
//!   may come back with holes; `open` zeroes everything after the first hole
//!   or invalid record (in the newest data segment), so a later crash can
//!   never make such leftovers look like records that follow a torn tail.
//! - Rolling is cheap only when the next segment is ready. A thread
//!   (`tc-journal-prep`) makes segment n+1 while n fills: it preallocates,
//!   maps and prefaults it whole (`MADV_POPULATE_WRITE`: without it, the
//!   first store to each 4 KiB page costs several microseconds, one append
//!   in ~40), and leaves it as a spare. Prefaulting 64 MiB takes ~20 ms on an
//!   idle host here and up to ~200 ms while the writer saturates both CPUs,
//!   so a writer above ~300 MB/s of records waits for it at the roll. The
//!   prefault dirties the whole segment, so background writeback may write
//!   its zeros once, and written-back pages fault once more on their next store.
//! - A new segment file is made under a temporary name (`….tcj.new`, removed
//!   by `open` after a crash) and renamed once whole, so a scan never sees a
//!   segment without its header.
//! - Huge pages: `MADV_HUGEPAGE` on a file mapping is only a hint. Whether
//!   the page cache backs a writable shared mapping with huge pages depends
//!   on the filesystem and kernel; [`Journal::huge_page_advice`] says only
//!   that the hint was taken.
//!
//! # Performance
//! `append` is a bounds check, a copy into the mapping, one CRC32C over the
//! record as written (`crc-fast`: carry-less multiply folding where the CPU
//! has it) and a release store: no allocation and no system call,
//! except at a roll (a channel receive and a header). `sync` is one
//! `msync(MS_SYNC)` over the pages written since the last one (plus an
//! `fdatasync` per segment rolled away from), so group
//! commit amortises the disk flush over a batch. Measured by
//! `cargo bench --bench journal` (64 MiB segments, 64-byte payloads, ext4 on
//! a virtio disk, 2 vCPUs): append p50 30 ns, p99 50–60 ns, p99.9 130–290 ns;
//! group commit of 1000-record batches 1.8 M records/s (sync p50 0.4 ms);
//! replay through [`Reader`] 23 M records/s.

pub(crate) mod crc;
mod format;
mod lock;
mod scan;

pub use format::{DEFAULT_SEGMENT_BYTES, MIN_SEGMENT_BYTES, RECORD_HEADER, errno_name};
pub use lock::{Holder, LOCK_FILE, holder};
pub use scan::{Reader, verify, verify_live};

use lock::Lock;

use format::{HEADER_LEN, Header, PAGE};
use memmap2::{MmapMut, MmapOptions};
use std::collections::VecDeque;
use std::fmt;
use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Mode of the folders the journal makes (its own and `snapshots/`): the
/// owner's only. Orders and accounts are nobody else's to read.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files the journal makes (segments and snapshots): the owner's only.
pub const FILE_MODE: u32 = 0o600;

/// Makes `dir` and any missing parents with [`DIR_MODE`]; existing ones keep theirs.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Where and how to keep a journal.
#[derive(Clone, Debug)]
pub struct JournalConfig {
    pub dir: PathBuf,
    /// Size of each new segment file: a whole number of pages from 64 KiB
    /// ([`MIN_SEGMENT_BYTES`]); default 64 MiB. Existing segments keep theirs.
    pub segment_bytes: u64,
    /// Reuse released segments as future ones instead of deleting them.
    pub recycle: bool,
    pub faults: Faults,
}

impl JournalConfig {
    /// A configuration with 64 MiB segments, no recycling and no faults.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JournalConfig {
            dir: dir.into(),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            recycle: false,
            faults: Faults::default(),
        }
    }
}

/// Failures to inject (tests).
#[derive(Clone, Default, Debug)]
pub struct Faults {
    /// The n-th `sync()` (1-based) fails as with `EIO`.
    pub fail_sync_on: Option<u64>,
    /// Creating the segment with this index fails as with `ENOSPC`.
    pub enospc_on_segment: Option<u64>,
}

/// One record, borrowed from a segment's mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub seq: u64,
    pub kind: u16,
    pub ingress_ns: u64,
    pub payload: &'a [u8],
}

/// Where a scan found something invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The segment's index (its file name).
    pub segment: u64,
    /// Byte offset in the segment: 0 for its header, else the record's start.
    pub offset: u64,
    /// The sequence number expected at this point, once known.
    pub seq: Option<u64>,
    /// The damaged extent as far as it can be told: the record's stated
    /// length clipped to the file, or the header's 64 bytes.
    pub bytes: u64,
    /// Why it is not valid: "bad CRC", "sequence 41 follows 39", …
    pub reason: String,
}

/// What a scan of every segment found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Segment files in the directory, spares included.
    pub segments: u64,
    /// Valid records before the end or the first damage.
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// An invalid record or header that nothing valid follows.
    pub torn_tail: Option<Damage>,
    /// An invalid record or header that valid records follow.
    pub corruption: Option<Damage>,
    /// `open` cut the torn tail.
    pub cut: bool,
}

impl VerifyReport {
    /// The report as JSON with stable camelCase field names.
    pub fn to_json(&self) -> String {
        fn opt(v: Option<u64>) -> String {
            v.map_or_else(|| "null".into(), |v| v.to_string())
        }
        fn damage(d: &Option<Damage>) -> String {
            d.as_ref().map_or_else(
                || "null".into(),
                |d| {
                    format!(
                        r#"{{"segment":{},"file":{},"offset":{},"seq":{},"bytes":{},"reason":{}}}"#,
                        d.segment,
                        json_string(&format::segment_name(d.segment)),
                        d.offset,
                        opt(d.seq),
                        d.bytes,
                        json_string(&d.reason)
                    )
                },
            )
        }
        format!(
            r#"{{"segments":{},"records":{},"firstSeq":{},"lastSeq":{},"tornTail":{},"corruption":{},"cut":{}}}"#,
            self.segments,
            self.records,
            opt(self.first_seq),
            opt(self.last_seq),
            damage(&self.torn_tail),
            damage(&self.corruption),
            self.cut
        )
    }
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Why a journal operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JournalError {
    /// A file operation failed; `op` is what was being done ("open", "map", …).
    Io { op: &'static str, path: PathBuf, errno: i32 },
    /// A segment could not be preallocated: the disk is full (`ENOSPC`) or
    /// the quota is used up (`EDQUOT`).
    NoSpace { path: PathBuf, errno: i32 },
    /// `msync` or `fdatasync` failed; the journal is poisoned.
    SyncFailed { errno: i32 },
    /// Valid records follow damage; see [`Damage`].
    Corrupt(Damage),
    /// The journal was poisoned by an earlier failure, which the message names.
    Failed(String),
    /// A bad configuration or argument; nothing was written.
    Config(String),
    /// Another holds the folder's lock: a writer (or a mapping reader) when
    /// this would write, a writer when this would map segments to read.
    Busy { dir: PathBuf, holder: Holder, reading: bool },
}

impl JournalError {
    pub(crate) fn io(op: &'static str, path: &Path, e: &std::io::Error) -> Self {
        JournalError::Io { op, path: path.to_path_buf(), errno: e.raw_os_error().unwrap_or(libc::EIO) }
    }

    /// The errno the OS answered, when an OS call failed (so that an
    /// operator's tools can tell a full disk from a failing one without
    /// reading the message).
    pub fn errno(&self) -> Option<i32> {
        match self {
            JournalError::Io { errno, .. }
            | JournalError::NoSpace { errno, .. }
            | JournalError::SyncFailed { errno } => Some(*errno),
            JournalError::Corrupt(_)
            | JournalError::Failed(_)
            | JournalError::Config(_)
            | JournalError::Busy { .. } => None,
        }
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { op, path, errno } => {
                write!(f, "Cannot {op} {}: {}", path.display(), format::describe_errno(*errno))
            }
            JournalError::NoSpace { path, errno } => {
                write!(f, "Cannot prepare journal segment {}: {}", path.display(), format::describe_errno(*errno))
            }
            JournalError::SyncFailed { errno } => write!(
                f,
                "Cannot sync journal: the flush to disk failed: {}; records since the last sync may be lost, \
                 and the journal accepts no more",
                format::describe_errno(*errno)
            ),
            JournalError::Corrupt(d) => {
                write!(f, "Cannot use journal: {} is corrupt at byte {}", format::segment_name(d.segment), d.offset)?;
                if let Some(seq) = d.seq {
                    write!(f, " (sequence {seq})")?;
                }
                write!(f, ": {}; valid records follow, so cutting there would drop acknowledged records", d.reason)
            }
            JournalError::Failed(msg) | JournalError::Config(msg) => f.write_str(msg),
            JournalError::Busy { dir, holder, reading } => f.write_str(&lock::busy_message(dir, holder, *reading)),
        }
    }
}

impl std::error::Error for JournalError {}

/// The segment being appended to.
struct Active {
    index: u64,
    /// Kept to sync the segment after it is rolled away from and unmapped.
    file: File,
    map: MmapMut,
    /// The segment's size (its header's `segment_bytes`; the file is at least this long).
    size: usize,
    /// CRC state after this segment's epoch.
    seed: u32,
}

/// A segment rolled away from whose tail is not yet synced. Its mapping is
/// gone (unmapped on the preparation thread); its dirty pages are in the
/// page cache, which `fdatasync` on the file flushes.
struct Rolled {
    index: u64,
    file: File,
}

/// The directory and what making segments in it needs.
struct Dir {
    path: PathBuf,
    file: File,
    /// Size of new segments.
    segment_bytes: u64,
    faults: Faults,
}

/// The appender. One per directory.
pub struct Journal {
    dir: Dir,
    preparer: Preparer,
    recycle: bool,
    active: Active,
    /// Where the next record goes in the active segment.
    pos: usize,
    /// Active-segment bytes before this are synced.
    synced: usize,
    rolled: Vec<Rolled>,
    /// Data segments (index, first_seq), oldest first; the last is active.
    segments: VecDeque<(u64, u64)>,
    /// The highest segment file index in the directory.
    top_index: u64,
    next_seq: u64,
    unsynced: u64,
    syncs: u64,
    failed: Option<String>,
    huge: Result<usize, i32>,
    /// The folder's lock, held exclusively (never read: holding it is its
    /// job); last, so released after the preparation thread has stopped and
    /// every mapping is gone.
    _lock: Lock,
}

impl Journal {
    /// Opens DIR (creating it), scans every segment, and positions appends
    /// after the last valid record. A torn tail is cut: zeroed, synced,
    /// reported. Corruption before the tail is refused
    /// (`Err(JournalError::Corrupt)`): cutting there would drop acknowledged records.
    pub fn open(config: JournalConfig) -> Result<(Journal, VerifyReport), JournalError> {
        let JournalConfig { dir, segment_bytes, recycle, faults } = config;
        if !format::valid_segment_bytes(segment_bytes) {
            return Err(JournalError::Config(format!(
                "Cannot open journal: segment size {segment_bytes} must be a multiple of 4096 from 65536 to 2^40 bytes"
            )));
        }
        create_private_dir(&dir).map_err(|e| JournalError::io("create the directory", &dir, &e))?;
        // Before anything is read or written: the folder is ours alone.
        let lock = Lock::exclusive(&dir)?;
        let file = File::open(&dir).map_err(|e| JournalError::io("open the directory", &dir, &e))?;
        let dir = Dir { path: dir, file, segment_bytes, faults };
        dir.remove_leftovers()?;
        let mut scan = scan::Scanner::new(&dir.path)?;
        while scan.advance()?.is_some() {}
        let mut report = scan::report(&scan);
        if let Some(damage) = report.corruption.take() {
            return Err(JournalError::Corrupt(damage));
        }
        let mut files = scan.files.clone();
        if let Some(found) = scan.found.as_ref().filter(|f| f.torn) {
            dir.cut(&mut files, found, &scan.data)?;
            report.cut = true;
        }

        // The active segment holds the last valid record; without records,
        // it is the first data segment, or a new one.
        let mut segments: VecDeque<(u64, u64)> =
            scan.data.iter().filter(|s| s.records > 0).map(|s| (s.index, s.header.first_seq)).collect();
        let resumable = scan.data.iter().rev().find(|s| s.records > 0).or(scan.data.first());
        let (active, pos, next_seq, huge) = match resumable {
            Some(seg) => {
                let (active, huge) = dir.resume(seg.index, seg.header, seg.end)?;
                if segments.is_empty() {
                    segments.push_back((seg.index, seg.header.first_seq));
                }
                (active, seg.end, scan.expected().unwrap_or(seg.header.first_seq), huge)
            }
            None => {
                // Only spares (or nothing): the lowest becomes segment one's home.
                let index = files.first().map_or(0, |f| f.index);
                let (active, huge) = dir.make_ready(index)?.activate(1);
                segments.push_back((index, 1));
                (active, HEADER_LEN, 1, huge)
            }
        };
        let top_index = files.last().map_or(active.index, |f| f.index.max(active.index));
        let preparer = Preparer::start(dir.try_clone()?)?;
        let mut journal = Journal {
            dir,
            preparer,
            recycle,
            active,
            pos,
            synced: 0,
            rolled: Vec::with_capacity(4),
            segments,
            top_index,
            next_seq,
            unsynced: 0,
            syncs: 0,
            failed: None,
            huge,
            _lock: lock,
        };
        // Records of a crashed process may still be only in the page cache:
        // make what replay will see durable before the engine builds on it.
        journal.sync_existing(&files)?;
        journal.prepare_next();
        Ok((journal, report))
    }

    /// Copies one record in and returns its sequence number. No allocation
    /// and no system call, except when rolling into a new segment.
    #[inline]
    pub fn append(&mut self, kind: u16, ingress_ns: u64, payload: &[u8]) -> Result<u64, JournalError> {
        if self.failed.is_some() {
            return Err(self.poisoned("append to"));
        }
        let len = format::record_len(payload.len());
        if payload.len() > u32::MAX as usize - 64 || self.pos + len > self.active.size {
            self.roll(len)?;
        }
        let seq = self.next_seq;
        let pos = self.pos;
        let map = &mut self.active.map[..self.active.size];
        let rec = &mut map[pos..pos + len];
        rec[8..16].copy_from_slice(&seq.to_le_bytes());
        rec[16..24].copy_from_slice(&ingress_ns.to_le_bytes());
        rec[24..26].copy_from_slice(&kind.to_le_bytes());
        rec[26..28].fill(0);
        rec[28..32].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        rec[32..32 + payload.len()].copy_from_slice(payload);
        rec[32 + payload.len()..].fill(0);
        // Over the record as just written (still in the cache), in one pass.
        let crc = format::record_crc(self.active.seed, len as u32, &rec[8..]);
        rec[4..8].copy_from_slice(&crc.to_le_bytes());
        // The next record's length word reads 0 (end) before this one's is
        // published: a recycled segment holds stale bytes there.
        if let Some(next) = map.get_mut(pos + len..pos + len + 8) {
            next.fill(0);
        }
        let word = map[pos..].as_mut_ptr().cast::<u32>();
        debug_assert!(word.is_aligned());
        // SAFETY: `word` is 4-aligned (pos is a multiple of 8 in a page-aligned
        // mapping) and inside the mapping (pos + len <= its length, len >= 32);
        // nothing else accesses it while this reference lives.
        unsafe { AtomicU32::from_ptr(word) }.store((len as u32).to_le(), Ordering::Release);
        self.pos = pos + len;
        self.next_seq = seq + 1;
        self.unsynced += 1;
        Ok(seq)
    }

    /// Keeps the segment preparation thread off `cpu` (the engine
    /// thread's), unless it is the only CPU the thread may use: preparing
    /// a segment takes tens of milliseconds of CPU, which must not preempt
    /// the engine. Applied by the thread itself, shortly after.
    pub fn keep_preparation_off(&mut self, cpu: usize) {
        self.preparer.avoid_cpu(cpu);
    }

    /// Hints that bytes `offset..offset + len` of the next record will be
    /// written soon: their cache lines are fetched for writing in the
    /// background, while the engine matches, so that writing the record
    /// finds them in the cache rather than waiting on each line's miss.
    #[inline]
    pub fn prefetch_next(&self, offset: usize, len: usize) {
        let start = self.pos + offset;
        let end = (start + len).min(self.active.size);
        let mut at = start & !63;
        while at < end {
            crate::sys::prefetch_write(self.active.map[at..].as_ptr());
            at += 64;
        }
    }

    /// Flushes everything appended since the last sync (`msync(MS_SYNC)` on
    /// the active segment, `fdatasync` on segments rolled away from). A failure is fatal: the journal
    /// is poisoned and every later `append`/`sync` fails; an fsync is never retried.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        if self.failed.is_some() {
            return Err(self.poisoned("sync"));
        }
        self.syncs += 1;
        if self.dir.faults.fail_sync_on == Some(self.syncs) {
            return Err(self.fail(JournalError::SyncFailed { errno: libc::EIO }));
        }
        for r in std::mem::take(&mut self.rolled) {
            if let Err(errno) = crate::sys::fdatasync(&r.file) {
                return Err(self.fail(JournalError::SyncFailed { errno }));
            }
        }
        if self.pos > self.synced {
            if let Err(errno) = crate::sys::msync(&self.active.map[self.synced..self.pos]) {
                return Err(self.fail(JournalError::SyncFailed { errno }));
            }
            self.synced = self.pos;
        }
        self.unsynced = 0;
        Ok(())
    }

    /// Records appended since the last successful sync.
    pub fn unsynced(&self) -> u64 {
        self.unsynced
    }

    /// The sequence number the next append gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Blocks until the next segment is prepared, so that the first roll only
    /// writes a header and no preparation competes with the first appends
    /// (the engine calls it before it takes orders). Returns why preparing
    /// it failed, if it did (a full disk): appends go on into the active
    /// segment, and the roll out of it fails with the same error.
    pub fn wait_ready(&mut self) -> Result<(), JournalError> {
        self.preparer.wait();
        match &self.preparer.answered {
            Some(Err(e)) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// The result of `MADV_HUGEPAGE` on the active segment: bytes advised, or errno.
    pub fn huge_page_advice(&self) -> Result<usize, i32> {
        self.huge
    }

    /// The journal's directory.
    /// A reader of this journal's records, for its own process (recovery):
    /// it maps the segments, which this journal's lock keeps safe.
    pub fn reader(&self) -> Result<Reader, JournalError> {
        Reader::for_writer(&self.dir.path)
    }

    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// Drops the segments wholly before `seq` (every record in them has a
    /// smaller sequence number). The active segment and segments not yet
    /// synced stay. With `recycle`, each is renamed to become a future
    /// segment and re-initialised with a new epoch (not zeroed: the epoch
    /// makes its old records invalid); otherwise it is deleted.
    pub fn release_before(&mut self, seq: u64) -> Result<(), JournalError> {
        if self.failed.is_some() {
            return Err(self.poisoned("release segments of"));
        }
        let mut released = false;
        while let (Some(&(index, _)), Some(&(_, next_first))) = (self.segments.front(), self.segments.get(1)) {
            if next_first > seq || self.rolled.iter().any(|r| r.index == index) {
                break;
            }
            let path = self.dir.path.join(format::segment_name(index));
            if self.recycle {
                // Rename first: a crash before the new header is written then
                // leaves a misnamed segment at the highest index, which a scan
                // takes for a torn tail, never data at the front.
                let target = self.top_index + 1;
                let new_path = self.dir.path.join(format::segment_name(target));
                std::fs::rename(&path, &new_path).map_err(|e| JournalError::io("rename", &path, &e))?;
                self.top_index = target;
                make_spare(&new_path, target)?;
            } else {
                std::fs::remove_file(&path).map_err(|e| JournalError::io("remove", &path, &e))?;
            }
            self.segments.pop_front();
            released = true;
        }
        if released {
            self.dir.sync()?;
        }
        Ok(())
    }

    /// Moves to the next segment, making it ready. Cold: once per segment.
    #[cold]
    #[inline(never)]
    fn roll(&mut self, len: usize) -> Result<(), JournalError> {
        let capacity = self.dir.segment_bytes as usize - HEADER_LEN;
        if len > capacity {
            return Err(JournalError::Config(format!(
                "Cannot append to journal: a record of {len} bytes does not fit a segment's {capacity} bytes"
            )));
        }
        let index = self.active.index + 1;
        let (next, huge) = match self.preparer.take(&self.dir, index) {
            Ok(ready) => ready.activate(self.next_seq),
            Err(e) => return Err(self.fail(e)),
        };
        let Active { index: old_index, file, map, .. } = std::mem::replace(&mut self.active, next);
        if self.pos > self.synced {
            self.rolled.push(Rolled { index: old_index, file });
        }
        // Unmapping a prefaulted 64 MiB mapping takes a while: not here.
        self.preparer.unmap(map);
        self.huge = huge;
        self.pos = HEADER_LEN;
        self.synced = 0;
        self.segments.push_back((index, self.next_seq));
        self.top_index = self.top_index.max(index);
        self.prepare_next();
        Ok(())
    }

    /// Asks the preparation thread for the segment after the active one.
    fn prepare_next(&mut self) {
        let next = self.active.index + 1;
        self.top_index = self.top_index.max(next);
        self.preparer.request(next);
    }

    /// Syncs the existing segments before the active one through their files,
    /// and the active one through its mapping.
    fn sync_existing(&mut self, files: &[scan::SegmentFile]) -> Result<(), JournalError> {
        for f in files.iter().filter(|f| f.index < self.active.index) {
            let file = File::open(&f.path).map_err(|e| JournalError::io("open", &f.path, &e))?;
            crate::sys::fdatasync(&file).map_err(|errno| JournalError::Io {
                op: "sync",
                path: f.path.clone(),
                errno,
            })?;
        }
        let path = self.dir.path.join(format::segment_name(self.active.index));
        crate::sys::msync(&self.active.map[..self.pos]).map_err(|errno| JournalError::Io {
            op: "sync",
            path,
            errno,
        })?;
        self.synced = self.pos;
        Ok(())
    }

    /// Poisons the journal with `e`'s message and returns `e`.
    fn fail(&mut self, e: JournalError) -> JournalError {
        self.failed = Some(e.to_string());
        e
    }

    fn poisoned(&self, what: &str) -> JournalError {
        let cause = self.failed.as_deref().unwrap_or("unknown");
        JournalError::Failed(format!("Cannot {what} journal: it failed earlier and accepts no more: {cause}"))
    }
}

impl Dir {
    fn try_clone(&self) -> Result<Dir, JournalError> {
        let file = self.file.try_clone().map_err(|e| JournalError::io("open the directory", &self.path, &e))?;
        Ok(Dir { path: self.path.clone(), file, segment_bytes: self.segment_bytes, faults: self.faults.clone() })
    }

    /// Removes segment files a crash left half made.
    fn remove_leftovers(&self) -> Result<(), JournalError> {
        let io = |e: std::io::Error| JournalError::io("read the directory", &self.path, &e);
        for entry in std::fs::read_dir(&self.path).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.strip_suffix(TMP_SUFFIX).and_then(format::parse_segment_name).is_some() {
                std::fs::remove_file(&path).map_err(|e| JournalError::io("remove", &path, &e))?;
            }
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), JournalError> {
        crate::sys::fsync_dir(&self.file).map_err(|errno| JournalError::Io {
            op: "sync the directory",
            path: self.path.clone(),
            errno,
        })
    }

    /// Makes segment `index` ready to become active: reuses its file when one
    /// exists (a spare), else creates it; preallocates, maps and prefaults it,
    /// and writes a spare header (`first_seq` 0, a new epoch), so that the
    /// directory reads as clean while it waits. The slow part of a roll
    /// (about 170 ms for 64 MiB here, nearly all prefaulting), run by the
    /// [`Preparer`] thread ahead of need.
    fn make_ready(&self, index: u64) -> Result<Ready, JournalError> {
        let path = self.path.join(format::segment_name(index));
        let size = self.segment_bytes;
        let no_space = |errno: i32, path: PathBuf| match errno {
            libc::ENOSPC | libc::EDQUOT => JournalError::NoSpace { path, errno },
            errno => JournalError::Io { op: "preallocate", path, errno },
        };
        let existing = OpenOptions::new().read(true).write(true).open(&path);
        let (file, map) = match existing {
            Ok(file) => {
                // A spare (or an empty data segment left by a crash): reused.
                let prepared = if self.faults.enospc_on_segment == Some(index) {
                    Err(libc::ENOSPC)
                } else {
                    shrink_to(&file, size).and_then(|()| crate::sys::fallocate(&file, 0, size))
                };
                prepared.map_err(|errno| no_space(errno, path.clone()))?;
                let map = map_rw(&file, &path)?;
                (file, map)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Made under a name no scan lists, and renamed once whole: a
                // reader never sees a segment without its header.
                let tmp = self.path.join(format!("{}{TMP_SUFFIX}", format::segment_name(index)));
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(FILE_MODE)
                    .open(&tmp)
                    .map_err(|e| JournalError::io("create", &tmp, &e))?;
                let prepared = if self.faults.enospc_on_segment == Some(index) {
                    Err(libc::ENOSPC)
                } else {
                    crate::sys::fallocate(&file, 0, size)
                };
                if let Err(errno) = prepared {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(no_space(errno, path));
                }
                let mut map = map_rw(&file, &tmp)?;
                let header = Header { epoch: format::new_epoch(0), first_seq: 0, index, segment_bytes: size };
                map[..HEADER_LEN].copy_from_slice(&header.encode());
                std::fs::rename(&tmp, &path).map_err(|e| JournalError::io("rename", &tmp, &e))?;
                self.sync()?;
                (file, map)
            }
            Err(e) => return Err(JournalError::io("open", &path, &e)),
        };
        let mut map = map;
        let huge = advise(&map);
        let epoch = match Header::decode(&map, index) {
            Ok(h) if h.first_seq == 0 && h.segment_bytes == size => h.epoch,
            old => {
                let epoch = format::new_epoch(old.map_or(0, |h| h.epoch));
                map[..HEADER_LEN].copy_from_slice(&Header { epoch, first_seq: 0, index, segment_bytes: size }.encode());
                epoch
            }
        };
        Ok(Ready { index, file, map, epoch, huge })
    }

    /// Reopens the existing data segment `index` for appending at `end`.
    fn resume(&self, index: u64, header: Header, end: usize) -> Result<(Active, Result<usize, i32>), JournalError> {
        let path = self.path.join(format::segment_name(index));
        let file =
            OpenOptions::new().read(true).write(true).open(&path).map_err(|e| JournalError::io("open", &path, &e))?;
        // A truncated file is extended again, so stores past its old end cannot fault.
        crate::sys::fallocate(&file, 0, header.segment_bytes).map_err(|errno| match errno {
            libc::ENOSPC | libc::EDQUOT => JournalError::NoSpace { path: path.clone(), errno },
            errno => JournalError::Io { op: "preallocate", path: path.clone(), errno },
        })?;
        let mut map = map_rw(&file, &path)?;
        let size = (header.segment_bytes as usize).min(map.len());
        // Nothing may follow the last valid record: zero every page after it
        // holding anything (a cut tail, a recycled segment's stale records, or
        // records after a power-loss hole), and sync what was zeroed.
        if let Some(from) = zero_after(&mut map[..size], end) {
            crate::sys::msync(&map[from..]).map_err(|errno| JournalError::Io {
                op: "sync",
                path: path.clone(),
                errno,
            })?;
        }
        let huge = advise(&map);
        Ok((Active { index, file, map, size, seed: format::epoch_seed(header.epoch) }, huge))
    }

    /// Cuts a torn tail: zeroes the damaged segment from the damage on (or
    /// removes it when its header is the damage) and removes every later
    /// segment file (none holds a valid record, or this would be corruption).
    fn cut(
        &self,
        files: &mut Vec<scan::SegmentFile>,
        found: &scan::Found,
        data: &[scan::DataSegment],
    ) -> Result<(), JournalError> {
        let first_removed = if found.header { found.file } else { found.file + 1 };
        if let Some(seg) = data.iter().find(|s| s.file == found.file).filter(|_| !found.header) {
            let path = &files[found.file].path;
            let file =
                OpenOptions::new().read(true).write(true).open(path).map_err(|e| JournalError::io("open", path, &e))?;
            crate::sys::fallocate(&file, 0, seg.header.segment_bytes).map_err(|errno| JournalError::Io {
                op: "preallocate",
                path: path.clone(),
                errno,
            })?;
            let mut map = map_rw(&file, path)?;
            let size = (seg.header.segment_bytes as usize).min(map.len());
            if let Some(from) = zero_after(&mut map[..size], found.damage.offset as usize) {
                crate::sys::msync(&map[from..]).map_err(|errno| JournalError::Io {
                    op: "sync",
                    path: path.clone(),
                    errno,
                })?;
            }
        }
        for f in files.drain(first_removed.min(files.len())..) {
            std::fs::remove_file(&f.path).map_err(|e| JournalError::io("remove", &f.path, &e))?;
        }
        self.sync()
    }
}

/// Suffix of a segment file being made; scans ignore it, `open` removes it.
const TMP_SUFFIX: &str = ".new";

/// A segment made ready by [`Dir::make_ready`]: mapped, prefaulted, a spare.
struct Ready {
    index: u64,
    file: File,
    map: MmapMut,
    /// The spare header's epoch.
    epoch: u64,
    huge: Result<usize, i32>,
}

impl Ready {
    /// Turns the spare into the active segment, taking records from `first_seq`.
    fn activate(self, first_seq: u64) -> (Active, Result<usize, i32>) {
        let Ready { index, file, mut map, epoch, huge } = self;
        let epoch = format::new_epoch(epoch);
        let segment_bytes = map.len() as u64;
        // Zero the first length word before the header names the new epoch:
        // until then the spare header holds, and a spare is never scanned.
        map[HEADER_LEN..HEADER_LEN + 8].fill(0);
        map[..HEADER_LEN].copy_from_slice(&Header { epoch, first_seq, index, segment_bytes }.encode());
        let size = map.len();
        (Active { index, file, map, size, seed: format::epoch_seed(epoch) }, huge)
    }
}

/// Work for the preparation thread.
enum Job {
    /// Make segment `index` ready; the result comes back on `results`.
    Make(u64),
    /// Unmap a segment rolled away from.
    Unmap(MmapMut),
    /// Stay off this CPU (the engine thread's) where another is allowed.
    AvoidCpu(usize),
}

/// The thread that readies the next segment while the active one fills, so
/// that a roll only writes a header. One request in flight at a time.
struct Preparer {
    requests: Option<mpsc::Sender<Job>>,
    results: mpsc::Receiver<Result<Ready, JournalError>>,
    thread: Option<JoinHandle<()>>,
    /// The index requested and not yet taken.
    pending: Option<u64>,
    /// The thread's answer for `pending`, once [`Preparer::wait`] has received it.
    answered: Option<Result<Ready, JournalError>>,
}

impl Preparer {
    fn start(dir: Dir) -> Result<Preparer, JournalError> {
        let (requests, inbox) = mpsc::channel::<Job>();
        let (outbox, results) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tc-journal-prep".into())
            .spawn(move || {
                // A pin to one CPU was meant for the thread that opened the
                // journal, not for this helper. Best effort.
                let _ = crate::sys::unpin_if_pinned();
                for job in inbox {
                    match job {
                        Job::Make(index) => {
                            if outbox.send(dir.make_ready(index)).is_err() {
                                break;
                            }
                        }
                        Job::Unmap(map) => drop(map),
                        // Best effort: preparing on the engine's CPU is only slower.
                        Job::AvoidCpu(cpu) => {
                            let _ = crate::sys::avoid_cpu(cpu);
                        }
                    }
                }
            })
            .map_err(|e| JournalError::io("start the segment preparation thread for", Path::new("the journal"), &e))?;
        Ok(Preparer { requests: Some(requests), results, thread: Some(thread), pending: None, answered: None })
    }

    fn request(&mut self, index: u64) {
        if self.pending.is_none() && self.requests.as_ref().is_some_and(|r| r.send(Job::Make(index)).is_ok()) {
            self.pending = Some(index);
        }
    }

    /// Asks the thread to stay off `cpu` where another CPU is allowed.
    fn avoid_cpu(&mut self, cpu: usize) {
        if let Some(requests) = &self.requests {
            let _ = requests.send(Job::AvoidCpu(cpu));
        }
    }

    /// Unmaps `map` on the thread (here if it is gone).
    fn unmap(&mut self, map: MmapMut) {
        if let Some(requests) = &self.requests {
            // A failed send hands the job back, and dropping it unmaps here.
            let _ = requests.send(Job::Unmap(map));
        }
    }

    /// Blocks until the requested segment is ready (or its preparation failed).
    fn wait(&mut self) {
        if self.pending.is_some() && self.answered.is_none() {
            self.answered = Some(self.receive());
        }
    }

    fn receive(&mut self) -> Result<Ready, JournalError> {
        self.results.recv().unwrap_or_else(|_| {
            Err(JournalError::Failed("Cannot append to journal: the segment preparation thread died".into()))
        })
    }

    /// Segment `index`, ready: the thread's work when it was requested,
    /// else made here and now.
    fn take(&mut self, dir: &Dir, index: u64) -> Result<Ready, JournalError> {
        match self.pending.take() {
            Some(pending) => {
                let result = match self.answered.take() {
                    Some(answer) => answer,
                    None => self.receive(),
                };
                match (pending == index, result) {
                    (true, result) => result,
                    // Not what is needed (cannot happen: requests follow the
                    // active index); drop it, it stays a spare.
                    (false, _) => dir.make_ready(index),
                }
            }
            None => dir.make_ready(index),
        }
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        // Closing the request channel ends the thread after its current job;
        // joining means no file is still being made once the journal is gone.
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Empties the journal in `dir` but keeps its segment files: each becomes a
/// spare (a new epoch, no records), so the next journal opened there starts
/// at record 1 and reuses the files, and their pages still in the page
/// cache, instead of making new ones. That is the state a journal with
/// recycling reaches after its first release; the benchmark measures it
/// this way. Destroys every record: never for a journal anyone needs.
/// Returns how many segments were kept as spares.
pub fn retire(dir: &Path) -> Result<u64, JournalError> {
    // A writer's work: never under a running core, nor a mapping reader.
    let _lock = Lock::exclusive(dir)?;
    let io = |e: std::io::Error| JournalError::io("read the directory", dir, &e);
    let mut kept = 0;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(index) = format::parse_segment_name(name) {
            make_spare(&path, index)?;
            kept += u64::from(path.exists());
        }
    }
    let file = File::open(dir).map_err(|e| JournalError::io("open the directory", dir, &e))?;
    crate::sys::fsync_dir(&file).map_err(|errno| JournalError::Io {
        op: "sync the directory",
        path: dir.to_path_buf(),
        errno,
    })?;
    Ok(kept)
}

/// Truncates `file` to `size` when it is longer (a spare from a configuration
/// with bigger segments).
fn shrink_to(file: &File, size: u64) -> Result<(), i32> {
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    if file.metadata().map_err(errno)?.len() > size {
        file.set_len(size).map_err(errno)?;
    }
    Ok(())
}

/// Best-effort huge pages and prefaulting for a fresh mapping; returns the
/// huge page advice's result.
fn advise(map: &MmapMut) -> Result<usize, i32> {
    let huge = crate::sys::advise_huge_pages(map.as_ptr(), map.len());
    // Prefaulting only saves page faults later; failure (a kernel before
    // 5.14 says EINVAL) leaves them to the appends.
    let _ = crate::sys::populate_write(map);
    huge
}

/// Maps a whole segment file read-write.
fn map_rw(file: &File, path: &Path) -> Result<MmapMut, JournalError> {
    // SAFETY: a shared mapping of a segment file this process's `Journal`
    // alone writes (it holds the folder's exclusive lock, `lock.rs`), and
    // that was preallocated to its full length first, so stores cannot SIGBUS
    // for lack of space and no one truncates it under us.
    unsafe { MmapOptions::new().map_mut(file) }.map_err(|e| JournalError::io("map", path, &e))
}

/// Zeroes every page of `seg` from `from` on that holds a non-zero byte.
/// Returns the offset of the first byte zeroed, if any.
fn zero_after(seg: &mut [u8], from: usize) -> Option<usize> {
    let mut first = None;
    let mut start = from;
    let len = seg.len();
    while start < len {
        let end = ((start / PAGE as usize) + 1) * PAGE as usize;
        let chunk = &mut seg[start..end.min(len)];
        if chunk.iter().any(|&b| b != 0) {
            chunk.fill(0);
            first.get_or_insert(start);
        }
        start = end;
    }
    first
}

/// Re-initialises a renamed segment as a spare: a new epoch (so none of its
/// records validate any more), `first_seq` 0, its new index.
fn make_spare(path: &Path, index: u64) -> Result<(), JournalError> {
    let file = OpenOptions::new().read(true).write(true).open(path).map_err(|e| JournalError::io("open", path, &e))?;
    let size = file.metadata().map_err(|e| JournalError::io("stat", path, &e))?.len();
    if !format::valid_segment_bytes(size) {
        // A truncated segment cannot serve again; drop it instead.
        return std::fs::remove_file(path).map_err(|e| JournalError::io("remove", path, &e));
    }
    // SAFETY: as in `map_rw`; the file holds at least 64 KiB, so the mapped
    // first page lies inside it.
    let mut map = unsafe { MmapOptions::new().len(PAGE as usize).map_mut(&file) }
        .map_err(|e| JournalError::io("map", path, &e))?;
    let old_epoch = format::le64(&map, 16);
    let header = Header { epoch: format::new_epoch(old_epoch), first_seq: 0, index, segment_bytes: size };
    map[..HEADER_LEN].copy_from_slice(&header.encode());
    crate::sys::msync(&map[..HEADER_LEN]).map_err(|errno| JournalError::Io {
        op: "sync",
        path: path.to_path_buf(),
        errno,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_quotes_and_controls() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn empty_report_serialises_with_nulls() {
        let json = VerifyReport::default().to_json();
        assert_eq!(
            json,
            r#"{"segments":0,"records":0,"firstSeq":null,"lastSeq":null,"tornTail":null,"corruption":null,"cut":false}"#
        );
    }

    #[test]
    fn zero_after_touches_only_non_zero_pages() {
        let mut seg = vec![0u8; 4 * PAGE as usize];
        seg[100] = 1; // before `from`: kept
        seg[PAGE as usize * 2 + 5] = 7;
        assert_eq!(zero_after(&mut seg, 200), Some(2 * PAGE as usize));
        assert_eq!(seg[100], 1);
        assert!(seg[200..].iter().all(|&b| b == 0));
        assert_eq!(zero_after(&mut seg, 200), None);
    }
}
