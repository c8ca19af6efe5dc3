//! `staging-wol`: a Wake-on-LAN listener on loopback; the demo nodes send their magic
//! packets to it, and under `hwctl sim` every packet seen is reported on stderr.

use std::net::SocketAddr;

use hwctl_core::{DriverInfo, NodeContext};
use hwctl_sim::{CommonFault, SimStats, Simulator};
use hwctl_wol::sim::WolSim;

/// The listener, and the task that reports its packets (ended with it).
#[derive(Debug)]
struct Reported {
    sim: WolSim,
    reporter: tokio::task::JoinHandle<()>,
}

impl Drop for Reported {
    fn drop(&mut self) {
        self.reporter.abort();
    }
}

/// Starts the listener on `listen` (127.0.0.1 and an ephemeral port by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
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
    Ok(Box::new(Reported { sim, reporter }))
}

impl Simulator for Reported {
    fn hardware_type(&self) -> &str {
        self.sim.hardware_type()
    }
    fn describe(&self) -> String {
        self.sim.describe()
    }
    fn node_count(&self) -> usize {
        self.sim.node_count()
    }
    fn driver_info(&self, i: usize) -> DriverInfo {
        let mut info = self.sim.driver_info(i);
        // A short pause between a node's ports keeps the demo quick.
        info.insert("wol_packet_interval_ms", "50");
        info
    }
    fn node_name(&self, i: usize) -> String {
        format!("wol-{i}")
    }
    fn node_context(&self, i: usize) -> NodeContext {
        let mut ctx = self.sim.node_context(i);
        ctx.id = self.node_name(i);
        ctx
    }
    fn stats(&self) -> SimStats {
        self.sim.stats()
    }
    fn inject(&self, fault: Option<CommonFault>) -> hwctl_core::Result<()> {
        self.sim.inject(fault)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    /// One datagram is counted in the singular (it read "1 datagrams seen").
    #[tokio::test]
    async fn one_datagram_is_said_in_the_singular() {
        let sim = super::start(None).await.unwrap();
        assert!(
            sim.describe().contains("(0 datagrams seen"),
            "{}",
            sim.describe()
        );
        let to = sim.describe();
        let addr = to
            .split("udp://")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap()
            .to_owned();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.send_to(b"not a magic packet", &addr).unwrap();
        for _ in 0..200 {
            if !sim.describe().contains("(0 datagrams") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            sim.describe().contains("(1 datagram seen"),
            "{}",
            sim.describe()
        );
    }
}
