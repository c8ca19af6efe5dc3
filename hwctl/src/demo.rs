//! `hwctl demo`: start every built-in simulator and drive a mixed fleet on them.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hwctl_core::{BootDevice, ErrorKind, HttpMethod, Node, PowerTarget, Registry, Result};
use serde_json::{Value, json};

use crate::inventory::InventoryNode;
use crate::node_args::context_of;
use crate::output::{error_json, say, say_json, table};
use crate::sims;
use hwctl_sim::Simulator;

/// The power timeout of each demo step.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The result of one step on one node.
#[derive(Debug)]
enum Cell {
    Done(String),
    /// A power state recorded, not read: the last one hwctl set on a device that
    /// cannot be queried (Wake-on-LAN); shown with [`RECORDED_MARK`].
    Recorded(String),
    NotApplicable,
    Failed(hwctl_core::Error),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Done(s) => s.clone(),
            Cell::Recorded(s) => format!("{s}{RECORDED_MARK}"),
            Cell::NotApplicable => "n/a".into(),
            Cell::Failed(e) => format!("ERR {}", e.kind()),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Done(s) | Cell::Recorded(s) => json!(s),
            Cell::NotApplicable => Value::Null,
            Cell::Failed(e) => json!({"error": error_json(e)}),
        }
    }

    fn of(r: Result<String>) -> Cell {
        match r {
            Ok(s) => Cell::Done(s),
            Err(e) if e.kind() == ErrorKind::Unsupported => Cell::NotApplicable,
            Err(e) => Cell::Failed(e),
        }
    }
}

const STEPS: [&str; 7] = [
    "initial", "on", "boot pxe", "vendor", "reboot", "off", "final",
];

/// Calls the node's first synchronous GET vendor method that takes no arguments
/// (Node Manager's `get_nm_version`, fake-hardware's `echo`) and shows its name.
async fn vendor_read(node: &Node) -> Cell {
    let Ok(vendor) = node.vendor() else {
        return Cell::NotApplicable;
    };
    let Some(method) = vendor
        .methods()
        .into_iter()
        .find(|m| !m.is_async && m.http_methods.contains(&HttpMethod::Get))
    else {
        return Cell::NotApplicable;
    };
    Cell::of(
        vendor
            .call(&method.name, HttpMethod::Get, json!({}))
            .await
            .map(|_| method.name.clone()),
    )
}

async fn set(node: &Node, target: PowerTarget) -> Cell {
    let Ok(power) = node.power() else {
        return Cell::NotApplicable;
    };
    if !power.capabilities().targets.contains(&target) {
        return Cell::NotApplicable;
    }
    Cell::of(
        power
            .set_power_state(target, Some(STEP_TIMEOUT))
            .await
            .map(|()| {
                let caps = power.capabilities();
                if caps.recorded_only.contains(&target) {
                    // Wake-on-LAN's off records the state and sends nothing
                    // (wol_power_off=record, as Ironic).
                    "not performed".to_owned()
                } else if caps.can_query {
                    target.final_state().to_string()
                } else {
                    "unconfirmed".to_owned()
                }
            }),
    )
}

/// Marks a [`Cell::Recorded`] state in the text table.
const RECORDED_MARK: &str = "*";

async fn status(node: &Node) -> Cell {
    match node.power() {
        Ok(p) => match Cell::of(p.get_power_state().await.map(|s| s.to_string())) {
            Cell::Done(s) if !p.capabilities().can_query => Cell::Recorded(s),
            other => other,
        },
        Err(_) => Cell::NotApplicable,
    }
}

