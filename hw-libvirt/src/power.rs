//! The power interface: domain states mapped honestly, create / destroy / shutdown /
//! reboot.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hw_core::power::{DEFAULT_POWER_TIMEOUT, ensure_supported, wait_for_state};
use hw_core::{
    Error, ErrorKind, Power, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use virt::domain::{Domain, DomainState};

use crate::client::{DomainRef, map_err};
use crate::config::LibvirtConfig;

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
    /// use hw_core::PowerState;
    /// use hw_libvirt::VmState;
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

/// What one power change does to the domain, decided from its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Nothing,
    Create,
    Destroy,
    DestroyThenCreate,
    Shutdown,
    Reboot,
    Resume,
    Wakeup,
}

fn plan(target: PowerTarget, state: VmState) -> Result<Action> {
    use VmState as S;
    let on = matches!(state, S::Running | S::Blocked | S::ShuttingDown);
    Ok(match target {
        PowerTarget::On => match state {
            _ if on => Action::Nothing,
            S::ShutOff => Action::Create,
            S::Paused => Action::Resume,
            S::PmSuspended => Action::Wakeup,
            S::Crashed => Action::DestroyThenCreate,
            S::NoState | S::Other(_) => Action::Create,
            _ => Action::Create,
        },
        PowerTarget::Off => match state {
            S::ShutOff => Action::Nothing,
            _ => Action::Destroy,
        },
        PowerTarget::SoftOff => match state {
            S::ShutOff => Action::Nothing,
            _ if on => Action::Shutdown,
            S::PmSuspended => Action::Shutdown,
            other => {
                return Err(Error::new(
                    ErrorKind::PowerStateFailure,
                    format!("a soft power off needs a running guest; the domain is {other}"),
                ));
            }
        },
        PowerTarget::Reboot => match state {
            S::ShutOff => Action::Create,
            _ => Action::DestroyThenCreate,
        },
        PowerTarget::SoftReboot => match state {
            S::ShutOff => Action::Create,
            _ if on => Action::Reboot,
            other => {
                return Err(Error::new(
                    ErrorKind::PowerStateFailure,
                    format!("a soft reboot needs a running guest; the domain is {other}"),
                ));
            }
        },
        _ => return Err(Error::unsupported(format_args!("power target {target}"))),
    })
}

fn act(dom: &Domain, action: Action) -> Result<()> {
    match action {
        Action::Nothing => Ok(()),
        Action::Create => dom.create().map_err(|e| map_err("create domain", e)),
        Action::Destroy => dom.destroy().map_err(|e| map_err("destroy domain", e)),
        Action::DestroyThenCreate => {
            match dom.destroy() {
                Ok(()) => {}
                // Already not running (raced with a guest shutdown): fine.
                Err(_) if read_state(dom)? == VmState::ShutOff => {}
                Err(e) => return Err(map_err("destroy domain", e)),
            }
            dom.create().map_err(|e| map_err("create domain", e))
        }
        Action::Shutdown => dom.shutdown().map_err(|e| map_err("shut down domain", e)),
        Action::Reboot => dom.reboot(0).map_err(|e| map_err("reboot domain", e)),
        Action::Resume => dom.resume().map_err(|e| map_err("resume domain", e)),
        Action::Wakeup => dom.pm_wakeup(0).map_err(|e| map_err("wake up domain", e)),
    }
}

/// Power for one libvirt domain.
///
/// Targets: on (`virDomainCreate`; a paused domain is resumed, a PM-suspended one
/// woken), off (`virDomainDestroy`, hard), soft off (`virDomainShutdown`, confirmed
/// within the timeout — never escalated to a hard off), reboot (destroy then create),
/// soft reboot (`virDomainReboot`). A domain that is off is powered on by either
/// reboot. Every set is confirmed by reading the state back.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_core::{Power, PowerExt, PowerState};
/// use hw_libvirt::{DomainSelector, LibvirtConfig, LibvirtPower};
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
}

impl LibvirtPower {
    /// Power for the domain `config` selects.
    pub fn new(config: LibvirtConfig) -> Self {
        LibvirtPower {
            domain: Arc::new(DomainRef::new(config)),
        }
    }

    pub(crate) fn from_ref(domain: Arc<DomainRef>) -> Self {
        LibvirtPower { domain }
    }

    /// The domain's state as libvirt reports it, with more detail than
    /// [`Power::get_power_state`].
    pub async fn domain_state(&self) -> Result<VmState> {
        self.domain
            .with_domain("get power state", true, |_, dom| read_state(dom))
            .await
    }

    fn poll_interval(&self) -> Duration {
        self.domain.config().poll_interval()
    }
}

#[async_trait]
impl Power for LibvirtPower {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
        }
    }

    async fn get_power_state(&self) -> Result<PowerState> {
        Ok(self.domain_state().await?.power_state())
    }

    #[tracing::instrument(level = "debug", skip(self), fields(domain = %self.domain.config().domain()))]
    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        ensure_supported(&self.capabilities(), target)?;
        let timeout = timeout.unwrap_or(DEFAULT_POWER_TIMEOUT);
        let op: &'static str = match target {
            PowerTarget::On => "power on",
            PowerTarget::Off => "power off",
            PowerTarget::SoftOff => "soft power off",
            PowerTarget::Reboot => "reboot",
            PowerTarget::SoftReboot => "soft reboot",
            _ => "set power state",
        };
        // Read, decide and act in one blocking call, so no other call of ours sees a
        // half-done change.
        let action = self
            .domain
            .with_domain(op, false, move |_, dom| {
                let state = read_state(dom)?;
                let action = plan(target, state)?;
                tracing::debug!(%state, ?action, "power change");
                act(dom, action)?;
                Ok(action)
            })
            .await
            .map_err(|e| e.or_operation(op))?;
        if action == Action::Nothing && !target.is_reboot() {
            return Ok(());
        }
        let want = target.final_state();
        wait_for_state(
            || self.get_power_state(),
            want,
            timeout,
            self.poll_interval(),
        )
        .await
        .map_err(|e| e.or_driver(crate::client::DRIVER).or_operation(op))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plans() {
        assert_eq!(
            plan(PowerTarget::On, VmState::Running).unwrap(),
            Action::Nothing
        );
        assert_eq!(
            plan(PowerTarget::On, VmState::ShutOff).unwrap(),
            Action::Create
        );
        assert_eq!(
            plan(PowerTarget::On, VmState::Paused).unwrap(),
            Action::Resume
        );
        assert_eq!(
            plan(PowerTarget::Off, VmState::ShutOff).unwrap(),
            Action::Nothing
        );
        assert_eq!(
            plan(PowerTarget::Off, VmState::Paused).unwrap(),
            Action::Destroy
        );
        assert_eq!(
            plan(PowerTarget::Reboot, VmState::ShutOff).unwrap(),
            Action::Create
        );
        assert_eq!(
            plan(PowerTarget::Reboot, VmState::Running).unwrap(),
            Action::DestroyThenCreate
        );
        assert_eq!(
            plan(PowerTarget::SoftReboot, VmState::Running).unwrap(),
            Action::Reboot
        );
        assert_eq!(
            plan(PowerTarget::SoftOff, VmState::Paused)
                .unwrap_err()
                .kind(),
            ErrorKind::PowerStateFailure
        );
    }
}
