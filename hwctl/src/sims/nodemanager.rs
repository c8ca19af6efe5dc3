//! `staging-nm`: simulated RMCP+ BMCs (the `hw-ipmi` simulator, user `admin` /
//! `password`) each with a stateful Intel Node Manager (`hw-nodemanager`'s
//! simulator) at channel 6, address 0x2c, announced by the BMC's SDR.

use std::net::SocketAddr;

use hw_nodemanager::sim::{NmBmc, start_bmc};
use serde_json::json;

use super::RunningSim;
use crate::inventory::InventoryNode;

const NODES: usize = 2;

struct Running {
    bmcs: Vec<NmBmc>,
}

/// Starts the BMCs: the first on `listen` (127.0.0.1 and an ephemeral port by
/// default), the others on ephemeral loopback ports.
pub(crate) async fn start(listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    let mut bmcs = Vec::with_capacity(NODES);
    for cfg in super::ipmi::bmc_configs(NODES, listen) {
        bmcs.push(start_bmc(cfg).await?);
    }
    Ok(Box::new(Running { bmcs }))
}

impl RunningSim for Running {
    fn describe(&self) -> String {
        let addrs: Vec<String> = self
            .bmcs
            .iter()
            .map(|b| format!("udp://{}", b.bmc.addr()))
            .collect();
        let nm_requests: u64 = self.bmcs.iter().map(|b| b.nm.counters().requests).sum();
        format!(
            "staging-nm: {} RMCP+ BMCs with Intel Node Manager at {} (user admin, password password) at {}; {nm_requests} NM requests",
            self.bmcs.len(),
            self.bmcs
                .first()
                .map(|b| b.at.to_string())
                .unwrap_or_default(),
            addrs.join(", ")
        )
    }

    fn nodes(&self) -> Vec<InventoryNode> {
        self.bmcs
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut info = serde_json::Map::new();
                info.insert("ipmi_address".into(), json!(b.bmc.addr().ip().to_string()));
                info.insert("ipmi_port".into(), json!(b.bmc.port().to_string()));
                info.insert("ipmi_username".into(), json!("admin"));
                info.insert("ipmi_password".into(), json!("password"));
                InventoryNode {
                    name: format!("nm-{}", i + 1),
                    driver: hw_nodemanager::ipmi::NAME.into(),
                    driver_info: info,
                    ..Default::default()
                }
            })
            .collect()
    }
}
