//! A simulator for tests and demos (feature `sim`): a node file for libvirt's own
//! `test:///PATH.xml` driver, with domains carrying MACs, running or shut off.
//!
//! No daemon: the test driver lives inside the calling process. It keeps its state
//! per connection, and `hwctl-libvirt` shares one connection per URI
//! ([`LibvirtClient`]); a [`LibvirtSim`] holds that client for as long as it lives,
//! so every node of one simulator in a process sees the same domains, even nodes
//! built after others were dropped. Another process opening the same URI starts
//! again from the file.
//!
//! With hwctl-sim, [`LibvirtSim`] is a [`hwctl_sim::Simulator`]. The test driver cannot be
//! made to hang, refuse credentials or answer with garbage, so every
//! [`CommonFault`] is `Unsupported` (the conformance fault check skips them).
//!
//! The XML written here is formatted by this module alone; it shares no code with
//! the client's parser.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_core::{PowerExt, PowerState};
//! use hwctl_libvirt::sim::LibvirtSim;
//! let sim = LibvirtSim::fleet(3)?; // vm-000 (running), vm-001 (shut off), vm-002 (running)
//! let node = hwctl_libvirt::hardware_type().build(&sim.driver_info(), &sim.node_context(1))?;
//! assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
//! node.power()?.power_on().await?;
//! assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hwctl_core::{DriverInfo, Error, ErrorKind, MacAddress, NodeContext, Result};
use hwctl_sim::fault::CommonFault;
use hwctl_sim::simulator::unsupported_fault;
use hwctl_sim::stats::SimStats;

use crate::{DomainSelector, LibvirtClient, LibvirtConfig, NAME};

/// The run state a simulated domain starts in (`<test:runstate>`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::MacAddress;
/// use hwctl_libvirt::sim::{LibvirtSim, SimDomain, SimState};
/// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtPower, VmState};
/// let mac = MacAddress::new([0x52, 0x54, 0, 1, 2, 3]);
/// let sim = LibvirtSim::new(vec![SimDomain::new("paused", 0, mac).state(SimState::Paused)])?;
/// let power = LibvirtPower::new(LibvirtConfig::new(sim.uri(), DomainSelector::Name("paused".into()))?);
/// assert_eq!(power.domain_state().await?, VmState::Paused);
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimState {
    /// Running (`VIR_DOMAIN_RUNNING` = 1).
    Running,
    /// Paused (`VIR_DOMAIN_PAUSED` = 3).
    Paused,
    /// Shut off (`VIR_DOMAIN_SHUTOFF` = 5).
    ShutOff,
    /// Crashed (`VIR_DOMAIN_CRASHED` = 6).
    Crashed,
}

impl SimState {
    fn runstate(self) -> u8 {
        match self {
            SimState::Running => 1,
            SimState::Paused => 3,
            SimState::ShutOff => 5,
            SimState::Crashed => 6,
        }
    }
}

/// One simulated domain.
///
/// ```
/// use hwctl_core::MacAddress;
/// use hwctl_libvirt::sim::{SimDomain, SimState};
/// let d = SimDomain::new("vm-a", 7, MacAddress::new([0x52, 0x54, 0, 0, 0, 7])).state(SimState::ShutOff);
/// assert_eq!(d.uuid, "6d1c0b8e-0000-4000-8000-000000000007");
/// assert_eq!((d.state, d.boot_dev, d.uefi), (SimState::ShutOff, "hd", false));
/// ```
#[derive(Debug, Clone)]
pub struct SimDomain {
    /// The domain's name.
    pub name: String,
    /// Its UUID.
    pub uuid: String,
    /// The MACs of its network interfaces.
    pub macs: Vec<MacAddress>,
    /// The state it starts in.
    pub state: SimState,
    /// The libvirt boot device name it starts with (`hd`, `network`, `cdrom`).
    pub boot_dev: &'static str,
    /// Whether it has a UEFI (pflash) loader.
    pub uefi: bool,
}

