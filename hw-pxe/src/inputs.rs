//! The node's inputs: image references in `driver_info`/`instance_info`, the
//! instance's boot option, ramdisk parameters, and the node id as a directory name.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use hwctl_core::{DriverInfo, Error, NodeContext, Result};
use url::Url;

/// Where an image comes from.
///
/// ```
/// use hwctl_pxe::inputs::{ImageRef, ImageSource};
/// let r = ImageRef::parse("deploy_ramdisk", "https://images.example/ipa.initramfs", None)?;
/// assert!(matches!(r.source, ImageSource::Http(ref u) if u.host_str() == Some("images.example")));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A local file (an absolute path or a `file://` URL).
    Path(PathBuf),
    /// An `http://` or `https://` URL, fetched through `hwctl-http` (TLS verified).
    Http(Url),
}

/// A checksum algorithm for image downloads.
///
/// ```
/// use hwctl_pxe::inputs::{Checksum, ChecksumAlgo};
/// assert_eq!(Checksum::parse(&"a".repeat(32))?.algo, ChecksumAlgo::Md5);
/// assert_eq!(Checksum::parse(&"a".repeat(128))?.algo, ChecksumAlgo::Sha512);
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgo {
    /// MD5 (Glance's legacy `checksum`): 32 hex digits.
    Md5,
    /// SHA-256: 64 hex digits.
    Sha256,
    /// SHA-512: 128 hex digits.
    Sha512,
}

/// An expected checksum: `sha256:HEX`, `sha512:HEX`, `md5:HEX`, or bare hex (the
/// algorithm told by its length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// The algorithm.
    pub algo: ChecksumAlgo,
    /// Lower-case hex digest.
    pub hex: String,
}

impl Checksum {
    /// Parses a checksum.
    ///
    /// ```
    /// use hwctl_pxe::inputs::{Checksum, ChecksumAlgo};
    /// assert_eq!(Checksum::parse(&"a".repeat(64)).unwrap().algo, ChecksumAlgo::Sha256);
    /// assert!(Checksum::parse("sha256:xyz").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// A reason string when it is not one of the accepted forms.
    pub fn parse(s: &str) -> std::result::Result<Checksum, String> {
        let s = s.trim();
        let (algo, hex) = match s.split_once(':') {
            Some((a, h)) => {
                let algo = match a.to_ascii_lowercase().as_str() {
                    "md5" => ChecksumAlgo::Md5,
                    "sha256" => ChecksumAlgo::Sha256,
                    "sha512" => ChecksumAlgo::Sha512,
                    other => {
                        return Err(format!(
                            "unknown checksum algorithm {other:?} (md5, sha256, sha512)"
                        ));
                    }
                };
                (Some(algo), h)
            }
            None => (None, s),
        };
        let hex = hex.to_ascii_lowercase();
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("is not a hex digest".to_owned());
        }
        let by_len = match hex.len() {
            32 => ChecksumAlgo::Md5,
            64 => ChecksumAlgo::Sha256,
            128 => ChecksumAlgo::Sha512,
            n => return Err(format!("has {n} hex digits (32, 64 or 128 expected)")),
        };
        let algo = algo.unwrap_or(by_len);
        if algo != by_len {
            return Err("length does not match its algorithm".to_owned());
        }
        Ok(Checksum { algo, hex })
    }
}

/// One image a node boots, with the key it was given under (for errors).
///
/// ```
/// use hwctl_pxe::inputs::{ChecksumAlgo, ImageRef};
/// let r = ImageRef::parse("deploy_kernel", "/srv/ipa.kernel", Some(&format!("sha256:{}", "AB".repeat(32))))?;
/// let sum = r.checksum.unwrap();
/// assert_eq!((sum.algo, sum.hex), (ChecksumAlgo::Sha256, "ab".repeat(32)));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The key (`deploy_kernel`, `instance_info/kernel`).
    pub key: String,
    /// Where it comes from.
    pub source: ImageSource,
    /// The expected checksum (`<key>_checksum`), if given.
    pub checksum: Option<Checksum>,
}

