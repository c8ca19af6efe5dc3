//! The OneView REST messages (JSON) and the iLO REST messages the driver uses: the
//! only place that knows field names. Pure types and functions; the client sends
//! them.
//!
//! Sources (PROTOCOLS.md §2.2): python-oneviewclient @ 000809f7 (`client.py`,
//! `ilo_utils.py`, `tests/fixtures.py`), hpeOneView `connection.py`, Ironic's
//! OneView driver @ bce7822a (`power.py`, `management.py`, `common.py`), and the
//! replies HPE's oneview-redfish-toolkit keeps (`mockups/oneview/`). Unknown fields
//! are ignored; fields the driver relies on are required.

use hwctl_core::power::PowerAction;
use hwctl_core::{BootDevice, Error, PowerState, Result, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Decodes a JSON reply; anything else is a [`hwctl_core::ErrorKind::Protocol`] error naming
/// `what` and serde's reason (never the body).
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::Protocol`] when `body` is not JSON of the expected shape.
///
/// ```
/// use hwctl_oneview::wire::{decode, ApiVersion};
/// let v: ApiVersion = decode("version", br#"{"minimumVersion":120,"currentVersion":800}"#)?;
/// assert_eq!(v.current_version, 800);
/// let err = decode::<ApiVersion>("version", b"<html>").unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        // serde_json quotes a mistyped string whole: keep its first 200 characters, so a
        // hostile appliance cannot make an error (and every log line) as long as its reply.
        let e: String = e.to_string().chars().take(200).collect();
        Error::protocol(format!("the {what} reply is not the expected JSON: {e}"))
    })
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

/// `GET /rest/version`: the API versions the appliance speaks.
///
/// ```
/// let v: hwctl_oneview::wire::ApiVersion = serde_json::from_str(r#"{"minimumVersion":120,"currentVersion":2400}"#).unwrap();
/// assert_eq!((v.minimum_version, v.current_version), (120, 2400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiVersion {
    /// The oldest `X-API-Version` accepted.
    pub minimum_version: u32,
    /// The newest `X-API-Version` accepted.
    pub current_version: u32,
}

/// `POST /rest/login-sessions` request body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest<'a> {
    /// The user name.
    pub user_name: &'a str,
    /// The password (the body is built just before sending and never logged).
    pub password: &'a str,
}

/// `POST /rest/login-sessions` reply.
#[derive(Debug, Deserialize)]
pub struct LoginReply {
    /// The session token, sent as the `Auth` header.
    #[serde(rename = "sessionID", deserialize_with = "secret")]
    pub session_id: SecretString,
}

/// A OneView error body: `{"errorCode", "message", "details", …}`; the Redfish
/// toolkit's `{"error": {"code", "message"}}` is read too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneviewErrorBody {
    /// `errorCode` (`RESOURCE_NOT_FOUND`, `AUTHN_AUTH_FAIL`, …).
    pub error_code: Option<String>,
    /// `message`.
    pub message: Option<String>,
    /// `details`.
    pub details: Option<String>,
}

impl OneviewErrorBody {
    /// Reads an error body; `None` when it is not JSON with any of the fields.
    ///
    /// ```
    /// use hwctl_oneview::wire::OneviewErrorBody;
    /// let e = OneviewErrorBody::parse(br#"{"errorCode":"RESOURCE_NOT_FOUND","message":"gone"}"#).unwrap();
    /// assert_eq!(e.error_code.as_deref(), Some("RESOURCE_NOT_FOUND"));
    /// let redfish = OneviewErrorBody::parse(br#"{"error":{"code":"X","message":"m"}}"#).unwrap();
    /// assert_eq!(redfish.error_code.as_deref(), Some("X"));
    /// assert_eq!(OneviewErrorBody::parse(b"{}"), None);
    /// ```
    pub fn parse(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let v = match v.get("error") {
            Some(inner @ Value::Object(_)) => inner.clone(),
            _ => v,
        };
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let body = OneviewErrorBody {
            error_code: s("errorCode").or_else(|| s("code")),
            message: s("message"),
            details: s("details"),
        };
        (body != OneviewErrorBody::default()).then_some(body)
    }
}

