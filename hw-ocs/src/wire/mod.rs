//! The chassis manager's wire protocol: request URLs and XML replies, as pure
//! functions (no I/O), so they can be tested and benchmarked on their own.
//!
//! Every operation is an HTTP `GET <base_url>/<Operation>?<query>` whose reply is a
//! DataContract XML document in the namespace [`NAMESPACE`]. Query parameter names
//! are the contract's C# parameter names (`bladeId`, `offTime`, `bootType`, …).
//!
//! # Serial data encoding (a documented choice)
//!
//! No public source confirms how the contract's `byte[] data` travels. This crate
//! makes one choice and uses it both ways: **standard base64 (RFC 4648, `+/`, with
//! `=` padding)**, percent-encoded in the query string of `SendBladeSerialData`,
//! and as the text of `<data>` in `SerialDataResponse` (which is how WCF's
//! DataContract serializer writes a `byte[]`). See [`encode_data`] / [`decode_data`].
//!
//! ```
//! use hwctl_ocs::wire::{Request, Response, BladeStateResponse, BladeState};
//! let req = Request::GetBladeState { blade_id: 7 };
//! assert_eq!(req.path_and_query(), "GetBladeState?bladeId=7");
//!
//! let body = br#"<BladeStateResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"><completionCode>Success</completionCode><bladeState>OFF</bladeState></BladeStateResponse>"#;
//! assert_eq!(BladeStateResponse::decode(body)?.blade_state, BladeState::Off);
//! # Ok::<(), hwctl_core::Error>(())
//! ```

mod completion;
mod flat;
#[cfg(test)]
mod flat_vs_tree;
mod plain;
mod response;
mod xml;

use base64::Engine as _;
use hwctl_core::Result;

pub use completion::{CompletionCode, CompletionError, Status};
pub use response::{
    BladeInfo, BladeResponse, BladeState, BladeStateResponse, BootResponse, BootType,
    ChassisInfoResponse, ChassisResponse, NicInfo, PowerStateResponse, Response,
    SerialDataResponse, StartSerialResponse, parse_status,
};
#[doc(hidden)]
pub use xml::Element;
pub use xml::{MAX_DEPTH, MAX_ELEMENTS, NAMESPACE, XSI_NAMESPACE};