impl ImageRef {
    /// Parses a reference given under `key`: an absolute path, `file://…`, or
    /// `http(s)://…`; `checksum` is the value of `<key>_checksum`.
    ///
    /// ```
    /// use hwctl_pxe::inputs::{ImageRef, ImageSource};
    /// let r = ImageRef::parse("deploy_kernel", "file:///srv/ipa.kernel", None).unwrap();
    /// assert_eq!(r.source, ImageSource::Path("/srv/ipa.kernel".into()));
    /// assert_eq!(ImageRef::parse("deploy_kernel", "glance://x", None).unwrap_err().problems()[0].name, "deploy_kernel");
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming
    /// `key` (or `<key>_checksum`).
    pub fn parse(key: &str, value: &str, checksum: Option<&str>) -> Result<ImageRef> {
        let value = value.trim();
        let source = if value.starts_with('/') {
            ImageSource::Path(PathBuf::from(value))
        } else {
            let url = Url::parse(value).map_err(|_| {
                Error::invalid_parameter(
                    key,
                    "must be an absolute path, a file:// or an http(s):// URL",
                )
            })?;
            match url.scheme() {
                "file" => ImageSource::Path(url.to_file_path().map_err(|()| {
                    Error::invalid_parameter(key, "is a file:// URL without a local absolute path")
                })?),
                "http" | "https" => ImageSource::Http(url),
                s => {
                    return Err(Error::invalid_parameter(
                        key,
                        format!("has unsupported scheme {s:?} (absolute path, file, http, https)"),
                    ));
                }
            }
        };
        let checksum = checksum
            .map(|c| {
                Checksum::parse(c)
                    .map_err(|r| Error::invalid_parameter(format!("{key}_checksum"), r))
            })
            .transpose()?;
        Ok(ImageRef {
            key: key.to_owned(),
            source,
            checksum,
        })
    }
}

/// Which ramdisk `prepare_ramdisk` boots.
///
/// ```
/// use hwctl_pxe::RamdiskKind;
/// assert_eq!(RamdiskKind::default(), RamdiskKind::Deploy);
/// assert_eq!(RamdiskKind::Rescue.keys(), ("rescue_kernel", "rescue_ramdisk"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RamdiskKind {
    /// The deploy ramdisk (`deploy_kernel`, `deploy_ramdisk`).
    #[default]
    Deploy,
    /// The rescue ramdisk (`rescue_kernel`, `rescue_ramdisk`).
    Rescue,
}

impl RamdiskKind {
    /// The `driver_info` keys (and the staged file names) of kernel and ramdisk.
    ///
    /// ```
    /// assert_eq!(hwctl_pxe::RamdiskKind::Deploy.keys().0, "deploy_kernel");
    /// ```
    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            RamdiskKind::Deploy => ("deploy_kernel", "deploy_ramdisk"),
            RamdiskKind::Rescue => ("rescue_kernel", "rescue_ramdisk"),
        }
    }
}

/// `instance_info/boot_option`.
///
/// ```
/// let mut node = hwctl_core::NodeContext::new("n1");
/// node.instance_info.insert("boot_option".into(), "ramdisk".into());
/// node.instance_info.insert("kernel".into(), "/srv/k".into());
/// node.instance_info.insert("ramdisk".into(), "/srv/r".into());
/// let i = hwctl_pxe::inputs::instance_inputs(&node)?;
/// assert_eq!(i.boot_option, hwctl_pxe::BootOption::Ramdisk);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootOption {
    /// Boot from the local disk (Ironic's default).
    Local,
    /// Network-boot the instance's kernel and ramdisk with its root on disk.
    Netboot,
    /// Network-boot the instance's kernel and ramdisk as a RAM-only system.
    Ramdisk,
}

fn value_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn info_image(info: &DriverInfo, key: &str) -> Result<Option<ImageRef>> {
    match info.get_str(key) {
        Some(v) if !v.trim().is_empty() => {
            let sum = info.get_str(&format!("{key}_checksum"));
            ImageRef::parse(key, &v, sum.as_deref()).map(Some)
        }
        _ => Ok(None),
    }
}

/// The ramdisk's kernel and ramdisk from `driver_info`.
///
/// # Errors
///
/// [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) naming the
/// missing keys; [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter)
/// naming a malformed one.
///
/// ```
/// use hwctl_core::{DriverInfo, ErrorKind};
/// use hwctl_pxe::{RamdiskKind, inputs::ramdisk_images};
/// let info = DriverInfo::from_pairs([("deploy_kernel", "/srv/k"), ("deploy_ramdisk", "/srv/r")]);
/// let (k, r) = ramdisk_images(&info, RamdiskKind::Deploy)?;
/// assert_eq!((k.key.as_str(), r.key.as_str()), ("deploy_kernel", "deploy_ramdisk"));
/// let err = ramdisk_images(&info, RamdiskKind::Rescue).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingParameter);
/// assert!(err.to_string().contains("rescue_kernel") && err.to_string().contains("rescue_ramdisk"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn ramdisk_images(info: &DriverInfo, kind: RamdiskKind) -> Result<(ImageRef, ImageRef)> {
    let (k, r) = kind.keys();
    let kernel = info_image(info, k)?;
    let ramdisk = info_image(info, r)?;
    match (kernel, ramdisk) {
        (Some(k), Some(r)) => Ok((k, r)),
        (k2, r2) => Err(Error::missing_parameters(
            [(k, k2.is_none()), (r, r2.is_none())]
                .into_iter()
                .filter(|(_, missing)| *missing)
                .map(|(n, _)| n),
        )),
    }
}

