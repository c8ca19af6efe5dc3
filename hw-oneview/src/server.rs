//! `OneviewServer`: one server hardware of one appliance, as a node sees it — the
//! operations the interfaces (power, management, vendor) are thin layers over, and
//! the node's driver-managed state (the profile it applied, a pending boot device).

use std::fmt;
use std::sync::{Arc, Mutex};

use hwctl_core::power::PowerAction;
use hwctl_core::{
    BootDevice, BootDeviceSetting, Error, ErrorKind, MacAddress, PowerState, Result, SensorKind,
    SensorReading,
};
use hwctl_http::Request;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::NAME;
use crate::client::{Ilo, OneviewClient};
use crate::config::OneviewConfig;
use crate::wire::{
    self, ServerHardware, ServerProfile, ServerProfileTemplate, Utilization, boot_device_of,
    boot_device_of_ilo, ilo_boot_target, oneview_boot_name,
};

/// The boot devices a OneView server takes, both persistent (profile boot order)
/// and one-time (iLO): pxe, disk, cdrom.
pub const BOOT_DEVICES: [BootDevice; 3] = [BootDevice::Pxe, BootDevice::Disk, BootDevice::Cdrom];

/// Who a server hardware belongs to, as [`OneviewServer::status`] reports it.
///
/// ```
/// use hwctl_oneview::server::Ownership;
/// assert_eq!(Ownership::InUse.as_str(), "in_use");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// No profile is applied: allocation may take it.
    Free,
    /// This node's profile is applied (`applied_server_profile_uri`, or a profile
    /// named for this node).
    Ours,
    /// Someone else's profile is applied.
    InUse,
}

impl Ownership {
    /// `free`, `ours`, `in_use`.
    ///
    /// ```
    /// use hwctl_oneview::server::Ownership;
    /// let names: Vec<_> = [Ownership::Free, Ownership::Ours, Ownership::InUse].map(Ownership::as_str).into();
    /// assert_eq!(names, ["free", "ours", "in_use"]);
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::Free => "free",
            Ownership::Ours => "ours",
            Ownership::InUse => "in_use",
        }
    }
}

/// One server hardware of one appliance, with the node's state. Shared (in an
/// `Arc`) by the node's power, management and vendor interfaces.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::PowerState;
/// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// use hwctl_sim::Simulator;
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
/// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
/// assert_eq!(server.power_state().await?, PowerState::Off);
/// assert_eq!(server.status().await?["state"], "ours");
/// # Ok(()) }
/// ```
pub struct OneviewServer {
    client: OneviewClient,
    config: Arc<OneviewConfig>,
    node_id: String,
    ports: Vec<MacAddress>,
    /// The profile this node applied (starts as `applied_server_profile_uri`;
    /// allocation and removal change it).
    applied: Mutex<Option<String>>,
    /// Ironic's pending boot device (`oneview_deferred_boot`).
    pending: Mutex<Option<BootDeviceSetting>>,
}

