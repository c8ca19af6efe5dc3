//! Blade power: `GetBladeState`, `SetBladeOn`, `SetBladeOff`, `SetBladeActivePowerCycle`,
//! as a [`PowerSwitch`]; hwctl-core's engine does the set-and-confirm under one deadline.

use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::{
    Error, ErrorKind, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};

use crate::NAME;
use crate::client::OcsClient;
use crate::config::{Blade, OcsConfig};
use crate::wire::{BladeResponse, BladeStateResponse, Request};

/// The power interface of one blade.
///
/// Targets: on, off and reboot (an active power cycle with `offTime=0`; a blade
/// that is off is powered on instead). Every set is confirmed by polling
/// `GetBladeState` until the target state shows, and the whole set (first read,
/// command, confirmation) is bounded by the caller's timeout (hwctl-core's power
/// engine). A state other than `ON`/`OFF` reads as [`PowerState::Unknown`]; a
/// reboot refuses to guess on such a blade.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState};
/// use hwctl_ocs::{OcsConfig, OcsPower};
/// let sim = hwctl_ocs::sim::OcsSim::start(Default::default()).await?;
/// let power = OcsPower::new(OcsConfig::new(sim.base_url(), 7, "admin", "password")?)?;
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// assert!(sim.blade(7).unwrap().on);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OcsPower {
    client: OcsClient,
    blade_id: u32,
    poll: Duration,
}

impl OcsPower {
    /// The power interface of `config.blade_id`, on the shared client of its chassis
    /// manager.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::new`].
    pub fn new(config: OcsConfig) -> Result<Self> {
        Ok(OcsPower::with_client(OcsClient::shared(&config)?, &config))
    }

    /// The power interface of `config.blade_id` on `client`.
    pub fn with_client(client: OcsClient, config: &OcsConfig) -> Self {
        OcsPower::on_blade(client, &Blade::of(config))
    }

    /// The power interface of `blade` on `client`.
    pub(crate) fn on_blade(client: OcsClient, blade: &Blade) -> Self {
        OcsPower {
            client,
            blade_id: blade.blade_id,
            poll: blade.power_poll_interval,
        }
    }

    /// The client (shared with the other blades of the chassis manager).
    pub fn client(&self) -> &OcsClient {
        &self.client
    }
}

#[async_trait]
impl PowerSwitch for OcsPower {
    fn driver(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
            recorded_only: Vec::new(),
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll
    }

    /// `GetBladeState`: `ON` / `OFF`, anything else [`PowerState::Unknown`].
    async fn read(&self) -> Result<PowerState> {
        let reply: BladeStateResponse = self
            .client
            .call(&Request::GetBladeState {
                blade_id: self.blade_id,
            })
            .await?;
        let state = reply.blade_state.power_state();
        if state == PowerState::Unknown {
            tracing::info!(blade = self.blade_id, state = %reply.blade_state, "blade state is neither ON nor OFF");
        }
        Ok(state)
    }

    /// `SetBladeOn`, `SetBladeOff`, or `SetBladeActivePowerCycle` with `offTime=0`
    /// (never resent: the request is marked not idempotent).
    async fn apply(&self, action: PowerAction) -> Result<()> {
        let blade_id = self.blade_id;
        let request = match action {
            PowerAction::On => Request::SetBladeOn { blade_id },
            PowerAction::Off => Request::SetBladeOff { blade_id },
            PowerAction::Reboot => Request::SetBladeActivePowerCycle {
                blade_id,
                off_time: 0,
            },
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("a blade has no {other} command"),
                )
                .with_driver(NAME));
            }
        };
        tracing::info!(blade = blade_id, %action, "setting blade power");
        self.client.call::<BladeResponse>(&request).await.map(drop)
    }

    fn resolve_unknown(&self, target: PowerTarget) -> Result<PowerAction> {
        Err(Error::new(
            ErrorKind::PowerStateFailure,
            format!(
                "blade {} reports a state that is neither ON nor OFF; not choosing between \
                 power on and power cycle for {target}",
                self.blade_id
            ),
        ))
    }
}
