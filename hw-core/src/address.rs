//! One parser for host addresses as operators write them, for every driver: what
//! validates here is what a driver connects to.
//!
//! - IPv4: `10.0.0.9` (dotted quad only: `10.1` or `1.2.3`, which a resolver would
//!   read in the old `inet_aton` forms, are refused).
//! - IPv6 with or without brackets, with or without a zone (RFC 4007):
//!   `fe80::1%eth0`, `[fe80::1%eth0]`, `ff02::1%2`, `[::1]`.
//! - Host names as resolvers take them: labels of letters, digits, `-` and `_`
//!   (`bmc_17.lab`), each 1–63 bytes, 253 in all, an optional final dot.
//!
//! [`Host::socket_addr`] turns an IP literal into a socket address (a zone name is
//! looked up as a network interface: its index is the IPv6 scope id), so a driver
//! never hands brackets or zones to a resolver that does not take them; a name is
//! left to the driver's resolver ([`Host::name`]).
//!
//! ```
//! use hwctl_core::address::Host;
//! let h = Host::parse("[fe80::1%1]").unwrap();
//! assert_eq!(h.to_string(), "fe80::1%1");
//! assert_eq!(h.with_port(623), "[fe80::1%1]:623");
//! let a = h.socket_addr(623).unwrap().unwrap();
//! assert!(matches!(a, std::net::SocketAddr::V6(v) if v.scope_id() == 1));
//! assert_eq!(Host::parse("bmc_17.lab").unwrap().name(), Some("bmc_17.lab"));
//! assert!(Host::parse("10.0.0.256").is_err() && Host::parse("[10.0.0.1]").is_err());
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::str::FromStr;

/// A host as written in `driver_info`: an IP address (IPv6 with its zone) or a
/// name to resolve.
///
/// ```
/// use std::net::Ipv4Addr;
/// use hwctl_core::address::Host;
/// assert_eq!(Host::parse(" 10.0.0.9 ")?, Host::V4(Ipv4Addr::new(10, 0, 0, 9)));
/// match Host::parse("[fe80::1%eth0]")? {
///     Host::V6 { addr, zone } => {
///         assert_eq!(addr.segments()[0], 0xfe80);
///         assert_eq!(zone.as_deref(), Some("eth0"));
///     }
///     other => panic!("not IPv6: {other:?}"),
/// }
/// assert_eq!(Host::parse("bmc-1.lab")?, Host::Name("bmc-1.lab".into()));
/// # Ok::<(), String>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address and its zone (`eth0`, `2`), if one was written.
    V6 {
        /// The address.
        addr: Ipv6Addr,
        /// The zone (interface name or index) after `%`.
        zone: Option<String>,
    },
    /// A host name, for the resolver.
    Name(String),
}

fn valid_zone(z: &str) -> bool {
    !z.is_empty()
        && z.len() <= 64
        && z.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn valid_name(s: &str) -> Result<(), String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err("is empty".to_owned());
    }
    if name.len() > 253 {
        return Err("is longer than 253 characters".to_owned());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty label (two dots, or a leading dot)".to_owned());
        }
        if label.len() > 63 {
            return Err("has a label longer than 63 characters".to_owned());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "is not an IP address or host name ({c:?} is not allowed in a host name)"
            ));
        }
    }
    if name
        .split('.')
        .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(
            "is not a valid IPv4 address (four numbers 0–255 separated by dots)".to_owned(),
        );
    }
    Ok(())
}