/// `GET /rest/server-hardware/{id}` (types `server-hardware-1` … `-5`): the
/// fields the driver uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerHardware {
    /// `/rest/server-hardware/{uuid}`.
    pub uri: String,
    /// The uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// `"Encl2, bay 16"`.
    #[serde(default)]
    pub name: Option<String>,
    /// `On`, `Off`, `PoweringOn`, `PoweringOff`, `Resetting` (or `Unknown`).
    pub power_state: String,
    /// The applied profile, or `null`.
    #[serde(default)]
    pub server_profile_uri: Option<String>,
    /// The hardware type.
    #[serde(default)]
    pub server_hardware_type_uri: Option<String>,
    /// The enclosure group (`null` for rack servers).
    #[serde(default)]
    pub server_group_uri: Option<String>,
    /// `NoProfileApplied`, `ProfileApplied`, `ApplyingProfile`, …
    #[serde(default)]
    pub state: Option<String>,
    /// `OK`, `Warning`, `Critical`, …
    #[serde(default)]
    pub status: Option<String>,
    /// `ProLiant BL460c Gen9`.
    #[serde(default)]
    pub model: Option<String>,
    /// The iLO's address.
    #[serde(default)]
    pub mp_ip_address: Option<String>,
    /// The server's adapters and ports.
    #[serde(default)]
    pub port_map: Option<PortMap>,
}

impl ServerHardware {
    /// The power state: `On`/`Off`; `PoweringOn`, `PoweringOff`, `Resetting` and
    /// anything else are [`PowerState::Unknown`] until settled (Ironic mapped the
    /// transitions to the state they leave, which the engine would confirm too early).
    ///
    /// ```
    /// use hwctl_core::PowerState;
    /// let hw: hwctl_oneview::wire::ServerHardware =
    ///     serde_json::from_str(r#"{"uri":"/rest/server-hardware/1","powerState":"PoweringOn"}"#).unwrap();
    /// assert_eq!(hw.power(), PowerState::Unknown);
    /// ```
    pub fn power(&self) -> PowerState {
        match self.power_state.as_str() {
            "On" => PowerState::On,
            "Off" => PowerState::Off,
            _ => PowerState::Unknown,
        }
    }

    /// Whether someone else's profile is applied: `serverProfileUri` is set and
    /// differs from `applied` (Ironic's `_is_node_in_use_by_oneview`).
    ///
    /// ```
    /// let hw: hwctl_oneview::wire::ServerHardware = serde_json::from_str(
    ///     r#"{"uri":"/rest/server-hardware/1","powerState":"On","serverProfileUri":"/rest/server-profiles/p"}"#,
    /// ).unwrap();
    /// assert!(hw.in_use_by_others(None));
    /// assert!(!hw.in_use_by_others(Some("/rest/server-profiles/p")));
    /// ```
    pub fn in_use_by_others(&self, applied: Option<&str>) -> bool {
        match self.server_profile_uri.as_deref() {
            Some(p) if !p.is_empty() => Some(p) != applied,
            _ => false,
        }
    }
}

/// `portMap` of a server hardware.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMap {
    /// The adapters.
    #[serde(default)]
    pub device_slots: Vec<DeviceSlot>,
}

/// One adapter of a [`PortMap`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSlot {
    /// `HP FlexFabric 10Gb 2-port 554FLB Adapter`.
    #[serde(default)]
    pub device_name: String,
    /// `Flb`, `Mezz`.
    #[serde(default)]
    pub location: String,
    /// The slot number.
    #[serde(default)]
    pub slot_number: u32,
    /// Its physical ports.
    #[serde(default)]
    pub physical_ports: Vec<PhysicalPort>,
}

