//! Blade power: `GetBladeState`, `SetBladeOn`, `SetBladeOff`, `SetBladeActivePowerCycle`.

use std::time::Duration;

use hw_core::power::{DEFAULT_POWER_TIMEOUT, ensure_supported, wait_for_state};
use hw_core::{
    Error, ErrorKind, Power, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};

use crate::client::{DRIVER, OcsClient};
use crate::config::Config;
use crate::wire::{BladeResponse, BladeStateResponse, Request};

/// The power interface of one blade.
///
/// Targets: on, off and reboot (an active power cycle with `offTime=0`; a blade
/// that is off is powered on instead). Every set is confirmed by polling
/// `GetBladeState` until the target state shows, within the timeout. A state other
/// than `ON`/`OFF` reads as [`PowerState::Unknown`]; a reboot refuses to guess on
/// such a blade.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_core::{Power, PowerExt, PowerState};
/// use hw_ocs::{Config, OcsPower};
/// let sim = hw_ocs::sim::ChassisSim::start(Default::default()).await?;
/// let power = OcsPower::new(Config::new(sim.base_url(), 7, "admin", "password"))?;
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
    pub fn new(config: Config) -> Result<Self> {
        Ok(OcsPower::with_client(OcsClient::shared(&config)?, &config))
    }

    /// The power interface of `config.blade_id` on `client`.
    pub fn with_client(client: OcsClient, config: &Config) -> Self {
        OcsPower {
            client,
            blade_id: config.blade_id,
            poll: config.power_poll_interval,
        }
    }

    /// The client (shared with the other blades of the chassis manager).
    pub fn client(&self) -> &OcsClient {
        &self.client
    }

    async fn command(&self, request: Request) -> Result<()> {
        self.client.call::<BladeResponse>(&request).await.map(drop)
    }

    /// Reads, commands and confirms; bounded by the caller (`set_power_state`).
    async fn drive(
        &self,
        target: PowerTarget,
        deadline: tokio::time::Instant,
        op: &'static str,
    ) -> Result<()> {
        let blade_id = self.blade_id;
        let current = self.get_power_state().await?;
        let want = target.final_state();
        match target {
            PowerTarget::On | PowerTarget::Off if current == want => return Ok(()),
            PowerTarget::On => self.command(Request::SetBladeOn { blade_id }).await?,
            PowerTarget::Off => self.command(Request::SetBladeOff { blade_id }).await?,
            _ => match current {
                PowerState::Off => self.command(Request::SetBladeOn { blade_id }).await?,
                PowerState::On => {
                    self.command(Request::SetBladeActivePowerCycle {
                        blade_id,
                        off_time: 0,
                    })
                    .await?
                }
                _ => {
                    return Err(Error::new(
                        ErrorKind::PowerStateFailure,
                        format!(
                            "blade {blade_id} reports a state that is neither ON nor OFF; \
                             not choosing between power on and power cycle"
                        ),
                    )
                    .with_driver(DRIVER)
                    .with_operation(op));
                }
            },
        }
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        wait_for_state(|| self.get_power_state(), want, remaining, self.poll).await
    }
}

#[async_trait]
impl Power for OcsPower {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
        }
    }

    async fn get_power_state(&self) -> Result<PowerState> {
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

    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        ensure_supported(&self.capabilities(), target).map_err(|e| e.with_driver(DRIVER))?;
        let timeout = timeout.unwrap_or(DEFAULT_POWER_TIMEOUT);
        let op = match target {
            PowerTarget::On => "power on",
            PowerTarget::Off => "power off",
            _ => "reboot",
        };
        tracing::info!(blade = self.blade_id, %target, "setting blade power");
        // `wait_for_state` checks its deadline between reads only, and one read may
        // take the request timeout times hw-http's attempts: the whole set is bounded
        // here so the caller's timeout holds even when the chassis stops answering.
        let deadline = tokio::time::Instant::now() + timeout;
        match tokio::time::timeout_at(deadline, self.drive(target, deadline, op)).await {
            Ok(r) => r.map_err(|e| e.or_driver(DRIVER).or_operation(op)),
            Err(_) => Err(Error::new(
                ErrorKind::PowerStateFailure,
                format!(
                    "power state {} of blade {} not confirmed within {:.1}s (the chassis did not answer in time)",
                    target.final_state(),
                    self.blade_id,
                    timeout.as_secs_f64()
                ),
            )
            .with_driver(DRIVER)
            .with_operation(op)),
        }
    }
}
