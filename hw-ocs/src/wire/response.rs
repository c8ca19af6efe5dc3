//! Typed decoders for the chassis manager's XML replies.
//!
//! Every decoder checks the root element (the response class name, in the contract
//! namespace), reads the status head, fails with the mapped error unless the
//! completion code is `Success`, and then reads the fields it needs. Element order
//! does not matter; unknown elements and elements of other namespaces are ignored;
//! a missing or unreadable required field is an [`ErrorKind::Protocol`] error.
//!
//! [`ErrorKind::Protocol`]: hwctl_core::ErrorKind::Protocol

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use hwctl_core::{BootDevice, Error, MacAddress, PowerState, Result};

use super::completion::{CompletionCode, Status};
use super::flat::{Fields, Flat};
use super::xml::{self, Element};

/// A reply the chassis manager can send, decodable from its XML body.
pub trait Response: Sized {
    /// The root element's local name (the contract class name).
    const ROOT: &'static str;

    /// Decodes a reply body: root checked, completion code checked, fields read.
    ///
    /// # Errors
    ///
    /// `Protocol` for a body that is not the expected XML reply; the completion
    /// code's kind for a failure reply (see [`Status::check`]).
    fn decode(body: &[u8]) -> Result<Self>;
}

/// A reply whose fields are all children of its root: decoded in one streaming
/// pass ([`Flat`]) without building a tree.
pub(crate) trait FlatResponse: Response {
    /// The children the decoder reads (at most [`super::flat::MAX_FIELDS`]).
    const FIELDS: &'static [&'static str];

    /// Reads the fields out of the root (already checked by name and namespace).
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self>;
}

/// The names of the status head.
const STATUS_FIELDS: &[&str] = &["completionCode", "apiVersion", "statusDescription"];

/// The fields of a flat reply: by the byte scan when the body is in the plain
/// layout, else by the general reader (whose errors a failing body gets).
fn read_flat<'a>(body: &'a [u8], wanted: &'static [&'static str]) -> Result<Flat<'a>> {
    match super::plain::scan(body, wanted) {
        Some(flat) => Ok(flat),
        None => Flat::read(body, wanted),
    }
}

fn decode_flat<T: FlatResponse>(body: &[u8]) -> Result<T> {
    let flat = read_flat(body, T::FIELDS)?;
    check_root(&flat, T::ROOT)?;
    T::read(&flat)
}

/// The same decoder over the whole tree (what `decode` did before issue 16),
/// for the differential tests.
#[cfg(test)]
pub(crate) fn decode_tree<T: FlatResponse>(body: &[u8]) -> Result<T> {
    let doc = xml::parse(body)?;
    let root = Element::root(&doc);
    check_root(&root, T::ROOT)?;
    T::read(&root)
}

fn check_root<F: Fields + ?Sized>(root: &F, want: &str) -> Result<()> {
    if root.name() != want {
        return Err(Error::protocol(format!(
            "expected a {want} reply, got <{}>",
            root.name()
        )));
    }
    if !root.contract() {
        return Err(Error::protocol(format!(
            "<{want}> is not in the chassis manager namespace"
        )));
    }
    Ok(())
}

/// Reads only the status head of any reply (whatever its root element), as Ironic's
/// client does before anything else.
///
/// ```
/// let body = br#"<fake xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>Fail</completionCode></fake>"#;
/// let status = hwctl_ocs::wire::parse_status(body).unwrap();
/// assert_eq!(status.completion_code.as_str(), "Fail");
/// assert_eq!(status.check().unwrap_err().kind(), hwctl_core::ErrorKind::DeviceFault);
/// ```
///
/// # Errors
///
/// `Protocol` when the body is not a chassis manager reply with a completion code.
pub fn parse_status(body: &[u8]) -> Result<Status> {
    status(&read_flat(body, STATUS_FIELDS)?)
}

