//! The simulated chassis: blade power, next boot, serial sessions, and how each
//! operation answers (from PROTOCOLS.md §2.1).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::reply::{BladeEntry, Reply, chassis_info};

/// Boot type names by contract value (`BladeBootType`).
pub(crate) const BOOT_TYPES: [&str; 6] = [
    "Unknown",
    "NoOverride",
    "ForcePxe",
    "ForceDefaultHdd",
    "ForceIntoBiosSetup",
    "ForceFloppyOrRemovable",
];

/// The most serial output returned by one `ReceiveBladeSerialData`.
const MAX_RECEIVE: usize = 2048;

#[derive(Debug)]
pub(crate) struct Session {
    pub token: String,
    pub timeout: Duration,
    pub last_activity: Instant,
    pub output: VecDeque<u8>,
}

#[derive(Debug)]
pub(crate) struct Blade {
    pub on: bool,
    /// When a pending power-on (after a delay or an off time) takes effect.
    pub on_at: Option<Instant>,
    pub next_boot: u8,
    pub persistent: bool,
    pub uefi: bool,
    pub boot_instance: Option<u32>,
    pub session: Option<Session>,
    /// Everything received over serial sessions.
    pub serial_input: Vec<u8>,
    /// Power commands answer Success but change nothing.
    pub stuck: bool,
    pub power_cycles: u64,
}

impl Blade {
    fn new() -> Self {
        Blade {
            on: false,
            on_at: None,
            next_boot: 1,
            persistent: false,
            uefi: false,
            boot_instance: None,
            session: None,
            serial_input: Vec::new(),
            stuck: false,
            power_cycles: 0,
        }
    }

    /// Applies a pending power-on whose time has come; a non-persistent boot
    /// override is consumed by the boot.
    pub(super) fn settle(&mut self, now: Instant) {
        if let Some(at) = self.on_at
            && now >= at
        {
            self.on_at = None;
            self.power_on_now();
        }
        if let Some(s) = &self.session
            && now.duration_since(s.last_activity) > s.timeout
        {
            self.session = None;
        }
    }

    fn power_on_now(&mut self) {
        if !self.on {
            self.on = true;
            if !self.persistent {
                self.next_boot = 1;
            }
        }
    }
}

/// What an operation answered: an XML document, or a bare HTTP error.
#[derive(Debug)]
pub(crate) enum Answer {
    Xml(String),
    Http(u16, String),
}

#[derive(Debug)]
pub(crate) struct Chassis {
    pub blades: Vec<Blade>,
    pub power_delay: Duration,
    pub tokens_issued: u64,
    pub sessions_started: u64,
    pub sessions_stopped: u64,
}

/// The root element each operation answers with (used for injected completion codes).
pub(crate) fn root_of(op: &str) -> &'static str {
    match op {
        "GetBladeState" => "BladeStateResponse",
        "GetNextBoot" | "SetNextBoot" => "BootResponse",
        "GetPowerState" => "PowerStateResponse",
        "GetChassisInfo" => "ChassisInfoResponse",
        "StartBladeSerialSession" => "StartSerialResponse",
        "ReceiveBladeSerialData" => "SerialDataResponse",
        "SendBladeSerialData" | "StopBladeSerialSession" => "ChassisResponse",
        _ => "BladeResponse",
    }
}

/// A failure reply of `op` with `code`, with the type's fields at their "not
/// available" values.
pub(crate) fn failure(op: &str, code: &str, description: &str, blade: Option<u32>) -> String {
    let root = root_of(op);
    let blade = match root {
        "ChassisResponse"
        | "StartSerialResponse"
        | "SerialDataResponse"
        | "ChassisInfoResponse" => None,
        _ => blade,
    };
    let r = Reply::new(root, code, description, blade);
    let r = match root {
        "BladeStateResponse" => r.field("bladeState", "NA"),
        "BootResponse" => r.field("nextBoot", "Unknown"),
        "PowerStateResponse" => r.field("Decompression", "0").field("powerState", "NA"),
        "StartSerialResponse" => r.field("serialSessionToken", ""),
        "SerialDataResponse" => r.field("data", ""),
        _ => r,
    };
    r.render()
}

