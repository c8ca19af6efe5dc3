//! Redfish JSON payloads (DSP0266, DSP8010 schemas): the only place that knows
//! property names. Every type is lenient (absent or `null` properties are `None` or
//! empty, unknown ones ignored) because services differ; decoding a body that is
//! not JSON, too deep, or of the wrong shape is [`ErrorKind::Protocol`].

use hwctl_core::{BootDevice, BootMode, Error, ErrorKind, PowerState, Result};
use serde::{Deserialize, Serialize};

/// A link: `{"@odata.id": "/redfish/v1/…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ODataId {
    /// The resource's path.
    #[serde(rename = "@odata.id")]
    pub id: String,
}

/// `ServiceRoot` (`/redfish/v1/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceRoot {
    /// `RedfishVersion`.
    pub redfish_version: Option<String>,
    /// `UUID`.
    #[serde(rename = "UUID")]
    pub uuid: Option<String>,
    /// The systems collection.
    pub systems: Option<ODataId>,
    /// The chassis collection.
    pub chassis: Option<ODataId>,
    /// The managers collection.
    pub managers: Option<ODataId>,
    /// The session service.
    pub session_service: Option<ODataId>,
    /// `Links` (`Sessions`: where to `POST` a log-in).
    pub links: Option<RootLinks>,
}

impl ServiceRoot {
    /// The sessions collection a log-in is posted to, if the service has one.
    pub fn sessions(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.sessions.as_ref())
            .map(|s| s.id.as_str())
    }
}

/// `ServiceRoot.Links`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootLinks {
    /// `Sessions`.
    pub sessions: Option<ODataId>,
}

/// Any resource collection.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Collection {
    /// `Members`.
    #[serde(default)]
    pub members: Vec<ODataId>,
}

/// `Resource.Status`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Status {
    /// `State` (`Enabled`, `Absent`, …).
    pub state: Option<String>,
    /// `Health` (`OK`, `Warning`, `Critical`).
    pub health: Option<String>,
}

impl Status {
    /// A status word for a sensor reading: the health lower-cased, `unavailable`
    /// when the sensor is not enabled.
    pub fn word(status: Option<&Status>) -> String {
        match status {
            Some(s) if s.state.as_deref().is_some_and(|st| st != "Enabled") => "unavailable".into(),
            Some(Status {
                health: Some(h), ..
            }) => h.to_ascii_lowercase(),
            _ => "unknown".into(),
        }
    }
}

/// `ComputerSystem` (the parts a power and boot driver needs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComputerSystem {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<String>,
    /// `@odata.etag` (some services put the ETag in the body).
    #[serde(rename = "@odata.etag")]
    pub odata_etag: Option<String>,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `PowerState`: `On`, `Off`, `PoweringOn`, `PoweringOff`, `Paused`.
    pub power_state: Option<String>,
    /// `Boot`.
    pub boot: Option<Boot>,
    /// `Actions`.
    pub actions: Option<SystemActions>,
    /// `Links`.
    pub links: Option<SystemLinks>,
    /// `Status`.
    pub status: Option<Status>,
}

impl ComputerSystem {
    /// The power state as hw reports it (DSP8010 `Resource.PowerState`): `On`,
    /// `PoweringOff` (still on until off) → on; `Off`, `PoweringOn` (off until on) →
    /// off; anything else (`Paused`, absent, unknown) → unknown.
    pub fn power(&self) -> PowerState {
        match self.power_state.as_deref() {
            Some("On" | "PoweringOff") => PowerState::On,
            Some("Off" | "PoweringOn") => PowerState::Off,
            _ => PowerState::Unknown,
        }
    }

    /// The `ComputerSystem.Reset` action, if the system offers one.
    pub fn reset(&self) -> Option<&ResetAction> {
        self.actions.as_ref().and_then(|a| a.reset.as_ref())
    }

    /// The first chassis the system links.
    pub fn chassis(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.chassis.first())
            .map(|c| c.id.as_str())
    }
}

