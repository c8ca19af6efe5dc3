//! Commands that act on one node, and the registry listings.

use std::time::Duration;

use hwctl_core::{
    BootDevice, BootMode, Error, HttpMethod, InterfaceKind, Node, PowerTarget, Registry, Result,
};
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
                say_json(
                    &json!({"node": node.id(), "power_state": state, "power_state_recorded": recorded}),
                );
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
                .set_power_state(target, Some(change_timeout(timeout)))
                .await?;
            let caps = power.capabilities();
            // A target the device only records (Wake-on-LAN's off): nothing was sent.
            let performed = !caps.recorded_only.contains(&target);
            let confirmed = caps.can_query && performed;
            if json_out {
                say_json(&json!({
                    "node": node.id(),
                    "target": target,
                    "power_state": target.final_state(),
                    "confirmed": confirmed,
                    "performed": performed,
                }));
            } else {
                say(change_text(
                    node.hardware_type(),
                    target,
                    performed,
                    confirmed,
                ));
            }
        }
    }
    Ok(())
}

/// What `power <target>` prints once the change returned: done (read back),
/// sent but not confirmed (a device that cannot be queried), or only recorded
/// (`recorded_only`: nothing reached the device).
fn change_text(
    hardware_type: &str,
    target: PowerTarget,
    performed: bool,
    confirmed: bool,
) -> String {
    let state = target.final_state();
    if !performed {
        format!(
            "power {target}: recorded, not performed: {hardware_type} cannot carry out \
             power {target}, so nothing reached the node; hwctl now reports the node as {state} \
             (a person must do it)"
        )
    } else if confirmed {
        format!("power {target}: done, node is {state}")
    } else {
        format!(
            "power {target}: sent, not confirmed ({hardware_type} cannot read a node's power \
             state; hwctl now reports the node as {state})"
        )
    }
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
                say(boot_get_text(node.hardware_type(), s));
            }
        }
        BootAction::Set { device, persistent } => {
            let device = settable_device(node, &mgmt.capabilities().boot_devices, &device)?;
            mgmt.set_boot_device(device, persistent).await?;
            // A driver that only sets persistently (libvirt) sets a next-boot-only
            // request for every boot: said, never silent (its driver logs a WARN).
            let forced = !persistent && mgmt.capabilities().persistent_only;
            let note = forced.then(|| {
                format!(
                    "asked for the next boot only, but {} sets the boot device for every \
                     boot: set persistently",
                    node.hardware_type()
                )
            });
            if json_out {
                let mut j = json!({"node": node.id(), "boot_device": device,
                    "persistent": persistent || forced, "persistent_requested": persistent});
                if let Some(note) = &note {
                    j["note"] = note.clone().into();
                }
                say_json(&j);
            } else if let Some(note) = note {
                say(format!(
                    "boot device set to {device} (persistent: yes; {note})"
                ));
            } else {
                say(format!(
                    "boot device set to {device} (persistent: {})",
                    yes_no(Some(persistent))
                ));
            }
        }
        // `boot devices` is a listing ([`boot_devices`]); the boot-interface actions
        // run in boot_cmd (hwctl-pxe).
        _ => return Err(hwctl_core::Error::unsupported("this boot action here")),
    }
    Ok(())
}

/// A power change's timeout: its own `--timeout`, else the power engine's default
/// ([`hwctl_core::power::DEFAULT_POWER_TIMEOUT`]), bounded by what remains of the
/// whole command's deadline (`hwctl --timeout`, the caller's deadline), so the
/// engine stops at that deadline itself and says how far it got (no change
/// requested, or one that may have reached the device).
fn change_timeout(own: Option<u64>) -> Duration {
    let own = own.map_or(
        hwctl_core::power::DEFAULT_POWER_TIMEOUT,
        Duration::from_secs,
    );
    match hwctl_core::retry::caller_deadline() {
        Some(at) => own.min(at.saturating_duration_since(tokio::time::Instant::now())),
        None => own,
    }
}

/// What `boot get` prints. No device and no persistence is no override (the node
/// follows its own boot order: a fresh OpenBMC, an OCS blade's `NoOverride`);
/// a device without persistence is a driver whose device cannot report it (OCS's
/// `GetNextBoot`): said, so `unknown` does not read as a failed read.
fn boot_get_text(hardware_type: &str, s: hwctl_core::BootDeviceSetting) -> String {
    match (s.device, s.persistent) {
        (None, None) => {
            "boot device none (no override reported: the node follows its own boot order)".into()
        }
        (Some(dev), None) => format!(
            "boot device {dev} (persistent: unknown: {hardware_type} does not report whether \
             the setting is for the next boot only or every boot)"
        ),
        (dev, p) => format!(
            "boot device {} (persistent: {})",
            dev.map_or_else(|| "unknown".into(), |d| d.to_string()),
            yes_no(p)
        ),
    }
}

