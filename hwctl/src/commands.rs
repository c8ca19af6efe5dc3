//! Commands that act on one node, and the registry listings.

use std::time::Duration;

use hwctl_core::{BootDevice, BootMode, Error, HttpMethod, Node, PowerTarget, Registry, Result};
use serde_json::{Value, json};

use crate::cli::{BootAction, BootModeAction, PowerAction, VendorAction};
use crate::output::{say, say_json, table, table_width, usage, wrapped_table};

fn target_of(action: PowerAction) -> Option<(PowerTarget, Option<u64>)> {
    match action {
        PowerAction::Status => None,
        PowerAction::On(t) => Some((PowerTarget::On, t.timeout)),
        PowerAction::Off(t) => Some((PowerTarget::Off, t.timeout)),
        PowerAction::SoftOff(t) => Some((PowerTarget::SoftOff, t.timeout)),
        PowerAction::Reboot(t) => Some((PowerTarget::Reboot, t.timeout)),
        PowerAction::SoftReboot(t) => Some((PowerTarget::SoftReboot, t.timeout)),
    }
}

/// `power …`
pub(crate) async fn power(node: &Node, action: PowerAction, json_out: bool) -> Result<()> {
    let power = node.power()?;
    match target_of(action) {
        None => {
            let state = power.get_power_state().await?;
            // A device that cannot be queried (Wake-on-LAN) reports the state hwctl
            // last set (kept in --state-dir), not a reading.
            let recorded = !power.capabilities().can_query;
            if json_out {
                say_json(&json!({"node": node.id(), "power_state": state, "recorded": recorded}));
            } else if !recorded {
                say(format!("power {state}"));
            } else if state == hwctl_core::PowerState::Unknown {
                say(format!(
                    "power unknown (never set by hwctl: {} cannot read a node's power state; \
                     hwctl reports the last state it set)",
                    node.hardware_type()
                ));
            } else {
                say(format!(
                    "power {state} (recorded: the last state hwctl set; {} cannot read a \
                     node's power state)",
                    node.hardware_type()
                ));
            }
        }
        Some((target, timeout)) => {
            power
                .set_power_state(target, timeout.map(Duration::from_secs))
                .await?;
            let confirmed = power.capabilities().can_query;
            if json_out {
                say_json(&json!({
                    "node": node.id(),
                    "target": target,
                    "power_state": target.final_state(),
                    "confirmed": confirmed,
                }));
            } else if confirmed {
                say(format!(
                    "power {target}: done, node is {}",
                    target.final_state()
                ));
            } else {
                say(format!(
                    "power {target}: requested, not confirmed (this device cannot be queried; \
                     the driver's log line says what it did)"
                ));
            }
        }
    }
    Ok(())
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// `boot …`
pub(crate) async fn boot(node: &Node, action: BootAction, json_out: bool) -> Result<()> {
    let mgmt = node.management()?;
    match action {
        BootAction::Get => {
            let s = mgmt.get_boot_device().await?;
            if json_out {
                say_json(
                    &json!({"node": node.id(), "boot_device": s.device, "persistent": s.persistent}),
                );
            } else {
                let dev = s
                    .device
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "unknown".into());
                say(format!(
                    "boot device {dev} (persistent: {})",
                    yes_no(s.persistent)
                ));
            }
        }
        BootAction::Set { device, persistent } => {
            let device = settable_device(node, &mgmt.capabilities().boot_devices, &device)?;
            mgmt.set_boot_device(device, persistent).await?;
            let caps = mgmt.capabilities();
            let persistent = persistent || caps.persistent_only;
            if json_out {
                say_json(
                    &json!({"node": node.id(), "boot_device": device, "persistent": persistent}),
                );
            } else {
                say(format!(
                    "boot device set to {device} (persistent: {})",
                    yes_no(Some(persistent))
                ));
            }
        }
        BootAction::Devices => {
            let caps = mgmt.capabilities();
            if json_out {
                say_json(&json!({"node": node.id(), "boot_devices": caps.boot_devices}));
            } else {
                say(caps
                    .boot_devices
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"));
            }
        }
        // The boot-interface actions run in boot_cmd (hwctl-pxe).
        _ => return Err(hwctl_core::Error::unsupported("this boot action here")),
    }
    Ok(())
}

/// `name` as a boot device; an unknown name is an invalid `DEVICE` (exit 2) that
/// lists the devices this driver can set (`settable`, the management interface's
/// capabilities), not all of Ironic's. A known device the driver cannot set is
/// refused by the management interface itself, with the same list.
fn settable_device(node: &Node, settable: &[BootDevice], name: &str) -> Result<BootDevice> {
    name.parse::<BootDevice>().map_err(|_| {
        let names: Vec<&str> = settable.iter().map(|d| d.as_str()).collect();
        let can = if names.is_empty() {
            "this driver cannot set any".to_owned()
        } else {
            format!("this driver can set: {}", names.join(", "))
        };
        let close = hwctl_core::driver_info::did_you_mean(name, names.iter().copied())
            .map(|c| format!("did you mean {c}? "))
            .unwrap_or_default();
        Error::invalid_parameter(
            "DEVICE",
            format!("unknown boot device {name:?}; {close}{can} (`boot devices` lists them)"),
        )
        .with_driver(node.hardware_type().to_owned())
        .with_operation("boot set")
    })
}

/// `boot-mode …`
pub(crate) async fn boot_mode(node: &Node, action: BootModeAction, json_out: bool) -> Result<()> {
    let mgmt = node.management()?;
    match action {
        BootModeAction::Get => {
            let mode = mgmt.get_boot_mode().await?;
            if json_out {
                say_json(&json!({"node": node.id(), "boot_mode": mode}));
            } else {
                say(format!(
                    "boot mode {}",
                    mode.map(|m| m.to_string())
                        .unwrap_or_else(|| "unknown".into())
                ));
            }
        }
        BootModeAction::Set { mode } => {
            let mode: BootMode = mode.parse()?;
            mgmt.set_boot_mode(mode).await?;
            if json_out {
                say_json(&json!({"node": node.id(), "boot_mode": mode}));
            } else {
                say(format!("boot mode set to {mode}"));
            }
        }
    }
    Ok(())
}

/// `sensors`
pub(crate) async fn sensors(node: &Node, json_out: bool) -> Result<()> {
    let readings = node.management()?.get_sensors().await?;
    if json_out {
        say_json(&json!({"node": node.id(), "sensors": readings}));
    } else {
        let rows: Vec<Vec<String>> = readings
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    format!("{:?}", r.kind).to_lowercase(),
                    r.value
                        .map(|v| format!("{v}"))
                        .unwrap_or_else(|| "-".into()),
                    r.unit.clone(),
                    r.status.clone(),
                ]
            })
            .collect();
        say(table(&["SENSOR", "KIND", "VALUE", "UNIT", "STATUS"], &rows));
    }
    Ok(())
}

