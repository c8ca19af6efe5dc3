//! The blade serial console as a byte stream over `StartBladeSerialSession`,
//! `SendBladeSerialData`, `ReceiveBladeSerialData` and `StopBladeSerialSession`.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hwctl_core::{Console, ConsoleHandle, Error, ErrorKind, Result, async_trait};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, mpsc};

use crate::NAME;
use crate::client::OcsClient;
use crate::config::{Blade, OcsConfig};
use crate::wire::{ChassisResponse, Request, SerialDataResponse, StartSerialResponse};

/// Bytes sent per `SendBladeSerialData` (the data travels in the URL).
pub const SEND_CHUNK: usize = 256;

/// Bytes a writer may queue before `write` waits.
const MAX_PENDING_WRITE: usize = 64 * 1024;

/// Chunks received from the blade that may wait for a reader before polling pauses.
const READ_QUEUE: usize = 64;

/// Consecutive transient failures of a serial call tolerated before the stream fails.
const TRANSIENT_RETRIES: u32 = 3;

/// The console interface of one blade.
///
/// [`Console::open`] starts a serial session (`sessionTimeoutInSecs` from
/// [`OcsConfig::console_timeout_secs`]) and returns a stream; a background task sends
/// what is written (in chunks of [`SEND_CHUNK`] bytes) and polls for what the
/// blade prints (every [`OcsConfig::console_poll_interval`] while idle, at once while
/// data flows). Serial data is base64-encoded both ways (see [`crate::wire`]).
/// `shutdown()` stops the session and waits for it; dropping the stream, or a
/// failure of the session, stops it in the background. Opening a blade whose
/// session is taken fails with [`ErrorKind::Busy`]; when the chassis ends the
/// session (`NoActiveSerialSession`), reads return end of stream. Written data the
/// chassis refused as busy is sent again; data it may have received (no reply in
/// time, a cut connection) never is: the stream fails instead.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::Console;
/// use hwctl_ocs::{OcsConfig, OcsConsole};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let sim = hwctl_ocs::sim::OcsSim::start(Default::default()).await?;
/// sim.set_blade_power(5, true);
/// let console = OcsConsole::new(OcsConfig::new(sim.base_url(), 5, "admin", "password")?)?;
/// let mut stream = console.open().await?;
/// stream.write_all(b"help\r").await.unwrap();
/// let mut seen = Vec::new();
/// while !seen.ends_with(b"help\r") {
///     let mut buf = [0u8; 256];
///     let n = stream.read(&mut buf).await.unwrap();
///     seen.extend_from_slice(&buf[..n]);
/// }
/// stream.shutdown().await.unwrap();
/// assert_eq!(sim.stats().active_sessions, 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OcsConsole {
    client: OcsClient,
    blade_id: u32,
    session_timeout_secs: u32,
    poll: Duration,
}

impl OcsConsole {
    /// The console of `config.blade_id`, on the shared client.
    ///
    /// # Errors
    ///
    /// As [`OcsClient::new`].
    pub fn new(config: OcsConfig) -> Result<Self> {
        Ok(OcsConsole::with_client(
            OcsClient::shared(&config)?,
            &config,
        ))
    }

    /// The console of `config.blade_id` on `client`.
    pub fn with_client(client: OcsClient, config: &OcsConfig) -> Self {
        OcsConsole::on_blade(client, &Blade::of(config))
    }

    /// The console of `blade` on `client`.
    pub(crate) fn on_blade(client: OcsClient, blade: &Blade) -> Self {
        OcsConsole {
            client,
            blade_id: blade.blade_id,
            session_timeout_secs: blade.console_timeout_secs,
            poll: blade.console_poll_interval,
        }
    }

    /// Starts the session and returns the concrete stream type.
    ///
    /// # Errors
    ///
    /// `Busy` when the blade already has a session open; `DeviceFault` when it is
    /// off; otherwise as [`OcsClient::call`].
    pub async fn open_stream(&self) -> Result<OcsConsoleStream> {
        let reply: StartSerialResponse = self
            .client
            .call(&Request::StartBladeSerialSession {
                blade_id: self.blade_id,
                session_timeout_secs: self.session_timeout_secs,
                power_on_wait: false,
            })
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::Busy {
                    Error::new(
                        ErrorKind::Busy,
                        format!(
                            "blade {} already has a serial session open: {}",
                            self.blade_id,
                            e.message()
                        ),
                    )
                    .with_driver(NAME)
                    .with_operation("StartBladeSerialSession")
                    .with_source(e)
                } else {
                    e
                }
            })?;
        tracing::info!(blade = self.blade_id, "serial session started");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake_pump: Notify::new(),
        });
        let (tx, rx) = mpsc::channel(READ_QUEUE);
        let pump = Pump {
            client: self.client.clone(),
            blade_id: self.blade_id,
            token: reply.serial_session_token,
            poll: self.poll,
            shared: shared.clone(),
            tx,
        };
        tokio::spawn(pump.run());
        Ok(OcsConsoleStream {
            shared,
            rx,
            chunk: Vec::new(),
            pos: 0,
            blade_id: self.blade_id,
        })
    }
}

