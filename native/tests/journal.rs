//! Black-box tests of the journal: appends, recovery, damage at every byte,
//! recycling and injected failures. Segment files are inspected and damaged
//! with the documented format (`journal.rs` module docs), never with the
//! crate's internals.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tradecaptain_native::journal::*;

const SEG: u64 = 64 << 10;

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tc-journal-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path) -> JournalConfig {
    JournalConfig { segment_bytes: SEG, ..JournalConfig::new(dir) }
}

fn open(dir: &Path) -> (Journal, VerifyReport) {
    Journal::open(config(dir)).unwrap_or_else(|e| panic!("open failed: {e}"))
}

/// What one append wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rec {
    seq: u64,
    kind: u16,
    ingress_ns: u64,
    payload: Vec<u8>,
}

/// The record appended as sequence `seq`: lengths vary (so padding varies),
/// bytes are never zero (so zeroing any of them changes the record).
fn rec(seq: u64) -> Rec {
    let len = (seq * 7 % 61) as usize;
    let payload = (0..len).map(|i| (seq as usize * 31 + i) as u8 | 1).collect();
    Rec { seq, kind: (seq % 5) as u16, ingress_ns: 1_700_000_000_000_000_000 + seq * 1000, payload }
}

fn append(j: &mut Journal, r: &Rec) {
    assert_eq!(j.append(r.kind, r.ingress_ns, &r.payload).unwrap(), r.seq);
}

/// Appends records `from..=to` and syncs.
fn write(j: &mut Journal, from: u64, to: u64) -> Vec<Rec> {
    let recs: Vec<Rec> = (from..=to).map(rec).collect();
    for r in &recs {
        append(j, r);
    }
    j.sync().unwrap();
    recs
}

/// Every record the Reader yields (panics on an error).
fn read_all(dir: &Path) -> Vec<Rec> {
    let mut reader = Reader::open(dir).unwrap();
    let mut out = Vec::new();
    while let Some(r) = reader.next() {
        let r = r.unwrap();
        out.push(Rec { seq: r.seq, kind: r.kind, ingress_ns: r.ingress_ns, payload: r.payload.to_vec() });
    }
    out
}

fn segment(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("segment-{index:016}.tcj"))
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tcj"))
        .collect();
    files.sort();
    files
}

/// The header's `first_seq` (0 for a spare: a segment made ready or
/// recycled, holding no records yet).
fn first_seq(path: &Path) -> u64 {
    le64(&fs::read(path).unwrap(), 24)
}

/// Segment files that hold data (not spares).
fn data_segments(dir: &Path) -> Vec<PathBuf> {
    segment_files(dir).into_iter().filter(|p| first_seq(p) != 0).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for f in segment_files(from) {
        fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// (offset, len) of every record in a segment file, by walking the lengths.
fn record_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = 64;
    while pos + 8 <= bytes.len() {
        let len = le32(bytes, pos) as usize;
        if len == 0 {
            break;
        }
        spans.push((pos, len));
        pos += len;
    }
    spans
}

/// Recomputes a record's CRC after it was edited (the format's definition).
fn reseal(bytes: &mut [u8], pos: usize) {
    let epoch = le64(bytes, 16);
    let len = le32(bytes, pos) as usize;
    let mut crc = crc32c::crc32c(&epoch.to_le_bytes());
    crc = crc32c::crc32c_append(crc, &(len as u32).to_le_bytes());
    crc = crc32c::crc32c_append(crc, &bytes[pos + 8..pos + len]);
    bytes[pos + 4..pos + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A journal of records 1..=n in `dir` (closed).
fn journal_of(dir: &Path, n: u64) -> Vec<Rec> {
    let (mut j, _) = open(dir);
    write(&mut j, 1, n)
}

#[track_caller]
fn assert_clean(report: &VerifyReport, records: u64) {
    assert_eq!(report.torn_tail, None, "unexpected torn tail");
    assert_eq!(report.corruption, None, "unexpected corruption");
    assert_eq!(report.records, records);
}

#[test]
fn smoke() {
    let dir = TempDir::new("smoke");
    let (mut j, report) = open(dir.path());
    assert_clean(&report, 0);
    assert_eq!(j.next_seq(), 1);
    assert_eq!(j.append(2, 42, b"hello").unwrap(), 1);
    assert_eq!(j.append(3, 43, &[7; 64]).unwrap(), 2);
    assert_eq!(j.unsynced(), 2);
    j.sync().unwrap();
    assert_eq!(j.unsynced(), 0);
    drop(j);
    let got = read_all(dir.path());
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].seq, got[0].kind, got[0].ingress_ns, &got[0].payload[..]), (1, 2, 42, &b"hello"[..]));
    assert_eq!((got[1].seq, got[1].kind, got[1].ingress_ns, &got[1].payload[..]), (2, 3, 43, &[7u8; 64][..]));
    let report = verify(dir.path()).unwrap();
    assert_clean(&report, 2);
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(2)));
    // Segment 0, and segment 1 made ready in advance (a spare).
    assert_eq!(report.segments, 2);
    assert_eq!(data_segments(dir.path()), vec![segment(dir.path(), 0)]);
    assert_eq!(first_seq(&segment(dir.path(), 1)), 0);
}

