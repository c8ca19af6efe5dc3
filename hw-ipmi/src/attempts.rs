//! One operation's attempts: what is being waited for (a session setup step or the
//! command), how many datagrams were sent for it, and the one log line per retry.
//!
//! Session setup retransmits a step's message after silence, and the operation
//! retries after a failure; both count here, so the final error gives one attempt
//! count and one duration, and every resend is logged exactly once: at `WARN`,
//! except busy refusals after the first (a BMC that answers "busy" may be retried
//! for a minute; those go to `DEBUG`).
//!
//! The log line has hwctl-core's form (`<failure>; retrying in 200 ms (attempt 2
//! of 3)`, as HTTP drivers log): `(attempt N of M)` after silence, where the
//! operation bounds silence by a count of attempts (`retries + 1` silent attempts
//! in a row at most, so `M` is an upper bound, reached by a BMC that stays
//! silent); otherwise no count bounds the attempts (busy refusals are retried for
//! as long as the time limit allows), and the line names the time limit instead:
//! `(attempt N, 1.2s of ipmi_command_retry_timeout 60s)`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hwctl_core::{Error, ErrorKind};
use tokio::time::Instant;

/// The name of an IPMI command this crate sends, for messages (IPMI 2.0 appendix G).
pub(crate) fn command_name(netfn: u8, cmd: u8) -> Option<&'static str> {
    Some(match (netfn, cmd) {
        (0x00, 0x01) => "Get Chassis Status",
        (0x00, 0x02) => "Chassis Control",
        (0x00, 0x04) => "Chassis Identify",
        (0x00, 0x08) => "Set System Boot Options",
        (0x00, 0x09) => "Get System Boot Options",
        (0x04, 0x2D) => "Get Sensor Reading",
        (0x06, 0x01) => "Get Device ID",
        (0x06, 0x38) => "Get Channel Authentication Capabilities",
        (0x06, 0x3B) => "Set Session Privilege Level",
        (0x06, 0x3C) => "Close Session",
        (0x06, 0x48) => "Activate Payload",
        (0x06, 0x49) => "Deactivate Payload",
        (0x06, 0x54) => "Get Channel Cipher Suites",
        (0x0A, 0x22) => "Reserve SDR Repository",
        (0x0A, 0x23) => "Get SDR",
        _ => return None,
    })
}

/// `Get Chassis Status (netfn 0x00 cmd 0x01)`, or the numbers alone.
pub(crate) fn command_text(netfn: u8, cmd: u8) -> String {
    match command_name(netfn, cmd) {
        Some(name) => format!("{name} (netfn 0x{netfn:02x} cmd 0x{cmd:02x})"),
        None => format!("netfn 0x{netfn:02x} cmd 0x{cmd:02x}"),
    }
}

/// The attempts of one operation on one endpoint.
pub(crate) struct Attempts {
    endpoint: String,
    started: Instant,
    /// Attempts made: the first send of the operation and every resend.
    made: AtomicU32,
    /// Busy refusals retried so far (their retries after the first log at DEBUG).
    busy: AtomicU32,
    /// What the last datagram asked for: the setup step or the command.
    waiting_for: Mutex<String>,
    /// Silent attempts in a row at most, when the operation bounds silence by a
    /// count (`retries + 1`).
    silent_max: Option<u32>,
    /// Attempts met with silence in a row, the last one included.
    silent_run: AtomicU32,
    /// The operation's time limit (`ipmi_command_retry_timeout`), for the log.
    limit: Option<Duration>,
}

impl Attempts {
    /// The first attempt of an operation starts now.
    pub(crate) fn new(endpoint: String, first: String) -> Self {
        Attempts {
            endpoint,
            started: Instant::now(),
            made: AtomicU32::new(1),
            busy: AtomicU32::new(0),
            waiting_for: Mutex::new(first),
            silent_max: None,
            silent_run: AtomicU32::new(0),
            limit: None,
        }
    }

    /// The operation ends within `limit` (`ipmi_command_retry_timeout`) and, when
    /// `silent_max` is given, gives a silent BMC at most that many attempts in a
    /// row; both only shape the log line (the caller's loop enforces them).
    pub(crate) fn bounded(mut self, limit: Duration, silent_max: Option<u32>) -> Self {
        self.limit = Some(limit);
        self.silent_max = silent_max;
        self
    }

    /// The step or command now being waited for (`Open Session (session setup,
    /// cipher suite 17)`).
    pub(crate) fn waiting_for(&self, what: impl Into<String>) {
        if let Ok(mut w) = self.waiting_for.lock() {
            *w = what.into();
        }
    }

