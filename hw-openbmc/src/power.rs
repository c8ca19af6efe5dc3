//! Host power: the REST API's `CurrentHostState` / `RequestedHostTransition` (hard
//! off through chassis0's `RequestedPowerTransition`), or Redfish through
//! hwctl-redfish, as a [`PowerSwitch`].

use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch, SoftReboot};
use hwctl_core::{
    Error, ErrorKind, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use hwctl_redfish::RedfishPower;
use serde_json::json;

use crate::NAME;
use crate::client::{OpenbmcClient, ResolvedApi};
use crate::config::OpenbmcConfig;
use crate::wire;

/// The power interface of one OpenBMC host.
///
/// | target | REST API | Redfish |
/// |---|---|---|
/// | on | `RequestedHostTransition` `On` | `ComputerSystem.Reset` `On` |
/// | off | chassis0 `RequestedPowerTransition` `Off` | `ForceOff` |
/// | soft off | `RequestedHostTransition` `Off` | `GracefulShutdown` |
/// | reboot | `RequestedHostTransition` `Reboot` | `ForceRestart` |
/// | soft reboot | soft off, then on | `GracefulRestart` |
///
/// `CurrentHostState` `Running` is on, `Off` off, anything else
/// (`TransitioningTo*`, `Quiesced`, …) [`PowerState::Unknown`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState, PowerTarget};
/// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
/// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
/// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
/// let power = hwctl_openbmc::OpenbmcPower::new(config)?;
/// power.power_on().await?;
/// power.set_power_state(PowerTarget::Off, None).await?;
/// assert_eq!(power.get_power_state().await?, PowerState::Off);
/// // Hard off goes through chassis0.
/// assert!(sim.requests().iter().any(|r| r.path == hwctl_openbmc::wire::CHASSIS_TRANSITION));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenbmcPower {
    client: OpenbmcClient,
    redfish: RedfishPower,
    poll: Duration,
}

impl OpenbmcPower {
    /// The power interface of `config`'s BMC on the shared client.
    ///
    /// # Errors
    ///
    /// As [`OpenbmcClient::shared`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let power = hwctl_openbmc::OpenbmcPower::new(config)?;
    /// power.reboot().await?;
    /// assert_eq!(power.get_power_state().await?, PowerState::On);
    /// # Ok(()) }
    /// ```
    pub fn new(config: OpenbmcConfig) -> Result<Self> {
        Ok(OpenbmcPower::with_client(
            OpenbmcClient::shared(&config)?,
            &config,
        ))
    }

    /// The power interface on `client`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState};
    /// use hwctl_openbmc::{OpenbmcClient, OpenbmcPower};
    /// use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
    /// let sim = OpenbmcSim::start(OpenbmcSimConfig::default()).await?;
    /// let config = hwctl_openbmc::OpenbmcConfig::new(sim.base_url(), "root", "0penBmc")?;
    /// let client = OpenbmcClient::shared(&config)?;
    /// let power = OpenbmcPower::with_client(client.clone(), &config);
    /// power.power_on().await?;
    /// assert_eq!(power.get_power_state().await?, PowerState::On);
    /// # client.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn with_client(client: OpenbmcClient, config: &OpenbmcConfig) -> Self {
        let mut rf = hwctl_redfish::RedfishConfig::with_endpoint(config.endpoint.clone());
        rf.power_poll_interval = config.power_poll_interval;
        OpenbmcPower {
            redfish: RedfishPower::with_client(client.redfish().clone(), &rf),
            client,
            poll: config.power_poll_interval,
        }
    }
}

#[async_trait]
impl PowerSwitch for OpenbmcPower {
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

    fn soft_reboot(&self) -> SoftReboot {
        // The REST API has no graceful reboot in the facts we have; Redfish does,
        // but the choice is known only after the probe: off-then-on works on both.
        SoftReboot::OffThenOn
    }

    async fn read(&self) -> Result<PowerState> {
        match self.client.api().await? {
            ResolvedApi::Redfish => {
                self.client
                    .on_redfish(PowerSwitch::read(&self.redfish))
                    .await
            }
            ResolvedApi::Rest => {
                let data = self.client.get(wire::HOST_STATE).await?;
                let s = data.as_str().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Protocol,
                        "CurrentHostState: data is not a string",
                    )
                    .with_driver(NAME)
                })?;
                Ok(wire::host_power(s))
            }
        }
    }

    async fn apply(&self, action: PowerAction) -> Result<()> {
        if self.client.api().await? == ResolvedApi::Redfish {
            return self.client.on_redfish(self.redfish.apply(action)).await;
        }
        let (path, value) = match action {
            PowerAction::On => (wire::HOST_TRANSITION, wire::host_transition("On")),
            PowerAction::SoftOff => (wire::HOST_TRANSITION, wire::host_transition("Off")),
            PowerAction::Off => (wire::CHASSIS_TRANSITION, wire::CHASSIS_OFF.to_owned()),
            PowerAction::Reboot => (wire::HOST_TRANSITION, wire::host_transition("Reboot")),
            other => {
                return Err(
                    Error::unsupported(format!("{other} through the OpenBMC REST API"))
                        .with_driver(NAME),
                );
            }
        };
        tracing::info!(%action, "OpenBMC REST power transition");
        self.client.put(path, json!(value)).await
    }
}
