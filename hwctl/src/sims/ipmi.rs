//! `ipmi`: simulated RMCP+ BMCs (cipher suites 3 and 17, user `admin` / `password`),
//! one per node; the first listens on the requested address. Each BMC's SDR holds
//! a few sensors and an Intel Node Manager record (channel 6, address 0x2c).

use std::net::SocketAddr;

use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
use hwctl_sim::Simulator;
use hwctl_sim::fleet::SimFleet;

const NODES: usize = 3;

/// Starts the BMCs: the first on `listen` (127.0.0.1 and an ephemeral port by
/// default), the others on ephemeral loopback ports.
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let mut bmcs: Vec<Box<dyn Simulator>> = Vec::with_capacity(NODES);
    for cfg in bmc_configs(NODES, listen) {
        bmcs.push(Box::new(IpmiSim::start(cfg).await?));
    }
    Ok(Box::new(SimFleet::new(
        hwctl_ipmi::NAME,
        format!("ipmi: {NODES} RMCP+ BMCs (suites 3, 17; user admin, password password)"),
        bmcs,
    )))
}

/// `n` BMC configurations: the first listens on `listen` when given, the others on
/// ephemeral loopback ports (shared with the `staging-nm` simulator).
pub(super) fn bmc_configs(n: usize, listen: Option<SocketAddr>) -> Vec<IpmiSimConfig> {
    (0..n)
        .map(|i| {
            let mut cfg = IpmiSimConfig::default();
            if i == 0
                && let Some(addr) = listen
            {
                cfg.listen = addr;
            }
            cfg
        })
        .collect()
}
