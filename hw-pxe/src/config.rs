//! The deployment's boot configuration, with Ironic's option names (`[pxe]` and
//! `[deploy]` groups of `ironic.conf`), from code or a TOML file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hwctl_core::{BootMode, Error, ErrorKind, Result};
use serde::Deserialize;

/// The boot configuration shared by every node (Ironic's `[pxe]` and `[deploy]`
/// options; defaults as Ironic's where Ironic has one).
///
/// A TOML file may put the keys at the top level or under `[pxe]` / `[deploy]` as
/// in `ironic.conf`:
///
/// ```
/// let cfg = hwctl_pxe::PxeConfig::from_toml_str(r#"
/// [pxe]
/// tftp_root = "/srv/tftp"
/// tftp_server = "192.0.2.1"
/// pxe_append_params = "nofb vga=normal console=ttyS0"
/// [deploy]
/// http_root = "/srv/http"
/// http_url = "http://192.0.2.1:8080"
/// "#).unwrap();
/// assert_eq!(cfg.pxe_bootfile_name, "pxelinux.0");
/// assert_eq!(cfg.http_url, "http://192.0.2.1:8080");
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PxeConfig {
    /// `[pxe] tftp_root`: the TFTP root (Ironic default `/tftpboot`).
    pub tftp_root: PathBuf,
    /// `[pxe] tftp_server`: the TFTP server's address handed to nodes (DHCP options
    /// 66/150; GRUB's `boot_server`). Ironic's default is `$my_ip`.
    pub tftp_server: String,
    /// `[pxe] tftp_master_path`: the master-image cache for the `pxe` interface;
    /// default `<tftp_root>/master_images`. Must be on `tftp_root`'s file system
    /// (nodes get hard links).
    pub tftp_master_path: Option<PathBuf>,
    /// `[deploy] http_root`: the HTTP root for iPXE (Ironic default `/httpboot`).
    pub http_root: PathBuf,
    /// `[deploy] http_url`: the URL nodes reach `http_root` at, no trailing slash.
    pub http_url: String,
    /// The master-image cache for the `ipxe` interface (ours: Ironic shares
    /// `tftp_master_path`); default `<http_root>/master_images`.
    pub http_master_path: Option<PathBuf>,
    /// `[pxe] pxe_bootfile_name`: BIOS PXE boot file (`pxelinux.0`).
    pub pxe_bootfile_name: String,
    /// `[pxe] uefi_pxe_bootfile_name`: UEFI PXE boot file (`bootx64.efi`).
    pub uefi_pxe_bootfile_name: String,
    /// `[pxe] ipxe_bootfile_name`: BIOS iPXE chain-loader (`undionly.kpxe`).
    pub ipxe_bootfile_name: String,
    /// `[pxe] uefi_ipxe_bootfile_name`: UEFI iPXE chain-loader (`snponly.efi`).
    pub uefi_ipxe_bootfile_name: String,
    /// `[pxe] pxe_append_params` (newer Ironic: `kernel_append_params`): put on
    /// every ramdisk's kernel command line before the ramdisk parameters.
    pub pxe_append_params: String,
    /// `[pxe] pxe_config_template`: the BIOS (pxelinux) template; `None` uses the
    /// shipped one.
    pub pxe_config_template: Option<PathBuf>,
    /// `[pxe] uefi_pxe_config_template`: the UEFI (GRUB) template.
    pub uefi_pxe_config_template: Option<PathBuf>,
    /// `[pxe] ipxe_config_template`: the iPXE template (both boot modes).
    pub ipxe_config_template: Option<PathBuf>,
    /// `[pxe] ipxe_boot_script`: the iPXE script firmware is handed first
    /// (`boot.ipxe` in `http_root`); `None` uses the shipped one.
    pub ipxe_boot_script: Option<PathBuf>,
    /// `[pxe] ipxe_timeout`: iPXE download timeout in seconds; 0 = iPXE's default.
    pub ipxe_timeout: u64,
    /// `[pxe] image_cache_size`: master cache bound, in MiB (Ironic default 20480).
    pub image_cache_size: u64,
    /// `[pxe] image_cache_ttl`: master cache entry age bound, in minutes (Ironic
    /// default 10080, a week).
    pub image_cache_ttl: u64,
    /// `[pxe] file_permission`: mode of written files (Ironic default `0o644`).
    pub file_permission: u32,
    /// `[pxe] dir_permission`: mode of created directories; `None` keeps the
    /// process umask (as Ironic).
    pub dir_permission: Option<u32>,
    /// `[deploy] default_boot_mode`: the boot mode of a node that does not say
    /// (Ironic default `uefi`).
    pub default_boot_mode: BootModeName,
    /// Timeout of one image download over HTTP(S), in seconds (ours).
    pub image_download_timeout: u64,
}

