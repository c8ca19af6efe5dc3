//! `PxeBoot`: the `pxe` and `ipxe` boot interfaces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use hwctl_core::{Boot, BootDevice, BootMode, DriverInfo, Management, NodeContext, Result};
use serde_json::{Map, Value};

use crate::cache::ImageCache;
use crate::config::PxeConfig;
use crate::inputs::{self, BootOption, ImageRef, RamdiskKind};
use crate::layout::{self, BOOT_IPXE, CONFIG_NAME, GRUB_MASTER, PXE_CFG_DIR};
use crate::render::{self, Loader};

/// Which of the two boot interfaces.
///
/// ```
/// use hwctl_core::BootMode;
/// use hwctl_pxe::{Flavor, render::Loader};
/// assert_eq!(Flavor::Ipxe.name(), "ipxe");
/// assert_eq!(Flavor::Pxe.loader(BootMode::Uefi), Loader::Grub);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// `pxe`: pxelinux (BIOS) or GRUB (UEFI) over TFTP from `tftp_root`.
    Pxe,
    /// `ipxe`: iPXE scripts, kernels and ramdisks over HTTP from `http_root`.
    Ipxe,
}

impl Flavor {
    /// The boot interface name (`pxe`, `ipxe`).
    ///
    /// ```
    /// assert_eq!(hwctl_pxe::Flavor::Pxe.name(), hwctl_pxe::PXE);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Pxe => crate::PXE,
            Flavor::Ipxe => crate::IPXE,
        }
    }

    /// The loader reading the node's configuration in `mode`.
    ///
    /// ```
    /// use hwctl_core::BootMode;
    /// use hwctl_pxe::{Flavor, render::Loader};
    /// assert_eq!(Flavor::Pxe.loader(BootMode::Bios), Loader::Pxelinux);
    /// assert_eq!(Flavor::Ipxe.loader(BootMode::Bios), Loader::Ipxe);
    /// ```
    pub fn loader(self, mode: BootMode) -> Loader {
        match (self, mode) {
            (Flavor::Ipxe, _) => Loader::Ipxe,
            (Flavor::Pxe, BootMode::Uefi) => Loader::Grub,
            (Flavor::Pxe, _) => Loader::Pxelinux,
        }
    }
}

/// Files of the instance boot, in the node's directory.
const INSTANCE_FILES: [&str; 2] = ["kernel", "ramdisk"];
/// Files of the ramdisk boots, in the node's directory.
const RAMDISK_FILES: [&str; 4] = [
    "deploy_kernel",
    "deploy_ramdisk",
    "rescue_kernel",
    "rescue_ramdisk",
];

/// The `pxe` or `ipxe` boot interface of one node.
///
/// Layout under the root (`tftp_root` for `pxe`, `http_root` for `ipxe`), as
/// Ironic's but for the node's directory, named from its id
/// ([`inputs::node_dir_name`]): `<node dir>/deploy_kernel`, `deploy_ramdisk` (or
/// `rescue_*`; `kernel`, `ramdisk` for an instance) as hard links to
/// `master_images/<hash>`, `<node dir>/config`, and relative symbolic links to it under every port MAC
/// ([`layout::pxe_mac_links`], [`layout::ipxe_mac_links`]); shared
/// `grub/grub.cfg` (`pxe`) or `boot.ipxe` (`ipxe`) while any node is prepared.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::{collections::BTreeMap, sync::Arc};
/// use hwctl_core::{DriverInfo, NodeContext};
/// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig, RamdiskKind};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("ipa.kernel"), b"kernel bytes").unwrap();
/// std::fs::write(dir.path().join("ipa.initramfs"), b"ramdisk bytes").unwrap();
/// let info = DriverInfo::from_pairs([
///     ("deploy_kernel", dir.path().join("ipa.kernel").display().to_string()),
///     ("deploy_ramdisk", dir.path().join("ipa.initramfs").display().to_string()),
/// ]);
/// let config = Arc::new(PxeConfig::with_roots(dir.path(), "http://127.0.0.1:8080"));
/// let boot = PxeBoot::new(Flavor::Pxe, config, info, None);
/// let node = NodeContext::new("n1").with_port("52:54:00:12:34:56".parse().unwrap());
/// boot.prepare_ramdisk_kind(&node, &BTreeMap::new(), RamdiskKind::Deploy).await?;
/// let root = dir.path().join("tftpboot");
/// assert_eq!(std::fs::read(root.join("n1/deploy_kernel")).unwrap(), b"kernel bytes");
/// assert!(root.join("pxelinux.cfg/01-52-54-00-12-34-56").exists());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PxeBoot {
    flavor: Flavor,
    config: Arc<PxeConfig>,
    driver_info: DriverInfo,
    management: Option<Arc<dyn Management>>,
    cache: Arc<ImageCache>,
}

