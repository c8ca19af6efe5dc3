//! The power interface: read a node's power state and drive it to a target.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

use crate::capabilities::PowerCapabilities;
use crate::error::{Error, ErrorKind, Result};
use crate::poll::Check;

mod engine;

pub use engine::{PowerAction, PowerPlan, PowerSwitch, SoftReboot, plan};

/// How long a power change may take to be confirmed when the caller gives no timeout.
///
/// Ironic's `[conductor] power_state_change_timeout` default is 60 seconds.
pub const DEFAULT_POWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A node's power state, as read from the device.
///
/// `Unknown` is honest: a driver never reports `Off` for a state it cannot read.
///
/// ```
/// use hwctl_core::PowerState;
/// let state: PowerState = serde_json::from_str("\"unknown\"").unwrap();
/// assert_eq!(state, PowerState::Unknown);
/// assert_eq!(serde_json::to_string(&PowerState::On).unwrap(), "\"on\"");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerState {
    /// Powered on.
    On,
    /// Powered off.
    Off,
    /// The device reported something that is neither on nor off (transitioning,
    /// paused, decompressing firmware, …), or cannot be read.
    Unknown,
}

impl PowerState {
    /// A stable lower-case name (`on`, `off`, `unknown`).
    ///
    /// ```
    /// use hwctl_core::PowerState;
    /// assert_eq!(PowerState::Off.as_str(), "off");
    /// assert_eq!(PowerState::Unknown.to_string(), "unknown");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::On => "on",
            PowerState::Off => "off",
            PowerState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for PowerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A power state change a caller can ask for.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::time::Duration;
/// use hwctl_core::{Power, PowerState, PowerTarget, fake::FakePower};
/// let power = FakePower::new(PowerState::Off);
/// // Reboot powers on a node that is off; confirmed within 30 s or PowerStateFailure.
/// power.set_power_state(PowerTarget::Reboot, Some(Duration::from_secs(30))).await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerTarget {
    /// Power on (hard).
    On,
    /// Power off (hard).
    Off,
    /// Ask the operating system to shut down (ACPI soft off).
    SoftOff,
    /// Hard reboot; a node that is off is powered on.
    Reboot,
    /// Soft reboot (OS-level); a node that is off is powered on.
    SoftReboot,
}

impl PowerTarget {
    /// Every target, in a stable order.
    pub const ALL: [PowerTarget; 5] = [
        PowerTarget::On,
        PowerTarget::Off,
        PowerTarget::SoftOff,
        PowerTarget::Reboot,
        PowerTarget::SoftReboot,
    ];

    /// The state the node is in once this target has been reached.
    ///
    /// ```
    /// use hwctl_core::{PowerState, PowerTarget};
    /// assert_eq!(PowerTarget::SoftReboot.final_state(), PowerState::On);
    /// assert_eq!(PowerTarget::SoftOff.final_state(), PowerState::Off);
    /// ```
    pub fn final_state(self) -> PowerState {
        match self {
            PowerTarget::On | PowerTarget::Reboot | PowerTarget::SoftReboot => PowerState::On,
            PowerTarget::Off | PowerTarget::SoftOff => PowerState::Off,
        }
    }

    /// Whether this target is a reboot (which is never skipped as "already there").
    ///
    /// ```
    /// use hwctl_core::PowerTarget;
    /// assert!(PowerTarget::SoftReboot.is_reboot());
    /// assert!(!PowerTarget::On.is_reboot());
    /// ```
    pub fn is_reboot(self) -> bool {
        matches!(self, PowerTarget::Reboot | PowerTarget::SoftReboot)
    }

    /// The operation's name in errors and logs, as Ironic words it: `power on`,
    /// `power off`, `soft power off`, `reboot`, `soft reboot`.
    ///
    /// ```
    /// use hwctl_core::PowerTarget;
    /// assert_eq!(PowerTarget::SoftOff.operation(), "soft power off");
    /// let ops: Vec<_> = PowerTarget::ALL.iter().map(|t| t.operation()).collect();
    /// assert_eq!(ops, ["power on", "power off", "soft power off", "reboot", "soft reboot"]);
    /// ```
    pub fn operation(self) -> &'static str {
        match self {
            PowerTarget::On => "power on",
            PowerTarget::Off => "power off",
            PowerTarget::SoftOff => "soft power off",
            PowerTarget::Reboot => "reboot",
            PowerTarget::SoftReboot => "soft reboot",
        }
    }

    /// A stable kebab-case name (`on`, `off`, `soft-off`, `reboot`, `soft-reboot`).
    ///
    /// ```
    /// use hwctl_core::PowerTarget;
    /// assert_eq!(PowerTarget::SoftReboot.as_str(), "soft-reboot");
    /// assert_eq!(PowerTarget::SoftOff.to_string(), "soft-off");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            PowerTarget::On => "on",
            PowerTarget::Off => "off",
            PowerTarget::SoftOff => "soft-off",
            PowerTarget::Reboot => "reboot",
            PowerTarget::SoftReboot => "soft-reboot",
        }
    }
}

impl fmt::Display for PowerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PowerTarget {
    type Err = Error;

