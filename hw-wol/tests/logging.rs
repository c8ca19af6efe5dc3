#![allow(clippy::unwrap_used)]
//! What hwctl-wol logs: each line names its node once, in the event's own `node`
//! field (seen by any subscriber, with or without spans), never again in a span.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::{NodeContext, PowerExt};
use hwctl_wol::sim::WolSim;
use hwctl_wol::{WolConfig, WolPower};
use serde_json::json;

/// Log lines, as a `tracing` fmt subscriber (spans printed) writes them.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// Captures everything at DEBUG and above on this thread while the guard lives.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let w = self.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_default(sub)
    }
    /// The lines of hwctl-wol's power code (not its simulator's).
    fn power_lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .filter(|l| l.contains("hwctl_wol::power"))
            .map(str::to_owned)
            .collect()
    }
}

/// The node id in the event's fields: after the target, not in a span before it.
fn names_node_once_in_the_event(line: &str, node: &str) {
    assert_eq!(line.matches(node).count(), 1, "{line}");
    let (_, event) = line.split_once("hwctl_wol::power: ").unwrap();
    assert!(event.contains(&format!("node={node}")), "{line}");
}

/// `power on` and `power off` (recorded) through the power engine: every line names
/// the node once (before: `wol.apply{node=w1 action=off}: … node=w1`).
#[tokio::test]
async fn on_and_off_lines_name_the_node_once_in_the_event() {
    let sim = WolSim::start().await.unwrap();
    let ctx = NodeContext::new("w1").with_port("52:54:00:cf:2d:31".parse().unwrap());
    let info = hwctl_core::DriverInfo::from_json(json!({
        "wol_host": "127.0.0.1",
        "wol_port": sim.addr().port(),
        "wol_power_off": "record",
    }))
    .unwrap();
    let node = hwctl_wol::hardware_type().build(&info, &ctx).unwrap();
    let power = node.power().unwrap();
    let log = Log::default();
    {
        let _g = log.capture();
        power.power_on().await.unwrap();
        power.power_off().await.unwrap();
    }
    assert_eq!(
        sim.wait_for_packets(1, Duration::from_secs(5)).await.len(),
        1
    );
    let lines = log.power_lines();
    let all = lines.join("\n");
    assert!(all.contains("magic packet sent"), "{all}");
    assert!(all.contains("node woken"), "{all}");
    assert!(all.contains("manual intervention required"), "{all}");
    for line in &lines {
        names_node_once_in_the_event(line, "w1");
    }
}

/// `wake` called directly (no `wol.apply` span around it) still names the node.
#[tokio::test]
async fn a_direct_wake_names_the_node() {
    let sim = WolSim::start().await.unwrap();
    let mac = "52:54:00:cf:2d:31".parse().unwrap();
    let power = WolPower::new(
        WolConfig::new("w2", vec![mac]).with_destination("127.0.0.1", sim.addr().port()),
    );
    let log = Log::default();
    {
        let _g = log.capture();
        assert_eq!(power.wake().await.unwrap(), 1);
    }
    let lines = log.power_lines();
    assert!(
        lines.iter().any(|l| l.contains("magic packet sent")),
        "{lines:?}"
    );
    for line in &lines {
        names_node_once_in_the_event(line, "w2");
    }
}
