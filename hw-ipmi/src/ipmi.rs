//! [`Ipmi`]: one node's view of its BMC (the shared [`Client`] plus the node's
//! bridging), and the typed chassis, boot-option and sensor commands.

use std::sync::Arc;

use hw_core::{BootDevice, Error, ErrorKind, Result, SensorReading};
use tokio::sync::Mutex;

use crate::client::{Client, RawResponse};
use crate::config::{Bridge, Config};
use crate::sdr::{self, SdrKind, SdrRecord};

/// NetFn Chassis.
pub const NETFN_CHASSIS: u8 = 0x00;
/// NetFn Sensor/Event.
pub const NETFN_SENSOR: u8 = 0x04;
/// NetFn App.
pub const NETFN_APP: u8 = 0x06;
/// NetFn Storage.
pub const NETFN_STORAGE: u8 = 0x0A;

/// Chassis Control actions (Chassis 0x02).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChassisControl {
    /// Power down (hard off).
    PowerDown,
    /// Power up.
    PowerUp,
    /// Power cycle.
    PowerCycle,
    /// Hard reset.
    HardReset,
    /// Pulse diagnostic interrupt (NMI).
    DiagnosticInterrupt,
    /// Soft shutdown via ACPI.
    SoftShutdown,
}

impl ChassisControl {
    /// The request byte.
    pub fn as_u8(self) -> u8 {
        match self {
            ChassisControl::PowerDown => 0,
            ChassisControl::PowerUp => 1,
            ChassisControl::PowerCycle => 2,
            ChassisControl::HardReset => 3,
            ChassisControl::DiagnosticInterrupt => 4,
            ChassisControl::SoftShutdown => 5,
        }
    }
}

/// The boot flags (Set System Boot Options parameter 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootFlags {
    /// The forced device, `None` for no override.
    pub device: Option<BootDevice>,
    /// Applies to every boot.
    pub persistent: bool,
    /// EFI boot (else legacy).
    pub efi: bool,
}

/// The device selector bits (byte 2, bits 5:2) of a boot device.
pub fn boot_device_selector(d: BootDevice) -> Option<u8> {
    match d {
        BootDevice::Pxe => Some(0x04),
        BootDevice::Disk => Some(0x08),
        BootDevice::Safe => Some(0x0C),
        BootDevice::Cdrom => Some(0x14),
        BootDevice::Bios => Some(0x18),
        BootDevice::Floppy => Some(0x3C),
        _ => None,
    }
}

/// Encodes parameter 5's five data bytes.
pub fn encode_boot_flags(f: &BootFlags) -> [u8; 5] {
    let sel = f.device.and_then(boot_device_selector).unwrap_or(0);
    let mut b1 = 0x80;
    if f.persistent {
        b1 |= 0x40;
    }
    if f.efi {
        b1 |= 0x20;
    }
    [b1, sel, 0, 0, 0]
}

/// Decodes a Get System Boot Options reply for parameter 5 (version, selector, 5 bytes).
pub fn decode_boot_flags(data: &[u8]) -> Result<BootFlags> {
    if data.len() < 7 {
        return Err(Error::protocol(format!(
            "Get System Boot Options reply of {} bytes, need 7",
            data.len()
        )));
    }
    if data[1] & 0x7F != 5 {
        return Err(Error::protocol(format!(
            "Get System Boot Options answered parameter {} instead of 5",
            data[1] & 0x7F
        )));
    }
    let b1 = data[2];
    let valid = b1 & 0x80 != 0;
    let device = if !valid {
        None
    } else {
        match data[3] & 0x3C {
            0x04 => Some(BootDevice::Pxe),
            0x08 => Some(BootDevice::Disk),
            0x0C => Some(BootDevice::Safe),
            0x14 => Some(BootDevice::Cdrom),
            0x18 => Some(BootDevice::Bios),
            0x3C => Some(BootDevice::Floppy),
            _ => None,
        }
    };
    Ok(BootFlags {
        device,
        persistent: valid && b1 & 0x40 != 0,
        efi: b1 & 0x20 != 0,
    })
}

/// One node's handle on its BMC: the shared per-endpoint [`Client`] and the
/// node's bridge (from `ipmi_bridging`), used by [`IpmiPower`](crate::IpmiPower)
/// and [`IpmiManagement`](crate::IpmiManagement), and by vendor crates.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// let bmc = hw_ipmi::sim::SimBmc::start(Default::default()).await?;
/// let ipmi = hw_ipmi::Ipmi::new(bmc.config());
/// assert!(!ipmi.chassis_power_on().await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Ipmi {
    client: Client,
    bridge: Option<Bridge>,
    sdr_cache: Arc<Mutex<Option<Arc<Vec<SdrRecord>>>>>,
}

impl Ipmi {
    /// A handle with its own client for `cfg` (use [`Ipmi::with_client`] to share).
    pub fn new(cfg: Config) -> Ipmi {
        let bridge = cfg.bridge;
        Ipmi::with_client(Client::new(cfg), bridge)
    }

