//! `oneview`: one simulated HPE OneView appliance (plain HTTP on loopback) with 16
//! servers, each with its own iLO: the first 8 carry a profile made for their node,
//! the other 8 are free for `hwctl vendor call allocate_server`. Every node shares
//! one session with the appliance.

use std::net::SocketAddr;
use std::time::Duration;

use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
use hwctl_sim::Simulator;

/// Starts the appliance on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let sim = OneviewSim::start(OneviewSimConfig {
        listen,
        servers: 16,
        with_profiles: 8,
        task_duration: Duration::from_millis(200),
        task_poll_interval: 0.1,
        ..OneviewSimConfig::default()
    })
    .await?;
    Ok(Box::new(sim))
}
