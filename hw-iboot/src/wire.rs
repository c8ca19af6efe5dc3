//! DxP frames: the only place that knows iBoot bytes.
//!
//! Known from python-iboot (the library Ironic used; Dataprobe published no
//! specification): the client sends `hello-000`, reads a 2-byte little-endian
//! sequence number, answers with a 47-byte header (`<B21s21sBBH`: command, user,
//! password, descriptor, 0, sequence + 1) and a payload, and reads the reply.

use hwctl_core::{Error, ErrorKind, Result};

/// The greeting the client sends first (9 bytes, no terminator).
pub const HELLO: &[u8; 9] = b"hello-000";
/// Length of the device's answer to the greeting: its last sequence number.
pub const SEQUENCE_LEN: usize = 2;
/// Length of the request header.
pub const HEADER_LEN: usize = 47;
/// Width of the user and password fields (NUL-padded).
pub const CREDENTIAL_FIELD_LEN: usize = 21;
/// The longest user name or password that survives the field (python-iboot's
/// `21s` keeps 21 bytes, but a terminating NUL is needed for a C string device
/// side; longer values would be truncated on the wire).
pub const MAX_CREDENTIAL_LEN: usize = 20;

/// DxP command byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum Command {
    /// No command.
    Null = 0,
    /// Set a parameter.
    Set = 1,
    /// Get a parameter.
    Get = 2,
    /// Input/output: relays and inputs.
    Io = 3,
    /// Keep the session alive.
    KeepAlive = 4,
    /// RSS.
    Rss = 5,
    /// RCU.
    Rcu = 6,
}

/// DxP descriptor byte of an [`Command::Io`] request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum Descriptor {
    /// No descriptor.
    Null = 0,
    /// Change one relay: payload relay (1-based), state.
    ChangeRelay = 1,
    /// Change all relays (32 states; python-iboot says it does not work).
    ChangeRelays = 2,
    /// Read one relay.
    GetRelay = 3,
    /// Read every relay: one byte per relay in the reply.
    GetRelays = 4,
    /// Read one input.
    GetInput = 5,
    /// Read every input.
    GetInputs = 6,
    /// Pulse a relay: payload relay, state, width (u16).
    PulseRelay = 7,
}

/// The state byte of a relay change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RelayState {
    /// Open the relay (power off).
    Off = 0,
    /// Close the relay (power on).
    On = 1,
    /// Leave as it is.
    NoChange = 2,
}

/// The sequence number the client must send, from the device's 2-byte greeting
/// answer (little-endian: python-iboot unpacks it in native order on x86): the
/// device's value plus one, wrapping.
///
/// ```
/// assert_eq!(hwctl_iboot::wire::next_sequence([0x33, 0x12]), 0x1234);
/// assert_eq!(hwctl_iboot::wire::next_sequence([0xff, 0xff]), 0);
/// ```
pub fn next_sequence(reply: [u8; SEQUENCE_LEN]) -> u16 {
    u16::from_le_bytes(reply).wrapping_add(1)
}

fn credential_error(name: &'static str, value: &[u8], secret: bool) -> Option<Error> {
    if value.len() > MAX_CREDENTIAL_LEN {
        return Some(Error::invalid_parameter(
            name,
            format!(
                "is {} bytes; DxP carries at most {MAX_CREDENTIAL_LEN}",
                value.len()
            ),
        ));
    }
    if value.contains(&0) {
        let reason = if secret {
            "contains a NUL byte".to_owned()
        } else {
            format!("{:?} contains a NUL byte", String::from_utf8_lossy(value))
        };
        return Some(Error::invalid_parameter(name, reason));
    }
    None
}

/// Checks that a user name or password fits its DxP field (at most 20 bytes, no
/// NUL). The error names `name` and never contains a secret's value.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] naming `name` when the value is over
/// [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL byte.
pub fn check_credential(name: &'static str, value: &[u8], secret: bool) -> Result<()> {
    credential_error(name, value, secret).map_or(Ok(()), Err)
}

/// Length of the longest request: a CHANGE_RELAY header and its 2-byte payload.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + 2;

/// A request frame held inline (no heap): 47 bytes (GET_RELAYS) or 49
/// (CHANGE_RELAY), the exact bytes to write. Dereferences to them.
///
/// Its `Debug` shows the length only: the frame holds the password.
#[derive(Clone, Copy)]
pub struct Frame {
    bytes: [u8; MAX_FRAME_LEN],
    len: u8,
}

