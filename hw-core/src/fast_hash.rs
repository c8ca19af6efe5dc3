//! One cheap, **unkeyed** hasher for maps whose keys come from local input.
//!
//! [`FastHasher`] folds its input in eight bytes at a time (a rotate, an xor and a
//! multiply per word) and mixes the result once in [`finish`](std::hash::Hasher::finish)
//! (MurmurHash3's 64-bit finalizer), so every input bit reaches both the low bits
//! a hash table picks its bucket with and the high bits it keeps as control bytes.
//! The standard map's keyed SipHash costs more than the lookups it serves when the
//! keys are short: hashing a 24-byte request path with it cost more than parsing
//! the path it saved (issue 16).
//!
//! **It has no key.** Anyone who chooses the keys can make them collide and turn
//! every lookup into a scan. Use it only where the keys are the program's own or
//! come from local input that could only slow its own run down (a driver's request
//! paths, an inventory file's node names, task ids), and keep such maps bounded or
//! per run. Keys from the network or from another user: use
//! [`std::collections::hash_map::RandomState`]. Keys that already are a randomly
//! keyed hash: [`crate::shared::Prehashed`].
//!
//! ```
//! use std::collections::HashMap;
//! use hwctl_core::fast_hash::FastHash;
//!
//! // The request paths a driver sends, parsed once each.
//! let mut parsed: HashMap<Box<str>, usize, FastHash> = HashMap::default();
//! parsed.insert("/GetBladeState?bladeid=3".into(), 3);
//! assert_eq!(parsed.get("/GetBladeState?bladeid=3"), Some(&3));
//! assert_eq!(parsed.get("/GetBladeState?bladeid=4"), None);
//! ```

use std::hash::{BuildHasherDefault, Hasher};

/// An odd multiplier with well-spread bits (2^64 divided by the golden ratio).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// A cheap unkeyed hasher, eight bytes at a time: only for keys from local input
/// (see the [module docs](self) for where it must not be used).
///
/// Equal input gives an equal hash in every process (no key, no seed): do not
/// print or store its hashes as if they hid anything.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    /// Folds one word in.
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // The tail's length goes into its top byte (which a tail of at most
            // seven bytes leaves free), so `b"ab"` and `b"ab\0"` written raw
            // differ; `str` keys also end with a terminator of their own.
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) | ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // MurmurHash3's 64-bit finalizer: the multiply above carries low input
        // bits only upwards; this brings every bit down to the bucket bits too.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The map hasher built from [`FastHasher`]: `HashMap<K, V, FastHash>` (create
/// the map with `HashMap::default()`). Unkeyed: only for keys from local input.
pub type FastHash = BuildHasherDefault<FastHasher>;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hash};

    use super::*;

    fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
        FastHash::default().hash_one(value)
    }

    fn raw(bytes: &[u8]) -> u64 {
        let mut h = FastHasher::default();
        h.write(bytes);
        h.finish()
    }

    /// No key: the same input hashes the same in every hasher (and process).
    #[test]
    fn equal_input_gives_an_equal_hash() {
        assert_eq!(
            hash_of("/GetBladeState?bladeid=3"),
            hash_of("/GetBladeState?bladeid=3")
        );
        assert_eq!(raw(b"abcdefghij"), raw(b"abcdefghij"));
        assert_eq!(hash_of(&42u64), hash_of(&42u64));
    }

    /// Inputs one byte apart, of every length around a word, in every position,
    /// and tails that differ only by trailing zero bytes all hash apart.
    #[test]
    fn inputs_one_byte_apart_and_zero_padded_tails_differ() {
        let mut seen = HashSet::new();
        let mut count = 0;
        for len in 0..=24usize {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(seen.insert(raw(&base)), "len {len}");
            count += 1;
            for at in 0..len {
                let mut other = base.clone();
                other[at] ^= 1;
                assert!(seen.insert(raw(&other)), "len {len}, byte {at}");
                count += 1;
            }
        }
        assert_eq!(seen.len(), count);
        // Raw tails padded with zeros: the length keeps them apart.
        assert_ne!(raw(b"ab"), raw(b"ab\0"));
        assert_ne!(raw(b""), raw(b"\0"));
        assert_ne!(raw(b"12345678"), raw(b"12345678\0"));
    }

    /// The bucket bits (the low ones) and the control bits (the top seven) of
    /// keys that differ only in their last character are spread: 24 blade paths
    /// fall into at least 16 of 32 buckets and show at least 16 control values.
    #[test]
    fn low_and_high_bits_are_both_spread() {
        let hashes: Vec<u64> = (1..=24)
            .map(|b| hash_of(format!("/GetBladeState?bladeid={b}").as_str()))
            .collect();
        let buckets: HashSet<u64> = hashes.iter().map(|h| h & 31).collect();
        let controls: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(buckets.len() >= 16, "{} buckets", buckets.len());
        assert!(controls.len() >= 16, "{} control values", controls.len());
    }

    /// Integer keys (task ids, indices) are folded in as words and spread too.
    #[test]
    fn integer_keys_hash_apart() {
        let hashes: HashSet<u64> = (0..10_000u64).map(|n| hash_of(&n)).collect();
        assert_eq!(hashes.len(), 10_000);
        let low: HashSet<u64> = (0..64u64).map(|n| hash_of(&n) & 63).collect();
        assert!(low.len() >= 32, "{} of 64 buckets", low.len());
        assert_ne!(hash_of(&1u8), hash_of(&2u8));
        assert_ne!(hash_of(&1u32), hash_of(&2u32));
        assert_ne!(hash_of(&1usize), hash_of(&2usize));
    }
}
