//! Boot device, with persistence emulated as Ironic's staging driver did.
//!
//! AMT forgets a forced boot source after one boot, and has no persistent boot.
//! `set_boot_device` only records the wanted device and flag in the node's state
//! store (hwctl-core's [`NodeStateStore`], names `amt_boot_device` and
//! `amt_boot_persistent`, as ISD kept them in `driver_internal_info`); before every
//! power on and every reboot, [`BootKeeper::reapply`] sends it:
//!
//! - pxe, disk, cdrom: `ChangeBootOrder(Source = Force PXE / Hard-drive / CD/DVD
//!   Boot)` on `CIM_BootConfigSetting`, then `SetBootConfigRole(Role = 1)` on
//!   `CIM_BootService`;
//! - bios (setup): `AMT_BootSettingData` read, `BIOSSetup = true` put back, the boot
//!   order cleared, then `SetBootConfigRole`.
//!
//! A stored `disk` is not sent (AMT's own order boots the disk; ISD skipped it). A
//! device set without `persistent` is forgotten once applied. `get_boot_device`
//! reports the stored device, else `disk`, persistent.

use std::fmt;
use std::sync::Arc;

use hwctl_core::management::ensure_boot_device;
use hwctl_core::state::{NodeStateExt as _, NodeStateStore, StateKey};
use hwctl_core::{
    BootDevice, BootDeviceSetting, BootMode, Error, ErrorKind, Management, ManagementCapabilities,
    Result, async_trait,
};

use crate::NAME;
use crate::client::AmtClient;
use crate::config::AmtConfig;
use crate::wire::{self, BootSource, class};

/// The devices AMT can be forced to boot from.
pub const BOOT_DEVICES: [BootDevice; 4] = [
    BootDevice::Pxe,
    BootDevice::Disk,
    BootDevice::Cdrom,
    BootDevice::Bios,
];

/// State store name of the wanted boot device.
pub const STATE_BOOT_DEVICE: &str = "amt_boot_device";
/// State store name of the persistence flag.
pub const STATE_BOOT_PERSISTENT: &str = "amt_boot_persistent";

/// Keeps a node's wanted boot device in a state store and sends it to AMT.
pub struct BootKeeper {
    client: AmtClient,
    store: Arc<dyn NodeStateStore>,
    key: StateKey,
    boot_mode: BootMode,
}

impl fmt::Debug for BootKeeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootKeeper")
            .field("key", &self.key)
            .field("boot_mode", &self.boot_mode)
            .finish_non_exhaustive()
    }
}

impl BootKeeper {
    /// A keeper for `config`'s node in `store`.
    pub fn new(client: AmtClient, config: &AmtConfig, store: Arc<dyn NodeStateStore>) -> Self {
        BootKeeper {
            client,
            store,
            key: StateKey::new(config.node_id.clone(), config.state_endpoint()),
            boot_mode: config.boot_mode,
        }
    }

    /// The store (given back to the embedder).
    pub fn store(&self) -> &Arc<dyn NodeStateStore> {
        &self.store
    }

    /// The key of this node in the store.
    pub fn key(&self) -> &StateKey {
        &self.key
    }

    /// The stored device and flag, if any.
    ///
    /// # Errors
    ///
    /// The store's errors (`Other`).
    pub async fn stored(&self) -> Result<Option<(BootDevice, bool)>> {
        let device: Option<String> = self.store.get_typed(&self.key, STATE_BOOT_DEVICE).await?;
        let Some(device) = device else {
            return Ok(None);
        };
        let device: BootDevice = device.parse().map_err(|_| {
            Error::new(
                ErrorKind::Other,
                format!("stored boot device {device:?} is not a boot device"),
            )
        })?;
        let persistent = self
            .store
            .get_typed(&self.key, STATE_BOOT_PERSISTENT)
            .await?
            .unwrap_or(true);
        Ok(Some((device, persistent)))
    }

    /// Records `device` and `persistent`.
    ///
    /// # Errors
    ///
    /// The store's errors (`Other`).
    pub async fn record(&self, device: BootDevice, persistent: bool) -> Result<()> {
        self.store
            .set_typed(&self.key, STATE_BOOT_DEVICE, device.as_str())
            .await?;
        self.store
            .set_typed(&self.key, STATE_BOOT_PERSISTENT, &persistent)
            .await
    }

    /// Sends the stored device to AMT (nothing for none or `disk`), and forgets a
    /// device that was not persistent. Called before every power on and reboot.
    ///
    /// # Errors
    ///
    /// The client's errors for the calls (see [`BootKeeper::apply`]); the store's.
    pub async fn reapply(&self) -> Result<()> {
        let Some((device, persistent)) = self.stored().await? else {
            return Ok(());
        };
        if device != BootDevice::Disk {
            tracing::debug!(node = %self.key.node_id, %device, persistent, boot_mode = %self.boot_mode,
                "re-applying the boot device");
            self.apply(device).await?;
        }
        if !persistent {
            self.store.remove(&self.key, STATE_BOOT_DEVICE).await?;
            self.store.remove(&self.key, STATE_BOOT_PERSISTENT).await?;
        }
        Ok(())
    }

    /// Sends `device` for the next boot.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` for a device AMT cannot be forced to; the client's
    /// errors for `ChangeBootOrder`, `SetBootConfigRole`, the Get/Put of
    /// `AMT_BootSettingData` (faults, non-zero `ReturnValue`s).
    pub async fn apply(&self, device: BootDevice) -> Result<()> {
        let source = match device {
            BootDevice::Pxe => Some(BootSource::Pxe),
            BootDevice::Disk => Some(BootSource::HardDrive),
            BootDevice::Cdrom => Some(BootSource::CdDvd),
            BootDevice::Bios => None,
            other => {
                return Err(Error::invalid_parameter(
                    "boot_device",
                    format!("AMT cannot boot from {other}"),
                ));
            }
        };
        if source.is_none() {
            let data = self
                .client
                .get(
                    class::BOOT_SETTING_DATA,
                    &[("InstanceID", wire::BOOT_SETTING_DATA_0)],
                )
                .await?;
            let mut fields = wire::properties(&data);
            let mut seen = false;
            for (k, v) in &mut fields {
                if k == "BIOSSetup" {
                    *v = "true".into();
                    seen = true;
                }
            }
            if !seen {
                fields.push(("BIOSSetup".into(), "true".into()));
            }
            self.client
                .put(wire::put_boot_setting_data(&fields))
                .await?;
        }
        self.client.invoke(wire::change_boot_order(source)).await?;
        self.client.invoke(wire::set_boot_config_role()).await
    }
}

/// Management of an AMT node: the boot device (emulated persistence).
#[derive(Debug, Clone)]
pub struct AmtManagement {
    boot: Arc<BootKeeper>,
}

impl AmtManagement {
    /// Management over `boot`.
    pub fn new(boot: Arc<BootKeeper>) -> Self {
        AmtManagement { boot }
    }

    /// The keeper (its store holds the wanted boot device).
    pub fn boot(&self) -> &Arc<BootKeeper> {
        &self.boot
    }
}

#[async_trait]
impl Management for AmtManagement {
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
        let (device, persistent) = self
            .boot
            .stored()
            .await?
            .unwrap_or((BootDevice::Disk, true));
        Ok(BootDeviceSetting {
            device: Some(device),
            persistent: Some(persistent),
        })
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device).map_err(|e| e.with_driver(NAME))?;
        tracing::info!(node = %self.boot.key.node_id, %device, persistent, "boot device recorded; sent at the next power on");
        self.boot.record(device, persistent).await
    }
}
