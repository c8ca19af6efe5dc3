//! The power interface: one relay of an iBoot PDU, as a [`PowerSwitch`].

use std::time::Duration;

use hwctl_core::power::{PowerAction, PowerSwitch};
use hwctl_core::retry::{Idempotency, retry_named};
use hwctl_core::shared::Shared;
use hwctl_core::{
    Error, ErrorKind, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use tracing::{Instrument, info_span};

use crate::NAME;
use crate::client::{IbootClient, PduLock};
use crate::config::{IbootConfig, MAX_RELAY};

/// What a reboot needs besides `reboot_delay` before the caller's deadline: its
/// two CHANGE_RELAY exchanges (one on a loopback PDU takes milliseconds; a
/// second covers a slow network). [`IbootPower`] refuses a reboot with less
/// left rather than leave the relay off.
pub const REBOOT_EXCHANGES_ROOM: Duration = Duration::from_secs(1);

/// Power through one relay of a Dataprobe iBoot PDU.
///
/// It is a [`PowerSwitch`]: GET_RELAYS reads, CHANGE_RELAY applies, and hwctl-core's
/// engine does the rest (capability check, nothing sent when already there, reboot
/// from off = on, one deadline around read, command and confirmation: the caller's
/// timeout, default 60 s, past which the result is [`ErrorKind::Timeout`] while
/// the PDU has not answered, [`ErrorKind::PowerStateFailure`] once the command was
/// accepted).
///
/// - A reboot is one [`PowerAction::Reboot`]: relay off, `reboot_delay`, relay on
///   (Ironic's sequence); the engine then confirms on. One that the caller's
///   deadline would cut while the relay is off is refused before anything is
///   switched ([`ErrorKind::Timeout`], not retryable), so a short `--timeout`
///   never leaves the node off.
/// - After a switch the relay is read back at most `1 + max_retry` times,
///   `retry_interval` apart (Ironic's `_check_power_state`); a relay that never
///   reports the state is a [`ErrorKind::PowerStateFailure`] then, before the
///   caller's timeout.
/// - A failed exchange is retried with the config's
///   [`retry_policy`](IbootConfig::retry_policy) (`1 + max_retry` attempts,
///   `retry_interval` apart; [`RetryPolicy::may_retry`] decides which failures).
///   Reads and setting a relay on or off are idempotent; a reboot as a whole is
///   never resent, only its steps. The loop is hwctl-core's [`retry_named`]:
///   each retry is logged once at `WARN` (the failure, `retrying GET_RELAYS in
///   1000 ms (attempt 2 of 4)`, never a credential).
/// - The caller's deadline ([`hwctl_core::retry::with_caller_deadline`]: `hwctl
///   --timeout`, or the timeout of `set_power_state`) ends the retries early:
///   when the next wait would end at or after it, the last failure is returned at
///   once, of its own kind — [`ErrorKind::Unreachable`] with the OS's cause
///   (`Connection refused`) for a PDU where nothing listens — with `(after N
///   attempts over X.Xs; the next would start after <the deadline's name>)`. An
///   exchange still running when the deadline comes is cut by the caller (a
///   silent PDU is the caller's timeout).
///
/// [`RetryPolicy::may_retry`]: hwctl_core::retry::RetryPolicy::may_retry
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState, SecretString};
/// use hwctl_iboot::{IbootConfig, IbootPower, sim::IbootSim};
///
/// let sim = IbootSim::start(8, "admin", "secret").await?;
/// let config = IbootConfig::new("127.0.0.1", "admin", SecretString::from("secret"))?
///     .with_port(sim.addr().port())
///     .with_relay(3);
/// let power = IbootPower::new(config);
/// power.power_on().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// assert_eq!(sim.relay(3), Some(true));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IbootPower {
    client: IbootClient,
}

