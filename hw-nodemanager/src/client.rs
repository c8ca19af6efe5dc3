//! [`NodeManager`]: the typed Node Manager operations over an [`NmTransport`], with
//! address discovery.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tracing::Instrument;

use hwctl_core::{Error, ErrorKind, Result};

use crate::NAME;
use crate::discovery::{Discovery, NmLocation, find_in_sdr};
use crate::transport::{NmTransport, completion_code_name};
use crate::types::{
    CapabilitiesQuery, ControlScope, NmAddress, NmCapabilities, NmVersion, Policy, PolicyInfo,
    PolicyRef, Statistics, StatisticsQuery, StatisticsReset, SuspendPeriod,
};
use crate::wire::{self, NmRequest};

/// How long one Node Manager request may take, end to end, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Intel Node Manager on one node, reached through its BMC.
///
/// The Node Manager address is discovered from the SDR on first use (or given with
/// [`NodeManager::with_location`]); [`NodeManager::location`] tells what to store so the
/// next instance can skip discovery.
///
/// ```
/// # #[cfg(feature = "sim")]
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_nodemanager::{Domain, NmLocation, NodeManager, Policy, PolicyRef, TargetLimit, Trigger};
/// use hwctl_nodemanager::sim::{MemoryTransport, NmSimulator};
///
/// let transport = MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c);
/// let nm = NodeManager::new(Arc::new(transport));
/// assert_eq!(nm.version().await?.nm_name(), "3.0");
/// assert!(matches!(nm.location().await, NmLocation::Found(a) if a.address == 0x2c));
///
/// nm.set_policy(&Policy::new(Domain::Platform, 7, Trigger::None, TargetLimit::Watts(350))).await?;
/// assert_eq!(nm.get_policy(PolicyRef::new(Domain::Platform, 7)).await?.target_limit, 350);
/// # Ok(()) }
/// # #[cfg(not(feature = "sim"))] fn main() {}
/// ```
pub struct NodeManager {
    transport: Arc<dyn NmTransport>,
    location: Mutex<NmLocation>,
    timeout: Duration,
}

impl fmt::Debug for NodeManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeManager")
            .field("transport", &self.transport)
            .field("location", &self.location.try_lock().map(|l| *l).ok())
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn context(e: Error, op: &'static str) -> Error {
    e.or_driver(NAME).or_operation(op)
}

impl NodeManager {
    /// Node Manager behind `transport`, to be discovered on first use.
    pub fn new(transport: Arc<dyn NmTransport>) -> Self {
        NodeManager::with_location(transport, NmLocation::Unknown)
    }

    /// Node Manager behind `transport` at a location already known (stored from an
    /// earlier discovery, or from `ipmi_target_channel`/`ipmi_target_address`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{NmAddress, NmLocation, NodeManager, sim::{MemoryTransport, NmSimulator}};
    /// let t = Arc::new(MemoryTransport::new(NmSimulator::new(), 0x06, 0x2c)); // no SDR record
    /// let nm = NodeManager::with_location(t.clone(), NmLocation::Found(NmAddress::new(0x06, 0x2c)));
    /// assert_eq!(nm.version().await?.nm_name(), "3.0");
    /// assert_eq!(t.sdr_reads(), 0); // no discovery
    /// # Ok(()) }
    /// ```
    pub fn with_location(transport: Arc<dyn NmTransport>, location: NmLocation) -> Self {
        NodeManager {
            transport,
            location: Mutex::new(location),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets the end-to-end timeout of one request (default [`DEFAULT_TIMEOUT`]).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use hwctl_nodemanager::{NodeManager, sim::{MemoryTransport, NmSimulator}};
    /// let t = Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c));
    /// let _nm = NodeManager::new(t).timeout(Duration::from_secs(5));
    /// assert!(hwctl_nodemanager::DEFAULT_TIMEOUT > Duration::ZERO);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What is known of the location now: store it to skip discovery next time.
    pub async fn location(&self) -> NmLocation {
        *self.location.lock().await
    }

    /// Reads the SDR, finds the Node Manager record and confirms it with Get Node
    /// Manager Version through the bridge. The outcome is remembered (see
    /// [`NodeManager::location`]).
    ///
    /// A device that answers with an error or with something that is not Node
    /// Manager counts as not present, as in Ironic; a timeout or an unreachable BMC
    /// is returned as an error and remembers nothing, since it may pass.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, …) or [`ErrorKind::Timeout`] past
    /// the request timeout; nothing is remembered then.
    pub async fn discover(&self) -> Result<Discovery> {
        let mut loc = self.location.lock().await;
        let d = self.discover_locked().await?;
        *loc = d.location();
        Ok(d)
    }

    async fn discover_locked(&self) -> Result<Discovery> {
        let span = tracing::info_span!("nm_discover");
        async {
            let records = tokio::time::timeout(self.timeout, self.transport.sdr_records())
                .await
                .map_err(|_| self.timed_out("reading the SDR"))?
                .map_err(|e| context(e, "discover node manager"))?;
            let Some(address) = records.iter().find_map(|r| find_in_sdr(r)) else {
                tracing::info!(
                    records = records.len(),
                    "no Intel Node Manager record in the SDR"
                );
                return Ok(Discovery::NotInSdr);
            };
            tracing::debug!(%address, "Intel Node Manager record found; confirming");
            match self.send_to(address, &wire::encode_get_version()).await {
                Ok(raw) => match wire::decode_version(&raw) {
                    Ok(_) => Ok(Discovery::Found(address)),
                    Err(e) => Ok(Discovery::NotResponding {
                        address,
                        reason: e.to_string(),
                    }),
                },
                Err(e) if e.is_retryable() => Err(e),
                Err(e) => Ok(Discovery::NotResponding {
                    address,
                    reason: e.to_string(),
                }),
            }
        }
        .instrument(span)
        .await
    }

    /// The Node Manager address, discovering it if unknown.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    pub async fn address(&self) -> Result<NmAddress> {
        let mut loc = self.location.lock().await;
        match *loc {
            NmLocation::Found(a) => Ok(a),
            NmLocation::NotPresent => Err(not_found(
                "Driver data indicates that Intel Node Manager detection failed.",
            )),
            NmLocation::Unknown => {
                let d = self.discover_locked().await?;
                *loc = d.location();
                match d {
                    Discovery::Found(a) => Ok(a),
                    Discovery::NotInSdr => Err(not_found("Intel Node Manager is not detected.")),
                    Discovery::NotResponding { address, reason } => Err(not_found(format!(
                        "Intel Node Manager sensors record present in SDR but Node Manager is not responding ({address}: {reason})."
                    ))),
                }
            }
        }
    }

    fn timed_out(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("no answer {what} within {:?}", self.timeout),
        )
        .with_driver(NAME)
    }