impl PxeBoot {
    /// The interface for a node with `driver_info`, setting boot devices through
    /// `management` (skipped with a warning when `None`: [`PxeBoot::sets_boot_device`]).
    pub fn new(
        flavor: Flavor,
        config: Arc<PxeConfig>,
        driver_info: DriverInfo,
        management: Option<Arc<dyn Management>>,
    ) -> Self {
        let cache = ImageCache::shared(&config, flavor == Flavor::Ipxe);
        PxeBoot {
            flavor,
            config,
            driver_info,
            management,
            cache,
        }
    }

    /// Which interface this is.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};
    /// let boot = PxeBoot::new(Flavor::Ipxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// assert_eq!(boot.flavor(), Flavor::Ipxe);
    /// ```
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The root this interface writes under.
    ///
    /// ```
    /// use std::{path::Path, sync::Arc};
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};
    /// let config = Arc::new(PxeConfig::with_roots(Path::new("/srv/boot"), "http://192.0.2.1:8080"));
    /// assert_eq!(PxeBoot::new(Flavor::Pxe, config.clone(), Default::default(), None).root(), Path::new("/srv/boot/tftpboot"));
    /// assert_eq!(PxeBoot::new(Flavor::Ipxe, config, Default::default(), None).root(), Path::new("/srv/boot/httpboot"));
    /// ```
    pub fn root(&self) -> &Path {
        match self.flavor {
            Flavor::Pxe => &self.config.tftp_root,
            Flavor::Ipxe => &self.config.http_root,
        }
    }

    /// The shared master-image cache.
    ///
    /// ```
    /// use std::{path::Path, sync::Arc};
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};
    /// let config = Arc::new(PxeConfig::with_roots(Path::new("/srv/boot"), "http://192.0.2.1:8080"));
    /// let a = PxeBoot::new(Flavor::Pxe, config.clone(), Default::default(), None);
    /// let b = PxeBoot::new(Flavor::Pxe, config, Default::default(), None);
    /// assert!(Arc::ptr_eq(a.cache(), b.cache())); // one cache per master directory
    /// assert!(a.cache().dir().starts_with("/srv/boot/tftpboot"));
    /// ```
    pub fn cache(&self) -> &Arc<ImageCache> {
        &self.cache
    }

    /// The boot mode of `node` (its `boot_mode` capability, else `default_boot_mode`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::{BootMode, NodeContext};
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};
    /// let boot = PxeBoot::new(Flavor::Pxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// let mut node = NodeContext::new("n1");
    /// assert_eq!(boot.boot_mode(&node), BootMode::Uefi); // default_boot_mode
    /// node.capabilities.insert("boot_mode".into(), "bios".into());
    /// assert_eq!(boot.boot_mode(&node), BootMode::Bios);
    /// ```
    pub fn boot_mode(&self, node: &NodeContext) -> BootMode {
        node.boot_mode()
            .unwrap_or(self.config.default_boot_mode.into())
    }

    /// The MAC link names of `node` relative to the root.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::NodeContext;
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};
    /// let node = NodeContext::new("n1").with_port("52:54:00:12:34:56".parse().unwrap());
    /// let ipxe = PxeBoot::new(Flavor::Ipxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// assert_eq!(ipxe.mac_links(&node), ["pxelinux.cfg/52-54-00-12-34-56"]);
    /// let pxe = PxeBoot::new(Flavor::Pxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// assert_eq!(pxe.mac_links(&node).len(), 3);
    /// ```
    pub fn mac_links(&self, node: &NodeContext) -> Vec<String> {
        node.ports
            .iter()
            .flat_map(|m| match self.flavor {
                Flavor::Pxe => layout::pxe_mac_links(m).to_vec(),
                Flavor::Ipxe => layout::ipxe_mac_links(m).to_vec(),
            })
            .collect()
    }

    /// Where a staged file is referenced from the node's configuration.
    fn file_ref(&self, mode: BootMode, id: &str, name: &str) -> String {
        match self.flavor.loader(mode) {
            Loader::Pxelinux => format!("{id}/{name}"),
            Loader::Grub => format!("/{id}/{name}"),
            Loader::Ipxe => format!("{}/{id}/{name}", self.config.http_url.trim_end_matches('/')),
        }
    }

    fn template(&self, loader: Loader) -> Result<String> {
        let path = match loader {
            Loader::Pxelinux => self.config.pxe_config_template.as_deref(),
            Loader::Grub => self.config.uefi_pxe_config_template.as_deref(),
            Loader::Ipxe => self.config.ipxe_config_template.as_deref(),
        };
        render::load_template(path, loader.template_key(), loader.default_template())
    }

    /// The `pxe_options` a template is rendered with (Ironic's names; ramdisk
    /// parameters also by their own key, e.g. `pxe_options['ipa-api-url']`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming a parameter that cannot go on a
    /// kernel command line.
    ///
    /// ```
    /// use std::{collections::BTreeMap, sync::Arc};
    /// use hwctl_core::NodeContext;
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig, RamdiskKind};
    /// let boot = PxeBoot::new(Flavor::Pxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// let params = BTreeMap::from([("ipa-api-url".to_owned(), "http://192.0.2.1:6385".to_owned())]);
    /// let o = boot.pxe_options(&NodeContext::new("n1"), RamdiskKind::Deploy, &params, "")?;
    /// assert_eq!(o["ipa-api-url"], "http://192.0.2.1:6385");
    /// let bad = BTreeMap::from([("x y".to_owned(), "1".to_owned())]);
    /// assert!(boot.pxe_options(&NodeContext::new("n1"), RamdiskKind::Deploy, &bad, "").is_err());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn pxe_options(
        &self,
        node: &NodeContext,
        kind: RamdiskKind,
        params: &BTreeMap<String, String>,
        ramdisk_opts: &str,
    ) -> Result<Map<String, Value>> {
        let id = inputs::node_dir_name(node)?;
        let mode = self.boot_mode(node);
        let (k, r) = kind.keys();
        let extra = inputs::params_cmdline(params)?;
        let append = [self.config.pxe_append_params.trim(), extra.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let mut o = Map::new();
        for (key, v) in params {
            o.insert(key.clone(), Value::String(v.clone()));
        }
        o.insert(
            "deployment_aki_path".into(),
            self.file_ref(mode, &id, k).into(),
        );
        o.insert(
            "deployment_ari_path".into(),
            self.file_ref(mode, &id, r).into(),
        );
        o.insert("aki_path".into(), self.file_ref(mode, &id, "kernel").into());
        o.insert(
            "ari_path".into(),
            self.file_ref(mode, &id, "ramdisk").into(),
        );
        o.insert("pxe_append_params".into(), append.into());
        o.insert("tftp_server".into(), self.config.tftp_server.clone().into());
        o.insert("ipxe_timeout".into(), self.config.ipxe_timeout.into());
        o.insert("ramdisk_opts".into(), ramdisk_opts.into());
        Ok(o)
    }

    /// Renders the node's ramdisk configuration (what `prepare_ramdisk` writes).
    ///
    /// # Errors
    ///
    /// As [`PxeBoot::pxe_options`]; a template that does not render names its key.
    ///
    /// ```
    /// use std::{collections::BTreeMap, sync::Arc};
    /// use hwctl_core::NodeContext;
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig, RamdiskKind};
    /// let boot = PxeBoot::new(Flavor::Ipxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// let text = boot.render_ramdisk_config(&NodeContext::new("n1"), RamdiskKind::Rescue, &BTreeMap::new())?;
    /// assert!(text.starts_with("#!ipxe"));
    /// assert!(text.contains("rescue_kernel") && text.contains("rescue_ramdisk"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn render_ramdisk_config(
        &self,
        node: &NodeContext,
        kind: RamdiskKind,
        params: &BTreeMap<String, String>,
    ) -> Result<String> {
        let loader = self.flavor.loader(self.boot_mode(node));
        let opts = self.pxe_options(node, kind, params, "")?;
        render::render(&self.template(loader)?, loader.template_key(), &opts)
    }

    /// Prepares the deploy or rescue ramdisk (see [`Boot::prepare_ramdisk`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) naming `deploy_kernel`/`deploy_ramdisk`
    /// (or `rescue_*`) or `ports`; [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter) naming the key of
    /// an unreadable image, a bad parameter or the node `id`; the management
    /// interface's errors when setting the boot device. On any error nothing of the
    /// node is left under the root.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::{collections::BTreeMap, sync::Arc};
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig, RamdiskKind};
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = Arc::new(PxeConfig::with_roots(dir.path(), "http://127.0.0.1:8080"));
    /// let boot = PxeBoot::new(Flavor::Ipxe, config, DriverInfo::new(), None);
    /// let node = NodeContext::new("n1").with_port("52:54:00:12:34:56".parse().unwrap());
    /// let err = boot.prepare_ramdisk_kind(&node, &BTreeMap::new(), RamdiskKind::Rescue).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingParameter);
    /// assert!(err.to_string().contains("rescue_kernel"));
    /// # }
    /// ```
    pub async fn prepare_ramdisk_kind(
        &self,
        node: &NodeContext,
        params: &BTreeMap<String, String>,
        kind: RamdiskKind,
    ) -> Result<()> {
        let (kernel, ramdisk) = inputs::ramdisk_images(&self.driver_info, kind)?;
        node.require_ports()?;
        let config = self.render_ramdisk_config(node, kind, params)?;
        let (kn, rn) = kind.keys();
        let res = self
            .publish(node, &[(&kernel, kn), (&ramdisk, rn)], &config)
            .await;
        if let Err(e) = res {
            let _ = self.remove_node(node, &RAMDISK_FILES);
            return Err(e);
        }
        // Ironic: PXE for the next boot unless driver_info force_persistent_boot_device.
        let persistent = matches!(
            self.driver_info
                .get_str("force_persistent_boot_device")
                .as_deref(),
            Some("True" | "true" | "Always" | "always")
        );
        if let Err(e) = self
            .set_boot_device(node, BootDevice::Pxe, persistent)
            .await
        {
            let _ = self.remove_node(node, &RAMDISK_FILES);
            return Err(e);
        }
        Ok(())
    }

    /// Whether this interface sets the node's boot device when it prepares a boot:
    /// `false` without a management interface (Wake-on-LAN, iBoot). Then, as with
    /// Ironic's `noop` management interface, a prepare succeeds without setting it
    /// (with a warning in the log): the machine must already try the network first,
    /// then its disk.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};
    /// let boot = PxeBoot::new(Flavor::Pxe, Arc::new(PxeConfig::default()), Default::default(), None);
    /// assert!(!boot.sets_boot_device());
    /// ```
    pub fn sets_boot_device(&self) -> bool {
        self.management.is_some()
    }

    async fn set_boot_device(
        &self,
        node: &NodeContext,
        device: BootDevice,
        persistent: bool,
    ) -> Result<()> {
        match &self.management {
            Some(m) => m.set_boot_device(device, persistent).await,
            None => {
                tracing::warn!(
                    node = %node.id,
                    "boot device {device} not set: the node has no management interface, so it \
                     must already boot from the network first (then its disk)"
                );
                Ok(())
            }
        }
    }

    /// Stages images, writes the configuration and the MAC links, and the shared
    /// file of the loader.
    async fn publish(
        &self,
        node: &NodeContext,
        images: &[(&ImageRef, &str)],
        config: &str,
    ) -> Result<()> {
        let id = inputs::node_dir_name(node)?;
        let root = self.root();
        let dmode = self.config.dir_permission;
        let fmode = self.config.file_permission;
        layout::ensure_dir(root, dmode)?;
        let node_dir = root.join(&*id);
        layout::ensure_dir(&node_dir, dmode)?;
        for (img, name) in images {
            self.cache.link_into(img, &node_dir.join(name)).await?;
        }
        layout::write_atomic(&node_dir.join(CONFIG_NAME), config.as_bytes(), fmode)?;
        let target_rel = PathBuf::from(&*id).join(CONFIG_NAME);
        let wanted = self.mac_links(node);
        for link in &wanted {
            let dest = root.join(link);
            let depth = Path::new(link).components().count() - 1;
            let mut target = PathBuf::new();
            for _ in 0..depth {
                target.push("..");
            }
            target.push(&target_rel);
            if let Some(parent) = dest.parent() {
                layout::ensure_dir(parent, dmode)?;
            }
            layout::symlink_atomic(&target, &dest)?;
        }
        // Links of ports the node no longer has.
        for stale in self.links_to(node)? {
            if !wanted.iter().any(|w| root.join(w) == stale) {
                layout::remove_file(&stale)?;
            }
        }
        match self.flavor {
            Flavor::Ipxe => {
                let tmpl = render::load_template(
                    self.config.ipxe_boot_script.as_deref(),
                    "ipxe_boot_script",
                    render::BOOT_IPXE_TEMPLATE,
                )?;
                let uri = format!(
                    "{}/{PXE_CFG_DIR}/",
                    self.config.http_url.trim_end_matches('/')
                );
                let script = render::render_boot_ipxe(&tmpl, &uri)?;
                layout::write_atomic(&root.join(BOOT_IPXE), script.as_bytes(), fmode)?;
            }
            Flavor::Pxe => {
                let master = root.join(GRUB_MASTER);
                if let Some(parent) = master.parent() {
                    layout::ensure_dir(parent, dmode)?;
                }
                layout::write_atomic(&master, render::GRUB_MASTER_CONFIG.as_bytes(), fmode)?;
            }
        }
        Ok(())
    }

    /// Every symbolic link under the root's MAC-link places pointing to this
    /// node's configuration (so a port removed since prepare is still cleaned up).
    fn links_to(&self, node: &NodeContext) -> Result<Vec<PathBuf>> {
        let id = inputs::node_dir_name(node)?;
        let root = self.root();
        let target_suffix = PathBuf::from(&*id).join(CONFIG_NAME);
        let mut out = Vec::new();
        for dir in [root.to_path_buf(), root.join(PXE_CFG_DIR)] {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if let Ok(t) = std::fs::read_link(&p) {
                    let normal: PathBuf = t
                        .components()
                        .filter(|c| matches!(c, std::path::Component::Normal(_)))
                        .collect();
                    if normal == target_suffix {
                        out.push(p);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Removes the node's links, config and the given files; the node's directory
    /// when empty; the shared files and empty directories when no node is left.
    fn remove_node(&self, node: &NodeContext, files: &[&str]) -> Result<()> {
        let id = inputs::node_dir_name(node)?;
        let root = self.root();
        for link in self.links_to(node)? {
            layout::remove_file(&link)?;
        }
        let node_dir = root.join(&*id);
        for f in files.iter().chain(std::iter::once(&CONFIG_NAME)) {
            layout::remove_file(&node_dir.join(f))?;
        }
        // Temporary files a crashed write left behind.
        if let Ok(rd) = std::fs::read_dir(&node_dir) {
            for e in rd.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(layout::TMP_PREFIX)
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        layout::remove_empty_dir(&node_dir);
        if !self.any_node_left() {
            match self.flavor {
                Flavor::Ipxe => layout::remove_file(&root.join(BOOT_IPXE))?,
                Flavor::Pxe => {
                    layout::remove_file(&root.join(GRUB_MASTER))?;
                    layout::remove_empty_dir(&root.join("grub"));
                }
            }
        }
        layout::remove_empty_dir(&root.join(PXE_CFG_DIR));
        Ok(())
    }

    fn any_node_left(&self) -> bool {
        let root = self.root();
        let master = self.cache.dir();
        std::fs::read_dir(root).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                let p = e.path();
                let name = e.file_name();
                let name = name.to_string_lossy();
                p.is_dir()
                    && !layout::RESERVED.contains(&name.as_ref())
                    && p != master
                    && p.join(CONFIG_NAME).exists()
            })
        })
    }
}

