//! `hwctl fleet`: one action on every node of an inventory, concurrently.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hw_core::{Error, PowerTarget, Registry, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cli::FleetAction;
use crate::inventory::InventoryNode;
use crate::node_args::context_of;
use crate::output::{error_json, say, say_json, table};

/// What happened to one node.
#[derive(Debug)]
pub(crate) struct NodeOutcome {
    /// The node's name.
    pub name: String,
    /// Its hardware type.
    pub driver: String,
    /// The power state reached or read, or the error.
    pub result: Result<String>,
    /// How long it took.
    pub elapsed: Duration,
}

async fn act(
    registry: &Registry,
    entry: &InventoryNode,
    action: FleetAction,
    timeout: Option<Duration>,
) -> Result<String> {
    let (info, ctx) = context_of(entry)?;
    let node = registry.build(&entry.driver, &info, &ctx)?;
    let power = node.power()?;
    let target = match action {
        FleetAction::Status => return Ok(power.get_power_state().await?.to_string()),
        FleetAction::On => PowerTarget::On,
        FleetAction::Off => PowerTarget::Off,
        FleetAction::Reboot => PowerTarget::Reboot,
    };
    power.set_power_state(target, timeout).await?;
    Ok(target.final_state().to_string())
}

/// Runs `action` on every node, at most `concurrency` at once, with a progress bar on
/// stderr when `progress` is set. Outcomes come back in inventory order.
pub(crate) async fn run(
    registry: &Registry,
    nodes: &[InventoryNode],
    action: FleetAction,
    concurrency: usize,
    timeout: Option<Duration>,
    progress: bool,
) -> Vec<NodeOutcome> {
    let bar = if progress {
        ProgressBar::with_draw_target(Some(nodes.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} nodes {msg}") {
        bar.set_style(style);
    }
    let mut outcomes: Vec<(usize, NodeOutcome)> = futures::stream::iter(nodes.iter().enumerate())
        .map(|(i, entry)| {
            let bar = bar.clone();
            async move {
                let start = Instant::now();
                let result = act(registry, entry, action, timeout).await;
                bar.inc(1);
                (
                    i,
                    NodeOutcome {
                        name: entry.name.clone(),
                        driver: entry.driver.clone(),
                        result,
                        elapsed: start.elapsed(),
                    },
                )
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// Prints the outcomes as a table (or JSON) and returns how many failed.
pub(crate) fn report(outcomes: &[NodeOutcome], action: FleetAction, json_out: bool) -> usize {
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if json_out {
        let nodes: Vec<_> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(state) => json!({"name": o.name, "driver": o.driver, "ok": true,
                                    "power_state": state, "elapsed_ms": o.elapsed.as_millis()}),
                Err(e) => json!({"name": o.name, "driver": o.driver, "ok": false,
                                 "error": error_json(e), "elapsed_ms": o.elapsed.as_millis()}),
            })
            .collect();
        say_json(&json!({
            "action": format!("{action:?}").to_lowercase(),
            "total": outcomes.len(),
            "failed": failed,
            "nodes": nodes,
        }));
    } else {
        let rows: Vec<Vec<String>> = outcomes
            .iter()
            .map(|o| {
                let (result, detail) = match &o.result {
                    Ok(state) => (state.clone(), String::new()),
                    Err(e) => (format!("error [{}]", e.kind()), e.to_string()),
                };
                vec![
                    o.name.clone(),
                    o.driver.clone(),
                    result,
                    format!("{:.2}s", o.elapsed.as_secs_f64()),
                    detail,
                ]
            })
            .collect();
        say(table(&["NODE", "DRIVER", "POWER", "TIME", "DETAIL"], &rows));
        say(format!(
            "{} nodes, {} ok, {failed} failed",
            outcomes.len(),
            outcomes.len() - failed
        ));
    }
    failed
}

/// The operation name of errors whose details were already printed as a summary.
pub(crate) const SUMMARY_OPERATION: &str = "summary";

/// The error a fleet run ends with when some nodes failed.
pub(crate) fn failures_error(failed: usize, total: usize) -> Error {
    Error::new(
        hw_core::ErrorKind::Other,
        format!("{failed} of {total} nodes failed"),
    )
    .with_operation(SUMMARY_OPERATION)
}
