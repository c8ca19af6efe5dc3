//! Integration tests against libvirt's own test driver (`test:///PATH.xml` node
//! files from `hwctl_libvirt::sim`, and `test:///default`). No daemon is needed.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hwctl_core::{
    BootDevice, BootMode, DriverInfo, ErrorKind, MacAddress, Node, NodeContext, PowerExt,
    PowerState, PowerTarget,
};
use hwctl_libvirt::sim::{LibvirtSim, SimDomain, SimState, fleet_mac};
use hwctl_libvirt::{LibvirtClient, LibvirtConfig, LibvirtManagement, VmState, hardware_type};

fn build(sim: &LibvirtSim, i: usize) -> Node {
    hardware_type()
        .build(&sim.driver_info(), &sim.node_context(i))
        .unwrap()
}

fn mac(s: &str) -> MacAddress {
    s.parse().unwrap()
}

#[tokio::test]
async fn power_round_trip_and_idempotency() {
    let sim = LibvirtSim::fleet(2).unwrap();
    let node = build(&sim, 1);
    let power = node.power().unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);
    power.power_on().await.unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    power.power_on().await.unwrap(); // idempotent
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    power
        .set_power_state(PowerTarget::SoftOff, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);
    power.power_off().await.unwrap(); // idempotent
    power.reboot().await.unwrap(); // reboot from off powers on
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    power
        .set_power_state(PowerTarget::SoftReboot, None)
        .await
        .unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    power.power_off().await.unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);
    // The other domain was not touched.
    let other = build(&sim, 0);
    assert_eq!(
        other.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
}

