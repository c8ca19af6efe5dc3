//! Redfish JSON payloads (DSP0266, DSP8010 schemas): the only place that knows
//! property names. Every type is lenient (absent or `null` properties are `None` or
//! empty, unknown ones ignored) because services differ; decoding a body that is
//! not JSON, too deep, or of the wrong shape is [`ErrorKind::Protocol`].

use hwctl_core::{BootDevice, BootMode, Error, ErrorKind, PowerState, Result};
use serde::{Deserialize, Serialize};

/// A link: `{"@odata.id": "/redfish/v1/…"}`.
///
/// ```
/// use hwctl_redfish::wire::{decode, ODataId};
/// let link: ODataId = decode(br#"{"@odata.id": "/redfish/v1/Systems/1"}"#, "link")?;
/// assert_eq!(link.id, "/redfish/v1/Systems/1");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ODataId {
    /// The resource's path.
    #[serde(rename = "@odata.id")]
    pub id: String,
}

/// `ServiceRoot` (`/redfish/v1/`).
///
/// ```
/// use hwctl_redfish::wire::{decode, ServiceRoot};
/// let root: ServiceRoot = decode(br#"{"RedfishVersion": "1.15.0",
///     "Systems": {"@odata.id": "/redfish/v1/Systems"}}"#, "service root")?;
/// assert_eq!(root.redfish_version.as_deref(), Some("1.15.0"));
/// assert_eq!(root.systems.map(|s| s.id).as_deref(), Some("/redfish/v1/Systems"));
/// assert!(root.session_service.is_none());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// use hwctl_redfish::wire::{decode, ServiceRoot};
    /// let root: ServiceRoot = decode(br#"{"Links": {"Sessions":
    ///     {"@odata.id": "/redfish/v1/SessionService/Sessions"}}}"#, "service root")?;
    /// assert_eq!(root.sessions(), Some("/redfish/v1/SessionService/Sessions"));
    /// assert_eq!(decode::<ServiceRoot>(b"{}", "service root")?.sessions(), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn sessions(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.sessions.as_ref())
            .map(|s| s.id.as_str())
    }
}

/// `ServiceRoot.Links`.
///
/// ```
/// use hwctl_redfish::wire::{decode, RootLinks};
/// let links: RootLinks = decode(br#"{"Sessions": {"@odata.id": "/s"}}"#, "links")?;
/// assert_eq!(links.sessions.map(|s| s.id).as_deref(), Some("/s"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootLinks {
    /// `Sessions`.
    pub sessions: Option<ODataId>,
}

/// Any resource collection.
///
/// ```
/// use hwctl_redfish::wire::{decode, Collection};
/// let c: Collection = decode(br#"{"Members": [{"@odata.id": "/redfish/v1/Systems/1"},
///     {"@odata.id": "/redfish/v1/Systems/2"}], "Members@odata.count": 2}"#, "systems")?;
/// assert_eq!(c.members.len(), 2);
/// assert!(decode::<Collection>(b"{}", "systems")?.members.is_empty());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Collection {
    /// `Members`.
    #[serde(default)]
    pub members: Vec<ODataId>,
}

/// `Resource.Status`.
///
/// ```
/// use hwctl_redfish::wire::{decode, Status};
/// let s: Status = decode(br#"{"State": "Enabled", "Health": "OK"}"#, "status")?;
/// assert_eq!((s.state.as_deref(), s.health.as_deref()), (Some("Enabled"), Some("OK")));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// use hwctl_redfish::wire::{decode, Status};
    /// let ok: Status = decode(br#"{"State": "Enabled", "Health": "Warning"}"#, "status")?;
    /// assert_eq!(Status::word(Some(&ok)), "warning");
    /// let absent: Status = decode(br#"{"State": "Absent", "Health": "OK"}"#, "status")?;
    /// assert_eq!(Status::word(Some(&absent)), "unavailable");
    /// assert_eq!(Status::word(None), "unknown");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, ComputerSystem};
