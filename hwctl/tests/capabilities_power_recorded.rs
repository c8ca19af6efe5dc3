//! Wake-on-LAN's `power off` is "recorded, or refused, by option" (README): with
//! `wol_power_off=record` (the default) hwctl accepts it, records the node as off
//! and sends nothing. `hwctl capabilities` says so, in JSON
//! (`power.recorded_only`) and in text; with `unsupported`, off is not accepted and
//! nothing is recorded-only. A driver that performs every target says nothing.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn hwctl(args: &[&str]) -> Output {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state.path())
        .env_remove("HWCTL_LOG")
        .env("COLUMNS", "200")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn wol(extra: &[&str], tail: &[&str]) -> Output {
    let mut args = vec!["--driver", "staging-wol", "--port", "52:54:00:12:34:56"];
    args.extend_from_slice(extra);
    args.extend_from_slice(tail);
    hwctl(&args)
}

#[test]
fn wol_off_is_recorded_not_performed_in_json_and_text() {
    let out = wol(&[], &["--json", "capabilities"]);
    let caps: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        caps["capabilities"]["power"]["recorded_only"],
        json!(["off"])
    );
    assert_eq!(caps["capabilities"]["power"]["can_query"], false);

    let text = String::from_utf8(wol(&[], &["capabilities"]).stdout).unwrap();
    let power = text.lines().find(|l| l.starts_with("power")).unwrap();
    assert!(power.contains("recorded, not performed: off"), "{text}");
}

#[test]
fn wol_off_unsupported_is_not_accepted_nor_recorded() {
    let out = wol(
        &["--info", "wol_power_off=unsupported"],
        &["--json", "capabilities"],
    );
    let caps: Value = serde_json::from_slice(&out.stdout).unwrap();
    let power = &caps["capabilities"]["power"];
    assert_eq!(power["recorded_only"], json!([]), "{caps}");
    assert!(
        !power["targets"].as_array().unwrap().contains(&json!("off")),
        "{caps}"
    );
    let text =
        String::from_utf8(wol(&["--info", "wol_power_off=unsupported"], &["capabilities"]).stdout)
            .unwrap();
    assert!(!text.contains("recorded, not performed"), "{text}");
}

#[test]
fn a_driver_that_performs_every_target_records_none() {
    let out = hwctl(&["--driver", "fake-hardware", "--json", "capabilities"]);
    let caps: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(caps["capabilities"]["power"]["recorded_only"], json!([]));
    let text =
        String::from_utf8(hwctl(&["--driver", "fake-hardware", "capabilities"]).stdout).unwrap();
    assert!(!text.contains("recorded"), "{text}");
}
