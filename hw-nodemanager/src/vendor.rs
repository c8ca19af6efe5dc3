//! The eleven Node Manager vendor passthru methods (Ironic's `IntelNMVendorPassthru`):
//! the method table, JSON input validation with Ironic's schemas and extra rules, and
//! [`NmVendor`], the [`hwctl_core::Vendor`] implementation.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use hwctl_core::vendor::find_method;
use hwctl_core::{Error, HttpMethod, Result, Vendor, VendorMethod, async_trait};

use crate::NAME;
use crate::client::NodeManager;
use crate::schema;
use crate::types::{
    BootMode, CapabilitiesQuery, ControlScope, CpuPowerCorrection, Day, Domain, GlobalStatistic,
    Policy, PolicyRef, PolicyStatistic, StatisticsQuery, StatisticsReset, Storage, SuspendPeriod,
    TargetLimit, Trigger,
};
use crate::wire::RESETTABLE;

/// One row of the method table.
///
/// ```
/// let spec = hwctl_nodemanager::vendor::METHODS.iter().find(|m| m.name == "get_nm_version").unwrap();
/// assert_eq!(spec.verb, hwctl_core::HttpMethod::Get);
/// assert!(!spec.is_async);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    /// Route name.
    pub name: &'static str,
    /// The one HTTP verb it accepts.
    pub verb: HttpMethod,
    /// Whether Ironic runs it asynchronously (no return value).
    pub is_async: bool,
    /// What it does.
    pub description: &'static str,
    /// Its input schema, if any.
    pub schema: Option<fn() -> &'static Value>,
}

/// The methods, verbs, sync/async flags and descriptions of PROTOCOLS.md §2.8 (the
/// descriptions are the first lines of Ironic's docstrings; Ironic's own passthru
/// metadata left them empty).
pub const METHODS: [MethodSpec; 11] = [
    MethodSpec {
        name: "get_nm_version",
        verb: HttpMethod::Get,
        is_async: false,
        description: "Get Intel Node Manager version.",
        schema: None,
    },
    MethodSpec {
        name: "get_nm_capabilities",
        verb: HttpMethod::Get,
        is_async: false,
        description: "Get Intel Node Manager capabilities.",
        schema: Some(schema::get_cap),
    },
    MethodSpec {
        name: "control_nm_policy",
        verb: HttpMethod::Put,
        is_async: true,
        description: "Enable or disable Intel Node Manager policy control.",
        schema: Some(schema::control),
    },
    MethodSpec {
        name: "set_nm_policy",
        verb: HttpMethod::Put,
        is_async: true,
        description: "Set Intel Node Manager policy.",
        schema: Some(schema::policy),
    },
    MethodSpec {
        name: "get_nm_policy",
        verb: HttpMethod::Get,
        is_async: false,
        description: "Get Intel Node Manager policy.",
        schema: Some(schema::main_ids),
    },
    MethodSpec {
        name: "remove_nm_policy",
        verb: HttpMethod::Delete,
        is_async: true,
        description: "Remove Intel Node Manager policy.",
        schema: Some(schema::main_ids),
    },
    MethodSpec {
        name: "set_nm_policy_suspend",
        verb: HttpMethod::Put,
        is_async: true,
        description: "Set Intel Node Manager policy suspend periods.",
        schema: Some(schema::suspend),
    },
    MethodSpec {
        name: "get_nm_policy_suspend",
        verb: HttpMethod::Get,
        is_async: false,
        description: "Get Intel Node Manager policy suspend periods.",
        schema: Some(schema::main_ids),
    },
    MethodSpec {
        name: "remove_nm_policy_suspend",
        verb: HttpMethod::Delete,
        is_async: true,
        description: "Remove Intel Node Manager policy suspend periods.",
        schema: Some(schema::main_ids),
    },
    MethodSpec {
        name: "get_nm_statistics",
        verb: HttpMethod::Get,
        is_async: false,
        description: "Get Intel Node Manager statistics.",
        schema: Some(schema::statistics),
    },
    MethodSpec {
        name: "reset_nm_statistics",
        verb: HttpMethod::Put,
        is_async: true,
        description: "Reset Intel Node Manager statistics.",
        schema: Some(schema::statistics),
    },
];