/// `ComputerSystem.Boot`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Boot {
    /// `BootSourceOverrideTarget` (`None`, `Pxe`, `Hdd`, `Cd`, `BiosSetup`, `Usb`,
    /// `UefiHttp`, …).
    pub boot_source_override_target: Option<String>,
    /// `BootSourceOverrideTarget@Redfish.AllowableValues`.
    #[serde(rename = "BootSourceOverrideTarget@Redfish.AllowableValues")]
    pub target_allowable_values: Option<Vec<String>>,
    /// `BootSourceOverrideEnabled`: `Disabled`, `Once`, `Continuous`.
    pub boot_source_override_enabled: Option<String>,
    /// `BootSourceOverrideMode`: `Legacy`, `UEFI`.
    pub boot_source_override_mode: Option<String>,
}

impl Boot {
    /// The override as hw reports it: the device (none when disabled or `None`) and
    /// whether it is persistent (`Continuous`).
    pub fn setting(&self) -> hwctl_core::BootDeviceSetting {
        let enabled = self.boot_source_override_enabled.as_deref();
        if enabled == Some("Disabled") {
            return hwctl_core::BootDeviceSetting::default();
        }
        hwctl_core::BootDeviceSetting {
            device: self
                .boot_source_override_target
                .as_deref()
                .and_then(device_of_target),
            persistent: match enabled {
                Some("Continuous") => Some(true),
                Some("Once") => Some(false),
                _ => None,
            },
        }
    }

    /// The boot mode (`UEFI` → UEFI, `Legacy` → BIOS).
    pub fn mode(&self) -> Option<BootMode> {
        match self.boot_source_override_mode.as_deref() {
            Some("UEFI") => Some(BootMode::Uefi),
            Some("Legacy") => Some(BootMode::Bios),
            _ => None,
        }
    }
}

/// The `BootSourceOverrideTarget` for a boot device (DSP8010 `BootSource`).
pub fn target_of_device(device: BootDevice) -> Option<&'static str> {
    Some(match device {
        BootDevice::Pxe => "Pxe",
        BootDevice::Disk => "Hdd",
        BootDevice::Cdrom => "Cd",
        BootDevice::Bios => "BiosSetup",
        BootDevice::Floppy => "Usb",
        BootDevice::Uefihttp => "UefiHttp",
        _ => return None,
    })
}

/// The boot device of a `BootSourceOverrideTarget` (`None` for `None` and targets
/// with no hw device).
pub fn device_of_target(target: &str) -> Option<BootDevice> {
    Some(match target {
        "Pxe" => BootDevice::Pxe,
        "Hdd" => BootDevice::Disk,
        "Cd" => BootDevice::Cdrom,
        "BiosSetup" => BootDevice::Bios,
        "Usb" | "Floppy" => BootDevice::Floppy,
        "UefiHttp" => BootDevice::Uefihttp,
        _ => return None,
    })
}

/// The `BootSourceOverrideMode` for a boot mode.
pub fn mode_name(mode: BootMode) -> &'static str {
    match mode {
        BootMode::Uefi => "UEFI",
        _ => "Legacy",
    }
}

/// `ComputerSystem.Actions`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SystemActions {
    /// `#ComputerSystem.Reset`.
    #[serde(rename = "#ComputerSystem.Reset")]
    pub reset: Option<ResetAction>,
}

/// `#ComputerSystem.Reset`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResetAction {
    /// Where to `POST` `{"ResetType": …}`.
    pub target: Option<String>,
    /// `ResetType@Redfish.AllowableValues` (absent: the service does not say).
    #[serde(rename = "ResetType@Redfish.AllowableValues")]
    pub allowable_values: Option<Vec<String>>,
}

/// `ComputerSystem.Links`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemLinks {
    /// `Chassis`.
    #[serde(default)]
    pub chassis: Vec<ODataId>,
    /// `ManagedBy`.
    #[serde(default)]
    pub managed_by: Vec<ODataId>,
}

