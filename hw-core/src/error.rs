//! The one error type every hw crate returns, and its kinds.

use std::borrow::Cow;
use std::fmt;

/// A `Result` whose error is [`Error`].
///
/// ```
/// fn port(s: &str) -> hwctl_core::Result<u16> {
///     s.parse().map_err(|_| hwctl_core::Error::invalid_parameter("iboot_port", "is not a port"))
/// }
/// assert_eq!(port("9100")?, 9100);
/// assert!(port("x").is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in terms a caller can act on.
///
/// The table of which protocol condition maps to which kind lives in
/// `docs/error-kinds.md` at the root of the repository.
///
/// The kind says what went wrong; whether to try again is
/// [`Error::is_retryable`], decided per error: a reboot that timed out is not
/// retryable (it may have been delivered), nor is a Redfish HTTP 409 `Busy`,
/// while a truncated reply (`Protocol`) is. Decide retries on it, not on the kind.
///
/// ```
/// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
/// let err = hwctl_core::fake::hardware_type()
///     .build(&DriverInfo::from_pairs([("fake_power_state", "dim")]), &NodeContext::new("n1"))
///     .unwrap_err();
/// if err.is_retryable() {
///     unreachable!("retry later, within the caller's deadline");
/// }
/// match err.kind() {
///     ErrorKind::MissingParameter | ErrorKind::InvalidParameter => {} // fix driver_info
///     other => panic!("unexpected {other}"),
/// }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A required `driver_info` parameter (or node port) is absent.
    MissingParameter,
    /// A parameter is present but its value is malformed or out of range.
    InvalidParameter,
    /// The device or driver cannot do this; its capabilities say so too.
    Unsupported,
    /// The device rejected the credentials.
    Unauthenticated,
    /// The credentials are valid but lack the privilege for this operation.
    PermissionDenied,
    /// No such blade, domain, relay, resource or hardware.
    NotFound,
    /// The device could not be reached (connection refused, no route, DNS).
    Unreachable,
    /// The device did not answer in time.
    Timeout,
    /// The device is busy: locked, session limit reached, HTTP 409, serial session active.
    Busy,
    /// The device answered with something that is not the protocol (malformed reply).
    Protocol,
    /// The device understood and said no (an IPMI completion code, a WS-Man
    /// `ReturnValue`, an OCS `completionCode`, a Redfish error message).
    DeviceFault,
    /// A power state was requested but not reached within the timeout.
    PowerStateFailure,
    /// The peer's TLS certificate was rejected: issued by an unknown authority, for
    /// another name, expired or not yet valid, revoked. Not retryable: the
    /// certificate or the trusted CA must change first.
    BadCertificate,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A stable, kebab-case name for the kind (used by `hwctl` and in logs).
    ///
    /// ```
    /// assert_eq!(hwctl_core::ErrorKind::PowerStateFailure.as_str(), "power-state-failure");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::MissingParameter => "missing-parameter",
            ErrorKind::InvalidParameter => "invalid-parameter",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission-denied",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Busy => "busy",
            ErrorKind::Protocol => "protocol",
            ErrorKind::DeviceFault => "device-fault",
            ErrorKind::PowerStateFailure => "power-state-failure",
            ErrorKind::BadCertificate => "bad-certificate",
            ErrorKind::Other => "other",
        }
    }

    /// Whether an error of this kind is, by default, worth retrying.
    ///
    /// Unreachable, timeout and busy are transient; everything else needs a change
    /// of input or of the device first. A single error can override this with
    /// [`Error::with_retryable`].
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// assert!(ErrorKind::Busy.is_retryable_by_default());
    /// assert!(!ErrorKind::Unauthenticated.is_retryable_by_default());
    /// assert!(!ErrorKind::BadCertificate.is_retryable_by_default());
    /// ```
    pub fn is_retryable_by_default(self) -> bool {
        matches!(
            self,
            ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Busy
        )
    }

    /// Whether the caller's input is at fault (usage errors: `hwctl` exits 2).
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// assert!(ErrorKind::MissingParameter.is_input_error());
    /// assert!(!ErrorKind::Timeout.is_input_error());
    /// ```
    pub fn is_input_error(self) -> bool {
        matches!(
            self,
            ErrorKind::MissingParameter | ErrorKind::InvalidParameter
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one `driver_info` parameter, as found by validation.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext};
/// let info = DriverInfo::from_pairs([("fake_delay_ms", "soon")]);
/// let err = hwctl_core::fake::hardware_type().build(&info, &NodeContext::new("n1")).unwrap_err();
/// let problem = &err.problems()[0];
/// assert_eq!(problem.name, "fake_delay_ms");
/// assert!(problem.reason.as_deref().is_some_and(|r| r.contains("soon")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterProblem {
    /// The parameter's name (`iboot_port`).
    pub name: String,
    /// `None` when the parameter is missing; otherwise why its value is invalid.
    /// The reason never contains the value of a secret parameter.
    pub reason: Option<String>,
}