pub(crate) fn status<F: Fields + ?Sized>(e: &F) -> Result<Status> {
    let code = e
        .child_text("completionCode")
        .ok_or_else(|| Error::protocol(format!("<{}> has no completionCode", e.name())))?;
    if code.is_empty() {
        return Err(Error::protocol(format!(
            "<{}> has an empty completionCode",
            e.name()
        )));
    }
    let completion_code: CompletionCode = match code.parse() {
        Ok(c) => c,
        Err(never) => match never {},
    };
    Ok(Status {
        completion_code,
        api_version: e.child_text("apiVersion").and_then(|v| v.parse().ok()),
        status_description: e
            .child_text("statusDescription")
            .unwrap_or_default()
            .to_owned(),
    })
}

fn checked_status<F: Fields + ?Sized>(e: &F) -> Result<Status> {
    let s = status(e)?;
    s.check()?;
    Ok(s)
}

fn required<'e, F: Fields + ?Sized>(e: &'e F, name: &str) -> Result<&'e str> {
    match e.child_text(name) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(Error::protocol(format!("<{}> has no {name}", e.name()))),
    }
}

fn parse_num<T: FromStr, F: Fields + ?Sized>(e: &F, name: &str, text: &str) -> Result<T> {
    text.parse().map_err(|_| {
        Error::protocol(format!(
            "<{}>/{name} is not a number: {:?}",
            e.name(),
            truncate(text)
        ))
    })
}

fn optional_num<T: FromStr, F: Fields + ?Sized>(e: &F, name: &str) -> Result<Option<T>> {
    match e.child_text(name) {
        None | Some("") => Ok(None),
        Some(t) => parse_num(e, name, t).map(Some),
    }
}

fn truncate(s: &str) -> String {
    super::excerpt(s, 64)
}

/// A blade's power state as the chassis manager names it (`PowerState` enum).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BladeState {
    /// `ON`
    On,
    /// `OFF`
    Off,
    /// `OnFwDecompress`: powered, firmware decompressing.
    OnFwDecompress,
    /// `NA`: not available.
    NotAvailable,
    /// Any other name (kept verbatim).
    Other(String),
}

impl BladeState {
    /// Parses the wire name (case-insensitively for `ON`/`OFF`).
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        if s.eq_ignore_ascii_case("ON") {
            BladeState::On
        } else if s.eq_ignore_ascii_case("OFF") {
            BladeState::Off
        } else if s.eq_ignore_ascii_case("OnFwDecompress") {
            BladeState::OnFwDecompress
        } else if s.eq_ignore_ascii_case("NA") {
            BladeState::NotAvailable
        } else {
            BladeState::Other(s.to_owned())
        }
    }

    /// The power state: `ON` is on, `OFF` is off, anything else is `Unknown`.
    pub fn power_state(&self) -> PowerState {
        match self {
            BladeState::On => PowerState::On,
            BladeState::Off => PowerState::Off,
            _ => PowerState::Unknown,
        }
    }
}

impl fmt::Display for BladeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BladeState::On => "ON",
            BladeState::Off => "OFF",
            BladeState::OnFwDecompress => "OnFwDecompress",
            BladeState::NotAvailable => "NA",
            BladeState::Other(s) => s,
        })
    }
}

/// The next-boot override (`BladeBootType` enum).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootType {
    /// `Unknown` (0)
    Unknown,
    /// `NoOverride` (1)
    NoOverride,
    /// `ForcePxe` (2)
    ForcePxe,
    /// `ForceDefaultHdd` (3)
    ForceDefaultHdd,
    /// `ForceIntoBiosSetup` (4)
    ForceIntoBiosSetup,
    /// `ForceFloppyOrRemovable` (5)
    ForceFloppyOrRemovable,
}

impl BootType {
    /// Every boot type, in contract order.
    pub const ALL: [BootType; 6] = [
        BootType::Unknown,
        BootType::NoOverride,
        BootType::ForcePxe,
        BootType::ForceDefaultHdd,
        BootType::ForceIntoBiosSetup,
        BootType::ForceFloppyOrRemovable,
    ];

