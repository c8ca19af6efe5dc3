//! A console stream fed by a background task: the user-facing half that
//! protocol crates share, whatever carries the characters.
//!
//! A protocol crate's console (OCS blade serial sessions polled over HTTP, IPMI
//! Serial over LAN packets over UDP) is a task, the *pump*, that owns the device
//! session, and a stream the user reads and writes. [`channel`] makes the two
//! ends: a [`PumpedStream`] for the user (`AsyncRead + AsyncWrite`, so a
//! [`ConsoleStream`](super::ConsoleStream)) and a [`PumpSide`] for the pump.
//!
//! # What the stream does
//!
//! - `write` queues bytes for the pump, up to [`Settings::max_pending_write`]
//!   bytes (64 KiB unless set); with the queue full it waits for the pump to
//!   take some. It wakes the pump.
//! - `flush` waits until the queue is empty and nothing is in flight (the pump
//!   took bytes and does not know their fate yet, [`PumpState::set_in_flight`]).
//! - `shutdown` marks the stream closing, wakes the pump and waits until the
//!   pump has finished; dropping the stream marks it closing and wakes the pump
//!   without waiting.
//! - `read` returns the chunks the pump pushed ([`PumpSide::push`]), in order,
//!   then, once the pump has dropped its [`PumpSide`], end of stream (`Ok(0)`),
//!   or the error the pump finished with.
//!
//! # The contract of the pump
//!
//! - Wait for work with [`PumpSide::woken`] (besides its own timers and I/O):
//!   every write, shutdown and drop of the stream wakes it (one stored wake-up,
//!   as [`tokio::sync::Notify::notify_one`]).
//! - Take bytes to send with [`PumpState::take`]; mark them in flight until
//!   their fate is known; [`PumpState::put_back`] what the device refused (it
//!   goes in front of what was written later).
//! - Call [`PumpState::wake_writer`] whenever room appears in the queue or the
//!   in-flight mark clears: a writer waiting for room or a flush sleeps until then.
//! - Watch [`PumpState::closing`]: the user asked to shut down or dropped the
//!   stream; end the device session (sending what is queued first, if the
//!   protocol wants it).
//! - End with [`PumpState::finish`] (once, with the error if the session failed;
//!   it wakes the writer), then drop the [`PumpSide`]: the reader gets the chunks
//!   still queued, then end of stream or the error. A [`PumpSide`] dropped
//!   without [`PumpState::finish`] (the pump task was cancelled, or its runtime
//!   shut down) finishes the stream with an `Other` error saying so: `shutdown`,
//!   `flush` and a waiting `write` end instead of waiting for a pump that is gone.
//!
//! # Errors
//!
//! Once the pump finished with an error `(kind, message)`, `read` (after the
//! queued chunks), `write`, `flush` and `shutdown` fail with an [`io::Error`]
//! whose text is `"{error_prefix}: {message} [{kind}]"` and whose
//! [`io::ErrorKind`] is mapped from the [`ErrorKind`]:
//!
//! | [`ErrorKind`] | [`io::ErrorKind`] |
//! | --- | --- |
//! | `Timeout` | `TimedOut` |
//! | `Unreachable` | `ConnectionReset` |
//! | `Unauthenticated`, `PermissionDenied` | `PermissionDenied` |
//! | any other | `Other` |
//!
//! Writing to a stream that is closing or finished (without error) fails with
//! `BrokenPipe` and [`Settings::new`]'s `closed_message`. A `flush` after the
//! pump finished without error, with bytes still queued or in flight, succeeds,
//! or fails with `BrokenPipe` where [`Settings::unsent_at_end_fails`] says so.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use hwctl_core::console::pumped::{self, Settings};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let (mut stream, pump) = pumped::channel(Settings::new("echo console", "the echo session is closed"));
//! // A pump that echoes what is written, until the stream closes.
//! tokio::spawn(async move {
//!     loop {
//!         let (bytes, closing) = {
//!             let mut st = pump.lock();
//!             let bytes = st.take(256);
//!             st.wake_writer();
//!             (bytes, st.closing())
//!         };
//!         if !bytes.is_empty() {
//!             pump.push(bytes);
//!         } else if closing {
//!             pump.lock().finish(None);
//!             return;
//!         } else {
//!             pump.woken().await;
//!         }
//!     }
//! });
//! stream.write_all(b"hello").await.unwrap();
//! let mut buf = [0u8; 5];
//! stream.read_exact(&mut buf).await.unwrap();
//! assert_eq!(&buf, b"hello");
//! stream.shutdown().await.unwrap();
//! assert_eq!(stream.read(&mut buf).await.unwrap(), 0); // end of stream
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, mpsc};