impl ParameterProblem {
    /// Whether this problem is a missing parameter (as opposed to an invalid one).
    ///
    /// ```
    /// let err = hwctl_core::Error::missing_parameters(["ipmi_address"]);
    /// assert!(err.problems()[0].is_missing());
    /// let err = hwctl_core::Error::invalid_parameter("ipmi_port", "is not a port");
    /// assert!(!err.problems()[0].is_missing());
    /// ```
    pub fn is_missing(&self) -> bool {
        self.reason.is_none()
    }
}

/// The error every hw crate returns.
///
/// Opaque on purpose: match on [`Error::kind`], read the context with
/// [`Error::driver`] and [`Error::operation`], walk the cause with
/// [`std::error::Error::source`]. `Display` prints one level (context and message);
/// the chain is in `source()`.
///
/// ```
/// use hwctl_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::Timeout, "no reply from 127.0.0.1:9100 within 10s")
///     .with_driver("staging-iboot")
///     .with_operation("power on");
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert!(err.is_retryable());
/// assert_eq!(
///     err.to_string(),
///     "staging-iboot: power on: no reply from 127.0.0.1:9100 within 10s"
/// );
/// ```
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    driver: Option<Cow<'static, str>>,
    operation: Option<Cow<'static, str>>,
    retryable: Option<bool>,
    problems: Vec<ParameterProblem>,
    source: Option<Source>,
    not_delivered: bool,
    /// Whether a retry loop already noted its attempts in the message.
    attempts_noted: bool,
    /// Whether the message tells the problems itself ([`Error::with_problems`]).
    problems_told: bool,
}

