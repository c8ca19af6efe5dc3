//! `staging-libvirt`: a node file for libvirt's own `test:///PATH.xml` driver (no
//! daemon) with a few VMs, running and shut off; the demo drives four of them by
//! their MACs.
//!
//! The test driver keeps its state per connection inside this process: a separate
//! `hwctl` process opening the printed URI starts again from the file.

use std::net::SocketAddr;

use hw_libvirt::sim::LibvirtSim;
use serde_json::json;

use super::RunningSim;
use crate::inventory::InventoryNode;

const VMS: u32 = 6;
const DEMO_NODES: usize = 4;

struct Running {
    node: LibvirtSim,
}

/// Writes the node file to a temporary directory (removed when the simulator is
/// dropped). `listen` does not apply: the test driver runs in-process.
pub async fn start(listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    if let Some(addr) = listen {
        tracing::warn!(%addr, "staging-libvirt simulator has no listening socket; ignoring --listen");
    }
    let node = tokio::task::spawn_blocking(|| LibvirtSim::fleet(VMS))
        .await
        .map_err(|e| {
            hw_core::Error::new(
                hw_core::ErrorKind::Other,
                format!("simulator task failed: {e}"),
            )
        })??;
    Ok(Box::new(Running { node }))
}

impl RunningSim for Running {
    fn describe(&self) -> String {
        let vms: Vec<String> = self
            .node
            .domains()
            .iter()
            .map(|d| {
                format!(
                    "{} ({})",
                    d.name,
                    d.macs.first().map(ToString::to_string).unwrap_or_default()
                )
            })
            .collect();
        format!(
            "staging-libvirt: libvirt test driver, {VMS} VMs (even running, odd shut off), libvirt_uri={} — VMs: {}",
            self.node.uri(),
            vms.join(", ")
        )
    }

    fn nodes(&self) -> Vec<InventoryNode> {
        self.node
            .domains()
            .iter()
            .take(DEMO_NODES)
            .map(|d| {
                let mut info = serde_json::Map::new();
                info.insert("libvirt_uri".into(), json!(self.node.uri()));
                InventoryNode {
                    name: d.name.clone(),
                    driver: hw_libvirt::NAME.into(),
                    driver_info: info,
                    ports: d.macs.iter().map(ToString::to_string).collect(),
                    ..Default::default()
                }
            })
            .collect()
    }
}