async fn drive(registry: &Registry, entry: &InventoryNode) -> (Vec<Cell>, Duration) {
    let start = Instant::now();
    let node =
        match context_of(entry).and_then(|(info, ctx)| registry.build(&entry.driver, info, &ctx)) {
            Ok(n) => n,
            Err(e) => {
                let mut cells = vec![Cell::Failed(e)];
                cells.extend((1..STEPS.len()).map(|_| Cell::NotApplicable));
                return (cells, start.elapsed());
            }
        };
    let mut cells = vec![status(&node).await, set(&node, PowerTarget::On).await];
    // PXE for the next boot, as a deploy asks; a device that can only set it for
    // every boot (libvirt: `persistent_only`) is asked for that, as its
    // capabilities say, rather than warned about a next-boot-only request.
    cells.push(match node.management() {
        Ok(m) if m.capabilities().boot_devices.contains(&BootDevice::Pxe) => {
            let persistent = m.capabilities().persistent_only;
            Cell::of(
                m.set_boot_device(BootDevice::Pxe, persistent)
                    .await
                    .map(|()| {
                        if persistent {
                            "pxe (every boot)"
                        } else {
                            "pxe"
                        }
                        .to_owned()
                    }),
            )
        }
        _ => Cell::NotApplicable,
    });
    cells.push(vendor_read(&node).await);
    cells.push(set(&node, PowerTarget::Reboot).await);
    cells.push(set(&node, PowerTarget::Off).await);
    cells.push(status(&node).await);
    (cells, start.elapsed())
}

/// Why the demo's Wake-on-LAN nodes log a WARN each: their `off` step is
/// deliberate (Wake-on-LAN has no off; hwctl-wol records the node as off and warns
/// that a person must switch it off, `wol_power_off=record` as in Ironic). `None`
/// when no such step succeeded or warnings from hwctl-wol are not logged.
fn wol_off_note(
    fleet: &[InventoryNode],
    results: &[(usize, (Vec<Cell>, Duration))],
) -> Option<String> {
    let off = STEPS.iter().position(|s| *s == "off")?;
    let names: Vec<&str> = results
        .iter()
        .filter(|(i, (cells, _))| {
            fleet[*i].driver == hwctl_wol::NAME && matches!(cells.get(off), Some(Cell::Done(_)))
        })
        .map(|(i, _)| fleet[*i].name.as_str())
        .collect();
    let logged = tracing::enabled!(target: "hwctl_wol::power", tracing::Level::WARN);
    if names.is_empty() || !logged {
        return None;
    }
    Some(format!(
        "Expected: the {} WARN lines on stderr (\"Wake-on-LAN cannot power a node off\") come \
         from the demo's `off` step on {}: Wake-on-LAN has no off, so hwctl records the node \
         as off and asks for a person to switch it off (wol_power_off=record, as Ironic); \
         its `off` cell says `not performed`, and `on`/`reboot` say `unconfirmed` \
         because Wake-on-LAN cannot read power.",
        names.len(),
        names.join(", ")
    ))
}

/// Where the demo's nodes run, for its summary line: the network simulators (one
/// line each in the list above the table, however many BMCs one serves: `ipmi`'s
/// three, `staging-nm`'s two) and libvirt's test driver, which runs inside hwctl
/// with no network (the simulator whose requests are not counted, for that same
/// reason: [`sims::REQUESTS_NOT_COUNTED`]).
#[derive(Debug, Default)]
struct NodeCounts {
    /// Nodes on network simulators, and how many simulators.
    networked: usize,
    simulators: usize,
    /// Nodes in libvirt's in-process test driver.
    in_process: usize,
}

impl NodeCounts {
    fn add(&mut self, sim: &dyn Simulator, nodes: usize) {
        if sims::counts_requests(sim) {
            self.networked += nodes;
            self.simulators += 1;
        } else {
            self.in_process += nodes;
        }
    }

    /// `79 on 9 network simulators, 4 in libvirt's in-process test driver
    /// (staging-libvirt), 3 in memory (fake-hardware, no simulator)`, adding up to
    /// the node count.
    fn text(&self, in_memory: usize) -> String {
        let mut parts = vec![format!(
            "{} on {} network simulators",
            self.networked, self.simulators
        )];
        if self.in_process > 0 {
            parts.push(format!(
                "{} in libvirt's in-process test driver (staging-libvirt)",
                self.in_process
            ));
        }
        parts.push(format!(
            "{in_memory} in memory (fake-hardware, no simulator)"
        ));
        parts.join(", ")
    }
}

