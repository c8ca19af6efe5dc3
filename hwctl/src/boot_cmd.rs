//! `hwctl boot prepare-ramdisk|clean-up-ramdisk|prepare-instance|clean-up-instance`
//! and `hwctl boot serve` (hwctl-pxe's `pxe` and `ipxe` boot interfaces and embedded
//! servers), and the demo's network-boot step.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hwctl_core::{Error, ErrorKind, Registry, Result};
use hwctl_pxe::PxeConfig;
use serde_json::{Value, json};

use crate::cli::{BootAction, BootIfaceArgs, NodeArgs};
use crate::output::{say, say_json};

/// Whether `action` is one of the boot-interface actions handled here.
pub(crate) fn handles(action: &BootAction) -> bool {
    matches!(
        action,
        BootAction::PrepareRamdisk { .. }
            | BootAction::CleanUpRamdisk { .. }
            | BootAction::PrepareInstance { .. }
            | BootAction::CleanUpInstance { .. }
            | BootAction::Serve { .. }
    )
}

fn pairs(flag: &str, list: &[String]) -> Result<BTreeMap<String, String>> {
    list.iter()
        .map(|p| {
            p.split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .ok_or_else(|| crate::node_args::bad_pair(flag, p))
        })
        .collect()
}

/// The network-boot interfaces (hwctl-pxe's `pxe`, `ipxe`) hardware type `h`
/// declares, in its order: what `boot prepare-ramdisk --boot-interface` takes for it.
pub(crate) fn boot_interfaces_of(h: &hwctl_core::HardwareType) -> Vec<String> {
    h.boot_interfaces()
        .iter()
        .filter(|b| [hwctl_pxe::PXE, hwctl_pxe::IPXE].contains(&b.as_str()))
        .cloned()
        .collect()
}

/// A registry with hwctl-pxe's boot interfaces registered with `config`.
pub(crate) fn with_boot_interfaces(registry: &Registry, config: Arc<PxeConfig>) -> Registry {
    let mut r = registry.clone();
    for b in hwctl_pxe::boot_interfaces(config) {
        r.register_boot_interface(b);
    }
    r
}

/// A node built for a boot action, with what the action's outcome reports.
struct Built {
    node: hwctl_core::Node,
    ctx: hwctl_core::NodeContext,
    info: hwctl_core::DriverInfo,
    /// The node id is hwctl's default (`cli-` and the port MACs), not a given one.
    default_id: bool,
}

fn build(
    registry: &Registry,
    node_args: &NodeArgs,
    boot: &BootIfaceArgs,
    instance_info: &[String],
) -> Result<Built> {
    let config = Arc::new(PxeConfig::from_toml_file(&boot.boot_config)?);
    let registry = with_boot_interfaces(registry, config);
    let entry = crate::node_args::node_from_args(node_args)?;
    let (info, mut ctx) = crate::node_args::context_of(&entry)?;
    for (k, v) in pairs("--instance-info", instance_info)? {
        ctx.instance_info.insert(k, Value::String(v));
    }
    crate::registry::hardware_type(&registry, &entry.driver)?;
    let node = registry.build_node(&entry.driver, info, &ctx, boot.boot_interface.as_deref())?;
    let default_id = node_args.node_id == crate::node_args::DEFAULT_NODE_ID
        && ctx.id == crate::node_args::default_node_id(&entry.ports);
    Ok(Built {
        node,
        ctx,
        info: info.clone(),
        default_id,
    })
}

/// An `id` the boot roots refuse, when the id is hwctl's default: says so and
/// how to give one (the library's reason alone names no flag).
fn explain_default_id(err: Error, id: &str) -> Error {
    let Some(reason) = err
        .problems()
        .iter()
        .find(|p| p.name == "id")
        .and_then(|p| p.reason.clone())
    else {
        return err;
    };
    let mut out = Error::invalid_parameter(
        "id",
        format!(
            "{reason}; {id:?} is hwctl's default node id (`cli-` and the --port MACs): \
             give the node an id with --node-id"
        ),
    );
    if let Some(d) = err.driver() {
        out = out.with_driver(d.to_owned());
    }
    if let Some(o) = err.operation() {
        out = out.with_operation(o.to_owned());
    }
    out
}

