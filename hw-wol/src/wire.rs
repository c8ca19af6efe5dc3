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

/// The first 96 bytes of the magic packet for `mac` as twelve little-endian
/// 8-byte words, and the MAC as a word (its six octets, then two zero bytes).
///
/// From byte 6 on the packet repeats every 6 bytes, so word `k` (bytes `8k` to
/// `8k + 8`) starts at phase `(8k - 6) mod 6` of the MAC: words 1 to 11 start at
/// phases 2, 4, 0, 2, 4, 0, …, and word 0 is the stream followed by the MAC's
/// first two bytes. Only three distinct words follow the first, each two shifts
/// and an OR of one 48-bit value, built in registers (nothing written is read
/// back).
#[inline(always)]
fn packet_words(mac: MacAddress) -> ([u64; 12], u64) {
    let o = mac.octets();
    let m = u64::from_le_bytes([o[0], o[1], o[2], o[3], o[4], o[5], 0, 0]);
    let sync = (1u64 << 48) - 1;
    let phase0 = m | (m << 48);
    let phase2 = (m >> 16) | (m << 32);
    let phase4 = (m >> 32) | (m << 16);
    let words = [
        sync | (m << 48),
        phase2,
        phase4,
        phase0,
        phase2,
        phase4,
        phase0,
        phase2,
        phase4,
        phase0,
        phase2,
        phase4,
    ];
    (words, m)
}

/// Writes the 102-byte magic packet for `mac` into the first bytes of `out`
/// (the rest is left alone): the synchronisation stream, then the MAC sixteen
/// times, as twelve 8-byte stores and one 6-byte store.
///
/// ```
/// use hwctl_wol::wire::{PACKET_LEN, magic_packet, write_magic_packet};
/// let mac = hwctl_core::MacAddress::new([1, 2, 3, 4, 5, 6]);
/// let mut out = [0u8; PACKET_LEN];
/// write_magic_packet(mac, &mut out);
/// assert_eq!(out, magic_packet(mac));
/// assert_eq!(&out[..12], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6]);
/// ```
#[inline]
pub fn write_magic_packet<const N: usize>(mac: MacAddress, out: &mut [u8; N]) {
    const { assert!(N >= PACKET_LEN) };
    let (words, _) = packet_words(mac);
    for (k, word) in words.iter().enumerate() {
        out[8 * k..8 * k + 8].copy_from_slice(&word.to_le_bytes());
    }
    out[96..PACKET_LEN].copy_from_slice(&mac.octets());
}

/// Length of the longest magic packet: with a 6-byte SecureOn password.
pub const MAX_PACKET_LEN: usize = PACKET_LEN + 6;

/// A magic packet held inline (no heap): 102 bytes, or 106/108 with a SecureOn
/// password. Dereferences to the bytes to send.
///
/// Its `Debug` shows the length only: the bytes may hold a SecureOn password.
///
/// ```
/// use hwctl_wol::wire::{MagicPacket, magic_packet};
/// let mac = "52:54:00:cf:2d:31".parse().unwrap();
/// let packet = MagicPacket::new(mac);
/// assert_eq!(&packet[..], &magic_packet(mac)[..]);
/// let packet = MagicPacket::with_secureon(mac, &[1, 2, 3, 4]).unwrap();
/// assert_eq!((packet.len(), &packet[102..]), (106, &[1, 2, 3, 4][..]));
/// assert_eq!(format!("{packet:?}"), "MagicPacket(106 bytes)");
/// ```
#[derive(Clone, Copy)]
pub struct MagicPacket {
    bytes: [u8; MAX_PACKET_LEN],
    len: u8,
}

impl MagicPacket {
    /// A packet of no bytes, for [`write`](Self::write) and
    /// [`write_with_secureon`](Self::write_with_secureon) to fill.
    pub const EMPTY: MagicPacket = MagicPacket {
        bytes: [0; MAX_PACKET_LEN],
        len: 0,
    };

    /// The 102-byte packet for `mac`, without a password, by value:
    /// [`write`](Self::write) into a new packet.
    #[inline]
    pub fn new(mac: MacAddress) -> MagicPacket {
        let mut packet = MagicPacket::EMPTY;
        packet.write(mac);
        packet
    }

    /// Makes this the 102-byte packet for `mac`, without a password (any password
    /// bytes of a previous packet are zeroed): what the driver writes, into one
    /// packet on its stack, for each port MAC of a node with no SecureOn password.
    ///
    /// ```
    /// use hwctl_core::MacAddress;
    /// use hwctl_wol::wire::{MagicPacket, magic_packet};
    /// let mut packet = MagicPacket::EMPTY;
    /// for mac in [MacAddress::new([1, 2, 3, 4, 5, 6]), MacAddress::new([0xa; 6])] {
    ///     packet.write(mac);
    ///     assert_eq!(&packet[..], &magic_packet(mac)[..]);
    /// }
    /// ```
    #[inline]
    pub fn write(&mut self, mac: MacAddress) {
        // The last 16 bytes (from 92: the MAC from phase 2, then the MAC's last
        // two octets and six zero password bytes) as two more 8-byte stores of
        // words already in registers: fifteen stores in all. (Writing the MAC's
        // octets themselves let LLVM copy them from wherever the caller keeps
        // the MAC, with loads that straddle its stores.)
        let (words, m) = packet_words(mac);
        for (k, word) in words.iter().enumerate() {
            self.bytes[8 * k..8 * k + 8].copy_from_slice(&word.to_le_bytes());
        }
        self.bytes[92..100].copy_from_slice(&words[1].to_le_bytes());
        self.bytes[100..].copy_from_slice(&(m >> 32).to_le_bytes());
        self.len = PACKET_LEN as u8;
    }

    /// Makes this the packet for `mac` followed by a 4- or 6-byte SecureOn
    /// password (106 or 108 bytes).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter)
    /// naming `wol_secureon_password` when the password is not 4 or 6 bytes (its
    /// value is not echoed; the packet is then left as it was).
    pub fn write_with_secureon(&mut self, mac: MacAddress, password: &[u8]) -> Result<()> {
        check_secureon_len(password.len())?;
        self.write(mac);
        self.bytes[PACKET_LEN..PACKET_LEN + password.len()].copy_from_slice(password);
        self.len = (PACKET_LEN + password.len()) as u8;
        Ok(())
    }

    /// The packet for `mac` followed by a 4- or 6-byte SecureOn password (106 or
    /// 108 bytes), by value.
    ///
    /// # Errors
    ///
    /// As [`write_with_secureon`](Self::write_with_secureon).
    pub fn with_secureon(mac: MacAddress, password: &[u8]) -> Result<MagicPacket> {
        let mut packet = MagicPacket::EMPTY;
        packet.write_with_secureon(mac, password)?;
        Ok(packet)
    }
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
/// in a [`MagicPacket`] on the stack ([`MagicPacket::new`] or
/// [`MagicPacket::with_secureon`]).
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
    match password {
        None => Ok(MagicPacket::new(mac)),
        Some(pw) => MagicPacket::with_secureon(mac, pw),
    }
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
