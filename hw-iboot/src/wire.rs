//! DxP frames: the only place that knows iBoot bytes.
//!
//! Known from python-iboot (the library Ironic used; Dataprobe published no
//! specification): the client sends `hello-000`, reads a 2-byte little-endian
//! sequence number, answers with a 47-byte header (`<B21s21sBBH`: command, user,
//! password, descriptor, 0, sequence + 1) and a payload, and reads the reply.

use hwctl_core::{Error, ErrorKind, Result};

/// The greeting the client sends first (9 bytes, no terminator).
///
/// ```
/// assert_eq!(hwctl_iboot::wire::HELLO, b"hello-000");
/// ```
pub const HELLO: &[u8; 9] = b"hello-000";
/// Length of the device's answer to the greeting: its last sequence number.
///
/// ```
/// use hwctl_iboot::wire::{SEQUENCE_LEN, next_sequence};
/// let answer: [u8; SEQUENCE_LEN] = [0x02, 0x01]; // little-endian 0x0102
/// assert_eq!(next_sequence(answer), 0x0103);
/// ```
pub const SEQUENCE_LEN: usize = 2;
/// Length of the request header (`<B21s21sBBH`: 1 + 21 + 21 + 1 + 1 + 2 bytes).
///
/// ```
/// use hwctl_iboot::wire::{CREDENTIAL_FIELD_LEN, HEADER_LEN};
/// assert_eq!(HEADER_LEN, 1 + 2 * CREDENTIAL_FIELD_LEN + 1 + 1 + 2);
/// ```
pub const HEADER_LEN: usize = 47;
/// Width of the user and password fields (NUL-padded).
///
/// ```
/// use hwctl_iboot::wire::{CREDENTIAL_FIELD_LEN, encode_get_relays};
/// let frame = encode_get_relays(b"admin", b"pw", 7).unwrap();
/// // The user field follows the command byte, padded with NULs to 21 bytes.
/// assert_eq!(&frame[1..6], b"admin");
/// assert!(frame[6..1 + CREDENTIAL_FIELD_LEN].iter().all(|b| *b == 0));
/// assert_eq!(&frame[1 + CREDENTIAL_FIELD_LEN..][..2], b"pw");
/// ```
pub const CREDENTIAL_FIELD_LEN: usize = 21;
/// The longest user name or password that survives the field (python-iboot's
/// `21s` keeps 21 bytes, but a terminating NUL is needed for a C string device
/// side; longer values would be truncated on the wire).
///
/// ```
/// use hwctl_iboot::wire::{MAX_CREDENTIAL_LEN, check_credential};
/// assert!(check_credential("iboot_username", &[b'u'; MAX_CREDENTIAL_LEN], false).is_ok());
/// assert!(check_credential("iboot_username", &[b'u'; MAX_CREDENTIAL_LEN + 1], false).is_err());
/// ```
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
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_iboot::wire::check_credential;
/// assert!(check_credential("iboot_password", b"s3cret", true).is_ok());
/// let err = check_credential("iboot_password", b"s3c\0ret", true).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
/// assert_eq!(err.problems()[0].name, "iboot_password");
/// // A secret's value is never in the message.
/// assert!(!err.to_string().contains("s3c"));
/// ```
pub fn check_credential(name: &'static str, value: &[u8], secret: bool) -> Result<()> {
    credential_error(name, value, secret).map_or(Ok(()), Err)
}

/// Length of the longest request: a CHANGE_RELAY header and its 2-byte payload.
///
/// ```
/// use hwctl_iboot::wire::{HEADER_LEN, MAX_FRAME_LEN, encode_change_relay};
/// let frame = encode_change_relay(b"admin", b"pw", 9, 3, true).unwrap();
/// assert_eq!(frame.len(), MAX_FRAME_LEN);
/// assert_eq!(MAX_FRAME_LEN, HEADER_LEN + 2);
/// ```
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

