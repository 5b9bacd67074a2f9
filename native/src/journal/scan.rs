//! Read-only scanning: the segment files in order, their records in sequence
//! order, and the verdict on the first invalid thing found (torn tail or
//! corruption). [`Reader`], [`verify`] and `Journal::open` all go through
//! [`Scanner`], so they can never disagree about what is valid.
//!
//! Segments are mapped, except in a live scan ([`Reader::open_live`],
//! [`verify_live`]), which copies each by `pread`: a writer may shrink or
//! recycle a file under it, which a mapping would not survive.

use super::format::{self, Check, HEADER_LEN, Header};
use super::lock::Lock;
use super::{Damage, JournalError, Record, VerifyReport};
use memmap2::Mmap;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// One `segment-<index>.tcj` in a journal directory.
#[derive(Clone, Debug)]
pub(crate) struct SegmentFile {
    pub index: u64,
    pub path: PathBuf,
}

/// The segment files in `dir`, by index. Other files are ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let io = |e: std::io::Error| JournalError::io("read the directory", dir, &e);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if let Some(index) = entry.file_name().to_str().and_then(format::parse_segment_name) {
            files.push(SegmentFile { index, path: entry.path() });
        }
    }
    files.sort_by_key(|f| f.index);
    Ok(files)
}

/// A segment file's bytes: mapped read-only, or copied by `pread` (a live
/// scan), or nothing (an empty file, which cannot be mapped, or, in a live
/// scan, one released since the folder was listed).
pub(crate) enum Mapped {
    Map(Mmap),
    Copy(Vec<u8>),
    Empty,
}

impl Mapped {
    /// Maps `path`. Only where no other process can shrink the file while
    /// the mapping lives: the caller holds the folder's lock (a `Journal`'s
    /// exclusive one, or a reader's shared one, which no writer gets past).
    pub fn open(path: &Path) -> Result<Mapped, JournalError> {
        let file = File::open(path).map_err(|e| JournalError::io("open", path, &e))?;
        let len = file.metadata().map_err(|e| JournalError::io("stat", path, &e))?.len();
        if len == 0 {
            return Ok(Mapped::Empty);
        }
        // SAFETY: a read-only shared mapping of a journal file. The caller
        // holds the folder's lock (see `open`), so the only writer is this
        // process's own `Journal`, which never shrinks a file it has mapped,
        // or there is none. Every byte read from here is validated (lengths
        // bounded, CRC checked) before it is trusted, so a concurrent store
        // shows up as an invalid record, never as an out-of-bounds access.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| JournalError::io("map", path, &e))?;
        Ok(Mapped::Map(map))
    }

    /// Copies `path` by `pread`, up to the length it had when opened or
    /// where it ends now, whichever comes first: a writer may be appending
    /// to it, shrinking it or recycling it meanwhile. A file gone since the
    /// folder was listed (released) reads as empty.
    pub fn copy(path: &Path) -> Result<Mapped, JournalError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Mapped::Empty),
            Err(e) => return Err(JournalError::io("open", path, &e)),
        };
        let len = file.metadata().map_err(|e| JournalError::io("stat", path, &e))?.len() as usize;
        let mut bytes = vec![0u8; len];
        let mut at = 0;
        while at < len {
            match file.read_at(&mut bytes[at..], at as u64) {
                Ok(0) => break,
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(JournalError::io("read", path, &e)),
            }
        }
        bytes.truncate(at);
        Ok(if bytes.is_empty() { Mapped::Empty } else { Mapped::Copy(bytes) })
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Mapped::Map(map) => map,
            Mapped::Copy(bytes) => bytes,
            Mapped::Empty => &[],
        }
    }
}

/// A data segment the scan entered (valid header, `first_seq != 0`).
#[derive(Clone, Debug)]
pub(crate) struct DataSegment {
    /// Position in [`Scanner::files`].
    pub file: usize,
    pub index: u64,
    pub header: Header,
    pub records: u64,
    /// Offset just past the last valid record (`HEADER_LEN` when none).
    pub end: usize,
}

/// The first invalid thing found and the verdict on it.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub damage: Damage,
    /// Nothing valid follows: a crash's torn tail, which may be cut.
    pub torn: bool,
    /// Position in [`Scanner::files`].
    pub file: usize,
    /// The segment header itself is invalid (the damage's offset is 0).
    pub header: bool,
}

/// A valid record's fields and where its payload lies in the current segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At {
    pub seq: u64,
    pub kind: u16,
    pub ingress_ns: u64,
    pub payload: (usize, usize),
}

/// The segment being walked.
struct Current {
    file: usize,
    map: Mapped,
    header: Header,
    seed: u32,
    pos: usize,
    /// The segment's size: `header.segment_bytes` (the file may be shorter).
    size: usize,
}

/// Walks every segment of a directory in index order, one record per step.
pub(crate) struct Scanner {
    pub files: Vec<SegmentFile>,
    next_file: usize,
    cur: Option<Current>,
    /// The next sequence number expected, once the first data segment is entered.
    expected: Option<u64>,
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub data: Vec<DataSegment>,
    pub found: Option<Found>,
    done: bool,
    /// Copy segments by `pread` instead of mapping them.
    live: bool,
}

