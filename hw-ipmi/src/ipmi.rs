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
    ///
    /// ```
    /// assert_eq!(hwctl_ipmi::ChassisControl::PowerCycle.name(), "power cycle");
    /// ```
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
    ///
    /// ```
    /// use hwctl_core::retry::Idempotency;
    /// use hwctl_ipmi::ChassisControl;
    /// assert_eq!(ChassisControl::PowerUp.idempotency(), Idempotency::Idempotent);
    /// assert_eq!(ChassisControl::HardReset.idempotency(), Idempotency::NotIdempotent);
    /// ```
    pub fn idempotency(self) -> Idempotency {
        Idempotency::from_bool(matches!(
            self,
            ChassisControl::PowerUp | ChassisControl::PowerDown | ChassisControl::SoftShutdown
        ))
    }

    /// The request byte.
    ///
    /// ```
    /// assert_eq!(hwctl_ipmi::ChassisControl::PowerUp.as_u8(), 0x01);
    /// assert_eq!(hwctl_ipmi::ChassisControl::PowerDown.as_u8(), 0x00);
    /// ```
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
///
/// ```
/// use hwctl_core::BootDevice;
/// assert_eq!(hwctl_ipmi::ipmi::boot_device_selector(BootDevice::Pxe), Some(0x04));
/// ```
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
///
/// ```
/// use hwctl_ipmi::{BootFlags, ipmi::encode_boot_flags};
/// let f = BootFlags { device: Some(hwctl_core::BootDevice::Pxe), persistent: false, efi: false };
/// assert_eq!(encode_boot_flags(&f), [0x80, 0x04, 0x00, 0x00, 0x00]);
/// ```
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
///
/// ```
/// use hwctl_ipmi::ipmi::decode_boot_flags;
/// // Parameter version 1, parameter 5, then the five data bytes.
/// let f = decode_boot_flags(&[0x01, 0x05, 0xE0, 0x04, 0, 0, 0])?;
/// assert_eq!(f.device, Some(hwctl_core::BootDevice::Pxe));
/// assert!(f.persistent && f.efi);
/// assert!(decode_boot_flags(&[0x01]).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// assert_eq!(ipmi.driver(), "ipmi");
    /// assert!(ipmi.bridge().is_none());
    /// # Ok(()) }
    /// ```
    pub fn new(cfg: IpmiConfig) -> Ipmi {
        let bridge = cfg.bridge;
        Ipmi::with_client(IpmiClient::new(cfg), bridge)
    }

    /// A handle on `client`, bridging every request to `bridge` when given; errors
    /// name the driver [`crate::NAME`] (see [`Ipmi::with_driver`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let other = hwctl_ipmi::Ipmi::with_client(ipmi.client().clone(), None);
    /// assert!(other.client().same_endpoint(ipmi.client())); // one session for both
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// bmc.set_fault(hwctl_ipmi::sim::Fault::Silence);
    /// let err = ipmi.with_driver("staging-nm").raw(0x06, 0x01, &[]).await.unwrap_err();
    /// assert_eq!(err.driver(), Some("staging-nm"));
    /// # Ok(()) }
    /// ```
    pub fn with_driver(mut self, driver: &str) -> Ipmi {
        self.driver = Arc::from(driver);
        self
    }

    /// The driver errors name.
    ///
    /// ```
    /// let ipmi = hwctl_ipmi::Ipmi::new(hwctl_ipmi::IpmiConfig::new("10.0.0.1"));
    /// assert_eq!(ipmi.with_driver("staging-nm").driver(), "staging-nm");
    /// ```
    pub fn driver(&self) -> &str {
        &self.driver
    }

    fn named(&self, e: Error) -> Error {
        e.or_driver(self.driver.to_string())
    }

    /// The shared client.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// ipmi.raw(0x06, 0x01, &[]).await?;
    /// assert_eq!(ipmi.client().stats().sessions_opened, 1);
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &IpmiClient {
        &self.client
    }

    /// The node's bridge, if any.
    ///
    /// ```
    /// let client = hwctl_ipmi::IpmiClient::new(hwctl_ipmi::IpmiConfig::new("10.0.0.1"));
    /// let b = hwctl_ipmi::Bridge::single(6, 0x2C);
    /// let ipmi = hwctl_ipmi::Ipmi::with_client(client, Some(b));
    /// assert_eq!(ipmi.bridge(), Some(&b));
    /// ```
    pub fn bridge(&self) -> Option<&Bridge> {
        self.bridge.as_ref()
    }

    /// A raw command to the node's target (bridged if configured); not resent once
    /// it may have left.
    ///
    /// # Errors
    ///
    /// As [`IpmiClient::send`], naming this handle's driver.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let id = ipmi.raw(0x06, 0x01, &[]).await?; // Get Device ID
    /// assert_eq!(id.cc, 0);
    /// assert!(!id.data.is_empty());
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// use hwctl_core::retry::Idempotency;
    /// let nm = hwctl_ipmi::Bridge::single(6, 0x2C); // the simulator's Node Manager
    /// let r = ipmi.send_to(Some(&nm), 0x06, 0x01, &[], Idempotency::Idempotent).await?;
    /// assert_eq!(r.cc, 0);
    /// assert_eq!(bmc.stats().bridged, 1);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// assert!(!ipmi.chassis_power_on().await?);
    /// bmc.set_power(true);
    /// assert!(ipmi.chassis_power_on().await?);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// ipmi.chassis_control(hwctl_ipmi::ChassisControl::PowerUp).await?;
    /// assert!(bmc.power_on());
    /// assert_eq!(bmc.power_log().controls, vec![0x01]);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// ipmi.disable_boot_flag_timer().await?;
    /// assert_ne!(bmc.boot_valid_bit_clearing() & 0x08, 0);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let flags = hwctl_ipmi::BootFlags { device: Some(hwctl_core::BootDevice::Disk), persistent: true, efi: true };
    /// ipmi.set_boot_flags(&flags).await?;
    /// assert_eq!(ipmi.boot_flags().await?, flags);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// ipmi.set_boot_flags(&hwctl_ipmi::BootFlags { device: Some(hwctl_core::BootDevice::Pxe), persistent: false, efi: false }).await?;
    /// assert_eq!(ipmi.boot_flags().await?.device, Some(hwctl_core::BootDevice::Pxe));
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let records = ipmi.sdr_records().await?;
    /// assert_eq!(records.len(), 6); // the simulator's default repository
    /// assert!(records.iter().any(|r| matches!(&r.kind, hwctl_ipmi::SdrKind::Full(s) if s.name == "CPU Temp")));
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// assert_eq!(ipmi.sdr_records().await?.len(), 6);
    /// bmc.add_sdr_record(0xC0, &[0x57, 0x01, 0x00, 0x01]);
    /// assert_eq!(ipmi.sdr_records().await?.len(), 6); // cached
    /// ipmi.clear_sdr_cache().await;
    /// assert_eq!(ipmi.sdr_records().await?.len(), 7);
    /// # Ok(()) }
    /// ```
    pub async fn clear_sdr_cache(&self) {
        *self.sdr_cache.lock().await = None;
    }

    /// The OEM records (type 0xC0) of the SDR.
    ///
    /// # Errors
    ///
    /// As [`Ipmi::sdr_records`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let oem = ipmi.oem_records().await?;
    /// // The Intel Node Manager record the simulator holds by default.
    /// assert!(oem.iter().any(|r| matches!(&r.kind, hwctl_ipmi::SdrKind::Oem(o) if o.manufacturer_id == 0x000157)));
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    /// let list = ipmi.sensors().await?;
    /// assert_eq!(list.len(), 5);
    /// let cpu = list.iter().find(|s| s.name == "CPU Temp").expect("listed");
    /// assert_eq!(cpu.value, Some(45.0));
    /// # Ok(()) }
    /// ```
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
