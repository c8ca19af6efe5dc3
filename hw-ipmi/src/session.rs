//! One RMCP+ session on a tokio UDP socket: establishment (Open Session, RAKP 1–4,
//! Set Session Privilege Level), request/response exchange, Close Session.

use std::net::SocketAddr;
use std::time::Duration;

use hwctl_core::address::Host;
use hwctl_core::{Error, ErrorKind, ExposeSecret, Result};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::attempts::Attempts;
use crate::config::{Bridge, CipherSuite, IpmiConfig, PrivilegeLevel, SuiteChoice};
use crate::crypto::{SessionKeys, hmac, mac_eq};
use crate::wire::{self, ChannelAuthCapabilities, Reply, Request, payload};

/// Maximum datagram we accept.
pub(crate) const MAX_PACKET: usize = 1024;

/// An established session.
pub(crate) struct Session {
    socket: UdpSocket,
    pub(crate) suite: CipherSuite,
    /// What Get Channel Authentication Capabilities said before Open Session
    /// (`None` when the BMC answered it with an error completion code).
    pub(crate) auth_caps: Option<ChannelAuthCapabilities>,
    managed_id: u32,
    console_id: u32,
    keys: SessionKeys,
    out_seq: u32,
    rq_seq: u8,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("suite", &self.suite)
            .field("managed_id", &format_args!("0x{:08x}", self.managed_id))
            .finish_non_exhaustive()
    }
}

/// A failed name lookup of `ipmi_address`: a name that does not exist (NXDOMAIN:
/// glibc's `EAI_NONAME`/`EAI_NODATA`, musl's, macOS's, Windows' wording) is the
/// node's configuration, `InvalidParameter` and never retried; any other resolver
/// failure (`EAI_AGAIN`, no server) is `Unreachable`, retried.
fn resolve_error(target: &str, e: std::io::Error) -> Error {
    let text = e.to_string();
    if hwctl_core::address::name_does_not_exist(&e) {
        Error::invalid_parameter(
            "ipmi_address",
            format!("the host name of {target} does not exist (DNS: {text})"),
        )
    } else {
        Error::new(ErrorKind::Unreachable, format!("cannot resolve {target}")).with_source(e)
    }
}

/// Resolves and connects a UDP socket to the BMC: an IP literal (IPv6 with its
/// zone as the scope id) without a resolver, a name through it
/// (`hwctl_core::address::Host`, the parser `ipmi_address` was validated with).
async fn connect(cfg: &IpmiConfig) -> Result<UdpSocket> {
    let target = cfg.endpoint();
    let host = Host::parse(&cfg.host)
        .map_err(|why| Error::invalid_parameter("ipmi_address", format!("{:?} {why}", cfg.host)))?;
    // A zone naming no interface of this host is the node's configuration, not
    // the network: invalid input, as at validation.
    let literal = host.socket_addr(cfg.port).map_err(|why| {
        Error::invalid_parameter("ipmi_address", format!("{:?}: {why}", cfg.host))
    })?;
    let addrs: Vec<SocketAddr> = match (literal, host.name()) {
        (Some(a), _) => vec![a],
        (None, name) => tokio::time::timeout(
            cfg.request_timeout,
            tokio::net::lookup_host((name.unwrap_or_default(), cfg.port)),
        )
        .await
        .map_err(|_| Error::new(ErrorKind::Timeout, format!("resolving {target} timed out")))?
        .map_err(|e| resolve_error(&target, e))?
        .collect(),
    };
    let addr = addrs.first().copied().ok_or_else(|| {
        Error::new(
            ErrorKind::Unreachable,
            format!("{target} resolves to no address"),
        )
    })?;
    let bind: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    // A local failure (no free port, no IPv6 on this host), not the BMC's.
    let socket = UdpSocket::bind(bind).await.map_err(|e| {
        Error::new(
            ErrorKind::Other,
            format!("cannot open a UDP socket on {bind}"),
        )
        .with_source(e)
    })?;
    socket.connect(addr).await.map_err(|e| {
        Error::new(ErrorKind::Unreachable, format!("cannot reach {target}")).with_source(e)
    })?;
    Ok(socket)
}

