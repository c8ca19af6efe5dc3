//! One DxP exchange per TCP connection, serialized per PDU.
//!
//! Every operation opens a fresh connection (as python-iboot did), with a connect
//! timeout and a timeout on every read and write. Operations on the same PDU
//! address (host and port as written in `driver_info`) hold a per-endpoint lock
//! for the whole exchange, process-wide, so the operations of many nodes behind one
//! PDU never interleave a handshake.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use hw_core::{Error, ErrorKind, ExposeSecret, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{debug, trace};

use crate::config::IbootConfig;
use crate::{NAME, wire};

type EndpointLock = tokio::sync::Mutex<()>;

type LockMap = HashMap<(String, u16), Weak<EndpointLock>>;

static ENDPOINT_LOCKS: LazyLock<Mutex<LockMap>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The lock shared by every client of `host:port` alive in this process.
fn endpoint_lock(host: &str, port: u16) -> Arc<EndpointLock> {
    let key = (host.to_ascii_lowercase(), port);
    let Ok(mut map) = ENDPOINT_LOCKS.lock() else {
        // A poisoned map only means another thread panicked while inserting; a
        // private lock still serializes this client's own operations.
        return Arc::new(EndpointLock::new(()));
    };
    if let Some(lock) = map.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    map.retain(|_, w| w.strong_count() > 0);
    let lock = Arc::new(EndpointLock::new(()));
    map.insert(key, Arc::downgrade(&lock));
    lock
}

/// A DxP client for one PDU and one set of credentials.
///
/// Cheap to clone; every clone, and every client of the same address and port in
/// the process, shares the per-PDU lock.
#[derive(Clone)]
pub struct DxpClient {
    config: Arc<IbootConfig>,
    lock: Arc<EndpointLock>,
}

impl fmt::Debug for DxpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DxpClient")
            .field("address", &self.config.address)
            .field("port", &self.config.port)
            .field("username", &self.config.username)
            .finish_non_exhaustive()
    }
}

impl DxpClient {
    /// A client for the PDU of `config`.
    pub fn new(config: IbootConfig) -> Self {
        let lock = endpoint_lock(&config.address, config.port);
        DxpClient {
            config: Arc::new(config),
            lock,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &IbootConfig {
        &self.config
    }

    fn endpoint(&self) -> String {
        if self.config.address.contains(':') && !self.config.address.starts_with('[') {
            format!("[{}]:{}", self.config.address, self.config.port)
        } else {
            format!("{}:{}", self.config.address, self.config.port)
        }
    }

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error::new(kind, format!("{}: {}", self.endpoint(), msg.into())).with_driver(NAME)
    }

    /// Switches `relay` on or off (CHANGE_RELAY). A refusal by the device (wrong
    /// credentials, no such relay) is a [`ErrorKind::DeviceFault`].
    pub async fn change_relay(&self, relay: u8, on: bool) -> Result<()> {
        let c = &self.config;
        let reply = self
            .exchange("CHANGE_RELAY", 1, |seq| {
                wire::encode_change_relay(
                    c.username.as_bytes(),
                    c.password().expose_secret().as_bytes(),
                    seq,
                    relay,
                    on,
                )
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
            Err(e) => Err(self.err(e.kind(), e.message().to_owned())),
        }
    }

    /// Reads the states of relays `1..=count` (GET_RELAYS; `true` = on).
    ///
    /// A device that closes the connection after fewer than `count` bytes has fewer
    /// relays: [`ErrorKind::NotFound`].
    pub async fn get_relays(&self, count: u8) -> Result<Vec<bool>> {
        let c = &self.config;
        let reply = self
            .exchange("GET_RELAYS", usize::from(count), |seq| {
                wire::encode_get_relays(
                    c.username.as_bytes(),
                    c.password().expose_secret().as_bytes(),
                    seq,
                )
            })
            .await?;
        wire::decode_relays(&reply).map_err(|e| self.err(e.kind(), e.message().to_owned()))
    }

    async fn exchange(
        &self,
        what: &'static str,
        reply_len: usize,
        request: impl FnOnce(u16) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let _guard = self.lock.lock().await;
        let t = self.config.timeout;
        let endpoint = self.endpoint();
        trace!(%endpoint, what, "dxp exchange");
        let mut stream = match tokio::time::timeout(
            t,
            TcpStream::connect((self.config.address.as_str(), self.config.port)),
        )
        .await
        {
            Err(_) => {
                return Err(self.err(
                    ErrorKind::Timeout,
                    format!("no connection within {:.2}s", t.as_secs_f64()),
                ));
            }
            Ok(Err(e)) => {
                return Err(self
                    .err(ErrorKind::Unreachable, format!("cannot connect: {e}"))
                    .with_source(e));
            }
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        self.write(&mut stream, wire::HELLO, "the greeting").await?;
        let seq_bytes = self
            .read(&mut stream, wire::SEQUENCE_LEN, "the sequence number")
            .await
            .map_err(|f| self.read_error(f))?;
        let mut seq = [0u8; wire::SEQUENCE_LEN];
        seq.copy_from_slice(&seq_bytes);
        let seq = wire::next_sequence(seq);
        let frame = request(seq)?;
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
                    "no {what} within {:.2}s ({got} of {n} bytes received)",
                    self.config.timeout.as_secs_f64()
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
