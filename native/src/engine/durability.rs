//! Batching and durability: what the engine writes to its journal, in what
//! records, when it syncs them, and when it snapshots, all behind one type,
//! [`Journaling`], which does nothing when the engine has no journal (as
//! exchange-core's `DummySerializationProcessor`). The engine calls it
//! unconditionally; nothing outside this module asks whether there is a
//! journal.
//!
//! # Invariants
//! - A command's entry joins the batch before it is matched, its trades
//!   after; the batch is written as one [`kind::BATCH`] record before any of
//!   the events it covers is released ([`Journaling::flush`] at each
//!   publication), so no event leaves the engine before its command's record.
//! - A batch record always fits a segment: a long sweep's trades are written
//!   out mid-command before the batch passes [`BATCH_MAX_BYTES`] (half the
//!   smallest segment), and recovery reads a command's trades across records.
//! - A publication never mixes batches that were written with batches that
//!   were not: a mid-command write asks for a publication once the command
//!   is done, and a failed write holding command entries makes the next
//!   [`Journaling::flush`] say so, so the publisher withdraws exactly the
//!   commands that were lost.
//! - A failed append or sync halts the engine (through [`Halting`]); a
//!   failed sync is never retried.
//! - A snapshot is written only after the journal is synced up to its
//!   sequence number, and segments are released only wholly before the older
//!   of the kept snapshots.
//!
//! # Known limitations
//! - A snapshot is built and written on the engine thread, pausing matching
//!   for its duration; its cadence is set in commands so that this stays rare.
//!
//! # Performance
//! - Entries are written in place into one reused buffer, field by field for
//!   trades: copying a record whose fields were just stored one by one would
//!   wait on store forwarding. The journal's next bytes are prefetched as the
//!   batch grows. One `append` per publication interval (about 32 commands
//!   under load), not one per command.
//! - [`Journaling`] is an enum, not a trait object: with the journal off each
//!   call is one predictable branch, and the hot calls inline.

use super::signals::Halting;
use crate::journal::{Faults, Journal, MIN_SEGMENT_BYTES, RECORD_HEADER};
use crate::matcher::Matcher;
use crate::record::{CommandRecord, EV_TRADE, EVF_FIRST, EVF_LAST, EventRecord};
use crate::risk::Risk;
use crate::snapshot;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Journal record kinds (the journal stores them opaquely), and the kinds
/// of the entries a batch record holds.
pub mod kind {
    /// UTF-8 JSON describing the run (the instrument table); the first record.
    pub const META: u16 = 1;
    /// Entry: a 64-byte command record, ingress stamped.
    pub const COMMAND: u16 = 2;
    /// Entry: a 64-byte trade event record (the execution log).
    pub const TRADE: u16 = 3;
    /// Entry: a 64-byte define-account command record.
    pub const ACCOUNT: u16 = 4;
    /// A record of entries, each [`ENTRY_BYTES`] long: `u32` entry kind, `u32`
    /// zero, 64-byte record. The engine writes its batch before each
    /// publication of events (a long sweep's trades across several), so a
    /// command is journaled before any of its events is released.
    pub const BATCH: u16 = 5;
    /// Bytes per batch entry.
    pub const ENTRY_BYTES: usize = 72;

    /// The entries of a batch record's payload: `(kind, 64 bytes)`.
    pub fn entries(payload: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
        payload.chunks_exact(ENTRY_BYTES).map(|e| (u16::from_le_bytes([e[0], e[1]]), &e[8..]))
    }
}

/// How durable a command is when its events are released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Records are in the page cache before events are released: they survive
    /// a process crash (kill -9), not a power loss or kernel crash.
    ProcessCrash,
    /// Events are released at once; the journal is synced within `max_delay`
    /// of its first unsynced record and whenever the engine goes idle, so a
    /// power loss loses at most that window of acknowledged commands.
    GroupCommit { max_delay: Duration },
    /// A batch's events are released only after the journal is synced:
    /// nothing acknowledged is ever lost.
    Synchronous,
}

