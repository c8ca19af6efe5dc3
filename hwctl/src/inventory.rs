//! Ironic-style node descriptions: `{"driver": …, "driver_info": {…}, "ports": […]}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One node as Ironic describes it, used by `--info-file`, `--inventory` and the
/// simulators' demo fleets.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct InventoryNode {
    /// A name for tables and errors (defaults to the position in the inventory).
    #[serde(default)]
    pub name: String,
    /// The hardware type (`msftocs`, `staging-iboot`, …).
    #[serde(default)]
    pub driver: String,
    /// The node's `driver_info`.
    #[serde(default)]
    pub driver_info: Map<String, Value>,
    /// Port MACs, as strings or as `{"address": "…"}` objects (Ironic's port resources).
    #[serde(default, deserialize_with = "ports::deserialize")]
    pub ports: Vec<String>,
    /// Node `properties/capabilities` (e.g. `boot_mode`).
    #[serde(default)]
    pub capabilities: std::collections::BTreeMap<String, String>,
}

mod ports {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let values = Vec::<Value>::deserialize(d)?;
        values
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                Value::Object(mut o) => match o.remove("address") {
                    Some(Value::String(s)) => Ok(s),
                    _ => Err(serde::de::Error::custom(
                        "a port object needs an \"address\" string",
                    )),
                },
                _ => Err(serde::de::Error::custom(
                    "a port is a MAC string or {\"address\": MAC}",
                )),
            })
            .collect()
    }
}