use crate::error::ErrorKind;

/// How a [`PumpedStream`] words its errors and bounds its queues (see the
/// [module documentation](self)).
#[derive(Debug, Clone)]
pub struct Settings {
    error_prefix: String,
    closed_message: String,
    unsent_at_end: Option<String>,
    wake_pump_on_read: bool,
    max_pending_write: usize,
    read_queue: usize,
    /// How `{:?}` shows the stream: a type name and rendered fields.
    debug_as: Option<(&'static str, Vec<(&'static str, String)>)>,
}

impl Settings {
    /// Settings whose pump errors read `"{error_prefix}: {message} [{kind}]"` and
    /// whose writes after close fail with `closed_message` (`BrokenPipe`); writes
    /// queue up to 64 KiB, reads up to 64 chunks; a `flush` after the pump
    /// finished succeeds; reading does not wake the pump.
    ///
    /// ```
    /// use hwctl_core::console::pumped::Settings;
    /// let s = Settings::new("IPMI Serial over LAN", "the SOL session is closed");
    /// assert_eq!(s.max_pending_write_bytes(), 64 * 1024);
    /// ```
    pub fn new(error_prefix: impl Into<String>, closed_message: impl Into<String>) -> Self {
        Settings {
            error_prefix: error_prefix.into(),
            closed_message: closed_message.into(),
            unsent_at_end: None,
            wake_pump_on_read: false,
            max_pending_write: 64 * 1024,
            read_queue: 64,
            debug_as: None,
        }
    }