/// Options for [`Engine::open_journal`](super::Engine::open_journal).
#[derive(Clone, Debug)]
pub struct JournalOptions {
    pub dir: PathBuf,
    pub durability: Durability,
    pub segment_bytes: u64,
    /// Commands between snapshots (0: none).
    pub snapshot_every: u64,
    /// Describes the run (the instrument table); must equal the journal's own.
    pub meta: Vec<u8>,
    /// Release the segments wholly before the oldest kept snapshot once a
    /// snapshot is written, and reuse their files as new segments (whose
    /// pages are still in the page cache, so preparing them is cheap).
    /// Without it the journal keeps every segment.
    pub recycle: bool,
    pub faults: Faults,
}

/// A batch this large asks the engine to publish once the current command
/// is done, so that the next batch starts a new publication interval.
const BATCH_PUBLISH_BYTES: usize = MIN_SEGMENT_BYTES as usize / 4;
/// A batch is written out mid-command before it outgrows this (a long sweep's
/// trades): half the smallest segment the journal allows, so every batch
/// record fits in a segment whatever size an existing journal's segments have.
const BATCH_MAX_BYTES: usize = MIN_SEGMENT_BYTES as usize / 2;

/// An event's flags once stamped as event `i` of a command's `n` (the
/// engine layer stamps them; the journal writes trades as they will be).
#[inline]
pub(super) fn stamped_flags(flags: u32, i: usize, n: usize) -> u32 {
    let mut flags = flags;
    if i == 0 {
        flags |= EVF_FIRST;
    }
    if i + 1 == n {
        flags |= EVF_LAST;
    }
    flags
}

/// What the engine needs of its state to snapshot it.
pub(super) struct SnapshotSource<'a> {
    pub matcher: &'a Matcher,
    pub risk: &'a Risk,
    /// The next event sequence number.
    pub next_seq: u64,
}

/// The engine's journaling: off (every call does nothing and every write
/// "succeeds"), or on, with its journal, batch and durability mode.
#[expect(
    clippy::large_enum_variant,
    reason = "one per engine, never moved on the hot path; as `Option<Journaled>` was, and a box would add a load per call"
)]
pub(super) enum Journaling {
    Off,
    On(Journaled),
}

/// The journal as the engine layer drives it.
pub(super) struct Journaled {
    journal: Journal,
    dir: PathBuf,
    durability: Durability,
    snapshot_every: u64,
    since_snapshot: u64,
    /// When the oldest unsynced record was appended (group commit's clock).
    unsynced_since: Option<Instant>,
    /// A sync failed: the engine has halted and never syncs again.
    sync_failed: bool,
    /// Entries not yet written (see [`kind::BATCH`]).
    batch: Vec<u8>,
    /// The batch holds a command's own entry (not only a command's trades).
    batch_has_command: bool,
    /// Ingress time of the batch's first command.
    batch_ingress: u64,
    /// The journal's meta record, for snapshots.
    meta: Vec<u8>,
    /// Account names defined so far, for snapshots.
    accounts: BTreeMap<u32, String>,
    /// Release and reuse segments older than the kept snapshots.
    recycle: bool,
    /// A mid-command write holding command entries failed since the last
    /// [`Journaling::flush`]: those commands are not journaled.
    unjournaled: bool,
    /// A mid-command write happened: publish once this command is done, so
    /// that a publication interval never mixes written and unwritten batches.
    publish_now: bool,
}

impl Journaling {
    /// Journaling into `journal` (opened and recovered) as `opts` say, with
    /// the account names recovery found.
    pub(super) fn on(journal: Journal, opts: JournalOptions, accounts: BTreeMap<u32, String>) -> Self {
        Journaling::On(Journaled {
            journal,
            dir: opts.dir,
            durability: opts.durability,
            snapshot_every: opts.snapshot_every,
            since_snapshot: 0,
            unsynced_since: None,
            sync_failed: false,
            batch: Vec::with_capacity(BATCH_MAX_BYTES),
            batch_has_command: false,
            batch_ingress: 0,
            meta: opts.meta,
            accounts,
            recycle: opts.recycle,
            unjournaled: false,
            publish_now: false,
        })
    }

