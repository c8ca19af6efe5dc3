//! Every hardware type this build of `hwctl` knows.

use hwctl_core::Registry;

/// A registry with every hardware type compiled in.
pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(hwctl_core::fake::hardware_type());
    r.register(hwctl_wol::hardware_type());
    r.register(hwctl_iboot::hardware_type());
    r.register(hwctl_ocs::hardware_type());
    r.register(hwctl_ipmi::hardware_type());
    r.register(hwctl_nodemanager::hardware_type());
    r.register(hwctl_oneview::hardware_type());
    r.register(hwctl_amt::hardware_type());
    r.register(hwctl_redfish::hardware_type());
    r.register(hwctl_openbmc::hardware_type());
    #[cfg(feature = "libvirt")]
    r.register(hwctl_libvirt::hardware_type());
    // one line per driver crate, e.g. r.register(hwctl_iboot::hardware_type());
    r
}
