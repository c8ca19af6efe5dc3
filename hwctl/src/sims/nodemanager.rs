//! `staging-nm`: simulated RMCP+ BMCs (the `hwctl-ipmi` simulator, user `admin` /
//! `password`) each with a stateful Intel Node Manager (`hwctl-nodemanager`'s
//! simulator) at channel 6, address 0x2c, announced by the BMC's SDR. They are the
//! `ipmi` simulator's BMCs ([`super::ipmi::bmc_configs`]), so each also serves
//! Serial over LAN, the `staging-nm` type's console: a serial line that prints
//! [`super::ipmi::SOL_BANNER`] when a console activates it, then echoes what it is
//! sent (`hwctl console` on a node).

use std::net::SocketAddr;

use hwctl_nodemanager::sim::start_bmc;
use hwctl_sim::Simulator;
use hwctl_sim::fleet::SimFleet;

const NODES: usize = 2;

/// Starts the BMCs on consecutive ports from `listen`'s (as `ipmi`'s; 127.0.0.1
/// and ephemeral ports by default).
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let mut bmcs: Vec<Box<dyn Simulator>> = Vec::with_capacity(NODES);
    for cfg in super::ipmi::bmc_configs(NODES, listen)? {
        bmcs.push(Box::new(start_bmc(cfg).await?));
    }
    Ok(Box::new(SimFleet::new(
        hwctl_nodemanager::NAME,
        format!(
            "staging-nm: {NODES} RMCP+ BMCs with Intel Node Manager (user admin, password \
             password; {})",
            super::ipmi::SOL_NOTE
        ),
        bmcs,
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// `hwctl sim staging-nm` says its BMCs serve SOL, as `hwctl sim ipmi` does,
    /// and a console on a node reads the banner and the echo.
    #[tokio::test]
    async fn the_bmcs_serve_serial_over_lan_and_say_so() {
        let sim = super::start(None).await.unwrap();
        assert!(
            sim.describe().starts_with(
                "staging-nm: 2 RMCP+ BMCs with Intel Node Manager (user admin, password \
                 password; Serial over LAN echoes): "
            ),
            "{}",
            sim.describe()
        );
        let ht = hwctl_nodemanager::hardware_type_with(hwctl_core::shared::Shared::new());
        let node = ht.build(&sim.driver_info(0), &sim.node_context(0)).unwrap();
        let mut stream = node.console().unwrap().open().await.unwrap();
        stream.write_all(b"nm\r").await.unwrap();
        let mut want = super::super::ipmi::SOL_BANNER.to_vec();
        want.extend_from_slice(b"nm\r");
        let mut seen = vec![0u8; want.len()];
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            stream.read_exact(&mut seen),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(seen, want);
        stream.shutdown().await.unwrap();
    }
}