/// `Chassis` (the links to its sensors).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Chassis {
    /// `Id`.
    pub id: Option<String>,
    /// `Thermal` (deprecated in 2020.4 but still the most common).
    pub thermal: Option<ODataId>,
    /// `Power`.
    pub power: Option<ODataId>,
    /// `ThermalSubsystem`.
    pub thermal_subsystem: Option<ODataId>,
    /// `PowerSubsystem`.
    pub power_subsystem: Option<ODataId>,
    /// `Sensors`.
    pub sensors: Option<ODataId>,
}

/// `Thermal`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Thermal {
    /// `Temperatures`.
    #[serde(default)]
    pub temperatures: Vec<Temperature>,
    /// `Fans`.
    #[serde(default)]
    pub fans: Vec<Fan>,
}

/// `Thermal.Temperatures[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Temperature {
    /// `Name`.
    pub name: Option<String>,
    /// `ReadingCelsius`, °C.
    pub reading_celsius: Option<f64>,
    /// `Status`.
    pub status: Option<Status>,
}

/// `Thermal.Fans[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fan {
    /// `Name` (`FanName` in schema 1.0).
    pub name: Option<String>,
    /// `FanName`.
    pub fan_name: Option<String>,
    /// `Reading`.
    pub reading: Option<f64>,
    /// `ReadingUnits`: `RPM` or `Percent`.
    pub reading_units: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
}

/// `Power`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Power {
    /// `PowerControl`.
    #[serde(default)]
    pub power_control: Vec<PowerControl>,
    /// `Voltages`.
    #[serde(default)]
    pub voltages: Vec<Voltage>,
}

/// `Power.PowerControl[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PowerControl {
    /// `Name`.
    pub name: Option<String>,
    /// `PowerConsumedWatts`, W.
    pub power_consumed_watts: Option<f64>,
    /// `Status`.
    pub status: Option<Status>,
}

/// `Power.Voltages[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Voltage {
    /// `Name`.
    pub name: Option<String>,
    /// `ReadingVolts`, V.
    pub reading_volts: Option<f64>,
    /// `Status`.
    pub status: Option<Status>,
}

/// `Sensor` (a member of `Chassis.Sensors`, DSP8010 `Sensor.v1`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Sensor {
    /// `Name`.
    pub name: Option<String>,
    /// `Reading`, in `ReadingUnits`.
    pub reading: Option<f64>,
    /// `ReadingType`: `Temperature`, `Voltage`, `Power`, `Rotational`, `Current`, …
    pub reading_type: Option<String>,
    /// `ReadingUnits` (UCUM: `Cel`, `V`, `W`, `A`, `RPM`, `%`).
    pub reading_units: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
}

/// `Task` (what a task monitor answers once the task is done, or while it runs on
/// services that answer 200 with the task).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    /// `TaskState`: `New`, `Starting`, `Running`, `Completed`, `Exception`,
    /// `Killed`, `Cancelled`, …
    pub task_state: Option<String>,
    /// `PercentComplete`.
    pub percent_complete: Option<f64>,
    /// `Messages`.
    #[serde(default)]
    pub messages: Vec<Message>,
}

/// `Message.Message` (in `@Message.ExtendedInfo` and task messages).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Message {
    /// `MessageId` (`Base.1.8.PropertyValueNotInList`).
    pub message_id: Option<String>,
    /// `Message`.
    pub message: Option<String>,
}

/// The Redfish error body (DSP0266 §9.7.1): `{"error": {"code", "message",
/// "@Message.ExtendedInfo": […]}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// `error`.
    pub error: ErrorDetail,
}

/// `error` of an [`ErrorBody`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDetail {
    /// `code` (a MessageId).
    pub code: Option<String>,
    /// `message`.
    pub message: Option<String>,
    /// `@Message.ExtendedInfo`.
    #[serde(rename = "@Message.ExtendedInfo", default)]
    pub extended_info: Vec<Message>,
}

