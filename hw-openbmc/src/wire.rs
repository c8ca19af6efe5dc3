//! The OpenBMC REST API's JSON (phosphor-rest-server / bmcweb's REST compatibility):
//! the `{"data", "message", "status"}` envelope, D-Bus enumeration values, paths.
//! Sources: openbmc/docs `rest-api.md` and `REST-cheatsheet.md` @ cf706722, MAAS
//! `openbmc.py` @ 61da83de (PROTOCOLS.md §2.3).

use hwctl_core::{BootDevice, Error, ErrorKind, PowerState, Result, SensorKind, SensorReading};
use serde::Deserialize;
use serde_json::Value;

/// `POST /login`.
pub const LOGIN: &str = "/login";
/// `POST /logout`.
pub const LOGOUT: &str = "/logout";
/// The host's state object.
pub const HOST: &str = "/xyz/openbmc_project/state/host0";
/// `CurrentHostState` (read).
pub const HOST_STATE: &str = "/xyz/openbmc_project/state/host0/attr/CurrentHostState";
/// `RequestedHostTransition` (`PUT`).
pub const HOST_TRANSITION: &str = "/xyz/openbmc_project/state/host0/attr/RequestedHostTransition";
/// `RequestedPowerTransition` of chassis0 (`PUT`: hard off).
pub const CHASSIS_TRANSITION: &str =
    "/xyz/openbmc_project/state/chassis0/attr/RequestedPowerTransition";
/// The persistent boot settings object.
pub const BOOT: &str = "/xyz/openbmc_project/control/host0/boot";
/// The one-time boot settings object.
pub const BOOT_ONE_TIME: &str = "/xyz/openbmc_project/control/host0/boot/one_time";
/// Every sensor with its properties.
pub const SENSORS: &str = "/xyz/openbmc_project/sensors/enumerate";

/// `xyz.openbmc_project.State.Host.Transition.<t>`.
///
/// ```
/// assert_eq!(hwctl_openbmc::wire::host_transition("Reboot"),
///     "xyz.openbmc_project.State.Host.Transition.Reboot");
/// ```
pub fn host_transition(t: &str) -> String {
    format!("xyz.openbmc_project.State.Host.Transition.{t}")
}

/// `xyz.openbmc_project.State.Chassis.Transition.Off` (hard off).
pub const CHASSIS_OFF: &str = "xyz.openbmc_project.State.Chassis.Transition.Off";

/// `xyz.openbmc_project.Control.Boot.Source.Sources.<s>`.
///
/// ```
/// assert_eq!(hwctl_openbmc::wire::boot_source("Network"),
///     "xyz.openbmc_project.Control.Boot.Source.Sources.Network");
/// ```
pub fn boot_source(s: &str) -> String {
    format!("xyz.openbmc_project.Control.Boot.Source.Sources.{s}")
}

/// `xyz.openbmc_project.Control.Boot.Mode.Modes.<m>`.
///
/// ```
/// assert_eq!(hwctl_openbmc::wire::boot_mode("Setup"),
///     "xyz.openbmc_project.Control.Boot.Mode.Modes.Setup");
/// ```
pub fn boot_mode(m: &str) -> String {
    format!("xyz.openbmc_project.Control.Boot.Mode.Modes.{m}")
}

/// `xyz.openbmc_project.Control.Boot.Type.Types.<t>` (`EFI`, `Legacy`).
///
/// ```
/// assert_eq!(hwctl_openbmc::wire::boot_type("EFI"),
///     "xyz.openbmc_project.Control.Boot.Type.Types.EFI");
/// ```
pub fn boot_type(t: &str) -> String {
    format!("xyz.openbmc_project.Control.Boot.Type.Types.{t}")
}

