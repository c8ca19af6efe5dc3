//! The bytes: request encoders and reply decoders for every Node Manager command
//! (PROTOCOLS.md §2.8). The only place in the client that knows the wire layout.
//!
//! Requests are IPMI NetFn `0x2E` (OEM group) with the command byte and data that
//! starts with Intel's manufacturer id `57 01 00`. Replies are given to the decoders as
//! the data after the completion code, *including* the echoed manufacturer id, as
//! `ipmitool raw` prints them (and as the fixtures hold them).
//!
//! ```
//! use hwctl_nodemanager::{Domain, PolicyRef, wire};
//! let req = wire::encode_get_policy(PolicyRef::new(Domain::Platform, 123));
//! assert_eq!(req.to_bytes(), [0x2E, 0xC2, 0x57, 0x01, 0x00, 0x00, 0x7B]);
//! ```
//!
//! # Difference from the reference
//!
//! Ironic's `set_policy` computes the first data byte as
//! `(domain | 0x10) if enable else 0x00`, so a *disabled* policy is always sent for
//! the platform domain. This encoder sends `domain | 0x10` when enabled and `domain`
//! when disabled, as the Node Manager specification lays the byte out (bits 3:0 domain,
//! bit 4 enabled). Enabled policies encode identically.

use hwctl_core::{Error, Result};

use crate::types::{
    Action, CapabilitiesQuery, ControlScope, CpuPowerCorrection, Day, Domain, NmCapabilities,
    NmTimestamp, NmVersion, Policy, PolicyInfo, PolicyRef, PowerDomain, Statistics,
    StatisticsQuery, StatisticsReset, Storage, SuspendPeriod, TargetLimit, Trigger,
};

/// IPMI network function of OEM/group commands, which Node Manager uses.
pub const NETFN_OEM_GROUP: u8 = 0x2E;
/// Intel's IANA enterprise number 0x000157, least significant byte first.
pub const INTEL_ID: [u8; 3] = [0x57, 0x01, 0x00];

/// Node Manager command codes.
pub mod cmd {
    /// Enable/disable policy control.
    pub const POLICY_CONTROL: u8 = 0xC0;
    /// Set (add or remove) a policy.
    pub const POLICY_SET: u8 = 0xC1;
    /// Get a policy.
    pub const POLICY_GET: u8 = 0xC2;
    /// Set policy suspend periods.
    pub const SUSPEND_SET: u8 = 0xC5;
    /// Get policy suspend periods.
    pub const SUSPEND_GET: u8 = 0xC6;
    /// Reset statistics.
    pub const STATISTICS_RESET: u8 = 0xC7;
    /// Get statistics.
    pub const STATISTICS_GET: u8 = 0xC8;
    /// Get capabilities.
    pub const CAPABILITIES_GET: u8 = 0xC9;
    /// Get the Node Manager version.
    pub const VERSION_GET: u8 = 0xCA;
}

/// Most suspend periods one policy can have.
pub const MAX_SUSPEND_PERIODS: usize = 5;
/// Largest start or stop of a suspend period (240 × 6 minutes = 24 h).
pub const MAX_SUSPEND_TIME: u8 = 240;
/// Most cores a boot time policy can disable.
pub const MAX_CORES_DISABLED: u8 = 127;

/// One encoded Node Manager request: NetFn `0x2E`, a command, and data starting with
/// Intel's id.
///
/// ```
/// use hwctl_nodemanager::wire;
/// let req = wire::encode_get_version();
/// assert_eq!((req.netfn(), req.cmd), (0x2E, wire::cmd::VERSION_GET));
/// assert_eq!(req.data, wire::INTEL_ID);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmRequest {
    /// The command byte.
    pub cmd: u8,
    /// The request data, Intel's id first.
    pub data: Vec<u8>,
}

impl NmRequest {
    fn new(cmd: u8, capacity: usize) -> Self {
        let mut data = Vec::with_capacity(3 + capacity);
        data.extend_from_slice(&INTEL_ID);
        NmRequest { cmd, data }
    }

    /// The network function (always [`NETFN_OEM_GROUP`]).
    ///
    /// ```
    /// assert_eq!(hwctl_nodemanager::wire::encode_get_version().netfn(), hwctl_nodemanager::wire::NETFN_OEM_GROUP);
    /// ```
    pub fn netfn(&self) -> u8 {
        NETFN_OEM_GROUP
    }