#[tokio::test]
async fn paused_and_crashed_are_not_off() {
    let sim = LibvirtSim::new(vec![
        SimDomain::new("paused", 1, fleet_mac(1)).state(SimState::Paused),
        SimDomain::new("crashed", 2, fleet_mac(2)).state(SimState::Crashed),
    ])
    .unwrap();
    for i in 0..2 {
        let node = build(&sim, i);
        let power = node.power().unwrap();
        assert_eq!(power.get_power_state().await.unwrap(), PowerState::Unknown);
    }
    let p = hwctl_libvirt::LibvirtPower::new(
        hwctl_libvirt::LibvirtConfig::from_driver_info(&sim.driver_info(), &sim.node_context(0))
            .unwrap(),
    );
    assert_eq!(p.domain_state().await.unwrap(), VmState::Paused);
    // A soft off needs a running guest: refused, not faked.
    let err = hwctl_core::Power::set_power_state(&p, PowerTarget::SoftOff, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PowerStateFailure);
    // On resumes the paused domain.
    p.power_on().await.unwrap();
    assert_eq!(p.domain_state().await.unwrap(), VmState::Running);
    // On from crashed: destroyed and started again.
    let crashed = build(&sim, 1);
    crashed.power().unwrap().power_on().await.unwrap();
    assert_eq!(
        crashed.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
}

#[tokio::test]
async fn boot_device_round_trip_and_boot_mode() {
    let sim = LibvirtSim::new(vec![
        SimDomain::new("bios", 1, fleet_mac(1)),
        SimDomain::new("uefi", 2, fleet_mac(2))
            .uefi()
            .state(SimState::ShutOff),
    ])
    .unwrap();
    let node = build(&sim, 0);
    let mgmt = node.management().unwrap();
    assert!(mgmt.capabilities().persistent_only);
    assert_eq!(
        mgmt.get_boot_device().await.unwrap().device,
        Some(BootDevice::Disk)
    );
    for dev in [BootDevice::Pxe, BootDevice::Cdrom, BootDevice::Disk] {
        mgmt.set_boot_device(dev, false).await.unwrap();
        let got = mgmt.get_boot_device().await.unwrap();
        assert_eq!(got.device, Some(dev));
        assert_eq!(got.persistent, Some(true));
    }
    assert_eq!(
        mgmt.set_boot_device(BootDevice::Bios, true)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(mgmt.get_boot_mode().await.unwrap(), Some(BootMode::Bios));
    let uefi = build(&sim, 1);
    assert_eq!(
        uefi.management().unwrap().get_boot_mode().await.unwrap(),
        Some(BootMode::Uefi)
    );
    assert_eq!(
        uefi.management()
            .unwrap()
            .set_boot_mode(BootMode::Bios)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
}

/// Lines of `a` and `b` that differ, as (removed, added).
fn line_diff(a: &str, b: &str) -> (Vec<String>, Vec<String>) {
    let al: Vec<&str> = a.lines().collect();
    let bl: Vec<&str> = b.lines().collect();
    let removed = al
        .iter()
        .filter(|l| !bl.contains(l))
        .map(|l| l.trim().to_owned())
        .collect();
    let added = bl
        .iter()
        .filter(|l| !al.contains(l))
        .map(|l| l.trim().to_owned())
        .collect();
    (removed, added)
}

#[tokio::test]
async fn redefining_keeps_the_rest_of_the_domain_xml() {
    let sim = LibvirtSim::new(vec![
        SimDomain::new("two-nics", 1, fleet_mac(1))
            .with_mac(mac("52:54:00:ab:99:99"))
            .uefi(),
    ])
    .unwrap();
    let config =
        hwctl_libvirt::LibvirtConfig::from_driver_info(&sim.driver_info(), &sim.node_context(0))
            .unwrap();
    let mgmt = LibvirtManagement::new(config);
    let before = mgmt.domain_xml().await.unwrap();
    hwctl_core::Management::set_boot_device(&mgmt, BootDevice::Pxe, true)
        .await
        .unwrap();
    let after = mgmt.domain_xml().await.unwrap();
    let (removed, added) = line_diff(&before, &after);
    assert_eq!(removed, ["<boot dev='hd'/>"], "{before}\n---\n{after}");
    assert_eq!(added, ["<boot dev='network'/>"], "{before}\n---\n{after}");
    assert_eq!(before.lines().count(), after.lines().count());
    // Setting the same device again leaves the definition as it is.
    hwctl_core::Management::set_boot_device(&mgmt, BootDevice::Pxe, true)
        .await
        .unwrap();
    assert_eq!(mgmt.domain_xml().await.unwrap(), after);
}

#[tokio::test]
async fn the_fixture_domain_is_found_by_mac_and_rewritten_in_place() {
    // Ironic's FakeLibvirtDomain XML, loaded into the test driver (as type "test").
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/libvirt/staging_FakeLibvirtDomain_XMLDesc_boot_network.xml"
    ))
    .unwrap();
    // libvirt insists on a UUID for the Open vSwitch interfaceid; the fixture's
    // abbreviated one is completed.
    let raw = fixture
        .replace("type='qemu' id='4'", "type='test'")
        .replace(
            "interfaceid='5c20239f'",
            "interfaceid='5c20239f-0000-4000-8000-000000000001'",
        );
    // As is, with its para-virtual <bootloader>, libvirt drops <os><boot>: a boot
    // device cannot be set, and that is an error, not a silent no-op.
    let pv = LibvirtSim::with_raw_domains(vec![], vec![raw.clone()]).unwrap();
    let ctx = NodeContext::new("pv").with_port(mac("00:16:3e:49:1d:11"));
    let node = hardware_type().build(&pv.driver_info(), &ctx).unwrap();
    let mgmt = node.management().unwrap();
    assert_eq!(mgmt.get_boot_device().await.unwrap().device, None);
    let err = mgmt
        .set_boot_device(BootDevice::Pxe, true)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceFault, "{err}");
    // Without the bootloader it is an HVM guest booting from the network.
    let raw = raw.replace("<bootloader>/usr/bin/pygrub</bootloader>", "");
    let sim = LibvirtSim::with_raw_domains(vec![], vec![raw]).unwrap();
    // Found through its second NIC, written in another notation.
    let ctx = NodeContext::new("fixture").with_port(mac("5254.005C.B7DF"));
    let config = hwctl_libvirt::LibvirtConfig::from_driver_info(&sim.driver_info(), &ctx).unwrap();
    let mgmt = LibvirtManagement::new(config);
    let before = mgmt.domain_xml().await.unwrap();
    assert_eq!(
        hwctl_core::Management::get_boot_device(&mgmt)
            .await
            .unwrap()
            .device,
        Some(BootDevice::Pxe)
    );
    hwctl_core::Management::set_boot_device(&mgmt, BootDevice::Disk, false)
        .await
        .unwrap();
    let after = mgmt.domain_xml().await.unwrap();
    let (removed, added) = line_diff(&before, &after);
    assert_eq!(removed, ["<boot dev='network'/>"], "{before}\n---\n{after}");
    assert_eq!(added, ["<boot dev='hd'/>"], "{before}\n---\n{after}");
    assert!(after.contains("52:54:00:5c:b7:df") && after.contains("00:16:3e:49:1d:11"));
}

