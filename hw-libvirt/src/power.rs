//! The power interface: [`LibvirtPower`] reads the domain state (mapped honestly)
//! and applies create / destroy / shutdown / reboot; hwctl-core's power engine does the
//! rest.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::{
    Error, ErrorKind, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use virt::domain::{Domain, DomainState};

use crate::NAME;
use crate::client::DomainRef;
use crate::config::LibvirtConfig;
use crate::errors::map_err;

/// A domain's state as libvirt reports it (`virDomainState`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VmState {
    /// No state (libvirt could not tell).
    NoState,
    /// Running.
    Running,
    /// Blocked on a resource (still running).
    Blocked,
    /// Paused by the user or by libvirt: powered, but not executing.
    Paused,
    /// Being shut down.
    ShuttingDown,
    /// Shut off.
    ShutOff,
    /// Crashed.
    Crashed,
    /// Suspended by guest power management (S3/S4).
    PmSuspended,
    /// A state this build of the bindings does not know.
    Other(u32),
}

impl VmState {
    /// Our power state: running, blocked and shutting down are on; shut off is off;
    /// paused, crashed, PM-suspended and unknown states are [`PowerState::Unknown`]
    /// (a paused domain is not "off").
    ///
    /// ```
    /// use hwctl_core::PowerState;
    /// use hwctl_libvirt::VmState;
    /// assert_eq!(VmState::Running.power_state(), PowerState::On);
    /// assert_eq!(VmState::ShutOff.power_state(), PowerState::Off);
    /// assert_eq!(VmState::Paused.power_state(), PowerState::Unknown);
    /// ```
    pub fn power_state(self) -> PowerState {
        match self {
            VmState::Running | VmState::Blocked | VmState::ShuttingDown => PowerState::On,
            VmState::ShutOff => PowerState::Off,
            VmState::NoState
            | VmState::Paused
            | VmState::Crashed
            | VmState::PmSuspended
            | VmState::Other(_) => PowerState::Unknown,
        }
    }

    fn from_virt(state: virt::domain::DomainStateEnum) -> Self {
        match state.known() {
            Some(DomainState::NoState) => VmState::NoState,
            Some(DomainState::Running) => VmState::Running,
            Some(DomainState::Blocked) => VmState::Blocked,
            Some(DomainState::Paused) => VmState::Paused,
            Some(DomainState::Shutdown) => VmState::ShuttingDown,
            Some(DomainState::Shutoff) => VmState::ShutOff,
            Some(DomainState::Crashed) => VmState::Crashed,
            Some(DomainState::PMSuspended) => VmState::PmSuspended,
            None => VmState::Other(state.to_raw()),
        }
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmState::NoState => f.write_str("no state"),
            VmState::Running => f.write_str("running"),
            VmState::Blocked => f.write_str("blocked"),
            VmState::Paused => f.write_str("paused"),
            VmState::ShuttingDown => f.write_str("in shutdown"),
            VmState::ShutOff => f.write_str("shut off"),
            VmState::Crashed => f.write_str("crashed"),
            VmState::PmSuspended => f.write_str("pmsuspended"),
            VmState::Other(n) => write!(f, "state {n}"),
        }
    }
}

pub(crate) fn read_state(dom: &Domain) -> Result<VmState> {
    let info = dom.info().map_err(|e| map_err("get domain state", e))?;
    Ok(VmState::from_virt(info.state))
}

/// The libvirt call that carries out one engine action, decided from the domain's
/// state at the time of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Nothing,
    Create,
    Destroy,
    DestroyThenCreate,
    Shutdown,
    Reboot,
    Resume,
    Wakeup,
}

fn needs_running_guest(what: &str, state: VmState) -> Error {
    Error::new(
        ErrorKind::PowerStateFailure,
        format!("a {what} needs a running guest; the domain is {state}"),
    )
}