/// Parsed, case-insensitive query parameters.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(super) fn parse(query: &str) -> Self {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
                .collect(),
        )
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
    fn int(&self, name: &str) -> Result<u32, Answer> {
        let v = self
            .get(name)
            .ok_or_else(|| bad_request(&format!("missing parameter {name}")))?;
        v.trim()
            .parse()
            .map_err(|_| bad_request(&format!("parameter {name} is not an unsigned integer")))
    }
    fn int_or(&self, name: &str, default: u32) -> Result<u32, Answer> {
        if self.get(name).is_some() {
            self.int(name)
        } else {
            Ok(default)
        }
    }
    fn flag_or(&self, name: &str, default: bool) -> Result<bool, Answer> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(_) => Err(bad_request(&format!("parameter {name} is not a boolean"))),
        }
    }
    fn text(&self, name: &str) -> Result<&str, Answer> {
        self.get(name)
            .ok_or_else(|| bad_request(&format!("missing parameter {name}")))
    }
}

fn bad_request(why: &str) -> Answer {
    // WCF answers a parameter it cannot convert with 400 and a plain description.
    Answer::Http(400, format!("Bad Request: {why}"))
}

fn ok(root: &'static str, description: &str, blade: Option<u32>) -> Reply {
    Reply::new(root, "Success", description, blade)
}

impl Chassis {
    pub(super) fn new(population: u32, power_delay: Duration) -> Self {
        Chassis {
            blades: (0..population).map(|_| Blade::new()).collect(),
            power_delay,
            tokens_issued: 0,
            sessions_started: 0,
            sessions_stopped: 0,
        }
    }

    pub(super) fn population(&self) -> u32 {
        self.blades.len() as u32
    }

    pub(super) fn mac(blade: u32) -> String {
        format!("F4:52:14:00:{blade:02X}:01")
    }

    /// Answers one operation.
    pub(super) fn answer(&mut self, op: &str, params: &Params, now: Instant) -> Answer {
        match self.answer_inner(op, params, now) {
            Ok(xml) => Answer::Xml(xml),
            Err(a) => a,
        }
    }

    fn blade_id(&self, op: &str, params: &Params) -> Result<u32, Answer> {
        let id = params.int("bladeId")?;
        if id < 1 || id > self.population() {
            return Err(Answer::Xml(failure(
                op,
                "ParameterOutOfRange",
                &format!(
                    "Invalid blade ID {id}: the chassis has blades 1 to {}",
                    self.population()
                ),
                Some(id),
            )));
        }
        Ok(id)
    }

    fn blade(&mut self, id: u32, now: Instant) -> &mut Blade {
        let b = &mut self.blades[(id - 1) as usize];
        b.settle(now);
        b
    }

    /// Blade commands other than the serial ones are refused while a session is active.
    fn no_session(&mut self, op: &str, id: u32, now: Instant) -> Result<(), Answer> {
        if self.blade(id, now).session.is_some() {
            return Err(Answer::Xml(failure(
                op,
                "SerialSessionActive",
                &format!("A serial session is active on blade {id}"),
                Some(id),
            )));
        }
        Ok(())
    }

