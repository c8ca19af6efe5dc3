//! `check_faults` against a toy line-protocol simulator and a hand-built hardware type,
//! with drivers that follow the contract and drivers that break it (so the check is
//! seen to fail).
//!
//! The toy protocol: one request per connection, `<user>:<password> <command>\n` with
//! command `power?` (reply `on` or `off`) or `power on` / `power off` (reply `ok`);
//! wrong credentials get `denied`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::testing::Outcome;
use hwctl_core::{
    DriverInfo, Error, ErrorKind, HardwareType, InterfaceKind, Node, NodeContext, Power,
    PowerCapabilities, PowerState, PowerTarget, Property, Result, async_trait,
};
use hwctl_sim::conformance::check_faults;
use hwctl_sim::simulator::unsupported_fault;
use hwctl_sim::{CommonFault, Counters, FaultPlan, SimStats, Simulator, TaskSet};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------- the simulator

#[derive(Debug)]
struct ToySim {
    addr: SocketAddr,
    counters: Counters,
    faults: FaultPlan,
    refuses: Vec<CommonFault>,
    nodes: usize,
    mode: &'static str,
    _tasks: TaskSet,
}

impl ToySim {
    async fn start(mode: &'static str, refuses: Vec<CommonFault>) -> ToySim {
        let listener = hwctl_sim::bind_tcp(None).await.expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let (counters, faults, tasks) = (Counters::new(), FaultPlan::new(), TaskSet::new());
        let state = Arc::new(Mutex::new(PowerState::Off));
        let (c, f, spawner) = (counters.clone(), faults.clone(), tasks.spawner());
        tasks.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (c, f, state) = (c.clone(), f.clone(), state.clone());
                spawner.spawn(async move {
                    let _open = c.connection();
                    let (r, mut w) = stream.into_split();
                    let Ok(Some(line)) = BufReader::new(r).lines().next_line().await else {
                        return;
                    };
                    c.request();
                    let fault = f.take();
                    if fault.is_some() {
                        c.fault_injected();
                    }
                    let reply: Vec<u8> = match fault {
                        Some(CommonFault::Silence) => {
                            std::future::pending::<()>().await;
                            return;
                        }
                        Some(CommonFault::Garbage) => b"<html>oops</html>\n".to_vec(),
                        Some(CommonFault::Delay(d)) => {
                            tokio::time::sleep(d).await;
                            answer(&line, &state, &c, false)
                        }
                        Some(CommonFault::BadCredentials) => answer(&line, &state, &c, true),
                        _ => answer(&line, &state, &c, false),
                    };
                    let _ = w.write_all(&reply).await;
                });
            }
        });
        ToySim {
            addr,
            counters,
            faults,
            refuses,
            nodes: 1,
            mode,
            _tasks: tasks,
        }
    }
}

fn answer(line: &str, state: &Mutex<PowerState>, c: &Counters, deny: bool) -> Vec<u8> {
    let Some((creds, cmd)) = line.split_once(' ') else {
        return b"error\n".to_vec();
    };
    if deny || creds != "admin:secret" {
        c.failed_login();
        return b"denied\n".to_vec();
    }
    let mut s = state.lock().expect("state lock");
    match cmd {
        "power?" => format!("{}\n", if *s == PowerState::On { "on" } else { "off" }).into_bytes(),
        "power on" => {
            *s = PowerState::On;
            b"ok\n".to_vec()
        }
        "power off" => {
            *s = PowerState::Off;
            b"ok\n".to_vec()
        }
        _ => b"error\n".to_vec(),
    }
}

impl Simulator for ToySim {
    fn hardware_type(&self) -> &str {
        "toy"
    }
    fn describe(&self) -> String {
        format!("toy simulator on {}", self.addr)
    }
    fn node_count(&self) -> usize {
        self.nodes
    }
    fn driver_info(&self, _i: usize) -> DriverInfo {
        DriverInfo::from_pairs([
            ("toy_address", self.addr.to_string()),
            ("toy_username", "admin".into()),
            ("toy_password", "secret".into()),
            ("toy_mode", self.mode.into()),
        ])
    }
    fn stats(&self) -> SimStats {
        self.counters.snapshot()
    }
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        if let Some(f) = fault.filter(|f| self.refuses.contains(f)) {
            return Err(unsupported_fault(self, f));
        }
        self.faults.replace(fault);
        Ok(())
    }
}