/// One physical port of a [`DeviceSlot`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalPort {
    /// The port's MAC (`null` for Fibre Channel).
    #[serde(default)]
    pub mac: Option<String>,
    /// `Ethernet`, `FibreChannel`.
    #[serde(rename = "type", default)]
    pub port_type: String,
    /// The port number.
    #[serde(default)]
    pub port_number: u32,
    /// FlexNICs (`portFunction` a–d).
    #[serde(default)]
    pub virtual_ports: Vec<VirtualPort>,
}

/// One virtual port (FlexNIC) of a [`PhysicalPort`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualPort {
    /// Its MAC.
    #[serde(default)]
    pub mac: Option<String>,
    /// `a` … `d`.
    #[serde(default)]
    pub port_function: String,
    /// The port number.
    #[serde(default)]
    pub port_number: u32,
}

impl PortMap {
    /// The MAC Ironic compares with the node's port: the first Ethernet physical
    /// port's virtual port with `portFunction == "a"` (python-oneviewclient
    /// `ServerHardware.get_mac`), else that physical port's own MAC.
    pub fn first_mac(&self) -> Option<&str> {
        let port = self
            .device_slots
            .iter()
            .flat_map(|s| &s.physical_ports)
            .find(|p| p.port_type == "Ethernet")?;
        port.virtual_ports
            .iter()
            .find(|v| v.port_function == "a")
            .and_then(|v| v.mac.as_deref())
            .or(port.mac.as_deref())
    }
}

/// A server profile's `boot` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBoot {
    /// Boot order: `CD`, `Floppy`, `USB`, `HardDisk`, `PXE`.
    #[serde(default)]
    pub order: Vec<String>,
    /// Whether OneView manages the boot order.
    #[serde(default)]
    pub manage_boot: bool,
}

/// One connection of a profile or template.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileConnection {
    /// The connection id.
    #[serde(default)]
    pub id: u32,
    /// `Ethernet`, `FibreChannel`.
    #[serde(default)]
    pub function_type: Option<String>,
    /// `Flb 1:1-a`.
    #[serde(default)]
    pub port_id: Option<String>,
    /// The MAC (virtual or physical), once deployed.
    #[serde(default)]
    pub mac: Option<String>,
}

/// `GET /rest/server-profiles/{id}` (`ServerProfileV1` … `V9`): the fields the
/// driver uses. The full JSON is kept by the client for the `PUT` back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerProfile {
    /// `/rest/server-profiles/{uuid}`.
    pub uri: String,
    /// The profile's name.
    #[serde(default)]
    pub name: String,
    /// The hardware it is applied to.
    #[serde(default)]
    pub server_hardware_uri: Option<String>,
    /// The hardware type it is for.
    #[serde(default)]
    pub server_hardware_type_uri: Option<String>,
    /// The enclosure group it is for.
    #[serde(default)]
    pub enclosure_group_uri: Option<String>,
    /// The template it came from.
    #[serde(default)]
    pub server_profile_template_uri: Option<String>,
    /// `Virtual` or `Physical`.
    #[serde(default)]
    pub mac_type: Option<String>,
    /// The boot order.
    #[serde(default)]
    pub boot: Option<ProfileBoot>,
    /// The connections.
    #[serde(default)]
    pub connections: Vec<ProfileConnection>,
}

/// `GET /rest/server-profile-templates/{id}`: the fields the driver checks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerProfileTemplate {
    /// `/rest/server-profile-templates/{uuid}`.
    pub uri: String,
    /// The template's name.
    #[serde(default)]
    pub name: String,
    /// The hardware type it is for.
    #[serde(default)]
    pub server_hardware_type_uri: Option<String>,
    /// The enclosure group it is for.
    #[serde(default)]
    pub enclosure_group_uri: Option<String>,
    /// `Virtual` or `Physical` (Ironic required `Physical`).
    #[serde(default)]
    pub mac_type: Option<String>,
    /// The boot block (Ironic required `manageBoot: true`).
    #[serde(default)]
    pub boot: Option<ProfileBoot>,
}