    /// NetFn, command and data, as `ipmitool raw` takes them.
    ///
    /// ```
    /// let req = hwctl_nodemanager::wire::encode_get_version();
    /// assert_eq!(req.to_bytes(), [0x2E, 0xCA, 0x57, 0x01, 0x00]);
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(2 + self.data.len());
        v.push(NETFN_OEM_GROUP);
        v.push(self.cmd);
        v.extend_from_slice(&self.data);
        v
    }
}

/// Get Node Manager Version (0xCA).
///
/// ```
/// use hwctl_nodemanager::{sim::NmSimulator, wire};
/// let req = wire::encode_get_version();
/// let (cc, reply) = NmSimulator::new().handle(req.netfn(), req.cmd, &req.data);
/// assert_eq!(cc, 0);
/// assert_eq!(wire::decode_version(&reply)?.nm_name(), "3.0");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn encode_get_version() -> NmRequest {
    NmRequest::new(cmd::VERSION_GET, 0)
}

/// Get Node Manager Capabilities (0xC9): domain, then trigger | 0x10 (power policy)
/// | power domain.
///
/// ```
/// use hwctl_nodemanager::{CapabilitiesQuery, Domain, PowerDomain, Trigger, sim::NmSimulator, wire};
/// let q = CapabilitiesQuery { domain_id: Domain::Cpu, policy_trigger: Trigger::None, power_domain: PowerDomain::Primary };
/// let req = wire::encode_get_capabilities(&q);
/// assert_eq!(req.cmd, wire::cmd::CAPABILITIES_GET);
/// let (cc, reply) = NmSimulator::new().handle(req.netfn(), req.cmd, &req.data);
/// assert_eq!(cc, 0);
/// assert_eq!(wire::decode_capabilities(&reply)?.domain_id, Domain::Cpu);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn encode_get_capabilities(q: &CapabilitiesQuery) -> NmRequest {
    let mut r = NmRequest::new(cmd::CAPABILITIES_GET, 2);
    r.data.push(q.domain_id.code());
    r.data
        .push(q.policy_trigger.code() | 0x10 | q.power_domain.code());
    r
}

/// Enable/Disable Node Manager Policy Control (0xC0): flags, domain, policy id.
///
/// ```
/// use hwctl_nodemanager::{ControlScope, Domain, wire};
/// let req = wire::encode_control_policy(true, ControlScope::Domain(Domain::Memory));
/// assert_eq!(req.cmd, wire::cmd::POLICY_CONTROL);
/// assert_eq!(&req.data[..3], wire::INTEL_ID);
/// assert_ne!(req, wire::encode_control_policy(false, ControlScope::Domain(Domain::Memory)));
/// ```
pub fn encode_control_policy(enable: bool, scope: ControlScope) -> NmRequest {
    let (flags, domain, policy) = match scope {
        ControlScope::Global => (0x00, 0, 0),
        ControlScope::Domain(d) => (0x02, d.code(), 0),
        ControlScope::Policy(p) => (0x04, p.domain_id.code(), p.policy_id),
    };
    let mut r = NmRequest::new(cmd::POLICY_CONTROL, 3);
    r.data.push(flags | u8::from(enable));
    r.data.push(domain);
    r.data.push(policy);
    r
}

/// Checks what the encoders cannot express: a boot policy needs a boot limit, the
/// core count fits in 7 bits.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming the offending field.
///
/// ```
/// use hwctl_nodemanager::{BootMode, Domain, Policy, TargetLimit, Trigger, wire};
/// let ok = Policy::new(Domain::Platform, 1, Trigger::None, TargetLimit::Watts(300));
/// assert!(wire::check_policy(&ok).is_ok());
/// let boot_in_watts = Policy::new(Domain::Platform, 2, Trigger::Boot, TargetLimit::Watts(300));
/// let err = wire::check_policy(&boot_in_watts).unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
/// let too_many = TargetLimit::Boot { boot_mode: BootMode::Power, cores_disabled: 200 };
/// assert!(wire::check_policy(&Policy::new(Domain::Platform, 3, Trigger::Boot, too_many)).is_err());
/// ```
pub fn check_policy(p: &Policy) -> Result<()> {
    match (p.policy_trigger, p.target_limit) {
        (Trigger::Boot, TargetLimit::Watts(_)) => Err(Error::invalid_parameter(
            "target_limit",
            "Invalid boot policy: a boot policy needs {\"boot_mode\", \"cores_disabled\"}",
        )),
        (_, TargetLimit::Boot { cores_disabled, .. }) if cores_disabled > MAX_CORES_DISABLED => {
            Err(Error::invalid_parameter(
                "target_limit.cores_disabled",
                format!("{cores_disabled} is greater than the maximum of {MAX_CORES_DISABLED}"),
            ))
        }
        _ => Ok(()),
    }
}

