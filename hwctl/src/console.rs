//! `hwctl console`: the node's serial console on this terminal, or on a pipe.
//!
//! On a terminal (stdin is a tty), as `ipmitool sol activate` and `ssh` do:
//!
//! - the terminal is put in raw mode (crossterm) for the session and restored on the
//!   way out, whatever the way out: every key goes to the node as typed, with no
//!   local echo (the node echoes) and no waiting for Enter;
//! - Ctrl-C, Ctrl-Z, Ctrl-\ are bytes for the node, not signals for `hwctl`;
//! - `~.` at the start of a line (after Enter, or first thing) leaves; `~~` sends one
//!   `~`; `~?` lists the escapes; a `~` followed by anything else sends both.
//!
//! From a pipe (`printf 'cmd\n' | hwctl console`) the bytes go as they are (no
//! escapes); when the input ends, everything written is flushed to the node, and the
//! session stays open until the node's output has been quiet for a while (at least
//! [`QUIET`], four times the slowest write seen on slow devices, at most
//! [`LINGER`] past the end of input), so the answer to the last input is printed
//! before the session closes; what arrives while it closes is printed too.
//!
//! stdin is read on a thread of its own (not tokio's blocking pool: a read pending on
//! a terminal would hold the runtime's shutdown until the next key).

use std::io::Read;
use std::time::Duration;

use hwctl_core::{Error, ErrorKind, Node, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The shortest quiet after the end of piped input before the session closes.
pub(crate) const QUIET: Duration = Duration::from_millis(1000);
/// The longest the console waits for the node to go quiet after piped input ends.
pub(crate) const LINGER: Duration = Duration::from_secs(10);
/// How long closing the session (and printing what still arrives) may take.
const CLOSE: Duration = Duration::from_secs(3);

/// What the escape reader makes of the keys typed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Typed {
    /// Bytes for the node.
    pub send: Vec<u8>,
    /// `~?` was typed: show the escapes.
    pub help: bool,
    /// `~.` was typed: leave (whatever followed it in the same read is dropped).
    pub leave: bool,
}

/// The `~` escapes of an interactive session (ssh's rules): recognised only at the
/// start of a line, that is first thing or right after a CR or LF was sent.
#[derive(Debug)]
pub(crate) struct Escapes {
    line_start: bool,
    tilde: bool,
}

impl Default for Escapes {
    fn default() -> Self {
        Escapes {
            line_start: true,
            tilde: false,
        }
    }
}

impl Escapes {
    /// Reads typed bytes.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Typed {
        let mut t = Typed::default();
        for &b in input {
            if self.tilde {
                self.tilde = false;
                match b {
                    b'.' => {
                        t.leave = true;
                        return t;
                    }
                    b'~' => {
                        t.send.push(b'~');
                        self.line_start = false;
                        continue;
                    }
                    b'?' => {
                        t.help = true;
                        continue;
                    }
                    _ => t.send.push(b'~'),
                }
            } else if self.line_start && b == b'~' {
                self.tilde = true;
                continue;
            }
            t.send.push(b);
            self.line_start = matches!(b, b'\r' | b'\n');
        }
        t
    }

    /// A `~` held back when the input ends is sent after all.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        if std::mem::take(&mut self.tilde) {
            vec![b'~']
        } else {
            Vec::new()
        }
    }
}

/// The escapes, as `~?` prints them (raw mode: CR LF).
const HELP: &str = "\r\nSupported escapes (after Enter):\r\n  ~.  leave the console\r\n  ~~  send one ~\r\n  ~?  this list\r\n";

fn io_err(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| {
        Error::new(
            ErrorKind::Unreachable,
            format!("console {what} failed: {e}"),
        )
        .with_source(e)
    }
}

/// Reads stdin on a thread of its own, in chunks as they come; the channel closes at
/// end of input (or on an error, sent first).
fn stdin_chunks() -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    rx
}

/// Raw mode for as long as it lives.
struct RawMode;

