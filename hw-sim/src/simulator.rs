//! The one trait every protocol simulator implements, used by `hwctl sim`, `hwctl
//! demo` and the conformance fault check.

use hwctl_core::{DriverInfo, Error, ErrorKind, NodeContext, Result};

use crate::fault::CommonFault;
use crate::stats::SimStats;

/// A running simulator: where it listens, the nodes it serves, what it counted, and
/// which common fault it injects.
///
/// # Contract
///
/// - It listens on loopback only (see [`bind`](crate::bind)) and stops answering
///   when dropped (see [`TaskSet`](crate::TaskSet)).
/// - Nodes are numbered `0..node_count()`; `driver_info(i)` is complete (address,
///   port, credentials) so that `hardware_type.build(&sim.driver_info(i),
///   &sim.node_context(i))` gives a working node for `i < node_count()`. Callers
///   must not ask for `i >= node_count()`; implementations may panic then.
/// - `inject(Some(f))` changes how every later request is answered until
///   `inject(None)`; requests already being answered may finish either way. A fault
///   the protocol cannot express is refused with `Unsupported` and the plan is left
///   unchanged.
///
/// ```
/// use hwctl_core::{DriverInfo, Result};
/// use hwctl_sim::{CommonFault, Counters, FaultPlan, SimStats, Simulator};
///
/// #[derive(Debug, Default)]
/// struct ToySim { counters: Counters, faults: FaultPlan }
///
/// impl Simulator for ToySim {
///     fn hardware_type(&self) -> &str { "toy" }
///     fn describe(&self) -> String { "toy simulator, 1 node, nowhere".into() }
///     fn node_count(&self) -> usize { 1 }
///     fn driver_info(&self, _i: usize) -> DriverInfo {
///         DriverInfo::from_pairs([("toy_address", "127.0.0.1")])
///     }
///     fn stats(&self) -> SimStats { self.counters.snapshot() }
///     fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
///         if let Some(f @ CommonFault::BadCredentials) = fault {
///             return Err(hwctl_sim::simulator::unsupported_fault(self, f));
///         }
///         self.faults.replace(fault);
///         Ok(())
///     }
/// }
///
/// let sim: Box<dyn Simulator> = Box::new(ToySim::default());
/// assert_eq!(sim.node_name(0), "toy-1");
/// assert_eq!(sim.node_context(0).id, "toy-1");
/// assert!(sim.inject(Some(CommonFault::Garbage)).is_ok());
/// assert_eq!(sim.inject(Some(CommonFault::BadCredentials)).unwrap_err().kind(),
///            hwctl_core::ErrorKind::Unsupported);
/// ```
pub trait Simulator: Send + Sync + std::fmt::Debug {
    /// The Ironic hardware type its nodes use (`ipmi`, `msftocs`, …).
    fn hardware_type(&self) -> &str;

    /// One line for humans: what and where (`IPMI BMC simulator on 127.0.0.1:40623, 2 nodes`).
    fn describe(&self) -> String;

    /// How many nodes it serves.
    fn node_count(&self) -> usize;

    /// `driver_info` for node `i` (0-based), complete with credentials, ready to
    /// build a node of [`hardware_type`](Self::hardware_type).
    fn driver_info(&self, i: usize) -> DriverInfo;

    /// A name for node `i` (default: `<hardware_type>-<i + 1>`).
    fn node_name(&self, i: usize) -> String {
        format!("{}-{}", self.hardware_type(), i + 1)
    }

    /// The [`NodeContext`] for node `i` (default: just [`node_name`](Self::node_name)
    /// as id). Simulators whose driver needs more (Wake-on-LAN needs port MACs)
    /// override it.
    fn node_context(&self, i: usize) -> NodeContext {
        NodeContext::new(self.node_name(i))
    }

    /// The counters so far.
    fn stats(&self) -> SimStats;

    /// Injects a common fault into every later request (`None` clears it).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unsupported`] when this simulator cannot simulate `fault` (a
    /// Wake-on-LAN listener has no credentials to refuse, nothing to answer with
    /// garbage); see [`unsupported_fault`].
    fn inject(&self, fault: Option<CommonFault>) -> Result<()>;
}

/// The error [`Simulator::inject`] returns for a fault `sim` cannot simulate: kind
/// [`ErrorKind::Unsupported`], driver = the simulator's hardware type, operation
/// `inject`.
pub fn unsupported_fault(sim: &(impl Simulator + ?Sized), fault: CommonFault) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the {} simulator cannot inject the {fault} fault",
            sim.hardware_type()
        ),
    )
    .with_driver(sim.hardware_type().to_owned())
    .with_operation("inject")
}