/// Set Node Manager Policy (0xC1), adding or replacing a policy.
///
/// Triggers `none` and `boot` send a trigger limit of 0; a boot limit is packed as
/// `mode | cores_disabled << 1` with a correction time of 0. Call [`check_policy`]
/// first (the typed API does).
///
/// ```
/// use hwctl_nodemanager::{Domain, Policy, PolicyRef, TargetLimit, Trigger, sim::NmSimulator, wire};
/// let nm = NmSimulator::new();
/// let set = wire::encode_set_policy(&Policy::new(Domain::Platform, 9, Trigger::None, TargetLimit::Watts(420)));
/// assert_eq!(&set.data[3..5], [0x10, 9]); // platform | enabled, policy id
/// assert_eq!(nm.handle(set.netfn(), set.cmd, &set.data).0, 0);
/// let get = wire::encode_get_policy(PolicyRef::new(Domain::Platform, 9));
/// let (_, reply) = nm.handle(get.netfn(), get.cmd, &get.data);
/// assert_eq!(wire::decode_policy(&reply)?.target_limit, 420);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn encode_set_policy(p: &Policy) -> NmRequest {
    let mut r = NmRequest::new(cmd::POLICY_SET, 16);
    let enabled = if p.enable { 0x10 } else { 0x00 };
    r.data.push(p.domain_id.code() | enabled);
    r.data.push(p.policy_id);
    // 0x10: "add policy" (a 0x00 byte here removes it).
    r.data
        .push(p.policy_trigger.code() | p.cpu_power_correction.code() | p.storage.code() | 0x10);
    r.data.push(p.action.code() | p.power_domain.code());
    let (limit, correction) = match p.target_limit {
        TargetLimit::Watts(w) => (w, p.correction_time),
        TargetLimit::Boot {
            boot_mode,
            cores_disabled,
        } => (
            u16::from(boot_mode.code()) | (u16::from(cores_disabled & MAX_CORES_DISABLED) << 1),
            0,
        ),
    };
    let trigger_limit = match p.policy_trigger {
        Trigger::None | Trigger::Boot => 0,
        _ => p.trigger_limit,
    };
    r.data.extend_from_slice(&limit.to_le_bytes());
    r.data.extend_from_slice(&correction.to_le_bytes());
    r.data.extend_from_slice(&trigger_limit.to_le_bytes());
    r.data.extend_from_slice(&p.reporting_period.to_le_bytes());
    r
}

fn with_ids(cmd: u8, p: PolicyRef, extra: usize) -> NmRequest {
    let mut r = NmRequest::new(cmd, 2 + extra);
    r.data.push(p.domain_id.code());
    r.data.push(p.policy_id);
    r
}

/// Get Node Manager Policy (0xC2): domain, policy id.
///
/// ```
/// use hwctl_nodemanager::{Domain, PolicyRef, sim::NmSimulator, wire};
/// let req = wire::encode_get_policy(PolicyRef::new(Domain::Cpu, 4));
/// assert_eq!(req.data, [0x57, 0x01, 0x00, 0x01, 0x04]);
/// let (cc, _) = NmSimulator::new().handle(req.netfn(), req.cmd, &req.data);
/// assert_eq!(cc, 0x80); // invalid policy id: there is no such policy
/// ```
pub fn encode_get_policy(p: PolicyRef) -> NmRequest {
    with_ids(cmd::POLICY_GET, p, 0)
}

/// Remove a policy: Set Node Manager Policy (0xC1) with domain, policy id and twelve
/// zero bytes (the zero flags byte means "remove").
///
/// ```
/// use hwctl_nodemanager::{Domain, Policy, PolicyRef, TargetLimit, Trigger, sim::NmSimulator, wire};
/// let nm = NmSimulator::new();
/// let set = wire::encode_set_policy(&Policy::new(Domain::Platform, 5, Trigger::None, TargetLimit::Watts(300)));
/// nm.handle(set.netfn(), set.cmd, &set.data);
/// assert!(nm.has_policy(0x00, 5));
/// let rm = wire::encode_remove_policy(PolicyRef::new(Domain::Platform, 5));
/// assert_eq!(rm.data.len(), 3 + 2 + 12);
/// assert_eq!(nm.handle(rm.netfn(), rm.cmd, &rm.data).0, 0);
/// assert!(!nm.has_policy(0x00, 5));
/// ```
pub fn encode_remove_policy(p: PolicyRef) -> NmRequest {
    let mut r = with_ids(cmd::POLICY_SET, p, 12);
    r.data.extend_from_slice(&[0; 12]);
    r
}

