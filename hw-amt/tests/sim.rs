//! hwctl-amt against its simulator: power, boot persistence, digest, sleep, faults.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwctl_amt::sim::{AmtSim, AmtSimConfig, DigestAlgorithms, Fault};
use hwctl_amt::{AmtClient, AmtConfig};
use hwctl_core::state::MemoryStore;
use hwctl_core::{BootDevice, ErrorKind, Node, NodeContext, Power as _, PowerState, PowerTarget};
use hwctl_sim::Simulator as _;

fn node_on(sim: &AmtSim, store: Arc<MemoryStore>, id: &str) -> Node {
    let mut ctx = sim.node_context(0);
    ctx.id = id.to_owned();
    hwctl_amt::hardware_type_with_store(store)
        .build(&sim.driver_info(0), &ctx)
        .unwrap()
}

fn node(sim: &AmtSim) -> Node {
    node_on(sim, Arc::new(MemoryStore::new()), "n1")
}

const T: Option<Duration> = Some(Duration::from_secs(10));

#[tokio::test]
async fn power_on_off_reboot_and_status() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let n = node(&sim);
    let p = n.power().unwrap();
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::Off);
    p.set_power_state(PowerTarget::On, T).await.unwrap();
    assert!(sim.is_on());
    p.set_power_state(PowerTarget::Reboot, T).await.unwrap();
    p.set_power_state(PowerTarget::SoftReboot, T).await.unwrap();
    p.set_power_state(PowerTarget::Off, T).await.unwrap();
    assert_eq!(sim.power_state(), 8);
    assert_eq!(sim.boots(), ["disk", "disk", "disk"]);
    let ops = sim.stats().by_operation;
    assert_eq!(ops["RequestPowerStateChange"], 4, "{ops:?}");
}

#[tokio::test]
async fn an_unknown_state_keeps_its_number() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    sim.set_power_state(4);
    let config = AmtConfig::new(sim.base_url(), "admin", "P@ssw0rd").unwrap();
    let client = AmtClient::new(&config).unwrap();
    let boot = Arc::new(hwctl_amt::BootKeeper::new(
        client.clone(),
        &config,
        Arc::new(MemoryStore::new()),
    ));
    let power = hwctl_amt::AmtPower::new(client, boot, Duration::from_millis(50));
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Unknown);
    assert_eq!(power.last_power_state(), Some(4));
}

#[tokio::test]
async fn return_value_1_is_unsupported_with_its_meaning() {
    let sim = AmtSim::start(AmtSimConfig {
        power_on: true,
        ..AmtSimConfig::default()
    })
    .await
    .unwrap();
    let n = node(&sim);
    // While on, the device offers 10, 8, 5, 11, 4, 7, 14, 12: soft off is offered.
    n.power()
        .unwrap()
        .set_power_state(PowerTarget::SoftOff, T)
        .await
        .unwrap();
    sim.set_power_state(2);
    sim.force_return_value(1);
    let e = n
        .power()
        .unwrap()
        .set_power_state(PowerTarget::Off, T)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(
        e.to_string().contains("ReturnValue 1 (Not Supported)"),
        "{e}"
    );
    assert_eq!(sim.stats().by_operation["RequestPowerStateChange"], 2);
}

#[tokio::test]
async fn reboot_from_unavailable_state_is_refused_without_a_request() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let config = AmtConfig::new(sim.base_url(), "admin", "P@ssw0rd").unwrap();
    let client = AmtClient::new(&config).unwrap();
    let boot = Arc::new(hwctl_amt::BootKeeper::new(
        client.clone(),
        &config,
        Arc::new(MemoryStore::new()),
    ));
    let power = hwctl_amt::AmtPower::new(client, boot, Duration::from_millis(50));
    use hwctl_core::power::{PowerAction, PowerSwitch};
    power.read().await.unwrap(); // off: offers 2 and 5
    let e = power.apply(PowerAction::SoftOff).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(
        e.to_string().contains("AvailableRequestedPowerStates"),
        "{e}"
    );
    assert!(
        !sim.stats()
            .by_operation
            .contains_key("RequestPowerStateChange")
    );
}

#[tokio::test]
async fn persistent_pxe_survives_two_power_cycles() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let n = node(&sim);
    let m = n.management().unwrap();
    m.set_boot_device(BootDevice::Pxe, true).await.unwrap();
    // Nothing sent yet: AMT would forget it.
    assert_eq!(sim.boot().boot_order, None);
    let p = n.power().unwrap();
    for _ in 0..2 {
        p.set_power_state(PowerTarget::On, T).await.unwrap();
        p.set_power_state(PowerTarget::Off, T).await.unwrap();
    }
    p.set_power_state(PowerTarget::Reboot, T).await.unwrap(); // off → on
    p.set_power_state(PowerTarget::Reboot, T).await.unwrap(); // on → reset
    assert_eq!(sim.boots(), ["pxe", "pxe", "pxe", "pxe"]);
    let got = m.get_boot_device().await.unwrap();
    assert_eq!(got.device, Some(BootDevice::Pxe));
    assert_eq!(got.persistent, Some(true));
}