/// A failed send or receive on the connected socket. `ConnectionRefused` is the
/// ICMP "port unreachable" of an earlier datagram: the host is up, nothing
/// listens on that port.
/// A wait as an error message shows it: to the millisecond (`2s`, `1.987s`), not
/// the nanoseconds left of a deadline (`1.986982195s`, a newcomer's report).
fn shown(wait: Duration) -> Duration {
    Duration::from_millis(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
}

fn io_err(target: &str, e: std::io::Error) -> Error {
    let what = if e.kind() == std::io::ErrorKind::ConnectionRefused {
        format!(
            "{target} refused the datagram (ICMP port unreachable: nothing listens on that port)"
        )
    } else {
        format!("UDP to {target} failed: {e}")
    };
    Error::new(ErrorKind::Unreachable, what).with_source(e)
}

/// A datagram that could not be sent never reached the BMC: safe to resend
/// whatever it was.
fn send_err(target: &str, e: std::io::Error) -> Error {
    io_err(target, e).not_delivered()
}

/// Sends a session-less or session-setup `packet` and waits for the reply `accept`
/// takes, retransmitting the same packet after each `request_timeout` of silence
/// while `deadline` leaves at least a tenth of one (the wait is the pause; replies
/// to any transmission are accepted). Only silence is retransmitted here: any other
/// failure (an ICMP refusal, garbage) returns at once, and the caller's retry
/// loop waits its backoff before trying again — so nothing is sent in bursts.
/// Every retransmission is counted and logged once through `tries`.
#[allow(clippy::too_many_arguments)]
async fn retransmit<T>(
    socket: &UdpSocket,
    cfg: &IpmiConfig,
    target: &str,
    packet: &[u8],
    step: &str,
    deadline: Instant,
    tries: &Attempts,
    mut accept: impl FnMut(&[u8], &mut Option<String>) -> std::result::Result<Option<T>, String>,
) -> Result<T> {
    tries.waiting_for(step);
    loop {
        socket.send(packet).await.map_err(|e| send_err(target, e))?;
        let wait = cfg
            .request_timeout
            .min(deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1));
        match receive(socket, target, wait, step, &mut accept).await {
            Err(e)
                if e.kind() == ErrorKind::Timeout
                    && deadline.saturating_duration_since(Instant::now())
                        > cfg.request_timeout / 10 =>
            {
                tries.retrying(&e, Duration::ZERO);
            }
            r => return r,
        }
    }
}

/// Waits until `deadline` for a datagram `accept` takes (`Ok(Some(v))`), ignoring
/// the rest but remembering why (`Ok(None)` with a reason in `last_bad`). After a
/// corrupt datagram (`Err(why)`) it waits only [`bad_reply_grace`] more: a BMC never
/// resends a reply, so a corrupt one will not be followed by a good one.
async fn receive<T>(
    socket: &UdpSocket,
    target: &str,
    timeout: Duration,
    step: &str,
    accept: &mut impl FnMut(&[u8], &mut Option<String>) -> std::result::Result<Option<T>, String>,
) -> Result<T> {
    let mut buf = [0u8; MAX_PACKET];
    let mut last_bad: Option<String> = None;
    let mut deadline = Instant::now() + timeout;
    loop {
        let n = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => {
                return Err(match last_bad {
                    Some(why) => Error::protocol(format!("{target}: {why}")).with_retryable(true),
                    None => Error::new(
                        ErrorKind::Timeout,
                        format!("{target}: no reply to {step} within {:?}", shown(timeout)),
                    ),
                });
            }
            Ok(Err(e)) => return Err(io_err(target, e)),
            Ok(Ok(n)) => n,
        };
        match accept(&buf[..n], &mut last_bad) {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(why) => {
                last_bad = Some(why);
                deadline = deadline.min(Instant::now() + bad_reply_grace(timeout));
            }
        }
    }
}

/// Sends `packet` and waits for a pre-session reply of `want` type carrying `tag`,
/// retransmitting after silence ([`retransmit`]: session setup changes nothing on
/// the BMC until RAKP 4, so it is safe to resend).
#[allow(clippy::too_many_arguments)]
async fn presession(
    socket: &UdpSocket,
    cfg: &IpmiConfig,
    packet: &[u8],
    want: u8,
    tag: u8,
    step: &str,
    deadline: Instant,
    tries: &Attempts,
) -> Result<Vec<u8>> {
    let target = &cfg.endpoint();
    retransmit(
        socket,
        cfg,
        target,
        packet,
        step,
        deadline,
        tries,
        |d, last_bad| match wire::decode_packet(d, None) {
            Ok(p) if p.payload_type == want && p.payload.first() == Some(&tag) => {
                Ok(Some(p.payload))
            }
            Ok(_) => {
                *last_bad = Some(format!("unexpected packet during {step}"));
                Ok(None)
            }
            Err(e) => Err(format!("{step}: {e}")),
        },
    )
    .await
}