impl IbootPower {
    /// Refuses a reboot, before anything is switched, when the caller's deadline
    /// ([`hwctl_core::retry::caller_deadline`]: `hwctl --timeout`, `fleet
    /// --timeout`, the timeout of `set_power_state`) leaves less than
    /// `reboot_delay` plus [`REBOOT_EXCHANGES_ROOM`] for the off, the pause and the
    /// on: cut during the pause, the reboot would leave the node switched off
    /// (a newcomer's `--timeout 3` with the default 5 s delay did).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`], not retryable, saying nothing was switched and what
    /// to change.
    fn check_reboot_fits(&self, relay: u8) -> Result<()> {
        let Some(deadline) = hwctl_core::retry::caller_deadline() else {
            return Ok(());
        };
        let delay = self.config().reboot_delay;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left >= delay + REBOOT_EXCHANGES_ROOM {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "a reboot keeps relay {relay} off for iboot_reboot_delay ({:.1} s), and \
                 only {:.1} s of the time limit was left for it and the two switches: \
                 nothing was switched, so the node was not left off; allow at least \
                 {:.0} s more, or lower iboot_reboot_delay",
                delay.as_secs_f64(),
                left.as_secs_f64(),
                (delay + REBOOT_EXCHANGES_ROOM).as_secs_f64().ceil(),
            ),
        )
        .with_retryable(false)
        .with_driver(NAME))
    }
    /// Power for the relay of `config`; its per-PDU lock is the process-wide one.
    pub fn new(config: IbootConfig) -> Self {
        IbootPower::with_client(IbootClient::new(config))
    }

    /// Power for the relay of `config`, with its per-PDU lock from `locks` (tests
    /// and embedders that want isolation from the rest of the process).
    pub fn with_locks(config: IbootConfig, locks: &Shared<PduLock>) -> Self {
        IbootPower::with_client(IbootClient::with_locks(config, locks))
    }

    /// Power through `client`.
    pub fn with_client(client: IbootClient) -> Self {
        IbootPower { client }
    }

    /// The DxP client (it shares its per-PDU lock with every client of the same PDU).
    pub fn client(&self) -> &IbootClient {
        &self.client
    }

    fn config(&self) -> &IbootConfig {
        self.client.config()
    }

    fn relay(&self) -> Result<u8> {
        let r = self.config().relay_id;
        if (1..=MAX_RELAY).contains(&r) {
            Ok(r)
        } else {
            Err(Error::invalid_parameter(
                "iboot_relay_id",
                format!("\"{r}\" is out of range (1 to {MAX_RELAY})"),
            )
            .with_driver(NAME))
        }
    }

    /// One GET_RELAYS exchange, the node's relay picked out.
    async fn read_once(&self, relay: u8) -> Result<PowerState> {
        let states = self.client.get_relays(relay).await?;
        match states.get(usize::from(relay) - 1) {
            Some(true) => Ok(PowerState::On),
            Some(false) => Ok(PowerState::Off),
            None => Err(Error::new(
                ErrorKind::NotFound,
                format!("relay {relay} does not exist on this PDU"),
            )
            .with_driver(NAME)),
        }
    }

    /// CHANGE_RELAY, retried by the policy (setting a relay to a state is idempotent).
    async fn switch(&self, relay: u8, on: bool) -> Result<()> {
        let policy = self.config().retry_policy();
        retry_named(
            &policy,
            Idempotency::Idempotent,
            None,
            &"CHANGE_RELAY",
            |_| self.client.change_relay(relay, on),
        )
        .await
    }
}

#[async_trait]
impl PowerSwitch for IbootPower {
    fn driver(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
            recorded_only: Vec::new(),
        }
    }

    /// GET_RELAYS, retried by the policy.
    async fn read(&self) -> Result<PowerState> {
        let relay = self.relay()?;
        let span = info_span!("iboot.read", relay);
        let policy = self.config().retry_policy();
        retry_named(
            &policy,
            Idempotency::Idempotent,
            None,
            &"GET_RELAYS",
            |_| self.read_once(relay),
        )
        .instrument(span)
        .await
    }

    /// CHANGE_RELAY on or off; a reboot is off, `reboot_delay`, on (refused
    /// before the relay is touched when the caller's deadline would cut it while
    /// the relay is off, with [`ErrorKind::Timeout`]).
    async fn apply(&self, action: PowerAction) -> Result<()> {
        let relay = self.relay()?;
        let span = info_span!("iboot.apply", relay, %action);
        async {
            match action {
                PowerAction::On => self.switch(relay, true).await?,
                PowerAction::Off => self.switch(relay, false).await?,
                PowerAction::Reboot => {
                    self.check_reboot_fits(relay)?;
                    self.switch(relay, false).await?;
                    tokio::time::sleep(self.config().reboot_delay).await;
                    self.switch(relay, true).await?;
                }
                other => {
                    return Err(
                        Error::unsupported(format_args!("power action {other}")).with_driver(NAME)
                    );
                }
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// One GET_RELAYS exchange: confirming reads are counted one by one.
    async fn confirm_read(&self) -> Result<PowerState> {
        let relay = self.relay()?;
        self.read_once(relay)
            .instrument(info_span!("iboot.confirm", relay))
            .await
    }

    /// `1 + max_retry` reads (Ironic's `_check_power_state`).
    fn confirm_reads(&self) -> Option<u32> {
        Some(self.config().confirm_reads())
    }

    /// `retry_interval`, the pause between confirming reads.
    fn poll_interval(&self) -> Duration {
        self.config().retry_interval
    }
}