/// `nmi`
pub(crate) async fn nmi(node: &Node, json_out: bool) -> Result<()> {
    node.management()?.inject_nmi().await?;
    if json_out {
        say_json(&json!({"node": node.id(), "nmi": "injected"}));
    } else {
        say("NMI injected");
    }
    Ok(())
}

/// `vendor …`. `list` on a hardware type with no vendor interface lists nothing
/// (as `capabilities` shows `vendor: none`): having no methods is not an inability.
/// `call` there is the interface's `unsupported` error. Errors of `call` name the
/// hardware type and the command with its method (`fake-hardware: vendor call
/// nosuch: …`) unless the driver named its own.
pub(crate) async fn vendor(node: &Node, action: VendorAction, json_out: bool) -> Result<()> {
    match action {
        VendorAction::List => {
            let (methods, has_interface) = match node.vendor() {
                Ok(vendor) => (vendor.methods(), true),
                Err(e) if e.kind() == hwctl_core::ErrorKind::Unsupported => (Vec::new(), false),
                Err(e) => return Err(e),
            };
            if json_out {
                say_json(&json!({"node": node.id(), "methods": methods}));
            } else if methods.is_empty() {
                say(if has_interface {
                    format!("no vendor methods ({})", node.hardware_type())
                } else {
                    format!(
                        "no vendor methods (hardware type {} has no vendor interface)",
                        node.hardware_type()
                    )
                });
            } else {
                let rows: Vec<Vec<String>> = methods
                    .iter()
                    .map(|m| {
                        vec![
                            m.name.clone(),
                            m.http_methods
                                .iter()
                                .map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                            if m.is_async { "async" } else { "sync" }.into(),
                            m.description.clone(),
                        ]
                    })
                    .collect();
                say(table(&["METHOD", "HTTP", "MODE", "DESCRIPTION"], &rows));
            }
        }
        VendorAction::Call {
            method,
            http_method,
            args,
        } => {
            let vendor = node.vendor()?;
            let operation = format!("vendor call {method}");
            let named = |e: Error| {
                e.or_driver(node.hardware_type().to_owned())
                    .or_operation(operation.clone())
            };
            let verb = match http_method {
                Some(v) => v.parse::<HttpMethod>().map_err(named)?,
                None => vendor
                    .methods()
                    .iter()
                    .find(|m| m.name == method)
                    .and_then(|m| m.http_methods.first().copied())
                    .ok_or_else(|| {
                        named(hwctl_core::vendor::unknown_method(
                            &method,
                            vendor.methods().iter().map(|m| m.name.as_str()),
                        ))
                    })?,
            };
            let args: Value = match args {
                Some(a) => serde_json::from_str(&a)
                    .map_err(|e| named(usage(format!("--args is not JSON: {e}"))))?,
                None => Value::Object(Default::default()),
            };
            let result = vendor.call(&method, verb, args).await.map_err(named)?;
            if json_out {
                say_json(&json!({"node": node.id(), "method": method, "return": result}));
            } else {
                say_json(&result);
            }
        }
    }
    Ok(())
}

