//! The power interface: power on sends magic packets; the state is the one recorded.
//!
//! [`WolPower`] is a [`PowerSwitch`] whose capabilities say `can_query: false`, so
//! hwctl-core's engine applies every target directly (no read before, no confirmation
//! after) under the caller's timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::{
    Error, ErrorKind, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use tokio::net::UdpSocket;
use tracing::{Instrument, debug, info_span, warn};

use crate::config::{PowerOffMode, WolConfig};
use crate::state::{MemoryStateStore, StateStore};
use crate::{NAME, wire};

/// Wake-on-LAN power: `On` (and `Reboot`, which is the same) sends one magic packet
/// per port MAC; `Off` is recorded or refused (see [`PowerOffMode`]).
///
/// The device cannot be queried: [`Power::get_power_state`](hwctl_core::Power::get_power_state)
/// returns the state last set, from the [`StateStore`], or [`PowerState::Unknown`]
/// if none was ever set (Ironic reported "off" there; this crate does not guess).
/// Power on always sends the packets, even when the store already says `On`,
/// because the store may be stale (the machine may have been switched off by hand):
/// the engine applies targets directly for a device with `can_query: false`. The
/// caller's timeout (default 60 s) bounds the sending; past it the engine reports
/// [`ErrorKind::Timeout`] (a reboot's not retryable).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState};
/// use hwctl_wol::{WolConfig, WolPower, sim::WolSim};
///
/// let sim = WolSim::start().await?;
/// let mac = "52:54:00:cf:2d:31".parse()?;
/// let config = WolConfig::new("node-1", vec![mac])
///     .with_destination("127.0.0.1", sim.addr().port());
/// let power = WolPower::new(config);
/// assert_eq!(power.get_power_state().await?, PowerState::Unknown);
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// let seen = sim.wait_for_packets(1, std::time::Duration::from_secs(5)).await;
/// assert_eq!(seen[0].mac, Some(mac));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct WolPower {
    config: Arc<WolConfig>,
    store: Arc<dyn StateStore>,
}

impl WolPower {
    /// Power for `config`, with its own in-memory state store.
    ///
    /// ```
    /// let power = hwctl_wol::WolPower::new(hwctl_wol::WolConfig::new("n1", vec![]));
    /// assert_eq!(power.config().node_id, "n1");
    /// assert!(power.config().macs.is_empty());
    /// ```
    pub fn new(config: WolConfig) -> Self {
        WolPower::with_store(config, Arc::new(MemoryStateStore::new()))
    }

    /// Power for `config`, keeping its state in `store` (shared by many nodes, keyed
    /// by node id).
    pub fn with_store(config: WolConfig, store: Arc<dyn StateStore>) -> Self {
        WolPower {
            config: Arc::new(config),
            store,
        }
    }

