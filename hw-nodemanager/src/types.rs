//! Node Manager value types: the enumerations of PROTOCOLS.md §2.8 with their wire
//! codes and Ironic's JSON names, and the structures the commands take and return.
//!
//! Every enumeration serializes to Ironic's string (`"platform"`, `"unagressive"`, …)
//! and parses from it; [`Domain::code`] and friends give the wire value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use hwctl_core::{Error, Result};

macro_rules! nm_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal => $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in wire-code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Ironic's name for the value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value's bits on the wire.
            pub fn code(self) -> u8 {
                match self { $($name::$variant => $code),+ }
            }

            /// The value whose bits are `code`, if any.
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The names accepted by [`FromStr`], for error messages.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    Error::invalid_parameter(
                        $what,
                        format!("{s:?} is not one of {}", Self::names().join(", ")),
                    )
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(|e: Error| serde::de::Error::custom(e.to_string()))
            }
        }
    };
}

nm_enum! {
    /// A Node Manager power domain (`domain_id`).
    Domain, "domain_id" {
        /// The whole platform (0x00).
        Platform = "platform" => 0x00,
        /// The CPU subsystem (0x01).
        Cpu = "cpu" => 0x01,
        /// The memory subsystem (0x02).
        Memory = "memory" => 0x02,
        /// The hardware protection domain (0x03); accepted only by statistics.
        Protection = "protection" => 0x03,
        /// The high-power I/O subsystem (0x04).
        Io = "io" => 0x04,
    }
}

nm_enum! {
    /// What triggers a policy (`policy_trigger`).
    Trigger, "policy_trigger" {
        /// No trigger: the limit always applies (0).
        None = "none" => 0x00,
        /// Inlet temperature above the trigger limit (1).
        Temperature = "temperature" => 0x01,
        /// Missing power reading for longer than the trigger limit (2).
        Power = "power" => 0x02,
        /// Time after a platform reset (3).
        Reset = "reset" => 0x03,
        /// Boot time policy (4).
        Boot = "boot" => 0x04,
    }
}

nm_enum! {
    /// Aggressiveness of CPU power correction (`cpu_power_correction`).
    CpuPowerCorrection, "cpu_power_correction" {
        /// Let Node Manager decide (0x00).
        Auto = "auto" => 0x00,
        /// Non-aggressive (0x20); the spelling is Ironic's.
        Unagressive = "unagressive" => 0x20,
        /// Aggressive, using T-states and memory throttling (0x40).
        Aggressive = "aggressive" => 0x40,
    }
}

nm_enum! {
    /// Where the policy is stored (`storage`).
    Storage, "storage" {
        /// Kept across reboots (0x00).
        Persistent = "persistent" => 0x00,
        /// Lost at reset (0x80).
        Volatile = "volatile" => 0x80,
    }
}

nm_enum! {
    /// What Node Manager does when the limit cannot be held (`action`).
    Action, "action" {
        /// Send an alert (0x00).
        Alert = "alert" => 0x00,
        /// Shut the platform down (0x01).
        Shutdown = "shutdown" => 0x01,
    }
}

nm_enum! {
    /// Which power supply domain a policy applies to (`power_domain`).
    PowerDomain, "power_domain" {
        /// Primary (0x00).
        Primary = "primary" => 0x00,
        /// Secondary (0x80).
        Secondary = "secondary" => 0x80,
    }
}

nm_enum! {
    /// What a boot time policy optimizes for (`target_limit.boot_mode`).
    BootMode, "boot_mode" {
        /// Power-optimized boot (0).
        Power = "power" => 0x00,
        /// Performance-optimized boot (1).
        Performance = "performance" => 0x01,
    }
}

nm_enum! {
    /// A day of the week in a suspend period.
    Day, "days" {
        /// Monday (0x01).
        Monday = "monday" => 0x01,
        /// Tuesday (0x02).
        Tuesday = "tuesday" => 0x02,
        /// Wednesday (0x04).
        Wednesday = "wednesday" => 0x04,
        /// Thursday (0x08).
        Thursday = "thursday" => 0x08,
        /// Friday (0x10).
        Friday = "friday" => 0x10,
        /// Saturday (0x20).
        Saturday = "saturday" => 0x20,
        /// Sunday (0x40).
        Sunday = "sunday" => 0x40,
    }
}

