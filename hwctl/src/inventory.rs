//! Ironic-style node descriptions: `{"driver": …, "driver_info": {…}, "ports": […]}`,
//! and Ironic's own node exports (`openstack baremetal node show -f json`, or the
//! API's `GET /v1/nodes/{node}`) as they are:
//!
//! - `name` may be `null` (Ironic's default): the node is then called by its `uuid`;
//! - `properties.capabilities` is Ironic's `"boot_mode:uefi,secure_boot:true"`
//!   string (or an object); it becomes the node's capabilities, so `boot_mode`
//!   reaches the drivers and boot interfaces. A top-level `capabilities` (hwctl's
//!   own shorthand, string or object) is applied on top;
//! - `ports` as the API returns them (links to the port resources) are skipped:
//!   give the MACs with `--port` or as `{"address": …}` objects;
//! - every other field (`uuid`, `provision_state`, `instance_info`, …) is ignored.
//!
//! Masked secrets (`"******"` where the API hid a password) are refused by the
//! driver's validation, which says to supply the secret another way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One node as Ironic describes it, used by `--info-file`, `--inventory` and the
/// simulators' demo fleets.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(try_from = "raw::RawNode")]
pub(crate) struct InventoryNode {
    /// A name for tables and errors: the node's `name`, else its `uuid`, else
    /// (filled in by the reader) the position in the inventory.
    pub name: String,
    /// The hardware type (`msftocs`, `staging-iboot`, …).
    pub driver: String,
    /// The node's `driver_info`.
    pub driver_info: Map<String, Value>,
    /// Port MACs, as strings or as `{"address": "…"}` objects (Ironic's port resources).
    pub ports: Vec<String>,
    /// Node `properties/capabilities` (e.g. `boot_mode`), then the top-level
    /// `capabilities` on top.
    pub capabilities: BTreeMap<String, String>,
}

mod raw {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::{Map, Value};

    use super::InventoryNode;

    /// The node as written; [`InventoryNode`] is made from it.
    #[derive(Deserialize)]
    pub(super) struct RawNode {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        uuid: Option<String>,
        #[serde(default)]
        driver: Option<String>,
        #[serde(default)]
        driver_info: Option<Map<String, Value>>,
        #[serde(default)]
        ports: Option<Vec<Value>>,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
        #[serde(default)]
        capabilities: Option<Value>,
    }

    impl TryFrom<RawNode> for InventoryNode {
        type Error = String;

        fn try_from(raw: RawNode) -> Result<Self, String> {
            let mut capabilities = BTreeMap::new();
            if let Some(props) = &raw.properties
                && let Some(caps) = props.get("capabilities")
            {
                parse_capabilities(caps, &mut capabilities)
                    .map_err(|e| format!("properties.capabilities: {e}"))?;
            }
            if let Some(caps) = &raw.capabilities {
                parse_capabilities(caps, &mut capabilities)
                    .map_err(|e| format!("capabilities: {e}"))?;
            }
            let name = raw
                .name
                .filter(|n| !n.trim().is_empty())
                .or(raw.uuid.filter(|u| !u.trim().is_empty()))
                .unwrap_or_default();
            Ok(InventoryNode {
                name,
                driver: raw.driver.unwrap_or_default(),
                driver_info: raw.driver_info.unwrap_or_default(),
                ports: ports(raw.ports.unwrap_or_default())?,
                capabilities,
            })
        }
    }

