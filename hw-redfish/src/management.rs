//! Boot override (`Boot.BootSourceOverride*`), sensors (the chassis' `Thermal` and
//! `Power`), NMI (`ResetType` `Nmi`).

use hwctl_core::management::ensure_boot_device;
use hwctl_core::{
    BootDevice, BootDeviceSetting, BootMode, Error, ErrorKind, Management, ManagementCapabilities,
    Result, SensorKind, SensorReading, async_trait,
};
use serde_json::{Value, json};

use crate::NAME;
use crate::client::RedfishClient;
use crate::config::RedfishConfig;
use crate::wire::{self, Chassis, Collection, Power, Sensor, Status, Thermal};

/// The most `Sensor` resources read from a chassis without `Thermal`/`Power`.
pub const MAX_SENSORS: usize = 128;

/// Boot devices hw maps to `BootSourceOverrideTarget` values.
pub const BOOT_DEVICES: &[BootDevice] = &[
    BootDevice::Pxe,
    BootDevice::Disk,
    BootDevice::Cdrom,
    BootDevice::Bios,
    BootDevice::Floppy,
    BootDevice::Uefihttp,
];

/// The management interface of one ComputerSystem.
///
/// `set_boot_device` PATCHes `Boot` with `BootSourceOverrideTarget`,
/// `BootSourceOverrideEnabled` (`Once`, or `Continuous` when persistent) and, when
/// the node has a boot mode, `BootSourceOverrideMode`, with `If-Match` when the
/// service gave an ETag. A service that refuses target and mode in one PATCH (HTTP
/// 400) gets them as two. The setting is read back: a service that did not keep
/// the target fails with `DeviceFault`. A target outside the system's
/// `BootSourceOverrideTarget@Redfish.AllowableValues` is `Unsupported` before
/// anything is sent. `inject_nmi` sends `ResetType` `Nmi` to a system that is on;
/// one that reads `Off` (or `PoweringOn`) is `PowerStateFailure`, not retryable,
/// before anything is sent (an NMI interrupts a running host: it never works on a
/// node that is off).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management};
/// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
/// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
/// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
/// let management = hwctl_redfish::RedfishManagement::new(config)?;
/// management.set_boot_device(BootDevice::Cdrom, true).await?;
/// let setting = management.get_boot_device().await?;
/// assert_eq!((setting.device, setting.persistent), (Some(BootDevice::Cdrom), Some(true)));
/// assert_eq!(sim.system(0).boot_target, "Cd");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedfishManagement {
    client: RedfishClient,
    boot_mode: Option<BootMode>,
}

impl RedfishManagement {
    /// The management interface of `config`'s system on the shared client.
    ///
    /// # Errors
    ///
    /// As [`RedfishClient::shared`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::Management;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let management = hwctl_redfish::RedfishManagement::new(config)?;
    /// assert!(!management.get_sensors().await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn new(config: RedfishConfig) -> Result<Self> {
        Ok(RedfishManagement::with_client(
            RedfishClient::shared(&config)?,
            &config,
        ))
    }

    /// The management interface on `client`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::Management;
    /// use hwctl_redfish::{RedfishClient, RedfishManagement};
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = RedfishClient::shared(&config)?;
    /// let management = RedfishManagement::with_client(client.clone(), &config);
    /// sim.set_power(0, true);
    /// management.inject_nmi().await?;
    /// assert_eq!(sim.system(0).nmis, 1);
    /// # client.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn with_client(client: RedfishClient, config: &RedfishConfig) -> Self {
        RedfishManagement {
            client,
            boot_mode: config.boot_mode,
        }
    }

    async fn patch_boot(&self, boot: Value, etag: Option<String>) -> Result<()> {
        self.client
            .patch_system(&json!({ "Boot": boot }), etag)
            .await
    }
}