/// A paginated collection (`server-hardware-list-1`, `ServerProfileListV5`, …).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    /// The members of this page.
    pub members: Vec<T>,
    /// Members on this page.
    #[serde(default)]
    pub count: u64,
    /// Members in all.
    #[serde(default)]
    pub total: u64,
    /// The next page, if any.
    #[serde(default)]
    pub next_page_uri: Option<String>,
}

/// One entry of a task's `taskErrors`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskError {
    /// `errorCode`.
    #[serde(default)]
    pub error_code: Option<String>,
    /// `message`.
    #[serde(default)]
    pub message: Option<String>,
    /// `details`.
    #[serde(default)]
    pub details: Option<String>,
}

/// `associatedResource` of a task.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedResource {
    /// The resource the task created or changed.
    #[serde(default)]
    pub resource_uri: Option<String>,
}

/// A OneView task (`category: tasks`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// `/rest/tasks/{id}`.
    pub uri: String,
    /// `New`, `Starting`, `Pending`, `Running`, `Suspended`, `Stopping`,
    /// `Completed`, `Warning`, `Error`, `Terminated`, `Killed`.
    #[serde(default)]
    pub task_state: Option<String>,
    /// 0–100.
    #[serde(default)]
    pub percent_complete: Option<f64>,
    /// Why it failed.
    #[serde(default)]
    pub task_errors: Vec<TaskError>,
    /// The resource it is about.
    #[serde(default)]
    pub associated_resource: Option<AssociatedResource>,
    /// python-oneviewclient's alternative error shape: no state, an `errorCode`.
    #[serde(default)]
    pub error_code: Option<String>,
    /// With `errorCode`.
    #[serde(default)]
    pub details: Option<String>,
}

/// Where a task stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    /// Still going (the state as seen).
    Running(String),
    /// `Completed` or `Warning` (hpeOneView treats Warning as complete).
    Done,
    /// `Error`, `Terminated`, `Killed`, or an error code without a state: the
    /// state, and the first error's code and message.
    Failed {
        /// The task state (or `errorCode` when there was none).
        state: String,
        /// `taskErrors[0].errorCode`.
        code: Option<String>,
        /// `taskErrors[0].message` (or `details`).
        message: Option<String>,
    },
}

impl Task {
    /// Where it stands (hpeOneView `TaskMonitor` rules; python-oneviewclient's
    /// `errorCode` without `taskState`).
    ///
    /// ```
    /// use hwctl_oneview::wire::{Task, TaskStatus};
    /// let t: Task = serde_json::from_str(r#"{"uri":"/rest/tasks/1","taskState":"Error",
    ///     "taskErrors":[{"errorCode":"PROFILE_IN_USE","message":"busy"}]}"#).unwrap();
    /// assert_eq!(t.status(), TaskStatus::Failed {
    ///     state: "Error".into(), code: Some("PROFILE_IN_USE".into()), message: Some("busy".into()),
    /// });
    /// let done: Task = serde_json::from_str(r#"{"uri":"/rest/tasks/2","taskState":"Warning"}"#).unwrap();
    /// assert_eq!(done.status(), TaskStatus::Done);
    /// ```
    pub fn status(&self) -> TaskStatus {
        let first = self.task_errors.first();
        let failed = |state: &str| TaskStatus::Failed {
            state: state.to_owned(),
            code: first
                .and_then(|e| e.error_code.clone())
                .or_else(|| self.error_code.clone()),
            message: first
                .and_then(|e| e.message.clone().or_else(|| e.details.clone()))
                .or_else(|| self.details.clone()),
        };
        match self.task_state.as_deref() {
            Some("Completed" | "Warning") => TaskStatus::Done,
            Some(s @ ("Error" | "Terminated" | "Killed")) => failed(s),
            Some(s) => TaskStatus::Running(format!(
                "task {} is {s} ({:.0}%)",
                self.uri,
                self.percent_complete.unwrap_or(0.0)
            )),
            None if self.error_code.is_some() => failed("Error"),
            None => TaskStatus::Running(format!("task {} has no taskState yet", self.uri)),
        }
    }