/// let sys: ComputerSystem = decode(br#"{"@odata.id": "/redfish/v1/Systems/1",
///     "@odata.etag": "W/\"1\"", "Id": "1", "PowerState": "On",
///     "Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}"#, "system")?;
/// assert_eq!(sys.odata_etag.as_deref(), Some("W/\"1\""));
/// assert_eq!(sys.power(), hwctl_core::PowerState::On);
/// assert_eq!(sys.boot.map(|b| b.setting().device), Some(Some(hwctl_core::BootDevice::Pxe)));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// use hwctl_core::PowerState;
    /// use hwctl_redfish::wire::{decode, ComputerSystem};
    /// let state = |s: &str| -> hwctl_core::Result<PowerState> {
    ///     let body = format!(r#"{{"PowerState": "{s}"}}"#);
    ///     Ok(decode::<ComputerSystem>(body.as_bytes(), "system")?.power())
    /// };
    /// assert_eq!(state("PoweringOff")?, PowerState::On);
    /// assert_eq!(state("PoweringOn")?, PowerState::Off);
    /// assert_eq!(state("Paused")?, PowerState::Unknown);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn power(&self) -> PowerState {
        match self.power_state.as_deref() {
            Some("On" | "PoweringOff") => PowerState::On,
            Some("Off" | "PoweringOn") => PowerState::Off,
            _ => PowerState::Unknown,
        }
    }

    /// The `ComputerSystem.Reset` action, if the system offers one.
    ///
    /// ```
    /// use hwctl_redfish::wire::{decode, ComputerSystem};
    /// let sys: ComputerSystem = decode(br##"{"Actions": {"#ComputerSystem.Reset": {
    ///     "target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
    ///     "ResetType@Redfish.AllowableValues": ["On", "ForceOff"]}}}"##, "system")?;
    /// let reset = sys.reset().expect("a reset action");
    /// assert_eq!(reset.allowable_values.as_deref(), Some(&["On".to_owned(), "ForceOff".to_owned()][..]));
    /// assert!(decode::<ComputerSystem>(b"{}", "system")?.reset().is_none());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn reset(&self) -> Option<&ResetAction> {
        self.actions.as_ref().and_then(|a| a.reset.as_ref())
    }

    /// The first chassis the system links.
    ///
    /// ```
    /// use hwctl_redfish::wire::{decode, ComputerSystem};
    /// let sys: ComputerSystem = decode(br#"{"Links": {"Chassis":
    ///     [{"@odata.id": "/redfish/v1/Chassis/1U"}]}}"#, "system")?;
    /// assert_eq!(sys.chassis(), Some("/redfish/v1/Chassis/1U"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn chassis(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.chassis.first())
            .map(|c| c.id.as_str())
    }
}

/// `ComputerSystem.Boot`.
///
/// ```
/// use hwctl_redfish::wire::{decode, Boot};
/// let boot: Boot = decode(br#"{"BootSourceOverrideTarget": "Cd",
///     "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Cd"],
///     "BootSourceOverrideMode": "Legacy"}"#, "boot")?;
/// assert_eq!(boot.target_allowable_values.map(|v| v.len()), Some(3));
/// assert_eq!(boot.boot_source_override_mode.as_deref(), Some("Legacy"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// use hwctl_core::BootDevice;
    /// use hwctl_redfish::wire::{decode, Boot};
    /// let boot: Boot = decode(br#"{"BootSourceOverrideTarget": "Hdd",
    ///     "BootSourceOverrideEnabled": "Continuous"}"#, "boot")?;
    /// let setting = boot.setting();
    /// assert_eq!((setting.device, setting.persistent), (Some(BootDevice::Disk), Some(true)));
    /// let off: Boot = decode(br#"{"BootSourceOverrideTarget": "Hdd",
    ///     "BootSourceOverrideEnabled": "Disabled"}"#, "boot")?;
    /// assert_eq!(off.setting().device, None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
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
    ///
    /// ```
    /// use hwctl_core::BootMode;
    /// use hwctl_redfish::wire::{decode, Boot};
    /// let boot: Boot = decode(br#"{"BootSourceOverrideMode": "UEFI"}"#, "boot")?;
    /// assert_eq!(boot.mode(), Some(BootMode::Uefi));
    /// assert_eq!(decode::<Boot>(b"{}", "boot")?.mode(), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn mode(&self) -> Option<BootMode> {
        match self.boot_source_override_mode.as_deref() {
            Some("UEFI") => Some(BootMode::Uefi),
            Some("Legacy") => Some(BootMode::Bios),
            _ => None,
        }
    }
}

