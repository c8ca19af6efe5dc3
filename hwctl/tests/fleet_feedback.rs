//! Issue 15 item 5: fleet feedback — a progress display from the start, a summary
//! on Ctrl-C, node flags refused, and inventory errors that name the node and line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
use hwctl_sim::{CommonFault, Simulator};
use serde_json::{Value, json};

fn inventory(sim: &OcsSim, n: u32) -> (tempfile::TempDir, std::path::PathBuf) {
    let nodes: Vec<Value> = (1..=n)
        .map(|b| {
            json!({"name": format!("blade-{b}"), "driver": "msftocs", "driver_info": {
                "msftocs_base_url": sim.base_url(), "msftocs_blade_id": b.to_string(),
                "msftocs_username": sim.username(), "msftocs_password": sim.password()}})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.json");
    std::fs::write(&path, serde_json::to_string_pretty(&nodes).unwrap()).unwrap();
    (dir, path)
}

fn hwctl(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    c.env("HWCTL_STATE_DIR", dir.join("state"));
    c
}

/// Under a terminal (`script` gives one), the bar is drawn before any node is done
/// and shows elapsed time, rate, ETA and failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_bar_shows_elapsed_rate_eta_and_failures_from_the_start() {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    sim.inject(Some(CommonFault::Delay(Duration::from_millis(700))))
        .unwrap();
    let (dir, path) = inventory(&sim, 2);
    let cmd = format!(
        "HWCTL_STATE_DIR={} {} fleet --inventory {} --concurrency 1 power status",
        dir.path().join("state").display(),
        env!("CARGO_BIN_EXE_hwctl"),
        path.display()
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("script")
            .args(["-qfec", &cmd, "/dev/null"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // Drawn at 0 of 2: before the first node (700 ms) finished.
    assert!(text.contains("0/2 ·"), "{text}");
    assert!(text.contains("[00:00:0"), "no elapsed time: {text}");
    assert!(text.contains("nodes/s"), "no rate: {text}");
    // Narrow enough for an 80-column terminal (the bar of 30 made 88-94).
    for line in text.split(['\r', '\n']).filter(|l| l.contains("ETA")) {
        let shown = console::strip_ansi_codes(line);
        assert!(
            shown.chars().count() <= 80,
            "{} columns: {shown}",
            shown.chars().count()
        );
    }
    assert!(text.contains("ETA"), "no ETA: {text}");
    assert!(text.contains("0 failed"), "no failure count: {text}");
}

/// Ctrl-C stops the sweep, prints which nodes were switched, which failed, which
/// were in flight (with the time they ran) and which never started, and exits 130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_prints_a_summary_and_exits_130() {
    a_signal_prints_a_summary("-INT", 130, "interrupted by Ctrl-C").await;
}

/// SIGTERM (what `timeout(1)`, systemd and CI runners send) does as Ctrl-C does,
/// exiting 143; it printed nothing and the record of what was switched was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_prints_a_summary_and_exits_143() {
    a_signal_prints_a_summary("-TERM", 143, "stopped by SIGTERM").await;
}

/// Sends `signal` to a `power on` sweep once two blades are on, and checks the
/// exit status, the error's words and the summary against the chassis.
async fn a_signal_prints_a_summary(signal: &str, code: i32, words: &str) {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    sim.inject(Some(CommonFault::Delay(Duration::from_millis(150))))
        .unwrap();
    let (dir, path) = inventory(&sim, 12);
    let child = hwctl(dir.path())
        .args(["--json", "fleet", "--inventory"])
        .arg(&path)
        .args(["--concurrency", "1", "power", "on"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until two blades are on, then interrupt.
    let start = Instant::now();
    while (1..=12).filter(|b| sim.blade(*b).unwrap().on).count() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no blade came on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 128 + SIGINT, as a shell reports a command Ctrl-C ended (it exited itself,
    // after printing the summary, rather than being killed by the signal).
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(report["interrupted"], true, "{report}");
    let message = report["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{report}");
    let names = |k: &str| -> Vec<String> {
        report["summary"][k]
            .as_array()
            .unwrap_or_else(|| panic!("no {k} in {report}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let (done, switched, not_started) = (names("done"), names("switched"), names("not_started"));
    let (failed, in_flight) = (names("failed"), names("interrupted"));
    // A blade whose power-on was sent but not yet confirmed counts as in flight.
    assert!(!done.is_empty(), "{report}");
    assert_eq!(done, switched, "{report}");
    assert!(!not_started.is_empty(), "{report}");
    assert_eq!(
        done.len() + failed.len() + in_flight.len() + not_started.len(),
        12,
        "{report}"
    );
    // A node in flight ran until Ctrl-C: its elapsed time is real (the chassis
    // delays every reply by 150 ms, and Ctrl-C came after two blades were on).
    for n in report["nodes"].as_array().unwrap() {
        if n["status"] == "interrupted" {
            assert!(n["elapsed_ms"].as_u64().unwrap() > 0, "{report}");
        }
    }
    // What it says was switched is on at the chassis.
    for name in &switched {
        let b: u32 = name.trim_start_matches("blade-").parse().unwrap();
        assert!(
            sim.blade(b).unwrap().on,
            "{name} reported switched: {report}"
        );
    }
    for name in &not_started {
        let b: u32 = name.trim_start_matches("blade-").parse().unwrap();
        assert!(
            !sim.blade(b).unwrap().on,
            "{name} not started but on: {report}"
        );
    }
}

/// `--driver`, `--info`, `--port` (and the other node flags) are refused with
/// `fleet`, exit 2, before any node is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_flags_are_refused_with_fleet() {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    let (dir, path) = inventory(&sim, 2);
    for flags in [
        &["--driver", "ipmi"][..],
        &["--info", "msftocs_blade_id=3"],
        &["--port", "52:54:00:12:34:56"],
        &["--capability", "boot_mode=uefi"],
    ] {
        let out = hwctl(dir.path())
            .args(flags)
            .args(["fleet", "--inventory"])
            .arg(&path)
            .args(["power", "status"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(flags[0]), "{flags:?}: {stderr}");
        assert!(stderr.contains("fleet"), "{flags:?}: {stderr}");
    }
    assert_eq!(sim.stats().requests, 0);
}

/// A type error in the inventory names the entry (its number from 1, and its name)
/// and the line.
#[test]
fn an_inventory_type_error_names_the_node_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.json");
    let text = r#"[
  {"name": "good-1", "driver": "ipmi", "driver_info": {"ipmi_address": "10.0.0.1"}},
  {"name": "good-2", "driver": "ipmi", "driver_info": {"ipmi_address": "10.0.0.2"}},
  {"name": "bad-blade",
   "driver": "ipmi",
   "driver_info": ["not", "an", "object"]}
]
"#;
    std::fs::write(&path, text).unwrap();
    let out = hwctl(dir.path())
        .args(["fleet", "--inventory"])
        .arg(&path)
        .args(["power", "status"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad-blade"), "{stderr}");
    assert!(stderr.contains("entry 3 (\"bad-blade\")"), "{stderr}");
    assert!(stderr.contains("line 6"), "{stderr}");
}

/// An Ironic export's masked secrets (`******`) are filled for every entry from
/// `HW_<KEY>` or `--password-file`, as for a single node (found by a newcomer: fleet
/// refused every entry although the README documents both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_fills_masked_secrets_from_the_environment_or_a_password_file() {
    let sim = OcsSim::start(OcsSimConfig {
        password: "Canary-9f3e1d".into(),
        ..OcsSimConfig::default()
    })
    .await
    .unwrap();
    let password = sim.password().to_string();
    let (dir, path) = inventory(&sim, 3);
    let masked = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&format!("\"{password}\""), "\"******\"");
    std::fs::write(&path, masked).unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, format!("{password}\n")).unwrap();

    let run = |extra: &[&str], env: Option<&str>| {
        let mut c = hwctl(dir.path());
        c.env_remove("HW_MSFTOCS_PASSWORD")
            .env_remove("HW_PASSWORD_FILE")
            .args(["--json"])
            .args(extra)
            .args(["fleet", "--inventory"])
            .arg(&path)
            .args(["power", "status"]);
        if let Some(v) = env {
            c.env("HW_MSFTOCS_PASSWORD", v);
        }
        c.output().unwrap()
    };
    let without = run(&[], None);
    assert!(
        !without.status.success(),
        "a masked export with no secret must fail"
    );
    let by_env = run(&[], Some(&password));
    assert!(
        by_env.status.success(),
        "{}",
        String::from_utf8_lossy(&by_env.stdout)
    );
    let by_file = run(&["--password-file", pw_file.to_str().unwrap()], None);
    assert!(
        by_file.status.success(),
        "{}",
        String::from_utf8_lossy(&by_file.stdout)
    );
    for out in [&without, &by_env, &by_file] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&password), "the secret leaked: {all}");
    }
    let refused = hwctl(dir.path())
        .args(["--ask-password", "fleet", "--inventory"])
        .arg(&path)
        .args(["power", "status"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

/// A node that fails validation (no password) is reported in `--json` with the
/// operation the sweep was for, not `null` (issue 16); in a status sweep the other
/// nodes still run. A change (`off`) is refused as a whole before any node is
/// touched, the error naming the operation and the entry's missing key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_failing_validation_names_the_sweeps_operation_in_json() {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    let (dir, path) = inventory(&sim, 2);
    let mut nodes: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    nodes[1]["driver_info"]
        .as_object_mut()
        .unwrap()
        .remove("msftocs_password");
    std::fs::write(&path, serde_json::to_string(&nodes).unwrap()).unwrap();
    // The operation a device error of the same sweep names (`act`), so one
    // report's rows agree; the old code said `power status` here.
    let sweep = |action: &str| {
        hwctl(dir.path())
            .env_remove("HW_MSFTOCS_PASSWORD")
            .env_remove("HW_PASSWORD_FILE")
            .args(["--json", "fleet", "--inventory"])
            .arg(&path)
            .args(["power", action])
            .output()
            .unwrap()
    };
    let out = sweep("off");
    assert_eq!(out.status.code(), Some(2));
    let refused: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused["error"]["kind"], "missing-parameter", "{refused}");
    assert_eq!(refused["error"]["operation"], "power off", "{refused}");
    assert_eq!(
        refused["error"]["problems"][0]["name"], "entries[2].driver_info.msftocs_password",
        "{refused}"
    );
    assert_eq!(sim.stats().requests, 0, "a node was touched: {refused}");
    let out = sweep("status");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["nodes"].as_array().unwrap();
    assert_eq!(rows[0]["ok"], true, "{report}");
    let error = &rows[1]["error"];
    assert_eq!(error["kind"], "missing-parameter", "{report}");
    assert_eq!(error["operation"], "get power state", "{report}");
}

/// `--concurrency` takes a whole number from 1 to 4096; a negative one is refused
/// as a number that is not positive (clap took `-1` for an option: "unexpected
/// argument '-1' found; tip: to pass '-1' as a value, use '-- -1'").
#[test]
fn a_negative_concurrency_is_not_a_positive_number() {
    for (n, said) in [
        ("-1", "-1 is not a positive number"),
        ("0", "0 is not a positive number"),
        ("4097", "4097 is more than 4096"),
        ("1.5", "'1.5' is not a whole number"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
            .args(["fleet", "--inventory", "inv.json", "--concurrency", n])
            .args(["power", "status"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{n}: {err}");
        assert!(
            err.contains(&format!(
                "invalid value '{n}' for '--concurrency <N>': {said}"
            )),
            "{n}: {err}"
        );
        assert!(!err.contains("-- -1"), "{n}: {err}");
    }
}
