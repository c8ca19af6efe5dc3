//! `hwctl sim TYPE`: one simulator in the foreground.

use std::net::SocketAddr;

use hwctl_core::{Error, Result};

use crate::inventory::InventoryNode;
use crate::output::say;
use crate::sims;

/// `value` as one shell word: as is when it holds only characters no shell treats
/// specially, else in single quotes.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Shell lines that drive `nodes`, their secrets never on an `hwctl` command line
/// (issue 15 item 3): a secret every node shares is exported once as `HW_<KEY>`
/// before the commands; one that differs between nodes is an environment
/// assignment in front of its node's command. The other keys are `--info` flags.
pub(crate) fn example_lines(nodes: &[InventoryNode]) -> Vec<String> {
    let registry = crate::registry::registry();
    let secret_keys = |driver: &str| -> Vec<String> {
        registry
            .get(driver)
            .map(|h| {
                h.properties()
                    .iter()
                    .filter(|p| p.secret)
                    .map(|p| p.name.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Secrets with one value across every node that has them.
    let mut shared: std::collections::BTreeMap<String, Option<String>> = Default::default();
    for n in nodes {
        for key in secret_keys(&n.driver) {
            if let Some(v) = n.driver_info.get(&key) {
                let v = text_of(v);
                shared
                    .entry(key)
                    .and_modify(|seen| {
                        if seen.as_deref() != Some(v.as_str()) {
                            *seen = None;
                        }
                    })
                    .or_insert(Some(v));
            }
        }
    }
    let mut lines: Vec<String> = shared
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("export {}={}", crate::secrets::env_name(k), shell_word(v)))
        })
        .collect();
    for node in nodes {
        let secrets = secret_keys(&node.driver);
        let mut parts = Vec::new();
        for (k, v) in node.driver_info.as_map() {
            if secrets.contains(k) && matches!(shared.get(k), Some(None)) {
                parts.push(format!(
                    "{}={}",
                    crate::secrets::env_name(k),
                    shell_word(&text_of(v))
                ));
            }
        }
        parts.push("hwctl".to_owned());
        parts.push(format!("--driver {}", shell_word(&node.driver)));
        for (k, v) in node.driver_info.as_map() {
            if !secrets.contains(k) {
                parts.push(format!(
                    "--info {}",
                    shell_word(&format!("{k}={}", text_of(v)))
                ));
            }
        }
        for p in &node.ports {
            parts.push(format!("--port {}", shell_word(p)));
        }
        parts.push("power status".into());
        lines.push(parts.join(" "));
    }
    lines
}

/// How many nodes' example commands `hwctl sim` prints; the rest are counted.
const EXAMPLES: usize = 3;

/// The "Try:" block of `hwctl sim NAME`: the `export` lines, the commands of the
/// first [`EXAMPLES`] nodes, and how many nodes the simulator has (an OCS chassis
/// has 48 blades: 48 command lines would bury the simulator's address).
fn try_lines(nodes: &[InventoryNode], name: &str) -> Vec<String> {
    let (exports, commands): (Vec<String>, Vec<String>) = example_lines(nodes)
        .into_iter()
        .partition(|l| l.starts_with("export "));
    let mut out = vec![match nodes.len() {
        1 => "1 node. Try:".to_owned(),
        n => format!("{n} nodes. Try:"),
    }];
    out.extend(exports.iter().map(|l| format!("  {l}")));
    out.extend(commands.iter().take(EXAMPLES).map(|l| format!("  {l}")));
    if commands.len() > EXAMPLES {
        let more = match commands.len() - EXAMPLES {
            1 => "1 more node like these".to_owned(),
            n => format!("{n} more nodes like these"),
        };
        out.push(format!(
            "  … and {more} (`hwctl --json sim {}` lists every node)",
            shell_word(name)
        ));
    }
    if let Some(caveat) = sims::caveat(name) {
        out.push(format!("Note: {caveat}"));
    }
    out
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
    // Listening before the first line is printed: a signal sent as soon as it is
    // read stops the simulator cleanly.
    let stop = crate::signals::StopSignals::listen();
    if json_out {
        // One line per event, so a program can read them as they come.
        let mut line =
            serde_json::json!({"simulator": sim.describe(), "nodes": sims::nodes(sim.as_ref())});
        if let Some(caveat) = sims::caveat(name) {
            line["note"] = caveat.into();
        }
        say(line.to_string());
    } else {
        say(sim.describe());
        for line in try_lines(&sims::nodes(sim.as_ref()), name) {
            say(line);
        }
        say("Ctrl-C (or SIGTERM) stops it.");
    }
    // Ctrl-C or SIGTERM (`kill`, `timeout`, systemd): either stops it cleanly, so
    // what the simulator holds (the libvirt one's node file and its temporary
    // directory) is removed; SIGTERM left them behind.
    stop.wait().await;
    if json_out {
        say(serde_json::json!({"stopped": sim.describe(), "counters": sims::stats_json(sim.as_ref())})
            .to_string());
    } else {
        say(format!("stopped: {}", sim.describe()));
    }
    drop(sim);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blade(n: usize) -> InventoryNode {
        let info = hwctl_core::DriverInfo::from_pairs([
            ("msftocs_base_url", "http://127.0.0.1:8000".to_owned()),
            ("msftocs_blade_id", n.to_string()),
            ("msftocs_username", "admin".to_owned()),
            ("msftocs_password", "pw".to_owned()),
        ]);
        InventoryNode {
            name: format!("blade-{n}"),
            driver: "msftocs".into(),
            driver_info: info,
            ..Default::default()
        }
    }

    #[test]
    fn a_48_blade_chassis_prints_a_few_examples_and_the_count() {
        let nodes: Vec<InventoryNode> = (1..=48).map(blade).collect();
        let lines = try_lines(&nodes, "msftocs");
        assert_eq!(lines[0], "48 nodes. Try:");
        let commands = lines
            .iter()
            .filter(|l| l.contains("hwctl --driver"))
            .count();
        assert_eq!(commands, EXAMPLES, "{lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("export HW_MSFTOCS_PASSWORD=pw"))
        );
        let last = lines.last().unwrap();
        assert!(last.contains("45 more nodes"), "{last}");
        assert!(lines.len() <= EXAMPLES + 3, "{lines:#?}");
        // One node: no "more" line.
        let one = try_lines(&nodes[..1], "msftocs");
        assert_eq!(one[0], "1 node. Try:");
        assert!(!one.iter().any(|l| l.contains("more nodes")));
        // One past the examples: "1 more node", not "1 more nodes".
        let four = try_lines(&nodes[..EXAMPLES + 1], "msftocs");
        let last = four.last().unwrap();
        assert!(last.contains("… and 1 more node like these ("), "{last}");
        // No note where the commands show every change.
        assert!(!four.iter().any(|l| l.starts_with("Note:")), "{four:#?}");
    }

    /// libvirt's test driver keeps its state in the process that opened it: the
    /// "Try:" block says a change does not carry over to the next command
    /// (a newcomer saw `power on` then `power status` say off).
    #[cfg(feature = "libvirt")]
    #[test]
    fn the_libvirt_simulator_says_changes_do_not_carry_over() {
        let lines = try_lines(&[blade(1)], "staging-libvirt");
        let last = lines.last().unwrap();
        assert!(
            last.starts_with("Note: each hwctl command opens its own copy"),
            "{last}"
        );
        assert!(
            last.contains("does not carry over to the next command"),
            "{last}"
        );
    }
}
