//! The driver against the simulator: exact requests, every interface, every
//! completion code and fault, the serial console, and a shared chassis.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hwctl_core::{
    BootDevice, BootMode, Console, DriverInfo, ErrorKind, Management, NodeContext, Power, PowerExt,
    PowerState, PowerTarget,
};
use hwctl_http::{Auth, EndpointConfigBuilder};
use hwctl_ocs::sim::{Fault, FaultRule, OcsSim, OcsSimConfig};
use hwctl_ocs::wire::CompletionCode;
use hwctl_ocs::{OcsClient, OcsConfig, OcsConsole, OcsManagement, OcsPower};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn sim() -> OcsSim {
    OcsSim::start(OcsSimConfig::default()).await.unwrap()
}

fn config(sim: &OcsSim, blade: u32) -> OcsConfig {
    let mut c = OcsConfig::new(sim.base_url(), blade, "admin", "password").unwrap();
    c.power_poll_interval = Duration::from_millis(20);
    c.console_poll_interval = Duration::from_millis(10);
    endpoint(&mut c, |b| b.request_timeout(Duration::from_secs(5)));
    c
}

/// Changes the endpoint settings of `c` (hwctl-http's builder).
fn endpoint(
    c: &mut OcsConfig,
    change: impl FnOnce(EndpointConfigBuilder) -> EndpointConfigBuilder,
) {
    c.endpoint = change(c.endpoint.to_builder()).build().unwrap();
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:password")
    )
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/msftocs")
            .join(name),
    )
    .unwrap()
}

