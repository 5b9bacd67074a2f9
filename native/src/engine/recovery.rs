//! Recovery: an engine's state rebuilt from its journal folder, the newest
//! usable snapshot first, then every journal record after it replayed
//! through the engine layer, before the engine takes a command.
//!
//! # Invariants
//! - Replay goes through the same path as live commands and never reads the
//!   clock; every journaled trade is compared with the trade replay makes,
//!   and any difference fails recovery (the journal or the build is
//!   inconsistent), so a recovered engine is the one that wrote the journal.
//! - A snapshot is used only at or before the journal's last record, and
//!   only when the journal still holds every record after it; a journal
//!   whose released start no readable snapshot covers is refused.
//! - A journal is continued only with the instrument table (meta record) it
//!   was written for; a new journal gets its meta record, synced, first.
//! - Recovery refuses to finish while the journal's next segment cannot be
//!   prepared, so a full disk is said at start, not at the first roll.
//!
//! # Known limitations
//! - Without snapshots (`snapshot_every` 0) recovery replays every record
//!   since the journal began, and no segment is ever released.
//!
//! # Performance
//! - Replay runs inline on the caller's thread at the engine layer's speed
//!   (the report gives commands per second); snapshots bound how much of the
//!   journal it reads.

use super::durability::{JournalOptions, Journaling, kind};
use super::layer::Core;
use crate::journal::{Journal, JournalConfig, json_string};
use crate::record::{CommandRecord, EV_TRADE, EventRecord};
use crate::{snapshot, sys};
use std::collections::BTreeMap;
use std::time::Instant;

/// What recovery found and did.
#[derive(Debug)]
pub struct RecoveryReport {
    /// The journal scan (with any torn tail that was cut).
    pub journal: String,
    /// The snapshot restored, by journal sequence number.
    pub snapshot: Option<u64>,
    /// Snapshots passed over, each with why.
    pub snapshots_skipped: Vec<String>,
    /// Commands replayed after the snapshot.
    pub replayed: u64,
    /// Journaled trades compared with the replay's (all equal, or recovery fails).
    pub trades_checked: u64,
    pub replay_ns: u64,
    /// Account names from the snapshot and the journal, by number.
    pub accounts: Vec<(u32, String)>,
    /// True when the journal was new.
    pub created: bool,
    /// The highest order id the recovered engine has seen (ids are never
    /// reused, so new orders must go above it).
    pub max_order_id: Option<u64>,
    /// `MADV_HUGEPAGE` on the active segment's mapping: bytes advised, or the
    /// errno the host answered (file mappings take huge pages only on some
    /// filesystems and kernels; the journal works either way).
    pub journal_huge_pages: Result<usize, i32>,
}

impl Default for RecoveryReport {
    fn default() -> Self {
        RecoveryReport {
            journal: String::new(),
            snapshot: None,
            snapshots_skipped: Vec::new(),
            replayed: 0,
            trades_checked: 0,
            replay_ns: 0,
            accounts: Vec::new(),
            created: false,
            max_order_id: None,
            journal_huge_pages: Ok(0),
        }
    }
}

impl RecoveryReport {
    /// The report as JSON (field names are a contract of `engine_open_journal`).
    pub fn to_json(&self) -> String {
        let per_second = if self.replay_ns == 0 { 0.0 } else { self.replayed as f64 * 1e9 / self.replay_ns as f64 };
        let accounts: Vec<String> =
            self.accounts.iter().map(|(n, name)| format!("[{n},{}]", json_string(name))).collect();
        let skipped: Vec<String> = self.snapshots_skipped.iter().map(|s| json_string(s)).collect();
        format!(
            "{{\"created\":{},\"journal\":{},\"snapshot\":{},\"snapshotsSkipped\":[{}],\"replayed\":{},\"tradesChecked\":{},\"replaySeconds\":{},\"commandsPerSecond\":{:.0},\"accounts\":[{}],\"maxOrderId\":{},\"journalHugePages\":{}}}",
            self.created,
            self.journal,
            self.snapshot.map_or_else(|| "null".to_string(), |s| s.to_string()),
            skipped.join(","),
            self.replayed,
            self.trades_checked,
            self.replay_ns as f64 / 1e9,
            per_second,
            accounts.join(","),
            self.max_order_id.map_or_else(|| "null".to_string(), |m| m.to_string()),
            match self.journal_huge_pages {
                Ok(bytes) => format!("{{\"bytes\":{bytes}}}"),
                Err(errno) => format!("{{\"errno\":{errno}}}"),
            }
        )
    }
}