#[test]
fn reopen_continues_the_sequence() {
    let dir = TempDir::new("reopen");
    let mut all = journal_of(dir.path(), 10);
    for round in 0..3u64 {
        let (mut j, report) = open(dir.path());
        assert_clean(&report, all.len() as u64);
        assert!(!report.cut);
        let from = j.next_seq();
        assert_eq!(from, all.len() as u64 + 1, "round {round}");
        all.extend(write(&mut j, from, from + 9));
    }
    assert_eq!(read_all(dir.path()), all);
}

#[test]
fn appends_roll_over_small_segments_and_the_reader_returns_exactly_them() {
    let dir = TempDir::new("roll");
    let (mut j, _) = open(dir.path());
    // Big and small payloads, unsynced across several rolls, then one sync.
    let mut all = Vec::new();
    for seq in 1..=3000u64 {
        let mut r = rec(seq);
        if seq % 100 == 0 {
            r.payload = vec![0xAB; 20_000];
        }
        append(&mut j, &r);
        all.push(r);
    }
    j.sync().unwrap();
    drop(j);
    let files = segment_files(dir.path());
    assert!(files.len() >= 4, "only {} segments", files.len());
    for f in &files {
        assert_eq!(fs::metadata(f).unwrap().len(), SEG, "{} is not preallocated", f.display());
    }
    assert_eq!(read_all(dir.path()), all);
    let report = verify(dir.path()).unwrap();
    assert_clean(&report, 3000);
    assert_eq!((report.first_seq, report.last_seq, report.segments), (Some(1), Some(3000), files.len() as u64));
    // Each data segment's header names its first record; one spare follows.
    let data = data_segments(dir.path());
    assert_eq!(data[..], files[..files.len() - 1]);
    let mut expected_first = 1;
    for (i, f) in data.iter().enumerate() {
        let bytes = fs::read(f).unwrap();
        assert_eq!(&bytes[..8], b"TCJRNL\0\x01");
        assert_eq!(le64(&bytes, 32), i as u64);
        assert_eq!(le64(&bytes, 24), expected_first);
        expected_first += record_spans(&bytes).len() as u64;
    }
}

#[test]
fn a_record_larger_than_a_segment_is_refused_without_poisoning() {
    let dir = TempDir::new("too-big");
    let (mut j, _) = open(dir.path());
    let err = j.append(1, 0, &vec![1u8; SEG as usize]).unwrap_err();
    assert!(matches!(err, JournalError::Config(_)), "{err:?}");
    assert!(err.to_string().starts_with("Cannot append to journal: a record of"), "{err}");
    assert_eq!(j.append(1, 0, b"fine").unwrap(), 1);
    j.sync().unwrap();
}

#[test]
fn an_invalid_segment_size_is_refused() {
    let dir = TempDir::new("bad-size");
    for bytes in [0, 4096, SEG + 1] {
        let err = Journal::open(JournalConfig { segment_bytes: bytes, ..config(dir.path()) }).err().unwrap();
        assert!(matches!(err, JournalError::Config(_)), "{bytes}: {err:?}");
    }
}