/// The libvirt step for `action` from `state` (read in the same blocking call, so the
/// step fits the domain as it is, not as it was when the engine read it).
fn step(action: PowerAction, state: VmState) -> Result<Step> {
    use VmState as S;
    let on = matches!(state, S::Running | S::Blocked | S::ShuttingDown);
    Ok(match action {
        PowerAction::On => match state {
            _ if on => Step::Nothing,
            S::Paused => Step::Resume,
            S::PmSuspended => Step::Wakeup,
            S::Crashed => Step::DestroyThenCreate,
            _ => Step::Create,
        },
        PowerAction::Off => match state {
            S::ShutOff => Step::Nothing,
            _ => Step::Destroy,
        },
        PowerAction::SoftOff => match state {
            S::ShutOff => Step::Nothing,
            _ if on => Step::Shutdown,
            S::PmSuspended => Step::Shutdown,
            other => return Err(needs_running_guest("soft power off", other)),
        },
        PowerAction::Reboot => match state {
            S::ShutOff => Step::Create,
            _ => Step::DestroyThenCreate,
        },
        PowerAction::SoftReboot => match state {
            S::ShutOff => Step::Create,
            _ if on => Step::Reboot,
            other => return Err(needs_running_guest("soft reboot", other)),
        },
        other => return Err(Error::unsupported(format_args!("power action {other}"))),
    })
}

fn act(dom: &Domain, step: Step) -> Result<()> {
    match step {
        Step::Nothing => Ok(()),
        Step::Create => dom.create().map_err(|e| map_err("create domain", e)),
        Step::Destroy => dom.destroy().map_err(|e| map_err("destroy domain", e)),
        Step::DestroyThenCreate => {
            match dom.destroy() {
                Ok(()) => {}
                // Already not running (raced with a guest shutdown): fine.
                Err(_) if read_state(dom)? == VmState::ShutOff => {}
                Err(e) => return Err(map_err("destroy domain", e)),
            }
            dom.create().map_err(|e| map_err("create domain", e))
        }
        Step::Shutdown => dom.shutdown().map_err(|e| map_err("shut down domain", e)),
        Step::Reboot => dom.reboot(0).map_err(|e| map_err("reboot domain", e)),
        Step::Resume => dom.resume().map_err(|e| map_err("resume domain", e)),
        Step::Wakeup => dom.pm_wakeup(0).map_err(|e| map_err("wake up domain", e)),
    }
}

/// Power for one libvirt domain, a [`PowerSwitch`]: hwctl-core's engine does the
/// capability check, the decision, and the confirmation within one deadline.
///
/// - **Read**: `virDomainGetInfo`, mapped by [`VmState::power_state`] (paused,
///   crashed, PM-suspended → [`PowerState::Unknown`]).
/// - **Apply**, decided from the domain's state in the same blocking call: on =
///   `virDomainCreate` (a paused domain is resumed, a PM-suspended one woken, a
///   crashed one destroyed and created); off = `virDomainDestroy` (hard); soft off =
///   `virDomainShutdown` (never escalated to a hard off; a paused or crashed guest
///   cannot take it: [`ErrorKind::PowerStateFailure`]); reboot = destroy then create;
///   soft reboot = `virDomainReboot` (a running guest only). A domain that is off is
///   powered on by either reboot (the engine's rule).
/// - **Unknown state** ([`PowerSwitch::resolve_unknown`]): a *reboot* of a paused,
///   crashed or PM-suspended domain is done as before the engine, destroy then
///   create, since that works from any state; a *soft reboot* needs a running guest
///   and fails with [`ErrorKind::PowerStateFailure`] without touching the domain.
/// - Idempotent actions (on, off, soft off) are retried once on a fresh connection
///   after a connection-level failure; a reboot is resent only when the connection
///   could not even be opened.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState};
/// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtPower};
/// // libvirt's built-in test driver has one running domain called "test".
/// let config = LibvirtConfig::new("test:///default", DomainSelector::Name("test".into()))?;
/// let power = LibvirtPower::new(config);
/// power.power_off().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::Off);
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LibvirtPower {
    domain: Arc<DomainRef>,
    /// The state of the last read, for the engine's questions about an unknown state.
    last: Arc<Mutex<Option<VmState>>>,
}

impl LibvirtPower {
    /// Power for the domain `config` selects, through its endpoint's shared
    /// [`LibvirtClient`](crate::LibvirtClient).
    pub fn new(config: LibvirtConfig) -> Self {
        LibvirtPower::from_ref(Arc::new(DomainRef::new(config)))
    }

