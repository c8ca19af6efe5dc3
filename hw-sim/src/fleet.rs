//! Several simulators served as one: a fleet of BMCs, each with its own address,
//! behind one [`Simulator`] (what `hwctl sim ipmi` and `hwctl demo` start), and a
//! view of a simulator with some nodes and `driver_info` keys chosen by the caller.

use std::fmt;

use hwctl_core::{DriverInfo, NodeContext, Result};

use crate::fault::CommonFault;
use crate::simulator::Simulator;
use crate::stats::SimStats;

/// Many simulators of one hardware type as one: nodes are numbered across them in
/// order (the first simulator's nodes, then the second's, …); stats are summed
/// (peaks too: the simulators are independent devices); a fault is injected into
/// every one.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use hwctl_core::{DriverInfo, Result};
/// use hwctl_sim::{CommonFault, SimStats, Simulator, fleet::SimFleet};
/// #[derive(Debug)]
/// struct One(u16);
/// impl Simulator for One {
///     fn hardware_type(&self) -> &str { "toy" }
///     fn describe(&self) -> String { format!("toy at port {}", self.0) }
///     fn node_count(&self) -> usize { 1 }
///     fn driver_info(&self, _: usize) -> DriverInfo { DriverInfo::from_pairs([("toy_port", self.0.to_string())]) }
///     fn stats(&self) -> SimStats { SimStats { requests: 1, ..Default::default() } }
///     fn inject(&self, _: Option<CommonFault>) -> Result<()> { Ok(()) }
/// }
/// let fleet = SimFleet::new("toy", "2 toys", vec![Box::new(One(1)), Box::new(One(2))]);
/// assert_eq!(fleet.node_count(), 2);
/// assert_eq!(fleet.driver_info(1).get_str("toy_port").unwrap(), "2");
/// assert_eq!(fleet.node_name(1), "toy-2");
/// assert_eq!(fleet.stats().requests, 2);
/// # }
/// ```
pub struct SimFleet {
    hardware_type: String,
    what: String,
    sims: Vec<Box<dyn Simulator>>,
}

impl fmt::Debug for SimFleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimFleet")
            .field("hardware_type", &self.hardware_type)
            .field("simulators", &self.sims.len())
            .finish()
    }
}

impl SimFleet {
    /// A fleet of `sims` (all of `hardware_type`), described as `what` followed by
    /// each simulator's own description.
    pub fn new(
        hardware_type: impl Into<String>,
        what: impl Into<String>,
        sims: Vec<Box<dyn Simulator>>,
    ) -> Self {
        SimFleet {
            hardware_type: hardware_type.into(),
            what: what.into(),
            sims,
        }
    }

    /// The simulators.
    pub fn simulators(&self) -> &[Box<dyn Simulator>] {
        &self.sims
    }

    /// Which simulator serves node `i`, and its index there.
    fn locate(&self, mut i: usize) -> Option<(&dyn Simulator, usize)> {
        for s in &self.sims {
            if i < s.node_count() {
                return Some((s.as_ref(), i));
            }
            i -= s.node_count();
        }
        None
    }
}

impl Simulator for SimFleet {
    fn hardware_type(&self) -> &str {
        &self.hardware_type
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self.sims.iter().map(|s| s.describe()).collect();
        format!("{}: {}", self.what, parts.join("; "))
    }

    fn node_count(&self) -> usize {
        self.sims.iter().map(|s| s.node_count()).sum()
    }

    fn driver_info(&self, i: usize) -> DriverInfo {
        self.locate(i)
            .map(|(s, j)| s.driver_info(j))
            .unwrap_or_default()
    }

    fn node_name(&self, i: usize) -> String {
        format!("{}-{}", self.hardware_type, i + 1)
    }

    fn node_context(&self, i: usize) -> NodeContext {
        let mut ctx = self
            .locate(i)
            .map(|(s, j)| s.node_context(j))
            .unwrap_or_default();
        ctx.id = self.node_name(i);
        ctx
    }

    fn stats(&self) -> SimStats {
        self.sims
            .iter()
            .map(|s| s.stats())
            .fold(SimStats::default(), |a, b| SimStats {
                requests: a.requests + b.requests,
                connections: a.connections + b.connections,
                open_connections: a.open_connections + b.open_connections,
                peak_connections: a.peak_connections + b.peak_connections,
                sessions_opened: a.sessions_opened + b.sessions_opened,
                sessions_closed: a.sessions_closed + b.sessions_closed,
                open_sessions: a.open_sessions + b.open_sessions,
                peak_sessions: a.peak_sessions + b.peak_sessions,
                failed_logins: a.failed_logins + b.failed_logins,
                faults_injected: a.faults_injected + b.faults_injected,
            })
    }

