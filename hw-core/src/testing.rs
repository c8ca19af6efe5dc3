//! The conformance suite every driver runs against itself (feature `testing`).
//!
//! The checks are chosen by the node's capabilities: a driver is held to what it
//! says it can do, and must answer `Unsupported` for what it says it cannot.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use hwctl_core::{DriverInfo, NodeContext, fake, testing};
//! let node = fake::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n1")).unwrap();
//! let report = testing::check_node(&node, &testing::Options::default()).await;
//! report.assert_passed();
//! # }
//! ```

pub mod counting_alloc;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::boot_device::{BootDevice, BootMode};
use crate::console::Console;
use crate::driver_info::DriverInfo;
use crate::error::{Error, ErrorKind, Result};
use crate::management::Management;
use crate::node::{Node, NodeContext};
use crate::power::Power;
use crate::power::{PowerState, PowerTarget};
use crate::registry::HardwareType;
use crate::vendor::Vendor;

/// How the suite drives the node.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::time::Duration;
/// use hwctl_core::{DriverInfo, NodeContext, fake, testing::{self, Options, Outcome}};
/// let node = fake::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n1"))?;
/// // Real hardware: more time per power change, no soft targets without an OS.
/// let opts = Options { power_timeout: Duration::from_secs(300), soft_power: false };
/// let report = testing::check_node(&node, &opts).await;
/// assert!(report.is_ok(), "{report}");
/// let skipped = report.checks.iter().filter(|c| c.outcome == Outcome::Skipped("soft power checks disabled".into()));
/// assert_eq!(skipped.count(), 2); // soft off, soft reboot
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Timeout given to every `set_power_state`.
    pub power_timeout: Duration,
    /// Whether to exercise soft power targets (they need a cooperating OS on real
    /// hardware; simulators usually honour them).
    pub soft_power: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            power_timeout: Duration::from_secs(10),
            soft_power: true,
        }
    }
}

/// The outcome of one check.
///
/// ```
/// use hwctl_core::testing::{Check, Outcome, Report};
/// let report = Report { checks: vec![
///     Check { name: "nmi".into(), outcome: Outcome::Skipped("no NMI".into()) },
///     Check { name: "power on".into(), outcome: Outcome::Passed },
/// ] };
/// assert_eq!(report.to_string(), "  skip  nmi: no NMI\n  ok    power on\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The check passed.
    Passed,
    /// The check failed, and why.
    Failed(String),
    /// The check does not apply to this node, and why.
    Skipped(String),
}

/// One named check and its outcome.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{DriverInfo, NodeContext, fake, testing::{self, Outcome}};
/// let node = fake::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n1"))?;
/// let report = testing::check_node(&node, &Default::default()).await;
/// let first = &report.checks[0];
/// assert!(!first.name.is_empty());
/// assert_eq!(first.outcome, Outcome::Passed);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// How it went.
    pub outcome: Outcome,
}