#[async_trait]
impl Console for OcsConsole {
    async fn open(&self) -> Result<ConsoleHandle> {
        Ok(Box::new(self.open_stream().await?))
    }
}

#[derive(Default)]
struct State {
    /// Written by the user, not yet sent.
    out: Vec<u8>,
    /// A `SendBladeSerialData` is in flight.
    sending: bool,
    /// Shutdown was asked for or the stream was dropped.
    closing: bool,
    /// The pump has ended (session stopped or lost).
    finished: bool,
    /// Why the session failed, if it did.
    error: Option<(ErrorKind, String)>,
    /// The writer waiting for room, a flush or the shutdown.
    writer: Option<Waker>,
}

struct Shared {
    state: Mutex<State>,
    wake_pump: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn io_error((kind, message): &(ErrorKind, String)) -> io::Error {
    let io_kind = match kind {
        ErrorKind::Timeout => io::ErrorKind::TimedOut,
        ErrorKind::Unreachable => io::ErrorKind::ConnectionReset,
        ErrorKind::Unauthenticated | ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(
        io_kind,
        format!("{NAME} serial console: {message} [{kind}]"),
    )
}

/// An open blade serial console (see [`OcsConsole`]).
pub struct OcsConsoleStream {
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
    blade_id: u32,
}

impl fmt::Debug for OcsConsoleStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcsConsoleStream")
            .field("blade_id", &self.blade_id)
            .finish_non_exhaustive()
    }
}

impl Drop for OcsConsoleStream {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake_pump.notify_one();
    }
}

impl AsyncRead for OcsConsoleStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos >= this.chunk.len() {
            match this.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(chunk)) => {
                    this.chunk = chunk;
                    this.pos = 0;
                    // There is room in the queue again.
                    this.shared.wake_pump.notify_one();
                }
                Poll::Ready(None) => {
                    return Poll::Ready(match &this.shared.lock().error {
                        Some(e) => Err(io_error(e)),
                        None => Ok(()),
                    });
                }
            }
        }
        let n = buf.remaining().min(this.chunk.len() - this.pos);
        buf.put_slice(&this.chunk[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for OcsConsoleStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut st = self.shared.lock();
        if let Some(e) = &st.error {
            return Poll::Ready(Err(io_error(e)));
        }
        if st.closing || st.finished {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the serial session is closed",
            )));
        }
        let room = MAX_PENDING_WRITE.saturating_sub(st.out.len());
        if room == 0 {
            st.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        st.out.extend_from_slice(&buf[..n]);
        drop(st);
        self.shared.wake_pump.notify_one();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.lock();
        if let Some(e) = &st.error {
            return Poll::Ready(Err(io_error(e)));
        }
        if (st.out.is_empty() && !st.sending) || st.finished {
            return Poll::Ready(Ok(()));
        }
        st.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.lock();
        if st.finished {
            return Poll::Ready(match &st.error {
                Some(e) => Err(io_error(e)),
                None => Ok(()),
            });
        }
        st.closing = true;
        st.writer = Some(cx.waker().clone());
        drop(st);
        self.shared.wake_pump.notify_one();
        Poll::Pending
    }
}

/// The background task that owns the session.
struct Pump {
    client: OcsClient,
    blade_id: u32,
    token: String,
    poll: Duration,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Vec<u8>>,
}

enum Ended {
    /// Closed by the user: stop the session.
    Closed,
    /// The chassis ended the session: nothing to stop.
    Lost,
    /// A call failed: report it and stop the session.
    Failed(Error),
}

