//! The power engine: one set-and-confirm loop for every driver.
//!
//! A driver describes its device as a [`PowerSwitch`] — read the state, apply one
//! [`PowerAction`] — and gets [`Power`](super::Power) from the blanket
//! implementation here, which does the rest the same way for every driver:
//!
//! 1. the capability check (an unsupported target never reaches the device);
//! 2. the decision [`plan`]: nothing when already there, power on for a reboot of a
//!    node that is off, no guessing on [`PowerState::Unknown`];
//! 3. **one deadline** (the caller's timeout, default
//!    [`DEFAULT_POWER_TIMEOUT`](super::DEFAULT_POWER_TIMEOUT)) around the first read,
//!    the command and the confirmation, so a device that goes silent costs the
//!    caller's timeout and no more. What an overrun is follows what happened
//!    (`docs/error-kinds.md`):
//!    - no answer to the first read: [`ErrorKind::Timeout`], retryable (no change
//!      was requested);
//!    - no answer to the command (the set): [`ErrorKind::Timeout`]; it may have
//!      reached the device, so for a reboot it is not retryable (a resent reboot
//!      could cycle the node twice), while on, off and soft off are;
//!    - the command was accepted but the state not confirmed:
//!      [`ErrorKind::PowerStateFailure`], not retryable;
//!
//!    a command that fails with its own timeout is judged the same way, unless it
//!    is marked [`Error::was_not_delivered`];
//! 4. errors named with the driver (unless the driver named one) and the
//!    operation (`power on`, …); an operation the driver named (`session log-in`,
//!    `Chassis Control`) moves to the front of the message, as on the read path
//!    ([`Error::in_operation`]): `redfish: power on: session log-in: POST Session:
//!    HTTP 401 …`.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{DEFAULT_POWER_TIMEOUT, Power, PowerState, PowerTarget, ensure_supported};
use crate::capabilities::PowerCapabilities;
use crate::error::{Error, ErrorKind, Result};
use crate::poll::{Backoff, Check, poll_until_or};

/// One command a [`PowerSwitch`] sends to its device.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerAction {
    /// Power on.
    On,
    /// Power off, hard.
    Off,
    /// Ask the operating system to shut down (ACPI).
    SoftOff,
    /// Hard reset or power cycle of a node that is on.
    Reboot,
    /// OS-level restart of a node that is on (only asked of switches whose
    /// [`PowerSwitch::soft_reboot`] is [`SoftReboot::Native`]).
    SoftReboot,
}

impl PowerAction {
    /// The state the node ends in once the action has taken effect.
    pub fn final_state(self) -> PowerState {
        match self {
            PowerAction::On | PowerAction::Reboot | PowerAction::SoftReboot => PowerState::On,
            PowerAction::Off | PowerAction::SoftOff => PowerState::Off,
        }
    }

    /// Whether sending it twice is the same as once (on, off and soft off are; a
    /// reboot is not): retries follow this.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            PowerAction::On | PowerAction::Off | PowerAction::SoftOff
        )
    }
}

impl fmt::Display for PowerAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PowerAction::On => "on",
            PowerAction::Off => "off",
            PowerAction::SoftOff => "soft-off",
            PowerAction::Reboot => "reboot",
            PowerAction::SoftReboot => "soft-reboot",
        })
    }
}

/// How a switch does a soft reboot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftReboot {
    /// The device has its own soft reboot ([`PowerAction::SoftReboot`]).
    Native,
    /// Soft off, confirmed off, then on (IPMI has no soft reboot command).
    OffThenOn,
}

/// What the engine decided for a target, given the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerPlan {
    /// The node is already in the target state: touch nothing.
    AlreadyThere,
    /// Send this action, then confirm its final state.
    Apply(PowerAction),
    /// The state is unknown and the target depends on it (a reboot: power on or
    /// cycle?): the engine asks [`PowerSwitch::resolve_unknown`].
    Ambiguous,
}

