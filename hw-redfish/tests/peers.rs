//! Real third-party Redfish software on loopback (PEERS.md, second wave):
//! - our client against sushy-tools' `sushy-emulator --fake` (basic auth) and
//!   `sushy-static` serving DMTF's `public-rackmount1` mockup;
//! - our simulator under the DMTF Redfish-Service-Validator (offline, with the CSDL
//!   folder) and the DMTF Redfish-Protocol-Validator;
//! - our simulator driven in Session mode by three independent clients: `sushy`,
//!   DMTF's `redfish` and `redfishtool`.
//!
//! Each test is skipped when its peer is missing, unless `HW_REQUIRE_PEERS=1`.
//! Every child binds 127.0.0.1, is bounded by a timeout and killed on drop.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use hwctl_core::{BootDevice, DriverInfo, ErrorKind, NodeContext, PowerState, PowerTarget};
use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
use hwctl_sim::testkit::{fixture_path, program_installed, require_peer};
use tokio::process::{Child, Command};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn venv(tool: &str) -> Option<PathBuf> {
    let p = workspace().join(".venv/bin").join(tool);
    p.exists().then_some(p)
}

fn python_has(module: &str) -> bool {
    venv("python").is_some_and(|py| {
        std::process::Command::new(py)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

async fn wait_port(port: u16, child: &mut Child) {
    for _ in 0..150 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("peer exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("peer did not listen on {port} within 15 s");
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.kill_on_drop(true)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs `cmd` to completion within `limit`; returns (success, stdout + stderr).
async fn run(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let child = cmd
        .kill_on_drop(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .expect("peer timed out");
    let out = out.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn node(address: &str, extra: &[(&str, &str)]) -> hwctl_core::Node {
    let mut info = DriverInfo::from_pairs([
        ("redfish_address", address),
        ("redfish_username", "admin"),
        ("redfish_password", "password"),
    ]);
    for (k, v) in extra {
        info.insert(*k, *v);
    }
    hwctl_redfish::hardware_type()
        .build(&info, &NodeContext::new("peer"))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sushy_emulator_fake_with_basic_auth() {
    let found = venv("sushy-emulator").is_some() && python_has("bcrypt");
    if !require_peer("sushy-emulator (PyPI sushy-tools) with bcrypt", found) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let (ok, out) = run(
        Command::new(venv("python").unwrap()).args([
            "-c",
            "import bcrypt,sys; open(sys.argv[1],'w').write('admin:'+bcrypt.hashpw(b'password', bcrypt.gensalt(rounds=5)).decode()+'\\n')",
            htpasswd.to_str().unwrap(),
        ]),
        Duration::from_secs(20),
    )
    .await;
    assert!(ok, "{out}");
    let conf = dir.path().join("emulator.conf");
    std::fs::write(
        &conf,
        format!(
            "SUSHY_EMULATOR_AUTH_FILE = {:?}\n",
            htpasswd.to_str().unwrap()
        ),
    )
    .unwrap();
    let port = hwctl_sim::testkit::peer_port();
    let mut child = spawn(Command::new(venv("sushy-emulator").unwrap()).args([
        "--fake",
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--config",
        conf.to_str().unwrap(),
    ]));
    wait_port(port, &mut child).await;
    let address = format!("http://127.0.0.1:{port}");

    // No SessionService there: auto falls back to basic.
    let n = node(&address, &[]);
    let p = n.power().unwrap();
    let m = n.management().unwrap();
    // The fake driver applies a power change 1–11 s later.
    let t = Some(Duration::from_secs(25));
    p.set_power_state(PowerTarget::On, t).await.unwrap();
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::On);
    p.set_power_state(PowerTarget::Reboot, t).await.unwrap();
    p.set_power_state(PowerTarget::Off, t).await.unwrap();
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::Off);
    m.set_boot_device(BootDevice::Pxe, true).await.unwrap();
    let got = m.get_boot_device().await.unwrap();
    assert_eq!(
        (got.device, got.persistent),
        (Some(BootDevice::Pxe), Some(true))
    );
    // sushy-tools stores Once as Continuous (PEERS.md): the device is what we check.
    m.set_boot_device(BootDevice::Disk, false).await.unwrap();
    assert_eq!(
        m.get_boot_device().await.unwrap().device,
        Some(BootDevice::Disk)
    );
    // A wrong password: 401 from the emulator.
    let bad = node(
        &address,
        &[
            ("redfish_password", "wrong"),
            ("redfish_auth_type", "basic"),
        ],
    );
    let e = bad.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
}

#[tokio::test]
async fn sushy_static_serves_the_dmtf_mockup() {
    let mockup = fixture_path(env!("CARGO_MANIFEST_DIR"), "redfish/public-rackmount1");
    let found = venv("sushy-static").is_some() && mockup.is_some();
    if !require_peer(
        "sushy-static (PyPI sushy-tools) and fixtures/redfish/public-rackmount1",
        found,
    ) {
        return;
    }
    let port = hwctl_sim::testkit::peer_port();
    let mut child = spawn(Command::new(venv("sushy-static").unwrap()).args([
        "-m",
        mockup.unwrap().to_str().unwrap(),
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ]));
    wait_port(port, &mut child).await;
    let n = node(&format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(
        n.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    let m = n.management().unwrap();
    let got = m.get_boot_device().await.unwrap();
    assert_eq!(
        (got.device, got.persistent),
        (Some(BootDevice::Pxe), Some(false))
    );
    assert_eq!(
        m.get_boot_mode().await.unwrap(),
        Some(hwctl_core::BootMode::Uefi)
    );
    let sensors = m.get_sensors().await.unwrap();
    let cpu1 = sensors.iter().find(|s| s.name == "CPU1 Temp").unwrap();
    assert_eq!(cpu1.value, Some(41.0));
    assert!(
        sensors
            .iter()
            .any(|s| s.name == "VRM1 Voltage" && s.value == Some(12.0))
    );
    // The mockup is read-only: a reset is accepted and nothing changes, so the
    // power change cannot be confirmed.
    let e = n
        .power()
        .unwrap()
        .set_power_state(PowerTarget::Off, Some(Duration::from_secs(2)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PowerStateFailure, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_validator_passes_over_the_simulator() {
    let csdl = fixture_path(env!("CARGO_MANIFEST_DIR"), "redfish/csdl");
    let found = venv("rf_service_validator").is_some() && csdl.is_some();
    if !require_peer(
        "rf_service_validator (PyPI redfish-service-validator) and fixtures/redfish/csdl",
        found,
    ) {
        return;
    }
    let sim = RedfishSim::start(RedfishSimConfig {
        systems: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (ok, out) = run(
        Command::new(venv("rf_service_validator").unwrap())
            .args([
                "-r",
                &sim.base_url(),
                "-u",
                "admin",
                "-p",
                "password",
                "--authtype",
                "Session",
            ])
            .args(["--schema_directory", csdl.unwrap().to_str().unwrap()])
            .args(["--logdir", logs.path().to_str().unwrap()])
            .current_dir(logs.path()),
        Duration::from_secs(120),
    )
    .await;
    assert!(ok, "the Redfish-Service-Validator failed:\n{out}");
    assert!(sim.counters().sessions_opened >= 1);
}

/// The checks the simulator cannot pass by design: it serves plain HTTP on loopback,
/// and these require HTTPS.
const HTTPS_ONLY: &[&str] = &["SEC_BASIC_AUTH_OVER_HTTPS", "SEC_SESSION_CREATE_HTTPS_ONLY"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_validator_session_auth_and_header_checks() {
    if !require_peer(
        "rf_protocol_validator (PyPI redfish-protocol-validator)",
        venv("rf_protocol_validator").is_some(),
    ) {
        return;
    }
    let sim = RedfishSim::start(RedfishSimConfig {
        session_limit: 16,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = run(
        Command::new(venv("rf_protocol_validator").unwrap())
            .args([
                "-r",
                &sim.base_url(),
                "-u",
                "admin",
                "-p",
                "password",
                "--no-cert-check",
            ])
            .args(["--report-dir", dir.path().to_str().unwrap()])
            .current_dir(dir.path()),
        Duration::from_secs(120),
    )
    .await;
    let tsv = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "tsv"))
        .unwrap_or_else(|| panic!("no report:\n{out}"));
    let report = std::fs::read_to_string(tsv).unwrap();
    let failures: Vec<&str> = report
        .lines()
        .filter(|l| l.split('\t').any(|f| f == "FAIL"))
        .filter(|l| !HTTPS_ONLY.iter().any(|id| l.starts_with(id)))
        .collect();
    assert!(
        failures.is_empty(),
        "protocol validator failures:\n{}",
        failures.join("\n")
    );
    let passed = report
        .lines()
        .filter(|l| l.split('\t').any(|f| f == "PASS"))
        .count();
    assert!(passed > 200, "only {passed} checks passed:\n{out}");
    for id in [
        "SEC_SESSIONS_URI",
        "RESP_HEADERS_ETAG",
        "RESP_HEADERS_LINK_REL_DESCRIBED_BY",
        "REQ_HEADERS_ODATA_VERSION",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(id) && l.contains("\tPASS\t")),
            "{id} did not pass"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_drive_the_simulator_in_session_mode() {
    let sushy = python_has("sushy");
    let dmtf = python_has("redfish");
    let tool = program_installed("redfishtool");
    if !require_peer(
        "sushy, redfish (PyPI) and redfishtool (apt)",
        sushy && dmtf && tool,
    ) {
        return;
    }
    let sim = RedfishSim::start(RedfishSimConfig {
        systems: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers");
    let py = venv("python").unwrap();

    let (ok, out) = run(
        Command::new(&py).arg(peers.join("sushy_client.py")).args([
            &sim.base_url(),
            "admin",
            "password",
            &sim.system_path(0),
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(ok, "sushy:\n{out}");
    let s = sim.system(0);
    assert_eq!(
        (
            s.resets.as_slice(),
            s.boot_target.as_str(),
            s.boot_enabled.as_str()
        ),
        (
            &["On".to_string(), "ForceOff".into()][..],
            "Pxe",
            "Continuous"
        )
    );

    let (ok, out) = run(
        Command::new(&py).arg(peers.join("dmtf_client.py")).args([
            &sim.base_url(),
            "admin",
            "password",
            &sim.system_path(1),
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(ok, "redfish:\n{out}");
    let s = sim.system(1);
    assert_eq!(
        (
            s.power_state.as_str(),
            s.boot_target.as_str(),
            s.boot_enabled.as_str()
        ),
        ("On", "Hdd", "Once")
    );

    let target = sim.base_url().trim_start_matches("http://").to_owned();
    for args in [
        &["reset", "On"][..],
        &["setBootOverride", "Continuous", "Cd"][..],
    ] {
        let (ok, out) = run(
            Command::new("redfishtool")
                .args([
                    "-r", &target, "-S", "Never", "-u", "admin", "-p", "password", "-A", "Session",
                    "Systems", "-I", "3",
                ])
                .args(args),
            Duration::from_secs(60),
        )
        .await;
        assert!(ok, "redfishtool {args:?}:\n{out}");
    }
    let s = sim.system(2);
    assert_eq!(
        (s.power_state.as_str(), s.boot_target.as_str()),
        ("On", "Cd")
    );
    // Every client logged in with a session and logged out again.
    let c = sim.counters();
    assert!(c.sessions_opened >= 4, "{c:?}");
    assert_eq!(c.open_sessions, 0, "{c:?}");
}
