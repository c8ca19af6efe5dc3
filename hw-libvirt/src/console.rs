//! The console interface: the domain's serial console as a libvirt stream.
//!
//! libvirt streams are blocking C calls, so each open console gets one dedicated
//! thread that owns the (non-blocking) stream and moves bytes between it and the
//! async handle through channels. Dropping or shutting down the handle aborts the
//! stream, which ends the console session on the hypervisor.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use hwctl_core::{Console, ConsoleHandle, Error, ErrorKind, Result, async_trait};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot};
use virt::stream::Stream;

use crate::client::DomainRef;
use crate::config::LibvirtConfig;
use crate::errors::map_err;

/// How long the bridge thread sleeps when the stream had nothing to read.
const IDLE_POLL: Duration = Duration::from_millis(5);
/// How long a write may keep finding the stream full before it fails.
const WRITE_STALL: Duration = Duration::from_secs(10);

/// What the bridge needs of a libvirt stream (a seam for unit tests).
trait RawStream: Send + 'static {
    /// `virStreamSend`: bytes taken, or -2 when the stream is full.
    fn send(&self, data: &[u8]) -> std::result::Result<isize, String>;
    /// `virStreamRecv`: bytes read, 0 at the end, -2 when nothing is there yet.
    fn recv(&self, buf: &mut [u8]) -> std::result::Result<isize, String>;
    /// `virStreamAbort`.
    fn abort(self);
    /// `virStreamFinish`.
    fn finish(self);
}

impl RawStream for Stream {
    fn send(&self, data: &[u8]) -> std::result::Result<isize, String> {
        Stream::send(self, data).map_err(|e| e.message().to_owned())
    }
    fn recv(&self, buf: &mut [u8]) -> std::result::Result<isize, String> {
        Stream::recv(self, buf).map_err(|e| e.message().to_owned())
    }
    fn abort(self) {
        let _ = Stream::abort(self);
    }
    fn finish(self) {
        let _ = Stream::finish(self);
    }
}

enum Cmd {
    Data(Vec<u8>),
    Close(oneshot::Sender<()>),
}

/// The serial console of one libvirt domain (`virDomainOpenConsole`).
///
/// Opening fails with `Busy` when another client holds the console, and with
/// `Unsupported` where the libvirt driver has no consoles (the `test://` driver).
#[derive(Debug, Clone)]
pub struct LibvirtConsole {
    domain: Arc<DomainRef>,
}

impl LibvirtConsole {
    /// The console of the domain `config` selects.
    pub fn new(config: LibvirtConfig) -> Self {
        LibvirtConsole {
            domain: Arc::new(DomainRef::new(config)),
        }
    }

    pub(crate) fn from_ref(domain: Arc<DomainRef>) -> Self {
        LibvirtConsole { domain }
    }
}

#[async_trait]
impl Console for LibvirtConsole {
    async fn open(&self) -> Result<ConsoleHandle> {
        let stream = self
            .domain
            .with_domain("open console", false, |conn, dom| {
                let stream = Stream::new(conn, virt::sys::VIR_STREAM_NONBLOCK)
                    .map_err(|e| map_err("open console", e))?;
                dom.open_console(None, &stream, 0)
                    .map_err(|e| map_err("open console", e))?;
                Ok(stream)
            })
            .await?;
        Ok(Box::new(ConsoleStream::spawn(stream)?))
    }
}

/// An open libvirt console: `AsyncRead + AsyncWrite`. Dropping it, or
/// `shutdown()`, aborts the libvirt stream.
#[derive(Debug)]
pub struct ConsoleStream {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    pos: usize,
    tx: std_mpsc::Sender<Cmd>,
    closing: Option<oneshot::Receiver<()>>,
    closed: bool,
}

impl ConsoleStream {
    fn spawn<S: RawStream>(stream: S) -> Result<Self> {
        Self::spawn_with(stream, WRITE_STALL)
    }

    fn spawn_with<S: RawStream>(stream: S, write_stall: Duration) -> Result<Self> {
        let (data_tx, rx) = mpsc::channel::<io::Result<Vec<u8>>>(64);
        let (tx, cmd_rx) = std_mpsc::channel::<Cmd>();
        std::thread::Builder::new()
            .name("hw-libvirt-console".into())
            .spawn(move || bridge(stream, cmd_rx, data_tx, write_stall))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Other,
                    format!("cannot start console thread: {e}"),
                )
                .with_source(e)
            })?;
        Ok(ConsoleStream {
            rx,
            pending: Vec::new(),
            pos: 0,
            tx,
            closing: None,
            closed: false,
        })
    }
}