/// Checks suspend periods: 1 to 5 of them, times up to 240, at least one day each.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming the offending field.
///
/// ```
/// use hwctl_nodemanager::{Day, SuspendPeriod, wire};
/// let night = SuspendPeriod { start: 200, stop: 240, days: vec![Day::Monday, Day::Friday] };
/// assert!(wire::check_suspend_periods(&[night.clone()]).is_ok());
/// assert!(wire::check_suspend_periods(&[]).is_err());
/// let no_days = SuspendPeriod { days: vec![], ..night };
/// assert_eq!(wire::check_suspend_periods(&[no_days]).unwrap_err().kind(), hwctl_core::ErrorKind::InvalidParameter);
/// ```
pub fn check_suspend_periods(periods: &[SuspendPeriod]) -> Result<()> {
    if periods.is_empty() || periods.len() > MAX_SUSPEND_PERIODS {
        return Err(Error::invalid_parameter(
            "periods",
            format!(
                "{} periods given; 1 to {MAX_SUSPEND_PERIODS} are allowed (remove them with remove_policy_suspend)",
                periods.len()
            ),
        ));
    }
    for (i, p) in periods.iter().enumerate() {
        if p.start > MAX_SUSPEND_TIME || p.stop > MAX_SUSPEND_TIME {
            return Err(Error::invalid_parameter(
                format!("periods[{i}]"),
                format!("start and stop are 0 to {MAX_SUSPEND_TIME} (6-minute units)"),
            ));
        }
        if p.days.is_empty() {
            return Err(Error::invalid_parameter(
                format!("periods[{i}].days"),
                "at least one day is needed",
            ));
        }
    }
    Ok(())
}

/// Set Node Manager Policy Suspend Periods (0xC5): domain, policy id, N, then N ×
/// (start, stop, days). Call [`check_suspend_periods`] first (the typed API does).
///
/// ```
/// use hwctl_nodemanager::{Day, Domain, PolicyRef, SuspendPeriod, wire};
/// let p = PolicyRef::new(Domain::Platform, 1);
/// let req = wire::encode_set_policy_suspend(p, &[SuspendPeriod { start: 10, stop: 20, days: vec![Day::Monday, Day::Sunday] }]);
/// // domain, policy, count, then start, stop and the day bits.
/// assert_eq!(&req.data[3..], [0x00, 0x01, 0x01, 10, 20, 0x41]);
/// ```
pub fn encode_set_policy_suspend(p: PolicyRef, periods: &[SuspendPeriod]) -> NmRequest {
    let mut r = with_ids(cmd::SUSPEND_SET, p, 1 + 3 * periods.len());
    r.data.push(u8::try_from(periods.len()).unwrap_or(u8::MAX));
    for period in periods {
        r.data.push(period.start);
        r.data.push(period.stop);
        r.data
            .push(period.days.iter().fold(0, |acc, d| acc | d.code()));
    }
    r
}

/// Get Node Manager Policy Suspend Periods (0xC6): domain, policy id.
///
/// ```
/// use hwctl_nodemanager::{Domain, PolicyRef, wire};
/// let req = wire::encode_get_policy_suspend(PolicyRef::new(Domain::Platform, 1));
/// assert_eq!(req.cmd, wire::cmd::SUSPEND_GET);
/// assert_eq!(&req.data[3..], [0x00, 0x01]);
/// ```
pub fn encode_get_policy_suspend(p: PolicyRef) -> NmRequest {
    with_ids(cmd::SUSPEND_GET, p, 0)
}

/// Remove suspend periods: Set Node Manager Policy Suspend Periods (0xC5) with zero
/// periods.
///
/// ```
/// use hwctl_nodemanager::{Domain, PolicyRef, wire};
/// let req = wire::encode_remove_policy_suspend(PolicyRef::new(Domain::Platform, 1));
/// assert_eq!(req.cmd, wire::cmd::SUSPEND_SET);
/// assert_eq!(&req.data[3..], [0x00, 0x01, 0x00]); // no periods
/// ```
pub fn encode_remove_policy_suspend(p: PolicyRef) -> NmRequest {
    let mut r = with_ids(cmd::SUSPEND_SET, p, 1);
    r.data.push(0);
    r
}

