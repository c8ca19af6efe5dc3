#![allow(clippy::unwrap_used)]
//! BMCs as they behave in fleets (issue 14): each test is one kind of fault,
//! reproduced with the simulator's fault switches.

use std::time::{Duration, Instant};

use hwctl_core::{ErrorKind, Management};
use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
use hwctl_ipmi::{Ipmi, IpmiManagement};

async fn bmc() -> IpmiSim {
    IpmiSim::start(IpmiSimConfig::default()).await.unwrap()
}

fn mgmt(bmc: &IpmiSim) -> IpmiManagement {
    IpmiManagement::new(Ipmi::new(bmc.config()), None)
}

// ---- 14.5: one bad sensor does not spoil the list -------------------------------

/// Every error completion code a Get Sensor Reading may answer lists the sensor
/// as unavailable with its reason, and the others with their values.
#[tokio::test]
async fn a_sensor_answering_an_error_code_is_listed_unavailable() {
    let bmc = bmc().await;
    let m = mgmt(&bmc);
    for cc in [0xC0u8, 0xC3, 0xCD, 0xD5, 0xFF, 0xCE, 0xD2, 0xC1] {
        bmc.set_sensor_cc(2, cc); // FAN1
        let list = m.get_sensors().await.unwrap();
        let fan = list.iter().find(|s| s.name == "FAN1").unwrap();
        assert_eq!(fan.value, None, "0x{cc:02x}");
        assert!(fan.status.starts_with("unavailable: "), "{}", fan.status);
        assert!(
            fan.status.contains(&format!("0x{cc:02x}")),
            "{}",
            fan.status
        );
        let cpu = list.iter().find(|s| s.name == "CPU Temp").unwrap();
        assert_eq!(cpu.value, Some(45.0));
        assert_eq!(list.len(), 5);
    }
}

/// A reading whose flags say scanning is disabled (byte 2 bit 6 clear: an empty
/// DIMM slot, a host that is off) has no value; so has one marked unavailable.
#[tokio::test]
async fn a_sensor_with_scanning_disabled_has_no_value() {
    let bmc = bmc().await;
    bmc.set_sensor_flags(1, 0x80); // CPU Temp: events enabled, scanning disabled
    bmc.set_sensor_flags(5, 0x00); // the discrete PSU status, likewise
    bmc.set_sensor_flags(3, 0xE0); // 12V: scanning enabled, reading unavailable
    let list = mgmt(&bmc).get_sensors().await.unwrap();
    let cpu = list.iter().find(|s| s.name == "CPU Temp").unwrap();
    assert_eq!(
        (cpu.value, cpu.status.as_str()),
        (None, "unavailable: scanning disabled")
    );
    let psu = list.iter().find(|s| s.name == "PSU1 Status").unwrap();
    assert_eq!(psu.status, "unavailable: scanning disabled");
    let v = list.iter().find(|s| s.name == "12V").unwrap();
    assert_eq!(
        (v.value, v.status.as_str()),
        (None, "unavailable: reading unavailable")
    );
    let fan = list.iter().find(|s| s.name == "FAN1").unwrap();
    assert_eq!(fan.value, Some(5000.0));
}