fn send_all<S: RawStream>(stream: &S, mut data: &[u8], stall: Duration) -> io::Result<()> {
    let mut stalled_since = None;
    while !data.is_empty() {
        match stream.send(data) {
            Ok(n) if n > 0 => {
                let n = usize::try_from(n).unwrap_or(0).min(data.len());
                data = &data[n..];
                stalled_since = None;
            }
            Ok(_) => {
                // -2: the stream is full for now.
                let since = *stalled_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() > stall {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the libvirt console accepted no data for {:.0}s",
                            stall.as_secs_f64()
                        ),
                    ));
                }
                std::thread::sleep(IDLE_POLL);
            }
            Err(e) => return Err(io::Error::other(e)),
        }
    }
    Ok(())
}

/// The thread that owns the stream.
fn bridge<S: RawStream>(
    stream: S,
    cmds: std_mpsc::Receiver<Cmd>,
    out: mpsc::Sender<io::Result<Vec<u8>>>,
    write_stall: Duration,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut busy = false;
        loop {
            match cmds.try_recv() {
                Ok(Cmd::Data(d)) => {
                    busy = true;
                    if let Err(e) = send_all(&stream, &d, write_stall) {
                        // The session is broken: later writes could not arrive in
                        // order, and each would stall again. End it; the reader
                        // gets the error, writes fail, shutdown returns.
                        let _ = out.blocking_send(Err(e));
                        stream.abort();
                        return;
                    }
                }
                Ok(Cmd::Close(ack)) => {
                    stream.abort();
                    let _ = ack.send(());
                    return;
                }
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => {
                    // The handle was dropped.
                    stream.abort();
                    return;
                }
            }
        }
        {
            match stream.recv(&mut buf) {
                Ok(n) if n > 0 => {
                    busy = true;
                    let n = usize::try_from(n).unwrap_or(0).min(buf.len());
                    if out.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        stream.abort();
                        return;
                    }
                }
                Ok(0) => {
                    // The hypervisor ended the session: the reader sees EOF once
                    // `out` is gone; keep serving close requests.
                    drop(out);
                    stream.finish();
                    // Wait for the handle to close or drop.
                    while let Ok(cmd) = cmds.recv() {
                        if let Cmd::Close(ack) = cmd {
                            let _ = ack.send(());
                            return;
                        }
                    }
                    return;
                }
                Ok(_) => {} // -2: nothing to read yet
                Err(e) => {
                    let _ = out.blocking_send(Err(io::Error::other(e)));
                    stream.abort();
                    return;
                }
            }
        }
        if !busy {
            std::thread::sleep(IDLE_POLL);
        }
    }
}

