//! The shared engine under the `ipmi` driver: the power deadline (hwctl_core's
//! PowerSwitch engine), one session per BMC endpoint per process (hwctl_core's Shared),
//! and no secret in the sharing key.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use hwctl_core::shared::Shared;
use hwctl_core::{ErrorKind, NodeContext, PowerTarget};
use hwctl_ipmi::sim::{Fault, IpmiSim};

async fn bmc() -> IpmiSim {
    IpmiSim::start(Default::default()).await.unwrap()
}

/// `set_power_state(On, 1 s)` against a BMC that stops answering after the first
/// exchange must fail with a retryable timeout (nothing was sent) within about 1 s. With the default
/// configuration (2 s request timeout, 3 retries, a session re-opened after each
/// timeout) one status read alone takes about half a minute; before the power engine
/// the first read and the command were outside the deadline (about 33 s, `timeout`).
#[tokio::test]
async fn a_bmc_silent_after_the_first_exchange_fails_within_the_power_timeout() {
    let bmc = bmc().await;
    let node = hwctl_ipmi::hardware_type_with(Shared::new())
        .build(&bmc.driver_info(), &NodeContext::new("n1"))
        .unwrap();
    let power = node.power().unwrap();
    power.get_power_state().await.unwrap(); // the session is open
    bmc.set_fault(Fault::Silence);
    let started = Instant::now();
    let err = power
        .set_power_state(PowerTarget::On, Some(Duration::from_secs(1)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_retryable(), "{err}");
    assert!(took < Duration::from_millis(2500), "took {took:?}: {err}");
    assert!(took >= Duration::from_millis(900), "took {took:?}: {err}");
    assert!(bmc.power_log().controls.is_empty(), "nothing was sent");
}

/// The same for a BMC silent from the start (no session can be opened).
#[tokio::test]
async fn a_bmc_silent_from_the_start_fails_within_the_power_timeout() {
    let bmc = bmc().await;
    bmc.set_fault(Fault::Silence);
    let power = hwctl_ipmi::IpmiPower::new(
        hwctl_ipmi::ipmi_from_driver_info(
            &Shared::new(),
            &bmc.driver_info(),
            &NodeContext::new("n1"),
        )
        .unwrap(),
    );
    let started = Instant::now();
    let err =
        hwctl_core::Power::set_power_state(&power, PowerTarget::On, Some(Duration::from_secs(1)))
            .await
            .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.driver(), Some("ipmi"), "{err:?}");
    assert!(took < Duration::from_millis(2500), "took {took:?}: {err}");
}

/// Building the hardware type twice (two registries, two callers) must not open a
/// second RMCP+ session to one BMC: the default scope is the process.
#[tokio::test]
async fn hardware_type_built_twice_opens_one_session() {
    let bmc = bmc().await;
    let info = bmc.driver_info();
    let a = hwctl_ipmi::hardware_type()
        .build(&info, &NodeContext::new("a"))
        .unwrap();
    let b = hwctl_ipmi::hardware_type()
        .build(&info, &NodeContext::new("b"))
        .unwrap();
    a.power().unwrap().get_power_state().await.unwrap();
    b.power().unwrap().get_power_state().await.unwrap();
    a.management().unwrap().get_boot_device().await.unwrap();
    let s = bmc.stats();
    assert_eq!(s.sessions_opened, 1, "{s:?}");
    assert_eq!(s.open_sessions, 1, "{s:?}");
}

/// An injected scope is separate from the global one (tests can count on it).
#[tokio::test]
async fn an_injected_scope_is_its_own() {
    let bmc = bmc().await;
    let info = bmc.driver_info();
    let shared = Shared::new();
    let a = hwctl_ipmi::hardware_type_with(shared.clone())
        .build(&info, &NodeContext::new("a"))
        .unwrap();
    let b = hwctl_ipmi::hardware_type()
        .build(&info, &NodeContext::new("b"))
        .unwrap();
    a.power().unwrap().get_power_state().await.unwrap();
    b.power().unwrap().get_power_state().await.unwrap();
    assert_eq!(shared.len(), 1);
    assert_eq!(bmc.stats().sessions_opened, 2);
}