/// What the table's TIME column is, and why the fake-hardware nodes' differ: they
/// wait `fake_delay_ms` on every operation on purpose (the values read from the
/// demo's own fleet).
fn time_legend(fleet: &[InventoryNode]) -> String {
    let delays: Vec<String> = fleet
        .iter()
        .filter(|n| n.driver == hwctl_core::fake::NAME)
        .map(|n| {
            let ms = n
                .driver_info
                .get("fake_delay_ms")
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "0".into());
            format!("{} {ms} ms", n.name)
        })
        .collect();
    let mut text = format!(
        "TIME: each node's {} steps, one after another (up to {CONCURRENCY} nodes at once, \
         so a busy simulator's wait counts too)",
        STEPS.len()
    );
    if !delays.is_empty() {
        text.push_str(&format!(
            "; fake-hardware waits fake_delay_ms on every operation on purpose ({})",
            delays.join(", ")
        ));
    }
    text
}

/// How many nodes the demo drives at once.
const CONCURRENCY: usize = 32;

fn fake_fleet() -> Vec<InventoryNode> {
    (0..3)
        .map(|i| {
            let info =
                hwctl_core::DriverInfo::from_pairs([("fake_delay_ms", (i * 40).to_string())]);
            InventoryNode {
                name: format!("fake-{i}"),
                driver: hwctl_core::fake::NAME.into(),
                driver_info: info,
                ..Default::default()
            }
        })
        .collect()
}

