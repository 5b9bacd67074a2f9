//! Black-box tests of the journal folder's lock: one writer per folder, and
//! no reader mapping segments beside it; a live folder read by `pread`.

mod common;

use common::Driver;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use tradecaptain_native::engine::*;
use tradecaptain_native::journal::*;
use tradecaptain_native::record::*;

/// A folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("tc-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path) -> JournalConfig {
    JournalConfig { segment_bytes: MIN_SEGMENT_BYTES, ..JournalConfig::new(dir) }
}

fn me() -> u32 {
    std::process::id()
}

/// The holder and role a refusal names.
fn busy(err: &JournalError) -> (Option<u32>, bool, bool) {
    match err {
        JournalError::Busy { holder, reading, .. } => (holder.pid, holder.writer, *reading),
        other => panic!("expected Busy, got {other:?}"),
    }
}

#[test]
fn smoke() {
    let dir = TempDir::new("smoke");
    let (journal, _) = Journal::open(config(dir.path())).unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap(), format!("{}\n", me()));
    assert_eq!(holder(dir.path()).unwrap(), Some(Holder { pid: Some(me()), writer: true }));
    drop(journal);
    assert_eq!(holder(dir.path()).unwrap(), None);
}

#[test]
fn a_second_writer_on_one_folder_is_refused_and_told_who_holds_it() {
    let dir = TempDir::new("second-writer");
    let (mut first, _) = Journal::open(config(dir.path())).unwrap();
    first.append(1, 0, b"first").unwrap();
    first.sync().unwrap();
    let err = Journal::open(config(dir.path())).err().expect("a second writer was let in");
    assert_eq!(busy(&err), (Some(me()), true, false));
    let lock = dir.path().join(LOCK_FILE);
    assert_eq!(
        err.to_string(),
        format!(
            "Cannot open journal {}: this process ({}) is writing it (it holds {}); one process writes a journal folder at a time: stop that process, or use another folder",
            dir.path().display(),
            me(),
            lock.display()
        )
    );
    // Retiring is a writer's work too.
    assert!(matches!(retire(dir.path()), Err(JournalError::Busy { .. })));
    // The refusal changed nothing: the first writer goes on.
    assert_eq!(first.append(1, 0, b"second").unwrap(), 2);
    first.sync().unwrap();
    drop(first);
    let (next, report) = Journal::open(config(dir.path())).unwrap();
    assert_eq!((report.records, next.next_seq()), (2, 3));
}

#[test]
fn a_second_engine_on_one_journal_folder_refuses_to_recover() {
    let dir = TempDir::new("second-engine");
    let mut first = Engine::new(&[1], 64, 64).unwrap();
    first.open_journal(common::journal_options(dir.path(), b"{}")).unwrap();
    let mut second = Engine::new(&[1], 64, 64).unwrap();
    let err = second.open_journal(common::journal_options(dir.path(), b"{}")).unwrap_err();
    assert!(err.starts_with(&format!("Cannot recover: Cannot open journal {}: this process (", dir.path().display())));
    assert!(err.contains(&format!("({}) is writing it", me())), "{err}");
    drop(first);
    second.open_journal(common::journal_options(dir.path(), b"{}")).unwrap();
}

#[test]
fn a_writer_waits_for_no_one_but_is_refused_while_a_mapping_reader_reads() {
    let dir = TempDir::new("reader-first");
    let (mut j, _) = Journal::open(config(dir.path())).unwrap();
    j.append(1, 0, b"x").unwrap();
    j.sync().unwrap();
    drop(j);
    let mut reader = Reader::open(dir.path()).unwrap();
    let err = Journal::open(config(dir.path())).err().expect("a writer started under a mapping reader");
    assert_eq!(busy(&err), (Some(me()), false, false));
    assert!(err.to_string().contains("is reading it"), "{err}");
    // Readers share: a second mapping reader and verify go ahead.
    assert_eq!(verify(dir.path()).unwrap().records, 1);
    assert_eq!(reader.next().unwrap().unwrap().payload, b"x");
    drop(reader);
    Journal::open(config(dir.path())).unwrap();
}

#[test]
fn mapping_readers_refuse_a_live_folder_and_say_who_writes_it() {
    let dir = TempDir::new("mapped-refused");
    let (mut j, _) = Journal::open(config(dir.path())).unwrap();
    j.append(1, 0, b"x").unwrap();
    let err = verify(dir.path()).unwrap_err();
    assert_eq!(busy(&err), (Some(me()), true, true));
    assert!(err.to_string().ends_with("read it live, by pread, or once that process has stopped"), "{err}");
    assert!(matches!(Reader::open(dir.path()), Err(JournalError::Busy { reading: true, .. })));
    // A live read sees the record appended (in the page cache, unsynced).
    let report = verify_live(dir.path()).unwrap();
    assert_eq!((report.records, report.corruption), (1, None));
    let mut live = Reader::open_live(dir.path()).unwrap();
    assert_eq!(live.next().unwrap().unwrap().payload, b"x");
    assert!(live.next().is_none());
}

#[test]
fn a_live_read_beside_a_recycling_engine_is_safe_and_agrees_once_it_stops() {
    let dir = TempDir::new("live-engine");
    let mut engine = Engine::new(&[1], 1024, 1024).unwrap();
    // The smallest segments, recycled after each snapshot: files are
    // renamed, reinitialised and rolled into all the time.
    let opts = JournalOptions { snapshot_every: 500, recycle: true, ..common::journal_options(dir.path(), b"{}") };
    engine.open_journal(opts).unwrap();
    engine.start(-1).unwrap();
    let writing = Arc::new(AtomicBool::new(true));
    let ready = Arc::new(Barrier::new(2));
    let reader = {
        let (dir, writing, ready) = (dir.path().to_path_buf(), Arc::clone(&writing), Arc::clone(&ready));
        std::thread::spawn(move || {
            ready.wait();
            let (mut reads, mut most) = (0u64, 0u64);
            while writing.load(Ordering::SeqCst) || reads < 3 {
                assert!(matches!(verify(&dir), Err(JournalError::Busy { reading: true, .. })));
                let report = verify_live(&dir).unwrap_or_else(|e| panic!("a live read failed: {e}"));
                most = most.max(report.records);
                // Every record a live reader yields passed its CRC.
                let mut live = Reader::open_live(&dir).unwrap();
                while let Some(Ok(record)) = live.next() {
                    assert!(record.seq >= 1);
                }
                reads += 1;
            }
            most
        })
    };
    ready.wait();
    let mut d = Driver::new(&engine);
    for round in 0..20u64 {
        let cmds: Vec<CommandRecord> = (0..500)
            .map(|i| {
                let id = round * 500 + i + 1;
                let side = if id % 2 == 0 { SIDE_BUY } else { SIDE_SELL };
                CommandRecord::limit(id, 1, 0, side, 100, 1)
            })
            .collect();
        d.run(&cmds);
    }
    engine.stop().unwrap();
    drop(engine);
    writing.store(false, Ordering::SeqCst);
    let most = reader.join().unwrap();
    assert!(most > 0, "a live read saw no record");
    // Written and closed: the mapped and the live view agree.
    let (mapped, live) = (verify(dir.path()).unwrap(), verify_live(dir.path()).unwrap());
    assert_eq!(mapped, live);
    assert_eq!(mapped.corruption, None);
}