    /// Injects into every simulator; the first refusal is returned (the ones before
    /// it keep the fault: call `inject(None)` to clear).
    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        for s in &self.sims {
            s.inject(fault)?;
        }
        Ok(())
    }
}

/// A view of a simulator: the first `nodes` of its nodes, names made by `name`, and
/// extra `driver_info` keys (faster retries for a demo) added to each.
///
/// ```
/// # use hwctl_core::{DriverInfo, Result};
/// # use hwctl_sim::{CommonFault, SimStats, Simulator};
/// # #[derive(Debug)] struct Pdu;
/// # impl Simulator for Pdu {
/// #     fn hardware_type(&self) -> &str { "pdu" }
/// #     fn describe(&self) -> String { "pdu".into() }
/// #     fn node_count(&self) -> usize { 8 }
/// #     fn driver_info(&self, i: usize) -> DriverInfo { DriverInfo::from_pairs([("relay", (i + 1).to_string())]) }
/// #     fn stats(&self) -> SimStats { SimStats::default() }
/// #     fn inject(&self, _: Option<CommonFault>) -> Result<()> { Ok(()) }
/// # }
/// use hwctl_sim::fleet::SimView;
/// let view = SimView::new(Pdu, 4).with_info("retry_interval", "0.2").with_names(|i| format!("relay-{}", i + 1));
/// assert_eq!(view.node_count(), 4);
/// assert_eq!(view.driver_info(3).get_str("retry_interval").unwrap(), "0.2");
/// assert_eq!(view.node_name(0), "relay-1");
/// assert_eq!(view.describe(), "pdu; the first 4 offered as nodes");
/// assert_eq!(SimView::new(Pdu, 8).describe(), "pdu");
/// ```
pub struct SimView<S> {
    inner: S,
    nodes: usize,
    extra: Vec<(String, String)>,
    name: Option<Box<dyn Fn(usize) -> String + Send + Sync>>,
}

impl<S: fmt::Debug> fmt::Debug for SimView<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimView")
            .field("inner", &self.inner)
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl<S: Simulator> SimView<S> {
    /// The first `nodes` nodes of `inner` (at most all of them).
    pub fn new(inner: S, nodes: usize) -> Self {
        let nodes = nodes.min(inner.node_count());
        SimView {
            inner,
            nodes,
            extra: Vec::new(),
            name: None,
        }
    }

    /// Adds `key = value` to every node's `driver_info` (replacing the simulator's).
    pub fn with_info(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    /// Names node `i` with `name(i)`.
    pub fn with_names(mut self, name: impl Fn(usize) -> String + Send + Sync + 'static) -> Self {
        self.name = Some(Box::new(name));
        self
    }

    /// The simulator behind the view.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Simulator> Simulator for SimView<S> {
    fn hardware_type(&self) -> &str {
        self.inner.hardware_type()
    }

    /// The inner simulator's description, then how many of its nodes this view
    /// offers when that is fewer than it has (an 8-relay PDU offered as 4 nodes
    /// reads "…, 8 relays, one node per relay; the first 4 offered as nodes").
    fn describe(&self) -> String {
        let all = self.inner.node_count();
        if self.nodes < all {
            format!(
                "{}; the first {} offered as nodes",
                self.inner.describe(),
                self.nodes
            )
        } else {
            self.inner.describe()
        }
    }

    fn node_count(&self) -> usize {
        self.nodes
    }

    fn driver_info(&self, i: usize) -> DriverInfo {
        let mut info = self.inner.driver_info(i);
        for (k, v) in &self.extra {
            info.insert(k.clone(), v.clone());
        }
        info
    }

    fn node_name(&self, i: usize) -> String {
        match &self.name {
            Some(f) => f(i),
            None => self.inner.node_name(i),
        }
    }

    fn node_context(&self, i: usize) -> NodeContext {
        let mut ctx = self.inner.node_context(i);
        ctx.id = self.node_name(i);
        ctx
    }

    fn stats(&self) -> SimStats {
        self.inner.stats()
    }

    fn inject(&self, fault: Option<CommonFault>) -> Result<()> {
        self.inner.inject(fault)
    }
}
