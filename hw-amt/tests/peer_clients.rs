//! Our simulator driven by three real AMT / WS-Management clients: MeshCentral's AMT
//! stack (node), PyPI `amt` (amtctrl) and Debian's `wsl` — power state, power
//! change, boot order. Each is bounded by a timeout and killed when over it.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use hwctl_amt::sim::{AmtSim, AmtSimConfig};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `cmd` off the runtime (the simulator keeps serving), killed after 60 s.
async fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let waited = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await;
    match waited {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("peer did not finish within 60 s");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshcentral_amt_stack_drives_the_simulator() {
    let dir = workspace().join(".npm-peers/meshcentral-amt");
    let found = hwctl_sim::testkit::program_installed("node") && dir.join("amt.js").exists();
    if !hwctl_sim::testkit::require_peer(
        "MeshCentral amt/*.js (npm pack meshcentral@1.1.55)",
        found,
    ) {
        return;
    }
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/meshcentral.js"))
        .arg(&dir)
        .arg(sim.addr().port().to_string())
        .arg(sim.username())
        .arg(sim.password());
    let o = run(cmd).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let steps: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(steps[0]["power"], 8, "{out}");
    for s in &steps[1..5] {
        assert_eq!(s["status"], 200, "{out}");
        assert_eq!(s["rv"], 0, "{out}");
    }
    assert_eq!(steps[5]["power"], 2, "{out}");
    // Power on booted the disk; the reset after ChangeBootOrder + SetBootConfigRole
    // booted PXE.
    assert_eq!(sim.boots(), ["disk", "pxe"]);
    // MeshCentral reuses the nonce with a counting nc.
    let stats = sim.stats();
    assert!(stats.nonce_reuses >= 4, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pypi_amt_drives_the_simulator() {
    let python = workspace().join(".venv/bin/python");
    let found = python.exists()
        && Command::new(&python)
            .args(["-c", "import amt.client"])
            .status()
            .is_ok_and(|s| s.success());
    if !hwctl_sim::testkit::require_peer("PyPI amt 0.8.0 (.venv)", found) {
        return;
    }
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let script = format!(
        r#"
import amt.client as c
c.AMT_PROTOCOL_PORT_MAP['http'] = {port}
cl = c.Client('127.0.0.1', {password:?}, username={user:?})
print(cl.power_status())
print(cl.power_on())
print(cl.power_status())
cl.pxe_next_boot()
print(cl.power_cycle())
print(cl.power_off())
print(cl.power_status())
"#,
        port = sim.addr().port(),
        password = sim.password(),
        user = sim.username()
    );
    let mut cmd = Command::new(&python);
    cmd.args(["-c", &script]);
    let o = run(cmd).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines, ["8", "0", "2", "0", "0", "8"], "{out}");
    assert_eq!(sim.boots(), ["disk", "pxe"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wsl_drives_the_simulator() {
    let found = [
        "wslget",
        "wslenum",
        "wslinvoke",
        "wslid",
        "uuidgen",
        "curl",
        "xmllint",
    ]
    .iter()
    .all(|p| hwctl_sim::testkit::program_installed(p));
    if !hwctl_sim::testkit::require_peer("wsl (Debian wsl, uuid-runtime, curl)", found) {
        return;
    }
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    // wsl's curl sends Basic unless told to negotiate (PEERS.md).
    std::fs::write(home.path().join(".curlrc"), "anyauth\n").unwrap();
    let wsl = |args: &[&str]| {
        let mut c = Command::new(args[0]);
        c.args(&args[1..])
            .current_dir(home.path())
            .env("HOME", home.path())
            .env("WSNOSSL", "1")
            .env("WSENDPOINT", format!("127.0.0.1:{}", sim.addr().port()))
            .env("WSUSER", sim.username())
            .env("WSPASS", sim.password());
        c
    };
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();

    let o = run(wsl(&["wslid", "check"])).await;
    assert!(text(&o).contains("AMT 11.8"), "{}", text(&o));
    let o = run(wsl(&["wslget", "CIM_AssociatedPowerManagementService"])).await;
    assert!(
        text(&o).contains("<h:PowerState>8</h:PowerState>"),
        "{}",
        text(&o)
    );
    let o = run(wsl(&[
        "wslinvoke",
        "CIM_PowerManagementService",
        "RequestPowerStateChange",
        "PowerState=2",
    ]))
    .await;
    assert!(
        text(&o).contains("<g:ReturnValue>0</g:ReturnValue>"),
        "{}",
        text(&o)
    );
    assert!(sim.is_on());
    let o = run(wsl(&["wslenum", "CIM_BootSourceSetting"])).await;
    assert_eq!(
        text(&o).matches("Intel(r) AMT: Force").count(),
        3,
        "{}",
        text(&o)
    );
    let ops = sim.stats().by_operation;
    assert!(
        ops["Identify"] >= 1 && ops["Get"] >= 1 && ops["RequestPowerStateChange"] == 1,
        "{ops:?}"
    );
}
