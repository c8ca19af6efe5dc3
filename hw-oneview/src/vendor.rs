//! `OneviewVendor`: allocation (Ironic's "borrow a server from OneView's pool") and
//! validation as vendor passthru; the same operations are typed methods of
//! [`OneviewServer`].

use std::sync::Arc;

use hwctl_core::vendor::find_method;
use hwctl_core::{HttpMethod, Result, Vendor, VendorMethod, async_trait};
use serde_json::{Value, json};

use crate::server::OneviewServer;

/// Vendor methods of one server hardware.
#[derive(Debug, Clone)]
pub struct OneviewVendor {
    server: Arc<OneviewServer>,
}

impl OneviewVendor {
    /// Vendor methods of `server`.
    pub fn new(server: Arc<OneviewServer>) -> Self {
        OneviewVendor { server }
    }
}

fn no_args() -> Option<Value> {
    Some(json!({"type": "object", "additionalProperties": false}))
}

/// The methods: `server_status` (GET), `validate_server` (GET), `allocate_server`
/// (POST), `deallocate_server` (POST, DELETE).
///
/// ```
/// let names: Vec<_> = hwctl_oneview::vendor::methods().into_iter().map(|m| m.name).collect();
/// assert_eq!(names, ["server_status", "validate_server", "allocate_server", "deallocate_server"]);
/// ```
pub fn methods() -> Vec<VendorMethod> {
    let m = |name: &str, verbs: Vec<HttpMethod>, description: &str| VendorMethod {
        name: name.into(),
        http_methods: verbs,
        is_async: false,
        description: description.into(),
        input_schema: no_args(),
    };
    vec![
        m(
            "server_status",
            vec![HttpMethod::Get],
            "Whether the server hardware is free, ours or in use, with its profile and power state.",
        ),
        m(
            "validate_server",
            vec![HttpMethod::Get],
            "Ironic's OneView checks: not in use, hardware type, enclosure group, template, port MAC.",
        ),
        m(
            "allocate_server",
            vec![HttpMethod::Post],
            "Apply a profile made from server_profile_template_uri; returns applied_server_profile_uri.",
        ),
        m(
            "deallocate_server",
            vec![HttpMethod::Post, HttpMethod::Delete],
            "Remove this node's profile from the server hardware.",
        ),
    ]
}

#[async_trait]
impl Vendor for OneviewVendor {
    fn methods(&self) -> Vec<VendorMethod> {
        methods()
    }

    async fn call(&self, method: &str, http_method: HttpMethod, _args: Value) -> Result<Value> {
        let all = methods();
        let m = find_method(&all, method, http_method)?;
        match m.name.as_str() {
            "server_status" => self.server.status().await,
            "validate_server" => self.server.validate().await,
            "allocate_server" => {
                let uri = self.server.allocate().await?;
                Ok(json!({"applied_server_profile_uri": uri}))
            }
            _ => {
                let removed = self.server.deallocate().await?;
                Ok(json!({"removed_server_profile_uri": removed}))
            }
        }
    }
}