#[tokio::test]
async fn a_one_time_device_is_used_once_then_forgotten() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let n = node(&sim);
    let m = n.management().unwrap();
    m.set_boot_device(BootDevice::Cdrom, false).await.unwrap();
    assert_eq!(
        m.get_boot_device().await.unwrap().device,
        Some(BootDevice::Cdrom)
    );
    let p = n.power().unwrap();
    p.set_power_state(PowerTarget::On, T).await.unwrap();
    p.set_power_state(PowerTarget::Reboot, T).await.unwrap();
    assert_eq!(sim.boots(), ["cdrom", "disk"]);
    let got = m.get_boot_device().await.unwrap();
    assert_eq!(
        (got.device, got.persistent),
        (Some(BootDevice::Disk), Some(true))
    );
}

#[tokio::test]
async fn bios_setup_goes_through_boot_setting_data() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let n = node(&sim);
    n.management()
        .unwrap()
        .set_boot_device(BootDevice::Bios, false)
        .await
        .unwrap();
    n.power()
        .unwrap()
        .set_power_state(PowerTarget::On, T)
        .await
        .unwrap();
    assert_eq!(sim.boots(), ["bios"]);
    assert!(
        !sim.boot().bios_setup,
        "AMT clears BIOSSetup after the boot"
    );
    let ops = sim.stats().by_operation;
    assert_eq!(ops["Get"], 1, "{ops:?}");
    assert_eq!(ops["Put"], 1, "{ops:?}");
    let e = n
        .management()
        .unwrap()
        .set_boot_device(BootDevice::Floppy, true)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn the_state_store_keys_by_node_and_endpoint() {
    let a = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let b = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    node_on(&a, store.clone(), "same-id")
        .management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, true)
        .await
        .unwrap();
    let other = node_on(&b, store.clone(), "same-id");
    assert_eq!(
        other
            .management()
            .unwrap()
            .get_boot_device()
            .await
            .unwrap()
            .device,
        Some(BootDevice::Disk)
    );
    // A node built again on the same endpoint (a new process, with a file store)
    // sees the stored device.
    let again = node_on(&a, store, "same-id");
    assert_eq!(
        again
            .management()
            .unwrap()
            .get_boot_device()
            .await
            .unwrap()
            .device,
        Some(BootDevice::Pxe)
    );
}

/// One power on, counted in HTTP round trips at the simulator.
#[tokio::test]
async fn round_trips_of_one_power_on() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let n = node(&sim);
    let p = n.power().unwrap();
    // Warm up: the first request costs a 401 to get the nonce.
    assert_eq!(p.get_power_state().await.unwrap(), PowerState::Off);
    let cold = sim.stats().requests;
    assert_eq!(cold, 2, "first request: 401 challenge + answer");
    let before = sim.stats().requests;
    p.set_power_state(PowerTarget::On, T).await.unwrap();
    let power_on = sim.stats().requests - before;
    // read (optimized Enumerate) + RequestPowerStateChange + confirming read.
    assert_eq!(power_on, 3, "{:?}", sim.stats());
    assert_eq!(sim.stats().nonces_issued, 1, "one nonce, reused with nc");
    assert!(sim.stats().nonce_reuses >= 3);
    // With a stored PXE device: + ChangeBootOrder + SetBootConfigRole.
    p.set_power_state(PowerTarget::Off, T).await.unwrap();
    n.management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, true)
        .await
        .unwrap();
    let before = sim.stats().requests;
    p.set_power_state(PowerTarget::On, T).await.unwrap();
    let with_boot = sim.stats().requests - before;
    assert_eq!(with_boot, 5);
    println!(
        "power on: {power_on} HTTP round trips (5 with a stored boot device; +1 for the very first request's 401)"
    );
}

#[tokio::test]
async fn sha256_digest_and_stale_nonces() {
    for algorithms in [
        DigestAlgorithms::Sha256,
        DigestAlgorithms::Both,
        DigestAlgorithms::Md5,
    ] {
        let sim = AmtSim::start(AmtSimConfig {
            algorithms,
            ..AmtSimConfig::default()
        })
        .await
        .unwrap();
        let n = node(&sim);
        let p = n.power().unwrap();
        p.get_power_state().await.unwrap();
        sim.expire_nonces();
        p.get_power_state().await.unwrap();
        let s = sim.stats();
        assert_eq!(s.nonces_issued, 2, "{algorithms:?} {s:?}");
        assert_eq!(s.unauthorized, 0, "a stale nonce is not a failed login");
    }
}

#[tokio::test]
async fn wrong_password_and_401_storm_are_unauthenticated() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let mut info = sim.driver_info(0);
    info.insert("amt_password", "wrong-password-xyz");
    let n = hwctl_amt::hardware_type()
        .build(&info, &NodeContext::new("n"))
        .unwrap();
    let e = n.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(!format!("{e:?}").contains("wrong-password-xyz"));

    let n = node(&sim);
    sim.inject_fault(Fault::Unauthorized, 50);
    let e = n.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    sim.clear_faults();
    n.power().unwrap().get_power_state().await.unwrap();
}