/// Get Node Manager Statistics (0xC8): mode, domain, policy id (0 for global
/// statistics).
///
/// ```
/// use hwctl_nodemanager::{Domain, GlobalStatistic, StatisticsQuery, sim::NmSimulator, wire};
/// let q = StatisticsQuery::Global { parameter: GlobalStatistic::Power, domain_id: Domain::Platform };
/// let req = wire::encode_get_statistics(&q);
/// assert_eq!(req.cmd, wire::cmd::STATISTICS_GET);
/// let (cc, reply) = NmSimulator::new().handle(req.netfn(), req.cmd, &req.data);
/// assert_eq!(cc, 0);
/// let s = wire::decode_statistics(&reply)?;
/// assert!(s.minimum_value <= s.current_value && s.current_value <= s.maximum_value);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn encode_get_statistics(q: &StatisticsQuery) -> NmRequest {
    let (mode, domain, policy) = match *q {
        StatisticsQuery::Global {
            parameter,
            domain_id,
        } => (parameter.code(), domain_id.code(), 0),
        StatisticsQuery::Policy { parameter, policy } => {
            (parameter.code(), policy.domain_id.code(), policy.policy_id)
        }
    };
    let mut r = NmRequest::new(cmd::STATISTICS_GET, 3);
    r.data.extend_from_slice(&[mode, domain, policy]);
    r
}

/// Reset Node Manager Statistics (0xC7): mode (0x00 global, 0x01 policy, or a special
/// parameter's code), domain (platform for a parameter), policy id (0 unless policy).
///
/// Fails with `InvalidParameter` for a parameter that cannot be reset on its own.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) for a parameter that cannot be reset on its own.
///
/// ```
/// use hwctl_nodemanager::{Domain, GlobalStatistic, StatisticsReset, wire};
/// let req = wire::encode_reset_statistics(&StatisticsReset::Global { domain_id: Domain::Cpu })?;
/// assert_eq!(&req.data[3..5], [0x00, 0x01]); // mode "global", domain cpu
/// // Power is reset with its domain, not on its own.
/// assert!(wire::encode_reset_statistics(&StatisticsReset::Parameter(GlobalStatistic::Power)).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn encode_reset_statistics(reset: &StatisticsReset) -> Result<NmRequest> {
    let (mode, domain, policy) = match *reset {
        StatisticsReset::Global { domain_id } => (0x00, domain_id.code(), 0),
        StatisticsReset::Policy(p) => (0x01, p.domain_id.code(), p.policy_id),
        StatisticsReset::Parameter(g) if g.is_special() => (g.code(), Domain::Platform.code(), 0),
        StatisticsReset::Parameter(g) => {
            return Err(Error::invalid_parameter(
                "parameter_name",
                format!(
                    "Invalid parameter name for resetting statistic, individual reset is possible only for: {}",
                    RESETTABLE.join(", ")
                ),
            )
            .with_operation(format!("reset {g} statistics")));
        }
    };
    let mut r = NmRequest::new(cmd::STATISTICS_RESET, 3);
    r.data.extend_from_slice(&[mode, domain, policy]);
    Ok(r)
}

/// The statistics that can be reset by name, in Ironic's order.
pub const RESETTABLE: [&str; 5] = [
    "unhandled_requests",
    "response_time",
    "cpu_throttling",
    "memory_throttling",
    "communication_failures",
];

// ---------------------------------------------------------------------------------
// Decoders.

/// Reads fields of a reply, naming the field that is missing or has a bad value.
struct Reader<'a> {
    what: &'static str,
    raw: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(what: &'static str, raw: &'a [u8]) -> Self {
        Reader { what, raw }
    }

    fn short(&self, field: &str, end: usize) -> Error {
        Error::protocol(format!(
            "Data from Intel Node Manager has wrong length: {} reply has {} bytes, field {field} needs {end}",
            self.what,
            self.raw.len()
        ))
    }

    fn bytes<const N: usize>(&self, field: &str, at: usize) -> Result<[u8; N]> {
        self.raw
            .get(at..at + N)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or_else(|| self.short(field, at + N))
    }

    fn u8(&self, field: &str, at: usize) -> Result<u8> {
        Ok(self.bytes::<1>(field, at)?[0])
    }

    fn u16(&self, field: &str, at: usize) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(field, at)?))
    }

    fn u32(&self, field: &str, at: usize) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(field, at)?))
    }

    fn exact(&self, len: usize) -> Result<()> {
        if self.raw.len() == len {
            Ok(())
        } else {
            Err(Error::protocol(format!(
                "Data from Intel Node Manager has wrong length: {} reply has {} bytes, expected {len}",
                self.what,
                self.raw.len()
            )))
        }
    }

    fn code<T>(&self, field: &str, value: u8, from: impl Fn(u8) -> Option<T>) -> Result<T> {
        from(value).ok_or_else(|| {
            Error::protocol(format!(
                "Data from Intel Node Manager is corrupted: {} reply field {field} has unknown value 0x{value:02x}",
                self.what
            ))
        })
    }
}

