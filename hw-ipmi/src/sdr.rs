//! The Sensor Data Record repository: reading it (Reserve SDR Repository, Get SDR in
//! chunks), parsing full sensor, compact sensor and OEM records, and converting raw
//! readings with a full record's linear formula.

use std::time::Duration;

use hwctl_core::poll::Backoff;
use hwctl_core::retry::{Idempotency, RetryPolicy, retry};
use hwctl_core::{Error, ErrorKind, Result, SensorKind};

use crate::client::{RawIpmiReply, cc_kind, cc_name};

/// The manufacturer-specific body of an OEM record (type 0xC0).
///
/// ```
/// use hwctl_ipmi::{OemRecord, SdrKind, SdrRecord};
/// // Record 7, SDR version 1.5, type 0xC0, 5 body bytes: Intel's IANA (LS byte first), 2 data bytes.
/// let rec = SdrRecord::parse(&[0x07, 0x00, 0x51, 0xC0, 0x05, 0x57, 0x01, 0x00, 0x0D, 0x01])?;
/// let oem = OemRecord { manufacturer_id: 0x000157, data: vec![0x0D, 0x01] };
/// assert_eq!(rec.kind, SdrKind::Oem(oem));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OemRecord {
    /// The 3-byte IANA manufacturer ID, LS byte first on the wire (Intel = 0x000157).
    pub manufacturer_id: u32,
    /// The bytes after the manufacturer ID.
    pub data: Vec<u8>,
}

/// A full sensor record (type 0x01): what is needed to read and convert a sensor.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let records = hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?;
/// let volts = records.iter().find_map(|r| match &r.kind {
///     hwctl_ipmi::SdrKind::Full(s) if s.name == "12V" => Some(s),
///     _ => None,
/// }).expect("the simulator has a 12V sensor");
/// assert_eq!((volts.owner, volts.number, volts.sensor_type), (0x20, 3, 0x02));
/// assert_eq!((volts.m, volts.b, volts.r_exp), (6, 0, -2)); // 0.06 V a count
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FullSensor {
    /// Sensor owner's slave address (0x20 = the BMC).
    pub owner: u8,
    /// Owner LUN.
    pub lun: u8,
    /// Sensor number.
    pub number: u8,
    /// Sensor type (0x01 temperature, 0x02 voltage, 0x03 current, 0x04 fan, …).
    pub sensor_type: u8,
    /// Event/reading type code (0x01 = threshold).
    pub reading_type: u8,
    /// Analog data format: 0 unsigned, 1 one's complement, 2 two's complement, 3 none.
    pub analog_format: u8,
    /// Base unit code (1 °C, 4 V, 5 A, 6 W, 18 RPM).
    pub base_unit: u8,
    /// Linearisation (0 = linear).
    pub linearization: u8,
    /// M (10-bit signed).
    pub m: i16,
    /// B (10-bit signed).
    pub b: i16,
    /// B exponent (4-bit signed).
    pub b_exp: i8,
    /// Result exponent (4-bit signed).
    pub r_exp: i8,
    /// The sensor's name.
    pub name: String,
}

impl FullSensor {
    /// Converts a raw reading: `y = (M·x + B·10^Bexp)·10^Rexp`, with `x` read in
    /// the record's analog format. `None` for a sensor with no analog reading
    /// (format 3) or a non-linear one (linearisation other than 0).
    ///
    /// ```
    /// let mut s = hwctl_ipmi::FullSensor {
    ///     owner: 0x20, lun: 0, number: 7, sensor_type: 0x01, reading_type: 0x01,
    ///     analog_format: 2, // two's complement
    ///     base_unit: 1, linearization: 0,
    ///     m: 5, b: -3, b_exp: 1, r_exp: -1, // y = (5x - 30) / 10
    ///     name: "Inlet Temp".into(),
    /// };
    /// assert!((s.convert(100).unwrap() - 47.0).abs() < 1e-9);
    /// assert!((s.convert(0xFE).unwrap() + 4.0).abs() < 1e-9); // raw -2
    /// s.linearization = 0x01; // ln: not converted
    /// assert_eq!(s.convert(100), None);
    /// ```
    pub fn convert(&self, raw: u8) -> Option<f64> {
        let x = match self.analog_format {
            0 => f64::from(raw),
            1 => {
                let v = raw as i8;
                if v < 0 {
                    f64::from(v) + 1.0
                } else {
                    f64::from(v)
                }
            }
            2 => f64::from(raw as i8),
            _ => return None,
        };
        if self.linearization & 0x7F != 0 {
            return None;
        }
        let y = (f64::from(self.m) * x + f64::from(self.b) * 10f64.powi(self.b_exp.into()))
            * 10f64.powi(self.r_exp.into());
        Some(y)
    }