    /// How `{:?}` shows the stream: `name { field: value, .. }`, each value as
    /// its own `{:?}` renders it when the settings are made (never pass a
    /// secret). Without it: `PumpedStream { console: "<error_prefix>", .. }`.
    ///
    /// ```
    /// use hwctl_core::console::pumped::{self, Settings};
    /// let settings = Settings::new("msftocs serial console", "the serial session is closed")
    ///     .debug_as("OcsConsoleStream", &[("blade_id", &5u32)]);
    /// let (stream, _pump) = pumped::channel(settings);
    /// assert_eq!(format!("{stream:?}"), "OcsConsoleStream { blade_id: 5, .. }");
    /// ```
    #[must_use]
    pub fn debug_as(
        mut self,
        name: &'static str,
        fields: &[(&'static str, &dyn fmt::Debug)],
    ) -> Self {
        let fields = fields.iter().map(|(k, v)| (*k, format!("{v:?}"))).collect();
        self.debug_as = Some((name, fields));
        self
    }

    /// A `flush` after the pump finished without error, with bytes queued or in
    /// flight, fails with `BrokenPipe` and `message` (it succeeds otherwise).
    #[must_use]
    pub fn unsent_at_end_fails(mut self, message: impl Into<String>) -> Self {
        self.unsent_at_end = Some(message.into());
        self
    }

    /// Reading a chunk wakes the pump (for a pump that pauses receiving while
    /// the read queue is full, [`PumpSide::reader_has_room`]).
    #[must_use]
    pub fn wake_pump_on_read(mut self) -> Self {
        self.wake_pump_on_read = true;
        self
    }

    /// The bytes a writer may queue before `write` waits (at least 1).
    #[must_use]
    pub fn max_pending_write(mut self, bytes: usize) -> Self {
        self.max_pending_write = bytes.max(1);
        self
    }

    /// The chunks the pump may push before [`PumpSide::push`] says
    /// [`Pushed::Full`] (at least 1).
    #[must_use]
    pub fn read_queue(mut self, chunks: usize) -> Self {
        self.read_queue = chunks.max(1);
        self
    }

    /// The bytes a writer may queue before `write` waits.
    pub fn max_pending_write_bytes(&self) -> usize {
        self.max_pending_write
    }

    fn io_error(&self, (kind, message): &(ErrorKind, String)) -> io::Error {
        let io_kind = match kind {
            ErrorKind::Timeout => io::ErrorKind::TimedOut,
            ErrorKind::Unreachable => io::ErrorKind::ConnectionReset,
            ErrorKind::Unauthenticated | ErrorKind::PermissionDenied => {
                io::ErrorKind::PermissionDenied
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(
            io_kind,
            format!("{}: {message} [{kind}]", self.error_prefix),
        )
    }
}

/// Makes the two ends of a pumped console: the user's stream and the pump's side.
pub fn channel(settings: Settings) -> (PumpedStream, PumpSide) {
    let (tx, rx) = mpsc::channel(settings.read_queue);
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        wake_pump: Notify::new(),
        settings,
    });
    (
        PumpedStream {
            shared: shared.clone(),
            rx,
            chunk: Vec::new(),
            pos: 0,
        },
        PumpSide { shared, tx },
    )
}

#[derive(Default)]
struct State {
    /// Written by the user, not yet taken by the pump.
    out: Vec<u8>,
    /// The pump took bytes and does not know yet whether they arrived.
    in_flight: bool,
    /// Shutdown was asked for or the stream was dropped.
    closing: bool,
    /// The pump has ended.
    finished: bool,
    /// Why the pump failed, if it did.
    error: Option<(ErrorKind, String)>,
    /// The writer waiting for room, a flush or the shutdown.
    writer: Option<Waker>,
}

struct Shared {
    state: Mutex<State>,
    wake_pump: Notify,
    settings: Settings,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The user's end of a pumped console (see the [module documentation](self)).
pub struct PumpedStream {
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl fmt::Debug for PumpedStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A value already rendered with `{:?}`.
        struct Rendered<'a>(&'a str);
        impl fmt::Debug for Rendered<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        let settings = &self.shared.settings;
        match &settings.debug_as {
            Some((name, fields)) => {
                let mut d = f.debug_struct(name);
                for (field, value) in fields {
                    d.field(field, &Rendered(value));
                }
                d.finish_non_exhaustive()
            }
            None => f
                .debug_struct("PumpedStream")
                .field("console", &settings.error_prefix)
                .finish_non_exhaustive(),
        }
    }
}

impl Drop for PumpedStream {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake_pump.notify_one();
    }
}

