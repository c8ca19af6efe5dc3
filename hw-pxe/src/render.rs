//! Boot configurations rendered from Jinja templates (`minijinja`), with Ironic's
//! template variables (`pxe_options.*`, `ROOT`, `DISK_IDENTIFIER`) so an Ironic
//! template works unchanged, and Ironic's label switch for the instance boot.
//!
//! # What is trusted
//!
//! A template is operator configuration: the shipped ones, or files named in
//! [`PxeConfig`](crate::PxeConfig), as Ironic's `[pxe]` options are conductor
//! files. Rendering bounds a template's mistakes — [`TEMPLATE_FUEL`] instructions
//! (a loop that never ends) and [`MAX_RENDERED_LEN`] bytes of output — but is not a
//! sandbox for a hostile template: Jinja's string operators (`*`, `+`, `~`) can
//! build a string of up to minijinja's 100 MB per operation before any output is
//! checked. A node's data (`pxe_options`, from `driver_info` and `instance_info`,
//! and the iPXE URI) is untrusted and is only ever substituted as values, never
//! evaluated as template code. [`parse`] checks a configured template once, when
//! it is read.

mod code_scan;

use std::path::Path;

use hwctl_core::{Error, Result};
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

/// Template instructions one rendering may run (minijinja fuel): the shipped
/// templates run a few hundred; a template that loops (nearly) forever runs out
/// instead of hanging the boot preparation.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// The largest rendered configuration, in bytes.
pub const MAX_RENDERED_LEN: usize = 1 << 20;

/// An environment with the limits above.
fn environment<'s>() -> minijinja::Environment<'s> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env
}

/// Output that refuses to grow past [`MAX_RENDERED_LEN`].
#[derive(Default)]
struct BoundedOutput {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_RENDERED_LEN {
            self.overflowed = true;
            return Err(std::io::Error::other("rendered configuration too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Refuses a template whose code uses `*` (see [`code_scan`]): minijinja would
/// fold a constant repetition while parsing, unbounded.
fn refuse_star(template: &str, key: &str) -> Result<()> {
    match code_scan::first_star(template) {
        None => Ok(()),
        Some(line) => Err(Error::invalid_parameter(
            key,
            format!(
                "template uses `*` in its code (line {line}): multiplication and repetition \
                 are refused in boot templates, since minijinja evaluates a constant one \
                 while parsing (`\"ab\" * 99999999` is a 200 MB string)"
            ),
        )),
    }
}

/// Parses and renders `template` within [`TEMPLATE_FUEL`] and
/// [`MAX_RENDERED_LEN`]; every failure is `InvalidParameter` naming `key`.
fn render_bounded(template: &str, key: &str, ctx: minijinja::Value) -> Result<String> {
    let err = |e: minijinja::Error| Error::invalid_parameter(key, format!("template error: {e}"));
    let env = environment();
    refuse_star(template, key)?;
    let tmpl = env.template_from_str(template).map_err(err)?;
    let mut out = BoundedOutput::default();
    if let Err(e) = tmpl.render_captured_to(ctx, &mut out) {
        if out.overflowed {
            return Err(Error::invalid_parameter(
                key,
                format!("template renders more than {MAX_RENDERED_LEN} bytes"),
            ));
        }
        return Err(err(e));
    }
    // minijinja writes whole UTF-8 fragments, so this is never lossy.
    Ok(String::from_utf8_lossy(&out.bytes).into_owned())
}

/// Which boot loader reads a configuration.
///
/// ```
/// use hwctl_pxe::render::Loader;
/// assert_eq!(Loader::Grub.template_key(), "uefi_pxe_config_template");
/// assert!(Loader::Ipxe.default_template().starts_with("#!ipxe"));
/// ```
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
    ///
    /// ```
    /// use hwctl_pxe::render::Loader;
    /// assert!(Loader::Pxelinux.default_template().contains("{{ pxe_options.deployment_aki_path }}"));
    /// ```
    pub fn default_template(self) -> &'static str {
        match self {
            Loader::Pxelinux => PXE_CONFIG_TEMPLATE,
            Loader::Grub => GRUB_CONFIG_TEMPLATE,
            Loader::Ipxe => IPXE_CONFIG_TEMPLATE,
        }
    }

    /// The configuration key of its template path.
    ///
    /// ```
    /// assert_eq!(hwctl_pxe::render::Loader::Pxelinux.template_key(), "pxe_config_template");
    /// ```
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
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
/// `key` for an unreadable file.
///
/// ```
/// use hwctl_pxe::render::load_template;
/// assert_eq!(load_template(None, "pxe_config_template", "shipped")?, "shipped");
/// let err = load_template(Some("/no/such.template".as_ref()), "pxe_config_template", "shipped").unwrap_err();
/// assert!(err.to_string().contains("pxe_config_template"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn load_template(path: Option<&Path>, key: &str, default: &str) -> Result<String> {
    match path {
        None => Ok(default.to_owned()),
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            Error::invalid_parameter(key, format!("cannot read {}: {e}", p.display()))
        }),
    }
}

