//! Turning command-line arguments and info files into a driver name, a
//! `DriverInfo` and a `NodeContext`.

use std::path::Path;

use hwctl_core::{DriverInfo, Error, ErrorKind, MacAddress, NodeContext, Result};
use serde_json::Value;

use crate::cli::NodeArgs;

/// The node id when `--node-id` is not given and no port identifies the node
/// (`cli`), as errors name the node. With ports, the default is [`default_node_id`].
pub(crate) const DEFAULT_NODE_ID: &str = "cli";

/// The node id when `--node-id` is not given: [`DEFAULT_NODE_ID`] for a node without
/// ports, else `cli-` and its port MACs, sorted, lowercase and joined by `+`
/// (`cli-02:00:00:00:00:01+02:00:00:00:00:02`). The id keys a node's recorded state
/// (`--state-dir`: Wake-on-LAN keeps the last power state set under it), so two
/// machines named by their ports never share one record; types without ports key
/// their state by their address too (the store's endpoint), so `cli` merges nothing.
/// A port that is not a MAC is kept as written (lowercase); it is refused later.
pub(crate) fn default_node_id(ports: &[String]) -> String {
    if ports.is_empty() {
        return DEFAULT_NODE_ID.to_owned();
    }
    let mut macs: Vec<String> = ports
        .iter()
        .map(|p| match p.trim().parse::<MacAddress>() {
            Ok(mac) => mac.to_string().to_lowercase(),
            Err(_) => p.trim().to_lowercase(),
        })
        .collect();
    macs.sort_unstable();
    macs.dedup();
    format!("{DEFAULT_NODE_ID}-{}", macs.join("+"))
}
use crate::inventory::{Inventory, InventoryNode};
use crate::secrets;

/// Reads an Ironic-style node JSON file.
pub(crate) fn read_node_file(path: &Path) -> Result<InventoryNode> {
    let text = read_file(path)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "{} is not an Ironic-style node JSON: {}",
                path.display(),
                json_problem(&e)
            ),
        )
    })
}

/// Reads an inventory from `text`, read from `path` (which the messages name):
/// a JSON array of nodes, or an object with a `nodes` array.
///
/// The text is parsed once, straight into its entries ([`Inventory`]); only when
/// that fails is it parsed again, to tell a file that is not JSON at all from an
/// entry that is not a node, with the messages the reader has always given.
pub(crate) fn inventory_from_text(path: &Path, text: &str) -> Result<Vec<InventoryNode>> {
    let not_json = |e: &serde_json::Error| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("{} is not JSON: {}", path.display(), json_problem(e)),
        )
    };
    let parsed = Inventory::read(text).map_err(|e| {
        // A data error may come before a syntax error further on: the whole file
        // is judged as JSON first, as when it was parsed into a value tree.
        if let Err(syntax) = serde_json::from_str::<Value>(text) {
            return not_json(&syntax);
        }
        if !e.is_data() {
            return not_json(&e);
        }
        let problem = json_problem(&e);
        // Where in the file is told by the caller (`fleet::read_inventory`).
        let problem = match problem.rfind(" at line ") {
            Some(at) => &problem[..at],
            None => &problem,
        };
        Error::new(
            ErrorKind::InvalidParameter,
            format!("{}: bad node entry: {problem}", path.display()),
        )
    })?;
    let nodes = match parsed {
        Inventory::Nodes(nodes) => nodes,
        Inventory::NoNodesMember => {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "{}: an inventory object needs a \"nodes\" array",
                    path.display()
                ),
            ));
        }
        Inventory::NotAList => {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("{}: an inventory is an array of nodes", path.display()),
            ));
        }
    };
    // A sweep of nothing is almost always the wrong file (or a filter that matched
    // nothing): say so rather than succeed (docs/decisions.md, 90).
    if nodes.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "{}: the inventory has no nodes (expected an array of Ironic-style \
                 nodes, or {{\"nodes\": [...]}}, with at least one)",
                path.display()
            ),
        ));
    }
    // Entries without a name are named, and the entries' drivers and names
    // checked, by the caller (`fleet::read_inventory`), which knows the registry and
    // tells a given name from an automatic one.
    Ok(nodes)
}

/// The file's text. The I/O error is in the message only: as a source too, it was
/// printed twice ("… No such file or directory", then "caused by: No such file …").
pub(crate) fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

fn split_pair<'a>(flag: &str, pair: &'a str) -> Result<(&'a str, &'a str)> {
    pair.split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| (k.trim(), v))
        .ok_or_else(|| bad_pair(flag, pair))
}

