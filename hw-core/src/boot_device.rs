//! Boot devices, boot modes and the boot-device setting.

use std::fmt;
use std::str::FromStr;

use crate::driver_info::DriverInfo;
use crate::error::{Error, ErrorKind, Result};

/// A device to boot from next, with Ironic's names (`ironic/common/boot_devices.py`).
#[non_exhaustive]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
///
/// ```
/// use hwctl_core::BootDevice;
/// let d: BootDevice = serde_json::from_str("\"cdrom\"")?;
/// assert_eq!(d, BootDevice::Cdrom);
/// assert_eq!(serde_json::to_string(&BootDevice::Pxe)?, "\"pxe\"");
/// assert_eq!(BootDevice::ALL.len(), 9);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[serde(rename_all = "lowercase")]
pub enum BootDevice {
    /// Network boot (PXE).
    Pxe,
    /// The default hard disk.
    Disk,
    /// CD or DVD.
    Cdrom,
    /// Into the BIOS/firmware setup.
    Bios,
    /// Safe mode.
    Safe,
    /// WAN boot.
    Wanboot,
    /// iSCSI boot.
    Iscsiboot,
    /// Floppy or other removable media.
    Floppy,
    /// UEFI HTTP boot.
    Uefihttp,
}

impl BootDevice {
    /// Every boot device, in a stable order.
    pub const ALL: [BootDevice; 9] = [
        BootDevice::Pxe,
        BootDevice::Disk,
        BootDevice::Cdrom,
        BootDevice::Bios,
        BootDevice::Safe,
        BootDevice::Wanboot,
        BootDevice::Iscsiboot,
        BootDevice::Floppy,
        BootDevice::Uefihttp,
    ];

    /// Ironic's name for the device (`pxe`, `disk`, …).
    ///
    /// ```
    /// use hwctl_core::BootDevice;
    /// assert_eq!(BootDevice::Uefihttp.as_str(), "uefihttp");
    /// assert_eq!(BootDevice::Cdrom.to_string(), "cdrom");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            BootDevice::Pxe => "pxe",
            BootDevice::Disk => "disk",
            BootDevice::Cdrom => "cdrom",
            BootDevice::Bios => "bios",
            BootDevice::Safe => "safe",
            BootDevice::Wanboot => "wanboot",
            BootDevice::Iscsiboot => "iscsiboot",
            BootDevice::Floppy => "floppy",
            BootDevice::Uefihttp => "uefihttp",
        }
    }
}

impl fmt::Display for BootDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BootDevice {
    type Err = Error;

    /// Parses Ironic's names, case-insensitively.
    ///
    /// ```
    /// use hwctl_core::BootDevice;
    /// assert_eq!("PXE".parse::<BootDevice>().unwrap(), BootDevice::Pxe);
    /// assert!("usb-stick".parse::<BootDevice>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        BootDevice::ALL
            .into_iter()
            .find(|d| d.as_str() == lower)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidParameter,
                    format!(
                        "unknown boot device {s:?} (expected one of {})",
                        BootDevice::ALL.map(|d| d.as_str()).join(", ")
                    ),
                )
            })
    }
}

/// Firmware boot mode (`ironic/common/boot_modes.py`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootMode, Management, fake::FakeManagement};
/// let m = FakeManagement::default();
/// m.set_boot_mode("UEFI".parse::<BootMode>()?).await?;
/// assert_eq!(m.get_boot_mode().await?, Some(BootMode::Uefi));
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootMode {
    /// Legacy BIOS.
    Bios,
    /// UEFI.
    Uefi,
}

impl BootMode {
    /// Ironic's name (`bios`, `uefi`).
    ///
    /// ```
    /// use hwctl_core::BootMode;
    /// assert_eq!(BootMode::Uefi.as_str(), "uefi");
    /// assert_eq!(BootMode::Bios.to_string(), "bios");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            BootMode::Bios => "bios",
            BootMode::Uefi => "uefi",
        }
    }
}

impl fmt::Display for BootMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BootMode {
    type Err = Error;

    /// Parses `bios` (or `legacy`) and `uefi`, case-insensitively.
    ///
    /// ```
    /// assert_eq!("UEFI".parse::<hwctl_core::BootMode>().unwrap(), hwctl_core::BootMode::Uefi);
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bios" | "legacy" => Ok(BootMode::Bios),
            "uefi" => Ok(BootMode::Uefi),
            _ => Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("unknown boot mode {s:?} (expected bios or uefi)"),
            )),
        }
    }
}

/// The boot device as read back from a device.
///
/// Either field is `None` where the device cannot tell (OCS cannot report
/// persistence; a device with no override reports no device).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, BootDeviceSetting, Management, fake::FakeManagement};
/// let mgmt = FakeManagement::default();
/// // A device with no override set reports no device and no persistence.
/// assert_eq!(mgmt.get_boot_device().await?, BootDeviceSetting::default());
/// mgmt.set_boot_device(BootDevice::Pxe, false).await?;
/// let next = mgmt.get_boot_device().await?;
/// assert_eq!(next, BootDeviceSetting { device: Some(BootDevice::Pxe), persistent: Some(false) });
/// assert_eq!(serde_json::to_value(next).unwrap(), serde_json::json!({"device": "pxe", "persistent": false}));
/// # Ok(()) }
/// ```
pub struct BootDeviceSetting {
    /// The device the node boots from next, if known.
    pub device: Option<BootDevice>,
    /// Whether the setting applies to every boot (`true`) or the next one only.
    pub persistent: Option<bool>,
}

