//! Engine snapshots: the engine's whole state at a journal sequence number,
//! so a restart replays only the journal after it, and the journal's older
//! segments can be released.
//!
//! ```text
//! magic "TCSNAP\0\x01" | u32 version = 3 | u32 instruments | u64 journal_seq | u64 next_event_seq
//! per instrument: i64 tick | u64 orders | orders (48 bytes each: u64 id, u32 account, u8 side,
//!                                                 u8 post_only, u16 0, i64 price, i64 leaves,
//!                                                 u64 tag, u32 placer, u32 0)
//! u64 gone ids | u64 each (ids seen that rest nowhere, ascending)
//! u64 meta bytes | meta (the journal's meta record: the instrument table it was written for)
//! u64 accounts | each: u32 number, u32 name bytes, name (UTF-8), by number
//! risk state (limits, kill switches, positions, order-rate windows, reference prices; `Risk::encode`)
//! u32 CRC32C of everything before it
//! ```
//! Little-endian throughout. Orders are listed bids then asks, best first, in
//! time priority, so loading them in order rebuilds every queue exactly.
//!
//! # Invariants
//! - A snapshot holds everything replay needs from the journal before it:
//!   books, the ids already used, risk state, account names and the meta
//!   record. So the segments wholly before the oldest kept snapshot may go.
//! - A snapshot is written to a temporary file, synced, renamed into place and
//!   the directory synced: a crash leaves either the old set or the new one.
//! - The journal is synced up to `journal_seq` before its snapshot is written,
//!   so a snapshot never runs ahead of the journal it summarises.
//! - Loading checks the CRC, the version, the layout and the tick table; any
//!   failure makes the caller fall back to an older snapshot (or to a full
//!   replay). Version 1 snapshots (books only, no risk state) are refused:
//!   journals of that version never released a segment, so a full replay
//!   rebuilds them. Version 2 snapshots (orders of 32 bytes, without `tag`
//!   and `placer`) still load, their orders with both 0 (no client order
//!   id, placed by their own account): their journal may have released
//!   the segments a full replay would need.
//!
//! # Known limitations
//! - The snapshot is built and written on the engine thread, pausing matching
//!   for its duration (milliseconds per million ids); the cadence is set in
//!   commands so that this stays rare.

use crate::cursor::Cursor;
use crate::matcher::{GONE, Matcher, RestingOrder};
use crate::risk::Risk;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TCSNAP\0\x01";
const VERSION: u32 = 3;
/// The oldest version [`decode`] reads: 2, whose orders lack `tag` and `placer`.
const OLDEST_VERSION: u32 = 2;
/// Snapshots kept on disk: the newest and one to fall back to.
pub const KEEP: usize = 2;

/// What a snapshot holds besides the matcher's books.
pub struct State<'a> {
    pub matcher: &'a Matcher,
    pub risk: &'a Risk,
    /// Account names, by number.
    pub accounts: &'a BTreeMap<u32, String>,
    /// The journal's meta record.
    pub meta: &'a [u8],
}

/// A loaded snapshot.
pub struct Snapshot {
    pub matcher: Matcher,
    pub risk: Risk,
    pub accounts: BTreeMap<u32, String>,
    pub meta: Vec<u8>,
    pub journal_seq: u64,
    pub next_event_seq: u64,
}

/// Serialises the engine's state as of `journal_seq`.
pub fn encode(state: &State<'_>, journal_seq: u64, next_event_seq: u64) -> Vec<u8> {
    encode_version(state, journal_seq, next_event_seq, VERSION)
}