/// Get Channel Authentication Capabilities (App 0x38) in a session-less IPMI v1.5
/// packet, asking for the IPMI v2.0 extended data, as consoles do before Open
/// Session (retransmitted like the session setup messages).
///
/// `Ok(None)` when the BMC answers with a non-zero completion code: it is alive and
/// Open Session will tell whether it speaks RMCP+.
async fn channel_auth_caps(
    cfg: &IpmiConfig,
    deadline: Instant,
    tries: &Attempts,
) -> Result<Option<ChannelAuthCapabilities>> {
    let target = cfg.endpoint();
    let socket = connect(cfg).await?;
    let rq_seq = rand::random::<u8>() & 0x3F;
    let packet = wire::encode_v15_request(rq_seq, 0x06, 0x38, &[0x8E, cfg.priv_level.as_u8()]);
    let step = "Get Channel Authentication Capabilities (session setup step, netfn 0x06 cmd 0x38)";
    let caps = retransmit(
        &socket,
        cfg,
        &target,
        &packet,
        step,
        deadline,
        tries,
        |d, last_bad| {
            let resp = wire::decode_v15_packet(d)
                .and_then(|m| wire::decode_response(&m))
                .map_err(|e| format!("Get Channel Authentication Capabilities: {e}"))?;
            if resp.netfn != 0x07 || resp.cmd != 0x38 || resp.rq_seq != rq_seq {
                *last_bad = Some("a reply to another request".to_owned());
                return Ok(None);
            }
            Ok(Some(resp))
        },
    )
    .await?;
    if caps.cc != 0 {
        tracing::debug!(endpoint = %target, cc = caps.cc,
            "Get Channel Authentication Capabilities refused; trying Open Session anyway");
        return Ok(None);
    }
    let caps = wire::decode_auth_caps(&caps.data)
        .map_err(|e| Error::protocol(format!("{target}: {e}")))?;
    Ok(Some(caps))
}

/// What Get Channel Cipher Suites (App 0x54) said: the suite numbers the channel
/// offers, standard and OEM (`(id, oem)`), in the BMC's order.
pub(crate) type OfferedSuites = Vec<(u8, bool)>;

/// Get Channel Cipher Suites (App 0x54) in session-less IPMI v1.5 packets, as
/// ipmitool sends it before Open Session when no suite is given: lists the suites
/// of this channel for the IPMI payload, 16 bytes of records per request.
///
/// Each request is sent once and waited for `request_timeout` (bounded by
/// `deadline`): `Ok(None)` when the BMC does not answer, answers an error
/// completion code or something that does not parse (the caller then falls back
/// on trying the suites).
async fn channel_cipher_suites(
    cfg: &IpmiConfig,
    deadline: Instant,
    tries: &Attempts,
) -> Result<Option<OfferedSuites>> {
    let target = cfg.endpoint();
    let socket = connect(cfg).await?;
    let mut records = Vec::new();
    for index in 0u8..0x40 {
        let rq_seq = rand::random::<u8>() & 0x3F;
        let packet = wire::encode_v15_request(rq_seq, 0x06, 0x54, &[0x0E, 0x00, 0x80 | index]);
        socket
            .send(&packet)
            .await
            .map_err(|e| send_err(&target, e))?;
        let wait = cfg
            .request_timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let step = "Get Channel Cipher Suites";
        tries.waiting_for("Get Channel Cipher Suites (session setup step, netfn 0x06 cmd 0x54)");
        let got = receive(&socket, &target, wait, step, &mut |d, last_bad| {
            let resp = wire::decode_v15_packet(d)
                .and_then(|m| wire::decode_response(&m))
                .map_err(|e| format!("{step}: {e}"))?;
            if resp.netfn != 0x07 || resp.cmd != 0x54 || resp.rq_seq != rq_seq {
                *last_bad = Some("a reply to another request".to_owned());
                return Ok(None);
            }
            Ok(Some(resp))
        })
        .await;
        let resp = match got {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(endpoint = %target, error = %e, "no cipher suite list");
                return Ok(None);
            }
        };
        if resp.cc != 0 || resp.data.is_empty() {
            tracing::debug!(endpoint = %target, cc = resp.cc, "Get Channel Cipher Suites refused");
            return Ok(None);
        }
        let chunk = &resp.data[1..];
        records.extend_from_slice(chunk);
        if chunk.len() < 16 {
            break;
        }
    }
    Ok(Some(wire::decode_cipher_suite_records(&records)))
}

