//! One DxP exchange per TCP connection, serialized per PDU.
//!
//! Every operation opens a fresh connection (as python-iboot did), with a connect
//! timeout and a timeout on every read and write. Operations on the same PDU
//! address (host and port as written in `driver_info`) hold a per-PDU lock
//! ([`PduLock`], shared through [`hwctl_core::shared::Shared`]) for the whole exchange,
//! process-wide, so the operations of many nodes behind one PDU never interleave a
//! handshake. Retries are the caller's ([`crate::IbootPower`] retries by the
//! config's [`RetryPolicy`](hwctl_core::retry::RetryPolicy)); this module marks the
//! failures that happened before the command was sent as
//! [not delivered](hwctl_core::Error::was_not_delivered).

use std::fmt;
use std::io;
use std::sync::Arc;

use hwctl_core::address::Host;
use hwctl_core::shared::{EndpointKey, Shared};
use hwctl_core::{Error, ErrorKind, ExposeSecret, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{debug, trace};

use crate::config::IbootConfig;
use crate::{NAME, wire};

/// The lock that serializes DxP exchanges with one PDU: every client of the same
/// address and port holds it for a whole exchange (greeting, sequence number,
/// command, answer), so two exchanges never interleave on the device.
///
/// One per PDU per process, through [`Shared::global`] (scope: the process); a test
/// or an embedder that wants isolation passes its own [`Shared<PduLock>`] to
/// [`IbootClient::with_locks`].
#[derive(Debug, Default)]
pub struct PduLock(tokio::sync::Mutex<()>);

/// The key of a PDU's lock: protocol `dxp`, host (as written, case-insensitive) and
/// port. No user: the PDU serializes exchanges whoever sends them.
fn lock_key(config: &IbootConfig) -> EndpointKey {
    EndpointKey::new("dxp", &config.address, config.port)
}

/// A DxP client for one PDU and one set of credentials.
///
/// Cheap to clone; every clone, and every client of the same address and port that
/// uses the same lock map (by default the process-wide one), shares the per-PDU
/// lock.
#[derive(Clone)]
pub struct IbootClient {
    config: Arc<IbootConfig>,
    lock: Arc<PduLock>,
    /// The credentials laid out once, when the client is made; `None` when they
    /// do not fit DxP (every exchange then fails before connecting, with why).
    template: Option<Arc<wire::RequestTemplate>>,
}

impl fmt::Debug for IbootClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IbootClient")
            .field("address", &self.config.address)
            .field("port", &self.config.port)
            .field("username", &self.config.username)
            .finish_non_exhaustive()
    }
}

impl IbootClient {
    /// A client for the PDU of `config`, serialized with every other client of the
    /// same PDU in this process ([`Shared::global`]).
    pub fn new(config: IbootConfig) -> Self {
        IbootClient::with_locks(config, &Shared::global())
    }