    /// True when there is a journal.
    pub(super) fn is_on(&self) -> bool {
        matches!(self, Journaling::On(_))
    }

    /// Adds a command's entry (`kind`: [`kind::COMMAND`]) to the batch,
    /// stamped with `ingress`.
    #[inline]
    pub(super) fn command(&mut self, kind: u16, cmd: &CommandRecord, ingress: u64, halting: &mut Halting) {
        if let Journaling::On(j) = self {
            j.command(kind, cmd, ingress, halting);
        }
    }

    /// Adds a define-account command's entry to the batch, and remembers the
    /// name for snapshots.
    pub(super) fn define_account(
        &mut self,
        cmd: &CommandRecord,
        ingress: u64,
        account: u32,
        name: String,
        halting: &mut Halting,
    ) {
        if let Journaling::On(j) = self {
            j.command(kind::ACCOUNT, cmd, ingress, halting);
            j.accounts.insert(account, name);
        }
    }

    /// Adds the trades among `staged`, the events of the command just
    /// applied, to the batch (the execution log), as the engine is about to
    /// stamp them: event `i` with sequence number `next_seq + i`, `tag` and
    /// its first/last flags.
    #[inline]
    pub(super) fn trades(&mut self, staged: &[EventRecord], next_seq: u64, tag: u64, halting: &mut Halting) {
        if let Journaling::On(j) = self {
            j.trades(staged, next_seq, tag, halting);
        }
    }

    /// Writes the pending batch. Returns false when commands since the last
    /// call are not journaled (this write, holding command entries, failed,
    /// or an earlier mid-command one did): the engine has halted, and the
    /// caller must not release their events (it withdraws them). A failure
    /// that lost only trades of a journaled command returns true.
    pub(super) fn flush(&mut self, halting: &mut Halting) -> bool {
        match self {
            Journaling::Off => true,
            Journaling::On(j) => j.flush(halting),
        }
    }

    /// True once after a mid-command write, a batch past
    /// [`BATCH_PUBLISH_BYTES`] or a snapshot: the engine thread then
    /// publishes after the current command.
    #[inline]
    pub(super) fn wants_publish(&self) -> bool {
        match self {
            Journaling::Off => false,
            Journaling::On(j) => j.publish_now,
        }
    }

    /// Counts a command and snapshots the state when the cadence says so
    /// (after the command's events are stamped).
    #[inline]
    pub(super) fn maybe_snapshot(&mut self, state: SnapshotSource<'_>, halting: &mut Halting) {
        if let Journaling::On(j) = self {
            j.maybe_snapshot(state, halting);
        }
    }

    /// Syncs the journal when the durability mode wants it before events are
    /// released (`force`: whenever anything is unsynced). Returns false when
    /// the sync failed (the engine has halted).
    pub(super) fn confirm(&mut self, force: bool, halting: &mut Halting) -> bool {
        match self {
            Journaling::Off => true,
            Journaling::On(j) => j.confirm(force, halting),
        }
    }

    /// True when released events must wait for a sync.
    pub(super) fn synchronous(&self) -> bool {
        matches!(self, Journaling::On(j) if j.durability == Durability::Synchronous)
    }

    /// Records appended since the journal's last sync, if there is a journal.
    pub(super) fn unsynced(&self) -> Option<u64> {
        match self {
            Journaling::Off => None,
            Journaling::On(j) => Some(j.journal.unsynced()),
        }
    }

    /// Keeps the journal's segment preparation off the engine's CPU.
    pub(super) fn keep_preparation_off(&mut self, cpu: usize) {
        if let Journaling::On(j) = self {
            j.journal.keep_preparation_off(cpu);
        }
    }
}