/// The outcome of every check of a run.
///
/// ```
/// use hwctl_core::testing::{Check, Outcome, Report};
/// let check = |name: &str, outcome| Check { name: name.into(), outcome };
/// let report = Report { checks: vec![
///     check("power on", Outcome::Passed),
///     check("power off", Outcome::Passed),
///     check("boot device pxe", Outcome::Failed("reads back disk".into())),
///     check("console", Outcome::Skipped("no console".into())),
/// ] };
/// assert_eq!(report.passed(), 2);
/// assert!(!report.is_ok());
/// print!("{report}"); // one line per check: "  ok    power on", "  FAIL  boot device pxe: …"
/// ```
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    fn record(&mut self, name: impl Into<String>, r: std::result::Result<(), String>) {
        self.checks.push(Check {
            name: name.into(),
            outcome: match r {
                Ok(()) => Outcome::Passed,
                Err(why) => Outcome::Failed(why),
            },
        });
    }

    fn skip(&mut self, name: impl Into<String>, why: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            outcome: Outcome::Skipped(why.into()),
        });
    }

    /// The failed checks.
    ///
    /// ```
    /// use hwctl_core::testing::{Check, Outcome, Report};
    /// let check = |name: &str, outcome| Check { name: name.into(), outcome };
    /// let report = Report { checks: vec![
    ///     check("power on", Outcome::Passed),
    ///     check("power off", Outcome::Passed),
    ///     check("boot device pxe", Outcome::Failed("reads back disk".into())),
    ///     check("console", Outcome::Skipped("no console".into())),
    /// ] };
    /// let failed: Vec<_> = report.failures().iter().map(|c| c.name.as_str()).collect();
    /// assert_eq!(failed, ["boot device pxe"]);
    /// ```
    pub fn failures(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
            .collect()
    }

    /// The checks that passed.
    ///
    /// ```
    /// use hwctl_core::testing::{Check, Outcome, Report};
    /// let check = |name: &str, outcome| Check { name: name.into(), outcome };
    /// let report = Report { checks: vec![
    ///     check("power on", Outcome::Passed),
    ///     check("power off", Outcome::Passed),
    ///     check("boot device pxe", Outcome::Failed("reads back disk".into())),
    ///     check("console", Outcome::Skipped("no console".into())),
    /// ] };
    /// assert_eq!(report.passed(), 2); // the skipped one is not counted
    /// ```
    pub fn passed(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.outcome == Outcome::Passed)
            .count()
    }

    /// Whether no check failed and at least one passed.
    ///
    /// ```
    /// use hwctl_core::testing::{Check, Outcome, Report};
    /// let check = |name: &str, outcome| Check { name: name.into(), outcome };
    /// let report = Report { checks: vec![
    ///     check("power on", Outcome::Passed),
    ///     check("power off", Outcome::Passed),
    ///     check("boot device pxe", Outcome::Failed("reads back disk".into())),
    ///     check("console", Outcome::Skipped("no console".into())),
    /// ] };
    /// assert!(!report.is_ok());
    /// assert!(!Report::default().is_ok()); // nothing passed: not ok either
    /// ```
    pub fn is_ok(&self) -> bool {
        self.failures().is_empty() && self.passed() > 0
    }

    /// Panics with the report unless [`Report::is_ok`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{DriverInfo, NodeContext, fake, testing};
    /// let info = DriverInfo::from_pairs([("fake_power_state", "on")]);
    /// let node = fake::hardware_type().build(&info, &NodeContext::new("n1"))?;
    /// testing::check_node(&node, &Default::default()).await.assert_passed();
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.is_ok(), "conformance failed:\n{self}");
    }

    /// Adds the checks of `other`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{DriverInfo, NodeContext, fake, testing};
    /// let (hw, ctx, info) = (fake::hardware_type(), NodeContext::new("n1"), DriverInfo::new());
    /// let mut report = testing::check_validation(&hw, &info, &ctx);
    /// let before = report.checks.len();
    /// let node = hw.build(&info, &ctx)?;
    /// report.merge(testing::check_node(&node, &Default::default()).await);
    /// assert!(report.checks.len() > before);
    /// report.assert_passed();
    /// # Ok(()) }
    /// ```
    pub fn merge(&mut self, other: Report) {
        self.checks.extend(other.checks);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "  ok    {}", c.name)?,
                Outcome::Failed(why) => writeln!(f, "  FAIL  {}: {why}", c.name)?,
                Outcome::Skipped(why) => writeln!(f, "  skip  {}: {why}", c.name)?,
            }
        }
        Ok(())
    }
}

fn expect_ok<T>(what: &str, r: Result<T>) -> std::result::Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e} [{}]", e.kind()))
}

fn expect_kind<T: fmt::Debug>(
    what: &str,
    r: Result<T>,
    kind: ErrorKind,
) -> std::result::Result<(), String> {
    match r {
        Ok(v) => Err(format!(
            "{what} succeeded with {v:?}; expected a {kind} error"
        )),
        Err(e) if e.kind() == kind => Ok(()),
        Err(e) => Err(format!(
            "{what} failed with {} ({e}); expected {kind}",
            e.kind()
        )),
    }
}

