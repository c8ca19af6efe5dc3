//! Power through `CIM_PowerManagementService.RequestPowerStateChange`, as a
//! [`PowerSwitch`]: hwctl-core's engine reads, decides, applies and confirms under one
//! deadline.
//!
//! State (`CIM_AssociatedPowerManagementService.PowerState`, DMTF values): 2 is on;
//! 8 (Off-Soft; Intel: verified hard off), 6 (Off-Hard), 12 (Off-Soft Graceful) and
//! 13 (Off-Hard Graceful) are off; anything else is [`PowerState::Unknown`], the
//! number kept in [`AmtPower::last_power_state`] and the log. Requests: on 2, off 8,
//! soft off 12, reboot 10 (Master Bus Reset; 5, power cycle, where 10 is not
//! offered), soft reboot 14. A request that the device's
//! `AvailableRequestedPowerStates` (read just before) does not list is
//! `Unsupported` before anything is sent. Before every power on and reboot the
//! node's stored boot device is sent ([`BootKeeper::reapply`]).
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
//! use hwctl_amt::AmtPower;
//! use hwctl_core::power::{PowerAction, PowerSwitch};
//! use hwctl_core::PowerState;
//! let power = AmtPower::new(client, keeper.clone(), std::time::Duration::from_millis(10));
//! use hwctl_core::BootDevice;
//! keeper.record(BootDevice::Pxe, false).await?;
//! assert_eq!(power.read().await?, PowerState::Off);
//! power.apply(PowerAction::On).await?; // sends the stored device first
//! assert_eq!(sim.boots(), ["pxe"]);
//! assert_eq!(keeper.stored().await?, None); // not persistent: forgotten once sent
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::{
    Error, ErrorKind, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};

use crate::NAME;
use crate::client::AmtClient;
use crate::management::BootKeeper;
use crate::wire;

/// `PowerState` values that mean off (MAAS's list).
pub const OFF_STATES: [u16; 4] = [8, 6, 12, 13];
/// `PowerState` value of on.
pub const ON_STATE: u16 = 2;

/// The `PowerState` value requested for an action (see the module docs).
///
/// ```
/// use hwctl_amt::power::requested_state;
/// use hwctl_core::power::PowerAction;
/// assert_eq!(requested_state(PowerAction::On), Some(2));
/// assert_eq!(requested_state(PowerAction::Off), Some(8));
/// assert_eq!(requested_state(PowerAction::SoftOff), Some(12));
/// assert_eq!(requested_state(PowerAction::Reboot), Some(10));
/// ```
pub fn requested_state(action: PowerAction) -> Option<u16> {
    match action {
        PowerAction::On => Some(2),
        PowerAction::Off => Some(8),
        PowerAction::SoftOff => Some(12),
        PowerAction::Reboot => Some(10),
        PowerAction::SoftReboot => Some(14),
        _ => None,
    }
}

/// The power state of a `PowerState` value.
///
/// ```
/// use hwctl_amt::power::power_state_of;
/// use hwctl_core::PowerState;
/// assert_eq!(power_state_of(2), PowerState::On);
/// for off in [8, 6, 12, 13] {
///     assert_eq!(power_state_of(off), PowerState::Off);
/// }
/// assert_eq!(power_state_of(3), PowerState::Unknown);
/// ```
pub fn power_state_of(value: u16) -> PowerState {
    if value == ON_STATE {
        PowerState::On
    } else if OFF_STATES.contains(&value) {
        PowerState::Off
    } else {
        PowerState::Unknown
    }
}

#[derive(Debug, Default)]
struct Seen {
    power_state: Option<u16>,
    available: Option<Vec<u16>>,
}

/// Power of one AMT node.
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
/// use hwctl_amt::AmtPower;
/// use hwctl_core::power::{PowerAction, PowerSwitch};
/// use hwctl_core::PowerState;
/// let power = AmtPower::new(client, keeper.clone(), std::time::Duration::from_millis(10));
/// power.apply(PowerAction::On).await?;
/// assert!(sim.is_on());
/// assert_eq!(power.read().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AmtPower {
    client: AmtClient,
    boot: Arc<BootKeeper>,
    poll: Duration,
    seen: Arc<Mutex<Seen>>,
}