    /// Ironic's `capabilities_to_dict`: `"k1:v1,k2:v2"` (each entry exactly one
    /// `:`; spaces around keys and values trimmed), or an object of scalars.
    /// Values are never quoted back in errors (they are not secrets, but a
    /// mistyped file may hold anything).
    pub(super) fn parse_capabilities(
        value: &Value,
        out: &mut BTreeMap<String, String>,
    ) -> Result<(), String> {
        match value {
            Value::Null => Ok(()),
            Value::String(s) => {
                for (i, entry) in s.split(',').enumerate() {
                    if entry.trim().is_empty() {
                        continue;
                    }
                    let mut parts = entry.split(':');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some(k), Some(v), None) if !k.trim().is_empty() => {
                            out.insert(k.trim().to_owned(), v.trim().to_owned());
                        }
                        _ => {
                            return Err(format!(
                                "entry {} is not KEY:VALUE (Ironic's form is \"boot_mode:uefi,secure_boot:true\")",
                                i + 1
                            ));
                        }
                    }
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Null => continue,
                        _ => return Err(format!("{k:?} must be a string, number or boolean")),
                    };
                    out.insert(k.clone(), text);
                }
                Ok(())
            }
            _ => Err("must be a \"KEY:VALUE,…\" string or an object".to_owned()),
        }
    }

    fn ports(values: Vec<Value>) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for v in values {
            match v {
                Value::String(s) => out.push(s),
                Value::Object(mut o) => match o.remove("address") {
                    Some(Value::String(s)) => out.push(s),
                    // The API's node resource lists its ports as links
                    // ({"href": …, "rel": "self"}), not as MACs.
                    None if o.contains_key("href") => {}
                    _ => return Err("a port object needs an \"address\" string".to_owned()),
                },
                _ => return Err("a port is a MAC string or {\"address\": MAC}".to_owned()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn node(json: &str) -> Result<InventoryNode, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_null_name_falls_back_to_the_uuid() {
        let n = node(
            r#"{"name": null, "uuid": "6d85703a-565d-469a-96ce-30b6de53079d", "driver": "ipmi"}"#,
        )
        .unwrap();
        assert_eq!(n.name, "6d85703a-565d-469a-96ce-30b6de53079d");
        let n = node(r#"{"name": "r1-n7", "uuid": "6d85", "driver": "ipmi"}"#).unwrap();
        assert_eq!(n.name, "r1-n7");
        assert_eq!(node(r#"{"name": null}"#).unwrap().name, "");
    }

    #[test]
    fn ironic_capabilities_string_and_object() {
        let n = node(
            r#"{"properties": {"capabilities": "boot_mode:uefi,secure_boot:true", "cpu_arch": "x86_64"},
                "capabilities": {"boot_option": "local"}}"#,
        )
        .unwrap();
        assert_eq!(n.capabilities["boot_mode"], "uefi");
        assert_eq!(n.capabilities["secure_boot"], "true");
        assert_eq!(n.capabilities["boot_option"], "local");
        let n =
            node(r#"{"properties": {"capabilities": {"boot_mode": "uefi", "secure_boot": true}}}"#)
                .unwrap();
        assert_eq!(n.capabilities["secure_boot"], "true");
        // The top level wins over properties.
        let n = node(r#"{"properties": {"capabilities": "boot_mode:bios"}, "capabilities": "boot_mode:uefi"}"#)
            .unwrap();
        assert_eq!(n.capabilities["boot_mode"], "uefi");
        let e = node(r#"{"properties": {"capabilities": "boot_mode=uefi"}}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("properties.capabilities: entry 1 is not KEY:VALUE"),
            "{e}"
        );
        assert!(node(r#"{"properties": {"capabilities": "a:b:c"}}"#).is_err());
        assert!(
            node(r#"{"properties": {"capabilities": ""}}"#)
                .unwrap()
                .capabilities
                .is_empty()
        );
    }

    #[test]
    fn api_port_links_are_skipped_and_macs_kept() {
        let n = node(
            r#"{"ports": [{"href": "http://127.0.0.1:6385/v1/nodes/x/ports", "rel": "self"},
                          {"address": "52:54:00:cf:2d:31"}, "52:54:00:cf:2d:32"]}"#,
        )
        .unwrap();
        assert_eq!(n.ports, ["52:54:00:cf:2d:31", "52:54:00:cf:2d:32"]);
        assert!(node(r#"{"ports": [{"rel": "self"}]}"#).is_err());
        assert!(node(r#"{"ports": [7]}"#).is_err());
    }
}
