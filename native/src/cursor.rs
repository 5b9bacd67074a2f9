//! A reader of fixed-size little-endian fields over a byte slice, failing
//! instead of panicking: what decoders of stored state (a snapshot, the risk
//! book inside it) share.
//!
//! It depends on nothing else in the crate, so that any module may decode
//! with it without importing the module that writes the enclosing format
//! (`risk` reads its part of a snapshot without importing `snapshot`, which
//! imports `risk` and `matcher`).
//!
//! # Invariants
//! - No read goes past the slice: every read checks its end first and
//!   answers `Err("truncated")` instead of panicking, whatever the bytes say.
//! - A count read by [`Cursor::count`] is at most what the bytes left could
//!   hold, so a decoder never allocates more than the input justifies.

/// Reads fixed-size little-endian fields, failing instead of panicking.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    /// The next `N` bytes.
    pub fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.at.checked_add(N).filter(|&e| e <= self.bytes.len()).ok_or("truncated")?;
        let mut a = [0; N];
        a.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(a)
    }

    /// The next `n` bytes, borrowed.
    pub fn slice(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("truncated")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    pub fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    /// A count of items of at least `size` bytes each that must fit in what is left.
    pub fn count(&mut self, size: usize) -> Result<usize, String> {
        let n = self.u64()?;
        let left = self.remaining() / size.max(1);
        usize::try_from(n).ok().filter(|&n| n <= left).ok_or_else(|| format!("count {n} exceeds the file"))
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_reads_little_endian_fields_in_order() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&7u32.to_le_bytes());
        bytes.extend_from_slice(&(-3i64).to_le_bytes());
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        bytes.extend_from_slice(b"ab");
        let mut c = Cursor::new(&bytes);
        assert_eq!(c.u32(), Ok(7));
        assert_eq!(c.i64(), Ok(-3));
        assert_eq!(c.u64(), Ok(u64::MAX));
        assert_eq!(c.remaining(), 2);
        assert_eq!(c.slice(2), Ok(&b"ab"[..]));
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn cursor_refuses_a_read_past_the_end_and_stays_put() {
        let bytes = [1u8, 2, 3];
        let mut c = Cursor::new(&bytes);
        assert_eq!(c.u32(), Err("truncated".to_string()));
        assert_eq!(c.slice(4), Err("truncated".to_string()));
        assert_eq!(c.slice(usize::MAX), Err("truncated".to_string()));
        assert_eq!(c.remaining(), 3);
        assert_eq!(c.take::<3>(), Ok([1, 2, 3]));
    }

    #[test]
    fn count_refuses_more_items_than_the_bytes_left_can_hold() {
        let mut bytes = 3u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(Cursor::new(&bytes).count(4), Err("count 3 exceeds the file".to_string()));
        assert_eq!(Cursor::new(&bytes).count(2), Ok(3));
        assert_eq!(Cursor::new(&bytes).count(0), Ok(3));
    }
}
