//! The journal folder's lock, `DIR/lock`: one writer per folder, and no
//! reader mapping segments beside a writer.
//!
//! A [`Journal`](super::Journal) holds it exclusively (`flock`) for its whole
//! life and writes its pid into the file, so a second writer on the folder
//! (a second core, or a second engine in one process) is refused and told
//! who holds it. A reader that maps segments ([`super::Reader::open`],
//! [`super::verify`]) holds it shared while it reads: it refuses a folder a
//! writer holds, since a mapped file the writer shrinks or recycles ends in
//! `SIGBUS`, and no writer can start under it. A live folder is read by
//! `pread` instead ([`super::Reader::open_live`], [`super::verify_live`]),
//! which takes no lock.
//!
//! # Known limitations
//! - Advisory: a process that ignores the lock file is not stopped.
//! - The holder named is the one `/proc/locks` shows (the process that took
//!   the lock), or else the pid the last writer wrote into the file.
//! - A reader that cannot create the lock file (a folder it may not write,
//!   where no writer of this build has run) reads without it.

use super::{FILE_MODE, JournalError};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The lock file's name in a journal folder.
pub const LOCK_FILE: &str = "lock";

/// Who holds a folder's lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The holding process, when it can be told.
    pub pid: Option<u32>,
    /// It holds the lock exclusively: a writer.
    pub writer: bool,
}

impl Holder {
    /// "process 1234", "this process (1234)", or "another process".
    fn who(&self) -> String {
        match self.pid {
            Some(pid) if pid == std::process::id() => format!("this process ({pid})"),
            Some(pid) => format!("process {pid}"),
            None => "another process".into(),
        }
    }
}

/// A held lock; closing the file (dropping this) releases it.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    /// The writer's lock: exclusive, with this process's pid written into
    /// the file. Refused (`JournalError::Busy`) while anyone holds it.
    pub(crate) fn exclusive(dir: &Path) -> Result<Lock, JournalError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(|e| JournalError::io("open the lock file", &path, &e))?;
        take(&file, dir, true, false)?;
        // For people and for `holder` where /proc/locks says nothing.
        let pid = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.write_all(pid.as_bytes()))
            .map_err(|e| JournalError::io("write the lock file", &path, &e))?;
        Ok(Lock { _file: file })
    }

    /// A mapping reader's lock: shared. Refused (`JournalError::Busy`) while
    /// a writer holds it; `None` when the lock file cannot be made (see the
    /// module's known limitations).
    pub(crate) fn shared(dir: &Path) -> Result<Option<Lock>, JournalError> {
        let path = dir.join(LOCK_FILE);
        let opened = match File::open(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                OpenOptions::new().write(true).create(true).truncate(false).mode(FILE_MODE).open(&path)
            }
            other => other,
        };
        let file = match opened {
            Ok(file) => file,
            // A missing folder says so as a listing would.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(JournalError::io("read the directory", dir, &e));
            }
            Err(e) if matches!(e.kind(), ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem) => {
                return Ok(None);
            }
            Err(e) => return Err(JournalError::io("open the lock file", &path, &e)),
        };
        take(&file, dir, false, true)?;
        Ok(Some(Lock { _file: file }))
    }
}

/// Takes the lock on `file` or says who holds it.
fn take(file: &File, dir: &Path, exclusive: bool, reading: bool) -> Result<(), JournalError> {
    match crate::sys::try_flock(file, exclusive) {
        Ok(()) => Ok(()),
        Err(errno) if errno == libc::EWOULDBLOCK => {
            let holder = holder_of(file, dir).unwrap_or(Holder { pid: None, writer: !exclusive });
            Err(JournalError::Busy { dir: dir.to_path_buf(), holder, reading })
        }
        Err(errno) => Err(JournalError::Io { op: "lock", path: dir.join(LOCK_FILE), errno }),
    }
}