/// A raw HTTP/1.1 exchange, independent of the client under test.
async fn raw_get(sim: &OcsSim, path: &str, auth: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: cm\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

#[tokio::test]
async fn simulator_replies_have_the_exact_shape_of_the_fixtures() {
    let sim = sim().await;
    let auth = basic();
    sim.set_blade_power(1, true);
    let (st, body) = raw_get(&sim, "/GetBladeState?bladeId=1", Some(&auth)).await;
    assert_eq!((st, body), (200, fixture("ironic_BladeStateResponse.xml")));
    let (_, body) = raw_get(&sim, "/SetBladeOn?bladeId=1", Some(&auth)).await;
    assert_eq!(body, fixture("ironic_BladeResponse.xml"));
    let (_, body) = raw_get(&sim, "/GetPowerState?bladeid=1", Some(&auth)).await;
    assert_eq!(body, fixture("ironic_PowerStateResponse.xml"));
    let (_, body) = raw_get(
        &sim,
        "/SetNextBoot?bladeId=1&bootType=2&uefi=false&persistent=true",
        Some(&auth),
    )
    .await;
    assert_eq!(body, fixture("ironic_BootResponse.xml"));
    let (_, body) = raw_get(&sim, "/GetNextBoot?bladeId=1", Some(&auth)).await;
    assert_eq!(body, fixture("ironic_BootResponse.xml"));
    // The chassis info has the MAAS capture's element structure (whitespace aside).
    let (_, body) = raw_get(&sim, "/GetChassisInfo", Some(&auth)).await;
    let squash = |s: &str| -> String {
        s.split('\n')
            .map(str::trim)
            .collect::<String>()
            .replace('\'', "\"")
    };
    let maas = squash(&fixture("maas_GetChassisInfo_ChassisInfoResponse.xml"));
    let blade1 = body.split("</BladeInfo>").next().unwrap().to_owned() + "</BladeInfo>";
    let want_blade = maas
        .split("<BladeInfo>")
        .nth(1)
        .unwrap()
        .split("</BladeInfo>")
        .next()
        .unwrap()
        .replace("<bladeNumber>11", "<bladeNumber>1")
        .replace("BLADE11", "BLADE1")
        .replace("F4:52:14:D6:70:98", "F4:52:14:00:01:01")
        .replace(
            "<statusDescription></statusDescription>",
            "<statusDescription/>",
        )
        .replace("<bladeGuid></bladeGuid>", "<bladeGuid/>");
    assert!(
        blade1.ends_with(&format!("{want_blade}</BladeInfo>")),
        "{blade1}\n{want_blade}"
    );
    assert!(
        body.starts_with(maas.split("<BladeInfo>").next().unwrap()),
        "{body}"
    );
    // Auth, unknown operations, bad parameters.
    assert_eq!(raw_get(&sim, "/GetBladeState?bladeId=1", None).await.0, 401);
    assert_eq!(
        raw_get(
            &sim,
            "/GetBladeState?bladeId=1",
            Some("Basic YWRtaW46bm9wZQ==")
        )
        .await
        .0,
        401
    );
    assert_eq!(raw_get(&sim, "/NoSuchThing", Some(&auth)).await.0, 404);
    assert_eq!(
        raw_get(&sim, "/GetBladeState?bladeId=x", Some(&auth))
            .await
            .0,
        400
    );
    let (_, body) = raw_get(&sim, "/GetBladeState?bladeId=25", Some(&auth)).await;
    assert!(
        body.contains("<completionCode>ParameterOutOfRange</completionCode>"),
        "{body}"
    );
    assert_eq!(sim.stats().unauthorized, 2);
}

#[tokio::test]
async fn every_operation_sends_the_exact_url_and_basic_auth() {
    let sim = sim().await;
    let c = config(&sim, 7);
    let power = OcsPower::new(c.clone()).unwrap();
    let mgmt = OcsManagement::new(c.clone()).unwrap();
    let console = OcsConsole::new(c.clone()).unwrap();

    power.power_on().await.unwrap(); // GetBladeState, SetBladeOn, GetBladeState
    power.reboot().await.unwrap(); // GetBladeState, SetBladeActivePowerCycle, GetBladeState
    power.power_off().await.unwrap(); // GetBladeState, SetBladeOff, GetBladeState
    mgmt.set_boot_device(BootDevice::Pxe, true).await.unwrap();
    mgmt.set_boot_device_with_mode(BootDevice::Bios, false, BootMode::Uefi)
        .await
        .unwrap();
    mgmt.get_boot_device().await.unwrap();
    OcsClient::shared(&c).unwrap().chassis_info().await.unwrap();
    power.power_on().await.unwrap();
    sim.clear_requests();
    let mut stream = console.open_stream().await.unwrap();
    stream.write_all(&[0xfb, 0xff, 0x3e]).await.unwrap();
    stream.flush().await.unwrap();
    let mut buf = [0u8; 64];
    let _ = stream.read(&mut buf).await.unwrap();
    stream.shutdown().await.unwrap();

    let log = sim.requests();
    assert!(log.iter().all(|r| r.method == "GET"));
    assert!(
        log.iter()
            .all(|r| r.authorization.as_deref() == Some(basic().as_str()))
    );
    let urls: Vec<String> = log.iter().map(|r| r.path_and_query()).collect();
    let token = urls[0].clone();
    assert_eq!(
        token,
        "StartBladeSerialSession?bladeId=7&sessionTimeoutInSecs=300&powerOnWait=false"
    );
    let tok = urls
        .iter()
        .find_map(|u| u.strip_prefix("ReceiveBladeSerialData?bladeId=7&sessionToken="))
        .unwrap()
        .to_owned();
    assert!(
        urls.contains(&format!(
            "SendBladeSerialData?bladeId=7&sessionToken={tok}&data=%2B%2F8%2B"
        )),
        "{urls:?}"
    );
    assert_eq!(
        urls.last().unwrap(),
        &format!("StopBladeSerialSession?bladeId=7&sessionToken={tok}&forceKill=false")
    );
    assert_eq!(sim.blade(7).unwrap().serial_input, vec![0xfb, 0xff, 0x3e]);
}

/// As Ironic's and MAAS's clients, no `Accept` header is sent: a chassis
/// manager answers XML without one (issue 16: it cost ~2k instructions per
/// request). Read by a one-shot server that answers with the captured reply.
#[tokio::test]
async fn a_request_carries_no_accept_header() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let head = read_until(&mut s, b"\r\n\r\n").await;
        let body = fixture("ironic_BladeStateResponse.xml");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(reply.as_bytes()).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    let config = OcsConfig::new(&base, 1, "admin", "password").unwrap();
    let client = OcsClient::new(&config).unwrap();
    client.blade_state(1).await.unwrap();
    let head = server.await.unwrap();
    assert!(
        head.starts_with("GET /GetBladeState?bladeId=1 HTTP/1.1\r\n"),
        "{head}"
    );
    let basic = format!("authorization: {}", basic());
    assert!(
        head.lines().any(|l| l.eq_ignore_ascii_case(&basic)),
        "{head}"
    );
    assert!(
        !head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("accept:")),
        "{head}"
    );
}