/// [`encode`] in format `version` (2 or 3; tests write 2 to check it loads).
fn encode_version(state: &State<'_>, journal_seq: u64, next_event_seq: u64, version: u32) -> Vec<u8> {
    let matcher = state.matcher;
    let ticks = matcher.ticks();
    let mut out = Vec::with_capacity(64 + matcher.ids().len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(ticks.len() as u32).to_le_bytes());
    out.extend_from_slice(&journal_seq.to_le_bytes());
    out.extend_from_slice(&next_event_seq.to_le_bytes());
    for (i, tick) in ticks.iter().enumerate() {
        let orders = matcher.resting_orders(i);
        out.extend_from_slice(&tick.to_le_bytes());
        out.extend_from_slice(&(orders.len() as u64).to_le_bytes());
        for o in orders {
            out.extend_from_slice(&o.id.to_le_bytes());
            out.extend_from_slice(&o.account.to_le_bytes());
            out.extend_from_slice(&[o.side, u8::from(o.post_only), 0, 0]);
            out.extend_from_slice(&o.price.to_le_bytes());
            out.extend_from_slice(&o.leaves.to_le_bytes());
            if version >= 3 {
                out.extend_from_slice(&o.tag.to_le_bytes());
                out.extend_from_slice(&o.placer.to_le_bytes());
                out.extend_from_slice(&0u32.to_le_bytes());
            }
        }
    }
    let mut gone: Vec<u64> = matcher.ids().iter().filter(|&(_, v)| v == GONE).map(|(k, _)| k).collect();
    gone.sort_unstable();
    out.extend_from_slice(&(gone.len() as u64).to_le_bytes());
    for id in gone {
        out.extend_from_slice(&id.to_le_bytes());
    }
    out.extend_from_slice(&(state.meta.len() as u64).to_le_bytes());
    out.extend_from_slice(state.meta);
    out.extend_from_slice(&(state.accounts.len() as u64).to_le_bytes());
    for (number, name) in state.accounts {
        out.extend_from_slice(&number.to_le_bytes());
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
    }
    state.risk.encode(&mut out);
    let crc = crate::journal::crc::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Parses a snapshot and rebuilds the engine's state; `ticks` must match.
pub fn decode(bytes: &[u8], ticks: &[i64]) -> Result<Snapshot, String> {
    if bytes.len() < MAGIC.len() + 4 {
        return Err("truncated".into());
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crate::journal::crc::crc32c(body) != stored {
        return Err("bad CRC".into());
    }
    let mut c = Cursor::new(body);
    if &c.take::<8>()? != MAGIC {
        return Err("bad magic".into());
    }
    let version = c.u32()?;
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(if version < OLDEST_VERSION {
            format!("version {version} is older than {OLDEST_VERSION} (it lacks the risk state)")
        } else {
            format!("version {version} is newer than {VERSION}, the newest this engine reads")
        });
    }
    let labelled = version >= 3;
    let n = c.u32()? as usize;
    if n != ticks.len() {
        return Err(format!("{n} instruments, the engine has {}", ticks.len()));
    }
    let journal_seq = c.u64()?;
    let next_event_seq = c.u64()?;
    let mut orders = Vec::with_capacity(n);
    for (i, &tick) in ticks.iter().enumerate() {
        let t = c.i64()?;
        if t != tick {
            return Err(format!("instrument {i} has tick {t}, the engine has {tick}"));
        }
        let count = c.count(if labelled { 48 } else { 32 })?;
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            let id = c.u64()?;
            let account = c.u32()?;
            let [side, post_only, _, _] = c.take::<4>()?;
            let (price, leaves) = (c.i64()?, c.i64()?);
            let (tag, placer) = if labelled {
                let labels = (c.u64()?, c.u32()?);
                c.u32()?;
                labels
            } else {
                (0, 0)
            };
            list.push(RestingOrder { id, account, side, post_only: post_only != 0, price, leaves, tag, placer });
        }
        orders.push(list);
    }
    let count = c.count(8)?;
    let mut gone = Vec::with_capacity(count);
    for _ in 0..count {
        gone.push(c.u64()?);
    }
    let meta_len = c.count(1)?;
    let meta = c.slice(meta_len)?.to_vec();
    let mut accounts = BTreeMap::new();
    for _ in 0..c.count(8)? {
        let number = c.u32()?;
        let len = c.u32()? as usize;
        let name = std::str::from_utf8(c.slice(len)?).map_err(|_| format!("account {number}'s name is not UTF-8"))?;
        accounts.insert(number, name.to_string());
    }
    let risk = Risk::decode(&mut c)?;
    if c.remaining() != 0 {
        return Err(format!("{} bytes after the last field", c.remaining()));
    }
    let matcher = Matcher::from_parts(ticks, &orders, &gone)?;
    Ok(Snapshot { matcher, risk, accounts, meta, journal_seq, next_event_seq })
}

/// The snapshot folder inside a journal directory.
pub fn folder(journal_dir: &Path) -> PathBuf {
    journal_dir.join("snapshots")
}

