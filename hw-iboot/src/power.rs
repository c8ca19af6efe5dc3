//! The power interface: one relay of an iBoot PDU.

use std::future::Future;
use std::time::Duration;

use hw_core::power::{DEFAULT_POWER_TIMEOUT, ensure_supported};
use hw_core::{
    Error, ErrorKind, Power, PowerCapabilities, PowerState, PowerTarget, Result, async_trait,
};
use tracing::{Instrument, debug, info_span, warn};

use crate::NAME;
use crate::client::DxpClient;
use crate::config::{IbootConfig, MAX_RELAY};

/// Power through one relay of a Dataprobe iBoot PDU.
///
/// `On` and `Off` switch the relay, then read it back up to `1 + max_retry` times,
/// `retry_interval` apart, and fail with [`ErrorKind::PowerStateFailure`] if the
/// relay never reports the state. `Reboot` switches off (if on), waits
/// `reboot_delay`, switches on and confirms. A failed exchange that is retryable
/// (unreachable, timeout) is retried up to `max_retry` times. The whole operation
/// is bounded by the caller's timeout (default 60 s).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_core::{Power, PowerExt, PowerState, SecretString};
/// use hw_iboot::{IbootConfig, IbootPower, sim::IbootSim};
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
    client: DxpClient,
}

impl IbootPower {
    /// Power for the relay of `config`.
    pub fn new(config: IbootConfig) -> Self {
        IbootPower {
            client: DxpClient::new(config),
        }
    }

    /// The DxP client (shares its per-PDU lock with every client of the same PDU).
    pub fn client(&self) -> &DxpClient {
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

    async fn retrying<T, F, Fut>(&self, op: &str, mut f: F) -> Result<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T>> + Send,
        T: Send,
    {
        let c = self.config();
        let mut attempt = 0u32;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && attempt < c.max_retry => {
                    attempt += 1;
                    warn!(error = %e, attempt, max_retry = c.max_retry, "{op} failed; retrying");
                    tokio::time::sleep(c.retry_interval).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn read_state(&self) -> Result<PowerState> {
        let relay = self.relay()?;
        let states = self
            .retrying("GET_RELAYS", || self.client.get_relays(relay))
            .await?;
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

    async fn switch(&self, on: bool) -> Result<()> {
        let relay = self.relay()?;
        // Setting a relay to a state is idempotent, so a retry is safe.
        self.retrying("CHANGE_RELAY", || self.client.change_relay(relay, on))
            .await
    }

    async fn confirm(&self, want: PowerState) -> Result<()> {
        let c = self.config();
        let relay = self.relay()?;
        let mut last = String::new();
        for attempt in 0..=c.max_retry {
            if attempt > 0 {
                tokio::time::sleep(c.retry_interval).await;
            }
            match self.client.get_relays(relay).await.and_then(|s| {
                s.get(usize::from(relay) - 1)
                    .copied()
                    .ok_or_else(|| Error::new(ErrorKind::NotFound, "relay missing from reply"))
            }) {
                Ok(on) if (on && want == PowerState::On) || (!on && want == PowerState::Off) => {
                    return Ok(());
                }
                Ok(on) => last = format!("relay reads {}", if on { "on" } else { "off" }),
                Err(e) if e.is_retryable() => last = format!("last read failed: {e}"),
                Err(e) => return Err(e),
            }
        }
        Err(Error::new(
            ErrorKind::PowerStateFailure,
            format!(
                "relay {} did not reach {want} after {} read(s); {last}",
                c.relay_id,
                c.max_retry + 1
            ),
        )
        .with_driver(NAME))
    }

    async fn drive(&self, target: PowerTarget) -> Result<()> {
        let current = self.read_state().await?;
        match target {
            PowerTarget::On | PowerTarget::Off => {
                let want = target.final_state();
                if current == want {
                    debug!(%want, "already there; relay untouched");
                    return Ok(());
                }
                self.switch(want == PowerState::On).await?;
                self.confirm(want).await
            }
            PowerTarget::Reboot => {
                if current != PowerState::Off {
                    self.switch(false).await?;
                    self.confirm(PowerState::Off).await?;
                    tokio::time::sleep(self.config().reboot_delay).await;
                }
                self.switch(true).await?;
                self.confirm(PowerState::On).await
            }
            other => Err(Error::unsupported(format_args!("power target {other}"))),
        }
    }
}

#[async_trait]
impl Power for IbootPower {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
        }
    }

    async fn get_power_state(&self) -> Result<PowerState> {
        let span = info_span!("iboot.get_power_state", relay = self.config().relay_id);
        self.read_state()
            .instrument(span)
            .await
            .map_err(|e| e.or_driver(NAME).or_operation("get power state"))
    }

    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        let op = format!("power {target}");
        ensure_supported(&self.capabilities(), target)
            .map_err(|e| e.with_driver(NAME).with_operation(op.clone()))?;
        let timeout = timeout.unwrap_or(DEFAULT_POWER_TIMEOUT);
        let span = info_span!("iboot.set_power_state", relay = self.config().relay_id, %target);
        match tokio::time::timeout(timeout, self.drive(target).instrument(span)).await {
            Ok(r) => r.map_err(|e| e.or_driver(NAME).or_operation(op)),
            Err(_) => Err(Error::new(
                ErrorKind::PowerStateFailure,
                format!(
                    "power state {} not confirmed within {:.1}s",
                    target.final_state(),
                    timeout.as_secs_f64()
                ),
            )
            .with_driver(NAME)
            .with_operation(op)),
        }
    }
}
