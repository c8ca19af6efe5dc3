//! The blade serial console as a byte stream over `StartBladeSerialSession`,
//! `SendBladeSerialData`, `ReceiveBladeSerialData` and `StopBladeSerialSession`.

use std::time::Duration;

use hwctl_core::console::pumped::{self, PumpSide, PumpedStream, Pushed, Settings};
use hwctl_core::{Console, ConsoleHandle, Error, ErrorKind, Result, async_trait};

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
        let (stream, side) = pumped::channel(
            Settings::new(
                format!("{NAME} serial console"),
                "the serial session is closed",
            )
            .max_pending_write(MAX_PENDING_WRITE)
            .read_queue(READ_QUEUE)
            // Polling pauses while the read queue is full: a read makes room.
            .wake_pump_on_read()
            .debug_as("OcsConsoleStream", &[("blade_id", &self.blade_id)]),
        );
        let pump = Pump {
            client: self.client.clone(),
            blade_id: self.blade_id,
            token: reply.serial_session_token,
            poll: self.poll,
            side,
        };
        tokio::spawn(pump.run());
        Ok(stream)
    }
}

#[async_trait]
impl Console for OcsConsole {
    async fn open(&self) -> Result<ConsoleHandle> {
        Ok(Box::new(self.open_stream().await?))
    }
}

/// An open blade serial console (see [`OcsConsole`]): a
/// [`PumpedStream`] whose `{:?}` reads
/// `OcsConsoleStream { blade_id: 5, .. }`.
///
/// Errors of a failed session read `msftocs serial console: <message> [<kind>]`;
/// a write after `shutdown()` or the end of the session fails with `BrokenPipe`
/// ("the serial session is closed"); a `flush` after the end of the session
/// succeeds.
pub type OcsConsoleStream = PumpedStream;

/// The background task that owns the session.
struct Pump {
    client: OcsClient,
    blade_id: u32,
    token: String,
    poll: Duration,
    side: PumpSide,
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
        let mut st = self.side.lock();
        st.discard_queued();
        st.finish(error);
        // Dropping `side` ends the reader's stream after the queued chunks.
    }

    async fn exchange(&self) -> Ended {
        let mut transient = 0u32;
        loop {
            let (chunk, closing) = {
                let mut st = self.side.lock();
                let chunk = st.take(SEND_CHUNK);
                st.set_in_flight(!chunk.is_empty());
                st.wake_writer();
                (chunk, st.closing())
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
                // The in-flight mark stays set until the outcome is known, so a flush waiting
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
                let mut st = self.side.lock();
                if put_back {
                    // Refused, not delivered: put it back in front of what came later.
                    st.put_back(chunk);
                }
                st.set_in_flight(false);
                st.wake_writer();
                continue;
            }
            if closing {
                return Ended::Closed;
            }
            if self.side.reader_gone() {
                return Ended::Closed;
            }
            let mut got_data = false;
            if self.side.reader_has_room() {
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
                            if self.side.push(reply.data) != Pushed::Queued {
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
                    _ = self.side.woken() => {}
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
