//! Hardware types and the registry an orchestrator fills and builds nodes from.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::boot::{BootBuild, BootInterface};
use crate::boot_device::BootPersistence;
use crate::capabilities::TypeCapabilities;
use crate::driver_info::{DriverInfo, Property};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::node::{Node, NodeContext};

/// An interface a hardware type can provide.
///
/// ```
/// use hwctl_core::{InterfaceKind, fake};
/// let kinds = fake::hardware_type().interfaces().to_vec();
/// assert_eq!(kinds, [InterfaceKind::Power, InterfaceKind::Management, InterfaceKind::Console, InterfaceKind::Vendor]);
/// assert_eq!(serde_json::to_string(&kinds[1])?, "\"management\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InterfaceKind {
    /// [`Power`](crate::Power)
    Power,
    /// [`Management`](crate::Management)
    Management,
    /// [`Console`](crate::Console)
    Console,
    /// [`Vendor`](crate::Vendor)
    Vendor,
    /// [`Boot`](crate::Boot)
    Boot,
}

impl InterfaceKind {
    /// The lower-case name (`power`, …), as `Display` prints it.
    ///
    /// ```
    /// use hwctl_core::InterfaceKind;
    /// assert_eq!(InterfaceKind::Management.as_str(), "management");
    /// assert_eq!(InterfaceKind::Boot.to_string(), "boot");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            InterfaceKind::Power => "power",
            InterfaceKind::Management => "management",
            InterfaceKind::Console => "console",
            InterfaceKind::Vendor => "vendor",
            InterfaceKind::Boot => "boot",
        }
    }
}

impl fmt::Display for InterfaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type BuildFn = dyn Fn(&DriverInfo, &NodeContext) -> Result<Node> + Send + Sync;

/// A named kind of hardware (Ironic's hardware type): its interfaces, its
/// `driver_info` properties, and how to build a [`Node`] of it.
///
/// The build function validates `driver_info` (reporting every problem at once) and
/// constructs the interfaces without doing I/O. It may capture shared state, such as
/// one client per endpoint shared by every node behind it.
///
/// ```
/// use std::sync::Arc;
/// use hwctl_core::{HardwareType, InterfaceKind, Node, Property, fake::FakePower, PowerState};
/// const PROPS: &[Property] = &[Property::required("pdu_address", "Address.")];
/// let ht = HardwareType::new("my-pdu", "A PDU.", [InterfaceKind::Power], PROPS.to_vec(),
///     |info, ctx| {
///         let v = info.validator(PROPS);
///         v.finish()?;
///         Ok(Node::new("my-pdu", ctx.clone()).with_power(Arc::new(FakePower::new(PowerState::Off))))
///     });
/// assert_eq!(ht.name(), "my-pdu");
/// ```
#[derive(Clone)]
pub struct HardwareType {
    name: String,
    description: String,
    interfaces: Vec<InterfaceKind>,
    properties: Vec<Property>,
    boot_interfaces: Vec<String>,
    capabilities: Option<Arc<TypeCapabilities>>,
    build: Arc<BuildFn>,
}