/// Checks that `template` parses (no rendering): what a caller does once with a
/// configured template, so a broken file is reported when it is read rather than
/// at the first boot. A template whose code uses `*` is refused, here and by the
/// renderers: minijinja evaluates a constant `"ab" * 99999999` while parsing.
///
/// ```
/// use hwctl_pxe::render::{self, PXE_CONFIG_TEMPLATE};
/// assert!(render::parse(PXE_CONFIG_TEMPLATE, "pxe_config_template").is_ok());
/// let e = render::parse("{% if %}", "pxe_config_template").unwrap_err();
/// assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
/// assert!(e.to_string().contains("pxe_config_template"), "{e}");
/// let e = render::parse("{{ 'ab' * 99999999 }}", "pxe_config_template").unwrap_err();
/// assert!(e.to_string().contains("uses `*` in its code (line 1)"), "{e}");
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
/// `key` with the parser's message, or naming the line of a `*`.
pub fn parse(template: &str, key: &str) -> Result<()> {
    refuse_star(template, key)?;
    let env = environment();
    env.template_from_str(template)
        .map(drop)
        .map_err(|e| Error::invalid_parameter(key, format!("template error: {e}")))
}

/// Renders `template` with `pxe_options` as Ironic does (`ROOT` and
/// `DISK_IDENTIFIER` stay as `{{ ROOT }}`/`{{ DISK_IDENTIFIER }}` for the instance
/// switch to fill).
///
/// ```
/// let mut o = serde_json::Map::new();
/// o.insert("deployment_aki_path".into(), "n1/deploy_kernel".into());
/// let out = hwctl_pxe::render::render("kernel {{ pxe_options.deployment_aki_path }} root={{ ROOT }}", "t", &o).unwrap();
/// assert_eq!(out, "kernel n1/deploy_kernel root={{ ROOT }}");
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
/// `key` when the template does not parse or render, runs more than
/// [`TEMPLATE_FUEL`] instructions or renders more than [`MAX_RENDERED_LEN`] bytes.
pub fn render(template: &str, key: &str, pxe_options: &Map<String, Value>) -> Result<String> {
    render_bounded(
        template,
        key,
        minijinja::context! {
            pxe_options => Value::Object(pxe_options.clone()),
            ROOT => "{{ ROOT }}",
            DISK_IDENTIFIER => "{{ DISK_IDENTIFIER }}",
        },
    )
}

/// Renders the `boot.ipxe` script with `ipxe_for_mac_uri` (`<http_url>/pxelinux.cfg/`).
///
/// # Errors
///
/// As [`render`], naming `ipxe_boot_script`.
///
/// ```
/// let out = hwctl_pxe::render::render_boot_ipxe("chain {{ ipxe_for_mac_uri }}${mac:hexhyp}", "http://192.0.2.1:8080/pxelinux.cfg/")?;
/// assert_eq!(out, "chain http://192.0.2.1:8080/pxelinux.cfg/${mac:hexhyp}");
/// assert!(hwctl_pxe::render::render_boot_ipxe("{% if %}", "x").is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn render_boot_ipxe(template: &str, ipxe_for_mac_uri: &str) -> Result<String> {
    render_bounded(
        template,
        "ipxe_boot_script",
        minijinja::context! { ipxe_for_mac_uri => ipxe_for_mac_uri },
    )
}