impl Frame {
    /// A frame of no bytes, for [`RequestTemplate::write_change_relay`] and
    /// [`RequestTemplate::write_get_relays`] to fill.
    ///
    /// ```
    /// assert!(hwctl_iboot::wire::Frame::EMPTY.is_empty());
    /// ```
    pub const EMPTY: Frame = Frame {
        bytes: [0; MAX_FRAME_LEN],
        len: 0,
    };
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

/// The error for credentials that do not fit their fields (user name first).
#[cold]
#[inline(never)]
fn header_error(username: &[u8], password: &[u8]) -> Error {
    credential_error("iboot_username", username, false)
        .or_else(|| credential_error("iboot_password", password, true))
        .unwrap_or_else(|| Error::invalid_parameter("iboot_username", "does not fit DxP"))
}

/// A credential as its NUL-padded field, read in registers: bytes 0..16 and
/// 16..20 of the field as little-endian numbers (byte 20 is always the NUL);
/// `None` when the value is over [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL.
///
/// The value is read with at most two loads of a fixed width (overlapping when
/// the length is not a multiple of it), never copied byte by byte into memory and
/// read back: a variable-length copy into a buffer then read as words stalls on
/// store forwarding, which was most of the per-call encoders' time. The NUL test
/// runs on the same words, with the bytes past the value set to `0xff`.
#[inline(always)]
fn field(value: &[u8]) -> Option<(u128, u32)> {
    #[inline(always)]
    fn le128(b: &[u8]) -> u128 {
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[..16]);
        u128::from_le_bytes(a)
    }
    #[inline(always)]
    fn le64(b: &[u8]) -> u128 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u128::from(u64::from_le_bytes(a))
    }
    #[inline(always)]
    fn le32(b: &[u8]) -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[..4]);
        u32::from_le_bytes(a)
    }
    let n = value.len();
    let (lo, hi) = match n {
        16..=MAX_CREDENTIAL_LEN => {
            let tail = le32(&value[n - 4..]).checked_shr(8 * (20 - n) as u32);
            (le128(value), tail.unwrap_or(0))
        }
        8..16 => (le64(value) | (le64(&value[n - 8..]) << (8 * (n - 8))), 0),
        4..8 => {
            let w = u128::from(le32(value)) | (u128::from(le32(&value[n - 4..])) << (8 * (n - 4)));
            (w, 0)
        }
        1..4 => {
            let w = u128::from(value[0])
                | (u128::from(value[n / 2]) << (8 * (n / 2)))
                | (u128::from(value[n - 1]) << (8 * (n - 1)));
            (w, 0)
        }
        0 => (0, 0),
        _ => return None,
    };
    // Bytes past the value read 0xff, so only the value's own bytes can be 0.
    let pad_lo = u128::MAX.checked_shl(8 * n as u32).unwrap_or(0);
    let pad_hi = u32::MAX
        .checked_shl(8 * n.saturating_sub(16) as u32)
        .unwrap_or(0);
    let (x, y) = (lo | pad_lo, hi | pad_hi);
    const ONES: u128 = u128::MAX / 0xff;
    let zero_lo = x.wrapping_sub(ONES) & !x & (ONES << 7);
    let zero_hi = y.wrapping_sub(ONES as u32) & !y & ((ONES as u32) << 7);
    (zero_lo | u128::from(zero_hi) == 0).then_some((lo, hi))
}

/// The first 48 bytes of an IO request for these credentials, as three
/// little-endian words (bytes 0..16, 16..32, 32..48), with the descriptor, pad,
/// sequence and relay bytes (43..48) 0; `None` when a credential does not fit.
#[inline(always)]
fn header_words(username: &[u8], password: &[u8]) -> Option<[u128; 3]> {
    let (u, u_hi) = field(username)?;
    let (p, p_hi) = field(password)?;
    // Command at byte 0, user name at 1..22, password at 22..43.
    Some([
        u128::from(Command::Io as u8) | (u << 8),
        (u >> 120) | (u128::from(u_hi) << 8) | (p << 48),
        (p >> 80) | (u128::from(p_hi) << 48),
    ])
}

/// Offset of the descriptor byte in the header.
const DESCRIPTOR_AT: usize = 1 + 2 * CREDENTIAL_FIELD_LEN;
/// Offset of the little-endian sequence number in the header.
const SEQUENCE_AT: usize = DESCRIPTOR_AT + 2;