#[test]
fn a_zero_filled_preallocated_tail_is_clean() {
    let dir = TempDir::new("zero-tail");
    journal_of(dir.path(), 25);
    let bytes = fs::read(segment(dir.path(), 0)).unwrap();
    let (pos, len) = *record_spans(&bytes).last().unwrap();
    assert!(bytes[pos + len..].iter().all(|&b| b == 0));
    assert_eq!(bytes.len() as u64, SEG);
    let report = verify(dir.path()).unwrap();
    assert_clean(&report, 25);
    let (_, report) = open(dir.path());
    assert!(!report.cut);
    assert_clean(&report, 25);
}

/// The journal in `dir` ends with a torn record: `open` keeps records
/// `1..=kept`, reports and cuts the tail, and appends continue from `kept + 1`.
#[track_caller]
fn assert_recovers_torn_tail(dir: &Path, kept: u64, offset: u64, what: &str) {
    let before = verify(dir).unwrap();
    let torn = before.torn_tail.clone().unwrap_or_else(|| panic!("{what}: no torn tail reported: {before:?}"));
    assert_eq!(before.corruption, None, "{what}");
    assert_eq!(before.records, kept, "{what}");
    assert_eq!((torn.segment, torn.offset, torn.seq), (0, offset, Some(kept + 1)), "{what}");
    let (mut j, report) = open(dir);
    assert!(report.cut, "{what}");
    assert_eq!(report.torn_tail, Some(torn), "{what}");
    assert_eq!(j.next_seq(), kept + 1, "{what}");
    append(&mut j, &rec(kept + 1));
    j.sync().unwrap();
    drop(j);
    assert_clean(&verify(dir).unwrap(), kept + 1);
    let got = read_all(dir);
    assert_eq!(got, (1..=kept + 1).map(rec).collect::<Vec<_>>(), "{what}");
}

#[test]
fn a_tail_truncated_at_every_byte_of_the_last_record_is_cut() {
    let template = TempDir::new("trunc-template");
    let n = 20;
    journal_of(template.path(), n);
    let bytes = fs::read(segment(template.path(), 0)).unwrap();
    let (pos, len) = *record_spans(&bytes).last().unwrap();
    for k in 0..len {
        let dir = TempDir::new("trunc");
        copy_dir(template.path(), dir.path());
        OpenOptions::new().write(true).open(segment(dir.path(), 0)).unwrap().set_len((pos + k) as u64).unwrap();
        assert_recovers_torn_tail(dir.path(), n - 1, pos as u64, &format!("truncated at +{k}"));
        assert_eq!(fs::metadata(segment(dir.path(), 0)).unwrap().len(), SEG, "the cut restores the size");
    }
}

#[test]
fn a_tail_zeroed_from_every_byte_of_the_last_record_is_cut_or_clean() {
    let template = TempDir::new("zero-template");
    let n = 20;
    journal_of(template.path(), n);
    let bytes = fs::read(segment(template.path(), 0)).unwrap();
    let (pos, len) = *record_spans(&bytes).last().unwrap();
    for k in 0..len {
        let dir = TempDir::new("zeroed");
        copy_dir(template.path(), dir.path());
        let file = OpenOptions::new().write(true).open(segment(dir.path(), 0)).unwrap();
        file.write_all_at(&vec![0u8; len - k], (pos + k) as u64).unwrap();
        let what = format!("zeroed from +{k}");
        if bytes[pos + k..pos + len].iter().all(|&b| b == 0) {
            // Only the padding was zeroed: nothing changed.
            assert_clean(&verify(dir.path()).unwrap(), n);
        } else if k == 0 {
            // No trace of the record is left: a clean end after n - 1.
            assert_clean(&verify(dir.path()).unwrap(), n - 1);
            let (j, report) = open(dir.path());
            assert!(!report.cut);
            assert_eq!(j.next_seq(), n, "{what}");
        } else {
            assert_recovers_torn_tail(dir.path(), n - 1, pos as u64, &what);
        }
    }
}

