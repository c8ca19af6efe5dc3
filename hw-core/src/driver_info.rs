//! `driver_info`: the JSON map a node's driver is built from, its property schema,
//! and validation that reports every problem at once.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};
pub use url::Url;

use crate::error::{Error, ErrorKind, ParameterProblem, Result};

/// One `driver_info` property a driver reads.
///
/// Declared as constants so a hardware type can list them before any node exists:
///
/// ```
/// use hwctl_core::Property;
/// const PROPS: &[Property] = &[
///     Property::required("iboot_address", "Address of the iBoot PDU."),
///     Property::required("iboot_password", "Password.").secret(),
///     Property::optional("iboot_port", "TCP port of the DxP service.").default_value("9100"),
/// ];
/// assert!(PROPS[1].secret);
/// assert_eq!(PROPS[2].default, Some("9100"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Property {
    /// The key in `driver_info` (Ironic's name).
    pub name: Cow<'static, str>,
    /// A one-line description for users.
    pub description: Cow<'static, str>,
    /// Whether validation fails without it.
    pub required: bool,
    /// Whether its value is a secret (never logged, echoed or printed).
    pub secret: bool,
    /// The value used when it is absent.
    pub default: Option<&'static str>,
    /// `Some(reason)` for a real Ironic key the driver recognises but does not
    /// support: validation refuses it whenever it is set, giving `reason`, rather
    /// than drop it silently (see [`Property::refused`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<&'static str>,
    /// `Some(reason)` for a real Ironic key the driver accepts and does not use,
    /// because hw has no need of it (see [`Property::unused`]): validation passes,
    /// and the first node of the process that carries it logs `reason` once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unused: Option<&'static str>,
}

impl Property {
    /// A required property.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, Property};
    /// const P: &[Property] = &[Property::required("wol_mac", "MAC address to wake.")];
    /// assert!(P[0].required && P[0].default.is_none());
    /// let err = DriverInfo::new().validator(P).finish().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert_eq!(err.to_string(), "missing parameters: wol_mac");
    /// ```
    pub const fn required(name: &'static str, description: &'static str) -> Self {
        Property {
            name: Cow::Borrowed(name),
            description: Cow::Borrowed(description),
            required: true,
            secret: false,
            default: None,
            refused: None,
            unused: None,
        }
    }

    /// An optional property.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::optional("wol_port", "UDP port.")];
    /// assert!(!P[0].required);
    /// let info = DriverInfo::new();
    /// let mut v = info.validator(P);
    /// assert_eq!(v.port("wol_port"), None); // absent, no default: not a problem
    /// assert!(v.finish().is_ok());
    /// ```
    pub const fn optional(name: &'static str, description: &'static str) -> Self {
        Property {
            name: Cow::Borrowed(name),
            description: Cow::Borrowed(description),
            required: false,
            secret: false,
            default: None,
            refused: None,
            unused: None,
        }
    }

    /// Marks the property secret.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ExposeSecret, Property};
    /// const P: &[Property] = &[Property::required("ipmi_password", "Password.").secret()];
    /// let info = DriverInfo::from_pairs([("ipmi_password", " pw with spaces ")]);
    /// let mut v = info.validator(P);
    /// // Secrets are not trimmed, and come out wrapped.
    /// assert_eq!(v.secret("ipmi_password").unwrap().expose_secret(), " pw with spaces ");
    /// ```
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Gives the property a default value (the text as it would appear in `driver_info`).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::optional("ipmi_port", "UDP port.").default_value("623")];
    /// let info = DriverInfo::new();
    /// let mut v = info.validator(P);
    /// assert_eq!(v.port("ipmi_port"), Some(623)); // absent: the default, parsed
    /// ```
    pub const fn default_value(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    /// Marks a real Ironic key this driver does not support because it asks for
    /// behaviour hw does not have (a cipher list, an older protocol): whenever it
    /// is set, validation reports it as invalid with `reason` (say what to do
    /// instead), since ignoring it would drive the node otherwise than asked.
    /// Listing it keeps it out of the "did you mean" of unknown keys and shows it
    /// in the driver's properties. A key hw simply has no use for is
    /// [`Property::unused`] instead.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const PROPS: &[Property] = &[
    ///     Property::optional("redfish_tls_ciphers", "OpenSSL cipher list.")
    ///         .refused("the TLS library has its own fixed suites; remove the key"),
    /// ];
    /// let info = DriverInfo::from_pairs([("redfish_tls_ciphers", "HIGH:!aNULL")]);
    /// let err = info.validator(PROPS).finish().unwrap_err();
    /// assert_eq!(err.to_string(),
    ///     "invalid parameters: redfish_tls_ciphers: is not supported: the TLS library has its own fixed suites; remove the key");
    /// ```
    pub const fn refused(mut self, reason: &'static str) -> Self {
        self.refused = Some(reason);
        self
    }

    /// Marks a real Ironic key this driver accepts and does not use: hw has no
    /// need of it (it configured a part of Ironic hw does without, such as the
    /// console proxy `ipmi_terminal_port` names), and driving the node without it
    /// is what the user asked for. Validation passes whatever its value, so an
    /// Ironic inventory moves over unchanged; it is never silent: the property
    /// lists `reason` (`hwctl properties`, `--json` `"unused"`), and the first
    /// [`DriverInfo::validator`] of the process over a `driver_info` that sets it
    /// logs, at `info`, that the key is accepted and not used, and why — once per
    /// key and process, not once per node (a sweep of 10,000 such nodes logs one
    /// line). Ironic's keys of interfaces hw lacks altogether are
    /// [`GENERIC_KEYS`]; a key whose meaning hw cannot honour is
    /// [`Property::refused`].
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const PROPS: &[Property] = &[
    ///     Property::required("ipmi_address", "BMC address."),
    ///     Property::optional("ipmi_terminal_port", "Ironic's console proxy port.")
    ///         .unused("hw speaks Serial over LAN itself; no proxy listens on that port"),
    /// ];
    /// let info = DriverInfo::from_pairs([("ipmi_address", "10.0.0.5"), ("ipmi_terminal_port", "8023")]);
    /// assert!(info.validator(PROPS).finish().is_ok());
    /// assert_eq!(PROPS[1].unused, Some("hw speaks Serial over LAN itself; no proxy listens on that port"));
    /// let shown = serde_json::to_value(&PROPS[1])?;
    /// assert_eq!(shown["unused"], PROPS[1].unused.unwrap());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub const fn unused(mut self, reason: &'static str) -> Self {
        self.unused = Some(reason);
        self
    }
}