/// Who holds the lock on `dir`, if anyone does (read-only: takes no lock
/// and creates nothing).
pub fn holder(dir: &Path) -> Result<Option<Holder>, JournalError> {
    let path = dir.join(LOCK_FILE);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound && dir.is_dir() => return Ok(None),
        Err(e) => return Err(JournalError::io("open the lock file", &path, &e)),
    };
    // Free when a shared lock can be taken and no writer shows in /proc/locks
    // (readers may hold it shared: that does not make the folder live).
    match crate::sys::try_flock(&file, false) {
        Ok(()) => Ok(None),
        Err(errno) if errno == libc::EWOULDBLOCK => {
            Ok(Some(holder_of(&file, dir).unwrap_or(Holder { pid: None, writer: true })))
        }
        Err(errno) => Err(JournalError::Io { op: "lock", path, errno }),
    }
}

/// The holder of a lock this process could not take: the first conflicting
/// `flock` on the file in `/proc/locks` (a writer before readers), else the
/// pid in the file.
fn holder_of(file: &File, dir: &Path) -> Option<Holder> {
    let meta = file.metadata().ok()?;
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    let held = flocks_on(&locks, meta.dev(), meta.ino());
    if let Some(&(pid, writer)) = held.iter().find(|(_, w)| *w).or(held.first()) {
        return Some(Holder { pid: Some(pid), writer });
    }
    let mut text = String::new();
    File::open(dir.join(LOCK_FILE)).ok()?.read_to_string(&mut text).ok()?;
    Some(Holder { pid: text.trim().parse().ok(), writer: true })
}

/// The `(pid, exclusive)` of each granted `flock` on the inode `(dev, ino)`
/// in `/proc/locks`' text, whose lines read
/// `1: FLOCK  ADVISORY  WRITE 1234 fe:00:9986141 0 EOF` (major and minor in
/// hex; a waiter's line has `->` after the number).
fn flocks_on(text: &str, dev: u64, ino: u64) -> Vec<(u32, bool)> {
    // glibc's encoding of a dev_t.
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, "FLOCK", _, mode, pid, id, ..] = fields.as_slice() else { continue };
        let mut parts = id.split(':');
        let (Some(maj), Some(min), Some(inode)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let same = u64::from_str_radix(maj, 16) == Ok(major)
            && u64::from_str_radix(min, 16) == Ok(minor)
            && inode.parse::<u64>() == Ok(ino);
        if let (true, Ok(pid)) = (same, pid.parse::<u32>()) {
            out.push((pid, *mode == "WRITE"));
        }
    }
    out
}

/// The message of `JournalError::Busy`.
pub(crate) fn busy_message(dir: &Path, holder: &Holder, reading: bool) -> String {
    let (dir, lock) = (dir.display(), dir.join(LOCK_FILE));
    let who = holder.who();
    match (reading, holder.writer) {
        (false, true) => format!(
            "Cannot open journal {dir}: {who} is writing it (it holds {}); one process writes a journal folder at a time: stop that process, or use another folder",
            lock.display()
        ),
        (false, false) => format!(
            "Cannot open journal {dir}: {who} is reading it (it holds {} shared while it maps the segments); start again once it is done",
            lock.display()
        ),
        (true, _) => format!(
            "Cannot read journal {dir}: {who} is writing it (it holds {}); a live journal's segments are not mapped, since one the writer recycles under the mapping would crash the reader (SIGBUS): read it live, by pread, or once that process has stopped",
            lock.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_locks_lines_name_the_flocks_on_one_inode() {
        let text = "1: POSIX  ADVISORY  WRITE 10 fe:00:42 0 EOF\n\
                    2: FLOCK  ADVISORY  READ 11 fe:00:42 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 12 fe:00:42 0 EOF\n\
                    3: FLOCK  ADVISORY  WRITE 13 fe:00:43 0 EOF\n\
                    4: FLOCK  ADVISORY  WRITE 14 fe:01:42 0 EOF\n\
                    5: FLOCK  ADVISORY  WRITE 15 fe:00:42 0 EOF\n";
        // fe:00 is major 254, minor 0.
        assert_eq!(flocks_on(text, 254 << 8, 42), vec![(11, false), (15, true)]);
    }
}