/// The request frames of one set of credentials, laid out once: the command byte
/// ([`Command::Io`]) and the NUL-padded user name and password of the 47-byte
/// header, checked when the template is made. Each request is then a copy of the
/// template with its descriptor, sequence number and payload written in
/// ([`write_change_relay`](Self::write_change_relay),
/// [`write_get_relays`](Self::write_get_relays), or by value
/// [`change_relay`](Self::change_relay), [`get_relays`](Self::get_relays)): no
/// credential is checked or copied byte by byte per request.
///
/// [`IbootClient`](crate::IbootClient) makes one per client, when it is made, and
/// writes every request from it into a [`Frame`] on its stack.
///
/// Its `Debug` shows nothing of the credentials (the template holds the password).
///
/// ```
/// use hwctl_iboot::wire::{Frame, RequestTemplate, encode_change_relay};
/// let template = RequestTemplate::new(b"admin", b"fake").unwrap();
/// let frame = template.change_relay(0x1234, 3, true).unwrap();
/// assert_eq!(&frame[..], &encode_change_relay(b"admin", b"fake", 0x1234, 3, true).unwrap()[..]);
/// assert_eq!(&frame[43..], &[1, 0, 0x34, 0x12, 3, 1]);
///
/// let mut frame = Frame::EMPTY;
/// template.write_get_relays(&mut frame, 7);
/// assert_eq!((frame.len(), frame[43], frame[45]), (47, 4, 7));
/// assert_eq!(format!("{template:?}"), "RequestTemplate(..)");
/// assert!(RequestTemplate::new(b"admin", &[b'p'; 21]).is_err());
/// ```
#[derive(Clone)]
pub struct RequestTemplate {
    /// Bytes 0..32 of every request: command, user name, start of the password.
    head: [u8; 32],
    /// Bytes 32..48, little-endian: the rest of the password; descriptor, pad and
    /// sequence (bytes 43..47) and the CHANGE_RELAY relay (byte 47) are 0, and
    /// are ORed in per request, in a register, so each 16 bytes are one store.
    tail: u128,
}

impl std::fmt::Debug for RequestTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestTemplate(..)")
    }
}

/// Bit offset, in [`RequestTemplate::tail`], of header byte `at`.
const fn tail_shift(at: usize) -> u32 {
    8 * (at as u32 - 32)
}