/// The keys of [`Property::unused`] already logged in this process (each is
/// logged once: module-wide, since every node of a sweep is validated).
static UNUSED_TOLD: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Logs, at `info`, that `name` is accepted and not used, for `reason`, unless it
/// was logged already in this process. Whether it was logged now.
fn tell_unused_once(name: &str, reason: &'static str) -> bool {
    let mut told = UNUSED_TOLD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if told.iter().any(|t| t == name) {
        return false;
    }
    told.push(name.to_owned());
    drop(told);
    tracing::info!(
        "driver_info key {name} is accepted and not used: {reason} (logged once per process, \
         for the first node that sets it)"
    );
    true
}

/// Ironic's `driver_info` keys that belong to no hardware type: they are read by
/// Ironic's boot, deploy, agent, rescue and network interfaces and by the
/// conductor, so an Ironic node carries them whatever its driver. Every
/// [`Validator`] accepts them (they are never "unknown"), so an Ironic inventory
/// moves over unchanged. Those hw reads are documented where they are read:
/// `force_persistent_boot_device` by every node ([`crate::BootPersistence`]), the
/// images by the boot interfaces that list them in their properties (`hwctl-pxe`);
/// the others belong to Ironic interfaces hw does not have (deploy, agent, network,
/// virtual media) and are accepted for that reason only.
///
/// From Ironic's `pxe_base`, `agent`, `agent_base`, `redfish/boot` and
/// `drivers/utils` property lists and the conductor.
pub const GENERIC_KEYS: &[&str] = &[
    "agent_verify_ca",
    "bootloader",
    "cleaning_network",
    "config_via_floppy",
    "config_via_removable",
    "deploy_forces_oob_reboot",
    "deploy_iso",
    "deploy_kernel",
    "deploy_ramdisk",
    "external_http_url",
    "fast_track",
    "force_persistent_boot_device",
    "image_download_source",
    "image_http_proxy",
    "image_https_proxy",
    "image_no_proxy",
    "inspection_network",
    "kernel_append_params",
    "provisioning_network",
    "pxe_template",
    "rescue_iso",
    "rescue_kernel",
    "rescue_ramdisk",
    "rescuing_network",
    "servicing_network",
    "vmedia_transport_protocol",
];

/// The value Ironic's API shows instead of a secret (`strutils.mask_dict_password`):
/// a node exported with `openstack baremetal node show` has `"******"` where its
/// passwords were.
pub const IRONIC_MASK: &str = "******";

/// The namespaces of `schema`: each property name's prefix up to and including its
/// first `_` (`ipmi_address` → `ipmi_`), without duplicates, in schema order. A
/// name without `_` gives no namespace.
///
/// ```
/// use hwctl_core::{Property, driver_info::namespaces_of};
/// const P: &[Property] = &[Property::required("libvirt_uri", "."),
///     Property::optional("sasl_username", "."), Property::optional("sasl_password", ".")];
/// assert_eq!(namespaces_of(P), ["libvirt_", "sasl_"]);
/// ```
pub fn namespaces_of(schema: &[Property]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in schema {
        if let Some(i) = p.name.find('_')
            && i > 0
        {
            // Compared before it is copied: most of a schema shares one prefix.
            let prefix = &p.name[..=i];
            if !out.iter().any(|o| o.eq_ignore_ascii_case(prefix)) {
                out.push(prefix.to_ascii_lowercase());
            }
        }
    }
    out
}

/// The longest name, in bytes, that [`did_you_mean`] looks for a close match to;
/// the longest known `driver_info` key is under 40.
pub const SUGGEST_MAX_LEN: usize = 64;

