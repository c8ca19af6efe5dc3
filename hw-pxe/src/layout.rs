//! Where things go under a boot root, and atomic file operations (write or link to
//! a temporary name, then rename: a node booting mid-update reads the old file or
//! the new one, never half of one).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hwctl_core::{Error, ErrorKind, MacAddress, Result};

/// Names the roots use themselves; a node id may not be one of them.
pub const RESERVED: &[&str] = &[
    "master_images",
    "pxelinux.cfg",
    "grub",
    "boot.ipxe",
    "lost+found",
];

/// The directory of MAC-named configuration links (`pxelinux.cfg`), as Ironic.
pub const PXE_CFG_DIR: &str = "pxelinux.cfg";
/// The node's configuration file name inside its directory, as Ironic.
pub const CONFIG_NAME: &str = "config";
/// The iPXE script firmware is handed first, in `http_root`.
pub const BOOT_IPXE: &str = "boot.ipxe";
/// GRUB's master configuration, in `tftp_root` (`grub/grub.cfg`).
pub const GRUB_MASTER: &str = "grub/grub.cfg";
/// A temporary file's prefix; never a finished file.
pub(crate) const TMP_PREFIX: &str = ".hw-pxe-tmp-";

/// The names a `pxe` node's configuration is linked under, relative to `tftp_root`:
/// pxelinux `pxelinux.cfg/01-aa-bb-cc-dd-ee-ff`, GRUB `grub.cfg-01-aa-bb-cc-dd-ee-ff`
/// and `aa:bb:cc:dd:ee:ff.conf` (GRUB's `${net_default_mac}` has colons), as Ironic's
/// `_link_mac_pxe_configs`.
///
/// ```
/// let mac = "52:54:00:AB:cd:01".parse().unwrap();
/// assert_eq!(hwctl_pxe::layout::pxe_mac_links(&mac), [
///     "pxelinux.cfg/01-52-54-00-ab-cd-01", "grub.cfg-01-52-54-00-ab-cd-01", "52:54:00:ab:cd:01.conf"]);
/// ```
pub fn pxe_mac_links(mac: &MacAddress) -> [String; 3] {
    let colons = mac_colons(mac);
    let dashes = colons.replace(':', "-");
    [
        format!("{PXE_CFG_DIR}/01-{dashes}"),
        format!("grub.cfg-01-{dashes}"),
        format!("{colons}.conf"),
    ]
}

/// The name an `ipxe` node's configuration is linked under, relative to
/// `http_root`: `pxelinux.cfg/aa-bb-cc-dd-ee-ff`, what `boot.ipxe` chains to as
/// `${mac:hexhyp}` (Ironic's `_get_pxe_mac_path` with iPXE).
///
/// ```
/// let mac = "52:54:00:ab:cd:01".parse().unwrap();
/// assert_eq!(hwctl_pxe::layout::ipxe_mac_links(&mac), ["pxelinux.cfg/52-54-00-ab-cd-01"]);
/// ```
pub fn ipxe_mac_links(mac: &MacAddress) -> [String; 1] {
    [format!(
        "{PXE_CFG_DIR}/{}",
        mac_colons(mac).replace(':', "-")
    )]
}

fn mac_colons(mac: &MacAddress) -> String {
    mac.to_string().to_ascii_lowercase()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn tmp_path(dest: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = dest.parent().unwrap_or_else(|| Path::new("."));
    dir.join(format!("{TMP_PREFIX}{}-{n}", std::process::id()))
}

pub(crate) fn io_err(what: &str, path: &Path, e: &std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            ErrorKind::InvalidParameter
        }
        _ => ErrorKind::DeviceFault,
    };
    Error::new(kind, format!("cannot {what} {}: {e}", path.display()))
}

/// Creates `dir` and its parents, with `mode` on the ones created (when given).
pub(crate) fn ensure_dir(dir: &Path, mode: Option<u32>) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    if let Some(m) = mode {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(m);
    }
    b.create(dir)
        .map_err(|e| io_err("create directory", dir, &e))
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Writes `bytes` to `dest` atomically with `mode`; leaves `dest` as it was on failure.
pub(crate) fn write_atomic(dest: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    if std::fs::read(dest).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let tmp = tmp_path(dest);
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        set_mode(&tmp, mode)?;
        std::fs::rename(&tmp, dest)
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err("write", dest, &e)
    })
}

/// Makes `dest` a symbolic link to `target` (relative) atomically.
pub(crate) fn symlink_atomic(target: &Path, dest: &Path) -> Result<()> {
    if std::fs::read_link(dest).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let tmp = tmp_path(dest);
    #[cfg(unix)]
    let res = std::os::unix::fs::symlink(target, &tmp).and_then(|()| std::fs::rename(&tmp, dest));
    #[cfg(not(unix))]
    let res: std::io::Result<()> = Err(std::io::Error::other("symbolic links need unix"));
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err("link", dest, &e)
    })
}

/// Makes `dest` a hard link to `src` atomically (a copy across file systems).
pub(crate) fn hardlink_atomic(src: &Path, dest: &Path, mode: u32) -> Result<()> {
    if same_file(src, dest) {
        return Ok(());
    }
    let tmp = tmp_path(dest);
    let res = std::fs::hard_link(src, &tmp)
        .or_else(|_| std::fs::copy(src, &tmp).and_then(|_| set_mode(&tmp, mode)))
        .and_then(|()| std::fs::rename(&tmp, dest));
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err("link", dest, &e)
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::symlink_metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Removes a file or link if present.
pub(crate) fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path, &e)),
    }
}

/// Removes `dir` if it exists and is empty.
pub(crate) fn remove_empty_dir(dir: &Path) {
    let _ = std::fs::remove_dir(dir);
}
