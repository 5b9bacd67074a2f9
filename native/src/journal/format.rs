//! The on-disk layout: segment names, the 64-byte segment header and record
//! framing, and the checks that decide whether bytes are a valid record.
//! Pure functions over byte slices: no I/O here.

use super::crc::{Crc32c, crc32c};
use std::sync::atomic::{AtomicU64, Ordering};

/// First eight bytes of every segment.
pub const MAGIC: [u8; 8] = *b"TCJRNL\0\x01";
/// Format version in the segment header.
pub const VERSION: u32 = 1;
/// Bytes of the segment header; the first record starts here.
pub const HEADER_LEN: usize = 64;
/// Bytes of a record's header; the payload starts here.
pub const RECORD_HEADER: usize = 32;
/// Smallest segment accepted.
pub const MIN_SEGMENT_BYTES: u64 = 64 << 10;
/// Segment size when none is configured.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
/// Largest segment accepted (the whole segment is mapped at once).
pub const MAX_SEGMENT_BYTES: u64 = 1 << 40;
/// Segment sizes are whole pages, so that mappings and `msync` ranges are.
pub const PAGE: u64 = 4096;

/// `segment-<index:016>.tcj`.
pub fn segment_name(index: u64) -> String {
    format!("segment-{index:016}.tcj")
}

/// The index in a segment file name, or `None` for any other file.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".tcj")?;
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether `bytes` is an acceptable segment size.
pub fn valid_segment_bytes(bytes: u64) -> bool {
    (MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&bytes) && bytes % PAGE == 0
}

/// The fields of a segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Random per initialisation; every record CRC covers it.
    pub epoch: u64,
    /// The first record's sequence number; 0 for a spare segment (recycled or
    /// made ready, holding no records yet).
    pub first_seq: u64,
    /// The index in the segment's file name.
    pub index: u64,
    /// The segment's size in bytes.
    pub segment_bytes: u64,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        h[16..24].copy_from_slice(&self.epoch.to_le_bytes());
        h[24..32].copy_from_slice(&self.first_seq.to_le_bytes());
        h[32..40].copy_from_slice(&self.index.to_le_bytes());
        h[40..48].copy_from_slice(&self.segment_bytes.to_le_bytes());
        let crc = crc32c(&h[..60]);
        h[60..64].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// Decodes and checks the header at the start of `bytes` (a whole
    /// segment file), whose file name says `index`. The error is the reason.
    pub fn decode(bytes: &[u8], index: u64) -> Result<Header, String> {
        let Some(h) = bytes.get(..HEADER_LEN) else {
            return Err(format!("segment file is {} bytes, shorter than its {HEADER_LEN}-byte header", bytes.len()));
        };
        if h[0..8] != MAGIC {
            return Err("bad magic".into());
        }
        if crc32c(&h[..60]) != le32(h, 60) {
            return Err("header CRC mismatch".into());
        }
        let (version, header_len) = (le32(h, 8), le32(h, 12));
        if version != VERSION {
            return Err(format!("unsupported format version {version}"));
        }
        if header_len as usize != HEADER_LEN {
            return Err(format!("header length {header_len} is not {HEADER_LEN}"));
        }
        let header =
            Header { epoch: le64(h, 16), first_seq: le64(h, 24), index: le64(h, 32), segment_bytes: le64(h, 40) };
        if header.index != index {
            return Err(format!("header names segment {}, but the file name says {index}", header.index));
        }
        if !valid_segment_bytes(header.segment_bytes) {
            return Err(format!(
                "segment size {} is not a whole number of pages from 64 KiB to 1 TiB",
                header.segment_bytes
            ));
        }
        Ok(header)
    }
}

/// A record's total length for a payload of `payload_len` bytes: header,
/// payload and zero padding to a multiple of 8.
#[inline]
pub const fn record_len(payload_len: usize) -> usize {
    (RECORD_HEADER + payload_len + 7) & !7
}

/// The CRC state after a segment's epoch; each record's CRC continues it.
#[inline]
pub fn epoch_seed(epoch: u64) -> u32 {
    crc32c(&epoch.to_le_bytes())
}

/// A record's CRC: over the segment's epoch (`seed`), the length, and the
/// record's bytes from offset 8 to its end (`body`).
#[inline]
pub fn record_crc(seed: u32, len: u32, body: &[u8]) -> u32 {
    Crc32c::resume(seed).update(&len.to_le_bytes()).update(body).value()
}

#[inline]
pub fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

#[inline]
pub fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// A record that passed every check but the sequence check (the caller's).
#[derive(Clone, Copy, Debug)]
pub struct Valid {
    pub len: usize,
    pub seq: u64,
    pub ingress_ns: u64,
    pub kind: u16,
    /// Payload bounds within the segment.
    pub payload: (usize, usize),
}

/// What lies at an offset of a segment.
#[derive(Debug)]
pub enum Check {
    /// No record here: a zero length, or no room left for one.
    End,
    Valid(Valid),
    /// Not a valid record. `bytes` is its extent as far as it can be told:
    /// its stated length, clipped to the file.
    Bad {
        reason: String,
        bytes: u64,
    },
}

