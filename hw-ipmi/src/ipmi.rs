//! [`Ipmi`]: one node's view of its BMC (the shared [`IpmiClient`] plus the node's
//! bridging), and the typed chassis, boot-option and sensor commands.

use std::sync::Arc;

use hwctl_core::retry::Idempotency;
use hwctl_core::{BootDevice, Error, ErrorKind, Result, SensorReading};
use tokio::sync::Mutex;

use crate::client::{IpmiClient, RawIpmiReply};
use crate::config::{Bridge, IpmiConfig};
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
    /// Its name, for messages (`power up`, `power cycle`, …).
    pub fn name(self) -> &'static str {
        match self {
            ChassisControl::PowerDown => "power down",
            ChassisControl::PowerUp => "power up",
            ChassisControl::PowerCycle => "power cycle",
            ChassisControl::HardReset => "hard reset",
            ChassisControl::DiagnosticInterrupt => "diagnostic interrupt",
            ChassisControl::SoftShutdown => "soft shutdown",
        }
    }

    /// Whether sending it twice is the same as once: power up, power down and soft
    /// shutdown are; a power cycle, a reset or an NMI is not, and is resent only
    /// when it never left (`hwctl_core::retry`).
    pub fn idempotency(self) -> Idempotency {
        Idempotency::from_bool(matches!(
            self,
            ChassisControl::PowerUp | ChassisControl::PowerDown | ChassisControl::SoftShutdown
        ))
    }

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
///
/// # Errors
///
/// [`ErrorKind::Protocol`] for a short reply or one about another parameter.
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

/// One node's handle on its BMC: the shared per-endpoint [`IpmiClient`] and the
/// node's bridge (from `ipmi_bridging`), used by [`IpmiPower`](crate::IpmiPower)
/// and [`IpmiManagement`](crate::IpmiManagement), and by vendor crates.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
/// assert!(!ipmi.chassis_power_on().await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Ipmi {
    client: IpmiClient,
    bridge: Option<Bridge>,
    driver: Arc<str>,
    sdr_cache: Arc<Mutex<Option<Arc<Vec<SdrRecord>>>>>,
}

impl Ipmi {
    /// A handle with its own client for `cfg` (use [`Ipmi::with_client`] to share).
    pub fn new(cfg: IpmiConfig) -> Ipmi {
        let bridge = cfg.bridge;
        Ipmi::with_client(IpmiClient::new(cfg), bridge)
    }

