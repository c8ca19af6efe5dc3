//! `msftocs`: one simulated OCS chassis manager with 48 blades; the demo drives
//! every blade, all through one shared HTTP client and its concurrency limit.

use std::net::SocketAddr;

use hw_ocs::sim::{OcsSim, OcsSimConfig};
use serde_json::json;

use super::RunningSim;
use crate::inventory::InventoryNode;

const BLADES: u32 = 48;
const USER: &str = "admin";
const PASSWORD: &str = "password";

struct Running {
    sim: OcsSim,
}

/// Starts the chassis manager on `listen` (127.0.0.1 and an ephemeral port by default).
pub async fn start(listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    let sim = OcsSim::start(OcsSimConfig {
        listen,
        population: BLADES,
        username: USER.into(),
        password: PASSWORD.into(),
        ..OcsSimConfig::default()
    })
    .await?;
    Ok(Box::new(Running { sim }))
}

impl RunningSim for Running {
    fn describe(&self) -> String {
        let s = self.sim.stats();
        format!(
            "msftocs: OCS chassis manager, {BLADES} blades, {} (user {USER}, password {PASSWORD}); {} requests, peak {} concurrent connections",
            self.sim.base_url(),
            s.requests,
            s.peak_connections
        )
    }

    fn nodes(&self) -> Vec<InventoryNode> {
        (1..=BLADES)
            .map(|blade| {
                let mut info = serde_json::Map::new();
                info.insert("msftocs_base_url".into(), json!(self.sim.base_url()));
                info.insert("msftocs_blade_id".into(), json!(blade.to_string()));
                info.insert("msftocs_username".into(), json!(USER));
                info.insert("msftocs_password".into(), json!(PASSWORD));
                InventoryNode {
                    name: format!("ocs-blade-{blade}"),
                    driver: hw_ocs::NAME.into(),
                    driver_info: info,
                    ..Default::default()
                }
            })
            .collect()
    }
}
