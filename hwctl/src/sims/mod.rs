//! The built-in simulators, as `hwctl sim TYPE` and `hwctl demo` start them.
//!
//! Each driver has one file here with `start(listen: Option<SocketAddr>) ->
//! hwctl_core::Result<Box<dyn Simulator>>`; this file lists them. Every simulator is a
//! [`hwctl_sim::Simulator`]: its nodes' `driver_info`, its counters and its faults are
//! read the same way whatever the protocol.

use std::net::SocketAddr;

use hwctl_sim::Simulator;
use serde_json::Value;

use crate::inventory::InventoryNode;

mod amt;
mod iboot;
mod ipmi;
#[cfg(feature = "libvirt")]
mod libvirt;
mod nodemanager;
mod ocs;
mod oneview;
mod openbmc;
mod redfish;
mod wol;

/// Whether simulators announce what they see on stderr: on for `hwctl sim` (a person
/// is watching the simulator), off for `hwctl demo` (the table tells the story).
pub(crate) static ANNOUNCE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether simulators should announce events (see [`ANNOUNCE`]).
pub(crate) fn announce() -> bool {
    ANNOUNCE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The simulator names `hwctl sim` accepts, with their hardware types.
pub(crate) const SIMULATORS: &[&str] = &[
    "staging-wol",
    "staging-iboot",
    "msftocs",
    "ipmi",
    "staging-nm",
    "oneview",
    "staging-amt",
    "redfish",
    "openbmc",
    #[cfg(feature = "libvirt")]
    "staging-libvirt",
];

/// What a person driving simulator `name` by hand needs to know that its
/// commands do not show (`None` for most), printed after its "Try:" block and as
/// `"note"` in its `--json` line.
pub(crate) fn caveat(name: &str) -> Option<&'static str> {
    match name {
        #[cfg(feature = "libvirt")]
        "staging-libvirt" => Some(libvirt::CAVEAT),
        _ => None,
    }
}

/// Starts the simulator for hardware type `name` on `listen` (loopback, ephemeral
/// port when `None`).
pub(crate) async fn start(
    name: &str,
    listen: Option<SocketAddr>,
) -> hwctl_core::Result<Box<dyn Simulator>> {
    match name {
        "staging-wol" => wol::start(listen).await,
        "staging-iboot" => iboot::start(listen).await,
        "msftocs" => ocs::start(listen).await,
        "ipmi" => ipmi::start(listen).await,
        "staging-nm" => nodemanager::start(listen).await,
        "oneview" => oneview::start(listen).await,
        "staging-amt" => amt::start(listen).await,
        "redfish" => redfish::start(listen).await,
        "openbmc" => openbmc::start(listen).await,
        #[cfg(feature = "libvirt")]
        "staging-libvirt" => libvirt::start(listen).await,
        // An unknown name is a usage error (exit 2), as `hwctl properties NAME` is.
        // A close name is suggested, as for `--driver`.
        other => Err(hwctl_core::Error::invalid_parameter(
            "TYPE",
            match crate::registry::suggest(other, SIMULATORS) {
                Some(close) => format!("no simulator for {other:?}; did you mean `{close}`?"),
                None => format!(
                    "no simulator for {other:?} (available: {})",
                    SIMULATORS.join(", ")
                ),
            },
        )),
    }
}

/// The simulator's nodes as inventory entries (what `--inventory` files hold).
pub(crate) fn nodes(sim: &dyn Simulator) -> Vec<InventoryNode> {
    (0..sim.node_count())
        .map(|i| {
            let ctx = sim.node_context(i);
            InventoryNode {
                name: sim.node_name(i),
                driver: sim.hardware_type().to_owned(),
                driver_info: sim.driver_info(i),
                ports: ctx.ports.iter().map(ToString::to_string).collect(),
                capabilities: ctx.capabilities.clone(),
                uuid: None,
            }
        })
        .collect()
}

/// The simulators whose `requests` counter stays 0 whatever they serve:
/// `staging-libvirt` is libvirt's in-process test driver, which counts nothing
/// (hwctl-libvirt's `LibvirtSim::stats` counts only its connections).
pub(crate) const REQUESTS_NOT_COUNTED: &[&str] = &["staging-libvirt"];

/// Whether `sim`'s `requests` counter counts what it served (see
/// [`REQUESTS_NOT_COUNTED`]).
pub(crate) fn counts_requests(sim: &dyn Simulator) -> bool {
    !REQUESTS_NOT_COUNTED.contains(&sim.hardware_type())
}

/// The simulator's counters as JSON, for `--json` output and the demo's table;
/// `requests` is `null` for a simulator that does not count them
/// ([`counts_requests`]), never a misleading 0.
pub(crate) fn stats_json(sim: &dyn Simulator) -> Value {
    let mut v = serde_json::to_value(sim.stats()).unwrap_or(Value::Null);
    if !counts_requests(sim)
        && let Some(requests) = v.get_mut("requests")
    {
        *requests = Value::Null;
    }
    v
}
