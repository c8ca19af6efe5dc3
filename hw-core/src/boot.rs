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
#[async_trait]
pub trait Boot: Send + Sync + fmt::Debug {
    /// Prepares the deploy/rescue ramdisk boot; `params` go to the ramdisk's command line.
    async fn prepare_ramdisk(
        &self,
        node: &NodeContext,
        params: &BTreeMap<String, String>,
    ) -> Result<()>;

    /// Removes what `prepare_ramdisk` set up.
    async fn clean_up_ramdisk(&self, node: &NodeContext) -> Result<()>;

    /// Prepares the boot of the deployed instance.
    async fn prepare_instance(&self, node: &NodeContext) -> Result<()>;

    /// Removes what `prepare_instance` set up.
    async fn clean_up_instance(&self, node: &NodeContext) -> Result<()>;

    /// Checks the node's inputs (driver_info, instance_info, ports) without touching
    /// anything; the default accepts everything.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`](crate::ErrorKind::MissingParameter) /
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) naming
    /// every key at fault.
    async fn validate(&self, node: &NodeContext) -> Result<()> {
        let _ = node;
        Ok(())
    }
}

/// What a boot interface is built from for one node.
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
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A one-line description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The `driver_info` properties it reads (`deploy_kernel`, …).
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// Builds the interface for one node. Errors carry this interface's name as driver
    /// unless the build named one.
    ///
    /// # Errors
    ///
    /// What the build function returns (usually none: node inputs are checked later).
    pub fn build(&self, input: BootBuild<'_>) -> Result<Arc<dyn Boot>> {
        (self.build)(input).map_err(|e| e.or_driver(self.name.clone()))
    }
}