/// The vendor method descriptors.
///
/// ```
/// let m = hwctl_nodemanager::vendor::methods();
/// assert_eq!(m.len(), 11);
/// assert_eq!(m[0].name, "get_nm_version");
/// assert!(!m[0].is_async);
/// ```
pub fn methods() -> Vec<VendorMethod> {
    METHODS
        .iter()
        .map(|m| VendorMethod {
            name: m.name.to_owned(),
            http_methods: vec![m.verb],
            is_async: m.is_async,
            description: m.description.to_owned(),
            input_schema: m.schema.map(|s| s().clone()),
        })
        .collect()
}

/// One validated vendor call, typed.
///
/// ```
/// use hwctl_nodemanager::{Domain, NmCall, PolicyRef, vendor::parse_call};
/// let call = parse_call("get_nm_policy", &serde_json::json!({"domain_id": "cpu", "policy_id": 2}))?;
/// assert_eq!(call, NmCall::GetPolicy(PolicyRef::new(Domain::Cpu, 2)));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NmCall {
    /// `get_nm_version`
    GetVersion,
    /// `get_nm_capabilities`
    GetCapabilities(CapabilitiesQuery),
    /// `control_nm_policy`
    ControlPolicy {
        /// Enable or disable.
        enable: bool,
        /// Which policies.
        scope: ControlScope,
    },
    /// `set_nm_policy`
    SetPolicy(Policy),
    /// `get_nm_policy`
    GetPolicy(PolicyRef),
    /// `remove_nm_policy`
    RemovePolicy(PolicyRef),
    /// `set_nm_policy_suspend`
    SetPolicySuspend(PolicyRef, Vec<SuspendPeriod>),
    /// `get_nm_policy_suspend`
    GetPolicySuspend(PolicyRef),
    /// `remove_nm_policy_suspend`
    RemovePolicySuspend(PolicyRef),
    /// `get_nm_statistics`
    GetStatistics(StatisticsQuery),
    /// `reset_nm_statistics`
    ResetStatistics(StatisticsReset),
}

fn missing(name: &str) -> Error {
    Error::missing_parameters([name])
}

/// Integral floats (`1.0`, which `jsonschema` accepts as an integer) become integers.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f >= 0.0 && f <= u64::MAX as f64 => {
                Value::from(f as u64)
            }
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        _ => v.clone(),
    }
}

struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
    fn str(&self, k: &str) -> Result<&str> {
        self.0
            .get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| missing(k))
    }
    fn parse<T: std::str::FromStr<Err = Error>>(&self, k: &str) -> Result<T> {
        self.str(k)?.parse()
    }
    fn parse_or<T: std::str::FromStr<Err = Error>>(&self, k: &str, default: T) -> Result<T> {
        if self.has(k) {
            self.parse(k)
        } else {
            Ok(default)
        }
    }
    fn uint<T: TryFrom<u64>>(&self, k: &str) -> Result<T> {
        let v = self.0.get(k).ok_or_else(|| missing(k))?;
        v.as_u64().and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
            Error::invalid_parameter(k, format!("{} is out of range", schema::py_repr(v)))
        })
    }
    fn bool(&self, k: &str) -> Result<bool> {
        self.0
            .get(k)
            .and_then(Value::as_bool)
            .ok_or_else(|| missing(k))
    }
    fn policy_ref(&self) -> Result<PolicyRef> {
        Ok(PolicyRef::new(
            self.parse("domain_id")?,
            self.uint("policy_id")?,
        ))
    }
}