/// What `prepare_instance` reads from `instance_info`.
///
/// ```
/// let i = hwctl_pxe::inputs::instance_inputs(&hwctl_core::NodeContext::new("n1"))?;
/// assert_eq!(i.boot_option, hwctl_pxe::BootOption::Local);
/// assert!(i.images.is_none());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInputs {
    /// `boot_option` (default `local`).
    pub boot_option: BootOption,
    /// `kernel` and `ramdisk` (required unless `local`).
    pub images: Option<(ImageRef, ImageRef)>,
    /// `image_source`, if given (recorded; the deploy interface writes the image).
    pub image_source: Option<String>,
    /// `ramdisk_kernel_arguments` (for `ramdisk`).
    pub ramdisk_kernel_arguments: String,
    /// `root_uuid` (for `netboot`: the root file system, `root=UUID=…`).
    pub root_uuid: Option<String>,
}

/// Reads `instance_info`.
///
/// # Errors
///
/// [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) naming
/// `instance_info/kernel` etc.; [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter)
/// naming a malformed key.
///
/// ```
/// use hwctl_core::{ErrorKind, NodeContext};
/// let mut node = NodeContext::new("n1");
/// node.instance_info.insert("boot_option".into(), "netboot".into());
/// let err = hwctl_pxe::inputs::instance_inputs(&node).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingParameter);
/// assert!(err.to_string().contains("instance_info/kernel"));
/// ```
pub fn instance_inputs(node: &NodeContext) -> Result<InstanceInputs> {
    let ii = &node.instance_info;
    let get = |k: &str| {
        ii.get(k)
            .and_then(value_str)
            .filter(|s| !s.trim().is_empty())
    };
    let boot_option = match get("boot_option").as_deref() {
        None | Some("local") => BootOption::Local,
        Some("netboot") => BootOption::Netboot,
        Some("ramdisk") => BootOption::Ramdisk,
        Some(other) => {
            return Err(Error::invalid_parameter(
                "instance_info/boot_option",
                format!("{other:?} is not one of local, netboot, ramdisk"),
            ));
        }
    };
    let args = get("ramdisk_kernel_arguments").unwrap_or_default();
    check_cmdline_text("instance_info/ramdisk_kernel_arguments", &args)?;
    let root_uuid = get("root_uuid");
    if root_uuid
        .as_ref()
        .is_some_and(|r| !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(Error::invalid_parameter(
            "instance_info/root_uuid",
            "is not a UUID",
        ));
    }
    let images = if boot_option == BootOption::Local {
        None
    } else {
        let mut missing = Vec::new();
        let mut imgs = Vec::new();
        for k in ["kernel", "ramdisk"] {
            let key = format!("instance_info/{k}");
            match get(k) {
                Some(v) => {
                    let sum = get(&format!("{k}_checksum"));
                    imgs.push(ImageRef::parse(&key, &v, sum.as_deref())?);
                }
                None => missing.push(key),
            }
        }
        if boot_option == BootOption::Netboot && root_uuid.is_none() {
            missing.push("instance_info/root_uuid".to_owned());
        }
        if !missing.is_empty() {
            return Err(Error::missing_parameters(missing));
        }
        let r = imgs.pop();
        let k = imgs.pop();
        k.zip(r)
    };
    Ok(InstanceInputs {
        boot_option,
        images,
        image_source: get("image_source"),
        ramdisk_kernel_arguments: args,
        root_uuid,
    })
}

/// Fails unless `text` can go on a kernel command line inside a boot configuration:
/// no line breaks, control characters, quotes or template syntax.
pub(crate) fn check_cmdline_text(key: &str, text: &str) -> Result<()> {
    if text
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '\'' | '{' | '}' | ';' | '`' | '\\'))
    {
        return Err(Error::invalid_parameter(
            key,
            "contains a line break, control character, quote or one of { } ; ` \\",
        ));
    }
    Ok(())
}

