//! A node: its context (id, ports, boot mode) and its interfaces.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::boot::Boot;
use crate::boot_device::{BootMode, BootPersistence};
use crate::capabilities::Capabilities;
use crate::console::Console;
use crate::error::{Error, ErrorKind, Result};
use crate::mac::MacAddress;
use crate::management::Management;
use crate::power::Power;
use crate::vendor::Vendor;

/// What a driver knows of the node besides `driver_info`: Ironic's node fields.
///
/// ```
/// use hwctl_core::{BootMode, NodeContext};
/// let ctx = NodeContext::new("node-1")
///     .with_port("52:54:00:cf:2d:31".parse().unwrap())
///     .with_boot_mode(BootMode::Uefi);
/// assert_eq!(ctx.ports.len(), 1);
/// assert_eq!(ctx.boot_mode(), Some(BootMode::Uefi));
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeContext {
    /// The node's id (name or UUID), for logs and errors.
    pub id: String,
    /// The MACs of the node's ports (Ironic port resources).
    #[serde(default)]
    pub ports: Vec<MacAddress>,
    /// Node `properties/capabilities` as key-value pairs (`boot_mode: uefi`).
    #[serde(default)]
    pub capabilities: BTreeMap<String, String>,
    /// The node's `instance_info` (image, kernel, ramdisk, …) for boot interfaces.
    #[serde(default)]
    pub instance_info: serde_json::Map<String, serde_json::Value>,
}

/// Ironic's string form of a node's `properties/capabilities`
/// (`"boot_mode:uefi,secure_boot:true"`, as `openstack baremetal node show` prints
/// it and Ironic's `capabilities_to_dict` reads it) as key-value pairs: items
/// separated by commas, each exactly one `:` between a non-empty key and its
/// value, spaces around both trimmed; empty items are skipped, and of a key given
/// twice the last value is kept.
///
/// ```
/// let caps = hwctl_core::node::ironic_capabilities("boot_mode:bios,,cpu_vt: true")?;
/// assert_eq!(caps.len(), 2);
/// assert_eq!(caps["cpu_vt"], "true");
/// let err = hwctl_core::node::ironic_capabilities("boot_mode:uefi,secure_boot").unwrap_err();
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
/// assert!(err.to_string().contains("capabilities: item 2 is not KEY:VALUE"));
/// for bad in ["a:b:c", ":uefi", "boot_mode"] {
///     assert!(hwctl_core::node::ironic_capabilities(bad).is_err(), "{bad}");
/// }
/// # Ok::<(), hwctl_core::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] naming `capabilities`, saying which item
/// (counted from 1) is not `KEY:VALUE`; the text is not quoted back.
pub fn ironic_capabilities(text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, item) in text.split(',').enumerate() {
        if item.trim().is_empty() {
            continue;
        }
        let mut parts = item.split(':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(k), Some(v), None) if !k.trim().is_empty() => {
                out.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => {
                return Err(Error::invalid_parameter(
                    "capabilities",
                    format!(
                        "item {} is not KEY:VALUE (Ironic's form is \"boot_mode:uefi,secure_boot:true\")",
                        i + 1
                    ),
                ));
            }
        }
    }
    Ok(out)
}