nm_enum! {
    /// A platform-wide statistic (`get_nm_statistics` with scope `global`).
    GlobalStatistic, "parameter_name" {
        /// Global power statistics (0x01).
        Power = "power" => 0x01,
        /// Global inlet temperature statistics (0x02).
        Temperature = "temperature" => 0x02,
        /// Global throttling statistics (0x03).
        Throttling = "throttling" => 0x03,
        /// Global volumetric airflow (0x04).
        Airflow = "airflow" => 0x04,
        /// Global outlet airflow temperature (0x05).
        AirflowTemperature = "airflow_temperature" => 0x05,
        /// Global chassis power (0x06).
        ChassisPower = "chassis_power" => 0x06,
        /// Unhandled requests (0x1B).
        UnhandledRequests = "unhandled_requests" => 0x1B,
        /// Response time (0x1C).
        ResponseTime = "response_time" => 0x1C,
        /// CPU throttling (0x1D, deprecated).
        CpuThrottling = "cpu_throttling" => 0x1D,
        /// Memory throttling (0x1E, deprecated).
        MemoryThrottling = "memory_throttling" => 0x1E,
        /// Communication failures (0x1F).
        CommunicationFailures = "communication_failures" => 0x1F,
    }
}

impl GlobalStatistic {
    /// Whether this is one of Node Manager's "special" global parameters (modes
    /// 0x1B-0x1F): they need no domain and are the only ones that can be reset by name.
    ///
    /// ```
    /// use hwctl_nodemanager::GlobalStatistic;
    /// assert!(!GlobalStatistic::Power.is_special());
    /// assert!(GlobalStatistic::names().len() > 5);
    /// ```
    pub fn is_special(self) -> bool {
        self.code() >= 0x1B
    }
}

nm_enum! {
    /// A per-policy statistic (`get_nm_statistics` with scope `policy`).
    PolicyStatistic, "parameter_name" {
        /// Per-policy power statistics (0x11).
        Power = "power" => 0x11,
        /// Per-policy trigger statistics (0x12).
        Trigger = "trigger" => 0x12,
        /// Per-policy throttling statistics (0x13).
        Throttling = "throttling" => 0x13,
    }
}

/// A policy's target limit: watts (or the trigger's unit), or a boot time policy's
/// mode and disabled cores.
///
/// In JSON it is an integer or `{"boot_mode": …, "cores_disabled": …}`, as Ironic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetLimit {
    /// A power limit in watts (0 to 65535).
    Watts(u16),
    /// A boot time policy.
    Boot {
        /// What the boot is optimized for.
        boot_mode: BootMode,
        /// Cores to disable during boot (0 to 127).
        cores_disabled: u8,
    },
}

/// Identifies one policy: its domain and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy's domain.
    pub domain_id: Domain,
    /// The policy's id (0 to 255).
    pub policy_id: u8,
}

impl PolicyRef {
    /// A policy in `domain_id` with id `policy_id`.
    ///
    /// ```
    /// use hwctl_nodemanager::{Domain, PolicyRef};
    /// let p = PolicyRef::new(Domain::Cpu, 7);
    /// assert_eq!((p.domain_id.as_str(), p.policy_id), ("cpu", 7));
    /// ```
    pub fn new(domain_id: Domain, policy_id: u8) -> Self {
        PolicyRef {
            domain_id,
            policy_id,
        }
    }
}

/// A policy to create or replace (`set_nm_policy`).
///
/// ```
/// use hwctl_nodemanager::{Action, Domain, Policy, PowerDomain, TargetLimit, Trigger};
/// let p = Policy::new(Domain::Platform, 7, Trigger::None, TargetLimit::Watts(300));
/// assert!(p.enable);
/// assert_eq!(p.action, Action::Alert);
/// assert_eq!(p.power_domain, PowerDomain::Primary);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The policy's domain.
    pub domain_id: Domain,
    /// Whether the policy is enabled once created.
    pub enable: bool,
    /// The policy's id.
    pub policy_id: u8,
    /// What triggers the policy.
    pub policy_trigger: Trigger,
    /// CPU power correction aggressiveness (default `auto`).
    pub cpu_power_correction: CpuPowerCorrection,
    /// Persistent or volatile (default `persistent`).
    pub storage: Storage,
    /// What to do when the limit cannot be held.
    pub action: Action,
    /// Primary or secondary power domain.
    pub power_domain: PowerDomain,
    /// The limit (a boot policy takes [`TargetLimit::Boot`]).
    pub target_limit: TargetLimit,
    /// Correction time limit in milliseconds (sent as 0 for a boot policy).
    pub correction_time: u32,
    /// Trigger limit in the trigger's unit (sent as 0 for triggers none and boot).
    pub trigger_limit: u16,
    /// Statistics reporting period in seconds.
    pub reporting_period: u16,
}