#[async_trait]
impl Management for RedfishManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: BOOT_DEVICES.to_vec(),
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![BootMode::Bios, BootMode::Uefi],
            can_get_boot_mode: true,
            sensors: true,
            nmi: true,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        let system = self.client.system().await?.value;
        Ok(system.boot.unwrap_or_default().setting())
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device).map_err(|e| e.with_driver(NAME))?;
        let Some(target) = wire::target_of_device(device) else {
            return Err(Error::unsupported(format!("boot device {device}")).with_driver(NAME));
        };
        let tagged = self.client.system().await?;
        let boot = tagged.value.boot.clone().unwrap_or_default();
        if let Some(allowed) = &boot.target_allowable_values
            && !allowed.iter().any(|a| a == target)
        {
            return Err(target_not_allowed(target, allowed));
        }
        let enabled = if persistent { "Continuous" } else { "Once" };
        let mut body = json!({
            "BootSourceOverrideTarget": target,
            "BootSourceOverrideEnabled": enabled,
        });
        let mode = self.boot_mode.map(wire::mode_name);
        if let Some(m) = mode {
            body["BootSourceOverrideMode"] = json!(m);
        }
        match self.patch_boot(body.clone(), tagged.etag.clone()).await {
            Err(e) if mode.is_some() && e.kind() == ErrorKind::InvalidParameter => {
                // Some BMCs refuse target and mode in one PATCH: send them as two.
                tracing::info!(error = %e, "boot override refused with the mode: sending it as two PATCHes");
                let mut first = body.clone();
                if let Some(o) = first.as_object_mut() {
                    o.remove("BootSourceOverrideMode");
                }
                self.patch_boot(first, tagged.etag).await?;
                let fresh = self.client.system().await?.etag;
                self.patch_boot(json!({ "BootSourceOverrideMode": mode }), fresh)
                    .await?;
            }
            other => other?,
        }
        let back = self.client.system().await?.value.boot.unwrap_or_default();
        if back.boot_source_override_target.as_deref() != Some(target) {
            return Err(Error::new(
                ErrorKind::DeviceFault,
                format!(
                    "the service accepted BootSourceOverrideTarget {target} but reads back {}",
                    back.boot_source_override_target
                        .as_deref()
                        .unwrap_or("nothing")
                ),
            )
            .with_driver(NAME));
        }
        Ok(())
    }

    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        let system = self.client.system().await?.value;
        Ok(system.boot.and_then(|b| b.mode()))
    }

    async fn set_boot_mode(&self, mode: BootMode) -> Result<()> {
        let tagged = self.client.system().await?;
        self.patch_boot(
            json!({ "BootSourceOverrideMode": wire::mode_name(mode) }),
            tagged.etag,
        )
        .await
    }

    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        let system = self.client.system().await?.value;
        let Some(chassis) = system.chassis() else {
            return Ok(Vec::new());
        };
        let chassis: Chassis = self.client.get(chassis).await?.value;
        let mut out = Vec::new();
        if let Some(t) = &chassis.thermal {
            let thermal: Thermal = self.client.get(&t.id).await?.value;
            out.extend(thermal_readings(&thermal));
        }
        if let Some(p) = &chassis.power {
            let power: Power = self.client.get(&p.id).await?.value;
            out.extend(power_readings(&power));
        }
        if chassis.thermal.is_none()
            && chassis.power.is_none()
            && let Some(sensors) = &chassis.sensors
        {
            // Newer services: the Sensors collection, one resource per sensor.
            let members = self
                .client
                .get::<Collection>(&sensors.id)
                .await?
                .value
                .members;
            for m in members.iter().take(MAX_SENSORS) {
                let sensor: Sensor = self.client.get(&m.id).await?.value;
                out.push(sensor_reading(&sensor));
            }
        }
        Ok(out)
    }

    async fn inject_nmi(&self) -> Result<()> {
        self.client.reset(&["Nmi"]).await.map(drop)
    }
}

/// Temperatures (°C) and fans (RPM or %) of a `Thermal` resource.
///
/// ```
/// use hwctl_core::SensorKind;
/// use hwctl_redfish::wire::{decode, Thermal};
/// let thermal: Thermal = decode(br#"{"Temperatures": [{"Name": "CPU1", "ReadingCelsius": 41,
///     "Status": {"State": "Enabled", "Health": "OK"}}],
///     "Fans": [{"Name": "Fan1", "Reading": 30, "ReadingUnits": "Percent"}]}"#, "thermal")?;
/// let r = hwctl_redfish::management::thermal_readings(&thermal);
/// assert_eq!((r[0].kind, r[0].value, r[0].status.as_str()), (SensorKind::Temperature, Some(41.0), "ok"));
/// assert_eq!((r[1].kind, r[1].unit.as_str()), (SensorKind::Fan, "percent"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn thermal_readings(thermal: &Thermal) -> Vec<SensorReading> {
    let mut out = Vec::new();
    for t in &thermal.temperatures {
        out.push(SensorReading {
            kind: SensorKind::Temperature,
            name: t.name.clone().unwrap_or_default(),
            value: t.reading_celsius,
            unit: "degrees C".into(),
            status: Status::word(t.status.as_ref()),
        });
    }
    for f in &thermal.fans {
        out.push(SensorReading {
            kind: SensorKind::Fan,
            name: f
                .name
                .clone()
                .or_else(|| f.fan_name.clone())
                .unwrap_or_default(),
            value: f.reading,
            unit: match f.reading_units.as_deref() {
                Some("Percent") => "percent".into(),
                _ => "RPM".into(),
            },
            status: Status::word(f.status.as_ref()),
        });
    }
    out
}