    /// The integer sent as `bootType`.
    pub fn value(self) -> u8 {
        match self {
            BootType::Unknown => 0,
            BootType::NoOverride => 1,
            BootType::ForcePxe => 2,
            BootType::ForceDefaultHdd => 3,
            BootType::ForceIntoBiosSetup => 4,
            BootType::ForceFloppyOrRemovable => 5,
        }
    }

    /// The name the chassis manager answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            BootType::Unknown => "Unknown",
            BootType::NoOverride => "NoOverride",
            BootType::ForcePxe => "ForcePxe",
            BootType::ForceDefaultHdd => "ForceDefaultHdd",
            BootType::ForceIntoBiosSetup => "ForceIntoBiosSetup",
            BootType::ForceFloppyOrRemovable => "ForceFloppyOrRemovable",
        }
    }

    /// Parses the wire name.
    pub fn from_name(s: &str) -> Option<Self> {
        let s = s.trim();
        BootType::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The boot type for an Ironic boot device (`pxe`, `disk`, `bios`, `floppy`).
    ///
    /// ```
    /// use hwctl_ocs::wire::BootType;
    /// assert_eq!(BootType::for_device(hwctl_core::BootDevice::Pxe), Some(BootType::ForcePxe));
    /// assert_eq!(BootType::for_device(hwctl_core::BootDevice::Cdrom), None);
    /// ```
    pub fn for_device(device: BootDevice) -> Option<Self> {
        match device {
            BootDevice::Pxe => Some(BootType::ForcePxe),
            BootDevice::Disk => Some(BootType::ForceDefaultHdd),
            BootDevice::Bios => Some(BootType::ForceIntoBiosSetup),
            BootDevice::Floppy => Some(BootType::ForceFloppyOrRemovable),
            _ => None,
        }
    }

    /// The Ironic boot device (`None` for `Unknown` and `NoOverride`).
    pub fn device(self) -> Option<BootDevice> {
        match self {
            BootType::ForcePxe => Some(BootDevice::Pxe),
            BootType::ForceDefaultHdd => Some(BootDevice::Disk),
            BootType::ForceIntoBiosSetup => Some(BootDevice::Bios),
            BootType::ForceFloppyOrRemovable => Some(BootDevice::Floppy),
            BootType::Unknown | BootType::NoOverride => None,
        }
    }
}

impl fmt::Display for BootType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `BladeResponse`: the reply to `SetBladeOn`, `SetBladeOff`, `SetBladeActivePowerCycle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BladeResponse {
    /// The status head (always `Success` once decoded).
    pub status: Status,
    /// `bladeNumber`, when present.
    pub blade_number: Option<u32>,
}

impl Response for BladeResponse {
    const ROOT: &'static str = "BladeResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for BladeResponse {
    const FIELDS: &'static [&'static str] = &[
        "completionCode",
        "apiVersion",
        "statusDescription",
        "bladeNumber",
    ];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        Ok(BladeResponse {
            status: checked_status(root)?,
            blade_number: optional_num(root, "bladeNumber")?,
        })
    }
}

/// `BladeStateResponse`: the reply to `GetBladeState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BladeStateResponse {
    /// The status head.
    pub status: Status,
    /// `bladeNumber`, when present.
    pub blade_number: Option<u32>,
    /// `bladeState`.
    pub blade_state: BladeState,
}

impl Response for BladeStateResponse {
    const ROOT: &'static str = "BladeStateResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for BladeStateResponse {
    const FIELDS: &'static [&'static str] = &[
        "completionCode",
        "apiVersion",
        "statusDescription",
        "bladeNumber",
        "bladeState",
    ];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        Ok(BladeStateResponse {
            status: checked_status(root)?,
            blade_number: optional_num(root, "bladeNumber")?,
            blade_state: BladeState::parse(required(root, "bladeState")?),
        })
    }
}

