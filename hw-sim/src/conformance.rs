//! The fault check every simulator (and the driver it simulates) must pass (feature
//! `testing`).
//!
//! [`check_faults`] injects each [`CommonFault`] into a simulator in turn and checks
//! that the driver reports it the way the contract says:
//!
//! | fault | call on node 0 | expected |
//! |---|---|---|
//! | `Silence` | `set_power_state(On, Some(timeout))` | `PowerStateFailure` or `Timeout`, returned within `timeout` + [`SLACK`] |
//! | `BadCredentials` | `get_power_state()` | `Unauthenticated` |
//! | `Garbage` | `get_power_state()` | `Protocol` |
//!
//! A check is skipped (not failed) when the simulator answers `Unsupported` to the
//! injection, when the node has no power interface, or when its power cannot be
//! queried (a write-only device such as Wake-on-LAN cannot notice silence). Every
//! call is bounded by `timeout` + [`SLACK`], so a driver that hangs fails the check
//! rather than the test run.

use std::future::Future;
use std::time::Duration;

use hwctl_core::testing::{Check, Outcome, Report};
use hwctl_core::{ErrorKind, HardwareType, Node, PowerTarget, Result};
use tokio::time::Instant;

use crate::fault::CommonFault;
use crate::simulator::Simulator;

/// How much later than its timeout a call may return: 1 s.
pub const SLACK: Duration = Duration::from_secs(1);

fn push(report: &mut Report, name: String, outcome: Outcome) {
    report.checks.push(Check { name, outcome });
}

/// Runs `call` bounded by `limit`; `Err(why)` when it did not return in time.
async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = Result<T>>,
) -> std::result::Result<(Result<T>, Duration), String> {
    let start = Instant::now();
    match tokio::time::timeout(limit, call).await {
        Ok(r) => Ok((r, start.elapsed())),
        Err(_) => Err(format!(
            "still running after {} ms (limit {} ms)",
            start.elapsed().as_millis(),
            limit.as_millis()
        )),
    }
}

fn expect_kinds<T: std::fmt::Debug>(r: Result<T>, kinds: &[ErrorKind]) -> Outcome {
    let want = kinds
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    match r {
        Ok(v) => Outcome::Failed(format!("succeeded with {v:?}; expected {want}")),
        Err(e) if kinds.contains(&e.kind()) => Outcome::Passed,
        Err(e) => Outcome::Failed(format!("failed with {} ({e}); expected {want}", e.kind())),
    }
}

/// Builds node 0 and finds why the power checks cannot run on it, if they cannot.
fn build_node(
    sim: &dyn Simulator,
    hardware_type: &HardwareType,
) -> std::result::Result<Node, Outcome> {
    let node = hardware_type
        .build(&sim.driver_info(0), &sim.node_context(0))
        .map_err(|e| Outcome::Failed(format!("building node 0 failed: {e} [{}]", e.kind())))?;
    match node.capabilities().power {
        None => Err(Outcome::Skipped("the node has no power interface".into())),
        Some(caps) if !caps.can_query => Err(Outcome::Skipped(
            "the node's power cannot be queried (write-only device)".into(),
        )),
        Some(_) => Ok(node),
    }
}

async fn check_one(
    sim: &dyn Simulator,
    hardware_type: &HardwareType,
    fault: CommonFault,
    timeout: Duration,
) -> Outcome {
    let node = match build_node(sim, hardware_type) {
        Ok(node) => node,
        Err(outcome) => return outcome,
    };
    let power = match node.power() {
        Ok(p) => p.clone(),
        Err(e) => return Outcome::Skipped(format!("no power interface: {e}")),
    };
    if fault == CommonFault::Silence && !power.capabilities().targets.contains(&PowerTarget::On) {
        return Outcome::Skipped("power target `on` is not supported".into());
    }
    match sim.inject(Some(fault)) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            return Outcome::Skipped(format!("the simulator cannot inject it: {e}"));
        }
        Err(e) => return Outcome::Failed(format!("inject({fault}) failed: {e} [{}]", e.kind())),
    }
    let limit = timeout + SLACK;
    match fault {
        CommonFault::Silence => {
            match bounded(limit, power.set_power_state(PowerTarget::On, Some(timeout))).await {
                Err(why) => Outcome::Failed(format!(
                    "set_power_state(on, {} ms) against a silent device {why}",
                    timeout.as_millis()
                )),
                Ok((_, took)) if took > limit => Outcome::Failed(format!(
                    "set_power_state(on, {} ms) returned after {} ms",
                    timeout.as_millis(),
                    took.as_millis()
                )),
                Ok((r, _)) => expect_kinds(r, &[ErrorKind::PowerStateFailure, ErrorKind::Timeout]),
            }
        }
        CommonFault::BadCredentials | CommonFault::Garbage => {
            let want = if fault == CommonFault::Garbage {
                ErrorKind::Protocol
            } else {
                ErrorKind::Unauthenticated
            };
            match bounded(limit, power.get_power_state()).await {
                Err(why) => Outcome::Failed(format!("get_power_state {why}")),
                Ok((r, _)) => expect_kinds(r, &[want]),
            }
        }
        other => Outcome::Skipped(format!("no check for {other}")),
    }
}

/// Injects each common fault into `sim` and checks what node 0, built with
/// `hardware_type` from [`Simulator::driver_info`]`(0)`, reports (see the module
/// docs for the table). The fault is cleared after each check; a failure to clear
/// it is a failed check of its own.
///
/// `timeout` is the power timeout given to the driver; keep it short (1–3 s), as
/// the silence check waits for it.
///
/// ```no_run
/// # async fn f(sim: &dyn hwctl_sim::Simulator, ht: &hwctl_core::HardwareType) {
/// use std::time::Duration;
/// let report = hwctl_sim::conformance::check_faults(sim, ht, Duration::from_secs(1)).await;
/// report.assert_passed();
/// # }
/// ```
pub async fn check_faults(
    sim: &dyn Simulator,
    hardware_type: &HardwareType,
    timeout: Duration,
) -> Report {
    let mut report = Report::default();
    let ht = hardware_type.name();
    if sim.node_count() == 0 {
        push(
            &mut report,
            format!("{ht}: the simulator serves a node"),
            Outcome::Failed("node_count() is 0".into()),
        );
        return report;
    }
    let checks = [
        (
            CommonFault::Silence,
            "silence: set_power_state(on) fails with power-state-failure or timeout within the timeout",
        ),
        (
            CommonFault::BadCredentials,
            "bad credentials: get_power_state fails with unauthenticated",
        ),
        (
            CommonFault::Garbage,
            "garbage: get_power_state fails with protocol",
        ),
    ];
    for (fault, what) in checks {
        let outcome = check_one(sim, hardware_type, fault, timeout).await;
        tracing::debug!(hardware_type = ht, %fault, ?outcome, "fault check");
        push(&mut report, format!("{ht} fault {what}"), outcome);
        if let Err(e) = sim.inject(None) {
            push(
                &mut report,
                format!("{ht}: clearing the {fault} fault"),
                Outcome::Failed(format!("inject(None) failed: {e} [{}]", e.kind())),
            );
        }
    }
    report
}
