//! MAC addresses in any common notation.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind, Result};

/// A 48-bit MAC address.
///
/// Parses colons (`52:54:00:cf:2d:31`), dashes (`52-54-00-CF-2D-31`), dots
/// (`5254.00cf.2d31`) and bare hex (`525400cf2d31`), case-insensitively; prints
/// lower-case with colons.
///
/// ```
/// use hwctl_core::MacAddress;
/// let a: MacAddress = "52-54-00-CF-2D-31".parse().unwrap();
/// let b: MacAddress = "5254.00cf.2d31".parse().unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "52:54:00:cf:2d:31");
/// assert_eq!(a.octets(), [0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress([u8; 6]);

impl MacAddress {
    /// A MAC from its six octets.
    ///
    /// ```
    /// use hwctl_core::MacAddress;
    /// const MAC: MacAddress = MacAddress::new([0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
    /// assert_eq!(MAC.to_string(), "52:54:00:cf:2d:31");
    /// ```
    pub const fn new(octets: [u8; 6]) -> Self {
        MacAddress(octets)
    }

    /// The six octets.
    ///
    /// ```
    /// use hwctl_core::MacAddress;
    /// let mac: MacAddress = "52-54-00-CF-2D-31".parse()?;
    /// assert_eq!(mac.octets(), [0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

fn bad(s: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!("{s:?} is not a MAC address: {why}"),
    )
}

/// The value of one ASCII hex digit.
const fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// Bit 7 of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Every byte of `w` read as a hex digit at once (SWAR, eight bytes in one
/// register): the digit's value in each byte that is one, and a mask with bit 7
/// set in exactly those bytes (other bytes' values are meaningless).
///
/// The range tests add `0x80 - bound` to each byte with its top bit cleared
/// (so no sum carries into the next byte) and read bit 7: set when the byte is at
/// least `bound`. A byte is a digit when it is in `'0'..='9'`, or in `'a'..='f'`
/// once bit 5 (the ASCII case bit) is set, and has its own bit 7 clear (not part
/// of a multi-byte character). A letter's value is its low nibble plus 9.
#[inline(always)]
fn hex_swar(w: u64) -> (u64, u64) {
    let x = w & !HIGH;
    let at_least = |v: u64, bound: u8| (v + ONES * (0x80 - u64::from(bound))) & HIGH;
    let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
    let lower = x | (ONES * 0x20);
    let letter = at_least(lower, b'a') & !at_least(lower, b'f' + 1);
    let valid = (digit | letter) & !w & HIGH;
    let value = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    (value, valid)
}

/// Joins each byte's nibble with the next byte's: byte `i` of the result is
/// `value[i] << 4 | value[i + 1]` (every byte of `value` must be below 16, so no
/// shift crosses into the next byte).
#[inline(always)]
const fn join_pairs(value: u64) -> u64 {
    (value << 4) | (value >> 8)
}

/// The six octets of `t` when it is exactly one of the canonical shapes — 17
/// bytes with the same `:` or `-` after every pair ([`parse_pairs`]), 14 bytes
/// with `.` after every four digits, or 12 bare digits ([`parse_short`]) — and
/// every digit is hex; `None` for anything else (which the general parser then
/// reads, and words the error for). [`MacAddress::from_str`] takes the same
/// paths, the 17-byte one inline.
///
/// Each shape is told by its length; its text is taken as a fixed-size array so
/// every byte is read at a constant offset with no bounds check, as at most two
/// little-endian words whose bytes are all decoded and checked at once, with no
/// load or branch per digit. On these shapes the general parser gives the same
/// octets (a string of this shape has no other separator, no surrounding space
/// and only two-digit groups).
#[cfg(test)]
fn parse_canonical(t: &[u8]) -> Option<[u8; 6]> {
    match <&[u8; 17]>::try_from(t) {
        Ok(t) => parse_pairs(t),
        Err(_) => parse_short(t),
    }
}

/// The 14- and 12-byte canonical shapes, `aabb.ccdd.eeff` and `aabbccddeeff`;
/// `None` for any other text.
#[inline(always)]
fn parse_short(t: &[u8]) -> Option<[u8; 6]> {
    match t.len() {
        14 => parse_dotted(t.try_into().ok()?),
        12 => parse_bare(t.try_into().ok()?),
        _ => None,
    }
}

/// One `0x1` in every 4-bit lane of a word.
const NIBBLES: u64 = 0x1111_1111_1111_1111;
/// The low nibble of every byte of a word.
const LOW4: u64 = ONES * 0x0f;

