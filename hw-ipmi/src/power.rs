//! The power interface over IPMI chassis commands.

use std::time::Duration;

use hw_core::power::{DEFAULT_POWER_TIMEOUT, ensure_supported, wait_for_state};
use hw_core::{
    Error, ErrorKind, Power, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use tokio::time::Instant;

use crate::ipmi::{ChassisControl, Ipmi};

/// Power through Get Chassis Status and Chassis Control, each change confirmed by
/// polling the chassis status within the timeout.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_core::{Power, PowerExt, PowerState};
/// let bmc = hw_ipmi::sim::SimBmc::start(Default::default()).await?;
/// let power = hw_ipmi::IpmiPower::new(hw_ipmi::Ipmi::new(bmc.config()));
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IpmiPower {
    ipmi: Ipmi,
}

impl IpmiPower {
    /// Power over `ipmi`.
    pub fn new(ipmi: Ipmi) -> Self {
        IpmiPower { ipmi }
    }

    async fn wait(&self, want: PowerState, deadline: Instant) -> Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        // One read may take several request timeouts (retries, a session re-opened):
        // cut it at the deadline so the change is confirmed or refused in time.
        let read = || async move {
            tokio::time::timeout_at(deadline, self.get_power_state())
                .await
                .unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Timeout,
                        "the BMC did not answer Get Chassis Status before the deadline",
                    ))
                })
        };
        wait_for_state(read, want, left, self.ipmi.client().config().poll_interval).await
    }
}

#[async_trait]
impl Power for IpmiPower {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
        }
    }

    async fn get_power_state(&self) -> Result<PowerState> {
        let on = self
            .ipmi
            .chassis_power_on()
            .await
            .map_err(|e| e.or_operation("get power state"))?;
        Ok(if on { PowerState::On } else { PowerState::Off })
    }

    #[tracing::instrument(level = "debug", skip(self), fields(endpoint = %self.ipmi.client().config().endpoint()))]
    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        ensure_supported(&self.capabilities(), target)?;
        let op = format!("power {target}");
        let deadline = Instant::now() + timeout.unwrap_or(DEFAULT_POWER_TIMEOUT);
        let current = self
            .get_power_state()
            .await
            .map_err(|e| e.with_operation(op.clone()))?;
        let r = async {
            match target {
                PowerTarget::On | PowerTarget::Off | PowerTarget::SoftOff
                    if current == target.final_state() =>
                {
                    return Ok(());
                }
                PowerTarget::On => self.ipmi.chassis_control(ChassisControl::PowerUp).await?,
                PowerTarget::Off => self.ipmi.chassis_control(ChassisControl::PowerDown).await?,
                PowerTarget::SoftOff => {
                    self.ipmi
                        .chassis_control(ChassisControl::SoftShutdown)
                        .await?
                }
                PowerTarget::Reboot | PowerTarget::SoftReboot if current == PowerState::Off => {
                    self.ipmi.chassis_control(ChassisControl::PowerUp).await?
                }
                PowerTarget::Reboot => {
                    self.ipmi
                        .chassis_control(ChassisControl::PowerCycle)
                        .await?
                }
                PowerTarget::SoftReboot => {
                    self.ipmi
                        .chassis_control(ChassisControl::SoftShutdown)
                        .await?;
                    self.wait(PowerState::Off, deadline).await?;
                    self.ipmi.chassis_control(ChassisControl::PowerUp).await?;
                }
                _ => {
                    return Err(hw_core::Error::unsupported(format_args!(
                        "power target {target}"
                    )));
                }
            }
            self.wait(target.final_state(), deadline).await
        }
        .await;
        r.map_err(|e| e.or_driver("ipmi").or_operation(op))
    }
}
