//! The embedded TFTP server: read-only, confined to one root (no `..`, no absolute
//! path, no symbolic link leading out of the root), with RFC 2347 option
//! negotiation of `blksize` (RFC 2348), `timeout`/`tsize` (RFC 2349) and
//! `windowsize` (RFC 7440), on the `async-tftp` crate with our own confining handler.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use hwctl_core::{Error, ErrorKind, Result};

use crate::served::{Counted, Outcome, Served, ServedLog};

/// TFTP server settings.
///
/// ```
/// let o = hwctl_pxe::TftpOptions::default();
/// assert_eq!((o.max_block_size, o.max_window_size, o.max_retries), (1468, 16, 5));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TftpOptions {
    /// Retransmission timeout (a client may ask for another, RFC 2349).
    pub timeout: Duration,
    /// Largest block size granted (RFC 2348; 512–65464).
    pub max_block_size: u16,
    /// Largest window granted (RFC 7440).
    pub max_window_size: u16,
    /// Retransmissions of one block before the transfer is abandoned.
    pub max_retries: u32,
}

impl Default for TftpOptions {
    fn default() -> Self {
        TftpOptions {
            timeout: Duration::from_secs(3),
            max_block_size: 1468,
            max_window_size: 16,
            max_retries: 5,
        }
    }
}

/// Resolves `requested` under `root` (canonical), refusing anything that leaves it.
///
/// ```
/// let dir = std::env::temp_dir();
/// let root = std::fs::canonicalize(&dir).unwrap();
/// assert!(hwctl_pxe::tftp::confine(&root, std::path::Path::new("../etc/passwd")).is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] for a path with `..`, a root or prefix, or one
/// whose real location (after symbolic links) is outside `root`;
/// [`ErrorKind::NotFound`] for a missing file or one that is not a regular file.
pub fn confine(root: &Path, requested: &Path) -> Result<PathBuf> {
    let s = requested.to_string_lossy();
    let rel = s.trim_start_matches('/');
    let rel = Path::new(rel);
    if rel.as_os_str().is_empty()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Error::invalid_parameter("path", "leaves the root"));
    }
    let joined = root.join(rel);
    let real = std::fs::canonicalize(&joined)
        .map_err(|_| Error::new(ErrorKind::NotFound, format!("{} not found", rel.display())))?;
    if !real.starts_with(root) {
        return Err(Error::invalid_parameter("path", "leads out of the root"));
    }
    if !real.is_file() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("{} is not a file", rel.display()),
        ));
    }
    Ok(real)
}

struct Confined {
    root: PathBuf,
    log: ServedLog,
}

impl async_tftp::server::Handler for Confined {
    type Reader = Counted<blocking::Unblock<std::fs::File>>;
    type Writer = futures::io::Sink;

    async fn read_req_open(
        &mut self,
        client: &SocketAddr,
        path: &Path,
    ) -> std::result::Result<(Self::Reader, Option<u64>), async_tftp::packet::Error> {
        use async_tftp::packet::Error as P;
        let shown = path.to_string_lossy();
        let real = confine(&self.root, path).map_err(|e| {
            tracing::info!(%client, path = %shown, "tftp refused: {e}");
            if e.kind() == ErrorKind::NotFound {
                self.log.record(*client, &shown, Outcome::NotFound, None);
                P::FileNotFound
            } else {
                self.log.record(*client, &shown, Outcome::Refused, None);
                P::PermissionDenied
            }
        })?;
        let file = std::fs::File::open(&real).map_err(|_| {
            self.log.record(*client, &shown, Outcome::NotFound, None);
            P::FileNotFound
        })?;
        let len = file.metadata().ok().map(|m| m.len());
        tracing::debug!(%client, path = %shown, "tftp read");
        let count = self.log.record(*client, &shown, Outcome::Sent, len);
        Ok((
            Counted {
                inner: blocking::Unblock::new(file),
                count,
            },
            len,
        ))
    }

    async fn write_req_open(
        &mut self,
        _client: &SocketAddr,
        _path: &Path,
        _size: Option<u64>,
    ) -> std::result::Result<Self::Writer, async_tftp::packet::Error> {
        Err(async_tftp::packet::Error::IllegalOperation)
    }
}

