//! The Node Manager simulator (feature `sim`): [`NmSimulator`], a stateful device
//! answering Node Manager commands, and [`MemoryTransport`], an in-memory BMC that
//! bridges to it and holds an SDR with its OEM record.
//!
//! To put the simulator behind a real RMCP+ BMC, plug [`NmSimulator::handle`] into the
//! `hwctl-ipmi` simulator as a satellite controller (`hwctl sim staging-nm` does).

mod device;

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hwctl_core::{Error, ErrorKind, Result, async_trait};

pub use device::{Fault, NmCounters, NmSimulator, cc};

use crate::transport::{NmTransport, RawIpmiReply};
use crate::types::NmAddress;

/// Builds the SDR record that announces Node Manager at `channel`/`address`: an OEM
/// record (type 0xC0) whose body is Intel's id, 0x0D, 0x01, the slave address and the
/// channel in the high nibble.
///
/// ```
/// let r = hwctl_nodemanager::sim::nm_sdr_record(1, 0x06, 0x2c);
/// assert_eq!(r[3], 0xC0);
/// assert_eq!(&r[5..12], &[0x57, 0x01, 0x00, 0x0D, 0x01, 0x2c, 0x60]);
/// ```
pub fn nm_sdr_record(record_id: u16, channel: u8, address: u8) -> Vec<u8> {
    let body = [
        0x57,
        0x01,
        0x00,
        0x0D,
        0x01,
        address,
        (channel & 0x0F) << 4,
        0x00,
    ];
    let mut r = Vec::with_capacity(5 + body.len());
    r.extend_from_slice(&record_id.to_le_bytes());
    r.push(0x51); // SDR version 1.5
    r.push(0xC0); // OEM record
    r.push(u8::try_from(body.len()).unwrap_or(0));
    r.extend_from_slice(&body);
    r
}

/// An in-memory BMC: Node Manager at one (channel, address), an SDR, and counters.
///
/// A request to any other target fails as a BMC would report an unanswered bridged
/// request (completion code 0xC3, timeout).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_nodemanager::{NodeManager, sim::{MemoryTransport, NmSimulator}};
/// let t = Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c));
/// let nm = NodeManager::new(t.clone());
/// nm.version().await?;
/// nm.version().await?;
/// assert_eq!(t.sdr_reads(), 1); // discovered once
/// assert_eq!(t.misrouted(), 0);
/// # Ok(()) }
/// ```
pub struct MemoryTransport {
    nm: NmSimulator,
    at: NmAddress,
    sdr: Mutex<Vec<Vec<u8>>>,
    sdr_reads: AtomicU64,
    misrouted: AtomicU64,
}

impl fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTransport")
            .field("at", &self.at)
            .field("sdr_reads", &self.sdr_reads.load(Ordering::Relaxed))
            .finish()
    }
}

