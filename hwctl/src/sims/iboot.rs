//! `staging-iboot`: one simulated iBoot PDU with 8 relays; the demo drives four
//! nodes on relays 1 to 4 (their operations are serialized on the PDU), with short
//! retry and reboot delays so the demo does not wait Ironic's defaults.

use std::net::SocketAddr;

use hwctl_iboot::sim::IbootSim;
use hwctl_sim::Simulator;
use hwctl_sim::fleet::SimView;

const RELAYS: u8 = 8;
const DEMO_NODES: usize = 4;

/// Starts the PDU on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let addr = listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let sim = IbootSim::bind(addr, RELAYS, "admin", "admin").await?;
    Ok(Box::new(
        SimView::new(sim, DEMO_NODES)
            .with_info("iboot_retry_interval", "0.2")
            .with_info("iboot_reboot_delay", "1")
            .with_names(|i| format!("iboot-relay-{}", i + 1)),
    ))
}
