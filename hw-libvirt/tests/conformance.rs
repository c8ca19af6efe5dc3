//! The hwctl-core conformance suite, `driver_info` validation, and the warnings
//! (host key check skipped, a next-boot-only boot device set persistently).
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::time::Duration;

use hwctl_core::{DriverInfo, ErrorKind, NodeContext, testing};
use hwctl_libvirt::sim::LibvirtSim;
use hwctl_libvirt::{Auth, DomainSelector, LibvirtConfig, hardware_type};

#[tokio::test]
async fn conformance_suite_on_the_test_driver() {
    let sim = LibvirtSim::fleet(4).unwrap();
    for i in [0, 1] {
        let node = hardware_type()
            .build(&sim.driver_info(), &sim.node_context(i))
            .unwrap();
        testing::check_node(&node, &testing::Options::default())
            .await
            .assert_passed();
    }
}

/// hwctl-sim's fault check over the simulator. The in-process test driver can simulate
/// none of the common faults, so each must be skipped because `inject` said
/// `Unsupported` (not passed by accident), and clearing must work.
#[tokio::test]
async fn fault_conformance_over_the_simulator() {
    use hwctl_core::testing::Outcome;
    use hwctl_sim::Simulator as _;
    let sim = LibvirtSim::fleet(2).unwrap();
    assert_eq!(sim.hardware_type(), hwctl_libvirt::NAME);
    assert_eq!(sim.node_count(), 2);
    assert_eq!(sim.node_name(1), "vm-001");
    let report =
        hwctl_sim::conformance::check_faults(&sim, &hardware_type(), Duration::from_secs(1)).await;
    // Every check is skipped (so `assert_passed`, which wants one pass, does not apply).
    assert!(report.failures().is_empty(), "{report}");
    assert_eq!(report.checks.len(), 3, "{report}");
    for check in &report.checks {
        assert!(
            matches!(&check.outcome, Outcome::Skipped(why) if why.contains("cannot inject")),
            "{}: {:?}",
            check.name,
            check.outcome
        );
    }
    // The node it built works, and the simulator's counters saw the connection.
    let node = hardware_type()
        .build(
            &hwctl_sim::Simulator::driver_info(&sim, 0),
            &sim.node_context(0),
        )
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
    let stats = sim.stats();
    assert_eq!(stats.open_connections, 1, "{stats:?}");
}

#[test]
fn validation_conformance() {
    let sim = LibvirtSim::fleet(1).unwrap();
    let mut info = sim.driver_info();
    info.insert("sasl_username", "admin");
    info.insert("sasl_password", "pw");
    testing::check_validation(&hardware_type(), &info, &sim.node_context(0)).assert_passed();
    testing::check_validation(&hardware_type(), &sim.driver_info(), &sim.node_context(0))
        .assert_passed();
}

fn ctx() -> NodeContext {
    NodeContext::new("n").with_port("52:54:00:00:00:01".parse().unwrap())
}

fn problems(
    info: &DriverInfo,
    ctx: &NodeContext,
) -> (ErrorKind, Vec<(String, Option<String>)>, String) {
    let err = LibvirtConfig::from_driver_info(info, ctx).unwrap_err();
    let list = err
        .problems()
        .iter()
        .map(|p| (p.name.clone(), p.reason.clone()))
        .collect();
    (err.kind(), list, err.to_string())
}

#[test]
fn defaults() {
    let c = LibvirtConfig::from_driver_info(&DriverInfo::new(), &ctx()).unwrap();
    assert_eq!(c.uri(), "qemu+unix:///system");
    assert!(matches!(c.auth(), Auth::None));
}

#[test]
fn both_auth_methods_are_refused() {
    let mut key = tempfile::NamedTempFile::new().unwrap();
    writeln!(key, "not really a key").unwrap();
    let info = DriverInfo::from_pairs([
        ("sasl_username", "u"),
        ("sasl_password", "hunter2-secret"),
        ("ssh_key_filename", key.path().to_str().unwrap()),
    ]);
    let (kind, list, msg) = problems(&info, &ctx());
    assert_eq!(kind, ErrorKind::InvalidParameter);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].0, "ssh_key_filename");
    assert!(msg.contains("one and only one"), "{msg}");
    assert!(!msg.contains("hunter2"));
}