impl Host {
    /// Parses `s` (surrounding whitespace ignored).
    ///
    /// # Errors
    ///
    /// A reason a person reads (`is not a valid IPv4 address …`) for anything that
    /// is neither an IP address nor a host name.
    ///
    /// ```
    /// use hwctl_core::address::Host;
    /// assert!(Host::parse("10.0.0.9").is_ok() && Host::parse("::1").is_ok());
    /// assert_eq!(Host::parse("10.1").unwrap_err(),
    ///     "is not a valid IPv4 address (four numbers 0–255 separated by dots)");
    /// assert_eq!(Host::parse("[bmc-1]").unwrap_err(), "has brackets, which only an IPv6 address takes");
    /// assert_eq!(Host::parse("bmc..lab").unwrap_err(), "has an empty label (two dots, or a leading dot)");
    /// // A port belongs in the driver's port key, not in the address.
    /// assert_eq!(Host::parse("10.0.0.1:623").unwrap_err(),
    ///     "has a port (623); an address has no port here: give the port in its own key");
    /// ```
    pub fn parse(s: &str) -> Result<Host, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("is empty".to_owned());
        }
        if let Some(port) = written_port(s) {
            return Err(format!(
                "has a port ({port}); an address has no port here: give the port in its own key"
            ));
        }
        let (inner, bracketed) = match s.strip_prefix('[') {
            Some(rest) => match rest.strip_suffix(']') {
                Some(inner) => (inner, true),
                None => return Err("has an opening '[' without a closing ']'".to_owned()),
            },
            None => (s, false),
        };
        if inner.contains(':') {
            let (addr, zone) = match inner.split_once('%') {
                Some((a, z)) => (a, Some(z)),
                None => (inner, None),
            };
            let addr: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("is not a valid IPv6 address ({addr:?})"))?;
            if let Some(z) = zone
                && !valid_zone(z)
            {
                return Err(format!("has an invalid IPv6 zone {z:?}"));
            }
            return Ok(Host::V6 {
                addr,
                zone: zone.map(str::to_owned),
            });
        }
        if bracketed {
            return Err("has brackets, which only an IPv6 address takes".to_owned());
        }
        if let Ok(v4) = inner.parse::<Ipv4Addr>() {
            return Ok(Host::V4(v4));
        }
        valid_name(inner)?;
        Ok(Host::Name(inner.to_owned()))
    }

    /// The name to resolve, for a [`Host::Name`].
    ///
    /// ```
    /// use hwctl_core::address::Host;
    /// assert_eq!(Host::parse("bmc-1.lab.")?.name(), Some("bmc-1.lab."));
    /// assert_eq!(Host::parse("10.0.0.9")?.name(), None);
    /// # Ok::<(), String>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        match self {
            Host::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The IP address, for an IP literal.
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv6Addr};
    /// use hwctl_core::address::Host;
    /// assert_eq!(Host::parse("[::1]")?.ip(), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    /// assert_eq!(Host::parse("bmc-1")?.ip(), None);
    /// # Ok::<(), String>(())
    /// ```
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::V4(a) => Some(IpAddr::V4(*a)),
            Host::V6 { addr, .. } => Some(IpAddr::V6(*addr)),
            Host::Name(_) => None,
        }
    }

    /// The socket address of an IP literal with `port` (`Ok(None)` for a name,
    /// which the driver resolves). A zone becomes the scope id: a number as it is,
    /// a name as that network interface's index.
    ///
    /// # Errors
    ///
    /// A zone naming no network interface of this machine.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use hwctl_core::address::Host;
    /// let v4 = Host::parse("10.0.0.9")?.socket_addr(623)?;
    /// assert_eq!(v4, Some(SocketAddr::from(([10, 0, 0, 9], 623))));
    /// assert_eq!(Host::parse("bmc-1.lab")?.socket_addr(623)?, None); // the driver resolves it
    /// let err = Host::parse("fe80::1%no-such-if0")?.socket_addr(623).unwrap_err();
    /// assert_eq!(err, "IPv6 zone \"no-such-if0\" is not a network interface of this host");
    /// # Ok::<(), String>(())
    /// ```
    pub fn socket_addr(&self, port: u16) -> Result<Option<SocketAddr>, String> {
        match self {
            Host::V4(a) => Ok(Some(SocketAddr::from((*a, port)))),
            Host::V6 { addr, zone } => {
                let scope = match zone {
                    None => 0,
                    Some(z) => scope_id(z)?,
                };
                Ok(Some(SocketAddr::V6(SocketAddrV6::new(
                    *addr, port, 0, scope,
                ))))
            }
            Host::Name(_) => Ok(None),
        }
    }

    /// `host:port` for messages and connection strings: IPv6 in brackets
    /// (`[fe80::1%eth0]:623`).
    ///
    /// ```
    /// use hwctl_core::address::Host;
    /// assert_eq!(Host::parse("10.0.0.9")?.with_port(623), "10.0.0.9:623");
    /// assert_eq!(Host::parse("fe80::1%eth0")?.with_port(623), "[fe80::1%eth0]:623");
    /// assert_eq!(Host::parse("bmc-1")?.with_port(443), "bmc-1:443");
    /// # Ok::<(), String>(())
    /// ```
    pub fn with_port(&self, port: u16) -> String {
        match self {
            Host::V6 { .. } => format!("[{self}]:{port}"),
            _ => format!("{self}:{port}"),
        }
    }
}