/// `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`: bytes 0..8 and 9..17 have the
/// same shape `aa:bb:cc` (digits at 0, 1, 3, 4, 6, 7; separators at 2 and 5), so
/// both halves are read as one unaligned word load each; byte 8 is the middle
/// separator. Every test is folded into one branch.
///
/// The two halves' sixteen bytes are checked and decoded in one word each of
/// 4-bit lanes: `high` holds every byte's high nibble and `low` its low nibble
/// (lane `2i` from the first half, `2i + 1` from the second). A byte is a hex
/// digit exactly when its high nibble is 3 and its value (the low nibble) is at
/// most 9, or its high nibble is 4 or 6 (bit 2 set: a letter) and its value
/// (low nibble plus 9) is 10 to 15. The value is summed in the lanes; a letter
/// whose low nibble is above 6 overflows its lane (leaving it below 10, so that
/// byte is refused) and only disturbs lanes above it, so the lowest wrong byte is
/// always seen.
#[inline(always)]
fn parse_pairs(t: &[u8; 17]) -> Option<[u8; 6]> {
    /// `0xff` at the separators of a half.
    const SEPS: u64 = (0xff << (2 * 8)) | (0xff << (5 * 8));
    /// `0xff` at the joined octets of a half (bytes 0, 3 and 6).
    const OCTETS: u64 = 0x00ff_0000_ff00_00ff;
    /// Multiplying a word that has bytes only at 0, 3 and 6 by this moves them to
    /// bytes 5, 6 and 7 (the other products land in bytes 1, 3 and 4 or above
    /// the word, none overlapping, so nothing carries into the top three bytes).
    const GATHER: u64 = (1 << 40) | (1 << 24) | (1 << 8);
    let (head, tail) = t.split_at(8);
    let (sep, tail) = tail.split_first()?;
    let a = u64::from_le_bytes(head.try_into().ok()?);
    let b = u64::from_le_bytes(tail.try_into().ok()?);
    let sep = u64::from(*sep);
    let high = ((a >> 4) & LOW4) | (b & !LOW4);
    let low = (a & LOW4) | ((b << 4) & !LOW4);
    // 1 in the lanes of letters (high nibble bit 2), and every lane's value
    // (a carry out of the top lane is dropped: that byte is refused anyway).
    let letter = (high >> 2) & NIBBLES;
    let value = low.wrapping_add(letter * 9);
    // Bit 3 of a lane: its value is 10 or more (bit 3 and bit 2 or 1), which a
    // letter's must be and a digit's must not.
    let ten = value & ((value << 1) | (value << 2));
    let wrong_kind = (ten ^ (letter << 3)) & (NIBBLES << 3);
    // A digit's high nibble is 3; a letter's is 4 or 6 (6 with bit 1 set).
    let wrong_high = (high | (letter << 1)) ^ (NIBBLES * 3 + letter * 3);
    let seps = (SEPS / 0xff) * sep;
    let wrong = ((wrong_kind | wrong_high) & !SEPS)
        | (((a ^ seps) | (b ^ seps)) & SEPS)
        | ((sep ^ u64::from(b':')) * (sep ^ u64::from(b'-')));
    if wrong != 0 {
        return None;
    }
    // Byte `i` of `value` is the first half's digit `i` in its low nibble and
    // the second half's in its high one: each half's pairs joined, at bytes 0,
    // 3 and 6, then moved together by one multiply.
    let joined_a = ((value << 4) & !LOW4) | ((value >> 8) & LOW4);
    let joined_b = (value & !LOW4) | ((value >> 12) & LOW4);
    let [_, _, _, _, _, o0, o1, o2] = (joined_a & OCTETS).wrapping_mul(GATHER).to_le_bytes();
    let [_, _, _, _, _, o3, o4, o5] = (joined_b & OCTETS).wrapping_mul(GATHER).to_le_bytes();
    Some([o0, o1, o2, o3, o4, o5])
}

/// Twelve digits, the first eight as the word `a` and the last four as the
/// low half of `b`, into six octets; `None` if one is not a hex digit.
#[inline(always)]
fn decode_8_4(a: u64, b: u64) -> Option<[u8; 6]> {
    const FOUR: u64 = 0x8080_8080;
    let (va, ka) = hex_swar(a);
    let (vb, kb) = hex_swar(b);
    if ka != HIGH || kb != FOUR {
        return None;
    }
    let (a, b) = (join_pairs(va), join_pairs(vb));
    Some([
        a as u8,
        (a >> 16) as u8,
        (a >> 32) as u8,
        (a >> 48) as u8,
        b as u8,
        (b >> 16) as u8,
    ])
}

