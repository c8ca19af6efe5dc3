//! Hardware types and the registry an orchestrator fills and builds nodes from.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::driver_info::{DriverInfo, Property};
use crate::error::{Error, ErrorKind, Result};
use crate::node::{Node, NodeContext};

/// An interface a hardware type can provide.
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
    /// The lower-case name (`power`, …).
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
/// use hw_core::{HardwareType, InterfaceKind, Node, Property, fake::FakePower, PowerState};
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
    build: Arc<BuildFn>,
}

impl fmt::Debug for HardwareType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HardwareType")
            .field("name", &self.name)
            .field("interfaces", &self.interfaces)
            .field(
                "properties",
                &self.properties.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HardwareType {
    /// Describes a hardware type.
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
            build: Arc::new(build),
        }
    }

    /// The name (`staging-iboot`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A one-line description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The interfaces its nodes have.
    pub fn interfaces(&self) -> &[InterfaceKind] {
        &self.interfaces
    }

    /// The `driver_info` properties it reads.
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// Validates `info` and builds a node. Errors carry this type's name as driver.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`] / [`ErrorKind::InvalidParameter`] listing
    /// every problem of `info`; other kinds only as the driver's build documents.
    pub fn build(&self, info: &DriverInfo, ctx: &NodeContext) -> Result<Node> {
        (self.build)(info, ctx).map_err(|e| e.or_driver(self.name.clone()))
    }
}

/// The hardware types an orchestrator has chosen to enable, filled explicitly.
///
/// ```
/// use hw_core::{DriverInfo, NodeContext, Registry};
/// let mut registry = Registry::new();
/// registry.register(hw_core::fake::hardware_type());
/// let node = registry.build("fake-hardware", &DriverInfo::new(), &NodeContext::new("n1")).unwrap();
/// assert_eq!(node.hardware_type(), "fake-hardware");
/// assert_eq!(registry.build("nope", &DriverInfo::new(), &NodeContext::new("n1")).unwrap_err().kind(),
///            hw_core::ErrorKind::NotFound);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    types: BTreeMap<String, HardwareType>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds (or replaces) a hardware type under its name.
    pub fn register(&mut self, hardware_type: HardwareType) -> &mut Self {
        self.types
            .insert(hardware_type.name().to_owned(), hardware_type);
        self
    }

    /// The hardware type called `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] listing the enabled types.
    pub fn get(&self, name: &str) -> Result<&HardwareType> {
        self.types.get(name).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "no hardware type {name:?} (enabled: {})",
                    self.types.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }

    /// Every registered hardware type, by name.
    pub fn hardware_types(&self) -> impl Iterator<Item = &HardwareType> {
        self.types.values()
    }

    /// Validates `info` for hardware type `name` and builds the node.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] for an unknown type; the build's errors (see
    /// [`HardwareType::build`]).
    pub fn build(&self, name: &str, info: &DriverInfo, ctx: &NodeContext) -> Result<Node> {
        self.get(name)?.build(info, ctx)
    }

    /// Validates `info` for hardware type `name` without keeping the node.
    ///
    /// # Errors
    ///
    /// As [`Registry::build`].
    pub fn validate(&self, name: &str, info: &DriverInfo, ctx: &NodeContext) -> Result<()> {
        self.build(name, info, ctx).map(drop)
    }
}