impl NodeContext {
    /// A context with just an id.
    ///
    /// ```
    /// let ctx = hwctl_core::NodeContext::new("node-1");
    /// assert_eq!(ctx.id, "node-1");
    /// assert!(ctx.ports.is_empty() && ctx.capabilities.is_empty());
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        NodeContext {
            id: id.into(),
            ..Default::default()
        }
    }

    /// Adds a port MAC.
    ///
    /// ```
    /// use hwctl_core::{MacAddress, NodeContext};
    /// let mac: MacAddress = "52:54:00:cf:2d:31".parse()?;
    /// let ctx = NodeContext::new("n1").with_port(mac);
    /// assert_eq!(ctx.require_ports()?, [mac]);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn with_port(mut self, mac: MacAddress) -> Self {
        self.ports.push(mac);
        self
    }

    /// Sets the `boot_mode` capability.
    ///
    /// ```
    /// use hwctl_core::{BootMode, NodeContext};
    /// let ctx = NodeContext::new("n1").with_boot_mode(BootMode::Bios);
    /// assert_eq!(ctx.capabilities["boot_mode"], "bios");
    /// ```
    pub fn with_boot_mode(mut self, mode: BootMode) -> Self {
        self.capabilities
            .insert("boot_mode".to_owned(), mode.as_str().to_owned());
        self
    }

    /// Adds the capabilities of Ironic's string form (see [`ironic_capabilities`]):
    /// a node's `properties/capabilities` as Ironic stores and prints it. A key
    /// already set is replaced.
    ///
    /// ```
    /// use hwctl_core::{BootMode, NodeContext};
    /// let ctx = NodeContext::new("n1").with_ironic_capabilities("boot_mode:uefi, secure_boot:true")?;
    /// assert_eq!(ctx.boot_mode(), Some(BootMode::Uefi));
    /// assert_eq!(ctx.capabilities["secure_boot"], "true");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming `capabilities`, as
    /// [`ironic_capabilities`].
    pub fn with_ironic_capabilities(mut self, text: &str) -> Result<Self> {
        self.capabilities.extend(ironic_capabilities(text)?);
        Ok(self)
    }

    /// The `boot_mode` capability, if set and valid.
    ///
    /// ```
    /// use hwctl_core::{BootMode, NodeContext};
    /// let mut ctx = NodeContext::new("n1");
    /// assert_eq!(ctx.boot_mode(), None);
    /// ctx.capabilities.insert("boot_mode".into(), "uefi".into());
    /// assert_eq!(ctx.boot_mode(), Some(BootMode::Uefi));
    /// ctx.capabilities.insert("boot_mode".into(), "floppy".into());
    /// assert_eq!(ctx.boot_mode(), None); // not a boot mode
    /// ```
    pub fn boot_mode(&self) -> Option<BootMode> {
        self.capabilities
            .get("boot_mode")
            .and_then(|m| m.parse().ok())
    }

    /// Fails with a missing-parameter error naming `ports` when the node has no port.
    ///
    /// ```
    /// assert!(hwctl_core::NodeContext::new("n").require_ports().is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingParameter`] naming `ports`.
    pub fn require_ports(&self) -> Result<&[MacAddress]> {
        if self.ports.is_empty() {
            Err(Error::missing_parameters(["ports"]))
        } else {
            Ok(&self.ports)
        }
    }
}

/// One node's interfaces, built by a [`HardwareType`](crate::HardwareType) (usually
/// through a [`Registry`](crate::Registry)).
///
/// Each interface is an `Arc<dyn …>` so a node can be shared across tasks; an
/// interface the hardware type does not have returns `Unsupported`.
///
/// Every interface given to a node is wrapped in the same layers: what its
/// capabilities do not list fails with `Unsupported` before the driver is called;
/// errors name the node's hardware type as driver and the interface operation
/// (`power on`, `set boot device`) as operation, keeping a wire operation in the
/// message; vendor arguments are checked against the method's input schema.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::{Node, NodeContext, PowerExt, PowerState, fake::FakePower};
/// let node = Node::new("fake-hardware", NodeContext::new("n1"))
///     .with_power(Arc::new(FakePower::new(PowerState::Off)));
/// node.power()?.power_on().await?;
/// assert!(node.console().is_err());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    /// Shared with the layers of its interfaces (no copy per interface).
    hardware_type: Arc<str>,
    context: NodeContext,
    power: Option<Arc<dyn Power>>,
    management: Option<Arc<dyn Management>>,
    console: Option<Arc<dyn Console>>,
    vendor: Option<Arc<dyn Vendor>>,
    boot: Option<Arc<dyn Boot>>,
    boot_name: Option<String>,
    persistence: BootPersistence,
    /// The interfaces as the driver gave them, without the layers: the conformance
    /// suite checks these, so a driver that would misbehave without the layers (as
    /// a static user, who calls it directly, would see it) still fails.
    raw: RawInterfaces,
}

#[derive(Clone, Default)]
pub(crate) struct RawInterfaces {
    pub(crate) power: Option<Arc<dyn Power>>,
    pub(crate) management: Option<Arc<dyn Management>>,
    pub(crate) console: Option<Arc<dyn Console>>,
    pub(crate) vendor: Option<Arc<dyn Vendor>>,
    pub(crate) boot: Option<Arc<dyn Boot>>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("hardware_type", &self.hardware_type)
            .field("id", &self.context.id)
            .field("power", &self.power)
            .field("management", &self.management)
            .field("console", &self.console)
            .field("vendor", &self.vendor)
            .field("boot", &self.boot)
            .field("boot_interface", &self.boot_name)
            .field("boot_persistence", &self.persistence)
            .finish()
    }
}