/// Runs the demo; returns how many steps failed.
pub(crate) async fn run(registry: &Registry, json_out: bool) -> Result<usize> {
    let mut running: Vec<Box<dyn Simulator>> = Vec::new();
    let mut fleet = fake_fleet();
    let in_memory = fleet.len();
    let mut counts = NodeCounts::default();
    let mut start_errors = Vec::new();
    for name in sims::SIMULATORS {
        match sims::start(name, None).await {
            Ok(sim) => {
                let nodes = sims::nodes(sim.as_ref());
                counts.add(sim.as_ref(), nodes.len());
                fleet.extend(nodes);
                running.push(sim);
            }
            Err(e) => start_errors.push(format!("{name}: failed to start: {e} [{}]", e.kind())),
        }
    }
    let sim_errors = start_errors.len();

    let started = Instant::now();
    let results: Vec<(usize, (Vec<Cell>, Duration))> =
        futures::stream::iter(fleet.iter().enumerate())
            .map(|(i, entry)| async move { (i, drive(registry, entry).await) })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut results = results;
    results.sort_by_key(|(i, _)| *i);
    let total = started.elapsed();
    // Close the pooled clients and log their sessions out while the simulators still
    // run (they stop when this function returns): otherwise every session's log-out
    // met a closed port and warned.
    hwctl_core::shared::release_all();
    hwctl_http::session::finish_logouts(Duration::from_secs(5)).await;
    // Described after the run, so their counters show what the fleet did to them.
    let mut sim_lines = vec!["fake-hardware: 3 in-memory nodes (no simulator needed)".to_owned()];
    sim_lines.extend(running.iter().map(|s| s.describe()));
    sim_lines.extend(start_errors);
    let counters_json: Value = running
        .iter()
        .map(|s| (s.hardware_type().to_owned(), sims::stats_json(s.as_ref())))
        .collect::<serde_json::Map<String, Value>>()
        .into();
    let failed: usize = results
        .iter()
        .map(|(_, (cells, _))| {
            cells
                .iter()
                .filter(|c| matches!(c, Cell::Failed(_)))
                .count()
        })
        .sum::<usize>()
        + sim_errors;
    // Network boot (hwctl-pxe): pxe and ipxe on a fake-hardware node, served by MAC.
    let (boot_lines, boot_json, boot_failed) = crate::boot_cmd::demo_step(registry).await;
    let failed = failed + boot_failed;

    let wol_note = wol_off_note(&fleet, &results);

    if json_out {
        let nodes: Vec<Value> = results
            .iter()
            .map(|(i, (cells, elapsed))| {
                let steps: serde_json::Map<String, Value> = STEPS
                    .iter()
                    .zip(cells)
                    .map(|(s, c)| ((*s).to_owned(), c.json()))
                    .collect();
                // Whether the initial and final power states are recorded ones
                // (the last set by hwctl), not readings.
                let recorded = cells.iter().any(|c| matches!(c, Cell::Recorded(_)));
                json!({"name": fleet[*i].name, "driver": fleet[*i].driver,
                       "steps": steps, "power_state_recorded": recorded,
                       "elapsed_ms": elapsed.as_millis()})
            })
            .collect();
        say_json(
            &json!({"simulators": sim_lines, "counters": counters_json, "nodes": nodes,
                    "network_boot": boot_json, "notes": wol_note.iter().collect::<Vec<_>>(),
                    "failed_steps": failed, "elapsed_ms": total.as_millis()}),
        );
    } else {
        say("Simulators (counters after the run):");
        for line in &sim_lines {
            say(format!("  {line}"));
        }
        say("");
        let counter_rows: Vec<Vec<String>> = running
            .iter()
            .map(|s| {
                let c = s.stats();
                vec![
                    s.hardware_type().to_owned(),
                    if sims::counts_requests(s.as_ref()) {
                        c.requests.to_string()
                    } else {
                        "not counted".to_owned()
                    },
                    c.connections.to_string(),
                    c.peak_connections.to_string(),
                    c.sessions_opened.to_string(),
                    c.peak_sessions.to_string(),
                    c.faults_injected.to_string(),
                ]
            })
            .collect();
        say(table(
            &[
                "SIMULATOR",
                "REQUESTS",
                "CONNECTIONS",
                "PEAK CONN",
                "SESSIONS",
                "PEAK SESS",
                "FAULTS",
            ],
            &counter_rows,
        ));
        let uncounted: Vec<&str> = running
            .iter()
            .filter(|s| !sims::counts_requests(s.as_ref()))
            .map(|s| s.hardware_type())
            .collect();
        if !uncounted.is_empty() {
            say(format!(
                "({}: requests not counted: libvirt's test driver runs inside hwctl and \
                 counts nothing; its connections are counted)",
                uncounted.join(", ")
            ));
        }
        say("");
        let mut headers = vec!["NODE", "DRIVER"];
        headers.extend(STEPS);
        headers.push("TIME");
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|(i, (cells, elapsed))| {
                let mut row = vec![fleet[*i].name.clone(), fleet[*i].driver.clone()];
                row.extend(cells.iter().map(Cell::text));
                row.push(format!("{:.2}s", elapsed.as_secs_f64()));
                row
            })
            .collect();
        say(table(&headers, &rows));
        say(time_legend(&fleet));
        if results
            .iter()
            .any(|(_, (cells, _))| cells.iter().any(|c| matches!(c, Cell::Recorded(_))))
        {
            say(format!(
                "{RECORDED_MARK} recorded, not read: the last state hwctl set (Wake-on-LAN \
                 cannot read a node's power state; unknown until hwctl sets one)"
            ));
        }
        for (i, (cells, _)) in &results {
            for (step, cell) in STEPS.iter().zip(cells) {
                if let Cell::Failed(e) = cell {
                    say(format!("  {} {step}: {e} [{}]", fleet[*i].name, e.kind()));
                }
            }
        }
        if let Some(note) = &wol_note {
            say(note);
        }
        say("Network boot (hwctl-pxe, fake-hardware node, embedded TFTP/HTTP servers):");
        for line in &boot_lines {
            say(format!("  {line}"));
        }
        say(format!(
            "{} nodes driven in {:.2}s: {}; {failed} failed steps (n/a = the device cannot do \
             it, by its capabilities)",
            fleet.len(),
            total.as_secs_f64(),
            counts.text(in_memory),
        ));
        say(
            "Next: `hwctl sim TYPE` runs one of these simulators and prints the commands that \
             drive its nodes (`hwctl sim --list`); `hwctl fleet --inventory FILE` drives an \
             inventory of them.",
        );
    }
    drop(running);
    Ok(failed)
}