/// The sharing key holds a keyed fingerprint of the password, never the password
/// (the old pool kept it in plain text in its key).
#[test]
fn the_pool_key_holds_no_password() {
    let password = "pl41n-t3xt-pw";
    let info = hwctl_core::DriverInfo::from_pairs([
        ("ipmi_address", "10.9.8.7"),
        ("ipmi_username", "admin"),
        ("ipmi_password", password),
    ]);
    let shared = Shared::new();
    let ipmi = hwctl_ipmi::ipmi_from_driver_info(&shared, &info, &NodeContext::new("n")).unwrap();
    let keys = shared.keys();
    assert_eq!(keys.len(), 1);
    for text in [
        format!("{:?}", keys[0]),
        keys[0].to_string(),
        format!("{shared:?}"),
        format!("{ipmi:?}"),
        format!("{:?}", ipmi.client().config().endpoint_key()),
    ] {
        assert!(!text.contains(password), "{text}");
    }
    // A different password is a different endpoint (and session).
    let mut other = info.clone();
    other.insert("ipmi_password", "another");
    let ipmi2 = hwctl_ipmi::ipmi_from_driver_info(&shared, &other, &NodeContext::new("n")).unwrap();
    assert!(!ipmi.client().same_endpoint(ipmi2.client()));
    assert_eq!(shared.len(), 2);
    drop((ipmi, ipmi2));
    assert_eq!(shared.len(), 0, "released with the last node");
}

/// A power cycle whose reply is lost is not resent (it may have been done); a power
/// on is (it is idempotent).
#[tokio::test]
async fn a_lost_power_cycle_is_not_resent_but_a_power_on_is() {
    use hwctl_ipmi::ChassisControl;
    let bmc = bmc().await;
    let ipmi = hwctl_ipmi::Ipmi::new(bmc.config());
    ipmi.chassis_power_on().await.unwrap();
    bmc.set_fault(Fault::Silence);
    let before = bmc.stats().packets;
    let err = ipmi
        .chassis_control(ChassisControl::PowerCycle)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(bmc.stats().packets - before, 1, "sent once: {err}");
    let before = bmc.stats().packets;
    let err = ipmi
        .chassis_control(ChassisControl::PowerUp)
        .await
        .unwrap_err();
    assert!(bmc.stats().packets - before > 1, "resent: {err}");
    assert!(err.to_string().contains("attempts"), "{err}");
}

/// A newcomer's report: node n3 sets `ipmi_command_retry_timeout = 3` and shares the
/// BMC's session with n1 (default 60 s). Against a silent BMC n3's status read must
/// end as it does alone (2 attempts, its 3 s named); it used to take n1's 60 s (4
/// attempts over 8 s) because the shared client kept the first node's config.
/// Time is paused once the session is open, so the silence costs no real time.
#[tokio::test]
async fn a_nodes_command_retry_timeout_is_its_own_on_a_shared_session() {
    let bmc = bmc().await;
    let ht = hwctl_ipmi::hardware_type_with(Shared::new());
    let n1 = ht
        .build(&bmc.driver_info(), &NodeContext::new("n1"))
        .unwrap();
    n1.power().unwrap().get_power_state().await.unwrap();
    let mut info = bmc.driver_info();
    info.insert("ipmi_command_retry_timeout", "3");
    let n3 = ht.build(&info, &NodeContext::new("n3")).unwrap();
    n3.power().unwrap().get_power_state().await.unwrap();
    assert_eq!(
        bmc.stats().sessions_opened,
        1,
        "n1 and n3 share one session"
    );

    tokio::time::pause();
    bmc.set_fault(Fault::Silence);
    let err = n3.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("ipmi_command_retry_timeout 3s"), "{msg}");
    assert!(msg.contains("over 2 attempts"), "{msg}");
    // n1 keeps its own 60 s on the same session.
    let err = n1.power().unwrap().get_power_state().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("ipmi_command_retry_timeout 60s") && msg.contains("over 4 attempts"),
        "{msg}"
    );
}