impl fmt::Debug for HardwareType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HardwareType")
            .field("name", &self.name)
            .field("interfaces", &self.interfaces)
            .field("boot_interfaces", &self.boot_interfaces)
            .field("capabilities", &self.capabilities)
            .field(
                "properties",
                &self.properties.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HardwareType {
    /// Describes a hardware type. Interfaces are kept sorted and without repeats.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::{DriverInfo, HardwareType, InterfaceKind, Node, NodeContext, Property};
    /// use hwctl_core::{PowerState, fake::FakePower};
    /// const PROPERTIES: &[Property] = &[Property::optional("toy_state", "on or off.")];
    /// let toy = HardwareType::new("toy", "A toy.", [InterfaceKind::Power, InterfaceKind::Power],
    ///     PROPERTIES.to_vec(), |info, ctx| {
    ///         let mut v = info.validator(PROPERTIES);
    ///         let on = v.one_of("toy_state", &["on", "off"]) == Some("on");
    ///         v.finish()?;
    ///         let state = if on { PowerState::On } else { PowerState::Off };
    ///         Ok(Node::new("toy", ctx.clone()).with_power(Arc::new(FakePower::new(state))))
    ///     });
    /// assert_eq!(toy.interfaces(), [InterfaceKind::Power]);
    /// let bad = DriverInfo::from_pairs([("toy_state", "dim")]);
    /// let err = toy.build(&bad, &NodeContext::new("n1")).unwrap_err();
    /// assert_eq!(err.problems()[0].name, "toy_state");
    /// assert_eq!(err.driver(), Some("toy"));
    /// ```
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        interfaces: impl IntoIterator<Item = InterfaceKind>,
        properties: Vec<Property>,
        build: impl Fn(&DriverInfo, &NodeContext) -> Result<Node> + Send + Sync + 'static,
    ) -> Self {
        let mut interfaces: Vec<InterfaceKind> = interfaces.into_iter().collect();
        interfaces.sort();
        interfaces.dedup();
        HardwareType {
            name: name.into(),
            description: description.into(),
            interfaces,
            properties,
            boot_interfaces: Vec::new(),
            capabilities: None,
            build: Arc::new(build),
        }
    }

    /// Lists the boot interfaces (by [`BootInterface`] name) this type's nodes can
    /// use, most preferred first (Ironic's `supported_boot_interfaces`). The first
    /// one registered is a node's default.
    ///
    /// ```
    /// let ht = hwctl_core::fake::hardware_type();
    /// assert_eq!(ht.boot_interfaces(), ["pxe", "ipxe", "fake"]);
    /// ```
    pub fn with_boot_interfaces<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for name in names {
            let name = name.into();
            if !self.boot_interfaces.contains(&name) {
                self.boot_interfaces.push(name);
            }
        }
        self
    }

    /// Declares what every node of this type can do *at most* (see
    /// [`TypeCapabilities`]): the union over every `driver_info` the type accepts,
    /// with a "depends on …" note where only a node can say. `hwctl capabilities
    /// TYPE` shows it when no node can be built, and the conformance suite
    /// (`testing::check_capabilities`, with the `testing` feature) fails
    /// a node of the type that claims more. Replaces an earlier declaration.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::capabilities::{CapabilityField, TypeCapabilities};
    /// use hwctl_core::{Capabilities, HardwareType, InterfaceKind, Node, Power, PowerCapabilities};
    /// use hwctl_core::{DriverInfo, NodeContext, PowerState, PowerTarget, fake::FakePower};
    /// let ht = HardwareType::new("my-pdu", "A PDU.", [InterfaceKind::Power], vec![], |info, ctx| {
    ///     info.validator(&[]).finish()?;
    ///     Ok(Node::new("my-pdu", ctx.clone()).with_power(Arc::new(FakePower::new(PowerState::Off))))
    /// })
    /// .with_capabilities(
    ///     TypeCapabilities::new(Capabilities {
    ///         power: Some(PowerCapabilities { can_query: true, targets: PowerTarget::ALL.to_vec(),
    ///             recorded_only: vec![] }),
    ///         ..Capabilities::default()
    ///     })
    ///     .depends(CapabilityField::PowerTargets, "the outlet's firmware"),
    /// );
    /// let declared = ht.capabilities().unwrap();
    /// assert_eq!(declared.at_most().power.as_ref().unwrap().targets.len(), 5);
    /// // A node of it is within what its type declares.
    /// let node = ht.build(&DriverInfo::new(), &NodeContext::new("n1"))?;
    /// assert!(declared.exceeded_by(&node.capabilities()).is_empty());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_capabilities(mut self, declared: TypeCapabilities) -> Self {
        self.capabilities = Some(Arc::new(declared));
        self
    }

    /// What this type declared its nodes can do at most
    /// ([`HardwareType::with_capabilities`]), or `None` if it declared nothing.
    ///
    /// ```
    /// let ht = hwctl_core::fake::hardware_type();
    /// assert!(ht.capabilities().unwrap().at_most().power.is_some());
    /// ```
    pub fn capabilities(&self) -> Option<&TypeCapabilities> {
        self.capabilities.as_deref()
    }

    /// The boot interfaces this type supports, most preferred first.
    ///
    /// ```
    /// assert_eq!(hwctl_core::fake::hardware_type().boot_interfaces()[0], "pxe");
    /// ```
    pub fn boot_interfaces(&self) -> &[String] {
        &self.boot_interfaces
    }

    /// The name (`staging-iboot`).
    ///
    /// ```
    /// let ht = hwctl_core::fake::hardware_type();
    /// assert_eq!(ht.name(), "fake-hardware");
    /// assert!(ht.description().contains("fake"));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A one-line description.
    ///
    /// ```
    /// let hw = hwctl_core::fake::hardware_type();
    /// assert!(hw.description().starts_with("In-memory fake hardware"));
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The interfaces its nodes have, sorted.
    ///
    /// ```
    /// use hwctl_core::InterfaceKind;
    /// let ht = hwctl_core::fake::hardware_type();
    /// assert!(ht.interfaces().contains(&InterfaceKind::Console));
    /// assert!(!ht.interfaces().contains(&InterfaceKind::Boot));
    /// ```
    pub fn interfaces(&self) -> &[InterfaceKind] {
        &self.interfaces
    }

    /// The `driver_info` properties it reads (what `hwctl properties` lists).
    ///
    /// ```
    /// let ht = hwctl_core::fake::hardware_type();
    /// let p = ht.properties().iter().find(|p| p.name == "fake_power_state").unwrap();
    /// assert!(!p.required);
    /// ```
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// Validates `info` and builds a node. Errors carry this type's name as driver.
    ///
    /// Besides the driver's own validation (which reports unknown keys in the
    /// driver's namespaces, see [`Validator`](crate::Validator)), it reads the
    /// generic `force_persistent_boot_device` ([`BootPersistence`]) and gives it to
    /// the node's management layer; a bad value is reported with the driver's
    /// problems.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`] / [`ErrorKind::InvalidParameter`] listing
    /// every problem of `info`; other kinds only as the driver's build documents.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, ErrorKind, NodeContext};
    /// let info = DriverInfo::from_pairs([("fake_power_state", "dim"),
    ///     ("force_persistent_boot_device", "Sometimes")]);
    /// let err = hwctl_core::fake::hardware_type().build(&info, &NodeContext::new("n1")).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(names, ["fake_power_state", "force_persistent_boot_device"]);
    /// ```
    pub fn build(&self, info: &DriverInfo, ctx: &NodeContext) -> Result<Node> {
        let persistence = BootPersistence::from_driver_info(info);
        // The node stays where the builder put it (no copy through a tuple or
        // `map`: a node is a few hundred bytes, built once per node of a sweep).
        let mut built = (self.build)(info, ctx);
        match persistence {
            Ok(p) => {
                if let Ok(node) = &mut built {
                    node.set_boot_persistence(p);
                    return built;
                }
            }
            Err(p) => {
                built = Err(match built {
                    Ok(_) => p,
                    Err(e) => merge_problems(e, p),
                });
            }
        }
        built.map_err(|e| e.or_driver(self.name.clone()))
    }
}