impl Journaled {
    #[inline]
    fn command(&mut self, kind: u16, cmd: &CommandRecord, ingress: u64, halting: &mut Halting) {
        if self.batch.is_empty() {
            self.batch_ingress = ingress;
        }
        self.push_entry(kind, halting, |entry| {
            entry.copy_from_slice(cmd.as_bytes());
            let at = CommandRecord::INGRESS_OFFSET;
            entry[at..at + 8].copy_from_slice(&ingress.to_le_bytes());
        });
    }

    /// Before the stamp, and field by field: copying records whose fields
    /// were just stored one by one would wait on store forwarding.
    #[inline]
    fn trades(&mut self, staged: &[EventRecord], next_seq: u64, tag: u64, halting: &mut Halting) {
        let n = staged.len();
        for (i, ev) in staged.iter().enumerate() {
            if ev.kind == EV_TRADE {
                let ev = *ev;
                let (seq, flags) = (next_seq + i as u64, stamped_flags(ev.flags, i, n));
                self.push_entry(kind::TRADE, halting, |entry| EventRecord { seq, tag, flags, ..ev }.write_le(entry));
            }
        }
    }

    /// Adds one entry to the batch, its 64 bytes written in place by `fill`.
    /// A command's trades that would outgrow [`BATCH_MAX_BYTES`] write the
    /// batch out first (a sweep's trades may span records; recovery reads
    /// them across), and a batch past [`BATCH_PUBLISH_BYTES`] asks for a
    /// publication after this command.
    #[inline]
    fn push_entry(&mut self, kind: u16, halting: &mut Halting, fill: impl FnOnce(&mut [u8; 64])) {
        if kind == kind::TRADE && self.batch.len() + kind::ENTRY_BYTES > BATCH_MAX_BYTES {
            let (ingress, had_command) = (self.batch_ingress, self.batch_has_command);
            // Only a failed write that held command entries leaves commands
            // unjournaled; if only trades are lost, replay recreates them.
            if !self.write_batch(halting) && had_command {
                self.unjournaled = true;
            }
            self.publish_now = true;
            self.batch_ingress = ingress;
        }
        if kind != kind::TRADE {
            self.batch_has_command = true;
            if self.batch.len() >= BATCH_PUBLISH_BYTES {
                self.publish_now = true;
            }
        }
        let at = self.batch.len();
        self.journal.prefetch_next(RECORD_HEADER + at, kind::ENTRY_BYTES);
        self.batch.resize(at + kind::ENTRY_BYTES, 0);
        let entry = &mut self.batch[at..at + kind::ENTRY_BYTES];
        // The kind and the zero word after it, as one word.
        entry[..8].copy_from_slice(&u64::from(kind).to_le_bytes());
        let record: &mut [u8; 64] = (&mut entry[8..]).try_into().expect("an entry holds 64 bytes after its kind");
        fill(record);
    }