impl AmtPower {
    /// Power over `client`, re-applying `boot` before power on and reboot.
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
    /// use hwctl_amt::AmtPower;
    /// use hwctl_core::power::{PowerAction, PowerSwitch};
    /// use hwctl_core::PowerState;
    /// let power = AmtPower::new(client, keeper.clone(), std::time::Duration::from_millis(10));
    /// assert_eq!(power.poll_interval(), std::time::Duration::from_millis(10));
    /// assert_eq!(power.driver(), "staging-amt");
    /// # Ok(()) }
    /// ```
    pub fn new(client: AmtClient, boot: Arc<BootKeeper>, poll: Duration) -> Self {
        AmtPower {
            client,
            boot,
            poll,
            seen: Arc::new(Mutex::new(Seen::default())),
        }
    }

    /// The client.
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
    /// use hwctl_amt::AmtPower;
    /// use hwctl_core::power::{PowerAction, PowerSwitch};
    /// use hwctl_core::PowerState;
    /// let power = AmtPower::new(client, keeper.clone(), std::time::Duration::from_millis(10));
    /// assert_eq!(power.client().identify().await?.product_vendor, "Intel Corporation");
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &AmtClient {
        &self.client
    }

    /// The `PowerState` number of the last read (kept for `Unknown` states).
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
    /// use hwctl_amt::AmtPower;
    /// use hwctl_core::power::{PowerAction, PowerSwitch};
    /// use hwctl_core::PowerState;
    /// let power = AmtPower::new(client, keeper.clone(), std::time::Duration::from_millis(10));
    /// assert_eq!(power.last_power_state(), None);
    /// sim.set_power_state(3);
    /// assert_eq!(power.read().await?, PowerState::Unknown);
    /// assert_eq!(power.last_power_state(), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn last_power_state(&self) -> Option<u16> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .power_state
    }

    /// `AvailableRequestedPowerStates` of the last read.
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
    /// use hwctl_amt::AmtPower;
    /// use hwctl_core::power::{PowerAction, PowerSwitch};
    /// use hwctl_core::PowerState;
    /// let power = AmtPower::new(client, keeper.clone(), std::time::Duration::from_millis(10));
    /// power.read().await?;
    /// assert_eq!(power.last_available(), Some(vec![2, 5])); // the simulator while off
    /// let err = power.apply(PowerAction::Off).await.unwrap_err(); // 8 is not offered
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Unsupported);
    /// # Ok(()) }
    /// ```
    pub fn last_available(&self) -> Option<Vec<u16>> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .available
            .clone()
    }

    fn choose(&self, action: PowerAction) -> Result<u16> {
        let wanted = requested_state(action).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!("AMT has no {action} request"),
            )
        })?;
        let Some(available) = self.last_available() else {
            return Ok(wanted);
        };
        if available.contains(&wanted) {
            return Ok(wanted);
        }
        if action == PowerAction::Reboot && available.contains(&5) {
            return Ok(5);
        }
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the device does not offer PowerState {wanted} for {action} now \
                 (AvailableRequestedPowerStates: {available:?})"
            ),
        ))
    }
}

#[async_trait]
impl PowerSwitch for AmtPower {
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
        let service = self.client.power_service().await?;
        let state = power_state_of(service.power_state);
        if state == PowerState::Unknown {
            tracing::info!(
                power_state = service.power_state,
                "AMT PowerState is neither on nor off"
            );
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.power_state = Some(service.power_state);
        seen.available = Some(service.available_requested_power_states);
        Ok(state)
    }

    async fn apply(&self, action: PowerAction) -> Result<()> {
        let state = self.choose(action).map_err(|e| e.with_driver(NAME))?;
        if matches!(
            action,
            PowerAction::On | PowerAction::Reboot | PowerAction::SoftReboot
        ) {
            self.boot.reapply().await?;
        }
        tracing::info!(%action, power_state = state, "RequestPowerStateChange");
        self.client
            .invoke(wire::request_power_state_change(state))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_as_maas_and_the_issue_say() {
        assert_eq!(power_state_of(2), PowerState::On);
        for s in [8, 6, 12, 13] {
            assert_eq!(power_state_of(s), PowerState::Off);
        }
        for s in [0, 1, 3, 4, 5, 7, 9, 10, 11, 14, 99] {
            assert_eq!(power_state_of(s), PowerState::Unknown);
        }
        assert_eq!(requested_state(PowerAction::On), Some(2));
        assert_eq!(requested_state(PowerAction::Off), Some(8));
        assert_eq!(requested_state(PowerAction::SoftOff), Some(12));
        assert_eq!(requested_state(PowerAction::Reboot), Some(10));
        assert_eq!(requested_state(PowerAction::SoftReboot), Some(14));
    }
}
