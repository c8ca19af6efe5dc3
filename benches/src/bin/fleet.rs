//! The fleet bench (issue 16): power-status sweeps over the OCS and IPMI simulators.
//!
//! For every concurrency asked for, it starts fresh simulators in this process,
//! writes an Ironic-style inventory of `--ops` nodes over them and runs `hwctl
//! fleet --inventory … --concurrency C power status` as a child process — the
//! product users run, whatever its engine looks like inside — then reads the
//! simulators' counters (connections opened, peak connections per endpoint,
//! IPMI sessions opened) and the child's peak RSS (`VmHWM` from
//! `/proc/<pid>/status`, polled while it runs). Against the same OCS endpoint and
//! connection count it also runs a bare hyper keep-alive GET loop (this binary's
//! `raw-get` mode, also a child process, so both clients are measured the same
//! way) and, when a Python is given, `benches/python/ocs_sweep.py` (`requests`
//! per node, as Ironic's msftocs driver did). IPMI's Ironic-style reference is
//! `ipmitool` per node when it is installed.
//!
//! Run it through `scripts/bench.sh` (README, "Benchmarks"), or directly:
//!
//! ```text
//! cargo build --release -p hwctl -p hwctl-benches --bin hwctl --bin fleet-bench
//! target/release/fleet-bench --hwctl target/release/hwctl --ops 10000 --concurrency 1,8,48
//! ```
//!
//! The last line of output is one JSON object with every figure (`--json-out FILE`
//! writes it to a file too).
//!
//! OCS runs `--rounds` rounds (default 3) per concurrency, each the fleet sweep
//! then the raw loop, and reports the median of each and the median of the
//! per-round ratios (`fleet_vs_raw`; every round's figures are in the JSON too):
//! under load the raw loop alone swings several times from one run to the next,
//! so a single round's ratio is mostly noise.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Empty};
use hwctl_sim::Simulator;
use serde_json::{Value, json};

/// Power-status sweeps of `hwctl fleet` over the simulators, with their references.
#[derive(Debug, Parser)]
#[command(name = "fleet")]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    /// Operations (inventory entries) per sweep.
    #[arg(long, default_value_t = 10_000)]
    ops: usize,
    /// Concurrencies to sweep at, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,48")]
    concurrency: Vec<usize>,
    /// The hwctl binary to drive.
    #[arg(long, default_value = "target/release/hwctl")]
    hwctl: PathBuf,
    /// Python with `requests` for the Ironic-style OCS sweep (skipped when absent).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Operations of each Python / ipmitool reference sweep (they are slow).
    #[arg(long, default_value_t = 1_000)]
    reference_ops: usize,
    /// Blades in the simulated chassis.
    #[arg(long, default_value_t = 48)]
    blades: u32,
    /// Simulated BMCs the IPMI inventory is spread over.
    #[arg(long, default_value_t = 64)]
    bmcs: usize,
    /// The per-chassis connection limit (`msftocs_max_connections`; hwctl's default is 8).
    #[arg(long, default_value_t = hwctl_ocs::config::DEFAULT_MAX_CONNECTIONS)]
    limit: usize,
    /// Which sweeps: `ocs`, `ipmi` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "ocs,ipmi")]
    protocols: Vec<String>,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// OCS rounds per concurrency: the fleet sweep and the bare keep-alive loop run
    /// alternately this many times; the row gives the median of each and the
    /// median of the per-round ratios (the machine's load swings one run by
    /// several times).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=99))]
    rounds: u32,
    /// Give the simulators and the clients a CPU each: this process (the
    /// simulators) runs on CPU 0 and every client child (hwctl, the bare loop, the
    /// Python and ipmitool references) on CPU 1, through `taskset` (util-linux).
    /// A real chassis manager or BMC has its own processor; unpinned, the client
    /// and the simulator share the machine's cores, so a client's own cost slows
    /// the device it talks to as well. Needs at least 2 CPUs.
    #[arg(long)]
    pin: bool,
}

