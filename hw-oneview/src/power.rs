//! `OneviewPower`: a [`PowerSwitch`] on the appliance — read = `powerState` of the
//! server hardware, apply = `PUT …/powerState` and its task; hwctl-core's engine
//! decides, bounds and confirms.

use std::sync::Arc;
use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::{PowerCapabilities, PowerState, PowerTarget, Result, async_trait};

use crate::NAME;
use crate::server::OneviewServer;

/// Power of one server hardware through its appliance.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::{PowerExt, PowerState};
/// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewPower, OneviewServer};
/// use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
/// use hwctl_sim::Simulator;
/// let sim = OneviewSim::start(OneviewSimConfig::default()).await?;
/// let config = OneviewConfig::from_driver_info(&sim.driver_info(0), &sim.node_context(0))?;
/// let server = OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n0", vec![]);
/// let power = OneviewPower::new(Arc::new(server));
/// power.power_on().await?;
/// assert_eq!(power.server().power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OneviewPower {
    server: Arc<OneviewServer>,
}

impl OneviewPower {
    /// Power of `server`.
    pub fn new(server: Arc<OneviewServer>) -> Self {
        OneviewPower { server }
    }

    /// The server (typed operations).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_oneview::{OneviewClient, OneviewConfig, OneviewPower, OneviewServer};
    /// let config = OneviewConfig::new("https://ov.example", "u", "p", "/rest/server-hardware/1")?;
    /// let server = Arc::new(OneviewServer::new(OneviewClient::shared(&config)?, Arc::new(config), "n1", vec![]));
    /// let power = OneviewPower::new(server.clone());
    /// assert!(Arc::ptr_eq(power.server(), &server));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn server(&self) -> &Arc<OneviewServer> {
        &self.server
    }
}

#[async_trait]
impl PowerSwitch for OneviewPower {
    fn driver(&self) -> &str {
        NAME
    }

    /// On, off, soft off (`MomentaryPress`), reboot (`ColdBoot`), soft reboot (`Reset`).
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }
    }

    /// `powerState`; `PoweringOn`, `PoweringOff` and `Resetting` are `Unknown`.
    async fn read(&self) -> Result<PowerState> {
        self.server.power_state().await
    }

    /// `PUT …/powerState` (the server must not be in use by someone else's
    /// profile: `PowerStateFailure` otherwise), then its task.
    async fn apply(&self, action: PowerAction) -> Result<()> {
        self.server.apply_power(action).await
    }

    fn poll_interval(&self) -> Duration {
        self.server.config().power_poll_interval
    }
}