/// The reply envelope: `{"data": …, "message": "200 OK", "status": "ok"}`.
///
/// ```
/// use hwctl_openbmc::wire::Envelope;
/// let e = Envelope::decode(br#"{"data": "xyz.openbmc_project.State.Host.HostState.Off",
///     "message": "200 OK", "status": "ok"}"#, "GET CurrentHostState")?;
/// assert_eq!(e.message.as_deref(), Some("200 OK"));
/// assert_eq!(e.text("CurrentHostState")?, "xyz.openbmc_project.State.Host.HostState.Off");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// `data`.
    #[serde(default)]
    pub data: Value,
    /// `message`.
    #[serde(default)]
    pub message: Option<String>,
    /// `status`: `ok` or `error`.
    #[serde(default)]
    pub status: Option<String>,
}

impl Envelope {
    /// Decodes a reply.
    ///
    /// # Errors
    ///
    /// `Protocol` when `body` is not a JSON envelope; `DeviceFault` when its status
    /// is not `ok` (MAAS's check), with its message and description.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_openbmc::wire::Envelope;
    /// let err = Envelope::decode(br#"{"data": {"description": "No such object"},
    ///     "message": "404 Not Found", "status": "error"}"#, "GET x").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::DeviceFault);
    /// assert!(err.to_string().contains("No such object"), "{err}");
    /// let err = Envelope::decode(b"<html>", "GET x").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Protocol);
    /// ```
    pub fn decode(body: &[u8], what: &str) -> Result<Envelope> {
        let e: Envelope = serde_json::from_slice(body).map_err(|e| {
            // serde_json quotes a mistyped string whole: keep its first 200 characters.
            let e: String = e.to_string().chars().take(200).collect();
            Error::new(
                ErrorKind::Protocol,
                format!("{what}: reply is not OpenBMC REST JSON ({e})"),
            )
        })?;
        match e.status.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("ok") => Ok(e),
            _ => {
                // The BMC's word, bounded: the whole field would put any amount of
                // reply text into the error.
                let status: String = e.status.as_deref().unwrap_or("").chars().take(40).collect();
                Err(Error::new(
                    ErrorKind::DeviceFault,
                    format!("{what}: status {status:?}: {}", e.describe()),
                ))
            }
        }
    }

    /// The message and `data.description`, for errors.
    ///
    /// ```
    /// let e: hwctl_openbmc::wire::Envelope = serde_json::from_str(
    ///     r#"{"data": {"description": "Login required"}, "message": "401 Unauthorized", "status": "error"}"#)
    ///     .expect("an envelope");
    /// assert_eq!(e.describe(), "401 Unauthorized: Login required");
    /// ```
    pub fn describe(&self) -> String {
        let mut s = self.message.clone().unwrap_or_default();
        if let Some(d) = self.data.get("description").and_then(Value::as_str) {
            s.push_str(": ");
            s.push_str(d);
        }
        s.chars().filter(|c| !c.is_control()).take(300).collect()
    }

    /// `data` as a string.
    ///
    /// # Errors
    ///
    /// `Protocol` when `data` is not a string.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// use hwctl_openbmc::wire::Envelope;
    /// let e = Envelope::decode(br#"{"data": true, "status": "ok"}"#, "GET Enabled")?;
    /// assert_eq!(e.text("Enabled").unwrap_err().kind(), ErrorKind::Protocol);
    /// assert_eq!(e.data, serde_json::json!(true));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn text(&self, what: &str) -> Result<&str> {
        self.data
            .as_str()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, format!("{what}: data is not a string")))
    }
}

/// The last dot-separated segment of a D-Bus enumeration value.
///
/// ```
/// use hwctl_openbmc::wire::last_segment;
/// assert_eq!(last_segment("xyz.openbmc_project.State.Host.HostState.Running"), "Running");
/// assert_eq!(last_segment("Running"), "Running");
/// ```
pub fn last_segment(value: &str) -> &str {
    value.rsplit('.').next().unwrap_or(value)
}

