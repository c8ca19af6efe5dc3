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
