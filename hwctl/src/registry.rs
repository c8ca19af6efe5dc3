//! Every hardware type this build of `hwctl` knows.

use hw_core::Registry;

/// A registry with every hardware type compiled in.
pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(hw_core::fake::hardware_type());
    r.register(hw_wol::hardware_type());
    r.register(hw_iboot::hardware_type());
    r.register(hw_ocs::hardware_type());
    r.register(hw_ipmi::hardware_type());
    r.register(hw_nodemanager::hardware_type());
    r.register(hw_oneview::hardware_type());
    r.register(hw_amt::hardware_type());
    r.register(hw_redfish::hardware_type());
    r.register(hw_openbmc::hardware_type());
    #[cfg(feature = "libvirt")]
    r.register(hw_libvirt::hardware_type());
    // one line per driver crate, e.g. r.register(hw_iboot::hardware_type());
    r
}
