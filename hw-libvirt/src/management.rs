//! The management interface: boot device by rewriting `<os><boot dev>` and
//! redefining the domain; boot mode read from the loader.

use std::sync::Arc;

use hwctl_core::management::ensure_boot_device;
use hwctl_core::{
    BootDevice, BootDeviceSetting, BootMode, Error, ErrorKind, Management, ManagementCapabilities,
    Result, async_trait,
};
use virt::domain::Domain;

use crate::client::{Connect, DomainRef};
use crate::config::LibvirtConfig;
use crate::errors::map_err;
use crate::xml::DomainXml;

/// The persistent (inactive) definition, with secrets (so redefining keeps them).
fn persistent_xml(dom: &Domain) -> Result<String> {
    dom.xml_desc(virt::sys::VIR_DOMAIN_XML_INACTIVE | virt::sys::VIR_DOMAIN_XML_SECURE)
        .map_err(|e| map_err("read domain XML", e))
}

fn set_boot(conn: &Connect, dom: &Domain, device: BootDevice) -> Result<bool> {
    let xml = persistent_xml(dom)?;
    let new = DomainXml::parse(&xml)?.with_boot_device(device)?;
    if new == xml {
        return Ok(false);
    }
    conn.define_domain_xml(&new)
        .map_err(|e| map_err("define domain", e))?;
    // libvirt silently drops <os><boot> in some shapes (a domain with a
    // <bootloader>): check the definition really says what we asked.
    let now = DomainXml::parse(&persistent_xml(dom)?)?.boot_device();
    if now != Some(device) {
        return Err(Error::new(
            ErrorKind::DeviceFault,
            format!(
                "libvirt accepted the new definition but its boot device reads back as {}; \
                 the domain's configuration (e.g. a <bootloader>) overrides <os><boot>",
                now.map_or("none".to_owned(), |d| d.to_string())
            ),
        ));
    }
    Ok(true)
}

/// Boot device and boot mode of one libvirt domain.
///
/// - Boot devices: `pxe` (`network`), `disk` (`hd`), `cdrom` (`cdrom`). Setting one
///   rewrites the persistent definition's `<os><boot dev=…/>` to name it alone and
///   redefines the domain; the rest of the XML is kept byte for byte. Per-device
///   `<boot order=…/>` elements (which libvirt refuses next to `<os><boot>`) are
///   removed. It takes effect at the next start of the domain.
/// - Every setting is persistent whatever `persistent` asks
///   ([`ManagementCapabilities::persistent_only`]); reads report `persistent: true`.
///   `persistent = false` is set persistently, as Ironic's staging-libvirt did (its
///   deploys ask for PXE on the next boot only), with a WARN log line saying so.
/// - Boot mode is read from the definition (`firmware='efi'`, a pflash or OVMF
///   loader → UEFI; other HVM guests → BIOS); setting it is unsupported.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management};
/// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtManagement};
/// let config = LibvirtConfig::new("test:///default", DomainSelector::Name("test".into()))?;
/// let mgmt = LibvirtManagement::new(config);
/// mgmt.set_boot_device(BootDevice::Pxe, false).await?;
/// let got = mgmt.get_boot_device().await?;
/// assert_eq!(got.device, Some(BootDevice::Pxe));
/// assert_eq!(got.persistent, Some(true)); // libvirt settings are always persistent
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LibvirtManagement {
    domain: Arc<DomainRef>,
}

impl LibvirtManagement {
    /// Management for the domain `config` selects.
    pub fn new(config: LibvirtConfig) -> Self {
        LibvirtManagement {
            domain: Arc::new(DomainRef::new(config)),
        }
    }

    pub(crate) fn from_ref(domain: Arc<DomainRef>) -> Self {
        LibvirtManagement { domain }
    }

    /// The domain's persistent XML definition, as libvirt returns it.
    ///
    /// # Errors
    ///
    /// `NotFound` (no such domain), `Unreachable`, `Unauthenticated`,
    /// `PermissionDenied`, `InvalidParameter` (a node file that does not load, MACs on
    /// two domains), `Timeout` (the per-call timeout), `DeviceFault`, `Other`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtManagement};
    /// let config = LibvirtConfig::new("test:///default", DomainSelector::Name("test".into()))?;
    /// let xml = LibvirtManagement::new(config).domain_xml().await?;
    /// assert!(xml.contains("<name>test</name>"), "{xml}");
    /// # Ok(()) }
    /// ```
    pub async fn domain_xml(&self) -> Result<String> {
        self.domain
            .with_domain("read domain XML", true, |_, dom| persistent_xml(dom))
            .await
    }
}

#[async_trait]
impl Management for LibvirtManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: vec![BootDevice::Pxe, BootDevice::Disk, BootDevice::Cdrom],
            can_get_boot_device: true,
            persistent_only: true,
            boot_modes: Vec::new(),
            can_get_boot_mode: true,
            sensors: false,
            nmi: false,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        let xml = self.domain_xml().await?;
        let device = DomainXml::parse(&xml)?.boot_device();
        Ok(BootDeviceSetting {
            device,
            persistent: Some(true),
        })
    }

    #[tracing::instrument(level = "debug", skip(self), fields(domain = %self.domain.config().domain()))]
    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device)?;
        if !persistent {
            // Honoured as persistent, as Ironic's staging-libvirt did, but not silently.
            tracing::warn!(
                %device,
                "boot device for the next boot only was asked, but libvirt keeps the boot \
                 device in the domain definition: it is set persistently (for every boot)"
            );
        }
        let changed = self
            .domain
            .with_domain("set boot device", true, move |conn, dom| {
                set_boot(conn, dom, device)
            })
            .await?;
        tracing::debug!(changed, "boot device set");
        Ok(())
    }

    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        let xml = self.domain_xml().await?;
        Ok(DomainXml::parse(&xml)?.boot_mode())
    }
}
