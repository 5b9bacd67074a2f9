//! CRC32C (Castagnoli), the checksum of journal records, segment headers and
//! snapshots. Computed by `crc-fast`, which folds with `VPCLMULQDQ` where the
//! CPU has it (about 3× the `crc32`-instruction loop on a 4 KiB batch record
//! here) and falls back to portable code elsewhere; the result is the same
//! CRC32C either way.

use crc_fast::{CrcAlgorithm, Digest};

/// The CRC32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::crc32_iscsi(data)
}

/// A CRC32C computed over several pieces, as if over their concatenation.
pub struct Crc32c(Digest);

impl Crc32c {
    /// Continues from `crc`, the CRC32C of the bytes before (0: none).
    #[inline]
    pub fn resume(crc: u32) -> Self {
        // A finished CRC32C is the register inverted: invert it back to resume.
        Crc32c(Digest::new_with_init_state(CrcAlgorithm::Crc32Iscsi, u64::from(!crc)))
    }

    /// Adds the next piece.
    #[inline]
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }

    /// The CRC32C of every piece so far.
    #[inline]
    pub fn value(&self) -> u32 {
        self.0.finalize() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_check_value() {
        // CRC-32/ISCSI's check value from the CRC catalogue.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn matches_an_independent_implementation_at_every_size_and_split() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in (0..300).chain([511, 512, 513, 1024, 4095, 4096, 4200, 5000]) {
            let whole = &data[..len];
            assert_eq!(crc32c(whole), ::crc32c::crc32c(whole), "len {len}");
            for split in [0, 1, 7, 8, len / 3, len / 2, len] {
                let (a, b) = whole.split_at(split.min(len));
                assert_eq!(
                    Crc32c::resume(crc32c(a)).update(b).value(),
                    ::crc32c::crc32c(whole),
                    "len {len} split {split}"
                );
                let (b1, b2) = b.split_at(b.len() / 2);
                assert_eq!(Crc32c::resume(crc32c(a)).update(b1).update(b2).value(), ::crc32c::crc32c(whole));
            }
        }
    }
}