#[tokio::test]
async fn power_and_boot_request_sequences_are_exact() {
    let sim = sim().await;
    let c = config(&sim, 7);
    let power = OcsPower::new(c.clone()).unwrap();
    let mgmt = OcsManagement::new(c.clone()).unwrap();
    let urls = |sim: &OcsSim| -> Vec<String> {
        let v = sim.requests().iter().map(|r| r.path_and_query()).collect();
        sim.clear_requests();
        v
    };
    power.power_on().await.unwrap();
    assert_eq!(
        urls(&sim),
        [
            "GetBladeState?bladeId=7",
            "SetBladeOn?bladeId=7",
            "GetBladeState?bladeId=7"
        ]
    );
    power.power_on().await.unwrap();
    assert_eq!(
        urls(&sim),
        ["GetBladeState?bladeId=7"],
        "already on: no command"
    );
    power.reboot().await.unwrap();
    assert_eq!(
        urls(&sim),
        [
            "GetBladeState?bladeId=7",
            "SetBladeActivePowerCycle?bladeId=7&offTime=0",
            "GetBladeState?bladeId=7"
        ]
    );
    power.power_off().await.unwrap();
    assert_eq!(
        urls(&sim),
        [
            "GetBladeState?bladeId=7",
            "SetBladeOff?bladeId=7",
            "GetBladeState?bladeId=7"
        ]
    );
    power.reboot().await.unwrap();
    assert_eq!(
        urls(&sim),
        [
            "GetBladeState?bladeId=7",
            "SetBladeOn?bladeId=7",
            "GetBladeState?bladeId=7"
        ],
        "reboot from off powers on"
    );
    mgmt.set_boot_device(BootDevice::Pxe, true).await.unwrap();
    mgmt.set_boot_device(BootDevice::Disk, false).await.unwrap();
    mgmt.set_boot_device(BootDevice::Floppy, true)
        .await
        .unwrap();
    mgmt.set_boot_device_with_mode(BootDevice::Bios, true, BootMode::Uefi)
        .await
        .unwrap();
    mgmt.get_boot_device().await.unwrap();
    assert_eq!(
        urls(&sim),
        [
            "SetNextBoot?bladeId=7&bootType=2&uefi=false&persistent=true",
            "SetNextBoot?bladeId=7&bootType=3&uefi=false&persistent=false",
            "SetNextBoot?bladeId=7&bootType=5&uefi=false&persistent=true",
            "SetNextBoot?bladeId=7&bootType=4&uefi=true&persistent=true",
            "GetNextBoot?bladeId=7",
        ]
    );
    OcsClient::shared(&c).unwrap().chassis_info().await.unwrap();
    assert_eq!(
        urls(&sim),
        [
            "GetChassisInfo?bladeinfo=true&psuInfo=false&chassisControllerInfo=false&batteryInfo=false"
        ]
    );
}

#[tokio::test]
async fn uefi_comes_from_the_node_capability() {
    let sim = sim().await;
    let info = DriverInfo::from_pairs([
        ("msftocs_base_url", sim.base_url()),
        ("msftocs_blade_id", "3".into()),
        ("msftocs_username", "admin".into()),
        ("msftocs_password", "password".into()),
    ]);
    let ctx = NodeContext::new("n").with_boot_mode(BootMode::Uefi);
    let node = hwctl_ocs::hardware_type().build(&info, &ctx).unwrap();
    node.management()
        .unwrap()
        .set_boot_device(BootDevice::Pxe, false)
        .await
        .unwrap();
    let b = sim.blade(3).unwrap();
    assert!(b.uefi && !b.persistent);
    assert_eq!(b.next_boot, "ForcePxe");
    // A one-time override is consumed by the next boot.
    node.power().unwrap().power_on().await.unwrap();
    assert_eq!(sim.blade(3).unwrap().next_boot, "NoOverride");
    let got = node.management().unwrap().get_boot_device().await.unwrap();
    assert_eq!((got.device, got.persistent), (None, None));
}