    fn answer_inner(&mut self, op: &str, p: &Params, now: Instant) -> Result<String, Answer> {
        let delay = self.power_delay;
        match op {
            "GetBladeState" => {
                let id = self.blade_id(op, p)?;
                self.no_session(op, id, now)?;
                let on = self.blade(id, now).on;
                Ok(ok("BladeStateResponse", "", Some(id))
                    .field("bladeState", if on { "ON" } else { "OFF" })
                    .render())
            }
            "SetBladeOn" | "SetPowerOn" => {
                let id = self.blade_id(op, p)?;
                self.no_session(op, id, now)?;
                let b = self.blade(id, now);
                if !b.stuck && !b.on {
                    if delay.is_zero() {
                        b.power_on_now();
                    } else if b.on_at.is_none() {
                        b.on_at = Some(now + delay);
                    }
                }
                Ok(ok("BladeResponse", "", Some(id)).render())
            }
            "SetBladeOff" | "SetPowerOff" => {
                let id = self.blade_id(op, p)?;
                self.no_session(op, id, now)?;
                let b = self.blade(id, now);
                if !b.stuck {
                    b.on = false;
                    b.on_at = None;
                }
                Ok(ok("BladeResponse", "", Some(id)).render())
            }
            "SetBladeActivePowerCycle" => {
                let id = self.blade_id(op, p)?;
                let off_time = p.int_or("offTime", 0)?;
                self.no_session(op, id, now)?;
                let b = self.blade(id, now);
                if !b.stuck {
                    b.power_cycles += 1;
                    b.on = false;
                    let wait = Duration::from_secs(u64::from(off_time)) + delay;
                    if wait.is_zero() {
                        b.on_at = None;
                        b.power_on_now();
                    } else {
                        b.on_at = Some(now + wait);
                    }
                }
                Ok(ok("BladeResponse", "", Some(id)).render())
            }
            "GetNextBoot" => {
                let id = self.blade_id(op, p)?;
                self.no_session(op, id, now)?;
                let b = self.blade(id, now);
                Ok(ok("BootResponse", "Success", Some(id))
                    .field("nextBoot", BOOT_TYPES[usize::from(b.next_boot)])
                    .render())
            }
            "SetNextBoot" => {
                let id = self.blade_id(op, p)?;
                let boot_type = p.int("bootType")?;
                let uefi = p.flag_or("uefi", false)?;
                let persistent = p.flag_or("persistent", false)?;
                let instance = match p.get("bootInstance") {
                    Some(_) => Some(p.int("bootInstance")?),
                    None => None,
                };
                self.no_session(op, id, now)?;
                // Only the real overrides can be set (Unknown and NoOverride cannot).
                if !(2..=5).contains(&boot_type) {
                    return Err(Answer::Xml(failure(
                        op,
                        "ParameterOutOfRange",
                        &format!("Invalid boot type {boot_type}"),
                        Some(id),
                    )));
                }
                let b = self.blade(id, now);
                b.next_boot = boot_type as u8;
                b.uefi = uefi;
                b.persistent = persistent;
                b.boot_instance = instance;
                Ok(ok("BootResponse", "Success", Some(id))
                    .field("nextBoot", BOOT_TYPES[boot_type as usize])
                    .render())
            }
            "GetPowerState" => {
                let id = self.blade_id(op, p)?;
                self.no_session(op, id, now)?;
                let on = self.blade(id, now).on;
                let desc = if on {
                    "Blade Power is On, firmware decompressed"
                } else {
                    "Blade Power is Off"
                };
                Ok(ok("PowerStateResponse", desc, Some(id))
                    .field("Decompression", "0")
                    .field("powerState", if on { "ON" } else { "OFF" })
                    .render())
            }
            "GetChassisInfo" => {
                let want_blades = p.flag_or("bladeinfo", true)?;
                let mut entries = Vec::new();
                if want_blades {
                    for id in 1..=self.population() {
                        let on = self.blade(id, now).on;
                        entries.push(BladeEntry {
                            number: id,
                            on,
                            macs: vec![Chassis::mac(id), String::new()],
                        });
                    }
                }
                Ok(chassis_info(&entries))
            }
            "StartBladeSerialSession" => {
                let id = self.blade_id(op, p)?;
                let timeout = p.int_or("sessionTimeoutInSecs", 300)?;
                let _power_on_wait = p.flag_or("powerOnWait", false)?;
                let n = self.tokens_issued + 1;
                let b = self.blade(id, now);
                if b.session.is_some() {
                    return Err(Answer::Xml(failure(
                        op,
                        "SerialSessionActive",
                        &format!("A serial session is already active on blade {id}"),
                        None,
                    )));
                }
                if !b.on {
                    return Err(Answer::Xml(failure(
                        op,
                        "DevicePoweredOff",
                        &format!("Blade {id} is powered off"),
                        None,
                    )));
                }
                let token = format!("{id:02}{:016x}", token_noise(n));
                let mut output = VecDeque::new();
                output.extend(format!("\r\nOCS simulator blade {id} serial console\r\n").bytes());
                b.session = Some(Session {
                    token: token.clone(),
                    timeout: Duration::from_secs(u64::from(timeout.max(1))),
                    last_activity: now,
                    output,
                });
                self.tokens_issued = n;
                self.sessions_started += 1;
                Ok(ok("StartSerialResponse", "", None)
                    .field("serialSessionToken", token)
                    .render())
            }
            "SendBladeSerialData" | "ReceiveBladeSerialData" | "StopBladeSerialSession" => {
                let id = self.blade_id(op, p)?;
                let token = p.text("sessionToken")?.to_owned();
                let force = p.flag_or("forceKill", false)?;
                let data = if op == "SendBladeSerialData" {
                    // '+' may arrive as a space when a client does not escape it.
                    let text = p.text("data")?.replace(' ', "+");
                    Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(text.as_bytes())
                            .map_err(|_| bad_request("parameter data is not base64"))?,
                    )
                } else {
                    None
                };
                let b = self.blade(id, now);
                let matches = b.session.as_ref().is_some_and(|s| s.token == token);
                let forced = op == "StopBladeSerialSession" && force && b.session.is_some();
                if !(matches || forced) {
                    return Err(Answer::Xml(failure(
                        op,
                        "NoActiveSerialSession",
                        &format!("No active serial session on blade {id} for this token"),
                        None,
                    )));
                }
                match op {
                    "SendBladeSerialData" => {
                        let data = data.unwrap_or_default();
                        b.serial_input.extend_from_slice(&data);
                        if let Some(s) = b.session.as_mut() {
                            s.last_activity = now;
                            // The blade's terminal echoes what it reads.
                            s.output.extend(data.iter().copied());
                        }
                        Ok(ok("ChassisResponse", "", None).render())
                    }
                    "ReceiveBladeSerialData" => {
                        let mut chunk = Vec::new();
                        if let Some(s) = b.session.as_mut() {
                            s.last_activity = now;
                            let n = s.output.len().min(MAX_RECEIVE);
                            chunk.extend(s.output.drain(..n));
                        }
                        Ok(ok("SerialDataResponse", "", None)
                            .field(
                                "data",
                                base64::engine::general_purpose::STANDARD.encode(&chunk),
                            )
                            .render())
                    }
                    _ => {
                        b.session = None;
                        self.sessions_stopped += 1;
                        Ok(ok("ChassisResponse", "", None).render())
                    }
                }
            }
            other => Err(Answer::Http(404, format!("Endpoint not found: {other}"))),
        }
    }
}

/// An unpredictable-enough token suffix (the simulator is not a security boundary).
fn token_noise(n: u64) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (t ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)).rotate_left(17)
}

/// The canonical operation name for a path segment matched case-insensitively.
pub(crate) fn canonical_op(segment: &str) -> Option<&'static str> {
    const OPS: &[&str] = &[
        "GetBladeState",
        "SetBladeOn",
        "SetBladeOff",
        "SetBladeActivePowerCycle",
        "GetNextBoot",
        "SetNextBoot",
        "GetPowerState",
        "SetPowerOn",
        "SetPowerOff",
        "GetChassisInfo",
        "StartBladeSerialSession",
        "SendBladeSerialData",
        "ReceiveBladeSerialData",
        "StopBladeSerialSession",
    ];
    OPS.iter()
        .copied()
        .find(|o| o.eq_ignore_ascii_case(segment))
}
