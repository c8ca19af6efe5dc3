//! Next boot device: `GetNextBoot`, `SetNextBoot`.

use hwctl_core::management::ensure_boot_device;
use hwctl_core::{
    BootDevice, BootDeviceSetting, BootMode, Error, ErrorKind, Management, ManagementCapabilities,
    Result, async_trait,
};

use crate::NAME;
use crate::client::OcsClient;
use crate::config::{Blade, OcsConfig};
use crate::wire::{BootResponse, BootType, Request};

/// The boot devices a blade accepts, with their `bootType`.
pub const BOOT_DEVICES: [BootDevice; 4] = [
    BootDevice::Pxe,
    BootDevice::Disk,
    BootDevice::Bios,
    BootDevice::Floppy,
];

/// The management interface of one blade: the next boot device.
///
/// `pxe` ↔ `ForcePxe`, `disk` ↔ `ForceDefaultHdd`, `bios` ↔ `ForceIntoBiosSetup`,
/// `floppy` ↔ `ForceFloppyOrRemovable`. Every `SetNextBoot` carries the boot mode
/// (`uefi=true|false`): from the node's `boot_mode` capability, else BIOS, or
/// the one given to [`OcsManagement::set_boot_device_with_mode`].
/// `GetNextBoot` cannot tell persistence (its `BootResponse` carries `nextBoot`
/// only; Ironic's msftocs driver returned `persistent: None` too), so `persistent`
/// reads back `None` even after a persistent set, never a remembered value; a
/// blade with no override reads back no device. The chassis has no separate
/// boot-mode setting, sensors or NMI: those answer `Unsupported`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management};
/// use hwctl_ocs::{OcsConfig, OcsManagement};
/// let sim = hwctl_ocs::sim::OcsSim::start(Default::default()).await?;
/// let mgmt = OcsManagement::new(OcsConfig::new(sim.base_url(), 2, "admin", "password")?)?;
/// mgmt.set_boot_device(BootDevice::Pxe, true).await?;
/// let got = mgmt.get_boot_device().await?;
/// assert_eq!((got.device, got.persistent), (Some(BootDevice::Pxe), None));
/// assert_eq!(sim.blade(2).unwrap().next_boot, "ForcePxe");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OcsManagement {
    client: OcsClient,
    blade_id: u32,
    boot_mode: BootMode,
}

impl OcsManagement {
    /// The management interface of `config.blade_id`, on the shared client.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::new`].
    pub fn new(config: OcsConfig) -> Result<Self> {
        Ok(OcsManagement::with_client(
            OcsClient::shared(&config)?,
            &config,
        ))
    }

    /// The management interface of `config.blade_id` on `client`.
    pub fn with_client(client: OcsClient, config: &OcsConfig) -> Self {
        OcsManagement::on_blade(client, &Blade::of(config))
    }

    /// The management interface of `blade` on `client`.
    pub(crate) fn on_blade(client: OcsClient, blade: &Blade) -> Self {
        OcsManagement {
            client,
            blade_id: blade.blade_id,
            boot_mode: blade.boot_mode,
        }
    }

    /// Sets the next boot device with an explicit boot mode (sent as `uefi`).
    ///
    /// # Errors
    ///
    /// `Unsupported` for a device the blade has no boot type for; otherwise as
    /// [`OcsClient::call`].
    pub async fn set_boot_device_with_mode(
        &self,
        device: BootDevice,
        persistent: bool,
        mode: BootMode,
    ) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device).map_err(|e| e.with_driver(NAME))?;
        let boot_type = BootType::for_device(device).ok_or_else(|| {
            Error::new(ErrorKind::Unsupported, format!("boot device {device}")).with_driver(NAME)
        })?;
        tracing::info!(blade = self.blade_id, %device, persistent, %mode, "setting next boot");
        let reply: BootResponse = self
            .client
            .call(&Request::SetNextBoot {
                blade_id: self.blade_id,
                boot_type,
                uefi: mode == BootMode::Uefi,
                persistent,
                boot_instance: None,
            })
            .await?;
        if reply.next_boot != boot_type {
            tracing::warn!(
                blade = self.blade_id,
                asked = %boot_type,
                answered = %reply.next_boot,
                "SetNextBoot answered a different boot type"
            );
        }
        Ok(())
    }
}

#[async_trait]
impl Management for OcsManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: BOOT_DEVICES.to_vec(),
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: Vec::new(),
            can_get_boot_mode: false,
            sensors: false,
            nmi: false,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        let reply: BootResponse = self
            .client
            .call(&Request::GetNextBoot {
                blade_id: self.blade_id,
            })
            .await?;
        Ok(BootDeviceSetting {
            device: reply.next_boot.device(),
            persistent: None,
        })
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        self.set_boot_device_with_mode(device, persistent, self.boot_mode)
            .await
    }

    async fn set_boot_mode(&self, mode: BootMode) -> Result<()> {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "setting the boot mode ({mode}) on its own is not supported: the chassis \
                 manager takes it with the boot device (node capability boot_mode, or \
                 OcsManagement::set_boot_device_with_mode)"
            ),
        )
        .with_driver(NAME))
    }
}