    /// `associatedResource.resourceUri`.
    ///
    /// ```
    /// let t: hwctl_oneview::wire::Task = serde_json::from_str(r#"{"uri":"/rest/tasks/1",
    ///     "associatedResource":{"resourceUri":"/rest/server-profiles/p"}}"#).unwrap();
    /// assert_eq!(t.resource_uri(), Some("/rest/server-profiles/p"));
    /// ```
    pub fn resource_uri(&self) -> Option<&str> {
        self.associated_resource
            .as_ref()
            .and_then(|r| r.resource_uri.as_deref())
    }
}

/// The `PUT /rest/server-hardware/{id}/powerState` body for `action`, as Ironic's
/// hpOneView-era driver sent it: on `{"powerState":"On"}`, off `PressAndHold`,
/// soft off `MomentaryPress`, reboot `ColdBoot`, soft reboot `Reset`.
///
/// ```
/// use hwctl_core::power::PowerAction;
/// let body = hwctl_oneview::wire::power_body(PowerAction::SoftOff);
/// assert_eq!(body, serde_json::json!({"powerState": "Off", "powerControl": "MomentaryPress"}));
/// ```
pub fn power_body(action: PowerAction) -> Value {
    match action {
        PowerAction::Off => json!({"powerState": "Off", "powerControl": "PressAndHold"}),
        PowerAction::SoftOff => json!({"powerState": "Off", "powerControl": "MomentaryPress"}),
        PowerAction::Reboot => json!({"powerState": "On", "powerControl": "ColdBoot"}),
        PowerAction::SoftReboot => json!({"powerState": "On", "powerControl": "Reset"}),
        _ => json!({"powerState": "On"}),
    }
}

/// Our boot device → OneView's boot order name (`PXE`, `HardDisk`, `CD`, `Floppy`).
///
/// ```
/// use hwctl_core::BootDevice;
/// assert_eq!(hwctl_oneview::wire::oneview_boot_name(BootDevice::Disk), Some("HardDisk"));
/// assert_eq!(hwctl_oneview::wire::oneview_boot_name(BootDevice::Bios), None);
/// ```
pub fn oneview_boot_name(device: BootDevice) -> Option<&'static str> {
    match device {
        BootDevice::Pxe => Some("PXE"),
        BootDevice::Disk => Some("HardDisk"),
        BootDevice::Cdrom => Some("CD"),
        BootDevice::Floppy => Some("Floppy"),
        _ => None,
    }
}

/// OneView's boot order name → our boot device (`USB` has none: `None`).
///
/// ```
/// use hwctl_core::BootDevice;
/// assert_eq!(hwctl_oneview::wire::boot_device_of("CD"), Some(BootDevice::Cdrom));
/// assert_eq!(hwctl_oneview::wire::boot_device_of("USB"), None);
/// ```
pub fn boot_device_of(name: &str) -> Option<BootDevice> {
    match name {
        "PXE" => Some(BootDevice::Pxe),
        "HardDisk" => Some(BootDevice::Disk),
        "CD" => Some(BootDevice::Cdrom),
        "Floppy" => Some(BootDevice::Floppy),
        _ => None,
    }
}

/// Our boot device → iLO's `BootSourceOverrideTarget` (`Pxe`, `Hdd`, `Cd`).
///
/// ```
/// use hwctl_core::BootDevice;
/// assert_eq!(hwctl_oneview::wire::ilo_boot_target(BootDevice::Pxe), Some("Pxe"));
/// assert_eq!(hwctl_oneview::wire::ilo_boot_target(BootDevice::Floppy), None);
/// ```
pub fn ilo_boot_target(device: BootDevice) -> Option<&'static str> {
    match device {
        BootDevice::Pxe => Some("Pxe"),
        BootDevice::Disk => Some("Hdd"),
        BootDevice::Cdrom => Some("Cd"),
        _ => None,
    }
}