/// The same for the per-request settings a library user sets on `IpmiConfig`
/// (`request_timeout`, `retries`): each node's own, on one shared session.
#[tokio::test]
async fn a_nodes_request_timeout_and_retries_are_its_own_on_a_shared_session() {
    let bmc = bmc().await;
    let shared = Shared::new();
    let a = hwctl_ipmi::ipmi_from_config(&shared, &bmc.config());
    let mut cfg = bmc.config();
    cfg.request_timeout = Duration::from_millis(500);
    cfg.retries = 1;
    let b = hwctl_ipmi::ipmi_from_config(&shared, &cfg);
    assert!(a.client().same_endpoint(b.client()));
    a.chassis_power_on().await.unwrap();
    b.chassis_power_on().await.unwrap();
    assert_eq!(bmc.stats().sessions_opened, 1);

    tokio::time::pause();
    bmc.set_fault(Fault::Silence);
    let msg = b.chassis_power_on().await.unwrap_err().to_string();
    assert!(
        msg.contains("each waiting up to 0.5s; at most 2 silent attempts in a row")
            && msg.contains("silent for 1.0s over 2 attempts"),
        "{msg}"
    );
    let msg = a.chassis_power_on().await.unwrap_err().to_string();
    assert!(
        msg.contains("each waiting up to 0.3s; at most 3 silent attempts in a row")
            && msg.contains("over 3 attempts"),
        "{msg}"
    );
}

/// `ipmi_disable_boot_timeout` is the node's own too: a node that turns it off
/// does not send parameter 3 because another node on the BMC has it on.
#[tokio::test]
async fn a_nodes_disable_boot_timeout_is_its_own_on_a_shared_session() {
    use hwctl_core::BootDevice;
    let bmc = bmc().await;
    let ht = hwctl_ipmi::hardware_type_with(Shared::new());
    let n1 = ht
        .build(&bmc.driver_info(), &NodeContext::new("n1"))
        .unwrap();
    n1.power().unwrap().get_power_state().await.unwrap();
    let mut info = bmc.driver_info();
    info.insert("ipmi_disable_boot_timeout", "false");
    let n2 = ht.build(&info, &NodeContext::new("n2")).unwrap();
    n2.management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, false)
        .await
        .unwrap();
    assert_eq!(bmc.stats().sessions_opened, 1, "one session");
    assert_eq!(bmc.boot_valid_bit_clearing() & 0x08, 0, "timer left on");
    n1.management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, false)
        .await
        .unwrap();
    assert_ne!(bmc.boot_valid_bit_clearing() & 0x08, 0, "n1 turns it off");
}

/// Every per-node setting a handle reports is its own; the keep-alive interval,
/// which belongs to the session, is part of what the session is shared on.
#[test]
fn per_node_settings_and_the_sharing_key() {
    let shared = Shared::new();
    let base = hwctl_ipmi::IpmiConfig::new("10.0.0.1");
    let mut own = base.clone();
    own.request_timeout = Duration::from_millis(700);
    own.retries = 0;
    own.min_interval = Duration::from_millis(40);
    own.poll_interval = Duration::from_millis(90);
    own.disable_boot_timeout = false;
    own.command_retry_timeout = Duration::from_secs(5);
    own.bridge = Some(hwctl_ipmi::Bridge::single(6, 0x2c));
    let a = hwctl_ipmi::ipmi_from_config(&shared, &base);
    let b = hwctl_ipmi::ipmi_from_config(&shared, &own);
    assert!(a.client().same_endpoint(b.client()));
    let c = b.client().config();
    assert_eq!(
        (
            c.request_timeout,
            c.retries,
            c.min_interval,
            c.poll_interval
        ),
        (own.request_timeout, 0, own.min_interval, own.poll_interval)
    );
    assert!(!c.disable_boot_timeout);
    assert_eq!(c.command_retry_timeout, Duration::from_secs(5));
    assert_eq!(b.bridge(), own.bridge.as_ref());
    assert_eq!(a.client().config().request_timeout, base.request_timeout);

    let mut other = base.clone();
    other.keepalive_interval = Duration::from_secs(5);
    let d = hwctl_ipmi::ipmi_from_config(&shared, &other);
    assert!(!a.client().same_endpoint(d.client()));
    assert_eq!(shared.len(), 2);
}
