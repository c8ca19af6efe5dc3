//! Loopback-only binding: simulators must never listen on a real network.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! let listener = hwctl_sim::bind::bind_tcp(None).await?;
//! assert!(listener.local_addr().map_or(false, |a| a.ip().is_loopback()));
//! assert!(hwctl_sim::bind::bind_tcp(Some("0.0.0.0:0".parse().unwrap())).await.is_err());
//! # Ok(()) }
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use hwctl_core::{Error, ErrorKind, Result};
use tokio::net::{TcpListener, UdpSocket};

/// The address simulators listen on when none is given: `127.0.0.1:0` (any free port).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// Returns `addr` if it is a loopback address (`127.0.0.0/8`, `::1`, or an IPv4-mapped
/// `::ffff:127.x.y.z`).
///
/// ```
/// use hwctl_sim::bind::check_loopback;
/// assert!(check_loopback("127.0.0.2:623".parse().unwrap()).is_ok());
/// assert!(check_loopback("[::1]:80".parse().unwrap()).is_ok());
/// let err = check_loopback("192.0.2.1:623".parse().unwrap()).unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
/// assert!(err.to_string().contains("192.0.2.1:623"));
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] naming the address when it is not loopback (such
/// as `0.0.0.0` or a real interface's address).
pub fn check_loopback(addr: SocketAddr) -> Result<SocketAddr> {
    if addr.ip().to_canonical().is_loopback() {
        Ok(addr)
    } else {
        Err(Error::invalid_parameter(
            "listen",
            format!(
                "{addr} is not a loopback address; simulators listen only on 127.0.0.0/8 or ::1"
            ),
        )
        .with_driver("hwctl-sim"))
    }
}

/// Maps an I/O error of binding `addr` to an [`Error`] with the address as context.
///
/// An address in use is [`ErrorKind::Busy`] (docs/error-kinds.md: a resource held by
/// someone else, retryable once it is let go), not `Unreachable`, which is about a
/// peer that cannot be reached: nothing is being reached here.
fn bind_error(e: io::Error, what: &str, addr: SocketAddr) -> Error {
    let (kind, advice) = match e.kind() {
        io::ErrorKind::AddrInUse => (
            ErrorKind::Busy,
            "; another process holds it: give another port, or port 0 for any free one",
        ),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::InvalidInput => {
            (ErrorKind::InvalidParameter, "")
        }
        io::ErrorKind::PermissionDenied => (ErrorKind::PermissionDenied, ""),
        _ => (ErrorKind::Other, ""),
    };
    Error::new(kind, format!("cannot bind {what} {addr}: {e}{advice}"))
        .with_driver("hwctl-sim")
        .with_operation("bind")
        .with_source(e)
}

/// Binds a TCP listener on `listen` (default [`DEFAULT_LISTEN`], `127.0.0.1:0`).
///
/// # Errors
///
/// - [`ErrorKind::InvalidParameter`] when `listen` is not loopback (see
///   [`check_loopback`]) or the address is not available on this host;
/// - [`ErrorKind::Busy`] (retryable) when the address is in use, the message
///   saying another process holds it;
/// - [`ErrorKind::PermissionDenied`] for a privileged port without the right;
/// - [`ErrorKind::Other`] for any other I/O error.
pub async fn bind_tcp(listen: Option<SocketAddr>) -> Result<TcpListener> {
    let addr = check_loopback(listen.unwrap_or(DEFAULT_LISTEN))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| bind_error(e, "TCP", addr))?;
    tracing::debug!(%addr, local = ?listener.local_addr().ok(), "simulator TCP listener bound");
    Ok(listener)
}

/// Binds a UDP socket on `listen` (default [`DEFAULT_LISTEN`], `127.0.0.1:0`).
///
/// # Errors
///
/// The same kinds as [`bind_tcp`].
pub async fn bind_udp(listen: Option<SocketAddr>) -> Result<UdpSocket> {
    let addr = check_loopback(listen.unwrap_or(DEFAULT_LISTEN))?;
    let socket = UdpSocket::bind(addr)
        .await
        .map_err(|e| bind_error(e, "UDP", addr))?;
    tracing::debug!(%addr, local = ?socket.local_addr().ok(), "simulator UDP socket bound");
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_accepted_and_others_are_named() {
        for ok in [
            "127.0.0.1:1",
            "127.255.0.9:0",
            "[::1]:5",
            "[::ffff:127.0.0.1]:7",
        ] {
            let a: SocketAddr = ok.parse().unwrap();
            assert_eq!(check_loopback(a).unwrap(), a, "{ok}");
        }
        for bad in [
            "0.0.0.0:0",
            "10.0.0.1:623",
            "[::]:0",
            "[fe80::1]:80",
            "[::ffff:10.0.0.1]:1",
        ] {
            let a: SocketAddr = bad.parse().unwrap();
            let err = check_loopback(a).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{bad}");
            assert!(err.to_string().contains(&a.to_string()), "{err}");
        }
    }

    #[tokio::test]
    async fn binds_default_loopback() {
        let t = bind_tcp(None).await.unwrap();
        let a = t.local_addr().unwrap();
        assert!(a.ip().is_loopback() && a.port() != 0);
        let u = bind_udp(None).await.unwrap();
        assert!(u.local_addr().unwrap().ip().is_loopback());
    }

    #[tokio::test]
    async fn refuses_non_loopback_before_binding() {
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert_eq!(
            bind_tcp(Some(any)).await.unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            bind_udp(Some(any)).await.unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
    }

    #[tokio::test]
    async fn address_in_use_is_busy_with_the_address() {
        let t = bind_tcp(None).await.unwrap();
        let a = t.local_addr().unwrap();
        let err = bind_tcp(Some(a)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy);
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().contains(&a.to_string()), "{err}");
        assert!(
            err.to_string().contains("another process holds it"),
            "{err}"
        );
        let u = bind_udp(None).await.unwrap();
        let a = u.local_addr().unwrap();
        assert_eq!(bind_udp(Some(a)).await.unwrap_err().kind(), ErrorKind::Busy);
    }
}