/// How long to keep waiting for a valid reply after a corrupt one (bad integrity
/// code, truncated, malformed): a fifth of the request timeout, at least 20 ms.
/// Replies of the wrong sequence number (late answers to an earlier request) do not
/// shorten the wait: the right one may still come.
pub(crate) fn bad_reply_grace(timeout: Duration) -> Duration {
    (timeout / 5).max(Duration::from_millis(20)).min(timeout)
}

/// "the BMC offers 3, 17 (and OEM 128)" / "the BMC did not list its suites".
fn offered_text(offered: Option<&[(u8, bool)]>) -> String {
    match offered {
        None => "the BMC did not list its cipher suites (Get Channel Cipher Suites)".to_owned(),
        Some([]) => "the BMC lists no cipher suite".to_owned(),
        Some(list) => {
            let names: Vec<String> = list
                .iter()
                .map(|&(n, oem)| {
                    if oem {
                        format!("OEM {n}")
                    } else {
                        n.to_string()
                    }
                })
                .collect();
            format!("the BMC offers {}", names.join(", "))
        }
    }
}

fn status_error(target: &str, step: &str, status: u8) -> Error {
    let kind = match status {
        0x01 | 0x0B => ErrorKind::Busy,
        0x0D..=0x0F => ErrorKind::Unauthenticated,
        0x09 | 0x0A => ErrorKind::PermissionDenied,
        0x04 | 0x05 | 0x06 | 0x07 | 0x10 | 0x11 => ErrorKind::Unsupported,
        _ => ErrorKind::Protocol,
    };
    Error::new(
        kind,
        format!(
            "{target}: {step} refused: {} (status 0x{status:02x})",
            wire::rmcp_status_name(status)
        ),
    )
}

