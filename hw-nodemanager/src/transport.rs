//! What Node Manager needs from an IPMI connection: bridged raw requests and the raw
//! SDR records. `hwctl-ipmi` provides it for a real BMC ([`crate::ipmi`]); the simulator
//! provides an in-memory one (`sim::MemoryTransport`, feature `sim`).

use std::fmt;

use async_trait::async_trait;

use hwctl_core::Result;

use crate::types::NmAddress;

/// A reply to a raw IPMI request: `hwctl-ipmi`'s [`RawIpmiReply`] (completion code
/// `cc` and the data after it), so both crates name it once.
pub use hwctl_ipmi::RawIpmiReply;

/// An IPMI connection to one BMC, able to reach the Node Manager device behind it.
///
/// # Contract
///
/// - `bridged_request` sends `netfn`/`cmd`/`data` to the controller at `target`
///   (bridged with Send Message, `ipmi_bridging=single`) and returns its completion
///   code and data; a non-zero completion code is a reply, not an error.
/// - Transport failures are `hwctl_core::Error`s (timeout, unreachable, protocol, …).
/// - `sdr_records` returns every SDR record, raw (header included), in repository order.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_nodemanager::{NmAddress, NmTransport, sim::{MemoryTransport, NmSimulator}};
/// let t = MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c);
/// let reply = t.bridged_request(NmAddress::new(0x06, 0x2c), 0x2E, 0xCA, &[0x57, 0x01, 0x00]).await?;
/// assert_eq!(reply.cc, 0);
/// assert_eq!(&reply.data[..3], [0x57, 0x01, 0x00]);
/// assert_eq!(t.sdr_records().await?.len(), 2);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait NmTransport: Send + Sync + fmt::Debug {
    /// Sends a request to the controller at `target`, bridged through the BMC.
    async fn bridged_request(
        &self,
        target: NmAddress,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawIpmiReply>;

    /// Reads the BMC's SDR repository, one raw record per element.
    async fn sdr_records(&self) -> Result<Vec<Vec<u8>>>;
}

/// The name of an IPMI completion code (generic codes from the IPMI 2.0 spec, and the
/// two Node Manager codes for a bad policy or domain id).
///
/// ```
/// use hwctl_nodemanager::transport::completion_code_name;
/// assert_eq!(completion_code_name(0x80), "invalid policy id");
/// assert_eq!(completion_code_name(0x81), "invalid domain id");
/// assert_ne!(completion_code_name(0xC1), "invalid policy id"); // generic IPMI codes from hwctl-ipmi
/// ```
pub fn completion_code_name(cc: u8) -> &'static str {
    match cc {
        0x80 => "invalid policy id",
        0x81 => "invalid domain id",
        other => hwctl_ipmi::cc_name(other),
    }
}