impl Policy {
    /// An enabled policy with Ironic's defaults: `auto` correction, `persistent`,
    /// `alert`, `primary`, no correction time, trigger limit or reporting period.
    ///
    /// ```
    /// use hwctl_nodemanager::{Action, Domain, Policy, TargetLimit, Trigger};
    /// let mut p = Policy::new(Domain::Platform, 1, Trigger::Temperature, TargetLimit::Watts(300));
    /// assert!(p.enable);
    /// assert_eq!(p.action, Action::Alert);
    /// p.trigger_limit = 35; // °C inlet temperature
    /// p.correction_time = 6000; // ms
    /// ```
    pub fn new(domain_id: Domain, policy_id: u8, trigger: Trigger, limit: TargetLimit) -> Self {
        Policy {
            domain_id,
            enable: true,
            policy_id,
            policy_trigger: trigger,
            cpu_power_correction: CpuPowerCorrection::Auto,
            storage: Storage::Persistent,
            action: Action::Alert,
            power_domain: PowerDomain::Primary,
            target_limit: limit,
            correction_time: 0,
            trigger_limit: 0,
            reporting_period: 0,
        }
    }
}

/// A policy as Node Manager reports it (`get_nm_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyInfo {
    /// The policy's domain.
    pub domain_id: Domain,
    /// Whether the policy itself is enabled.
    pub enabled: bool,
    /// Whether its domain's policies are enabled.
    pub per_domain_enabled: bool,
    /// Whether policies are enabled globally.
    pub global_enabled: bool,
    /// Whether Node Manager created it (not an external agent).
    pub created_by_nm: bool,
    /// What triggers it.
    pub policy_trigger: Trigger,
    /// Whether it is a power policy.
    pub power_policy: bool,
    /// CPU power correction aggressiveness.
    pub cpu_power_correction: CpuPowerCorrection,
    /// Persistent or volatile.
    pub storage: Storage,
    /// What it does when the limit cannot be held.
    pub action: Action,
    /// Primary or secondary power domain.
    pub power_domain: PowerDomain,
    /// The limit as stored (a boot policy's mode and cores are packed: mode | cores << 1).
    pub target_limit: u16,
    /// Correction time limit in milliseconds.
    pub correction_time: u32,
    /// Trigger limit.
    pub trigger_limit: u16,
    /// Statistics reporting period in seconds.
    pub reporting_period: u16,
}

/// Which policies `control_nm_policy` enables or disables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlScope {
    /// Every policy.
    Global,
    /// Every policy of one domain.
    Domain(Domain),
    /// One policy.
    Policy(PolicyRef),
}

/// A suspend period: a policy is inactive between `start` and `stop` on `days`.
///
/// Times are in units of 6 minutes since midnight (0 to 240).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspendPeriod {
    /// Start, in 6-minute units since midnight.
    pub start: u8,
    /// Stop, in 6-minute units since midnight.
    pub stop: u8,
    /// The days it repeats on, Monday first.
    pub days: Vec<Day>,
}

/// What `get_nm_capabilities` asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilitiesQuery {
    /// The domain.
    pub domain_id: Domain,
    /// The policy trigger.
    pub policy_trigger: Trigger,
    /// The power domain.
    pub power_domain: PowerDomain,
}

/// Node Manager's limits for one domain and trigger (`get_nm_capabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NmCapabilities {
    /// How many policies can be defined.
    pub max_policies: u8,
    /// Largest limit value.
    pub max_limit_value: u16,
    /// Smallest limit value.
    pub min_limit_value: u16,
    /// Smallest correction time (ms).
    pub min_correction_time: u32,
    /// Largest correction time (ms).
    pub max_correction_time: u32,
    /// Smallest reporting period (s).
    pub min_reporting_period: u16,
    /// Largest reporting period (s).
    pub max_reporting_period: u16,
    /// The domain these limits are for.
    pub domain_id: Domain,
    /// The power domain these limits are for.
    pub power_domain: PowerDomain,
}

