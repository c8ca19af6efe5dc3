//! `openbmc`: one simulated OpenBMC answering its REST API (`openbmc_api=auto`
//! finds no Redfish there and drives REST, with one cookie session).

use std::net::SocketAddr;

use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
use hwctl_sim::Simulator;

/// Starts the BMC on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let sim = OpenbmcSim::start(OpenbmcSimConfig {
        listen,
        ..OpenbmcSimConfig::default()
    })
    .await?;
    Ok(Box::new(sim))
}