/// `boot devices`: the boot devices `boot set` takes on this node. A listing, so a
/// node without a management interface (Wake-on-LAN, iBoot) lists none, with the
/// reason, and succeeds (`no boot devices (hardware type staging-wol has no
/// management interface)`; JSON `"boot_devices": []`), as `vendor list` does;
/// acting on the missing interface (`boot get`, `boot set`) is `unsupported`.
pub(crate) fn boot_devices(node: &Node, json_out: bool) -> Result<()> {
    let devices = match node.management() {
        Ok(mgmt) => Some(mgmt.capabilities().boot_devices),
        Err(e) if e.kind() == hwctl_core::ErrorKind::Unsupported => None,
        Err(e) => return Err(e),
    };
    if json_out {
        say_json(&json!({"node": node.id(), "boot_devices": devices.unwrap_or_default()}));
        return Ok(());
    }
    match devices {
        None => say(format!(
            "no boot devices ({})",
            missing_interface_text(node.hardware_type(), InterfaceKind::Management)
        )),
        Some(devices) if devices.is_empty() => say(format!(
            "no boot devices ({} cannot set the boot device)",
            node.hardware_type()
        )),
        Some(devices) => say(devices
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join("\n")),
    }
    Ok(())
}

/// Why a listing is empty, or what a capabilities row says, when the hardware type
/// has no `interface`: `hardware type staging-wol has no management interface`.
fn missing_interface_text(hardware_type: &str, interface: InterfaceKind) -> String {
    format!(
        "hardware type {hardware_type} has no {} interface",
        interface.as_str()
    )
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
        say(table(&["SENSOR", "KIND", "VALUE", "UNIT", "STATUS"], &rows).trim_end());
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
                        "no vendor methods ({})",
                        missing_interface_text(node.hardware_type(), InterfaceKind::Vendor)
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
                say(table(&["METHOD", "HTTP", "MODE", "DESCRIPTION"], &rows).trim_end());
                let args: Vec<Vec<String>> = methods
                    .iter()
                    .filter_map(|m| {
                        Some(vec![m.name.clone(), method_args(m.input_schema.as_ref()?)?])
                    })
                    .collect();
                if !args.is_empty() {
                    say(
                        "\narguments (vendor call METHOD --args '{\"NAME\": VALUE, …}'; [optional]):",
                    );
                    say(wrapped_table(&["METHOD", "ARGUMENTS"], &args, table_width()).trim_end());
                }
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
            } else if result.is_null() {
                // A method that returns nothing (set_nm_policy): say it was done
                // rather than print a bare `null`.
                say(format!("{method}: done (no result)"));
            } else {
                say_json(&result);
            }
        }
    }
    Ok(())
}

/// A vendor method's arguments from its JSON Schema (`input_schema`): the names of
/// its `properties`, required ones first as written, optional ones in brackets;
/// `None` when it takes none.
fn method_args(schema: &Value) -> Option<String> {
    let props = schema.get("properties")?.as_object()?;
    if props.is_empty() {
        return None;
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<String> = required
        .iter()
        .filter(|r| props.contains_key(**r))
        .map(|r| (*r).to_owned())
        .collect();
    names.extend(
        props
            .keys()
            .filter(|k| !required.contains(&k.as_str()))
            .map(|k| format!("[{k}]")),
    );
    Some(names.join(", "))
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
        Value::Object(fields) => fields_text(fields, &|_| None),
    }
}