impl RequestTemplate {
    /// Checks `username` and `password` and lays them out in a request header.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] (naming `iboot_username` or `iboot_password`;
    /// the password's value is never in it) when a credential is over
    /// [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL byte.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_iboot::wire::{RequestTemplate, encode_get_relays};
    /// let template = RequestTemplate::new(b"admin", b"pw")?;
    /// // Made once, it writes what the per-call encoder writes.
    /// assert_eq!(&*template.get_relays(5), &*encode_get_relays(b"admin", b"pw", 5)?);
    /// let err = RequestTemplate::new(b"admin", &[b'p'; 21]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn new(username: &[u8], password: &[u8]) -> Result<Self> {
        let Some([h0, h1, tail]) = header_words(username, password) else {
            return Err(header_error(username, password));
        };
        let mut head = [0u8; 32];
        head[..16].copy_from_slice(&h0.to_le_bytes());
        head[16..].copy_from_slice(&h1.to_le_bytes());
        Ok(RequestTemplate { head, tail })
    }

    /// Writes the 48 bytes of a request into `out`: the template, with `fields`
    /// (descriptor, sequence, relay, already shifted) ORed into bytes 32..48.
    #[inline]
    fn write(&self, out: &mut Frame, fields: u128, last: u8, len: usize) {
        out.bytes[..32].copy_from_slice(&self.head);
        out.bytes[32..48].copy_from_slice(&(self.tail | fields).to_le_bytes());
        out.bytes[48] = last;
        out.len = len as u8;
    }

    /// The descriptor and sequence number, shifted into place in the tail.
    #[inline]
    fn header_fields(descriptor: Descriptor, sequence: u16) -> u128 {
        (u128::from(descriptor as u8) << tail_shift(DESCRIPTOR_AT))
            | (u128::from(sequence) << tail_shift(SEQUENCE_AT))
    }

    /// Writes a CHANGE_RELAY request (49 bytes) into `out`, replacing what it
    /// held: `relay` (1-based) switched on or off.
    ///
    /// # Errors
    ///
    /// [`WireError::RelayZero`] when `relay` is 0 (`out` is then left as it was).
    ///
    /// ```
    /// use hwctl_iboot::wire::{Frame, RequestTemplate, WireError};
    /// let template = RequestTemplate::new(b"admin", b"pw")?;
    /// let mut frame = Frame::EMPTY; // one frame reused for every request
    /// template.write_change_relay(&mut frame, 0x0102, 4, true).unwrap();
    /// assert_eq!(frame.len(), 49);
    /// // descriptor 1 (change relay), pad, sequence 0x0102 little-endian, relay 4, on.
    /// assert_eq!(&frame[43..], &[1, 0, 0x02, 0x01, 4, 1]);
    /// assert_eq!(template.write_change_relay(&mut frame, 1, 0, true), Err(WireError::RelayZero));
    /// assert_eq!(frame[47], 4); // left as it was
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    #[inline]
    pub fn write_change_relay(
        &self,
        out: &mut Frame,
        sequence: u16,
        relay: u8,
        on: bool,
    ) -> std::result::Result<(), WireError> {
        if relay == 0 {
            return Err(WireError::RelayZero);
        }
        let fields = Self::header_fields(Descriptor::ChangeRelay, sequence)
            | (u128::from(relay) << tail_shift(HEADER_LEN));
        let state = if on { RelayState::On } else { RelayState::Off };
        self.write(out, fields, state as u8, MAX_FRAME_LEN);
        Ok(())
    }

    /// Writes a GET_RELAYS request (47 bytes, no payload) into `out`, replacing
    /// what it held.
    ///
    /// ```
    /// use hwctl_iboot::wire::{Frame, RequestTemplate};
    /// let template = RequestTemplate::new(b"admin", b"pw")?;
    /// let mut frame = Frame::EMPTY;
    /// template.write_change_relay(&mut frame, 1, 2, false).unwrap();
    /// template.write_get_relays(&mut frame, 0x0304);
    /// assert_eq!(frame.len(), 47);
    /// assert_eq!((frame[43], frame[45], frame[46]), (4, 0x04, 0x03));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    #[inline]
    pub fn write_get_relays(&self, out: &mut Frame, sequence: u16) {
        let fields = Self::header_fields(Descriptor::GetRelays, sequence);
        self.write(out, fields, 0, HEADER_LEN);
    }

    /// A CHANGE_RELAY request (49 bytes) by value: [`write_change_relay`](Self::write_change_relay)
    /// into a new frame.
    ///
    /// # Errors
    ///
    /// [`WireError::RelayZero`] when `relay` is 0.
    ///
    /// ```
    /// use hwctl_iboot::wire::{RequestTemplate, encode_change_relay};
    /// let template = RequestTemplate::new(b"admin", b"pw")?;
    /// let frame = template.change_relay(9, 3, true).unwrap();
    /// assert_eq!(&*frame, &*encode_change_relay(b"admin", b"pw", 9, 3, true)?);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    #[inline]
    pub fn change_relay(
        &self,
        sequence: u16,
        relay: u8,
        on: bool,
    ) -> std::result::Result<Frame, WireError> {
        let mut frame = Frame::EMPTY;
        self.write_change_relay(&mut frame, sequence, relay, on)?;
        Ok(frame)
    }

    /// A GET_RELAYS request (47 bytes) by value: [`write_get_relays`](Self::write_get_relays)
    /// into a new frame.
    ///
    /// ```
    /// let template = hwctl_iboot::wire::RequestTemplate::new(b"admin", b"pw")?;
    /// let frame = template.get_relays(0xffff);
    /// assert_eq!((frame.len(), frame[0], frame[45], frame[46]), (47, 3, 0xff, 0xff));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    #[inline]
    pub fn get_relays(&self, sequence: u16) -> Frame {
        let mut frame = Frame::EMPTY;
        self.write_get_relays(&mut frame, sequence);
        frame
    }

    /// A request header (47 bytes) with any command and descriptor, for the
    /// requests that have no method of their own.
    fn header(&self, command: Command, descriptor: Descriptor, sequence: u16) -> Frame {
        let mut frame = Frame::EMPTY;
        self.write(
            &mut frame,
            Self::header_fields(descriptor, sequence),
            0,
            HEADER_LEN,
        );
        frame.bytes[0] = command as u8;
        frame
    }
}

/// Appends the 47-byte header of an IO request to `out` (reserving exactly the
/// 47 bytes it needs).
///
/// ```
/// use hwctl_iboot::wire::{Command, Descriptor, encode_header};
/// let mut out = Vec::new();
/// encode_header(&mut out, Command::Io, b"admin", b"fake", Descriptor::GetRelay, 0x0102).unwrap();
/// assert_eq!(out.len(), 47);
/// assert_eq!((out[0], out[43], out[45], out[46]), (3, 3, 0x02, 0x01));
/// ```
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
    let frame = RequestTemplate::new(username, password)?.header(command, descriptor, sequence);
    out.extend_from_slice(&frame);
    Ok(())
}

/// Encodes a CHANGE_RELAY request (49 bytes, in a [`Frame`] on the stack):
/// relay 1-based. The credentials are checked and laid out on every call; a
/// client sending many requests makes a [`RequestTemplate`] once instead.
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
#[inline]
pub fn encode_change_relay(
    username: &[u8],
    password: &[u8],
    sequence: u16,
    relay: u8,
    on: bool,
) -> Result<Frame> {
    let mut frame = Frame::EMPTY;
    encode_change_relay_into(&mut frame, username, password, sequence, relay, on)?;
    Ok(frame)
}