#[tokio::test]
async fn unsupported_things_touch_nothing() {
    let sim = sim().await;
    let c = config(&sim, 1);
    let mgmt = OcsManagement::new(c.clone()).unwrap();
    let power = OcsPower::new(c).unwrap();
    for dev in [BootDevice::Cdrom, BootDevice::Safe, BootDevice::Uefihttp] {
        let e = mgmt.set_boot_device(dev, true).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
    for t in [PowerTarget::SoftOff, PowerTarget::SoftReboot] {
        assert_eq!(
            power.set_power_state(t, None).await.unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
    assert_eq!(
        mgmt.set_boot_mode(BootMode::Uefi).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        mgmt.get_sensors().await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(sim.stats().requests, 0);
}

#[tokio::test]
async fn every_completion_code_maps_to_its_kind_with_the_description() {
    let sim = sim().await;
    let power = OcsPower::new(config(&sim, 2)).unwrap();
    let mut codes: Vec<CompletionCode> = CompletionCode::ALL.to_vec();
    codes.push(CompletionCode::Unrecognized("Fail".into()));
    for code in codes {
        if code.is_success() {
            continue;
        }
        let desc = format!("injected {}", code.as_str());
        sim.inject_rule(
            FaultRule::always(Fault::completion(code.as_str(), &desc))
                .on("GetBladeState")
                .times(1),
        );
        let e = power.get_power_state().await.unwrap_err();
        assert_eq!(Some(e.kind()), code.error_kind(), "{code}: {e}");
        assert_eq!(e.is_retryable(), code.is_retryable(), "{code}");
        assert!(e.to_string().contains(&desc), "{e}");
        assert_eq!(e.driver(), Some("msftocs"));
        assert_eq!(e.operation(), Some("GetBladeState"));
    }
    // A blade outside the chassis population.
    let far = OcsPower::new(config(&sim, 30)).unwrap();
    let e = far.get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert!(e.to_string().contains("Invalid blade ID 30"), "{e}");
}

async fn fault_kind(fault: Fault, timeout: Duration) -> (ErrorKind, Duration, hwctl_core::Error) {
    let sim = sim().await;
    let mut c = config(&sim, 4);
    endpoint(&mut c, |b| b.request_timeout(timeout));
    let power = OcsPower::new(c).unwrap();
    sim.inject_rule(FaultRule::always(fault));
    let t = Instant::now();
    let e = power.get_power_state().await.unwrap_err();
    (e.kind(), t.elapsed(), e)
}

#[tokio::test]
async fn every_fault_maps_to_its_kind_within_the_timeout() {
    let t = Duration::from_millis(300);
    let cases = [
        (Fault::HttpStatus(401), ErrorKind::Unauthenticated),
        (Fault::HttpStatus(500), ErrorKind::DeviceFault),
        (Fault::HttpStatus(404), ErrorKind::NotFound),
        (Fault::Delay(Duration::from_secs(5)), ErrorKind::Timeout),
        (Fault::TruncatedXml, ErrorKind::Protocol),
        (Fault::MalformedXml, ErrorKind::Protocol),
        (Fault::Oversized(2 * 1024 * 1024), ErrorKind::Protocol),
        (Fault::ResetConnection, ErrorKind::Unreachable),
    ];
    for (fault, kind) in cases {
        let (got, took, e) = fault_kind(fault.clone(), t).await;
        assert_eq!(got, kind, "{fault:?}: {e}");
        assert_eq!(e.driver(), Some("msftocs"), "{e}");
        // Idempotent reads may be retried (3 attempts with backoff), never forever.
        assert!(took < Duration::from_secs(8), "{fault:?} took {took:?}");
    }
}

#[tokio::test]
async fn wrong_password_is_unauthenticated_and_never_echoed() {
    let sim = sim().await;
    let mut c = config(&sim, 1);
    endpoint(&mut c, |b| b.auth(Auth::basic("admin", "not-the-password")));
    let e = OcsPower::new(c)
        .unwrap()
        .get_power_state()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert!(!format!("{e} {e:?}").contains("not-the-password"));
}

#[tokio::test]
async fn unreachable_chassis_fails_fast() {
    let sim = sim().await;
    let url = sim.base_url();
    drop(sim);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut c = OcsConfig::new(url, 1, "admin", "password").unwrap();
    endpoint(&mut c, |b| b.connect_timeout(Duration::from_millis(500)));
    endpoint(&mut c, |b| b.request_timeout(Duration::from_millis(500)));
    let t = Instant::now();
    let e = OcsPower::new(c)
        .unwrap()
        .get_power_state()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn power_is_confirmed_or_fails_with_power_state_failure() {
    let sim = OcsSim::start(OcsSimConfig {
        power_delay: Duration::from_millis(150),
        ..OcsSimConfig::default()
    })
    .await
    .unwrap();
    let power = OcsPower::new(config(&sim, 9)).unwrap();
    power
        .set_power_state(PowerTarget::On, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(
        sim.stats().by_operation["GetBladeState"] >= 3,
        "polled until ON"
    );
    sim.set_stuck(9, true);
    let t = Instant::now();
    let e = power
        .set_power_state(PowerTarget::Off, Some(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PowerStateFailure, "{e}");
    assert!(t.elapsed() < Duration::from_secs(3));
}

const NS: &str = "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts";

#[tokio::test]
async fn other_states_are_unknown_and_reboot_refuses_to_guess() {
    let sim = sim().await;
    let power = OcsPower::new(config(&sim, 1)).unwrap();
    let body = format!(
        "<BladeStateResponse xmlns=\"{NS}\"><completionCode>Success</completionCode><bladeState>OnFwDecompress</bladeState></BladeStateResponse>"
    );
    sim.inject_rule(FaultRule::always(Fault::Body(body)).on("GetBladeState"));
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Unknown);
    let e = power.reboot().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PowerStateFailure);
    assert_eq!(sim.blade(1).unwrap().power_cycles, 0);
    assert!(!sim.stats().by_operation.contains_key("SetBladeOn"));
}

#[tokio::test]
async fn a_power_cycle_is_never_resent() {
    let sim = sim().await;
    sim.set_blade_power(6, true);
    let power = OcsPower::new(config(&sim, 6)).unwrap();
    sim.inject_rule(FaultRule::always(Fault::ResetConnection).on("SetBladeActivePowerCycle"));
    let e = power.reboot().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
    assert_eq!(sim.stats().by_operation["SetBladeActivePowerCycle"], 1);
}

async fn read_until(stream: &mut (impl AsyncReadExt + Unpin), want: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !seen.windows(want.len()).any(|w| w == want) {
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "end of stream before {want:?}: {seen:?}");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no {want:?} within 5s: {:?}",
            String::from_utf8_lossy(&seen)
        )
    });
    seen
}

#[tokio::test]
async fn console_streams_both_ways_and_stops_the_session() {
    let sim = sim().await;
    sim.set_blade_power(5, true);
    let console = OcsConsole::new(config(&sim, 5)).unwrap();
    let mut stream = console.open().await.unwrap();
    read_until(&mut stream, b"blade 5 serial console").await;
    // Large writes are chunked and arrive whole and in order.
    let big: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    stream.write_all(&big).await.unwrap();
    stream.flush().await.unwrap();
    read_until(&mut stream, &big[2990..]).await;
    assert_eq!(sim.blade(5).unwrap().serial_input, big);
    assert!(sim.stats().by_operation["SendBladeSerialData"] >= 12);
    assert!(sim.push_serial_output(5, b"login: "));
    read_until(&mut stream, b"login: ").await;
    // The blade is busy for other commands while the session is open.
    let power = OcsPower::new(config(&sim, 5)).unwrap();
    assert_eq!(
        power.get_power_state().await.unwrap_err().kind(),
        ErrorKind::Busy
    );
    // A second console on the same blade is busy.
    let e = console.open_stream().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    stream.shutdown().await.unwrap();
    let s = sim.stats();
    assert_eq!(
        (s.sessions_started, s.sessions_stopped, s.active_sessions),
        (1, 1, 0)
    );
    assert!(stream.write_all(b"x").await.is_err());
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);
}

#[tokio::test]
async fn dropping_the_console_stops_the_session() {
    let sim = sim().await;
    sim.set_blade_power(8, true);
    let console = OcsConsole::new(config(&sim, 8)).unwrap();
    let stream = console.open().await.unwrap();
    assert!(sim.blade(8).unwrap().session_active);
    drop(stream);
    let t = Instant::now();
    while sim.blade(8).unwrap().session_active {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "session not stopped after drop"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.stats().sessions_stopped, 1);
}

#[tokio::test]
async fn console_errors_end_the_stream_and_still_stop_the_session() {
    let sim = sim().await;
    sim.set_blade_power(2, true);
    let console = OcsConsole::new(config(&sim, 2)).unwrap();
    let mut stream = console.open().await.unwrap();
    sim.inject_rule(FaultRule::always(Fault::HttpStatus(500)).on("ReceiveBladeSerialData"));
    let err = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut buf = [0u8; 64];
            match stream.read(&mut buf).await {
                Ok(0) => panic!("clean end instead of an error"),
                Ok(_) => continue,
                Err(e) => break e,
            }
        }
    })
    .await
    .unwrap();
    assert!(err.to_string().contains("device-fault"), "{err}");
    assert!(!sim.blade(2).unwrap().session_active);
    assert_eq!(sim.stats().sessions_stopped, 1);
}