impl Error {
    /// A new error of `kind` with a human message (which must not contain secrets).
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let err = Error::new(ErrorKind::Busy, "the relay is locked by another session");
    /// assert_eq!(err.kind(), ErrorKind::Busy);
    /// assert_eq!(err.to_string(), "the relay is locked by another session");
    /// assert!(err.driver().is_none() && err.operation().is_none());
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
            driver: None,
            operation: None,
            retryable: None,
            problems: Vec::new(),
            source: None,
            not_delivered: false,
            attempts_noted: false,
            problems_told: false,
        }
    }

    /// An [`ErrorKind::Unsupported`] error for an operation the device cannot do.
    ///
    /// ```
    /// let err = hwctl_core::Error::unsupported("power off");
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Unsupported);
    /// ```
    pub fn unsupported(what: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Unsupported, format!("{what} is not supported"))
    }

    /// An [`ErrorKind::Protocol`] error: the peer sent something that is not the protocol.
    ///
    /// ```
    /// let err = hwctl_core::Error::protocol("reply shorter than its header (3 bytes)");
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
    /// assert!(!err.is_retryable());
    /// ```
    pub fn protocol(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// An [`ErrorKind::InvalidParameter`] error naming one parameter and why.
    ///
    /// `reason` must not contain the value of a secret.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let err = Error::invalid_parameter("iboot_port", "must be 1 to 65535");
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert_eq!(err.to_string(), "invalid parameters: iboot_port: must be 1 to 65535");
    /// ```
    pub fn invalid_parameter(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::from_problems(vec![ParameterProblem {
            name: name.into(),
            reason: Some(reason.into()),
        }])
    }

    /// An [`ErrorKind::MissingParameter`] error naming the missing parameters.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let err = Error::missing_parameters(["ipmi_address", "ipmi_username"]);
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert_eq!(err.to_string(), "missing parameters: ipmi_address, ipmi_username");
    /// ```
    pub fn missing_parameters<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Error::from_problems(
            names
                .into_iter()
                .map(|n| ParameterProblem {
                    name: n.into(),
                    reason: None,
                })
                .collect(),
        )
    }

    /// One error that reports every parameter problem at once.
    ///
    /// The kind is [`ErrorKind::MissingParameter`] when any parameter is missing,
    /// else [`ErrorKind::InvalidParameter`].
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind, ParameterProblem};
    /// let err = Error::from_problems(vec![
    ///     ParameterProblem { name: "iboot_address".into(), reason: None },
    ///     ParameterProblem { name: "iboot_port".into(), reason: Some("\"x\" is not a number".into()) },
    /// ]);
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert_eq!(err.to_string(),
    ///     "missing parameters: iboot_address; invalid parameters: iboot_port: \"x\" is not a number");
    /// ```
    pub fn from_problems(problems: Vec<ParameterProblem>) -> Self {
        let missing: Vec<&str> = problems
            .iter()
            .filter(|p| p.is_missing())
            .map(|p| p.name.as_str())
            .collect();
        let invalid: Vec<String> = problems
            .iter()
            .filter_map(|p| p.reason.as_ref().map(|r| format!("{}: {r}", p.name)))
            .collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing parameters: {}", missing.join(", ")));
        }
        if !invalid.is_empty() {
            parts.push(format!("invalid parameters: {}", invalid.join("; ")));
        }
        let kind = if missing.is_empty() {
            ErrorKind::InvalidParameter
        } else {
            ErrorKind::MissingParameter
        };
        let mut err = Error::new(kind, parts.join("; "));
        err.problems = problems;
        err
    }

    /// Attaches the problems the message already tells in its own words (one
    /// error listing several mistakes, such as an inventory's): kind and message
    /// are unchanged; [`Error::problems`] lists them for a program, and
    /// [`Error::problems_told`] says that a reader has them in the message.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind, ParameterProblem};
    /// let err = Error::new(ErrorKind::InvalidParameter, "nodes.json: entry 2 has no driver")
    ///     .with_problems(vec![ParameterProblem { name: "entries[2].driver".into(), reason: None }]);
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert_eq!(err.to_string(), "nodes.json: entry 2 has no driver");
    /// assert_eq!(err.problems()[0].name, "entries[2].driver");
    /// assert!(err.problems_told());
    /// ```
    pub fn with_problems(mut self, problems: Vec<ParameterProblem>) -> Self {
        self.problems = problems;
        self.problems_told = true;
        self
    }

    /// Whether the message tells the problems itself ([`Error::with_problems`]),
    /// so a printer need not list them again.
    ///
    /// ```
    /// assert!(!hwctl_core::Error::missing_parameters(["ipmi_address"]).problems_told());
    /// ```
    pub fn problems_told(&self) -> bool {
        self.problems_told
    }

    /// Names the driver (hardware type or crate) the error came from.
    ///
    /// ```
    /// let err = hwctl_core::Error::protocol("bad reply").with_driver("ipmi");
    /// assert_eq!(err.driver(), Some("ipmi"));
    /// assert_eq!(err.to_string(), "ipmi: bad reply");
    /// ```
    pub fn with_driver(mut self, driver: impl Into<Cow<'static, str>>) -> Self {
        self.driver = Some(driver.into());
        self
    }

    /// Names the operation that failed (`power on`, `GetBladeState`, `set boot device`).
    ///
    /// ```
    /// let err = hwctl_core::Error::protocol("bad reply").with_operation("GetBladeState");
    /// assert_eq!(err.operation(), Some("GetBladeState"));
    /// assert_eq!(err.to_string(), "GetBladeState: bad reply");
    /// ```
    pub fn with_operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Attaches the underlying cause (kept in [`std::error::Error::source`]).
    ///
    /// ```
    /// use std::error::Error as _;
    /// use hwctl_core::{Error, ErrorKind};
    /// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    /// let err = Error::new(ErrorKind::Unreachable, "cannot connect to 10.0.0.5:623").with_source(io);
    /// assert_eq!(err.source().map(|s| s.to_string()).as_deref(), Some("refused"));
    /// ```
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Overrides whether this particular error is worth retrying.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// // A 503 with Retry-After is worth another try although it is a device fault.
    /// let err = Error::new(ErrorKind::DeviceFault, "HTTP 503").with_retryable(true);
    /// assert!(err.is_retryable());
    /// ```
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = Some(retryable);
        self
    }

    /// Sets the driver only if none is set yet (for layers that add context on the way out).
    ///
    /// ```
    /// let err = hwctl_core::Error::protocol("x").with_driver("ipmi").or_driver("staging-nm");
    /// assert_eq!(err.driver(), Some("ipmi"));
    /// assert_eq!(hwctl_core::Error::protocol("x").or_driver("staging-nm").driver(), Some("staging-nm"));
    /// ```
    pub fn or_driver(mut self, driver: impl Into<Cow<'static, str>>) -> Self {
        if self.driver.is_none() {
            self.driver = Some(driver.into());
        }
        self
    }

    /// Sets the operation only if none is set yet.
    ///
    /// ```
    /// let err = hwctl_core::Error::protocol("x").with_operation("Get Chassis Status")
    ///     .or_operation("get power state");
    /// assert_eq!(err.operation(), Some("Get Chassis Status"));
    /// ```
    pub fn or_operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        if self.operation.is_none() {
            self.operation = Some(operation.into());
        }
        self
    }

    /// Marks that the request certainly never reached the device (the connection
    /// was refused or never opened, the request was never written, or the device
    /// answered an authentication challenge before acting). Only such errors let
    /// [`crate::retry`] resend a request that is not idempotent.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let err = Error::new(ErrorKind::Unreachable, "connection refused").not_delivered();
    /// assert!(err.was_not_delivered());
    /// assert!(!Error::new(ErrorKind::Timeout, "no reply").was_not_delivered());
    /// ```
    pub fn not_delivered(mut self) -> Self {
        self.not_delivered = true;
        self
    }

    /// Whether the failed request certainly never reached the device (see
    /// [`not_delivered`](Self::not_delivered)).
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let refused = Error::new(ErrorKind::Unreachable, "connection refused").not_delivered();
    /// assert!(refused.was_not_delivered()); // safe to resend even a power cycle
    /// let lost = Error::new(ErrorKind::Timeout, "no reply to Chassis Control");
    /// assert!(!lost.was_not_delivered()); // may have been done
    /// ```
    pub fn was_not_delivered(&self) -> bool {
        self.not_delivered
    }

    /// Appends a retry loop's note (`(after N attempts over X.Xs)`, written by
    /// `retry`) once: a retry loop around another (a session log-in inside a
    /// request) does not note its attempts twice.
    pub(crate) fn note_attempts(mut self, note: impl fmt::Display) -> Self {
        if self.attempts_noted {
            return self;
        }
        self.attempts_noted = true;
        self.with_note(note)
    }

    /// Appends a note to the message: `message (note)`.
    ///
    /// ```
    /// let e = hwctl_core::Error::protocol("bad reply").with_note("after 3 attempts over 2.0s");
    /// assert_eq!(e.message(), "bad reply (after 3 attempts over 2.0s)");
    /// ```
    pub fn with_note(mut self, note: impl fmt::Display) -> Self {
        self.message = format!("{} ({note})", self.message).into();
        self
    }

    /// Puts the error in an interface's context: `driver` becomes the driver (the
    /// hardware type the caller chose), `operation` the operation (the interface
    /// method, such as `power on`). A different operation set before (the wire
    /// operation, such as `Get Chassis Status`) moves to the front of the message,
    /// so nothing is lost.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let e = Error::new(ErrorKind::Timeout, "no reply").with_driver("ipmi")
    ///     .with_operation("Get Chassis Status")
    ///     .in_context("staging-nm", "get power state");
    /// assert_eq!(e.to_string(), "staging-nm: get power state: Get Chassis Status: no reply");
    /// ```
    pub fn in_context(
        self,
        driver: impl Into<Cow<'static, str>>,
        operation: impl Into<Cow<'static, str>>,
    ) -> Self {
        let mut e = self.in_operation(operation);
        e.driver = Some(driver.into());
        e
    }

    /// Names the operation that failed in an outer layer's terms (`power on`), as
    /// [`in_context`](Self::in_context) does, without touching the driver: a
    /// different operation set before (the driver's own, such as `session log-in`
    /// or `Chassis Control`) moves to the front of the message, so nothing is
    /// lost. [`with_operation`](Self::with_operation) replaces it;
    /// [`or_operation`](Self::or_operation) keeps it and drops the new one.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// let e = Error::new(ErrorKind::Unauthenticated, "HTTP 401").with_driver("redfish")
    ///     .with_operation("session log-in")
    ///     .in_operation("power on");
    /// assert_eq!(e.operation(), Some("power on"));
    /// assert_eq!(e.to_string(), "redfish: power on: session log-in: HTTP 401");
    /// // The same operation is not repeated.
    /// let e = Error::protocol("bad reply").with_operation("power on").in_operation("power on");
    /// assert_eq!(e.to_string(), "power on: bad reply");
    /// ```
    pub fn in_operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        let operation = operation.into();
        if let Some(old) = self.operation.take()
            && old != operation
        {
            self.message = format!("{old}: {}", self.message).into();
        }
        self.operation = Some(operation);
        self
    }

    /// What went wrong.
    ///
    /// ```
    /// let err = hwctl_core::Error::unsupported("inject NMI");
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Unsupported);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the driver and operation context.
    ///
    /// ```
    /// let err = hwctl_core::Error::protocol("bad reply").with_driver("ipmi").with_operation("Get Device ID");
    /// assert_eq!(err.message(), "bad reply");
    /// assert_eq!(err.to_string(), "ipmi: Get Device ID: bad reply");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The driver the error came from, if known.
    ///
    /// ```
    /// use hwctl_core::Error;
    /// assert_eq!(Error::protocol("short reply").driver(), None);
    /// assert_eq!(Error::protocol("short reply").with_driver("ocs").driver(), Some("ocs"));
    /// ```
    pub fn driver(&self) -> Option<&str> {
        self.driver.as_deref()
    }

    /// The operation that failed, if known.
    ///
    /// ```
    /// use hwctl_core::Error;
    /// let err = Error::protocol("short reply").with_operation("get power state");
    /// assert_eq!(err.operation(), Some("get power state"));
    /// assert_eq!(err.to_string(), "get power state: short reply");
    /// ```
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// Every parameter problem, for validation errors (empty otherwise).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext};
    /// let err = hwctl_core::fake::hardware_type()
    ///     .build(&DriverInfo::from_pairs([("fake_power_state", "x"), ("fake_delay_ms", "-1")]),
    ///         &NodeContext::new("n1"))
    ///     .unwrap_err();
    /// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(names, ["fake_power_state", "fake_delay_ms"]);
    /// assert!(hwctl_core::Error::protocol("x").problems().is_empty());
    /// ```
    pub fn problems(&self) -> &[ParameterProblem] {
        &self.problems
    }

    /// Whether retrying the same operation unchanged may succeed.
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind};
    /// assert!(Error::new(ErrorKind::Timeout, "no reply").is_retryable());
    /// assert!(!Error::new(ErrorKind::Timeout, "no reply").with_retryable(false).is_retryable());
    /// assert!(!Error::new(ErrorKind::Unauthenticated, "bad password").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retryable
            .unwrap_or_else(|| self.kind.is_retryable_by_default())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(driver) = &self.driver {
            d.field("driver", driver);
        }
        if let Some(op) = &self.operation {
            d.field("operation", op);
        }
        if !self.problems.is_empty() {
            d.field("problems", &self.problems);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(driver) = &self.driver {
            write!(f, "{driver}: ")?;
        }
        if let Some(op) = &self.operation {
            write!(f, "{op}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_is_one_level_and_source_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = Error::new(ErrorKind::Unreachable, "cannot connect to 127.0.0.1:1")
            .with_driver("x")
            .with_source(io);
        assert_eq!(err.to_string(), "x: cannot connect to 127.0.0.1:1");
        assert_eq!(err.source().map(|s| s.to_string()), Some("refused".into()));
    }

    #[test]
    fn retryable_defaults_and_override() {
        assert!(Error::new(ErrorKind::Busy, "b").is_retryable());
        assert!(!Error::new(ErrorKind::DeviceFault, "d").is_retryable());
        assert!(
            Error::new(ErrorKind::DeviceFault, "d")
                .with_retryable(true)
                .is_retryable()
        );
        assert!(
            !Error::new(ErrorKind::Timeout, "t")
                .with_retryable(false)
                .is_retryable()
        );
    }

    #[test]
    fn bad_certificate_is_named_permanent_and_not_an_input_error() {
        let kind = ErrorKind::BadCertificate;
        assert_eq!(kind.as_str(), "bad-certificate");
        assert!(!kind.is_retryable_by_default());
        assert!(!kind.is_input_error());
        assert!(!Error::new(kind, "certificate expired").is_retryable());
    }

    #[test]
    fn only_invalid_problems_give_invalid_kind() {
        let err = Error::invalid_parameter("p", "bad");
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        assert_eq!(err.to_string(), "invalid parameters: p: bad");
        assert_eq!(err.problems().len(), 1);
    }

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<Error>();
    }
}