    /// Parses `on`, `off`, `soft-off`, `reboot`, `soft-reboot` (and Ironic's
    /// `power on`, `power off`, `rebooting`, `soft power off`, `soft rebooting`).
    fn from_str(s: &str) -> Result<Self> {
        let t = match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "on" | "power on" => PowerTarget::On,
            "off" | "power off" => PowerTarget::Off,
            "soft-off" | "soft power off" => PowerTarget::SoftOff,
            "reboot" | "rebooting" => PowerTarget::Reboot,
            "soft-reboot" | "soft rebooting" => PowerTarget::SoftReboot,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidParameter,
                    format!(
                        "unknown power target {s:?} (expected on, off, soft-off, reboot or soft-reboot)"
                    ),
                ));
            }
        };
        Ok(t)
    }
}

/// Reads and sets a node's power state.
///
/// # Contract
///
/// - **Idempotent targets.** Setting `On` or `Off` on a node already in that state
///   succeeds without touching the device (where the device can be queried).
///   Reboots are never skipped.
/// - **Reboot from off.** `Reboot` and `SoftReboot` on a node that is off power it on.
/// - **Honest state.** [`PowerState::Unknown`] is never reported as `Off`.
/// - **Done means confirmed.** Where the device can be queried
///   ([`PowerCapabilities::can_query`]), `set_power_state` returns `Ok` only once the
///   device reports the target's [`PowerTarget::final_state`], polling within
///   `timeout` (default [`DEFAULT_POWER_TIMEOUT`]); otherwise it fails with
///   [`ErrorKind::PowerStateFailure`] when the command was accepted but the state
///   not confirmed, and with [`ErrorKind::Timeout`] when the device did not answer
///   the first read or the command in time (not retryable for a reboot whose
///   command may have been delivered). Where it cannot be queried, `Ok` means the
///   command was sent.
/// - **Unsupported targets.** A target not in [`PowerCapabilities::targets`] fails
///   with [`ErrorKind::Unsupported`] without touching the device.
/// - **Cancellation.** Dropping the future stops waiting; a command already on the
///   wire may still take effect on the device. No driver resends a reboot on retry.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState, fake::FakePower};
/// let power = FakePower::new(PowerState::Off);
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Power: Send + Sync + fmt::Debug {
    /// What this power interface can do, known before any call.
    ///
    /// ```
    /// use hwctl_core::{Power, PowerState, PowerTarget, fake::FakePower};
    /// let caps = FakePower::new(PowerState::Off).capabilities();
    /// assert!(caps.can_query);
    /// assert!(caps.targets.contains(&PowerTarget::SoftReboot));
    /// ```
    fn capabilities(&self) -> PowerCapabilities;

    /// Reads the current power state from the device (or from the state store for
    /// devices that cannot be queried; see the capabilities).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext, PowerState, fake};
    /// let info = DriverInfo::from_pairs([("fake_power_state", "on")]);
    /// let node = fake::hardware_type().build(&info, &NodeContext::new("n1"))?;
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
    /// let broken = DriverInfo::from_pairs([("fake_fail", "get_power")]);
    /// let node = fake::hardware_type().build(&broken, &NodeContext::new("n2"))?;
    /// let err = node.power()?.get_power_state().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::DeviceFault);
    /// assert_eq!(err.operation(), Some("get power state")); // named by the node's layers
    /// # Ok(()) }
    /// ```
    async fn get_power_state(&self) -> Result<PowerState>;

    /// Drives the node to `target` and confirms it within `timeout` (see the contract).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::time::Duration;
    /// use hwctl_core::{ErrorKind, Power, PowerState, PowerTarget, fake::{FakeConfig, FakePower}};
    /// let power = FakePower::new(PowerState::Off);
    /// power.set_power_state(PowerTarget::SoftReboot, Some(Duration::from_secs(30))).await?;
    /// assert_eq!(power.get_power_state().await?, PowerState::On); // a reboot from off ends on
    /// // A device that does not answer within the timeout: `Timeout`, and no
    /// // change was sent (decision 99; accepted but not confirmed would be
    /// // PowerStateFailure).
    /// let slow = FakePower::with_config(PowerState::Off, FakeConfig { delay: Duration::from_secs(10), ..Default::default() });
    /// let err = slow.set_power_state(PowerTarget::On, Some(Duration::from_millis(20))).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Timeout);
    /// # Ok(()) }
    /// ```
    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()>;
}