impl RawMode {
    fn enable() -> Result<RawMode> {
        crossterm::terminal::enable_raw_mode().map_err(|e| {
            Error::new(
                ErrorKind::Other,
                format!("cannot put the terminal in raw mode: {e}"),
            )
            .with_source(e)
        })?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// `console`: the node's serial console on stdin and stdout.
///
/// # Errors
///
/// What opening the console returns (`Unsupported`, `Busy`, `NotFound`, …);
/// `Unreachable` when the session fails while in use; `Other` when the terminal
/// cannot be put in raw mode.
pub(crate) async fn run(node: &Node) -> Result<()> {
    let stream = node.console()?.open().await?;
    let (from_node, to_node) = tokio::io::split(stream);
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        interactive(node.id(), from_node, to_node).await
    } else {
        piped(from_node, to_node, stdin_chunks(), tokio::io::stdout()).await
    }
}

async fn interactive<R, W>(node_id: &str, mut from_node: R, mut to_node: W) -> Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let raw = RawMode::enable()?;
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let banner =
        format!("[hwctl: console of {node_id}; ~. after Enter leaves, ~? lists the escapes]\r\n");
    let _ = stderr.write_all(banner.as_bytes()).await;
    let mut input = stdin_chunks();
    let mut escapes = Escapes::default();
    let mut outbuf = vec![0u8; 4096];
    let mut node_ended = false;
    loop {
        tokio::select! {
            chunk = input.recv() => {
                let typed = match chunk {
                    Some(Ok(bytes)) => escapes.feed(&bytes),
                    Some(Err(e)) => return Err(io_err("reading the terminal")(e)),
                    None => Typed { send: escapes.finish(), help: false, leave: true },
                };
                if !typed.send.is_empty() {
                    to_node.write_all(&typed.send).await.map_err(io_err("write"))?;
                    to_node.flush().await.map_err(io_err("write"))?;
                }
                if typed.help {
                    let _ = stderr.write_all(HELP.as_bytes()).await;
                }
                if typed.leave {
                    break;
                }
            }
            r = from_node.read(&mut outbuf) => {
                let n = r.map_err(io_err("read"))?;
                if n == 0 {
                    node_ended = true;
                    break;
                }
                stdout.write_all(&outbuf[..n]).await.map_err(io_err("writing stdout"))?;
                stdout.flush().await.map_err(io_err("writing stdout"))?;
            }
        }
    }
    if !node_ended {
        close(&mut from_node, &mut to_node, &mut stdout).await?;
    }
    stdout.flush().await.map_err(io_err("writing stdout"))?;
    drop(raw);
    let why = if node_ended {
        "the node ended the session"
    } else {
        "closed"
    };
    let _ = stderr
        .write_all(format!("\n[hwctl: console of {node_id} {why}]\n").as_bytes())
        .await;
    Ok(())
}

/// Closes the session: what was written is flushed, the session shut down, and
/// what the node still sends meanwhile is printed (all within [`CLOSE`]).
async fn close<R, W, O>(from_node: &mut R, to_node: &mut W, out: &mut O) -> Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    O: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 4096];
    let work = async {
        to_node.shutdown().await.map_err(io_err("close"))?;
        loop {
            let n = from_node.read(&mut buf).await.map_err(io_err("read"))?;
            if n == 0 {
                return Ok::<(), Error>(());
            }
            out.write_all(&buf[..n])
                .await
                .map_err(io_err("writing stdout"))?;
        }
    };
    match tokio::time::timeout(CLOSE, work).await {
        Ok(r) => r?,
        // Past CLOSE the rest is dropped: the session is closing either way.
        Err(_) => tracing::debug!("console: closing took over {CLOSE:?}"),
    }
    out.flush().await.map_err(io_err("writing stdout"))
}