/// Runs a boot-interface action.
pub(crate) async fn run(
    registry: &Registry,
    node_args: &NodeArgs,
    action: BootAction,
    json_out: bool,
) -> Result<()> {
    // `prepares`: the action sets the boot device (through the node's management
    // interface, when it has one).
    let (op, prepares, built, result) = match action {
        BootAction::PrepareRamdisk {
            boot,
            params,
            rescue,
        } => {
            let b = build(registry, node_args, &boot, &[])?;
            let params = pairs("--param", &params)?;
            let r = if rescue {
                // The rescue ramdisk: the same interface, rescue_* images.
                let cfg = Arc::new(PxeConfig::from_toml_file(&boot.boot_config)?);
                let flavor = if b.node.boot_interface() == Some(hwctl_pxe::IPXE) {
                    hwctl_pxe::Flavor::Ipxe
                } else {
                    hwctl_pxe::Flavor::Pxe
                };
                let mgmt = b.node.management().ok().cloned();
                hwctl_pxe::PxeBoot::new(flavor, cfg, b.info.clone(), mgmt)
                    .prepare_ramdisk_kind(&b.ctx, &params, hwctl_pxe::RamdiskKind::Rescue)
                    .await
            } else {
                b.node.boot()?.prepare_ramdisk(&b.ctx, &params).await
            };
            ("prepare-ramdisk", true, b, r)
        }
        BootAction::CleanUpRamdisk { boot } => {
            let b = build(registry, node_args, &boot, &[])?;
            let r = b.node.boot()?.clean_up_ramdisk(&b.ctx).await;
            ("clean-up-ramdisk", false, b, r)
        }
        BootAction::PrepareInstance {
            boot,
            instance_info,
        } => {
            let b = build(registry, node_args, &boot, &instance_info)?;
            let r = b.node.boot()?.prepare_instance(&b.ctx).await;
            ("prepare-instance", true, b, r)
        }
        BootAction::CleanUpInstance {
            boot,
            instance_info,
        } => {
            let b = build(registry, node_args, &boot, &instance_info)?;
            let r = b.node.boot()?.clean_up_instance(&b.ctx).await;
            ("clean-up-instance", false, b, r)
        }
        BootAction::Serve {
            boot_config,
            tftp,
            http,
        } => return serve(&boot_config, tftp, http, json_out).await,
        _ => return Err(Error::unsupported("this boot action here")),
    };
    if let Err(e) = result {
        return Err(if built.default_id {
            explain_default_id(e, &built.ctx.id)
        } else {
            e
        });
    }
    let node = &built.node;
    let iface = node.boot_interface().unwrap_or("?").to_owned();
    // hwctl-pxe sets the boot device through the node's management interface; a
    // node without one (Wake-on-LAN, iBoot) keeps its own boot order, as with
    // Ironic's noop management interface.
    let not_set = (prepares && node.management().is_err()).then(|| {
        format!(
            "boot device not set: {} has no management interface, so the node must already \
             boot from the network first (then its disk)",
            node.hardware_type()
        )
    });
    if json_out {
        let mut j = json!({"node": node.id(), "boot_interface": iface, "done": op});
        if prepares {
            j["boot_device_set"] = not_set.is_none().into();
        }
        if let Some(note) = &not_set {
            j["note"] = note.clone().into();
        }
        say_json(&j);
    } else {
        let mut line = format!(
            "{op}: done for node {} with boot interface {iface}",
            node.id()
        );
        if let Some(note) = &not_set {
            line = format!("{line}; {note}");
        }
        say(line);
    }
    Ok(())
}

