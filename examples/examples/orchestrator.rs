//! An orchestrator in miniature: enable a few hardware types, build nodes from
//! Ironic-style `driver_info`, and power a mixed fleet on concurrently.
//!
//! Runs against the built-in simulators (a 24-blade OCS chassis and an 8-relay iBoot
//! PDU), so no hardware is needed:
//!
//! ```sh
//! cargo run -p hwctl-examples --example orchestrator
//! ```
//!
//! In a crate of your own it needs (one tokio thread is enough: the runtime is
//! `current_thread`, so tokio's `rt-multi-thread` feature is not needed):
//!
//! ```toml
//! hwctl-core = "0.1"
//! hwctl-ocs = { version = "0.1", features = ["sim"] }
//! hwctl-iboot = { version = "0.1", features = ["sim"] }
//! serde_json = "1"
//! tokio = { version = "1", features = ["macros", "rt"] }
//! ```
#![allow(clippy::print_stdout)]

use std::time::Duration;

use hwctl_core::{DriverInfo, Node, NodeContext, PowerState, PowerTarget, Registry};
use serde_json::{Value, json};

/// Validates and builds every `(hardware type, driver_info)` of `inventory`
/// (node ids `node-0`, `node-1`, …): the nodes that could be built, and for each
/// one that could not, its id and why. One bad entry does not stop the others.
fn build_nodes(
    registry: &Registry,
    inventory: Vec<(&str, Value)>,
) -> (Vec<Node>, Vec<(String, hwctl_core::Error)>) {
    let mut nodes = Vec::new();
    let mut refused = Vec::new();
    for (i, (hw_type, info)) in inventory.into_iter().enumerate() {
        let ctx = NodeContext::new(format!("node-{i}"));
        let built =
            DriverInfo::from_json(info).and_then(|info| registry.build(hw_type, &info, &ctx));
        match built {
            Ok(node) => nodes.push(node),
            Err(e) => refused.push((ctx.id, e)),
        }
    }
    (nodes, refused)
}

#[tokio::main(flavor = "current_thread")]
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

    // A database holds mistakes too: a PDU address typed as a number, a driver
    // name in the wrong case. Each is reported, and the others are still built.
    inventory.push((
        "staging-iboot",
        json!({
        "iboot_address": 127, "iboot_port": pdu.addr().port(),
        "iboot_username": "admin", "iboot_password": "pdu-secret"}),
    ));
    inventory.push(("MSFTOCS", json!({})));

    // 3. Validate and build every node; a bad driver_info is reported per node.
    let (nodes, refused) = build_nodes(&registry, inventory);
    for (id, e) in &refused {
        println!("{id}: not built: error [{}]: {e}", e.kind());
    }
    let built = nodes.len();

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
    println!("{on} of {built} nodes are on");
    println!(
        "chassis manager saw at most {} connections at once",
        chassis.stats().peak_connections
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_entry_is_reported_and_the_others_are_built() {
        let mut registry = Registry::new();
        registry.register(hwctl_core::fake::hardware_type());
        let inventory = vec![
            ("fake-hardware", json!({})),
            ("fake-hardware", json!({"fake_power_state": "dim"})),
            ("Fake-Hardware", json!({})),
            ("fake-hardware", json!(["not an object"])),
            ("fake-hardware", json!({"fake_power_state": "on"})),
        ];
        let (nodes, refused) = build_nodes(&registry, inventory);
        let built: Vec<&str> = nodes.iter().map(|n| n.id()).collect();
        assert_eq!(built, ["node-0", "node-4"]);
        let ids: Vec<&str> = refused.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["node-1", "node-2", "node-3"]);
        assert!(refused.iter().all(|(_, e)| e.kind().is_input_error()));
        assert!(
            refused[1]
                .1
                .to_string()
                .contains("did you mean `fake-hardware`?")
        );
    }
}
