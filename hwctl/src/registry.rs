//! Every hardware type this build of `hwctl` knows.

use hwctl_core::registry::HardwareType;
use hwctl_core::{Registry, Result};

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

/// The hardware type `name` (`--driver`, an info file's `driver`, `properties TYPE`).
///
/// # Errors
///
/// An unknown name is the registry's [`ErrorKind::InvalidParameter`] naming
/// `driver` (a usage error, exit 2): the message lists the enabled types and, when
/// one is close (a typo such as `ipmii`, another case, a name without its
/// `staging-` prefix), asks "did you mean `ipmi`?" ([`Registry::suggest`]).
///
/// [`ErrorKind::InvalidParameter`]: hwctl_core::ErrorKind::InvalidParameter
pub(crate) fn hardware_type<'r>(registry: &'r Registry, name: &str) -> Result<&'r HardwareType> {
    registry.get(name)
}

/// The name among `names` a user probably meant by `name`: hw-core's rule
/// ([`hwctl_core::registry::suggest_among`], as [`Registry::suggest`]).
pub(crate) fn suggest<'n>(name: &str, names: &[&'n str]) -> Option<&'n str> {
    hwctl_core::registry::suggest_among(name, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hwctl_core::ErrorKind;

    #[test]
    fn a_close_name_is_suggested_and_a_far_one_is_not() {
        let r = registry();
        let err = hardware_type(&r, "ipmii").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        assert!(err.message().contains("did you mean `ipmi`?"), "{err}");
        for (short, full) in [
            ("iboot", "staging-iboot"),
            ("ocs", "msftocs"),
            ("nm", "staging-nm"),
        ] {
            let err = hardware_type(&r, short).unwrap_err();
            assert!(
                err.message().contains(&format!("did you mean `{full}`?")),
                "{err}"
            );
        }
        // Ironic's types and classic drivers hw lacks say what to use instead
        // (an operator trial's idrac and pxe_ipmitool nodes were only "unknown").
        for (ironic, use_instead) in [
            ("idrac", "use `redfish`"),
            ("ilo5", "use `redfish`"),
            ("pxe_ipmitool", "hardware type `ipmi`"),
            ("agent_iboot", "hardware type `staging-iboot`"),
            ("pxe_ilo", "use `redfish`"),
        ] {
            let err = hardware_type(&r, ironic).unwrap_err();
            assert!(err.message().contains(use_instead), "{ironic}: {err}");
        }
        let err = hardware_type(&r, "zzzzzz").unwrap_err();
        assert!(!err.message().contains("did you mean"), "{err}");
        assert!(err.message().contains("fake-hardware"), "{err}");
        assert_eq!(
            hardware_type(&r, "ipmi").map(HardwareType::name).ok(),
            Some("ipmi")
        );
    }
}