#[test]
fn a_length_written_without_its_record_is_a_torn_tail() {
    let template = TempDir::new("len-only-template");
    let n = 20;
    journal_of(template.path(), n - 1);
    let bytes = fs::read(segment(template.path(), 0)).unwrap();
    let (last, last_len) = *record_spans(&bytes).last().unwrap();
    let pos = last + last_len;
    // The writer's crash between publishing `len` and ... cannot happen (len
    // goes last), but a lost page can leave exactly this.
    for len in [32u32, 40, 96, 4096] {
        let dir = TempDir::new("len-only");
        copy_dir(template.path(), dir.path());
        let file = OpenOptions::new().write(true).open(segment(dir.path(), 0)).unwrap();
        file.write_all_at(&len.to_le_bytes(), pos as u64).unwrap();
        assert_recovers_torn_tail(dir.path(), n - 1, pos as u64, &format!("len {len} alone"));
    }
}

#[test]
fn a_bit_flip_in_a_middle_record_is_corruption_and_open_refuses() {
    let template = TempDir::new("flip-mid-template");
    let n = 40;
    journal_of(template.path(), n);
    let bytes = fs::read(segment(template.path(), 0)).unwrap();
    let spans = record_spans(&bytes);
    let (pos, len) = spans[19]; // sequence 20
    for bit in 0..len * 8 {
        let dir = TempDir::new("flip-mid");
        copy_dir(template.path(), dir.path());
        let mut b = bytes.clone();
        b[pos + bit / 8] ^= 1 << (bit % 8);
        fs::write(segment(dir.path(), 0), &b).unwrap();
        let report = verify(dir.path()).unwrap();
        let damage = report.corruption.clone().unwrap_or_else(|| panic!("bit {bit}: {report:?}"));
        assert_eq!(report.torn_tail, None);
        assert_eq!((damage.segment, damage.offset, damage.seq, report.records), (0, pos as u64, Some(20), 19));
        let err = Journal::open(config(dir.path())).err().unwrap_or_else(|| panic!("bit {bit}: open accepted"));
        assert_eq!(err, JournalError::Corrupt(damage), "bit {bit}");
        assert_eq!(fs::read(segment(dir.path(), 0)).unwrap(), b, "open modified a corrupt journal");
        // The reader yields the 19 good records, then the corruption.
        let mut reader = Reader::open(dir.path()).unwrap();
        for seq in 1..=19 {
            assert_eq!(reader.next().unwrap().unwrap().seq, seq);
        }
        assert!(matches!(reader.next(), Some(Err(JournalError::Corrupt(_)))));
        assert!(reader.next().is_none());
    }
}

#[test]
fn a_bit_flip_in_the_last_record_is_a_torn_tail() {
    let template = TempDir::new("flip-last-template");
    let n = 30;
    journal_of(template.path(), n);
    let bytes = fs::read(segment(template.path(), 0)).unwrap();
    let (pos, len) = *record_spans(&bytes).last().unwrap();
    for bit in 0..len * 8 {
        let dir = TempDir::new("flip-last");
        copy_dir(template.path(), dir.path());
        let mut b = bytes.clone();
        b[pos + bit / 8] ^= 1 << (bit % 8);
        fs::write(segment(dir.path(), 0), &b).unwrap();
        let what = format!("bit {bit}");
        if le32(&b, pos) == 0 {
            // The flip cleared a power-of-two length's only bit: a clean end.
            assert_clean(&verify(dir.path()).unwrap(), n - 1);
            continue;
        }
        assert_recovers_torn_tail(dir.path(), n - 1, pos as u64, &what);
    }
}

/// A journal filling segments 0, 1 and 2 (closed); returns its records.
fn three_segments(dir: &Path) -> Vec<Rec> {
    let (mut j, _) = open(dir);
    let mut all = Vec::new();
    let mut seq = 1;
    while data_segments(dir).len() < 3 {
        all.extend(write(&mut j, seq, seq + 99));
        seq += 100;
    }
    assert_eq!(data_segments(dir).len(), 3);
    all
}

#[test]
fn a_bit_flip_in_a_segment_header_followed_by_data_is_corruption() {
    let dir = TempDir::new("flip-header-mid");
    three_segments(dir.path());
    let path = segment(dir.path(), 1);
    let clean = fs::read(&path).unwrap();
    let kept = record_spans(&fs::read(segment(dir.path(), 0)).unwrap()).len() as u64;
    for bit in 0..64 * 8 {
        let mut b = clean.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        fs::write(&path, &b).unwrap();
        let report = verify(dir.path()).unwrap();
        let damage = report.corruption.clone().unwrap_or_else(|| panic!("bit {bit}: {report:?}"));
        assert_eq!((damage.segment, damage.offset, report.records), (1, 0, kept), "bit {bit}");
        assert!(matches!(Journal::open(config(dir.path())), Err(JournalError::Corrupt(_))), "bit {bit}");
    }
}