/// [`encode_change_relay`] into a frame the caller holds, replacing what it held
/// (left as it was on an error): the credentials are still checked and laid out
/// on this call, but the frame is written where it will be read, with no copy
/// out of a returned `Result` (a copy that re-reads the fresh stores as wider
/// words, which costs more than the encoding).
///
/// ```
/// use hwctl_iboot::wire::{Frame, encode_change_relay, encode_change_relay_into};
/// let mut frame = Frame::EMPTY;
/// encode_change_relay_into(&mut frame, b"admin", b"fake", 7, 2, false)?;
/// assert_eq!(&*frame, &*encode_change_relay(b"admin", b"fake", 7, 2, false)?);
/// assert!(encode_change_relay_into(&mut frame, b"admin", b"fake", 7, 0, false).is_err());
/// assert_eq!(frame[47], 2); // left as it was
/// # Ok::<(), hwctl_core::Error>(())
/// ```
///
/// # Errors
///
/// As [`encode_change_relay`].
#[inline]
pub fn encode_change_relay_into(
    out: &mut Frame,
    username: &[u8],
    password: &[u8],
    sequence: u16,
    relay: u8,
    on: bool,
) -> Result<()> {
    match header_words(username, password) {
        Some(words) if relay != 0 => {
            let fields = RequestTemplate::header_fields(Descriptor::ChangeRelay, sequence)
                | (u128::from(relay) << tail_shift(HEADER_LEN));
            let state = if on { RelayState::On } else { RelayState::Off };
            write_frame(out, words, fields, state as u8, MAX_FRAME_LEN);
            Ok(())
        }
        _ => Err(change_relay_error(username, password, relay)),
    }
}

/// Writes the header words of [`header_words`] into `out`, with `fields` ORed
/// into bytes 32..48 and `last` as byte 48: three 16-byte stores and one byte.
#[inline(always)]
fn write_frame(out: &mut Frame, [h0, h1, h2]: [u128; 3], fields: u128, last: u8, len: usize) {
    out.bytes[..16].copy_from_slice(&h0.to_le_bytes());
    out.bytes[16..32].copy_from_slice(&h1.to_le_bytes());
    out.bytes[32..48].copy_from_slice(&(h2 | fields).to_le_bytes());
    out.bytes[48] = last;
    out.len = len as u8;
}

/// The error of [`encode_change_relay`]: relay 0 first, then the credentials.
#[cold]
#[inline(never)]
fn change_relay_error(username: &[u8], password: &[u8], relay: u8) -> Error {
    if relay == 0 {
        WireError::RelayZero.into()
    } else {
        header_error(username, password)
    }
}

/// Encodes a GET_RELAYS request (47 bytes, no payload, in a [`Frame`] on the
/// stack). The credentials are checked and laid out on every call; a client
/// sending many requests makes a [`RequestTemplate`] once instead.
///
/// ```
/// let frame = hwctl_iboot::wire::encode_get_relays(b"admin", b"fake", 0x1234).unwrap();
/// assert_eq!(frame.len(), 47);
/// assert_eq!((frame[43], frame[45], frame[46]), (4, 0x34, 0x12));
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] (naming `iboot_username` or `iboot_password`) when
/// a credential is over [`MAX_CREDENTIAL_LEN`] bytes or holds a NUL byte.
#[inline]
pub fn encode_get_relays(username: &[u8], password: &[u8], sequence: u16) -> Result<Frame> {
    let mut frame = Frame::EMPTY;
    encode_get_relays_into(&mut frame, username, password, sequence)?;
    Ok(frame)
}

/// [`encode_get_relays`] into a frame the caller holds, replacing what it held
/// (left as it was on an error); see [`encode_change_relay_into`].
///
/// ```
/// use hwctl_iboot::wire::{Frame, encode_get_relays, encode_get_relays_into};
/// let mut frame = Frame::EMPTY;
/// encode_get_relays_into(&mut frame, b"admin", b"fake", 0x1234)?;
/// assert_eq!(&*frame, &*encode_get_relays(b"admin", b"fake", 0x1234)?);
/// assert!(encode_get_relays_into(&mut frame, b"admin", &[b'p'; 21], 1).is_err());
/// assert_eq!(frame.len(), 47); // left as it was
/// # Ok::<(), hwctl_core::Error>(())
/// ```
///
/// # Errors
///
/// As [`encode_get_relays`].
#[inline]
pub fn encode_get_relays_into(
    out: &mut Frame,
    username: &[u8],
    password: &[u8],
    sequence: u16,
) -> Result<()> {
    match header_words(username, password) {
        Some(words) => {
            let fields = RequestTemplate::header_fields(Descriptor::GetRelays, sequence);
            write_frame(out, words, fields, 0, HEADER_LEN);
            Ok(())
        }
        None => Err(header_error(username, password)),
    }
}