/// A running TFTP server; dropping it (or [`TftpServer::shutdown`]) stops it.
///
/// ```
/// use std::net::UdpSocket;
/// use std::time::Duration;
/// use hwctl_pxe::{TftpOptions, TftpServer};
/// let root = tempfile::tempdir().unwrap();
/// std::fs::write(root.path().join("pxelinux.0"), b"loader").unwrap();
/// let server = TftpServer::start(root.path(), "127.0.0.1:0".parse().unwrap(), &TftpOptions::default())?;
/// // A read request (RFC 1350): opcode 1, file name, mode.
/// let client = UdpSocket::bind("127.0.0.1:0").unwrap();
/// client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
/// client.send_to(b"\0\x01pxelinux.0\0octet\0", server.local_addr()).unwrap();
/// let mut buf = [0u8; 600];
/// let (n, from) = client.recv_from(&mut buf).unwrap();
/// assert_eq!(&buf[..4], [0, 3, 0, 1]); // DATA, block 1
/// assert_eq!(&buf[4..n], b"loader");
/// client.send_to(&[0, 4, 0, 1], from).unwrap(); // ACK
/// assert_eq!(server.served()[0].path, "pxelinux.0");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug)]
pub struct TftpServer {
    addr: SocketAddr,
    log: ServedLog,
    stop: Option<futures::channel::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TftpServer {
    /// Serves `root` read-only on `addr` (UDP) from its own thread.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `tftp_root` when it is not a
    /// directory; when `addr` cannot be bound: [`ErrorKind::Busy`] (retryable) if it is
    /// in use, [`ErrorKind::InvalidParameter`] if it is not an address of this host,
    /// [`ErrorKind::PermissionDenied`] for a privileged port without the right,
    /// [`ErrorKind::Other`] otherwise; each names the server and the address.
    ///
    /// ```
    /// use hwctl_pxe::{TftpOptions, TftpServer};
    /// let err = TftpServer::start("/no/such/root".as_ref(), "127.0.0.1:0".parse().unwrap(), &TftpOptions::default()).unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// ```
    pub fn start(root: &Path, addr: SocketAddr, options: &TftpOptions) -> Result<TftpServer> {
        let root = std::fs::canonicalize(root)
            .ok()
            .filter(|r| r.is_dir())
            .ok_or_else(|| Error::invalid_parameter("tftp_root", "is not a directory"))?;
        let socket =
            UdpSocket::bind(addr).map_err(|e| crate::served::bind_error(e, "TFTP", addr))?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Other, format!("TFTP socket on {addr}: {e}")))?;
        let log = ServedLog::default();
        let builder = async_tftp::server::TftpServerBuilder::with_handler(Confined {
            root,
            log: log.clone(),
        })
        .std_socket(socket)
        .map_err(|e| Error::new(ErrorKind::Other, format!("TFTP socket on {addr}: {e}")))?
        .timeout(options.timeout)
        .block_size_limit(options.max_block_size)
        .window_size_limit(options.max_window_size)
        .max_send_retries(options.max_retries);
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hw-pxe-tftp".into())
            .spawn(move || {
                futures::executor::block_on(async move {
                    let server = match builder.build().await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::error!("tftp server: {e}");
                            return;
                        }
                    };
                    let serve = std::pin::pin!(server.serve());
                    let _ = futures::future::select(serve, rx).await;
                });
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::DeviceFault,
                    format!("cannot start TFTP thread: {e}"),
                )
            })?;
        Ok(TftpServer {
            addr,
            log,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    ///
    /// ```
    /// let root = tempfile::tempdir().unwrap();
    /// let server = hwctl_pxe::TftpServer::start(root.path(), "127.0.0.1:0".parse().unwrap(), &Default::default())?;
    /// assert!(server.local_addr().ip().is_loopback() && server.local_addr().port() != 0);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests answered so far (the last [`SERVED_LOG_LEN`](crate::served::SERVED_LOG_LEN)),
    /// oldest first: which files a booting node fetched, how far each transfer got,
    /// and which names it looked for in vain.
    ///
    /// ```
    /// use std::{net::UdpSocket, time::Duration};
    /// use hwctl_pxe::Outcome;
    /// let root = tempfile::tempdir().unwrap();
    /// let server = hwctl_pxe::TftpServer::start(root.path(), "127.0.0.1:0".parse().unwrap(), &Default::default())?;
    /// let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    /// client.send_to(b"\0\x01missing.cfg\0octet\0", server.local_addr()).unwrap();
    /// let mut buf = [0u8; 600];
    /// let (_, _) = client.recv_from(&mut buf).unwrap();
    /// assert_eq!(&buf[..4], [0, 5, 0, 1]); // ERROR, file not found
    /// assert_eq!(server.served()[0].outcome, Outcome::NotFound);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn served(&self) -> Vec<Served> {
        self.log.snapshot()
    }

    /// Stops the server and waits for its thread.
    ///
    /// ```
    /// let root = tempfile::tempdir().unwrap();
    /// let server = hwctl_pxe::TftpServer::start(root.path(), "127.0.0.1:0".parse().unwrap(), &Default::default())?;
    /// let addr = server.local_addr();
    /// server.shutdown(); // returns once the server's thread ended
    /// assert!(std::net::UdpSocket::bind(addr).is_ok()); // the port is free again
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TftpServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}