    /// What the last datagram asked for.
    pub(crate) fn what(&self) -> String {
        self.waiting_for
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// Attempts made so far.
    pub(crate) fn made(&self) -> u32 {
        self.made.load(Ordering::Relaxed)
    }

    /// Seconds since the operation started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Counts the next attempt and logs it once, after `error`, in `wait`.
    pub(crate) fn retrying(&self, error: &Error, wait: Duration) {
        let n = self.made.fetch_add(1, Ordering::Relaxed) + 1;
        let busy = error.kind() == ErrorKind::Busy && self.busy.fetch_add(1, Ordering::Relaxed) > 0;
        let silent = if error.kind() == ErrorKind::Timeout {
            self.silent_run.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.silent_run.store(0, Ordering::Relaxed);
            0
        };
        let bound = self.bound(n, silent);
        let what = self.what();
        let msg = error.message();
        // Session errors name the step already; others (a refusal) do not.
        let cause = if msg.contains(what.as_str()) {
            msg.to_owned()
        } else {
            format!("{}: {what}: {msg}", self.endpoint)
        };
        let ms = wait.as_millis();
        if busy {
            tracing::debug!("{cause}; retrying in {ms} ms ({bound})");
        } else {
            tracing::warn!("{cause}; retrying in {ms} ms ({bound})");
        }
    }

    /// `attempt N of M` for attempt `n` after `silent` silent attempts in a row,
    /// where silence is bounded by a count; `attempt N, X.Xs of
    /// ipmi_command_retry_timeout Ys` otherwise (`X.Xs so far` without a limit).
    fn bound(&self, n: u32, silent: u32) -> String {
        if let Some(max) = self.silent_max.filter(|_| silent > 0) {
            // `n` is silent attempt `silent + 1` of at most `max` in this run.
            let m = n.saturating_sub(silent + 1).saturating_add(max);
            return format!("attempt {n} of {m}");
        }
        let took = self.started.elapsed().as_secs_f64();
        match self.limit {
            Some(limit) => format!(
                "attempt {n}, {took:.1}s of ipmi_command_retry_timeout {}s",
                limit.as_secs_f64()
            ),
            None => format!("attempt {n}, {took:.1}s so far"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_named_with_their_numbers() {
        assert_eq!(
            command_text(0x00, 0x01),
            "Get Chassis Status (netfn 0x00 cmd 0x01)"
        );
        assert_eq!(command_text(0x2E, 0xCA), "netfn 0x2e cmd 0xca");
    }

    #[tokio::test]
    async fn each_retry_is_counted_once() {
        let a = Attempts::new("h:623".into(), "x".into());
        assert_eq!(a.made(), 1);
        a.retrying(&Error::new(ErrorKind::Timeout, "no reply"), Duration::ZERO);
        a.retrying(&Error::new(ErrorKind::Busy, "busy"), Duration::ZERO);
        assert_eq!(a.made(), 3);
        a.waiting_for("RAKP 1");
        assert_eq!(a.what(), "RAKP 1");
    }

    /// The retry line's bound: `attempt N of M` in a run of silence (M counted
    /// from the run's first attempt), the time limit after anything else.
    #[tokio::test]
    async fn the_bound_is_a_count_after_silence_and_the_time_limit_otherwise() {
        let timeout = Error::new(ErrorKind::Timeout, "no reply");
        let busy = Error::new(ErrorKind::Busy, "no session slot");
        let a = Attempts::new("h:623".into(), "x".into()).bounded(Duration::from_secs(60), Some(4));
        a.retrying(&timeout, Duration::ZERO); // attempt 2, run of 1
        assert_eq!(a.bound(2, 1), "attempt 2 of 4");
        a.retrying(&busy, Duration::ZERO); // attempt 3
        assert!(
            a.bound(3, 0)
                .starts_with("attempt 3, 0.0s of ipmi_command_retry_timeout 60s"),
            "{}",
            a.bound(3, 0)
        );
        // Silence after the busy refusal: a new run, from attempt 3.
        a.retrying(&timeout, Duration::ZERO); // attempt 4, run of 1
        assert_eq!(a.bound(4, 1), "attempt 4 of 6");
        assert_eq!(a.bound(6, 3), "attempt 6 of 6");
        let sol = Attempts::new("h:623".into(), "x".into()).bounded(Duration::from_secs(20), None);
        assert_eq!(
            sol.bound(2, 1),
            "attempt 2, 0.0s of ipmi_command_retry_timeout 20s"
        );
        let plain = Attempts::new("h:623".into(), "x".into());
        assert_eq!(plain.bound(2, 0), "attempt 2, 0.0s so far");
    }
}
