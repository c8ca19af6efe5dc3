//! `staging-iboot`: one simulated iBoot PDU with 8 relays; the demo drives four
//! nodes on relays 1 to 4 (their operations are serialized on the PDU).

use std::net::SocketAddr;

use hw_iboot::sim::IbootSim;
use serde_json::json;

use super::RunningSim;
use crate::inventory::InventoryNode;

const RELAYS: u8 = 8;
const USER: &str = "admin";
const PASSWORD: &str = "admin";

struct Running {
    sim: IbootSim,
}

/// Starts the PDU on `listen` (127.0.0.1 and an ephemeral port by default).
pub(crate) async fn start(listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    let addr = listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let sim = IbootSim::bind(addr, RELAYS, USER, PASSWORD).await?;
    Ok(Box::new(Running { sim }))
}

impl RunningSim for Running {
    fn describe(&self) -> String {
        format!(
            "staging-iboot: iBoot PDU (DxP), {RELAYS} relays, tcp://{} (user {USER}, password {PASSWORD}); {} connections, peak {} concurrent",
            self.sim.addr(),
            self.sim.connections(),
            self.sim.peak_concurrent_sessions()
        )
    }

    fn nodes(&self) -> Vec<InventoryNode> {
        let port = self.sim.addr().port();
        (1..=4u8)
            .map(|relay| {
                let mut info = serde_json::Map::new();
                info.insert("iboot_address".into(), json!("127.0.0.1"));
                info.insert("iboot_port".into(), json!(port.to_string()));
                info.insert("iboot_username".into(), json!(USER));
                info.insert("iboot_password".into(), json!(PASSWORD));
                info.insert("iboot_relay_id".into(), json!(relay.to_string()));
                info.insert("iboot_retry_interval".into(), json!("0.2"));
                info.insert("iboot_reboot_delay".into(), json!("1"));
                InventoryNode {
                    name: format!("iboot-relay-{relay}"),
                    driver: hw_iboot::NAME.into(),
                    driver_info: info,
                    ..Default::default()
                }
            })
            .collect()
    }
}
