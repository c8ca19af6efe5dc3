//! The management interface: boot device, boot mode, sensors, NMI.

use std::fmt;

use async_trait::async_trait;

use crate::boot_device::{BootDevice, BootDeviceSetting, BootMode};
use crate::capabilities::ManagementCapabilities;
use crate::error::{Error, Result};
use crate::sensors::SensorReading;

/// Boot device, boot mode, sensors and NMI of a node.
///
/// # Contract
///
/// - `set_boot_device` with a device not in [`ManagementCapabilities::boot_devices`]
///   fails with [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) and does not
///   touch the device.
/// - `persistent = false` asks for the next boot only; devices that only know one
///   behaviour document which and report it in the capabilities
///   ([`ManagementCapabilities::persistent_only`]).
/// - `get_boot_device` reports `None` in a field the device cannot tell.
/// - Optional methods default to `Unsupported`; the capabilities say which are
///   implemented before anyone calls.
/// - Cancellation: dropping a future abandons the wait; a request already sent may
///   take effect.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management, fake::FakeManagement};
/// let mgmt = FakeManagement::default();
/// mgmt.set_boot_device(BootDevice::Pxe, true).await?;
/// assert_eq!(mgmt.get_boot_device().await?.device, Some(BootDevice::Pxe));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Management: Send + Sync + fmt::Debug {
    /// What this management interface can do, known before any call.
    ///
    /// ```
    /// use hwctl_core::{BootDevice, BootMode, Management, fake::FakeManagement};
    /// let caps = FakeManagement::default().capabilities();
    /// assert!(caps.boot_devices.contains(&BootDevice::Pxe));
    /// assert!(caps.boot_modes.contains(&BootMode::Uefi) && caps.nmi && !caps.persistent_only);
    /// ```
    fn capabilities(&self) -> ManagementCapabilities;

    /// Reads the boot device for the next boot.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::BootDevice;
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::with_config(Default::default()); // disk, persistent, BIOS
    /// let next = mgmt.get_boot_device().await?;
    /// assert_eq!((next.device, next.persistent), (Some(BootDevice::Disk), Some(true)));
    /// # Ok(()) }
    /// ```
    async fn get_boot_device(&self) -> Result<BootDeviceSetting>;

    /// Sets the boot device for the next boot, or every boot when `persistent`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{BootDevice, ErrorKind};
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::default();
    /// mgmt.set_boot_device(BootDevice::Pxe, false).await?; // next boot only
    /// assert_eq!(mgmt.get_boot_device().await?.persistent, Some(false));
    /// let err = mgmt.set_boot_device(BootDevice::Floppy, true).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unsupported); // not in its capabilities
    /// # Ok(()) }
    /// ```
    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()>;

    /// Reads the boot mode; `None` when the device cannot tell.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::BootMode;
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::with_config(Default::default()); // disk, persistent, BIOS
    /// assert_eq!(mgmt.get_boot_mode().await?, Some(BootMode::Bios));
    /// # Ok(()) }
    /// ```
    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        Err(Error::unsupported("reading the boot mode"))
    }

    /// Sets the boot mode used from the next boot on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::BootMode;
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::default();
    /// mgmt.set_boot_mode(BootMode::Uefi).await?;
    /// assert_eq!(mgmt.get_boot_mode().await?, Some(BootMode::Uefi));
    /// # Ok(()) }
    /// ```
    async fn set_boot_mode(&self, mode: BootMode) -> Result<()> {
        let _ = mode;
        Err(Error::unsupported("setting the boot mode"))
    }

    /// Reads the sensors.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::SensorKind;
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::default();
    /// let readings = mgmt.get_sensors().await?;
    /// let inlet = readings.iter().find(|r| r.kind == SensorKind::Temperature).unwrap();
    /// assert_eq!((inlet.value, inlet.unit.as_str()), (Some(23.0), "degrees C"));
    /// # Ok(()) }
    /// ```
    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        Err(Error::unsupported("reading sensors"))
    }

    /// Injects a non-maskable interrupt (diagnostic interrupt).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::default();
    /// mgmt.inject_nmi().await?;
    /// assert_eq!(mgmt.nmis(), 1);
    /// # Ok(()) }
    /// ```
    async fn inject_nmi(&self) -> Result<()> {
        Err(Error::unsupported("injecting an NMI"))
    }
}

/// Fails with `Unsupported` when `device` is not among `caps.boot_devices`.
///
/// ```
/// use hwctl_core::{BootDevice, ManagementCapabilities, management::ensure_boot_device};
/// let caps = ManagementCapabilities { boot_devices: vec![BootDevice::Pxe], ..Default::default() };
/// assert!(ensure_boot_device(&caps, BootDevice::Pxe).is_ok());
/// assert!(ensure_boot_device(&caps, BootDevice::Cdrom).is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) naming the device.
pub fn ensure_boot_device(caps: &ManagementCapabilities, device: BootDevice) -> Result<()> {
    if caps.boot_devices.contains(&device) {
        Ok(())
    } else {
        let supported: Vec<&str> = caps.boot_devices.iter().map(|d| d.as_str()).collect();
        Err(Error::new(
            crate::ErrorKind::Unsupported,
            format!(
                "boot device {device} is not supported (supported: {})",
                if supported.is_empty() {
                    "none".to_owned()
                } else {
                    supported.join(", ")
                }
            ),
        ))
    }
}