/// Power consumed (W) and voltages (V) of a `Power` resource.
///
/// ```
/// use hwctl_core::SensorKind;
/// use hwctl_redfish::wire::{decode, Power};
/// let power: Power = decode(br#"{"PowerControl": [{"Name": "Input", "PowerConsumedWatts": 344}],
///     "Voltages": [{"Name": "12V", "ReadingVolts": 12.1}]}"#, "power")?;
/// let r = hwctl_redfish::management::power_readings(&power);
/// assert_eq!((r[0].kind, r[0].unit.as_str()), (SensorKind::Power, "watts"));
/// assert_eq!((r[1].kind, r[1].value), (SensorKind::Voltage, Some(12.1)));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn power_readings(power: &Power) -> Vec<SensorReading> {
    let mut out = Vec::new();
    for p in &power.power_control {
        out.push(SensorReading {
            kind: SensorKind::Power,
            name: p.name.clone().unwrap_or_default(),
            value: p.power_consumed_watts,
            unit: "watts".into(),
            status: Status::word(p.status.as_ref()),
        });
    }
    for v in &power.voltages {
        out.push(SensorReading {
            kind: SensorKind::Voltage,
            name: v.name.clone().unwrap_or_default(),
            value: v.reading_volts,
            unit: "volts".into(),
            status: Status::word(v.status.as_ref()),
        });
    }
    out
}

/// One `Sensor` resource as a reading (kind from `ReadingType`, else from the
/// `ReadingUnits` UCUM code).
///
/// ```
/// use hwctl_core::SensorKind;
/// use hwctl_redfish::wire::{decode, Sensor};
/// // No ReadingType: the UCUM unit "Cel" makes it a temperature.
/// let s: Sensor = decode(br#"{"Name": "Inlet", "Reading": 22, "ReadingUnits": "Cel"}"#, "sensor")?;
/// let r = hwctl_redfish::management::sensor_reading(&s);
/// assert_eq!((r.kind, r.unit.as_str(), r.value), (SensorKind::Temperature, "degrees C", Some(22.0)));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn sensor_reading(sensor: &Sensor) -> SensorReading {
    // `ReadingType`, else what the UCUM unit says (DMTF's mockup omits the type).
    let by_unit = match sensor.reading_units.as_deref() {
        Some("Cel") => Some("Temperature"),
        Some("V") => Some("Voltage"),
        Some("W") => Some("Power"),
        Some("A") => Some("Current"),
        Some("RPM") => Some("Rotational"),
        _ => None,
    };
    let (kind, unit) = match sensor.reading_type.as_deref().or(by_unit) {
        Some("Temperature") => (SensorKind::Temperature, "degrees C"),
        Some("Rotational") => (
            SensorKind::Fan,
            if sensor.reading_units.as_deref() == Some("%") {
                "percent"
            } else {
                "RPM"
            },
        ),
        Some("Voltage") => (SensorKind::Voltage, "volts"),
        Some("Current") => (SensorKind::Current, "amperes"),
        Some("Power") => (SensorKind::Power, "watts"),
        _ => (
            SensorKind::Other,
            sensor.reading_units.as_deref().unwrap_or(""),
        ),
    };
    SensorReading {
        kind,
        name: sensor.name.clone().unwrap_or_default(),
        value: sensor.reading,
        unit: unit.to_owned(),
        status: Status::word(sensor.status.as_ref()),
    }
}

/// The `unsupported` error for a boot target the system does not list in
/// `BootSourceOverrideTarget@Redfish.AllowableValues`. The list comes from the device,
/// so the message carries its count and first few values
/// ([`allowed_summary`](crate::wire::allowed_summary)), never the whole list.
fn target_not_allowed(target: &str, allowed: &[String]) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the system does not allow BootSourceOverrideTarget {target}: it lists {}",
            crate::wire::allowed_summary(allowed)
        ),
    )
    .with_driver(NAME)
}

#[cfg(test)]
mod target_tests {
    use super::*;

    #[test]
    fn a_long_allowed_target_list_gives_a_bounded_message() {
        // Found by the fuzz sweep's review (issue 17): the whole device-sent list
        // went into the error text.
        let allowed: Vec<String> = (0..500)
            .map(|i| format!("Target{i}\x1b[31m{}", "x".repeat(100)))
            .collect();
        let err = target_not_allowed("Pxe", &allowed);
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        let text = err.to_string();
        assert!(text.len() < 600, "{} characters: {text}", text.len());
        assert!(text.contains("500 values"), "{text}");
        assert!(text.contains("Pxe"), "{text}");
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }

    #[test]
    fn a_short_allowed_target_list_is_named_whole() {
        let allowed = vec!["Hdd".to_owned(), "Cd".to_owned()];
        let text = target_not_allowed("Pxe", &allowed).to_string();
        assert!(text.contains("2 values (Hdd, Cd)"), "{text}");
    }
}