/// A boot mode in the configuration file (`bios` or `uefi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootModeName {
    /// Legacy BIOS.
    Bios,
    /// UEFI.
    Uefi,
}

impl From<BootModeName> for BootMode {
    fn from(m: BootModeName) -> Self {
        match m {
            BootModeName::Bios => BootMode::Bios,
            BootModeName::Uefi => BootMode::Uefi,
        }
    }
}

impl Default for PxeConfig {
    fn default() -> Self {
        PxeConfig {
            tftp_root: PathBuf::from("/tftpboot"),
            tftp_server: "127.0.0.1".to_owned(),
            tftp_master_path: None,
            http_root: PathBuf::from("/httpboot"),
            http_url: "http://127.0.0.1:8080".to_owned(),
            http_master_path: None,
            pxe_bootfile_name: "pxelinux.0".to_owned(),
            uefi_pxe_bootfile_name: "bootx64.efi".to_owned(),
            ipxe_bootfile_name: "undionly.kpxe".to_owned(),
            uefi_ipxe_bootfile_name: "snponly.efi".to_owned(),
            pxe_append_params: "nofb vga=normal".to_owned(),
            pxe_config_template: None,
            uefi_pxe_config_template: None,
            ipxe_config_template: None,
            ipxe_boot_script: None,
            ipxe_timeout: 0,
            image_cache_size: 20480,
            image_cache_ttl: 10080,
            file_permission: 0o644,
            dir_permission: None,
            default_boot_mode: BootModeName::Uefi,
            image_download_timeout: 600,
        }
    }
}

impl PxeConfig {
    /// A configuration with both roots under `dir` (`dir/tftpboot`, `dir/httpboot`)
    /// and Ironic's defaults otherwise: for tests and the all-in-one default.
    ///
    /// ```
    /// use std::path::Path;
    /// let c = hwctl_pxe::PxeConfig::with_roots(Path::new("/srv/boot"), "http://192.0.2.1:8080");
    /// assert_eq!(c.tftp_root, Path::new("/srv/boot/tftpboot"));
    /// assert_eq!(c.http_root, Path::new("/srv/boot/httpboot"));
    /// assert!(c.validate().is_ok());
    /// ```
    pub fn with_roots(dir: &Path, http_url: impl Into<String>) -> Self {
        PxeConfig {
            tftp_root: dir.join("tftpboot"),
            http_root: dir.join("httpboot"),
            http_url: http_url.into(),
            ..PxeConfig::default()
        }
    }