/// iLO's `BootSourceOverrideTarget` → our boot device.
///
/// ```
/// use hwctl_core::BootDevice;
/// assert_eq!(hwctl_oneview::wire::boot_device_of_ilo("Hdd"), Some(BootDevice::Disk));
/// assert_eq!(hwctl_oneview::wire::boot_device_of_ilo("UefiShell"), None);
/// ```
pub fn boot_device_of_ilo(target: &str) -> Option<BootDevice> {
    match target {
        "Pxe" => Some(BootDevice::Pxe),
        "Hdd" => Some(BootDevice::Disk),
        "Cd" => Some(BootDevice::Cdrom),
        "Floppy" => Some(BootDevice::Floppy),
        _ => None,
    }
}

/// The iLO `PATCH /rest/v1/Systems/1` body for a one-time boot from `target`.
///
/// ```
/// let body = hwctl_oneview::wire::ilo_one_time_boot_body("Pxe");
/// assert_eq!(body["Boot"]["BootSourceOverrideEnabled"], "Once");
/// ```
pub fn ilo_one_time_boot_body(target: &str) -> Value {
    json!({"Boot": {"BootSourceOverrideTarget": target, "BootSourceOverrideEnabled": "Once"}})
}

/// The iLO `PATCH /rest/v1/Systems/1` body that cancels a one-time boot.
///
/// ```
/// let body = hwctl_oneview::wire::ilo_disable_override_body();
/// assert_eq!(body["Boot"]["BootSourceOverrideEnabled"], "Disabled");
/// ```
pub fn ilo_disable_override_body() -> Value {
    json!({"Boot": {"BootSourceOverrideEnabled": "Disabled"}})
}

/// `GET /rest/server-hardware/{id}/remoteConsoleUrl`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteConsoleUrl {
    /// `hplocons://addr=1.2.3.4&sessionkey=<token>`.
    #[serde(deserialize_with = "secret")]
    pub remote_console_url: SecretString,
}

/// Where and how to reach a server's iLO, from its remote console URL.
#[derive(Debug)]
pub struct IloAccess {
    /// `addr=` (an IP address, optionally with `:port`).
    pub address: String,
    /// `sessionkey=`, sent as `X-Auth-Token`.
    pub session_key: SecretString,
}

/// Reads `addr=` and `sessionkey=` from a `hplocons://` URL (python-oneviewclient
/// `_get_ilo_access`).
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::Protocol`] when either is missing or empty (the URL is not echoed:
/// it holds the key).
///
/// ```
/// use secrecy::ExposeSecret;
/// use hwctl_oneview::wire::parse_remote_console_url;
/// let a = parse_remote_console_url("hplocons://addr=10.0.0.5&sessionkey=abc123")?;
/// assert_eq!(a.address, "10.0.0.5");
/// assert_eq!(a.session_key.expose_secret(), "abc123");
/// let err = parse_remote_console_url("hplocons://addr=10.0.0.5").unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn parse_remote_console_url(url: &str) -> Result<IloAccess> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut address = None;
    let mut key = None;
    for part in rest.split('&') {
        if let Some(a) = part.strip_prefix("addr=") {
            address = Some(a.trim().to_owned());
        } else if let Some(k) = part.strip_prefix("sessionkey=") {
            key = Some(k.trim().to_owned());
        }
    }
    match (address, key) {
        (Some(a), Some(k))
            if !a.is_empty()
                && !k.is_empty()
                && a.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']')
                }) =>
        {
            Ok(IloAccess {
                address: a,
                session_key: SecretString::from(k),
            })
        }
        _ => Err(Error::protocol(
            "the remoteConsoleUrl reply has no usable addr= and sessionkey=",
        )),
    }
}