/// `CurrentHostState` → power: `Running` on, `Off` off, anything else
/// (`TransitioningToRunning`, `TransitioningToOff`, `Quiesced`, `Standby`,
/// `DiagnosticMode`) unknown.
///
/// ```
/// use hwctl_core::PowerState;
/// use hwctl_openbmc::wire::host_power;
/// assert_eq!(host_power("xyz.openbmc_project.State.Host.HostState.Running"), PowerState::On);
/// assert_eq!(host_power("xyz.openbmc_project.State.Host.HostState.Off"), PowerState::Off);
/// assert_eq!(host_power("xyz.openbmc_project.State.Host.HostState.Quiesced"), PowerState::Unknown);
/// ```
pub fn host_power(value: &str) -> PowerState {
    match last_segment(value) {
        "Running" => PowerState::On,
        "Off" => PowerState::Off,
        _ => PowerState::Unknown,
    }
}

/// The boot source and mode for a boot device (BIOS setup is mode `Setup`).
///
/// ```
/// use hwctl_core::BootDevice;
/// use hwctl_openbmc::wire::source_and_mode;
/// assert_eq!(source_and_mode(BootDevice::Pxe), Some(("Network", "Regular")));
/// assert_eq!(source_and_mode(BootDevice::Bios), Some(("Default", "Setup")));
/// ```
pub fn source_and_mode(device: BootDevice) -> Option<(&'static str, &'static str)> {
    Some(match device {
        BootDevice::Pxe => ("Network", "Regular"),
        BootDevice::Disk => ("Disk", "Regular"),
        BootDevice::Cdrom => ("ExternalMedia", "Regular"),
        BootDevice::Floppy => ("RemovableMedia", "Regular"),
        BootDevice::Uefihttp => ("HTTP", "Regular"),
        BootDevice::Bios => ("Default", "Setup"),
        BootDevice::Safe => ("Default", "Safe"),
        _ => return None,
    })
}

/// Whether a boot source and mode are "no override": source `Default` in mode
/// `Regular`, phosphor-settings' defaults (`BootSource` `Default`, `BootMode`
/// `Regular`). The host then boots by its own boot order (IPMI's "no override",
/// bmcweb's `BootSourceOverrideTarget` `None`), so no device and no persistence
/// apply.
///
/// ```
/// use hwctl_openbmc::wire::is_no_override;
/// assert!(is_no_override("xyz.openbmc_project.Control.Boot.Source.Sources.Default",
///     "xyz.openbmc_project.Control.Boot.Mode.Modes.Regular"));
/// assert!(!is_no_override("Default", "Setup")); // BIOS setup
/// assert!(!is_no_override("Network", "Regular"));
/// ```
pub fn is_no_override(source: &str, mode: &str) -> bool {
    last_segment(source) == "Default" && last_segment(mode) == "Regular"
}

/// The device a boot source and mode select (`None`: no override, see
/// [`is_no_override`], or a source hwctl has no boot device for, e.g. `IPv6`).
///
/// ```
/// use hwctl_core::BootDevice;
/// use hwctl_openbmc::wire::device_of;
/// let source = "xyz.openbmc_project.Control.Boot.Source.Sources.ExternalMedia";
/// let regular = "xyz.openbmc_project.Control.Boot.Mode.Modes.Regular";
/// assert_eq!(device_of(source, regular), Some(BootDevice::Cdrom));
/// assert_eq!(device_of("Default", "Setup"), Some(BootDevice::Bios));
/// assert_eq!(device_of("Default", "Regular"), None);
/// ```
pub fn device_of(source: &str, mode: &str) -> Option<BootDevice> {
    match last_segment(mode) {
        "Setup" => return Some(BootDevice::Bios),
        "Safe" => return Some(BootDevice::Safe),
        _ => {}
    }
    Some(match last_segment(source) {
        "Network" => BootDevice::Pxe,
        "Disk" => BootDevice::Disk,
        "ExternalMedia" => BootDevice::Cdrom,
        "RemovableMedia" | "USB" => BootDevice::Floppy,
        "HTTP" => BootDevice::Uefihttp,
        _ => return None,
    })
}

