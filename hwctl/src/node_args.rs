//! Turning command-line arguments and info files into a driver name, a
//! `DriverInfo` and a `NodeContext`.

use std::path::Path;

use hw_core::{DriverInfo, Error, ErrorKind, MacAddress, NodeContext, Result};
use serde_json::Value;

use crate::cli::NodeArgs;
use crate::inventory::InventoryNode;

/// Reads an Ironic-style node JSON file.
pub(crate) fn read_node_file(path: &Path) -> Result<InventoryNode> {
    let text = read_file(path)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("{} is not an Ironic-style node JSON: {e}", path.display()),
        )
    })
}

/// Reads an inventory: a JSON array of nodes, or an object with a `nodes` array.
pub(crate) fn read_inventory(path: &Path) -> Result<Vec<InventoryNode>> {
    let text = read_file(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("{} is not JSON: {e}", path.display()),
        )
    })?;
    let list = match value {
        Value::Array(_) => value,
        Value::Object(mut o) => o.remove("nodes").ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "{}: an inventory object needs a \"nodes\" array",
                    path.display()
                ),
            )
        })?,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("{}: an inventory is an array of nodes", path.display()),
            ));
        }
    };
    let mut nodes: Vec<InventoryNode> = serde_json::from_value(list).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("{}: bad node entry: {e}", path.display()),
        )
    })?;
    for (i, n) in nodes.iter_mut().enumerate() {
        if n.name.is_empty() {
            n.name = format!("node-{i}");
        }
    }
    Ok(nodes)
}

fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("cannot read {}: {e}", path.display()),
        )
        .with_source(e)
    })
}

fn split_pair<'a>(flag: &str, pair: &'a str) -> Result<(&'a str, &'a str)> {
    pair.split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| (k.trim(), v))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidParameter,
                format!("{flag} takes KEY=VALUE, not {:?}", redact_pair(pair)),
            )
        })
}

/// A KEY=VALUE with the value hidden, for messages.
fn redact_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((k, _)) => format!("{k}=…"),
        None => pair.to_owned(),
    }
}

/// Builds the inventory entry a node command acts on: the info file first, then the
/// flags on top.
pub(crate) fn node_from_args(args: &NodeArgs) -> Result<InventoryNode> {
    let mut node = match &args.info_file {
        Some(path) => read_node_file(path)?,
        None => InventoryNode::default(),
    };
    if let Some(driver) = &args.driver {
        node.driver = driver.clone();
    }
    for pair in &args.info {
        let (k, v) = split_pair("--info", pair)?;
        node.driver_info
            .insert(k.to_owned(), Value::String(v.to_owned()));
    }
    node.ports.extend(args.ports.iter().cloned());
    for pair in &args.capabilities {
        let (k, v) = split_pair("--capability", pair)?;
        node.capabilities.insert(k.to_owned(), v.to_owned());
    }
    if node.name.is_empty() {
        node.name = args.node_id.clone();
    }
    if node.driver.is_empty() {
        return Err(Error::missing_parameters(["driver"]));
    }
    Ok(node)
}

/// The `DriverInfo` and `NodeContext` of an inventory entry. Bad port MACs are
/// reported together, as invalid `ports`.
pub(crate) fn context_of(node: &InventoryNode) -> Result<(DriverInfo, NodeContext)> {
    let info = DriverInfo::from_json(Value::Object(node.driver_info.clone()))?;
    let mut ctx = NodeContext::new(node.name.clone());
    let mut bad = Vec::new();
    for p in &node.ports {
        match p.parse::<MacAddress>() {
            Ok(mac) => ctx.ports.push(mac),
            Err(e) => bad.push(e.message().to_owned()),
        }
    }
    if !bad.is_empty() {
        return Err(Error::invalid_parameter("ports", bad.join("; ")));
    }
    ctx.capabilities = node.capabilities.clone();
    Ok((info, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.json");
        std::fs::write(
            &path,
            r#"{"driver":"fake-hardware","driver_info":{"a":"1","b":"2"},"ports":[{"address":"52:54:00:cf:2d:31"}]}"#,
        )
        .unwrap();
        let args = NodeArgs {
            info: vec!["b=3".into()],
            info_file: Some(path),
            ports: vec!["5254.00cf.2d32".into()],
            ..Default::default()
        };
        let node = node_from_args(&args).unwrap();
        assert_eq!(node.driver, "fake-hardware");
        assert_eq!(node.driver_info["a"], "1");
        assert_eq!(node.driver_info["b"], "3");
        let (_, ctx) = context_of(&node).unwrap();
        assert_eq!(ctx.ports.len(), 2);
    }

    #[test]
    fn bad_pairs_do_not_echo_values() {
        let args = NodeArgs {
            driver: Some("x".into()),
            info: vec!["=secret".into()],
            ..Default::default()
        };
        let err = node_from_args(&args).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn missing_driver_is_a_missing_parameter() {
        let err = node_from_args(&NodeArgs::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingParameter);
    }
}
