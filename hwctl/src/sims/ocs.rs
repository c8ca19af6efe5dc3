//! `msftocs`: one simulated OCS chassis manager with 48 blades; the demo drives
//! every blade, all through one shared HTTP client and its concurrency limit.

use std::net::SocketAddr;

use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
use hwctl_sim::Simulator;

const BLADES: u32 = 48;

/// Starts the chassis manager on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let sim = OcsSim::start(OcsSimConfig {
        listen,
        population: BLADES,
        username: "admin".into(),
        password: "password".into(),
        ..OcsSimConfig::default()
    })
    .await?;
    Ok(Box::new(sim))
}