/// What the codec refused, as a small value (a couple of bytes, no heap): the
/// per-request functions return it so that their results stay small; it becomes
/// a [`hwctl_core::Error`] of [`kind`](Self::kind) through `From` (`?`).
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_iboot::wire::{WireError, decode_relays};
/// let e = decode_relays(&[1, 0, 7]).unwrap_err();
/// assert_eq!(e, WireError::RelayByte { relay: 3, byte: 7 });
/// assert_eq!(e.kind(), ErrorKind::Protocol);
/// let e: hwctl_core::Error = e.into();
/// assert_eq!(e.message(), "relay 3 reads 0x07, neither 0x00 (off) nor 0x01 (on)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// CHANGE_RELAY for relay 0 (relays are numbered from 1).
    RelayZero,
    /// A GET_RELAYS answer longer than [`MAX_RELAYS`] bytes (its length).
    TooManyRelays(usize),
    /// A GET_RELAYS answer byte neither `0x00` nor `0x01`: the first such relay
    /// (1-based) and its byte.
    RelayByte {
        /// The relay, 1-based.
        relay: u8,
        /// What the PDU sent for it.
        byte: u8,
    },
    /// A CHANGE_RELAY answer neither `0x00` (done) nor `0x01` (refused).
    ChangeRelayReply(u8),
}

impl WireError {
    /// The kind of the [`hwctl_core::Error`] it becomes:
    /// [`ErrorKind::InvalidParameter`] for [`RelayZero`](Self::RelayZero) (the
    /// caller's input), [`ErrorKind::Protocol`] for the others (the device's).
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_iboot::wire::{WireError, decode_change_relay_reply};
    /// let err = decode_change_relay_reply(7).unwrap_err();
    /// assert_eq!(err, WireError::ChangeRelayReply(7));
    /// assert_eq!(err.kind(), ErrorKind::Protocol);
    /// assert_eq!(WireError::RelayZero.kind(), ErrorKind::InvalidParameter);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            WireError::RelayZero => ErrorKind::InvalidParameter,
            _ => ErrorKind::Protocol,
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::RelayZero => f.write_str("relays are numbered from 1"),
            WireError::TooManyRelays(n) => write!(
                f,
                "a GET_RELAYS answer of {n} bytes: at most {MAX_RELAYS} relays"
            ),
            WireError::RelayByte { relay, byte } => write!(
                f,
                "relay {relay} reads 0x{byte:02x}, neither 0x00 (off) nor 0x01 (on)"
            ),
            WireError::ChangeRelayReply(b) => write!(
                f,
                "the reply to CHANGE_RELAY is 0x{b:02x}, neither 0x00 (done) nor 0x01 (refused)"
            ),
        }
    }
}

impl std::error::Error for WireError {}

impl From<WireError> for Error {
    #[cold]
    fn from(e: WireError) -> Error {
        match e {
            WireError::RelayZero => Error::invalid_parameter("iboot_relay_id", e.to_string()),
            _ => Error::new(e.kind(), e.to_string()),
        }
    }
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
/// [`WireError::ChangeRelayReply`] (kind [`ErrorKind::Protocol`]) for a byte other
/// than `0x00` or `0x01`.
#[inline]
pub fn decode_change_relay_reply(byte: u8) -> std::result::Result<bool, WireError> {
    match byte {
        0 => Ok(true),
        1 => Ok(false),
        other => Err(WireError::ChangeRelayReply(other)),
    }
}

/// The most relays a GET_RELAYS answer can report (the client asks for a `u8`
/// count).
///
/// ```
/// use hwctl_iboot::wire::{MAX_RELAYS, decode_relays};
/// assert_eq!(decode_relays(&[1u8; MAX_RELAYS]).unwrap().len(), MAX_RELAYS);
/// assert!(decode_relays(&[1u8; MAX_RELAYS + 1]).is_err());
/// ```
pub const MAX_RELAYS: usize = 255;

/// The relay states of a GET_RELAYS answer, held inline (no heap) as one bit per
/// relay: relay `n` (1-based) is [`relay(n)`](Self::relay), or index `n - 1` of
/// [`get`](Self::get) and [`iter`](Self::iter); `true` = on.
///
/// ```
/// let states = hwctl_iboot::wire::decode_relays(&[1, 0, 1]).unwrap();
/// assert_eq!(states.len(), 3);
/// assert_eq!(states.relay(1), Some(true));
/// assert_eq!(states.get(1), Some(false));
/// assert_eq!(states.relay(4), None);
/// assert_eq!(states.iter().collect::<Vec<_>>(), [true, false, true]);
/// assert_eq!(format!("{states:?}"), "[true, false, true]");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RelayStates {
    /// Bit `i % 64` of word `i / 64` is index `i`; bits past `len` are 0.
    bits: [u64; 4],
    len: u8,
}