#[test]
fn missing_key_file_names_the_path() {
    let info = DriverInfo::from_pairs([("ssh_key_filename", "/nonexistent/id_rsa")]);
    let (kind, list, msg) = problems(&info, &ctx());
    assert_eq!(kind, ErrorKind::InvalidParameter);
    assert_eq!(list[0].0, "ssh_key_filename");
    assert!(msg.contains("/nonexistent/id_rsa"), "{msg}");
}

#[test]
fn existing_key_file_goes_into_the_uri() {
    let key = tempfile::NamedTempFile::new().unwrap();
    let path = key.path().to_str().unwrap().to_owned();
    let info = DriverInfo::from_pairs([
        ("libvirt_uri", "qemu+ssh://root@hv1/system"),
        ("ssh_key_filename", path.as_str()),
    ]);
    let c = LibvirtConfig::from_driver_info(&info, &ctx()).unwrap();
    // The host key is verified (known_hosts): no `no_verify=1` unless asked for.
    assert_eq!(
        c.effective_uri(),
        format!("qemu+ssh://root@hv1/system?keyfile={path}")
    );
    assert!(!c.ssh_no_verify());
}

/// A tracing subscriber writing into a buffer, for the warning's test.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged(f: impl FnOnce()) -> String {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn skipping_the_host_key_check_is_explicit_and_warns() {
    let key = tempfile::NamedTempFile::new().unwrap();
    let path = key.path().to_str().unwrap().to_owned();
    let mut config = None;
    let log = logged(|| {
        let info = DriverInfo::from_pairs([
            ("libvirt_uri", "qemu+ssh://root@hv1/system"),
            ("ssh_key_filename", path.as_str()),
            ("libvirt_ssh_no_verify", "true"),
        ]);
        config = Some(LibvirtConfig::from_driver_info(&info, &ctx()).unwrap());
    });
    let c = config.unwrap();
    assert!(c.ssh_no_verify());
    assert_eq!(
        c.effective_uri(),
        format!("qemu+ssh://root@hv1/system?keyfile={path}&no_verify=1")
    );
    assert!(
        log.contains("WARN") && log.contains("DISABLED"),
        "no warning: {log}"
    );

    // Without a key file too (ssh-agent), and the builder form warns as well.
    let log = logged(|| {
        let c = LibvirtConfig::new(
            "qemu+libssh2://hv1/system?x=1",
            DomainSelector::Name("vm".into()),
        )
        .unwrap()
        .danger_ssh_no_verify();
        assert_eq!(
            c.effective_uri(),
            "qemu+libssh2://hv1/system?x=1&no_verify=1"
        );
    });
    assert!(
        log.contains("WARN") && log.contains("DISABLED"),
        "no warning: {log}"
    );

    // `false` (the default) verifies, and says nothing.
    let log = logged(|| {
        let info = DriverInfo::from_pairs([
            ("libvirt_uri", "qemu+ssh://root@hv1/system"),
            ("libvirt_ssh_no_verify", "false"),
        ]);
        let c = LibvirtConfig::from_driver_info(&info, &ctx()).unwrap();
        assert_eq!(c.effective_uri(), "qemu+ssh://root@hv1/system");
    });
    assert!(!log.contains("DISABLED"), "{log}");
}

#[test]
fn the_no_verify_option_is_checked() {
    // Not a boolean.
    let info = DriverInfo::from_pairs([
        ("libvirt_uri", "qemu+ssh://root@hv1/system"),
        ("libvirt_ssh_no_verify", "sure"),
    ]);
    let (kind, list, _) = problems(&info, &ctx());
    assert_eq!(kind, ErrorKind::InvalidParameter);
    assert_eq!(list[0].0, "libvirt_ssh_no_verify");
    // Meaningless without SSH: refused rather than ignored.
    let info = DriverInfo::from_pairs([
        ("libvirt_uri", "test:///default"),
        ("libvirt_ssh_no_verify", "true"),
    ]);
    let (kind, list, msg) = problems(&info, &ctx());
    assert_eq!(kind, ErrorKind::InvalidParameter);
    assert_eq!(list[0].0, "libvirt_ssh_no_verify");
    assert!(msg.contains("SSH"), "{msg}");
}