/// `aabb.ccdd.eeff`.
#[inline(always)]
fn parse_dotted(t: &[u8; 14]) -> Option<[u8; 6]> {
    let [a0, a1, a2, a3, d1, a4, a5, a6, a7, d2, b0, b1, b2, b3] = *t;
    if d1 != b'.' || d2 != b'.' {
        return None;
    }
    decode_8_4(
        u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
        u64::from_le_bytes([b0, b1, b2, b3, 0, 0, 0, 0]),
    )
}

/// `aabbccddeeff`.
#[inline(always)]
fn parse_bare(t: &[u8; 12]) -> Option<[u8; 6]> {
    let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3] = *t;
    decode_8_4(
        u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
        u64::from_le_bytes([b0, b1, b2, b3, 0, 0, 0, 0]),
    )
}

/// Parses without allocating: the canonical shapes (`aa:bb:cc:dd:ee:ff`,
/// `aa-bb-…`, `aabb.ccdd.eeff`, `aabbccddeeff`) are decoded eight bytes at a time
/// in registers, with no load or branch per digit; anything else (surrounding
/// space, one-digit groups, errors) is walked once as bytes (only an error
/// allocates, for its message).
///
/// Only the 17-byte shape, the one MACs are printed in, is decoded where this is
/// called (always inlined: a call, and the result returned through memory,
/// cost about as much as the decoding); every other text is one call away
/// (`parse_other`), so its code and constants take no room at the caller.
impl FromStr for MacAddress {
    type Err = Error;

    #[inline(always)]
    fn from_str(s: &str) -> Result<Self> {
        if let Ok(t) = <&[u8; 17]>::try_from(s.as_bytes())
            && let Some(octets) = parse_pairs(t)
        {
            return Ok(MacAddress(octets));
        }
        parse_other(s)
    }
}

/// Every text [`MacAddress::from_str`] does not decode inline: the 14- and
/// 12-byte canonical shapes, then the general parser.
#[inline(never)]
fn parse_other(s: &str) -> Result<MacAddress> {
    match parse_short(s.as_bytes()) {
        Some(octets) => Ok(MacAddress(octets)),
        None => parse_general(s),
    }
}

/// The general parser: every accepted notation, with the reason when refused.
#[cold]
fn parse_general(s: &str) -> Result<MacAddress> {
    let t = s.trim().as_bytes();
    let mut out = [0u8; 6];
    // Whether some digit was not hexadecimal; reported only once the shape is
    // right, so a malformed shape is named first.
    let mut nonhex = false;
    let sep = if t.contains(&b':') {
        Some(b':')
    } else if t.contains(&b'-') {
        Some(b'-')
    } else {
        None
    };
    if let Some(sep) = sep {
        // Six groups of one or two digits; a single digit is the low nibble.
        let mut n = 0;
        for group in t.split(|b| *b == sep) {
            if n == 6 || group.is_empty() || group.len() > 2 {
                return Err(bad(s, "expected six groups of two hex digits"));
            }
            let mut v = 0u8;
            for b in group {
                match hex_digit(*b) {
                    Some(d) => v = (v << 4) | d,
                    None => nonhex = true,
                }
            }
            out[n] = v;
            n += 1;
        }
        if n != 6 {
            return Err(bad(s, "expected six groups of two hex digits"));
        }
    } else if t.contains(&b'.') {
        // Three groups of four digits (Cisco notation).
        let mut n = 0;
        for group in t.split(|b| *b == b'.') {
            if n == 3 || group.len() != 4 {
                return Err(bad(s, "expected three groups of four hex digits"));
            }
            nonhex |= !decode_pairs(group, &mut out[2 * n..2 * n + 2]);
            n += 1;
        }
        if n != 3 {
            return Err(bad(s, "expected three groups of four hex digits"));
        }
    } else {
        if t.len() != 12 {
            return Err(bad(s, "expected 12 hex digits"));
        }
        nonhex = !decode_pairs(t, &mut out);
    }
    if nonhex {
        return Err(bad(s, "not hexadecimal"));
    }
    Ok(MacAddress(out))
}