    /// A client for the PDU of `config` whose per-PDU lock comes from `locks` (a
    /// map of one's own isolates a test from the rest of the process).
    pub fn with_locks(config: IbootConfig, locks: &Shared<PduLock>) -> Self {
        let lock = locks
            .get_or_try_insert(&lock_key(&config), || Ok(PduLock::default()))
            // `make` cannot fail; a private lock would still serialize this client.
            .unwrap_or_else(|_| Arc::new(PduLock::default()));
        let template = wire::RequestTemplate::new(
            config.username.as_bytes(),
            config.password().expose_secret().as_bytes(),
        )
        .ok()
        .map(Arc::new);
        IbootClient {
            config: Arc::new(config),
            lock,
            template,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &IbootConfig {
        &self.config
    }

    fn endpoint(&self) -> String {
        match Host::parse(&self.config.address) {
            Ok(h) => h.with_port(self.config.port),
            Err(_) => format!("{}:{}", self.config.address, self.config.port),
        }
    }

    /// Connects to the PDU: an IP literal (brackets and IPv6 zone understood, the
    /// zone as the scope id) directly, a name through the resolver — the parser
    /// `iboot_address` was validated with (`hwctl_core::address::Host`).
    ///
    /// An address that cannot work on this host (a zone naming no interface) is
    /// the node's configuration: `InvalidParameter`, not `Unreachable`.
    async fn connect(&self) -> Result<std::io::Result<TcpStream>> {
        let invalid = |why: String| {
            self.err(
                ErrorKind::InvalidParameter,
                format!("iboot_address {:?} {why}", self.config.address),
            )
        };
        let host = Host::parse(&self.config.address).map_err(invalid)?;
        let literal = host
            .socket_addr(self.config.port)
            .map_err(|why| invalid(format!("cannot be used here: {why}")))?;
        Ok(match literal {
            Some(addr) => TcpStream::connect(addr).await,
            None => TcpStream::connect((host.name().unwrap_or_default(), self.config.port)).await,
        })
    }

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error::new(kind, format!("{}: {}", self.endpoint(), msg.into())).with_driver(NAME)
    }

    /// Switches `relay` (1-based) on or off (CHANGE_RELAY), in one exchange, without
    /// retrying.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::DeviceFault`]: the PDU refused (wrong credentials, no such relay);
    /// - [`ErrorKind::Unreachable`]: connection refused or reset (marked
    ///   [not delivered](Error::was_not_delivered) when the command was never sent);
    /// - [`ErrorKind::Timeout`]: no connection or no answer within the config's timeout;
    /// - [`ErrorKind::Protocol`]: an answer that is not DxP, or a connection closed early;
    /// - [`ErrorKind::InvalidParameter`]: relay 0, or credentials that do not fit DxP.
    pub async fn change_relay(&self, relay: u8, on: bool) -> Result<()> {
        let template = self.template()?;
        if relay == 0 {
            return Err(Error::from(wire::WireError::RelayZero)
                .with_driver(NAME)
                .not_delivered());
        }
        let reply = self
            .exchange("CHANGE_RELAY", 1, |seq, frame| {
                template
                    .write_change_relay(frame, seq, relay, on)
                    .map_err(|e| self.wire_error(e))
            })
            .await?;
        let byte = reply.first().copied().unwrap_or(0xff);
        match wire::decode_change_relay_reply(byte) {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.err(
                ErrorKind::DeviceFault,
                format!(
                    "the PDU refused to switch relay {relay} {} (wrong credentials, or no such relay)",
                    if on { "on" } else { "off" }
                ),
            )),
            Err(e) => Err(self.wire_error(e)),
        }
    }

    /// Reads the states of relays `1..=count` (GET_RELAYS; `true` = on), in one
    /// exchange, without retrying.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::NotFound`]: the PDU closed the connection after fewer than
    ///   `count` (but at least one) bytes: it has fewer relays;
    /// - [`ErrorKind::Protocol`]: a relay byte other than 0 or 1, or the connection
    ///   closed without an answer (which is also what wrong credentials look like);
    /// - [`ErrorKind::Unreachable`], [`ErrorKind::Timeout`], as for
    ///   [`change_relay`](Self::change_relay).
    pub async fn get_relays(&self, count: u8) -> Result<wire::RelayStates> {
        let template = self.template()?;
        let reply = self
            .exchange("GET_RELAYS", usize::from(count), |seq, frame| {
                template.write_get_relays(frame, seq);
                Ok(())
            })
            .await?;
        wire::decode_relays(&reply).map_err(|e| self.wire_error(e))
    }

    /// The request template, or why the credentials do not fit DxP (checked again
    /// here to name the field; the template was refused when the client was made).
    fn template(&self) -> Result<&wire::RequestTemplate> {
        match &self.template {
            Some(t) => Ok(t),
            None => {
                let c = &self.config;
                let e = wire::RequestTemplate::new(
                    c.username.as_bytes(),
                    c.password().expose_secret().as_bytes(),
                )
                .err()
                .unwrap_or_else(|| {
                    Error::invalid_parameter("iboot_username", "changed after the client was made")
                });
                Err(e.with_driver(NAME).not_delivered())
            }
        }
    }

    /// A codec error with this PDU's endpoint and the driver's name.
    fn wire_error(&self, e: wire::WireError) -> Error {
        let e = Error::from(e);
        self.err(e.kind(), e.message().to_owned())
    }

