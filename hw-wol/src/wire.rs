//! The magic packet: the only place that knows Wake-on-LAN bytes.
//!
//! A magic packet is six `0xFF` bytes (the synchronisation stream) followed by the
//! target MAC repeated sixteen times: 102 bytes. A SecureOn password of 4 or 6 bytes
//! may follow, making 106 or 108 bytes.

use hwctl_core::{Error, MacAddress, Result};

/// Length of the synchronisation stream (`FF FF FF FF FF FF`).
pub const SYNC_LEN: usize = 6;
/// How many times the MAC is repeated.
pub const MAC_REPEATS: usize = 16;
/// Length of a magic packet without a SecureOn password.
pub const PACKET_LEN: usize = SYNC_LEN + 6 * MAC_REPEATS;

/// Builds the 102-byte magic packet for `mac`.
///
/// ```
/// let mac: hwctl_core::MacAddress = "52:54:00:cf:2d:31".parse().unwrap();
/// let packet = hwctl_wol::wire::magic_packet(mac);
/// assert_eq!(packet.len(), 102);
/// assert_eq!(&packet[..6], &[0xff; 6]);
/// assert_eq!(&packet[6..12], &[0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
/// assert_eq!(&packet[96..], &[0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
/// ```
pub fn magic_packet(mac: MacAddress) -> [u8; PACKET_LEN] {
    let mut packet = [0u8; PACKET_LEN];
    write_magic_packet(mac, &mut packet);
    packet
}

/// Writes the 102-byte magic packet for `mac` into `out`: the synchronisation
/// stream, then the MAC sixteen times. Sixteen 6-byte repeats are twelve 8-byte
/// words cycling through three values (the pattern repeats every 24 bytes), so
/// the repeats are written as twelve word stores. `out` is at least
/// [`PACKET_LEN`] bytes (an array of the callers: the bounds are known when this
/// is inlined).
#[inline]
fn write_magic_packet(mac: MacAddress, out: &mut [u8]) {
    let o = mac.octets();
    let m = u64::from_le_bytes([o[0], o[1], o[2], o[3], o[4], o[5], 0, 0]);
    let words = [m | (m << 48), (m >> 16) | (m << 32), (m >> 32) | (m << 16)];
    out[..SYNC_LEN].fill(0xff);
    for k in 0..(PACKET_LEN - SYNC_LEN) / 8 {
        let at = SYNC_LEN + 8 * k;
        out[at..at + 8].copy_from_slice(&words[k % 3].to_le_bytes());
    }
}

/// Length of the longest magic packet: with a 6-byte SecureOn password.
pub const MAX_PACKET_LEN: usize = PACKET_LEN + 6;

/// A magic packet held inline (no heap): 102 bytes, or 106/108 with a SecureOn
/// password. Dereferences to the bytes to send.
///
/// Its `Debug` shows the length only: the bytes may hold a SecureOn password.
#[derive(Clone, Copy)]
pub struct MagicPacket {
    bytes: [u8; MAX_PACKET_LEN],
    len: u8,
}

impl std::ops::Deref for MagicPacket {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for MagicPacket {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for MagicPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MagicPacket({} bytes)", self.len)
    }
}

/// Builds the magic packet for `mac`, followed by a SecureOn password when given,
/// in a [`MagicPacket`] on the stack: the packet the driver sends.
///
/// The password must be 4 or 6 bytes; anything else is an invalid parameter.
///
/// ```
/// let mac: hwctl_core::MacAddress = "52:54:00:cf:2d:31".parse().unwrap();
/// let packet = hwctl_wol::wire::magic_packet_with_password(mac, Some(&[1, 2, 3, 4])).unwrap();
/// assert_eq!(packet.len(), 106);
/// assert_eq!(&packet[..102], &hwctl_wol::wire::magic_packet(mac)[..]);
/// assert_eq!(&packet[102..], &[1, 2, 3, 4]);
/// assert!(hwctl_wol::wire::magic_packet_with_password(mac, Some(&[1, 2, 3])).is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
/// `wol_secureon_password` when the password is not 4 or 6 bytes (its value is not
/// echoed).
pub fn magic_packet_with_password(mac: MacAddress, password: Option<&[u8]>) -> Result<MagicPacket> {
    let mut bytes = [0u8; MAX_PACKET_LEN];
    let mut len = PACKET_LEN;
    if let Some(pw) = password {
        check_secureon_len(pw.len())?;
        bytes[PACKET_LEN..PACKET_LEN + pw.len()].copy_from_slice(pw);
        len += pw.len();
    }
    write_magic_packet(mac, &mut bytes);
    Ok(MagicPacket {
        bytes,
        len: len as u8,
    })
}