impl Session {
    /// Opens a session with the suite(s) the config allows, then sets the
    /// privilege; every step ends by `deadline`.
    ///
    /// With no suite configured (`SuiteChoice::Auto`), the suite comes from what the
    /// BMC lists (Get Channel Cipher Suites, as ipmitool asks): 17 when offered,
    /// else 3, else `Unsupported` naming the BMC's suites. A BMC that does not
    /// answer the list (silence or an error code) is tried with 17 for one
    /// `request_timeout`, then 3, so a BMC that silently drops a suite it does not
    /// have costs one wait, not the whole budget. A suite number this crate does
    /// not speak (`SuiteChoice::Other`) is `Unsupported`, naming what the BMC offers.
    pub(crate) async fn open(
        cfg: &IpmiConfig,
        deadline: Instant,
        tries: &Attempts,
    ) -> Result<Session> {
        cfg.check()?;
        let auth_caps = channel_auth_caps(cfg, deadline, tries).await?;
        if let Some(caps) = auth_caps.filter(|c| !c.ipmi20) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{}: channel {} does not support IPMI 2.0 (RMCP+) sessions, only IPMI v1.5",
                    cfg.endpoint(),
                    caps.channel
                ),
            ));
        }
        let mut session = match cfg.cipher_suite {
            SuiteChoice::Only(s) => Session::open_with(cfg, s, deadline, tries).await?,
            SuiteChoice::Other(n) => {
                let offered = channel_cipher_suites(cfg, deadline, tries).await?;
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "{}: cipher suite {n} (ipmi_cipher_suite) is not one this driver speaks (3, 17); {}",
                        cfg.endpoint(),
                        offered_text(offered.as_deref())
                    ),
                ));
            }
            SuiteChoice::Auto => match channel_cipher_suites(cfg, deadline, tries).await? {
                Some(offered) => {
                    let has = |id: u8| offered.iter().any(|&(n, oem)| n == id && !oem);
                    let suite = if has(17) {
                        CipherSuite::Suite17
                    } else if has(3) {
                        CipherSuite::Suite3
                    } else {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            format!(
                                "{}: no cipher suite in common: this driver speaks 3 and 17; {}",
                                cfg.endpoint(),
                                offered_text(Some(&offered))
                            ),
                        ));
                    };
                    tracing::debug!(endpoint = %cfg.endpoint(), suite = suite.id(), ?offered, "cipher suite chosen from the BMC's list");
                    Session::open_with(cfg, suite, deadline, tries).await?
                }
                None => {
                    let first = deadline.min(Instant::now() + cfg.request_timeout);
                    match Session::open_with(cfg, CipherSuite::Suite17, first, tries).await {
                        Ok(s) => s,
                        Err(e)
                            if matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::Timeout) =>
                        {
                            tracing::debug!(endpoint = %cfg.endpoint(), error = %e, "no cipher suite 17; trying 3");
                            Session::open_with(cfg, CipherSuite::Suite3, deadline, tries).await?
                        }
                        Err(e) => return Err(e),
                    }
                }
            },
        };
        session.auth_caps = auth_caps;
        if cfg.priv_level != PrivilegeLevel::User {
            let wait = cfg
                .request_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            tries.waiting_for(
                "Set Session Privilege Level (session setup step, netfn 0x06 cmd 0x3B)",
            );
            session.set_privilege(cfg, wait).await?;
        }
        Ok(session)
    }

    async fn open_with(
        cfg: &IpmiConfig,
        suite: CipherSuite,
        deadline: Instant,
        tries: &Attempts,
    ) -> Result<Session> {
        let target = cfg.endpoint();
        let socket = connect(cfg).await?;
        let console_id: u32 = rand::random::<u32>() | 1;
        let tag: u8 = rand::random();

        // Open Session.
        let req = wire::open_session_request(tag, console_id, suite);
        let pkt = wire::encode_packet(payload::OPEN_SESSION_REQUEST, 0, 0, &req, None);
        let step = format!(
            "Open Session (session setup step, cipher suite {})",
            suite.id()
        );
        let raw = presession(
            &socket,
            cfg,
            &pkt,
            payload::OPEN_SESSION_RESPONSE,
            tag,
            &step,
            deadline,
            tries,
        )
        .await?;
        let osr = wire::decode_open_session_response(&raw)?;
        if osr.status != 0 {
            return Err(status_error(&target, "Open Session", osr.status));
        }
        if osr.console_id != console_id || osr.managed_id == 0 {
            return Err(Error::protocol(format!(
                "{target}: Open Session Response names another session"
            )));
        }
        let want = [
            suite.auth_algorithm(),
            suite.integrity_algorithm(),
            suite.confidentiality_algorithm(),
        ];
        if osr.algorithms != want {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{target}: BMC chose algorithms {:?} instead of cipher suite {suite}",
                    osr.algorithms
                ),
            ));
        }
        let managed_id = osr.managed_id;

        // RAKP 1 / 2.
        let rm: [u8; 16] = rand::random();
        let role = cfg.priv_level.as_u8() | 0x10; // name-only lookup
        let user = cfg.username.as_bytes();
        let tag = tag.wrapping_add(1);
        let r1 = wire::rakp1(tag, managed_id, &rm, role, user);
        let pkt = wire::encode_packet(payload::RAKP1, 0, 0, &r1, None);
        let step = "RAKP 1 (session setup step)";
        let raw = presession(
            &socket,
            cfg,
            &pkt,
            payload::RAKP2,
            tag,
            step,
            deadline,
            tries,
        )
        .await?;
        let r2 = wire::decode_rakp2(&raw)?;
        if r2.status != 0 {
            let e = status_error(&target, "RAKP 1", r2.status);
            // The anonymous (null) user is what an absent ipmi_username asks
            // for; a BMC without one says "unauthorized name".
            if r2.status == 0x0D && cfg.username.is_empty() {
                return Err(e.with_note(
                    "no ipmi_username was given, so the BMC's anonymous (null) user was \
                     asked for; set ipmi_username if the BMC has none",
                ));
            }
            return Err(e);
        }
        if r2.console_id != console_id {
            return Err(Error::protocol(format!(
                "{target}: RAKP 2 names another session"
            )));
        }
        let password = cfg.password.expose_secret().as_bytes();
        let ulen = [user.len() as u8];
        let expect = hmac(
            suite,
            password,
            &[
                &console_id.to_le_bytes(),
                &managed_id.to_le_bytes(),
                &rm,
                &r2.rc,
                &r2.guid,
                &[role],
                &ulen,
                user,
            ],
        );
        if !mac_eq(&expect, &r2.auth_code) {
            // An empty password is allowed (some BMCs ship so), but far more often it
            // means the secret was not supplied: say which it was.
            let why = if password.is_empty() {
                "no ipmi_password was given (an empty password is not this BMC's)"
            } else {
                "wrong password"
            };
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                format!("{target}: RAKP 2 key exchange code does not match: {why}"),
            ));
        }

        // RAKP 3 / 4.
        let code3 = hmac(
            suite,
            password,
            &[&r2.rc, &console_id.to_le_bytes(), &[role], &ulen, user],
        );
        let tag = tag.wrapping_add(1);
        let r3 = wire::rakp3(tag, 0, managed_id, &code3);
        let pkt = wire::encode_packet(payload::RAKP3, 0, 0, &r3, None);
        let step = "RAKP 3 (session setup step)";
        let raw = presession(
            &socket,
            cfg,
            &pkt,
            payload::RAKP4,
            tag,
            step,
            deadline,
            tries,
        )
        .await?;
        let r4 = wire::decode_rakp4(&raw)?;
        if r4.status != 0 {
            return Err(status_error(&target, "RAKP 3", r4.status));
        }
        // IPMI 2.0 §13.31: SIK = HMAC_Kg(Rm | Rc | RoleM | ULengthM | UNameM), where
        // Kg is the BMC key, or the user's password key KUID when the BMC has none
        // (a null, all-zero Kg).
        let kg = cfg
            .kg
            .as_ref()
            .map(|k| k.bytes())
            .filter(|k| k.iter().any(|b| *b != 0));
        let sik_key: &[u8] = kg.as_deref().unwrap_or(password);
        let sik = hmac(suite, sik_key, &[&rm, &r2.rc, &[role], &ulen, user]);
        let mut icv = hmac(suite, &sik, &[&rm, &managed_id.to_le_bytes(), &r2.guid]);
        icv.truncate(suite.auth_code_len());
        if r4.console_id != console_id || !mac_eq(&icv, &r4.icv) {
            // RAKP 2 proved the password: a session key that differs comes from Kg.
            let why = if kg.is_some() {
                "the BMC key Kg (ipmi_hex_kg_key) is not the BMC's"
            } else {
                "the BMC uses a key Kg (set ipmi_hex_kg_key)"
            };
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                format!("{target}: RAKP 4 integrity check value does not match: {why}"),
            ));
        }
        tracing::debug!(endpoint = %target, suite = suite.id(), "RMCP+ session established");
        Ok(Session {
            socket,
            suite,
            auth_caps: None,
            managed_id,
            console_id,
            keys: SessionKeys::derive(suite, &sik),
            out_seq: 1,
            rq_seq: rand::random::<u8>() & 0x3F,
        })
    }

    async fn set_privilege(&mut self, cfg: &IpmiConfig, timeout: Duration) -> Result<()> {
        let level = cfg.priv_level.as_u8();
        let req = Request {
            netfn: 0x06,
            cmd: 0x3B,
            data: &[level],
        };
        match self
            .exchange(&req, None, cfg.local_address, timeout)
            .await?
        {
            (0x00, _) => Ok(()),
            (cc @ (0x80 | 0x81), _) => Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{}: privilege level {} not available to this user (completion code 0x{cc:02x})",
                    cfg.endpoint(),
                    cfg.priv_level
                ),
            )),
            (cc, _) => Err(crate::client::cc_error(cc, "Set Session Privilege Level")),
        }
    }

    fn next_seq(&mut self) -> (u32, u8) {
        let seq = self.out_seq;
        self.out_seq = self.out_seq.wrapping_add(1).max(1);
        self.rq_seq = (self.rq_seq + 1) & 0x3F;
        (seq, self.rq_seq)
    }

    /// Sends one request and waits (until `timeout`) for its reply.
    ///
    /// Returns `(completion code, data)` of the final reply. Replies for other
    /// requests are ignored; malformed ones too, but they are named in the timeout
    /// error.
    pub(crate) async fn exchange(
        &mut self,
        req: &Request<'_>,
        bridge: Option<&Bridge>,
        local_addr: u8,
        timeout: Duration,
    ) -> Result<(u8, Vec<u8>)> {
        let (seq, rq_seq) = self.next_seq();
        let mut pkt = Vec::new();
        wire::write_request_packet(
            &mut pkt,
            req,
            rq_seq,
            bridge,
            local_addr,
            self.managed_id,
            seq,
            &self.keys,
        );
        let peer = self
            .socket
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "BMC".to_owned());
        self.socket
            .send(&pkt)
            .await
            .map_err(|e| send_err(&peer, e))?;
        let mut deadline = Instant::now() + timeout;
        let grace = bad_reply_grace(timeout);
        let mut buf = [0u8; MAX_PACKET];
        let mut last_bad: Option<String> = None;
        // A reply that fails its integrity check or does not parse is not resent
        // by the BMC: once one arrives, wait only `grace` more for a valid one (a
        // stray packet may precede the real reply), not the whole timeout.
        let corrupt = |deadline: &mut Instant| {
            *deadline = (*deadline).min(Instant::now() + grace);
        };
        loop {
            let n = match tokio::time::timeout_at(deadline, self.socket.recv(&mut buf)).await {
                Err(_) => {
                    return Err(match last_bad {
                        Some(why) => Error::protocol(format!(
                            "{peer}: no valid reply to netfn 0x{:02x} cmd 0x{:02x}; discarded: {why}",
                            req.netfn, req.cmd
                        ))
                        .with_retryable(true),
                        None => Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "{peer}: no reply to netfn 0x{:02x} cmd 0x{:02x} within {:?}",
                                req.netfn,
                                req.cmd,
                                shown(timeout)
                            ),
                        ),
                    });
                }
                Ok(Err(e)) => return Err(io_err(&peer, e)),
                Ok(Ok(n)) => n,
            };
            // The payload is decrypted here, not into a new buffer per packet.
            let mut plain = [0u8; MAX_PACKET];
            let pkt = match wire::decode_session_packet(&buf[..n], &self.keys, &mut plain) {
                Ok(p) => p,
                Err(e) => {
                    last_bad = Some(e.to_string());
                    corrupt(&mut deadline);
                    continue;
                }
            };
            if pkt.payload_type != payload::IPMI || pkt.session_id != self.console_id {
                last_bad = Some(format!(
                    "a packet outside this session (payload type 0x{:02x}, session 0x{:08x})",
                    pkt.payload_type, pkt.session_id
                ));
                continue;
            }
            let resp = match wire::decode_response_ref(pkt.payload) {
                Ok(r) => r,
                Err(e) => {
                    last_bad = Some(e.to_string());
                    corrupt(&mut deadline);
                    continue;
                }
            };
            match wire::interpret_ref(&resp, req, rq_seq, bridge) {
                Ok(Reply::Unrelated { why }) => last_bad = Some(why),
                Ok(Reply::Pending) => {}
                Ok(Reply::Final { cc, data }) => return Ok((cc, data)),
                Ok(Reply::BridgeFailed { cc }) => {
                    let b = bridge.copied().unwrap_or(Bridge::single(0, 0));
                    return Err(Error::new(
                        ErrorKind::DeviceFault,
                        format!(
                            "{peer}: Send Message to channel {} address 0x{:02x} failed with completion code 0x{cc:02x} ({})",
                            b.channel,
                            b.address,
                            crate::client::cc_name(cc)
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Where this session's datagrams go (`host:port`), for messages.
    pub(crate) fn peer(&self) -> String {
        self.socket
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "BMC".to_owned())
    }

    /// The UDP port of the BMC this session talks to (0 when unknown).
    pub(crate) fn peer_port(&self) -> u16 {
        self.socket.peer_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Sends `payload` as one in-session packet of `payload_type` (IPMI 2.0
    /// §13.6: any payload type travels in the same sealed session wrapper, with
    /// the next session sequence number), without waiting for anything.
    pub(crate) async fn send_payload(&mut self, payload_type: u8, payload: &[u8]) -> Result<()> {
        let (seq, _) = self.next_seq();
        let pkt = wire::encode_packet(
            payload_type,
            self.managed_id,
            seq,
            payload,
            Some(&self.keys),
        );
        self.socket
            .send(&pkt)
            .await
            .map(|_| ())
            .map_err(|e| send_err(&self.peer(), e))
    }

    /// Sends the IPMI request `req` to the BMC without waiting for its reply;
    /// returns the request sequence number the reply will carry.
    pub(crate) async fn send_request(&mut self, req: &Request<'_>, local_addr: u8) -> Result<u8> {
        let (seq, rq_seq) = self.next_seq();
        let mut pkt = Vec::new();
        wire::write_request_packet(
            &mut pkt,
            req,
            rq_seq,
            None,
            local_addr,
            self.managed_id,
            seq,
            &self.keys,
        );
        self.socket
            .send(&pkt)
            .await
            .map_err(|e| send_err(&self.peer(), e))?;
        Ok(rq_seq)
    }

    /// Waits for the next datagram and decodes it as a packet of this session:
    /// `Ok(Ok((payload type, payload)))`, or `Ok(Err(why))` for a datagram that is
    /// not one (corrupt, unauthenticated, another session's); `Err` only when the
    /// socket fails. Cancel-safe (one `recv`).
    pub(crate) async fn recv_in_session(
        &self,
        buf: &mut [u8],
    ) -> Result<std::result::Result<(u8, Vec<u8>), String>> {
        let n = self
            .socket
            .recv(buf)
            .await
            .map_err(|e| io_err(&self.peer(), e))?;
        let mut plain = [0u8; MAX_PACKET];
        let Some(dgram) = buf.get(..n) else {
            return Ok(Err("datagram longer than the buffer".to_owned()));
        };
        Ok(
            match wire::decode_session_packet(dgram, &self.keys, &mut plain) {
                Ok(p) if p.session_id != self.console_id => Err(format!(
                    "a packet of another session (0x{:08x})",
                    p.session_id
                )),
                Ok(p) => Ok((p.payload_type, p.payload.to_vec())),
                Err(e) => Err(e.to_string()),
            },
        )
    }

    /// The Close Session packet for this session (next sequence number).
    pub(crate) fn close_packet(&mut self) -> Vec<u8> {
        let (seq, rq_seq) = self.next_seq();
        let id = self.managed_id.to_le_bytes();
        let msg = wire::encode_request(
            &Request {
                netfn: 0x06,
                cmd: 0x3C,
                data: &id,
            },
            rq_seq,
            None,
            0x20,
        );
        wire::encode_packet(payload::IPMI, self.managed_id, seq, &msg, Some(&self.keys))
    }

    /// Sends Close Session without waiting (for drop paths). Never blocks.
    pub(crate) fn close_nowait(mut self) {
        let pkt = self.close_packet();
        let _ = self.socket.try_send(&pkt);
    }

    /// Closes the session and waits for the BMC's answer.
    pub(crate) async fn close(mut self, timeout: Duration) -> Result<()> {
        let id = self.managed_id.to_le_bytes();
        let req = Request {
            netfn: 0x06,
            cmd: 0x3C,
            data: &id,
        };
        match self.exchange(&req, None, 0x20, timeout).await {
            Ok((0, _)) => Ok(()),
            Ok((cc, _)) => Err(crate::client::cc_error(cc, "Close Session")),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod dns_tests {
    use super::*;

    #[test]
    fn a_name_that_does_not_exist_is_invalid_input_other_resolver_failures_are_retried() {
        let gai = |text: &str| {
            std::io::Error::other(format!("failed to lookup address information: {text}"))
        };
        let e = resolve_error("bmc-typo:623", gai("Name or service not known"));
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(!e.is_retryable());
        let e = resolve_error("bmc:623", gai("Temporary failure in name resolution"));
        assert_eq!(e.kind(), ErrorKind::Unreachable);
        assert!(e.is_retryable());
    }
}

#[cfg(test)]
mod shown_tests {
    use std::time::Duration;

    #[test]
    fn a_wait_is_shown_to_the_millisecond() {
        let left = Duration::from_nanos(1_986_982_195);
        assert_eq!(format!("{:?}", super::shown(left)), "1.986s");
        assert_eq!(format!("{:?}", super::shown(Duration::from_secs(2))), "2s");
        assert_eq!(
            format!("{:?}", super::shown(Duration::from_millis(500))),
            "500ms"
        );
    }
}