/// The call fails only when nothing can be read, with the code's kind.
#[tokio::test]
async fn sensors_fail_only_when_nothing_can_be_read() {
    let bmc = bmc().await;
    for n in 1..=5 {
        bmc.set_sensor_cc(n, 0xC0);
    }
    let started = Instant::now();
    let err = mgmt(&bmc).get_sensors().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("no sensor could be read"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ---- 14.4: reading the SDR under contention ---------------------------------------

/// Another console reserves the repository while we read: our next partial Get
/// SDR answers 0xC5; we re-reserve and go on, as ipmitool does.
#[tokio::test]
async fn sdr_reading_survives_a_cancelled_reservation() {
    let bmc = bmc().await;
    bmc.set_sdr_contention(true);
    let ipmi = Ipmi::new(bmc.config());
    let records = ipmi.sdr_records().await.unwrap();
    assert_eq!(records.len(), 6);
    let list = IpmiManagement::new(ipmi, None).get_sensors().await.unwrap();
    assert_eq!(list.len(), 5);
}

/// Every transient completion code of Reserve SDR Repository and Get SDR is
/// retried after a pause; 0xCA makes the partial reads smaller.
#[tokio::test]
async fn sdr_reading_survives_every_transient_completion_code() {
    for cc in [0xC0u8, 0xC3, 0xCE, 0xD0, 0xD2] {
        let bmc = bmc().await;
        bmc.set_sdr_transient(cc, 3);
        let records = Ipmi::new(bmc.config()).sdr_records().await;
        assert_eq!(records.unwrap().len(), 6, "0x{cc:02x}");
    }
    let bmc = bmc().await;
    bmc.set_sdr_max_read(Some(5));
    let records = Ipmi::new(bmc.config()).sdr_records().await.unwrap();
    assert_eq!(records.len(), 6);
    assert!(
        records
            .iter()
            .any(|r| matches!(&r.kind, hwctl_ipmi::SdrKind::Full(s) if s.name == "PSU1 Power"))
    );
}

/// Bounded: a repository that stays busy fails (busy), in seconds.
#[tokio::test]
async fn a_repository_that_stays_busy_fails_in_bounded_time() {
    let bmc = bmc().await;
    bmc.set_sdr_transient(0xD0, u32::MAX);
    let started = Instant::now();
    let err = Ipmi::new(bmc.config()).sdr_records().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

// ---- 14.3: the boot device is not lost after 60 s ----------------------------------

/// A BMC that applies IPMI 2.0 §28.12 (here with a 300 ms timer instead of 60 s):
/// the boot device set without a chassis control survives, because the timer is
/// disabled first (`ipmi_disable_boot_timeout`, true by default), and is lost when
/// the key says false, as on such a BMC with ipmitool.
#[tokio::test]
async fn the_boot_device_survives_the_boot_flag_timer() {
    use hwctl_core::{BootDevice, NodeContext};
    for (disable, kept) in [(None, true), (Some("true"), true), (Some("false"), false)] {
        let bmc = IpmiSim::start(IpmiSimConfig {
            boot_flag_timeout: Duration::from_millis(300),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut info = bmc.driver_info();
        if let Some(d) = disable {
            info.insert("ipmi_disable_boot_timeout", d);
        }
        let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
            .build(&info, &NodeContext::new("n"))
            .unwrap();
        let m = node.management().unwrap();
        m.set_boot_device(BootDevice::Pxe, false).await.unwrap();
        assert_eq!(
            m.get_boot_device().await.unwrap().device,
            Some(BootDevice::Pxe)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = m.get_boot_device().await.unwrap().device;
        assert_eq!(now == Some(BootDevice::Pxe), kept, "{disable:?}: {now:?}");
        assert_eq!(bmc.boot_valid_bit_clearing() & 0x08 != 0, kept);
    }
}

// ---- 14.1: cipher-suite negotiation -----------------------------------------------

fn realistic(bmc: &IpmiSim) -> hwctl_ipmi::IpmiConfig {
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_secs(2);
    cfg.retries = 3;
    cfg
}

/// A BMC that offers only suite 3 and silently drops Open Session proposals for
/// 17: with no suite configured, the suite comes from Get Channel Cipher Suites,
/// as ipmitool does, in well under a second.
#[tokio::test]
async fn the_suite_is_chosen_from_what_the_bmc_lists() {
    let bmc = IpmiSim::start(IpmiSimConfig {
        suites: vec![3],
        drop_unoffered_suites: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = hwctl_ipmi::IpmiClient::new(realistic(&bmc));
    let started = Instant::now();
    assert_eq!(client.read(None, 0x00, 0x01, &[]).await.unwrap().cc, 0);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        client.cipher_suite().await,
        Some(hwctl_ipmi::CipherSuite::Suite3)
    );
    // And 17 when it is offered.
    let both = bmc_with_suites(vec![3, 17]).await;
    let client = hwctl_ipmi::IpmiClient::new(realistic(&both));
    client.read(None, 0x00, 0x01, &[]).await.unwrap();
    assert_eq!(
        client.cipher_suite().await,
        Some(hwctl_ipmi::CipherSuite::Suite17)
    );
}

async fn bmc_with_suites(suites: Vec<u8>) -> IpmiSim {
    IpmiSim::start(IpmiSimConfig {
        suites,
        drop_unoffered_suites: true,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The same BMC without Get Channel Cipher Suites: silence to suite 17 costs one
/// request timeout, then 3 is tried (not the whole retry budget, then a failure).
#[tokio::test]
async fn silence_to_a_suite_falls_back_within_one_wait() {
    let bmc = IpmiSim::start(IpmiSimConfig {
        suites: vec![3],
        drop_unoffered_suites: true,
        list_cipher_suites: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = hwctl_ipmi::IpmiClient::new(realistic(&bmc));
    let started = Instant::now();
    assert_eq!(client.read(None, 0x00, 0x01, &[]).await.unwrap().cc, 0);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        client.cipher_suite().await,
        Some(hwctl_ipmi::CipherSuite::Suite3)
    );
}

/// Suite numbers Ironic passes through validate; the ones this driver cannot
/// speak are `unsupported`, naming what the BMC offers.
#[tokio::test]
async fn other_suite_numbers_are_unsupported_naming_the_offered_ones() {
    use hwctl_core::NodeContext;
    let bmc = bmc_with_suites(vec![3, 17]).await;
    for n in ["0", "1", "2", "8", "12"] {
        let mut info = bmc.driver_info();
        info.insert("ipmi_cipher_suite", n);
        let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
            .build(&info, &NodeContext::new("n"))
            .unwrap();
        let err = node.power().unwrap().get_power_state().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{n}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("cipher suite {n}")) && msg.contains("offers 3, 17"),
            "{msg}"
        );
    }
}

// ---- 14.2: session table full ----------------------------------------------------

/// For 2 s every Open Session is refused with status 0x01, then accepted: the
/// refusal is retried with backoff within `ipmi_command_retry_timeout` (60 s by
/// default), as Ironic does; a shorter window ends in `busy`, its last attempt
/// made just before the window ends.
#[tokio::test]
async fn a_full_session_table_is_waited_out_within_the_window() {
    use hwctl_core::{NodeContext, PowerState};
    let bmc = bmc().await;
    bmc.set_session_table_full_for(Duration::from_secs(2));
    let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
        .build(&bmc.driver_info(), &NodeContext::new("n"))
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        node.power().unwrap().get_power_state().await.unwrap(),
        PowerState::Off
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_secs(6));

    bmc.set_session_table_full_for(Duration::from_secs(30));
    let mut info = bmc.driver_info();
    info.insert("ipmi_command_retry_timeout", "1.5");
    let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
        .build(&info, &NodeContext::new("n"))
        .unwrap();
    let started = Instant::now();
    let err = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    // The last attempt is made 100 ms before the window ends, whatever the
    // jitter drew (it once gave up at 0.9 s of 1.5 s).
    assert!(started.elapsed() >= Duration::from_millis(1350), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");
    assert!(
        err.to_string().contains("ipmi_command_retry_timeout 1.5s"),
        "{err}"
    );
}

/// Busy refusals, then silence: the error counts the silent attempts apart from
/// the answered ones. It said "silent for 0.9s over 7 attempts (…; at most 3
/// attempts …)": neither the time nor the attempts were all silence, and 7 is
/// more than "at most 3" (the bound is on silent attempts in a row).
#[tokio::test]
async fn busy_answers_then_silence_are_told_apart_in_the_error() {
    let bmc = bmc().await;
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_millis(100);
    cfg.retries = 2;
    bmc.set_session_table_full_for(Duration::from_secs(30));
    let client = hwctl_ipmi::IpmiClient::new(cfg);
    let read = tokio::spawn(async move { client.read(None, 0x00, 0x01, &[]).await });
    // Two refused attempts (each: two session-less requests, then Open Session).
    // The third attempt's first request proves the second Open Session was
    // refused: at 4 the second Open Session could still be in flight, be met by
    // the silence, and leave one refusal, not two (CI saw "the last 3 of 4").
    let deadline = Instant::now() + Duration::from_secs(10);
    while bmc.stats().presession < 5 {
        assert!(Instant::now() < deadline, "no second attempt");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bmc.set_fault(hwctl_ipmi::sim::Fault::Silence);
    let err = read.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let msg = err.to_string();
    // "over the last RUN of MADE attempts": where the silence lands in the third
    // attempt decides RUN (silence after its first session-less request costs the
    // whole silence budget in that one attempt: the cipher suite list, then
    // suites 17 and 3), so only what the message must tell apart is asserted.
    let counts = msg.split("over the last ").nth(1).and_then(|t| {
        let mut w = t.split(' ');
        let run: u32 = w.next()?.parse().ok()?;
        let made: u32 = w.nth(1)?.parse().ok()?;
        Some((run, made))
    });
    let Some((run, made)) = counts else {
        panic!("no 'over the last N of M attempts' in {msg}");
    };
    assert!((1..=3).contains(&run) && made >= run + 2, "{msg}");
    assert!(
        msg.contains("(the BMC answered the others)")
            && msg.contains("at most 3 silent attempts in a row"),
        "{msg}"
    );
}

// ---- 14.8: silence costs a bounded total time -------------------------------------

/// A BMC that answers session setup but not commands: the read ends within the
/// silence budget (request timeout × tries), not tries × (session setup + wait),
/// and the message says for how long it tried, not "within 1s".
#[tokio::test]
async fn silence_costs_one_total_time_and_says_so() {
    let bmc = bmc().await;
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_secs(1);
    cfg.retries = 3;
    let client = hwctl_ipmi::IpmiClient::new(cfg.clone());
    client.read(None, 0x00, 0x01, &[]).await.unwrap();
    bmc.set_fault(hwctl_ipmi::sim::Fault::SilentInSession);
    let started = Instant::now();
    let err = client.read(None, 0x00, 0x01, &[]).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_millis(4400), "{took:?}: {err}");
    let msg = err.to_string();
    assert!(
        msg.contains("silent for") && msg.contains("attempt"),
        "{msg}"
    );
    // ipmi_command_retry_timeout bounds it too.
    cfg.command_retry_timeout = Duration::from_secs(2);
    let client = hwctl_ipmi::IpmiClient::new(cfg);
    let started = Instant::now();
    let err = client.read(None, 0x00, 0x01, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_millis(2400), "{err}");
}

// ---- 14.6: addresses as operators write them ---------------------------------------

/// `ipmi_address` takes IPv6 with a zone and with brackets, and host names with
/// an underscore, and what validates connects.
#[tokio::test]
async fn zoned_and_bracketed_ipv6_addresses_validate_and_connect() {
    use hwctl_core::{NodeContext, PowerState};
    for address in ["fe80::1%eth0", "[fe80::1%eth0]", "bmc_17.lab"] {
        let mut info = hwctl_core::DriverInfo::new();
        info.insert("ipmi_address", address);
        assert!(
            hwctl_ipmi::IpmiConfig::from_driver_info(&info, &NodeContext::new("n")).is_ok(),
            "{address}"
        );
    }
    let bmc = IpmiSim::start(IpmiSimConfig {
        listen: "[::1]:0".parse().unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut forms = vec!["::1", "[::1]"];
    if std::path::Path::new("/sys/class/net/lo").exists() {
        forms.extend(["::1%lo", "[::1%lo]"]);
    }
    for address in forms {
        let mut info = bmc.driver_info();
        info.insert("ipmi_address", address);
        let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
            .build(&info, &NodeContext::new("n"))
            .unwrap();
        let state = node.power().unwrap().get_power_state().await;
        assert_eq!(state.unwrap(), PowerState::Off, "{address}");
    }
}

// ---- 14.9: errors of the right kind ------------------------------------------------

/// An address that cannot work on this host (an IPv6 zone naming no interface)
/// is the node's configuration — invalid input, not unreachable (as the libvirt
/// node file was), and not retried.
#[tokio::test]
async fn a_zone_naming_no_interface_is_invalid_input_not_unreachable() {
    use hwctl_core::NodeContext;
    let mut info = hwctl_core::DriverInfo::new();
    info.insert("ipmi_address", "fe80::1%nosuchif0");
    let node = hwctl_ipmi::hardware_type_with(hwctl_core::shared::Shared::new())
        .build(&info, &NodeContext::new("n"))
        .unwrap();
    let started = Instant::now();
    let err = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    assert!(err.to_string().contains("ipmi_address"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1), "not retried");
}

/// Completion codes of the right kind: "out of space" (0xC4) is transient (Ironic
/// retries it), "sub-function disabled" (0xD6) is unsupported; the rest as before.
#[test]
fn completion_codes_of_the_right_kind() {
    use hwctl_ipmi::cc_kind;
    assert_eq!(cc_kind(0xC4), ErrorKind::Busy);
    assert_eq!(cc_kind(0xD6), ErrorKind::Unsupported);
    assert_eq!(cc_kind(0xC0), ErrorKind::Busy);
    assert_eq!(cc_kind(0xD4), ErrorKind::PermissionDenied);
    assert_eq!(cc_kind(0xCB), ErrorKind::NotFound);
    assert_eq!(cc_kind(0xCC), ErrorKind::DeviceFault);
}