/// Ironic's `switch_pxe_config`: makes `label` the default entry (`default X` for
/// pxelinux, `set default=X` for GRUB, every line-leading `goto X` for iPXE) and
/// fills `{{ ROOT }}` with `root`.
///
/// ```
/// use hwctl_pxe::render::{switch_label, Loader};
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

#[cfg(test)]
mod tests {
    use super::*;
    use hwctl_core::ErrorKind;

    /// Node data is substituted, never evaluated: a `pxe_options` value holding
    /// template code comes out as the same text, through every shipped template.
    #[test]
    fn node_values_are_never_evaluated_as_template_code() {
        let code = "{{ 7 * 7 }}{% for i in range(9) %}x{% endfor %}";
        let mut o = Map::new();
        for key in [
            "deployment_aki_path",
            "deployment_ari_path",
            "pxe_append_params",
            "aki_path",
            "ari_path",
        ] {
            o.insert(key.into(), code.into());
        }
        for template in [
            PXE_CONFIG_TEMPLATE,
            GRUB_CONFIG_TEMPLATE,
            IPXE_CONFIG_TEMPLATE,
        ] {
            let out = render(template, "t", &o).unwrap();
            assert!(out.contains(code), "{out}");
            assert!(!out.contains("49") && !out.contains("xxxxxxxxx"), "{out}");
        }
        let out = render_boot_ipxe(BOOT_IPXE_TEMPLATE, code).unwrap();
        assert!(out.contains(code) && !out.contains("49"), "{out}");
    }

    #[test]
    fn a_template_that_loops_runs_out_of_fuel() {
        // 10^10 iterations without the fuel limit: the boot preparation hung.
        let t = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}";
        let started = std::time::Instant::now();
        let e = render(t, "pxe_config_template", &Map::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(e.to_string().contains("pxe_config_template"), "{e}");
        assert!(e.to_string().contains("fuel"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let e = render_boot_ipxe(t, "http://x/").unwrap_err();
        assert!(e.to_string().contains("ipxe_boot_script"), "{e}");
    }

    /// A constant repetition is refused before minijinja folds it (it built the
    /// 200 MB string while parsing), by `parse` and by both renderers.
    #[test]
    fn a_star_in_a_template_is_refused_before_parsing() {
        let t = "ok\n{{ 'ab' * 99999999 }}";
        for e in [
            parse(t, "pxe_config_template").unwrap_err(),
            render(t, "pxe_config_template", &Map::new()).unwrap_err(),
            render_boot_ipxe(t, "x").unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::InvalidParameter);
            assert!(
                e.to_string().contains("uses `*` in its code (line 2)"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_huge_rendering_is_refused() {
        let kb = "x".repeat(1000);
        let t = format!("{{% for i in range(2000) %}}{{{{ '{kb}' }}}}{{% endfor %}}");
        let e = render(&t, "pxe_config_template", &Map::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(e.to_string().contains("more than 1048576 bytes"), "{e}");
        // Just under the limit renders.
        let t = format!("{{% for i in range(1000) %}}{{{{ '{kb}' }}}}{{% endfor %}}");
        let out = render(&t, "pxe_config_template", &Map::new()).unwrap();
        assert_eq!(out.len(), 1_000_000);
    }

    #[test]
    fn the_shipped_templates_render_within_the_limits() {
        let mut o = Map::new();
        for k in [
            "deployment_aki_path",
            "deployment_ari_path",
            "aki_path",
            "ari_path",
        ] {
            o.insert(k.into(), "n1/x".into());
        }
        o.insert("pxe_append_params".into(), "nofb".into());
        o.insert("tftp_server".into(), "192.0.2.1".into());
        o.insert("ipxe_timeout".into(), 0.into());
        for l in [Loader::Pxelinux, Loader::Grub, Loader::Ipxe] {
            render(l.default_template(), l.template_key(), &o).unwrap();
        }
        render_boot_ipxe(BOOT_IPXE_TEMPLATE, "http://192.0.2.1/pxelinux.cfg/").unwrap();
    }
}
