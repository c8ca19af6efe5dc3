//! Commands that act on one node, and the registry listings.

use std::time::Duration;

use hw_core::{
    BootDevice, BootMode, Error, ErrorKind, HttpMethod, Node, PowerTarget, Registry, Result,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{BootAction, BootModeAction, PowerAction, VendorAction};
use crate::output::{say, say_json, table, usage};

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
            if json_out {
                say_json(&json!({"node": node.id(), "power_state": state}));
            } else {
                say(format!("power {state}"));
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
                    "power {target}: sent (this device cannot be queried, so the state is not confirmed)"
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
            let device: BootDevice = device.parse()?;
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
        // The boot-interface actions run in boot_cmd (hw-pxe).
        _ => return Err(hw_core::Error::unsupported("this boot action here")),
    }
    Ok(())
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

/// How long the node's output must stay quiet after stdin ends before the session
/// is closed: what the node still sends in answer to the last input is delivered.
const CONSOLE_QUIET: Duration = Duration::from_millis(1500);
/// The longest the console waits for the node's output to go quiet after stdin ends.
const CONSOLE_LINGER: Duration = Duration::from_secs(10);

/// `console`: stdin to the console, the console to stdout, until either side ends.
///
/// When stdin ends (a pipe: `printf 'cmd\n' | hwctl console`), the session stays open
/// until the node's output has been quiet for [`CONSOLE_QUIET`] (at most
/// [`CONSOLE_LINGER`]), so the answer to the last input is delivered before the
/// session is closed; what arrives while closing is drained too.
pub(crate) async fn console(node: &Node) -> Result<()> {
    let stream = node.console()?.open().await?;
    let (mut from_node, mut to_node) = tokio::io::split(stream);
    let io_err = |what: &'static str| {
        move |e: std::io::Error| {
            Error::new(
                ErrorKind::Unreachable,
                format!("console {what} failed: {e}"),
            )
            .with_source(e)
        }
    };
    let mut stdin = tokio::io::stdin();
    let mut stdout = tokio::io::stdout();
    let mut inbuf = vec![0u8; 4096];
    let mut outbuf = vec![0u8; 4096];
    let mut stdin_ended: Option<tokio::time::Instant> = None;
    let mut last_output = tokio::time::Instant::now();
    loop {
        let quiet_at = stdin_ended
            .map(|ended| (last_output.max(ended) + CONSOLE_QUIET).min(ended + CONSOLE_LINGER));
        tokio::select! {
            r = stdin.read(&mut inbuf), if stdin_ended.is_none() => {
                let n = r.map_err(io_err("reading stdin"))?;
                if n == 0 {
                    stdin_ended = Some(tokio::time::Instant::now());
                } else {
                    to_node.write_all(&inbuf[..n]).await.map_err(io_err("write"))?;
                    to_node.flush().await.map_err(io_err("write"))?;
                }
            }
            r = from_node.read(&mut outbuf) => {
                let n = r.map_err(io_err("read"))?;
                if n == 0 {
                    // The node ended the session.
                    stdout.flush().await.map_err(io_err("writing stdout"))?;
                    return Ok(());
                }
                stdout.write_all(&outbuf[..n]).await.map_err(io_err("writing stdout"))?;
                stdout.flush().await.map_err(io_err("writing stdout"))?;
                last_output = tokio::time::Instant::now();
            }
            _ = tokio::time::sleep_until(quiet_at.unwrap_or_else(tokio::time::Instant::now)), if quiet_at.is_some() => break,
        }
    }
    to_node.shutdown().await.map_err(io_err("close"))?;
    // What the node still sends while the session closes.
    let drain = async {
        loop {
            let n = from_node.read(&mut outbuf).await?;
            if n == 0 {
                return Ok::<(), std::io::Error>(());
            }
            stdout.write_all(&outbuf[..n]).await?;
        }
    };
    // Past 2 s the rest is dropped: the session is closed either way.
    if let Ok(r) = tokio::time::timeout(Duration::from_secs(2), drain).await {
        r.map_err(io_err("read"))?;
    }
    stdout.flush().await.map_err(io_err("writing stdout"))
}

/// `vendor …`
pub(crate) async fn vendor(node: &Node, action: VendorAction, json_out: bool) -> Result<()> {
    let vendor = node.vendor()?;
    match action {
        VendorAction::List => {
            let methods = vendor.methods();
            if json_out {
                say_json(&json!({"node": node.id(), "methods": methods}));
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
            let verb = match http_method {
                Some(v) => v.parse::<HttpMethod>()?,
                None => vendor
                    .methods()
                    .iter()
                    .find(|m| m.name == method)
                    .and_then(|m| m.http_methods.first().copied())
                    .ok_or_else(|| {
                        Error::invalid_parameter(
                            "method",
                            format!("no handler for method {method}"),
                        )
                    })?,
            };
            let args: Value = match args {
                Some(a) => serde_json::from_str(&a)
                    .map_err(|e| usage(format!("--args is not JSON: {e}")))?,
                None => Value::Object(Default::default()),
            };
            let result = vendor.call(&method, verb, args).await?;
            if json_out {
                say_json(&json!({"node": node.id(), "method": method, "return": result}));
            } else {
                say_json(&result);
            }
        }
    }
    Ok(())
}

/// `capabilities`
pub(crate) fn capabilities(node: &Node) -> Result<()> {
    let caps = node.capabilities();
    say_json(
        &json!({"node": node.id(), "hardware_type": node.hardware_type(), "capabilities": caps}),
    );
    Ok(())
}

/// `drivers`
pub(crate) fn drivers(registry: &Registry, json_out: bool) -> Result<()> {
    if json_out {
        let list: Vec<Value> = registry
            .hardware_types()
            .map(|h| json!({"name": h.name(), "description": h.description(), "interfaces": h.interfaces()}))
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
                    h.description().to_owned(),
                ]
            })
            .collect();
        say(table(
            &["HARDWARE TYPE", "INTERFACES", "DESCRIPTION"],
            &rows,
        ));
    }
    Ok(())
}

/// `properties TYPE`
pub(crate) fn properties(registry: &Registry, name: &str, json_out: bool) -> Result<()> {
    let hw = registry
        .get(name)
        .map_err(|e| usage(e.message().to_owned()))?;
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
                    p.description.to_string(),
                ]
            })
            .collect();
        say(table(
            &["PROPERTY", "REQUIRED", "SECRET", "DEFAULT", "DESCRIPTION"],
            &rows,
        ));
    }
    Ok(())
}