impl AsyncRead for PumpedStream {
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
                    if this.shared.settings.wake_pump_on_read {
                        // There is room in the queue again.
                        this.shared.wake_pump.notify_one();
                    }
                }
                Poll::Ready(None) => {
                    return Poll::Ready(match &this.shared.lock().error {
                        Some(e) => Err(this.shared.settings.io_error(e)),
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

impl AsyncWrite for PumpedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let settings = &self.shared.settings;
        let mut st = self.shared.lock();
        if let Some(e) = &st.error {
            return Poll::Ready(Err(settings.io_error(e)));
        }
        if st.closing || st.finished {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                settings.closed_message.clone(),
            )));
        }
        let room = settings.max_pending_write.saturating_sub(st.out.len());
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
        let settings = &self.shared.settings;
        let mut st = self.shared.lock();
        if let Some(e) = &st.error {
            return Poll::Ready(Err(settings.io_error(e)));
        }
        if st.out.is_empty() && !st.in_flight {
            return Poll::Ready(Ok(()));
        }
        if st.finished {
            return Poll::Ready(match &settings.unsent_at_end {
                Some(message) => Err(io::Error::new(io::ErrorKind::BrokenPipe, message.clone())),
                None => Ok(()),
            });
        }
        st.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.lock();
        if st.finished {
            return Poll::Ready(match &st.error {
                Some(e) => Err(self.shared.settings.io_error(e)),
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

/// The pump's end of a pumped console (see the [module documentation](self)).
///
/// Dropping it ends the reader's stream after the chunks pushed so far; dropped
/// without [`PumpState::finish`], it finishes the stream with an
/// [`ErrorKind::Other`] error (`"the console's task ended without closing the
/// session"`), so nothing waits on a pump that is gone.
pub struct PumpSide {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Vec<u8>>,
}

impl fmt::Debug for PumpSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PumpSide")
            .field("console", &self.shared.settings.error_prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for PumpSide {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if !st.finished {
            st.finished = true;
            st.error = Some((
                ErrorKind::Other,
                "the console's task ended without closing the session (cancelled, or its \
                 runtime shut down)"
                    .to_owned(),
            ));
            if let Some(w) = st.writer.take() {
                w.wake();
            }
        }
    }
}

/// What [`PumpSide::push`] did with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued for the reader.
    Queued,
    /// The read queue is full ([`Settings::read_queue`]): the chunk was dropped.
    Full,
    /// The stream was dropped: nobody reads; the chunk was dropped.
    ReaderGone,
}

impl PumpSide {
    /// Locks the shared state (a plain mutex: do not hold it across an `.await`).
    pub fn lock(&self) -> PumpState<'_> {
        PumpState(self.shared.lock())
    }

    /// Waits until the stream wakes the pump (a write, a read where
    /// [`Settings::wake_pump_on_read`], a shutdown, a drop); a wake-up given
    /// while the pump was not waiting is kept for the next call.
    pub fn woken(&self) -> impl Future<Output = ()> + Send + '_ {
        self.shared.wake_pump.notified()
    }

    /// The stream was dropped: nobody reads what the pump pushes.
    pub fn reader_gone(&self) -> bool {
        self.tx.is_closed()
    }

    /// The read queue has room for at least one more chunk.
    pub fn reader_has_room(&self) -> bool {
        self.tx.capacity() > 0
    }

    /// Queues a chunk received from the device for the reader, without waiting.
    pub fn push(&self, chunk: Vec<u8>) -> Pushed {
        match self.tx.try_send(chunk) {
            Ok(()) => Pushed::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Pushed::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Pushed::ReaderGone,
        }
    }
}

/// The shared state, locked by the pump ([`PumpSide::lock`]).
pub struct PumpState<'a>(MutexGuard<'a, State>);

impl fmt::Debug for PumpState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PumpState")
            .field("queued_bytes", &self.0.out.len())
            .field("in_flight", &self.0.in_flight)
            .field("closing", &self.0.closing)
            .field("finished", &self.0.finished)
            .finish_non_exhaustive()
    }
}