    /// The hwctl-core kind of this sensor, from its type and unit.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::SensorKind;
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let records = hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?;
    /// let kinds: Vec<(String, SensorKind)> = records.iter().filter_map(|r| match &r.kind {
    ///     hwctl_ipmi::SdrKind::Full(s) => Some((s.name.clone(), s.kind())),
    ///     _ => None,
    /// }).collect();
    /// assert!(kinds.contains(&("CPU Temp".into(), SensorKind::Temperature)));
    /// assert!(kinds.contains(&("FAN1".into(), SensorKind::Fan)));
    /// assert!(kinds.contains(&("PSU1 Power".into(), SensorKind::Power)));
    /// # Ok(()) }
    /// ```
    pub fn kind(&self) -> SensorKind {
        sensor_kind(self.sensor_type, self.base_unit)
    }

    /// The unit's name, in the words every driver uses for
    /// [`SensorReading::unit`](hwctl_core::SensorReading::unit) (`degrees C`,
    /// `degrees F`, `volts`, `amperes`, `watts`, `RPM`; the IPMI v2.0 base unit
    /// codes 1, 2, 4, 5, 6 and 18, Table 43-15); `unspecified` for any other code.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
    /// let records = hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?;
    /// let fan = records.iter().find_map(|r| match &r.kind {
    ///     hwctl_ipmi::SdrKind::Full(s) if s.name == "FAN1" => Some(s),
    ///     _ => None,
    /// }).expect("the simulator has FAN1");
    /// assert_eq!(fan.unit(), "RPM");
    /// assert_eq!(fan.convert(60), Some(3000.0)); // M = 50
    /// # Ok(()) }
    /// ```
    pub fn unit(&self) -> &'static str {
        unit_name(self.base_unit)
    }
}

/// A compact sensor record (type 0x02): a sensor without conversion factors, most
/// often a discrete one (presence, state) — its reading is a set of asserted
/// states, not a value.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let records = hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?;
/// let psu = records.iter().find_map(|r| match &r.kind {
///     hwctl_ipmi::SdrKind::Compact(s) => Some(s),
///     _ => None,
/// }).expect("the simulator has one compact record");
/// assert_eq!(psu.name, "PSU1 Status");
/// assert_eq!((psu.entity_id, psu.sensor_type, psu.reading_type), (0x0A, 0x08, 0x6F));
/// assert_eq!(psu.share_count, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactSensor {
    /// Sensor owner's slave address (0x20 = the BMC).
    pub owner: u8,
    /// Owner LUN.
    pub lun: u8,
    /// Sensor number (the first one when the record is shared).
    pub number: u8,
    /// Entity ID (e.g. 0x0A power supply).
    pub entity_id: u8,
    /// Sensor type (0x08 power supply, 0x07 processor, …).
    pub sensor_type: u8,
    /// Event/reading type code (0x01 threshold, 0x02–0x0C generic, 0x6F
    /// sensor-specific).
    pub reading_type: u8,
    /// Base unit code (often 0, unspecified).
    pub base_unit: u8,
    /// How many sensors share this record (1 when not shared).
    pub share_count: u8,
    /// The sensor's name.
    pub name: String,
}