async fn serve(
    boot_config: &Path,
    tftp: Option<SocketAddr>,
    http: Option<SocketAddr>,
    json_out: bool,
) -> Result<()> {
    let cfg = PxeConfig::from_toml_file(boot_config)?;
    if tftp.is_none() && http.is_none() {
        return Err(Error::missing_parameters(["--tftp", "--http"]));
    }
    // Each server: its JSON object (`--json`) and its text line.
    let mut lines: Vec<(Value, String)> = Vec::new();
    let tftp_srv = match tftp {
        Some(addr) => {
            std::fs::create_dir_all(&cfg.tftp_root).map_err(|e| {
                Error::invalid_parameter("tftp_root", format!("cannot create: {e}"))
            })?;
            let s = hwctl_pxe::TftpServer::start(
                &cfg.tftp_root,
                addr,
                &hwctl_pxe::TftpOptions::default(),
            )?;
            lines.push((
                json!({"tftp": s.local_addr().to_string(), "root": cfg.tftp_root}),
                format!(
                    "serving TFTP on {} from {}",
                    s.local_addr(),
                    cfg.tftp_root.display()
                ),
            ));
            Some(s)
        }
        None => None,
    };
    let http_srv = match http {
        Some(addr) => {
            std::fs::create_dir_all(&cfg.http_root).map_err(|e| {
                Error::invalid_parameter("http_root", format!("cannot create: {e}"))
            })?;
            let s = hwctl_pxe::HttpServer::start(&cfg.http_root, addr).await?;
            lines.push((
                json!({"http": s.local_addr().to_string(), "root": cfg.http_root}),
                format!(
                    "serving HTTP on {} from {}",
                    s.local_addr(),
                    cfg.http_root.display()
                ),
            ));
            Some(s)
        }
        None => None,
    };
    if json_out {
        let objects: Vec<&Value> = lines.iter().map(|(j, _)| j).collect();
        say_json(&json!({"serving": objects}));
    } else {
        for (_, text) in &lines {
            say(text);
        }
        say("Ctrl-C stops.");
    }
    let _ = tokio::signal::ctrl_c().await;
    drop(tftp_srv);
    drop(http_srv);
    Ok(())
}

/// The demo's network-boot step: for `pxe` and `ipxe`, prepare a fake-hardware
/// node's ramdisk in a temporary root, fetch its configuration through the
/// embedded TFTP/HTTP server the way firmware would (by MAC), clean up, and check
/// the roots are empty again. Returns text lines, JSON and the failure count.
pub(crate) async fn demo_step(registry: &Registry) -> (Vec<String>, Value, usize) {
    match demo_inner(registry).await {
        Ok((lines, j)) => (lines, j, 0),
        Err(e) => (
            vec![format!("network boot: {e} [{}]", e.kind())],
            json!({"error": e.to_string()}),
            1,
        ),
    }
}