    /// Writes the pending batch as one record; false (and halted) on failure.
    fn write_batch(&mut self, halting: &mut Halting) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let result = self.journal.append(kind::BATCH, self.batch_ingress, &self.batch);
        self.batch.clear();
        self.batch_has_command = false;
        match result {
            Ok(_) => {
                self.unsynced_since.get_or_insert_with(Instant::now);
                true
            }
            Err(e) => {
                halting.halt(format!("Engine halted: {e}"), e.errno());
                false
            }
        }
    }

    fn flush(&mut self, halting: &mut Halting) -> bool {
        self.publish_now = false;
        let earlier_failed = std::mem::take(&mut self.unjournaled);
        let had_command = self.batch_has_command;
        let written = self.write_batch(halting);
        !earlier_failed && (written || !had_command)
    }

    fn maybe_snapshot(&mut self, state: SnapshotSource<'_>, halting: &mut Halting) {
        if self.snapshot_every == 0 {
            return;
        }
        self.since_snapshot += 1;
        if self.since_snapshot < self.snapshot_every {
            return;
        }
        self.since_snapshot = 0;
        // The journal first: a snapshot must never run ahead of it. The
        // flush ends a publication interval as a mid-command write does, and
        // a failure must reach the publication that withdraws the events.
        let flushed = self.flush(halting);
        self.publish_now = true;
        if !flushed {
            self.unjournaled = true;
            return;
        }
        if let Err(e) = self.journal.sync() {
            self.sync_failed = true;
            let why = format!("Engine halted: {e}; it never retries a failed sync");
            halting.halt(why, e.errno());
            return;
        }
        self.unsynced_since = None;
        let seq = self.journal.next_seq() - 1;
        let snap =
            snapshot::State { matcher: state.matcher, risk: state.risk, accounts: &self.accounts, meta: &self.meta };
        let bytes = snapshot::encode(&snap, seq, state.next_seq);
        // A failed snapshot costs only restart time: the journal still holds everything.
        if snapshot::write(&self.dir, &bytes, seq).is_ok() && self.recycle {
            // Keep what the oldest kept snapshot needs, so that a bad newest
            // one can still fall back to it. A failed release only keeps
            // segments longer; the journal stays whole.
            if let Some(&(oldest, _)) = snapshot::list(&self.dir).get(snapshot::KEEP - 1) {
                let _ = self.journal.release_before(oldest + 1);
            }
        }
    }

    fn confirm(&mut self, force: bool, halting: &mut Halting) -> bool {
        if self.sync_failed {
            // Never retry a failed sync; what follows are rejections, which
            // the journal does not hold.
            return true;
        }
        let due = match self.durability {
            Durability::ProcessCrash => false,
            Durability::Synchronous => true,
            Durability::GroupCommit { max_delay } => {
                force || self.unsynced_since.is_some_and(|t| t.elapsed() >= max_delay)
            }
        };
        if !due || self.journal.unsynced() == 0 {
            return true;
        }
        match self.journal.sync() {
            Ok(()) => {
                self.unsynced_since = None;
                true
            }
            Err(e) => {
                self.sync_failed = true;
                halting.halt(format!("Engine halted: {e}; it never retries a failed sync"), e.errno());
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalConfig;
    use crate::record::{EV_ACCEPTED, SIDE_BUY, SIDE_SELL};

    /// A fresh folder, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("tc-durability-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn options(dir: &TempDir, durability: Durability) -> JournalOptions {
        JournalOptions {
            dir: dir.0.clone(),
            durability,
            segment_bytes: MIN_SEGMENT_BYTES,
            snapshot_every: 0,
            meta: b"{}".to_vec(),
            recycle: false,
            faults: Faults::default(),
        }
    }

    fn journaling(dir: &TempDir, durability: Durability) -> Journaling {
        let (journal, _) = Journal::open(JournalConfig::new(&dir.0)).unwrap();
        Journaling::on(journal, options(dir, durability), BTreeMap::new())
    }

    /// A trade event as the matcher stages it (unstamped).
    fn trade(price: i64) -> EventRecord {
        let mut ev = EventRecord::new(EV_TRADE, 0, 2);
        ev.price = price;
        ev.qty = 1;
        ev
    }

    /// Every journal record in `dir`: (kind, its batch entries' kinds).
    fn records(dir: &TempDir) -> Vec<(u16, Vec<u16>)> {
        let (journal, _) = Journal::open(JournalConfig::new(&dir.0)).unwrap();
        let mut reader = journal.reader().unwrap();
        let mut out = Vec::new();
        while let Some(record) = reader.next() {
            let record = record.unwrap();
            out.push((record.kind, kind::entries(record.payload).map(|(k, _)| k).collect()));
        }
        out
    }

    #[test]
    fn off_journals_nothing_and_never_fails() {
        let mut off = Journaling::Off;
        let mut halting = Halting::new();
        let cmd = CommandRecord::limit(1, 7, 0, SIDE_BUY, 100, 5);
        off.command(kind::COMMAND, &cmd, 1, &mut halting);
        off.define_account(&cmd, 1, 7, "alice".into(), &mut halting);
        off.trades(&[trade(100)], 1, 9, &mut halting);
        assert!(!off.is_on());
        assert!(!off.wants_publish());
        assert!(off.flush(&mut halting));
        assert!(off.confirm(true, &mut halting));
        assert!(!off.synchronous());
        assert_eq!(off.unsynced(), None);
        assert!(!halting.is_halted());
    }

    #[test]
    fn on_writes_a_batch_of_commands_and_their_trades_as_one_record_at_flush() {
        let dir = TempDir::new("batch");
        let mut on = journaling(&dir, Durability::ProcessCrash);
        let mut halting = Halting::new();
        assert!(on.is_on());
        on.command(kind::COMMAND, &CommandRecord::limit(1, 7, 0, SIDE_BUY, 100, 5), 1, &mut halting);
        on.command(kind::COMMAND, &CommandRecord::limit(2, 8, 0, SIDE_SELL, 100, 1), 2, &mut halting);
        // An accepted event is not journaled; the trade is.
        on.trades(&[EventRecord::new(EV_ACCEPTED, 0, 2), trade(100)], 1, 9, &mut halting);
        assert_eq!(on.unsynced(), Some(0), "nothing is written before the flush");
        assert!(on.flush(&mut halting));
        assert!(on.flush(&mut halting), "an empty flush writes nothing and succeeds");
        assert_eq!(on.unsynced(), Some(1));
        drop(on);
        assert_eq!(records(&dir), vec![(kind::BATCH, vec![kind::COMMAND, kind::COMMAND, kind::TRADE])]);
        assert!(!halting.is_halted());
    }

    #[test]
    fn a_sweeps_trades_past_the_batch_limit_are_written_mid_command_and_ask_for_a_publication() {
        let dir = TempDir::new("sweep");
        let mut on = journaling(&dir, Durability::ProcessCrash);
        let mut halting = Halting::new();
        on.command(kind::COMMAND, &CommandRecord::limit(1, 7, 0, SIDE_BUY, 100, 5), 1, &mut halting);
        let sweep: Vec<EventRecord> = (0..BATCH_MAX_BYTES / kind::ENTRY_BYTES + 1).map(|i| trade(i as i64)).collect();
        on.trades(&sweep, 1, 9, &mut halting);
        assert!(on.wants_publish());
        assert!(on.flush(&mut halting));
        assert!(!on.wants_publish(), "a flush answers the request");
        drop(on);
        let found = records(&dir);
        assert_eq!(found.len(), 2, "the batch was written once mid-command, then at the flush");
        assert_eq!(found[0].1[0], kind::COMMAND);
        let trades = found.iter().flat_map(|(_, e)| e).filter(|&&k| k == kind::TRADE).count();
        assert_eq!(trades, sweep.len());
        assert!(found.iter().all(|(k, e)| *k == kind::BATCH && e.len() * kind::ENTRY_BYTES <= BATCH_MAX_BYTES));
    }

    #[test]
    fn only_synchronous_mode_syncs_before_events_are_released() {
        for (durability, synced) in [(Durability::ProcessCrash, false), (Durability::Synchronous, true)] {
            let dir = TempDir::new(&format!("confirm-{synced}"));
            let mut on = journaling(&dir, durability);
            let mut halting = Halting::new();
            on.command(kind::COMMAND, &CommandRecord::limit(1, 7, 0, SIDE_BUY, 100, 5), 1, &mut halting);
            assert!(on.flush(&mut halting));
            assert_eq!(on.synchronous(), synced);
            assert!(on.confirm(false, &mut halting));
            assert_eq!(on.unsynced(), Some(if synced { 0 } else { 1 }), "{durability:?}");
        }
    }
}