/// The hardware types an orchestrator has chosen to enable, filled explicitly.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry};
/// let mut registry = Registry::new();
/// registry.register(hwctl_core::fake::hardware_type());
/// let node = registry.build("fake-hardware", &DriverInfo::new(), &NodeContext::new("n1")).unwrap();
/// assert_eq!(node.hardware_type(), "fake-hardware");
/// // An unknown hardware type name is an input error, with a did-you-mean.
/// let err = registry.build("Fake-Hardware", &DriverInfo::new(), &NodeContext::new("n1")).unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
/// assert_eq!(err.problems()[0].name, "driver");
/// assert!(err.to_string().ends_with("did you mean `fake-hardware`?"), "{err}");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    types: BTreeMap<String, HardwareType>,
    boot: BTreeMap<String, BootInterface>,
}

impl Registry {
    /// An empty registry: no hardware type is enabled until registered.
    ///
    /// ```
    /// let registry = hwctl_core::Registry::new();
    /// assert_eq!(registry.hardware_types().count(), 0);
    /// ```
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds (or replaces) a hardware type under its name.
    ///
    /// ```
    /// let mut registry = hwctl_core::Registry::new();
    /// registry.register(hwctl_core::fake::hardware_type())
    ///     .register(hwctl_core::fake::hardware_type());
    /// assert_eq!(registry.hardware_types().count(), 1);
    /// ```
    pub fn register(&mut self, hardware_type: HardwareType) -> &mut Self {
        self.types
            .insert(hardware_type.name().to_owned(), hardware_type);
        self
    }