#[tokio::test]
async fn console_ends_cleanly_when_the_chassis_ends_the_session() {
    let sim = sim().await;
    sim.set_blade_power(2, true);
    let console = OcsConsole::new(config(&sim, 2)).unwrap();
    let mut stream = console.open().await.unwrap();
    sim.inject_rule(
        FaultRule::always(Fault::completion("NoActiveSerialSession", "timed out"))
            .on("ReceiveBladeSerialData"),
    );
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !sim.stats()
            .by_operation
            .contains_key("StopBladeSerialSession")
    );
}

#[tokio::test]
async fn console_on_a_powered_off_blade_is_a_device_fault() {
    let sim = sim().await;
    let e = OcsConsole::new(config(&sim, 3))
        .unwrap()
        .open_stream()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceFault);
    assert!(e.to_string().contains("DevicePoweredOff"), "{e}");
}

#[tokio::test]
async fn a_48_blade_chassis_shares_one_client_and_limit() {
    let sim = OcsSim::start(OcsSimConfig::with_population(48))
        .await
        .unwrap();
    // Each reply takes a while, so 48 concurrent callers really overlap.
    sim.inject_rule(FaultRule::always(Fault::Delay(Duration::from_millis(40))));
    let limit = 4;
    let nodes: Vec<_> = (1..=48)
        .map(|b| {
            let info = DriverInfo::from_pairs([
                ("msftocs_base_url", sim.base_url()),
                ("msftocs_blade_id", b.to_string()),
                ("msftocs_username", "admin".into()),
                ("msftocs_password", "password".into()),
                ("msftocs_max_connections", limit.to_string()),
            ]);
            hwctl_ocs::hardware_type()
                .build(&info, &NodeContext::new(format!("blade-{b}")))
                .unwrap()
        })
        .collect();
    let c = config(&sim, 1);
    let mut c4 = c.clone();
    endpoint(&mut c4, |b| b.max_concurrency(limit));
    assert!(
        OcsClient::shared(&c4)
            .unwrap()
            .same_client(&OcsClient::shared(&c4).unwrap())
    );
    assert!(
        !OcsClient::shared(&c4)
            .unwrap()
            .same_client(&OcsClient::shared(&c).unwrap())
    );
    let tasks: Vec<_> = nodes
        .iter()
        .map(|n| {
            let p = Arc::clone(n.power().unwrap());
            tokio::spawn(async move { p.get_power_state().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), PowerState::Off);
    }
    let s = sim.stats();
    assert_eq!(s.by_operation["GetBladeState"], 48);
    assert!(s.peak_connections <= limit as u64, "{s:?}");
    assert_eq!(
        s.peak_in_flight, limit as u64,
        "the limit was reached, not exceeded: {s:?}"
    );
}

#[tokio::test]
async fn serial_data_that_may_have_arrived_is_never_resent() {
    let sim = sim().await;
    sim.set_blade_power(4, true);
    let mut c = config(&sim, 4);
    endpoint(&mut c, |b| b.request_timeout(Duration::from_secs(1)));
    let console = OcsConsole::new(c).unwrap();
    let mut stream = console.open().await.unwrap();
    read_until(&mut stream, b"blade 4 serial console").await;
    // The chassis takes the keystrokes but its reply comes too late: the client
    // cannot know they arrived, so sending them again could type them twice.
    sim.inject_rule(
        FaultRule::always(Fault::SlowReply(Duration::from_secs(3)))
            .on("SendBladeSerialData")
            .times(1),
    );
    stream.write_all(b"reboot\r").await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(20), stream.flush())
        .await
        .expect("flush never finished")
        .expect_err("the lost reply was papered over by sending the data again");
    assert!(err.to_string().contains("not resent"), "{err}");
    assert_eq!(sim.blade(4).unwrap().serial_input, b"reboot\r");
    assert_eq!(sim.stats().by_operation["SendBladeSerialData"], 1);
    // The failed stream still ends the session.
    let t = Instant::now();
    while sim.blade(4).unwrap().session_active {
        assert!(t.elapsed() < Duration::from_secs(10), "session left open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_set_is_bounded_by_its_timeout_when_the_chassis_stops_answering() {
    let sim = sim().await;
    let mut c = config(&sim, 3);
    endpoint(&mut c, |b| b.request_timeout(Duration::from_secs(30)));
    let power = OcsPower::new(c).unwrap();
    // The first read answers OFF; every later read hangs far past the power timeout
    // (each would be retried by hwctl-http: minutes in all).
    let off = format!(
        "<BladeStateResponse xmlns=\"{NS}\"><completionCode>Success</completionCode><bladeState>OFF</bladeState></BladeStateResponse>"
    );
    sim.inject_rule(
        FaultRule::always(Fault::Body(off))
            .on("GetBladeState")
            .times(1),
    );
    sim.inject_rule(FaultRule::always(Fault::Delay(Duration::from_secs(120))).on("GetBladeState"));
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        power.set_power_state(PowerTarget::On, Some(Duration::from_millis(500))),
    )
    .await
    .expect("set_power_state overran its 0.5 s timeout by far");
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PowerStateFailure, "{e}");
    assert_eq!(e.driver(), Some("msftocs"));
    // The command itself went out once.
    assert_eq!(sim.stats().by_operation["SetBladeOn"], 1);
}

/// `GetNextBoot` cannot tell persistence: its `BootResponse` carries `nextBoot` and
/// nothing else (PROTOCOLS.md §2.1; Ironic's msftocs returned `persistent: None`
/// too). So a blade whose chassis holds a persistent override reads back the device
/// with `persistent: None`, never a value hwctl remembered or guessed.
#[tokio::test]
async fn persistence_is_not_read_back_because_get_next_boot_has_none() {
    let sim = sim().await;
    let mgmt = OcsManagement::new(config(&sim, 4)).unwrap();
    let reply = fixture("ironic_BootResponse.xml");
    assert!(reply.contains("<nextBoot>") && !reply.to_lowercase().contains("persist"));
    for persistent in [true, false] {
        mgmt.set_boot_device(BootDevice::Pxe, persistent)
            .await
            .unwrap();
        assert_eq!(sim.blade(4).unwrap().persistent, persistent);
        let got = mgmt.get_boot_device().await.unwrap();
        assert_eq!((got.device, got.persistent), (Some(BootDevice::Pxe), None));
    }
}