impl ErrorBody {
    /// A one-line summary: the message ids first (`[Base.1.8.X, …]`) then the
    /// messages, at most 300 characters.
    pub fn summary(&self) -> String {
        let e = &self.error;
        let mut ids: Vec<&str> = e.code.iter().map(String::as_str).collect();
        ids.extend(
            e.extended_info
                .iter()
                .filter_map(|m| m.message_id.as_deref()),
        );
        ids.dedup();
        let mut texts: Vec<&str> = e
            .extended_info
            .iter()
            .filter_map(|m| m.message.as_deref())
            .collect();
        if texts.is_empty() {
            texts.extend(e.message.as_deref());
        }
        let mut s = String::new();
        if !ids.is_empty() {
            s.push('[');
            s.push_str(&ids.join(", "));
            s.push_str("] ");
        }
        s.push_str(&texts.join("; "));
        let s: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(300)
            .collect();
        s.trim().to_owned()
    }
}

/// The log-in body (`Session` resource: `UserName`, `Password`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SessionRequest<'a> {
    pub(crate) user_name: &'a str,
    pub(crate) password: &'a str,
}

/// The deepest JSON nesting accepted (serde_json stops at 128 as well).
pub const MAX_DEPTH: usize = 64;

/// Decodes a Redfish JSON body into `T`.
///
/// # Errors
///
/// [`ErrorKind::Protocol`] when `body` is not UTF-8 JSON, nests deeper than
/// [`MAX_DEPTH`], or does not have `T`'s shape; the message names `what`.
///
/// ```
/// let sys: hwctl_redfish::wire::ComputerSystem =
///     hwctl_redfish::wire::decode(br#"{"PowerState":"PoweringOn"}"#, "system")?;
/// assert_eq!(sys.power(), hwctl_core::PowerState::Off);
/// assert!(hwctl_redfish::wire::decode::<hwctl_redfish::wire::ComputerSystem>(b"<html>", "system").is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    if too_deep(body) {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!("{what}: reply nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        // serde_json quotes a mistyped string whole: keep its first 200 characters.
        let e: String = e.to_string().chars().take(200).collect();
        Error::new(
            ErrorKind::Protocol,
            format!("{what}: reply is not the expected Redfish JSON ({e})"),
        )
    })
}

/// Whether brackets nest deeper than [`MAX_DEPTH`] (strings skipped).
fn too_deep(body: &[u8]) -> bool {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for &b in body {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The `ResetType` values to try for a power action, most preferred first
/// (DSP8010 `Resource.ResetType`).
pub fn reset_types(action: hwctl_core::power::PowerAction) -> &'static [&'static str] {
    use hwctl_core::power::PowerAction as A;
    match action {
        A::On => &["On", "ForceOn"],
        A::Off => &["ForceOff"],
        A::SoftOff => &["GracefulShutdown"],
        A::Reboot => &["ForceRestart", "PowerCycle"],
        A::SoftReboot => &["GracefulRestart"],
        _ => &[],
    }
}

/// Picks the `ResetType` to send: the first of `wanted` the service allows (every
/// one when it lists no `AllowableValues`, then the first).
///
/// # Errors
///
/// [`ErrorKind::Unsupported`] when none of `wanted` is allowed, naming the allowed
/// values.
pub fn choose_reset_type(
    allowed: Option<&[String]>,
    wanted: &[&'static str],
) -> Result<&'static str> {
    match allowed {
        None => wanted
            .first()
            .copied()
            .ok_or_else(|| Error::unsupported("this power action")),
        Some(list) => wanted
            .iter()
            .copied()
            .find(|w| list.iter().any(|a| a == w))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "the system allows no ResetType {}: it lists {}",
                        wanted.join(" or "),
                        allowed_summary(list)
                    ),
                )
            }),
    }
}

