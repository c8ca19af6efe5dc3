#![allow(clippy::unwrap_used)]
//! End to end against OpenIPMI's `ipmi_sim` (a BMC nobody here wrote), with
//! `ipmitool` as a second client to cross-check what we did.
//!
//! Needs the Debian packages `openipmi` and `ipmitool`. Without them the test prints
//! "SKIPPED" — or fails when `HW_REQUIRE_PEERS=1` (CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{free_udp_port, hex_bytes, require};

use hwctl_core::{BootDevice, NodeContext, PowerState, PowerTarget};
use tokio::process::{Child, Command};

struct IpmiSim {
    _child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl IpmiSim {
    async fn start() -> IpmiSim {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_udp_port();
        let script = d.join("chassis.sh");
        std::fs::write(
            &script,
            format!(
                r#"#!/bin/sh
# ipmi_sim chassis control: <mc> get <parm>... | <mc> set <parm> <value>...
state={dir}
echo "$@" >> "$state/log"
shift
op=$1; shift
case $op in
get) for p in "$@"; do
       case $p in
         power) echo "power:$(cat "$state/power")";;
         boot) echo "boot:$(cat "$state/boot")";;
       esac
     done;;
set) while [ $# -ge 2 ]; do
       case $1 in
         power) echo "$2" > "$state/power";;
         boot) echo "$2" > "$state/boot";;
       esac
       shift 2
     done;;
esac
"#,
                dir = d.display()
            ),
        )
        .unwrap();
        std::fs::write(d.join("power"), "0\n").unwrap();
        std::fs::write(d.join("boot"), "default\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            d.join("lan.conf"),
            format!(
                r#"name "hwipmitest"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback none md5 straight
    allowed_auths_user none md5 straight
    allowed_auths_operator none md5 straight
    allowed_auths_admin none md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "{script} 0x20"
  user 2 true "admin" "password" admin 10 none md5 straight
  user 3 true "viewer" "viewer" user 10 none md5 straight
"#,
                script = script.display()
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("sim.emu"),
            // The BMC at 0x20 and a satellite controller at 0x72 on the IPMB
            // (channel 0): device ID 0x42, revision 2, firmware 1.02, no SDRs,
            // manufacturer 0x001234, product 0x5678.
            "mc_setbmc 0x20\n\
             mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n\
             mc_enable 0x20\n\
             mc_add 0x72 0x42 no-device-sdrs 0x02 1 2 0x00 0x1234 0x5678\n\
             mc_enable 0x72\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.join("state")).unwrap();
        let child = Command::new("ipmi_sim")
            .arg("-c")
            .arg(d.join("lan.conf"))
            .arg("-f")
            .arg(d.join("sim.emu"))
            .arg("-s")
            .arg(d.join("state"))
            .arg("-n")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let sim = IpmiSim {
            _child: child,
            dir,
            port,
        };
        // Wait until it answers.
        for _ in 0..50 {
            if sim.ipmitool(&["power", "status"]).await.is_ok() {
                return sim;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("ipmi_sim did not come up on port {port}");
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    async fn ipmitool(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("ipmitool")
            .args([
                "-I",
                "lanplus",
                "-H",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
            ])
            .args([
                "-U", "admin", "-P", "password", "-C", "3", "-N", "1", "-R", "2",
            ])
            .args(args)
            .output()
            .await
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn driver_info(&self) -> hwctl_core::DriverInfo {
        hwctl_core::DriverInfo::from_pairs([
            ("ipmi_address", "127.0.0.1".to_owned()),
            ("ipmi_port", self.port.to_string()),
            ("ipmi_username", "admin".to_owned()),
            ("ipmi_password", "password".to_owned()),
        ])
    }
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(p).unwrap().trim().to_owned()
}

#[tokio::test]
async fn power_and_boot_against_ipmi_sim() {
    if !require("power_and_boot_against_ipmi_sim", &["ipmi_sim", "ipmitool"]) {
        return;
    }
    let sim = IpmiSim::start().await;
    let ht = hwctl_ipmi::hardware_type();
    let node = ht
        .build(&sim.driver_info(), &NodeContext::new("peer"))
        .unwrap();
    let power = node.power().unwrap();
    let t = Some(Duration::from_secs(10));

    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);
    power.set_power_state(PowerTarget::On, t).await.unwrap();
    assert_eq!(read(sim.path().join("power")), "1");
    assert!(
        sim.ipmitool(&["power", "status"])
            .await
            .unwrap()
            .contains("is on")
    );

    power.set_power_state(PowerTarget::Reboot, t).await.unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::On);

    power.set_power_state(PowerTarget::Off, t).await.unwrap();
    assert_eq!(read(sim.path().join("power")), "0");
    assert!(
        sim.ipmitool(&["power", "status"])
            .await
            .unwrap()
            .contains("is off")
    );

    // reboot from off powers on
    power.set_power_state(PowerTarget::Reboot, t).await.unwrap();
    assert_eq!(read(sim.path().join("power")), "1");

    // ipmitool changes the state; we read it
    sim.ipmitool(&["power", "off"]).await.unwrap();
    assert_eq!(power.get_power_state().await.unwrap(), PowerState::Off);

    let mgmt = node.management().unwrap();
    mgmt.set_boot_device(BootDevice::Pxe, false).await.unwrap();
    assert_eq!(read(sim.path().join("boot")), "pxe");
    let log = read(sim.path().join("log"));
    assert!(
        log.contains("set power 1") && log.contains("set power 0"),
        "{log}"
    );

    // ipmi_sim has no cipher suite 17: the automatic choice fell back to 3.
    let ipmi = hwctl_ipmi::ipmi_from_driver_info(
        &hwctl_core::shared::Shared::new(),
        &sim.driver_info(),
        &NodeContext::new("x"),
    )
    .unwrap();
    let id = ipmi.raw(0x06, 0x01, &[]).await.unwrap();
    assert_eq!(id.cc, 0);
    assert_eq!(
        ipmi.client().cipher_suite().await,
        Some(hwctl_ipmi::CipherSuite::Suite3)
    );
    // Get Channel Authentication Capabilities, asked before Open Session, as
    // ipmi_sim answers it: LAN channel 1, IPMI 2.0 and 1.5, v1.5 auth types none, MD5
    // and straight password (lan.conf), named users.
    let caps = ipmi.client().channel_auth_capabilities().await.unwrap();
    assert!(caps.ipmi20 && caps.ipmi15, "{caps:?}");
    assert_eq!(caps.channel, 1, "{caps:?}");
    assert_eq!(caps.v15_auth_types, 0x15, "{caps:?}");
    assert!(caps.non_null_users, "{caps:?}");
    ipmi.client().close().await.unwrap();

    // A USER-level account cannot control the chassis.
    let mut info = sim.driver_info();
    info.insert("ipmi_username", "viewer");
    info.insert("ipmi_password", "viewer");
    info.insert("ipmi_priv_level", "USER");
    let viewer = ht.build(&info, &NodeContext::new("v")).unwrap();
    let err = viewer
        .power()
        .unwrap()
        .set_power_state(PowerTarget::On, t)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::PermissionDenied, "{err}");

    // Wrong password.
    let mut info = sim.driver_info();
    info.insert("ipmi_password", "wrong");
    let bad = ht.build(&info, &NodeContext::new("b")).unwrap();
    let err = bad.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::Unauthenticated, "{err}");
}