async fn expect_state(node: &Node, want: PowerState) -> std::result::Result<(), String> {
    let power = expect_ok("power interface", raw_power(node))?;
    let got = expect_ok("get_power_state", power.get_power_state().await)?;
    if got == want {
        Ok(())
    } else {
        Err(format!("power state is {got}, expected {want}"))
    }
}

async fn set_and_check(
    node: &Node,
    target: PowerTarget,
    opts: &Options,
    query: bool,
) -> std::result::Result<(), String> {
    let power = expect_ok("power interface", raw_power(node))?;
    expect_ok(
        &format!("set_power_state({target})"),
        power
            .set_power_state(target, Some(opts.power_timeout))
            .await,
    )?;
    if query {
        expect_state(node, target.final_state()).await?;
    }
    Ok(())
}

/// Runs every check that applies to `node`: power round trips, idempotency, reboot
/// from off, boot-device round trips, and `Unsupported` for what it cannot do.
///
/// The node's power state and boot device are changed.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{DriverInfo, NodeContext, fake, testing};
/// // A device whose boot device cannot be set: the suite says so.
/// let info = DriverInfo::from_pairs([("fake_fail", "set_boot")]);
/// let node = fake::hardware_type().build(&info, &NodeContext::new("n1"))?;
/// let report = testing::check_node(&node, &testing::Options::default()).await;
/// assert!(!report.is_ok());
/// assert!(report.failures().iter().any(|c| c.name.contains("boot")), "{report}");
/// # Ok(()) }
/// ```
pub async fn check_node(node: &Node, opts: &Options) -> Report {
    let mut report = Report::default();
    let caps = node.capabilities();

    match &caps.power {
        None => report.record(
            "no power interface answers Unsupported",
            expect_kind(
                "raw_power(node)",
                raw_power(node).map(drop),
                ErrorKind::Unsupported,
            ),
        ),
        Some(pc) => {
            let q = pc.can_query;
            let has = |t: PowerTarget| pc.targets.contains(&t);
            if let Ok(power) = raw_power(node) {
                // Any state may be honest here (a paused VM is Unknown); reading must work.
                let r = expect_ok("get_power_state", power.get_power_state().await).map(drop);
                report.record("power state can be read", r);
            }
            if has(PowerTarget::On) {
                report.record(
                    "power on",
                    set_and_check(node, PowerTarget::On, opts, q).await,
                );
                report.record(
                    "power on again is idempotent",
                    set_and_check(node, PowerTarget::On, opts, q).await,
                );
            }
            if has(PowerTarget::Off) {
                report.record(
                    "power off",
                    set_and_check(node, PowerTarget::Off, opts, q).await,
                );
                report.record(
                    "power off again is idempotent",
                    set_and_check(node, PowerTarget::Off, opts, q).await,
                );
                if has(PowerTarget::Reboot) {
                    report.record(
                        "reboot from off powers on",
                        set_and_check(node, PowerTarget::Reboot, opts, q).await,
                    );
                }
            } else if has(PowerTarget::Reboot) {
                report.record(
                    "reboot",
                    set_and_check(node, PowerTarget::Reboot, opts, q).await,
                );
            }
            if has(PowerTarget::On) && has(PowerTarget::Reboot) {
                report.record(
                    "reboot from on ends on",
                    set_and_check(node, PowerTarget::Reboot, opts, q).await,
                );
            }
            for t in [PowerTarget::SoftOff, PowerTarget::SoftReboot] {
                if has(t) && opts.soft_power {
                    if has(PowerTarget::On) {
                        let _ = set_and_check(node, PowerTarget::On, opts, q).await;
                    }
                    report.record(format!("{t}"), set_and_check(node, t, opts, q).await);
                } else if has(t) {
                    report.skip(format!("{t}"), "soft power checks disabled");
                }
            }
            for t in PowerTarget::ALL.into_iter().filter(|t| !has(*t)) {
                if let Ok(power) = raw_power(node) {
                    report.record(
                        format!("unsupported target {t} answers Unsupported"),
                        expect_kind(
                            &format!("set_power_state({t})"),
                            power.set_power_state(t, Some(opts.power_timeout)).await,
                            ErrorKind::Unsupported,
                        ),
                    );
                }
            }
        }
    }

    match (&caps.management, raw_management(node)) {
        (Some(mc), Ok(mgmt)) => {
            for &dev in &mc.boot_devices {
                for persistent in [false, true] {
                    let name = format!("boot device {dev} (persistent={persistent}) round trip");
                    let r = async {
                        expect_ok(
                            "set_boot_device",
                            mgmt.set_boot_device(dev, persistent).await,
                        )?;
                        if !mc.can_get_boot_device {
                            return Ok(());
                        }
                        let got = expect_ok("get_boot_device", mgmt.get_boot_device().await)?;
                        if got.device != Some(dev) {
                            return Err(format!("read back {:?}, expected {dev}", got.device));
                        }
                        let want_persist = persistent || mc.persistent_only;
                        if got.persistent.is_some_and(|p| p != want_persist) {
                            return Err(format!(
                                "read back persistent={:?}, expected {want_persist}",
                                got.persistent
                            ));
                        }
                        Ok(())
                    }
                    .await;
                    report.record(name, r);
                }
            }
            for dev in BootDevice::ALL
                .into_iter()
                .filter(|d| !mc.boot_devices.contains(d))
            {
                report.record(
                    format!("unsupported boot device {dev} answers Unsupported"),
                    expect_kind(
                        "set_boot_device",
                        mgmt.set_boot_device(dev, false).await,
                        ErrorKind::Unsupported,
                    ),
                );
            }
            if mc.boot_modes.is_empty() {
                report.record(
                    "set_boot_mode answers Unsupported",
                    expect_kind(
                        "set_boot_mode",
                        mgmt.set_boot_mode(BootMode::Uefi).await,
                        ErrorKind::Unsupported,
                    ),
                );
            } else {
                for &mode in &mc.boot_modes {
                    let r = async {
                        expect_ok("set_boot_mode", mgmt.set_boot_mode(mode).await)?;
                        if mc.can_get_boot_mode {
                            let got = expect_ok("get_boot_mode", mgmt.get_boot_mode().await)?;
                            if got != Some(mode) {
                                return Err(format!("read back {got:?}, expected {mode}"));
                            }
                        }
                        Ok(())
                    }
                    .await;
                    report.record(format!("boot mode {mode} round trip"), r);
                }
            }
            if !mc.can_get_boot_mode {
                report.record(
                    "get_boot_mode answers Unsupported",
                    expect_kind(
                        "get_boot_mode",
                        mgmt.get_boot_mode().await,
                        ErrorKind::Unsupported,
                    ),
                );
            }
            if mc.sensors {
                report.record(
                    "sensors can be read",
                    expect_ok("get_sensors", mgmt.get_sensors().await).map(drop),
                );
            } else {
                report.record(
                    "get_sensors answers Unsupported",
                    expect_kind(
                        "get_sensors",
                        mgmt.get_sensors().await,
                        ErrorKind::Unsupported,
                    ),
                );
            }
            if !mc.nmi {
                report.record(
                    "inject_nmi answers Unsupported",
                    expect_kind(
                        "inject_nmi",
                        mgmt.inject_nmi().await,
                        ErrorKind::Unsupported,
                    ),
                );
            }
        }
        (None, r) => report.record(
            "no management interface answers Unsupported",
            expect_kind("raw_management(node)", r.map(drop), ErrorKind::Unsupported),
        ),
        (Some(_), Err(e)) => report.record(
            "management interface",
            Err(format!(
                "capabilities list management but raw_management(node) failed: {e}"
            )),
        ),
    }

    if !caps.console {
        report.record(
            "no console answers Unsupported",
            expect_kind(
                "raw_console(node)",
                raw_console(node).map(drop),
                ErrorKind::Unsupported,
            ),
        );
    }
    if caps.vendor.is_empty() && raw_vendor(node).is_err() {
        report.record(
            "no vendor interface answers Unsupported",
            expect_kind(
                "raw_vendor(node)",
                raw_vendor(node).map(drop),
                ErrorKind::Unsupported,
            ),
        );
    }
    if let Ok(vendor) = raw_vendor(node) {
        report.record(
            "unknown vendor method is an invalid parameter",
            expect_kind(
                "call(\"no-such-method\")",
                vendor
                    .call(
                        "no-such-method",
                        crate::HttpMethod::Get,
                        serde_json::Value::Null,
                    )
                    .await,
                ErrorKind::InvalidParameter,
            ),
        );
    }
    report
}