/// The port of `host:port` or `[v6]:port` as an operator writes it for a socket
/// (`10.0.0.1:623`, `bmc-1.lab:623`, `[fe80::1]:623`), if `s` is one: an IPv6
/// address without brackets has two colons or more, so it is never taken for one.
fn written_port(s: &str) -> Option<&str> {
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => rest.rsplit_once("]:")?,
        None if s.matches(':').count() == 1 => s.split_once(':')?,
        None => return None,
    };
    let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    (digits && !host.is_empty()).then_some(port)
}

/// The scope id of IPv6 zone `zone`: a number, or a network interface's index.
fn scope_id(zone: &str) -> Result<u32, String> {
    if let Ok(n) = zone.parse::<u32>() {
        return Ok(n);
    }
    // Linux lists interfaces with their index under /sys; no `unsafe`
    // if_nametoindex needed.
    let path = std::path::Path::new("/sys/class/net")
        .join(zone)
        .join("ifindex");
    std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .ok_or_else(|| format!("IPv6 zone {zone:?} is not a network interface of this host"))
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::V4(a) => write!(f, "{a}"),
            Host::V6 { addr, zone: None } => write!(f, "{addr}"),
            Host::V6 {
                addr,
                zone: Some(z),
            } => write!(f, "{addr}%{z}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

impl FromStr for Host {
    type Err = String;

    fn from_str(s: &str) -> Result<Host, String> {
        Host::parse(s)
    }
}

/// Whether a failed name lookup says the name does not exist (NXDOMAIN: glibc's
/// `EAI_NONAME`/`EAI_NODATA`, musl's, macOS's and Windows' wording) — the node's
/// configuration, an input error never worth retrying — as opposed to a resolver that
/// failed for now (`EAI_AGAIN` "Temporary failure in name resolution", no server
/// reachable), which is worth retrying. std's lookup gives only the resolver's
/// message text, so that is what is matched.
///
/// ```
/// use hwctl_core::address::name_does_not_exist;
/// use std::io::{Error, ErrorKind};
/// let nx = Error::new(ErrorKind::Other, "failed to lookup address information: Name or service not known");
/// let again = Error::new(ErrorKind::Other, "failed to lookup address information: Temporary failure in name resolution");
/// assert!(name_does_not_exist(&nx) && !name_does_not_exist(&again));
/// ```
pub fn name_does_not_exist(e: &std::io::Error) -> bool {
    const NO_SUCH_NAME: [&str; 5] = [
        "Name or service not known",
        "No address associated with hostname",
        "nodename nor servname provided",
        "Name does not resolve",
        "No such host is known",
    ];
    let text = e.to_string();
    NO_SUCH_NAME.iter().any(|m| text.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_write_these() {
        for ok in [
            "10.0.0.1",
            "fe80::1%eth0",
            "[fe80::1%eth0]",
            "ff02::1%eth0",
            "::1",
            "[::1]",
            "[::1%lo]",
            "fe80::1%2",
            "bmc_17.lab",
            "bmc-1.example.com.",
            "localhost",
            "_srv.lab",
            "1bmc",
        ] {
            assert!(Host::parse(ok).is_ok(), "{ok}: {:?}", Host::parse(ok));
        }
        for bad in [
            "",
            "bad$host",
            ".bad",
            "a..b",
            "10.0.0.256",
            "1.2.3",
            "10.1",
            "[10.0.0.1]",
            "[bmc.lab]",
            "[::1",
            "fe80::1%",
            "fe80::1%eth 0",
            "fe80::zz",
            "host:623",
        ] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literals_become_socket_addresses() {
        let a = Host::parse("[::1%lo]")
            .unwrap()
            .socket_addr(9)
            .unwrap()
            .unwrap();
        let SocketAddr::V6(v6) = a else { panic!("{a}") };
        assert_eq!((v6.port(), v6.ip().is_loopback()), (9, true));
        #[cfg(target_os = "linux")]
        assert_eq!(v6.scope_id(), 1);
        assert!(
            Host::parse("fe80::1%nosuchif0")
                .unwrap()
                .socket_addr(9)
                .is_err()
        );
        assert_eq!(Host::parse("bmc_17.lab").unwrap().socket_addr(9), Ok(None));
        assert_eq!(
            Host::parse("10.0.0.1").unwrap().with_port(623),
            "10.0.0.1:623"
        );
        assert_eq!(Host::parse("::1").unwrap().with_port(623), "[::1]:623");
    }
}