#[tokio::test]
async fn mac_lookup_none_one_two() {
    let sim = LibvirtSim::new(vec![
        SimDomain::new("a", 1, mac("52:54:00:aa:00:01")),
        SimDomain::new("b", 2, mac("52:54:00:aa:00:02")).with_mac(mac("52:54:00:aa:00:03")),
        SimDomain::new("c", 3, mac("52:54:00:aa:00:03")),
    ])
    .unwrap();
    let info = sim.driver_info();
    // One match, in another notation and case.
    let ctx = NodeContext::new("n").with_port(mac("52-54-00-AA-00-01"));
    let node = hardware_type().build(&info, &ctx).unwrap();
    assert_eq!(
        node.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    // A node with two ports, one of them unknown: still one domain.
    let ctx = NodeContext::new("n")
        .with_port(mac("5254.00aa.0002"))
        .with_port(mac("02:00:00:00:00:00"));
    let node = hardware_type().build(&info, &ctx).unwrap();
    node.power().unwrap().power_off().await.unwrap();
    // None: not found, listing the MACs.
    let ctx = NodeContext::new("n")
        .with_port(mac("02:00:00:00:00:01"))
        .with_port(mac("02:00:00:00:00:02"));
    let err = hardware_type()
        .build(&info, &ctx)
        .unwrap()
        .power()
        .unwrap()
        .get_power_state()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let msg = err.to_string();
    assert!(
        msg.contains("02:00:00:00:00:01") && msg.contains("02:00:00:00:00:02"),
        "{msg}"
    );
    // One MAC on two domains: an error naming both, never a pick.
    let ctx = NodeContext::new("n").with_port(mac("52:54:00:aa:00:03"));
    let node = hardware_type().build(&info, &ctx).unwrap();
    let err = node.power().unwrap().power_on().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    let msg = err.to_string();
    assert!(msg.contains("b (") && msg.contains("c ("), "{msg}");
    // Two MACs of the node on two different domains: also refused.
    let ctx = NodeContext::new("n")
        .with_port(mac("52:54:00:aa:00:01"))
        .with_port(mac("52:54:00:aa:00:02"));
    let err = hardware_type()
        .build(&info, &ctx)
        .unwrap()
        .management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, true)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
}

#[tokio::test]
async fn explicit_domain_by_name_and_uuid() {
    let sim = LibvirtSim::fleet(3).unwrap();
    let d = &sim.domains()[2];
    for key in [d.name.clone(), d.uuid.to_uppercase()] {
        let mut info = sim.driver_info();
        info.insert("libvirt_domain", key.clone());
        let node = hardware_type()
            .build(&info, &NodeContext::new("explicit"))
            .unwrap();
        assert_eq!(
            node.power().unwrap().get_power_state().await.unwrap(),
            PowerState::On,
            "{key}"
        );
    }
    let mut info = sim.driver_info();
    info.insert("libvirt_domain", "no-such-vm");
    let err = hardware_type()
        .build(&info, &NodeContext::new("explicit"))
        .unwrap()
        .power()
        .unwrap()
        .get_power_state()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("no-such-vm"), "{err}");
}

#[tokio::test]
async fn nodes_built_separately_share_the_connection_and_its_state() {
    let sim = LibvirtSim::fleet(2).unwrap();
    build(&sim, 1).power().unwrap().power_on().await.unwrap();
    // A second node object for the same domain sees the change: one connection per URI.
    assert_eq!(
        build(&sim, 1)
            .power()
            .unwrap()
            .get_power_state()
            .await
            .unwrap(),
        PowerState::On
    );
}

