//! The vendor interface: device-specific methods, as Ironic's vendor passthru.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// An HTTP verb a vendor method accepts (Ironic routes passthru calls by verb).
///
/// ```
/// use hwctl_core::HttpMethod;
/// assert_eq!(serde_json::to_string(&HttpMethod::Patch)?, "\"PATCH\"");
/// assert_eq!(serde_json::from_str::<HttpMethod>("\"DELETE\"")?, HttpMethod::Delete);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The upper-case verb.
    ///
    /// ```
    /// use hwctl_core::HttpMethod;
    /// assert_eq!(HttpMethod::Post.as_str(), "POST");
    /// assert_eq!(HttpMethod::Get.to_string(), "GET");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HttpMethod {
    type Err = Error;

    /// Parses a verb, case-insensitively.
    ///
    /// ```
    /// assert_eq!("put".parse::<hwctl_core::HttpMethod>().unwrap(), hwctl_core::HttpMethod::Put);
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GET" => Ok(HttpMethod::Get),
            "POST" => Ok(HttpMethod::Post),
            "PUT" => Ok(HttpMethod::Put),
            "PATCH" => Ok(HttpMethod::Patch),
            "DELETE" => Ok(HttpMethod::Delete),
            _ => Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("unknown HTTP method {s:?}"),
            )),
        }
    }
}

/// Describes one vendor method (Ironic's passthru metadata).
///
/// ```
/// use hwctl_core::{HttpMethod, VendorMethod};
/// let m = VendorMethod {
///     name: "get_nm_version".into(),
///     http_methods: vec![HttpMethod::Get],
///     is_async: false,
///     description: "Reads the Node Manager version.".into(),
///     input_schema: None,
/// };
/// let shown = serde_json::to_value(&m)?;
/// assert_eq!(shown["http_methods"], serde_json::json!(["GET"]));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VendorMethod {
    /// The route name (`get_nm_version`).
    pub name: String,
    /// The verbs it accepts.
    pub http_methods: Vec<HttpMethod>,
    /// Whether Ironic runs it asynchronously (the caller gets no return value there).
    pub is_async: bool,
    /// What it does.
    pub description: String,
    /// The JSON schema its input is validated against, if any.
    pub input_schema: Option<Value>,
}

/// Device-specific methods, called by name with JSON arguments.
///
/// # Contract
///
/// - `methods` lists every method `call` accepts.
/// - `call` with an unknown name, or a verb the method does not accept, fails with
///   [`ErrorKind::InvalidParameter`] before touching the device (use [`find_method`]).
/// - Arguments that fail the method's input schema fail with `InvalidParameter`.
/// - The same operations are available as typed methods on the concrete type.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{HttpMethod, Result, Vendor, VendorMethod, vendor::find_method};
/// use serde_json::{Value, json};
/// #[derive(Debug)]
/// struct Clock;
/// #[hwctl_core::async_trait]
/// impl Vendor for Clock {
///     fn methods(&self) -> Vec<VendorMethod> {
///         vec![VendorMethod { name: "get_time".into(), http_methods: vec![HttpMethod::Get],
///             is_async: false, description: "Reads the BMC clock.".into(), input_schema: None }]
///     }
///     async fn call(&self, method: &str, verb: HttpMethod, _args: Value) -> Result<Value> {
///         find_method(&self.methods(), method, verb)?; // unknown name or verb: InvalidParameter
///         Ok(json!({"time": "2026-01-01T00:00:00Z"}))
///     }
/// }
/// assert_eq!(Clock.call("get_time", HttpMethod::Get, Value::Null).await?["time"], "2026-01-01T00:00:00Z");
/// assert!(Clock.call("get_time", HttpMethod::Post, Value::Null).await.is_err());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Vendor: Send + Sync + fmt::Debug {
    /// The methods this interface offers.
    ///
    /// ```
    /// use hwctl_core::{Vendor, fake::FakeVendor};
    /// let names: Vec<String> = FakeVendor::default().methods().into_iter().map(|m| m.name).collect();
    /// assert_eq!(names, ["echo"]);
    /// ```
    fn methods(&self) -> Vec<VendorMethod>;

    /// Calls `method` with `args`; returns its JSON result (`null` for none).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{ErrorKind, HttpMethod, Vendor, fake::FakeVendor};
    /// use serde_json::json;
    /// let vendor = FakeVendor::default();
    /// let out = vendor.call("echo", HttpMethod::Post, json!({"level": 3})).await?;
    /// assert_eq!(out, json!({"echo": {"level": 3}}));
    /// let err = vendor.call("echo", HttpMethod::Delete, json!({})).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
    async fn call(&self, method: &str, http_method: HttpMethod, args: Value) -> Result<Value>;
}

/// The error for a vendor method no handler has: Ironic's "no handler for method
/// NAME", then the closest known name as a "did you mean"
/// ([`did_you_mean`](crate::driver_info::did_you_mean)) and the known names, so a
/// typo is fixed without a second command.
///
/// ```
/// use hwctl_core::{ErrorKind, vendor::unknown_method};
/// let e = unknown_method("get_nm_versoin", ["get_nm_version", "get_nm_policy"]);
/// assert_eq!(e.kind(), ErrorKind::InvalidParameter);
/// assert_eq!(e.to_string(), "invalid parameters: method: no handler for method \
///     get_nm_versoin; did you mean get_nm_version? (methods: get_nm_version, get_nm_policy)");
/// assert_eq!(unknown_method("x", []).to_string(),
///     "invalid parameters: method: no handler for method x (this driver has no vendor methods)");
/// ```
pub fn unknown_method<'k>(name: &str, known: impl IntoIterator<Item = &'k str> + Clone) -> Error {
    let list: Vec<&str> = known.clone().into_iter().collect();
    let mut reason = format!("no handler for method {name}");
    if list.is_empty() {
        reason.push_str(" (this driver has no vendor methods)");
    } else {
        if let Some(close) = crate::driver_info::did_you_mean(name, known) {
            reason.push_str(&format!("; did you mean {close}?"));
        }
        reason.push_str(&format!(" (methods: {})", list.join(", ")));
    }
    Error::invalid_parameter("method", reason)
}

/// Finds `name` among `methods` and checks that it accepts `verb`, with Ironic's
/// error wording.
///
/// ```
/// use hwctl_core::{HttpMethod, VendorMethod, vendor::find_method};
/// let methods = vec![VendorMethod { name: "echo".into(), http_methods: vec![HttpMethod::Post],
///     is_async: false, description: "".into(), input_schema: None }];
/// assert!(find_method(&methods, "echo", HttpMethod::Post).is_ok());
/// assert_eq!(find_method(&methods, "echo", HttpMethod::Get).unwrap_err().to_string(),
///     "invalid parameters: method: the method echo does not support HTTP GET");
/// assert!(find_method(&methods, "nope", HttpMethod::Post).is_err());
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] naming `method` for an unknown method or verb.
pub fn find_method<'a>(
    methods: &'a [VendorMethod],
    name: &str,
    verb: HttpMethod,
) -> Result<&'a VendorMethod> {
    let m = methods
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| unknown_method(name, methods.iter().map(|m| m.name.as_str())))?;
    if !m.http_methods.contains(&verb) {
        return Err(Error::invalid_parameter(
            "method",
            format!("the method {name} does not support HTTP {verb}"),
        ));
    }
    Ok(m)
}