/// Set once by `--pin`: client children are started under `taskset -c 1`.
static PIN_CLIENTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// A command for a client child: `program` itself, or `taskset -c 1 program` under
/// `--pin` (taskset execs the program, so the child's pid, and its peak RSS, are
/// the program's own).
fn client_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    if PIN_CLIENTS.get().copied().unwrap_or(false) {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "1"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Under `--pin`, moves this process (the simulators; no runtime thread exists yet,
/// and the threads started later inherit it) to CPU 0.
fn pin_simulators() -> Result<(), BoxError> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        return Err(format!("--pin needs 2 CPUs; this machine offers {cpus}").into());
    }
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", "0", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("--pin: cannot run taskset (util-linux): {e}"))?;
    if !status.success() {
        return Err(format!("--pin: taskset failed ({status})").into());
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Internal: a bare hyper keep-alive GET loop (prints one JSON line).
    RawGet {
        /// Full URL to GET.
        #[arg(long)]
        url: String,
        /// Basic-auth user.
        #[arg(long)]
        user: String,
        /// Environment variable holding the basic-auth password.
        #[arg(long, default_value = "HW_BENCH_PASSWORD")]
        password_env: String,
        /// Keep-alive connections, each running GETs back to back.
        #[arg(long)]
        connections: usize,
        /// Total GETs.
        #[arg(long)]
        ops: usize,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let cli = Cli::parse();
    let result = match cli.mode {
        Some(Mode::RawGet {
            ref url,
            ref user,
            ref password_env,
            connections,
            ops,
        }) => raw_get(url, user, password_env, connections, ops),
        None => {
            let pinned = if cli.pin { pin_simulators() } else { Ok(()) };
            pinned.and_then(|()| {
                let _ = PIN_CLIENTS.set(cli.pin);
                sweeps(&cli)
            })
        }
    };
    if let Err(e) = result {
        eprintln!("fleet bench: {e}");
        std::process::exit(1);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---------------------------------------------------------------------------
// raw-get: the bare keep-alive loop.

fn raw_get(
    url: &str,
    user: &str,
    password_env: &str,
    connections: usize,
    ops: usize,
) -> Result<(), BoxError> {
    use base64::Engine;
    let password = std::env::var(password_env)
        .map_err(|_| format!("{password_env} is not set (the basic-auth password)"))?;
    let uri: http::Uri = url.parse()?;
    let authority = uri
        .authority()
        .ok_or("the URL has no host:port")?
        .to_string();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let rt = runtime()?;
    let (elapsed, failed) = rt.block_on(async move {
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections.max(1) {
            let (next, uri, authority, auth) =
                (next.clone(), uri.clone(), authority.clone(), auth.clone());
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(authority.as_str()).await?;
                stream.set_nodelay(true)?;
                let (mut send, conn) = hyper::client::conn::http1::handshake::<
                    _,
                    Empty<bytes::Bytes>,
                >(hyper_util::rt::TokioIo::new(stream))
                .await?;
                tokio::spawn(conn);
                let mut failed = 0usize;
                while next.fetch_add(1, Ordering::Relaxed) < ops {
                    send.ready().await?;
                    let req = http::Request::get(uri.clone())
                        .header(http::header::HOST, authority.as_str())
                        .header(http::header::AUTHORIZATION, auth.as_str())
                        .body(Empty::new())?;
                    let resp = send.send_request(req).await?;
                    let ok = resp.status().is_success();
                    let body = resp.into_body().collect().await?.to_bytes();
                    if !ok || body.is_empty() {
                        failed += 1;
                    }
                }
                Ok::<usize, BoxError>(failed)
            }));
        }
        let mut failed = 0;
        for t in tasks {
            failed += t.await.map_err(|e| -> BoxError { Box::new(e) })??;
        }
        Ok::<_, BoxError>((start.elapsed(), failed))
    })?;
    println!(
        "{}",
        json!({"ops": ops, "failed": failed, "seconds": elapsed.as_secs_f64(),
               "ops_per_s": ops as f64 / elapsed.as_secs_f64()})
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Child processes, timed, with their peak RSS.

struct ChildRun {
    seconds: f64,
    peak_rss_kib: Option<u64>,
    stdout: String,
    stderr: String,
    success: bool,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run_child(cmd: &mut Command) -> Result<ChildRun, BoxError> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let pid = child.id();
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut err = child.stderr.take().ok_or("no stderr")?;
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak = None;
    let status = loop {
        // VmHWM only grows: the last reading before exit is the peak (to within
        // the polling interval).
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = Some(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = start.elapsed().as_secs_f64();
    Ok(ChildRun {
        seconds,
        peak_rss_kib: peak,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
        success: status.success(),
    })
}

fn last_json_line(s: &str) -> Option<Value> {
    s.lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
}

// ---------------------------------------------------------------------------
// Inventories and hwctl.

fn write_inventory(
    dir: &Path,
    name: &str,
    sims: &[&dyn Simulator],
    ops: usize,
) -> Result<PathBuf, BoxError> {
    // Entries are taken round-robin over every node of every simulator, so each
    // endpoint sees an even share of the sweep.
    let nodes: Vec<(usize, usize)> = sims
        .iter()
        .enumerate()
        .flat_map(|(s, sim)| (0..sim.node_count()).map(move |i| (s, i)))
        .collect();
    if nodes.is_empty() {
        return Err("no simulated nodes".into());
    }
    let entries: Vec<Value> = (0..ops)
        .map(|k| {
            let (s, i) = nodes[k % nodes.len()];
            let sim = sims[s];
            json!({
                "name": format!("{name}-{k}"),
                "driver": sim.hardware_type(),
                "driver_info": Value::Object(sim.driver_info(i).as_map().clone()),
            })
        })
        .collect();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec(&entries)?)?;
    Ok(path)
}

struct FleetRun {
    ops_per_s: f64,
    failed: Option<u64>,
    peak_rss_kib: Option<u64>,
    error: Option<String>,
}

fn run_hwctl(
    hwctl: &Path,
    inventory: &Path,
    concurrency: usize,
    ops: usize,
    state_dir: &Path,
) -> Result<FleetRun, BoxError> {
    let run = run_child(
        client_command(hwctl)
            .arg("--json")
            .arg("fleet")
            .arg("--inventory")
            .arg(inventory)
            .arg("--concurrency")
            .arg(concurrency.to_string())
            .args(["power", "status"])
            .env("HWCTL_STATE_DIR", state_dir),
    )?;
    // hwctl prints one JSON document (pretty or not); failed nodes make it exit 1.
    let doc: Option<Value> = serde_json::from_str(&run.stdout).ok();
    let failed = doc.as_ref().and_then(|d| d["failed"].as_u64());
    let error = if doc.is_none() {
        Some(format!(
            "hwctl printed no JSON (exit ok: {}): {}",
            run.success,
            run.stderr.lines().last().unwrap_or("")
        ))
    } else if !run.success {
        let first = doc.as_ref().and_then(|d| {
            d["nodes"]
                .as_array()?
                .iter()
                .find(|n| n["ok"] == false)
                .map(|n| n["error"].to_string())
        });
        first.map(|e| format!("first failure: {e}"))
    } else {
        None
    };
    Ok(FleetRun {
        ops_per_s: ops as f64 / run.seconds,
        failed,
        peak_rss_kib: run.peak_rss_kib,
        error,
    })
}

// ---------------------------------------------------------------------------
// The sweeps.

fn sweeps(cli: &Cli) -> Result<(), BoxError> {
    if !cli.hwctl.exists() {
        return Err(format!(
            "{} not found: build it with `cargo build --release -p hwctl` or pass --hwctl",
            cli.hwctl.display()
        )
        .into());
    }
    for p in &cli.protocols {
        if p != "ocs" && p != "ipmi" {
            return Err(format!("unknown protocol {p:?} (ocs, ipmi)").into());
        }
    }
    let rt = runtime()?;
    let dir = tempdir()?;
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "fleet bench: {} power-status operations per sweep, hwctl {}, commit {commit}",
        cli.ops,
        cli.hwctl.display()
    );
    if cli.pin {
        println!("pinned (--pin): simulators on CPU 0, every client on CPU 1");
    }
    let mut summary =
        json!({"ops": cli.ops, "commit": commit, "pinned": cli.pin, "ocs": [], "ipmi": []});
    if cli.protocols.iter().any(|p| p == "ocs") {
        println!(
            "\nOCS: one {}-blade chassis, limit {} connections; fleet/s, raw/s and ratio are medians of {} alternating rounds (ratio: of the per-round ratios)",
            cli.blades, cli.limit, cli.rounds
        );
        println!(
            "{:>5} {:>10} {:>10} {:>6} {:>10} {:>6} {:>8} {:>6} {:>9} {:>10} {:>8}",
            "conc",
            "fleet/s",
            "raw/s",
            "ratio",
            "python/s",
            "x py",
            "conns",
            "peak",
            "expected",
            "peakRSS",
            "failed"
        );
        for &c in &cli.concurrency {
            let row = ocs_row(cli, &rt, &dir, c)?;
            let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:>5} {:>10.0} {:>10.0} {:>6.2} {:>10.0} {:>6.1} {:>8} {:>6} {:>9} {:>10} {:>8}",
                c,
                f("fleet_ops_per_s"),
                f("raw_ops_per_s"),
                f("fleet_vs_raw"),
                f("python_ops_per_s"),
                f("fleet_vs_python"),
                cell(&row["connections_opened"]),
                cell(&row["peak_connections"]),
                cell(&row["expected_connections"]),
                kib(row["peak_rss_kib"].as_u64()),
                cell(&row["failed"]),
            );
            if let Some(e) = row["error"].as_str() {
                println!("      ! {e}");
            }
            if cli.rounds > 1 {
                let list = |k: &str| {
                    row[k]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|v| format!("{:.2}", v.as_f64().unwrap_or(f64::NAN)))
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default()
                };
                println!("      rounds: ratio {}", list("fleet_vs_raw_rounds"));
            }
            if let Some(e) = row["python_error"].as_str() {
                println!("      ! python: {e}");
            }
            summary["ocs"].as_array_mut().ok_or("summary")?.push(row);
        }
    }
    if cli.protocols.iter().any(|p| p == "ipmi") {
        println!(
            "\nIPMI: {} BMCs (RMCP+, suite 17), {} nodes",
            cli.bmcs, cli.ops
        );
        println!(
            "{:>5} {:>10} {:>12} {:>6} {:>9} {:>9} {:>10} {:>8}",
            "conc", "fleet/s", "ipmitool/s", "x ref", "sessions", "peak/BMC", "peakRSS", "failed"
        );
        for &c in &cli.concurrency {
            let row = ipmi_row(cli, &rt, &dir, c)?;
            let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:>5} {:>10.0} {:>12.1} {:>6.1} {:>9} {:>9} {:>10} {:>8}",
                c,
                f("fleet_ops_per_s"),
                f("ipmitool_ops_per_s"),
                f("fleet_vs_ipmitool"),
                cell(&row["sessions_opened"]),
                cell(&row["peak_sessions_per_bmc"]),
                kib(row["peak_rss_kib"].as_u64()),
                cell(&row["failed"]),
            );
            if let Some(e) = row["error"].as_str() {
                println!("      ! {e}");
            }
            if let Some(e) = row["ipmitool_error"].as_str() {
                println!("      ! ipmitool: {e}");
            }
            summary["ipmi"].as_array_mut().ok_or("summary")?.push(row);
        }
    }
    let line = summary.to_string();
    if let Some(p) = &cli.json_out {
        std::fs::write(p, &line)?;
    }
    println!("{line}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A JSON value as a table cell (`Value`'s `Display` ignores widths).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn kib(v: Option<u64>) -> String {
    v.map(|k| format!("{:.1}MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "?".into())
}

fn tempdir() -> Result<PathBuf, BoxError> {
    let dir = std::env::temp_dir().join(format!("hw-fleet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn start_ocs(
    rt: &tokio::runtime::Runtime,
    blades: u32,
) -> Result<hwctl_ocs::sim::OcsSim, BoxError> {
    Ok(rt.block_on(hwctl_ocs::sim::OcsSim::start(
        hwctl_ocs::sim::OcsSimConfig {
            population: blades,
            ..hwctl_ocs::sim::OcsSimConfig::default()
        },
    ))?)
}

fn ocs_row(
    cli: &Cli,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    c: usize,
) -> Result<Value, BoxError> {
    let conns = c.min(cli.limit).max(1);
    let mut rounds = Vec::new();
    for _ in 0..cli.rounds {
        rounds.push(ocs_round(cli, rt, dir, c, conns)?);
    }
    let med = |f: &dyn Fn(&OcsRound) -> f64| median(rounds.iter().map(f).collect());
    let fleet_ops = med(&|r| r.fleet.ops_per_s);
    let raw_ops = med(&|r| r.raw_ops_per_s);
    let ratio = med(&|r| r.fleet.ops_per_s / r.raw_ops_per_s);
    // Counts are per sweep: the worst round's (a leak in any round shows).
    let stats = |f: &dyn Fn(&OcsRound) -> u64| rounds.iter().map(f).max();
    let failed = rounds
        .iter()
        .map(|r| r.fleet.failed)
        .try_fold(0, |m, f| f.map(|f| m.max(f)));
    let error = rounds.iter().find_map(|r| r.fleet.error.clone());
    // 3. The Ironic-style Python sweep (requests per node), fewer operations.
    let (mut py_ops, mut py_err, mut py_conns) = (None, None, None);
    if let Some(python) = &cli.python {
        let sim = start_ocs(rt, cli.blades)?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/ocs_sweep.py");
        let run = run_child(
            client_command(python)
                .arg(&script)
                .args(["--base-url", &sim.base_url(), "--user", sim.username()])
                .args(["--blades", &cli.blades.to_string()])
                .args(["--ops", &cli.reference_ops.to_string()])
                .args(["--concurrency", &c.to_string()])
                .env("HW_BENCH_PASSWORD", sim.password()),
        )?;
        match last_json_line(&run.stdout) {
            Some(j) if j["ops_per_s"].is_number() => {
                // Failed requests end fast: a run with many would inflate the
                // reference's ops/s. Rejected as an ipmitool run is (over 10 %).
                let failed = j["failed"].as_u64().unwrap_or(0);
                if failed > u64::try_from(cli.reference_ops / 10).unwrap_or(u64::MAX) {
                    py_err = Some(format!(
                        "{failed} of {} Python requests failed",
                        cli.reference_ops
                    ));
                } else {
                    py_ops = j["ops_per_s"].as_f64();
                    py_conns = Some(Simulator::stats(&sim).connections);
                    if let Some(m) = j["missing"].as_str() {
                        py_err = Some(m.to_owned());
                    }
                }
            }
            Some(j) => py_err = j["missing"].as_str().map(str::to_owned),
            None => py_err = Some(run.stderr.lines().last().unwrap_or("no output").to_owned()),
        }
    }
    Ok(json!({
        "concurrency": c,
        "connection_limit": cli.limit,
        "rounds": cli.rounds,
        "summary": "fleet_ops_per_s, raw_ops_per_s: medians over the rounds; fleet_vs_raw: median of the per-round ratios; counts: the largest of any round",
        "fleet_ops_per_s": fleet_ops,
        "raw_ops_per_s": raw_ops,
        "raw_connections": conns,
        "raw_connections_opened": stats(&|r| r.raw_connections_opened),
        "fleet_vs_raw": ratio,
        "fleet_ops_per_s_rounds": rounds.iter().map(|r| r.fleet.ops_per_s).collect::<Vec<_>>(),
        "raw_ops_per_s_rounds": rounds.iter().map(|r| r.raw_ops_per_s).collect::<Vec<_>>(),
        "fleet_vs_raw_rounds": rounds.iter().map(|r| r.fleet.ops_per_s / r.raw_ops_per_s).collect::<Vec<_>>(),
        "python_ops_per_s": py_ops,
        "python_connections_opened": py_conns,
        "fleet_vs_python": py_ops.map(|p| fleet_ops / p),
        "connections_opened": stats(&|r| r.connections_opened),
        "peak_connections": stats(&|r| r.peak_connections),
        "expected_connections": conns,
        "peak_rss_kib": rounds.iter().filter_map(|r| r.fleet.peak_rss_kib).max(),
        "failed": failed,
        "error": error,
        "python_error": py_err,
    }))
}

/// One OCS round: the fleet sweep, then the bare loop on the same connection count.
struct OcsRound {
    fleet: FleetRun,
    connections_opened: u64,
    peak_connections: u64,
    raw_ops_per_s: f64,
    raw_connections_opened: u64,
}

fn ocs_round(
    cli: &Cli,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    c: usize,
    conns: usize,
) -> Result<OcsRound, BoxError> {
    // 1. hwctl fleet, on a fresh chassis so its counters are this sweep's alone.
    let sim = start_ocs(rt, cli.blades)?;
    let inv = write_inventory(dir, "ocs", &[&sim as &dyn Simulator], cli.ops)?;
    let fleet = run_hwctl(&cli.hwctl, &inv, c, cli.ops, dir)?;
    let stats = Simulator::stats(&sim);
    drop(sim);
    // 2. The bare keep-alive loop on the same connection count, right after.
    let sim = start_ocs(rt, cli.blades)?;
    let url = format!("{}/GetBladeState?bladeId=1", sim.base_url());
    let me = std::env::current_exe()?;
    let raw = run_child(
        client_command(&me)
            .args(["raw-get", "--url", &url, "--user", sim.username()])
            .args(["--connections", &conns.to_string()])
            .args(["--ops", &cli.ops.to_string()])
            .env("HW_BENCH_PASSWORD", sim.password()),
    )?;
    let raw_json = last_json_line(&raw.stdout);
    let raw_stats = Simulator::stats(&sim);
    let raw_ops_per_s = raw_json
        .as_ref()
        .and_then(|j| j["ops_per_s"].as_f64())
        .ok_or_else(|| format!("raw-get printed no result: {}", raw.stderr.trim()))?;
    Ok(OcsRound {
        fleet,
        connections_opened: stats.connections,
        peak_connections: stats.peak_connections,
        raw_ops_per_s,
        raw_connections_opened: raw_stats.connections,
    })
}

/// The median (the mean of the middle two for an even count; NaN for none).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ipmi_row(
    cli: &Cli,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    c: usize,
) -> Result<Value, BoxError> {
    let bmcs = rt.block_on(async {
        let mut v = Vec::with_capacity(cli.bmcs);
        for _ in 0..cli.bmcs.max(1) {
            v.push(hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?);
        }
        Ok::<_, hwctl_core::Error>(v)
    })?;
    let sims: Vec<&dyn Simulator> = bmcs.iter().map(|b| b as &dyn Simulator).collect();
    let inv = write_inventory(dir, "ipmi", &sims, cli.ops)?;
    let fleet = run_hwctl(&cli.hwctl, &inv, c, cli.ops, dir)?;
    let stats: Vec<hwctl_sim::SimStats> = bmcs.iter().map(Simulator::stats).collect();
    let sessions: u64 = stats.iter().map(|s| s.sessions_opened).sum();
    let peak = stats.iter().map(|s| s.peak_sessions).max().unwrap_or(0);
    drop(bmcs);
    let (ref_ops, ref_err) = ipmitool_sweep(rt, c, cli.reference_ops.min(cli.ops))?;
    Ok(json!({
        "concurrency": c,
        "bmcs": cli.bmcs,
        "fleet_ops_per_s": fleet.ops_per_s,
        "sessions_opened": sessions,
        "expected_sessions": cli.bmcs,
        "peak_sessions_per_bmc": peak,
        "ipmitool_ops_per_s": ref_ops,
        "fleet_vs_ipmitool": ref_ops.map(|r| fleet.ops_per_s / r),
        "peak_rss_kib": fleet.peak_rss_kib,
        "failed": fleet.failed,
        "error": fleet.error,
        "ipmitool_error": ref_err,
    }))
}

/// Ironic's ipmitool driver: one `ipmitool … power status` process per node, at
/// concurrency `c`, against one simulated BMC per worker.
fn ipmitool_sweep(
    rt: &tokio::runtime::Runtime,
    c: usize,
    ops: usize,
) -> Result<(Option<f64>, Option<String>), BoxError> {
    if Command::new("ipmitool")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        return Ok((
            None,
            Some("missing: ipmitool (install with apt-get install ipmitool)".into()),
        ));
    }
    let workers = c.max(1);
    let bmcs = rt.block_on(async {
        let mut v = Vec::with_capacity(workers);
        for _ in 0..workers {
            v.push(hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?);
        }
        Ok::<_, hwctl_core::Error>(v)
    })?;
    let infos: Vec<_> = bmcs.iter().map(|b| b.driver_info()).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    std::thread::scope(|s| {
        for info in &infos {
            let (next, failed) = (next.clone(), failed.clone());
            s.spawn(move || {
                let get = |k: &str| info.get_str(k).map(|v| v.into_owned()).unwrap_or_default();
                while next.fetch_add(1, Ordering::Relaxed) < ops {
                    let ok = client_command("ipmitool")
                        .args(["-I", "lanplus", "-C", "17", "-H"])
                        .arg(get("ipmi_address"))
                        .args(["-p", &get("ipmi_port"), "-U", &get("ipmi_username"), "-E"])
                        .args(["-N", "1", "-R", "1", "power", "status"])
                        .env("IPMI_PASSWORD", get("ipmi_password"))
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .map(|s| s.success())
                        .unwrap_or(false);
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    drop(bmcs);
    let failed = failed.load(Ordering::Relaxed);
    if failed > ops / 10 {
        return Ok((
            None,
            Some(format!("{failed} of {ops} ipmitool runs failed")),
        ));
    }
    Ok((Some(ops as f64 / secs), None))
}
