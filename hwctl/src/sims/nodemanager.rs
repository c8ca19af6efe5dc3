//! `staging-nm`: simulated RMCP+ BMCs (the `hwctl-ipmi` simulator, user `admin` /
//! `password`) each with a stateful Intel Node Manager (`hwctl-nodemanager`'s
//! simulator) at channel 6, address 0x2c, announced by the BMC's SDR.

use std::net::SocketAddr;

use hwctl_nodemanager::sim::start_bmc;
use hwctl_sim::Simulator;
use hwctl_sim::fleet::SimFleet;

const NODES: usize = 2;

/// Starts the BMCs on consecutive ports from `listen`'s (as `ipmi`'s; 127.0.0.1
/// and ephemeral ports by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let mut bmcs: Vec<Box<dyn Simulator>> = Vec::with_capacity(NODES);
    for cfg in super::ipmi::bmc_configs(NODES, listen)? {
        bmcs.push(Box::new(start_bmc(cfg).await?));
    }
    Ok(Box::new(SimFleet::new(
        hwctl_nodemanager::NAME,
        format!(
            "staging-nm: {NODES} RMCP+ BMCs with Intel Node Manager (user admin, password password)"
        ),
        bmcs,
    )))
}
