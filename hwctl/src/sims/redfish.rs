//! `redfish`: one simulated Redfish service with two ComputerSystems; both nodes
//! share one session (the service counts it).

use std::net::SocketAddr;

use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
use hwctl_sim::Simulator;

/// Starts the service on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let sim = RedfishSim::start(RedfishSimConfig {
        listen,
        systems: 2,
        ..RedfishSimConfig::default()
    })
    .await?;
    Ok(Box::new(sim))
}