impl SimDomain {
    /// A running BIOS domain booting from `hd`, with one interface of MAC `mac`.
    /// Its UUID is derived from `index`.
    ///
    /// ```
    /// use hwctl_core::MacAddress;
    /// let d = hwctl_libvirt::sim::SimDomain::new("vm-b", 1, MacAddress::new([0x52, 0x54, 0, 0, 0, 1]));
    /// assert_eq!(d.macs.len(), 1);
    /// assert_eq!(d.state, hwctl_libvirt::sim::SimState::Running);
    /// ```
    pub fn new(name: impl Into<String>, index: u32, mac: MacAddress) -> Self {
        SimDomain {
            name: name.into(),
            uuid: format!("6d1c0b8e-0000-4000-8000-{index:012x}"),
            macs: vec![mac],
            state: SimState::Running,
            boot_dev: "hd",
            uefi: false,
        }
    }

    /// Sets the starting state.
    ///
    /// ```
    /// use hwctl_libvirt::sim::{SimDomain, SimState, fleet_mac};
    /// let d = SimDomain::new("vm", 0, fleet_mac(0)).state(SimState::Crashed);
    /// assert_eq!(d.state, SimState::Crashed);
    /// ```
    pub fn state(mut self, state: SimState) -> Self {
        self.state = state;
        self
    }

    /// Adds another interface MAC.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{NodeContext, PowerExt, PowerState};
    /// use hwctl_libvirt::sim::{LibvirtSim, SimDomain, fleet_mac};
    /// let sim = LibvirtSim::new(vec![SimDomain::new("two-nics", 0, fleet_mac(0)).with_mac(fleet_mac(1))])?;
    /// // Ironic's lookup by MAC finds the domain through its second interface too.
    /// let ctx = NodeContext::new("n").with_port(fleet_mac(1));
    /// let node = hwctl_libvirt::hardware_type().build(&sim.driver_info(), &ctx)?;
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
    /// # Ok(()) }
    /// ```
    pub fn with_mac(mut self, mac: MacAddress) -> Self {
        self.macs.push(mac);
        self
    }

    /// Gives it a UEFI loader.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_libvirt::sim::{LibvirtSim, SimDomain, fleet_mac};
    /// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtManagement};
    /// let sim = LibvirtSim::new(vec![SimDomain::new("efi", 0, fleet_mac(0)).uefi()])?;
    /// let config = LibvirtConfig::new(sim.uri(), DomainSelector::Name("efi".into()))?;
    /// let xml = LibvirtManagement::new(config).domain_xml().await?;
    /// assert!(xml.contains("pflash"), "{xml}");
    /// # Ok(()) }
    /// ```
    pub fn uefi(mut self) -> Self {
        self.uefi = true;
        self
    }

    /// Sets the libvirt boot device name it starts with.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::BootDevice;
    /// use hwctl_libvirt::sim::{LibvirtSim, SimDomain, fleet_mac};
    /// let sim = LibvirtSim::new(vec![SimDomain::new("pxe", 0, fleet_mac(0)).boot_dev("network")])?;
    /// let node = hwctl_libvirt::hardware_type().build(&sim.driver_info(), &sim.node_context(0))?;
    /// assert_eq!(node.management()?.get_boot_device().await?.device, Some(BootDevice::Pxe));
    /// # Ok(()) }
    /// ```
    pub fn boot_dev(mut self, dev: &'static str) -> Self {
        self.boot_dev = dev;
        self
    }

    fn write_xml(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        );
        let _ = writeln!(out, "    <name>{}</name>", self.name);
        let _ = writeln!(out, "    <uuid>{}</uuid>", self.uuid);
        let _ = writeln!(out, "    <memory unit='KiB'>262144</memory>");
        let _ = writeln!(out, "    <vcpu>1</vcpu>");
        let _ = writeln!(out, "    <os>");
        let _ = writeln!(out, "      <type arch='x86_64'>hvm</type>");
        if self.uefi {
            let _ = writeln!(
                out,
                "      <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
            );
        }
        let _ = writeln!(out, "      <boot dev='{}'/>", self.boot_dev);
        let _ = writeln!(out, "    </os>");
        let _ = writeln!(out, "    <devices>");
        for mac in &self.macs {
            let _ = writeln!(out, "      <interface type='network'>");
            let _ = writeln!(out, "        <mac address='{mac}'/>");
            let _ = writeln!(out, "        <source network='default'/>");
            let _ = writeln!(out, "      </interface>");
        }
        let _ = writeln!(out, "      <serial type='pty'><target port='0'/></serial>");
        let _ = writeln!(
            out,
            "      <console type='pty'><target type='serial' port='0'/></console>"
        );
        let _ = writeln!(out, "    </devices>");
        let _ = writeln!(
            out,
            "    <test:runstate>{}</test:runstate>",
            self.state.runstate()
        );
        let _ = writeln!(out, "  </domain>");
    }
}

