//! The boot interface: prepare and clean up what a node boots (PXE, iPXE, …), and
//! the named boot interfaces a [`Registry`](crate::Registry) composes with hardware
//! types.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::driver_info::{DriverInfo, Property};
use crate::error::Result;
use crate::management::Management;
use crate::node::NodeContext;

/// Prepares the environment a node boots into (Ironic's `BootInterface`).
///
/// # Contract
///
/// - Every method is idempotent: preparing twice leaves one preparation (the second
///   replaces the first), cleaning up what is not there succeeds.
/// - After `prepare_ramdisk`: the deploy (or rescue) kernel and ramdisk and the
///   node's boot configuration are on disk where the node's firmware looks for them,
///   under every port MAC; the node's boot device is set to network boot (through
///   the node's [`Management`], when it has one).
/// - After `clean_up_ramdisk`: nothing `prepare_ramdisk` wrote for this node is left
///   (shared caches may keep an image other nodes still use).
/// - After `prepare_instance`: what the deployed instance boots from (for a network
///   boot, its kernel, ramdisk and configuration; for a local boot, nothing on disk,
///   and the boot device set to disk).
/// - After `clean_up_instance`: nothing `prepare_instance` wrote is left.
/// - A failed call leaves no half-written file a booting node could read.
/// - Each is given the node (id, port MACs, boot mode, instance info); the
///   interface was built for this node (see [`BootInterface`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::{Boot, BootDevice, Management, NodeContext, fake::{FakeBoot, FakeManagement}};
/// let mgmt = Arc::new(FakeManagement::default());
/// let boot = FakeBoot::new(Some(mgmt.clone()));
/// let node = NodeContext::new("n1");
/// // A deploy: network-boot the ramdisk, then the instance from disk.
/// boot.prepare_ramdisk(&node, &Default::default()).await?;
/// boot.prepare_instance(&node).await?;
/// boot.clean_up_ramdisk(&node).await?;
/// assert_eq!(mgmt.get_boot_device().await?.device, Some(BootDevice::Disk));
/// assert_eq!(boot.calls(), ["prepare_ramdisk", "prepare_instance", "clean_up_ramdisk"]);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Boot: Send + Sync + fmt::Debug {
    /// Prepares the deploy/rescue ramdisk boot; `params` go to the ramdisk's command line.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::collections::BTreeMap;
    /// use std::sync::Arc;
    /// use hwctl_core::{Boot, BootDevice, Management, NodeContext, fake::{FakeBoot, FakeManagement}};
    /// let mgmt = Arc::new(FakeManagement::default());
    /// let boot = FakeBoot::new(Some(mgmt.clone()));
    /// let node = NodeContext::new("n1");
    /// let params = BTreeMap::from([("ipa-debug".to_owned(), "1".to_owned())]);
    /// boot.prepare_ramdisk(&node, &params).await?;
    /// // The node network-boots the ramdisk next (once).
    /// let next = mgmt.get_boot_device().await?;
    /// assert_eq!((next.device, next.persistent), (Some(BootDevice::Pxe), Some(false)));
    /// # Ok(()) }
    /// ```
    async fn prepare_ramdisk(
        &self,
        node: &NodeContext,
        params: &BTreeMap<String, String>,
    ) -> Result<()>;

    /// Removes what `prepare_ramdisk` set up.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::{Boot, BootDevice, Management, NodeContext, fake::{FakeBoot, FakeManagement}};
    /// let mgmt = Arc::new(FakeManagement::default());
    /// let boot = FakeBoot::new(Some(mgmt.clone()));
    /// let node = NodeContext::new("n1");
    /// boot.clean_up_ramdisk(&node).await?; // nothing prepared: still Ok (idempotent)
    /// boot.prepare_ramdisk(&node, &Default::default()).await?;
    /// boot.clean_up_ramdisk(&node).await?;
    /// assert_eq!(boot.calls().len(), 3);
    /// # Ok(()) }
    /// ```
    async fn clean_up_ramdisk(&self, node: &NodeContext) -> Result<()>;

    /// Prepares the boot of the deployed instance.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::{Boot, BootDevice, Management, NodeContext, fake::{FakeBoot, FakeManagement}};
    /// let mgmt = Arc::new(FakeManagement::default());
    /// let boot = FakeBoot::new(Some(mgmt.clone()));
    /// let node = NodeContext::new("n1");
    /// boot.prepare_instance(&node).await?;
    /// let next = mgmt.get_boot_device().await?; // a local boot: disk, every boot
    /// assert_eq!((next.device, next.persistent), (Some(BootDevice::Disk), Some(true)));
    /// # Ok(()) }
    /// ```
    async fn prepare_instance(&self, node: &NodeContext) -> Result<()>;

    /// Removes what `prepare_instance` set up.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::{Boot, BootDevice, Management, NodeContext, fake::{FakeBoot, FakeManagement}};
    /// let mgmt = Arc::new(FakeManagement::default());
    /// let boot = FakeBoot::new(Some(mgmt.clone()));
    /// let node = NodeContext::new("n1");
    /// boot.prepare_instance(&node).await?;
    /// boot.clean_up_instance(&node).await?;
    /// boot.clean_up_instance(&node).await?; // twice: still Ok
    /// assert_eq!(boot.calls(), ["prepare_instance", "clean_up_instance", "clean_up_instance"]);
    /// # Ok(()) }
    /// ```
    async fn clean_up_instance(&self, node: &NodeContext) -> Result<()>;

    /// Checks the node's inputs (driver_info, instance_info, ports) without touching
    /// anything; the default accepts everything.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`](crate::ErrorKind::MissingParameter) /
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) naming
    /// every key at fault.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Boot, NodeContext, fake::FakeBoot};
    /// // The default accepts everything; an interface that reads ports or images checks them.
    /// FakeBoot::new(None).validate(&NodeContext::new("n1")).await?;
    /// # Ok(()) }
    /// ```
    async fn validate(&self, node: &NodeContext) -> Result<()> {
        let _ = node;
        Ok(())
    }
}