/// `BootResponse`: the reply to `GetNextBoot` and `SetNextBoot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootResponse {
    /// The status head.
    pub status: Status,
    /// `bladeNumber`, when present.
    pub blade_number: Option<u32>,
    /// `nextBoot`.
    pub next_boot: BootType,
}

impl Response for BootResponse {
    const ROOT: &'static str = "BootResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for BootResponse {
    const FIELDS: &'static [&'static str] = &[
        "completionCode",
        "apiVersion",
        "statusDescription",
        "bladeNumber",
        "nextBoot",
    ];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        let status = checked_status(root)?;
        let text = required(root, "nextBoot")?;
        let next_boot = BootType::from_name(text)
            .ok_or_else(|| Error::protocol(format!("unknown nextBoot {:?}", truncate(text))))?;
        Ok(BootResponse {
            status,
            blade_number: optional_num(root, "bladeNumber")?,
            next_boot,
        })
    }
}

/// `PowerStateResponse`: the reply to `GetPowerState` (AC power of the blade slot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerStateResponse {
    /// The status head.
    pub status: Status,
    /// `bladeNumber`, when present.
    pub blade_number: Option<u32>,
    /// `Decompression`, when present.
    pub decompression: Option<u32>,
    /// `powerState`.
    pub power_state: BladeState,
}

impl Response for PowerStateResponse {
    const ROOT: &'static str = "PowerStateResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for PowerStateResponse {
    const FIELDS: &'static [&'static str] = &[
        "completionCode",
        "apiVersion",
        "statusDescription",
        "bladeNumber",
        "Decompression",
        "powerState",
    ];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        Ok(PowerStateResponse {
            status: checked_status(root)?,
            blade_number: optional_num(root, "bladeNumber")?,
            decompression: optional_num(root, "Decompression")?,
            power_state: BladeState::parse(required(root, "powerState")?),
        })
    }
}

/// One NIC of a blade in `ChassisInfoResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicInfo {
    /// The NIC's own status head, when present.
    pub status: Option<Status>,
    /// `deviceId`.
    pub device_id: Option<u32>,
    /// `macAddress`; `None` when empty or not a MAC address.
    pub mac_address: Option<MacAddress>,
}

/// One blade in `ChassisInfoResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BladeInfo {
    /// The blade's own status head, when present.
    pub status: Option<Status>,
    /// `bladeNumber`.
    pub blade_number: u32,
    /// `bladeGuid` (`None` when empty).
    pub blade_guid: Option<String>,
    /// `bladeName` (`None` when empty).
    pub blade_name: Option<String>,
    /// `powerState`, when present.
    pub power_state: Option<BladeState>,
    /// The NICs under `bladeMacAddress`.
    pub nics: Vec<NicInfo>,
}

impl BladeInfo {
    /// The MAC addresses of the blade's NICs that have one.
    pub fn macs(&self) -> Vec<MacAddress> {
        self.nics.iter().filter_map(|n| n.mac_address).collect()
    }
}

/// `ChassisInfoResponse`: the reply to `GetChassisInfo` (blades, their MACs and power).
///
/// The top-level status head is optional (MAAS's captured reply has none); when
/// present it is checked. Each blade's own status is kept, not enforced: one bad
/// blade does not hide the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChassisInfoResponse {
    /// The top-level status head, when present.
    pub status: Option<Status>,
    /// The blades under `bladeCollections`.
    pub blades: Vec<BladeInfo>,
}

fn optional_status<F: Fields + ?Sized>(e: &F) -> Result<Option<Status>> {
    if e.has("completionCode") {
        status(e).map(Some)
    } else {
        Ok(None)
    }
}