/// How many values a service allows (an `@Redfish.AllowableValues` list) and the
/// first few of them, each at most 40 characters with control characters blanked
/// (`2 values (On, ForceOff)`): the list comes from the device, so an error quoting
/// it whole could be as long as the reply.
pub(crate) fn allowed_summary(list: &[String]) -> String {
    const SHOWN: usize = 6;
    const VALUE_CHARS: usize = 40;
    if list.is_empty() {
        return "no values".into();
    }
    let shown: Vec<String> = list
        .iter()
        .take(SHOWN)
        .map(|v| {
            let mut s: String = v
                .chars()
                .take(VALUE_CHARS)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if v.chars().count() > VALUE_CHARS {
                s.push('…');
            }
            s
        })
        .collect();
    let more = if list.len() > SHOWN { ", …" } else { "" };
    let noun = if list.len() == 1 { "value" } else { "values" };
    format!("{} {noun} ({}{more})", list.len(), shown.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_mistyped_string_of_any_length_gives_a_bounded_message() {
        // Found by fuzz/openbmc_json (the same serde_json message): the whole
        // string went into the error.
        let body = format!(r#"{{"PowerState":["{}"]}}"#, "s".repeat(5000));
        let e = decode::<ComputerSystem>(body.as_bytes(), "GET system").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.to_string().len() < 400, "{e}");
        let body = format!(r#"{{"Boot":"{}"}}"#, "s".repeat(5000));
        let e = decode::<ComputerSystem>(body.as_bytes(), "GET system").unwrap_err();
        assert!(e.to_string().len() < 400, "{e}");
    }

    #[test]
    fn deep_nesting_is_protocol() {
        let body = "[".repeat(10_000);
        let e = decode::<Collection>(body.as_bytes(), "x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        // Brackets inside strings do not count.
        let ok = format!("{{\"Members\":[],\"x\":\"{}\"}}", "[".repeat(1000));
        decode::<Collection>(ok.as_bytes(), "x").unwrap();
    }

    #[test]
    fn error_summary_keeps_ids() {
        let b: ErrorBody = decode(
            br#"{"error":{"code":"Base.1.8.GeneralError","message":"x",
            "@Message.ExtendedInfo":[{"MessageId":"Base.1.8.PropertyValueNotInList","Message":"bad value"}]}}"#,
            "e",
        )
        .unwrap();
        assert_eq!(
            b.summary(),
            "[Base.1.8.GeneralError, Base.1.8.PropertyValueNotInList] bad value"
        );
    }

    #[test]
    fn reset_choice() {
        use hwctl_core::power::PowerAction as A;
        let allowed = vec!["ForceOn".to_string(), "ForceOff".into()];
        assert_eq!(
            choose_reset_type(Some(&allowed), reset_types(A::On)).unwrap(),
            "ForceOn"
        );
        let e = choose_reset_type(Some(&allowed), reset_types(A::Reboot)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(
            choose_reset_type(None, reset_types(A::Reboot)).unwrap(),
            "ForceRestart"
        );
    }

    #[test]
    fn a_long_allowed_list_gives_a_bounded_message() {
        use hwctl_core::power::PowerAction as A;
        // A service may list any number of values of any length: the error says
        // how many and shows a few, never the whole list.
        let allowed: Vec<String> = (0..10_000)
            .map(|i| format!("Nonsense{i}{}", "x".repeat(100)))
            .collect();
        let e = choose_reset_type(Some(&allowed), reset_types(A::Reboot)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let text = e.to_string();
        assert!(text.len() < 600, "{} bytes", text.len());
        assert!(text.contains("it lists 10000 values (Nonsense0"), "{text}");
        assert!(text.contains("Nonsense0"), "{text}");
        assert!(!text.contains("Nonsense6"), "{text}");
        assert!(text.contains("ForceRestart or PowerCycle"), "{text}");
        // A short list is shown whole, control characters blanked.
        let allowed = vec!["ForceOn".to_string(), "Force\u{1b}[2JOff".into()];
        let e = choose_reset_type(Some(&allowed), reset_types(A::Reboot)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("it lists 2 values (ForceOn, Force [2JOff)"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
        let e = choose_reset_type(Some(&[]), reset_types(A::Reboot)).unwrap_err();
        assert!(e.to_string().ends_with("it lists no values"), "{e}");
    }
}
