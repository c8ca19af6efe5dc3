//! System power: `PowerState` read from the ComputerSystem, set through
//! `ComputerSystem.Reset`, as a [`PowerSwitch`]; hwctl-core's engine does the
//! set-and-confirm under one deadline.

use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::{PowerCapabilities, PowerState, PowerTarget, Result, async_trait};

use crate::NAME;
use crate::client::RedfishClient;
use crate::config::RedfishConfig;
use crate::wire::reset_types;

/// The power interface of one ComputerSystem.
///
/// | target | `ResetType` sent (first the system allows) |
/// |---|---|
/// | on | `On`, `ForceOn` |
/// | off | `ForceOff` |
/// | soft off | `GracefulShutdown` |
/// | reboot | `ForceRestart`, `PowerCycle` |
/// | soft reboot | `GracefulRestart` |
///
/// A target whose reset types are all outside the system's
/// `ResetType@Redfish.AllowableValues` is `Unsupported` before anything is sent.
/// `PoweringOn` reads off and `PoweringOff` on until the change completes; `Paused`
/// and anything else read [`PowerState::Unknown`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState};
/// use hwctl_redfish::{RedfishConfig, RedfishPower};
/// let sim = hwctl_redfish::sim::RedfishSim::start(Default::default()).await?;
/// let power = RedfishPower::new(RedfishConfig::new(sim.base_url(), "admin", "password")?)?;
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedfishPower {
    client: RedfishClient,
    poll: Duration,
}

impl RedfishPower {
    /// The power interface of `config`'s system on the shared client.
    ///
    /// # Errors
    ///
    /// As [`RedfishClient::shared`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState};
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let power = hwctl_redfish::RedfishPower::new(config)?;
    /// power.power_on().await?;
    /// power.power_off().await?;
    /// assert_eq!(power.get_power_state().await?, PowerState::Off);
    /// assert_eq!(sim.system(0).resets, ["On", "ForceOff"]);
    /// # Ok(()) }
    /// ```
    pub fn new(config: RedfishConfig) -> Result<Self> {
        Ok(RedfishPower::with_client(
            RedfishClient::shared(&config)?,
            &config,
        ))
    }

    /// The power interface on `client`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState};
    /// use hwctl_redfish::{RedfishClient, RedfishPower};
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let client = RedfishClient::with_clients(&config, &hwctl_http::HttpClients::new())?;
    /// let power = RedfishPower::with_client(client, &config);
    /// power.reboot().await?;
    /// assert_eq!(power.get_power_state().await?, PowerState::On);
    /// # Ok(()) }
    /// ```
    pub fn with_client(client: RedfishClient, config: &RedfishConfig) -> Self {
        RedfishPower {
            client,
            poll: config.power_poll_interval,
        }
    }

    /// The client.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerExt;
    /// use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    /// let sim = RedfishSim::start(RedfishSimConfig::default()).await?;
    /// let config = hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password")?;
    /// let power = hwctl_redfish::RedfishPower::new(config)?;
    /// power.power_on().await?;
    /// assert_eq!(power.client().system().await?.value.power_state.as_deref(), Some("On"));
    /// # power.client().close().await?;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &RedfishClient {
        &self.client
    }
}

#[async_trait]
impl PowerSwitch for RedfishPower {
    fn driver(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![
                PowerTarget::On,
                PowerTarget::Off,
                PowerTarget::SoftOff,
                PowerTarget::Reboot,
                PowerTarget::SoftReboot,
            ],
            recorded_only: Vec::new(),
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll
    }

    async fn read(&self) -> Result<PowerState> {
        let system = self.client.system().await?.value;
        Ok(system.power())
    }

    async fn apply(&self, action: PowerAction) -> Result<()> {
        self.client.reset(reset_types(action)).await.map(drop)
    }
}
