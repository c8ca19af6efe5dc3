//! Finding the Node Manager device: the Intel OEM record in the SDR, confirmed by Get
//! Node Manager Version through the bridge; and the state an orchestrator stores so it
//! need not discover again (Ironic's `driver_internal_info.intel_nm_channel` /
//! `intel_nm_address`).

use serde::{Deserialize, Serialize};

use crate::types::NmAddress;

/// The bytes that open Node Manager's OEM SDR record body: Intel's id `57 01 00`, record
/// subtype `0x0D`, version `0x01`. The slave address and the channel (high nibble)
/// follow.
pub const NM_SDR_SIGNATURE: [u8; 5] = [0x57, 0x01, 0x00, 0x0D, 0x01];

/// Finds Node Manager's address in raw SDR bytes (one record, several, or a whole
/// `ipmitool sdr dump`): the byte after the signature is the slave address, the high
/// nibble of the next the channel.
///
/// Unlike Ironic, which searched the hex text and could match across a nibble
/// boundary, this searches whole bytes.
///
/// ```
/// use hwctl_nodemanager::{NmAddress, discovery::find_in_sdr};
/// let sdr = [0x00, 0xff, 0x00, 0xff, 0x57, 0x01, 0x00, 0x0d, 0x01, 0x6a, 0xb2, 0x00, 0xff];
/// assert_eq!(find_in_sdr(&sdr), Some(NmAddress::new(0x0b, 0x6a)));
/// assert_eq!(find_in_sdr(&[0x52, 0x01, 0x80]), None);
/// ```
pub fn find_in_sdr(sdr: &[u8]) -> Option<NmAddress> {
    sdr.windows(NM_SDR_SIGNATURE.len() + 2)
        .find(|w| w[..NM_SDR_SIGNATURE.len()] == NM_SDR_SIGNATURE)
        .map(|w| NmAddress::new(w[6] >> 4, w[5]))
}

/// Where Node Manager is, as far as is known: what an orchestrator stores between
/// calls (Ironic kept it in `driver_internal_info`).
///
/// In JSON: `{"intel_nm_channel": "0x0b", "intel_nm_address": "0x6a"}` when found,
/// both `false` when not present, both absent when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NmLocation {
    /// Not discovered yet: the next operation reads the SDR.
    #[default]
    Unknown,
    /// At this address.
    Found(NmAddress),
    /// Discovery found no Node Manager (or it did not answer): operations fail
    /// without touching the BMC.
    NotPresent,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    intel_nm_channel: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    intel_nm_address: Option<serde_json::Value>,
}

fn parse_byte(v: &serde_json::Value) -> Option<u8> {
    match v {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
        serde_json::Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u8::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
}

impl NmLocation {
    /// The JSON to store (`driver_internal_info` keys).
    ///
    /// ```
    /// use hwctl_nodemanager::{NmAddress, NmLocation};
    /// let found = NmLocation::Found(NmAddress::new(0x0b, 0x6a));
    /// assert_eq!(found.to_json(), serde_json::json!({"intel_nm_channel": "0x0b", "intel_nm_address": "0x6a"}));
    /// assert_eq!(NmLocation::from_json(&found.to_json()), Some(found));
    /// assert_eq!(NmLocation::from_json(&NmLocation::NotPresent.to_json()), Some(NmLocation::NotPresent));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let (c, a) = match self {
            NmLocation::Unknown => (None, None),
            NmLocation::Found(addr) => (
                Some(format!("0x{:02x}", addr.channel).into()),
                Some(format!("0x{:02x}", addr.address).into()),
            ),
            NmLocation::NotPresent => (Some(false.into()), Some(false.into())),
        };
        serde_json::to_value(Stored {
            intel_nm_channel: c,
            intel_nm_address: a,
        })
        .unwrap_or_default()
    }

    /// Reads what [`NmLocation::to_json`] wrote (numbers, `"0x.."` or decimal
    /// strings); `None` if it is neither a pair, `false`/`false`, nor empty.
    ///
    /// ```
    /// use hwctl_nodemanager::{NmAddress, NmLocation};
    /// let found = NmLocation::Found(NmAddress::new(6, 0x2c));
    /// assert_eq!(NmLocation::from_json(&found.to_json()), Some(found));
    /// assert_eq!(NmLocation::from_json(&serde_json::json!("elsewhere")), None);
    /// ```
    pub fn from_json(v: &serde_json::Value) -> Option<NmLocation> {
        let stored: Stored = serde_json::from_value(v.clone()).ok()?;
        match (stored.intel_nm_channel, stored.intel_nm_address) {
            (None, None) => Some(NmLocation::Unknown),
            (Some(serde_json::Value::Bool(false)), Some(serde_json::Value::Bool(false))) => {
                Some(NmLocation::NotPresent)
            }
            (Some(c), Some(a)) => Some(NmLocation::Found(NmAddress::new(
                parse_byte(&c).filter(|c| *c <= 0x0F)?,
                parse_byte(&a)?,
            ))),
            _ => None,
        }
    }
}