/// Checks that a reply starts with Intel's manufacturer id (`57 01 00`).
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for a reply too short or not from Intel.
///
/// ```
/// use hwctl_nodemanager::wire::check_intel_id;
/// assert!(check_intel_id(&[0x57, 0x01, 0x00, 0x05]).is_ok());
/// assert_eq!(check_intel_id(&[0x0B, 0x00, 0x00]).unwrap_err().kind(), hwctl_core::ErrorKind::Protocol);
/// assert!(check_intel_id(&[0x57]).is_err());
/// ```
pub fn check_intel_id(raw: &[u8]) -> Result<()> {
    match raw.get(..3) {
        Some(id) if id == INTEL_ID => Ok(()),
        Some(id) => Err(Error::protocol(format!(
            "Data from Intel Node Manager is corrupted: manufacturer_id is {:02x} {:02x} {:02x}, expected 57 01 00",
            id[0], id[1], id[2]
        ))),
        None => Err(Error::protocol(format!(
            "Data from Intel Node Manager has wrong length: reply has {} bytes, field manufacturer_id needs 3",
            raw.len()
        ))),
    }
}

/// Decodes a Get Node Manager Version reply: `[3]` NM version, `[4]` IPMI interface
/// version, `[5]` patch, `[6].[7]` firmware, into their codes (see [`NmVersion`]
/// for the names; unknown codes read `"unknown"`, as in Ironic).
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for a short reply.
///
/// ```
/// let v = hwctl_nodemanager::wire::decode_version(&[0x57, 0x01, 0x00, 0x05, 0x02, 0x07, 0x01, 0x02])?;
/// assert_eq!((v.nm_name(), v.ipmi_name(), v.patch), ("3.0", "2.0", 7));
/// assert!(hwctl_nodemanager::wire::decode_version(&[0x57, 0x01, 0x00]).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode_version(raw: &[u8]) -> Result<NmVersion> {
    let r = Reader::new("get_nm_version", raw);
    Ok(NmVersion {
        nm: r.u8("nm", 3)?,
        ipmi: r.u8("ipmi", 4)?,
        patch: r.u8("patch", 5)?,
        firmware_major: r.u8("firmware", 6)?,
        firmware_minor: r.u8("firmware", 7)?,
    })
}

/// Decodes a Get Node Manager Capabilities reply: `[3]` max policies, `[4..20]`
/// `<HHIIHH` limits, `[20]` domain (low nibble) and power domain (bit 7).
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for a short reply.
///
/// ```
/// use hwctl_nodemanager::{Domain, PowerDomain, wire};
/// let mut raw = vec![0x57, 0x01, 0x00, 16];
/// raw.extend(500u16.to_le_bytes()); // max limit
/// raw.extend(100u16.to_le_bytes()); // min limit
/// raw.extend(1000u32.to_le_bytes()); // min correction time
/// raw.extend(60000u32.to_le_bytes()); // max correction time
/// raw.extend(1u16.to_le_bytes()); // min reporting period
/// raw.extend(3600u16.to_le_bytes()); // max reporting period
/// raw.push(0x80 | 0x01); // secondary power domain, cpu
/// let c = wire::decode_capabilities(&raw)?;
/// assert_eq!((c.max_policies, c.max_limit_value, c.max_correction_time), (16, 500, 60000));
/// assert_eq!((c.domain_id, c.power_domain), (Domain::Cpu, PowerDomain::Secondary));
/// assert!(wire::decode_capabilities(&raw[..20]).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode_capabilities(raw: &[u8]) -> Result<NmCapabilities> {
    let r = Reader::new("get_nm_capabilities", raw);
    let flags = r.u8("domain_id", 20)?;
    Ok(NmCapabilities {
        max_policies: r.u8("max_policies", 3)?,
        max_limit_value: r.u16("max_limit_value", 4)?,
        min_limit_value: r.u16("min_limit_value", 6)?,
        min_correction_time: r.u32("min_correction_time", 8)?,
        max_correction_time: r.u32("max_correction_time", 12)?,
        min_reporting_period: r.u16("min_reporting_period", 16)?,
        max_reporting_period: r.u16("max_reporting_period", 18)?,
        domain_id: r.code("domain_id", flags & 0x0F, Domain::from_code)?,
        power_domain: r.code("power_domain", flags & 0x80, PowerDomain::from_code)?,
    })
}