/// The pure decision from (target, current state) to the step to take.
///
/// ```
/// use hwctl_core::{PowerState as S, PowerTarget as T};
/// use hwctl_core::power::{PowerAction as A, PowerPlan as P, plan};
/// assert_eq!(plan(T::On, S::On), P::AlreadyThere);
/// assert_eq!(plan(T::On, S::Unknown), P::Apply(A::On));
/// assert_eq!(plan(T::SoftOff, S::On), P::Apply(A::SoftOff));
/// assert_eq!(plan(T::Reboot, S::Off), P::Apply(A::On)); // reboot from off = on
/// assert_eq!(plan(T::Reboot, S::On), P::Apply(A::Reboot)); // never skipped
/// assert_eq!(plan(T::Reboot, S::Unknown), P::Ambiguous);
/// ```
pub fn plan(target: PowerTarget, current: PowerState) -> PowerPlan {
    match (target, current) {
        (PowerTarget::On, PowerState::On) => PowerPlan::AlreadyThere,
        (PowerTarget::Off | PowerTarget::SoftOff, PowerState::Off) => PowerPlan::AlreadyThere,
        (PowerTarget::On, _) => PowerPlan::Apply(PowerAction::On),
        (PowerTarget::Off, _) => PowerPlan::Apply(PowerAction::Off),
        (PowerTarget::SoftOff, _) => PowerPlan::Apply(PowerAction::SoftOff),
        (PowerTarget::Reboot | PowerTarget::SoftReboot, PowerState::Off) => {
            PowerPlan::Apply(PowerAction::On)
        }
        (PowerTarget::Reboot, PowerState::On) => PowerPlan::Apply(PowerAction::Reboot),
        (PowerTarget::SoftReboot, PowerState::On) => PowerPlan::Apply(PowerAction::SoftReboot),
        (PowerTarget::Reboot | PowerTarget::SoftReboot, _) => PowerPlan::Ambiguous,
    }
}

/// A device's power, as little as a driver has to say about it: read the state and
/// apply one action. Every `PowerSwitch` is a [`Power`] (see the module docs for
/// what the engine adds).
///
/// `read` and `apply` need not bound themselves by the caller's timeout: the engine
/// cuts them at its deadline. They should still time out on their own (a read
/// called through [`Power::get_power_state`] has no deadline around it).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Mutex;
/// use hwctl_core::{PowerCapabilities, PowerExt, PowerState, PowerTarget, Power, Result, async_trait};
/// use hwctl_core::power::{PowerAction, PowerSwitch};
///
/// #[derive(Debug)]
/// struct Relay(Mutex<bool>);
///
/// #[async_trait]
/// impl PowerSwitch for Relay {
///     fn driver(&self) -> &str { "my-relay" }
///     fn capabilities(&self) -> PowerCapabilities {
///         PowerCapabilities { can_query: true, targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot], recorded_only: vec![] }
///     }
///     async fn read(&self) -> Result<PowerState> {
///         Ok(if *self.0.lock().unwrap() { PowerState::On } else { PowerState::Off })
///     }
///     async fn apply(&self, action: PowerAction) -> Result<()> {
///         *self.0.lock().unwrap() = action.final_state() == PowerState::On;
///         Ok(())
///     }
/// }
///
/// let relay = Relay(Mutex::new(false));
/// relay.power_on().await?;
/// assert_eq!(relay.get_power_state().await?, PowerState::On);
/// assert!(relay.set_power_state(PowerTarget::SoftOff, None).await.is_err()); // not in its capabilities
/// # Ok(()) }
/// ```
#[async_trait]
pub trait PowerSwitch: Send + Sync + fmt::Debug {
    /// The driver name errors carry (the hardware type, such as `ipmi`).
    fn driver(&self) -> &str;

    /// What the device can do; [`Power::capabilities`] returns this.
    fn capabilities(&self) -> PowerCapabilities;

    /// Reads the power state (for a device that cannot be queried, the recorded
    /// one; see [`PowerCapabilities::can_query`]).
    ///
    /// # Errors
    ///
    /// The driver's errors for a failed read (timeout, unreachable, protocol, …).
    async fn read(&self) -> Result<PowerState>;