macro_rules! interface {
    ($get:ident, $with:ident, $field:ident, $tr:ident, $layer:ident, $name:literal,
     $get_example:literal, $with_example:literal) => {
        #[doc = concat!("The ", $name, " interface, or `Unsupported` if the hardware type has none.")]
        ///
        #[doc = $get_example]
        ///
        /// # Errors
        ///
        /// [`ErrorKind::Unsupported`] when the hardware type has no such interface.
        pub fn $get(&self) -> Result<&Arc<dyn $tr>> {
            self.$field.as_ref().ok_or_else(|| self.no_interface($name))
        }

        #[doc = concat!("Sets the ", $name, " interface, wrapped in the layers every interface of a node gets (see [`Node`]).")]
        ///
        #[doc = $with_example]
        #[inline]
        pub fn $with(mut self, iface: Arc<dyn $tr>) -> Self {
            self.raw.$field = Some(iface.clone());
            self.$field = Some(Arc::new(crate::layers::$layer {
                inner: iface,
                driver: Arc::clone(&self.hardware_type),
            }));
            self
        }
    };
}

impl Node {
    /// A node with no interfaces yet.
    ///
    /// ```
    /// use hwctl_core::{ErrorKind, Node, NodeContext};
    /// let node = Node::new("my-hardware", NodeContext::new("n1"));
    /// assert_eq!(node.hardware_type(), "my-hardware");
    /// assert_eq!(node.power().unwrap_err().kind(), ErrorKind::Unsupported);
    /// ```
    #[inline]
    pub fn new(hardware_type: impl Into<String>, context: NodeContext) -> Self {
        Node {
            hardware_type: Arc::from(hardware_type.into()),
            context,
            power: None,
            management: None,
            console: None,
            vendor: None,
            boot: None,
            boot_name: None,
            persistence: BootPersistence::Default,
            raw: RawInterfaces::default(),
        }
    }