/// Checks the bytes at `pos` (8-aligned, at least [`HEADER_LEN`]) of a
/// segment of `segment_bytes` whose file contents are `data` (shorter than
/// `segment_bytes` when the file was truncated) and whose epoch gives `seed`.
pub fn check_record(data: &[u8], pos: usize, segment_bytes: usize, seed: u32) -> Check {
    let file_end = data.len().min(segment_bytes);
    if pos + 8 > segment_bytes {
        return Check::End;
    }
    let truncated = || format!("segment file ends at byte {}, before the segment's end at {segment_bytes}", data.len());
    if pos + 8 > data.len() {
        return Check::Bad { reason: truncated(), bytes: file_end.saturating_sub(pos) as u64 };
    }
    let len = le32(data, pos) as usize;
    if len == 0 {
        return Check::End;
    }
    let bytes = len.min(file_end - pos) as u64;
    let bad = |reason: String| Check::Bad { reason, bytes };
    if len % 8 != 0 {
        return bad(format!("length {len} is not a multiple of 8"));
    }
    if len < RECORD_HEADER {
        return bad(format!("length {len} is smaller than a {RECORD_HEADER}-byte record header"));
    }
    if pos + len > segment_bytes {
        return bad(format!("length {len} runs past the segment's end"));
    }
    if pos + len > data.len() {
        return bad(truncated());
    }
    let rec = &data[pos..pos + len];
    if record_crc(seed, len as u32, &rec[8..]) != le32(rec, 4) {
        return bad("bad CRC".into());
    }
    let payload_len = le32(rec, 28) as usize;
    if record_len(payload_len) != len {
        return bad(format!("payload length {payload_len} does not match record length {len}"));
    }
    let reserved = u16::from_le_bytes([rec[26], rec[27]]);
    if reserved != 0 {
        return bad(format!("reserved field is {reserved}, not 0"));
    }
    Check::Valid(Valid {
        len,
        seq: le64(rec, 8),
        ingress_ns: le64(rec, 16),
        kind: u16::from_le_bytes([rec[24], rec[25]]),
        payload: (pos + RECORD_HEADER, pos + RECORD_HEADER + payload_len),
    })
}

/// A fresh epoch, never `avoid` (the epoch being replaced) nor 0. No random
/// crate: the clock, the process id, a stack address and a counter, mixed by
/// the splitmix64 finaliser, differ between every initialisation that
/// matters (same segment, later time).
pub fn new_epoch(avoid: u64) -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let local = 0u8;
        let address = std::ptr::addr_of!(local) as usize as u64;
        let mut x = crate::sys::now_ns()
            ^ (u64::from(std::process::id()) << 32)
            ^ address.rotate_left(23)
            ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        if x != avoid && x != 0 {
            return x;
        }
    }
}

/// The symbolic name of an errno, for messages.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EDQUOT => "EDQUOT",
        _ => "errno",
    }
}

/// "no space left on device (ENOSPC)".
pub fn describe_errno(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    let text: String = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "unknown error".into(),
    };
    match errno_name(errno) {
        "errno" => format!("{text} (errno {errno})"),
        name => format!("{text} ({name})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_each_damage() {
        let h = Header { epoch: 0xDEAD_BEEF, first_seq: 41, index: 3, segment_bytes: 1 << 20 };
        let bytes = h.encode();
        assert_eq!(Header::decode(&bytes, 3), Ok(h));
        assert_eq!(Header::decode(&bytes, 4).unwrap_err(), "header names segment 3, but the file name says 4");
        assert!(Header::decode(&bytes[..63], 3).unwrap_err().contains("shorter than"));
        for bit in 0..(60 * 8) {
            let mut b = bytes;
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(Header::decode(&b, 3).is_err(), "flip of bit {bit} went unnoticed");
        }
    }

    #[test]
    fn segment_names_round_trip_and_reject_others() {
        assert_eq!(segment_name(3), "segment-0000000000000003.tcj");
        assert_eq!(parse_segment_name("segment-0000000000000003.tcj"), Some(3));
        for other in ["segment-3.tcj", "segment-000000000000000x.tcj", "segment-0000000000000003.tcj.tmp", "x"] {
            assert_eq!(parse_segment_name(other), None, "{other}");
        }
    }

    #[test]
    fn record_crc_equals_one_pass_over_epoch_len_and_body() {
        let (epoch, len, body) = (77u64, 40u32, [5u8; 32]);
        let mut all = epoch.to_le_bytes().to_vec();
        all.extend_from_slice(&len.to_le_bytes());
        all.extend_from_slice(&body);
        assert_eq!(record_crc(epoch_seed(epoch), len, &body), crc32c(&all));
    }

    #[test]
    fn record_len_pads_to_eight() {
        assert_eq!([0, 1, 7, 8, 9, 64].map(record_len), [32, 40, 40, 40, 48, 96]);
    }

    #[test]
    fn epochs_differ_from_the_one_replaced() {
        let a = new_epoch(0);
        assert_ne!(new_epoch(a), a);
    }

    #[test]
    fn errno_descriptions_name_the_errno() {
        assert_eq!(describe_errno(libc::ENOSPC), "no space left on device (ENOSPC)");
        assert_eq!(describe_errno(libc::EIO), "input/output error (EIO)");
    }
}
