//! The secret check, made systematic (issue 17): every `hwctl` command of every
//! driver — valid and invalid input, text, `--json`, trace logging (`HWCTL_LOG`),
//! flags and info files, fleet over an inventory — runs with a canary password, and
//! the canary must appear nowhere in stdout or stderr.
//!
//! The simulators run in this process with the canary as their password, so the
//! valid runs really authenticate with it; the hwctl processes are the real binary.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwctl_sim::Simulator;
use serde_json::{Value, json};

/// The password every simulator and node uses (20 bytes at most: IPMI, iBoot).
const CANARY: &str = "Cnry7QxZk9S3cretW";
/// Wake-on-LAN's SecureOn password is bytes: 8 hex digits.
const WOL_CANARY: &str = "a7c3e91f";

/// Forms in which a leaked canary could appear.
fn leaks(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for needle in [
        CANARY.to_owned(),
        CANARY.to_ascii_lowercase(),
        WOL_CANARY.to_owned(),
        "a7:c3:e9:1f".to_owned(),
        // Basic auth of the canary under the users the simulators have.
        b64(&format!("admin:{CANARY}")),
        b64(&format!("Administrator:{CANARY}")),
        b64(&format!("root:{CANARY}")),
        b64(&format!("nobody:{CANARY}")),
        // The canary's middle, in case it is cut or quoted.
        CANARY[3..14].to_owned(),
    ] {
        if text.contains(&needle) || lower.contains(&needle.to_ascii_lowercase()) {
            found.push(needle);
        }
    }
    found
}

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | (u32::from(c) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// One hwctl run: its arguments, environment and stdin.
#[derive(Clone, Debug)]
struct Run {
    args: Vec<String>,
    trace: bool,
    /// Environment variables set for the run (`HW_<KEY>` secrets).
    env: Vec<(String, String)>,
}

/// The result of a run, for the failure report.
#[derive(Debug)]
struct Ran {
    run: Run,
    code: Option<i32>,
    out: String,
    err: String,
}

fn exec(run: &Run) -> Ran {
    let mut cmd = {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    };
    cmd.args(&run.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("HWCTL_LOG")
        .env_remove("RUST_LOG");
    if run.trace {
        cmd.env("HWCTL_LOG", "trace").env("RUST_LOG", "trace");
    }
    for (k, v) in &run.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    // Every run is bounded: a hang is a failure of its own.
    let deadline = Instant::now() + Duration::from_secs(90);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break Some(-999);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        run: run.clone(),
        code,
        out: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        err: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Runs everything on a few threads; returns every run.
fn run_all(runs: Vec<Run>) -> Vec<Ran> {
    let queue = Arc::new(Mutex::new(runs));
    let done = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                loop {
                    let Some(run) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let ran = exec(&run);
                    done.lock().unwrap().push(ran);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    Arc::try_unwrap(done).unwrap().into_inner().unwrap()
}

/// Every simulator with the canary as its password.
async fn simulators() -> Vec<Box<dyn Simulator>> {
    let mut sims: Vec<Box<dyn Simulator>> = Vec::new();
    sims.push(Box::new(hwctl_wol::sim::WolSim::start().await.unwrap()));
    sims.push(Box::new(
        hwctl_iboot::sim::IbootSim::start(2, "admin", CANARY)
            .await
            .unwrap(),
    ));
    sims.push(Box::new(
        hwctl_ocs::sim::OcsSim::start(hwctl_ocs::sim::OcsSimConfig {
            password: CANARY.into(),
            ..Default::default()
        })
        .await
        .unwrap(),
    ));
    let ipmi = || hwctl_ipmi::sim::IpmiSimConfig {
        users: vec![hwctl_ipmi::sim::SimUser::new("admin", CANARY, 4)],
        ..Default::default()
    };
    sims.push(Box::new(
        hwctl_ipmi::sim::IpmiSim::start(ipmi()).await.unwrap(),
    ));
    sims.push(Box::new(
        hwctl_nodemanager::sim::start_bmc(ipmi()).await.unwrap(),
    ));
    sims.push(Box::new(
        hwctl_oneview::sim::OneviewSim::start(hwctl_oneview::sim::OneviewSimConfig {
            servers: 2,
            password: CANARY.into(),
            task_poll_interval: 0.1,
            ..Default::default()
        })
        .await
        .unwrap(),
    ));
    sims.push(Box::new(
        hwctl_amt::sim::AmtSim::start(hwctl_amt::sim::AmtSimConfig {
            password: CANARY.into(),
            ..Default::default()
        })
        .await
        .unwrap(),
    ));
    sims.push(Box::new(
        hwctl_redfish::sim::RedfishSim::start(hwctl_redfish::sim::RedfishSimConfig {
            password: CANARY.into(),
            ..Default::default()
        })
        .await
        .unwrap(),
    ));
    sims.push(Box::new(
        hwctl_openbmc::sim::OpenbmcSim::start(hwctl_openbmc::sim::OpenbmcSimConfig {
            password: CANARY.into(),
            ..Default::default()
        })
        .await
        .unwrap(),
    ));
    #[cfg(feature = "libvirt")]
    sims.push(Box::new(hwctl_libvirt::sim::LibvirtSim::fleet(2).unwrap()));
    sims
}

/// The first node of `sim` as an Ironic-style node, its secrets set to the canary.
fn node_of(sim: &dyn Simulator) -> Value {
    let ctx = sim.node_context(0);
    let mut info = sim.driver_info(0).as_map().clone();
    match sim.hardware_type() {
        "staging-wol" => {
            info.insert("wol_secureon_password".into(), json!(WOL_CANARY));
        }
        "staging-libvirt" => {
            // SASL is not used by the test driver; the canary still travels.
            info.insert("sasl_username".into(), json!("admin"));
            info.insert("sasl_password".into(), json!(CANARY));
        }
        _ => {}
    }
    for (k, v) in info.iter() {
        if k.contains("password") {
            let v = v.as_str().unwrap();
            assert!(v == CANARY || v == WOL_CANARY, "{k} is not the canary: {v}");
        }
    }
    json!({
        "name": sim.node_name(0),
        "driver": sim.hardware_type(),
        "driver_info": info,
        "ports": ctx.ports.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "capabilities": ctx.capabilities,
    })
}

/// `node` with its user names changed (credentials refused with the canary sent).
fn wrong_user(node: &Value) -> Value {
    let mut n = node.clone();
    for (k, v) in n["driver_info"].as_object_mut().unwrap() {
        if k.ends_with("username") {
            *v = json!("nobody");
        }
    }
    n
}

/// `node` pointed at a port nothing listens on.
fn dead(node: &Value, port: u16) -> Value {
    let mut n = node.clone();
    for (k, v) in n["driver_info"].as_object_mut().unwrap() {
        let s = v.as_str().unwrap_or_default().to_owned();
        if k.ends_with("_port") {
            *v = json!(port.to_string());
        } else if let Some(rest) = s.strip_prefix("http://127.0.0.1:") {
            let path = rest.split_once('/').map_or("", |(_, p)| p);
            *v = json!(format!("http://127.0.0.1:{port}/{path}"));
        }
    }
    n
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// The node commands, each as arguments after the node selection.
fn node_commands() -> Vec<Vec<String>> {
    [
        &["validate"][..],
        &["capabilities"],
        &["power", "status"],
        &["power", "on", "--timeout", "15"],
        &["power", "off", "--timeout", "15"],
        &["power", "reboot", "--timeout", "15"],
        &["power", "soft-off", "--timeout", "2"],
        &["power", "soft-reboot", "--timeout", "2"],
        &["boot", "get"],
        &["boot", "set", "pxe"],
        &["boot", "set", "disk", "--persistent"],
        &["boot", "set", "no-such-device"],
        &["boot", "devices"],
        &["boot-mode", "get"],
        &["boot-mode", "set", "uefi"],
        &["boot-mode", "set", "nonsense"],
        &["sensors"],
        &["nmi"],
        &["vendor", "list"],
        &["vendor", "call", "no_such_method"],
        &["console"],
    ]
    .iter()
    .map(|c| s(c))
    .collect()
}

/// Runs `args` in text, `--json` and trace modes.
fn modes(args: &[String], runs: &mut Vec<Run>) {
    for (json, trace) in [(false, false), (true, false), (false, true)] {
        let mut a = Vec::new();
        if json {
            a.push("--json".to_owned());
        }
        a.extend(args.iter().cloned());
        runs.push(Run {
            args: a,
            trace,
            env: Vec::new(),
        });
    }
}

fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn no_hwctl_command_of_any_driver_ever_prints_the_password() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sims = rt.block_on(simulators());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = vec!["--state-dir".to_owned(), state.to_str().unwrap().to_owned()];
    let port = dead_port();

    let mut runs = Vec::new();
    let mut inventory = Vec::new();
    let mut bad_inventory = Vec::new();
    let mut drivers = Vec::new();
    for sim in &sims {
        let node = node_of(sim.as_ref());
        let driver = node["driver"].as_str().unwrap().to_owned();
        drivers.push(driver.clone());
        let good = write(dir.path(), &format!("{driver}.json"), &node);
        let nobody = write(
            dir.path(),
            &format!("{driver}-nobody.json"),
            &wrong_user(&node),
        );
        let gone = write(
            dir.path(),
            &format!("{driver}-dead.json"),
            &dead(&node, port),
        );
        inventory.push(node.clone());
        bad_inventory.push(wrong_user(&node));
        bad_inventory.push(dead(&node, port));

        // Every command, valid credentials, from the info file.
        for cmd in node_commands() {
            let mut a = state_arg.clone();
            a.extend(s(&["--info-file", &good]));
            a.extend(cmd);
            modes(&a, &mut runs);
        }
        // The same node from flags (--driver, --info, --port, --capability).
        let mut flags = state_arg.clone();
        flags.extend(s(&["--driver", &driver]));
        for (k, v) in node["driver_info"].as_object().unwrap() {
            flags.extend(s(&["--info", &format!("{k}={}", v.as_str().unwrap())]));
        }
        for p in node["ports"].as_array().unwrap() {
            flags.extend(s(&["--port", p.as_str().unwrap()]));
        }
        flags.extend(s(&["--capability", "boot_mode=uefi"]));
        for cmd in [
            &["validate"][..],
            &["power", "status"],
            &["boot", "get"],
            &["sensors"],
        ] {
            let mut a = flags.clone();
            a.extend(s(cmd));
            modes(&a, &mut runs);
        }
        // Refused credentials and a dead endpoint, the canary sent all the same.
        for file in [&nobody, &gone] {
            for cmd in [
                &["power", "status"][..],
                &["power", "on", "--timeout", "5"],
                &["boot", "set", "pxe"],
                &["sensors"],
                &["vendor", "list"],
            ] {
                let mut a = state_arg.clone();
                a.extend(s(&["--info-file", file]));
                a.extend(s(cmd));
                modes(&a, &mut runs);
            }
        }
        // Malformed input around the canary: typos for '=', a secret too long or
        // with a NUL, the secret in a non-string value, the file not a node.
        let pw_keys: Vec<String> = node["driver_info"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.contains("password"))
            .cloned()
            .collect();
        for key in &pw_keys {
            for bad in [
                format!("{key}:{CANARY}"),
                format!("{key} {CANARY}"),
                format!("{key}{CANARY}"),
                format!("{key}\t{CANARY}"),
                format!("={CANARY}"),
                format!(" ={CANARY}"),
                CANARY.to_owned(),
                format!("{key}={CANARY}{CANARY}{CANARY}"),
                format!("{key}={CANARY}\u{1}"),
            ] {
                let mut a = state_arg.clone();
                a.extend(s(&["--driver", &driver, "--info", &bad, "validate"]));
                modes(&a, &mut runs);
                if bad.starts_with(&format!("{key}:")) || bad.starts_with('=') {
                    let mut a = state_arg.clone();
                    a.extend(s(&[
                        "--info-file",
                        &good,
                        "--info",
                        &bad,
                        "power",
                        "status",
                    ]));
                    modes(&a, &mut runs);
                }
            }
            let mut odd = node.clone();
            odd["driver_info"][key] = json!([CANARY]);
            let f = write(dir.path(), &format!("{driver}-array.json"), &odd);
            modes(&s(&["--info-file", &f, "validate"]), &mut runs);
            odd["driver_info"][key] = json!({ "value": CANARY });
            let f = write(dir.path(), &format!("{driver}-object.json"), &odd);
            modes(&s(&["--info-file", &f, "power", "status"]), &mut runs);
        }
        for bad in [
            format!("boot_mode:{CANARY}"),
            format!("={CANARY}"),
            CANARY.to_owned(),
        ] {
            let mut a = state_arg.clone();
            a.extend(s(&["--info-file", &good, "--capability", &bad, "validate"]));
            modes(&a, &mut runs);
        }
        modes(&s(&["properties", &driver]), &mut runs);

        // The secret off argv (issue 15 item 3): from HW_<KEY>, from
        // --password-file, with valid and refused credentials.
        let secret_keys: Vec<(String, String)> = node["driver_info"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.contains("password"))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        if let [(key, value)] = secret_keys.as_slice() {
            let strip = |n: &Value| {
                let mut n = n.clone();
                n["driver_info"].as_object_mut().unwrap().remove(key);
                n
            };
            let bare = write(dir.path(), &format!("{driver}-bare.json"), &strip(&node));
            let bare_nobody = write(
                dir.path(),
                &format!("{driver}-bare-nobody.json"),
                &strip(&wrong_user(&node)),
            );
            let pw_file = dir.path().join(format!("{driver}-password"));
            std::fs::write(&pw_file, format!("{value}\n")).unwrap();
            let env_name = format!("HW_{}", key.to_ascii_uppercase());
            for file in [&bare, &bare_nobody] {
                for cmd in [
                    &["validate"][..],
                    &["power", "status"],
                    &["boot", "get"],
                    &["sensors"],
                ] {
                    let mut a = state_arg.clone();
                    a.extend(s(&["--info-file", file]));
                    a.extend(s(cmd));
                    let mut with_env = Vec::new();
                    modes(&a, &mut with_env);
                    for r in &mut with_env {
                        r.env.push((env_name.clone(), value.clone()));
                    }
                    runs.extend(with_env);
                    let mut b = a.clone();
                    b.splice(0..0, s(&["--password-file", pw_file.to_str().unwrap()]));
                    modes(&b, &mut runs);
                }
            }
        }
    }
    // Files that are not nodes, with the canary inside.
    for (name, text) in [
        (
            "not-a-map.json",
            json!({"driver": "ipmi", "driver_info": CANARY}).to_string(),
        ),
        (
            "not-json.json",
            format!("{{\"driver_info\": {{\"ipmi_password\": \"{CANARY}\""),
        ),
        (
            "ports.json",
            json!({"driver": "ipmi", "driver_info": {"ipmi_password": CANARY}, "ports": CANARY})
                .to_string(),
        ),
        (
            "driver.json",
            json!({"driver": "no-such-driver", "driver_info": {"ipmi_password": CANARY}})
                .to_string(),
        ),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, &text).unwrap();
        let f = f.to_str().unwrap();
        modes(&s(&["--info-file", f, "validate"]), &mut runs);
        modes(
            &s(&["fleet", "--inventory", f, "power", "status"]),
            &mut runs,
        );
    }
    // Fleets: every driver's node, then the refused and dead ones.
    let good_inv = write(dir.path(), "inventory.json", &Value::Array(inventory));
    let bad_inv = write(
        dir.path(),
        "bad-inventory.json",
        &Value::Array(bad_inventory),
    );
    let wrapped = write(
        dir.path(),
        "wrapped.json",
        &json!({"nodes": [{"driver": "ipmi", "driver_info": {"ipmi_password": CANARY, "ipmi_address": "bad host"}}]}),
    );
    for inv in [&good_inv, &bad_inv, &wrapped] {
        for action in ["status", "on", "off", "reboot"] {
            let mut a = state_arg.clone();
            a.extend(s(&[
                "fleet",
                "--inventory",
                inv,
                "--timeout",
                "15",
                "power",
                action,
            ]));
            modes(&a, &mut runs);
        }
    }
    modes(&s(&["drivers"]), &mut runs);

    let total = runs.len();
    let started = Instant::now();
    let ran = run_all(runs);
    assert_eq!(ran.len(), total);
    let mut failures = Vec::new();
    let mut by_code: BTreeMap<Option<i32>, usize> = BTreeMap::new();
    for r in &ran {
        *by_code.entry(r.code).or_default() += 1;
        let found = leaks(&format!("{}\n{}", r.out, r.err));
        if !found.is_empty() {
            failures.push(format!(
                "hwctl {:?}{} (exit {:?}) leaked {found:?}:\n--- stdout\n{}\n--- stderr\n{}",
                r.run.args,
                if r.run.trace {
                    " [HWCTL_LOG=trace]"
                } else {
                    ""
                },
                r.code,
                excerpt(&r.out),
                excerpt(&r.err)
            ));
        }
        // A secret from HW_<KEY> or --password-file really reached the driver.
        let args = r.run.args.join(" ");
        if args.contains("-bare.json")
            && (args.ends_with(" validate")
                || (args.ends_with("power status") && !args.contains("staging-wol")))
            && r.code != Some(0)
        {
            failures.push(format!(
                "hwctl {:?} with env {:?} failed (exit {:?}): {}",
                r.run.args,
                r.run.env.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                r.code,
                excerpt(&r.err)
            ));
        }
        if r.code == Some(-999) {
            failures.push(format!("hwctl {:?} hung (killed after 90 s)", r.run.args));
        }
    }
    // The runs really exercised the drivers: successes, input errors and failures.
    eprintln!(
        "{total} hwctl runs over {} drivers ({drivers:?}) in {:.0?}; exit codes {by_code:?}",
        drivers.len(),
        started.elapsed()
    );
    assert!(
        by_code.get(&Some(0)).copied().unwrap_or(0) > total / 5,
        "{by_code:?}"
    );
    assert!(
        by_code.get(&Some(1)).copied().unwrap_or(0) > 0,
        "{by_code:?}"
    );
    assert!(
        by_code.get(&Some(2)).copied().unwrap_or(0) > 0,
        "{by_code:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} runs failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    drop(sims);
}

/// Lines of `text` around the canary (a trace log is long).
fn excerpt(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !leaks(l).is_empty())
        .take(5)
        .collect();
    if lines.is_empty() {
        text.chars().take(2000).collect()
    } else {
        lines.join("\n")
    }
}

/// The arguments of a running process, as `ps` and every local user see them.
fn cmdline(pid: u32) -> Option<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
}

/// Runs `cmd`, reading its `/proc/PID/cmdline` while it runs; returns the output
/// and every cmdline seen.
fn run_watched(mut cmd: Command) -> (std::process::Output, Vec<String>) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut seen = Vec::new();
    while child.try_wait().unwrap().is_none() {
        if let Some(c) = cmdline(pid) {
            seen.push(c);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (child.wait_with_output().unwrap(), seen)
}

fn hwctl_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    c.env(
        "HWCTL_STATE_DIR",
        std::env::temp_dir().join("hwctl-test-state"),
    )
    .env_remove("HW_PASSWORD_FILE")
    .env_remove("HW_MSFTOCS_PASSWORD");
    c
}

/// Every documented way to give a secret without `--info` (HW_<KEY>, a password
/// file, HW_PASSWORD_FILE) keeps it out of `/proc/PID/cmdline`, read while hwctl
/// runs against a chassis that answers slowly; each run authenticates with it.
#[test]
fn secrets_from_the_environment_or_a_file_never_reach_the_command_line() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(hwctl_ocs::sim::OcsSim::start(
            hwctl_ocs::sim::OcsSimConfig {
                password: CANARY.into(),
                ..Default::default()
            },
        ))
        .unwrap();
    sim.inject(Some(hwctl_sim::CommonFault::Delay(Duration::from_millis(
        300,
    ))))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut info = sim.driver_info(0).as_map().clone();
    info.remove("msftocs_password");
    let node = json!({"name": "blade-1", "driver": "msftocs", "driver_info": info});
    let file = write(dir.path(), "blade.json", &node);
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{CANARY}\n")).unwrap();
    let pw = pw.to_str().unwrap().to_owned();

    let mut ways: Vec<(&str, Command)> = Vec::new();
    let mut c = hwctl_cmd();
    c.env("HW_MSFTOCS_PASSWORD", CANARY);
    c.args(["--info-file", &file, "power", "status"]);
    ways.push(("HW_MSFTOCS_PASSWORD", c));
    let mut c = hwctl_cmd();
    c.args([
        "--password-file",
        &pw,
        "--info-file",
        &file,
        "power",
        "status",
    ]);
    ways.push(("--password-file", c));
    let mut c = hwctl_cmd();
    c.env("HW_PASSWORD_FILE", &pw);
    c.args(["--info-file", &file, "power", "status"]);
    ways.push(("HW_PASSWORD_FILE", c));
    // The flags form of `hwctl sim`'s hints: everything but the secret as --info.
    let mut c = hwctl_cmd();
    c.env("HW_MSFTOCS_PASSWORD", CANARY)
        .args(["--driver", "msftocs"]);
    for (k, v) in &info {
        c.args(["--info", &format!("{k}={}", v.as_str().unwrap())]);
    }
    c.args(["power", "status"]);
    ways.push(("--info flags and HW_MSFTOCS_PASSWORD", c));

    for (way, cmd) in ways {
        let (out, seen) = run_watched(cmd);
        assert!(
            out.status.success(),
            "{way}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("power "),
            "{way}"
        );
        assert!(
            !seen.is_empty(),
            "{way}: the process was never seen running"
        );
        for c in &seen {
            assert!(leaks(c).is_empty(), "{way}: the secret is in argv: {c}");
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(leaks(&text).is_empty(), "{way}: {text}");
    }
    // Without any of them (and no terminal to ask on), the missing secret names
    // the ways to give it.
    let mut c = hwctl_cmd();
    c.args(["--info-file", &file, "validate"]);
    let (out, _) = run_watched(c);
    assert_eq!(out.status.code(), Some(2));
    drop(sim);
}

/// `hwctl sim` prints hints whose command lines carry no password: the secret is
/// exported as HW_<KEY>; the hint, run as printed, works.
#[test]
fn sim_hints_keep_the_password_off_the_command_line() {
    let mut sim = hwctl_cmd()
        .args(["sim", "msftocs"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(sim.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        if n == 0 || line.contains("Ctrl-C") {
            break;
        }
        lines.push(line.trim().to_owned());
    }
    let exports: Vec<(String, String)> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        exports.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["HW_MSFTOCS_PASSWORD"],
        "{lines:?}"
    );
    let commands: Vec<&String> = lines.iter().filter(|l| l.starts_with("hwctl ")).collect();
    assert!(!commands.is_empty(), "{lines:?}");
    for c in &commands {
        assert!(
            !c.contains("password"),
            "a password on the command line: {c}"
        );
    }
    // Run the first hint as printed (its words, the exported variable).
    let words: Vec<&str> = commands[0].split_whitespace().collect();
    let mut cmd = hwctl_cmd();
    cmd.args(&words[1..]);
    for (k, v) in &exports {
        cmd.env(k, v);
    }
    let (out, seen) = run_watched(cmd);
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for c in seen {
        assert!(!c.contains(&exports[0].1), "{c}");
    }
}

/// A required secret missing on a terminal is asked for (echo off) and used; the
/// typed secret is not echoed.
#[test]
fn a_missing_required_secret_is_asked_for_on_a_terminal() {
    let found = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !hwctl_sim::testkit::require_peer("script (util-linux)", found) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(hwctl_ocs::sim::OcsSim::start(
            hwctl_ocs::sim::OcsSimConfig {
                password: CANARY.into(),
                ..Default::default()
            },
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut info = sim.driver_info(1).as_map().clone();
    info.remove("msftocs_password");
    let file = write(
        dir.path(),
        "blade.json",
        &json!({"name": "blade-2", "driver": "msftocs", "driver_info": info}),
    );
    let inner = format!(
        "'{}' --info-file '{file}' power status",
        env!("CARGO_BIN_EXE_hwctl")
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &inner, "/dev/null"])
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .env_remove("HW_MSFTOCS_PASSWORD")
        .env_remove("HW_PASSWORD_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    let mut from = child.stdout.take().unwrap();
    let o = out.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 1024];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            o.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    let text = || String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text().contains("msftocs_password for blade-2: ") {
        assert!(Instant::now() < deadline, "no prompt: {:?}", text());
        std::thread::sleep(Duration::from_millis(20));
    }
    // rpassword writes the prompt and then turns echo off: a key typed in between
    // is echoed by the terminal, as it would be for a person typing ahead. The
    // test types as a person does, after the prompt is up (a CI rehearsal under
    // load typed into that window once and saw the canary echoed).
    std::thread::sleep(Duration::from_millis(500));
    let mut keys = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut keys, format!("{CANARY}\r").as_bytes()).unwrap();
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "hwctl did not end: {:?}", text());
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(keys);
    std::thread::sleep(Duration::from_millis(100));
    let t = text();
    assert!(child.wait().unwrap().success(), "{t:?}");
    assert!(t.contains("power off") || t.contains("power on"), "{t:?}");
    assert!(leaks(&t).is_empty(), "the typed secret was echoed: {t:?}");
    drop(sim);
}
