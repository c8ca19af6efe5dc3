//! `ipmi`: simulated RMCP+ BMCs (cipher suites 3 and 17, user `admin` / `password`),
//! one per node; the first listens on the requested address. Each BMC's SDR holds
//! a few sensors and an Intel Node Manager record (channel 6, address 0x2c).

use std::net::SocketAddr;

use hw_ipmi::sim::{IpmiSim, IpmiSimConfig};
use serde_json::json;

use super::RunningSim;
use crate::inventory::InventoryNode;

const NODES: usize = 3;

struct Running {
    bmcs: Vec<IpmiSim>,
}

/// Starts the BMCs: the first on `listen` (127.0.0.1 and an ephemeral port by
/// default), the others on ephemeral loopback ports.
pub(crate) async fn start(listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    let mut bmcs = Vec::with_capacity(NODES);
    for cfg in bmc_configs(NODES, listen) {
        bmcs.push(IpmiSim::start(cfg).await?);
    }
    Ok(Box::new(Running { bmcs }))
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

impl RunningSim for Running {
    fn describe(&self) -> String {
        let addrs: Vec<String> = self
            .bmcs
            .iter()
            .map(|b| format!("udp://{}", b.addr()))
            .collect();
        let sessions: usize = self.bmcs.iter().map(|b| b.stats().open_sessions).sum();
        format!(
            "ipmi: {} RMCP+ BMCs (suites 3, 17; user admin, password password) at {}; {sessions} open sessions",
            self.bmcs.len(),
            addrs.join(", ")
        )
    }

    fn nodes(&self) -> Vec<InventoryNode> {
        self.bmcs
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut info = serde_json::Map::new();
                info.insert("ipmi_address".into(), json!(b.addr().ip().to_string()));
                info.insert("ipmi_port".into(), json!(b.port().to_string()));
                info.insert("ipmi_username".into(), json!("admin"));
                info.insert("ipmi_password".into(), json!("password"));
                InventoryNode {
                    name: format!("ipmi-{}", i + 1),
                    driver: hw_ipmi::NAME.into(),
                    driver_info: info,
                    ..Default::default()
                }
            })
            .collect()
    }
}