#[async_trait]
impl Boot for PxeBoot {
    async fn prepare_ramdisk(
        &self,
        node: &NodeContext,
        params: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.prepare_ramdisk_kind(node, params, RamdiskKind::Deploy)
            .await
    }

    async fn clean_up_ramdisk(&self, node: &NodeContext) -> Result<()> {
        self.remove_node(node, &RAMDISK_FILES)?;
        self.cache.evict().await;
        Ok(())
    }

    async fn prepare_instance(&self, node: &NodeContext) -> Result<()> {
        let ii = inputs::instance_inputs(node)?;
        let (label, images) = match (ii.boot_option, &ii.images) {
            (BootOption::Local, _) | (_, None) => {
                self.remove_node(
                    node,
                    &[INSTANCE_FILES.as_slice(), RAMDISK_FILES.as_slice()].concat(),
                )?;
                return self.set_boot_device(node, BootDevice::Disk, true).await;
            }
            (BootOption::Netboot, Some(i)) => ("boot_partition", i),
            (BootOption::Ramdisk, Some(i)) => ("boot_ramdisk", i),
        };
        node.require_ports()?;
        let mode = self.boot_mode(node);
        let loader = self.flavor.loader(mode);
        let append = &ii.ramdisk_kernel_arguments;
        let ramdisk_opts = [self.config.pxe_append_params.trim(), append.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let opts = self.pxe_options(node, RamdiskKind::Deploy, &BTreeMap::new(), &ramdisk_opts)?;
        let rendered = render::render(&self.template(loader)?, loader.template_key(), &opts)?;
        let root = ii
            .root_uuid
            .as_deref()
            .map(|u| format!("UUID={u}"))
            .unwrap_or_default();
        let config = render::switch_label(&rendered, loader, label, &root);
        let (k, r) = images;
        if let Err(e) = self
            .publish(node, &[(k, "kernel"), (r, "ramdisk")], &config)
            .await
        {
            let _ = self.remove_node(node, &INSTANCE_FILES);
            return Err(e);
        }
        // The ramdisk's files are no longer needed once the instance boots.
        let node_dir = self.root().join(&*inputs::node_dir_name(node)?);
        for f in RAMDISK_FILES {
            layout::remove_file(&node_dir.join(f))?;
        }
        self.set_boot_device(node, BootDevice::Pxe, true).await
    }

    async fn clean_up_instance(&self, node: &NodeContext) -> Result<()> {
        self.remove_node(node, &INSTANCE_FILES)?;
        self.cache.evict().await;
        Ok(())
    }

    async fn validate(&self, node: &NodeContext) -> Result<()> {
        inputs::node_dir_name(node)?;
        inputs::ramdisk_images(&self.driver_info, RamdiskKind::Deploy)?;
        node.require_ports()?;
        inputs::instance_inputs(node)?;
        Ok(())
    }
}