/// Piped input: sends it all, then prints the node's output until it goes quiet.
pub(crate) async fn piped<R, W, O>(
    mut from_node: R,
    mut to_node: W,
    mut input: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    mut out: O,
) -> Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    O: AsyncWrite + Unpin,
{
    let mut outbuf = vec![0u8; 4096];
    // When the input ended and everything was flushed to the node.
    let mut flushed: Option<Instant> = None;
    let mut last_output = Instant::now();
    // The slowest write-and-flush: how slow this device is to take input.
    let mut slowest = Duration::ZERO;
    loop {
        let quiet_at = flushed.map(|at| {
            let quiet = QUIET.max(slowest * 4);
            (last_output.max(at) + quiet).min(at + LINGER.max(quiet * 2))
        });
        tokio::select! {
            chunk = input.recv(), if flushed.is_none() => match chunk {
                Some(Ok(bytes)) => {
                    let started = Instant::now();
                    to_node.write_all(&bytes).await.map_err(io_err("write"))?;
                    to_node.flush().await.map_err(io_err("write"))?;
                    slowest = slowest.max(started.elapsed());
                }
                Some(Err(e)) => return Err(io_err("reading stdin")(e)),
                None => {
                    let started = Instant::now();
                    to_node.flush().await.map_err(io_err("write"))?;
                    slowest = slowest.max(started.elapsed());
                    flushed = Some(Instant::now());
                }
            },
            r = from_node.read(&mut outbuf) => {
                let n = r.map_err(io_err("read"))?;
                if n == 0 {
                    // The node ended the session.
                    return out.flush().await.map_err(io_err("writing stdout"));
                }
                out.write_all(&outbuf[..n]).await.map_err(io_err("writing stdout"))?;
                out.flush().await.map_err(io_err("writing stdout"))?;
                last_output = Instant::now();
            }
            _ = tokio::time::sleep_until(quiet_at.unwrap_or_else(Instant::now)), if quiet_at.is_some() => break,
        }
    }
    close(&mut from_node, &mut to_node, &mut out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]]) -> (Vec<u8>, bool, bool) {
        let mut e = Escapes::default();
        let mut sent = Vec::new();
        let mut help = false;
        for c in chunks {
            let t = e.feed(c);
            sent.extend(t.send);
            help |= t.help;
            if t.leave {
                return (sent, help, true);
            }
        }
        sent.extend(e.finish());
        (sent, help, false)
    }

    #[test]
    fn tilde_dot_leaves_only_at_the_start_of_a_line() {
        assert_eq!(feed_all(&[b"~."]), (vec![], false, true));
        assert_eq!(feed_all(&[b"ls\r~.rest"]), (b"ls\r".to_vec(), false, true));
        // Split across reads, and after LF.
        assert_eq!(
            feed_all(&[b"ls\n", b"~", b"."]),
            (b"ls\n".to_vec(), false, true)
        );
        // Mid-line it is data.
        assert_eq!(feed_all(&[b"a~.b"]), (b"a~.b".to_vec(), false, false));
    }

    #[test]
    fn other_escapes() {
        assert_eq!(feed_all(&[b"~~.\r"]), (b"~.\r".to_vec(), false, false));
        assert_eq!(feed_all(&[b"~?"]), (vec![], true, false));
        assert_eq!(feed_all(&[b"~x"]), (b"~x".to_vec(), false, false));
        // Ctrl-C is a byte for the node.
        assert_eq!(feed_all(&[b"\x03"]), (b"\x03".to_vec(), false, false));
        // A lone ~ at the end is sent.
        assert_eq!(feed_all(&[b"\r~"]), (b"\r~".to_vec(), false, false));
    }

    /// A node whose echo comes `delay` after each write is flushed: the piped
    /// console waits for it (the quiet time grows with the slowest write).
    #[tokio::test(start_paused = true)]
    async fn piped_input_gets_its_reply_from_a_slow_node() {
        for delay in [Duration::from_millis(10), Duration::from_millis(2500)] {
            let (ours, theirs) = tokio::io::duplex(1024);
            let (mut node_r, mut node_w) = tokio::io::split(theirs);
            // The node: takes `delay` to accept each write, then echoes it.
            let node = tokio::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    let n = node_r.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    tokio::time::sleep(delay * 2).await;
                    let _ = node_w.write_all(&buf[..n]).await;
                }
            });
            let (from_node, to_node) = tokio::io::split(ours);
            let slow_writer = SlowFlush {
                inner: to_node,
                delay,
                sleep: None,
            };
            let (tx, rx) = mpsc::channel(4);
            tx.send(Ok(b"cmd\n".to_vec())).await.unwrap();
            drop(tx);
            let mut out = Vec::new();
            piped(from_node, slow_writer, rx, &mut out).await.unwrap();
            assert_eq!(out, b"cmd\n", "delay {delay:?}");
            node.abort();
        }
    }

    /// A writer whose flush takes `delay` (a device slow to take input).
    struct SlowFlush<W> {
        inner: W,
        delay: Duration,
        sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    }

    impl<W: AsyncWrite + Unpin> AsyncWrite for SlowFlush<W> {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
        }

        fn poll_flush(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let delay = self.delay;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return std::task::Poll::Pending;
            }
            self.sleep = None;
            std::pin::Pin::new(&mut self.inner).poll_flush(cx)
        }

        fn poll_shutdown(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    use std::future::Future as _;
}