/// A capability value as text: yes/no, lists joined, objects as `key: value; …`,
/// vendor methods by name.
fn capability_text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item.get("name") {
                Some(Value::String(name)) => name.clone(),
                _ => capability_text(item),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| capability_field_text(k, v))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// One field of an interface's capabilities as a phrase a user reads without the
/// struct's docs: `boot_modes` is the modes `boot-mode set` accepts, so an empty
/// list means the mode cannot be set, not that the node has no boot mode.
fn capability_field_text(key: &str, v: &Value) -> String {
    match (key, v) {
        ("boot_modes", Value::Array(modes)) if modes.is_empty() => {
            "boot mode: not settable by this driver".into()
        }
        ("boot_modes", v) => format!("boot mode settable to: {}", capability_text(v)),
        ("can_get_boot_mode", v) => format!("boot mode readable: {}", capability_text(v)),
        ("boot_devices", Value::Array(d)) if d.is_empty() => {
            "boot device: not settable by this driver".into()
        }
        ("boot_devices", v) => format!("boot devices settable: {}", capability_text(v)),
        (k, v) => format!("{}: {}", k.replace('_', " "), capability_text(v)),
    }
}

/// The heading of `capabilities`: the node's id only when one was given.
fn node_heading(node: &Node) -> String {
    if node.id() == crate::node_args::DEFAULT_NODE_ID {
        format!("hardware type {}", node.hardware_type())
    } else {
        format!("node {}, hardware type {}", node.id(), node.hardware_type())
    }
}