    /// Sends `action` to the device (a multi-step device sequence, such as a relay's
    /// off–wait–on, is one action).
    ///
    /// # Errors
    ///
    /// The driver's errors for a failed command (device fault, timeout, …).
    async fn apply(&self, action: PowerAction) -> Result<()>;

    /// How often the state is read while confirming a change (default 1 s).
    fn poll_interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// The read the engine uses while confirming a change (default: [`read`](Self::read)).
    /// A device whose confirmation is counted in single exchanges (iBoot: Ironic's
    /// `_check_power_state`) answers here with one exchange and no retry.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    async fn confirm_read(&self) -> Result<PowerState> {
        self.read().await
    }

    /// The most reads a confirmation may take before it fails with
    /// [`ErrorKind::PowerStateFailure`], even with time left (default `None`: only
    /// the deadline bounds it).
    fn confirm_reads(&self) -> Option<u32> {
        None
    }

    /// How this device does a soft reboot (default [`SoftReboot::Native`]).
    fn soft_reboot(&self) -> SoftReboot {
        SoftReboot::Native
    }

    /// What to do for `target` when the state reads [`PowerState::Unknown`] and the
    /// target depends on it (a reboot). The default refuses to guess:
    /// [`ErrorKind::PowerStateFailure`]. A device whose hard reset works from any
    /// state may return `Ok(PowerAction::Reboot)`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PowerStateFailure`] by default.
    fn resolve_unknown(&self, target: PowerTarget) -> Result<PowerAction> {
        Err(Error::new(
            ErrorKind::PowerStateFailure,
            format!(
                "the power state is unknown (neither on nor off); not choosing between \
                 power on and {target}"
            ),
        ))
    }
}

#[async_trait]
impl<S: PowerSwitch> Power for S {
    fn capabilities(&self) -> PowerCapabilities {
        PowerSwitch::capabilities(self)
    }

    async fn get_power_state(&self) -> Result<PowerState> {
        self.read().await.map_err(|e| {
            let driver = self.driver().to_owned();
            e.or_driver(driver).or_operation("get power state")
        })
    }

    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        let op = target.operation();
        let driver = self.driver().to_owned();
        let caps = PowerSwitch::capabilities(self);
        ensure_supported(&caps, target).map_err(|e| e.in_context(driver.clone(), op))?;
        let timeout = timeout.unwrap_or(DEFAULT_POWER_TIMEOUT);
        let deadline = Instant::now() + timeout;
        let phase = Mutex::new(Phase::Reading);
        tracing::info!(driver = %driver, %target, "setting power state");
        let run = crate::retry::with_named_caller_deadline(
            deadline,
            crate::retry::DeadlineName::timed("the power timeout of ", timeout, ""),
            drive(self, &caps, target, deadline, timeout, &phase),
        );
        let result = match tokio::time::timeout_at(deadline, run).await {
            Ok(r) => r,
            Err(_) => {
                let phase = *phase.lock().unwrap_or_else(|p| p.into_inner());
                Err(phase.overrun(target, timeout))
            }
        };
        result.map_err(|e| e.or_driver(driver).in_operation(op))
    }
}

/// Where the engine was when the caller's deadline passed: it decides the error's
/// kind (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The first read: nothing has been sent that changes the node.
    Reading,
    /// A command (the set) is on its way; the step's name (`sending the command`,
    /// `sending soft off`, `sending power on`). It may or may not have reached the
    /// device.
    Sending(&'static str),
    /// The command was accepted; its state is being confirmed.
    Confirming,
}

impl Phase {
    /// The error for a deadline that passed in this phase.
    fn overrun(self, target: PowerTarget, timeout: Duration) -> Error {
        let secs = seconds_text(timeout);
        match self {
            Phase::Reading => Error::new(
                ErrorKind::Timeout,
                format!(
                    "reading the power state did not finish within {secs}; \
                     no power change was requested"
                ),
            ),
            Phase::Sending(step) => set_failed(
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{step} did not finish within {secs}; \
                         it may have reached the device"
                    ),
                ),
                target,
            ),
            Phase::Confirming => Error::new(
                ErrorKind::PowerStateFailure,
                format!(
                    "power state {} not confirmed within {secs}: the device did not \
                     answer in time (confirming the new state)",
                    target.final_state(),
                ),
            ),
        }
    }
}