impl PumpState<'_> {
    /// The bytes written and not yet taken.
    pub fn queued(&self) -> usize {
        self.0.out.len()
    }

    /// Takes up to `max` of the bytes written, oldest first (empty when none
    /// are queued). Call [`PumpState::wake_writer`] after: there is room now.
    pub fn take(&mut self, max: usize) -> Vec<u8> {
        let n = self.0.out.len().min(max);
        self.0.out.drain(..n).collect()
    }

    /// Puts bytes taken back in front of those written since (the device
    /// refused them and surely did not take them).
    pub fn put_back(&mut self, bytes: Vec<u8>) {
        let later = std::mem::replace(&mut self.0.out, bytes);
        self.0.out.extend(later);
    }

    /// Whether bytes taken are marked in flight.
    pub fn in_flight(&self) -> bool {
        self.0.in_flight
    }

    /// Marks bytes taken as in flight (`flush` waits) or settled. Call
    /// [`PumpState::wake_writer`] after clearing it.
    pub fn set_in_flight(&mut self, in_flight: bool) {
        self.0.in_flight = in_flight;
    }

    /// The user shut the stream down or dropped it.
    pub fn closing(&self) -> bool {
        self.0.closing
    }

    /// Drops the bytes written and not taken (they will never be sent).
    pub fn discard_queued(&mut self) {
        self.0.out.clear();
    }

    /// Wakes the writer waiting for room, a flush or the shutdown, if any.
    pub fn wake_writer(&mut self) {
        if let Some(w) = self.0.writer.take() {
            w.wake();
        }
    }

    /// Marks the pump finished, with the error `(kind, message)` it failed with
    /// (the message follows [`Settings::new`]'s prefix in the `io::Error`), and
    /// wakes the writer. Drop the [`PumpSide`] next.
    pub fn finish(&mut self, error: Option<(ErrorKind, String)>) {
        self.0.finished = true;
        self.0.error = error;
        self.wake_writer();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Counts its wake-ups: the tests poll by hand, no clock involved.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    struct Hand {
        count: Arc<Count>,
        waker: Waker,
    }

    impl Hand {
        fn new() -> Hand {
            let count = Arc::new(Count::default());
            Hand {
                waker: Waker::from(count.clone()),
                count,
            }
        }

        fn wakes(&self) -> usize {
            self.count.0.load(Ordering::SeqCst)
        }

        fn write(&self, s: &mut PumpedStream, buf: &[u8]) -> Poll<io::Result<usize>> {
            Pin::new(s).poll_write(&mut Context::from_waker(&self.waker), buf)
        }

        fn flush(&self, s: &mut PumpedStream) -> Poll<io::Result<()>> {
            Pin::new(s).poll_flush(&mut Context::from_waker(&self.waker))
        }

        fn shutdown(&self, s: &mut PumpedStream) -> Poll<io::Result<()>> {
            Pin::new(s).poll_shutdown(&mut Context::from_waker(&self.waker))
        }

        fn read(&self, s: &mut PumpedStream, n: usize) -> Poll<io::Result<Vec<u8>>> {
            let mut storage = vec![0u8; n];
            let mut buf = ReadBuf::new(&mut storage);
            Pin::new(s)
                .poll_read(&mut Context::from_waker(&self.waker), &mut buf)
                .map_ok(|()| buf.filled().to_vec())
        }

        /// Whether the pump has a wake-up waiting (consumes it).
        fn pump_woken(&self, side: &PumpSide) -> bool {
            let mut fut = std::pin::pin!(side.woken());
            fut.as_mut()
                .poll(&mut Context::from_waker(&self.waker))
                .is_ready()
        }
    }

    fn settings() -> Settings {
        Settings::new("test console", "the test session is closed")
    }

    fn ready<T>(p: Poll<io::Result<T>>) -> T {
        match p {
            Poll::Ready(Ok(v)) => v,
            Poll::Ready(Err(e)) => panic!("failed: {e}"),
            Poll::Pending => panic!("pending"),
        }
    }

    fn failed<T: fmt::Debug>(p: Poll<io::Result<T>>) -> io::Error {
        match p {
            Poll::Ready(Err(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn written_bytes_reach_the_pump_and_flush_waits_for_them() {
        let h = Hand::new();
        let (mut s, side) = channel(settings());
        assert!(!h.pump_woken(&side));
        assert_eq!(ready(h.write(&mut s, b"abc")), 3);
        assert!(h.pump_woken(&side), "a write wakes the pump");
        assert!(h.flush(&mut s).is_pending());
        {
            let mut st = side.lock();
            assert_eq!(st.queued(), 3);
            assert_eq!(st.take(2), b"ab");
            st.set_in_flight(true);
            st.wake_writer();
        }
        assert_eq!(h.wakes(), 1);
        assert!(h.flush(&mut s).is_pending(), "bytes queued and in flight");
        {
            let mut st = side.lock();
            assert_eq!(st.take(10), b"c");
            st.wake_writer();
        }
        assert!(h.flush(&mut s).is_pending(), "bytes still in flight");
        {
            let mut st = side.lock();
            st.set_in_flight(false);
            st.wake_writer();
        }
        assert_eq!(h.wakes(), 3);
        ready(h.flush(&mut s));
    }

    #[test]
    fn refused_bytes_go_back_in_front() {
        let h = Hand::new();
        let (mut s, side) = channel(settings());
        ready(h.write(&mut s, b"abc"));
        let taken = side.lock().take(2);
        ready(h.write(&mut s, b"d"));
        let mut st = side.lock();
        st.put_back(taken);
        assert_eq!(st.take(100), b"abcd");
        assert!(st.take(100).is_empty());
    }

    #[test]
    fn a_pump_dropped_without_finishing_ends_every_wait_with_an_error() {
        // A pump task cancelled, or dropped with its runtime, never calls
        // finish: a shutdown, a flush and a full writer waiting for it end
        // with an error instead of waiting forever.
        let h = Hand::new();
        let (mut s, side) = channel(settings().max_pending_write(2));
        assert_eq!(ready(h.write(&mut s, b"ab")), 2);
        assert!(h.write(&mut s, b"c").is_pending());
        assert!(h.flush(&mut s).is_pending());
        drop(side);
        assert_eq!(h.wakes(), 1, "the waiting writer is woken");
        for e in [
            failed(h.write(&mut s, b"c")),
            failed(h.flush(&mut s)),
            failed(h.shutdown(&mut s)),
            failed(h.read(&mut s, 8)),
        ] {
            assert_eq!(e.kind(), io::ErrorKind::Other);
            assert!(
                e.to_string().contains("ended without closing the session"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_pump_that_finished_then_dropped_ends_the_stream_cleanly() {
        let h = Hand::new();
        let (mut s, side) = channel(settings());
        side.lock().finish(None);
        drop(side);
        ready(h.shutdown(&mut s));
        assert!(ready(h.read(&mut s, 8)).is_empty(), "end of stream");
    }

    #[test]
    fn a_full_write_queue_waits_for_the_pump() {
        let h = Hand::new();
        let (mut s, side) = channel(settings().max_pending_write(4));
        assert_eq!(ready(h.write(&mut s, b"abcdef")), 4);
        assert!(h.write(&mut s, b"ef").is_pending());
        {
            let mut st = side.lock();
            assert_eq!(st.take(1), b"a");
            st.wake_writer();
        }
        assert_eq!(h.wakes(), 1);
        assert_eq!(ready(h.write(&mut s, b"ef")), 1);
        assert_eq!(side.lock().take(100), b"bcde");
    }

    #[test]
    fn shutdown_asks_the_pump_and_waits_for_it() {
        let h = Hand::new();
        let (mut s, side) = channel(settings());
        ready(h.write(&mut s, b"x"));
        assert!(h.pump_woken(&side));
        assert!(h.shutdown(&mut s).is_pending());
        assert!(h.pump_woken(&side), "shutdown wakes the pump");
        assert!(side.lock().closing());
        let e = failed(h.write(&mut s, b"y"));
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(e.to_string(), "the test session is closed");
        {
            let mut st = side.lock();
            assert_eq!(st.take(10), b"x", "what was written before stays queued");
            st.finish(None);
        }
        assert_eq!(h.wakes(), 1, "finishing wakes the shutdown");
        ready(h.shutdown(&mut s));
        assert!(
            h.read(&mut s, 8).is_pending(),
            "the pump still holds its side"
        );
        drop(side);
        assert!(ready(h.read(&mut s, 8)).is_empty(), "end of stream");
    }

    #[test]
    fn dropping_the_stream_closes_it_and_wakes_the_pump() {
        let h = Hand::new();
        let (s, side) = channel(settings());
        assert!(!side.reader_gone());
        drop(s);
        assert!(h.pump_woken(&side));
        assert!(side.lock().closing());
        assert!(side.reader_gone());
        assert_eq!(side.push(b"late".to_vec()), Pushed::ReaderGone);
    }

    #[test]
    fn reads_return_the_chunks_in_order_then_end_of_stream() {
        let h = Hand::new();
        let (mut s, side) = channel(settings().read_queue(2));
        assert!(h.read(&mut s, 8).is_pending());
        assert!(side.reader_has_room());
        assert_eq!(side.push(b"hello".to_vec()), Pushed::Queued);
        assert_eq!(h.wakes(), 1, "a push wakes the reader");
        assert_eq!(side.push(b"!".to_vec()), Pushed::Queued);
        assert!(!side.reader_has_room());
        assert_eq!(side.push(b"lost".to_vec()), Pushed::Full);
        assert_eq!(ready(h.read(&mut s, 3)), b"hel");
        assert_eq!(ready(h.read(&mut s, 8)), b"lo");
        assert_eq!(ready(h.read(&mut s, 8)), b"!");
        side.lock().finish(None);
        drop(side);
        assert!(ready(h.read(&mut s, 8)).is_empty());
    }

    #[test]
    fn reading_wakes_the_pump_only_where_asked() {
        let h = Hand::new();
        for (settings, wakes) in [(settings(), false), (settings().wake_pump_on_read(), true)] {
            let (mut s, side) = channel(settings);
            side.push(b"a".to_vec());
            assert_eq!(ready(h.read(&mut s, 8)), b"a");
            assert_eq!(h.pump_woken(&side), wakes);
        }
    }

    #[test]
    fn the_pump_error_reaches_every_call_with_its_kind() {
        let h = Hand::new();
        let (mut s, side) = channel(settings());
        ready(h.write(&mut s, b"abc"));
        side.push(b"last".to_vec());
        side.lock()
            .finish(Some((ErrorKind::Timeout, "no reply".to_owned())));
        drop(side);
        assert_eq!(ready(h.read(&mut s, 8)), b"last", "queued chunks first");
        let e = failed(h.read(&mut s, 8));
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            e.to_string(),
            format!("test console: no reply [{}]", ErrorKind::Timeout)
        );
        assert_eq!(
            failed(h.write(&mut s, b"x")).kind(),
            io::ErrorKind::TimedOut
        );
        assert_eq!(failed(h.flush(&mut s)).kind(), io::ErrorKind::TimedOut);
        assert_eq!(failed(h.shutdown(&mut s)).kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn error_kinds_map_to_io_kinds() {
        let s = settings();
        for (kind, io_kind) in [
            (ErrorKind::Timeout, io::ErrorKind::TimedOut),
            (ErrorKind::Unreachable, io::ErrorKind::ConnectionReset),
            (ErrorKind::Unauthenticated, io::ErrorKind::PermissionDenied),
            (ErrorKind::PermissionDenied, io::ErrorKind::PermissionDenied),
            (ErrorKind::Busy, io::ErrorKind::Other),
            (ErrorKind::DeviceFault, io::ErrorKind::Other),
        ] {
            assert_eq!(
                s.io_error(&(kind, "m".to_owned())).kind(),
                io_kind,
                "{kind}"
            );
        }
    }

    #[test]
    fn a_flush_after_the_end_with_bytes_unsent_succeeds_or_fails_as_set() {
        let h = Hand::new();
        for (settings, fails) in [
            (settings(), false),
            (settings().unsent_at_end_fails("never acknowledged"), true),
        ] {
            let (mut s, side) = channel(settings);
            ready(h.write(&mut s, b"abc"));
            {
                let mut st = side.lock();
                st.take(1);
                st.set_in_flight(true);
                st.finish(None);
            }
            drop(side);
            match h.flush(&mut s) {
                Poll::Ready(Ok(())) => assert!(!fails),
                Poll::Ready(Err(e)) => {
                    assert!(fails);
                    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
                    assert_eq!(e.to_string(), "never acknowledged");
                }
                Poll::Pending => panic!("a flush after the end waits"),
            }
            ready(h.shutdown(&mut s));
        }
    }

    #[test]
    fn a_finished_stream_with_nothing_unsent_flushes() {
        let h = Hand::new();
        let (mut s, side) = channel(settings().unsent_at_end_fails("unsent"));
        {
            let mut st = side.lock();
            st.discard_queued();
            st.finish(None);
        }
        ready(h.flush(&mut s));
        let e = failed(h.write(&mut s, b"x"));
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn debug_names_the_console_only() {
        let (s, side) = channel(settings());
        assert_eq!(
            format!("{s:?}"),
            r#"PumpedStream { console: "test console", .. }"#
        );
        let (named, _side) = channel(
            settings().debug_as("SolStream", &[("endpoint", &"10.0.0.1:623"), ("n", &7u8)]),
        );
        assert_eq!(
            format!("{named:?}"),
            r#"SolStream { endpoint: "10.0.0.1:623", n: 7, .. }"#
        );
        assert!(format!("{side:?}").starts_with("PumpSide"));
        assert!(format!("{:?}", side.lock()).contains("queued_bytes: 0"));
    }
}