impl MemoryTransport {
    /// `nm` at `channel`/`address`, with an empty SDR.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{Discovery, NodeManager, sim::{MemoryTransport, NmSimulator}};
    /// // An empty SDR: discovery finds nothing.
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::new(NmSimulator::new(), 0x06, 0x2c)));
    /// assert!(matches!(nm.discover().await, Ok(Discovery::NotInSdr)));
    /// # }
    /// ```
    pub fn new(nm: NmSimulator, channel: u8, address: u8) -> Self {
        MemoryTransport {
            nm,
            at: NmAddress::new(channel, address),
            sdr: Mutex::new(Vec::new()),
            sdr_reads: AtomicU64::new(0),
            misrouted: AtomicU64::new(0),
        }
    }

    /// `nm` at `channel`/`address`, announced by an OEM record in the SDR (after a
    /// sensor record, as on a real board).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{NodeManager, sim::{MemoryTransport, NmSimulator}};
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x00, 0x2c)));
    /// let a = nm.address().await?;
    /// assert_eq!((a.channel, a.address), (0x00, 0x2c));
    /// # Ok(()) }
    /// ```
    pub fn with_sdr_record(nm: NmSimulator, channel: u8, address: u8) -> Self {
        let t = MemoryTransport::new(nm, channel, address);
        t.push_sdr_record(vec![0x01, 0x00, 0x51, 0x02, 0x03, 0x20, 0x00, 0x30]);
        t.push_sdr_record(nm_sdr_record(2, channel, address));
        t
    }

    /// Appends a raw SDR record.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_nodemanager::{NmTransport, sim::{MemoryTransport, NmSimulator, nm_sdr_record}};
    /// let t = MemoryTransport::new(NmSimulator::new(), 0x06, 0x2c);
    /// t.push_sdr_record(nm_sdr_record(1, 0x06, 0x2c));
    /// assert_eq!(t.sdr_records().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn push_sdr_record(&self, record: Vec<u8>) {
        self.sdr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }

    /// The device.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{Domain, NodeManager, Policy, TargetLimit, Trigger, sim::{MemoryTransport, NmSimulator}};
    /// let t = Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c));
    /// NodeManager::new(t.clone())
    ///     .set_policy(&Policy::new(Domain::Cpu, 3, Trigger::None, TargetLimit::Watts(90)))
    ///     .await?;
    /// assert!(t.device().has_policy(Domain::Cpu.code(), 3));
    /// # Ok(()) }
    /// ```
    pub fn device(&self) -> &NmSimulator {
        &self.nm
    }

    /// How often the SDR was read.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_nodemanager::{NmTransport, sim::{MemoryTransport, NmSimulator}};
    /// let t = MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c);
    /// t.sdr_records().await?;
    /// assert_eq!(t.sdr_reads(), 1);
    /// # Ok(()) }
    /// ```
    pub fn sdr_reads(&self) -> u64 {
        self.sdr_reads.load(Ordering::Relaxed)
    }

    /// Requests sent to a target where no device is.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_nodemanager::{NmAddress, NmTransport, sim::{MemoryTransport, NmSimulator}};
    /// let t = MemoryTransport::new(NmSimulator::new(), 0x06, 0x2c);
    /// let reply = t.bridged_request(NmAddress::new(0x00, 0x2c), 0x2E, 0xCA, &[0x57, 0x01, 0x00]).await?;
    /// assert_eq!(reply.cc, 0xC3); // nobody answers at channel 0
    /// assert_eq!(t.misrouted(), 1);
    /// # Ok(()) }
    /// ```
    pub fn misrouted(&self) -> u64 {
        self.misrouted.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl NmTransport for MemoryTransport {
    async fn bridged_request(
        &self,
        target: NmAddress,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<RawIpmiReply> {
        if target != self.at {
            self.misrouted.fetch_add(1, Ordering::Relaxed);
            return Ok(RawIpmiReply {
                cc: 0xC3,
                data: Vec::new(),
            });
        }
        let (code, data) = self.nm.handle(netfn, cmd, data);
        Ok(RawIpmiReply { cc: code, data })
    }

    async fn sdr_records(&self) -> Result<Vec<Vec<u8>>> {
        self.sdr_reads.fetch_add(1, Ordering::Relaxed);
        let sdr = self
            .sdr
            .lock()
            .map_err(|_| Error::new(ErrorKind::Other, "simulated SDR lock poisoned"))?;
        Ok(sdr.clone())
    }
}

/// An RMCP+ BMC (the `hwctl-ipmi` simulator) with [`NmSimulator`] plugged in as the
/// satellite controller its SDR announces: what `hwctl sim staging-nm` runs. A
/// [`hwctl_sim::Simulator`] of the `staging-nm` hardware type with one node; common
/// faults are injected into the BMC.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let sim = hwctl_nodemanager::sim::start_bmc(Default::default()).await?;
/// assert_eq!((sim.at.channel, sim.at.address), (6, 0x2C));
/// assert!(!sim.nm.has_policy(0, 1));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NmBmc {
    /// The BMC (stops when dropped).
    pub bmc: hwctl_ipmi::sim::IpmiSim,
    /// The Node Manager device behind it.
    pub nm: NmSimulator,
    /// Where the device sits.
    pub at: NmAddress,
}

/// Starts an `hwctl-ipmi` simulator BMC from `cfg` with a Node Manager at
/// `cfg.node_manager` (channel 6, address 0x2C by default; the BMC's SDR announces it).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{HttpMethod, NodeContext};
/// let sim = hwctl_nodemanager::sim::start_bmc(Default::default()).await?;
/// let node = hwctl_nodemanager::hardware_type().build(&sim.bmc.driver_info(), &NodeContext::new("n1"))?;
/// let v = node.vendor()?.call("get_nm_version", HttpMethod::Get, serde_json::Value::Null).await?;
/// assert_eq!(v["nm"], "3.0");
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As `hwctl_ipmi::sim::IpmiSim::start` (a non-loopback address is `InvalidParameter`).
pub async fn start_bmc(mut cfg: hwctl_ipmi::sim::IpmiSimConfig) -> Result<NmBmc> {
    let (channel, address) = *cfg.node_manager.get_or_insert((6, 0x2C));
    let bmc = hwctl_ipmi::sim::IpmiSim::start(cfg).await?;
    let nm = NmSimulator::new();
    let device = nm.clone();
    bmc.add_satellite(
        channel,
        address,
        std::sync::Arc::new(move |netfn: u8, cmd: u8, data: &[u8]| device.handle(netfn, cmd, data)),
    );
    Ok(NmBmc {
        bmc,
        nm,
        at: NmAddress::new(channel, address),
    })
}

impl hwctl_sim::Simulator for NmBmc {
    fn hardware_type(&self) -> &str {
        crate::NAME
    }

    fn describe(&self) -> String {
        format!(
            "IPMI BMC simulator with Intel Node Manager at {} on udp://{}, 1 node",
            self.at,
            self.bmc.addr()
        )
    }

    fn node_count(&self) -> usize {
        1
    }

    fn driver_info(&self, _i: usize) -> hwctl_core::DriverInfo {
        self.bmc.driver_info()
    }

    fn stats(&self) -> hwctl_sim::SimStats {
        hwctl_sim::Simulator::stats(&self.bmc)
    }

    fn inject(&self, fault: Option<hwctl_sim::CommonFault>) -> Result<()> {
        hwctl_sim::Simulator::inject(&self.bmc, fault)
            .map_err(|e| e.with_driver(crate::NAME.to_owned()))
    }
}