impl RelayStates {
    /// How many relays the answer reported.
    /// ```
    /// let states = hwctl_iboot::wire::decode_relays(&[0, 1, 1])?;
    /// assert_eq!(states.len(), 3);
    /// # Ok::<(), hwctl_iboot::wire::WireError>(())
    /// ```
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the answer reported no relay.
    ///
    /// ```
    /// assert!(hwctl_iboot::wire::decode_relays(&[]).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The state at `index` (0-based: relay `index + 1`), `None` past the end.
    /// ```
    /// let states = hwctl_iboot::wire::decode_relays(&[0, 1])?;
    /// assert_eq!((states.get(0), states.get(1), states.get(2)), (Some(false), Some(true), None));
    /// # Ok::<(), hwctl_iboot::wire::WireError>(())
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Option<bool> {
        (index < self.len()).then(|| self.bits[(index / 64) & 3] >> (index % 64) & 1 == 1)
    }

    /// The state of relay `number` (1-based, as DxP numbers them), `None` for 0 or
    /// past the end.
    /// ```
    /// let states = hwctl_iboot::wire::decode_relays(&[0, 1])?;
    /// assert_eq!((states.relay(0), states.relay(2), states.relay(3)), (None, Some(true), None));
    /// # Ok::<(), hwctl_iboot::wire::WireError>(())
    /// ```
    #[inline]
    pub fn relay(&self, number: u8) -> Option<bool> {
        usize::from(number).checked_sub(1).and_then(|i| self.get(i))
    }

    /// The states in relay order (relay 1 first).
    /// ```
    /// let bytes: Vec<u8> = (0..70).map(|i| u8::from(i % 3 == 0)).collect();
    /// let states = hwctl_iboot::wire::decode_relays(&bytes)?;
    /// assert!(states.iter().eq(bytes.iter().map(|&b| b == 1)));
    /// # Ok::<(), hwctl_iboot::wire::WireError>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = bool> + '_ {
        (0..self.len()).map(|i| self.bits[(i / 64) & 3] >> (i % 64) & 1 == 1)
    }
}