impl std::ops::Deref for Frame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({} bytes)", self.len)
    }
}

/// Whether `value` fits a credential field: at most [`MAX_CREDENTIAL_LEN`] bytes,
/// no NUL (one pass with no early exit, so short values cost a few instructions).
#[inline]
fn fits_field(value: &[u8]) -> bool {
    value.len() <= MAX_CREDENTIAL_LEN && value.iter().fold(true, |ok, b| ok & (*b != 0))
}

/// Writes the 47-byte header of a request into the first bytes of `out` (the
/// rest of `out` is left alone). The credentials are checked first; the
/// allocating error is built only when one does not fit.
#[inline]
fn write_header(
    out: &mut [u8; MAX_FRAME_LEN],
    command: Command,
    username: &[u8],
    password: &[u8],
    descriptor: Descriptor,
    sequence: u16,
) -> Result<()> {
    if !(fits_field(username) && fits_field(password)) {
        return Err(header_error(username, password));
    }
    out[0] = command as u8;
    out[1..1 + username.len()].copy_from_slice(username);
    let p = 1 + CREDENTIAL_FIELD_LEN;
    out[p..p + password.len()].copy_from_slice(password);
    let d = p + CREDENTIAL_FIELD_LEN;
    out[d] = descriptor as u8;
    // out[d + 1] stays 0 (python-iboot's pad byte).
    out[d + 2..d + 4].copy_from_slice(&sequence.to_le_bytes());
    Ok(())
}

/// The error for credentials that [`fits_field`] refused (user name first).
#[cold]
fn header_error(username: &[u8], password: &[u8]) -> Error {
    credential_error("iboot_username", username, false)
        .or_else(|| credential_error("iboot_password", password, true))
        .unwrap_or_else(|| Error::invalid_parameter("iboot_username", "does not fit DxP"))
}

/// Appends the 47-byte header of an IO request to `out` (reserving exactly the
/// 47 bytes it needs).
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] (naming `iboot_username` or `iboot_password`) when
/// a credential is over [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL byte.
pub fn encode_header(
    out: &mut Vec<u8>,
    command: Command,
    username: &[u8],
    password: &[u8],
    descriptor: Descriptor,
    sequence: u16,
) -> Result<()> {
    let mut h = [0u8; MAX_FRAME_LEN];
    write_header(&mut h, command, username, password, descriptor, sequence)?;
    out.extend_from_slice(&h[..HEADER_LEN]);
    Ok(())
}

/// Encodes a CHANGE_RELAY request (49 bytes, in a [`Frame`] on the stack):
/// relay 1-based.
///
/// ```
/// let frame = hwctl_iboot::wire::encode_change_relay(b"admin", b"fake", 1, 1, true).unwrap();
/// assert_eq!(frame.len(), 49);
/// assert_eq!(frame[0], 3);
/// assert_eq!(&frame[43..], &[1, 0, 1, 0, 1, 1]);
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] (naming `iboot_relay_id`, `iboot_username`
/// or `iboot_password`) when
/// relay is 0, or a credential is over [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL byte.
pub fn encode_change_relay(
    username: &[u8],
    password: &[u8],
    sequence: u16,
    relay: u8,
    on: bool,
) -> Result<Frame> {
    if relay == 0 {
        return Err(Error::invalid_parameter(
            "iboot_relay_id",
            "relays are numbered from 1",
        ));
    }
    let mut bytes = [0u8; MAX_FRAME_LEN];
    write_header(
        &mut bytes,
        Command::Io,
        username,
        password,
        Descriptor::ChangeRelay,
        sequence,
    )?;
    let state = if on { RelayState::On } else { RelayState::Off };
    bytes[HEADER_LEN] = relay;
    bytes[HEADER_LEN + 1] = state as u8;
    Ok(Frame {
        bytes,
        len: MAX_FRAME_LEN as u8,
    })
}

/// Encodes a GET_RELAYS request (47 bytes, no payload, in a [`Frame`] on the
/// stack).
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] (naming `iboot_username` or `iboot_password`) when
/// a credential is over [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL byte.
pub fn encode_get_relays(username: &[u8], password: &[u8], sequence: u16) -> Result<Frame> {
    let mut bytes = [0u8; MAX_FRAME_LEN];
    write_header(
        &mut bytes,
        Command::Io,
        username,
        password,
        Descriptor::GetRelays,
        sequence,
    )?;
    Ok(Frame {
        bytes,
        len: HEADER_LEN as u8,
    })
}

