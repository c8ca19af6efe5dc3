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
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use std::sync::Arc;
//! use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
//! use hwctl_core::state::{MemoryStore, NodeStateStore};
//! let sim = AmtSim::start(Default::default()).await?;
//! let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
//! let client = AmtClient::new(&config)?;
//! let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
//! let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
//! use hwctl_amt::AmtManagement;
//! use hwctl_core::{BootDevice, Management};
//! let management = AmtManagement::new(keeper);
//! management.set_boot_device(BootDevice::Pxe, true).await?;
//! assert_eq!(sim.boot().boot_order, None); // recorded only; sent at the next power on
//! let setting = management.get_boot_device().await?;
//! assert_eq!((setting.device, setting.persistent), (Some(BootDevice::Pxe), Some(true)));
//! # Ok(()) }
//! ```

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
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
/// use hwctl_core::state::{MemoryStore, NodeStateStore};
/// let sim = AmtSim::start(Default::default()).await?;
/// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
/// let client = AmtClient::new(&config)?;
/// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
/// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
/// use hwctl_core::BootDevice;
/// keeper.record(BootDevice::Cdrom, true).await?;
/// keeper.reapply().await?;
/// assert_eq!(sim.boot().boot_order.as_deref(), Some("Intel(r) AMT: Force CD/DVD Boot"));
/// assert!(sim.boot().armed);
/// assert_eq!(keeper.stored().await?, Some((BootDevice::Cdrom, true))); // persistent: kept
/// # Ok(()) }
/// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// assert_eq!(keeper.key().node_id, config.node_id);
    /// assert_eq!(keeper.key().endpoint, config.state_endpoint());
    /// # Ok(()) }
    /// ```
    pub fn new(client: AmtClient, config: &AmtConfig, store: Arc<dyn NodeStateStore>) -> Self {
        BootKeeper {
            client,
            store,
            key: StateKey::new(config.node_id.clone(), config.state_endpoint()),
            boot_mode: config.boot_mode,
        }
    }

    /// The store (given back to the embedder).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// assert!(Arc::ptr_eq(keeper.store(), &store));
    /// # Ok(()) }
    /// ```
    pub fn store(&self) -> &Arc<dyn NodeStateStore> {
        &self.store
    }

    /// The key of this node in the store.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// use hwctl_core::state::NodeStateExt as _;
    /// keeper.record(hwctl_core::BootDevice::Pxe, true).await?;
    /// let device: Option<String> = store.get_typed(keeper.key(), hwctl_amt::management::STATE_BOOT_DEVICE).await?;
    /// assert_eq!(device.as_deref(), Some("pxe"));
    /// # Ok(()) }
    /// ```
    pub fn key(&self) -> &StateKey {
        &self.key
    }

    /// The stored device and flag, if any.
    ///
    /// # Errors
    ///
    /// The store's errors (`Other`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// assert_eq!(keeper.stored().await?, None);
    /// keeper.record(hwctl_core::BootDevice::Bios, false).await?;
    /// assert_eq!(keeper.stored().await?, Some((hwctl_core::BootDevice::Bios, false)));
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// keeper.record(hwctl_core::BootDevice::Bios, true).await?;
    /// assert!(!sim.boot().bios_setup); // nothing is sent by recording
    /// assert_eq!(sim.stats().by_operation.get("Put"), None);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// use hwctl_core::BootDevice;
    /// keeper.reapply().await?; // nothing stored: nothing sent
    /// assert_eq!(sim.stats().requests, 0);
    /// keeper.record(BootDevice::Pxe, false).await?;
    /// keeper.reapply().await?;
    /// assert!(sim.boot().armed);
    /// assert_eq!(keeper.stored().await?, None);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// use hwctl_core::{BootDevice, ErrorKind};
    /// keeper.apply(BootDevice::Bios).await?;
    /// let boot = sim.boot();
    /// assert!(boot.bios_setup && boot.armed);
    /// assert_eq!(boot.boot_order, None);
    /// let err = keeper.apply(BootDevice::Safe).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
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
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
/// use hwctl_core::state::{MemoryStore, NodeStateStore};
/// let sim = AmtSim::start(Default::default()).await?;
/// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
/// let client = AmtClient::new(&config)?;
/// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
/// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
/// use hwctl_amt::{AmtManagement, management::BOOT_DEVICES};
/// use hwctl_core::Management;
/// let management = AmtManagement::new(keeper);
/// assert_eq!(management.capabilities().boot_devices, BOOT_DEVICES);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AmtManagement {
    boot: Arc<BootKeeper>,
}

impl AmtManagement {
    /// Management over `boot`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// use hwctl_amt::AmtManagement;
    /// use hwctl_core::{BootDevice, Management};
    /// let management = AmtManagement::new(keeper);
    /// let setting = management.get_boot_device().await?; // nothing stored: the disk
    /// assert_eq!((setting.device, setting.persistent), (Some(BootDevice::Disk), Some(true)));
    /// # Ok(()) }
    /// ```
    pub fn new(boot: Arc<BootKeeper>) -> Self {
        AmtManagement { boot }
    }

    /// The keeper (its store holds the wanted boot device).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_amt::{AmtClient, AmtConfig, BootKeeper, sim::AmtSim};
    /// use hwctl_core::state::{MemoryStore, NodeStateStore};
    /// let sim = AmtSim::start(Default::default()).await?;
    /// let config = AmtConfig::new(sim.base_url(), sim.username(), sim.password())?;
    /// let client = AmtClient::new(&config)?;
    /// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
    /// let keeper = Arc::new(BootKeeper::new(client.clone(), &config, store.clone()));
    /// let management = hwctl_amt::AmtManagement::new(keeper.clone());
    /// assert!(Arc::ptr_eq(management.boot(), &keeper));
    /// # Ok(()) }
    /// ```
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