    pub(crate) fn from_ref(domain: Arc<DomainRef>) -> Self {
        LibvirtPower {
            domain,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// The domain's state as libvirt reports it, with more detail than
    /// [`Power::get_power_state`](hwctl_core::Power::get_power_state).
    ///
    /// # Errors
    ///
    /// `NotFound` (no such domain), `Unreachable`, `Unauthenticated`,
    /// `InvalidParameter` (a node file that does not load, MACs on two domains),
    /// `Timeout` (the per-call timeout), `Other`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtPower, VmState};
    /// let sim = hwctl_libvirt::sim::LibvirtSim::fleet(2)?; // vm-000 running, vm-001 shut off
    /// let config = LibvirtConfig::new(sim.uri(), DomainSelector::Name("vm-001".into()))?;
    /// assert_eq!(LibvirtPower::new(config).domain_state().await?, VmState::ShutOff);
    /// let config = LibvirtConfig::new(sim.uri(), DomainSelector::Name("nope".into()))?;
    /// let err = LibvirtPower::new(config).domain_state().await.unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::NotFound);
    /// # Ok(()) }
    /// ```
    pub async fn domain_state(&self) -> Result<VmState> {
        let state = self
            .domain
            .with_domain("get power state", true, |_, dom| read_state(dom))
            .await?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(state);
        Ok(state)
    }
}

#[async_trait]
impl PowerSwitch for LibvirtPower {
    fn driver(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }
    }

    async fn read(&self) -> Result<PowerState> {
        Ok(self.domain_state().await?.power_state())
    }

    #[tracing::instrument(level = "debug", skip(self), fields(domain = %self.domain.config().domain()))]
    async fn apply(&self, action: PowerAction) -> Result<()> {
        let op = match action {
            PowerAction::On => "power on",
            PowerAction::Off => "power off",
            PowerAction::SoftOff => "soft power off",
            PowerAction::Reboot => "reboot",
            PowerAction::SoftReboot => "soft reboot",
            _ => "set power state",
        };
        self.domain
            .with_domain(op, action.is_idempotent(), move |_, dom| {
                let state = read_state(dom)?;
                let step = step(action, state)?;
                tracing::debug!(%state, ?step, "power change");
                act(dom, step)
            })
            .await
    }

    fn poll_interval(&self) -> Duration {
        self.domain.config().poll_interval()
    }

    /// A reboot of a domain that is paused, crashed or PM-suspended is a hard reset
    /// (destroy then create), as it always was here; a soft reboot of one is refused.
    fn resolve_unknown(&self, target: PowerTarget) -> Result<PowerAction> {
        let state = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        let state = state.map_or("in an unknown state".to_owned(), |s| s.to_string());
        match target {
            PowerTarget::Reboot => Ok(PowerAction::Reboot),
            _ => Err(Error::new(
                ErrorKind::PowerStateFailure,
                format!("a {target} needs a running guest; the domain is {state}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn steps() {
        use PowerAction as A;
        assert_eq!(step(A::On, VmState::Running).unwrap(), Step::Nothing);
        assert_eq!(step(A::On, VmState::ShutOff).unwrap(), Step::Create);
        assert_eq!(step(A::On, VmState::Paused).unwrap(), Step::Resume);
        assert_eq!(step(A::On, VmState::PmSuspended).unwrap(), Step::Wakeup);
        assert_eq!(
            step(A::On, VmState::Crashed).unwrap(),
            Step::DestroyThenCreate
        );
        assert_eq!(step(A::Off, VmState::ShutOff).unwrap(), Step::Nothing);
        assert_eq!(step(A::Off, VmState::Paused).unwrap(), Step::Destroy);
        assert_eq!(step(A::Reboot, VmState::ShutOff).unwrap(), Step::Create);
        assert_eq!(
            step(A::Reboot, VmState::Running).unwrap(),
            Step::DestroyThenCreate
        );
        assert_eq!(
            step(A::Reboot, VmState::Crashed).unwrap(),
            Step::DestroyThenCreate
        );
        assert_eq!(step(A::SoftReboot, VmState::Running).unwrap(), Step::Reboot);
        assert_eq!(
            step(A::SoftOff, VmState::Paused).unwrap_err().kind(),
            ErrorKind::PowerStateFailure
        );
        assert_eq!(
            step(A::SoftReboot, VmState::Crashed).unwrap_err().kind(),
            ErrorKind::PowerStateFailure
        );
    }
}
