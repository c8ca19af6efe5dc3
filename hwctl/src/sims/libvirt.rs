//! `staging-libvirt`: a node file for libvirt's own `test:///PATH.xml` driver (no
//! daemon) with four VMs, running and shut off; the demo drives all four by their
//! MACs (the simulator's line counts exactly the VMs it drives).
//!
//! The test driver keeps its state per connection inside this process: a separate
//! `hwctl` process opening the printed URI starts again from the file.

use std::net::SocketAddr;

use hwctl_libvirt::sim::LibvirtSim;
use hwctl_sim::Simulator;
use hwctl_sim::fleet::SimView;

const VMS: u32 = 4;

/// Printed after the simulator's "Try:" block (a newcomer ran `power on`, then
/// `power status`, and saw `off`): the test driver's state lives in the process
/// that opened it.
pub(super) const CAVEAT: &str = "each hwctl command opens its own copy of libvirt's \
    test driver from the node file, so a change (power on, boot set) does not carry over \
    to the next command: every command starts again from the file. One process sees its \
    own changes (`hwctl demo`, or a program using hwctl-libvirt).";

/// Writes the node file to a temporary directory (removed when the simulator is
/// dropped). A `listen` address is refused ([`hwctl_core::ErrorKind::InvalidParameter`]):
/// the test driver runs in-process, with no socket to place.
pub(super) async fn start(listen: Option<SocketAddr>) -> hwctl_core::Result<Box<dyn Simulator>> {
    if let Some(addr) = listen {
        return Err(hwctl_core::Error::invalid_parameter(
            "--listen",
            format!(
                "{addr}: the staging-libvirt simulator has no socket (libvirt's test driver \
                 runs inside the process that opens its test:/// URI); drop --listen"
            ),
        ));
    }
    let sim = tokio::task::spawn_blocking(|| LibvirtSim::fleet(VMS))
        .await
        .map_err(|e| {
            hwctl_core::Error::new(
                hwctl_core::ErrorKind::Other,
                format!("simulator task failed: {e}"),
            )
        })??;
    Ok(Box::new(SimView::new(sim, VMS as usize)))
}