/// Length of a Get Node Manager Policy reply, manufacturer id included.
pub const POLICY_REPLY_LEN: usize = 16;

/// Decodes a Get Node Manager Policy reply (exactly 16 bytes, as Ironic's
/// `struct.unpack` requires).
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for a reply too short or inconsistent.
///
/// ```
/// use hwctl_nodemanager::{Domain, Trigger, wire};
/// let mut raw = vec![0x57, 0x01, 0x00, 0x10 | 0x02, 0x01, 0x00];
/// raw.extend(25u16.to_le_bytes()); // target limit
/// raw.extend(6000u32.to_le_bytes()); // correction time
/// raw.extend(70u16.to_le_bytes()); // trigger limit
/// raw.extend(60u16.to_le_bytes()); // reporting period
/// let p = wire::decode_policy(&raw)?;
/// assert_eq!((p.domain_id, p.enabled, p.policy_trigger), (Domain::Memory, true, Trigger::Temperature));
/// assert_eq!((p.target_limit, p.trigger_limit), (25, 70));
/// raw.push(0); // one byte too many
/// assert!(wire::decode_policy(&raw).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode_policy(raw: &[u8]) -> Result<PolicyInfo> {
    let r = Reader::new("get_nm_policy", raw);
    let b3 = r.u8("domain_id", 3)?;
    let b4 = r.u8("policy_trigger", 4)?;
    let b5 = r.u8("action", 5)?;
    let target_limit = r.u16("target_limit", 6)?;
    let correction_time = r.u32("correction_time", 8)?;
    let trigger_limit = r.u16("trigger_limit", 12)?;
    let reporting_period = r.u16("reporting_period", 14)?;
    r.exact(POLICY_REPLY_LEN)?;
    Ok(PolicyInfo {
        domain_id: r.code("domain_id", b3 & 0x0F, Domain::from_code)?,
        enabled: b3 & 0x10 != 0,
        per_domain_enabled: b3 & 0x20 != 0,
        global_enabled: b3 & 0x40 != 0,
        created_by_nm: b3 & 0x80 == 0,
        policy_trigger: r.code("policy_trigger", b4 & 0x0F, Trigger::from_code)?,
        power_policy: b4 & 0x10 != 0,
        cpu_power_correction: r.code(
            "cpu_power_correction",
            b4 & 0x60,
            CpuPowerCorrection::from_code,
        )?,
        storage: r.code("storage", b4 & 0x80, Storage::from_code)?,
        action: r.code("action", b5 & 0x01, Action::from_code)?,
        power_domain: r.code("power_domain", b5 & 0x80, PowerDomain::from_code)?,
        target_limit,
        correction_time,
        trigger_limit,
        reporting_period,
    })
}

/// Decodes a Get Node Manager Policy Suspend Periods reply: `[3]` N, then N ×
/// (start, stop, days) from byte 4.
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for a reply too short or inconsistent.
///
/// ```
/// use hwctl_nodemanager::{Day, wire};
/// let periods = wire::decode_policy_suspend(&[0x57, 0x01, 0x00, 1, 10, 20, 0x41])?;
/// assert_eq!((periods[0].start, periods[0].stop), (10, 20));
/// assert_eq!(periods[0].days, [Day::Monday, Day::Sunday]);
/// assert!(wire::decode_policy_suspend(&[0x57, 0x01, 0x00, 2, 10, 20, 0x41]).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode_policy_suspend(raw: &[u8]) -> Result<Vec<SuspendPeriod>> {
    let r = Reader::new("get_nm_policy_suspend", raw);
    let n = usize::from(r.u8("periods", 3)?);
    // Check the whole length first: a hostile count must not allocate.
    if raw.len() < 4 + 3 * n {
        return Err(r.short(
            &format!("periods[{}]", raw.len().saturating_sub(4) / 3),
            4 + 3 * n,
        ));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let base = 4 + 3 * i;
        let days_bits = r.u8("days", base + 2)?;
        out.push(SuspendPeriod {
            start: r.u8("start", base)?,
            stop: r.u8("stop", base + 1)?,
            days: Day::ALL
                .iter()
                .copied()
                .filter(|d| days_bits & d.code() != 0)
                .collect(),
        });
    }
    Ok(out)
}