/// Checks a hardware type's validation: `valid` builds, and the node is within its
/// type's declared capabilities ([`check_capabilities`]); removing each required
/// property gives a missing-parameter error naming it; removing them all names every
/// one in a single error; secrets are not echoed in errors.
///
/// ```
/// use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Property, testing};
/// const PROPS: &[Property] = &[
///     Property::required("demo_address", "Address."),
///     Property::required("demo_password", "Password.").secret(),
/// ];
/// use hwctl_core::{Capabilities, PowerCapabilities, PowerState, TypeCapabilities, fake::FakePower};
/// let hw = HardwareType::new("demo", "A demo.", [InterfaceKind::Power], PROPS.to_vec(), |info, ctx| {
///     let mut v = info.validator(PROPS);
///     let _ = (v.host("demo_address"), v.secret("demo_password"));
///     v.finish()?;
///     Ok(Node::new("demo", ctx.clone()).with_power(std::sync::Arc::new(FakePower::new(PowerState::Off))))
/// })
/// .with_capabilities(TypeCapabilities::new(Capabilities {
///     power: Some(PowerCapabilities { can_query: true, targets: hwctl_core::PowerTarget::ALL.to_vec(),
///         recorded_only: vec![] }),
///     ..Capabilities::default()
/// }));
/// let valid = DriverInfo::from_pairs([("demo_address", "10.0.0.5"), ("demo_password", "pw")]);
/// let report = testing::check_validation(&hw, &valid, &NodeContext::new("n1"));
/// report.assert_passed();
/// ```
pub fn check_validation(hw: &HardwareType, valid: &DriverInfo, ctx: &NodeContext) -> Report {
    let mut report = Report::default();
    match expect_ok("build", hw.build(valid, ctx)) {
        Ok(node) => {
            report.record("valid driver_info builds", Ok(()));
            report.merge(check_capabilities(hw, &node));
        }
        Err(why) => report.record("valid driver_info builds", Err(why)),
    }
    let required: Vec<String> = hw
        .properties()
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name.to_string())
        .collect();
    for name in &required {
        let mut info = valid.clone();
        info.remove(name);
        let r = match hw.build(&info, ctx) {
            Ok(_) => Err(format!("built without required {name}")),
            Err(e) if e.kind() != ErrorKind::MissingParameter => Err(format!(
                "expected missing-parameter, got {} ({e})",
                e.kind()
            )),
            Err(e)
                if !e
                    .problems()
                    .iter()
                    .any(|p| &p.name == name && p.is_missing()) =>
            {
                Err(format!("error does not name {name}: {e}"))
            }
            Err(_) => Ok(()),
        };
        report.record(format!("missing {name} is reported"), r);
    }
    if required.len() > 1 {
        let mut info = valid.clone();
        for name in &required {
            info.remove(name);
        }
        let r = match hw.build(&info, ctx) {
            Ok(_) => Err("built without any required property".to_owned()),
            Err(e) => {
                let missing: Vec<&str> = e
                    .problems()
                    .iter()
                    .filter(|p| p.is_missing())
                    .map(|p| p.name.as_str())
                    .collect();
                let absent: Vec<&String> = required
                    .iter()
                    .filter(|n| !missing.contains(&n.as_str()))
                    .collect();
                if absent.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "one error should name every missing parameter; it lacks {absent:?}: {e}"
                    ))
                }
            }
        };
        report.record("every missing parameter is reported at once", r);
    }
    for secret in hw.properties().iter().filter(|p| p.secret) {
        // A long, odd value: drivers that bound a secret's length reject it, and the
        // rejection must not repeat it.
        let marker = format!("conformance-secret-{}", "x".repeat(300));
        let mut info = valid.clone();
        info.insert(secret.name.to_string(), marker.clone());
        let r = match hw.build(&info, ctx) {
            Err(e)
                if e.to_string().contains(&marker[..24])
                    || format!("{e:?}").contains(&marker[..24]) =>
            {
                Err(format!(
                    "the value of secret {} appears in an error",
                    secret.name
                ))
            }
            _ => Ok(()),
        };
        report.record(format!("secret {} is not echoed", secret.name), r);
    }
    report
}