    /// Sends `req` to `target`; returns the reply data (manufacturer id included)
    /// after checking the completion code and the id.
    async fn send_to(&self, target: NmAddress, req: &NmRequest) -> Result<Vec<u8>> {
        tracing::debug!(%target, cmd = req.cmd, len = req.data.len(), "node manager request");
        let reply = tokio::time::timeout(
            self.timeout,
            self.transport
                .bridged_request(target, req.netfn(), req.cmd, &req.data),
        )
        .await
        .map_err(|_| self.timed_out(&format!("from Node Manager at {target}")))??;
        if reply.cc != 0 {
            let cc = reply.cc;
            return Err(Error::new(
                hwctl_ipmi::cc_kind(cc),
                format!(
                    "IPMI call failed: Node Manager command 0x{:02X} completed with 0x{cc:02X} ({})",
                    req.cmd,
                    completion_code_name(cc)
                ),
            ));
        }
        wire::check_intel_id(&reply.data)?;
        Ok(reply.data)
    }

    async fn send(&self, req: NmRequest, op: &'static str) -> Result<Vec<u8>> {
        let span = tracing::info_span!("nm", op);
        async {
            let target = self.address().await?;
            self.send_to(target, &req).await
        }
        .instrument(span)
        .await
        .map_err(|e| context(e, op))
    }