fn non_empty<F: Fields + ?Sized>(e: &F, name: &str) -> Option<String> {
    e.child_text(name)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl Response for ChassisInfoResponse {
    const ROOT: &'static str = "ChassisInfoResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        let doc = xml::parse(body)?;
        let root = Element::root(&doc);
        check_root(&root, Self::ROOT)?;
        let status = optional_status(&root)?;
        if let Some(s) = &status {
            s.check()?;
        }
        let mut blades = Vec::new();
        for collection in root.children_named("bladeCollections") {
            for b in collection.children_named("BladeInfo") {
                let number = required(&b, "bladeNumber")?;
                let mut nics = Vec::new();
                for macs in b.children_named("bladeMacAddress") {
                    for nic in macs.children_named("NicInfo") {
                        let mac_address = match nic.child_text("macAddress") {
                            None | Some("") => None,
                            Some(t) => match t.parse::<MacAddress>() {
                                Ok(m) => Some(m),
                                Err(_) => {
                                    tracing::warn!(mac = %truncate(t), "ignoring an unreadable MAC address");
                                    None
                                }
                            },
                        };
                        nics.push(NicInfo {
                            status: optional_status(&nic)?,
                            device_id: optional_num(&nic, "deviceId")?,
                            mac_address,
                        });
                    }
                }
                blades.push(BladeInfo {
                    status: optional_status(&b)?,
                    blade_number: parse_num(&b, "bladeNumber", number)?,
                    blade_guid: non_empty(&b, "bladeGuid"),
                    blade_name: non_empty(&b, "bladeName"),
                    power_state: b
                        .child_text("powerState")
                        .filter(|t| !t.is_empty())
                        .map(BladeState::parse),
                    nics,
                });
            }
        }
        Ok(ChassisInfoResponse { status, blades })
    }
}

/// `StartSerialResponse`: the reply to `StartBladeSerialSession`.
#[derive(Clone, PartialEq, Eq)]
pub struct StartSerialResponse {
    /// The status head.
    pub status: Status,
    /// `serialSessionToken`, needed by every later serial call.
    pub serial_session_token: String,
}

impl fmt::Debug for StartSerialResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartSerialResponse")
            .field("status", &self.status)
            .field("serial_session_token", &"<redacted>")
            .finish()
    }
}

impl Response for StartSerialResponse {
    const ROOT: &'static str = "StartSerialResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for StartSerialResponse {
    const FIELDS: &'static [&'static str] = &[
        "completionCode",
        "apiVersion",
        "statusDescription",
        "serialSessionToken",
    ];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        Ok(StartSerialResponse {
            status: checked_status(root)?,
            serial_session_token: required(root, "serialSessionToken")?.to_owned(),
        })
    }
}

/// `SerialDataResponse`: the reply to `ReceiveBladeSerialData`.
///
/// `data` is a WCF `byte[]`, which the DataContract serializer writes as base64
/// (see [`crate::wire`] for the encoding choice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialDataResponse {
    /// The status head.
    pub status: Status,
    /// The bytes the blade printed since the last call (decoded from base64).
    pub data: Vec<u8>,
}

impl Response for SerialDataResponse {
    const ROOT: &'static str = "SerialDataResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for SerialDataResponse {
    const FIELDS: &'static [&'static str] =
        &["completionCode", "apiVersion", "statusDescription", "data"];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        let status = checked_status(root)?;
        let data = match root.child_text("data") {
            None | Some("") => Vec::new(),
            Some(t) => super::decode_data(t)?,
        };
        Ok(SerialDataResponse { status, data })
    }
}

/// `ChassisResponse`: the reply to `SendBladeSerialData` and `StopBladeSerialSession`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChassisResponse {
    /// The status head.
    pub status: Status,
}

impl Response for ChassisResponse {
    const ROOT: &'static str = "ChassisResponse";
    fn decode(body: &[u8]) -> Result<Self> {
        decode_flat(body)
    }
}

impl FlatResponse for ChassisResponse {
    const FIELDS: &'static [&'static str] = &["completionCode", "apiVersion", "statusDescription"];
    fn read<F: Fields + ?Sized>(root: &F) -> Result<Self> {
        Ok(ChassisResponse {
            status: checked_status(root)?,
        })
    }
}

pub(super) fn decode_base64(text: &str) -> Result<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| Error::protocol(format!("serial data is not base64: {e}")))
}