fn file_name(journal_seq: u64) -> String {
    format!("snapshot-{journal_seq:016}.tcs")
}

/// Snapshot files, newest (highest journal sequence) first.
pub fn list(journal_dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(folder(journal_dir)) else { return Vec::new() };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let seq = name.strip_prefix("snapshot-")?.strip_suffix(".tcs")?.parse().ok()?;
            Some((seq, e.path()))
        })
        .collect();
    found.sort_by_key(|s| std::cmp::Reverse(s.0));
    found
}

/// Writes a snapshot atomically and removes all but the newest [`KEEP`].
pub fn write(journal_dir: &Path, bytes: &[u8], journal_seq: u64) -> Result<PathBuf, String> {
    let dir = folder(journal_dir);
    let fail = |op: &str, e: std::io::Error| format!("Cannot write snapshot: {op} in {}: {e}", dir.display());
    crate::journal::create_private_dir(&dir).map_err(|e| fail("create folder", e))?;
    let path = dir.join(file_name(journal_seq));
    let tmp = dir.join(format!("{}.tmp", file_name(journal_seq)));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(crate::journal::FILE_MODE)
        .open(&tmp)
        .map_err(|e| fail("create", e))?;
    f.write_all(bytes).map_err(|e| fail("write", e))?;
    f.sync_all().map_err(|e| fail("sync", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| fail("rename", e))?;
    std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| fail("sync folder", e))?;
    for (_, old) in list(journal_dir).into_iter().skip(KEEP) {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// Loads the newest valid snapshot at or before `max_seq`, falling back to
/// older ones. Returns it (if any) and one line per snapshot skipped, saying why.
pub fn load_latest(journal_dir: &Path, ticks: &[i64], max_seq: u64) -> (Option<Snapshot>, Vec<String>) {
    let mut skipped = Vec::new();
    for (seq, path) in list(journal_dir) {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if seq > max_seq {
            skipped.push(format!("{name}: ahead of the journal (last record {max_seq})"));
            continue;
        }
        match std::fs::read(&path).map_err(|e| e.to_string()).and_then(|b| decode(&b, ticks)) {
            Ok(s) if s.journal_seq == seq => return (Some(s), skipped),
            Ok(s) => skipped.push(format!("{name}: says sequence {}", s.journal_seq)),
            Err(why) => skipped.push(format!("{name}: {why}")),
        }
    }
    (None, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::*;

    fn encode_books(m: &Matcher, journal_seq: u64, next_event_seq: u64) -> Vec<u8> {
        encode_books_as(m, journal_seq, next_event_seq, VERSION)
    }

    fn encode_books_as(m: &Matcher, journal_seq: u64, next_event_seq: u64, version: u32) -> Vec<u8> {
        let accounts = BTreeMap::from([(1, "ALICE".to_string()), (4, "BOB".to_string())]);
        encode_version(
            &State { matcher: m, risk: &Risk::default(), accounts: &accounts, meta: b"{}" },
            journal_seq,
            next_event_seq,
            version,
        )
    }

    /// Every resting order of every instrument, labels included.
    fn all_resting(m: &Matcher) -> Vec<RestingOrder> {
        (0..m.instruments()).flat_map(|i| m.resting_orders(i)).collect()
    }

    fn busy_matcher() -> Matcher {
        let mut m = Matcher::new(&[1, 25]).unwrap();
        let mut out = Vec::new();
        let cmds = [
            // Client order ids in the tags, an admin's (account 9's) order
            // for account 1 (placer 9 + 1), and the largest values.
            CommandRecord { tag: 71, placer: 10, ..CommandRecord::limit(1, 1, 0, SIDE_BUY, 100, 5) },
            CommandRecord { tag: 72, ..CommandRecord::limit(2, 2, 0, SIDE_BUY, 100, 7) },
            CommandRecord::limit(3, 1, 0, SIDE_SELL, 105, 3),
            CommandRecord {
                tag: u64::MAX,
                placer: u32::MAX,
                ..CommandRecord::place(4, 3, 1, SIDE_SELL, TYPE_LIMIT, TIF_GTC, 5000, 2, true)
            },
            CommandRecord::limit(5, 4, 0, SIDE_SELL, 100, 2),
            CommandRecord::limit(6, 4, 9, SIDE_SELL, 100, 2),
            CommandRecord::cancel(3),
        ];
        for c in &cmds {
            m.apply(c, &mut out);
        }
        m
    }

    #[test]
    fn a_snapshot_round_trips_to_the_same_state_and_behaviour() {
        let m = busy_matcher();
        let bytes = encode_books(&m, 42, 17);
        let s = decode(&bytes, &[1, 25]).unwrap();
        assert_eq!((s.journal_seq, s.next_event_seq), (42, 17));
        assert_eq!((s.meta.as_slice(), s.accounts.get(&4).map(String::as_str)), (&b"{}"[..], Some("BOB")));
        assert_eq!(s.matcher.state_hash(), m.state_hash());
        let labels: Vec<(u64, u64, u32)> = all_resting(&s.matcher).iter().map(|o| (o.id, o.tag, o.placer)).collect();
        assert_eq!(labels, vec![(1, 71, 10), (2, 72, 0), (4, u64::MAX, u32::MAX)], "orders keep tag and placer");
        assert_eq!(all_resting(&s.matcher), all_resting(&m));
        // Same queues, same duplicate memory: the same command gives the same events.
        let (mut a, mut b) = (m, s.matcher);
        for c in [CommandRecord::limit(3, 9, 0, SIDE_SELL, 100, 20), CommandRecord::limit(7, 9, 0, SIDE_SELL, 100, 20)]
        {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            a.apply(&c, &mut ea);
            b.apply(&c, &mut eb);
            assert_eq!(ea, eb);
        }
    }

    #[test]
    fn a_version_2_snapshot_still_loads_with_its_orders_unlabelled() {
        let m = busy_matcher();
        let bytes = encode_books_as(&m, 42, 17, 2);
        assert_eq!(bytes.len() + 3 * 16, encode_books(&m, 42, 17).len(), "16 bytes fewer per order");
        let s = decode(&bytes, &[1, 25]).unwrap();
        assert_eq!((s.journal_seq, s.next_event_seq), (42, 17));
        assert_eq!(s.matcher.state_hash(), m.state_hash());
        let unlabelled: Vec<RestingOrder> =
            all_resting(&m).into_iter().map(|o| RestingOrder { tag: 0, placer: 0, ..o }).collect();
        assert_eq!(all_resting(&s.matcher), unlabelled);
        for version in [1, VERSION + 1] {
            let err = decode(&encode_books_as(&m, 42, 17, version), &[1, 25]).err().unwrap();
            assert!(err.contains(&format!("version {version}")), "{err}");
        }
    }

    #[test]
    fn every_single_bit_flip_and_truncation_is_refused() {
        let bytes = encode_books(&busy_matcher(), 1, 1);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(decode(&b, &[1, 25]).is_err(), "flip at {i} passed");
            assert!(decode(&bytes[..i], &[1, 25]).is_err(), "truncation at {i} passed");
        }
        assert!(decode(&bytes, &[1, 1]).err().unwrap().contains("tick"));
    }

    #[test]
    fn loading_falls_back_to_an_older_snapshot_when_the_newest_is_bad() {
        let dir = std::env::temp_dir().join(format!("tc-snap-{}-{}", std::process::id(), line!()));
        let _ = std::fs::remove_dir_all(&dir);
        let m = busy_matcher();
        write(&dir, &encode_books(&m, 10, 1), 10).unwrap();
        write(&dir, &encode_books(&m, 20, 1), 20).unwrap();
        write(&dir, &encode_books(&m, 30, 1), 30).unwrap();
        assert_eq!(list(&dir).iter().map(|s| s.0).collect::<Vec<_>>(), vec![30, 20], "keeps the newest two");
        std::fs::write(folder(&dir).join(file_name(30)), b"garbage").unwrap();
        let (s, skipped) = load_latest(&dir, &[1, 25], u64::MAX);
        assert_eq!(s.map(|s| s.journal_seq), Some(20));
        assert!(skipped[0].contains("snapshot-0000000000000030.tcs"), "{skipped:?}");
        let (s, skipped) = load_latest(&dir, &[1, 25], 15);
        assert!(s.is_none() && skipped.len() == 2, "{skipped:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