/// Encodes serial bytes for `SendBladeSerialData`'s `data` parameter (standard
/// base64 with padding; the query string then percent-encodes it).
///
/// ```
/// assert_eq!(hwctl_ocs::wire::encode_data(b"ls -l\r"), "bHMgLWwN");
/// ```
pub fn encode_data(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes the `<data>` text of a `SerialDataResponse` (standard base64; ASCII
/// whitespace ignored). Anything else is a protocol error.
///
/// ```
/// assert_eq!(hwctl_ocs::wire::decode_data("aGk=").unwrap(), b"hi");
/// assert!(hwctl_ocs::wire::decode_data("not base64!").is_err());
/// ```
///
/// # Errors
///
/// `Protocol` when the text is not base64.
pub fn decode_data(text: &str) -> Result<Vec<u8>> {
    response::decode_base64(text)
}

/// Peer text made fit for a message or a log line: control characters become
/// spaces and anything past `max` characters becomes `…`.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// One chassis manager operation with its parameters.
///
/// [`Request::path_and_query`] renders it relative to the base URL; the blade id is
/// not range-checked here (the chassis answers `ParameterOutOfRange`).
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub enum Request {
    /// `GetBladeState?bladeId=N`
    GetBladeState {
        /// Blade id (1-based).
        blade_id: u32,
    },
    /// `SetBladeOn?bladeId=N` (chipset power on)
    SetBladeOn {
        /// Blade id.
        blade_id: u32,
    },
    /// `SetBladeOff?bladeId=N`
    SetBladeOff {
        /// Blade id.
        blade_id: u32,
    },
    /// `SetBladeActivePowerCycle?bladeId=N&offTime=S`
    SetBladeActivePowerCycle {
        /// Blade id.
        blade_id: u32,
        /// Seconds the blade stays off (Ironic sends 0).
        off_time: u32,
    },
    /// `GetNextBoot?bladeId=N`
    GetNextBoot {
        /// Blade id.
        blade_id: u32,
    },
    /// `SetNextBoot?bladeId=N&bootType=T&uefi=B&persistent=B[&bootInstance=I]`
    SetNextBoot {
        /// Blade id.
        blade_id: u32,
        /// The override.
        boot_type: BootType,
        /// Whether to boot in UEFI mode.
        uefi: bool,
        /// Whether the override lasts for every boot.
        persistent: bool,
        /// `bootInstance` (the contract has it; Ironic and MAAS omit it).
        boot_instance: Option<u32>,
    },
    /// `GetChassisInfo?bladeinfo=B&psuInfo=B&chassisControllerInfo=B&batteryInfo=B`
    GetChassisInfo {
        /// Include blades.
        blade_info: bool,
        /// Include power supplies.
        psu_info: bool,
        /// Include the chassis controller.
        chassis_controller_info: bool,
        /// Include batteries.
        battery_info: bool,
    },
    /// `GetPowerState?bladeId=N` (AC power of the slot)
    GetPowerState {
        /// Blade id.
        blade_id: u32,
    },
    /// `StartBladeSerialSession?bladeId=N&sessionTimeoutInSecs=S&powerOnWait=B`
    StartBladeSerialSession {
        /// Blade id.
        blade_id: u32,
        /// Inactivity timeout of the session, in seconds.
        session_timeout_secs: u32,
        /// Wait for the blade to power on.
        power_on_wait: bool,
    },
    /// `SendBladeSerialData?bladeId=N&sessionToken=T&data=BASE64`
    SendBladeSerialData {
        /// Blade id.
        blade_id: u32,
        /// The session token.
        session_token: String,
        /// The bytes to send (encoded with [`encode_data`]).
        data: Vec<u8>,
    },
    /// `ReceiveBladeSerialData?bladeId=N&sessionToken=T`
    ReceiveBladeSerialData {
        /// Blade id.
        blade_id: u32,
        /// The session token.
        session_token: String,
    },
    /// `StopBladeSerialSession?bladeId=N&sessionToken=T&forceKill=B`
    StopBladeSerialSession {
        /// Blade id.
        blade_id: u32,
        /// The session token.
        session_token: String,
        /// Kill the session even if the token does not match.
        force_kill: bool,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens and serial data stay out of logs: print the operation and blade only.
        let mut d = f.debug_struct(self.operation());
        if let Some(b) = self.blade_id() {
            d.field("blade_id", &b);
        }
        d.finish_non_exhaustive()
    }
}

fn flag(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

impl Request {
    /// The operation name (the URL path segment).
    pub fn operation(&self) -> &'static str {
        match self {
            Request::GetBladeState { .. } => "GetBladeState",
            Request::SetBladeOn { .. } => "SetBladeOn",
            Request::SetBladeOff { .. } => "SetBladeOff",
            Request::SetBladeActivePowerCycle { .. } => "SetBladeActivePowerCycle",
            Request::GetNextBoot { .. } => "GetNextBoot",
            Request::SetNextBoot { .. } => "SetNextBoot",
            Request::GetChassisInfo { .. } => "GetChassisInfo",
            Request::GetPowerState { .. } => "GetPowerState",
            Request::StartBladeSerialSession { .. } => "StartBladeSerialSession",
            Request::SendBladeSerialData { .. } => "SendBladeSerialData",
            Request::ReceiveBladeSerialData { .. } => "ReceiveBladeSerialData",
            Request::StopBladeSerialSession { .. } => "StopBladeSerialSession",
        }
    }

    /// The blade the request is about, if any.
    pub fn blade_id(&self) -> Option<u32> {
        match self {
            Request::GetBladeState { blade_id }
            | Request::SetBladeOn { blade_id }
            | Request::SetBladeOff { blade_id }
            | Request::SetBladeActivePowerCycle { blade_id, .. }
            | Request::GetNextBoot { blade_id }
            | Request::SetNextBoot { blade_id, .. }
            | Request::GetPowerState { blade_id }
            | Request::StartBladeSerialSession { blade_id, .. }
            | Request::SendBladeSerialData { blade_id, .. }
            | Request::ReceiveBladeSerialData { blade_id, .. }
            | Request::StopBladeSerialSession { blade_id, .. } => Some(*blade_id),
            Request::GetChassisInfo { .. } => None,
        }
    }

    /// Whether sending the request twice has the same effect as once. Reads and
    /// state-setting writes are; a power cycle, a serial session start or stop and
    /// serial data are not, and are never retried.
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self,
            Request::GetBladeState { .. }
                | Request::SetBladeOn { .. }
                | Request::SetBladeOff { .. }
                | Request::GetNextBoot { .. }
                | Request::SetNextBoot { .. }
                | Request::GetChassisInfo { .. }
                | Request::GetPowerState { .. }
        )
    }

    /// The query parameters, in the order they are sent (values not yet encoded).
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let blade = |id: &u32| ("bladeId", id.to_string());
        match self {
            Request::GetBladeState { blade_id }
            | Request::SetBladeOn { blade_id }
            | Request::SetBladeOff { blade_id }
            | Request::GetNextBoot { blade_id }
            | Request::GetPowerState { blade_id } => vec![blade(blade_id)],
            Request::SetBladeActivePowerCycle { blade_id, off_time } => {
                vec![blade(blade_id), ("offTime", off_time.to_string())]
            }
            Request::SetNextBoot {
                blade_id,
                boot_type,
                uefi,
                persistent,
                boot_instance,
            } => {
                let mut q = vec![
                    blade(blade_id),
                    ("bootType", boot_type.value().to_string()),
                    ("uefi", flag(*uefi)),
                    ("persistent", flag(*persistent)),
                ];
                if let Some(i) = boot_instance {
                    q.push(("bootInstance", i.to_string()));
                }
                q
            }
            Request::GetChassisInfo {
                blade_info,
                psu_info,
                chassis_controller_info,
                battery_info,
            } => vec![
                ("bladeinfo", flag(*blade_info)),
                ("psuInfo", flag(*psu_info)),
                ("chassisControllerInfo", flag(*chassis_controller_info)),
                ("batteryInfo", flag(*battery_info)),
            ],
            Request::StartBladeSerialSession {
                blade_id,
                session_timeout_secs,
                power_on_wait,
            } => vec![
                blade(blade_id),
                ("sessionTimeoutInSecs", session_timeout_secs.to_string()),
                ("powerOnWait", flag(*power_on_wait)),
            ],
            Request::SendBladeSerialData {
                blade_id,
                session_token,
                data,
            } => vec![
                blade(blade_id),
                ("sessionToken", session_token.clone()),
                ("data", encode_data(data)),
            ],
            Request::ReceiveBladeSerialData {
                blade_id,
                session_token,
            } => vec![blade(blade_id), ("sessionToken", session_token.clone())],
            Request::StopBladeSerialSession {
                blade_id,
                session_token,
                force_kill,
            } => vec![
                blade(blade_id),
                ("sessionToken", session_token.clone()),
                ("forceKill", flag(*force_kill)),
            ],
        }
    }

    /// `Operation?name=value&…`, values percent-encoded (`application/x-www-form-urlencoded`).
    ///
    /// ```
    /// use hwctl_ocs::wire::{BootType, Request};
    /// let r = Request::SetNextBoot { blade_id: 7, boot_type: BootType::ForcePxe,
    ///     uefi: false, persistent: true, boot_instance: None };
    /// assert_eq!(r.path_and_query(), "SetNextBoot?bladeId=7&bootType=2&uefi=false&persistent=true");
    /// ```
    pub fn path_and_query(&self) -> String {
        let mut s = String::new();
        self.push_path_and_query(&mut s);
        s
    }

    /// Appends [`path_and_query`](Self::path_and_query) to `out` (the client writes
    /// it after a `/` into one buffer).
    ///
    /// ```
    /// use hwctl_ocs::wire::Request;
    /// let mut path = String::from("/");
    /// Request::SetBladeActivePowerCycle { blade_id: 4, off_time: 0 }.push_path_and_query(&mut path);
    /// assert_eq!(path, "/SetBladeActivePowerCycle?bladeId=4&offTime=0");
    /// ```
    pub fn push_path_and_query(&self, out: &mut String) {
        out.push_str(self.operation());
        if let Request::GetBladeState { blade_id }
        | Request::SetBladeOn { blade_id }
        | Request::SetBladeOff { blade_id }
        | Request::GetNextBoot { blade_id }
        | Request::GetPowerState { blade_id } = self
        {
            // What the loop below writes for their one parameter (digits need
            // no encoding), without building the list (once per request).
            out.push_str("?bladeId=");
            out.push_str(itoa::Buffer::new().format(*blade_id));
            return;
        }
        let query = self.query();
        for (i, (name, value)) in query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(name);
            out.push('=');
            out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
    }

    /// The full URL under `base_url` (joined as a path: a trailing `/` on the base
    /// is not doubled).
    ///
    /// ```
    /// use hwctl_ocs::wire::Request;
    /// let r = Request::GetBladeState { blade_id: 1 };
    /// assert_eq!(r.url("http://fakehost:8000"), "http://fakehost:8000/GetBladeState?bladeId=1");
    /// assert_eq!(r.url("http://h/cm/"), "http://h/cm/GetBladeState?bladeId=1");
    /// ```
    pub fn url(&self, base_url: &str) -> String {
        format!(
            "{}/{}",
            base_url.trim_end_matches('/'),
            self.path_and_query()
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_blade_id_is_written_as_to_string_writes_it() {
        for n in [0, 1, 9, 10, 48, 99, 100, 65_535, 1_000_000_000, u32::MAX] {
            let mut path = String::new();
            Request::GetBladeState { blade_id: n }.push_path_and_query(&mut path);
            assert_eq!(path, format!("GetBladeState?bladeId={n}"));
        }
    }

    #[test]
    fn every_operation_renders_exactly() {
        let t = "tok+/=".to_owned();
        let cases = [
            (
                Request::GetBladeState { blade_id: 1 },
                "GetBladeState?bladeId=1",
            ),
            (
                Request::SetBladeOn { blade_id: 48 },
                "SetBladeOn?bladeId=48",
            ),
            (
                Request::SetBladeOff { blade_id: 2 },
                "SetBladeOff?bladeId=2",
            ),
            (
                Request::SetBladeActivePowerCycle {
                    blade_id: 3,
                    off_time: 0,
                },
                "SetBladeActivePowerCycle?bladeId=3&offTime=0",
            ),
            (
                Request::GetNextBoot { blade_id: 4 },
                "GetNextBoot?bladeId=4",
            ),
            (
                Request::SetNextBoot {
                    blade_id: 5,
                    boot_type: BootType::ForceIntoBiosSetup,
                    uefi: true,
                    persistent: false,
                    boot_instance: Some(0),
                },
                "SetNextBoot?bladeId=5&bootType=4&uefi=true&persistent=false&bootInstance=0",
            ),
            (
                Request::GetChassisInfo {
                    blade_info: true,
                    psu_info: false,
                    chassis_controller_info: false,
                    battery_info: false,
                },
                "GetChassisInfo?bladeinfo=true&psuInfo=false&chassisControllerInfo=false&batteryInfo=false",
            ),
            (
                Request::GetPowerState { blade_id: 6 },
                "GetPowerState?bladeId=6",
            ),
            (
                Request::StartBladeSerialSession {
                    blade_id: 7,
                    session_timeout_secs: 300,
                    power_on_wait: false,
                },
                "StartBladeSerialSession?bladeId=7&sessionTimeoutInSecs=300&powerOnWait=false",
            ),
            (
                Request::SendBladeSerialData {
                    blade_id: 7,
                    session_token: t.clone(),
                    data: vec![0xfb, 0xff, 0x3e],
                },
                "SendBladeSerialData?bladeId=7&sessionToken=tok%2B%2F%3D&data=%2B%2F8%2B",
            ),
            (
                Request::ReceiveBladeSerialData {
                    blade_id: 7,
                    session_token: t.clone(),
                },
                "ReceiveBladeSerialData?bladeId=7&sessionToken=tok%2B%2F%3D",
            ),
            (
                Request::StopBladeSerialSession {
                    blade_id: 7,
                    session_token: t,
                    force_kill: false,
                },
                "StopBladeSerialSession?bladeId=7&sessionToken=tok%2B%2F%3D&forceKill=false",
            ),
        ];
        for (req, want) in cases {
            assert_eq!(req.path_and_query(), want);
        }
    }

    #[test]
    fn debug_hides_tokens_and_data() {
        let r = Request::SendBladeSerialData {
            blade_id: 7,
            session_token: "SECRET-TOKEN".into(),
            data: b"password\r".to_vec(),
        };
        let d = format!("{r:?}");
        assert!(d.contains("SendBladeSerialData") && d.contains('7'));
        assert!(!d.contains("SECRET") && !d.contains("112"), "{d}");
    }

    #[test]
    fn power_cycle_and_serial_calls_are_not_idempotent() {
        assert!(Request::GetBladeState { blade_id: 1 }.is_idempotent());
        assert!(
            !Request::SetBladeActivePowerCycle {
                blade_id: 1,
                off_time: 0
            }
            .is_idempotent()
        );
        assert!(
            !Request::StartBladeSerialSession {
                blade_id: 1,
                session_timeout_secs: 1,
                power_on_wait: false
            }
            .is_idempotent()
        );
    }

    #[test]
    fn base64_round_trip() {
        for bytes in [&b""[..], b"a", b"ab", b"abc", b"\x00\xff\r\n"] {
            assert_eq!(decode_data(&encode_data(bytes)).unwrap(), bytes);
        }
        assert_eq!(decode_data("aG k=\n").unwrap(), b"hi");
    }
}