/// Node Manager's version (`get_nm_version`), decoded into its codes (no text is
/// built while decoding). The JSON form is Ironic's strings, with `"unknown"` for
/// a version code Ironic does not know:
///
/// ```
/// let v = hwctl_nodemanager::wire::decode_version(&[0x57, 1, 0, 5, 2, 7, 1, 2]).unwrap();
/// assert_eq!((v.nm_name(), v.ipmi_name(), v.patch), ("3.0", "2.0", 7));
/// assert_eq!(
///     serde_json::to_value(v).unwrap(),
///     serde_json::json!({"nm": "3.0", "ipmi": "2.0", "patch": "7", "firmware": "1.2"})
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NmVersion {
    /// Node Manager version code (byte 3; [`NmVersion::nm_name`] reads it).
    pub nm: u8,
    /// IPMI interface version code (byte 4; [`NmVersion::ipmi_name`] reads it).
    pub ipmi: u8,
    /// Patch version (byte 5).
    pub patch: u8,
    /// Firmware major revision (byte 6).
    pub firmware_major: u8,
    /// Firmware minor revision (byte 7).
    pub firmware_minor: u8,
}

impl NmVersion {
    /// The Node Manager version as Ironic names it: `"1.0"`, `"1.5"`, `"2.0"`,
    /// `"2.5"`, `"3.0"`, or `"unknown"`.
    ///
    /// ```
    /// let v = hwctl_nodemanager::wire::decode_version(&[0x57, 0x01, 0x00, 0x04, 0x02, 0x00, 0x01, 0x00])?;
    /// assert_eq!(v.nm_name(), "2.5");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn nm_name(&self) -> &'static str {
        match self.nm {
            1 => "1.0",
            2 => "1.5",
            3 => "2.0",
            4 => "2.5",
            5 => "3.0",
            _ => "unknown",
        }
    }

    /// The IPMI interface version as Ironic names it: `"1.0"`, `"2.0"`, `"3.0"`,
    /// or `"unknown"`.
    pub fn ipmi_name(&self) -> &'static str {
        match self.ipmi {
            1 => "1.0",
            2 => "2.0",
            3 => "3.0",
            _ => "unknown",
        }
    }
}

/// Serializes a `Display` value as a string, written straight into the output.
struct AsText<T>(T);

impl<T: fmt::Display> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

struct Revision(u8, u8);

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl Serialize for NmVersion {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("NmVersion", 4)?;
        st.serialize_field("nm", self.nm_name())?;
        st.serialize_field("ipmi", self.ipmi_name())?;
        st.serialize_field("patch", &AsText(self.patch))?;
        st.serialize_field(
            "firmware",
            &AsText(Revision(self.firmware_major, self.firmware_minor)),
        )?;
        st.end()
    }
}

/// The statistic `get_nm_statistics` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatisticsQuery {
    /// A platform-wide statistic of one domain (the special parameters 0x1B-0x1F
    /// ignore the domain; pass [`Domain::Platform`]).
    Global {
        /// Which statistic.
        parameter: GlobalStatistic,
        /// Which domain.
        domain_id: Domain,
    },
    /// A statistic of one policy.
    Policy {
        /// Which statistic.
        parameter: PolicyStatistic,
        /// Which policy.
        policy: PolicyRef,
    },
}

/// What `reset_nm_statistics` resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatisticsReset {
    /// Every global statistic of a domain.
    Global {
        /// Which domain.
        domain_id: Domain,
    },
    /// The statistics of one policy.
    Policy(PolicyRef),
    /// One special global parameter ([`GlobalStatistic::is_special`]).
    Parameter(GlobalStatistic),
}

/// A statistics timestamp, as Node Manager sends it (seconds, IPMI time).
///
/// Ironic reports unspecified (`0xFFFFFFFF`) and relative (`<= 0x20000000`, IPMI time
/// not initialized) timestamps as the epoch, `1970-01-01T00:00:00`; that is what
/// [`NmTimestamp::to_iso8601`] and the JSON form give. The raw value stays available.
///
/// ```
/// use hwctl_nodemanager::NmTimestamp;
/// assert_eq!(NmTimestamp::from_raw(0x4020_0100).to_iso8601(), "2004-02-03T20:13:52");
/// assert_eq!(NmTimestamp::from_raw(0xFFFF_FFFF).to_iso8601(), "1970-01-01T00:00:00");
/// assert_eq!(NmTimestamp::from_raw(120), NmTimestamp::Relative(120));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NmTimestamp {
    /// `0xFFFFFFFF`: invalid or unspecified.
    Unspecified,
    /// Seconds since IPMI initialization (the BMC clock is not set yet).
    Relative(u32),
    /// Seconds since the Unix epoch, UTC.
    Unix(u32),
}