fn check_secureon_len(len: usize) -> Result<()> {
    if len == 4 || len == 6 {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "wol_secureon_password",
            format!("a SecureOn password is 4 or 6 bytes, not {len}"),
        ))
    }
}

/// Parses a SecureOn password: 6 bytes in MAC notation (`01:02:03:04:05:06`,
/// dashes, dots or bare hex) or 4 bytes as a dotted quad (`192.168.1.1`) or 8 hex
/// digits (`01020304`).
///
/// The error never contains the text parsed.
///
/// ```
/// use hwctl_wol::wire::parse_secureon;
/// assert_eq!(parse_secureon("01:02:03:04:05:06").unwrap(), vec![1, 2, 3, 4, 5, 6]);
/// assert_eq!(parse_secureon("10.0.0.1").unwrap(), vec![10, 0, 0, 1]);
/// assert_eq!(parse_secureon("0a0b0c0d").unwrap(), vec![10, 11, 12, 13]);
/// assert!(parse_secureon("nope").is_err());
/// ```
///
/// # Errors
///
/// The reason, as text for [`hwctl_core::Validator::custom`], when `s` is none of the
/// three notations (the text parsed is not in it).
pub fn parse_secureon(s: &str) -> std::result::Result<Vec<u8>, String> {
    let t = s.trim();
    if let Ok(ip) = t.parse::<std::net::Ipv4Addr>() {
        return Ok(ip.octets().to_vec());
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut out = Vec::with_capacity(4);
        for i in 0..4 {
            let pair = t.get(2 * i..2 * i + 2).ok_or("is not hexadecimal")?;
            out.push(u8::from_str_radix(pair, 16).map_err(|_| "is not hexadecimal")?);
        }
        return Ok(out);
    }
    match t.parse::<MacAddress>() {
        Ok(mac) => Ok(mac.octets().to_vec()),
        Err(_) => Err("is not a SecureOn password (6 bytes as a MAC, e.g. 01:02:03:04:05:06, or 4 bytes as a dotted quad or 8 hex digits)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_repeat_is_the_mac() {
        let mac = MacAddress::new([1, 2, 3, 4, 5, 6]);
        let p = magic_packet(mac);
        assert!(p[..6].iter().all(|b| *b == 0xff));
        for rep in p[6..].chunks(6) {
            assert_eq!(rep, [1, 2, 3, 4, 5, 6]);
        }
    }

    #[test]
    fn six_byte_password_appended() {
        let mac = MacAddress::new([1, 2, 3, 4, 5, 6]);
        let p = magic_packet_with_password(mac, Some(&[9; 6])).unwrap();
        assert_eq!(p.len(), 108);
        assert_eq!(&p[102..], &[9; 6]);
        assert_eq!(&p[..102], &magic_packet(mac)[..]);
        assert_eq!(format!("{p:?}"), "MagicPacket(108 bytes)");
        let p = magic_packet_with_password(mac, None).unwrap();
        assert_eq!(&p[..], &magic_packet(mac)[..]);
        assert_eq!(
            magic_packet_with_password(mac, Some(&[9; 5]))
                .unwrap_err()
                .kind(),
            hwctl_core::ErrorKind::InvalidParameter
        );
    }

    #[test]
    fn secureon_error_does_not_echo() {
        let e = parse_secureon("topsecretvalue").unwrap_err();
        assert!(!e.contains("topsecret"));
    }
}