impl std::fmt::Debug for RelayStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Packs eight relay bytes, each `0x00` or `0x01`, read as a little-endian word
/// into eight bits (byte `i` → bit `i`): the multiplier adds byte `i` shifted so
/// that it lands on bit `56 + i`, and no two partial products meet on one bit
/// (so no carry disturbs the top byte).
#[inline]
fn pack8(word: u64) -> u64 {
    word.wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Every byte's bits other than the lowest: set in a word means some byte was
/// neither 0 nor 1.
const NOT_0_OR_1: u64 = 0xfefe_fefe_fefe_fefe;

/// Decodes the answer to GET_RELAYS: one byte per relay, `0x01` on, `0x00` off,
/// into [`RelayStates`] without allocating (eight bytes at a time, one check for
/// the whole answer). Any other value is a protocol error (python-iboot read it as
/// off; this crate does not guess).
///
/// ```
/// use hwctl_iboot::wire::decode_relays;
/// assert_eq!(decode_relays(&[1, 0, 1]).unwrap().iter().collect::<Vec<_>>(), [true, false, true]);
/// assert_eq!(decode_relays(&[7]).unwrap_err().kind(), hwctl_core::ErrorKind::Protocol);
/// ```
///
/// # Errors
///
/// [`WireError::RelayByte`] naming the first relay whose byte is neither `0x00`
/// nor `0x01`, or [`WireError::TooManyRelays`] for more than [`MAX_RELAYS`] bytes
/// (both of kind [`ErrorKind::Protocol`]).
#[inline]
pub fn decode_relays(bytes: &[u8]) -> std::result::Result<RelayStates, WireError> {
    let Ok(len) = u8::try_from(bytes.len()) else {
        return Err(WireError::TooManyRelays(bytes.len()));
    };
    let mut out = RelayStates { bits: [0; 4], len };
    let mut not_state = 0u64;
    // Eight relays per load; 64 per word, built in a register and stored once.
    let mut acc = 0u64;
    let mut chunks = bytes.chunks_exact(8);
    for (i, chunk) in (&mut chunks).enumerate() {
        let mut le = [0u8; 8];
        le.copy_from_slice(chunk);
        let word = u64::from_le_bytes(le);
        not_state |= word & NOT_0_OR_1;
        acc |= pack8(word) << (8 * (i & 7));
        if i & 7 == 7 {
            out.bits[(i >> 3) & 3] = acc;
            acc = 0;
        }
    }
    let full = bytes.len() / 8;
    let word = chunks
        .remainder()
        .iter()
        .rev()
        .fold(0u64, |word, b| (word << 8) | u64::from(*b));
    not_state |= word & NOT_0_OR_1;
    acc |= pack8(word) << (8 * (full & 7));
    // The word in progress (`full` < 32: at most 255 bytes); 0 when none is.
    out.bits[(full >> 3) & 3] = acc;
    if not_state != 0 {
        return Err(relay_byte_error(bytes));
    }
    Ok(out)
}

/// The error naming the first relay byte that is neither 0 nor 1.
#[cold]
fn relay_byte_error(bytes: &[u8]) -> WireError {
    let (i, byte) = bytes
        .iter()
        .enumerate()
        .find(|(_, b)| **b > 1)
        .map_or((0, 0), |(i, b)| (i, *b));
    WireError::RelayByte {
        relay: (i + 1) as u8,
        byte,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The header laid out one byte at a time into a NUL-padded buffer, as the
    /// encoders did before they read credentials as words: the oracle for them.
    fn bytewise(user: &[u8], pass: &[u8], descriptor: u8, seq: u16) -> Option<Vec<u8>> {
        let fits = |v: &[u8]| v.len() <= MAX_CREDENTIAL_LEN && !v.contains(&0);
        if !fits(user) || !fits(pass) {
            return None;
        }
        let mut out = vec![Command::Io as u8];
        for v in [user, pass] {
            let mut f = [0u8; CREDENTIAL_FIELD_LEN];
            f[..v.len()].copy_from_slice(v);
            out.extend_from_slice(&f);
        }
        out.extend_from_slice(&[descriptor, 0]);
        out.extend_from_slice(&seq.to_le_bytes());
        Some(out)
    }

    /// Every credential length from 0 to past the limit, each with a NUL at
    /// every position (or none), bytes with the top bit set or clear, as user
    /// name and as password: the word-at-a-time layout writes the bytewise
    /// header, and refuses exactly what it refuses.
    #[test]
    fn credentials_read_as_words_lay_out_as_bytewise() {
        let mut frames = 0;
        for len in 0..=MAX_CREDENTIAL_LEN + 3 {
            for nul in (0..len).map(Some).chain([None]) {
                for fill in [0x01u8, 0x7f, 0x80, 0xff] {
                    let v: Vec<u8> = (0..len)
                        .map(|i| {
                            if Some(i) == nul {
                                0
                            } else {
                                fill ^ (i as u8 & 0x3f)
                            }
                        })
                        .collect();
                    for (user, pass) in [(&v[..], &b"pw"[..]), (&b"admin"[..], &v[..]), (&v, &v)] {
                        let want = bytewise(user, pass, Descriptor::GetRelays as u8, 0x1234);
                        let got = encode_get_relays(user, pass, 0x1234).ok();
                        assert_eq!(got.as_deref(), want.as_deref(), "{user:?} {pass:?}");
                        let want = want.map(|mut w| {
                            w[43] = Descriptor::ChangeRelay as u8;
                            w.extend_from_slice(&[9, 1]);
                            w
                        });
                        let got = encode_change_relay(user, pass, 0x1234, 9, true).ok();
                        assert_eq!(got.as_deref(), want.as_deref(), "{user:?} {pass:?}");
                        let mut frame = Frame::EMPTY;
                        let into =
                            encode_change_relay_into(&mut frame, user, pass, 0x1234, 9, true);
                        assert_eq!(into.ok().map(|()| &frame[..]), want.as_deref());
                        let template = RequestTemplate::new(user, pass).ok();
                        let got = template.map(|t| t.change_relay(0x1234, 9, true).unwrap());
                        assert_eq!(got.as_deref(), want.as_deref(), "{user:?} {pass:?}");
                        frames += usize::from(got.is_some());
                    }
                }
            }
        }
        assert!(frames > 100, "only {frames} frames built");
    }

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