    /// Parses TOML (keys at the top level or under `[pxe]`/`[deploy]`) and checks it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming the key at fault (an unknown key, a
    /// wrong type, a relative root, an `http_url` that is not HTTP(S)).
    ///
    /// ```
    /// let c = hwctl_pxe::PxeConfig::from_toml_str("tftp_root = \"/srv/tftp\"")?;
    /// assert_eq!(c.tftp_root, std::path::Path::new("/srv/tftp"));
    /// let err = hwctl_pxe::PxeConfig::from_toml_str("tftp_rot = \"/srv/tftp\"").unwrap_err();
    /// assert!(err.to_string().contains("tftp_rot"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            Error::invalid_parameter("boot-config", e.message().to_owned())
        })?;
        let mut flat = toml::Table::new();
        for (k, v) in table {
            match (k.as_str(), v) {
                ("pxe" | "deploy", toml::Value::Table(t)) => flat.extend(t),
                (_, v) => {
                    flat.insert(k, v);
                }
            }
        }
        // Re-serialised so a type error has a span: the key is on that line.
        let text = toml::to_string(&toml::Value::Table(flat))
            .map_err(|e| Error::invalid_parameter("boot-config", e.to_string()))?;
        let cfg: PxeConfig = toml::from_str(&text).map_err(|e: toml::de::Error| {
            let msg = e.message().to_owned();
            let from_msg = msg
                .split('`')
                .nth(1)
                .filter(|k| !k.contains(' '))
                .map(str::to_owned);
            let from_span = e.span().and_then(|sp| {
                let line_start = text[..sp.start.min(text.len())]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                let line = &text[line_start..];
                line.split_once('=')
                    .map(|(k, _)| k.trim().trim_matches('"').to_owned())
            });
            let key = from_msg
                .or(from_span)
                .unwrap_or_else(|| "boot-config".to_owned());
            Error::invalid_parameter(key, msg)
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and checks a TOML file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `boot-config` for an unreadable file,
    /// otherwise as [`PxeConfig::from_toml_str`].
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("boot.toml");
    /// std::fs::write(&path, "[deploy]\nhttp_url = \"http://192.0.2.1:8080\"\n").unwrap();
    /// assert_eq!(hwctl_pxe::PxeConfig::from_toml_file(&path)?.http_url, "http://192.0.2.1:8080");
    /// let missing = hwctl_pxe::PxeConfig::from_toml_file(&dir.path().join("nope.toml")).unwrap_err();
    /// assert!(missing.to_string().contains("boot-config"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_parameter(
                "boot-config",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::from_toml_str(&text)
    }

    /// Checks the values (absolute roots, HTTP URL, permissions).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] listing every key at fault.
    ///
    /// ```
    /// use hwctl_pxe::PxeConfig;
    /// let mut c = PxeConfig::default();
    /// assert!(c.validate().is_ok());
    /// c.tftp_root = "relative/tftp".into();
    /// assert_eq!(c.validate().unwrap_err().kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// ```
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        for (key, p) in [
            ("tftp_root", &self.tftp_root),
            ("http_root", &self.http_root),
        ] {
            if !p.is_absolute() {
                problems.push(invalid(key, "must be an absolute path"));
            }
        }
        match url::Url::parse(&self.http_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => problems.push(invalid("http_url", "must be an http:// or https:// URL")),
        }
        if self.file_permission > 0o777 {
            problems.push(invalid("file_permission", "must be at most 0o777"));
        }
        if self.dir_permission.is_some_and(|p| p > 0o777) {
            problems.push(invalid("dir_permission", "must be at most 0o777"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::from_problems(problems))
        }
    }

    /// The master-image cache directory for `root` (see the `*_master_path` keys).
    pub(crate) fn master_path(&self, ipxe: bool) -> PathBuf {
        if ipxe {
            self.http_master_path
                .clone()
                .unwrap_or_else(|| self.http_root.join("master_images"))
        } else {
            self.tftp_master_path
                .clone()
                .unwrap_or_else(|| self.tftp_root.join("master_images"))
        }
    }

    /// `image_cache_size` in bytes.
    ///
    /// ```
    /// let c = hwctl_pxe::PxeConfig::default();
    /// assert_eq!(c.cache_size_bytes(), c.image_cache_size * 1024 * 1024);
    /// ```
    pub fn cache_size_bytes(&self) -> u64 {
        self.image_cache_size.saturating_mul(1024 * 1024)
    }

    /// `image_cache_ttl` as a duration.
    ///
    /// ```
    /// let c = hwctl_pxe::PxeConfig::default();
    /// assert_eq!(c.cache_ttl().as_secs(), c.image_cache_ttl * 60);
    /// ```
    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.image_cache_ttl.saturating_mul(60))
    }

    /// The kind of error a bad configuration value gives.
    pub const ERROR_KIND: ErrorKind = ErrorKind::InvalidParameter;
}

pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> hwctl_core::ParameterProblem {
    hwctl_core::ParameterProblem {
        name: name.to_owned(),
        reason: Some(reason.into()),
    }
}
