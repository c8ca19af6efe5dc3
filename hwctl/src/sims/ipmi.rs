//! `ipmi`: simulated RMCP+ BMCs (cipher suites 3 and 17, user `admin` / `password`),
//! one per node, on consecutive ports from the requested address's. Each BMC's SDR holds
//! a few sensors and an Intel Node Manager record (channel 6, address 0x2c), and each
//! serves Serial over LAN: a serial line that prints [`SOL_BANNER`] when a console
//! activates it, then echoes what it is sent (`hwctl console` on a node).

use std::net::SocketAddr;

use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
use hwctl_sim::Simulator;
use hwctl_sim::fleet::SimFleet;

const NODES: usize = 3;

/// What each simulated host's serial line prints when SOL is activated.
pub(super) const SOL_BANNER: &[u8] =
    b"\r\nhw IPMI simulator: Serial over LAN; this serial line echoes what you type\r\nsim login: ";

/// How `hwctl sim` describes the console of these BMCs (and of `staging-nm`'s,
/// which are the same BMCs).
pub(super) const SOL_NOTE: &str = "Serial over LAN echoes";

/// Starts the BMCs on consecutive ports from `listen`'s ([`bmc_configs`]);
/// 127.0.0.1 and ephemeral ports by default.
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    let mut bmcs: Vec<Box<dyn Simulator>> = Vec::with_capacity(NODES);
    for cfg in bmc_configs(NODES, listen)? {
        bmcs.push(Box::new(IpmiSim::start(cfg).await?));
    }
    Ok(Box::new(SimFleet::new(
        hwctl_ipmi::NAME,
        format!(
            "ipmi: {NODES} RMCP+ BMCs (suites 3, 17; user admin, password password; \
             {SOL_NOTE})"
        ),
        bmcs,
    )))
}

/// `n` BMC configurations (shared with the `staging-nm` simulator): with `listen`,
/// BMC `i` listens on `listen`'s address and its port + `i` (port 0: every BMC on
/// an ephemeral port); without, each on an ephemeral loopback port.
///
/// # Errors
///
/// [`hwctl_core::ErrorKind::InvalidParameter`] (`--listen`) when the last port
/// would pass 65535.
pub(super) fn bmc_configs(
    n: usize,
    listen: Option<SocketAddr>,
) -> hwctl_core::Result<Vec<IpmiSimConfig>> {
    (0..n)
        .map(|i| {
            let mut cfg = IpmiSimConfig {
                sol_banner: SOL_BANNER.to_vec(),
                ..IpmiSimConfig::default()
            };
            if let Some(addr) = listen {
                cfg.listen = consecutive(addr, i, n)?;
            }
            Ok(cfg)
        })
        .collect()
}

/// `addr` with its port moved on by `i`, for the `i`th of `n` listeners (port 0
/// stays 0: ephemeral).
fn consecutive(addr: SocketAddr, i: usize, n: usize) -> hwctl_core::Result<SocketAddr> {
    if addr.port() == 0 {
        return Ok(addr);
    }
    let port = u16::try_from(usize::from(addr.port()) + i).map_err(|_| {
        hwctl_core::Error::invalid_parameter(
            "--listen",
            format!(
                "{addr}: this simulator has {n} BMCs on consecutive ports from {}, past \
                 65535; give a port of at most {}",
                addr.port(),
                65_536 - n
            ),
        )
    })?;
    Ok(SocketAddr::new(addr.ip(), port))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bmcs_listen_on_consecutive_ports() {
        let at = |s: &str| -> Vec<u16> {
            bmc_configs(3, Some(s.parse().unwrap()))
                .unwrap()
                .iter()
                .map(|c| c.listen.port())
                .collect()
        };
        assert_eq!(at("127.0.0.1:6230"), [6230, 6231, 6232]);
        assert_eq!(at("127.0.0.1:0"), [0, 0, 0]);
        assert_eq!(at("127.0.0.1:65533"), [65533, 65534, 65535]);
        let err = bmc_configs(3, Some("127.0.0.1:65534".parse().unwrap())).unwrap_err();
        assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
        assert!(err.to_string().contains("at most 65533"), "{err}");
    }

    #[test]
    fn every_bmc_prints_the_sol_banner() {
        for cfg in bmc_configs(3, None).unwrap() {
            assert_eq!(cfg.sol_banner, SOL_BANNER);
        }
    }
}