impl CompactSensor {
    /// The hwctl-core kind of this sensor, from its type and unit.
    ///
    /// ```
    /// use hwctl_core::SensorKind;
    /// let mut s = hwctl_ipmi::CompactSensor {
    ///     owner: 0x20, lun: 0, number: 5, entity_id: 0x0A, sensor_type: 0x08,
    ///     reading_type: 0x6F, base_unit: 0, share_count: 1, name: "PSU1 Status".into(),
    /// };
    /// assert_eq!(s.kind(), SensorKind::Other); // power-supply presence: a state
    /// s.sensor_type = 0x04; // fan
    /// assert_eq!(s.kind(), SensorKind::Fan);
    /// ```
    pub fn kind(&self) -> SensorKind {
        sensor_kind(self.sensor_type, self.base_unit)
    }

    /// The unit's name (`discrete` for a sensor whose reading is a state set).
    ///
    /// ```
    /// let mut s = hwctl_ipmi::CompactSensor {
    ///     owner: 0x20, lun: 0, number: 9, entity_id: 0x07, sensor_type: 0x02,
    ///     reading_type: 0x01, base_unit: 4, share_count: 1, name: "VBAT".into(),
    /// };
    /// assert_eq!(s.unit(), "volts"); // a threshold sensor keeps its unit
    /// s.reading_type = 0x6F;
    /// assert_eq!(s.unit(), "discrete");
    /// ```
    pub fn unit(&self) -> &'static str {
        if self.reading_type == 0x01 {
            unit_name(self.base_unit)
        } else {
            "discrete"
        }
    }
}

fn sensor_kind(sensor_type: u8, base_unit: u8) -> SensorKind {
    match (sensor_type, base_unit) {
        (0x01, _) | (_, 1) => SensorKind::Temperature,
        (0x04, _) | (_, 18) => SensorKind::Fan,
        (0x02, _) | (_, 4) => SensorKind::Voltage,
        (0x03, _) | (_, 5) => SensorKind::Current,
        (_, 6) => SensorKind::Power,
        _ => SensorKind::Other,
    }
}

fn unit_name(base_unit: u8) -> &'static str {
    match base_unit {
        1 => "degrees C",
        2 => "degrees F",
        // The IPMI spec's own names are `Volts`, `Amps` and `Watts` (ipmitool
        // prints them); the readings use the one vocabulary of every driver.
        4 => "volts",
        5 => "amperes",
        6 => "watts",
        18 => "RPM",
        _ => "unspecified",
    }
}

/// The status of a sensor from Get Sensor Reading's state bytes (3 and 4): for a
/// threshold sensor the worst threshold crossed (`ok`, `non-critical`, `critical`,
/// `non-recoverable`); for a discrete sensor the asserted state offsets as
/// `state 0xHHHH` (bit n = offset n, e.g. `state 0x0001` = offset 0 asserted).
///
/// ```
/// use hwctl_ipmi::sdr::reading_status;
/// assert_eq!(reading_status(0x01, 0x0000), "ok");
/// assert_eq!(reading_status(0x01, 0x0001), "non-critical"); // lower non-critical
/// assert_eq!(reading_status(0x01, 0x0012), "critical"); // lower and upper critical
/// assert_eq!(reading_status(0x01, 0x0020), "non-recoverable"); // upper non-recoverable
/// assert_eq!(reading_status(0x6F, 0x8001), "state 0x0001"); // bit 15 is reserved
/// ```
pub fn reading_status(reading_type: u8, states: u16) -> String {
    if reading_type == 0x01 {
        let t = states & 0x3F;
        if t & 0x24 != 0 {
            "non-recoverable".to_owned()
        } else if t & 0x12 != 0 {
            "critical".to_owned()
        } else if t & 0x09 != 0 {
            "non-critical".to_owned()
        } else {
            "ok".to_owned()
        }
    } else {
        format!("state 0x{:04x}", states & 0x7FFF)
    }
}

/// What a record is.
///
/// ```
/// use hwctl_ipmi::{SdrKind, SdrRecord};
/// // A Management Controller Device Locator (type 0x12): kept raw, not interpreted.
/// let rec = SdrRecord::parse(&[0x02, 0x00, 0x51, 0x12, 0x03, 0x20, 0x00, 0x00])?;
/// assert_eq!(rec.kind, SdrKind::Other);
/// assert_eq!(rec.raw.len(), 8);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum SdrKind {
    /// Full sensor record (type 0x01).
    Full(FullSensor),
    /// Compact sensor record (type 0x02).
    Compact(CompactSensor),
    /// OEM record (type 0xC0).
    Oem(OemRecord),
    /// Any other record type, not interpreted.
    Other,
}

