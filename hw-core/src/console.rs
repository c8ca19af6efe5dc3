//! The console interface: a node's serial console as a byte stream.
//!
//! [`pumped`]: the user-facing half of a console whose device session a
//! background task carries, shared by the protocol crates.

use std::fmt;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::Result;

pub mod pumped;

/// A bidirectional byte stream to a node's serial console.
///
/// Implemented for every `AsyncRead + AsyncWrite + Send + Unpin` type.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::ConsoleHandle;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// // Any duplex byte stream is a console stream.
/// let (ours, mut theirs) = tokio::io::duplex(64);
/// let mut handle: ConsoleHandle = Box::new(ours);
/// theirs.write_all(b"login: ").await.unwrap();
/// let mut buf = [0u8; 7];
/// handle.read_exact(&mut buf).await.unwrap();
/// assert_eq!(&buf, b"login: ");
/// # Ok(()) }
/// ```
pub trait ConsoleStream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> ConsoleStream for T {}

/// An open console: read what the node prints, write what it should read.
pub type ConsoleHandle = Box<dyn ConsoleStream>;

/// Opens a node's serial console.
///
/// # Contract
///
/// - `open` returns once the device-side session is established.
/// - Opening a console that another client holds fails with
///   [`ErrorKind::Busy`](crate::ErrorKind::Busy) where the device says so.
/// - `shutdown()` (from `AsyncWriteExt`) ends the device-side session and waits for
///   it; dropping the handle ends it too, in the background.
/// - Reads return `Ok(0)` (end of stream) when the device ends the session.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Console, fake::FakeConsole};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let console = FakeConsole::default();
/// let mut stream = console.open().await?;
/// stream.write_all(b"hi").await.unwrap();
/// let mut buf = [0u8; 2];
/// stream.read_exact(&mut buf).await.unwrap();
/// assert_eq!(&buf, b"hi"); // the fake console echoes
/// stream.shutdown().await.unwrap();
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Console: Send + Sync + fmt::Debug {
    /// Opens the serial console.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Console, ErrorKind, fake::FakeConsole};
    /// let stream = FakeConsole::default().open().await?;
    /// drop(stream); // ends the session in the background
    /// // A failing device: the error kind says why.
    /// let node = hwctl_core::fake::hardware_type().build(
    ///     &hwctl_core::DriverInfo::from_pairs([("fake_fail", "console")]),
    ///     &hwctl_core::NodeContext::new("n1"),
    /// )?;
    /// let Err(err) = node.console()?.open().await else { panic!("opened") };
    /// assert_eq!(err.kind(), ErrorKind::DeviceFault);
    /// # Ok(()) }
    /// ```
    async fn open(&self) -> Result<ConsoleHandle>;
}