impl BootDeviceSetting {
    /// A setting with both fields known.
    ///
    /// ```
    /// let s = hwctl_core::BootDeviceSetting::new(hwctl_core::BootDevice::Pxe, true);
    /// assert_eq!(s.persistent, Some(true));
    /// ```
    pub fn new(device: BootDevice, persistent: bool) -> Self {
        BootDeviceSetting {
            device: Some(device),
            persistent: Some(persistent),
        }
    }
}

/// Ironic's `force_persistent_boot_device` (a generic `driver_info` key): whether a
/// boot device set on the node persists, whatever the caller asked.
///
/// Every [`Node`](crate::Node) built by a [`HardwareType`](crate::HardwareType)
/// applies it in its management layer, before the driver is called, for every
/// caller (`hwctl boot set`, a boot interface's `prepare_ramdisk`, an orchestrator):
///
/// | value | `set_boot_device(device, persistent)` sends |
/// |---|---|
/// | `Default` (or absent, or a false boolean) | `persistent` as asked |
/// | `Always` (or a true boolean, Ironic's deprecated form) | `true` |
/// | `Never` | `false` |
///
/// A static user who builds a driver's management interface directly calls
/// [`BootPersistence::apply`] itself.
///
/// ```
/// use hwctl_core::{BootPersistence, DriverInfo};
/// let info = DriverInfo::from_pairs([("force_persistent_boot_device", "Never")]);
/// let p = BootPersistence::from_driver_info(&info).unwrap();
/// assert_eq!(p, BootPersistence::Never);
/// assert!(!p.apply(true));
/// assert!(BootPersistence::Always.apply(false));
/// assert!(BootPersistence::Default.apply(true) && !BootPersistence::Default.apply(false));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum BootPersistence {
    /// As the caller asked.
    #[default]
    Default,
    /// Every boot device change is persistent.
    Always,
    /// No boot device change is persistent.
    Never,
}

impl BootPersistence {
    /// The `driver_info` key (Ironic's).
    pub const KEY: &'static str = "force_persistent_boot_device";

    /// Reads [`BootPersistence::KEY`]: `Always`, `Default`, `Never`
    /// (case-insensitively), or Ironic's older booleans (`True`/`yes`/`1`/`on` =
    /// `Always`, `False`/`no`/`0`/`off` = `Default`); absent, null or empty =
    /// `Default`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming the key for any other value (Ironic
    /// takes an unknown word as false; a typo of `Never` must not mean "as asked").
    ///
    /// ```
    /// use hwctl_core::{BootPersistence, DriverInfo};
    /// let read = |v: &str| BootPersistence::from_driver_info(
    ///     &DriverInfo::from_pairs([(BootPersistence::KEY, v)]));
    /// assert_eq!(read("Always")?, BootPersistence::Always);
    /// assert_eq!(read("True")?, BootPersistence::Always); // Ironic's older boolean
    /// assert_eq!(BootPersistence::from_driver_info(&DriverInfo::new())?, BootPersistence::Default);
    /// assert!(read("Nevr").is_err());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_driver_info(info: &DriverInfo) -> Result<Self> {
        // Absent (most nodes): one lookup.
        if info.get(Self::KEY).is_none() {
            return Ok(BootPersistence::Default);
        }
        let Some(raw) = info.get_str(Self::KEY) else {
            return match info.get(Self::KEY) {
                None | Some(serde_json::Value::Null) => Ok(BootPersistence::Default),
                Some(_) => Err(Error::invalid_parameter(
                    Self::KEY,
                    "must be Always, Default or Never",
                )),
            };
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "default" | "false" | "no" | "0" | "off" => Ok(BootPersistence::Default),
            "always" | "true" | "yes" | "1" | "on" => Ok(BootPersistence::Always),
            "never" => Ok(BootPersistence::Never),
            _ => Err(Error::invalid_parameter(
                Self::KEY,
                format!("{raw:?} is not one of Always, Default, Never"),
            )),
        }
    }

    /// The persistence to send for a request that asked for `persistent`.
    ///
    /// ```
    /// use hwctl_core::BootPersistence;
    /// assert!(BootPersistence::Default.apply(true));
    /// assert!(!BootPersistence::Default.apply(false));
    /// assert!(BootPersistence::Always.apply(false));
    /// assert!(!BootPersistence::Never.apply(true));
    /// ```
    pub fn apply(self, persistent: bool) -> bool {
        match self {
            BootPersistence::Default => persistent,
            BootPersistence::Always => true,
            BootPersistence::Never => false,
        }
    }
}
