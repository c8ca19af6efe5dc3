//! `staging-amt`: one simulated Intel AMT (WS-Management, digest auth with an
//! AMT-shaped realm); the demo drives its power and boot device.

use std::net::SocketAddr;

use hwctl_amt::sim::{AmtSim, AmtSimConfig};
use hwctl_sim::Simulator;

/// Starts the AMT simulator on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let sim = AmtSim::start(AmtSimConfig {
        listen,
        ..AmtSimConfig::default()
    })
    .await?;
    Ok(Box::new(sim))
}