/// A timeout as the engine's messages give it: tenths of a second (`0.9s`,
/// `60.0s`), or milliseconds below a tenth (`1 ms`, which `0.0s` hid).
fn seconds_text(d: Duration) -> String {
    if d < Duration::from_millis(100) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// A command (the set) that timed out may have reached the device unless the error
/// says it was not delivered: for a reboot, whose resend could cycle the node
/// twice, it is then not retryable. On, off and soft off stay retryable (sending
/// them again is harmless); other kinds are the driver's to judge.
fn set_failed(e: Error, target: PowerTarget) -> Error {
    if e.kind() == ErrorKind::Timeout
        && target.is_reboot()
        && e.is_retryable()
        && !e.was_not_delivered()
    {
        e.with_retryable(false)
            .with_note("not retryable: the reboot may have been delivered")
    } else {
        e
    }
}

/// Read, decide, apply, confirm: bounded by the caller (`set_power_state`).
async fn drive<S: PowerSwitch + ?Sized>(
    switch: &S,
    caps: &PowerCapabilities,
    target: PowerTarget,
    deadline: Instant,
    timeout: Duration,
    phase: &Mutex<Phase>,
) -> Result<()> {
    let set_phase = |p: Phase| *phase.lock().unwrap_or_else(|e| e.into_inner()) = p;
    let send = |step: &'static str, action: PowerAction| async move {
        // The caller's deadline may pass while the engine is still running (the
        // runtime's timer fires on its next tick): no command starts after it
        // (a zero timeout sent the command, then failed).
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the power timeout of {} passed before {step}; it was not sent",
                    seconds_text(timeout)
                ),
            )
            .not_delivered());
        }
        set_phase(Phase::Sending(step));
        switch
            .apply(action)
            .await
            .map_err(|e| set_failed(e, target))
    };
    if !caps.can_query {
        // Nothing to read or confirm: send the target as it is (Wake-on-LAN's power
        // on always sends, since a recorded state may be stale).
        let action = match target {
            PowerTarget::On => PowerAction::On,
            PowerTarget::Off => PowerAction::Off,
            PowerTarget::SoftOff => PowerAction::SoftOff,
            PowerTarget::Reboot => PowerAction::Reboot,
            PowerTarget::SoftReboot => PowerAction::SoftReboot,
        };
        return send("sending the command", action).await;
    }
    let current = switch.read().await?;
    let action = match plan(target, current) {
        PowerPlan::AlreadyThere => {
            tracing::debug!(%target, "already in the target state; nothing sent");
            return Ok(());
        }
        PowerPlan::Apply(a) => a,
        PowerPlan::Ambiguous => switch.resolve_unknown(target)?,
    };
    let confirm = |want: PowerState| async move {
        set_phase(Phase::Confirming);
        confirm_state(switch, want, deadline, timeout).await
    };
    if action == PowerAction::SoftReboot && switch.soft_reboot() == SoftReboot::OffThenOn {
        send("sending soft off", PowerAction::SoftOff).await?;
        confirm(PowerState::Off).await?;
        send("sending power on", PowerAction::On).await?;
        return confirm(PowerState::On).await;
    }
    send("sending the command", action).await?;
    confirm(action.final_state()).await
}