/// The `BootSourceOverrideTarget` for a boot device (DSP8010 `BootSource`).
///
/// ```
/// use hwctl_core::BootDevice;
/// use hwctl_redfish::wire::target_of_device;
/// assert_eq!(target_of_device(BootDevice::Pxe), Some("Pxe"));
/// assert_eq!(target_of_device(BootDevice::Bios), Some("BiosSetup"));
/// ```
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
///
/// ```
/// use hwctl_core::BootDevice;
/// use hwctl_redfish::wire::device_of_target;
/// assert_eq!(device_of_target("Hdd"), Some(BootDevice::Disk));
/// assert_eq!(device_of_target("Floppy"), Some(BootDevice::Floppy));
/// assert_eq!(device_of_target("None"), None);
/// ```
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
///
/// ```
/// use hwctl_core::BootMode;
/// assert_eq!(hwctl_redfish::wire::mode_name(BootMode::Uefi), "UEFI");
/// assert_eq!(hwctl_redfish::wire::mode_name(BootMode::Bios), "Legacy");
/// ```
pub fn mode_name(mode: BootMode) -> &'static str {
    match mode {
        BootMode::Uefi => "UEFI",
        _ => "Legacy",
    }
}

/// `ComputerSystem.Actions`.
///
/// ```
/// use hwctl_redfish::wire::{decode, SystemActions};
/// let a: SystemActions = decode(br##"{"#ComputerSystem.Reset": {"target": "/r"}}"##, "actions")?;
/// assert_eq!(a.reset.and_then(|r| r.target).as_deref(), Some("/r"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SystemActions {
    /// `#ComputerSystem.Reset`.
    #[serde(rename = "#ComputerSystem.Reset")]
    pub reset: Option<ResetAction>,
}

/// `#ComputerSystem.Reset`.
///
/// ```
/// use hwctl_redfish::wire::{decode, ResetAction};
/// let r: ResetAction = decode(br#"{"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"}"#, "reset")?;
/// assert!(r.target.is_some());
/// // No AllowableValues: the service allows any ResetType.
/// assert_eq!(r.allowable_values, None);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResetAction {
    /// Where to `POST` `{"ResetType": …}`.
    pub target: Option<String>,
    /// `ResetType@Redfish.AllowableValues` (absent: the service does not say).
    #[serde(rename = "ResetType@Redfish.AllowableValues")]
    pub allowable_values: Option<Vec<String>>,
}