/// `capabilities`: a table per interface (JSON with `--json`). `boot_interfaces`
/// are the network-boot interfaces (`pxe`, `ipxe`) the hardware type declares and
/// this build registers (`hwctl boot prepare-ramdisk --boot-interface`).
///
/// `boot` (the table's row, and `capabilities.boot` in JSON) says whether the node
/// can be network-booted through hwctl: whether `boot_interfaces` is not empty.
/// The library's own field says whether the node *as built* has a boot interface
/// attached, and this command builds it without one (hwctl attaches one only for
/// `boot prepare-ramdisk` and the other network-boot steps), so it always read
/// `false`, even beside `"boot_interfaces": ["pxe", "ipxe"]` (docs/decisions.md, 90).
pub(crate) fn capabilities(node: &Node, boot_interfaces: &[String], json_out: bool) -> Result<()> {
    let mut caps = serde_json::to_value(node.capabilities()).map_err(|e| {
        Error::new(
            hwctl_core::ErrorKind::Other,
            format!("capabilities are not JSON: {e}"),
        )
    })?;
    if let Value::Object(interfaces) = &mut caps {
        interfaces.insert("boot".into(), Value::Bool(!boot_interfaces.is_empty()));
    }
    if json_out {
        say_json(&json!({
            "node": node.id(),
            "hardware_type": node.hardware_type(),
            "capabilities": caps,
            "boot_interfaces": boot_interfaces,
        }));
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = match &caps {
        Value::Object(interfaces) => interfaces
            .iter()
            .map(|(name, v)| match (name.as_str(), v) {
                // `boot` says whether the node has a network-boot interface; name them.
                ("boot", _) => vec![name.clone(), boot_interfaces_text(boot_interfaces)],
                _ => vec![name.clone(), capability_text(v)],
            })
            .collect(),
        other => vec![vec!["-".into(), capability_text(other)]],
    };
    if !matches!(&caps, Value::Object(i) if i.contains_key("boot")) {
        rows.push(vec!["boot".into(), boot_interfaces_text(boot_interfaces)]);
    }
    say(node_heading(node));
    say(wrapped_table(&["INTERFACE", "CAPABILITIES"], &rows, table_width()).trim_end());
    Ok(())
}

fn boot_interfaces_text(names: &[String]) -> String {
    if names.is_empty() {
        "no network boot (no pxe or ipxe boot interface)".into()
    } else {
        format!("network boot through {}", names.join(", "))
    }
}

/// `drivers`
pub(crate) fn drivers(registry: &Registry, json_out: bool) -> Result<()> {
    if json_out {
        let list: Vec<Value> = registry
            .hardware_types()
            .map(|h| {
                json!({
                    "name": h.name(),
                    "description": h.description(),
                    "interfaces": h.interfaces(),
                    "boot_interfaces": crate::boot_cmd::boot_interfaces_of(h),
                })
            })
            .collect();
        say_json(&Value::Array(list));
    } else {
        let rows: Vec<Vec<String>> = registry
            .hardware_types()
            .map(|h| {
                vec![
                    h.name().to_owned(),
                    h.interfaces()
                        .iter()
                        .map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    crate::boot_cmd::boot_interfaces_of(h).join(","),
                    h.description().to_owned(),
                ]
            })
            .collect();
        say(wrapped_table(
            &["HARDWARE TYPE", "INTERFACES", "BOOT", "DESCRIPTION"],
            &rows,
            table_width(),
        )
        .trim_end());
    }
    Ok(())
}

/// `properties TYPE`
pub(crate) fn properties(registry: &Registry, name: &str, json_out: bool) -> Result<()> {
    let hw = crate::registry::hardware_type(registry, name)?;
    if json_out {
        say_json(&json!({"hardware_type": name, "properties": hw.properties()}));
    } else {
        let rows: Vec<Vec<String>> = hw
            .properties()
            .iter()
            .map(|p| {
                vec![
                    p.name.to_string(),
                    if p.required { "yes" } else { "" }.into(),
                    if p.secret { "yes" } else { "" }.into(),
                    p.default.unwrap_or("").to_owned(),
                    if p.secret {
                        format!(
                            "{} Secret: also from ${} or --password-file.",
                            p.description,
                            crate::secrets::env_name(&p.name)
                        )
                    } else {
                        p.description.to_string()
                    },
                ]
            })
            .collect();
        say(wrapped_table(
            &["PROPERTY", "REQUIRED", "SECRET", "DEFAULT", "DESCRIPTION"],
            &rows,
            table_width(),
        )
        .trim_end());
    }
    Ok(())
}