#[test]
fn a_bit_flip_in_the_newest_segment_header_is_a_torn_tail() {
    let template = TempDir::new("flip-header-new-template");
    let all = three_segments(template.path());
    let clean = fs::read(segment(template.path(), 2)).unwrap();
    let kept: u64 = (0..2).map(|i| record_spans(&fs::read(segment(template.path(), i)).unwrap()).len() as u64).sum();
    for bit in (0..64 * 8).step_by(7) {
        let dir = TempDir::new("flip-header-new");
        copy_dir(template.path(), dir.path());
        let mut b = clean.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        fs::write(segment(dir.path(), 2), &b).unwrap();
        let report = verify(dir.path()).unwrap();
        let torn = report.torn_tail.clone().unwrap_or_else(|| panic!("bit {bit}: {report:?}"));
        assert_eq!((torn.segment, torn.offset, report.records), (2, 0, kept), "bit {bit}");
        let (mut j, report) = open(dir.path());
        assert!(report.cut);
        assert_eq!(j.next_seq(), kept + 1);
        append(&mut j, &all[kept as usize]);
        j.sync().unwrap();
        drop(j);
        assert_eq!(read_all(dir.path()), all[..kept as usize + 1].to_vec(), "bit {bit}");
    }
}

#[test]
fn a_sequence_gap_is_detected() {
    let template = TempDir::new("gap-template");
    let n = 30;
    journal_of(template.path(), n);
    let bytes = fs::read(segment(template.path(), 0)).unwrap();
    let spans = record_spans(&bytes);
    // Renumber from record 15 on (15 becomes 16, …): every CRC still holds.
    for from in [14usize, spans.len() - 1] {
        let dir = TempDir::new("gap");
        copy_dir(template.path(), dir.path());
        let mut b = bytes.clone();
        for &(pos, _) in &spans[from..] {
            let seq = le64(&b, pos + 8) + 1;
            b[pos + 8..pos + 16].copy_from_slice(&seq.to_le_bytes());
            reseal(&mut b, pos);
        }
        fs::write(segment(dir.path(), 0), &b).unwrap();
        let report = verify(dir.path()).unwrap();
        let damage = report.corruption.clone().unwrap_or_else(|| panic!("gap at {from}: {report:?}"));
        let missing = from as u64 + 1;
        assert_eq!(damage.reason, format!("sequence {} follows {}", missing + 1, missing - 1));
        assert_eq!((damage.offset, damage.seq, report.records), (spans[from].0 as u64, Some(missing), missing - 1));
        assert!(matches!(Journal::open(config(dir.path())), Err(JournalError::Corrupt(_))));
    }
}