impl fmt::Debug for OneviewServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneviewServer")
            .field("server_hardware_uri", &self.config.server_hardware_uri)
            .field("node_id", &self.node_id)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl OneviewServer {
    /// The server of `config`, for the node `node_id` with port MACs `ports`, on the
    /// shared client of its appliance.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// let config = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/1")?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n1", vec![]);
    /// assert_eq!(server.config().hardware_id(), "1");
    /// assert_eq!(server.applied_profile(), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn new(
        client: OneviewClient,
        config: Arc<OneviewConfig>,
        node_id: &str,
        ports: Vec<MacAddress>,
    ) -> Self {
        OneviewServer {
            applied: Mutex::new(config.applied_server_profile_uri.clone()),
            client,
            config,
            node_id: node_id.to_owned(),
            ports,
            pending: Mutex::new(None),
        }
    }

    /// The client (shared by every server of the appliance).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// let config = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/1")?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n1", vec![]);
    /// assert_eq!(server.client().api_version(), None); // no session yet
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn client(&self) -> &OneviewClient {
        &self.client
    }

    /// The configuration.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// let config = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/1")?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n1", vec![]);
    /// assert_eq!(server.config().server_hardware_uri, "/rest/server-hardware/1");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn config(&self) -> &OneviewConfig {
        &self.config
    }

    /// The profile this node applied, as it stands now.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// let mut config = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/1")?;
    /// config.applied_server_profile_uri = Some("/rest/server-profiles/p1".into());
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n1", vec![]);
    /// assert_eq!(server.applied_profile().as_deref(), Some("/rest/server-profiles/p1"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn applied_profile(&self) -> Option<String> {
        lock(&self.applied).clone()
    }

    /// The boot device waiting for the next power on (`oneview_deferred_boot`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// use hwctl_core::BootDevice;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let mut info = sim.driver_info(0);
    /// info.insert("oneview_deferred_boot", "true");
    /// let config = OneviewConfig::from_driver_info(&info, &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// server.set_boot(BootDevice::Pxe, true).await?;
    /// assert_eq!(server.pending_boot().and_then(|b| b.device), Some(BootDevice::Pxe));
    /// assert_eq!(sim.stats().tasks, 0); // applied at the next power on
    /// # Ok(()) }
    /// ```
    pub fn pending_boot(&self) -> Option<BootDeviceSetting> {
        *lock(&self.pending)
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.config.operation_timeout
    }

    /// `GET server_hardware_uri`.
    ///
    /// # Errors
    ///
    /// As [`OneviewClient::send`]; `NotFound` for no such hardware.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// let hw = server.hardware().await?;
    /// assert_eq!(hw.uri, sim.server_uri(0));
    /// assert_eq!(hw.power_state, "Off");
    /// # Ok(()) }
    /// ```
    pub async fn hardware(&self) -> Result<ServerHardware> {
        self.client
            .get_json(&self.config.server_hardware_uri, self.deadline())
            .await
    }

    fn in_use_error(&self, hw: &ServerHardware, kind: ErrorKind) -> Error {
        Error::new(
            kind,
            format!(
                "server hardware {} is in use by OneView: profile {} is applied, and this node's applied_server_profile_uri is {}",
                hw.uri,
                hw.server_profile_uri.as_deref().unwrap_or("?"),
                self.applied_profile().as_deref().unwrap_or("not set")
            ),
        )
        .with_driver(NAME)
        .with_retryable(false)
    }

    /// Fails with `kind` when someone else's profile is applied. A profile named
    /// for this node (`hw [<node id>]`, as allocation names it) is ours even when
    /// `applied_server_profile_uri` was not given (another process allocated it).
    async fn check_free_for_us(&self, hw: &ServerHardware, kind: ErrorKind) -> Result<()> {
        if !hw.in_use_by_others(self.applied_profile().as_deref())
            || self.ownership_of(hw, self.deadline()).await? == Ownership::Ours
        {
            Ok(())
        } else {
            Err(self.in_use_error(hw, kind))
        }
    }

    /// The power state (`PoweringOn`, `PoweringOff`, `Resetting` read `Unknown`).
    ///
    /// # Errors
    ///
    /// As [`hardware`](Self::hardware).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// use hwctl_core::PowerState;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// sim.set_power(0, true);
    /// assert_eq!(server.power_state().await?, PowerState::On);
    /// # Ok(()) }
    /// ```
    pub async fn power_state(&self) -> Result<PowerState> {
        Ok(self.hardware().await?.power())
    }

    /// Sends `action` (`PUT …/powerState` with the fixtures' body) and follows its
    /// task. A pending boot device is applied first when the action powers on.
    ///
    /// # Errors
    ///
    /// `PowerStateFailure` when the server is in use by someone else's profile;
    /// the task's error; as [`OneviewClient::send`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// use hwctl_core::power::PowerAction;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// server.apply_power(PowerAction::On).await?; // returns when the task is done
    /// assert_eq!(sim.server(0).unwrap().power_state, "On");
    /// assert_eq!(sim.stats().tasks, 1);
    /// # Ok(()) }
    /// ```
    pub async fn apply_power(&self, action: PowerAction) -> Result<()> {
        let hw = self.hardware().await?;
        self.check_free_for_us(&hw, ErrorKind::PowerStateFailure)
            .await?;
        if matches!(
            action,
            PowerAction::On | PowerAction::Reboot | PowerAction::SoftReboot
        ) && let Some(p) = self.pending_boot()
            && let Some(device) = p.device
        {
            self.apply_boot(&hw, device, p.persistent.unwrap_or(false))
                .await?;
            *lock(&self.pending) = None;
        }
        let deadline = self.deadline();
        self.client
            .send_task(
                Request::put(format!("{}/powerState", self.config.server_hardware_uri))
                    .json(&wire::power_body(action))
                    .operation("PUT powerState"),
                deadline,
            )
            .await
            .map(drop)
    }

    /// Sets the boot device: one-time through the iLO, persistent through the
    /// profile's boot order (and any one-time override on the iLO cancelled); with
    /// `oneview_deferred_boot`, kept pending for the next power on.
    ///
    /// # Errors
    ///
    /// `Unsupported` for a device other than pxe, disk, cdrom; `Busy` (not
    /// retryable) when the server is in use by someone else; `DeviceFault` when a
    /// persistent device is asked of a server without a profile; the task's and
    /// the iLO's errors.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// use hwctl_core::BootDevice;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// server.set_boot(BootDevice::Cdrom, true).await?; // the profile's boot order
    /// assert_eq!(sim.server(0).unwrap().boot_order[0], "CD");
    /// server.set_boot(BootDevice::Pxe, false).await?; // the iLO's one-time boot
    /// assert_eq!(sim.server(0).unwrap().ilo_once.as_deref(), Some("Pxe"));
    /// # Ok(()) }
    /// ```
    pub async fn set_boot(&self, device: BootDevice, persistent: bool) -> Result<()> {
        if !BOOT_DEVICES.contains(&device) {
            return Err(Error::unsupported(format!("boot device {device}")).with_driver(NAME));
        }
        let hw = self.hardware().await?;
        self.check_free_for_us(&hw, ErrorKind::Busy).await?;
        if self.config.deferred_boot {
            *lock(&self.pending) = Some(BootDeviceSetting::new(device, persistent));
            return Ok(());
        }
        self.apply_boot(&hw, device, persistent).await
    }

    async fn apply_boot(
        &self,
        hw: &ServerHardware,
        device: BootDevice,
        persistent: bool,
    ) -> Result<()> {
        let deadline = self.deadline();
        if persistent {
            let Some(profile_uri) = hw.server_profile_uri.clone().filter(|p| !p.is_empty()) else {
                return Err(Error::new(
                    ErrorKind::DeviceFault,
                    format!(
                        "server hardware {} has no server profile: the persistent boot order lives in a profile (allocate one first)",
                        hw.uri
                    ),
                )
                .with_driver(NAME));
            };
            self.put_boot_order(&profile_uri, device, deadline).await?;
            // A one-time override left on the iLO would win at the next boot.
            self.with_ilo(deadline, |ilo| async move {
                let boot = ilo.boot(deadline).await?;
                if boot.boot_source_override_enabled.as_deref() == Some("Once") {
                    ilo.patch_system(&wire::ilo_disable_override_body(), deadline)
                        .await?;
                }
                Ok(())
            })
            .await
        } else {
            let target = ilo_boot_target(device)
                .ok_or_else(|| Error::unsupported(format!("one-time boot from {device}")))?;
            self.with_ilo(deadline, |ilo| async move {
                ilo.patch_system(&wire::ilo_one_time_boot_body(target), deadline)
                    .await
            })
            .await
        }
    }

    /// Moves `device` to the front of the profile's `boot.order` and `PUT`s the
    /// whole profile back (a task).
    async fn put_boot_order(
        &self,
        profile_uri: &str,
        device: BootDevice,
        deadline: Instant,
    ) -> Result<()> {
        let name = oneview_boot_name(device)
            .ok_or_else(|| Error::unsupported(format!("boot device {device}")))?;
        let resp = self
            .client
            .send(
                Request::get(profile_uri).operation("GET server-profile"),
                deadline,
            )
            .await?;
        let mut profile: Value = wire::decode("server-profile", resp.body())?;
        let typed: ServerProfile = wire::decode("server-profile", resp.body())?;
        let mut order = typed.boot.map(|b| b.order).unwrap_or_default();
        if order.first().map(String::as_str) == Some(name) {
            return Ok(());
        }
        order.retain(|d| d != name);
        order.insert(0, name.to_owned());
        match profile.get_mut("boot").and_then(Value::as_object_mut) {
            Some(boot) => {
                boot.insert("order".into(), json!(order));
            }
            None => {
                if let Some(obj) = profile.as_object_mut() {
                    obj.insert("boot".into(), json!({"manageBoot": true, "order": order}));
                }
            }
        }
        self.client
            .send_task(
                Request::put(profile_uri)
                    .json(&profile)
                    .operation("PUT server-profile"),
                deadline,
            )
            .await
            .map(drop)
    }

    /// Runs `f` on an iLO session opened through the appliance, and logs the
    /// session out afterwards whatever `f` returned.
    async fn with_ilo<F, Fut, T>(&self, deadline: Instant, f: F) -> Result<T>
    where
        F: FnOnce(Arc<Ilo>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let ilo = Arc::new(
            self.client
                .ilo_access(&self.config.server_hardware_uri, deadline)
                .await?,
        );
        let out = f(ilo.clone()).await;
        if let Err(e) = ilo.logout(deadline).await {
            tracing::warn!(error = %e, ilo = ilo.address(), "iLO session log-out failed");
        }
        out
    }

    /// The boot device: the pending one (deferred mode); else a one-time override
    /// on the iLO (`persistent: false`); else the profile's `boot.order[0]`
    /// (persistent). `None` device when neither says (no profile, or `USB` first).
    ///
    /// # Errors
    ///
    /// As [`OneviewClient::send`] and the iLO's requests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// use hwctl_core::BootDevice;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// server.set_boot(BootDevice::Disk, true).await?;
    /// assert_eq!(server.boot().await?.device, Some(BootDevice::Disk));
    /// # Ok(()) }
    /// ```
    pub async fn boot(&self) -> Result<BootDeviceSetting> {
        if let Some(p) = self.pending_boot() {
            return Ok(p);
        }
        let deadline = self.deadline();
        let hw = self.hardware().await?;
        let once = self
            .with_ilo(deadline, |ilo| async move { ilo.boot(deadline).await })
            .await?;
        if once.boot_source_override_enabled.as_deref() == Some("Once") {
            let device = once
                .boot_source_override_target
                .as_deref()
                .and_then(boot_device_of_ilo);
            return Ok(BootDeviceSetting {
                device,
                persistent: Some(false),
            });
        }
        let Some(profile_uri) = hw.server_profile_uri.filter(|p| !p.is_empty()) else {
            return Ok(BootDeviceSetting {
                device: None,
                persistent: None,
            });
        };
        let profile: ServerProfile = self.client.get_json(&profile_uri, deadline).await?;
        let device = profile
            .boot
            .and_then(|b| b.order.first().cloned())
            .and_then(|d| boot_device_of(&d));
        Ok(BootDeviceSetting {
            device,
            persistent: Some(true),
        })
    }

    /// Sensors from `GET …/utilization`: `AmbientTemperature` (°C), `AveragePower`
    /// and `PeakPower` (W), others as `Other` with OneView's unit.
    ///
    /// # Errors
    ///
    /// As [`OneviewClient::send`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// let readings = server.sensors().await?;
    /// assert!(!readings.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn sensors(&self) -> Result<Vec<SensorReading>> {
        let u: Utilization = self
            .client
            .get_json(
                &format!("{}/utilization", self.config.server_hardware_uri),
                self.deadline(),
            )
            .await?;
        Ok(u.metric_list
            .iter()
            .map(|m| {
                let (kind, unit) = match m.metric_name.as_str() {
                    "AmbientTemperature" => (SensorKind::Temperature, "degrees C"),
                    "AveragePower" | "PeakPower" => (SensorKind::Power, "watts"),
                    "CpuUtilization" => (SensorKind::Other, "percent"),
                    "CpuAverageFreq" => (SensorKind::Other, "MHz"),
                    _ => (SensorKind::Other, ""),
                };
                let value = m.latest();
                SensorReading {
                    kind,
                    name: m.metric_name.clone(),
                    value,
                    unit: unit.to_owned(),
                    status: if value.is_some() { "ok" } else { "unavailable" }.to_owned(),
                }
            })
            .collect())
    }

    fn our_profile_name(&self) -> String {
        format!("hw [{}]", self.node_id)
    }

    async fn ownership_of(&self, hw: &ServerHardware, deadline: Instant) -> Result<Ownership> {
        let Some(p) = hw.server_profile_uri.as_deref().filter(|p| !p.is_empty()) else {
            return Ok(Ownership::Free);
        };
        if self.applied_profile().as_deref() == Some(p) {
            return Ok(Ownership::Ours);
        }
        let profile: ServerProfile = self.client.get_json(p, deadline).await?;
        if profile.name == self.our_profile_name() {
            *lock(&self.applied) = Some(p.to_owned());
            Ok(Ownership::Ours)
        } else {
            Ok(Ownership::InUse)
        }
    }

    /// Whether the hardware is free, ours or in use, with its profile and power.
    ///
    /// # Errors
    ///
    /// As [`OneviewClient::send`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(7), &sim.node_context(7))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n7", vec![]);
    /// let status = server.status().await?;
    /// assert_eq!(status["state"], "free"); // servers 4.. have no profile
    /// assert_eq!(status["power_state"], "Off");
    /// # Ok(()) }
    /// ```
    pub async fn status(&self) -> Result<Value> {
        let deadline = self.deadline();
        let hw = self.hardware().await?;
        let own = self.ownership_of(&hw, deadline).await?;
        Ok(json!({
            "state": own.as_str(),
            "server_hardware_uri": hw.uri,
            "server_profile_uri": hw.server_profile_uri,
            "applied_server_profile_uri": self.applied_profile(),
            "power_state": hw.power_state,
        }))
    }

    /// Allocates the server: a profile from `server_profile_template_uri`
    /// (`GET …/new-profile`, named `hw [<node id>]`, `POST /rest/server-profiles`,
    /// task) applied to the hardware. Returns the profile's URI (the node's new
    /// `applied_server_profile_uri`); a server already ours returns its profile.
    ///
    /// # Errors
    ///
    /// `MissingParameter` without a template; `Busy` (not retryable) when someone
    /// else's profile is applied; the task's error; `Protocol` when the task names
    /// no profile.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(7), &sim.node_context(7))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n7", vec![]);
    /// let profile = server.allocate().await?;
    /// assert_eq!(sim.server(7).unwrap().profile.as_deref(), Some(profile.as_str()));
    /// assert_eq!(server.applied_profile(), Some(profile));
    /// # Ok(()) }
    /// ```
    pub async fn allocate(&self) -> Result<String> {
        let Some(template) = self.config.server_profile_template_uri.clone() else {
            return Err(
                Error::missing_parameters(["server_profile_template_uri"]).with_driver(NAME)
            );
        };
        let deadline = self.deadline();
        let hw = self.hardware().await?;
        match self.ownership_of(&hw, deadline).await? {
            Ownership::Ours => {
                return Ok(hw.server_profile_uri.unwrap_or_default());
            }
            Ownership::InUse => return Err(self.in_use_error(&hw, ErrorKind::Busy)),
            Ownership::Free => {}
        }
        let resp = self
            .client
            .send(
                Request::get(format!("{template}/new-profile")).operation("GET new-profile"),
                deadline,
            )
            .await?;
        let mut profile: Value = wire::decode("new-profile", resp.body())?;
        let Some(obj) = profile.as_object_mut() else {
            return Err(
                Error::protocol("the new-profile reply is not a JSON object").with_driver(NAME),
            );
        };
        obj.insert("name".into(), json!(self.our_profile_name()));
        obj.insert("serverHardwareUri".into(), json!(hw.uri));
        let task = self
            .client
            .send_task(
                Request::post("/rest/server-profiles")
                    .json(&profile)
                    .operation("POST server-profiles"),
                deadline,
            )
            .await?;
        let uri = task
            .as_ref()
            .and_then(|t| t.resource_uri())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::protocol("the profile creation task names no associatedResource.resourceUri")
                    .with_driver(NAME)
            })?;
        *lock(&self.applied) = Some(uri.clone());
        Ok(uri)
    }

    /// Removes this node's profile from the server (`DELETE` it, a task). Returns
    /// the removed profile's URI, or `None` when the server was free.
    ///
    /// # Errors
    ///
    /// `Busy` (not retryable) when the profile applied is someone else's; the task's
    /// error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// assert!(server.deallocate().await?.is_some());
    /// assert_eq!(sim.server(0).unwrap().profile, None);
    /// assert_eq!(server.deallocate().await?, None); // already free
    /// # Ok(()) }
    /// ```
    pub async fn deallocate(&self) -> Result<Option<String>> {
        let deadline = self.deadline();
        let hw = self.hardware().await?;
        match self.ownership_of(&hw, deadline).await? {
            Ownership::Free => {
                *lock(&self.applied) = None;
                return Ok(None);
            }
            Ownership::InUse => return Err(self.in_use_error(&hw, ErrorKind::Busy)),
            Ownership::Ours => {}
        }
        let uri = hw.server_profile_uri.unwrap_or_default();
        self.client
            .send_task(
                Request::delete(&uri).operation("DELETE server-profile"),
                deadline,
            )
            .await?;
        *lock(&self.applied) = None;
        Ok(Some(uri))
    }

    /// Ironic's validation against the appliance: not in use by someone else; the
    /// hardware's type and enclosure group are the node's; the template is for the
    /// same type and group and manages the boot order; a node port's MAC is the
    /// server's (the profile's first Ethernet connection, else the `portMap`'s
    /// first function-a port). Returns the checks done.
    ///
    /// # Errors
    ///
    /// `InvalidParameter` listing every failed check; as [`OneviewClient::send`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// # use std::sync::Arc;
    /// # use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewServer};
    /// # use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
    /// # use hwctl_sim::Simulator;
    /// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
    /// let mut info = sim.driver_info(0);
    /// info.insert("server_profile_template_uri", sim.other_template_uri());
    /// let config = OneviewConfig::from_driver_info(&info, &sim.node_context(0))?;
    /// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
    /// let err = server.validate().await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
    pub async fn validate(&self) -> Result<Value> {
        let deadline = self.deadline();
        let hw = self.hardware().await?;
        let mut problems: Vec<String> = Vec::new();
        let mut checked: Vec<&str> = Vec::new();
        if hw.in_use_by_others(self.applied_profile().as_deref()) {
            problems.push(
                self.in_use_error(&hw, ErrorKind::InvalidParameter)
                    .message()
                    .to_owned(),
            );
        }
        checked.push("in use");
        let c = &self.config;
        if let Some(want) = &c.server_hardware_type_uri {
            checked.push("server hardware type");
            if hw.server_hardware_type_uri.as_deref() != Some(want) {
                problems.push(format!(
                    "server_hardware_type_uri is {want} but the hardware's is {}",
                    hw.server_hardware_type_uri.as_deref().unwrap_or("null")
                ));
            }
        }
        if let Some(want) = &c.enclosure_group_uri {
            checked.push("enclosure group");
            if hw.server_group_uri.as_deref() != Some(want) {
                problems.push(format!(
                    "enclosure_group_uri is {want} but the hardware's serverGroupUri is {}",
                    hw.server_group_uri.as_deref().unwrap_or("null")
                ));
            }
        }
        if let Some(t) = &c.server_profile_template_uri {
            checked.push("server profile template");
            let spt: ServerProfileTemplate = self.client.get_json(t, deadline).await?;
            // The template is compared with the node's driver_info value where it
            // gives one, else with the server's own; the message names which.
            let (sht, sht_of) = match &c.server_hardware_type_uri {
                Some(uri) => (Some(uri), "the node's server_hardware_type_uri"),
                None => (
                    hw.server_hardware_type_uri.as_ref(),
                    "the server's serverHardwareTypeUri",
                ),
            };
            if spt.server_hardware_type_uri.as_ref() != sht {
                problems.push(format!(
                    "the template's serverHardwareTypeUri {} is not {sht_of} {}",
                    spt.server_hardware_type_uri.as_deref().unwrap_or("null"),
                    sht.map(String::as_str).unwrap_or("null")
                ));
            }
            let (eg, eg_of) = match &c.enclosure_group_uri {
                Some(uri) => (Some(uri), "the node's enclosure_group_uri"),
                None => (hw.server_group_uri.as_ref(), "the server's serverGroupUri"),
            };
            if spt.enclosure_group_uri.as_ref() != eg {
                problems.push(format!(
                    "the template's enclosureGroupUri {} is not {eg_of} {}",
                    spt.enclosure_group_uri.as_deref().unwrap_or("null"),
                    eg.map(String::as_str).unwrap_or("null")
                ));
            }
            if !spt.boot.as_ref().is_some_and(|b| b.manage_boot) {
                problems.push(
                    "the template does not manage the boot order (boot.manageBoot is not true)"
                        .into(),
                );
            }
        }
        if !self.ports.is_empty() {
            checked.push("port MAC");
            let mut mac = hw
                .port_map
                .as_ref()
                .and_then(|p| p.first_mac())
                .map(str::to_owned);
            if let Some(p) = hw.server_profile_uri.as_deref().filter(|p| !p.is_empty())
                && !hw.in_use_by_others(self.applied_profile().as_deref())
            {
                let profile: ServerProfile = self.client.get_json(p, deadline).await?;
                if let Some(m) = profile
                    .connections
                    .iter()
                    .find(|c| c.function_type.as_deref() == Some("Ethernet"))
                    .and_then(|c| c.mac.clone())
                {
                    mac = Some(m);
                }
            }
            let server_mac = mac.as_deref().and_then(|m| m.parse::<MacAddress>().ok());
            match server_mac {
                Some(m) if self.ports.contains(&m) => {}
                Some(m) => problems.push(format!(
                    "no port of the node has the server's MAC {m} (ports: {})",
                    self.ports
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => problems.push(
                    "the server reports no Ethernet MAC to compare the node's ports with".into(),
                ),
            }
        }
        if problems.is_empty() {
            Ok(json!({"valid": true, "checked": checked}))
        } else {
            Err(Error::new(ErrorKind::InvalidParameter, problems.join("; ")).with_driver(NAME))
        }
    }
}
