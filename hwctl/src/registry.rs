//! Every hardware type this build of `hwctl` knows.

use hwctl_core::registry::HardwareType;
use hwctl_core::{Error, ErrorKind, Registry, Result};

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
/// An unknown name is [`ErrorKind::InvalidParameter`] (a usage error, exit 2): the
/// message lists the enabled types and, when one is close (a typo such as `ipmii`),
/// asks "did you mean `ipmi`?" — the same Jaro-Winkler ≥ 0.8 rule
/// ([`hwctl_core::driver_info::did_you_mean`], `strsim`) hw-core applies to unknown
/// `driver_info` keys.
pub(crate) fn hardware_type<'r>(registry: &'r Registry, name: &str) -> Result<&'r HardwareType> {
    registry.get(name).map_err(|e| unknown(registry, name, &e))
}

/// The usage error for an unknown hardware type `name`, from the registry's own
/// `NotFound` error `e` (which lists the enabled types).
fn unknown(registry: &Registry, name: &str, e: &Error) -> Error {
    let names: Vec<&str> = registry.hardware_types().map(HardwareType::name).collect();
    let message = match suggest(name, &names) {
        Some(close) => format!("{}; did you mean `{close}`?", e.message()),
        None => e.message().to_owned(),
    };
    Error::new(ErrorKind::InvalidParameter, message)
}

/// The name a user probably meant: a close spelling (`ipmii` → `ipmi`), or the
/// type whose name is `name` with its `staging-` prefix or vendor prefix left off
/// (`iboot` → `staging-iboot`, `ocs` → `msftocs`).
pub(crate) fn suggest<'n>(name: &str, names: &[&'n str]) -> Option<&'n str> {
    let lower = name.to_ascii_lowercase();
    let short = names.iter().copied().find(|n| {
        n.strip_prefix("staging-") == Some(lower.as_str())
            || (lower.len() >= 3 && n.len() > lower.len() && n.ends_with(lower.as_str()))
    });
    short.or_else(|| hwctl_core::driver_info::did_you_mean(name, names.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = hardware_type(&r, "zzzzzz").unwrap_err();
        assert!(!err.message().contains("did you mean"), "{err}");
        assert!(err.message().contains("fake-hardware"), "{err}");
        assert_eq!(
            hardware_type(&r, "ipmi").map(HardwareType::name).ok(),
            Some("ipmi")
        );
    }
}