    /// The hardware type called `name` (exactly: names are case-sensitive, as
    /// Ironic's are).
    ///
    /// # Errors
    ///
    /// An unknown name is the node's input error (its `driver` field names no
    /// hardware type enabled here): [`ErrorKind::InvalidParameter`] naming
    /// `driver`, listing the enabled types and, when one is close
    /// ([`Registry::suggest`]), asking "did you mean `…`?".
    ///
    /// ```
    /// use hwctl_core::{ErrorKind, Registry};
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_core::fake::hardware_type());
    /// assert_eq!(registry.get("fake-hardware")?.name(), "fake-hardware");
    /// let err = registry.get("ipmi").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert!(err.kind().is_input_error());
    /// assert_eq!(err.to_string(),
    ///     "invalid parameters: driver: no hardware type \"ipmi\" (enabled: fake-hardware)");
    /// let err = registry.get("fake-hardwre").unwrap_err();
    /// assert!(err.to_string().ends_with("; did you mean `fake-hardware`?"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn get(&self, name: &str) -> Result<&HardwareType> {
        self.types.get(name).ok_or_else(|| self.unknown_type(name))
    }

    /// The enabled hardware type a user probably meant by `name`, which names
    /// none: the same name in another case (`IPMI` → `ipmi`), the name without
    /// its `staging-` or vendor prefix (`iboot` → `staging-iboot`, `ocs` →
    /// `msftocs`), or a close spelling by the Jaro-Winkler rule of unknown
    /// `driver_info` keys ([`did_you_mean`](crate::driver_info::did_you_mean):
    /// `ipmitool` → `ipmi`).
    ///
    /// ```
    /// let mut registry = hwctl_core::Registry::new();
    /// registry.register(hwctl_core::fake::hardware_type());
    /// assert_eq!(registry.suggest("FAKE-HARDWARE"), Some("fake-hardware"));
    /// assert_eq!(registry.suggest("hardware"), Some("fake-hardware"));
    /// assert_eq!(registry.suggest("fake-hardwar"), Some("fake-hardware"));
    /// assert_eq!(registry.suggest("zzzz"), None);
    /// ```
    pub fn suggest(&self, name: &str) -> Option<&str> {
        suggest_among(
            name,
            &self.types.keys().map(String::as_str).collect::<Vec<_>>(),
        )
    }

    fn unknown_type(&self, name: &str) -> Error {
        let mut reason = format!(
            "no hardware type {name:?} (enabled: {})",
            join_or_none(self.types.keys())
        );
        if let Some(close) = self.suggest(name) {
            reason.push_str(&format!("; did you mean `{close}`?"));
        } else if let Some(hint) = ironic_counterpart(name) {
            reason.push_str(&format!("; {hint}"));
        }
        Error::invalid_parameter("driver", reason)
    }

    /// Every registered hardware type, by name.
    ///
    /// ```
    /// let mut registry = hwctl_core::Registry::new();
    /// registry.register(hwctl_core::fake::hardware_type());
    /// let names: Vec<_> = registry.hardware_types().map(|t| t.name()).collect();
    /// assert_eq!(names, ["fake-hardware"]);
    /// ```
    pub fn hardware_types(&self) -> impl Iterator<Item = &HardwareType> {
        self.types.values()
    }

    /// Validates `info` for hardware type `name` and builds the node, with the
    /// type's default boot interface (see [`Registry::build_node`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{DriverInfo, NodeContext, PowerExt, PowerState, Registry};
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_core::fake::hardware_type());
    /// let info = DriverInfo::from_pairs([("fake_power_state", "on")]);
    /// let node = registry.build("fake-hardware", &info, &NodeContext::new("n1"))?;
    /// node.power()?.power_off().await?;
    /// assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `driver` for an unknown type (see
    /// [`Registry::get`]); the build's errors (see [`HardwareType::build`]).
    pub fn build(&self, name: &str, info: &DriverInfo, ctx: &NodeContext) -> Result<Node> {
        self.build_node(name, info, ctx, None)
    }

    /// Adds (or replaces) a boot interface under its name.
    ///
    /// ```
    /// let mut registry = hwctl_core::Registry::new();
    /// registry.register_boot_interface(hwctl_core::fake::boot_interface());
    /// let names: Vec<_> = registry.boot_interfaces().map(|b| b.name()).collect();
    /// assert_eq!(names, ["fake"]);
    /// ```
    pub fn register_boot_interface(&mut self, boot: BootInterface) -> &mut Self {
        self.boot.insert(boot.name().to_owned(), boot);
        self
    }

    /// Every registered boot interface, by name.
    ///
    /// ```
    /// use hwctl_core::{Registry, fake};
    /// let mut registry = Registry::new();
    /// assert_eq!(registry.boot_interfaces().count(), 0);
    /// registry.register_boot_interface(fake::boot_interface());
    /// let names: Vec<&str> = registry.boot_interfaces().map(|b| b.name()).collect();
    /// assert_eq!(names, ["fake"]);
    /// ```
    pub fn boot_interfaces(&self) -> impl Iterator<Item = &BootInterface> {
        self.boot.values()
    }

    /// The boot interface a node of hardware type `hardware_type` gets when none is
    /// asked for: the first the type supports that is registered, or none.
    ///
    /// ```
    /// use hwctl_core::{Registry, fake};
    /// let mut registry = Registry::new();
    /// registry.register(fake::hardware_type()); // supports pxe, ipxe, fake
    /// assert_eq!(registry.default_boot_interface("fake-hardware")?, None);
    /// registry.register_boot_interface(fake::boot_interface());
    /// assert_eq!(registry.default_boot_interface("fake-hardware")?, Some("fake"));
    /// assert!(registry.default_boot_interface("nope").is_err());
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `driver` for an unknown hardware
    /// type (see [`Registry::get`]).
    pub fn default_boot_interface(&self, hardware_type: &str) -> Result<Option<&str>> {
        Ok(self
            .get(hardware_type)?
            .boot_interfaces()
            .iter()
            .find(|b| self.boot.contains_key(b.as_str()))
            .map(String::as_str))
    }

    /// Validates `info` for hardware type `name`, builds the node, and gives it the
    /// boot interface `boot` (Ironic's per-node `boot_interface`), or the type's
    /// default ([`Registry::default_boot_interface`]) when `None`. The boot interface
    /// is handed the node's (layered) management interface.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext, Registry, BootInterface, fake::FakeBoot};
    /// use std::sync::Arc;
    /// let mut r = Registry::new();
    /// r.register(hwctl_core::fake::hardware_type());
    /// r.register_boot_interface(hwctl_core::fake::boot_interface());
    /// let node = r.build_node("fake-hardware", &DriverInfo::new(), &NodeContext::new("n1"), None).unwrap();
    /// assert_eq!(node.boot_interface(), Some("fake"));
    /// let err = r.build_node("fake-hardware", &DriverInfo::new(), &NodeContext::new("n1"), Some("pxe")).unwrap_err();
    /// assert_eq!(err.problems()[0].name, "boot_interface");
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `driver` for an unknown type (see
    /// [`Registry::get`]), or naming `boot_interface` when `boot` is not registered or not supported by the
    /// type; the builds' errors (see [`HardwareType::build`], [`BootInterface::build`]).
    pub fn build_node(
        &self,
        name: &str,
        info: &DriverInfo,
        ctx: &NodeContext,
        boot: Option<&str>,
    ) -> Result<Node> {
        let ht = self.get(name)?;
        let boot_name = match boot {
            Some(b) => {
                if !self.boot.contains_key(b) {
                    return Err(Error::invalid_parameter(
                        "boot_interface",
                        format!(
                            "no boot interface {b:?} is enabled (enabled: {})",
                            join_or_none(self.boot.keys())
                        ),
                    )
                    .with_driver(name.to_owned()));
                }
                if !ht.boot_interfaces().iter().any(|s| s == b) {
                    return Err(Error::invalid_parameter(
                        "boot_interface",
                        format!(
                            "hardware type {name} does not support boot interface {b:?} (supported: {})",
                            join_or_none(ht.boot_interfaces().iter())
                        ),
                    )
                    .with_driver(name.to_owned()));
                }
                Some(b)
            }
            // As `default_boot_interface`, on the type already found.
            None => ht
                .boot_interfaces()
                .iter()
                .find(|b| self.boot.contains_key(b.as_str()))
                .map(String::as_str),
        };
        let iface = boot_name.and_then(|b| self.boot.get(b).map(|i| (b, i)));
        let Some((boot_name, iface)) = iface else {
            // No boot interface: the hardware type's node as it is built.
            return ht.build(info, ctx);
        };
        // The boot interface's keys (`deploy_kernel`, …) share no namespace with the
        // hardware type's: a misspelled one is reported with the driver's problems.
        let boot_keys = info.validator(iface.properties()).finish();
        let node = match (ht.build(info, ctx), boot_keys) {
            (Ok(node), Ok(())) => node,
            (Ok(_), Err(e)) => return Err(e.with_driver(name.to_owned())),
            (Err(e), Ok(())) => return Err(e),
            (Err(e), Err(b)) => return Err(merge_problems(e, b)),
        };
        let boot = iface.build(BootBuild {
            driver_info: info,
            context: ctx,
            management: node.management().ok().cloned(),
        })?;
        Ok(node.with_boot_named(boot_name, boot))
    }

    /// Validates `info` for hardware type `name` without keeping the node (what
    /// `hwctl validate` does; no I/O).
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext, Registry};
    /// let mut registry = Registry::new();
    /// registry.register(hwctl_core::fake::hardware_type());
    /// let ctx = NodeContext::new("n1");
    /// assert!(registry.validate("fake-hardware", &DriverInfo::new(), &ctx).is_ok());
    /// let typo = DriverInfo::from_pairs([("fake_power_stat", "on")]);
    /// let err = registry.validate("fake-hardware", &typo, &ctx).unwrap_err();
    /// assert!(err.to_string().contains("did you mean fake_power_state"));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Registry::build`].
    pub fn validate(&self, name: &str, info: &DriverInfo, ctx: &NodeContext) -> Result<()> {
        self.build(name, info, ctx).map(drop)
    }
}