    /// A handle on `client`, bridging every request to `bridge` when given; errors
    /// name the driver [`crate::NAME`] (see [`Ipmi::with_driver`]).
    pub fn with_client(client: IpmiClient, bridge: Option<Bridge>) -> Ipmi {
        Ipmi {
            client,
            bridge,
            driver: Arc::from(crate::NAME),
            sdr_cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The same handle with errors naming `driver` (the hardware type the node was
    /// built as, such as `staging-nm`) instead of `ipmi`.
    pub fn with_driver(mut self, driver: &str) -> Ipmi {
        self.driver = Arc::from(driver);
        self
    }

    /// The driver errors name.
    pub fn driver(&self) -> &str {
        &self.driver
    }

    fn named(&self, e: Error) -> Error {
        e.or_driver(self.driver.to_string())
    }

    /// The shared client.
    pub fn client(&self) -> &IpmiClient {
        &self.client
    }

    /// The node's bridge, if any.
    pub fn bridge(&self) -> Option<&Bridge> {
        self.bridge.as_ref()
    }

    /// A raw command to the node's target (bridged if configured); not resent once
    /// it may have left.
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`], naming this handle's driver.
    pub async fn raw(&self, netfn: u8, cmd: u8, data: &[u8]) -> Result<RawIpmiReply> {
        self.client
            .request(
                self.bridge.as_ref(),
                netfn,
                cmd,
                data,
                Idempotency::NotIdempotent,
            )
            .await
            .map_err(|e| self.named(e))
    }

    /// Sends a command to `bridge`'s target (or the BMC itself for `None`) instead of
    /// the node's own, retried as `idempotency` allows; errors name this handle's
    /// driver. For vendor crates that talk to a satellite controller (Node Manager).
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`], naming this handle's driver.
    pub async fn send_to(
        &self,
        bridge: Option<&Bridge>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        idempotency: Idempotency,
    ) -> Result<RawIpmiReply> {
        self.client
            .request(bridge, netfn, cmd, data, idempotency)
            .await
            .map_err(|e| self.named(e))
    }

    async fn send_ok(
        &self,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        op: &str,
        idempotency: Idempotency,
    ) -> Result<Vec<u8>> {
        self.client
            .request_with(self.bridge.as_ref(), netfn, cmd, data, idempotency, true)
            .await
            .map_err(|e| self.named(e.or_operation(op.to_owned())))?
            .check(op)
            .map_err(|e| self.named(e))
    }

    async fn read_ok(&self, netfn: u8, cmd: u8, data: &[u8], op: &str) -> Result<Vec<u8>> {
        self.send_ok(netfn, cmd, data, op, Idempotency::Idempotent)
            .await
    }

    /// Get Chassis Status: whether the chassis power is on.
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`]; a completion code's kind ([`crate::cc_kind`]);
    /// [`ErrorKind::Protocol`] for a reply without data.
    pub async fn chassis_power_on(&self) -> Result<bool> {
        let d = self
            .read_ok(NETFN_CHASSIS, 0x01, &[], "get chassis status")
            .await?;
        let first = d
            .first()
            .ok_or_else(|| self.named(Error::protocol("Get Chassis Status reply has no data")))?;
        Ok(first & 0x01 != 0)
    }

    /// Chassis Control: resent after a lost reply only when `action` is idempotent
    /// ([`ChassisControl::idempotency`]); a power cycle, reset or NMI only when it
    /// never left.
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`]; a completion code's kind ([`crate::cc_kind`]), such as
    /// [`ErrorKind::PermissionDenied`] for a USER session.
    pub async fn chassis_control(&self, action: ChassisControl) -> Result<()> {
        self.send_ok(
            NETFN_CHASSIS,
            0x02,
            &[action.as_u8()],
            "chassis control",
            action.idempotency(),
        )
        .await
        .map(drop)
    }

    /// Set System Boot Options, parameter 3 (BMC boot flag valid bit clearing) to
    /// 0x08: the BMC no longer clears the boot flags when no chassis control
    /// follows within 60 s (IPMI 2.0 §28.12), as Ironic and pyghmi send it before
    /// setting a boot device. A BMC that does not have the parameter (completion
    /// code 0x80) is left as it is.
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`]; a completion code's kind ([`crate::cc_kind`])
    /// other than 0x80.
    pub async fn disable_boot_flag_timer(&self) -> Result<()> {
        let reply = self
            .client
            .request_with(
                self.bridge.as_ref(),
                NETFN_CHASSIS,
                0x08,
                &[0x03, 0x08],
                Idempotency::Idempotent,
                true,
            )
            .await
            .map_err(|e| self.named(e.or_operation("set system boot options")))?;
        match reply.cc {
            0 => Ok(()),
            0x80 => {
                tracing::debug!(
                    "BMC has no boot-flag valid bit clearing parameter; its 60 s timer stays"
                );
                Ok(())
            }
            cc => Err(self.named(crate::client::cc_error(
                cc,
                "set system boot options (parameter 3)",
            ))),
        }
    }

    /// Set System Boot Options, parameter 5 (boot flags): setting a value, so
    /// resent after a lost reply. With `disable_boot_timeout` (the default,
    /// `ipmi_disable_boot_timeout`), the BMC's 60-second boot-flag timer is
    /// disabled first ([`Ipmi::disable_boot_flag_timer`]).
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`]; a completion code's kind ([`crate::cc_kind`]).
    pub async fn set_boot_flags(&self, flags: &BootFlags) -> Result<()> {
        if self.client.config().disable_boot_timeout {
            self.disable_boot_flag_timer().await?;
        }
        let mut data = vec![0x05];
        data.extend_from_slice(&encode_boot_flags(flags));
        self.send_ok(
            NETFN_CHASSIS,
            0x08,
            &data,
            "set system boot options",
            Idempotency::Idempotent,
        )
        .await
        .map(drop)
    }