/// The known key closest to `unknown` by Jaro-Winkler similarity (`strsim`), if
/// any is close enough (0.8, as command-line parsers use) to be a likely typo.
/// Keys sharing a `<namespace>_` prefix are compared on what follows it, so the
/// shared prefix alone never makes a suggestion.
///
/// ```
/// use hwctl_core::driver_info::did_you_mean;
/// assert_eq!(did_you_mean("iboot_relayid", ["iboot_address", "iboot_relay_id"]), Some("iboot_relay_id"));
/// assert_eq!(did_you_mean("ipmi_passwrod", ["ipmi_password", "ipmi_port"]), Some("ipmi_password"));
/// assert_eq!(did_you_mean("ipmi_zzz", ["redfish_address"]), None);
/// // Within a namespace only the part after the prefix is compared.
/// assert_eq!(did_you_mean("iboot_zzz", ["iboot_port", "iboot_address"]), None);
/// assert_eq!(did_you_mean("iboot_prot", ["iboot_port", "iboot_address"]), Some("iboot_port"));
/// // A name longer than SUGGEST_MAX_LEN is nobody's typo: no suggestion.
/// assert_eq!(did_you_mean(&"ipmi_port".repeat(8), ["ipmi_port"]), None);
/// ```
pub fn did_you_mean<'k>(
    unknown: &str,
    known: impl IntoIterator<Item = &'k str>,
) -> Option<&'k str> {
    // Jaro-Winkler costs |unknown| × |known| per candidate: a hostile 3.7 KB key
    // took 37 ms per validation of every hardware type's keys (found by the
    // driver_info fuzz target; 0.23 ms with this cap); a typo is never this long.
    if unknown.len() > SUGGEST_MAX_LEN {
        return None;
    }
    let lower = unknown.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (key_similarity(&lower, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Jaro-Winkler similarity of two keys. Keys of one namespace share its prefix
/// (`iboot_`), which alone makes any two of them score about 0.8, so when both
/// keys start with the same `<namespace>_` only what follows it is compared:
/// `iboot_zzz` is then nothing like `iboot_port`, while `iboot_prot` still is.
fn key_similarity(unknown: &str, known: &str) -> f64 {
    if let (Some(i), Some(j)) = (unknown.find('_'), known.find('_'))
        && i > 0
        && unknown[..=i].eq_ignore_ascii_case(&known[..=j])
    {
        return strsim::jaro_winkler(&unknown[i + 1..], &known[j + 1..].to_ascii_lowercase());
    }
    strsim::jaro_winkler(unknown, known)
}

/// A node's `driver_info`: a JSON object of driver parameters.
///
/// Values may be JSON strings, numbers or booleans; getters accept `"9100"` and
/// `9100` alike, as Ironic stores both, except that an address or URL
/// ([`Validator::host`], [`Validator::url`]) must be a string. An array or an
/// object is never read as text: a required key holding one is invalid, not
/// missing. `Debug` prints the keys only, never values.
///
/// ```
/// use hwctl_core::DriverInfo;
/// let info = DriverInfo::from_json(serde_json::json!({"iboot_port": "9100", "iboot_password": "s3cret"})).unwrap();
/// assert_eq!(info.get_str("iboot_port").as_deref(), Some("9100"));
/// assert!(!format!("{info:?}").contains("s3cret"));
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct DriverInfo {
    map: Map<String, Value>,
}

impl fmt::Debug for DriverInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverInfo")
            .field("keys", &self.map.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl DriverInfo {
    /// An empty `driver_info`.
    ///
    /// ```
    /// let mut info = hwctl_core::DriverInfo::new();
    /// assert_eq!(info.keys().count(), 0);
    /// info.insert("wol_port", 9);
    /// assert!(info.contains("wol_port"));
    /// ```
    pub fn new() -> Self {
        DriverInfo::default()
    }

    /// Builds from a JSON value, which must be an object.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `driver_info` when `value` is not an object.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind};
    /// use serde_json::json;
    /// let info = DriverInfo::from_json(json!({"ipmi_address": "10.0.0.5", "ipmi_port": 623}))?;
    /// assert_eq!(info.get_str("ipmi_port").as_deref(), Some("623"));
    /// let err = DriverInfo::from_json(json!(["ipmi_address"])).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert_eq!(err.to_string(), "driver_info must be a JSON object, not an array");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_json(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(DriverInfo { map }),
            other => Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "driver_info must be a JSON object, not {}",
                    json_type_name(&other)
                ),
            )),
        }
    }

    /// Builds from key-value pairs (all values strings).
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("wol_port", "9")]);
    /// assert!(info.contains("wol_port"));
    /// ```
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        DriverInfo {
            map: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        }
    }

    /// Sets `key` to `value`.
    ///
    /// ```
    /// use hwctl_core::DriverInfo;
    /// let mut info = DriverInfo::new();
    /// info.insert("ipmi_port", 6230);           // a JSON number
    /// info.insert("ipmi_address", "10.0.0.5");  // a JSON string
    /// info.insert("ipmi_port", "623");          // replaces
    /// assert_eq!(info.get("ipmi_port"), Some(&serde_json::json!("623")));
    /// ```
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.map.insert(key.into(), value.into());
    }

    /// Removes `key`.
    ///
    /// ```
    /// let mut info = hwctl_core::DriverInfo::from_pairs([("wol_port", "9")]);
    /// assert_eq!(info.remove("wol_port"), Some("9".into()));
    /// assert_eq!(info.remove("wol_port"), None);
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// Whether `key` is present and not null or empty.
    ///
    /// ```
    /// use serde_json::json;
    /// let info = hwctl_core::DriverInfo::from_json(json!({
    ///     "a": "x", "b": " ", "c": null, "d": 0, "e": [1]
    /// }))?;
    /// assert!(info.contains("a") && info.contains("d"));
    /// assert!(!info.contains("b") && !info.contains("c") && !info.contains("e") && !info.contains("f"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        self.get_str(key).is_some_and(|s| !s.trim().is_empty())
    }

    /// The raw JSON value of `key`.
    ///
    /// ```
    /// use serde_json::json;
    /// let info = hwctl_core::DriverInfo::from_json(json!({"redfish_verify_ca": false}))?;
    /// assert_eq!(info.get("redfish_verify_ca"), Some(&json!(false)));
    /// assert_eq!(info.get("redfish_address"), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// The value of `key` as text: strings as they are, numbers and booleans printed.
    /// `null`, arrays and objects give `None`.
    ///
    /// ```
    /// use serde_json::json;
    /// let info = hwctl_core::DriverInfo::from_json(json!({
    ///     "port": 623, "verify": true, "host": "bmc-1", "list": ["a"]
    /// }))?;
    /// assert_eq!(info.get_str("port").as_deref(), Some("623"));
    /// assert_eq!(info.get_str("verify").as_deref(), Some("true"));
    /// assert_eq!(info.get_str("host").as_deref(), Some("bmc-1"));
    /// assert_eq!(info.get_str("list"), None);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get_str(&self, key: &str) -> Option<Cow<'_, str>> {
        match self.map.get(key)? {
            Value::String(s) => Some(Cow::Borrowed(s)),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    /// The keys present.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("wol_port", "9"), ("wol_mac", "52:54:00:12:34:56")]);
    /// let mut keys: Vec<&str> = info.keys().collect();
    /// keys.sort();
    /// assert_eq!(keys, ["wol_mac", "wol_port"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// The underlying JSON map.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("wol_port", "9")]);
    /// assert_eq!(serde_json::Value::Object(info.as_map().clone()), serde_json::json!({"wol_port": "9"}));
    /// ```
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Starts validating against `schema`. At once it records every required
    /// property that is absent (missing) or holds an array or an object (invalid,
    /// `must be a string, not an array`: one problem, not also missing), every
    /// secret whose value is Ironic's mask
    /// [`IRONIC_MASK`] (an export has no secret: invalid, saying to supply it
    /// another way), and every [refused](Property::refused) property that is set.
    /// An [unused](Property::unused) property that is set is no problem: the first
    /// validator of the process that meets it logs it, once.
    ///
    /// The validator's namespaces are derived from `schema` ([`namespaces_of`]);
    /// [`Validator::finish`] reports the keys in them that are neither in `schema`
    /// nor read through the validator nor [`GENERIC_KEYS`]. A driver whose keys do
    /// not share prefixes cleanly names its own with [`Validator::with_namespaces`].
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, Property};
    /// const P: &[Property] = &[
    ///     Property::required("ipmi_address", "BMC address."),
    ///     Property::optional("ipmi_password", "Password.").secret(),
    /// ];
    /// // An Ironic export: the password is masked, the address absent.
    /// let info = DriverInfo::from_pairs([("ipmi_password", "******")]);
    /// let v = info.validator(P);
    /// assert!(v.has_problems()); // found before any getter runs
    /// let err = v.finish().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// let names: Vec<_> = err.problems().iter().map(|p| (p.name.as_str(), p.is_missing())).collect();
    /// assert_eq!(names, [("ipmi_address", true), ("ipmi_password", false)]);
    /// ```
    pub fn validator<'a>(&'a self, schema: &'a [Property]) -> Validator<'a> {
        let mut problems = Vec::new();
        for p in schema {
            if p.required
                && let Some(what) = self.map.get(p.name.as_ref()).and_then(never_text)
            {
                // Present but of a type no getter reads (an array, an object): it
                // is invalid, and only that, not also missing (one problem a key).
                problems.push(ParameterProblem {
                    name: p.name.to_string(),
                    reason: Some(format!("must be a string, not {what}")),
                });
            } else if p.required && !self.contains(&p.name) {
                problems.push(ParameterProblem {
                    name: p.name.to_string(),
                    reason: None,
                });
            } else if p.secret && self.is_ironic_mask(&p.name) {
                problems.push(ParameterProblem {
                    name: p.name.to_string(),
                    reason: Some(format!(
                        "is {IRONIC_MASK:?}, the mask Ironic's API shows instead of a secret: \
                         the export has no secret; supply the secret another way"
                    )),
                });
            } else if let Some(reason) = p.refused
                && self.contains(&p.name)
            {
                problems.push(ParameterProblem {
                    name: p.name.to_string(),
                    reason: Some(format!("is not supported: {reason}")),
                });
            } else if let Some(reason) = p.unused
                && self.contains(&p.name)
            {
                tell_unused_once(&p.name, reason);
            }
        }
        Validator {
            info: self,
            schema,
            namespaces: std::sync::OnceLock::new(),
            read: Vec::new(),
            problems,
        }
    }

    /// Whether the value of `key` is Ironic's secret mask [`IRONIC_MASK`].
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("ipmi_password", "******")]);
    /// assert!(info.is_ironic_mask("ipmi_password"));
    /// ```
    pub fn is_ironic_mask(&self, key: &str) -> bool {
        matches!(self.map.get(key), Some(Value::String(s)) if s == IRONIC_MASK)
    }
}