/// Validates `args` for `method` as Ironic does (its JSON schema, then its extra
/// rules) and turns them into a typed call.
///
/// Schema failures are `InvalidParameter` errors whose reason is Ironic's
/// `Input data validation error: <jsonschema message>`, naming the offending field;
/// a missing `domain_id`, `policy_id`, `correction_time`, `trigger_limit` or
/// `parameter_name` is a `MissingParameter` error naming it.
///
/// ```
/// use hwctl_nodemanager::vendor::{NmCall, parse_call};
/// use hwctl_nodemanager::{Domain, PolicyRef};
/// let call = parse_call("get_nm_policy", &serde_json::json!({"domain_id": "cpu", "policy_id": 3})).unwrap();
/// assert_eq!(call, NmCall::GetPolicy(PolicyRef::new(Domain::Cpu, 3)));
/// let err = parse_call("control_nm_policy", &serde_json::json!({"scope": "domain", "enable": true})).unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::MissingParameter);
/// assert_eq!(err.to_string(), "missing parameters: domain_id");
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) for an unknown method or args its schema or
/// Ironic's rules refuse; [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) naming a missing field.
pub fn parse_call(method: &str, args: &Value) -> Result<NmCall> {
    let spec = METHODS.iter().find(|m| m.name == method).ok_or_else(|| {
        hwctl_core::vendor::unknown_method(method, METHODS.iter().map(|m| m.name))
    })?;
    // Ironic's passthru passes keyword arguments: no body is an empty object.
    let empty = Value::Object(Map::new());
    let args = if args.is_null() { &empty } else { args };
    if let Some(s) = spec.schema {
        schema::validate(s(), args).map_err(|e| e.to_error())?;
    }
    let normalized = normalize(args);
    let map = match &normalized {
        Value::Object(m) => m.clone(),
        // Only get_nm_version has no schema; Ironic ignores its arguments.
        _ => Map::new(),
    };
    let a = Args(&map);
    Ok(match method {
        "get_nm_version" => NmCall::GetVersion,
        "get_nm_capabilities" => NmCall::GetCapabilities(CapabilitiesQuery {
            domain_id: a.parse("domain_id")?,
            policy_trigger: a.parse("policy_trigger")?,
            power_domain: a.parse("power_domain")?,
        }),
        "control_nm_policy" => {
            let enable = a.bool("enable")?;
            let scope = match a.str("scope")? {
                "global" => ControlScope::Global,
                "domain" => ControlScope::Domain(a.parse("domain_id")?),
                _ => {
                    let domain: Domain = a.parse("domain_id")?;
                    ControlScope::Policy(PolicyRef::new(domain, a.uint("policy_id")?))
                }
            };
            NmCall::ControlPolicy { enable, scope }
        }
        "set_nm_policy" => NmCall::SetPolicy(policy_from(&a)?),
        "get_nm_policy" => NmCall::GetPolicy(a.policy_ref()?),
        "remove_nm_policy" => NmCall::RemovePolicy(a.policy_ref()?),
        "get_nm_policy_suspend" => NmCall::GetPolicySuspend(a.policy_ref()?),
        "remove_nm_policy_suspend" => NmCall::RemovePolicySuspend(a.policy_ref()?),
        "set_nm_policy_suspend" => {
            let periods = map
                .get("periods")
                .and_then(Value::as_array)
                .ok_or_else(|| missing("periods"))?
                .iter()
                .map(|p| {
                    let obj = p.as_object().ok_or_else(|| missing("periods"))?;
                    let pa = Args(obj);
                    let days = obj
                        .get("days")
                        .and_then(Value::as_array)
                        .ok_or_else(|| missing("days"))?
                        .iter()
                        .map(|d| d.as_str().unwrap_or_default().parse::<Day>())
                        .collect::<Result<Vec<Day>>>()?;
                    Ok(SuspendPeriod {
                        start: pa.uint("start")?,
                        stop: pa.uint("stop")?,
                        days,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            NmCall::SetPolicySuspend(a.policy_ref()?, periods)
        }
        "get_nm_statistics" | "reset_nm_statistics" => statistics_from(method, &a)?,
        _ => {
            return Err(Error::invalid_parameter(
                "method",
                format!("no handler for method {method}"),
            ));
        }
    })
}

fn policy_from(a: &Args<'_>) -> Result<Policy> {
    let trigger: Trigger = a.parse("policy_trigger")?;
    let target_limit = match a.0.get("target_limit") {
        Some(Value::Object(o)) => {
            let t = Args(o);
            TargetLimit::Boot {
                boot_mode: t.parse::<BootMode>("boot_mode")?,
                cores_disabled: t.uint("cores_disabled")?,
            }
        }
        Some(_) if trigger == Trigger::Boot => {
            return Err(Error::invalid_parameter(
                "target_limit",
                "Invalid boot policy",
            ));
        }
        Some(_) => TargetLimit::Watts(a.uint("target_limit")?),
        None => return Err(missing("target_limit")),
    };
    let correction_time = if trigger == Trigger::Boot {
        0
    } else if a.has("correction_time") {
        a.uint("correction_time")?
    } else {
        // Ironic: 'Missing "correction_time" for no-boot policy'.
        return Err(missing("correction_time"));
    };
    let trigger_limit = match trigger {
        Trigger::None | Trigger::Boot => 0,
        // Ironic would fail with a KeyError here; say what is missing instead.
        _ if !a.has("trigger_limit") => return Err(missing("trigger_limit")),
        _ => a.uint("trigger_limit")?,
    };
    Ok(Policy {
        domain_id: a.parse("domain_id")?,
        enable: a.bool("enable")?,
        policy_id: a.uint("policy_id")?,
        policy_trigger: trigger,
        cpu_power_correction: a.parse_or("cpu_power_correction", CpuPowerCorrection::Auto)?,
        storage: a.parse_or("storage", Storage::Persistent)?,
        action: a.parse("action")?,
        power_domain: a.parse("power_domain")?,
        target_limit,
        correction_time,
        trigger_limit,
        reporting_period: a.uint("reporting_period")?,
    })
}

fn statistics_from(method: &str, a: &Args<'_>) -> Result<NmCall> {
    let scope = a.str("scope")?;
    let param = a.0.get("parameter_name").and_then(Value::as_str);
    let special = param.is_some_and(|p| RESETTABLE.contains(&p));
    if scope == "policy" && !a.has("policy_id") {
        return Err(missing("policy_id"));
    }
    if !special && !a.has("domain_id") {
        return Err(missing("domain_id"));
    }
    let domain = if a.has("domain_id") {
        a.parse("domain_id")?
    } else {
        Domain::Platform
    };
    if method == "reset_nm_statistics" {
        if let Some(p) = param {
            if !special {
                return Err(Error::invalid_parameter(
                    "parameter_name",
                    format!(
                        "Invalid parameter name for resetting statistic, individual reset is possible only for: {}",
                        RESETTABLE.join(", ")
                    ),
                ));
            }
            return Ok(NmCall::ResetStatistics(StatisticsReset::Parameter(
                p.parse()?,
            )));
        }
        return Ok(NmCall::ResetStatistics(if scope == "global" {
            StatisticsReset::Global { domain_id: domain }
        } else {
            StatisticsReset::Policy(PolicyRef::new(domain, a.uint("policy_id")?))
        }));
    }
    let Some(p) = param else {
        return Err(Error::missing_parameters(["parameter_name"]));
    };
    let invalid = || {
        Error::invalid_parameter(
            "parameter_name",
            format!("Invalid parameter name {p} for scope {scope}"),
        )
    };
    Ok(NmCall::GetStatistics(if scope == "global" {
        StatisticsQuery::Global {
            parameter: p.parse::<GlobalStatistic>().map_err(|_| invalid())?,
            domain_id: domain,
        }
    } else {
        StatisticsQuery::Policy {
            parameter: p.parse::<PolicyStatistic>().map_err(|_| invalid())?,
            policy: PolicyRef::new(domain, a.uint("policy_id")?),
        }
    }))
}

impl NodeManager {
    /// Runs a typed call; returns Ironic's JSON result (`null` for methods that
    /// return nothing).
    ///
    /// # Errors
    ///
    /// As the [`NodeManager`] method the call maps to.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{NmCall, NodeManager, sim::{MemoryTransport, NmSimulator}};
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c)));
    /// let v = nm.execute(&NmCall::GetVersion).await?;
    /// assert_eq!(v["nm"], "3.0");
    /// # Ok(()) }
    /// ```
    pub async fn execute(&self, call: &NmCall) -> Result<Value> {
        fn json<T: serde::Serialize>(v: T) -> Result<Value> {
            serde_json::to_value(v)
                .map_err(|e| Error::new(hwctl_core::ErrorKind::Other, e.to_string()))
        }
        match call {
            NmCall::GetVersion => json(self.version().await?),
            NmCall::GetCapabilities(q) => json(self.capabilities(q).await?),
            NmCall::ControlPolicy { enable, scope } => self
                .control_policy(*enable, *scope)
                .await
                .map(|()| Value::Null),
            NmCall::SetPolicy(p) => self.set_policy(p).await.map(|()| Value::Null),
            NmCall::GetPolicy(p) => json(self.get_policy(*p).await?),
            NmCall::RemovePolicy(p) => self.remove_policy(*p).await.map(|()| Value::Null),
            NmCall::SetPolicySuspend(p, periods) => self
                .set_policy_suspend(*p, periods)
                .await
                .map(|()| Value::Null),
            NmCall::GetPolicySuspend(p) => json(self.get_policy_suspend(*p).await?),
            NmCall::RemovePolicySuspend(p) => {
                self.remove_policy_suspend(*p).await.map(|()| Value::Null)
            }
            NmCall::GetStatistics(q) => json(self.statistics(q).await?),
            NmCall::ResetStatistics(r) => self.reset_statistics(r).await.map(|()| Value::Null),
        }
    }
}

/// Node Manager as a [`hwctl_core::Vendor`] interface: Ironic's eleven passthru methods.
///
/// ```
/// # #[cfg(feature = "sim")]
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::{HttpMethod, Vendor};
/// use hwctl_nodemanager::{NmVendor, NodeManager, sim::{MemoryTransport, NmSimulator}};
/// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 6, 0x2c)));
/// let vendor = NmVendor::new(Arc::new(nm));
/// let v = vendor.call("get_nm_version", HttpMethod::Get, serde_json::Value::Null).await?;
/// assert_eq!(v["nm"], "3.0");
/// let err = vendor.call("get_nm_policy", HttpMethod::Get, serde_json::json!({"domain_id": "gpu", "policy_id": 1}))
///     .await.unwrap_err();
/// assert!(err.to_string().contains("Input data validation error: 'gpu' is not one of"));
/// # Ok(()) }
/// # #[cfg(not(feature = "sim"))] fn main() {}
/// ```
#[derive(Clone)]
pub struct NmVendor {
    nm: Arc<NodeManager>,
}

impl fmt::Debug for NmVendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NmVendor").field("nm", &self.nm).finish()
    }
}

impl NmVendor {
    /// The vendor interface over `nm`.
    pub fn new(nm: Arc<NodeManager>) -> Self {
        NmVendor { nm }
    }

    /// The typed Node Manager underneath.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{NmVendor, NodeManager, sim::{MemoryTransport, NmSimulator}};
    /// let nm = Arc::new(NodeManager::new(Arc::new(MemoryTransport::new(NmSimulator::new(), 6, 0x2c))));
    /// assert!(Arc::ptr_eq(NmVendor::new(nm.clone()).node_manager(), &nm));
    /// ```
    pub fn node_manager(&self) -> &Arc<NodeManager> {
        &self.nm
    }
}

#[async_trait]
impl Vendor for NmVendor {
    fn methods(&self) -> Vec<VendorMethod> {
        methods()
    }

    async fn call(&self, method: &str, http_method: HttpMethod, args: Value) -> Result<Value> {
        let table = methods();
        find_method(&table, method, http_method).map_err(|e| e.or_driver(NAME))?;
        let call = parse_call(method, &args)
            .map_err(|e| e.or_driver(NAME).or_operation(format!("validate {method}")))?;
        tracing::debug!(method, ?call, "vendor call");
        self.nm.execute(&call).await
    }
}