    async fn exchange(
        &self,
        what: &'static str,
        reply_len: usize,
        request: impl FnOnce(u16, &mut wire::Frame) -> Result<()>,
    ) -> Result<Vec<u8>> {
        let _guard = self.lock.0.lock().await;
        let t = self.config.timeout;
        let endpoint = self.endpoint();
        trace!(%endpoint, what, "dxp exchange");
        let mut stream = match tokio::time::timeout(t, self.connect()).await {
            Err(_) => {
                return Err(self
                    .err(
                        ErrorKind::Timeout,
                        format!("no connection within {:.2}s", t.as_secs_f64()),
                    )
                    .not_delivered());
            }
            Ok(Err(e)) => return Err(e.not_delivered()),
            Ok(Ok(Err(e))) => {
                return Err(self
                    .err(ErrorKind::Unreachable, format!("cannot connect: {e}"))
                    .with_source(e)
                    .not_delivered());
            }
            Ok(Ok(Ok(s))) => s,
        };
        let _ = stream.set_nodelay(true);
        // Until the command is written, nothing has reached the device: a failure
        // here may be retried even for a command that is not idempotent.
        self.write(&mut stream, wire::HELLO, "the greeting")
            .await
            .map_err(Error::not_delivered)?;
        let seq_bytes = self
            .read(&mut stream, wire::SEQUENCE_LEN, "the sequence number")
            .await
            .map_err(|f| self.read_error(f).not_delivered())?;
        let mut seq = [0u8; wire::SEQUENCE_LEN];
        seq.copy_from_slice(&seq_bytes);
        let seq = wire::next_sequence(seq);
        let mut frame = wire::Frame::EMPTY;
        request(seq, &mut frame).map_err(Error::not_delivered)?;
        self.write(&mut stream, &frame, what).await?;
        let reply = match self.read(&mut stream, reply_len, "the reply").await {
            Ok(r) => r,
            // GET_RELAYS answers one byte per relay the PDU has: fewer bytes than
            // the node's relay number means the relay does not exist.
            Err(ReadFail::Closed { got, .. }) if what == "GET_RELAYS" && got > 0 => {
                return Err(self.err(
                    ErrorKind::NotFound,
                    format!("relay {reply_len} does not exist: the PDU reported {got} relay(s)"),
                ));
            }
            Err(f) => return Err(self.read_error(f)),
        };
        let _ = stream.shutdown().await;
        debug!(%endpoint, what, seq, "dxp exchange done");
        Ok(reply)
    }

    async fn write(&self, stream: &mut TcpStream, bytes: &[u8], what: &str) -> Result<()> {
        let t = self.config.timeout;
        match tokio::time::timeout(t, stream.write_all(bytes)).await {
            Err(_) => Err(self.err(
                ErrorKind::Timeout,
                format!("sending {what} took longer than {:.2}s", t.as_secs_f64()),
            )),
            Ok(Err(e)) => Err(self.io_error(e, &format!("sending {what}"))),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn read(
        &self,
        stream: &mut TcpStream,
        n: usize,
        what: &'static str,
    ) -> std::result::Result<Vec<u8>, ReadFail> {
        let t = self.config.timeout;
        let mut buf = vec![0u8; n];
        let mut got = 0usize;
        let deadline = tokio::time::Instant::now() + t;
        while got < n {
            let Some(slot) = buf.get_mut(got..) else {
                break;
            };
            match tokio::time::timeout_at(deadline, stream.read(slot)).await {
                Err(_) => return Err(ReadFail::Timeout { got, n, what }),
                Ok(Ok(0)) => return Err(ReadFail::Closed { got, n, what }),
                Ok(Ok(k)) => got += k,
                Ok(Err(e)) => return Err(ReadFail::Io(e, what)),
            }
        }
        Ok(buf)
    }

    fn read_error(&self, f: ReadFail) -> Error {
        match f {
            ReadFail::Timeout { got, n, what } => self.err(
                ErrorKind::Timeout,
                format!(
                    "{what} did not arrive within {:.2}s ({got} of {n} bytes received)",
                    self.config.timeout.as_secs_f64()
                ),
            ),
            // DxP has no error reply: a PDU that refuses the credentials just closes
            // the connection without a byte, so the likeliest cause is named.
            ReadFail::Closed { got: 0, n, what } => self.err(
                ErrorKind::Protocol,
                format!(
                    "the PDU closed the connection without {what} (0 of {n} bytes): check \
                     iboot_username and iboot_password, which DxP refuses this way"
                ),
            ),
            ReadFail::Closed { got, n, what } => self.err(
                ErrorKind::Protocol,
                format!("the PDU closed the connection after {got} of {n} bytes of {what}"),
            ),
            ReadFail::Io(e, what) => self.io_error(e, &format!("reading {what}")),
        }
    }

    fn io_error(&self, e: io::Error, doing: &str) -> Error {
        let kind = match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected => ErrorKind::Unreachable,
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Other,
        };
        self.err(kind, format!("{doing}: {e}")).with_source(e)
    }
}

#[derive(Debug)]
enum ReadFail {
    Timeout {
        got: usize,
        n: usize,
        what: &'static str,
    },
    Closed {
        got: usize,
        n: usize,
        what: &'static str,
    },
    Io(io::Error, &'static str),
}
