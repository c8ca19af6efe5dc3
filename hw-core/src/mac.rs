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
/// use hw_core::MacAddress;
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
    pub const fn new(octets: [u8; 6]) -> Self {
        MacAddress(octets)
    }

    /// The six octets.
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

impl FromStr for MacAddress {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let hex: String = if t.contains(':') || t.contains('-') {
            let sep = if t.contains(':') { ':' } else { '-' };
            let groups: Vec<&str> = t.split(sep).collect();
            if groups.len() != 6 || groups.iter().any(|g| g.is_empty() || g.len() > 2) {
                return Err(bad(s, "expected six groups of two hex digits"));
            }
            groups.iter().map(|g| format!("{g:0>2}")).collect()
        } else if t.contains('.') {
            let groups: Vec<&str> = t.split('.').collect();
            if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
                return Err(bad(s, "expected three groups of four hex digits"));
            }
            groups.concat()
        } else {
            t.to_owned()
        };
        if hex.len() != 12 {
            return Err(bad(s, "expected 12 hex digits"));
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(s, "not hexadecimal"));
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = hex
                .get(2 * i..2 * i + 2)
                .ok_or_else(|| bad(s, "not ASCII"))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad(s, "not hexadecimal"))?;
        }
        Ok(MacAddress(out))
    }
}

impl serde::Serialize for MacAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MacAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
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
}