#[tokio::test]
async fn bridged_get_device_id_against_ipmi_sim() {
    if !require(
        "bridged_get_device_id_against_ipmi_sim",
        &["ipmi_sim", "ipmitool"],
    ) {
        return;
    }
    let sim = IpmiSim::start().await;
    let want: Vec<u8> = vec![
        0x42, 0x02, 0x01, 0x02, 0x02, 0x00, 0x34, 0x12, 0x00, 0x78, 0x56, 0x00, 0x00, 0x00, 0x00,
    ];

    // ipmitool, bridged by ipmi_sim's Send Message to the MC at 0x72 on IPMB 0.
    let theirs = hex_bytes(
        &sim.ipmitool(&["-b", "0", "-t", "0x72", "raw", "0x06", "0x01"])
            .await
            .unwrap(),
    );
    assert_eq!(theirs, want, "ipmitool through ipmi_sim");

    // Our client through Bridge::single.
    let pool = hwctl_core::shared::Shared::new();
    let ipmi = hwctl_ipmi::ipmi_from_driver_info(&pool, &sim.driver_info(), &NodeContext::new("x"))
        .unwrap();
    let client = ipmi.client();
    let ours = client
        .raw_bridged(&hwctl_ipmi::Bridge::single(0, 0x72), 0x06, 0x01, &[])
        .await
        .unwrap();
    assert_eq!(
        (ours.cc, &ours.data),
        (0, &want),
        "our client through ipmi_sim"
    );
    // The BMC itself is another device: bridging really went to 0x72.
    let bmc_id = client.raw(0x06, 0x01, &[]).await.unwrap();
    assert_eq!(bmc_id.data.first(), Some(&0x00));
    // Reads retry but give the same answer.
    let read = client
        .read(Some(&hwctl_ipmi::Bridge::single(0, 0x72)), 0x06, 0x01, &[])
        .await
        .unwrap();
    assert_eq!(read.data, want);

    // Nobody at 0x74: ipmi_sim NAKs the Send Message (0x83), a device fault.
    let err = client
        .raw_bridged(&hwctl_ipmi::Bridge::single(0, 0x74), 0x06, 0x01, &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::DeviceFault, "{err}");
    assert!(err.to_string().contains("0x83"), "{err}");

    // A node whose driver_info asks for bridging sends everything through it.
    let mut info = sim.driver_info();
    info.insert("ipmi_bridging", "single");
    info.insert("ipmi_target_channel", "0");
    info.insert("ipmi_target_address", "0x72");
    let bridged = hwctl_ipmi::ipmi_from_driver_info(&pool, &info, &NodeContext::new("b")).unwrap();
    let r = bridged.raw(0x06, 0x01, &[]).await.unwrap();
    assert_eq!((r.cc, r.data), (0, want));
    client.close().await.unwrap();
}
