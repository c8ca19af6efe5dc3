#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod boot;
pub mod cache;
pub mod config;
pub mod dhcp;
pub mod http;
pub mod inputs;
pub mod layout;
pub mod render;
pub mod served;
pub mod tftp;

use std::sync::Arc;

use hwctl_core::{BootInterface, Property};

pub use boot::{Flavor, PxeBoot};
pub use cache::ImageCache;
pub use config::PxeConfig;
pub use http::HttpServer;
pub use inputs::{BootOption, ImageRef, RamdiskKind};
pub use served::{Outcome, Served};
pub use tftp::{TftpOptions, TftpServer};

/// The `pxe` boot interface's name.
pub const PXE: &str = "pxe";
/// The `ipxe` boot interface's name.
pub const IPXE: &str = "ipxe";

/// The `driver_info` properties both boot interfaces read.
pub const PROPERTIES: &[Property] = &[
    Property::optional(
        "deploy_kernel",
        "The deploy kernel: an absolute path, file:// or http(s):// URL. Required to prepare the deploy ramdisk.",
    ),
    Property::optional(
        "deploy_ramdisk",
        "The deploy ramdisk: an absolute path, file:// or http(s):// URL. Required to prepare the deploy ramdisk.",
    ),
    Property::optional("rescue_kernel", "The rescue kernel (as deploy_kernel)."),
    Property::optional("rescue_ramdisk", "The rescue ramdisk (as deploy_ramdisk)."),
    Property::optional(
        "deploy_kernel_checksum",
        "Checksum of deploy_kernel: sha256:HEX, sha512:HEX, md5:HEX or bare hex (likewise <key>_checksum for the other images).",
    ),
    Property::optional(
        "deploy_ramdisk_checksum",
        "Checksum of deploy_ramdisk (as deploy_kernel_checksum).",
    ),
    Property::optional(
        "rescue_kernel_checksum",
        "Checksum of rescue_kernel (as deploy_kernel_checksum).",
    ),
    Property::optional(
        "rescue_ramdisk_checksum",
        "Checksum of rescue_ramdisk (as deploy_kernel_checksum).",
    ),
    Property::optional(
        "force_persistent_boot_device",
        "True or Always: set the boot device to PXE persistently when preparing a ramdisk (default: next boot only).",
    ),
];

fn interface(flavor: Flavor, config: Arc<PxeConfig>) -> BootInterface {
    let description = match flavor {
        Flavor::Pxe => "PXE: pxelinux (BIOS) or GRUB (UEFI) over TFTP from tftp_root.",
        Flavor::Ipxe => "iPXE: scripts, kernels and ramdisks over HTTP from http_root.",
    };
    BootInterface::new(flavor.name(), description, PROPERTIES.to_vec(), move |b| {
        Ok(Arc::new(PxeBoot::new(
            flavor,
            config.clone(),
            b.driver_info.clone(),
            b.management.clone(),
        )))
    })
}

/// The `pxe` boot interface with `config`, for [`hwctl_core::Registry::register_boot_interface`].
pub fn pxe_boot_interface(config: Arc<PxeConfig>) -> BootInterface {
    interface(Flavor::Pxe, config)
}

/// The `ipxe` boot interface with `config`.
pub fn ipxe_boot_interface(config: Arc<PxeConfig>) -> BootInterface {
    interface(Flavor::Ipxe, config)
}

/// Both boot interfaces with one configuration.
///
/// ```
/// let mut r = hwctl_core::Registry::new();
/// r.register(hwctl_core::fake::hardware_type());
/// for b in hwctl_pxe::boot_interfaces(std::sync::Arc::new(hwctl_pxe::PxeConfig::default())) {
///     r.register_boot_interface(b);
/// }
/// let node = r.build("fake-hardware", &hwctl_core::DriverInfo::new(), &hwctl_core::NodeContext::new("n1")).unwrap();
/// assert_eq!(node.boot_interface(), Some("pxe"));
/// ```
pub fn boot_interfaces(config: Arc<PxeConfig>) -> [BootInterface; 2] {
    [
        pxe_boot_interface(config.clone()),
        ipxe_boot_interface(config),
    ]
}