/// The MAC of fleet domain `i`: `52:54:00:ab:HH:LL`.
///
/// ```
/// assert_eq!(hwctl_libvirt::sim::fleet_mac(0x0102).to_string(), "52:54:00:ab:01:02");
/// ```
pub fn fleet_mac(i: u32) -> MacAddress {
    let [_, _, hi, lo] = i.to_be_bytes();
    MacAddress::new([0x52, 0x54, 0x00, 0xab, hi, lo])
}

/// A simulated hypervisor: a node file in a temporary directory (removed on drop),
/// its `test:///` URI, and the shared [`LibvirtClient`] of that URI, held so the
/// domains keep their state while the simulator lives.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_libvirt::sim::LibvirtSim;
/// use hwctl_libvirt::{DomainSelector, LibvirtConfig, LibvirtPower, VmState};
/// let sim = LibvirtSim::fleet(2)?;
/// let config = LibvirtConfig::new(sim.uri(), DomainSelector::Name("vm-001".into()))?;
/// assert_eq!(LibvirtPower::new(config).domain_state().await?, VmState::ShutOff);
/// let dir = sim.dir().to_path_buf();
/// drop(sim);
/// assert!(!dir.exists());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LibvirtSim {
    dir: tempfile::TempDir,
    path: PathBuf,
    uri: String,
    domains: Vec<SimDomain>,
    client: Arc<LibvirtClient>,
}

/// The name this type had before the protocol-crate template.
#[deprecated(note = "renamed to LibvirtSim")]
pub type TestNode = LibvirtSim;

impl LibvirtSim {
    /// Writes a node file holding `domains`.
    ///
    /// # Errors
    ///
    /// `Other` when the temporary directory or the file cannot be written;
    /// `InvalidParameter` when its path does not make a libvirt URI (whitespace).
    ///
    /// ```
    /// use hwctl_libvirt::sim::{LibvirtSim, SimDomain, fleet_mac};
    /// let sim = LibvirtSim::new(vec![SimDomain::new("only", 0, fleet_mac(0))])?;
    /// assert_eq!(sim.domains()[0].name, "only");
    /// assert!(sim.uri().starts_with("test://"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn new(domains: Vec<SimDomain>) -> Result<Self> {
        LibvirtSim::with_raw_domains(domains, Vec::new())
    }

    /// Writes a node file holding `domains` and, verbatim after them, the
    /// `<domain type='test'>…</domain>` documents in `raw` (for fixtures and odd
    /// shapes: duplicate MACs, per-device boot orders, …).
    ///
    /// # Errors
    ///
    /// As [`LibvirtSim::new`].
    pub fn with_raw_domains(domains: Vec<SimDomain>, raw: Vec<String>) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("hw-libvirt-sim-")
            .tempdir()
            .map_err(|e| io_error("create a temporary directory", e))?;
        let path = dir.path().join("node.xml");
        let mut xml = String::from("<node>\n");
        xml.push_str("  <cpu><mhz>2000</mhz><model>x86_64</model><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active></cpu>\n");
        xml.push_str("  <memory>16777216</memory>\n");
        for d in &domains {
            d.write_xml(&mut xml);
        }
        for r in &raw {
            xml.push_str(r.trim());
            xml.push('\n');
        }
        xml.push_str("</node>\n");
        std::fs::write(&path, xml).map_err(|e| io_error("write the node file", e))?;
        let uri = format!("test://{}", path.display());
        let client = LibvirtClient::shared(&LibvirtConfig::new(
            uri.as_str(),
            DomainSelector::Name(String::new()),
        )?);
        Ok(LibvirtSim {
            dir,
            path,
            uri,
            domains,
            client,
        })
    }

    /// `n` domains `vm-000`, `vm-001`, …: even ones running, odd ones shut off, each
    /// with one MAC from [`fleet_mac`].
    ///
    /// # Errors
    ///
    /// As [`LibvirtSim::new`].
    ///
    /// ```
    /// use hwctl_libvirt::sim::{LibvirtSim, SimState};
    /// let sim = LibvirtSim::fleet(3)?;
    /// let states: Vec<_> = sim.domains().iter().map(|d| d.state).collect();
    /// assert_eq!(states, [SimState::Running, SimState::ShutOff, SimState::Running]);
    /// assert_eq!(sim.domains()[2].name, "vm-002");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn fleet(n: u32) -> Result<Self> {
        let domains = (0..n)
            .map(|i| {
                let state = if i % 2 == 0 {
                    SimState::Running
                } else {
                    SimState::ShutOff
                };
                SimDomain::new(format!("vm-{i:03}"), i, fleet_mac(i)).state(state)
            })
            .collect();
        LibvirtSim::new(domains)
    }

    /// The `test:///…/node.xml` URI for `libvirt_uri`.
    ///
    /// ```
    /// let sim = hwctl_libvirt::sim::LibvirtSim::fleet(1)?;
    /// assert_eq!(sim.uri(), format!("test://{}", sim.path().display()));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The node file.
    ///
    /// ```
    /// let sim = hwctl_libvirt::sim::LibvirtSim::fleet(1)?;
    /// let xml = std::fs::read_to_string(sim.path()).unwrap();
    /// assert!(xml.contains("<name>vm-000</name>"));
    /// assert_eq!(sim.path().parent(), Some(sim.dir()));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding the node file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The domains as written.
    pub fn domains(&self) -> &[SimDomain] {
        &self.domains
    }

    /// `driver_info` with `libvirt_uri` set to this node file.
    ///
    /// ```
    /// let sim = hwctl_libvirt::sim::LibvirtSim::fleet(1)?;
    /// assert_eq!(sim.driver_info().get_str("libvirt_uri").as_deref(), Some(sim.uri()));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn driver_info(&self) -> DriverInfo {
        DriverInfo::from_pairs([("libvirt_uri", self.uri.as_str())])
    }

    /// A node context for domain `i`: its name as id and its MACs as ports.
    ///
    /// ```
    /// use hwctl_libvirt::sim::{LibvirtSim, fleet_mac};
    /// let sim = LibvirtSim::fleet(2)?;
    /// let ctx = sim.node_context(1);
    /// assert_eq!((ctx.id.as_str(), ctx.ports.as_slice()), ("vm-001", &[fleet_mac(1)][..]));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn node_context(&self, i: usize) -> NodeContext {
        match self.domains.get(i) {
            Some(d) => d
                .macs
                .iter()
                .fold(NodeContext::new(d.name.clone()), |ctx, m| ctx.with_port(*m)),
            None => NodeContext::new(format!("no-such-domain-{i}")),
        }
    }
}