/// Checks that hardware type `hw` declares what its nodes can do at most
/// ([`HardwareType::with_capabilities`]), that the declaration agrees with its
/// interfaces (power and management declared exactly when the type has them, a
/// console when it has one, vendor methods when it has a vendor interface), and
/// that `node`, a node of it, claims nothing beyond the declaration
/// ([`TypeCapabilities::exceeded_by`](crate::TypeCapabilities::exceeded_by)).
///
/// Run it on every kind of node a driver builds (each `driver_info` that changes
/// the capabilities): a driver that adds a capability without declaring it fails.
/// [`check_validation`] runs it on the node its `valid` driver_info builds.
///
/// ```
/// use hwctl_core::{DriverInfo, HardwareType, NodeContext, fake, testing};
/// let ht = fake::hardware_type();
/// let node = ht.build(&DriverInfo::new(), &NodeContext::new("n1"))?;
/// testing::check_capabilities(&ht, &node).assert_passed();
/// // A type that declares nothing fails: its nodes could claim anything.
/// let bare = HardwareType::new("bare", "No declaration.", [], vec![], |_, ctx| {
///     Ok(hwctl_core::Node::new("bare", ctx.clone()))
/// });
/// let node = bare.build(&DriverInfo::new(), &NodeContext::new("n1"))?;
/// assert!(!testing::check_capabilities(&bare, &node).is_ok());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn check_capabilities(hw: &HardwareType, node: &Node) -> Report {
    use crate::registry::InterfaceKind;
    let mut report = Report::default();
    let Some(declared) = hw.capabilities() else {
        report.record(
            "the hardware type declares its capabilities",
            Err(format!(
                "hardware type {} has no with_capabilities declaration",
                hw.name()
            )),
        );
        return report;
    };
    report.record("the hardware type declares its capabilities", Ok(()));
    let at_most = declared.at_most();
    let has = |k: InterfaceKind| hw.interfaces().contains(&k);
    let mut disagree = Vec::new();
    for (kind, declared) in [
        (InterfaceKind::Power, at_most.power.is_some()),
        (InterfaceKind::Management, at_most.management.is_some()),
        (InterfaceKind::Console, at_most.console),
        (InterfaceKind::Vendor, !at_most.vendor.is_empty()),
    ] {
        if has(kind) != declared {
            disagree.push(format!(
                "{kind}: the type {} the interface, its declaration {}",
                if has(kind) { "has" } else { "lacks" },
                if declared { "declares it" } else { "does not" }
            ));
        }
    }
    report.record(
        "the declaration agrees with the type's interfaces",
        if disagree.is_empty() {
            Ok(())
        } else {
            Err(disagree.join("; "))
        },
    );
    let over = declared.exceeded_by(&node.capabilities());
    report.record(
        "the node is within its type's declared capabilities",
        if over.is_empty() {
            Ok(())
        } else {
            Err(over.join("; "))
        },
    );
    report
}

fn missing(node: &Node, name: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "hardware type {} has no {name} interface",
            node.hardware_type()
        ),
    )
}

macro_rules! raw_getter {
    ($fn:ident, $field:ident, $tr:ident, $name:literal) => {
        /// The interface as the driver gave it (without the node's layers).
        fn $fn(node: &Node) -> Result<&Arc<dyn $tr>> {
            node.raw()
                .$field
                .as_ref()
                .ok_or_else(|| missing(node, $name))
        }
    };
}

raw_getter!(raw_power, power, Power, "power");
raw_getter!(raw_management, management, Management, "management");
raw_getter!(raw_console, console, Console, "console");
raw_getter!(raw_vendor, vendor, Vendor, "vendor");
