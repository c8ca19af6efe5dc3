//! Boot source and mode (REST: `control/host0/boot[/one_time]`), sensors (REST:
//! `sensors/enumerate` with `Scale`), or Redfish through hwctl-redfish.

use hwctl_core::management::ensure_boot_device;
use hwctl_core::{
    BootDevice, BootDeviceSetting, BootMode, Error, Management, ManagementCapabilities, Result,
    SensorReading, async_trait,
};
use hwctl_redfish::RedfishManagement;
use serde_json::{Value, json};

use crate::NAME;
use crate::client::{OpenbmcClient, ResolvedApi};
use crate::config::{OpenbmcApi, OpenbmcConfig};
use crate::wire;

/// Boot devices of the REST API (Redfish's are a superset of these).
pub const BOOT_DEVICES: &[BootDevice] = &[
    BootDevice::Pxe,
    BootDevice::Disk,
    BootDevice::Cdrom,
    BootDevice::Bios,
    BootDevice::Floppy,
    BootDevice::Uefihttp,
];

/// The management interface of one OpenBMC host.
///
/// REST: a one-time setting writes `boot/one_time/attr/BootSource` and `BootMode`
/// then `boot/one_time/attr/Enabled` = `true`; a persistent one writes
/// `boot/attr/BootSource` and `BootMode` and clears the one-time `Enabled`. BIOS
/// setup is boot mode `Setup` (source `Default`). Boot mode (UEFI/BIOS) is
/// `boot/attr/BootType` (`EFI`/`Legacy`). NMI is Redfish only.
///
/// Reading: `boot/one_time/attr/Enabled` picks the object read. Source `Default`
/// in mode `Regular` (a fresh BMC: phosphor-settings' defaults) is no override,
/// read back as no device and no persistence ([`BootDeviceSetting::default`]);
/// a one-time setting used up by a power on reads back the persistent object.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management};
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
/// let management = hwctl_openbmc::OpenbmcManagement::new(config)?;
/// // A fresh BMC has no override: no device, no persistence.
/// assert_eq!(management.get_boot_device().await?, Default::default());
/// management.set_boot_device(BootDevice::Bios, true).await?;
/// let setting = management.get_boot_device().await?;
/// assert_eq!((setting.device, setting.persistent), (Some(BootDevice::Bios), Some(true)));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenbmcManagement {
    client: OpenbmcClient,
    redfish: RedfishManagement,
    api: OpenbmcApi,
}

impl OpenbmcManagement {
    /// The management interface of `config`'s BMC on the shared client.
    ///
    /// # Errors
    ///
    /// As [`OpenbmcClient::shared`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{BootMode, Management};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let management = hwctl_openbmc::OpenbmcManagement::new(config)?;
    /// assert_eq!(management.get_boot_mode().await?, Some(BootMode::Uefi));
    /// # Ok(()) }
    /// ```
    pub fn new(config: OpenbmcConfig) -> Result<Self> {
        Ok(OpenbmcManagement::with_client(
            OpenbmcClient::shared(&config)?,
            &config,
        ))
    }

    /// The management interface on `client`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{ErrorKind, Management};
    /// use hwctl_openbmc::{OpenbmcApi, OpenbmcClient, OpenbmcManagement};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let config = config.api(OpenbmcApi::Rest);
    /// let management = OpenbmcManagement::with_client(OpenbmcClient::shared(&config)?, &config);
    /// // NMI is Redfish only.
    /// assert_eq!(management.inject_nmi().await.unwrap_err().kind(), ErrorKind::Unsupported);
    /// assert!(!management.get_sensors().await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn with_client(client: OpenbmcClient, config: &OpenbmcConfig) -> Self {
        let mut rf = hwctl_redfish::RedfishConfig::with_endpoint(config.endpoint.clone());
        rf.boot_mode = config.boot_mode;
        OpenbmcManagement {
            redfish: RedfishManagement::with_client(client.redfish().clone(), &rf),
            client,
            api: config.api,
        }
    }

    async fn rest(&self) -> Result<bool> {
        Ok(self.client.api().await? == ResolvedApi::Rest)
    }
}