/// An interface's fields as `key: value; …` ([`capability_field_text`]), a field
/// with a `note` (what it depends on) followed by `, depending on <note>`: the
/// field's label is printed once (`targets: on, off, depending on …`, not
/// `targets: on, off; targets: depends on …`).
fn fields_text(
    fields: &serde_json::Map<String, Value>,
    note: &dyn Fn(&str) -> Option<String>,
) -> String {
    // Keys come sorted; what is only recorded reads after the targets it qualifies.
    fields
        .iter()
        .filter(|(k, _)| k.as_str() != "recorded_only")
        .chain(fields.iter().filter(|(k, _)| k.as_str() == "recorded_only"))
        .filter_map(|(k, v)| {
            let phrase = capability_field_text(k, v)?;
            Some(match note(k) {
                Some(n) => format!("{phrase}, depending on {n}"),
                None => phrase,
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One field of an interface's capabilities as a phrase a user reads without the
/// struct's docs: `boot_modes` is the modes `boot-mode set` accepts, so an empty
/// list means the mode cannot be set, not that the node has no boot mode. `None`
/// for a field the text leaves out: an empty `recorded_only` (every target is
/// performed), and `can_set_boot_device` (the `boot_devices` phrase says it).
fn capability_field_text(key: &str, v: &Value) -> Option<String> {
    Some(match (key, v) {
        ("boot_modes", Value::Array(modes)) if modes.is_empty() => {
            "boot mode: not settable by this driver".into()
        }
        ("boot_modes", v) => format!("boot mode settable to: {}", capability_text(v)),
        ("can_get_boot_mode", v) => format!("boot mode readable: {}", capability_text(v)),
        ("boot_devices", Value::Array(d)) if d.is_empty() => {
            "boot device: not settable by this driver".into()
        }
        ("boot_devices", v) => format!("boot devices settable: {}", capability_text(v)),
        ("can_set_boot_device", _) => return None,
        ("recorded_only", Value::Array(t)) if t.is_empty() => return None,
        ("recorded_only", v) => format!(
            "recorded, not performed: {} (hwctl records the state; nothing reaches the \
             device, a person must do it)",
            capability_text(v)
        ),
        (k, v) => format!("{}: {}", k.replace('_', " "), capability_text(v)),
    })
}

/// The heading of `capabilities`: the node's id, given or the default (`cli`,
/// `cli-<MACs>`), as the JSON's `node` names it.
fn node_heading(node: &Node) -> String {
    format!("node {}, hardware type {}", node.id(), node.hardware_type())
}

/// The interfaces `node` has, in the order of [`InterfaceKind`] (the order a
/// hardware type's `interfaces()` lists them): the node's answer to what
/// `capabilities TYPE` reads from the type.
fn node_interfaces(node: &Node) -> Vec<InterfaceKind> {
    let caps = node.capabilities();
    [
        (InterfaceKind::Power, caps.power.is_some()),
        (InterfaceKind::Management, caps.management.is_some()),
        (InterfaceKind::Console, caps.console),
        (InterfaceKind::Vendor, node.vendor().is_ok()),
    ]
    .into_iter()
    .filter_map(|(kind, has)| has.then_some(kind))
    .collect()
}

/// The interfaces of `caps` as `hwctl capabilities` prints them in JSON: hw-core's
/// [`Capabilities`](hwctl_core::Capabilities) less its `boot` (whether a boot
/// interface is attached to the node as built: `capabilities` never attaches one,
/// and the network-boot interfaces are `boot_interfaces`), with
/// `management.can_set_boot_device` (whether `boot_devices` is not empty) spelled
/// out, since "boot" was misread as that.
fn interfaces_json(caps: &hwctl_core::Capabilities) -> Result<Value> {
    let mut value = serde_json::to_value(caps).map_err(|e| {
        Error::new(
            hwctl_core::ErrorKind::Other,
            format!("capabilities are not JSON: {e}"),
        )
    })?;
    if let Value::Object(interfaces) = &mut value {
        interfaces.remove("boot");
        if let Some(Value::Object(mgmt)) = interfaces.get_mut("management") {
            let settable = mgmt
                .get("boot_devices")
                .and_then(Value::as_array)
                .is_some_and(|d| !d.is_empty());
            mgmt.insert("can_set_boot_device".into(), Value::Bool(settable));
        }
    }
    Ok(value)
}

/// The table rows of `interfaces` (from [`interfaces_json`] or the per-type view),
/// then the `boot` row: the network-boot interfaces `boot_interfaces` (not whether
/// the boot device can be set, which is `management`'s).
///
/// An interface of `hardware_type` that is not in `present` reads `none (hardware
/// type X has no management interface)`, for a node and a type alike, whatever its
/// JSON value (`null`, `false`, `[]`).
fn interface_rows(
    interfaces: &Value,
    boot_interfaces: &[String],
    hardware_type: &str,
    present: &[InterfaceKind],
) -> Vec<Vec<String>> {
    let missing = |name: &str| {
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Console,
            InterfaceKind::Vendor,
        ]
        .into_iter()
        .find(|k| k.as_str() == name && !present.contains(k))
    };
    let mut rows: Vec<Vec<String>> = match interfaces {
        Value::Object(fields) => fields
            .iter()
            .map(|(name, v)| {
                let text = match missing(name) {
                    Some(kind) => format!("none ({})", missing_interface_text(hardware_type, kind)),
                    None => capability_text(v),
                };
                vec![name.clone(), text]
            })
            .collect(),
        other => vec![vec!["-".into(), capability_text(other)]],
    };
    rows.push(vec!["boot".into(), boot_interfaces_text(boot_interfaces)]);
    rows
}

/// `capabilities` (with a node): a table per interface (JSON with `--json`).
/// `boot_interfaces` are the network-boot interfaces (`pxe`, `ipxe`) the hardware
/// type declares and this build registers (`hwctl boot prepare-ramdisk
/// --boot-interface`), printed as the `boot` row (`network boot through pxe, ipxe`).
///
/// An interface the node lacks reads `none (hardware type X has no … interface)`,
/// the words of `capabilities TYPE` ([`interface_rows`]).
///
/// JSON: `{"node", "hardware_type", "interfaces", "capabilities",
/// "boot_interfaces"}`, where `interfaces` names those the node has (as
/// `capabilities TYPE` names the type's) and
/// `capabilities` is [`interfaces_json`]: `power` (with `recorded_only`, the
/// targets only recorded, not performed), `management` (with
/// `can_set_boot_device`), `console`, `vendor`. It used to carry `boot`, "whether
/// `boot_interfaces` is not empty", which every type of this build is and which an
/// operator read as "can set the boot device" (docs/decisions.md, 92).
pub(crate) fn capabilities(node: &Node, boot_interfaces: &[String], json_out: bool) -> Result<()> {
    let caps = interfaces_json(&node.capabilities())?;
    let present = node_interfaces(node);
    if json_out {
        say_json(&json!({
            "node": node.id(),
            "hardware_type": node.hardware_type(),
            "interfaces": present,
            "capabilities": caps,
            "boot_interfaces": boot_interfaces,
        }));
        return Ok(());
    }
    say(node_heading(node));
    say(wrapped_table(
        &["INTERFACE", "CAPABILITIES"],
        &interface_rows(&caps, boot_interfaces, node.hardware_type(), &present),
        table_width(),
    )
    .trim_end());
    Ok(())
}

/// What `capabilities TYPE` says of an interface whose details only a node can give.
pub(crate) const DEPENDS_ON_DEVICE: &str = "depends on the device";

/// `capabilities TYPE`: what hardware type `name` can do, with no node.
///
/// Built only from what the type itself declares, so it cannot drift from the
/// drivers: which interfaces it has ([`HardwareType::interfaces`]), its network-boot
/// interfaces, and each interface's details. Those come from a node of the type
/// built with no driver_info and no ports (every declared default; building does no
/// I/O) when the type's validation allows it; otherwise (it needs an address,
/// credentials or the node's ports) from the type's declaration of what its nodes
/// can do *at most* ([`HardwareType::capabilities`], `at_most: true`), with its
/// "depends on …" notes, and `depends_on` names what the validation asked for.
/// A type with neither says [`DEPENDS_ON_DEVICE`] for those details. The
/// conformance suite holds every driver's nodes within its declaration
/// (`hwctl_core::testing::check_capabilities`; docs/decisions.md, 95).
///
/// JSON: `{"node": null, "hardware_type", "interfaces", "capabilities": {"power",
/// "management", "console", "vendor"}, "at_most", "notes", "boot_interfaces",
/// "depends_on"}`; an interface the type lacks is `null` (`console` `false`,
/// `vendor` `[]`); `notes` maps a field (`power.targets`) to what it depends on.
///
/// # Errors
///
/// An unknown `name` is `invalid-parameter` (exit 2) with a "did you mean"; a build
/// failure other than missing or invalid parameters is returned as it is.
///
/// [`HardwareType::interfaces`]: hwctl_core::HardwareType::interfaces
/// [`HardwareType::capabilities`]: hwctl_core::HardwareType::capabilities
pub(crate) fn type_capabilities(registry: &Registry, name: &str, json_out: bool) -> Result<()> {
    use hwctl_core::{DriverInfo, NodeContext};
    let hw = crate::registry::hardware_type(registry, name)?;
    let boot_interfaces = crate::boot_cmd::boot_interfaces_of(hw);
    let has = |kind: InterfaceKind| hw.interfaces().contains(&kind);
    let declared = hw.capabilities();
    let notes: serde_json::Map<String, Value> = declared
        .map(|d| {
            d.notes()
                .iter()
                .map(|(field, note)| (field.as_str().to_owned(), Value::String(note.clone())))
                .collect()
        })
        .unwrap_or_default();
    let probe = hw.build(
        &DriverInfo::new(),
        &NodeContext::new(crate::node_args::DEFAULT_NODE_ID),
    );
    let (caps, at_most, depends_on) = match probe {
        Ok(node) => (interfaces_json(&node.capabilities())?, false, Vec::new()),
        Err(e) if e.kind().is_input_error() && !e.problems().is_empty() => {
            let needs: Vec<String> = e.problems().iter().map(|p| p.name.clone()).collect();
            match declared {
                Some(d) => (interfaces_json(d.at_most())?, true, needs),
                None => {
                    let detail = |kind: InterfaceKind, absent: Value| {
                        if has(kind) {
                            Value::String(DEPENDS_ON_DEVICE.into())
                        } else {
                            absent
                        }
                    };
                    let caps = json!({
                        "power": detail(InterfaceKind::Power, Value::Null),
                        "management": detail(InterfaceKind::Management, Value::Null),
                        "console": has(InterfaceKind::Console),
                        "vendor": detail(InterfaceKind::Vendor, json!([])),
                    });
                    (caps, false, needs)
                }
            }
        }
        Err(e) => return Err(e),
    };
    if json_out {
        say_json(&json!({
            "node": null,
            "hardware_type": hw.name(),
            "interfaces": hw.interfaces(),
            "capabilities": caps,
            "at_most": at_most,
            "notes": notes,
            "boot_interfaces": boot_interfaces,
            "depends_on": depends_on,
        }));
        return Ok(());
    }
    let mut rows = interface_rows(&caps, &boot_interfaces, hw.name(), hw.interfaces());
    for row in &mut rows {
        // A missing interface (`none (…)`) depends on nothing.
        let declared = hw.interfaces().iter().any(|k| k.as_str() == row[0]);
        if at_most && (declared || row[0] == "boot") {
            let name = row[0].clone();
            let value = caps.get(&name).unwrap_or(&Value::Null);
            if let Value::Object(fields) = value {
                row[1] = fields_text(fields, &|field| {
                    notes
                        .get(&format!("{name}.{field}"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            }
            row[1].push_str(&notes_text(&name, value, &notes));
        }
    }
    let needs = || {
        format!(
            "a node needs {}: `hwctl properties {}`",
            depends_on.join(", "),
            hw.name()
        )
    };
    say(if depends_on.is_empty() {
        format!(
            "hardware type {} (no node: a node of it with no driver_info, every default; \
             a node's own driver_info can change this)",
            hw.name()
        )
    } else if at_most {
        format!(
            "hardware type {} (no node: what a node of it can do at most, as the type \
             declares; {})",
            hw.name(),
            needs()
        )
    } else {
        format!(
            "hardware type {} (no node: \"{DEPENDS_ON_DEVICE}\" is what only a node can say; {})",
            hw.name(),
            needs()
        )
    });
    say(wrapped_table(&["INTERFACE", "CAPABILITIES"], &rows, table_width()).trim_end());
    Ok(())
}

/// The declaration's notes on interface `row` (`power`: the notes on `power.*`)
/// that its printed fields do not carry ([`fields_text`] words those once, after
/// the field's values), as `; persistent only: depends on …` phrases appended to
/// its row: a field the row leaves out (an empty `recorded_only`); `console` and
/// `vendor` notes have no field: `; depends on …`. `value` is the interface's
/// capabilities.
fn notes_text(row: &str, value: &Value, notes: &serde_json::Map<String, Value>) -> String {
    let printed = |leaf: &str| {
        value
            .get(leaf)
            .is_some_and(|v| capability_field_text(leaf, v).is_some())
    };
    notes
        .iter()
        .filter_map(|(field, note)| {
            let note = note.as_str()?;
            match field.split_once('.') {
                Some((iface, leaf)) if iface == row && printed(leaf) => None,
                Some((iface, leaf)) if iface == row => Some(format!(
                    "; {}: depends on {note}",
                    leaf.trim_start_matches("can_").replace('_', " ")
                )),
                None if field == row => Some(format!("; depends on {note}")),
                _ => None,
            }
        })
        .collect()
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
                        // `--password-file` fills one key of a type: its password.
                        let file = crate::secrets::password_file_key(hw.properties())
                            == Some(p.name.as_ref());
                        format!(
                            "{} Secret: also from ${}{}.",
                            p.description,
                            crate::secrets::env_name(&p.name),
                            if file { " or --password-file" } else { "" }
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