/// What a boot interface is built from for one node.
///
/// ```
/// use std::sync::Arc;
/// use hwctl_core::{BootInterface, DriverInfo, NodeContext, Registry, fake};
/// // What a build function receives, as a registry hands it over.
/// let checked = BootInterface::new("checked", "Needs a management interface.", vec![], |b| {
///     assert_eq!(b.context.id, "n1");
///     assert!(b.driver_info.contains("fake_power_state"));
///     match &b.management {
///         Some(m) => Ok(Arc::new(fake::FakeBoot::new(Some(m.clone())))),
///         None => Err(hwctl_core::Error::unsupported("a boot interface without management")),
///     }
/// });
/// let mut registry = Registry::new();
/// registry.register(fake::hardware_type().with_boot_interfaces(["checked"]));
/// registry.register_boot_interface(checked);
/// let info = DriverInfo::from_pairs([("fake_power_state", "on")]);
/// let node = registry.build_node("fake-hardware", &info, &NodeContext::new("n1"), Some("checked"))?;
/// assert_eq!(node.boot_interface(), Some("checked"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BootBuild<'a> {
    /// The node's `driver_info` (`deploy_kernel`, `deploy_ramdisk`, …).
    pub driver_info: &'a DriverInfo,
    /// The node's context.
    pub context: &'a NodeContext,
    /// The node's management interface (with the node's layers), so `prepare_*`
    /// can set the boot device; `None` when the hardware type has none.
    pub management: Option<Arc<dyn Management>>,
}

