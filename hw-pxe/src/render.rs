//! Boot configurations rendered from Jinja templates (`minijinja`), with Ironic's
//! template variables (`pxe_options.*`, `ROOT`, `DISK_IDENTIFIER`) so an Ironic
//! template works unchanged, and Ironic's label switch for the instance boot.

use std::path::Path;

use hw_core::{Error, Result};
use serde_json::{Map, Value};

/// The shipped pxelinux (BIOS) template.
pub const PXE_CONFIG_TEMPLATE: &str = include_str!("../templates/pxe_config.template");
/// The shipped GRUB (UEFI) template.
pub const GRUB_CONFIG_TEMPLATE: &str = include_str!("../templates/pxe_grub_config.template");
/// The shipped iPXE template.
pub const IPXE_CONFIG_TEMPLATE: &str = include_str!("../templates/ipxe_config.template");
/// The shipped `boot.ipxe` script template (`ipxe_for_mac_uri`).
pub const BOOT_IPXE_TEMPLATE: &str = include_str!("../templates/boot.ipxe");
/// The shipped GRUB master configuration (`grub/grub.cfg`).
pub const GRUB_MASTER_CONFIG: &str = include_str!("../templates/grub.cfg.template");

/// Which boot loader reads a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Loader {
    /// pxelinux (`pxe`, BIOS).
    Pxelinux,
    /// GRUB (`pxe`, UEFI).
    Grub,
    /// iPXE (`ipxe`, both modes).
    Ipxe,
}

impl Loader {
    /// The shipped template.
    pub fn default_template(self) -> &'static str {
        match self {
            Loader::Pxelinux => PXE_CONFIG_TEMPLATE,
            Loader::Grub => GRUB_CONFIG_TEMPLATE,
            Loader::Ipxe => IPXE_CONFIG_TEMPLATE,
        }
    }

    /// The configuration key of its template path.
    pub fn template_key(self) -> &'static str {
        match self {
            Loader::Pxelinux => "pxe_config_template",
            Loader::Grub => "uefi_pxe_config_template",
            Loader::Ipxe => "ipxe_config_template",
        }
    }
}

/// Reads a template file, or the shipped one when `path` is `None`.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hw_core::ErrorKind::InvalidParameter) naming
/// `key` for an unreadable file.
pub fn load_template(path: Option<&Path>, key: &str, default: &str) -> Result<String> {
    match path {
        None => Ok(default.to_owned()),
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            Error::invalid_parameter(key, format!("cannot read {}: {e}", p.display()))
        }),
    }
}

/// Renders `template` with `pxe_options` as Ironic does (`ROOT` and
/// `DISK_IDENTIFIER` stay as `{{ ROOT }}`/`{{ DISK_IDENTIFIER }}` for the instance
/// switch to fill).
///
/// ```
/// let mut o = serde_json::Map::new();
/// o.insert("deployment_aki_path".into(), "n1/deploy_kernel".into());
/// let out = hw_pxe::render::render("kernel {{ pxe_options.deployment_aki_path }} root={{ ROOT }}", "t", &o).unwrap();
/// assert_eq!(out, "kernel n1/deploy_kernel root={{ ROOT }}");
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hw_core::ErrorKind::InvalidParameter) naming
/// `key` when the template does not parse or render.
pub fn render(template: &str, key: &str, pxe_options: &Map<String, Value>) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.add_template("t", template)
        .map_err(|e| Error::invalid_parameter(key, format!("template error: {e}")))?;
    let tmpl = env
        .get_template("t")
        .map_err(|e| Error::invalid_parameter(key, format!("template error: {e}")))?;
    tmpl.render(minijinja::context! {
        pxe_options => Value::Object(pxe_options.clone()),
        ROOT => "{{ ROOT }}",
        DISK_IDENTIFIER => "{{ DISK_IDENTIFIER }}",
    })
    .map_err(|e| Error::invalid_parameter(key, format!("template error: {e}")))
}

/// Renders the `boot.ipxe` script with `ipxe_for_mac_uri` (`<http_url>/pxelinux.cfg/`).
///
/// # Errors
///
/// As [`render`], naming `ipxe_boot_script`.
pub fn render_boot_ipxe(template: &str, ipxe_for_mac_uri: &str) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    let err = |e: minijinja::Error| {
        Error::invalid_parameter("ipxe_boot_script", format!("template error: {e}"))
    };
    env.add_template("t", template).map_err(err)?;
    env.get_template("t")
        .map_err(err)?
        .render(minijinja::context! { ipxe_for_mac_uri => ipxe_for_mac_uri })
        .map_err(err)
}

/// Ironic's `switch_pxe_config`: makes `label` the default entry (`default X` for
/// pxelinux, `set default=X` for GRUB, every line-leading `goto X` for iPXE) and
/// fills `{{ ROOT }}` with `root`.
///
/// ```
/// use hw_pxe::render::{switch_label, Loader};
/// let out = switch_label("default deploy\nlabel x\nappend root={{ ROOT }}\n", Loader::Pxelinux, "boot_partition", "UUID=1");
/// assert_eq!(out, "default boot_partition\nlabel x\nappend root=UUID=1\n");
/// ```
pub fn switch_label(text: &str, loader: Loader, label: &str, root: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let nl = &line[body.len()..];
        let replaced = match loader {
            Loader::Pxelinux if body.starts_with("default ") => Some(format!("default {label}")),
            Loader::Grub if body.starts_with("set default=") => {
                Some(format!("set default={label}"))
            }
            Loader::Ipxe if body.starts_with("goto ") => Some(format!("goto {label}")),
            _ => None,
        };
        match replaced {
            Some(r) => out.push_str(&r),
            None => out.push_str(body),
        }
        out.push_str(nl);
    }
    out.replace("{{ ROOT }}", root)
}
