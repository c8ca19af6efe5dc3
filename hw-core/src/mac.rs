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

/// Marks a byte that is not a hex digit in [`HEX`].
const NOT_HEX: u8 = 0x10;

/// The value of every byte as a hex digit, [`NOT_HEX`] for the others: one load
/// per digit, and one OR over a whole address tells whether any was not hex.
static HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut b = 0;
    while b < 256 {
        if let Some(d) = hex_digit(b as u8) {
            t[b] = d;
        }
        b += 1;
    }
    t
};

/// The six octets of `t` when it is exactly one of the canonical shapes — 17
/// bytes with the same `:` or `-` after every pair, 14 bytes with `.` after
/// every four digits, or 12 bare digits — and every digit is hex; `None` for
/// anything else (which the general parser then reads, and words the error for).
///
/// Each shape is told by its length; its text is taken as a fixed-size array so
/// every byte is read at a constant offset with no bounds check, and its
/// separators are checked by one comparison of a masked word. The digits are read
/// through [`HEX`] with no branch per digit. On these shapes the general parser
/// gives the same octets (a string of this shape has no other separator, no
/// surrounding space and only two-digit groups).
#[inline]
fn parse_canonical(t: &[u8]) -> Option<[u8; 6]> {
    match t.len() {
        17 => parse_pairs(t.try_into().ok()?),
        14 => parse_dotted(t.try_into().ok()?),
        12 => parse_bare(t.try_into().ok()?),
        _ => None,
    }
}

/// Decodes twelve hex digits into six octets, high digit first in each pair;
/// `None` when one is not a hex digit (one OR over all the table values).
#[inline(always)]
fn decode12(d: [u8; 12]) -> Option<[u8; 6]> {
    let v = d.map(|b| HEX[usize::from(b)]);
    let any = v.iter().fold(0, |acc, x| acc | x);
    if any & NOT_HEX != 0 {
        return None;
    }
    Some([
        (v[0] << 4) | v[1],
        (v[2] << 4) | v[3],
        (v[4] << 4) | v[5],
        (v[6] << 4) | v[7],
        (v[8] << 4) | v[9],
        (v[10] << 4) | v[11],
    ])
}

/// `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`: the separators (bytes 2, 5, 8, 11
/// and 14, all in the first 16) are checked by masking the first 16 bytes as one
/// little-endian `u128` and comparing with the first separator repeated there.
#[inline(always)]
fn parse_pairs(t: &[u8; 17]) -> Option<[u8; 6]> {
    /// One `0x01` byte at each separator position.
    const SEPS: u128 =
        (1 << (2 * 8)) | (1 << (5 * 8)) | (1 << (8 * 8)) | (1 << (11 * 8)) | (1 << (14 * 8));
    let sep = t[2];
    let [head @ .., _] = *t;
    let word = u128::from_le_bytes(head);
    if word & (SEPS * 0xff) != SEPS * u128::from(sep) || !(sep == b':' || sep == b'-') {
        return None;
    }
    decode12([
        t[0], t[1], t[3], t[4], t[6], t[7], t[9], t[10], t[12], t[13], t[15], t[16],
    ])
}

/// `aabb.ccdd.eeff`.
#[inline(always)]
fn parse_dotted(t: &[u8; 14]) -> Option<[u8; 6]> {
    if t[4] != b'.' || t[9] != b'.' {
        return None;
    }
    decode12([
        t[0], t[1], t[2], t[3], t[5], t[6], t[7], t[8], t[10], t[11], t[12], t[13],
    ])
}

/// `aabbccddeeff`.
#[inline(always)]
fn parse_bare(t: &[u8; 12]) -> Option<[u8; 6]> {
    decode12(*t)
}

/// Parses without allocating: the canonical shapes (`aa:bb:cc:dd:ee:ff`,
/// `aa-bb-…`, `aabb.ccdd.eeff`, `aabbccddeeff`) are read by a fixed-offset table
/// walk; anything else (surrounding space, one-digit groups, errors) is walked
/// once as bytes (only an error allocates, for its message).
impl FromStr for MacAddress {
    type Err = Error;

    #[inline]
    fn from_str(s: &str) -> Result<Self> {
        if let Some(octets) = parse_canonical(s.as_bytes()) {
            return Ok(MacAddress(octets));
        }
        parse_general(s)
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
}
