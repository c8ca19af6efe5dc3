//! The vendor interface: device-specific methods, as Ironic's vendor passthru.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// An HTTP verb a vendor method accepts (Ironic routes passthru calls by verb).
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
#[async_trait]
pub trait Vendor: Send + Sync + fmt::Debug {
    /// The methods this interface offers.
    fn methods(&self) -> Vec<VendorMethod>;

    /// Calls `method` with `args`; returns its JSON result (`null` for none).
    async fn call(&self, method: &str, http_method: HttpMethod, args: Value) -> Result<Value>;
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
    let m = methods.iter().find(|m| m.name == name).ok_or_else(|| {
        Error::invalid_parameter("method", format!("no handler for method {name}"))
    })?;
    if !m.http_methods.contains(&verb) {
        return Err(Error::invalid_parameter(
            "method",
            format!("the method {name} does not support HTTP {verb}"),
        ));
    }
    Ok(m)
}