/// Ramdisk parameters as `key=value` words, checked.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming the
/// parameter whose key or value cannot go on a kernel command line.
///
/// ```
/// use std::collections::BTreeMap;
/// use hwctl_pxe::inputs::params_cmdline;
/// let p = BTreeMap::from([("ipa-debug".to_owned(), "1".to_owned()), ("nofb".to_owned(), String::new())]);
/// assert_eq!(params_cmdline(&p)?, "ipa-debug=1 nofb");
/// let spaced = BTreeMap::from([("console".to_owned(), "tty0 x".to_owned())]);
/// assert!(params_cmdline(&spaced).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn params_cmdline(params: &BTreeMap<String, String>) -> Result<String> {
    let mut words = Vec::new();
    for (k, v) in params {
        if k.is_empty() || k.contains(['=', ' ']) {
            return Err(Error::invalid_parameter(
                k.clone(),
                "is not a kernel parameter name",
            ));
        }
        check_cmdline_text(k, k)?;
        check_cmdline_text(k, v)?;
        if v.contains(' ') {
            return Err(Error::invalid_parameter(
                k.clone(),
                "value contains a space",
            ));
        }
        words.push(if v.is_empty() {
            k.clone()
        } else {
            format!("{k}={v}")
        });
    }
    Ok(words.join(" "))
}

/// The longest directory name a node gets, in bytes: a pxelinux path (`<name>/deploy_ramdisk`)
/// stays under syslinux's 255-byte file name limit.
pub const MAX_DIR_NAME: usize = 200;

/// The node's directory name under a root. Ironic names the directory by the
/// node's UUID; hw has the node's id, which can be any text (hwctl's default id,
/// `cli-52:54:00:12:34:56`, holds colons), so the name is derived from it:
///
/// - the id itself when it has only ASCII letters, digits, `-`, `_` and `.`;
/// - otherwise every other byte of its UTF-8 (`:`, `+`, a space, `~`, …) becomes `~`
///   and two lowercase hex digits: `cli-52:54:00:12:34:56` →
///   `cli-52~3a54~3a00~3a12~3a34~3a56`.
///
/// `~` itself is escaped, so two different ids never get one name, and the name
/// reads the same in a file path, a pxelinux or GRUB configuration and an iPXE
/// URL (`~` is unreserved in a URL, where `%` would be decoded by the HTTP server;
/// a space or `,` would split a pxelinux line).
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming `id`,
/// saying why, when the id is empty, starts with a dot (`..`, a hidden name), has a
/// `/` or `\`, a control character, is a name the roots use themselves
/// ([`RESERVED`](crate::layout::RESERVED)), or is longer than [`MAX_DIR_NAME`]
/// bytes once escaped.
///
/// ```
/// use hwctl_core::NodeContext;
/// use hwctl_pxe::inputs::node_dir_name;
/// assert_eq!(node_dir_name(&NodeContext::new("n1"))?, "n1");
/// assert_eq!(node_dir_name(&NodeContext::new("cli-52:54:00:12:34:56"))?, "cli-52~3a54~3a00~3a12~3a34~3a56");
/// assert_eq!(node_dir_name(&NodeContext::new("a~3a"))?, "a~7e3a"); // not "a:"'s name
/// assert!(node_dir_name(&NodeContext::new("../etc")).is_err());
/// assert!(node_dir_name(&NodeContext::new("a/b")).is_err());
/// assert!(node_dir_name(&NodeContext::new("")).is_err());
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn node_dir_name(node: &NodeContext) -> Result<Cow<'_, str>> {
    let id = node.id.as_str();
    let refuse = |why: String| {
        Err(Error::invalid_parameter(
            "id",
            format!("cannot name the node's directory under the boot roots: {why}"),
        ))
    };
    if id.is_empty() {
        return refuse("it is empty".into());
    }
    if id.starts_with('.') {
        return refuse("it starts with a dot (`..`, a hidden name)".into());
    }
    if id.contains(['/', '\\']) {
        return refuse("it has a path separator (/ or \\)".into());
    }
    if id.chars().any(char::is_control) {
        return refuse("it has a control character".into());
    }
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let name = if id.bytes().all(plain) {
        Cow::Borrowed(id)
    } else {
        let mut s = String::with_capacity(id.len() * 3);
        for b in id.bytes() {
            if plain(b) {
                s.push(char::from(b));
            } else {
                let _ = write!(s, "~{b:02x}");
            }
        }
        Cow::Owned(s)
    };
    if crate::layout::RESERVED.contains(&name.as_ref()) {
        return refuse(format!(
            "it is a name the boot roots use themselves ({})",
            crate::layout::RESERVED.join(", ")
        ));
    }
    if name.len() > MAX_DIR_NAME {
        return refuse(format!(
            "its directory name is {} bytes (a byte other than A-Z, a-z, 0-9, -, _ and . takes 3), \
             more than {MAX_DIR_NAME}",
            name.len()
        ));
    }
    Ok(name)
}