/// Decodes `2 * out.len()` hex digits of `digits` into `out`; `false` when one is
/// not a hex digit (`out` is then partly written).
fn decode_pairs(digits: &[u8], out: &mut [u8]) -> bool {
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        match (hex_digit(pair[0]), hex_digit(pair[1])) {
            (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
            _ => return false,
        }
    }
    true
}

impl serde::Serialize for MacAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Deserializes from a string without copying it (a borrowed or transient `&str`
/// is parsed in place).
impl<'de> serde::Deserialize<'de> for MacAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct MacVisitor;
        impl serde::de::Visitor<'_> for MacVisitor {
            type Value = MacAddress;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a MAC address string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<MacAddress, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(MacVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notations() {
        let want = MacAddress::new([0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
        for s in [
            "52:54:00:cf:2d:31",
            "52:54:00:CF:2D:31",
            "52-54-00-cf-2d-31",
            "5254.00cf.2d31",
            "525400cf2d31",
            " 525400CF2D31 ",
            "52:54:0:cf:2d:31",
        ] {
            assert_eq!(s.parse::<MacAddress>().unwrap(), want, "{s}");
        }
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "52:54:00:cf:2d",
            "52:54:00:cf:2d:31:00",
            "zz:54:00:cf:2d:31",
            "525400cf2d3",
            "5254.00cf.2d3",
            "52:54:00:cf:2d:3ü",
            "+5:54:00:cf:2d:31",
        ] {
            let e = s.parse::<MacAddress>().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{s}");
        }
    }
    /// The allocating parser this module had before issue 16, kept as an oracle.
    fn reference(s: &str) -> Option<[u8; 6]> {
        let t = s.trim();
        let hex: String = if t.contains(':') || t.contains('-') {
            let sep = if t.contains(':') { ':' } else { '-' };
            let groups: Vec<&str> = t.split(sep).collect();
            if groups.len() != 6 || groups.iter().any(|g| g.is_empty() || g.len() > 2) {
                return None;
            }
            groups.iter().map(|g| format!("{g:0>2}")).collect()
        } else if t.contains('.') {
            let groups: Vec<&str> = t.split('.').collect();
            if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
                return None;
            }
            groups.concat()
        } else {
            t.to_owned()
        };
        if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }

    /// The canonical shapes read one byte at a time, as the table walk this
    /// module had before the word-at-a-time decoder: the oracle for it.
    fn canonical_bytewise(t: &[u8]) -> Option<[u8; 6]> {
        let digits: Vec<u8> = match t.len() {
            17 => {
                let sep = t[2];
                let seps_ok =
                    (sep == b':' || sep == b'-') && [2, 5, 8, 11, 14].iter().all(|&i| t[i] == sep);
                if !seps_ok {
                    return None;
                }
                (0..17).filter(|i| i % 3 != 2).map(|i| t[i]).collect()
            }
            14 => {
                if t[4] != b'.' || t[9] != b'.' {
                    return None;
                }
                (0..14).filter(|i| i % 5 != 4).map(|i| t[i]).collect()
            }
            12 => t.to_vec(),
            _ => return None,
        };
        let mut out = [0u8; 6];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            out[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(out)
    }

    /// Every byte value at every position of each canonical shape, and every pair
    /// of positions over the bytes next to the digit, letter and separator ranges
    /// (and the non-ASCII ones whose low seven bits are a digit): the
    /// word-at-a-time decoder answers as the byte-at-a-time one, and where it
    /// answers, the general parser agrees.
    #[test]
    fn word_decoder_agrees_with_a_bytewise_one_on_every_byte() {
        const EDGES: [u8; 30] = [
            0, b'/', b'0', b'5', b'9', b':', b'-', b'.', b'@', b'A', b'F', b'G', b'`', b'a', b'f',
            b'g', b'p', b'v', b'z', b' ', 0x7f, 0x80, 0xb0, 0xb9, 0xba, 0xc1, 0xc6, 0xe1, 0xe6,
            0xff,
        ];
        let mut some = 0;
        for base in [
            "52:54:00:cf:2d:31",
            "fF-A9-0a-Bc-9d-E0",
            "5254.00cf.2d31",
            "FFff.a0A9.09fE",
            "525400cf2d31",
            "aBcDeF012789",
        ] {
            let base = base.as_bytes();
            let check = |t: &[u8], some: &mut usize| {
                let fast = parse_canonical(t);
                assert_eq!(fast, canonical_bytewise(t), "{t:?}");
                if let Some(octets) = fast {
                    let s = std::str::from_utf8(t).unwrap();
                    assert_eq!(parse_general(s).ok().map(|m| m.octets()), Some(octets));
                    *some += 1;
                }
            };
            check(base, &mut some);
            for i in 0..base.len() {
                for b in 0..=255u8 {
                    let mut t = base.to_vec();
                    t[i] = b;
                    check(&t, &mut some);
                }
                for j in i + 1..base.len() {
                    for &x in &EDGES {
                        for &y in &EDGES {
                            let mut t = base.to_vec();
                            t[i] = x;
                            t[j] = y;
                            check(&t, &mut some);
                        }
                    }
                }
            }
        }
        assert!(some > 10_000, "only {some} accepted");
    }

    #[test]
    fn agrees_with_the_allocating_parser() {
        // Strings over an alphabet of hex digits, separators, space, a non-hex
        // letter, a sign and a multi-byte character, 0..20 characters long.
        const ALPHABET: [&str; 12] = ["0", "a", "F", "9", ":", "-", ".", " ", "g", "+", "ü", "5"];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        let mut valid = 0;
        let mut fast_hits = 0;
        for _ in 0..200_000 {
            // Half the strings are built near a notation's shape (group counts and
            // widths off by at most one), the rest are free-form.
            let mut pick = |n: u64| (next() % n) as usize;
            let s: String = match pick(4) {
                0 => (0..pick(20)).map(|_| ALPHABET[pick(12)]).collect(),
                shape => {
                    let (groups, width, sep) = match shape {
                        1 => (5 + pick(3), 1 + pick(2), [":", "-"][pick(2)]),
                        2 => (2 + pick(3), 3 + pick(3), "."),
                        _ => (1, 11 + pick(3), ""),
                    };
                    (0..groups)
                        .map(|_| {
                            (0..width)
                                .map(|_| ALPHABET[if pick(10) == 0 { pick(12) } else { pick(4) }])
                                .collect::<String>()
                        })
                        .collect::<Vec<_>>()
                        .join(sep)
                }
            };
            let got = s.parse::<MacAddress>().ok().map(|m| m.octets());
            assert_eq!(got, reference(&s), "{s:?}");
            // The canonical fast path, where it answers, agrees with the general one.
            if let Some(fast) = parse_canonical(s.as_bytes()) {
                assert_eq!(
                    parse_general(&s).ok().map(|m| m.octets()),
                    Some(fast),
                    "{s:?}"
                );
                fast_hits += 1;
            }
            valid += usize::from(got.is_some());
            checked += 1;
        }
        assert!(valid > 1_000, "only {valid} valid MACs generated");
        assert!(
            fast_hits > 1_000,
            "only {fast_hits} took the canonical path"
        );
        // Shaped inputs, which random strings rarely hit.
        for s in [
            "1:2:3:4:5:6",
            "01-02-03-04-05-0g",
            "0102.0304.0506",
            "0102.0304.050",
            "0102.0304.0506.",
            ":01:02:03:04:05",
            "01:02:03:04:05:06:",
            "01-02-03-04-05:06",
            "aabbccddeeff",
            "aabbccddeefg",
            "aa:bb:cc:dd:ee:+f",
        ] {
            assert_eq!(
                s.parse::<MacAddress>().ok().map(|m| m.octets()),
                reference(s),
                "{s:?}"
            );
            checked += 1;
        }
        assert!(checked > 200_000);
    }

    /// The accepted notations, written from their description (not from the
    /// parser): after trimming surrounding whitespace, a text with a `:` is six
    /// `:`-separated groups of one or two characters, else one with a `-` six
    /// `-`-separated such groups, else one with a `.` three `.`-separated groups
    /// of four, else exactly twelve characters; a shape that does not hold is
    /// refused with its own reason, and only then a character that is not an
    /// ASCII hex digit (`not hexadecimal`). A one-digit group is the octet's low
    /// nibble. Lengths are in bytes.
    fn spec(s: &str) -> std::result::Result<[u8; 6], &'static str> {
        fn octet(group: &str) -> Option<u8> {
            if group.bytes().all(|b| b.is_ascii_hexdigit()) {
                u8::from_str_radix(group, 16).ok()
            } else {
                None
            }
        }
        let t = s.trim();
        let (groups, width_ok, why): (Vec<&str>, fn(usize) -> bool, &str) = if t.contains(':') {
            let g = t.split(':').collect();
            (
                g,
                |n| n == 1 || n == 2,
                "expected six groups of two hex digits",
            )
        } else if t.contains('-') {
            let g = t.split('-').collect();
            (
                g,
                |n| n == 1 || n == 2,
                "expected six groups of two hex digits",
            )
        } else if t.contains('.') {
            let g = t.split('.').collect();
            (g, |n| n == 4, "expected three groups of four hex digits")
        } else {
            (vec![t], |n| n == 12, "expected 12 hex digits")
        };
        let want_groups = if t.contains(':') || t.contains('-') {
            6
        } else if t.contains('.') {
            3
        } else {
            1
        };
        if groups.len() != want_groups || !groups.iter().all(|g| width_ok(g.len())) {
            return Err(why);
        }
        let mut octets = Vec::new();
        for g in &groups {
            // Widths 1 and 2 are one octet, 4 is two, 12 is six.
            for c in g.as_bytes().chunks(2) {
                let c = std::str::from_utf8(c).map_err(|_| "not hexadecimal")?;
                octets.push(octet(c).ok_or("not hexadecimal")?);
            }
        }
        octets.try_into().map_err(|_| "not hexadecimal")
    }

    /// Random text near every accepted notation (each form's shape with group
    /// counts and widths off by one, case mixed, surrounding whitespace, a
    /// character replaced by a separator, a non-hex letter, a sign, a space, a
    /// NUL, a high byte or a multi-byte character) and free text over the same
    /// alphabet: the parser accepts exactly what the description accepts, with
    /// the same octets, and refuses the rest as `InvalidParameter` with the
    /// message naming the text and the description's reason.
    #[test]
    fn parser_matches_the_description_of_the_notations() {
        const HEX: &[u8] = b"0123456789abcdefABCDEF";
        const ODD: [&str; 14] = [
            ":", "-", ".", " ", "g", "G", "+", "\0", "ü", "\u{7f}", "x", "/", "@", "`",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut accepted, mut refused) = (0, std::collections::BTreeMap::new());
        for _ in 0..300_000 {
            let s: String = if next(5) == 0 {
                (0..next(22))
                    .map(|_| {
                        if next(2) == 0 {
                            char::from(HEX[next(HEX.len())]).to_string()
                        } else {
                            ODD[next(ODD.len())].to_owned()
                        }
                    })
                    .collect()
            } else {
                let (groups, width, sep) = match next(4) {
                    0 => (6, 2, ":"),
                    1 => (6, 2, "-"),
                    2 => (3, 4, "."),
                    _ => (1, 12, ""),
                };
                // Mostly exact shapes, sometimes a group or width off by one.
                let groups = if next(8) == 0 {
                    groups + next(3) - 1
                } else {
                    groups
                };
                let mut text: Vec<String> = (0..groups.max(1))
                    .map(|_| {
                        let w = if next(8) == 0 {
                            (width + next(3)).saturating_sub(1)
                        } else {
                            width
                        };
                        (0..w).map(|_| char::from(HEX[next(HEX.len())])).collect()
                    })
                    .collect();
                if next(4) == 0 {
                    // One character (or a whole group) replaced by an odd one.
                    let g = next(text.len());
                    let odd = ODD[next(ODD.len())];
                    text[g] = if text[g].is_empty() || next(4) == 0 {
                        odd.to_owned()
                    } else {
                        let i = next(text[g].len());
                        format!("{}{odd}{}", &text[g][..i], &text[g][i + 1..])
                    };
                }
                let mut s = text.join(sep);
                if next(8) == 0 {
                    s = format!(
                        "{}{s}{}",
                        [" ", "\t", "\n"][next(3)],
                        [" ", "", "\r\n"][next(3)]
                    );
                }
                s
            };
            match (s.parse::<MacAddress>(), spec(&s)) {
                (Ok(mac), Ok(octets)) => {
                    assert_eq!(mac.octets(), octets, "{s:?}");
                    accepted += 1;
                }
                (Err(e), Err(why)) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{s:?}");
                    assert_eq!(e.message(), format!("{s:?} is not a MAC address: {why}"));
                    *refused.entry(why).or_insert(0) += 1;
                }
                (got, want) => panic!("{s:?}: parsed as {got:?}, described as {want:?}"),
            }
        }
        // Every outcome is reached often enough to mean something.
        assert!(accepted > 50_000, "only {accepted} accepted");
        assert_eq!(refused.len(), 4, "{refused:?}");
        assert!(refused.values().all(|&n| n > 2_000), "{refused:?}");
    }
}