#[test]
fn a_stale_record_from_a_recycled_segments_earlier_epoch_never_validates() {
    let dir = TempDir::new("recycle");
    let cfg = JournalConfig { recycle: true, ..config(dir.path()) };
    let (mut j, _) = Journal::open(cfg.clone()).unwrap();
    let mut all = Vec::new();
    let mut seq = 1;
    while data_segments(dir.path()).len() < 3 {
        all.extend(write(&mut j, seq, seq + 49));
        seq += 50;
    }
    let old0 = fs::read(segment(dir.path(), 0)).unwrap();
    let old0_records = record_spans(&old0).len();
    let seg2_first = first_seq(&segment(dir.path(), 2));
    j.release_before(seg2_first).unwrap();
    // Segments 0 and 1 became spares after the ready spare 3: renamed, not zeroed.
    assert!(!segment(dir.path(), 0).exists() && !segment(dir.path(), 1).exists());
    let recycled = 4;
    assert_eq!(fs::read(segment(dir.path(), recycled)).unwrap()[64..], old0[64..]);
    assert_eq!(first_seq(&segment(dir.path(), recycled)), 0);
    // The journal is open here: only a live read may look.
    let report = verify_live(dir.path()).unwrap();
    assert_clean(&report, seq - seg2_first);
    assert_eq!(report.first_seq, Some(seg2_first));
    // Fill segments 2 and 3, then write into the recycled segment fewer
    // records than it held.
    while first_seq(&segment(dir.path(), recycled)) == 0 {
        append(&mut j, &rec(seq));
        all.push(rec(seq));
        seq += 1;
    }
    for _ in 0..3 {
        append(&mut j, &rec(seq));
        all.push(rec(seq));
        seq += 1;
    }
    j.sync().unwrap();
    drop(j);
    let now3 = fs::read(segment(dir.path(), recycled)).unwrap();
    let spans = record_spans(&now3);
    assert!(spans.len() < old0_records);
    let end = spans.last().map_or(64, |&(p, l)| p + l);
    assert_eq!(now3[end + 8..], old0[end + 8..], "stale records stay in place");
    let expect: Vec<Rec> = all.iter().filter(|r| r.seq >= seg2_first).cloned().collect();
    assert_eq!(read_all(dir.path()), expect);
    assert_clean(&verify(dir.path()).unwrap(), expect.len() as u64);

    // Put a stale record at the tail, sealed under the segment's earlier
    // epoch and carrying exactly the next sequence number: it fails its CRC
    // under the new epoch, so it is a torn tail, never a record.
    let mut old = old0.clone();
    let (p0, l0) = record_spans(&old)[0];
    old[p0 + 8..p0 + 16].copy_from_slice(&seq.to_le_bytes());
    reseal(&mut old, p0); // with old0's epoch, read from its header
    let file = OpenOptions::new().write(true).open(segment(dir.path(), recycled)).unwrap();
    file.write_all_at(&old[p0..p0 + l0], end as u64).unwrap();
    let report = verify(dir.path()).unwrap();
    assert_eq!(report.records, expect.len() as u64);
    assert_eq!(
        report.torn_tail.as_ref().map(|d| (d.segment, d.offset, d.reason.as_str())),
        Some((recycled, end as u64, "bad CRC"))
    );
    let (j, report) = Journal::open(cfg).unwrap();
    assert!(report.cut);
    assert_eq!(j.next_seq(), seq);
    drop(j);
    assert_eq!(read_all(dir.path()), expect);
}

#[test]
fn release_without_recycling_deletes_old_segments() {
    let dir = TempDir::new("release");
    let all = three_segments(dir.path());
    let (mut j, _) = open(dir.path());
    let seg1_first = first_seq(&segment(dir.path(), 1));
    j.release_before(seg1_first - 1).unwrap(); // segment 0 still holds seg1_first - 1
    assert!(segment(dir.path(), 0).exists());
    j.release_before(seg1_first).unwrap();
    assert!(!segment(dir.path(), 0).exists());
    j.release_before(u64::MAX).unwrap(); // the active segment always stays
    assert_eq!(data_segments(dir.path()), vec![segment(dir.path(), 2)]);
    assert_eq!(segment_files(dir.path()), vec![segment(dir.path(), 2), segment(dir.path(), 3)], "and the spare");
    let next = j.next_seq();
    append(&mut j, &rec(next));
    j.sync().unwrap();
    drop(j);
    let seg2_first = first_seq(&segment(dir.path(), 2));
    let mut expect: Vec<Rec> = all.into_iter().filter(|r| r.seq >= seg2_first).collect();
    expect.push(rec(next));
    assert_eq!(read_all(dir.path()), expect);
    let (j, report) = open(dir.path());
    assert_clean(&report, expect.len() as u64);
    assert_eq!(j.next_seq(), next + 1);
}