/// Conveniences on every [`Power`] implementation.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState, fake::FakePower};
/// let power = FakePower::new(PowerState::Off);
/// power.power_on().await?;
/// power.reboot().await?;
/// power.power_off().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::Off);
/// assert_eq!(power.changes(), 3);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait PowerExt: Power {
    /// `set_power_state(On, None)`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState, fake::FakePower};
    /// let power = FakePower::new(PowerState::Off);
    /// power.power_on().await?;
    /// power.power_on().await?; // already on: nothing to do
    /// assert_eq!((power.get_power_state().await?, power.changes()), (PowerState::On, 1));
    /// # Ok(()) }
    /// ```
    async fn power_on(&self) -> Result<()> {
        self.set_power_state(PowerTarget::On, None).await
    }

    /// `set_power_state(Off, None)`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState, fake::FakePower};
    /// let power = FakePower::new(PowerState::On);
    /// power.power_off().await?;
    /// assert_eq!(power.get_power_state().await?, PowerState::Off);
    /// # Ok(()) }
    /// ```
    async fn power_off(&self) -> Result<()> {
        self.set_power_state(PowerTarget::Off, None).await
    }

    /// `set_power_state(Reboot, None)`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerExt, PowerState, fake::FakePower};
    /// let power = FakePower::new(PowerState::On);
    /// power.reboot().await?;
    /// power.reboot().await?; // never skipped: each reboot acts
    /// assert_eq!((power.get_power_state().await?, power.changes()), (PowerState::On, 2));
    /// # Ok(()) }
    /// ```
    async fn reboot(&self) -> Result<()> {
        self.set_power_state(PowerTarget::Reboot, None).await
    }
}

impl<P: Power + ?Sized> PowerExt for P {}

/// Fails with [`ErrorKind::Unsupported`] when `target` is not among `caps.targets`.
///
/// Drivers call this first in `set_power_state`.
///
/// ```
/// use hwctl_core::{PowerCapabilities, PowerTarget, power::ensure_supported};
/// let caps = PowerCapabilities { can_query: true, targets: vec![PowerTarget::On], recorded_only: vec![] };
/// assert!(ensure_supported(&caps, PowerTarget::On).is_ok());
/// assert_eq!(ensure_supported(&caps, PowerTarget::Off).unwrap_err().kind(),
///            hwctl_core::ErrorKind::Unsupported);
/// ```
///
/// # Errors
///
/// [`ErrorKind::Unsupported`] naming the target.
pub fn ensure_supported(caps: &PowerCapabilities, target: PowerTarget) -> Result<()> {
    if caps.targets.contains(&target) {
        Ok(())
    } else {
        Err(Error::unsupported(format_args!("power target {target}")))
    }
}

/// Polls `read` every `interval` until it returns `want`, or fails with
/// [`ErrorKind::PowerStateFailure`] once `timeout` has passed. Each read is bounded by
/// the time left, so the whole wait never overruns `timeout` (see
/// [`crate::poll::poll_until`], which this is).
///
/// Errors from `read` that are retryable are tolerated while time remains (a BMC may
/// drop a request while it switches); others end the wait at once.
///
/// # Errors
///
/// [`ErrorKind::PowerStateFailure`] when `want` is not seen in time; the first
/// non-retryable error of `read` otherwise.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hwctl_core::{PowerState, power::wait_for_state};
/// let r = wait_for_state(|| async { Ok(PowerState::Off) }, PowerState::On,
///                        Duration::from_millis(30), Duration::from_millis(10)).await;
/// assert_eq!(r.unwrap_err().kind(), hwctl_core::ErrorKind::PowerStateFailure);
/// # }
/// ```
pub async fn wait_for_state<F, Fut>(
    mut read: F,
    want: PowerState,
    timeout: Duration,
    interval: Duration,
) -> Result<()>
where
    F: FnMut() -> Fut + Send,
    Fut: Future<Output = Result<PowerState>> + Send,
{
    let deadline = tokio::time::Instant::now() + timeout;
    crate::poll::poll_until_or(
        deadline,
        crate::poll::Backoff::fixed(interval),
        || {
            let f = read();
            async move {
                Ok(match f.await? {
                    s if s == want => Check::Done(()),
                    s => Check::Pending(format!("the device reports {s}")),
                })
            }
        },
        |seen| {
            Error::new(
                ErrorKind::PowerStateFailure,
                format!(
                    "power state {want} not reached within {:.1}s; {seen}",
                    timeout.as_secs_f64()
                ),
            )
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn parses_ironic_and_kebab_names() {
        assert_eq!("power on".parse::<PowerTarget>().unwrap(), PowerTarget::On);
        assert_eq!(
            "soft_off".parse::<PowerTarget>().unwrap(),
            PowerTarget::SoftOff
        );
        assert_eq!(
            "bogus".parse::<PowerTarget>().unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
        for t in PowerTarget::ALL {
            assert_eq!(t.as_str().parse::<PowerTarget>().unwrap(), t);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_succeeds_when_state_arrives() {
        let n = Arc::new(AtomicU32::new(0));
        let r = wait_for_state(
            || {
                let n = n.clone();
                async move {
                    if n.fetch_add(1, Ordering::SeqCst) >= 2 {
                        Ok(PowerState::On)
                    } else {
                        Ok(PowerState::Off)
                    }
                }
            },
            PowerState::On,
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
        .await;
        assert!(r.is_ok());
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_read_cannot_overrun_the_timeout() {
        let start = tokio::time::Instant::now();
        let r = wait_for_state(
            || async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(PowerState::On)
            },
            PowerState::On,
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::PowerStateFailure);
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_stops_on_a_permanent_error() {
        let r = wait_for_state(
            || async { Err(Error::new(ErrorKind::Unauthenticated, "no")) },
            PowerState::On,
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Unauthenticated);
    }
}
