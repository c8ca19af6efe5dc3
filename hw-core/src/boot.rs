//! The boot interface: prepare and clean up what a node boots (PXE, iPXE, …).

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::error::Result;
use crate::node::NodeContext;

/// Prepares the environment a node boots into (Ironic's `BootInterface`).
///
/// # Contract
///
/// Every method is idempotent: preparing twice leaves one preparation, cleaning up
/// what is not there succeeds. Each is given the node (id, port MACs, boot mode,
/// instance info).
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
}