/// Sensors of a `/xyz/openbmc_project/sensors/enumerate` reply's `data`: each
/// object's `Value` × 10^`Scale` (phosphor `Sensor.Value`; newer BMCs send the value
/// already scaled and no `Scale`), the kind from the path
/// (`/sensors/<temperature|fan_tach|voltage|current|power>/<name>`), the unit from
/// `Unit`.
///
/// ```
/// use hwctl_core::SensorKind;
/// let data = serde_json::json!({
///     "/xyz/openbmc_project/sensors/temperature/ambient": {
///         "Value": 27500, "Scale": -3, "Unit": "xyz.openbmc_project.Sensor.Value.Unit.DegreesC"},
/// });
/// let readings = hwctl_openbmc::wire::sensors(&data);
/// assert_eq!(readings[0].kind, SensorKind::Temperature);
/// assert_eq!((readings[0].name.as_str(), readings[0].value), ("ambient", Some(27.5)));
/// assert_eq!(readings[0].unit, "degrees C");
/// ```
pub fn sensors(data: &Value) -> Vec<SensorReading> {
    let Some(map) = data.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, props) in map {
        let mut parts = path.rsplit('/');
        let name = parts.next().unwrap_or_default();
        let class = parts.next().unwrap_or_default();
        let (kind, unit) = match class {
            "temperature" => (SensorKind::Temperature, "degrees C"),
            "fan_tach" | "fan_pwm" => (
                SensorKind::Fan,
                if class == "fan_pwm" { "percent" } else { "RPM" },
            ),
            "voltage" => (SensorKind::Voltage, "volts"),
            "current" => (SensorKind::Current, "amperes"),
            "power" => (SensorKind::Power, "watts"),
            _ => (SensorKind::Other, ""),
        };
        let scale = props
            .get("Scale")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(-12, 12);
        let value = props
            .get("Value")
            .and_then(Value::as_f64)
            .map(|v| v * 10f64.powi(scale as i32));
        let unit = props
            .get("Unit")
            .and_then(Value::as_str)
            .map(last_segment)
            .map(|u| match u {
                "DegreesC" => "degrees C",
                "RPMS" => "RPM",
                "Volts" => "volts",
                "Amperes" => "amperes",
                "Watts" => "watts",
                "Percent" => "percent",
                other => other,
            })
            .unwrap_or(unit);
        let functional = props
            .get("Functional")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        out.push(SensorReading {
            kind,
            name: name.replace('_', " "),
            value,
            unit: unit.to_owned(),
            status: if !functional || value.is_none() {
                "unavailable".into()
            } else {
                "ok".into()
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_status_of_any_length_gives_a_bounded_message() {
        // Found by fuzz/openbmc_json: the whole status field went into the error.
        let body = format!(
            r#"{{"data":{{"description":"{}"}},"message":"m","status":"{}"}}"#,
            "d".repeat(5000),
            "e".repeat(5000)
        );
        let e = Envelope::decode(body.as_bytes(), "GET x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DeviceFault);
        let text = e.to_string();
        assert!(text.len() < 450, "{} bytes: {text}", text.len());
        assert!(text.contains("eeee"), "{text}");
        // A string where another type belongs is quoted by serde_json: bounded too.
        let body = format!(
            r#"{{"data":{{}},"message":{{}},"status":"{}"}}"#,
            "s".repeat(5000)
        );
        let text = Envelope::decode(body.as_bytes(), "GET x")
            .unwrap_err()
            .to_string();
        assert!(text.len() < 450, "{} bytes: {text}", text.len());
        let body = format!(
            r#"{{"data":{{}},"message":"m","status":["{}"]}}"#,
            "s".repeat(5000)
        );
        let text = Envelope::decode(body.as_bytes(), "GET x")
            .unwrap_err()
            .to_string();
        assert!(text.len() < 450, "{} bytes: {text}", text.len());
    }
}