impl Pump {
    async fn run(self) {
        let ended = self.exchange().await;
        let mut error = None;
        let stop = match ended {
            Ended::Closed => true,
            Ended::Lost => {
                tracing::info!(
                    blade = self.blade_id,
                    "the chassis ended the serial session"
                );
                false
            }
            Ended::Failed(e) => {
                tracing::warn!(blade = self.blade_id, error = %e, "serial session failed");
                error = Some((e.kind(), e.to_string()));
                true
            }
        };
        if stop {
            let r: Result<ChassisResponse> = self
                .client
                .call(&Request::StopBladeSerialSession {
                    blade_id: self.blade_id,
                    session_token: self.token.clone(),
                    force_kill: false,
                })
                .await;
            match r {
                Ok(_) => tracing::info!(blade = self.blade_id, "serial session stopped"),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(blade = self.blade_id, error = %e, "stopping the serial session failed");
                    if error.is_none() {
                        error = Some((e.kind(), e.to_string()));
                    }
                }
            }
        }
        let mut st = self.shared.lock();
        st.finished = true;
        st.error = error;
        st.out.clear();
        if let Some(w) = st.writer.take() {
            w.wake();
        }
        // Dropping `tx` ends the reader's stream after the queued chunks.
    }

    async fn exchange(&self) -> Ended {
        let mut transient = 0u32;
        loop {
            let (chunk, closing) = {
                let mut st = self.shared.lock();
                let n = st.out.len().min(SEND_CHUNK);
                let chunk: Vec<u8> = st.out.drain(..n).collect();
                st.sending = !chunk.is_empty();
                if let Some(w) = st.writer.take() {
                    w.wake();
                }
                (chunk, st.closing)
            };
            if !chunk.is_empty() {
                let r: Result<ChassisResponse> = self
                    .client
                    .call(&Request::SendBladeSerialData {
                        blade_id: self.blade_id,
                        session_token: self.token.clone(),
                        data: chunk.clone(),
                    })
                    .await;
                // `sending` stays set until the outcome is known, so a flush waiting
                // on this chunk sees its failure rather than an empty queue.
                let put_back = match r {
                    Ok(_) => {
                        transient = 0;
                        false
                    }
                    // Serial data is not idempotent (typed twice, a command runs
                    // twice). Only a chassis that said it is busy surely did not take
                    // it; after a timeout or a cut connection it may have, so the
                    // stream fails instead of sending the data again.
                    Err(e) if !matches!(e.kind(), ErrorKind::Busy | ErrorKind::NotFound) => {
                        return Ended::Failed(
                            Error::new(
                                e.kind(),
                                format!(
                                    "{} byte(s) of serial data may or may not have reached \
                                     blade {}; not resent: {}",
                                    chunk.len(),
                                    self.blade_id,
                                    e.message()
                                ),
                            )
                            .with_retryable(false)
                            .with_source(e),
                        );
                    }
                    Err(e) => match self.on_error(e, &mut transient).await {
                        Some(end) => return end,
                        None => true,
                    },
                };
                let mut st = self.shared.lock();
                if put_back {
                    // Refused, not delivered: put it back in front of what came later.
                    let later = std::mem::replace(&mut st.out, chunk);
                    st.out.extend(later);
                }
                st.sending = false;
                if let Some(w) = st.writer.take() {
                    w.wake();
                }
                continue;
            }
            if closing {
                return Ended::Closed;
            }
            if self.tx.is_closed() {
                return Ended::Closed;
            }
            let mut got_data = false;
            if self.tx.capacity() > 0 {
                let r: Result<SerialDataResponse> = self
                    .client
                    .call(&Request::ReceiveBladeSerialData {
                        blade_id: self.blade_id,
                        session_token: self.token.clone(),
                    })
                    .await;
                match r {
                    Ok(reply) => {
                        transient = 0;
                        if !reply.data.is_empty() {
                            got_data = true;
                            if self.tx.try_send(reply.data).is_err() {
                                return Ended::Closed;
                            }
                        }
                    }
                    Err(e) => match self.on_error(e, &mut transient).await {
                        Some(end) => return end,
                        None => continue,
                    },
                }
            }
            if !got_data {
                tokio::select! {
                    _ = self.shared.wake_pump.notified() => {}
                    _ = tokio::time::sleep(self.poll) => {}
                }
            }
        }
    }

    /// Decides what a failed serial call means: `None` to go on after a pause.
    async fn on_error(&self, e: Error, transient: &mut u32) -> Option<Ended> {
        if e.kind() == ErrorKind::NotFound {
            return Some(Ended::Lost);
        }
        if e.is_retryable() && *transient < TRANSIENT_RETRIES {
            *transient += 1;
            tracing::debug!(blade = self.blade_id, error = %e, "transient serial failure");
            tokio::time::sleep(self.poll.max(Duration::from_millis(50)) * *transient).await;
            return None;
        }
        Some(Ended::Failed(e))
    }
}