// ---------------------------------------------------------------- the driver

#[derive(Debug)]
struct ToyPower {
    addr: SocketAddr,
    creds: String,
    mode: String,
}

fn io_err(e: std::io::Error) -> Error {
    Error::new(ErrorKind::Unreachable, e.to_string())
}

impl ToyPower {
    /// One request, bounded by `limit` (ignored by the broken `ignores_timeout` mode,
    /// which waits up to 30 s).
    async fn call(&self, cmd: &str, limit: Duration) -> Result<String> {
        let limit = if self.mode == "ignores_timeout" {
            Duration::from_secs(30)
        } else {
            limit
        };
        let exchange = async {
            let stream = TcpStream::connect(self.addr).await.map_err(io_err)?;
            let (r, mut w) = stream.into_split();
            w.write_all(format!("{} {cmd}\n", self.creds).as_bytes())
                .await
                .map_err(io_err)?;
            let mut buf = Vec::new();
            BufReader::new(r)
                .read_until(b'\n', &mut buf)
                .await
                .map_err(io_err)?;
            let reply =
                String::from_utf8(buf).map_err(|_| Error::protocol("reply is not UTF-8"))?;
            match reply.trim_end() {
                "denied" => Err(Error::new(ErrorKind::Unauthenticated, "wrong credentials")),
                r @ ("on" | "off" | "ok") => Ok(r.to_owned()),
                other if self.mode == "garbage_as_other" => {
                    Err(Error::new(ErrorKind::Other, format!("odd reply {other:?}")))
                }
                other => Err(Error::protocol(format!("unexpected reply {other:?}"))),
            }
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| Error::new(ErrorKind::Timeout, format!("no reply to {cmd}")))?
    }
}

#[async_trait]
impl Power for ToyPower {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: self.mode != "write_only",
            targets: vec![PowerTarget::On, PowerTarget::Off],
            recorded_only: Vec::new(),
        }
    }

    async fn get_power_state(&self) -> Result<PowerState> {
        match self.call("power?", Duration::from_secs(5)).await?.as_str() {
            "on" => Ok(PowerState::On),
            _ => Ok(PowerState::Off),
        }
    }

    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        let timeout = timeout.unwrap_or(Duration::from_secs(10));
        let cmd = if target == PowerTarget::On {
            "power on"
        } else {
            "power off"
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let run = async {
            self.call(cmd, timeout).await?;
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if self.call("power?", left).await? == "on" {
                    return Ok(());
                }
            }
        };
        if self.mode == "ignores_timeout" {
            return run.await;
        }
        match tokio::time::timeout(timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::PowerStateFailure,
                format!("not {target} within {} ms", timeout.as_millis()),
            )),
        }
    }
}

const PROPS: &[Property] = &[
    Property::required("toy_address", "host:port"),
    Property::required("toy_username", "user"),
    Property::required("toy_password", "password"),
    Property::required(
        "toy_mode",
        "good, ignores_timeout, write_only, garbage_as_other, no_power",
    ),
];

fn toy_type() -> HardwareType {
    HardwareType::new(
        "toy",
        "A toy.",
        [InterfaceKind::Power],
        PROPS.to_vec(),
        |info, ctx| {
            let get = |k: &str| {
                info.get_str(k)
                    .map(|v| v.into_owned())
                    .ok_or_else(|| Error::missing_parameters([k]))
            };
            let addr = get("toy_address")?
                .parse()
                .map_err(|_| Error::invalid_parameter("toy_address", "not host:port"))?;
            let mode = get("toy_mode")?;
            let node = Node::new("toy", ctx.clone());
            if mode == "no_power" {
                return Ok(node);
            }
            Ok(node.with_power(Arc::new(ToyPower {
                addr,
                creds: format!("{}:{}", get("toy_username")?, get("toy_password")?),
                mode,
            })))
        },
    )
}

fn outcomes(report: &hwctl_core::testing::Report) -> Vec<(&str, &Outcome)> {
    report
        .checks
        .iter()
        .map(|c| (c.name.as_str(), &c.outcome))
        .collect()
}

fn skipped(o: &Outcome) -> bool {
    matches!(o, Outcome::Skipped(_))
}

// ---------------------------------------------------------------- the tests