#[test]
fn injected_enospc_on_segment_creation_poisons_and_keeps_acknowledged_records() {
    let dir = TempDir::new("enospc");
    let faults = Faults { enospc_on_segment: Some(2), ..Faults::default() };
    let (mut j, _) = Journal::open(JournalConfig { faults, ..config(dir.path()) }).unwrap();
    let mut acked = Vec::new();
    let err = loop {
        let r = rec(acked.len() as u64 + 1);
        match j.append(r.kind, r.ingress_ns, &r.payload) {
            Ok(seq) => {
                assert_eq!(seq, r.seq);
                acked.push(r);
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(err, JournalError::NoSpace { .. }), "{err:?}");
    assert_eq!(err.errno(), Some(libc::ENOSPC));
    assert_eq!(
        err.to_string(),
        format!(
            "Cannot prepare journal segment {}: no space left on device (ENOSPC)",
            segment(dir.path(), 2).display()
        )
    );
    let later = j.append(1, 0, b"x").unwrap_err();
    assert!(matches!(&later, JournalError::Failed(m) if m.contains("ENOSPC")), "{later}");
    assert!(matches!(j.sync(), Err(JournalError::Failed(_))));
    assert!(matches!(j.release_before(1), Err(JournalError::Failed(_))));
    drop(j);
    assert!(!segment(dir.path(), 2).exists(), "the failed segment is not left behind");
    let files = fs::read_dir(dir.path()).unwrap().filter(|e| e.as_ref().unwrap().file_name() != LOCK_FILE).count();
    assert_eq!(files, 2, "segments 0 and 1, no half-made file");
    assert_eq!(read_all(dir.path()), acked);
    let (mut j, report) = open(dir.path());
    assert_clean(&report, acked.len() as u64);
    let next = acked.len() as u64 + 1;
    assert_eq!(j.next_seq(), next);
    append(&mut j, &rec(next));
    j.sync().unwrap();
}

#[test]
fn an_injected_sync_failure_poisons_and_keeps_acknowledged_records() {
    let dir = TempDir::new("eio");
    let faults = Faults { fail_sync_on: Some(3), ..Faults::default() };
    let (mut j, _) = Journal::open(JournalConfig { faults, ..config(dir.path()) }).unwrap();
    let mut acked = write(&mut j, 1, 10);
    acked.extend(write(&mut j, 11, 20));
    for seq in 21..=30 {
        append(&mut j, &rec(seq));
        acked.push(rec(seq));
    }
    let err = j.sync().unwrap_err();
    assert_eq!(err, JournalError::SyncFailed { errno: libc::EIO });
    assert!(
        err.to_string().starts_with("Cannot sync journal: the flush to disk failed: input/output error (EIO)"),
        "{err}"
    );
    let later = j.append(1, 0, b"x").unwrap_err();
    assert!(matches!(&later, JournalError::Failed(m) if m.contains("EIO")), "{later}");
    assert!(later.to_string().starts_with("Cannot append to journal: it failed earlier"), "{later}");
    assert!(matches!(j.sync(), Err(JournalError::Failed(_))), "a failed sync is never retried");
    drop(j);
    // Every record whose append returned Ok is there (the page cache kept
    // them); the refused append left nothing.
    assert_eq!(read_all(dir.path()), acked);
    let (j, report) = open(dir.path());
    assert_clean(&report, 30);
    assert_eq!(j.next_seq(), 31);
}

#[test]
fn the_reader_and_verify_never_modify_files() {
    let dir = TempDir::new("read-only");
    journal_of(dir.path(), 20);
    let path = segment(dir.path(), 0);
    let mut b = fs::read(&path).unwrap();
    let (pos, _) = *record_spans(&b).last().unwrap();
    b[pos + 9] ^= 0xFF; // torn tail
    fs::write(&path, &b).unwrap();
    let _ = read_all(dir.path());
    let mut reader = Reader::open(dir.path()).unwrap();
    while reader.next().is_some() {}
    assert_eq!(reader.torn_tail().map(|d| d.offset), Some(pos as u64));
    let report = verify(dir.path()).unwrap();
    assert!(report.torn_tail.is_some());
    assert_eq!(fs::read(&path).unwrap(), b);
}

#[test]
fn the_report_serialises_as_camel_case_json() {
    let dir = TempDir::new("json");
    journal_of(dir.path(), 3);
    let path = segment(dir.path(), 0);
    let mut b = fs::read(&path).unwrap();
    let (pos, _) = *record_spans(&b).last().unwrap();
    b[pos] = 12; // length 12
    fs::write(&path, &b).unwrap();
    let json = verify(dir.path()).unwrap().to_json();
    assert_eq!(
        json,
        format!(
            r#"{{"segments":2,"records":2,"firstSeq":1,"lastSeq":2,"tornTail":{{"segment":0,"file":"segment-0000000000000000.tcj","offset":{pos},"seq":3,"bytes":12,"reason":"length 12 is not a multiple of 8"}},"corruption":null,"cut":false}}"#
        )
    );
}

#[test]
fn verify_of_a_missing_directory_says_why() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("nope");
    let err = verify(&missing).unwrap_err();
    assert!(matches!(err, JournalError::Io { errno: 2, .. }), "{err:?}");
    assert!(err.to_string().ends_with("no such file or directory (ENOENT)"), "{err}");
}

#[test]
fn ffi_journal_verify_writes_the_report_and_its_full_length() {
    use tradecaptain_native::ffi::journal_verify;
    let dir = TempDir::new("ffi-verify");
    journal_of(dir.path(), 5);
    let path = dir.path().as_os_str().as_encoded_bytes();
    let expected = verify(dir.path()).unwrap().to_json();
    let mut small = [0u8; 8];
    // SAFETY: every pointer is valid for the length given with it.
    let n = unsafe { journal_verify(path.as_ptr(), path.len(), small.as_mut_ptr(), small.len(), 0) };
    assert_eq!(n, expected.len() as i64);
    assert_eq!(&small, &expected.as_bytes()[..8]);
    let mut buf = vec![0u8; n as usize];
    // SAFETY: as above.
    let n = unsafe { journal_verify(path.as_ptr(), path.len(), buf.as_mut_ptr(), buf.len(), 0) };
    assert_eq!(std::str::from_utf8(&buf[..n as usize]).unwrap(), expected);
    // SAFETY: a null directory is refused before any access.
    assert_eq!(unsafe { journal_verify(std::ptr::null(), 0, buf.as_mut_ptr(), buf.len(), 0) }, -1);
    let missing = dir.path().join("missing");
    let missing = missing.as_os_str().as_encoded_bytes();
    let mut buf = vec![0u8; 4096];
    // SAFETY: as above.
    let n = unsafe { journal_verify(missing.as_ptr(), missing.len(), buf.as_mut_ptr(), buf.len(), 0) };
    let json = std::str::from_utf8(&buf[..n as usize]).unwrap();
    assert!(json.starts_with(r#"{"error":"Cannot read the directory "#) && json.ends_with(r#"(ENOENT)"}"#), "{json}");
}

#[test]
fn ffi_journal_bench_appends_and_syncs_in_groups() {
    use tradecaptain_native::ffi::journal_bench;
    let dir = TempDir::new("ffi-bench");
    let target = dir.path().join("j");
    let path = target.as_os_str().as_encoded_bytes();
    let mut out = [0u64; 2];
    let mut lat = vec![-1f64; 1000];
    // SAFETY: out holds two u64s, lat 1000 f64s.
    let rc = unsafe { journal_bench(path.as_ptr(), path.len(), 1000, 64, 300, out.as_mut_ptr(), lat.as_mut_ptr()) };
    assert_eq!(rc, 0);
    assert!(out[0] > 0);
    assert_eq!(out[1], 4, "syncs after 300, 600 and 900 appends, and at the end");
    assert!(lat.iter().all(|&l| l >= 0.0));
    let report = verify(&target).unwrap();
    assert_clean(&report, 1000);
    // SAFETY: as above; the directory is no longer empty, so it is refused.
    let rc = unsafe { journal_bench(path.as_ptr(), path.len(), 10, 64, 0, out.as_mut_ptr(), std::ptr::null_mut()) };
    assert_eq!(rc, -1);
}

#[test]
fn a_retired_journal_starts_again_at_record_one_in_its_old_files() {
    let dir = TempDir::new("retire");
    let (mut j, _) = open(dir.path());
    write(&mut j, 1, 3_000);
    drop(j);
    let before = segment_files(dir.path());
    assert!(before.len() >= 3, "{before:?}");
    assert_eq!(tradecaptain_native::journal::retire(dir.path()).unwrap(), before.len() as u64);
    let (mut j, report) = open(dir.path());
    assert_eq!((report.records, report.first_seq), (0, None), "no record survives");
    write(&mut j, 1, 10);
    drop(j);
    assert_eq!(read_all(dir.path()), (1..=10).map(rec).collect::<Vec<_>>());
    assert_eq!(segment_files(dir.path()), before, "the same files serve again");
}