/// The type name of `v` when no getter reads it as text (an array, an object).
fn never_text(v: &Value) -> Option<&'static str> {
    matches!(v, Value::Array(_) | Value::Object(_)).then(|| json_type_name(v))
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads typed values out of a [`DriverInfo`] while collecting every problem, then
/// reports them all in one error from [`Validator::finish`].
///
/// Absent optional values fall back to the schema's default. A secret's value never
/// appears in an error.
///
/// **Unknown keys.** A key in one of the validator's namespaces (by default the
/// prefixes of the schema's names up to their first `_`: `iboot_`, `ipmi_`, …;
/// see [`namespaces_of`] and [`Validator::with_namespaces`]) that is not in the
/// schema, was not read through the validator and is not one of Ironic's
/// [`GENERIC_KEYS`] is reported by [`Validator::finish`] as invalid, with the
/// closest known key as a "did you mean" ([`did_you_mean`]): a typo such as
/// `iboot_relayid` must not drive relay 1. Keys outside the namespaces (another
/// driver's, Ironic's generic ones) are left alone.
///
/// ```
/// use hwctl_core::{DriverInfo, ErrorKind, Property};
/// const SCHEMA: &[Property] = &[
///     Property::required("iboot_address", "Address."),
///     Property::required("iboot_username", "User."),
///     Property::optional("iboot_port", "Port.").default_value("9100"),
///     Property::optional("iboot_relay_id", "Relay.").default_value("1"),
/// ];
/// let info = DriverInfo::from_pairs([("iboot_port", "99999"), ("iboot_relay_id", "x")]);
/// let mut v = info.validator(SCHEMA);
/// let _port = v.port("iboot_port");
/// let _relay: Option<u8> = v.parse("iboot_relay_id");
/// let err = v.finish().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingParameter);
/// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
/// assert_eq!(names, ["iboot_address", "iboot_username", "iboot_port", "iboot_relay_id"]);
/// ```
#[derive(Debug)]
pub struct Validator<'a> {
    info: &'a DriverInfo,
    schema: &'a [Property],
    /// Derived from the schema when first needed (a node whose keys are all known
    /// never needs them), unless set by [`Validator::with_namespaces`].
    namespaces: std::sync::OnceLock<Vec<String>>,
    read: Vec<String>,
    problems: Vec<ParameterProblem>,
}

