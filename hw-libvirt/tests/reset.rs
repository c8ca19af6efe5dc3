//! `reset_connections` forgets every shared connection of the process, so it lives
//! in its own test binary (process) where it cannot disturb other tests.
#![allow(clippy::unwrap_used)]

use hwctl_core::{PowerExt, PowerState};
use hwctl_libvirt::hardware_type;
use hwctl_libvirt::sim::LibvirtSim;

#[tokio::test]
async fn reset_connections_reopens_and_rereads_the_node_file() {
    let sim = LibvirtSim::fleet(2).unwrap();
    hardware_type()
        .build(&sim.driver_info(), &sim.node_context(1))
        .unwrap()
        .power()
        .unwrap()
        .power_on()
        .await
        .unwrap();
    hwctl_libvirt::reset_connections();
    // A new connection to a node file starts from the file again.
    assert_eq!(
        hardware_type()
            .build(&sim.driver_info(), &sim.node_context(1))
            .unwrap()
            .power()
            .unwrap()
            .get_power_state()
            .await
            .unwrap(),
        PowerState::Off
    );
}
