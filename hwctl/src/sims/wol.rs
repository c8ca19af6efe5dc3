//! `staging-wol`: a Wake-on-LAN listener on loopback; the demo nodes send their magic
//! packets to it, and under `hwctl sim` every packet seen is reported on stderr.

use std::net::SocketAddr;

use hw_wol::sim::WolSim;
use serde_json::json;

use super::RunningSim;
use crate::inventory::InventoryNode;

struct Running {
    sim: WolSim,
    reporter: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.reporter.abort();
    }
}

/// Starts the listener on `listen` (127.0.0.1 and an ephemeral port by default).
pub(crate) async fn start(listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    let sim = match listen {
        Some(addr) => WolSim::bind(addr).await?,
        None => WolSim::start().await?,
    };
    let mut rx = sim.subscribe();
    let reporter = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(_) if !super::announce() => continue,
                Ok(p) => match (p.mac, p.problem) {
                    (Some(mac), _) => eprintln!(
                        "staging-wol simulator: magic packet seen for {mac} ({} bytes from {})",
                        p.bytes.len(),
                        p.from
                    ),
                    (None, problem) => eprintln!(
                        "staging-wol simulator: MALFORMED packet from {}: {}",
                        p.from,
                        problem.unwrap_or_default()
                    ),
                },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Ok(Box::new(Running { sim, reporter }))
}

impl RunningSim for Running {
    fn describe(&self) -> String {
        format!(
            "staging-wol: Wake-on-LAN listener, udp://{} ({} packets seen so far, {} malformed)",
            self.sim.addr(),
            self.sim.packets().len(),
            self.sim.malformed()
        )
    }

    fn nodes(&self) -> Vec<InventoryNode> {
        let port = self.sim.addr().port();
        [
            ("wol-0", vec!["52:54:00:cf:2d:31"]),
            ("wol-1", vec!["52:54:00:cf:2d:41", "52:54:00:cf:2d:42"]),
        ]
        .into_iter()
        .map(|(name, macs)| {
            let mut info = serde_json::Map::new();
            info.insert("wol_host".into(), json!("127.0.0.1"));
            info.insert("wol_port".into(), json!(port.to_string()));
            info.insert("wol_packet_interval_ms".into(), json!("50"));
            InventoryNode {
                name: name.into(),
                driver: hw_wol::NAME.into(),
                driver_info: info,
                ports: macs.into_iter().map(str::to_owned).collect(),
                ..Default::default()
            }
        })
        .collect()
    }
}