impl AsyncRead for ConsoleStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.pos < self.pending.len() {
                let n = buf.remaining().min(self.pending.len() - self.pos);
                let start = self.pos;
                buf.put_slice(&self.pending[start..start + n]);
                self.pos += n;
                return Poll::Ready(Ok(()));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    self.pending = data;
                    self.pos = 0;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => return Poll::Ready(Ok(())), // EOF
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for ConsoleStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.closed || self.closing.is_some() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "console is closed",
            )));
        }
        match self.tx.send(Cmd::Data(buf.to_vec())) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(_) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "console session ended",
            ))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.closed {
            return Poll::Ready(Ok(()));
        }
        if self.closing.is_none() {
            // The bridge thread may be blocked handing output to a reader that no
            // longer reads (its channel full): closing our end releases it, so it
            // sees the close request (or ends and drops it, which acks too).
            self.rx.close();
            let (ack_tx, ack_rx) = oneshot::channel();
            if self.tx.send(Cmd::Close(ack_tx)).is_err() {
                self.closed = true;
                return Poll::Ready(Ok(()));
            }
            self.closing = Some(ack_rx);
        }
        let Some(rx) = self.closing.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        match Pin::new(rx).poll(cx) {
            Poll::Ready(_) => {
                self.closing = None;
                self.closed = true;
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[derive(Default)]
    struct State {
        /// The stream accepts nothing (`virStreamSend` keeps answering -2).
        full: bool,
        reads: VecDeque<Vec<u8>>,
        eof: bool,
        written: Vec<u8>,
        aborted: bool,
        finished: bool,
    }

    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<State>>);

    impl RawStream for Fake {
        fn send(&self, data: &[u8]) -> std::result::Result<isize, String> {
            if self.0.lock().unwrap().full {
                return Ok(-2);
            }
            self.0.lock().unwrap().written.extend_from_slice(data);
            Ok(isize::try_from(data.len()).unwrap())
        }
        fn recv(&self, buf: &mut [u8]) -> std::result::Result<isize, String> {
            let mut s = self.0.lock().unwrap();
            match s.reads.pop_front() {
                Some(d) => {
                    buf[..d.len()].copy_from_slice(&d);
                    Ok(isize::try_from(d.len()).unwrap())
                }
                None if s.eof => Ok(0),
                None => Ok(-2),
            }
        }
        fn abort(self) {
            self.0.lock().unwrap().aborted = true;
        }
        fn finish(self) {
            self.0.lock().unwrap().finished = true;
        }
    }

    async fn wait_for(f: impl Fn() -> bool) {
        // Up to 10 s: the bridge is a thread, and CI machines are loaded.
        for _ in 0..2000 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("condition not reached");
    }

    #[tokio::test]
    async fn bytes_flow_both_ways_and_shutdown_aborts() {
        let fake = Fake::default();
        fake.0.lock().unwrap().reads.push_back(b"login: ".to_vec());
        let mut s = ConsoleStream::spawn(fake.clone()).unwrap();
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"login: ");
        s.write_all(b"root\n").await.unwrap();
        wait_for(|| fake.0.lock().unwrap().written == b"root\n").await;
        s.shutdown().await.unwrap();
        assert!(fake.0.lock().unwrap().aborted);
        assert!(s.write_all(b"x").await.is_err());
    }

    #[tokio::test]
    async fn shutdown_ends_the_session_while_output_is_unread() {
        // The guest prints far more than the handle buffers and nobody reads it:
        // the bridge thread fills its channel and waits; shutdown must still end
        // the session instead of waiting for a reader forever.
        let fake = Fake::default();
        for _ in 0..200 {
            fake.0
                .lock()
                .unwrap()
                .reads
                .push_back(b"boot log line\n".to_vec());
        }
        let mut s = ConsoleStream::spawn(fake.clone()).unwrap();
        // The channel holds 64 chunks; wait until the bridge has read more.
        wait_for(|| fake.0.lock().unwrap().reads.len() < 200 - 64).await;
        tokio::time::timeout(Duration::from_secs(10), s.shutdown())
            .await
            .expect("shutdown returned")
            .unwrap();
        assert!(fake.0.lock().unwrap().aborted);
    }

    #[tokio::test]
    async fn a_stalled_write_ends_the_session_instead_of_stalling_every_write() {
        // The hypervisor stops taking input. The first write stalls out; the
        // ones queued behind it must not each stall again (100 × the stall before
        // shutdown could even be seen).
        let fake = Fake::default();
        fake.0.lock().unwrap().full = true;
        let mut s = ConsoleStream::spawn_with(fake.clone(), Duration::from_millis(50)).unwrap();
        for _ in 0..100 {
            s.write_all(b"typed line\n").await.unwrap();
        }
        let mut buf = [0u8; 16];
        let err = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
            .await
            .expect("the stall is reported")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        tokio::time::timeout(Duration::from_secs(2), s.shutdown())
            .await
            .expect("shutdown returned")
            .unwrap();
        assert!(fake.0.lock().unwrap().aborted);
        assert!(s.write_all(b"x").await.is_err());
    }

    #[tokio::test]
    async fn drop_aborts_the_stream() {
        let fake = Fake::default();
        let s = ConsoleStream::spawn(fake.clone()).unwrap();
        drop(s);
        wait_for(|| fake.0.lock().unwrap().aborted).await;
    }

    #[tokio::test]
    async fn end_of_stream_reads_as_eof() {
        let fake = Fake::default();
        {
            let mut st = fake.0.lock().unwrap();
            st.reads.push_back(b"bye".to_vec());
            st.eof = true;
        }
        let mut s = ConsoleStream::spawn(fake.clone()).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"bye");
        wait_for(|| fake.0.lock().unwrap().finished).await;
        s.shutdown().await.unwrap();
    }
}