    /// The configuration.
    ///
    /// ```
    /// use hwctl_wol::{WolConfig, WolPower};
    /// let mac = "52:54:00:cf:2d:31".parse()?;
    /// let power = WolPower::new(WolConfig::new("n1", vec![mac]).with_destination("127.0.0.1", 9));
    /// assert_eq!(power.config().macs, [mac]);
    /// assert_eq!(power.config().host, "127.0.0.1");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn config(&self) -> &WolConfig {
        &self.config
    }

    fn err(&self, kind: ErrorKind, msg: String, op: &'static str) -> Error {
        Error::new(kind, msg).with_driver(NAME).with_operation(op)
    }

    /// Sends one magic packet per port MAC, pausing `packet_interval` between them
    /// (no pause before the first). Returns the number of packets sent. Records
    /// nothing (power on through the [`PowerSwitch`] records `On` afterwards).
    ///
    /// Every MAC is tried even if one fails; the error then names each MAC that
    /// could not be sent and how many were.
    ///
    /// Each packet is logged (DEBUG when sent, WARN when not) with the node's id in
    /// the event's `node` field, the MAC and the destination.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Unreachable`]: `wol_host` does not resolve, or a packet could
    ///   not be sent (the OS error of the first failure in `source()`);
    /// - [`ErrorKind::Timeout`]: resolving `wol_host` took longer than 10 s;
    /// - [`ErrorKind::Other`]: the UDP socket could not be opened or set to broadcast;
    /// - [`ErrorKind::InvalidParameter`]: a SecureOn password that is not 4 or 6 bytes.
    pub async fn wake(&self) -> Result<usize> {
        let c = &self.config;
        let op = "power on";
        let dest = self.resolve().await?;
        let bind: SocketAddr = if dest.is_ipv4() {
            ([0u8, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(bind).await.map_err(|e| {
            self.err(
                ErrorKind::Other,
                format!("cannot open a UDP socket for node {}", c.node_id),
                op,
            )
            .with_source(e)
        })?;
        socket.set_broadcast(true).map_err(|e| {
            self.err(ErrorKind::Other, "cannot set SO_BROADCAST".to_owned(), op)
                .with_source(e)
        })?;
        let mut sent = 0usize;
        let mut failures: Vec<(String, std::io::Error)> = Vec::new();
        // One packet on the stack, rewritten for each MAC.
        let mut packet = wire::MagicPacket::EMPTY;
        for (i, mac) in c.macs.iter().enumerate() {
            if i > 0 && !c.packet_interval.is_zero() {
                tokio::time::sleep(c.packet_interval).await;
            }
            match c.secureon() {
                None => packet.write(*mac),
                Some(pw) => packet.write_with_secureon(*mac, pw)?,
            }
            match socket.send_to(&packet, dest).await {
                Ok(n) if n == packet.len() => {
                    debug!(node = %c.node_id, %mac, %dest, bytes = n, "magic packet sent");
                    sent += 1;
                }
                Ok(n) => failures.push((
                    mac.to_string(),
                    std::io::Error::other(format!("only {n} of {} bytes sent", packet.len())),
                )),
                Err(e) => {
                    warn!(node = %c.node_id, %mac, %dest, error = %e, "magic packet not sent");
                    failures.push((mac.to_string(), e));
                }
            }
        }
        if !failures.is_empty() {
            let names: Vec<String> = failures.iter().map(|(m, _)| m.clone()).collect();
            let mut err = self.err(
                ErrorKind::Unreachable,
                format!(
                    "failed to send Wake-on-LAN magic packets to {dest} for node {} port(s) {} ({sent} of {} sent)",
                    c.node_id,
                    names.join(", "),
                    c.macs.len()
                ),
                op,
            );
            if let Some((_, source)) = failures.into_iter().next() {
                err = err.with_source(source);
            }
            return Err(err);
        }
        Ok(sent)
    }

    async fn resolve(&self) -> Result<SocketAddr> {
        let c = &self.config;
        // The parser wol_host was validated with: brackets and IPv6 zones (the
        // scope id of a link-local or multicast destination) understood.
        let parsed = hwctl_core::address::Host::parse(&c.host).map_err(|why| {
            self.err(
                ErrorKind::InvalidParameter,
                format!("wol_host {:?} {why}", c.host),
                "power on",
            )
        })?;
        // A zone naming no interface of this host is the node's configuration:
        // invalid input, not an unreachable network.
        let literal = parsed.socket_addr(c.port).map_err(|why| {
            self.err(
                ErrorKind::InvalidParameter,
                format!("wol_host {:?}: {why}", c.host),
                "power on",
            )
        })?;
        if let Some(addr) = literal {
            return Ok(addr);
        }
        let host = parsed.name().unwrap_or_default();
        let mut addrs = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::lookup_host((host, c.port)),
        )
        .await
        .map_err(|_| {
            self.err(
                ErrorKind::Timeout,
                format!("resolving wol_host {:?} took longer than 10s", c.host),
                "power on",
            )
        })?
        .map_err(|e| {
            self.err(
                ErrorKind::Unreachable,
                format!("wol_host {:?} does not resolve", c.host),
                "power on",
            )
            .with_source(e)
        })?;
        addrs.next().ok_or_else(|| {
            self.err(
                ErrorKind::Unreachable,
                format!("wol_host {:?} resolves to no address", c.host),
                "power on",
            )
        })
    }

    async fn record(&self, state: PowerState) -> Result<()> {
        self.store
            .save(&self.config.node_id, state)
            .await
            .map_err(|e| e.or_driver(NAME))
    }
}

#[async_trait]
impl PowerSwitch for WolPower {
    fn driver(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> PowerCapabilities {
        // `off` with `wol_power_off=record` is accepted but only recorded: no packet
        // can switch a node off, so the capabilities say so (`recorded_only`).
        let (targets, recorded_only) = match self.config.power_off {
            PowerOffMode::Record => (
                vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
                vec![PowerTarget::Off],
            ),
            PowerOffMode::Unsupported => (vec![PowerTarget::On, PowerTarget::Reboot], Vec::new()),
        };
        PowerCapabilities {
            can_query: false,
            targets,
            recorded_only,
        }
    }

    /// The recorded state ([`PowerState::Unknown`] if none was ever recorded).
    async fn read(&self) -> Result<PowerState> {
        Ok(self
            .store
            .load(&self.config.node_id)
            .await
            .map_err(|e| e.or_driver(NAME))?
            .unwrap_or(PowerState::Unknown))
    }

    /// On and reboot send the magic packets, then record `On`; off (only in the
    /// capabilities with `wol_power_off=record`) records `Off` and sends nothing.
    ///
    /// The node is named once per line, by each event's `node` field, not by the
    /// `wol.apply` span (which carries only the action): an event's fields reach
    /// every subscriber (one that prints no spans, tracing's `log` bridge), and
    /// [`WolPower::wake`] logs outside this span too.
    async fn apply(&self, action: PowerAction) -> Result<()> {
        let span = info_span!("wol.apply", %action);
        async {
            match action {
                PowerAction::On | PowerAction::Reboot => {
                    let sent = self.wake().await?;
                    debug!(node = %self.config.node_id, sent, "node woken");
                    self.record(PowerState::On).await
                }
                PowerAction::Off => {
                    warn!(
                        node = %self.config.node_id,
                        "Wake-on-LAN cannot power a node off: manual intervention required; recording the node as off"
                    );
                    self.record(PowerState::Off).await
                }
                // Not in the capabilities: the engine has already refused it.
                other => Err(Error::unsupported(format_args!("power action {other}"))
                    .with_driver(NAME)),
            }
        }
        .instrument(span)
        .await
    }
}