/// One SDR record: its id, type, the raw bytes (header included) and what it means.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let records = hwctl_ipmi::Ipmi::new(bmc.config()).sdr_records().await?;
/// let ids: Vec<u16> = records.iter().map(|r| r.id).collect();
/// assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
/// for r in records.iter() {
///     assert_eq!(r.raw[3], r.record_type);
///     assert_eq!(r.raw.len(), 5 + usize::from(r.raw[4])); // header + body length
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SdrRecord {
    /// Record ID.
    pub id: u16,
    /// Record type byte.
    pub record_type: u8,
    /// The whole record as read, 5-byte header first.
    pub raw: Vec<u8>,
    /// The parsed body.
    pub kind: SdrKind,
}

fn id_string(code: u8, bytes: &[u8]) -> String {
    let len = usize::from(code & 0x1F).min(bytes.len());
    let s = &bytes[..len];
    match code >> 6 {
        3 => String::from_utf8_lossy(s).trim_end_matches('\0').to_owned(),
        _ => s.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn sign_extend(v: u16, bits: u32) -> i16 {
    let shift = 16 - bits;
    ((v << shift) as i16) >> shift
}

impl SdrRecord {
    /// Parses one record (header included). Short or inconsistent records are
    /// protocol errors.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::Protocol`] for a short or inconsistent record.
    ///
    /// ```
    /// use hwctl_ipmi::{SdrKind, SdrRecord};
    /// let mut r = vec![0u8; 48];
    /// r[..5].copy_from_slice(&[0x09, 0x00, 0x51, 0x01, 47]); // id 9, full record, 47 body bytes
    /// r[5] = 0x20; // owner: the BMC
    /// r[7] = 12; // sensor number
    /// r[12] = 0x04; // sensor type: fan
    /// r[13] = 0x01; // threshold
    /// r[21] = 18; // RPM
    /// r[24] = 40; // M = 40
    /// r[47] = 0xC4; // name: 8-bit ASCII, 4 bytes
    /// r.extend_from_slice(b"FAN2");
    /// let rec = SdrRecord::parse(&r)?;
    /// assert_eq!((rec.id, rec.record_type), (9, 0x01));
    /// let SdrKind::Full(fan) = &rec.kind else { panic!("not a full record") };
    /// assert_eq!((fan.number, fan.name.as_str()), (12, "FAN2"));
    /// assert_eq!(fan.convert(75), Some(3000.0));
    /// // Cut short, the record is a protocol error, not a panic.
    /// let err = SdrRecord::parse(&r[..30]).unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
    /// assert!(SdrRecord::parse(&r[..3]).is_err());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn parse(raw: &[u8]) -> Result<SdrRecord> {
        if raw.len() < 5 {
            return Err(Error::protocol(format!(
                "SDR record of {} bytes has no header",
                raw.len()
            )));
        }
        let id = u16::from_le_bytes([raw[0], raw[1]]);
        let record_type = raw[3];
        let body_len = usize::from(raw[4]);
        if raw.len() < 5 + body_len {
            return Err(Error::protocol(format!(
                "SDR record 0x{id:04x} truncated: {} of {} body bytes",
                raw.len() - 5,
                body_len
            )));
        }
        let r = &raw[..5 + body_len];
        let short = || {
            Error::protocol(format!(
                "SDR record 0x{id:04x} (type 0x{record_type:02x}) too short"
            ))
        };
        let kind = match record_type {
            0x01 => {
                if r.len() < 48 {
                    return Err(short());
                }
                let m = sign_extend(u16::from(r[24]) | (u16::from(r[25] >> 6) << 8), 10);
                let b = sign_extend(u16::from(r[26]) | (u16::from(r[27] >> 6) << 8), 10);
                let r_exp = (r[29] as i8) >> 4;
                let b_exp = ((r[29] << 4) as i8) >> 4;
                SdrKind::Full(FullSensor {
                    owner: r[5],
                    lun: r[6] & 0x03,
                    number: r[7],
                    sensor_type: r[12],
                    reading_type: r[13],
                    analog_format: r[20] >> 6,
                    base_unit: r[21],
                    linearization: r[23],
                    m,
                    b,
                    b_exp,
                    r_exp,
                    name: id_string(r[47], &r[48..]),
                })
            }
            0x02 => {
                if r.len() < 32 {
                    return Err(short());
                }
                SdrKind::Compact(CompactSensor {
                    owner: r[5],
                    lun: r[6] & 0x03,
                    number: r[7],
                    entity_id: r[8],
                    sensor_type: r[12],
                    reading_type: r[13],
                    base_unit: r[21],
                    share_count: (r[23] & 0x0F).max(1),
                    name: id_string(r[31], &r[32..]),
                })
            }
            0xC0 => {
                if r.len() < 8 {
                    return Err(short());
                }
                SdrKind::Oem(OemRecord {
                    manufacturer_id: u32::from(r[5]) | u32::from(r[6]) << 8 | u32::from(r[7]) << 16,
                    data: r[8..].to_vec(),
                })
            }
            _ => SdrKind::Other,
        };
        Ok(SdrRecord {
            id,
            record_type,
            raw: r.to_vec(),
            kind,
        })
    }
}

/// Most SDR records read from one repository (real BMCs hold a few hundred).
const MAX_RECORDS: usize = 4096;

/// Most times one record is started over after its reservation was cancelled
/// (another console reserved the repository while we read).
const MAX_RESERVATIONS_PER_RECORD: u32 = 8;

/// The largest partial read asked for; halved down to 1 when the BMC answers
/// 0xCA ("cannot return number of requested data bytes").
const MAX_CHUNK: u8 = 16;

/// Completion codes that say "not now" about a Get SDR or Reserve SDR Repository:
/// node busy (0xC0), timeout while processing (0xC3), response could not be
/// provided (0xCE), SDR repository in update mode (0xD0), BMC initialization in
/// progress (0xD2). The same request is sent again after a pause (bounded by
/// [`transient_policy`]), as ipmitool, ipmiutil and FreeIPMI do.
pub(crate) fn is_transient_cc(cc: u8) -> bool {
    matches!(cc, 0xC0 | 0xC3 | 0xCE | 0xD0 | 0xD2)
}

/// How a transient completion code is retried: 6 attempts, 100 ms doubling to
/// 1 s (about 3 s in all), through `hwctl_core::retry`.
fn transient_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(6)
        .with_backoff(Backoff::exponential(
            Duration::from_millis(100),
            Duration::from_secs(1),
        ))
}

