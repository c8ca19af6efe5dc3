//! The management interface: boot device via System Boot Options, sensors via the
//! SDR, NMI via Chassis Control.

use hwctl_core::management::ensure_boot_device;
use hwctl_core::{
    BootDevice, BootDeviceSetting, BootMode, Management, ManagementCapabilities, Result,
    SensorReading, async_trait,
};

use crate::ipmi::{BootFlags, ChassisControl, Ipmi, unsupported_device};

/// Boot devices IPMI can force.
pub const BOOT_DEVICES: &[BootDevice] = &[
    BootDevice::Pxe,
    BootDevice::Disk,
    BootDevice::Cdrom,
    BootDevice::Bios,
    BootDevice::Safe,
];

/// Management over IPMI. The UEFI flag of the boot options follows the node's
/// `boot_mode` capability (legacy when unset).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management};
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let mgmt = hwctl_ipmi::IpmiManagement::new(hwctl_ipmi::Ipmi::new(bmc.config()), None);
/// mgmt.set_boot_device(BootDevice::Pxe, true).await?;
/// assert_eq!(mgmt.get_boot_device().await?.device, Some(BootDevice::Pxe));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IpmiManagement {
    ipmi: Ipmi,
    boot_mode: Option<BootMode>,
}

impl IpmiManagement {
    /// Management over `ipmi`; `boot_mode` (the node's capability) sets the EFI flag.
    pub fn new(ipmi: Ipmi, boot_mode: Option<BootMode>) -> Self {
        IpmiManagement { ipmi, boot_mode }
    }
}

#[async_trait]
impl Management for IpmiManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: BOOT_DEVICES.to_vec(),
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: Vec::new(),
            can_get_boot_mode: true,
            sensors: true,
            nmi: true,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        let f = self
            .ipmi
            .boot_flags()
            .await
            .map_err(|e| e.or_operation("get boot device"))?;
        Ok(BootDeviceSetting {
            device: f.device,
            persistent: f.device.map(|_| f.persistent),
        })
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device)?;
        if crate::ipmi::boot_device_selector(device).is_none() {
            return Err(unsupported_device(device));
        }
        self.ipmi
            .set_boot_flags(&BootFlags {
                device: Some(device),
                persistent,
                efi: self.boot_mode == Some(BootMode::Uefi),
            })
            .await
            .map_err(|e| e.or_operation("set boot device"))
    }

    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        let f = self
            .ipmi
            .boot_flags()
            .await
            .map_err(|e| e.or_operation("get boot mode"))?;
        Ok(f.device.map(|_| {
            if f.efi {
                BootMode::Uefi
            } else {
                BootMode::Bios
            }
        }))
    }

    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        self.ipmi
            .sensors()
            .await
            .map_err(|e| e.or_operation("get sensors"))
    }

    async fn inject_nmi(&self) -> Result<()> {
        self.ipmi
            .chassis_control(ChassisControl::DiagnosticInterrupt)
            .await
            .map_err(|e| e.or_operation("inject nmi"))
    }
}