/// Decodes a Get Node Manager Statistics reply: `[3..19]` `<HHHHII` current, min,
/// max, average, timestamp, reporting period; `[19]` domain and state bits.
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for a reply too short or inconsistent.
///
/// ```
/// use hwctl_nodemanager::{Domain, wire};
/// let mut raw = vec![0x57, 0x01, 0x00];
/// for v in [230u16, 180, 310, 240] { raw.extend(v.to_le_bytes()); } // current, min, max, average
/// raw.extend(0xFFFF_FFFFu32.to_le_bytes()); // timestamp: unspecified
/// raw.extend(3600u32.to_le_bytes()); // reporting period
/// raw.push(0x10 | 0x20); // platform, administratively enabled, operational
/// let s = wire::decode_statistics(&raw)?;
/// assert_eq!((s.current_value, s.maximum_value, s.reporting_period), (230, 310, 3600));
/// assert_eq!(s.domain_id, Domain::Platform);
/// assert!(s.administrative_enabled && s.operational_state && !s.measurement_state);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn decode_statistics(raw: &[u8]) -> Result<Statistics> {
    let r = Reader::new("get_nm_statistics", raw);
    let flags = r.u8("domain_id", 19)?;
    Ok(Statistics {
        current_value: r.u16("current_value", 3)?,
        minimum_value: r.u16("minimum_value", 5)?,
        maximum_value: r.u16("maximum_value", 7)?,
        average_value: r.u16("average_value", 9)?,
        timestamp: NmTimestamp::from_raw(r.u32("timestamp", 11)?),
        reporting_period: r.u32("reporting_period", 15)?,
        domain_id: r.code("domain_id", flags & 0x0F, Domain::from_code)?,
        administrative_enabled: flags & 0x10 != 0,
        operational_state: flags & 0x20 != 0,
        measurement_state: flags & 0x40 != 0,
        activation_state: flags & 0x80 != 0,
    })
}

/// Parses `ipmitool raw` output (whitespace-separated hex bytes, with or without
/// `0x`), for callers that hold such text. A token that is not a hex byte gives
/// Ironic's "cannot be converted" protocol error.
///
/// ```
/// let b = hwctl_nodemanager::wire::parse_ipmitool_output(" 57 01 00 0x05\n").unwrap();
/// assert_eq!(b, [0x57, 0x01, 0x00, 0x05]);
/// assert!(hwctl_nodemanager::wire::parse_ipmitool_output("57 boo").is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for text that is not hex bytes.
pub fn parse_ipmitool_output(text: &str) -> Result<Vec<u8>> {
    text.split_whitespace()
        .enumerate()
        .map(|(i, tok)| {
            let hex = tok
                .strip_prefix("0x")
                .or_else(|| tok.strip_prefix("0X"))
                .unwrap_or(tok);
            u8::from_str_radix(hex, 16).map_err(|_| {
                Error::protocol(format!(
                    "Data from Intel Node Manager cannot be converted: byte {i} is {tok:?}"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_policy_keeps_its_domain() {
        let mut p = Policy::new(Domain::Cpu, 5, Trigger::None, TargetLimit::Watts(100));
        assert_eq!(encode_set_policy(&p).data[3], 0x11);
        p.enable = false;
        assert_eq!(encode_set_policy(&p).data[3], 0x01);
    }

    #[test]
    fn boot_policy_needs_boot_limit() {
        let p = Policy::new(Domain::Platform, 1, Trigger::Boot, TargetLimit::Watts(1));
        assert!(check_policy(&p).is_err());
    }

    #[test]
    fn hostile_suspend_count_is_a_length_error() {
        let err = decode_policy_suspend(&[0x57, 1, 0, 0xFF, 1, 2, 3]).unwrap_err();
        assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
        assert!(err.to_string().contains("wrong length"), "{err}");
    }

    #[test]
    fn reset_of_a_plain_parameter_is_refused() {
        assert!(
            encode_reset_statistics(&StatisticsReset::Parameter(crate::GlobalStatistic::Power))
                .is_err()
        );
    }

    #[test]
    fn intel_id_is_checked() {
        assert!(check_intel_id(&INTEL_ID).is_ok());
        assert!(check_intel_id(&[0x57, 0x01]).is_err());
        assert!(check_intel_id(&[0, 0, 0, 1]).is_err());
    }
}
