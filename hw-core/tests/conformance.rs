//! The conformance suite passes on fake-hardware and fails on broken drivers.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use hwctl_core::testing::{Options, Outcome, check_capabilities, check_node, check_validation};
use hwctl_core::{
    BootDevice, BootDeviceSetting, Capabilities, DriverInfo, HardwareType, InterfaceKind,
    Management, ManagementCapabilities, Node, NodeContext, Power, PowerCapabilities, PowerState,
    PowerTarget, Property, Result, TypeCapabilities, async_trait, fake,
};

fn failed_names(report: &hwctl_core::testing::Report) -> Vec<String> {
    report.failures().iter().map(|c| c.name.clone()).collect()
}

#[tokio::test]
async fn fake_hardware_passes_everything() {
    let node = fake::hardware_type()
        .build(&DriverInfo::new(), &NodeContext::new("n"))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    report.assert_passed();
    assert!(report.passed() > 20, "{report}");
    check_validation(
        &fake::hardware_type(),
        &DriverInfo::new(),
        &NodeContext::new("n"),
    )
    .assert_passed();
}

/// Claims every target but never leaves Off, and powers on again on every call.
#[derive(Debug, Default)]
struct StuckOff;

#[async_trait]
impl Power for StuckOff {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off, PowerTarget::Reboot],
            recorded_only: Vec::new(),
        }
    }
    async fn get_power_state(&self) -> Result<PowerState> {
        Ok(PowerState::Off)
    }
    async fn set_power_state(&self, _t: PowerTarget, _timeout: Option<Duration>) -> Result<()> {
        Ok(())
    }
}

/// Accepts every boot device whatever it claims, and reads back the wrong persistence.
#[derive(Debug, Default)]
struct Sloppy(Mutex<BootDeviceSetting>);

#[async_trait]
impl Management for Sloppy {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: vec![BootDevice::Pxe],
            can_get_boot_device: true,
            ..Default::default()
        }
    }
    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        let s = *self.0.lock().unwrap();
        Ok(BootDeviceSetting {
            device: s.device,
            persistent: s.persistent.map(|p| !p),
        })
    }
    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        *self.0.lock().unwrap() = BootDeviceSetting::new(device, persistent);
        Ok(())
    }
}

#[tokio::test]
async fn a_broken_driver_fails_the_suite() {
    let node = Node::new("broken", NodeContext::new("n"))
        .with_power(Arc::new(StuckOff))
        .with_management(Arc::new(Sloppy::default()));
    let report = check_node(
        &node,
        &Options {
            power_timeout: Duration::from_millis(50),
            soft_power: true,
        },
    )
    .await;
    assert!(!report.is_ok());
    let failed = failed_names(&report);
    for expected in [
        "power on",
        "reboot from off powers on",
        "unsupported target soft-off answers Unsupported",
        "boot device pxe (persistent=false) round trip",
        "unsupported boot device disk answers Unsupported",
    ] {
        assert!(
            failed.iter().any(|f| f == expected),
            "{expected} should fail:\n{report}"
        );
    }
    // Checks that hold for this driver still pass: the suite is not failing blindly.
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name == "power off" && c.outcome == Outcome::Passed),
        "{report}"
    );
}

const PROPS: &[Property] = &[
    Property::required("x_address", "Address."),
    Property::required("x_password", "Password.").secret(),
];

/// A declaration of power with every target, nothing else.
fn power_declared() -> TypeCapabilities {
    TypeCapabilities::new(Capabilities {
        power: Some(PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }),
        ..Capabilities::default()
    })
}

/// A type whose nodes have fake-hardware's power and management (boot devices pxe,
/// disk, cdrom, bios, safe; boot modes; sensors; NMI), declaring `declared`.
fn fake_managed(declared: Option<TypeCapabilities>) -> HardwareType {
    let ht = HardwareType::new(
        "managed",
        "Fake power and management.",
        [InterfaceKind::Power, InterfaceKind::Management],
        vec![],
        |info, ctx| {
            info.validator(&[]).finish()?;
            Ok(Node::new("managed", ctx.clone())
                .with_power(Arc::new(fake::FakePower::new(PowerState::Off)))
                .with_management(Arc::new(fake::FakeManagement::default())))
        },
    );
    match declared {
        Some(d) => ht.with_capabilities(d),
        None => ht,
    }
}

/// What fake-hardware declares, minus one boot device (safe) and NMI.
fn declared_without_safe_and_nmi() -> TypeCapabilities {
    let mut caps = fake::hardware_type()
        .capabilities()
        .unwrap()
        .at_most()
        .clone();
    caps.console = false;
    caps.vendor.clear();
    let m = caps.management.as_mut().unwrap();
    m.boot_devices.retain(|d| *d != BootDevice::Safe);
    m.nmi = false;
    TypeCapabilities::new(caps)
}