/// `ComputerSystem.Links`.
///
/// ```
/// use hwctl_redfish::wire::{decode, SystemLinks};
/// let l: SystemLinks = decode(br#"{"ManagedBy": [{"@odata.id": "/redfish/v1/Managers/1"}]}"#, "links")?;
/// assert_eq!(l.managed_by[0].id, "/redfish/v1/Managers/1");
/// assert!(l.chassis.is_empty());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Chassis};
/// let c: Chassis = decode(br#"{"Id": "1U", "Thermal": {"@odata.id": "/redfish/v1/Chassis/1U/Thermal"},
///     "Sensors": {"@odata.id": "/redfish/v1/Chassis/1U/Sensors"}}"#, "chassis")?;
/// assert_eq!(c.thermal.map(|t| t.id).as_deref(), Some("/redfish/v1/Chassis/1U/Thermal"));
/// assert!(c.power.is_none() && c.sensors.is_some());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Thermal};
/// let t: Thermal = decode(br#"{"Temperatures": [{"Name": "CPU1", "ReadingCelsius": 41}],
///     "Fans": [{"Name": "Fan1", "Reading": 4200, "ReadingUnits": "RPM"}]}"#, "thermal")?;
/// assert_eq!((t.temperatures.len(), t.fans.len()), (1, 1));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Temperature};
/// let t: Temperature = decode(br#"{"Name": "Inlet", "ReadingCelsius": 21.5}"#, "temperature")?;
/// assert_eq!(t.reading_celsius, Some(21.5));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Fan};
/// let f: Fan = decode(br#"{"FanName": "Fan 2", "Reading": 35, "ReadingUnits": "Percent"}"#, "fan")?;
/// assert_eq!((f.fan_name.as_deref(), f.reading), (Some("Fan 2"), Some(35.0)));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Power};
/// let p: Power = decode(br#"{"PowerControl": [{"PowerConsumedWatts": 344}],
///     "Voltages": [{"Name": "VRM1", "ReadingVolts": 1.2}]}"#, "power")?;
/// assert_eq!(p.power_control[0].power_consumed_watts, Some(344.0));
/// assert_eq!(p.voltages[0].reading_volts, Some(1.2));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, PowerControl};
/// let p: PowerControl = decode(br#"{"Name": "System Input Power", "PowerConsumedWatts": null}"#, "power control")?;
/// assert_eq!(p.power_consumed_watts, None);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Voltage};
/// let v: Voltage = decode(br#"{"Name": "12V", "ReadingVolts": 12.1}"#, "voltage")?;
/// assert_eq!(v.name.as_deref(), Some("12V"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Sensor};
/// let s: Sensor = decode(br#"{"Name": "CPU0 Temp", "Reading": 52, "ReadingType": "Temperature",
///     "ReadingUnits": "Cel"}"#, "sensor")?;
/// assert_eq!((s.reading, s.reading_units.as_deref()), (Some(52.0), Some("Cel")));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Task};
/// let t: Task = decode(br#"{"TaskState": "Exception", "PercentComplete": 40,
///     "Messages": [{"MessageId": "Base.1.8.InternalError", "Message": "failed"}]}"#, "task")?;
/// assert_eq!(t.task_state.as_deref(), Some("Exception"));
/// assert_eq!(t.messages[0].message_id.as_deref(), Some("Base.1.8.InternalError"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, Message};
/// let m: Message = decode(br#"{"MessageId": "Base.1.8.Success"}"#, "message")?;
/// assert_eq!((m.message_id.as_deref(), m.message), (Some("Base.1.8.Success"), None));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
///
/// ```
/// use hwctl_redfish::wire::{decode, ErrorBody};
/// let e: ErrorBody = decode(br#"{"error": {"code": "Base.1.8.GeneralError", "message": "See ExtendedInfo"}}"#, "error")?;
/// assert_eq!(e.error.code.as_deref(), Some("Base.1.8.GeneralError"));
/// assert!(decode::<ErrorBody>(b"{}", "error").is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// `error`.
    pub error: ErrorDetail,
}

/// `error` of an [`ErrorBody`].
///
/// ```
/// use hwctl_redfish::wire::{decode, ErrorDetail};
/// let d: ErrorDetail = decode(br#"{"@Message.ExtendedInfo": [{"MessageId": "Base.1.8.PropertyUnknown"}]}"#, "error")?;
/// assert_eq!(d.extended_info.len(), 1);
/// assert_eq!(d.code, None);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// use hwctl_redfish::wire::{decode, ErrorBody};
    /// let e: ErrorBody = decode(br#"{"error": {"code": "Base.1.8.GeneralError",
    ///     "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.PropertyValueNotInList",
    ///     "Message": "The value Floppy is not in the list of acceptable values."}]}}"#, "error")?;
    /// assert_eq!(e.summary(), "[Base.1.8.GeneralError, Base.1.8.PropertyValueNotInList] \
    ///     The value Floppy is not in the list of acceptable values.");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
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
///
/// ```
/// use hwctl_core::power::PowerAction;
/// use hwctl_redfish::wire::reset_types;
/// assert_eq!(reset_types(PowerAction::On), ["On", "ForceOn"]);
/// assert_eq!(reset_types(PowerAction::Reboot), ["ForceRestart", "PowerCycle"]);
/// ```
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
///
/// ```
/// use hwctl_core::ErrorKind;
/// use hwctl_redfish::wire::choose_reset_type;
/// let allowed = vec!["ForceOn".to_owned(), "ForceOff".to_owned()];
/// assert_eq!(choose_reset_type(Some(&allowed), &["On", "ForceOn"])?, "ForceOn");
/// assert_eq!(choose_reset_type(None, &["On", "ForceOn"])?, "On");
/// let err = choose_reset_type(Some(&allowed), &["GracefulShutdown"]).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Unsupported);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
