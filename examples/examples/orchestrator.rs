//! An orchestrator in miniature: enable a few hardware types, build nodes from
//! Ironic-style `driver_info`, and power a mixed fleet on concurrently.
//!
//! Runs against the built-in simulators (a 24-blade OCS chassis and an 8-relay iBoot
//! PDU), so no hardware is needed:
//!
//! ```sh
//! cargo run -p hwctl-examples --example orchestrator
//! ```
#![allow(clippy::print_stdout)]

use std::time::Duration;

use hwctl_core::{DriverInfo, NodeContext, PowerState, PowerTarget, Registry};
use serde_json::json;

#[tokio::main]
async fn main() -> hwctl_core::Result<()> {
    // The simulators stand in for a chassis manager and a PDU on the network.
    let chassis = hwctl_ocs::sim::OcsSim::start(hwctl_ocs::sim::OcsSimConfig {
        population: 24,
        username: "admin".into(),
        password: "cm-secret".into(),
        ..Default::default()
    })
    .await?;
    let pdu = hwctl_iboot::sim::IbootSim::start(8, "admin", "pdu-secret").await?;

    // 1. The orchestrator enables the hardware types it wants, explicitly.
    let mut registry = Registry::new();
    registry.register(hwctl_ocs::hardware_type());
    registry.register(hwctl_iboot::hardware_type());

    // 2. Nodes come from its database as (hardware type, driver_info) pairs.
    let mut inventory = Vec::new();
    for blade in 1..=24 {
        inventory.push((
            "msftocs",
            json!({
            "msftocs_base_url": chassis.base_url(), "msftocs_blade_id": blade,
            "msftocs_username": "admin", "msftocs_password": "cm-secret"}),
        ));
    }
    for relay in 1..=8 {
        inventory.push((
            "staging-iboot",
            json!({
            "iboot_address": "127.0.0.1", "iboot_port": pdu.addr().port(),
            "iboot_relay_id": relay, "iboot_username": "admin", "iboot_password": "pdu-secret"}),
        ));
    }

    // 3. Validate and build every node; a bad driver_info is reported per node.
    let mut nodes = Vec::new();
    for (i, (hw_type, info)) in inventory.into_iter().enumerate() {
        let info = DriverInfo::from_json(info)?;
        nodes.push(registry.build(hw_type, &info, &NodeContext::new(format!("node-{i}")))?);
    }

    // 4. Drive them all at once: the 24 blades share one HTTP client and its
    //    connection limit; the 8 relays take turns on the PDU's single session.
    let mut tasks = tokio::task::JoinSet::new();
    for node in nodes {
        tasks.spawn(async move {
            let power = node.power()?;
            power
                .set_power_state(PowerTarget::On, Some(Duration::from_secs(30)))
                .await?;
            Ok::<_, hwctl_core::Error>((node.id().to_owned(), power.get_power_state().await?))
        });
    }
    let mut on = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok((_, PowerState::On))) => on += 1,
            Ok(Ok((id, state))) => println!("{id}: {state}"),
            Ok(Err(e)) => println!("error [{}]: {e}", e.kind()),
            Err(e) => println!("task failed: {e}"),
        }
    }
    println!("{on} of 32 nodes are on");
    println!(
        "chassis manager saw at most {} connections at once",
        chassis.stats().peak_connections
    );
    Ok(())
}
