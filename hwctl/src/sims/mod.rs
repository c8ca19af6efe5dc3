//! The built-in simulators, as `hwctl sim TYPE` and `hwctl demo` start them.
//!
//! Each driver has one file here with `pub async fn start(listen: Option<SocketAddr>)
//! -> hw_core::Result<Box<dyn RunningSim>>`; this file lists them.

use std::net::SocketAddr;

use crate::inventory::InventoryNode;

mod iboot;
mod ipmi;
#[cfg(feature = "libvirt")]
mod libvirt;
mod nodemanager;
mod ocs;
mod wol;

/// Whether simulators announce what they see on stderr: on for `hwctl sim` (a person
/// is watching the simulator), off for `hwctl demo` (the table tells the story).
pub static ANNOUNCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether simulators should announce events (see [`ANNOUNCE`]).
pub fn announce() -> bool {
    ANNOUNCE.load(std::sync::atomic::Ordering::Relaxed)
}

/// A simulator running in this process; it stops when dropped.
pub trait RunningSim: Send {
    /// One line for humans: what it simulates and where (`OCS chassis manager, 48 blades, http://127.0.0.1:PORT`).
    fn describe(&self) -> String;
    /// The nodes it serves, as inventory entries a client can be built from.
    fn nodes(&self) -> Vec<InventoryNode>;
}

/// The simulator names `hwctl sim` accepts, with their hardware types.
pub const SIMULATORS: &[&str] = &[
    "staging-wol",
    "staging-iboot",
    "msftocs",
    "ipmi",
    "staging-nm",
    #[cfg(feature = "libvirt")]
    "staging-libvirt",
];

/// Starts the simulator for hardware type `name` on `listen` (loopback, ephemeral
/// port when `None`).
pub async fn start(name: &str, listen: Option<SocketAddr>) -> hw_core::Result<Box<dyn RunningSim>> {
    match name {
        "staging-wol" => wol::start(listen).await,
        "staging-iboot" => iboot::start(listen).await,
        "msftocs" => ocs::start(listen).await,
        "ipmi" => ipmi::start(listen).await,
        "staging-nm" => nodemanager::start(listen).await,
        #[cfg(feature = "libvirt")]
        "staging-libvirt" => libvirt::start(listen).await,
        other => Err(hw_core::Error::new(
            hw_core::ErrorKind::NotFound,
            format!(
                "no simulator for {other:?} (available: {})",
                SIMULATORS.join(", ")
            ),
        )),
    }
}