    /// Get Node Manager Version.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    pub async fn version(&self) -> Result<NmVersion> {
        let raw = self
            .send(wire::encode_get_version(), "get_nm_version")
            .await?;
        wire::decode_version(&raw).map_err(|e| context(e, "get_nm_version"))
    }

    /// Get Node Manager Capabilities for a domain, trigger and power domain.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{CapabilitiesQuery, Domain, NodeManager, PowerDomain, Trigger, sim::{MemoryTransport, NmSimulator}};
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c)));
    /// let q = CapabilitiesQuery { domain_id: Domain::Platform, policy_trigger: Trigger::None, power_domain: PowerDomain::Primary };
    /// let c = nm.capabilities(&q).await?;
    /// assert!(c.min_limit_value <= c.max_limit_value);
    /// # Ok(()) }
    /// ```
    pub async fn capabilities(&self, q: &CapabilitiesQuery) -> Result<NmCapabilities> {
        let raw = self
            .send(wire::encode_get_capabilities(q), "get_nm_capabilities")
            .await?;
        wire::decode_capabilities(&raw).map_err(|e| context(e, "get_nm_capabilities"))
    }

    /// Enables or disables policies: all, a domain's, or one.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    pub async fn control_policy(&self, enable: bool, scope: ControlScope) -> Result<()> {
        self.send(
            wire::encode_control_policy(enable, scope),
            "control_nm_policy",
        )
        .await
        .map(drop)
    }

    /// Creates or replaces a policy.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    /// [`ErrorKind::InvalidParameter`] for values the command cannot carry.
    pub async fn set_policy(&self, policy: &Policy) -> Result<()> {
        wire::check_policy(policy).map_err(|e| context(e, "set_nm_policy"))?;
        self.send(wire::encode_set_policy(policy), "set_nm_policy")
            .await
            .map(drop)
    }

    /// Reads a policy.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    pub async fn get_policy(&self, policy: PolicyRef) -> Result<PolicyInfo> {
        let raw = self
            .send(wire::encode_get_policy(policy), "get_nm_policy")
            .await?;
        wire::decode_policy(&raw).map_err(|e| context(e, "get_nm_policy"))
    }

    /// Removes a policy.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{Domain, NodeManager, Policy, PolicyRef, TargetLimit, Trigger, sim::{MemoryTransport, NmSimulator}};
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c)));
    /// nm.set_policy(&Policy::new(Domain::Platform, 2, Trigger::None, TargetLimit::Watts(300))).await?;
    /// nm.remove_policy(PolicyRef::new(Domain::Platform, 2)).await?;
    /// assert!(nm.get_policy(PolicyRef::new(Domain::Platform, 2)).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn remove_policy(&self, policy: PolicyRef) -> Result<()> {
        self.send(wire::encode_remove_policy(policy), "remove_nm_policy")
            .await
            .map(drop)
    }

    /// Sets a policy's suspend periods (1 to 5), replacing any it had.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    /// [`ErrorKind::InvalidParameter`] for values the command cannot carry.
    pub async fn set_policy_suspend(
        &self,
        policy: PolicyRef,
        periods: &[SuspendPeriod],
    ) -> Result<()> {
        wire::check_suspend_periods(periods).map_err(|e| context(e, "set_nm_policy_suspend"))?;
        self.send(
            wire::encode_set_policy_suspend(policy, periods),
            "set_nm_policy_suspend",
        )
        .await
        .map(drop)
    }

    /// Reads a policy's suspend periods.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{Day, Domain, NodeManager, Policy, PolicyRef, SuspendPeriod, TargetLimit, Trigger};
    /// use hwctl_nodemanager::sim::{MemoryTransport, NmSimulator};
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c)));
    /// let p = PolicyRef::new(Domain::Platform, 3);
    /// nm.set_policy(&Policy::new(Domain::Platform, 3, Trigger::None, TargetLimit::Watts(300))).await?;
    /// let nights = vec![SuspendPeriod { start: 200, stop: 240, days: vec![Day::Saturday, Day::Sunday] }];
    /// nm.set_policy_suspend(p, &nights).await?;
    /// assert_eq!(nm.get_policy_suspend(p).await?, nights);
    /// # Ok(()) }
    /// ```
    pub async fn get_policy_suspend(&self, policy: PolicyRef) -> Result<Vec<SuspendPeriod>> {
        let raw = self
            .send(
                wire::encode_get_policy_suspend(policy),
                "get_nm_policy_suspend",
            )
            .await?;
        wire::decode_policy_suspend(&raw).map_err(|e| context(e, "get_nm_policy_suspend"))
    }

    /// Removes a policy's suspend periods.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    pub async fn remove_policy_suspend(&self, policy: PolicyRef) -> Result<()> {
        self.send(
            wire::encode_remove_policy_suspend(policy),
            "remove_nm_policy_suspend",
        )
        .await
        .map(drop)
    }

    /// Reads statistics.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_nodemanager::{Domain, GlobalStatistic, NodeManager, StatisticsQuery, StatisticsReset};
    /// use hwctl_nodemanager::sim::{MemoryTransport, NmSimulator};
    /// let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(NmSimulator::new(), 0x06, 0x2c)));
    /// let q = StatisticsQuery::Global { parameter: GlobalStatistic::Power, domain_id: Domain::Platform };
    /// let s = nm.statistics(&q).await?;
    /// assert_eq!(s.domain_id, Domain::Platform);
    /// assert!(s.minimum_value <= s.maximum_value);
    /// nm.reset_statistics(&StatisticsReset::Global { domain_id: Domain::Platform }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn statistics(&self, q: &StatisticsQuery) -> Result<Statistics> {
        let raw = self
            .send(wire::encode_get_statistics(q), "get_nm_statistics")
            .await?;
        wire::decode_statistics(&raw).map_err(|e| context(e, "get_nm_statistics"))
    }

    /// Resets statistics.
    ///
    /// # Errors
    ///
    /// The transport's errors (timeout, unreachable, protocol, unauthenticated, …);
    /// [`ErrorKind::Timeout`] past the request timeout; a non-zero completion code's kind
    /// (as `hwctl_ipmi::cc_kind`); [`ErrorKind::Protocol`] for a reply that is not Intel's
    /// or cannot be decoded; [`ErrorKind::NotFound`] when Node Manager is not present.
    /// [`ErrorKind::InvalidParameter`] for values the command cannot carry.
    pub async fn reset_statistics(&self, reset: &StatisticsReset) -> Result<()> {
        let req =
            wire::encode_reset_statistics(reset).map_err(|e| context(e, "reset_nm_statistics"))?;
        self.send(req, "reset_nm_statistics").await.map(drop)
    }
}

fn not_found(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::NotFound, msg)
}