/// The error for a `flag` argument that is not KEY=VALUE. It never shows the
/// argument beyond a key-looking prefix: `ipmi_password:S3cret` (a typo for `=`)
/// holds a secret.
pub(crate) fn bad_pair(flag: &str, pair: &str) -> Error {
    let shown = match pair.split_once('=') {
        Some((k, _)) if k.trim().is_empty() => "the key before '=' is empty".to_owned(),
        Some(_) => "the key is not valid".to_owned(),
        None => match key_prefix(pair) {
            Some(key) => format!("{key:?} is followed by no '=' (the rest is not shown)"),
            None => format!(
                "an argument of {} characters has no '=' (not shown: it may hold a secret)",
                pair.chars().count()
            ),
        },
    };
    Error::new(
        ErrorKind::InvalidParameter,
        format!("{flag} takes KEY=VALUE: {shown}"),
    )
}

/// The key-looking start of a malformed pair: letters, digits, `_`, `-`, `.` up to
/// the first other character (`:`, a space, …), at most 64 of them. `None` when
/// nothing ends it (`ipmi_passwordS3cret`: where the key ends is unknown, so
/// nothing is shown) or it is empty.
fn key_prefix(pair: &str) -> Option<&str> {
    let is_key = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let end = pair.find(|c: char| !is_key(c))?;
    (end > 0 && end <= 64).then(|| &pair[..end])
}

/// A serde_json error without the values it quotes (`invalid type: string "…",
/// expected a map`): an info file's secret must not come back in the message.
/// Only serde's `invalid type`/`invalid value` errors quote a value; hwctl's own
/// messages (`a port is a MAC string or {"address": MAC}`) quote none and are
/// kept whole.
pub(crate) fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if !(text.starts_with("invalid type: ") || text.starts_with("invalid value: ")) {
        return text;
    }
    // serde writes the value as it is (unescaped) from the first `"` to the
    // `", expected` that follows it, so a `"` inside a secret must not end the
    // redaction: everything from the first quote to the last `", expected` goes.
    match (text.find('"'), text.rfind("\", expected ")) {
        (Some(open), Some(close)) if close > open => {
            format!("{}\"…\"{}", &text[..open], &text[close + 1..])
        }
        (Some(open), _) => format!("{}\"…\"", &text[..open]),
        _ => text,
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
        node.driver_info.insert(k, Value::String(v.to_owned()));
    }
    node.ports.extend(args.ports.iter().cloned());
    for pair in &args.capabilities {
        let (k, v) = split_pair("--capability", pair)?;
        node.capabilities.insert(k.to_owned(), v.to_owned());
    }
    if node.name.is_empty() {
        node.name = if args.node_id == DEFAULT_NODE_ID {
            default_node_id(&node.ports)
        } else {
            args.node_id.clone()
        };
    }
    if node.driver.is_empty() {
        return Err(Error::missing_parameters(["driver"]));
    }
    // Secrets from --password-file, HW_<KEY> and the terminal (an unknown driver
    // is reported by the caller).
    if let Ok(hw) = crate::registry::registry().get(&node.driver) {
        let prompt: &dyn Fn(&str) -> Result<String> = &secrets::terminal_prompt;
        let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
        let src = secrets::Sources {
            password_file: args.password_file.as_deref(),
            ask: args.ask_password,
            flag_keys: args
                .info
                .iter()
                .filter_map(|p| p.split_once('=').map(|(k, _)| k.trim()))
                .collect(),
            shared_file: false,
            env: &secrets::process_env,
            prompt: interactive.then_some(prompt),
        };
        // Only a secret's value on the command line is warned about: an empty
        // value holds none, nor does an Ironic export's mask (`******`), which is
        // filled from the sources above like an absent key.
        let on_argv: Vec<&str> = args
            .info
            .iter()
            .filter_map(|p| p.split_once('='))
            .filter(|(_, v)| !v.is_empty() && *v != secrets::IRONIC_MASK)
            .map(|(k, _)| k.trim())
            .collect();
        let file_key = secrets::password_file_key(hw.properties());
        for p in hw.properties().iter().filter(|p| p.secret) {
            if on_argv.contains(&p.name.as_ref()) {
                tracing::warn!(
                    "{} given with --info is visible to every local user (ps, /proc/PID/cmdline) \
                     and kept in shell history; set {}{}",
                    p.name,
                    secrets::env_name(&p.name),
                    if file_key == Some(p.name.as_ref()) {
                        " or use --password-file"
                    } else {
                        ""
                    }
                );
            }
        }
        secrets::fill(&mut node, hw.properties(), &src)?;
    }
    Ok(node)
}