async fn demo_inner(registry: &Registry) -> Result<(Vec<String>, Value)> {
    let err = |e: std::io::Error| Error::new(ErrorKind::Other, format!("demo temp dir: {e}"));
    let dir = std::env::temp_dir().join(format!("hwctl-demo-pxe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("images")).map_err(err)?;
    std::fs::write(dir.join("images/kernel"), b"demo kernel").map_err(err)?;
    std::fs::write(dir.join("images/ramdisk"), b"demo ramdisk").map_err(err)?;
    let mut cfg = PxeConfig::with_roots(&dir, "http://127.0.0.1");
    std::fs::create_dir_all(&cfg.tftp_root).map_err(err)?;
    std::fs::create_dir_all(&cfg.http_root).map_err(err)?;
    let http = hwctl_pxe::HttpServer::start(
        &cfg.http_root,
        "127.0.0.1:0".parse().map_err(|_| Error::protocol("addr"))?,
    )
    .await?;
    cfg.http_url = format!("http://{}", http.local_addr());
    let tftp = hwctl_pxe::TftpServer::start(
        &cfg.tftp_root,
        "127.0.0.1:0".parse().map_err(|_| Error::protocol("addr"))?,
        &hwctl_pxe::TftpOptions::default(),
    )?;
    let cfg = Arc::new(cfg);
    let registry = with_boot_interfaces(registry, cfg.clone());
    let mac = "52:54:00:de:00:01";
    let ctx = hwctl_core::NodeContext::new("demo-node")
        .with_port(mac.parse()?)
        .with_boot_mode(hwctl_core::BootMode::Bios);
    let info = hwctl_core::DriverInfo::from_pairs([
        (
            "deploy_kernel",
            dir.join("images/kernel").display().to_string(),
        ),
        (
            "deploy_ramdisk",
            dir.join("images/ramdisk").display().to_string(),
        ),
    ]);
    let params = BTreeMap::from([("ipa-api-url".to_owned(), "http://127.0.0.1:6385".to_owned())]);
    let mut lines = Vec::new();
    let mut out = serde_json::Map::new();
    for iface in [hwctl_pxe::PXE, hwctl_pxe::IPXE] {
        let node = registry.build_node(hwctl_core::fake::NAME, &info, &ctx, Some(iface))?;
        let boot = node.boot()?;
        boot.prepare_ramdisk(&ctx, &params).await?;
        let dev = node.management()?.get_boot_device().await?;
        let fetched = if iface == hwctl_pxe::PXE {
            tftp_get(tftp.local_addr(), "pxelinux.cfg/01-52-54-00-de-00-01").await?
        } else {
            let client = hwctl_http::HttpClients::global()
                .get(&hwctl_http::EndpointConfig::builder(cfg.http_url.clone()).build()?)?;
            client
                .get("/pxelinux.cfg/52-54-00-de-00-01")
                .await?
                .error_for_status()?
                .body()
                .to_vec()
        };
        let ok = String::from_utf8_lossy(&fetched).contains("ipa-api-url=http://127.0.0.1:6385");
        boot.clean_up_ramdisk(&ctx).await?;
        let root = if iface == hwctl_pxe::PXE {
            &cfg.tftp_root
        } else {
            &cfg.http_root
        };
        let left = std::fs::read_dir(root)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name() != "master_images")
                    .count()
            })
            .unwrap_or(0);
        if !ok || left != 0 {
            return Err(Error::new(
                ErrorKind::Other,
                format!(
                    "{iface}: config fetched by MAC has the params: {ok}; files left after clean up: {left}"
                ),
            ));
        }
        let via = if iface == hwctl_pxe::PXE {
            "TFTP"
        } else {
            "HTTP"
        };
        lines.push(format!(
            "{iface}: prepared fake-hardware node (boot device {}), config fetched by MAC over our {via} server ({} bytes), cleaned up: root empty",
            dev.device.map_or("?".into(), |d| d.to_string()),
            fetched.len()
        ));
        out.insert(iface.to_owned(), json!({"boot_device": dev.device, "config_bytes": fetched.len(), "left_after_clean_up": left}));
    }
    drop(tftp);
    drop(http);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((lines, Value::Object(out)))
}

/// A minimal TFTP read (RFC 1350, 512-byte blocks) for the demo's self-check.
async fn tftp_get(server: SocketAddr, path: &str) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| Error::new(ErrorKind::Unreachable, format!("tftp: {e}"));
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(io)?;
    let mut rrq = vec![0u8, 1];
    rrq.extend_from_slice(path.as_bytes());
    rrq.extend_from_slice(b"\0octet\0");
    sock.send_to(&rrq, server).await.map_err(io)?;
    let mut data = Vec::new();
    let mut buf = [0u8; 600];
    loop {
        let (n, from) =
            tokio::time::timeout(std::time::Duration::from_secs(5), sock.recv_from(&mut buf))
                .await
                .map_err(|_| Error::new(ErrorKind::Timeout, "tftp: no reply in 5 s"))?
                .map_err(io)?;
        if n < 4 || buf[1] != 3 {
            return Err(Error::protocol(format!(
                "tftp: unexpected packet for {path}"
            )));
        }
        data.extend_from_slice(&buf[4..n]);
        sock.send_to(&[0, 4, buf[2], buf[3]], from)
            .await
            .map_err(io)?;
        if n < 516 {
            return Ok(data);
        }
    }
}