impl Scanner {
    /// A scanner that maps segments: the caller holds the folder's lock.
    pub fn new(dir: &Path) -> Result<Scanner, JournalError> {
        Self::with(dir, false)
    }

    fn with(dir: &Path, live: bool) -> Result<Scanner, JournalError> {
        let files = list_segments(dir)?;
        Ok(Scanner {
            live,
            files,
            next_file: 0,
            cur: None,
            expected: None,
            records: 0,
            first_seq: None,
            last_seq: None,
            data: Vec::new(),
            found: None,
            done: false,
        })
    }

    fn load(&self, path: &Path) -> Result<Mapped, JournalError> {
        if self.live { Mapped::copy(path) } else { Mapped::open(path) }
    }

    /// The next sequence number an appender continues with, if any data
    /// segment was found.
    pub fn expected(&self) -> Option<u64> {
        self.expected
    }

    /// The record at `at`, from the last [`Scanner::advance`].
    pub fn record(&self, at: At) -> Record<'_> {
        let payload = self.cur.as_ref().and_then(|c| c.map.bytes().get(at.payload.0..at.payload.1)).unwrap_or(&[]);
        Record { seq: at.seq, kind: at.kind, ingress_ns: at.ingress_ns, payload }
    }

    /// The next valid record's position, or `None` at the end of the data or
    /// at the first invalid thing (then [`Scanner::found`] says what and
    /// where). Positions, not a borrowed [`Record`], so that a lending caller
    /// can still look at the scanner when it returns `None`.
    pub fn advance(&mut self) -> Result<Option<At>, JournalError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let Some(cur) = &mut self.cur else {
                self.enter_next()?;
                continue;
            };
            let check = format::check_record(cur.map.bytes(), cur.pos, cur.size, cur.seed);
            let valid = match check {
                Check::End => {
                    self.cur = None;
                    continue;
                }
                Check::Bad { reason, bytes } => {
                    let (file, pos) = (cur.file, cur.pos);
                    return self.damaged(file, pos, reason, bytes).map(|()| None);
                }
                Check::Valid(v) => v,
            };
            // A data segment's header sets the start when it is the first one.
            let expected = *self.expected.get_or_insert(cur.header.first_seq);
            let first_in_segment = cur.pos == HEADER_LEN;
            let reason = if valid.seq != expected {
                Some(if self.last_seq.is_some() {
                    format!("sequence {} follows {}", valid.seq, expected - 1)
                } else {
                    format!("sequence {} opens the journal, whose first segment starts at {expected}", valid.seq)
                })
            } else if first_in_segment && cur.header.first_seq != valid.seq {
                Some(format!(
                    "the segment header says sequence {} comes first, but its first record has {}",
                    cur.header.first_seq, valid.seq
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                let (file, pos) = (cur.file, cur.pos);
                return self.damaged(file, pos, reason, valid.len as u64).map(|()| None);
            }
            cur.pos += valid.len;
            if let Some(seg) = self.data.last_mut() {
                seg.records += 1;
                seg.end = cur.pos;
            }
            self.expected = Some(valid.seq + 1);
            self.records += 1;
            self.first_seq.get_or_insert(valid.seq);
            self.last_seq = Some(valid.seq);
            return Ok(Some(At {
                seq: valid.seq,
                kind: valid.kind,
                ingress_ns: valid.ingress_ns,
                payload: valid.payload,
            }));
        }
    }

    /// Opens the next file: a data segment becomes current, a spare is
    /// skipped, a bad header is damage.
    fn enter_next(&mut self) -> Result<(), JournalError> {
        let Some(f) = self.files.get(self.next_file) else {
            self.done = true;
            return Ok(());
        };
        let (file, index) = (self.next_file, f.index);
        self.next_file += 1;
        let map = self.load(&f.path)?;
        match Header::decode(map.bytes(), index) {
            Err(reason) => {
                let bytes = map.bytes().len().min(HEADER_LEN) as u64;
                let torn = !self.later_segments_hold_records(file + 1)?;
                let damage = Damage { segment: index, offset: 0, seq: self.expected, bytes, reason };
                self.found = Some(Found { damage, torn, file, header: true });
                self.done = true;
            }
            Ok(header) if header.first_seq == 0 => {} // spare: no records by definition
            Ok(header) => {
                self.data.push(DataSegment { file, index, header, records: 0, end: HEADER_LEN });
                let size = header.segment_bytes as usize;
                let seed = format::epoch_seed(header.epoch);
                self.cur = Some(Current { file, map, header, seed, pos: HEADER_LEN, size });
            }
        }
        Ok(())
    }

    /// Records damage at `pos` of the current segment and judges it.
    fn damaged(&mut self, file: usize, pos: usize, reason: String, bytes: u64) -> Result<(), JournalError> {
        self.done = true;
        let Some(cur) = self.cur.take() else { return Ok(()) };
        let expected = self.expected.unwrap_or(cur.header.first_seq);
        let torn = !records_from(cur.map.bytes(), pos, cur.size, cur.seed, expected)
            && !self.later_segments_hold_records(file + 1)?;
        let damage = Damage { segment: cur.header.index, offset: pos as u64, seq: Some(expected), bytes, reason };
        self.found = Some(Found { damage, torn, file, header: false });
        Ok(())
    }

    /// Whether any segment file from position `from` on holds a record that
    /// validates under its own epoch.
    fn later_segments_hold_records(&self, from: usize) -> Result<bool, JournalError> {
        for f in self.files.iter().skip(from) {
            let map = self.load(&f.path)?;
            let Ok(header) = Header::decode(map.bytes(), f.index) else { continue };
            if header.first_seq == 0 {
                continue;
            }
            let seed = format::epoch_seed(header.epoch);
            if records_from(map.bytes(), HEADER_LEN, header.segment_bytes as usize, seed, 0) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Whether a record that validates with `seed` and has a sequence number of
/// at least `min_seq` starts at any 8-byte step from `pos` on.
fn records_from(data: &[u8], pos: usize, size: usize, seed: u32, min_seq: u64) -> bool {
    (pos..size.min(data.len()))
        .step_by(8)
        .any(|q| matches!(format::check_record(data, q, size, seed), Check::Valid(v) if v.seq >= min_seq))
}

/// Read-only iteration over the valid records, in sequence order, from the
/// first segment. Stops at the end of the data or at a torn tail (then
/// [`Reader::torn_tail`] says where); yields one `Err(Corrupt)` at
/// corruption. Never modifies files.
pub struct Reader {
    scan: Scanner,
    /// Iteration has ended (end, torn tail, corruption or an I/O error).
    reported: bool,
    /// The folder's lock, held shared while the segments are mapped.
    _lock: Option<Lock>,
}

impl Reader {
    /// A reader that maps the segments. It holds the folder's lock shared
    /// until dropped, so no writer starts meanwhile, and it refuses a folder
    /// a writer holds (`JournalError::Busy`, naming the writer's pid): read
    /// that one with [`Reader::open_live`].
    pub fn open(dir: &Path) -> Result<Reader, JournalError> {
        let lock = Lock::shared(dir)?;
        Ok(Reader { scan: Scanner::new(dir)?, reported: false, _lock: lock })
    }

    /// A reader that copies each segment by `pread` and takes no lock: safe
    /// beside a writer, and a view taken while it writes (see the module's
    /// known limitations).
    pub fn open_live(dir: &Path) -> Result<Reader, JournalError> {
        Ok(Reader { scan: Scanner::with(dir, true)?, reported: false, _lock: None })
    }

    /// A mapping reader for the process that writes the folder (it holds
    /// the exclusive lock already).
    pub(crate) fn for_writer(dir: &Path) -> Result<Reader, JournalError> {
        Ok(Reader { scan: Scanner::new(dir)?, reported: false, _lock: None })
    }

    /// The next record, borrowed from the segment's mapping until the next call.
    #[allow(clippy::should_implement_trait)] // a lending iterator: `Iterator` cannot borrow from itself
    pub fn next(&mut self) -> Option<Result<Record<'_>, JournalError>> {
        if self.reported {
            return None;
        }
        let at = match self.scan.advance() {
            Ok(Some(at)) => at,
            Ok(None) => {
                self.reported = true;
                return match &self.scan.found {
                    Some(f) if !f.torn => Some(Err(JournalError::Corrupt(f.damage.clone()))),
                    _ => None,
                };
            }
            Err(e) => {
                self.reported = true;
                return Some(Err(e));
            }
        };
        Some(Ok(self.scan.record(at)))
    }

    /// Where the records stopped at a torn tail, once [`Reader::next`] returned `None`.
    pub fn torn_tail(&self) -> Option<&Damage> {
        self.scan.found.as_ref().filter(|f| f.torn).map(|f| &f.damage)
    }
}

/// Read-only check of every segment in `dir`, mapped. Like [`Reader::open`],
/// it holds the folder's lock shared while it reads and refuses a folder a
/// writer holds (`JournalError::Busy`).
pub fn verify(dir: &Path) -> Result<VerifyReport, JournalError> {
    let _lock = Lock::shared(dir)?;
    let mut scan = Scanner::new(dir)?;
    while scan.advance()?.is_some() {}
    Ok(report(&scan))
}

/// [`verify`] by `pread`, without the lock: safe beside a writer, whose
/// record in flight may read as a torn tail (see the module's known
/// limitations).
pub fn verify_live(dir: &Path) -> Result<VerifyReport, JournalError> {
    let mut scan = Scanner::with(dir, true)?;
    while scan.advance()?.is_some() {}
    Ok(report(&scan))
}

pub(crate) fn report(scan: &Scanner) -> VerifyReport {
    let (torn_tail, corruption) = match &scan.found {
        Some(f) if f.torn => (Some(f.damage.clone()), None),
        Some(f) => (None, Some(f.damage.clone())),
        None => (None, None),
    };
    VerifyReport {
        segments: scan.files.len() as u64,
        records: scan.records,
        first_seq: scan.first_seq,
        last_seq: scan.last_seq,
        torn_tail,
        corruption,
        cut: false,
    }
}