type BootBuildFn = dyn Fn(BootBuild<'_>) -> Result<Arc<dyn Boot>> + Send + Sync;

/// A named boot interface (Ironic's `boot_interface`, e.g. `pxe`, `ipxe`): chosen
/// per node, independently of the hardware type, among those the hardware type
/// supports ([`HardwareType::with_boot_interfaces`](crate::HardwareType::with_boot_interfaces)).
///
/// The build function captures the deployment's configuration (TFTP root, …) and
/// builds the node's interface without I/O and without failing on node inputs a
/// later call needs (those are reported by [`Boot::validate`] and by the call).
///
/// ```
/// use std::sync::Arc;
/// use hwctl_core::{BootInterface, fake::FakeBoot};
/// let pxe = BootInterface::new("fake", "Records calls.", vec![], |b| {
///     Ok(Arc::new(FakeBoot::new(b.management.clone())))
/// });
/// assert_eq!(pxe.name(), "fake");
/// ```
#[derive(Clone)]
pub struct BootInterface {
    name: String,
    description: String,
    properties: Vec<Property>,
    build: Arc<BootBuildFn>,
}

impl fmt::Debug for BootInterface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootInterface")
            .field("name", &self.name)
            .field(
                "properties",
                &self.properties.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl BootInterface {
    /// Describes a boot interface.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::{BootInterface, Property, fake::FakeBoot};
    /// const PROPS: &[Property] = &[Property::required("deploy_kernel", "Deploy kernel URL.")];
    /// let pxe = BootInterface::new("my-pxe", "PXE from my TFTP root.", PROPS.to_vec(), |b| {
    ///     Ok(Arc::new(FakeBoot::new(b.management.clone())))
    /// });
    /// assert_eq!((pxe.name(), pxe.properties().len()), ("my-pxe", 1));
    /// ```
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        properties: Vec<Property>,
        build: impl Fn(BootBuild<'_>) -> Result<Arc<dyn Boot>> + Send + Sync + 'static,
    ) -> Self {
        BootInterface {
            name: name.into(),
            description: description.into(),
            properties,
            build: Arc::new(build),
        }
    }

    /// The name (`pxe`).
    ///
    /// ```
    /// assert_eq!(hwctl_core::fake::boot_interface().name(), "fake");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A one-line description.
    ///
    /// ```
    /// let d = hwctl_core::fake::boot_interface().description().to_owned();
    /// assert_eq!(d, "Records boot calls and sets the boot device; writes nothing.");
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The `driver_info` properties it reads (`deploy_kernel`, …).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::{BootInterface, Property, fake::FakeBoot};
    /// let iface = BootInterface::new("x", ".", vec![
    ///     Property::required("deploy_kernel", "Kernel URL."),
    ///     Property::required("deploy_ramdisk", "Ramdisk URL."),
    /// ], |_| Ok(Arc::new(FakeBoot::new(None))));
    /// let names: Vec<_> = iface.properties().iter().map(|p| p.name.as_ref()).collect();
    /// assert_eq!(names, ["deploy_kernel", "deploy_ramdisk"]);
    /// ```
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// Builds the interface for one node. Errors carry this interface's name as driver
    /// unless the build named one.
    ///
    /// # Errors
    ///
    /// What the build function returns (usually none: node inputs are checked later).
    ///
    /// ```
    /// use hwctl_core::{BootInterface, DriverInfo, NodeContext, Registry, fake};
    /// // A failing build names the interface as driver ([`Registry::build_node`] calls it).
    /// let broken = BootInterface::new("broken", ".", vec![], |_| {
    ///     Err(hwctl_core::Error::protocol("no TFTP root configured"))
    /// });
    /// let mut registry = Registry::new();
    /// registry.register(fake::hardware_type().with_boot_interfaces(["broken"]));
    /// registry.register_boot_interface(broken);
    /// let err = registry
    ///     .build_node("fake-hardware", &DriverInfo::new(), &NodeContext::new("n1"), Some("broken"))
    ///     .unwrap_err();
    /// assert_eq!(err.driver(), Some("broken"));
    /// assert_eq!(err.to_string(), "broken: no TFTP root configured");
    /// ```
    pub fn build(&self, input: BootBuild<'_>) -> Result<Arc<dyn Boot>> {
        (self.build)(input).map_err(|e| e.or_driver(self.name.clone()))
    }
}
