//! The id table: every order id the matcher has seen, and where each resting
//! order lives.
//!
//! Ids are never removed (a `new` whose id was ever used is a duplicate,
//! whatever became of the first order), so the table only grows.
//!
//! # Performance
//! A SwissTable (`std`'s `HashMap`) with a hash that keeps the id itself in
//! the low bits, which pick the bucket, and spreads it into the top bits,
//! which form the probe tag. Client ids mostly increase, so recent ids share
//! buckets' cache lines and pages, and the SIMD group probe absorbs the
//! clusters that keeping locality makes (an open-addressing table of our own
//! with linear probing measured 4x slower on clustered ids; see CHANGELOG).
//! [`IdTable::reserve`] fills and clears the table once, so the pages behind
//! every bucket are faulted in before matching rather than during it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The locality-keeping hash described in the module documentation.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        const TAG: u64 = 0x7f << 57;
        self.0 = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) & TAG) | (n & !TAG);
    }
}

/// Maps ids to `u32` values.
#[derive(Default)]
pub struct IdTable {
    map: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
}

impl IdTable {
    /// Number of ids stored.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no id is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Grows now, outside any hot path, so that `additional` more ids fit,
    /// and touches every new bucket so that no page faults while matching.
    pub fn reserve(&mut self, additional: usize) {
        if self.map.capacity() - self.map.len() >= additional {
            return;
        }
        let mut grown: HashMap<u64, u32, BuildHasherDefault<IdHasher>> =
            HashMap::with_capacity_and_hasher(self.map.len() + additional, BuildHasherDefault::default());
        // Sequential keys land in consecutive buckets, so filling the
        // capacity writes every bucket page once.
        for k in 0..grown.capacity() as u64 {
            grown.insert(k, 0);
        }
        grown.clear();
        grown.extend(self.map.drain());
        self.map = grown;
    }

    /// The value stored for `id`.
    #[inline]
    pub fn get(&self, id: u64) -> Option<u32> {
        self.map.get(&id).copied()
    }

    /// True when `id` is stored.
    #[inline]
    pub fn contains(&self, id: u64) -> bool {
        self.map.contains_key(&id)
    }

    /// Every `(id, value)`, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.map.iter().map(|(&k, &v)| (k, v))
    }

    /// Stores `value` for `id`, replacing any earlier value.
    #[inline]
    pub fn insert(&mut self, id: u64, value: u32) {
        self.map.insert(id, value);
    }

    /// Stores `value` for `id` unless `id` is already stored.
    #[inline]
    pub fn insert_if_absent(&mut self, id: u64, value: u32) {
        self.map.entry(id).or_insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn agrees_with_a_hash_map_over_sequential_strided_and_extreme_ids_across_growth() {
        let mut table = IdTable::default();
        let mut model = HashMap::new();
        let mut x = 7u64;
        let ids = (0..5000u64)
            .chain((0..3000).map(|i| i << 16))
            .chain((0..3000).map(|i| i * 1024 + 3))
            .chain((0..3000).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            }))
            .chain([0, u64::MAX, u64::MAX - 1]);
        for (n, id) in ids.enumerate() {
            if n % 3 == 0 {
                table.insert_if_absent(id, n as u32);
                model.entry(id).or_insert(n as u32);
            } else {
                table.insert(id, n as u32);
                model.insert(id, n as u32);
            }
        }
        assert_eq!(table.len(), model.len());
        for (&id, &v) in &model {
            assert_eq!(table.get(id), Some(v), "id {id}");
        }
        assert_eq!(table.get(12_345_678_901), None);
        table.reserve(100_000);
        for (&id, &v) in &model {
            assert_eq!(table.get(id), Some(v), "id {id} after reserve");
        }
    }
}