#[tokio::test]
async fn toy_simulator_works_without_faults() {
    let sim = ToySim::start("good", vec![]).await;
    let node = toy_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    assert_eq!(node.id(), "toy-1");
    let power = node.power().unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);
    power
        .set_power_state(PowerTarget::On, Some(TIMEOUT))
        .await
        .unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    let s = sim.stats();
    assert!(s.requests >= 4 && s.connections == s.requests, "{s:?}");
    sim.inject(Some(CommonFault::Delay(Duration::from_millis(100))))
        .unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    assert!(start.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn a_driver_that_follows_the_contract_passes() {
    let sim = ToySim::start("good", vec![]).await;
    let report = check_faults(&sim, &toy_type(), TIMEOUT).await;
    eprintln!("{report}");
    report.assert_passed();
    assert_eq!(report.passed(), 3, "{report}");
    assert_eq!(
        sim.faults.current(),
        None,
        "the fault is cleared after the check"
    );
    let s = sim.stats();
    assert!(s.failed_logins >= 1 && s.faults_injected >= 3, "{s:?}");
}

#[tokio::test]
async fn a_driver_that_ignores_the_timeout_fails_the_silence_check_in_time() {
    let sim = ToySim::start("ignores_timeout", vec![]).await;
    let start = tokio::time::Instant::now();
    let report = check_faults(&sim, &toy_type(), TIMEOUT).await;
    eprintln!("{report}");
    assert!(!report.is_ok());
    let failures = report.failures();
    assert_eq!(failures.len(), 1, "{report}");
    assert!(failures[0].name.contains("silence"), "{report}");
    assert!(
        matches!(&failures[0].outcome, Outcome::Failed(why) if why.contains("still running")),
        "{report}"
    );
    // The check bounds the call itself: it does not wait 30 s for the broken driver.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_driver_that_misreports_garbage_fails_the_garbage_check() {
    let sim = ToySim::start("garbage_as_other", vec![]).await;
    let report = check_faults(&sim, &toy_type(), TIMEOUT).await;
    let failures = report.failures();
    assert_eq!(failures.len(), 1, "{report}");
    assert!(failures[0].name.contains("garbage"), "{report}");
    assert!(
        matches!(&failures[0].outcome, Outcome::Failed(why) if why.contains("expected protocol")),
        "{report}"
    );
}

#[tokio::test]
async fn faults_the_simulator_cannot_inject_are_skipped() {
    let sim = ToySim::start(
        "good",
        vec![CommonFault::BadCredentials, CommonFault::Garbage],
    )
    .await;
    let report = check_faults(&sim, &toy_type(), TIMEOUT).await;
    report.assert_passed();
    let o = outcomes(&report);
    assert_eq!(o.len(), 3, "{report}");
    assert_eq!(o[0].1, &Outcome::Passed, "{report}");
    assert!(skipped(o[1].1) && skipped(o[2].1), "{report}");
}

#[tokio::test]
async fn write_only_and_powerless_nodes_are_skipped() {
    for mode in ["write_only", "no_power"] {
        let sim = ToySim::start(mode, vec![]).await;
        let report = check_faults(&sim, &toy_type(), TIMEOUT).await;
        assert!(report.failures().is_empty(), "{mode}: {report}");
        assert!(
            report.checks.iter().all(|c| skipped(&c.outcome)),
            "{mode}: {report}"
        );
        assert_eq!(report.checks.len(), 3, "{mode}: {report}");
    }
}

#[tokio::test]
async fn a_simulator_without_nodes_or_a_node_that_cannot_be_built_fails() {
    let mut sim = ToySim::start("good", vec![]).await;
    sim.nodes = 0;
    let report = check_faults(&sim, &toy_type(), TIMEOUT).await;
    assert_eq!(report.failures().len(), 1, "{report}");

    let sim = ToySim::start("good", vec![]).await;
    let other = HardwareType::new(
        "other",
        "x",
        [InterfaceKind::Power],
        vec![],
        |_, _: &NodeContext| Err(Error::missing_parameters(["other_address"])),
    );
    let report = check_faults(&sim, &other, TIMEOUT).await;
    assert_eq!(report.failures().len(), 3, "{report}");
}

#[tokio::test]
async fn dropping_the_simulator_stops_it_answering() {
    let sim = ToySim::start("good", vec![]).await;
    let addr = sim.addr;
    let node = toy_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
    drop(sim);
    tokio::task::yield_now().await;
    let err = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err} ({addr})");
}