/// iLO `GET /rest/v1/Systems/1`: the `Boot` block.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IloSystem {
    /// The boot override.
    pub boot: IloBoot,
}

/// iLO's `Boot` block.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IloBoot {
    /// `None`, `Pxe`, `Hdd`, `Cd`, …
    #[serde(default)]
    pub boot_source_override_target: Option<String>,
    /// `Disabled`, `Once`, `Continuous`.
    #[serde(default)]
    pub boot_source_override_enabled: Option<String>,
    /// What the target may be.
    #[serde(default)]
    pub boot_source_override_supported: Vec<String>,
}

/// An iLO (pre-Redfish `/rest/v1`) collection: member links.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IloCollection {
    /// `links.Member[].href`.
    pub links: IloLinks,
}

/// `links` of an iLO collection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IloLinks {
    /// The members.
    #[serde(rename = "Member", default)]
    pub member: Vec<IloHref>,
}

/// `{"href": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IloHref {
    /// The member's path.
    pub href: String,
}

/// Whether an iLO session resource is the caller's own (`Oem.Hp.MySession`).
///
/// ```
/// use serde_json::json;
/// use hwctl_oneview::wire::is_my_ilo_session;
/// assert!(is_my_ilo_session(&json!({"Oem": {"Hp": {"MySession": true}}})));
/// assert!(!is_my_ilo_session(&json!({"Oem": {}})));
/// ```
pub fn is_my_ilo_session(session: &Value) -> bool {
    session
        .pointer("/Oem/Hp/MySession")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `GET /rest/server-hardware/{id}/utilization`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Utilization {
    /// The metrics.
    #[serde(default)]
    pub metric_list: Vec<Metric>,
}

/// One metric of [`Utilization`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// `AmbientTemperature` (°C), `AveragePower`, `PeakPower` (W), `CpuUtilization` (%), `CpuAverageFreq` (MHz).
    pub metric_name: String,
    /// `[[epoch ms, value], …]`, newest first.
    #[serde(default)]
    pub metric_samples: Vec<Vec<Option<f64>>>,
    /// The metric's capacity, if reported.
    #[serde(default)]
    pub metric_capacity: Option<f64>,
}

impl Metric {
    /// The newest sample's value.
    ///
    /// ```
    /// let m: hwctl_oneview::wire::Metric = serde_json::from_str(
    ///     r#"{"metricName":"AveragePower","metricSamples":[[1700000000000,231.0],[1699999700000,229.0]]}"#,
    /// ).unwrap();
    /// assert_eq!(m.latest(), Some(231.0));
    /// ```
    pub fn latest(&self) -> Option<f64> {
        self.metric_samples
            .first()
            .and_then(|s| s.get(1).copied().flatten())
    }
}

/// An error for a OneView error code (`RESOURCE_NOT_FOUND` → not found, …), see
/// [`crate::errors`].
///
/// ```
/// use hwctl_core::ErrorKind;
/// let e = hwctl_oneview::wire::error_for_code(Some("RESOURCE_NOT_FOUND"), "no such profile");
/// assert_eq!(e.kind(), ErrorKind::NotFound);
/// assert_eq!(e.message(), "no such profile");
/// ```
pub fn error_for_code(code: Option<&str>, message: impl Into<String>) -> Error {
    Error::new(crate::errors::kind_of_code(code), message.into())
}

#[cfg(test)]
mod bounded_error_tests {
    use super::*;

    #[test]
    fn a_mistyped_string_of_any_length_gives_a_bounded_message() {
        let long = "x".repeat(100_000);
        let body = format!(r#"{{"minimumVersion": "{long}", "currentVersion": 800}}"#);
        let e = decode::<ApiVersion>("version", body.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), hwctl_core::ErrorKind::Protocol);
        assert!(
            e.to_string().len() < 400,
            "{} characters",
            e.to_string().len()
        );
    }
}