/// Opens (or creates) the journal in `opts.dir`, recovers `core` from it
/// (the newest valid snapshot, then the journal after it, every replayed
/// trade checked against the journaled one), and turns `core`'s journaling
/// on. `core` has processed nothing yet; `ticks` is its instrument table.
pub(super) fn recover(core: &mut Core, ticks: &[i64], opts: JournalOptions) -> Result<RecoveryReport, String> {
    let dir = opts.dir.clone();
    let config = JournalConfig {
        dir: dir.clone(),
        segment_bytes: opts.segment_bytes,
        recycle: opts.recycle,
        faults: opts.faults.clone(),
    };
    let (mut journal, scan) = Journal::open(config).map_err(|e| format!("Cannot recover: {e}"))?;
    let last = journal.next_seq() - 1;
    let mut report = RecoveryReport { journal: scan.to_json(), ..RecoveryReport::default() };
    let (snap, skipped) = snapshot::load_latest(&dir, ticks, last);
    report.snapshots_skipped = skipped;
    let mut accounts = BTreeMap::new();
    let mut meta: Option<Vec<u8>> = None;
    let from = match snap {
        Some(s) => {
            report.snapshot = Some(s.journal_seq);
            core.matcher = s.matcher;
            core.risk.restore(s.risk);
            core.next_seq = s.next_event_seq;
            accounts = s.accounts;
            meta = Some(s.meta);
            s.journal_seq + 1
        }
        None => 1,
    };
    // Segments before the kept snapshots may have been released: the
    // journal must still hold every record after the snapshot restored.
    if let Some(first) = scan.first_seq
        && first > from
    {
        let why = match report.snapshots_skipped.as_slice() {
            [] => "there is none".to_string(),
            skipped => format!("none is usable: {}", skipped.join("; ")),
        };
        return Err(format!(
            "Cannot recover: the journal in {} starts at record {first} (older segments were released after a snapshot), and no snapshot at or after record {} can be restored: {why}",
            dir.display(),
            first - 1
        ));
    }
    let bad = |seq: u64, what: &str| format!("Cannot recover: journal record {seq} is not a valid {what}");
    let mut trades: Vec<EventRecord> = Vec::new();
    let mut next_trade = 0;
    let started = Instant::now();
    let mut reader = journal.reader().map_err(|e| format!("Cannot recover: {e}"))?;
    while let Some(record) = reader.next() {
        let record = record.map_err(|e| format!("Cannot recover: {e}"))?;
        let seq = record.seq;
        match record.kind {
            kind::META => {
                if meta.as_deref().is_some_and(|m| m != record.payload) {
                    return Err(format!(
                        "Cannot recover: the journal in {} and its snapshot were written for different instrument tables",
                        dir.display()
                    ));
                }
                meta.get_or_insert_with(|| record.payload.to_vec());
            }
            kind::BATCH => {
                if record.payload.len() % kind::ENTRY_BYTES != 0 {
                    return Err(bad(seq, "batch"));
                }
                for (entry, bytes) in kind::entries(record.payload) {
                    match entry {
                        kind::ACCOUNT => {
                            let cmd = CommandRecord::from_bytes(bytes).ok_or_else(|| bad(seq, "batch"))?;
                            let (number, name) = cmd.account_definition().ok_or_else(|| bad(seq, "batch"))?;
                            accounts.insert(number, name);
                            if seq >= from {
                                core.replay(kind::ACCOUNT, &cmd);
                            }
                        }
                        kind::COMMAND if seq >= from => {
                            let cmd = CommandRecord::from_bytes(bytes).ok_or_else(|| bad(seq, "batch"))?;
                            trades.clear();
                            trades.extend(core.replay(kind::COMMAND, &cmd).iter().filter(|e| e.kind == EV_TRADE));
                            next_trade = 0;
                            report.replayed += 1;
                        }
                        kind::TRADE if seq >= from => {
                            let journaled = EventRecord::from_bytes(bytes).ok_or_else(|| bad(seq, "batch"))?;
                            if trades.get(next_trade) != Some(&journaled) {
                                return Err(format!(
                                    "Cannot recover: journal record {seq} holds a trade ({} x {} at {}) that replaying the journal does not produce; the journal or the engine build is inconsistent",
                                    journaled.id, journaled.maker, journaled.price
                                ));
                            }
                            next_trade += 1;
                            report.trades_checked += 1;
                        }
                        kind::COMMAND | kind::TRADE => {}
                        _ => return Err(bad(seq, "batch")),
                    }
                }
            }
            _ => {}
        }
    }
    report.replay_ns = started.elapsed().as_nanos() as u64;
    report.accounts = accounts.iter().map(|(n, name)| (*n, name.clone())).collect();
    report.max_order_id = core.matcher.ids().iter().map(|(id, _)| id).max();
    report.journal_huge_pages = journal.huge_page_advice();
    // Take no order while the next segment is still being prepared. A
    // disk too full for it would halt the engine at its first roll: say
    // so now, before a single order is taken.
    journal.wait_ready().map_err(|e| {
        format!(
            "Cannot recover: the journal in {} has no room to grow: {e}; free space on that device, then start again",
            dir.display()
        )
    })?;
    match meta {
        Some(m) if m != opts.meta => {
            return Err(format!(
                "Cannot recover: the journal in {} was written for another instrument table; use that table or another folder",
                dir.display()
            ));
        }
        Some(_) => {}
        None if last == 0 => {
            journal.append(kind::META, sys::now_ns(), &opts.meta).map_err(|e| format!("Cannot create journal: {e}"))?;
            journal.sync().map_err(|e| format!("Cannot create journal: {e}"))?;
            report.created = true;
        }
        None => return Err(format!("Cannot recover: the journal in {} has no meta record", dir.display())),
    }
    core.journaling = Journaling::on(journal, opts, accounts);
    Ok(report)
}