/// One error with the problems of both, when both are parameter errors (`first`
/// keeps its driver); otherwise `first`.
fn merge_problems(first: Error, second: Error) -> Error {
    if first.problems().is_empty() || second.problems().is_empty() {
        return first;
    }
    let mut problems = first.problems().to_vec();
    problems.extend(second.problems().iter().cloned());
    let merged = Error::from_problems(problems);
    match first.driver() {
        Some(d) => merged.with_driver(d.to_owned()),
        None => merged,
    }
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(String::as_str).collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

/// What to use instead of an Ironic hardware type, or one of the classic drivers
/// Ironic's hardware types replaced (`pxe_ipmitool`), that hw does not have: the hw type
/// that speaks to the same machines, as a sentence for an error; `None` for any
/// other name. From Ironic's hardware type list and the BMCs' own protocols
/// (iDRAC 8 and later, iLO 5 and later, iBMC and XClarity serve Redfish; iRMC
/// and XClarity also IPMI).
///
/// ```
/// use hwctl_core::registry::ironic_counterpart;
/// assert!(ironic_counterpart("idrac").unwrap().contains("`redfish`"));
/// assert!(ironic_counterpart("pxe_ipmitool").unwrap().contains("`ipmi`"));
/// assert_eq!(ironic_counterpart("ipmi"), None);
/// ```
pub fn ironic_counterpart(name: &str) -> Option<String> {
    let lower = name.trim().to_ascii_lowercase();
    let vendor = |t: &str| -> Option<&'static str> {
        Some(match t {
            "idrac" | "drac" => {
                "hw has no `idrac` type: iDRACs (8 and later) serve Redfish, use `redfish` \
                 with its redfish_* keys"
            }
            "ilo" | "ilo5" => {
                "hw has no `ilo` type: iLO 5 and later serve Redfish, use `redfish` with \
                 its redfish_* keys (or `ipmi` where IPMI over LAN is enabled)"
            }
            "irmc" => {
                "hw has no `irmc` type: iRMCs serve IPMI and Redfish, use `ipmi` or `redfish`"
            }
            "ibmc" => "hw has no `ibmc` type: iBMCs serve Redfish, use `redfish`",
            "xclarity" => {
                "hw has no `xclarity` type: XClarity Controllers serve Redfish and IPMI, use \
                 `redfish` or `ipmi`"
            }
            "intel-ipmi" => "use `ipmi` (`staging-nm` for Intel Node Manager's power policies)",
            _ => return None,
        })
    };
    if let Some(hint) = vendor(&lower) {
        return Some(hint.to_owned());
    }
    // Classic drivers: `{pxe,agent,iscsi}_{power}`, the power part naming
    // the hardware type that replaced them.
    let (_, power) = ["pxe_", "agent_", "iscsi_"]
        .iter()
        .find_map(|p| lower.strip_prefix(p).map(|rest| (p, rest)))?;
    let now = match power {
        "ipmitool" | "ipmitool_socat" | "ipminative" => "ipmi",
        "amt" => "staging-amt",
        "iboot" => "staging-iboot",
        "wol" => "staging-wol",
        "msftocs" => "msftocs",
        other => {
            let hint = vendor(other)?;
            return Some(format!(
                "`{lower}` is one of Ironic's classic drivers; {hint}"
            ));
        }
    };
    Some(format!(
        "`{lower}` is one of Ironic's classic drivers, replaced by the \
         hardware type `{now}`: use that"
    ))
}