/// Issue 9: the pool never released a connection. Now the last node of a URI takes
/// its connection with it, and a new node opens a fresh one (for the test driver:
/// the domains start again from the node file).
#[tokio::test]
async fn a_connection_is_released_with_the_last_node_of_its_uri() {
    let sim = LibvirtSim::fleet(2).unwrap();
    // A copy of the node file, whose connection no simulator holds.
    let path = sim.dir().join("copy.xml");
    std::fs::copy(sim.path(), &path).unwrap();
    let uri = format!("test://{}", path.display());
    let info = DriverInfo::from_pairs([("libvirt_uri", uri.as_str())]);
    let config = LibvirtConfig::from_driver_info(&info, &sim.node_context(1)).unwrap();
    let node = |i| hardware_type().build(&info, &sim.node_context(i)).unwrap();

    assert!(LibvirtClient::live(&config).is_none());
    let a = node(1);
    let b = node(0);
    a.power().unwrap().power_on().await.unwrap(); // this state lives in the connection
    b.power().unwrap().get_power_state().await.unwrap();
    assert_eq!(
        LibvirtClient::live(&config).unwrap().connections_opened(),
        1
    );
    drop(a);
    // b still holds the connection: a new node shares it and its state.
    assert_eq!(
        node(1).power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    drop(b);
    // The process-wide pool keeps an idle client for a while (issue 16: one pool per
    // endpoint for a whole sweep); releasing the idle ones ends it at once.
    hwctl_core::shared::release_idle();
    assert!(
        LibvirtClient::live(&config).is_none(),
        "the pool still holds a connection after the last node of {uri} was dropped"
    );
    // A new node opens a fresh connection: the node file is read again.
    let c = node(1);
    assert_eq!(
        c.power().unwrap().get_power_state().await.unwrap(),
        PowerState::Off
    );
    let client = LibvirtClient::live(&config).unwrap();
    assert_eq!(client.connections_opened(), 1);
    assert!(client.is_connected());
}

/// Issue 9: a node file libvirt's test driver refuses for its content (not only for
/// its XML syntax) is the user's input error, not an unreachable hypervisor.
#[tokio::test]
async fn a_node_file_with_a_configuration_error_is_an_input_error() {
    let domain = |ty: &str, name: Option<&str>| {
        format!(
            "<domain type='{ty}'>{}<memory>1024</memory><os><type>hvm</type></os></domain>",
            name.map(|n| format!("<name>{n}</name>"))
                .unwrap_or_default()
        )
    };
    for (what, raw) in [
        ("a domain without a name", vec![domain("test", None)]),
        ("an unknown domain type", vec![domain("qwerty", Some("a"))]),
        (
            "two domains of one name",
            vec![domain("test", Some("a")), domain("test", Some("a"))],
        ),
        ("a runstate out of range", vec![domain("test", Some("a")).replace(
            "<domain type='test'>",
            "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><test:runstate>99</test:runstate>",
        )]),
    ] {
        let sim = LibvirtSim::with_raw_domains(vec![], raw).unwrap();
        let info = DriverInfo::from_pairs([("libvirt_uri", sim.uri()), ("libvirt_domain", "a")]);
        let node = hardware_type()
            .build(&info, &NodeContext::new("bad-file"))
            .unwrap();
        let err = node.power().unwrap().get_power_state().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{what}: {err}");
        assert!(!err.is_retryable(), "{what}: {err}");
        assert!(err.to_string().contains(sim.uri()), "{what}: {err}");
    }
}

/// What a reboot does to a domain whose state reads Unknown is the driver's choice
/// (`resolve_unknown`): a reboot of a paused or crashed domain is a hard reset
/// (destroy + create), as before the engine; a soft reboot needs a running guest
/// and leaves the domain alone.
#[tokio::test]
async fn reboot_of_an_unknown_state_resets_and_soft_reboot_refuses() {
    let sim = LibvirtSim::new(vec![
        SimDomain::new("paused", 1, fleet_mac(1)).state(SimState::Paused),
        SimDomain::new("crashed", 2, fleet_mac(2)).state(SimState::Crashed),
    ])
    .unwrap();
    let crashed = build(&sim, 1);
    let err = crashed
        .power()
        .unwrap()
        .set_power_state(PowerTarget::SoftReboot, Some(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PowerStateFailure, "{err}");
    assert!(err.to_string().contains("crashed"), "{err}");
    assert_eq!(err.operation(), Some("soft reboot"));
    assert_eq!(
        crashed.power().unwrap().get_power_state().await.unwrap(),
        PowerState::Unknown
    );
    for i in 0..2 {
        let node = build(&sim, i);
        let power = node.power().unwrap();
        power
            .set_power_state(PowerTarget::Reboot, Some(Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    }
}

#[tokio::test]
async fn test_default_driver() {
    let info = DriverInfo::from_pairs([
        ("libvirt_uri", "test:///default"),
        ("libvirt_domain", "test"),
    ]);
    let node = hardware_type()
        .build(&info, &NodeContext::new("default"))
        .unwrap();
    let power = node.power().unwrap();
    power.power_on().await.unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
    node.management()
        .unwrap()
        .set_boot_device(BootDevice::Cdrom, true)
        .await
        .unwrap();
    assert_eq!(
        node.management()
            .unwrap()
            .get_boot_device()
            .await
            .unwrap()
            .device,
        Some(BootDevice::Cdrom)
    );
}

#[tokio::test]
async fn unreachable_hypervisors_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A node file that does not parse is a bad libvirt_uri.
    let uri = format!("test://{}/missing.xml", dir.path().display());
    let info = DriverInfo::from_pairs([("libvirt_uri", uri.as_str()), ("libvirt_domain", "x")]);
    let node = hardware_type()
        .build(&info, &NodeContext::new("bad"))
        .unwrap();
    let err = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    for uri in [format!(
        "qemu+unix:///system?socket={}/no-such.sock",
        dir.path().display()
    )] {
        let info = DriverInfo::from_pairs([("libvirt_uri", uri.as_str()), ("libvirt_domain", "x")]);
        let node = hardware_type()
            .build(&info, &NodeContext::new("dead"))
            .unwrap();
        let started = Instant::now();
        let err = node.power().unwrap().get_power_state().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreachable, "{uri}: {err}");
        assert!(err.is_retryable());
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(err.driver(), Some("staging-libvirt"));
    }
}

#[tokio::test]
async fn console_on_the_test_driver_is_unsupported() {
    // libvirt's test driver has no virDomainOpenConsole: the error must say so as
    // Unsupported (the bridge itself is unit-tested in src/console.rs).
    let sim = LibvirtSim::fleet(1).unwrap();
    let node = build(&sim, 0);
    assert!(node.capabilities().console);
    let err = node.console().unwrap().open().await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert_eq!(err.operation(), Some("open console"));
}

/// 200 domains swept concurrently from a single-threaded runtime: every libvirt
/// call runs off the runtime thread, so a ticker task keeps ticking throughout.
#[tokio::test(flavor = "current_thread")]
async fn two_hundred_domains_swept_without_blocking_the_runtime() {
    let sim = LibvirtSim::fleet(200).unwrap();
    let nodes: Vec<Node> = (0..200).map(|i| build(&sim, i)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let ticks = Arc::new(AtomicU64::new(0));
    let max_gap_us = Arc::new(AtomicU64::new(0));
    let ticker = {
        let (stop, ticks, max_gap_us) = (stop.clone(), ticks.clone(), max_gap_us.clone());
        tokio::spawn(async move {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let gap = u64::try_from(last.elapsed().as_micros()).unwrap_or(u64::MAX);
                max_gap_us.fetch_max(gap, Ordering::Relaxed);
                ticks.fetch_add(1, Ordering::Relaxed);
                last = Instant::now();
            }
        })
    };
    let started = Instant::now();
    // Power every odd (off) domain on, then read every state, all at once.
    let mut set = tokio::task::JoinSet::new();
    for (i, n) in nodes.iter().cloned().enumerate() {
        set.spawn(async move {
            if i % 2 == 1 {
                n.power()?.power_on().await?;
            }
            n.power()?.get_power_state().await
        });
    }
    let mut states = Vec::new();
    while let Some(r) = set.join_next().await {
        states.push(r.unwrap());
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    ticker.await.unwrap();
    assert_eq!(states.len(), 200);
    assert!(states.iter().all(|s| matches!(s, Ok(PowerState::On))));
    let gap = Duration::from_micros(max_gap_us.load(Ordering::Relaxed));
    println!(
        "200-domain sweep: {elapsed:?}, {} ticks, longest runtime stall {gap:?}",
        ticks.load(Ordering::Relaxed)
    );
    assert!(ticks.load(Ordering::Relaxed) > 0);
    // Test-driver calls take well under a millisecond, so this only catches gross
    // stalls; that every call leaves the runtime thread is asserted by the unit test
    // `client::tests::libvirt_calls_run_off_the_runtime_thread`.
    assert!(
        gap < Duration::from_millis(250) || gap < elapsed / 4,
        "runtime stalled {gap:?} during a {elapsed:?} sweep"
    );
}