impl<'a> Validator<'a> {
    fn property(&self, name: &str) -> Option<&'a Property> {
        self.schema.iter().find(|p| p.name == name)
    }

    fn is_secret(&self, name: &str) -> bool {
        self.property(name).is_some_and(|p| p.secret)
    }

    /// The text of `name` (trimmed, unless the property is secret), or its schema
    /// default; `None` if neither (already recorded as missing when required).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::optional("ipmi_bridging", ".").default_value("no")];
    /// let info = DriverInfo::from_pairs([("ipmi_address", "  10.0.0.5 ")]);
    /// let mut v = info.validator(P);
    /// assert_eq!(v.str("ipmi_address").as_deref(), Some("10.0.0.5")); // trimmed
    /// assert_eq!(v.str("ipmi_bridging").as_deref(), Some("no"));      // the default
    /// assert_eq!(v.str("ipmi_username"), None);
    /// assert!(v.finish().is_ok());
    /// ```
    pub fn str(&mut self, name: &str) -> Option<String> {
        // Secrets are taken as they are: a password may begin or end with a space.
        let trim = !self.is_secret(name);
        self.text(name, trim)
    }

    /// The text of `name` as given, not trimmed (a user name whose spaces may be
    /// part of it), or its schema default; otherwise as [`Validator::str`]: an
    /// array or an object is refused (`must be a string, not an array`), a value
    /// of spaces only reads as absent.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::required("iboot_username", ".")];
    /// let info = DriverInfo::from_json(serde_json::json!({"iboot_username": " admin "}))?;
    /// let mut v = info.validator(P);
    /// assert_eq!(v.verbatim("iboot_username").as_deref(), Some(" admin "));
    /// let info = DriverInfo::from_json(serde_json::json!({"iboot_username": ["admin"]}))?;
    /// let mut v = info.validator(P);
    /// assert_eq!(v.verbatim("iboot_username"), None);
    /// assert_eq!(v.finish().unwrap_err().to_string(),
    ///     "invalid parameters: iboot_username: must be a string, not an array");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn verbatim(&mut self, name: &str) -> Option<String> {
        self.text(name, false)
    }

    fn text(&mut self, name: &str, trim: bool) -> Option<String> {
        self.known(name);
        if self.is_secret(name) && self.info.is_ironic_mask(name) {
            // Recorded when the validator was made; never used as a password.
            return None;
        }
        match self.info.get(name) {
            Some(Value::Null) | None => {}
            Some(value) => {
                if let Some(what) = never_text(value) {
                    // A required key's was recorded when the validator was made.
                    self.invalid_once(name, format!("must be a string, not {what}"));
                    return None;
                }
                if let Some(s) = self.info.get_str(name)
                    && !s.trim().is_empty()
                {
                    return Some(if trim {
                        s.trim().to_owned()
                    } else {
                        s.into_owned()
                    });
                }
            }
        }
        self.property(name)
            .and_then(|p| p.default)
            .map(str::to_owned)
    }

    /// `false`, recording `must be a string, not a number` (or `a boolean`), when
    /// `name` holds a JSON number or boolean; `true` otherwise (a string, or
    /// absent). An address or URL is text, and a number read as one is a
    /// shorthand IPv4 address (`42` is `0.0.0.42`, `3.5` is `3.0.0.5`) that a
    /// typo in an inventory must not send credentials to. [`Validator::host`] and
    /// [`Validator::url`] check this themselves; a driver that reads an address
    /// another way calls it first. A key is reported once, however often checked.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_json(serde_json::json!({
    ///     "libvirt_uri": 42, "ipmi_port": 623, "redfish_address": "https://bmc"}))?;
    /// let mut v = info.validator(&[]);
    /// assert!(!v.require_string("libvirt_uri"));
    /// assert!(!v.require_string("libvirt_uri"));
    /// assert!(v.require_string("redfish_address") && v.require_string("absent"));
    /// assert_eq!(v.port("ipmi_port"), Some(623)); // a number where one is meant
    /// assert_eq!(v.finish().unwrap_err().to_string(),
    ///     "invalid parameters: libvirt_uri: must be a string, not a number");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn require_string(&mut self, name: &str) -> bool {
        match self.info.get(name) {
            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                self.known(name);
                self.invalid_once(name, format!("must be a string, not {}", json_type_name(v)));
                false
            }
            _ => true,
        }
    }

    /// Records `reason` for `name` unless `name` already has a problem: one
    /// problem a key.
    fn invalid_once(&mut self, name: &str, reason: String) {
        if !self.problems.iter().any(|p| p.name == name) {
            self.invalid(name, reason);
        }
    }

    /// The value of a secret parameter, wrapped so it cannot be printed by accident.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ExposeSecret, Property};
    /// const P: &[Property] = &[Property::required("amt_password", "Password.").secret()];
    /// let info = DriverInfo::from_pairs([("amt_password", "s3cret")]);
    /// let mut v = info.validator(P);
    /// let pw = v.secret("amt_password").unwrap();
    /// assert_eq!(pw.expose_secret(), "s3cret");
    /// assert!(!format!("{pw:?}").contains("s3cret"));
    /// ```
    pub fn secret(&mut self, name: &str) -> Option<SecretString> {
        self.str(name).map(SecretString::from)
    }

    /// Parses `name` with `parse`; on failure records `"<value>" <reason>` (or just the
    /// reason for a secret).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::optional("x_cipher", "."), Property::optional("x_key", ".").secret()];
    /// let info = DriverInfo::from_pairs([("x_cipher", "18"), ("x_key", "zz")]);
    /// let mut v = info.validator(P);
    /// let even = |s: &str| s.parse::<u8>().ok().filter(|n| n % 2 == 0).ok_or_else(|| "is not even".to_owned());
    /// assert_eq!(v.custom("x_cipher", even), Some(18));
    /// let hex = |s: &str| u8::from_str_radix(s, 16).map_err(|_| "is not hex".to_owned());
    /// assert_eq!(v.custom("x_key", hex), None);
    /// // The secret's value is not echoed; a plain value would be.
    /// assert_eq!(v.finish().unwrap_err().to_string(), "invalid parameters: x_key: is not hex");
    /// ```
    pub fn custom<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Option<T> {
        let raw = self.str(name)?;
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                let reason = if self.is_secret(name) {
                    reason
                } else {
                    format!("{raw:?} {reason}")
                };
                self.invalid(name, reason);
                None
            }
        }
    }

    /// Parses `name` with [`FromStr`]; the error names the expected type.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// let info = hwctl_core::DriverInfo::from_pairs([("a", "10.0.0.5"), ("b", "ten")]);
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.parse::<Ipv4Addr>("a"), Some(Ipv4Addr::new(10, 0, 0, 5)));
    /// assert_eq!(v.parse::<u8>("b"), None);
    /// assert_eq!(v.finish().unwrap_err().to_string(), "invalid parameters: b: \"ten\" is not a valid u8");
    /// ```
    pub fn parse<T: FromStr>(&mut self, name: &str) -> Option<T> {
        let type_name = std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("value");
        self.custom(name, |s| {
            s.parse::<T>()
                .map_err(|_| format!("is not a valid {type_name}"))
        })
    }

    /// An integer in `min..=max`.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("msftocs_blade_id", "49")]);
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.int_in_range("msftocs_blade_id", 1, 48), None);
    /// assert_eq!(v.finish().unwrap_err().to_string(),
    ///   "invalid parameters: msftocs_blade_id: \"49\" is out of range (1 to 48)");
    /// ```
    pub fn int_in_range(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        self.custom(name, |s| {
            let n: i64 = s.parse().map_err(|_| "is not a valid integer".to_owned())?;
            if (min..=max).contains(&n) {
                Ok(n)
            } else {
                Err(format!("is out of range ({min} to {max})"))
            }
        })
    }

    /// A TCP/UDP port, 1 to 65535.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_json(serde_json::json!({"a": 623, "b": "0"}))?;
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.port("a"), Some(623));
    /// assert_eq!(v.port("b"), None);
    /// assert_eq!(v.finish().unwrap_err().to_string(), "invalid parameters: b: \"0\" is out of range (1 to 65535)");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn port(&mut self, name: &str) -> Option<u16> {
        self.int_in_range(name, 1, 65535)
            .and_then(|n| u16::try_from(n).ok())
    }

    /// A boolean: `true/false`, `yes/no`, `on/off`, `1/0`, case-insensitively.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_json(serde_json::json!({"a": "Yes", "b": false, "c": "maybe"}))?;
    /// let mut v = info.validator(&[]);
    /// assert_eq!((v.bool("a"), v.bool("b"), v.bool("c")), (Some(true), Some(false), None));
    /// assert_eq!(v.finish().unwrap_err().problems()[0].name, "c");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn bool(&mut self, name: &str) -> Option<bool> {
        self.custom(name, |s| match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err("is not a boolean (true or false)".to_owned()),
        })
    }

    /// A host, as [`crate::address::Host`] parses it: IPv4, IPv6 with or without
    /// brackets and zone (`fe80::1%eth0`), or a host name as resolvers take it
    /// (`bmc_17.lab`). Whether the name resolves is checked when connecting, not
    /// here. Returns the value trimmed; drivers connect through
    /// [`crate::address::Host`] so that what validates connects. The value must be
    /// a JSON string: a number or boolean is refused (`must be a string, not a
    /// number`), never read as a shorthand address.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// let info = hwctl_core::DriverInfo::from_pairs([("a", " [fe80::1%eth0] "), ("b", "bmc$1")]);
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.host("a").as_deref(), Some("[fe80::1%eth0]")); // trimmed, else as given
    /// assert_eq!(v.host("b"), None);
    /// let err = v.finish().unwrap_err();
    /// assert_eq!((err.kind(), err.problems()[0].name.as_str()), (ErrorKind::InvalidParameter, "b"));
    ///
    /// let info = hwctl_core::DriverInfo::from_json(serde_json::json!({"ipmi_address": 42}))?;
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.host("ipmi_address"), None);
    /// assert_eq!(v.finish().unwrap_err().to_string(),
    ///     "invalid parameters: ipmi_address: must be a string, not a number");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn host(&mut self, name: &str) -> Option<String> {
        if !self.require_string(name) {
            return None;
        }
        self.custom(name, |s| {
            crate::address::Host::parse(s)
                .map(|_| s.trim().to_owned())
                .map_err(|why| {
                    if why.starts_with("is ") || why.starts_with("has ") {
                        why
                    } else {
                        format!("is not an IP address or host name: {why}")
                    }
                })
        })
    }

    /// One of `choices` (case-insensitive); returns the choice as listed.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("a", "LANPLUS"), ("b", "serial")]);
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.one_of("a", &["lan", "lanplus"]), Some("lanplus")); // as listed
    /// assert_eq!(v.one_of("b", &["lan", "lanplus"]), None);
    /// assert_eq!(v.finish().unwrap_err().to_string(),
    ///     "invalid parameters: b: \"serial\" is not one of lan, lanplus");
    /// ```
    pub fn one_of(&mut self, name: &str, choices: &[&'static str]) -> Option<&'static str> {
        self.custom(name, |s| {
            choices
                .iter()
                .copied()
                .find(|c| c.eq_ignore_ascii_case(s))
                .ok_or_else(|| format!("is not one of {}", choices.join(", ")))
        })
    }

    /// A duration in seconds (an integer or a decimal, `2` or `0.5`) within
    /// `min..=max` seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let info = hwctl_core::DriverInfo::from_pairs([("t", "1.5"), ("u", "-1")]);
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.seconds("t", 0.0, 60.0), Some(Duration::from_millis(1500)));
    /// assert_eq!(v.seconds("u", 0.0, 60.0), None);
    /// assert!(v.finish().unwrap_err().to_string().contains("u: \"-1\" is out of range (0 to 60 seconds)"));
    /// ```
    pub fn seconds(&mut self, name: &str, min: f64, max: f64) -> Option<Duration> {
        self.custom(name, |s| {
            let n: f64 = s
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| "is not a number of seconds".to_owned())?;
            if (min..=max).contains(&n) {
                Duration::try_from_secs_f64(n).map_err(|e| e.to_string())
            } else {
                Err(format!("is out of range ({min} to {max} seconds)"))
            }
        })
    }

    /// A URL with one of `schemes` (`["http", "https"]`); a value without a scheme
    /// gets `default_scheme` (`10.0.0.5:8000` → `https://10.0.0.5:8000/`). The
    /// reason for a bad URL never echoes a user name or password written in it.
    /// The value must be a JSON string: a number or boolean is refused (`42` would
    /// otherwise be `https://0.0.0.42/`).
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_json(serde_json::json!({
    ///     "a": "10.0.0.5:8000", "b": "ftp://x", "c": 3.5, "d": true}))?;
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.url("a", "https", &["http", "https"]).unwrap().as_str(), "https://10.0.0.5:8000/");
    /// assert!(v.url("b", "https", &["http", "https"]).is_none());
    /// assert!(v.url("c", "https", &["http", "https"]).is_none());
    /// assert!(v.url("d", "https", &["http", "https"]).is_none());
    /// let reasons: Vec<_> = v.finish().unwrap_err().problems().iter()
    ///     .map(|p| p.reason.clone().unwrap_or_default()).collect();
    /// assert_eq!(reasons[1..], ["must be a string, not a number", "must be a string, not a boolean"]);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn url(&mut self, name: &str, default_scheme: &str, schemes: &[&str]) -> Option<Url> {
        if !self.require_string(name) {
            return None;
        }
        let raw = self.str(name)?;
        let with_scheme = if raw.contains("://") {
            raw.clone()
        } else {
            format!("{default_scheme}://{raw}")
        };
        let shown = || {
            // Never echo credentials written into a URL.
            match raw.split_once('@') {
                Some((_, rest)) if raw.contains("://") || !rest.contains('/') => {
                    format!("\"…@{rest}\"")
                }
                _ => format!("{raw:?}"),
            }
        };
        let reason = match Url::parse(&with_scheme) {
            Ok(u) if !schemes.contains(&u.scheme()) => format!(
                "has scheme {:?}; expected {}",
                u.scheme(),
                schemes.join(" or ")
            ),
            Ok(u) if u.host_str().is_none_or(str::is_empty) => "has no host".to_owned(),
            Ok(u) => match shorthand_ipv4(&with_scheme, &u) {
                Some(written) => format!(
                    "has host {written:?}, which is not a valid IPv4 address (four numbers \
                     0–255 separated by dots; it would be read as {})",
                    u.host_str().unwrap_or_default()
                ),
                None => return Some(u),
            },
            Err(e) => format!("is not a valid URL ({e})"),
        };
        let secret = self.is_secret(name);
        let reason = if secret {
            reason
        } else {
            format!("{} {reason}", shown())
        };
        self.invalid(name, reason);
        None
    }

    /// A path to an existing regular file (a CA bundle, a key file).
    ///
    /// ```
    /// let dir = std::env::temp_dir();
    /// let ca = dir.join(format!("hw-doc-ca-{}.pem", std::process::id()));
    /// std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n")?;
    /// let info = hwctl_core::DriverInfo::from_pairs([
    ///     ("a", ca.to_str().unwrap()), ("b", dir.to_str().unwrap()),
    /// ]);
    /// let mut v = info.validator(&[]);
    /// assert_eq!(v.file("a"), Some(ca.clone()));
    /// assert_eq!(v.file("b"), None); // a directory
    /// assert!(v.finish().unwrap_err().to_string().ends_with("\" is not a file"));
    /// # std::fs::remove_file(&ca)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file(&mut self, name: &str) -> Option<PathBuf> {
        self.custom(name, |s| {
            let p = PathBuf::from(s);
            match std::fs::metadata(&p) {
                Ok(m) if m.is_file() => Ok(p),
                Ok(_) => Err("is not a file".to_owned()),
                Err(e) => Err(format!("cannot be read ({e})")),
            }
        })
    }

    /// The `driver_info` being read (for sub-configs that read several keys).
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("ipmi_address", "10.0.0.5")]);
    /// let v = info.validator(&[]);
    /// assert_eq!(v.info().get_str("ipmi_address").as_deref(), Some("10.0.0.5"));
    /// ```
    pub fn info(&self) -> &'a DriverInfo {
        self.info
    }

    /// Whether `name` is present (not null, not empty).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::optional("ipmi_port", ".").default_value("623")];
    /// let info = DriverInfo::from_pairs([("ipmi_username", "admin"), ("ipmi_password", "")]);
    /// let v = info.validator(P);
    /// assert!(v.is_set("ipmi_username"));
    /// assert!(!v.is_set("ipmi_password")); // empty
    /// assert!(!v.is_set("ipmi_port"));     // a default is not a value
    /// ```
    pub fn is_set(&self, name: &str) -> bool {
        self.info
            .get_str(name)
            .is_some_and(|s| !s.trim().is_empty())
    }

    /// Records that `name` is invalid for `reason` (which must not contain a secret).
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// let info = hwctl_core::DriverInfo::from_pairs([("ipmi_bridging", "dual"), ("ipmi_target_address", "0x20")]);
    /// let mut v = info.validator(&[]);
    /// if v.is_set("ipmi_target_address") && v.str("ipmi_bridging").as_deref() == Some("dual") {
    ///     v.invalid("ipmi_transit_address", "is required with dual bridging");
    /// }
    /// let err = v.finish().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert_eq!(err.to_string(), "invalid parameters: ipmi_transit_address: is required with dual bridging");
    /// ```
    pub fn invalid(&mut self, name: &str, reason: impl Into<String>) {
        self.problems.push(ParameterProblem {
            name: name.to_owned(),
            reason: Some(reason.into()),
        });
    }

    /// Records that `name` is missing (for requirements the schema cannot express,
    /// such as "one of these two"). A name that already has a problem is left as it
    /// is: a value that is present but refused (Ironic's secret mask `"******"`, a
    /// refused key, a malformed value) reads as absent to the driver, yet it is
    /// invalid, not missing, and every driver reports it with the same kind.
    ///
    /// ```
    /// use hwctl_core::ErrorKind;
    /// // "One of these two": the schema cannot say it.
    /// let info = hwctl_core::DriverInfo::new();
    /// let mut v = info.validator(&[]);
    /// if !v.is_set("ocs_address") && !v.is_set("ocs_url") {
    ///     v.missing("ocs_address");
    /// }
    /// let err = v.finish().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert_eq!(err.to_string(), "missing parameters: ocs_address");
    /// ```
    pub fn missing(&mut self, name: &str) {
        if !self.problems.iter().any(|p| p.name == name) {
            self.problems.push(ParameterProblem {
                name: name.to_owned(),
                reason: None,
            });
        }
    }

    /// Whether any problem has been found so far.
    ///
    /// ```
    /// let info = hwctl_core::DriverInfo::from_pairs([("ipmi_port", "x")]);
    /// let mut v = info.validator(&[]);
    /// assert!(!v.has_problems());
    /// let _ = v.port("ipmi_port");
    /// assert!(v.has_problems()); // e.g. skip further checks that need the port
    /// ```
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Replaces the namespaces derived from the schema: `finish` reports unknown
    /// keys that start with one of `prefixes` (compared case-insensitively; write
    /// them in lower case, with their trailing `_`). An empty list turns the
    /// unknown-key check off.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::optional("intel_nm_channel", "."), Property::optional("ipmi_address", ".")];
    /// let info = DriverInfo::from_pairs([("intel_foo", "1"), ("intel_nm_chanel", "6")]);
    /// let err = info.validator(P).with_namespaces(&["intel_nm_", "ipmi_"]).finish().unwrap_err();
    /// assert_eq!(err.problems().len(), 1);
    /// assert!(err.to_string().contains("intel_nm_chanel: is not a known key (did you mean intel_nm_channel?)"));
    /// ```
    pub fn with_namespaces(mut self, prefixes: &[&str]) -> Self {
        self.namespaces = std::sync::OnceLock::from(
            prefixes
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect::<Vec<_>>(),
        );
        self
    }

    /// The namespaces unknown keys are looked for in.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::required("ipmi_address", "."), Property::optional("sasl_username", ".")];
    /// let info = DriverInfo::new();
    /// assert_eq!(info.validator(P).namespaces(), ["ipmi_", "sasl_"]);
    /// assert_eq!(info.validator(P).with_namespaces(&["IPMI_"]).namespaces(), ["ipmi_"]);
    /// ```
    pub fn namespaces(&self) -> &[String] {
        self.namespaces.get_or_init(|| namespaces_of(self.schema))
    }

    /// Declares `name` known without reading it through the validator (a key the
    /// driver reads from [`Validator::info`] directly). Every getter of the
    /// validator does this for the key it reads.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::required("redfish_address", ".")];
    /// let info = DriverInfo::from_pairs([("redfish_address", "10.0.0.5"), ("redfish_extra", "1")]);
    /// let mut v = info.validator(P);
    /// // The driver reads `redfish_extra` from `v.info()` itself, so says it knows it.
    /// let _ = v.info().get("redfish_extra");
    /// v.known("redfish_extra");
    /// assert!(v.finish().is_ok());
    /// ```
    pub fn known(&mut self, name: &str) {
        // Schema keys are known already (`unknown_keys` checks the schema first, and
        // offers its names as suggestions): only other names are recorded.
        if !self.schema.iter().any(|p| p.name == name) && !self.read.iter().any(|r| r == name) {
            self.read.push(name.to_owned());
        }
    }

    /// The keys of the `driver_info` that are in the validator's namespaces but
    /// unknown (see [`Validator`]), each with its problem: `is not a known key`,
    /// with a "did you mean" when a known key is close, else the known keys of
    /// that namespace. Values are never shown.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::required("iboot_address", "."), Property::optional("iboot_port", ".")];
    /// let info = DriverInfo::from_pairs([
    ///     ("iboot_address", "10.0.0.5"), ("iboot_prot", "9100"),
    ///     ("ipmi_port", "623"), // another namespace: left alone
    /// ]);
    /// let unknown = info.validator(P).unknown_keys();
    /// assert_eq!(unknown.len(), 1);
    /// assert_eq!(unknown[0].name, "iboot_prot");
    /// assert_eq!(unknown[0].reason.as_deref(), Some("is not a known key (did you mean iboot_port?)"));
    /// ```
    pub fn unknown_keys(&self) -> Vec<ParameterProblem> {
        let mut out = Vec::new();
        for key in self.info.keys() {
            // Known keys first: they need no namespace (nor its derivation).
            let is_known = self.schema.iter().any(|p| p.name == key)
                || self.read.iter().any(|r| r == key)
                || GENERIC_KEYS.contains(&key);
            if is_known {
                continue;
            }
            let lower = key.to_ascii_lowercase();
            let Some(ns) = self
                .namespaces()
                .iter()
                .find(|ns| lower.starts_with(ns.as_str()))
            else {
                continue;
            };
            let candidates = self
                .schema
                .iter()
                .map(|p| p.name.as_ref())
                .chain(self.read.iter().map(String::as_str));
            let reason = match did_you_mean(key, candidates) {
                Some(k) => format!("is not a known key (did you mean {k}?)"),
                None => {
                    let mut same: Vec<&str> = self
                        .schema
                        .iter()
                        .map(|p| p.name.as_ref())
                        .filter(|n| n.to_ascii_lowercase().starts_with(ns.as_str()))
                        .collect();
                    same.dedup();
                    format!(
                        "is not a known key (known {ns}* keys: {})",
                        if same.is_empty() {
                            "none".to_owned()
                        } else {
                            same.join(", ")
                        }
                    )
                }
            };
            out.push(ParameterProblem {
                name: key.to_owned(),
                reason: Some(reason),
            });
        }
        out
    }

    /// `Ok` if nothing was missing, invalid or unknown; otherwise one error listing
    /// every problem, the unknown keys ([`Validator::unknown_keys`]) last.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, Property};
    /// const P: &[Property] = &[Property::required("iboot_address", "."),
    ///     Property::optional("iboot_relay_id", ".").default_value("1")];
    /// let info = DriverInfo::from_pairs([("iboot_address", "10.0.0.5"), ("iboot_relayid", "3"),
    ///     ("deploy_kernel", "http://images/k"), ("ipmi_address", "10.0.0.6")]);
    /// let mut v = info.validator(P);
    /// let _ = v.int_in_range("iboot_relay_id", 1, 32);
    /// assert_eq!(v.finish().unwrap_err().to_string(),
    ///     "invalid parameters: iboot_relayid: is not a known key (did you mean iboot_relay_id?)");
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`] when anything is missing, else
    /// [`ErrorKind::InvalidParameter`]; [`Error::problems`] lists each.
    pub fn finish(self) -> Result<()> {
        let unknown = self.unknown_keys();
        let mut problems = self.problems;
        problems.extend(unknown);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::from_problems(problems))
        }
    }
}

/// The host as written in `with_scheme` when `parsed` read it as an IPv4 address
/// that it does not spell as a dotted quad (the URL standard reads `42` as
/// `0.0.0.42` and `10.1` as `10.0.0.1`, forms [`crate::address::Host`] refuses).
fn shorthand_ipv4<'s>(with_scheme: &'s str, parsed: &Url) -> Option<&'s str> {
    if !matches!(parsed.host(), Some(url::Host::Ipv4(_))) {
        return None;
    }
    let after = with_scheme
        .split_once("://")
        .map_or(with_scheme, |(_, r)| r);
    let authority = after
        .split(['/', '?', '#', '\\'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let written = host_port.split(':').next().unwrap_or_default();
    written
        .parse::<std::net::Ipv4Addr>()
        .is_err()
        .then_some(written)
}

/// Whether `s` is an IP address (v4, or v6 with or without brackets and zone) or
/// a host name, as [`crate::address::Host::parse`] takes it.
///
/// ```
/// use hwctl_core::driver_info::is_valid_host;
/// assert!(is_valid_host("10.0.0.1") && is_valid_host("bmc-1.example.com") && is_valid_host("[::1]"));
/// assert!(is_valid_host("fe80::1%eth0") && is_valid_host("bmc_17.lab"));
/// assert!(!is_valid_host("bad$host") && !is_valid_host("") && !is_valid_host(".bad"));
/// ```
pub fn is_valid_host(s: &str) -> bool {
    crate::address::Host::parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &[Property] = &[
        Property::required("a_address", "Address."),
        Property::required("a_password", "Password.").secret(),
        Property::optional("a_port", "Port.").default_value("623"),
    ];

    #[test]
    fn a_masked_secret_a_driver_also_calls_missing_is_invalid_not_missing() {
        // Drivers whose secret is required only with a user name (redfish, openbmc)
        // see the mask as "no password" and call `missing`; the kind must stay the
        // one every other driver reports for the mask.
        let info =
            DriverInfo::from_json(json!({"a_address": "h", "a_password": "******"})).unwrap();
        let mut v = info.validator(SCHEMA);
        assert!(v.secret("a_password").is_none());
        v.missing("a_password");
        let err = v.finish().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        assert_eq!(err.problems().len(), 1);
        assert!(!err.problems()[0].is_missing());
        // A key that is really absent is still missing.
        let info = DriverInfo::from_json(json!({"a_address": "h"})).unwrap();
        let mut v = info.validator(SCHEMA);
        v.missing("a_password");
        let err = v.finish().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingParameter);
        assert_eq!(err.problems().len(), 1);
    }

    /// An unused key passes validation whatever its value, is known (never "did
    /// you mean"), and is logged once per process, not once per node.
    #[test]
    fn an_unused_key_passes_and_is_told_once_per_process() {
        const P: &[Property] = &[
            Property::required("t_address", "Address."),
            Property::optional("t_unused_port", "A proxy's port.").unused("no proxy here"),
        ];
        for value in [json!("8023"), json!(8023), json!("not a port")] {
            let info =
                DriverInfo::from_json(json!({"t_address": "h", "t_unused_port": value})).unwrap();
            assert!(info.validator(P).finish().is_ok());
        }
        // The loop above built three validators over the key: it was told by the
        // first only.
        assert!(!tell_unused_once("t_unused_port", "no proxy here"));
        assert!(tell_unused_once("t_unused_other", "no proxy here"));
        assert!(!tell_unused_once("t_unused_other", "no proxy here"));
        // Refused keys still fail.
        const R: &[Property] = &[Property::optional("t_ciphers", ".").refused("no")];
        let info = DriverInfo::from_pairs([("t_ciphers", "HIGH")]);
        assert!(info.validator(R).finish().is_err());
    }

    #[test]
    fn defaults_apply_when_absent() {
        let info = DriverInfo::from_json(json!({"a_address": "h", "a_password": "p"})).unwrap();
        let mut v = info.validator(SCHEMA);
        assert_eq!(v.port("a_port"), Some(623));
        assert!(v.finish().is_ok());
    }

    #[test]
    fn numbers_and_strings_are_equal() {
        let info = DriverInfo::from_json(json!({"a_port": 9100})).unwrap();
        let mut v = info.validator(&[]);
        assert_eq!(v.port("a_port"), Some(9100));
    }

    #[test]
    fn secret_values_are_never_echoed() {
        let info =
            DriverInfo::from_json(json!({"a_address": "h", "a_password": "hunter2"})).unwrap();
        let mut v = info.validator(SCHEMA);
        let _ = v.custom("a_password", |_| Err::<(), _>("is too long".to_owned()));
        let err = v.finish().unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        assert!(!format!("{err:?}").contains("hunter2"));
        assert!(!format!("{info:?}").contains("hunter2"));
        assert!(err.to_string().contains("a_password: is too long"));
    }

    #[test]
    fn secrets_are_not_trimmed_but_other_values_are() {
        let info =
            DriverInfo::from_json(json!({"a_address": " h ", "a_password": " p w "})).unwrap();
        let mut v = info.validator(SCHEMA);
        assert_eq!(v.str("a_address").as_deref(), Some("h"));
        use secrecy::ExposeSecret;
        assert_eq!(v.secret("a_password").unwrap().expose_secret(), " p w ");
    }

    #[test]
    fn empty_and_null_count_as_missing() {
        let info = DriverInfo::from_json(json!({"a_address": " ", "a_password": null})).unwrap();
        let err = info.validator(SCHEMA).finish().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingParameter);
        assert_eq!(err.problems().len(), 2);
    }

    #[test]
    fn non_object_is_rejected() {
        assert_eq!(
            DriverInfo::from_json(json!([1])).unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
    }

    #[test]
    fn arrays_are_invalid_not_missing() {
        let info = DriverInfo::from_json(json!({"a_port": [1]})).unwrap();
        let mut v = info.validator(SCHEMA);
        assert_eq!(v.port("a_port"), None);
        let err = v.finish().unwrap_err();
        assert!(
            err.to_string()
                .contains("a_port: must be a string, not an array")
        );
    }
}
