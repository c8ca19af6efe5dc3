#![allow(clippy::unwrap_used)]
//! The BMC key Kg (`ipmi_hex_kg_key`, IPMI 2.0 §13.31): the session integrity key
//! is generated from Kg when the BMC sets one, from the password key otherwise.
//! Against the crate's simulator (its Kg written from the specification), and
//! ipmitool's `-y` (an independent client) against the same simulator.

mod common;

use std::time::Duration;

use common::{ipmitool, require};
use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
use hwctl_ipmi::sim::{IpmiSim, IpmiSimConfig};
use hwctl_ipmi::{BmcKey, CipherSuite, IpmiClient, IpmiConfig, SuiteChoice};

const KG_HEX: &str = "4b67206f66207468652042";
const KG: &[u8] = b"Kg of the B";

async fn bmc_with_kg(kg: Option<&[u8]>) -> IpmiSim {
    IpmiSim::start(IpmiSimConfig {
        bmc_key: kg.map(<[u8]>::to_vec),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn client(bmc: &IpmiSim, suite: CipherSuite, kg: Option<&str>) -> IpmiClient {
    let mut c: IpmiConfig = bmc.config();
    c.cipher_suite = SuiteChoice::Only(suite);
    c.kg = kg.map(|h| BmcKey::from_hex(h).unwrap());
    c.retries = 0;
    c.request_timeout = Duration::from_millis(500);
    IpmiClient::new(c)
}

#[tokio::test]
async fn the_right_kg_opens_a_session_on_both_suites() {
    for suite in [CipherSuite::Suite3, CipherSuite::Suite17] {
        let bmc = bmc_with_kg(Some(KG)).await;
        let c = client(&bmc, suite, Some(KG_HEX));
        let r = c.raw(0x00, 0x01, &[]).await.unwrap(); // Get Chassis Status
        assert_eq!(r.cc, 0, "{suite}");
        assert_eq!(bmc.stats().sessions_opened, 1, "{suite}");
        // Upper-case hex is the same key.
        let c = client(&bmc, suite, Some(&KG_HEX.to_ascii_uppercase()));
        assert_eq!(c.raw(0x00, 0x01, &[]).await.unwrap().cc, 0, "{suite}");
    }
}

#[tokio::test]
async fn a_wrong_or_missing_kg_is_unauthenticated_and_never_echoed() {
    for suite in [CipherSuite::Suite3, CipherSuite::Suite17] {
        let bmc = bmc_with_kg(Some(KG)).await;
        let wrong = "4b67206f66207468652043";
        let e = client(&bmc, suite, Some(wrong))
            .raw(0x00, 0x01, &[])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{suite}: {e}");
        assert!(e.to_string().contains("ipmi_hex_kg_key"), "{e}");
        assert!(!format!("{e} {e:?}").contains(wrong), "{e:?}");
        // No Kg at all: the password key is used, which this BMC does not.
        let e = client(&bmc, suite, None)
            .raw(0x00, 0x01, &[])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{suite}: {e}");
        assert!(e.to_string().contains("ipmi_hex_kg_key"), "{e}");
    }
}

#[tokio::test]
async fn a_bmc_without_kg_wants_none_and_an_all_zero_kg_is_null() {
    let bmc = bmc_with_kg(None).await;
    let c = client(&bmc, CipherSuite::Suite17, None);
    assert_eq!(c.raw(0x00, 0x01, &[]).await.unwrap().cc, 0);
    let c = client(&bmc, CipherSuite::Suite17, Some(&"00".repeat(20)));
    assert_eq!(c.raw(0x00, 0x01, &[]).await.unwrap().cc, 0);
    let e = client(&bmc, CipherSuite::Suite17, Some(KG_HEX))
        .raw(0x00, 0x01, &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    // A BMC whose Kg is all zeros has none either.
    let bmc = bmc_with_kg(Some(&[0; 20])).await;
    let c = client(&bmc, CipherSuite::Suite3, None);
    assert_eq!(c.raw(0x00, 0x01, &[]).await.unwrap().cc, 0);
}

#[tokio::test]
async fn driver_info_key_reaches_the_session_and_stays_secret() {
    let bmc = bmc_with_kg(Some(KG)).await;
    let info = bmc.driver_info();
    assert_eq!(
        info.get_str("ipmi_hex_kg_key").as_deref(),
        Some(KG_HEX),
        "the sim's driver_info carries its key"
    );
    let mut cfg = IpmiConfig::from_driver_info(&info, &NodeContext::new("n")).unwrap();
    assert!(!format!("{cfg:?}").contains(KG_HEX), "{cfg:?}");
    assert!(!format!("{:?}", cfg.endpoint_key()).contains(KG_HEX));
    cfg.request_timeout = Duration::from_millis(500);
    let c = IpmiClient::new(cfg.clone());
    assert_eq!(c.raw(0x00, 0x01, &[]).await.unwrap().cc, 0);
    // Another Kg is another session identity; no Kg too.
    let mut other = cfg.clone();
    other.kg = Some(BmcKey::from_hex("01").unwrap());
    assert_ne!(cfg.endpoint_key(), other.endpoint_key());
    other.kg = None;
    assert_ne!(cfg.endpoint_key(), other.endpoint_key());
}

#[test]
fn the_key_is_validated_as_hex_of_at_most_20_bytes_without_echo() {
    let ctx = NodeContext::new("n");
    let with = |kg: &str| {
        DriverInfo::from_pairs([
            ("ipmi_address", "10.0.0.9"),
            ("ipmi_username", "admin"),
            ("ipmi_hex_kg_key", kg),
        ])
    };
    let ok = IpmiConfig::from_driver_info(&with(&"ab".repeat(20)), &ctx).unwrap();
    assert!(ok.kg.is_some());
    for bad in [
        "ab".repeat(21),           // 21 bytes
        "secretkg1234".to_owned(), // not hex
        "abc".to_owned(),          // odd
        "0x0102".to_owned(),       // no 0x
        "ab cd".to_owned(),        // blank inside
    ] {
        let e = IpmiConfig::from_driver_info(&with(&bad), &ctx).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{bad:?}: {e}");
        assert_eq!(e.problems()[0].name, "ipmi_hex_kg_key", "{bad:?}");
        if bad.len() > 3 {
            assert!(!format!("{e} {e:?}").contains(&bad), "{bad:?} echoed: {e}");
        }
    }
    let p = hwctl_ipmi::PROPERTIES
        .iter()
        .find(|p| p.name == "ipmi_hex_kg_key")
        .unwrap();
    assert!(p.secret, "ipmi_hex_kg_key is a secret property");
}

/// ipmitool's `-y <hex Kg>` against the simulator: an independent implementation
/// of §13.31 agrees with the simulator's (and so, transitively, with the client,
/// which passes against the same simulator above).
#[tokio::test]
async fn ipmitool_with_y_agrees_with_the_simulator() {
    if !require("ipmitool_with_y_agrees_with_the_simulator", &["ipmitool"]) {
        return;
    }
    for suite in [17u8, 3] {
        let bmc = bmc_with_kg(Some(KG)).await;
        let out = ipmitool(
            bmc.port(),
            "admin",
            "password",
            suite,
            &["-y", KG_HEX, "chassis", "power", "status"],
        )
        .await
        .out(&format!("-C {suite} -y <Kg> chassis power status"));
        assert!(out.contains("Chassis Power is off"), "suite {suite}: {out}");
        // Without the key, ipmitool fails to establish the session as we do.
        let run = ipmitool(
            bmc.port(),
            "admin",
            "password",
            suite,
            &["chassis", "power", "status"],
        )
        .await;
        // (ipmitool 1.8.19 exits 0 here; what it printed tells.)
        let refused = |run: &common::Run| {
            !run.stdout.contains("Chassis Power")
                && run
                    .stderr
                    .contains("Unable to establish IPMI v2 / RMCP+ session")
        };
        assert!(refused(&run), "suite {suite}: ipmitool without Kg: {run:?}");
        let run = ipmitool(
            bmc.port(),
            "admin",
            "password",
            suite,
            &["-y", "4b67206f66207468652043", "chassis", "power", "status"],
        )
        .await;
        assert!(
            refused(&run),
            "suite {suite}: ipmitool with a wrong Kg: {run:?}"
        );
    }
}