impl hwctl_sim::Simulator for LibvirtSim {
    fn hardware_type(&self) -> &str {
        NAME
    }

    fn describe(&self) -> String {
        let vms: Vec<String> = self
            .domains
            .iter()
            .map(|d| {
                let mac = d.macs.first().map(ToString::to_string).unwrap_or_default();
                format!("{} ({mac})", d.name)
            })
            .collect();
        format!(
            "libvirt test driver, {} VMs, libvirt_uri={} — VMs: {}",
            self.domains.len(),
            self.uri,
            vms.join(", ")
        )
    }

    fn node_count(&self) -> usize {
        self.domains.len()
    }

    fn driver_info(&self, _i: usize) -> DriverInfo {
        LibvirtSim::driver_info(self)
    }

    fn node_name(&self, i: usize) -> String {
        match self.domains.get(i) {
            Some(d) => d.name.clone(),
            None => format!("{NAME}-{}", i + 1),
        }
    }

    fn node_context(&self, i: usize) -> NodeContext {
        LibvirtSim::node_context(self, i)
    }

    /// The test driver runs inside libvirt and counts nothing; what is known is the
    /// shared connection to this node file: `connections` = times it was opened,
    /// `open_connections` = whether it is open now (so the peak is 1 once opened).
    fn stats(&self) -> SimStats {
        let opened = self.client.connections_opened();
        SimStats {
            connections: opened,
            open_connections: u64::from(self.client.is_connected()),
            // One connection at a time per client.
            peak_connections: u64::from(opened > 0),
            ..SimStats::default()
        }
    }

    /// Clearing (`None`) always works; every fault is `Unsupported`: the in-process
    /// test driver cannot be silenced, has no credentials to refuse and never
    /// answers with bytes of its own.
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        match fault {
            None => Ok(()),
            Some(f) => Err(unsupported_fault(self, f)),
        }
    }
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Other,
        format!("libvirt simulator: cannot {what}: {e}"),
    )
    .with_source(e)
}