/// Timestamps at or below this value are relative (IPMI initialization not done).
pub const RELATIVE_TIMESTAMP_MAX: u32 = 0x2000_0000;

impl NmTimestamp {
    /// Classifies a raw timestamp.
    pub fn from_raw(raw: u32) -> Self {
        if raw == u32::MAX {
            NmTimestamp::Unspecified
        } else if raw <= RELATIVE_TIMESTAMP_MAX {
            NmTimestamp::Relative(raw)
        } else {
            NmTimestamp::Unix(raw)
        }
    }

    /// The raw value.
    ///
    /// ```
    /// assert_eq!(hwctl_nodemanager::NmTimestamp::Unix(1_700_000_000).raw(), 1_700_000_000);
    /// ```
    pub fn raw(self) -> u32 {
        match self {
            NmTimestamp::Unspecified => u32::MAX,
            NmTimestamp::Relative(v) | NmTimestamp::Unix(v) => v,
        }
    }

    /// Seconds since the Unix epoch, when the timestamp is absolute.
    ///
    /// ```
    /// use hwctl_nodemanager::NmTimestamp;
    /// assert_eq!(NmTimestamp::from_raw(1_700_000_000).unix_seconds(), Some(1_700_000_000));
    /// assert_eq!(NmTimestamp::from_raw(60).unix_seconds(), None); // relative
    /// ```
    pub fn unix_seconds(self) -> Option<u32> {
        match self {
            NmTimestamp::Unix(v) => Some(v),
            _ => None,
        }
    }

    /// Ironic's text: ISO 8601 UTC without zone (`2004-02-03T20:13:52`), the epoch for
    /// unspecified and relative values.
    pub fn to_iso8601(self) -> String {
        self.iso8601().as_str().to_owned()
    }

    /// The same text as [`to_iso8601`](Self::to_iso8601), in a fixed buffer (no
    /// allocation, no formatting machinery).
    ///
    /// ```
    /// use hwctl_nodemanager::NmTimestamp;
    /// assert_eq!(NmTimestamp::from_raw(0x4020_0100).iso8601().as_str(), "2004-02-03T20:13:52");
    /// ```
    pub fn iso8601(self) -> Iso8601 {
        iso8601(self.unix_seconds().unwrap_or(0))
    }
}

impl Serialize for NmTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.iso8601().as_str())
    }
}

/// A UTC time as ISO 8601 text without zone (`YYYY-MM-DDTHH:MM:SS`, 19 ASCII
/// bytes), held inline; [`NmTimestamp::iso8601`] makes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Iso8601([u8; 19]);