/// The `DriverInfo` (the entry's own, not a copy) and the `NodeContext` of an
/// inventory entry. Bad port MACs are reported together, as invalid `ports`; a
/// `boot_mode` capability that is no boot mode as invalid `capabilities`
/// ([`crate::inventory::check_capabilities`]).
pub(crate) fn context_of(node: &InventoryNode) -> Result<(&DriverInfo, NodeContext)> {
    let info = &node.driver_info;
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
    crate::inventory::check_capabilities(&node.capabilities)?;
    ctx.capabilities = node.capabilities.clone();
    Ok((info, ctx))
}

/// The node flags given on the command line (`--driver`, `--info`, …), for the
/// commands that refuse them: `fleet` (every node comes from the inventory) and the
/// commands that act on no node. `--password-file` is not among them:
/// `HW_PASSWORD_FILE` sets it from the environment for every command.
pub(crate) fn flags_given(args: &NodeArgs) -> Vec<&'static str> {
    let mut given = Vec::new();
    if args.driver.is_some() {
        given.push("--driver");
    }
    if !args.info.is_empty() {
        given.push("--info");
    }
    if args.info_file.is_some() {
        given.push("--info-file");
    }
    if !args.ports.is_empty() {
        given.push("--port");
    }
    if !args.capabilities.is_empty() {
        given.push("--capability");
    }
    if args.node_id != DEFAULT_NODE_ID {
        given.push("--node-id");
    }
    if args.ask_password {
        given.push("--ask-password");
    }
    given
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ports name the node by default: sorted, lowercase, repeated ones once; no
    /// ports keep `cli`.
    #[test]
    fn the_default_node_id_is_made_of_the_sorted_ports() {
        let ids = |ports: &[&str]| {
            default_node_id(&ports.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(ids(&[]), "cli");
        assert_eq!(
            ids(&["02:00:00:00:00:02", "02:00:00:00:00:01"]),
            "cli-02:00:00:00:00:01+02:00:00:00:00:02"
        );
        assert_eq!(
            ids(&["AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"]),
            "cli-aa:bb:cc:dd:ee:ff"
        );
        assert_ne!(ids(&["02:00:00:00:00:01"]), ids(&["02:00:00:00:00:02"]));
    }

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
        assert_eq!(node.driver_info.as_map()["a"], "1");
        assert_eq!(node.driver_info.as_map()["b"], "3");
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
    fn a_pair_without_equals_shows_at_most_a_key() {
        let err = |pair: &str| {
            let args = NodeArgs {
                driver: Some("x".into()),
                info: vec![pair.into()],
                ..Default::default()
            };
            node_from_args(&args).unwrap_err()
        };
        for pair in [
            "ipmi_password:S3cret",
            "ipmi_password S3cret",
            "ipmi_password\tS3cret",
            "ipmi_passwordS3cret",
            "S3cret",
            "=S3cret",
            " =S3cret",
        ] {
            let e = err(pair);
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{pair:?}");
            let text = format!("{e} {e:?} {:?}", e.problems());
            assert!(!text.contains("S3cret"), "{pair:?} echoed: {text}");
        }
        let text = err("ipmi_password:S3cret").to_string();
        assert!(
            text.contains("\"ipmi_password\" is followed by no '='"),
            "{text}"
        );
        let args = NodeArgs {
            driver: Some("x".into()),
            capabilities: vec!["boot_mode:S3cret".into()],
            ..Default::default()
        };
        let text = node_from_args(&args).unwrap_err().to_string();
        assert!(
            text.contains("--capability") && !text.contains("S3cret"),
            "{text}"
        );
    }

    #[test]
    fn json_errors_do_not_quote_values() {
        let e = serde_json::from_str::<InventoryNode>(r#"{"driver_info": "S3cret"}"#).unwrap_err();
        let text = json_problem(&e);
        assert!(
            !text.contains("S3cret") && text.contains("invalid type"),
            "{text}"
        );
        // A quote inside the value does not end the redaction early (it used to
        // toggle it, printing what followed the quote).
        let e = serde_json::from_str::<InventoryNode>(r#"{"driver_info": "S3\"crQ, etZ\"xW"}"#)
            .unwrap_err();
        let text = json_problem(&e);
        assert!(
            !["S3", "crQ", "etZ", "xW"]
                .iter()
                .any(|part| text.contains(part)),
            "{text}"
        );
        // The reader names the member and leaves the value out itself.
        assert!(
            text.starts_with("driver_info: invalid type: string \"…\", expected a map"),
            "{text}"
        );
    }

    #[test]
    fn missing_driver_is_a_missing_parameter() {
        let err = node_from_args(&NodeArgs::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingParameter);
    }
}
