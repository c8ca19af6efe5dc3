//! Every built-in driver through the real command line: `hwctl sim NAME` in one
//! process, `hwctl --info-file NODE power …` in others; and dead endpoints that must
//! fail with a typed error and exit 1 within a bound.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn hwctl(args: &[&str]) -> Output {
    {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    }
    .args(args)
    .output()
    .unwrap()
}

struct Sim {
    child: Child,
    _lines: Lines<BufReader<ChildStdout>>,
    nodes: Vec<serde_json::Value>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(name: &str) -> Sim {
    let mut child = {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    }
    .args(["--json", "sim", name])
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let nodes = first["nodes"].as_array().unwrap().clone();
    assert!(!nodes.is_empty(), "{name} serves no node");
    Sim {
        child,
        _lines: lines,
        nodes,
    }
}

fn simulators() -> Vec<String> {
    let o = hwctl(&["sim", "--list"]);
    assert!(o.status.success());
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_simulator_is_driven_through_the_cli() {
    let names = simulators();
    for expected in [
        "staging-wol",
        "staging-iboot",
        "msftocs",
        "ipmi",
        "staging-nm",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for name in &names {
        let sim = start_sim(name);
        let node = &sim.nodes[0];
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(&file, node.to_string()).unwrap();
        let f = file.to_str().unwrap();

        let o = hwctl(&["--json", "--info-file", f, "power", "on", "--timeout", "20"]);
        assert!(
            o.status.success(),
            "{name} power on: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["power_state"], "on", "{name}: {v}");

        let o = hwctl(&["--json", "--info-file", f, "power", "status"]);
        assert!(
            o.status.success(),
            "{name} power status: {}",
            String::from_utf8_lossy(&o.stderr)
        );

        let caps = hwctl(&["--json", "--info-file", f, "capabilities"]);
        let caps: serde_json::Value = serde_json::from_slice(&caps.stdout).unwrap();
        let pxe = caps["capabilities"]["management"]["boot_devices"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "pxe"));
        let o = hwctl(&["--info-file", f, "boot", "set", "pxe"]);
        if pxe {
            assert!(
                o.status.success(),
                "{name} boot set pxe: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        } else {
            assert_eq!(
                o.status.code(),
                Some(1),
                "{name}: boot set without management"
            );
            assert!(String::from_utf8_lossy(&o.stderr).contains("[unsupported]"));
        }
    }
}

/// A port on loopback that nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn assert_fails_fast(args: &[&str], kinds: &[&str], bound: Duration) {
    let start = Instant::now();
    let o = hwctl(args);
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        kinds.iter().any(|k| err.contains(&format!("[{k}]"))),
        "{args:?}: expected one of {kinds:?}: {err}"
    );
    assert!(took < bound, "{args:?} took {took:?}");
}

#[test]
fn dead_endpoints_fail_with_a_typed_error_within_a_bound() {
    let port = dead_port().to_string();
    let bound = Duration::from_secs(40);
    assert_fails_fast(
        &[
            "--driver",
            "staging-iboot",
            "--info",
            "iboot_address=127.0.0.1",
            "--info",
            &format!("iboot_port={port}"),
            "--info",
            "iboot_username=admin",
            "--info",
            "iboot_password=pw",
            "--info",
            "iboot_retry_interval=0",
            "power",
            "status",
        ],
        &["unreachable"],
        bound,
    );
    assert_fails_fast(
        &[
            "--driver",
            "msftocs",
            "--info",
            &format!("msftocs_base_url=http://127.0.0.1:{port}"),
            "--info",
            "msftocs_blade_id=7",
            "--info",
            "msftocs_username=admin",
            "--info",
            "msftocs_password=pw",
            "power",
            "status",
        ],
        &["unreachable"],
        bound,
    );
    assert_fails_fast(
        &[
            "--driver",
            "ipmi",
            "--info",
            "ipmi_address=127.0.0.1",
            "--info",
            &format!("ipmi_port={port}"),
            "--info",
            "ipmi_username=admin",
            "--info",
            "ipmi_password=pw",
            "power",
            "status",
        ],
        &["unreachable", "timeout"],
        bound,
    );
}

#[test]
fn bad_driver_info_exits_2_and_never_echoes_the_password() {
    let secret = "p".repeat(25);
    let o = hwctl(&[
        "--driver",
        "staging-iboot",
        "--info",
        "iboot_address=bad$host",
        "--info",
        "iboot_port=0",
        "--info",
        &format!("iboot_password={secret}"),
        "validate",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for key in [
        "iboot_address",
        "iboot_port",
        "iboot_username",
        "iboot_password",
    ] {
        assert!(err.contains(key), "{key} not named: {err}");
    }
    assert!(!err.contains(&secret), "password echoed: {err}");

    let o = hwctl(&[
        "--driver",
        "msftocs",
        "--info",
        "msftocs_blade_id=49",
        "validate",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for key in [
        "msftocs_base_url",
        "msftocs_username",
        "msftocs_password",
        "msftocs_blade_id",
    ] {
        assert!(err.contains(key), "{key} not named: {err}");
    }
}

/// Runs `hwctl --info-file FILE console` with `input` on stdin.
fn console(file: &str, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    }
    .args(["--info-file", file, "console"])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn console_on_an_ocs_blade_through_the_cli() {
    let sim = start_sim("msftocs");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blade.json");
    std::fs::write(&file, sim.nodes[6].to_string()).unwrap();
    let f = file.to_str().unwrap();

    // A blade that is off has no serial session.
    let o = hwctl(&["--info-file", f, "power", "off"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = console(f, b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stderr.is_empty());

    let o = hwctl(&["--info-file", f, "power", "on"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = console(f, b"hello blade 7\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("hello blade 7"),
        "the blade's terminal echoes: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The session was stopped on the way out: a new one opens at once.
    let out = console(f, b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 15 (newcomer run): the BMC hardware types network-boot through Ironic's
/// `pxe` and `ipxe` boot interfaces. `drivers` and `capabilities` list them, and
/// `boot prepare-ramdisk --boot-interface ipxe` prepares an ipmi node on the
/// built-in simulator (its management sets the boot device to pxe).
#[test]
fn bmc_hardware_types_network_boot_through_pxe_and_ipxe() {
    let o = hwctl(&["--json", "drivers"]);
    assert!(o.status.success());
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for name in [
        "ipmi",
        "staging-nm",
        "redfish",
        "openbmc",
        "staging-amt",
        "msftocs",
        "oneview",
        "staging-iboot",
        "staging-wol",
    ] {
        let t = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert_eq!(
            t["boot_interfaces"],
            serde_json::json!(["pxe", "ipxe"]),
            "{name}"
        );
    }
    let text = String::from_utf8(hwctl(&["drivers"]).stdout).unwrap();
    let ipmi = text.lines().find(|l| l.starts_with("ipmi ")).unwrap();
    assert!(ipmi.contains("pxe,ipxe"), "{text}");

    let sim = start_sim("ipmi");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let node_file = d.join("node.json");
    std::fs::write(&node_file, sim.nodes[0].to_string()).unwrap();
    let (kernel, ramdisk) = (d.join("deploy.kernel"), d.join("deploy.initramfs"));
    std::fs::write(&kernel, b"kernel").unwrap();
    std::fs::write(&ramdisk, b"ramdisk").unwrap();
    let (tftp_root, http_root) = (d.join("tftpboot"), d.join("httpboot"));
    let conf = d.join("boot.toml");
    std::fs::write(
        &conf,
        format!(
            "[pxe]\ntftp_root = {:?}\ntftp_server = \"127.0.0.1\"\n[deploy]\nhttp_root = {:?}\nhttp_url = \"http://127.0.0.1:8080\"\n",
            tftp_root.display().to_string(),
            http_root.display().to_string()
        ),
    )
    .unwrap();
    let (node_file, kernel, ramdisk, conf) = (
        node_file.to_str().unwrap(),
        format!("deploy_kernel={}", kernel.display()),
        format!("deploy_ramdisk={}", ramdisk.display()),
        conf.to_str().unwrap(),
    );
    let node = [
        "--info-file",
        node_file,
        "--port",
        "52:54:00:5e:13:02",
        "--info",
        &kernel,
        "--info",
        &ramdisk,
    ];
    let caps = hwctl(&[&node[..], &["--json", "capabilities"]].concat());
    assert!(
        caps.status.success(),
        "{}",
        String::from_utf8_lossy(&caps.stderr)
    );
    let caps: serde_json::Value = serde_json::from_slice(&caps.stdout).unwrap();
    assert_eq!(caps["boot_interfaces"], serde_json::json!(["pxe", "ipxe"]));
    let prep = hwctl(
        &[
            &node[..],
            &[
                "boot",
                "prepare-ramdisk",
                "--boot-interface",
                "ipxe",
                "--boot-config",
                conf,
            ],
        ]
        .concat(),
    );
    assert!(
        prep.status.success(),
        "{}{}",
        String::from_utf8_lossy(&prep.stdout),
        String::from_utf8_lossy(&prep.stderr)
    );
    let written = std::fs::read_dir(&http_root)
        .map(|d| d.count())
        .unwrap_or(0)
        + std::fs::read_dir(&tftp_root)
            .map(|d| d.count())
            .unwrap_or(0);
    assert!(written > 0, "prepare-ramdisk wrote nothing");
    // The simulated BMC was told to network-boot.
    let boot = hwctl(&[&node[..], &["--json", "boot", "get"]].concat());
    let boot: serde_json::Value = serde_json::from_slice(&boot.stdout).unwrap();
    assert_eq!(boot["boot_device"], "pxe", "{boot}");
    let clean = hwctl(
        &[
            &node[..],
            &[
                "boot",
                "clean-up-ramdisk",
                "--boot-interface",
                "ipxe",
                "--boot-config",
                conf,
            ],
        ]
        .concat(),
    );
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
}

/// `vendor list` in text says what each method takes (the newcomer learned
/// `get_nm_capabilities`'s arguments only from its errors; the schemas were in
/// `--json` alone), and a method that returns nothing says it was done instead of
/// printing a bare `null`.
#[test]
fn vendor_list_names_arguments_and_a_call_without_result_says_done() {
    let sim = start_sim("staging-nm");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nm.json");
    std::fs::write(&file, sim.nodes[0].to_string()).unwrap();
    let f = file.to_str().unwrap();
    let o = hwctl(&["--info-file", f, "vendor", "list"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("arguments (vendor call METHOD"), "{out}");
    let caps = out
        .lines()
        .rev()
        .find(|l| l.starts_with("get_nm_capabilities "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        caps.contains("domain_id") && caps.contains("policy_trigger"),
        "{out}"
    );
    let o = hwctl(&[
        "--info-file",
        f,
        "vendor",
        "call",
        "control_nm_policy",
        "--args",
        r#"{"scope": "global", "enable": true}"#,
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(out, "control_nm_policy: done (no result)\n");
}

/// `hwctl sim` stopped by SIGTERM (`kill`, `timeout`, systemd) stops as Ctrl-C
/// does: it says so and exits 0, and what the simulator held is removed — the
/// libvirt simulator's node file and temporary directory stayed behind before.
#[cfg(all(unix, feature = "libvirt"))]
#[test]
fn a_simulator_stopped_by_sigterm_cleans_up() {
    let mut sim = start_sim("staging-libvirt");
    let uri = sim.nodes[0]["driver_info"]["libvirt_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let node_file = std::path::PathBuf::from(uri.strip_prefix("test://").unwrap());
    let dir = node_file.parent().unwrap().to_owned();
    assert!(node_file.is_file(), "{uri}");
    let killed = Command::new("kill")
        .args(["-TERM", &sim.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped = sim._lines.next().unwrap().unwrap();
    assert!(stopped.contains("\"stopped\""), "{stopped}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = sim.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "hwctl sim did not exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}