impl Iso8601 {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for Iso8601 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Iso8601 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Writes `v % 10^width` as `width` decimal digits at `buf[at..]`.
fn put_digits(buf: &mut [u8], at: usize, width: usize, mut v: u32) {
    for i in (0..width).rev() {
        buf[at + i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SS` (UTC, proleptic Gregorian). A `u32`
/// reaches 2106, so the year always has four digits.
fn iso8601(secs: u32) -> Iso8601 {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(i64::from(days));
    let mut b = *b"0000-00-00T00:00:00";
    // civil_from_days gives 1970..=2106, 1..=12, 1..=31 for a u32 day count.
    put_digits(&mut b, 0, 4, u32::try_from(y).unwrap_or(0));
    put_digits(&mut b, 5, 2, u32::try_from(m).unwrap_or(0));
    put_digits(&mut b, 8, 2, u32::try_from(d).unwrap_or(0));
    put_digits(&mut b, 11, 2, rem / 3600);
    put_digits(&mut b, 14, 2, (rem % 3600) / 60);
    put_digits(&mut b, 17, 2, rem % 60);
    Iso8601(b)
}

/// Days since 1970-01-01 to (year, month, day) — Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Statistics as Node Manager reports them (`get_nm_statistics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Statistics {
    /// Current value.
    pub current_value: u16,
    /// Minimum over the reporting period.
    pub minimum_value: u16,
    /// Maximum over the reporting period.
    pub maximum_value: u16,
    /// Average over the reporting period.
    pub average_value: u16,
    /// When the statistics were taken (JSON: Ironic's ISO 8601 text).
    pub timestamp: NmTimestamp,
    /// The statistics reporting period, in seconds.
    pub reporting_period: u32,
    /// The domain.
    pub domain_id: Domain,
    /// Policy or global administrative state enabled.
    pub administrative_enabled: bool,
    /// Operational state active.
    pub operational_state: bool,
    /// Measurements in progress.
    pub measurement_state: bool,
    /// Policy activated (limiting).
    pub activation_state: bool,
}

/// Where the Node Manager device sits behind the BMC: the IPMB channel and the
/// 8-bit slave address Send Message bridges to.
///
/// In JSON, as Ironic stored it in `driver_internal_info`: hex strings.
///
/// ```
/// let a = hwctl_nodemanager::NmAddress::new(0x0b, 0x6a);
/// assert_eq!(a.to_string(), "channel 0x0b, address 0x6a");
/// assert_eq!(serde_json::to_value(a).unwrap(),
///     serde_json::json!({"channel": "0x0b", "address": "0x6a"}));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NmAddress {
    /// The IPMB channel number (0 to 15).
    pub channel: u8,
    /// The 8-bit slave address.
    pub address: u8,
}

impl NmAddress {
    /// A device on `channel` at `address`.
    pub fn new(channel: u8, address: u8) -> Self {
        NmAddress { channel, address }
    }
}

impl fmt::Display for NmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "channel 0x{:02x}, address 0x{:02x}",
            self.channel, self.address
        )
    }
}

impl Serialize for NmAddress {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("NmAddress", 2)?;
        st.serialize_field("channel", &format!("0x{:02x}", self.channel))?;
        st.serialize_field("address", &format!("0x{:02x}", self.address))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_names_and_codes() {
        for d in Domain::ALL {
            assert_eq!(d.as_str().parse::<Domain>().unwrap(), *d);
            assert_eq!(Domain::from_code(d.code()), Some(*d));
        }
        assert!("nope".parse::<Trigger>().is_err());
        assert_eq!(
            serde_json::to_value(CpuPowerCorrection::Unagressive).unwrap(),
            "unagressive"
        );
        assert_eq!(Day::from_code(0x40), Some(Day::Sunday));
        assert!(GlobalStatistic::CommunicationFailures.is_special());
        assert!(!GlobalStatistic::ChassisPower.is_special());
    }

    #[test]
    fn decoded_values_hold_no_heap_text() {
        // Typed and `Copy`: decoding a version or statistics reply builds no String.
        fn copy<T: Copy>() {}
        copy::<NmVersion>();
        copy::<Statistics>();
        copy::<Iso8601>();
        assert_eq!(std::mem::size_of::<Iso8601>(), 19);
    }

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(0).as_str(), "1970-01-01T00:00:00");
        assert_eq!(iso8601(951_782_400).as_str(), "2000-02-29T00:00:00");
        assert_eq!(iso8601(u32::MAX - 1).as_str(), "2106-02-07T06:28:14");
        assert_eq!(iso8601(u32::MAX).as_str(), "2106-02-07T06:28:15");
        assert_eq!(
            NmTimestamp::from_raw(RELATIVE_TIMESTAMP_MAX).to_iso8601(),
            "1970-01-01T00:00:00"
        );
        assert_eq!(
            NmTimestamp::from_raw(RELATIVE_TIMESTAMP_MAX + 1).to_iso8601(),
            "1987-01-05T18:48:33"
        );
    }

    #[test]
    fn target_limit_json_forms() {
        let w: TargetLimit = serde_json::from_value(serde_json::json!(1000)).unwrap();
        assert_eq!(w, TargetLimit::Watts(1000));
        let b: TargetLimit = serde_json::from_value(
            serde_json::json!({"boot_mode": "performance", "cores_disabled": 3}),
        )
        .unwrap();
        assert_eq!(
            b,
            TargetLimit::Boot {
                boot_mode: BootMode::Performance,
                cores_disabled: 3
            }
        );
    }
}