async fn confirm_state<S: PowerSwitch + ?Sized>(
    switch: &S,
    want: PowerState,
    deadline: Instant,
    timeout: Duration,
) -> Result<()> {
    let max_reads = switch.confirm_reads();
    let reads = std::sync::atomic::AtomicU32::new(0);
    let reads = &reads;
    poll_until_or(
        deadline,
        Backoff::fixed(switch.poll_interval()),
        || async move {
            let n = reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let last = max_reads.is_some_and(|max| n >= max);
            let seen = match switch.confirm_read().await {
                Ok(s) if s == want => return Ok(Check::Done(())),
                Ok(s) => format!("the device reports {s}"),
                Err(e) if e.is_retryable() && last => format!("the last read failed: {e}"),
                Err(e) => return Err(e),
            };
            if last {
                return Err(Error::new(
                    ErrorKind::PowerStateFailure,
                    format!("power state {want} not reached after {n} read(s); {seen}"),
                )
                .with_retryable(false));
            }
            Ok(Check::Pending(seen))
        },
        |seen| {
            Error::new(
                ErrorKind::PowerStateFailure,
                format!(
                    "power state {want} not reached within {}; {seen}",
                    seconds_text(timeout)
                ),
            )
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct Scripted {
        state: Mutex<PowerState>,
        reads: AtomicU32,
        applied: Mutex<Vec<PowerAction>>,
        silent_after_reads: Option<u32>,
        silent_apply: bool,
        soft: SoftReboot,
    }

    impl Scripted {
        fn new(state: PowerState) -> Self {
            Scripted {
                state: Mutex::new(state),
                reads: AtomicU32::new(0),
                applied: Mutex::new(Vec::new()),
                silent_after_reads: None,
                silent_apply: false,
                soft: SoftReboot::Native,
            }
        }
        fn applied(&self) -> Vec<PowerAction> {
            self.applied.lock().unwrap().clone()
        }
    }

    /// What the test switches can do: every target, queried.
    fn every_target() -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }
    }

    #[async_trait]
    impl PowerSwitch for Scripted {
        fn driver(&self) -> &str {
            "scripted"
        }
        fn capabilities(&self) -> PowerCapabilities {
            every_target()
        }
        async fn read(&self) -> Result<PowerState> {
            let n = self.reads.fetch_add(1, Ordering::SeqCst);
            if self.silent_after_reads.is_some_and(|m| n >= m) {
                std::future::pending::<()>().await;
            }
            Ok(*self.state.lock().unwrap())
        }
        async fn apply(&self, action: PowerAction) -> Result<()> {
            if self.silent_apply {
                std::future::pending::<()>().await;
            }
            self.applied.lock().unwrap().push(action);
            *self.state.lock().unwrap() = action.final_state();
            Ok(())
        }
        fn soft_reboot(&self) -> SoftReboot {
            self.soft
        }
    }

    #[tokio::test(start_paused = true)]
    async fn already_there_sends_nothing() {
        let s = Scripted::new(PowerState::On);
        s.set_power_state(PowerTarget::On, None).await.unwrap();
        assert!(s.applied().is_empty());
    }

    /// No command starts once the caller's deadline has passed, even where the
    /// runtime would still run the engine (its timer fires on a later tick): a
    /// zero timeout sent the command, then failed (newcomer trial). The message
    /// gives a timeout under a tenth of a second in milliseconds.
    #[tokio::test(start_paused = true)]
    async fn nothing_is_sent_after_the_deadline() {
        let s = Scripted::new(PowerState::Off);
        let e = s
            .set_power_state(PowerTarget::Reboot, Some(Duration::ZERO))
            .await
            .unwrap_err();
        assert!(s.applied().is_empty(), "{:?}", s.applied());
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.was_not_delivered(), "{e}");
        assert!(
            e.to_string()
                .contains("the power timeout of 0 ms passed before sending the command"),
            "{e}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn soft_reboot_off_then_on() {
        let mut s = Scripted::new(PowerState::On);
        s.soft = SoftReboot::OffThenOn;
        s.set_power_state(PowerTarget::SoftReboot, None)
            .await
            .unwrap();
        assert_eq!(s.applied(), [PowerAction::SoftOff, PowerAction::On]);
    }

    /// A device silent from the first read: nothing was sent, so `Timeout`
    /// (retryable), naming the step; it was `PowerStateFailure`, not retryable.
    #[tokio::test(start_paused = true)]
    async fn a_silent_first_read_is_a_retryable_timeout_within_the_timeout() {
        for target in [PowerTarget::On, PowerTarget::Reboot] {
            let mut s = Scripted::new(PowerState::Off);
            s.silent_after_reads = Some(0);
            let start = Instant::now();
            let e = s
                .set_power_state(target, Some(Duration::from_secs(1)))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            assert!(e.is_retryable(), "{e}");
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            assert_eq!(e.operation(), Some(target.operation()));
            assert_eq!(e.driver(), Some("scripted"));
            assert_eq!(
                e.message(),
                "reading the power state did not finish within 1.0s; \
                 no power change was requested"
            );
            assert!(s.applied().is_empty());
        }
    }

    /// A command that gets no answer may have reached the device: `Timeout`; on is
    /// retryable (resending it is harmless), a reboot is not (it could cycle the
    /// node twice). Both were `PowerStateFailure`, not retryable.
    #[tokio::test(start_paused = true)]
    async fn a_silent_command_is_a_timeout_retryable_unless_a_reboot() {
        for (current, target, retryable) in [
            (PowerState::Off, PowerTarget::On, true),
            (PowerState::On, PowerTarget::Off, true),
            (PowerState::On, PowerTarget::Reboot, false),
            (PowerState::Off, PowerTarget::Reboot, false), // plans power on
        ] {
            let mut s = Scripted::new(current);
            s.silent_apply = true;
            let start = Instant::now();
            let e = s
                .set_power_state(target, Some(Duration::from_secs(2)))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{target}: {e}");
            assert_eq!(e.is_retryable(), retryable, "{target}: {e}");
            assert_eq!(start.elapsed(), Duration::from_secs(2));
            assert!(
                e.message().starts_with(
                    "sending the command did not finish within 2.0s; \
                     it may have reached the device"
                ),
                "{e}"
            );
        }
    }

    /// Accepted but never confirmed (the device keeps answering the old state, or
    /// stops answering after the command): `PowerStateFailure`, as before.
    #[tokio::test(start_paused = true)]
    async fn a_command_accepted_but_not_confirmed_is_a_power_state_failure() {
        let mut silent = Scripted::new(PowerState::Off);
        silent.silent_after_reads = Some(1);
        let e = silent
            .set_power_state(PowerTarget::On, Some(Duration::from_secs(3)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PowerStateFailure, "{e}");
        assert!(!e.is_retryable(), "{e}");
        assert_eq!(silent.applied(), [PowerAction::On]);
        assert!(
            e.message().contains("power state on not"),
            "the message is kept: {e}"
        );
    }

    /// The soft off of an off-then-on soft reboot silent: named as that step, and
    /// not retryable (a soft reboot).
    #[tokio::test(start_paused = true)]
    async fn a_silent_soft_off_step_is_named() {
        let mut s = Scripted::new(PowerState::On);
        s.soft = SoftReboot::OffThenOn;
        s.silent_apply = true;
        let e = s
            .set_power_state(PowerTarget::SoftReboot, Some(Duration::from_secs(1)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(!e.is_retryable(), "{e}");
        assert!(
            e.message()
                .contains("sending soft off did not finish within 1.0s;"),
            "{e}"
        );
    }

    #[derive(Debug)]
    struct TimesOut {
        not_delivered: bool,
    }

    #[async_trait]
    impl PowerSwitch for TimesOut {
        fn driver(&self) -> &str {
            "times-out"
        }
        fn capabilities(&self) -> PowerCapabilities {
            every_target()
        }
        async fn read(&self) -> Result<PowerState> {
            Ok(PowerState::On)
        }
        async fn apply(&self, _: PowerAction) -> Result<()> {
            let e = Error::new(ErrorKind::Timeout, "no reply to the reset");
            Err(if self.not_delivered {
                e.not_delivered()
            } else {
                e
            })
        }
    }

    /// A command that fails with its own timeout: a reboot is retryable only when
    /// the error says it never reached the device; power off stays retryable.
    #[tokio::test(start_paused = true)]
    async fn a_timed_out_command_is_retryable_if_harmless_or_not_delivered() {
        for (not_delivered, target, retryable) in [
            (false, PowerTarget::Reboot, false),
            (true, PowerTarget::Reboot, true),
            (false, PowerTarget::Off, true),
        ] {
            let s = TimesOut { not_delivered };
            let e = s.set_power_state(target, None).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            assert_eq!(e.is_retryable(), retryable, "{target} {not_delivered}: {e}");
            assert!(e.message().starts_with("no reply to the reset"), "{e}");
        }
    }

    /// A switch whose every call fails with an error that names its own
    /// operation (and, for `apply`, its own driver), as real drivers do.
    #[derive(Debug)]
    struct FailsNamed {
        read_fails: bool,
    }

    #[async_trait]
    impl PowerSwitch for FailsNamed {
        fn driver(&self) -> &str {
            "fails-named"
        }
        fn capabilities(&self) -> PowerCapabilities {
            every_target()
        }
        async fn read(&self) -> Result<PowerState> {
            if self.read_fails {
                return Err(Error::new(ErrorKind::Unauthenticated, "HTTP 401")
                    .with_operation("session log-in"));
            }
            Ok(PowerState::Off)
        }
        async fn apply(&self, _: PowerAction) -> Result<()> {
            Err(Error::new(ErrorKind::DeviceFault, "completion code 0xc1")
                .with_driver("ipmi")
                .with_operation("Chassis Control"))
        }
    }

    /// Newcomer report: the engine replaced the operation a driver named on its
    /// error (`session log-in`, `Chassis Control`) with its own, so `power on`
    /// lost where it failed while `power status` kept it. It moves to the front of
    /// the message now, as on the read path; a driver the error names is kept.
    #[tokio::test(start_paused = true)]
    async fn the_drivers_operation_is_kept_in_the_message() {
        let e = FailsNamed { read_fails: false }
            .set_power_state(PowerTarget::On, None)
            .await
            .unwrap_err();
        assert_eq!(e.operation(), Some("power on"));
        assert_eq!(e.driver(), Some("ipmi"));
        assert_eq!(e.kind(), ErrorKind::DeviceFault);
        assert_eq!(
            e.to_string(),
            "ipmi: power on: Chassis Control: completion code 0xc1"
        );
        let e = FailsNamed { read_fails: true }
            .set_power_state(PowerTarget::Reboot, None)
            .await
            .unwrap_err();
        assert_eq!(e.operation(), Some("reboot"));
        assert_eq!(
            e.to_string(),
            "fails-named: reboot: session log-in: HTTP 401"
        );
        // The read path, put in a node's context, reads alike.
        let e = FailsNamed { read_fails: true }
            .get_power_state()
            .await
            .unwrap_err()
            .in_context("fails-named", "get power state");
        assert_eq!(
            e.to_string(),
            "fails-named: get power state: session log-in: HTTP 401"
        );
    }

    #[derive(Debug)]
    struct Stuck {
        reads: AtomicU32,
    }

    #[async_trait]
    impl PowerSwitch for Stuck {
        fn driver(&self) -> &str {
            "stuck"
        }
        fn capabilities(&self) -> PowerCapabilities {
            PowerCapabilities {
                can_query: true,
                targets: vec![PowerTarget::On],
                recorded_only: Vec::new(),
            }
        }
        async fn read(&self) -> Result<PowerState> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(PowerState::Off)
        }
        async fn apply(&self, _: PowerAction) -> Result<()> {
            Ok(())
        }
        fn confirm_reads(&self) -> Option<u32> {
            Some(3)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_bounded_confirmation_fails_after_its_reads() {
        let s = Stuck {
            reads: AtomicU32::new(0),
        };
        let start = Instant::now();
        let e = s.set_power_state(PowerTarget::On, None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PowerStateFailure);
        assert!(e.message().contains("after 3 read(s)"), "{e}");
        // One read before the command, three to confirm, 1 s apart.
        assert_eq!(s.reads.load(Ordering::SeqCst), 4);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reboot_of_an_unknown_state_is_refused_before_sending() {
        let s = Scripted::new(PowerState::Unknown);
        let e = s
            .set_power_state(PowerTarget::Reboot, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PowerStateFailure);
        assert!(s.applied().is_empty());
    }
}