/// Sends one Storage command through `read`, retrying transient completion codes
/// ([`is_transient_cc`]) by [`transient_policy`]; returns the raw reply (any other
/// completion code is for the caller to judge).
async fn storage<F, Fut>(read: &mut F, cmd: u8, data: Vec<u8>) -> Result<RawIpmiReply>
where
    F: FnMut(u8, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<RawIpmiReply>>,
{
    retry(&transient_policy(), Idempotency::Idempotent, None, |_| {
        let fut = read(cmd, data.clone());
        async move {
            let r = fut.await?;
            if is_transient_cc(r.cc) {
                return Err(Error::new(
                    cc_kind(r.cc),
                    format!("completion code 0x{:02x} ({})", r.cc, cc_name(r.cc)),
                )
                .with_retryable(true));
            }
            Ok(r)
        }
    })
    .await
}

async fn reserve<F, Fut>(read: &mut F) -> Result<[u8; 2]>
where
    F: FnMut(u8, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<RawIpmiReply>>,
{
    let res = storage(read, 0x22, Vec::new())
        .await?
        .check("Reserve SDR Repository")?;
    if res.len() < 2 {
        return Err(Error::protocol("Reserve SDR Repository reply too short"));
    }
    Ok([res[0], res[1]])
}

/// Reads every record of the repository with `read` (a function sending one
/// Storage-netfn command and returning its raw reply).
///
/// Recovers from what the specification and ipmitool, ipmiutil and FreeIPMI
/// recover from, each bounded: a cancelled reservation (0xC5: another console
/// reserved the repository) re-reserves and starts the record over (at most
/// [`MAX_RESERVATIONS_PER_RECORD`] times a record); 0xCA halves the partial read
/// size; a transient code ([`is_transient_cc`]) is retried after a pause.
pub(crate) async fn read_repository<F, Fut>(mut read: F) -> Result<Vec<SdrRecord>>
where
    F: FnMut(u8, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<RawIpmiReply>>,
{
    let mut reservation = reserve(&mut read).await?;
    let mut records = Vec::new();
    let mut next: u16 = 0x0000;
    let mut seen = std::collections::HashSet::new();
    let mut chunk_max = MAX_CHUNK;
    while next != 0xFFFF {
        if !seen.insert(next) {
            return Err(Error::protocol(format!(
                "SDR record chain loops at 0x{next:04x}"
            )));
        }
        // Bounded by records visited, not kept: malformed ones are skipped below.
        if seen.len() > MAX_RECORDS {
            return Err(Error::protocol(format!(
                "SDR repository has more than {MAX_RECORDS} records"
            )));
        }
        let id = next.to_le_bytes();
        let mut reservations = 0u32;
        let (next_id, raw) = 'record: loop {
            let cancelled = |reservations: &mut u32| -> Result<()> {
                *reservations += 1;
                if *reservations > MAX_RESERVATIONS_PER_RECORD {
                    return Err(Error::new(
                        ErrorKind::Busy,
                        format!(
                            "SDR record 0x{next:04x}: reservation cancelled {MAX_RESERVATIONS_PER_RECORD} times in a row (another console keeps reserving the repository)"
                        ),
                    ));
                }
                Ok(())
            };
            // Header first.
            let head = storage(
                &mut read,
                0x23,
                vec![reservation[0], reservation[1], id[0], id[1], 0, 5],
            )
            .await?;
            if head.cc == 0xC5 {
                cancelled(&mut reservations)?;
                reservation = reserve(&mut read).await?;
                continue 'record;
            }
            let head = head.check("Get SDR")?;
            if head.len() < 7 {
                return Err(Error::protocol("Get SDR header reply too short"));
            }
            let next_id = u16::from_le_bytes([head[0], head[1]]);
            let mut raw = head[2..7].to_vec();
            let total = 5 + usize::from(raw[4]);
            while raw.len() < total {
                let want = (total - raw.len()).min(usize::from(chunk_max));
                let off = raw.len() as u8;
                let chunk = storage(
                    &mut read,
                    0x23,
                    vec![
                        reservation[0],
                        reservation[1],
                        id[0],
                        id[1],
                        off,
                        want as u8,
                    ],
                )
                .await?;
                match chunk.cc {
                    0 => {}
                    0xC5 => {
                        cancelled(&mut reservations)?;
                        reservation = reserve(&mut read).await?;
                        continue 'record;
                    }
                    0xCA if chunk_max > 1 => {
                        chunk_max /= 2;
                        continue;
                    }
                    cc => return Err(crate::client::cc_error(cc, "Get SDR")),
                }
                let data = chunk.data;
                if data.len() <= 2 {
                    return Err(Error::protocol("Get SDR returned no record bytes"));
                }
                raw.extend_from_slice(&data[2..data.len().min(2 + want)]);
            }
            break (next_id, raw);
        };
        match SdrRecord::parse(&raw) {
            Ok(r) => records.push(r),
            Err(e) => {
                tracing::warn!(record = next, error = %e, "skipping malformed SDR record");
            }
        }
        next = next_id;
    }
    Ok(records)
}

/// Why a Get Sensor Reading reply carries no reading, from its second byte (IPMI
/// 2.0 §35.14): bit 6 clear = sensor scanning disabled (an empty slot, a host that
/// is off: the reading byte means nothing), bit 5 set = reading unavailable
/// (initial update in progress). `None`: the reading is valid.
pub(crate) fn reading_unavailable(flags: u8) -> Option<&'static str> {
    if flags & 0x40 == 0 {
        Some("scanning disabled")
    } else if flags & 0x20 != 0 {
        Some("reading unavailable")
    } else {
        None
    }
}

/// Error for a bad Get Sensor Reading reply.
pub(crate) fn short_reading(name: &str) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("Get Sensor Reading reply for {name} too short"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oem_record_parses() {
        let raw = [
            0x05, 0x00, 0x51, 0xC0, 0x07, 0x57, 0x01, 0x00, 0x0D, 0x01, 0x2C, 0x60,
        ];
        let r = SdrRecord::parse(&raw).unwrap();
        assert_eq!(r.id, 5);
        match r.kind {
            SdrKind::Oem(o) => {
                assert_eq!(o.manufacturer_id, 0x000157);
                assert_eq!(o.data, [0x0D, 0x01, 0x2C, 0x60]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conversion_formula() {
        let s = FullSensor {
            owner: 0x20,
            lun: 0,
            number: 1,
            sensor_type: 2,
            reading_type: 1,
            analog_format: 0,
            base_unit: 4,
            linearization: 0,
            m: 2,
            b: 0,
            b_exp: 0,
            r_exp: -2,
            name: "12V".into(),
        };
        assert_eq!(s.convert(100), Some(2.0));
        assert_eq!(s.kind(), SensorKind::Voltage);
    }

    #[test]
    fn compact_record_parses() {
        // Header, then owner 0x20, LUN 0, sensor 5, entity 0x0A.1, init, caps,
        // type 0x08 (power supply), reading type 0x6F, masks, units 0/0/0, sharing
        // 0/0, hysteresis, reserved, OEM, name "PSU1 Status".
        let mut raw = vec![0x06, 0x00, 0x51, 0x02, 0x00];
        raw.extend([0x20, 0x00, 0x05, 0x0A, 0x01, 0x7F, 0x40, 0x08, 0x6F]);
        raw.extend([0x01, 0x00, 0x00, 0x00, 0x01, 0x00]);
        raw.extend([
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]);
        raw.push(0xC0 | 11);
        raw.extend(b"PSU1 Status");
        raw[4] = (raw.len() - 5) as u8;
        let r = SdrRecord::parse(&raw).unwrap();
        let SdrKind::Compact(c) = r.kind else {
            panic!("{:?}", r.kind)
        };
        assert_eq!((c.owner, c.number, c.entity_id), (0x20, 5, 0x0A));
        assert_eq!(
            (c.sensor_type, c.reading_type, c.share_count),
            (0x08, 0x6F, 1)
        );
        assert_eq!(c.name, "PSU1 Status");
        assert_eq!(c.unit(), "discrete");
        assert!(SdrRecord::parse(&raw[..30]).is_err());
    }

    #[test]
    fn statuses() {
        assert_eq!(reading_status(0x01, 0x0000), "ok");
        assert_eq!(reading_status(0x01, 0x0008), "non-critical");
        assert_eq!(reading_status(0x01, 0x0018), "critical");
        assert_eq!(reading_status(0x01, 0x0004), "non-recoverable");
        assert_eq!(reading_status(0x6F, 0x0001), "state 0x0001");
        assert_eq!(reading_status(0x6F, 0x8102), "state 0x0102");
    }

    #[tokio::test]
    async fn an_endless_chain_of_malformed_records_is_bounded() {
        // A BMC whose every record is too short to parse (and so is skipped), each
        // naming a new next record: the walk must stop at the record cap, not read
        // the whole 16-bit ID space.
        let mut calls = 0u32;
        let err = read_repository(|cmd, data| {
            calls += 1;
            let reply = match cmd {
                0x22 => vec![0x01, 0x00],
                _ => {
                    let id = u16::from_le_bytes([data[2], data[3]]);
                    let next = (id + 1).to_le_bytes();
                    if data[4] == 0 {
                        // header: a full sensor record of 3 body bytes
                        vec![next[0], next[1], data[2], data[3], 0x51, 0x01, 3]
                    } else {
                        vec![next[0], next[1], 0, 0, 0]
                    }
                }
            };
            async move { Ok(RawIpmiReply::ok(reply)) }
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        assert!(err.to_string().contains("more than 4096 records"), "{err}");
        assert!(calls <= 2 * 4097 + 1, "{calls} requests");
    }

    proptest! {
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = SdrRecord::parse(&data);
        }
    }
}