/// The no-drift guarantee: a node whose driver grew a capability its type does not
/// declare (here a boot device and NMI) fails, naming what it claims beyond.
#[test]
fn a_node_claiming_more_than_its_type_declares_fails() {
    let ht = fake_managed(Some(declared_without_safe_and_nmi()));
    let node = ht
        .build(&DriverInfo::new(), &NodeContext::new("n"))
        .unwrap();
    let report = check_capabilities(&ht, &node);
    assert_eq!(
        failed_names(&report),
        ["the node is within its type's declared capabilities"],
        "{report}"
    );
    let why = format!("{report}");
    assert!(
        why.contains("management.boot_devices: safe is not declared"),
        "{why}"
    );
    assert!(
        why.contains("management.nmi: true but declared false"),
        "{why}"
    );
    // check_validation runs it on the node its valid driver_info builds.
    let report = check_validation(&ht, &DriverInfo::new(), &NodeContext::new("n"));
    assert_eq!(
        failed_names(&report),
        ["the node is within its type's declared capabilities"],
        "{report}"
    );
}

/// A type that declares nothing, or a declaration that disagrees with the type's
/// interfaces, fails: either way nothing bounds what its nodes claim.
#[test]
fn a_missing_or_inconsistent_declaration_fails() {
    let ht = fake_managed(None);
    let node = ht
        .build(&DriverInfo::new(), &NodeContext::new("n"))
        .unwrap();
    assert_eq!(
        failed_names(&check_capabilities(&ht, &node)),
        ["the hardware type declares its capabilities"]
    );
    // Declares power only: management is the type's but undeclared, and the
    // node's management is then beyond the declaration.
    let ht = fake_managed(Some(power_declared()));
    let node = ht
        .build(&DriverInfo::new(), &NodeContext::new("n"))
        .unwrap();
    let report = check_capabilities(&ht, &node);
    assert_eq!(
        failed_names(&report),
        [
            "the declaration agrees with the type's interfaces",
            "the node is within its type's declared capabilities"
        ],
        "{report}"
    );
    // Declaring exactly what the fakes do passes.
    let full = fake::hardware_type()
        .capabilities()
        .unwrap()
        .at_most()
        .clone();
    let ht = fake_managed(Some(TypeCapabilities::new(Capabilities {
        console: false,
        vendor: vec![],
        ..full
    })));
    let node = ht
        .build(&DriverInfo::new(), &NodeContext::new("n"))
        .unwrap();
    check_capabilities(&ht, &node).assert_passed();
}

#[test]
fn validation_that_stops_at_the_first_missing_key_fails() {
    let lazy = HardwareType::new(
        "lazy",
        "Reports one problem at a time.",
        [InterfaceKind::Power],
        PROPS.to_vec(),
        |info, ctx| {
            for p in PROPS {
                if !info.contains(&p.name) {
                    return Err(hwctl_core::Error::missing_parameters([p.name.to_string()]));
                }
            }
            Ok(Node::new("lazy", ctx.clone()))
        },
    )
    .with_capabilities(power_declared());
    let valid = DriverInfo::from_pairs([("x_address", "h"), ("x_password", "p")]);
    let report = check_validation(&lazy, &valid, &NodeContext::new("n"));
    assert_eq!(
        failed_names(&report),
        ["every missing parameter is reported at once"],
        "{report}"
    );
}

#[test]
fn validation_that_echoes_a_secret_fails() {
    let leaky = HardwareType::new(
        "leaky",
        "Echoes secrets.",
        [InterfaceKind::Power],
        PROPS.to_vec(),
        |info, ctx| {
            let mut v = info.validator(PROPS);
            let pw = v.str("x_password").unwrap_or_default();
            if pw.len() > 20 {
                v.invalid("x_password", format!("{pw} is too long"));
            }
            v.finish()?;
            Ok(Node::new("leaky", ctx.clone()))
        },
    )
    .with_capabilities(power_declared());
    let valid = DriverInfo::from_pairs([("x_address", "h"), ("x_password", "p")]);
    let report = check_validation(&leaky, &valid, &NodeContext::new("n"));
    assert_eq!(
        failed_names(&report),
        ["secret x_password is not echoed"],
        "{report}"
    );
}

/// A device that cannot be queried and honestly reports Unknown passes the read check.
#[derive(Debug, Default)]
struct Blind;

#[async_trait]
impl Power for Blind {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: false,
            targets: vec![PowerTarget::On],
            recorded_only: Vec::new(),
        }
    }
    async fn get_power_state(&self) -> Result<PowerState> {
        Ok(PowerState::Unknown)
    }
    async fn set_power_state(&self, t: PowerTarget, _timeout: Option<Duration>) -> Result<()> {
        hwctl_core::power::ensure_supported(&self.capabilities(), t)
    }
}

#[tokio::test]
async fn an_unqueryable_device_may_report_unknown() {
    let node = Node::new("blind", NodeContext::new("n")).with_power(Arc::new(Blind));
    let report = check_node(&node, &Options::default()).await;
    report.assert_passed();
}