    /// A handle on `client`, bridging every request to `bridge` when given.
    pub fn with_client(client: Client, bridge: Option<Bridge>) -> Ipmi {
        Ipmi {
            client,
            bridge,
            sdr_cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The shared client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The node's bridge, if any.
    pub fn bridge(&self) -> Option<&Bridge> {
        self.bridge.as_ref()
    }

    /// A raw command to the node's target (bridged if configured); not resent.
    pub async fn raw(&self, netfn: u8, cmd: u8, data: &[u8]) -> Result<RawResponse> {
        self.client
            .write(self.bridge.as_ref(), netfn, cmd, data)
            .await
    }

    async fn read_ok(&self, netfn: u8, cmd: u8, data: &[u8], op: &str) -> Result<Vec<u8>> {
        self.client
            .read(self.bridge.as_ref(), netfn, cmd, data)
            .await
            .map_err(|e| e.or_operation(op.to_owned()))?
            .check(op)
            .map_err(|e| e.with_driver("ipmi"))
    }

    async fn write_ok(&self, netfn: u8, cmd: u8, data: &[u8], op: &str) -> Result<Vec<u8>> {
        self.client
            .write(self.bridge.as_ref(), netfn, cmd, data)
            .await
            .map_err(|e| e.or_operation(op.to_owned()))?
            .check(op)
            .map_err(|e| e.with_driver("ipmi"))
    }

    /// Get Chassis Status: whether the chassis power is on.
    pub async fn chassis_power_on(&self) -> Result<bool> {
        let d = self
            .read_ok(NETFN_CHASSIS, 0x01, &[], "get chassis status")
            .await?;
        let first = d.first().ok_or_else(|| {
            Error::protocol("Get Chassis Status reply has no data").with_driver("ipmi")
        })?;
        Ok(first & 0x01 != 0)
    }

    /// Chassis Control.
    pub async fn chassis_control(&self, action: ChassisControl) -> Result<()> {
        self.write_ok(NETFN_CHASSIS, 0x02, &[action.as_u8()], "chassis control")
            .await
            .map(drop)
    }

    /// Set System Boot Options, parameter 5 (boot flags).
    pub async fn set_boot_flags(&self, flags: &BootFlags) -> Result<()> {
        let mut data = vec![0x05];
        data.extend_from_slice(&encode_boot_flags(flags));
        self.write_ok(NETFN_CHASSIS, 0x08, &data, "set system boot options")
            .await
            .map(drop)
    }

    /// Get System Boot Options, parameter 5.
    pub async fn boot_flags(&self) -> Result<BootFlags> {
        let d = self
            .read_ok(
                NETFN_CHASSIS,
                0x09,
                &[0x05, 0x00, 0x00],
                "get system boot options",
            )
            .await?;
        decode_boot_flags(&d).map_err(|e| e.with_driver("ipmi"))
    }

    /// Every SDR record (read once, then cached for this handle).
    pub async fn sdr_records(&self) -> Result<Arc<Vec<SdrRecord>>> {
        let mut cache = self.sdr_cache.lock().await;
        if let Some(c) = cache.as_ref() {
            return Ok(c.clone());
        }
        let records = sdr::read_repository(|cmd, data| async move {
            self.read_ok(NETFN_STORAGE, cmd, &data, "read SDR").await
        })
        .await?;
        let records = Arc::new(records);
        *cache = Some(records.clone());
        Ok(records)
    }

    /// Forgets the cached SDR (after the repository changed).
    pub async fn clear_sdr_cache(&self) {
        *self.sdr_cache.lock().await = None;
    }

    /// The OEM records (type 0xC0) of the SDR.
    pub async fn oem_records(&self) -> Result<Vec<SdrRecord>> {
        Ok(self
            .sdr_records()
            .await?
            .iter()
            .filter(|r| matches!(r.kind, SdrKind::Oem(_)))
            .cloned()
            .collect())
    }

    /// Reads every sensor of a full or compact SDR record owned by the BMC (one
    /// Get Sensor Reading each). Full records give converted values and a threshold
    /// status; compact records (no conversion factors) give `value: None` and their
    /// state: the threshold status, or for a discrete sensor its asserted state
    /// offsets (`state 0x0001`, see [`sdr::reading_status`]). A sensor without a
    /// reading now is `unavailable`; one the BMC does not know, `not present`.
    pub async fn sensors(&self) -> Result<Vec<SensorReading>> {
        let records = self.sdr_records().await?;
        let mut out = Vec::new();
        for r in records.iter() {
            let (owner, number, name, reading_type, kind, unit) = match &r.kind {
                SdrKind::Full(s) => (
                    s.owner,
                    s.number,
                    &s.name,
                    s.reading_type,
                    s.kind(),
                    s.unit(),
                ),
                SdrKind::Compact(s) => (
                    s.owner,
                    s.number,
                    &s.name,
                    s.reading_type,
                    s.kind(),
                    s.unit(),
                ),
                _ => continue,
            };
            if owner != 0x20 {
                continue;
            }
            let reply = self
                .client
                .read(self.bridge.as_ref(), NETFN_SENSOR, 0x2D, &[number])
                .await?;
            let (value, status) = match reply.cc {
                0 => {
                    if reply.data.len() < 2 {
                        return Err(sdr::short_reading(name).with_driver("ipmi"));
                    }
                    if sdr::reading_available(reply.data[1]) {
                        let states = u16::from(reply.data.get(2).copied().unwrap_or(0))
                            | u16::from(reply.data.get(3).copied().unwrap_or(0)) << 8;
                        let value = match &r.kind {
                            SdrKind::Full(s) => s.convert(reply.data[0]),
                            _ => None,
                        };
                        (value, sdr::reading_status(reading_type, states))
                    } else {
                        (None, "unavailable".to_owned())
                    }
                }
                0xCB => (None, "not present".to_owned()),
                cc => {
                    return Err(
                        crate::client::cc_error(cc, "get sensor reading").with_driver("ipmi")
                    );
                }
            };
            out.push(SensorReading {
                kind,
                name: name.clone(),
                value,
                unit: unit.to_owned(),
                status,
            });
        }
        Ok(out)
    }
}

/// Maps an unknown device to an unsupported error.
pub(crate) fn unsupported_device(d: BootDevice) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("boot device {d} has no IPMI boot flag"),
    )
}