#[test]
fn a_lone_sasl_username_opens_without_credentials_and_a_lone_password_is_refused() {
    // Ironic (ironic-staging-drivers libvirt/power.py) authenticates only when both
    // are given and otherwise opens the URI as it is (issue 15).
    let config =
        LibvirtConfig::from_driver_info(&DriverInfo::from_pairs([("sasl_username", "u")]), &ctx())
            .unwrap();
    assert!(matches!(config.auth(), hwctl_libvirt::Auth::None));
    // With a key file, the key is used (Ironic: SASL only with both halves).
    let key = tempfile::NamedTempFile::new().unwrap();
    let info = DriverInfo::from_pairs([
        ("libvirt_uri", "qemu+ssh://root@h/system"),
        ("sasl_username", "u"),
        ("ssh_key_filename", key.path().to_str().unwrap()),
    ]);
    let config = LibvirtConfig::from_driver_info(&info, &ctx()).unwrap();
    assert!(matches!(config.auth(), hwctl_libvirt::Auth::SshKey(_)));
    // Ironic's masked password is refused, not taken as "no password".
    let (kind, list, _) = problems(
        &DriverInfo::from_pairs([("sasl_username", "u"), ("sasl_password", "******")]),
        &ctx(),
    );
    assert_eq!(kind, ErrorKind::InvalidParameter);
    assert_eq!(list[0].0, "sasl_password");
    assert!(
        list[0]
            .1
            .as_deref()
            .unwrap()
            .contains("supply the secret another way")
    );
    let (kind, list, msg) = problems(
        &DriverInfo::from_pairs([("sasl_password", "s3cr3t-value")]),
        &ctx(),
    );
    assert_eq!(kind, ErrorKind::MissingParameter);
    assert_eq!(list, [("sasl_username".to_owned(), None)]);
    assert!(!msg.contains("s3cr3t-value"));
}

#[test]
fn bad_uri_and_no_ports_are_reported_together() {
    let info = DriverInfo::from_pairs([("libvirt_uri", "bad-url")]);
    let (kind, list, msg) = problems(&info, &NodeContext::new("portless"));
    assert_eq!(kind, ErrorKind::MissingParameter);
    let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["libvirt_uri", "ports"], "{msg}");
    assert!(msg.contains("bad-url"));
}

#[test]
fn non_string_values_are_invalid() {
    let info = DriverInfo::from_json(
        serde_json::json!({"libvirt_uri": ["x"], "libvirt_domain": {"a": 1}}),
    )
    .unwrap();
    let (kind, list, _) = problems(&info, &ctx());
    assert_eq!(kind, ErrorKind::InvalidParameter);
    assert_eq!(list.len(), 2);
}

#[test]
fn explicit_domain_needs_no_ports() {
    let info = DriverInfo::from_pairs([("libvirt_domain", "vm-7")]);
    let c = LibvirtConfig::from_driver_info(&info, &NodeContext::new("x")).unwrap();
    assert_eq!(c.domain(), &DomainSelector::Name("vm-7".into()));
}

#[test]
fn debug_never_shows_the_password() {
    let info = DriverInfo::from_pairs([
        ("sasl_username", "admin"),
        ("sasl_password", "pa55-w0rd-xyz"),
    ]);
    let c = LibvirtConfig::from_driver_info(&info, &ctx()).unwrap();
    let dbg = format!("{c:?}");
    assert!(
        dbg.contains("admin") && !dbg.contains("pa55-w0rd-xyz"),
        "{dbg}"
    );
    let node = hardware_type().build(&info, &ctx()).unwrap();
    assert!(!format!("{node:?}").contains("pa55-w0rd-xyz"));
}

/// `persistent = false` cannot be honoured (libvirt keeps the boot device in the
/// definition): the device is set persistently, as Ironic's staging-libvirt did, and
/// a WARN line says so (it was a DEBUG line: a silent no-op of what was asked).
#[test]
fn a_next_boot_only_set_is_persistent_and_warns() {
    use hwctl_core::{BootDevice, BootDeviceSetting};
    let sim = LibvirtSim::fleet(1).unwrap();
    let node = hardware_type()
        .build(&sim.driver_info(), &sim.node_context(0))
        .unwrap();
    let mgmt = node.management().unwrap();
    assert!(mgmt.capabilities().persistent_only);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let log = logged(|| {
        rt.block_on(mgmt.set_boot_device(BootDevice::Pxe, false))
            .unwrap()
    });
    assert!(
        log.contains("WARN") && log.contains("persistently"),
        "no warning: {log}"
    );
    assert_eq!(
        rt.block_on(mgmt.get_boot_device()).unwrap(),
        BootDeviceSetting::new(BootDevice::Pxe, true)
    );
    // Asked for persistent: nothing to warn about.
    let log = logged(|| {
        rt.block_on(mgmt.set_boot_device(BootDevice::Disk, true))
            .unwrap()
    });
    assert!(!log.contains("WARN"), "{log}");
}