/// The outcome of one discovery.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_nodemanager::{Discovery, NmLocation, NodeManager, sim::{MemoryTransport, NmSimulator}};
/// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c)));
/// let d = nm.discover().await?;
/// assert!(matches!(d, Discovery::Found(a) if a.address == 0x2c));
/// assert!(matches!(d.location(), NmLocation::Found(_)));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    /// The SDR names it and it answered Get Node Manager Version.
    Found(NmAddress),
    /// No Node Manager record in the SDR.
    NotInSdr,
    /// The SDR names it but it did not answer (the device said no, or its reply was
    /// not Node Manager's).
    NotResponding {
        /// Where the SDR said it was.
        address: NmAddress,
        /// Why the confirmation failed.
        reason: String,
    },
}

impl Discovery {
    /// What to store.
    ///
    /// ```
    /// use hwctl_nodemanager::{Discovery, NmLocation};
    /// assert_eq!(Discovery::NotInSdr.location(), NmLocation::NotPresent);
    /// ```
    pub fn location(&self) -> NmLocation {
        match self {
            Discovery::Found(a) => NmLocation::Found(*a),
            _ => NmLocation::NotPresent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_discovery_vectors() {
        let path = format!(
            "{}/tests/fixtures/intel_nm/staging_nm_commands_test_vectors.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cases = v["sdr_discovery"].as_array().unwrap();
        assert_eq!(cases.len(), 2);
        for c in cases {
            let hex = c["sdr_bytes_hex"].as_str().unwrap();
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let got = find_in_sdr(&bytes);
            match c["expected"].as_array() {
                None => assert_eq!(got, None, "{}", c["name"]),
                Some(e) => {
                    let want = (e[1].as_str().unwrap(), e[0].as_str().unwrap());
                    let got = got.unwrap();
                    assert_eq!(
                        (
                            format!("0x{:02x}", got.channel),
                            format!("0x{:02x}", got.address)
                        ),
                        (want.0.to_owned(), want.1.to_owned())
                    );
                }
            }
        }
    }

    #[test]
    fn signature_at_the_end_without_address_is_not_found() {
        assert_eq!(find_in_sdr(&[0x57, 0x01, 0x00, 0x0D, 0x01, 0x6a]), None);
    }

    #[test]
    fn bad_stored_values_are_refused() {
        assert_eq!(
            NmLocation::from_json(
                &serde_json::json!({"intel_nm_channel": "0x1f", "intel_nm_address": "0x2c"})
            ),
            None
        );
        assert_eq!(
            NmLocation::from_json(&serde_json::json!({"intel_nm_channel": 6})),
            None
        );
        assert_eq!(
            NmLocation::from_json(
                &serde_json::json!({"intel_nm_channel": 6, "intel_nm_address": 44})
            ),
            Some(NmLocation::Found(NmAddress::new(6, 0x2c)))
        );
    }
}