#[tokio::test]
async fn faults_are_typed_errors_within_the_timeout() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let n = node(&sim);
    let p = n.power().unwrap();
    p.get_power_state().await.unwrap();
    let cases = [
        (
            Fault::SoapFault {
                subcode: "b:DestinationUnreachable".into(),
                reason: "No route".into(),
            },
            ErrorKind::NotFound,
        ),
        (
            Fault::SoapFault {
                subcode: "c:AccessDenied".into(),
                reason: "no".into(),
            },
            ErrorKind::PermissionDenied,
        ),
        (Fault::MalformedXml, ErrorKind::Protocol),
        (Fault::TruncatedXml, ErrorKind::Protocol),
        (Fault::Oversized(600 * 1024), ErrorKind::Protocol),
    ];
    for (fault, kind) in cases {
        sim.inject_fault(fault.clone(), 10);
        let e = p.get_power_state().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        sim.clear_faults();
    }
    // A slow reply is cut by the caller's timeout.
    sim.inject_fault(Fault::SlowReply(Duration::from_secs(30)), 10);
    let t0 = Instant::now();
    let e = p
        .set_power_state(PowerTarget::On, Some(Duration::from_secs(1)))
        .await
        .unwrap_err();
    // No answer to the first read: a retryable timeout, nothing sent.
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_retryable(), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    sim.clear_faults();
    // A non-zero ReturnValue: kind, value and meaning.
    sim.force_return_value(5);
    let e = p.set_power_state(PowerTarget::On, T).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
    assert!(
        e.to_string().contains("ReturnValue 5 (Invalid Parameter)"),
        "{e}"
    );
}

#[tokio::test]
async fn a_sleeping_device_is_woken_within_the_timeout() {
    let sim = AmtSim::start(AmtSimConfig {
        sleeping: true,
        ..AmtSimConfig::default()
    })
    .await
    .unwrap();
    let n = node(&sim);
    let t0 = Instant::now();
    n.power()
        .unwrap()
        .set_power_state(PowerTarget::On, Some(Duration::from_secs(8)))
        .await
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(8));
    assert_eq!(sim.stats().wakeups, 1);
    assert!(sim.is_on());
}

#[tokio::test]
async fn enumeration_follows_contexts_until_the_end() {
    let sim = AmtSim::start(AmtSimConfig {
        page_size: 1,
        ..AmtSimConfig::default()
    })
    .await
    .unwrap();
    let config = AmtConfig::new(sim.base_url(), "admin", "P@ssw0rd").unwrap();
    let client = AmtClient::new(&config).unwrap();
    let items = client
        .enumerate(hwctl_amt::wire::class::BOOT_SOURCE_SETTING)
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    let ops = sim.stats().by_operation;
    assert_eq!((ops["Enumerate"], ops["Pull"]), (1, 2), "{ops:?}");
    let id = client.identify().await.unwrap();
    assert_eq!(id.amt_major(), Some(11));
}

/// AMT falls asleep after idle time while the host is off; the next power on wakes
/// it within the caller's timeout (the client's idle window is shortened here).
#[tokio::test]
async fn an_idle_device_falls_asleep_and_is_woken() {
    let sim = AmtSim::start(AmtSimConfig {
        sleep_after: Some(Duration::from_millis(300)),
        ..AmtSimConfig::default()
    })
    .await
    .unwrap();
    let mut config = AmtConfig::new(sim.base_url(), "admin", "P@ssw0rd").unwrap();
    config.awake_interval = Duration::from_millis(200);
    config.wake_wait = Duration::from_millis(300);
    let client = AmtClient::new(&config).unwrap();
    let boot = Arc::new(hwctl_amt::BootKeeper::new(
        client.clone(),
        &config,
        Arc::new(MemoryStore::new()),
    ));
    let power = hwctl_amt::AmtPower::new(client, boot, Duration::from_millis(50));
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The simulator drops idle connections when it falls asleep, as AMT does.
    let t0 = Instant::now();
    power
        .set_power_state(PowerTarget::On, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(sim.is_on());
    assert_eq!(sim.stats().wakeups, 1, "{:?}", sim.stats());
}

/// A device that never answers: the wake-up retry stays within the caller's timeout.
#[tokio::test]
async fn a_dead_device_fails_within_the_timeout() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let info = sim.driver_info(0);
    drop(sim);
    let n = hwctl_amt::hardware_type()
        .build(&info, &NodeContext::new("dead"))
        .unwrap();
    let t0 = Instant::now();
    let e = n
        .power()
        .unwrap()
        .set_power_state(PowerTarget::On, Some(Duration::from_secs(3)))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Unreachable | ErrorKind::Timeout),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
}