/// The name among `names` a user probably meant by `name` (the rule of
/// [`Registry::suggest`], for a list of hardware type names): the same name in
/// another case, the name without its `staging-` or vendor prefix, or a close
/// spelling ([`did_you_mean`](crate::driver_info::did_you_mean)).
///
/// ```
/// use hwctl_core::registry::suggest_among;
/// let names = ["ipmi", "staging-iboot", "msftocs"];
/// assert_eq!(suggest_among("IPMI", &names), Some("ipmi"));
/// assert_eq!(suggest_among("iboot", &names), Some("staging-iboot"));
/// assert_eq!(suggest_among("ocs", &names), Some("msftocs"));
/// assert_eq!(suggest_among("ipmitool", &names), Some("ipmi"));
/// assert_eq!(suggest_among("zzzz", &names), None);
/// ```
pub fn suggest_among<'n>(name: &str, names: &[&'n str]) -> Option<&'n str> {
    let lower = name.trim().to_ascii_lowercase();
    let names = || names.iter().copied();
    names()
        .find(|n| n.eq_ignore_ascii_case(&lower))
        .or_else(|| {
            names().find(|n| {
                n.strip_prefix("staging-") == Some(lower.as_str())
                    || (lower.len() >= 3 && n.len() > lower.len() && n.ends_with(lower.as_str()))
            })
        })
        .or_else(|| crate::driver_info::did_you_mean(&lower, names()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BootDevice;
    use crate::ErrorKind;
    use crate::fake;

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.register(fake::hardware_type());
        r.register_boot_interface(fake::boot_interface());
        r
    }

    #[tokio::test]
    async fn boot_interface_is_composed_with_the_nodes_management() {
        let r = registry();
        let ctx = NodeContext::new("n1");
        let node = r.build("fake-hardware", &DriverInfo::new(), &ctx).unwrap();
        assert_eq!(node.boot_interface(), Some("fake"));
        assert!(node.capabilities().boot);
        node.boot()
            .unwrap()
            .prepare_ramdisk(&ctx, &BTreeMap::new())
            .await
            .unwrap();
        let setting = node.management().unwrap().get_boot_device().await.unwrap();
        assert_eq!(setting.device, Some(BootDevice::Pxe));
        assert_eq!(setting.persistent, Some(false));
        node.boot().unwrap().prepare_instance(&ctx).await.unwrap();
        let setting = node.management().unwrap().get_boot_device().await.unwrap();
        assert_eq!(setting.device, Some(BootDevice::Disk));
        assert_eq!(setting.persistent, Some(true));
    }

    #[test]
    fn default_is_the_first_supported_registered_or_none() {
        let mut r = Registry::new();
        r.register(fake::hardware_type());
        assert_eq!(r.default_boot_interface("fake-hardware").unwrap(), None);
        let node = r
            .build("fake-hardware", &DriverInfo::new(), &NodeContext::new("n"))
            .unwrap();
        assert!(node.boot().is_err());
        assert_eq!(node.boot_interface(), None);
        r.register_boot_interface(fake::boot_interface());
        assert_eq!(
            r.default_boot_interface("fake-hardware").unwrap(),
            Some("fake")
        );
        // A registered interface earlier in the type's list wins.
        r.register_boot_interface(BootInterface::new("ipxe", "x", vec![], |b| {
            Ok(Arc::new(fake::FakeBoot::new(b.management.clone())))
        }));
        assert_eq!(
            r.default_boot_interface("fake-hardware").unwrap(),
            Some("ipxe")
        );
        let node = r
            .build_node(
                "fake-hardware",
                &DriverInfo::new(),
                &NodeContext::new("n"),
                Some("fake"),
            )
            .unwrap();
        assert_eq!(node.boot_interface(), Some("fake"));
    }

    #[test]
    fn unknown_or_unsupported_boot_interface_names_the_key() {
        let mut r = registry();
        let e = r
            .build_node(
                "fake-hardware",
                &DriverInfo::new(),
                &NodeContext::new("n"),
                Some("nope"),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.problems()[0].name, "boot_interface");
        r.register_boot_interface(BootInterface::new("http", "x", vec![], |_| {
            Err(Error::protocol("unreachable"))
        }));
        let e = r
            .build_node(
                "fake-hardware",
                &DriverInfo::new(),
                &NodeContext::new("n"),
                Some("http"),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(e.to_string().contains("does not support"), "{e}");
    }
}