    /// Get System Boot Options, parameter 5.
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`]; a completion code's kind ([`crate::cc_kind`]);
    /// [`ErrorKind::Protocol`] for a malformed reply.
    pub async fn boot_flags(&self) -> Result<BootFlags> {
        let d = self
            .read_ok(
                NETFN_CHASSIS,
                0x09,
                &[0x05, 0x00, 0x00],
                "get system boot options",
            )
            .await?;
        decode_boot_flags(&d).map_err(|e| self.named(e))
    }

    /// Every SDR record (read once, then cached for this handle).
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`]; a completion code's kind ([`crate::cc_kind`]);
    /// [`ErrorKind::Protocol`] for a malformed record or repository reply.
    pub async fn sdr_records(&self) -> Result<Arc<Vec<SdrRecord>>> {
        let mut cache = self.sdr_cache.lock().await;
        if let Some(c) = cache.as_ref() {
            return Ok(c.clone());
        }
        let records = sdr::read_repository(|cmd, data| async move {
            self.client
                .request(
                    self.bridge.as_ref(),
                    NETFN_STORAGE,
                    cmd,
                    &data,
                    Idempotency::Idempotent,
                )
                .await
        })
        .await
        .map_err(|e| self.named(e.or_operation("read SDR")))?;
        let records = Arc::new(records);
        *cache = Some(records.clone());
        Ok(records)
    }

    /// Forgets the cached SDR (after the repository changed).
    pub async fn clear_sdr_cache(&self) {
        *self.sdr_cache.lock().await = None;
    }

    /// The OEM records (type 0xC0) of the SDR.
    ///
    /// # Errors
    ///
    /// As [`Ipmi::sdr_records`].
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
    /// offsets (`state 0x0001`, see [`sdr::reading_status`]).
    ///
    /// A sensor that cannot be read is listed with no value and a status that
    /// says why, as ipmitool lists it (`no reading`) and shows the rest:
    /// `unavailable: scanning disabled` (reading flags byte 2 bit 6 clear: an empty
    /// DIMM slot, a host that is off), `unavailable: reading unavailable` (bit 5
    /// set), `unavailable: <completion code> (0xNN)` for an error completion code
    /// (0xC0 node busy, 0xC3, 0xCD, 0xD5, 0xFF, …), `unavailable: short reply`;
    /// `not present` for 0xCB.
    ///
    /// # Errors
    ///
    /// As [`Ipmi::sdr_records`]; a transport error (timeout, unreachable,
    /// malformed packet) of any Get Sensor Reading; when no sensor at all could be
    /// read (every one answered an error completion code or a short reply), the
    /// first one's completion-code kind ([`crate::cc_kind`]) naming how many failed.
    pub async fn sensors(&self) -> Result<Vec<SensorReading>> {
        let records = self.sdr_records().await?;
        let mut out = Vec::new();
        let mut read_any = false;
        let mut first_failure: Option<Error> = None;
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
                .request(
                    self.bridge.as_ref(),
                    NETFN_SENSOR,
                    0x2D,
                    &[number],
                    Idempotency::Idempotent,
                )
                .await
                .map_err(|e| self.named(e.or_operation("get sensor reading")))?;
            let (value, status) = match reply.cc {
                0 if reply.data.len() < 2 => {
                    first_failure.get_or_insert_with(|| self.named(sdr::short_reading(name)));
                    (None, "unavailable: short reply".to_owned())
                }
                0 => {
                    read_any = true;
                    match sdr::reading_unavailable(reply.data[1]) {
                        Some(why) => (None, format!("unavailable: {why}")),
                        None => {
                            let states = u16::from(reply.data.get(2).copied().unwrap_or(0))
                                | u16::from(reply.data.get(3).copied().unwrap_or(0)) << 8;
                            let value = match &r.kind {
                                SdrKind::Full(s) => s.convert(reply.data[0]),
                                _ => None,
                            };
                            (value, sdr::reading_status(reading_type, states))
                        }
                    }
                }
                0xCB => {
                    read_any = true;
                    (None, "not present".to_owned())
                }
                cc => {
                    first_failure.get_or_insert_with(|| {
                        self.named(crate::client::cc_error(
                            cc,
                            &format!("get sensor reading of {name}"),
                        ))
                    });
                    (
                        None,
                        format!("unavailable: {} (0x{cc:02x})", crate::client::cc_name(cc)),
                    )
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
        if !read_any && let Some(e) = first_failure {
            let n = out.len();
            return Err(e.with_note(format_args!("no sensor could be read ({n} tried)")));
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