/// Decodes the 1-byte answer to CHANGE_RELAY: `0x00` means done (python-iboot
/// returns `not bool(byte)`), `0x01` means the device refused; anything else is
/// not DxP.
///
/// ```
/// use hwctl_iboot::wire::decode_change_relay_reply;
/// assert_eq!(decode_change_relay_reply(0).unwrap(), true);
/// assert_eq!(decode_change_relay_reply(1).unwrap(), false);
/// assert!(decode_change_relay_reply(0x45).is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::Protocol`] for a byte other than `0x00` or `0x01`.
pub fn decode_change_relay_reply(byte: u8) -> Result<bool> {
    match byte {
        0 => Ok(true),
        1 => Ok(false),
        other => Err(Error::protocol(format!(
            "the reply to CHANGE_RELAY is 0x{other:02x}, neither 0x00 (done) nor 0x01 (refused)"
        ))),
    }
}

/// The most relays a GET_RELAYS answer can report (the client asks for a `u8`
/// count).
pub const MAX_RELAYS: usize = 255;

/// The relay states of a GET_RELAYS answer, held inline (no heap): relay `n`
/// (1-based) is element `n - 1`, `true` = on. Dereferences to `[bool]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RelayStates {
    states: [bool; MAX_RELAYS],
    len: u8,
}

impl std::ops::Deref for RelayStates {
    type Target = [bool];
    fn deref(&self) -> &[bool] {
        &self.states[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for RelayStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Decodes the answer to GET_RELAYS: one byte per relay, `0x01` on, `0x00` off,
/// into [`RelayStates`] without allocating. Any other value is a protocol error
/// (python-iboot read it as off; this crate does not guess).
///
/// ```
/// use hwctl_iboot::wire::decode_relays;
/// assert_eq!(&decode_relays(&[1, 0, 1]).unwrap()[..], [true, false, true]);
/// assert_eq!(decode_relays(&[7]).unwrap_err().kind(), hwctl_core::ErrorKind::Protocol);
/// ```
///
/// # Errors
///
/// [`ErrorKind::Protocol`] naming the first relay whose byte is neither `0x00` nor
/// `0x01`, or for more than [`MAX_RELAYS`] bytes.
pub fn decode_relays(bytes: &[u8]) -> Result<RelayStates> {
    let mut out = RelayStates {
        states: [false; MAX_RELAYS],
        len: 0,
    };
    let Ok(len) = u8::try_from(bytes.len()) else {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "a GET_RELAYS answer of {} bytes: at most {MAX_RELAYS} relays",
                bytes.len()
            ),
        ));
    };
    // One pass with no branch per byte: OR every byte, check the OR once.
    let mut seen = 0u8;
    for (state, b) in out.states.iter_mut().zip(bytes) {
        seen |= *b;
        *state = *b == 1;
    }
    if seen > 1 {
        return Err(relay_byte_error(bytes));
    }
    out.len = len;
    Ok(out)
}

/// The error naming the first relay byte that is neither 0 nor 1.
#[cold]
fn relay_byte_error(bytes: &[u8]) -> Error {
    let (i, other) = bytes
        .iter()
        .enumerate()
        .find(|(_, b)| **b > 1)
        .map_or((0, 0), |(i, b)| (i, *b));
    Error::new(
        ErrorKind::Protocol,
        format!(
            "relay {} reads 0x{other:02x}, neither 0x00 (off) nor 0x01 (on)",
            i + 1
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn frames_are_built_in_one_exact_size_buffer() {
        let frame = encode_change_relay(b"admin", b"fake", 7, 2, false).unwrap();
        assert_eq!(frame.len(), HEADER_LEN + 2);
        assert_eq!(format!("{frame:?}"), "Frame(49 bytes)");
        let frame = encode_get_relays(&[b'u'; 20], &[b'p'; 20], 7).unwrap();
        assert_eq!(frame.len(), HEADER_LEN);
        let mut out = Vec::new();
        encode_header(&mut out, Command::Io, b"a", b"b", Descriptor::GetRelay, 1).unwrap();
        assert_eq!(out.len(), HEADER_LEN);
    }
}