    interface!(
        power,
        with_power,
        power,
        Power,
        LayeredPower,
        "power",
        r#"```
# #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
use hwctl_core::{DriverInfo, ErrorKind, Node, NodeContext, PowerState, fake};
let node = fake::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n1"))?;
assert_eq!(node.power()?.get_power_state().await?, PowerState::Off);
let bare = Node::new("none", NodeContext::new("n2"));
assert_eq!(bare.power().unwrap_err().kind(), ErrorKind::Unsupported);
# Ok(()) }
```"#,
        r#"```
# #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
use std::sync::Arc;
use hwctl_core::{ErrorKind, Node, NodeContext, PowerCapabilities, PowerState, PowerTarget};
use hwctl_core::{fake::FakePower, Power};
#[derive(Debug)]
struct OnOnly(FakePower);
#[hwctl_core::async_trait]
impl Power for OnOnly {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities { can_query: true, targets: vec![PowerTarget::On], recorded_only: vec![] }
    }
    async fn get_power_state(&self) -> hwctl_core::Result<PowerState> {
        self.0.get_power_state().await
    }
    async fn set_power_state(&self, t: PowerTarget, d: Option<std::time::Duration>) -> hwctl_core::Result<()> {
        self.0.set_power_state(t, d).await
    }
}
let node = Node::new("on-only", NodeContext::new("n1"))
    .with_power(Arc::new(OnOnly(FakePower::new(PowerState::On))));
// The layers refuse what the capabilities do not list, before the driver runs.
let err = node.power()?.set_power_state(PowerTarget::Off, None).await.unwrap_err();
assert_eq!(err.kind(), ErrorKind::Unsupported);
assert_eq!(err.driver(), Some("on-only"));
# Ok(()) }
```"#
    );
    /// The management interface, or `Unsupported` if the hardware type has none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{BootMode, DriverInfo, NodeContext, fake};
    /// let node = fake::hardware_type().build(&DriverInfo::default(), &NodeContext::new("n1"))?;
    /// node.management()?.set_boot_mode(BootMode::Uefi).await?;
    /// assert_eq!(node.management()?.get_boot_mode().await?, Some(BootMode::Uefi));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unsupported`] when the hardware type has no such interface.
    pub fn management(&self) -> Result<&Arc<dyn Management>> {
        self.management
            .as_ref()
            .ok_or_else(|| self.no_interface("management"))
    }

    /// Sets the management interface, wrapped in the layers every interface of a
    /// node gets (see [`Node`]), with the node's boot persistence
    /// ([`Node::with_boot_persistence`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::{BootDevice, ErrorKind, Node, NodeContext, fake::FakeManagement};
    /// let node = Node::new("fake-hardware", NodeContext::new("n1"))
    ///     .with_management(Arc::new(FakeManagement::default()));
    /// let err = node.management()?.set_boot_device(BootDevice::Floppy, true).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unsupported);
    /// assert_eq!(err.driver(), Some("fake-hardware")); // named by the layers
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn with_management(mut self, iface: Arc<dyn Management>) -> Self {
        self.set_management(iface);
        self
    }

    /// [`Node::with_management`] in place.
    fn set_management(&mut self, iface: Arc<dyn Management>) {
        self.raw.management = Some(iface.clone());
        self.management = Some(Arc::new(crate::layers::LayeredManagement {
            inner: iface,
            driver: Arc::clone(&self.hardware_type),
            persistence: self.persistence,
        }));
    }

    /// Applies Ironic's `force_persistent_boot_device` to every boot device the
    /// node's management interface sets from now on (see [`BootPersistence`]).
    /// [`HardwareType::build`](crate::HardwareType::build) calls it with the
    /// node's `driver_info`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::{BootDevice, BootPersistence, Node, NodeContext, fake::FakeManagement};
    /// let node = Node::new("fake-hardware", NodeContext::new("n1"))
    ///     .with_management(Arc::new(FakeManagement::default()))
    ///     .with_boot_persistence(BootPersistence::Always);
    /// let m = node.management()?;
    /// m.set_boot_device(BootDevice::Pxe, false).await?;
    /// assert_eq!(m.get_boot_device().await?.persistent, Some(true));
    /// # Ok(()) }
    /// ```
    pub fn with_boot_persistence(mut self, persistence: BootPersistence) -> Self {
        self.set_boot_persistence(persistence);
        self
    }

    /// [`Node::with_boot_persistence`] in place.
    pub(crate) fn set_boot_persistence(&mut self, persistence: BootPersistence) {
        if persistence == self.persistence {
            return;
        }
        self.persistence = persistence;
        if let Some(raw) = self.raw.management.take() {
            self.set_management(raw);
        }
    }

    /// The node's boot persistence (Ironic's `force_persistent_boot_device`).
    ///
    /// ```
    /// use hwctl_core::{BootPersistence, DriverInfo, NodeContext, fake};
    /// let info = DriverInfo::from_pairs([("force_persistent_boot_device", "Never")]);
    /// let node = fake::hardware_type().build(&info, &NodeContext::new("n1"))?;
    /// assert_eq!(node.boot_persistence(), BootPersistence::Never);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn boot_persistence(&self) -> BootPersistence {
        self.persistence
    }
    interface!(
        console,
        with_console,
        console,
        Console,
        LayeredConsole,
        "console",
        r#"```
# #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
use hwctl_core::{DriverInfo, NodeContext, fake};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
let node = fake::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n1"))?;
let mut console = node.console()?.open().await?;
console.write_all(b"\r").await.unwrap();
let mut echoed = [0u8; 1];
console.read_exact(&mut echoed).await.unwrap();
assert_eq!(&echoed, b"\r");
# Ok(()) }
```"#,
        r#"```
use std::sync::Arc;
use hwctl_core::{Node, NodeContext, fake::FakeConsole};
let node = Node::new("fake-hardware", NodeContext::new("n1"))
    .with_console(Arc::new(FakeConsole::default()));
assert!(node.capabilities().console);
```"#
    );
    interface!(
        vendor,
        with_vendor,
        vendor,
        Vendor,
        LayeredVendor,
        "vendor",
        r#"```
# #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
use hwctl_core::{DriverInfo, HttpMethod, NodeContext, fake};
use serde_json::json;
let node = fake::hardware_type().build(&DriverInfo::new(), &NodeContext::new("n1"))?;
let out = node.vendor()?.call("echo", HttpMethod::Post, json!({"x": 1})).await?;
assert_eq!(out, json!({"echo": {"x": 1}}));
# Ok(()) }
```"#,
        r#"```
# #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
use std::sync::Arc;
use hwctl_core::{ErrorKind, HttpMethod, Node, NodeContext, fake::FakeVendor};
let node = Node::new("fake-hardware", NodeContext::new("n1"))
    .with_vendor(Arc::new(FakeVendor::default()));
assert_eq!(node.capabilities().vendor[0].name, "echo");
// The layers check the arguments against the method's input schema.
let err = node.vendor()?.call("echo", HttpMethod::Post, serde_json::json!([1])).await.unwrap_err();
assert_eq!(err.kind(), ErrorKind::InvalidParameter);
# Ok(()) }
```"#
    );
    interface!(
        boot,
        with_boot,
        boot,
        Boot,
        LayeredBoot,
        "boot",
        r#"```
# #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
use hwctl_core::{BootDevice, DriverInfo, NodeContext, Registry, fake};
let mut registry = Registry::new();
registry.register(fake::hardware_type());
registry.register_boot_interface(fake::boot_interface());
let ctx = NodeContext::new("n1");
let node = registry.build_node("fake-hardware", &DriverInfo::new(), &ctx, Some("fake"))?;
node.boot()?.prepare_ramdisk(&ctx, &Default::default()).await?;
assert_eq!(node.management()?.get_boot_device().await?.device, Some(BootDevice::Pxe));
# Ok(()) }
```"#,
        r#"```
use std::sync::Arc;
use hwctl_core::{Node, NodeContext, fake::FakeBoot};
let node = Node::new("fake-hardware", NodeContext::new("n1"))
    .with_boot(Arc::new(FakeBoot::new(None)));
assert!(node.capabilities().boot);
assert_eq!(node.boot_interface(), None); // unnamed: see `with_boot_named`
```"#
    );

    /// Sets the boot interface and records its name (Ironic's `boot_interface`),
    /// as [`Registry::build_node`](crate::Registry::build_node) does.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::{Node, NodeContext, fake::FakeBoot};
    /// let node = Node::new("fake-hardware", NodeContext::new("n1"))
    ///     .with_boot_named("fake", Arc::new(FakeBoot::new(None)));
    /// assert_eq!(node.boot_interface(), Some("fake"));
    /// assert!(node.boot().is_ok());
    /// ```
    pub fn with_boot_named(mut self, name: impl Into<String>, iface: Arc<dyn Boot>) -> Self {
        self = self.with_boot(iface);
        self.boot_name = Some(name.into());
        self
    }

    /// The name of the node's boot interface (`pxe`), when it was set by name.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext, Registry, fake};
    /// let mut registry = Registry::new();
    /// registry.register(fake::hardware_type());
    /// let ctx = NodeContext::new("n1");
    /// let node = registry.build("fake-hardware", &DriverInfo::default(), &ctx)?;
    /// assert_eq!(node.boot_interface(), None); // no boot interface registered
    /// registry.register_boot_interface(fake::boot_interface());
    /// let node = registry.build_node("fake-hardware", &DriverInfo::default(), &ctx, Some("fake"))?;
    /// assert_eq!(node.boot_interface(), Some("fake"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn boot_interface(&self) -> Option<&str> {
        self.boot_name.as_deref()
    }

    fn no_interface(&self, name: &str) -> Error {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "hardware type {} has no {name} interface",
                self.hardware_type
            ),
        )
        .with_driver(String::from(&*self.hardware_type))
    }

    /// The interfaces without the layers (for the conformance suite).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn raw(&self) -> &RawInterfaces {
        &self.raw
    }

    /// The hardware type's name.
    ///
    /// ```
    /// use hwctl_core::{DriverInfo, NodeContext, fake};
    /// let node = fake::hardware_type().build(&DriverInfo::default(), &NodeContext::new("n1"))?;
    /// assert_eq!(node.hardware_type(), "fake-hardware");
    /// assert_eq!(node.id(), "n1");
    /// assert_eq!(node.context().id, "n1");
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn hardware_type(&self) -> &str {
        &self.hardware_type
    }

    /// The node's context.
    ///
    /// ```
    /// use hwctl_core::{BootMode, DriverInfo, NodeContext, fake};
    /// let ctx = NodeContext::new("n1").with_boot_mode(BootMode::Uefi);
    /// let node = fake::hardware_type().build(&DriverInfo::new(), &ctx)?;
    /// assert_eq!(node.context(), &ctx);
    /// assert_eq!(node.context().boot_mode(), Some(BootMode::Uefi));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn context(&self) -> &NodeContext {
        &self.context
    }

    /// The node's id.
    ///
    /// ```
    /// use hwctl_core::{Node, NodeContext};
    /// assert_eq!(Node::new("fake-hardware", NodeContext::new("rack1-node7")).id(), "rack1-node7");
    /// ```
    pub fn id(&self) -> &str {
        &self.context.id
    }

    /// What every interface of this node can do.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use hwctl_core::{Node, NodeContext, PowerState, fake::FakePower};
    /// let node = Node::new("fake-hardware", NodeContext::new("n1"))
    ///     .with_power(Arc::new(FakePower::new(PowerState::On)));
    /// let caps = node.capabilities();
    /// assert!(caps.power.is_some_and(|p| p.can_query));
    /// assert!(caps.management.is_none() && !caps.console && caps.vendor.is_empty());
    /// ```
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            power: self.power.as_ref().map(|p| p.capabilities()),
            management: self.management.as_ref().map(|m| m.capabilities()),
            console: self.console.is_some(),
            vendor: self
                .vendor
                .as_ref()
                .map(|v| v.methods())
                .unwrap_or_default(),
            boot: self.boot.is_some(),
        }
    }
}