fn text(v: &Value, what: &str) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::protocol(format!("{what}: data is not a string")).with_driver(NAME))
}

#[async_trait]
impl Management for OpenbmcManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: BOOT_DEVICES.to_vec(),
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![BootMode::Bios, BootMode::Uefi],
            can_get_boot_mode: true,
            sensors: true,
            nmi: self.api == OpenbmcApi::Redfish,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        if !self.rest().await? {
            return self.client.on_redfish(self.redfish.get_boot_device()).await;
        }
        let one_time = self
            .client
            .get(&format!("{}/attr/Enabled", wire::BOOT_ONE_TIME))
            .await?;
        let once = one_time.as_bool() == Some(true) || one_time.as_str() == Some("true");
        let base = if once {
            wire::BOOT_ONE_TIME
        } else {
            wire::BOOT
        };
        let source = text(
            &self.client.get(&format!("{base}/attr/BootSource")).await?,
            "BootSource",
        )?;
        let mode = text(
            &self.client.get(&format!("{base}/attr/BootMode")).await?,
            "BootMode",
        )?;
        // phosphor-settings' defaults (source Default, mode Regular) are no override:
        // the host follows its own boot order, so persistence means nothing.
        if wire::is_no_override(&source, &mode) {
            return Ok(BootDeviceSetting::default());
        }
        Ok(BootDeviceSetting {
            device: wire::device_of(&source, &mode),
            persistent: Some(!once),
        })
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device).map_err(|e| e.with_driver(NAME))?;
        if !self.rest().await? {
            return self
                .client
                .on_redfish(self.redfish.set_boot_device(device, persistent))
                .await;
        }
        let Some((source, mode)) = wire::source_and_mode(device) else {
            return Err(Error::unsupported(format!("boot device {device}")).with_driver(NAME));
        };
        let base = if persistent {
            wire::BOOT
        } else {
            wire::BOOT_ONE_TIME
        };
        self.client
            .put(
                &format!("{base}/attr/BootMode"),
                json!(wire::boot_mode(mode)),
            )
            .await?;
        self.client
            .put(
                &format!("{base}/attr/BootSource"),
                json!(wire::boot_source(source)),
            )
            .await?;
        self.client
            .put(
                &format!("{}/attr/Enabled", wire::BOOT_ONE_TIME),
                json!(!persistent),
            )
            .await
    }

    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        if !self.rest().await? {
            return self.client.on_redfish(self.redfish.get_boot_mode()).await;
        }
        let t = text(
            &self
                .client
                .get(&format!("{}/attr/BootType", wire::BOOT))
                .await?,
            "BootType",
        )?;
        Ok(match wire::last_segment(&t) {
            "EFI" => Some(BootMode::Uefi),
            "Legacy" => Some(BootMode::Bios),
            _ => None,
        })
    }

    async fn set_boot_mode(&self, mode: BootMode) -> Result<()> {
        if !self.rest().await? {
            return self
                .client
                .on_redfish(self.redfish.set_boot_mode(mode))
                .await;
        }
        let t = if mode == BootMode::Uefi {
            "EFI"
        } else {
            "Legacy"
        };
        self.client
            .put(
                &format!("{}/attr/BootType", wire::BOOT),
                json!(wire::boot_type(t)),
            )
            .await
    }

    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        if !self.rest().await? {
            return self.client.on_redfish(self.redfish.get_sensors()).await;
        }
        Ok(wire::sensors(&self.client.get(wire::SENSORS).await?))
    }

    async fn inject_nmi(&self) -> Result<()> {
        if !self.rest().await? {
            return self.client.on_redfish(self.redfish.inject_nmi()).await;
        }
        Err(Error::unsupported("an NMI through the OpenBMC REST API").with_driver(NAME))
    }
}
