//! The power interface over IPMI chassis commands: [`IpmiPower`] reads Get Chassis
//! Status and applies Chassis Control; `hwctl_core`'s power engine does the rest
//! (capability check, one deadline around read, command and confirmation).

use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch, SoftReboot};
use hwctl_core::{PowerCapabilities, PowerState, PowerTarget, Result, async_trait};

use crate::ipmi::{ChassisControl, Ipmi};

/// Power through Get Chassis Status and Chassis Control. As a
/// [`PowerSwitch`], it is a [`hwctl_core::Power`]: each change is confirmed by polling
/// the chassis status, and the first read, the command and the confirmation all
/// end within the caller's timeout (a silent BMC costs the timeout, then
/// `timeout`; `power-state-failure` once a command was accepted but not confirmed). IPMI has no soft reboot: soft off, confirmed off, then on.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState};
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let power = hwctl_ipmi::IpmiPower::new(hwctl_ipmi::Ipmi::new(bmc.config()));
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IpmiPower {
    ipmi: Ipmi,
}

impl IpmiPower {
    /// Power over `ipmi` (errors name the handle's driver, [`Ipmi::driver`]).
    pub fn new(ipmi: Ipmi) -> Self {
        IpmiPower { ipmi }
    }
}

#[async_trait]
impl PowerSwitch for IpmiPower {
    fn driver(&self) -> &str {
        self.ipmi.driver()
    }

    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }
    }

    async fn read(&self) -> Result<PowerState> {
        let on = self.ipmi.chassis_power_on().await?;
        Ok(if on { PowerState::On } else { PowerState::Off })
    }

    async fn apply(&self, action: PowerAction) -> Result<()> {
        let control = match action {
            PowerAction::On => ChassisControl::PowerUp,
            PowerAction::Off => ChassisControl::PowerDown,
            PowerAction::SoftOff => ChassisControl::SoftShutdown,
            // Never asked for SoftReboot (soft_reboot() is OffThenOn); a cycle is the
            // closest IPMI has.
            _ => ChassisControl::PowerCycle,
        };
        self.ipmi.chassis_control(control).await
    }

    fn poll_interval(&self) -> Duration {
        self.ipmi.client().config().poll_interval
    }

    fn soft_reboot(&self) -> SoftReboot {
        SoftReboot::OffThenOn
    }
}
