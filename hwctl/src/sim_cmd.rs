//! `hwctl sim TYPE`: one simulator in the foreground.

use std::net::SocketAddr;

use hw_core::{Error, ErrorKind, Result};

use crate::inventory::InventoryNode;
use crate::output::say;
use crate::sims;

/// A command line that drives `node` (its driver_info as `--info` flags).
pub(crate) fn example_command(node: &InventoryNode) -> String {
    let mut parts = vec!["hwctl".to_owned(), format!("--driver {}", node.driver)];
    for (k, v) in &node.driver_info {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("--info {k}={v}"));
    }
    for p in &node.ports {
        parts.push(format!("--port {p}"));
    }
    parts.push("power status".into());
    parts.join(" ")
}

/// Runs simulator `name` until Ctrl-C.
pub(crate) async fn run(
    name: Option<&str>,
    listen: Option<SocketAddr>,
    list: bool,
    json_out: bool,
) -> Result<()> {
    if list {
        for s in sims::SIMULATORS {
            say(*s);
        }
        return Ok(());
    }
    let Some(name) = name else {
        return Err(Error::missing_parameters(["TYPE"]));
    };
    if let Some(addr) = listen
        && !addr.ip().is_loopback()
    {
        return Err(Error::invalid_parameter(
            "--listen",
            format!("{addr} is not a loopback address; simulators listen on loopback only"),
        ));
    }
    sims::ANNOUNCE.store(true, std::sync::atomic::Ordering::Relaxed);
    let sim = sims::start(name, listen).await?;
    if json_out {
        // One line per event, so a program can read them as they come.
        say(
            serde_json::json!({"simulator": sim.describe(), "nodes": sims::nodes(sim.as_ref())})
                .to_string(),
        );
    } else {
        say(sim.describe());
        say("Try:");
        for n in sims::nodes(sim.as_ref()) {
            say(format!("  {}", example_command(&n)));
        }
        say("Ctrl-C stops it.");
    }
    tokio::signal::ctrl_c().await.map_err(|e| {
        Error::new(ErrorKind::Other, format!("cannot wait for Ctrl-C: {e}")).with_source(e)
    })?;
    if json_out {
        say(serde_json::json!({"stopped": sim.describe(), "counters": sims::stats_json(sim.as_ref())})
            .to_string());
    } else {
        say(format!("stopped: {}", sim.describe()));
    }
    drop(sim);
    Ok(())
}
