//! The `fake-hardware` type: in-memory power, management, console and vendor
//! interfaces with configurable delays and failures, for orchestrator tests and demos.
//!
//! `driver_info` keys (all optional):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `fake_power_state` | initial power state, `on` or `off` | `off` |
//! | `fake_delay_ms` | delay of every device operation, in milliseconds (0–600000) | `0` |
//! | `fake_fail` | comma-separated operations that fail with a device fault: `get_power`, `set_power`, `get_boot`, `set_boot`, `console`, `vendor` | none |
//!
//! State lives in memory, per node object: two `Node`s built from the same
//! `driver_info` do not share it.
//!
//! Its power goes through the same engine as every driver's
//! ([`PowerSwitch`]): a change reads, plans, applies and confirms under the
//! caller's deadline, so a fake slower than the deadline fails as a real device
//! would (`Timeout` before the change was sent, decision 99).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::boot_device::{BootDevice, BootDeviceSetting, BootMode};
use crate::capabilities::{
    Capabilities, ManagementCapabilities, PowerCapabilities, TypeCapabilities,
};
use crate::console::{Console, ConsoleHandle};
use crate::driver_info::Property;
use crate::error::{Error, ErrorKind, Result};
use crate::management::{Management, ensure_boot_device};
use crate::node::Node;
use crate::power::{PowerAction, PowerSwitch};
use crate::power::{PowerState, PowerTarget};
use crate::registry::{HardwareType, InterfaceKind};
use crate::sensors::{SensorKind, SensorReading};
use crate::vendor::{HttpMethod, Vendor, VendorMethod, find_method};

/// The hardware type's name.
pub const NAME: &str = "fake-hardware";

/// The properties `fake-hardware` reads.
pub const PROPERTIES: &[Property] = &[
    Property::optional("fake_power_state", "Initial power state: on or off.").default_value("off"),
    Property::optional(
        "fake_delay_ms",
        "Delay of every device operation, in milliseconds.",
    )
    .default_value("0"),
    Property::optional(
        "fake_fail",
        "Comma-separated operations that fail: get_power, set_power, get_boot, set_boot, console, vendor.",
    ),
];

const FAILABLE: &[&str] = &[
    "get_power",
    "set_power",
    "get_boot",
    "set_boot",
    "console",
    "vendor",
];

/// Behaviour shared by the fake interfaces of one node.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::time::Duration;
/// use hwctl_core::{ErrorKind, Power, PowerExt, PowerState, PowerTarget};
/// use hwctl_core::fake::{FakeConfig, FakePower};
/// let config = FakeConfig {
///     delay: Duration::from_millis(50),
///     fail: ["set_power".to_owned()].into(),
/// };
/// let power = FakePower::with_config(PowerState::Off, config);
/// assert_eq!(power.get_power_state().await?, PowerState::Off);
/// assert_eq!(power.power_on().await.unwrap_err().kind(), ErrorKind::DeviceFault);
/// // A delay longer than the caller's timeout: the first read does not finish,
/// // so no change was sent (the power engine's `Timeout`).
/// let slow = FakePower::with_config(PowerState::Off, FakeConfig { delay: Duration::from_secs(5), ..Default::default() });
/// let err = slow.set_power_state(PowerTarget::On, Some(Duration::from_millis(10))).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert!(err.message().contains("no power change was requested"), "{err}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct FakeConfig {
    /// Delay of every device operation.
    pub delay: Duration,
    /// Operations that fail with [`ErrorKind::DeviceFault`] (see the module docs).
    pub fail: BTreeSet<String>,
}

impl FakeConfig {
    async fn operate(&self, op: &'static str) -> Result<()> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if self.fail.contains(op) {
            return Err(
                Error::new(ErrorKind::DeviceFault, format!("injected failure of {op}"))
                    .with_driver(NAME),
            );
        }
        Ok(())
    }
}

/// In-memory power: every target, state changes after the configured delay,
/// driven by the power engine ([`PowerSwitch`]; [`Power`](crate::Power) comes with it).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Power, PowerExt, PowerState, PowerTarget, fake::FakePower};
/// let power = FakePower::new(PowerState::On);
/// power.set_power_state(PowerTarget::Reboot, None).await?;
/// assert_eq!(power.get_power_state().await?, PowerState::On);
/// assert_eq!(power.changes(), 1); // a reboot always acts
/// power.power_off().await?;
/// assert_eq!(power.get_power_state().await?, PowerState::Off);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FakePower {
    config: FakeConfig,
    state: Mutex<PowerState>,
    changes: AtomicU64,
}

impl FakePower {
    /// A fake starting in `state`, with no delay and no failures.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Power, PowerState, fake::FakePower};
    /// let power = FakePower::new(PowerState::Off);
    /// assert_eq!(power.get_power_state().await?, PowerState::Off);
    /// assert!(power.capabilities().can_query);
    /// # Ok(()) }
    /// ```
    pub fn new(state: PowerState) -> Self {
        FakePower::with_config(state, FakeConfig::default())
    }

    /// A fake starting in `state` with `config`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{ErrorKind, Power, PowerState, fake::{FakeConfig, FakePower}};
    /// let config = FakeConfig { fail: ["get_power".to_owned()].into(), ..Default::default() };
    /// let power = FakePower::with_config(PowerState::On, config);
    /// assert_eq!(power.get_power_state().await.unwrap_err().kind(), ErrorKind::DeviceFault);
    /// # Ok(()) }
    /// ```
    pub fn with_config(state: PowerState, config: FakeConfig) -> Self {
        FakePower {
            config,
            state: Mutex::new(state),
            changes: AtomicU64::new(0),
        }
    }

    /// How many times the device state was actually changed (idempotent sets that
    /// were skipped do not count).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use hwctl_core::{PowerExt, PowerState, fake::FakePower};
    /// let p = FakePower::new(PowerState::On);
    /// p.power_on().await.unwrap();
    /// assert_eq!(p.changes(), 0);
    /// # }
    /// ```
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl PowerSwitch for FakePower {
    fn driver(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }
    }

    async fn read(&self) -> Result<PowerState> {
        self.config.operate("get_power").await?;
        Ok(*self.state.lock().await)
    }

    async fn apply(&self, action: PowerAction) -> Result<()> {
        self.config.operate("set_power").await?;
        *self.state.lock().await = action.final_state();
        self.changes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The state is set when [`apply`](Self::apply) returns, so the first
    /// confirming read finds it; a short interval keeps a configured delay the
    /// only wait.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(10)
    }
}

/// In-memory management: pxe, disk, cdrom, bios and safe; both boot modes; sensors; NMI.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{BootDevice, Management, fake::FakeManagement};
/// let mgmt = FakeManagement::default();
/// mgmt.set_boot_device(BootDevice::Cdrom, false).await?;
/// let next = mgmt.get_boot_device().await?;
/// assert_eq!((next.device, next.persistent), (Some(BootDevice::Cdrom), Some(false)));
/// assert_eq!(mgmt.get_sensors().await?.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct FakeManagement {
    config: FakeConfig,
    boot: Mutex<(BootDeviceSetting, Option<BootMode>)>,
    nmis: AtomicU64,
}

impl FakeManagement {
    /// A fake with `config`, booting from disk persistently in BIOS mode.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{BootDevice, BootMode, ErrorKind, Management};
    /// use hwctl_core::fake::{FakeConfig, FakeManagement};
    /// let config = FakeConfig { fail: ["set_boot".to_owned()].into(), ..Default::default() };
    /// let mgmt = FakeManagement::with_config(config);
    /// assert_eq!(mgmt.get_boot_device().await?.device, Some(BootDevice::Disk));
    /// assert_eq!(mgmt.get_boot_mode().await?, Some(BootMode::Bios));
    /// let err = mgmt.set_boot_device(BootDevice::Pxe, true).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::DeviceFault);
    /// # Ok(()) }
    /// ```
    pub fn with_config(config: FakeConfig) -> Self {
        FakeManagement {
            config,
            boot: Mutex::new((
                BootDeviceSetting::new(BootDevice::Disk, true),
                Some(BootMode::Bios),
            )),
            nmis: AtomicU64::new(0),
        }
    }

    /// How many NMIs were injected.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Management, fake::FakeManagement};
    /// let mgmt = FakeManagement::default();
    /// assert_eq!(mgmt.nmis(), 0);
    /// mgmt.inject_nmi().await?;
    /// mgmt.inject_nmi().await?;
    /// assert_eq!(mgmt.nmis(), 2);
    /// # Ok(()) }
    /// ```
    pub fn nmis(&self) -> u64 {
        self.nmis.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Management for FakeManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: vec![
                BootDevice::Pxe,
                BootDevice::Disk,
                BootDevice::Cdrom,
                BootDevice::Bios,
                BootDevice::Safe,
            ],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![BootMode::Bios, BootMode::Uefi],
            can_get_boot_mode: true,
            sensors: true,
            nmi: true,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        self.config.operate("get_boot").await?;
        Ok(self.boot.lock().await.0)
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        ensure_boot_device(&self.capabilities(), device)?;
        self.config.operate("set_boot").await?;
        self.boot.lock().await.0 = BootDeviceSetting::new(device, persistent);
        Ok(())
    }

    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        self.config.operate("get_boot").await?;
        Ok(self.boot.lock().await.1)
    }

    async fn set_boot_mode(&self, mode: BootMode) -> Result<()> {
        self.config.operate("set_boot").await?;
        self.boot.lock().await.1 = Some(mode);
        Ok(())
    }

    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        self.config.operate("get_boot").await?;
        Ok(vec![
            SensorReading {
                kind: SensorKind::Temperature,
                name: "Inlet Temp".into(),
                value: Some(23.0),
                unit: "degrees C".into(),
                status: "ok".into(),
            },
            SensorReading {
                kind: SensorKind::Fan,
                name: "Fan 1".into(),
                value: Some(5400.0),
                unit: "RPM".into(),
                status: "ok".into(),
            },
        ])
    }

    async fn inject_nmi(&self) -> Result<()> {
        self.config.operate("set_power").await?;
        self.nmis.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A console that echoes what is written to it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Console, fake::FakeConsole};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let mut stream = FakeConsole::default().open().await?;
/// stream.write_all(b"uname\n").await.unwrap();
/// let mut echoed = [0u8; 6];
/// stream.read_exact(&mut echoed).await.unwrap();
/// assert_eq!(&echoed, b"uname\n");
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct FakeConsole {
    config: FakeConfig,
}

#[async_trait]
impl Console for FakeConsole {
    async fn open(&self) -> Result<ConsoleHandle> {
        self.config.operate("console").await?;
        let (ours, theirs) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let (mut r, mut w) = tokio::io::split(theirs);
            let _ = tokio::io::copy(&mut r, &mut w).await;
        });
        Ok(Box::new(ours))
    }
}

/// A vendor interface with one method, `echo`, that returns its arguments.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{ErrorKind, HttpMethod, Vendor, fake::FakeVendor};
/// use serde_json::json;
/// let vendor = FakeVendor::default();
/// assert_eq!(vendor.methods()[0].name, "echo");
/// assert_eq!(vendor.call("echo", HttpMethod::Get, json!({"a": 1})).await?, json!({"echo": {"a": 1}}));
/// let err = vendor.call("reset", HttpMethod::Post, json!({})).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidParameter); // no such method
/// assert_eq!(err.problems()[0].name, "method");
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct FakeVendor {
    config: FakeConfig,
}

#[async_trait]
impl Vendor for FakeVendor {
    fn methods(&self) -> Vec<VendorMethod> {
        vec![VendorMethod {
            name: "echo".into(),
            http_methods: vec![HttpMethod::Get, HttpMethod::Post],
            is_async: false,
            description: "Returns its arguments.".into(),
            input_schema: Some(json!({"type": "object"})),
        }]
    }

    async fn call(&self, method: &str, http_method: HttpMethod, args: Value) -> Result<Value> {
        let methods = self.methods();
        find_method(&methods, method, http_method)?;
        if !args.is_object() && !args.is_null() {
            return Err(Error::invalid_parameter(
                "args",
                "input data validation error: must be a JSON object",
            ));
        }
        self.config.operate("vendor").await?;
        Ok(json!({"echo": args}))
    }
}

/// The `fake-hardware` hardware type: every interface but boot, in memory.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{DriverInfo, NodeContext, PowerState, fake};
/// let info = DriverInfo::from_pairs([("fake_power_state", "on")]);
/// let node = fake::hardware_type().build(&info, &NodeContext::new("n1"))?;
/// assert_eq!(node.power()?.get_power_state().await?, PowerState::On);
/// # Ok(()) }
/// ```
pub fn hardware_type() -> HardwareType {
    HardwareType::new(
        NAME,
        "In-memory fake hardware with configurable delays and failures, for tests and demos.",
        [
            InterfaceKind::Power,
            InterfaceKind::Management,
            InterfaceKind::Console,
            InterfaceKind::Vendor,
        ],
        PROPERTIES.to_vec(),
        |info, ctx| {
            let mut v = info.validator(PROPERTIES);
            let state = v.one_of("fake_power_state", &["on", "off"]);
            let delay = v.int_in_range("fake_delay_ms", 0, 600_000);
            let fail = v.custom("fake_fail", |s| {
                let ops: BTreeSet<String> = s
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                match ops.iter().find(|o| !FAILABLE.contains(&o.as_str())) {
                    Some(bad) => Err(format!(
                        "names unknown operation {bad:?} (known: {})",
                        FAILABLE.join(", ")
                    )),
                    None => Ok(ops),
                }
            });
            v.finish()?;
            let config = FakeConfig {
                delay: Duration::from_millis(delay.unwrap_or(0).unsigned_abs()),
                fail: fail.unwrap_or_default(),
            };
            let state = if state == Some("on") {
                PowerState::On
            } else {
                PowerState::Off
            };
            Ok(Node::new(NAME, ctx.clone())
                .with_power(Arc::new(FakePower::with_config(state, config.clone())))
                .with_management(Arc::new(FakeManagement::with_config(config.clone())))
                .with_console(Arc::new(FakeConsole {
                    config: config.clone(),
                }))
                .with_vendor(Arc::new(FakeVendor { config })))
        },
    )
    .with_boot_interfaces(["pxe", "ipxe", FAKE_BOOT])
    .with_capabilities(declared_capabilities())
}

/// What every fake-hardware node can do (its `driver_info` changes delays and
/// failures, never the capabilities): written out here, not read from the fakes,
/// so the conformance suite catches a fake that grows a capability undeclared.
fn declared_capabilities() -> TypeCapabilities {
    TypeCapabilities::new(Capabilities {
        power: Some(PowerCapabilities {
            can_query: true,
            targets: PowerTarget::ALL.to_vec(),
            recorded_only: Vec::new(),
        }),
        management: Some(ManagementCapabilities {
            boot_devices: vec![
                BootDevice::Pxe,
                BootDevice::Disk,
                BootDevice::Cdrom,
                BootDevice::Bios,
                BootDevice::Safe,
            ],
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: vec![BootMode::Bios, BootMode::Uefi],
            can_get_boot_mode: true,
            sensors: true,
            nmi: true,
        }),
        console: true,
        vendor: FakeVendor::default().methods(),
        boot: false,
    })
}

/// The name of the fake boot interface.
pub const FAKE_BOOT: &str = "fake";

/// The `fake` boot interface: records calls and sets the boot device through the
/// node's management as a network boot interface would (PXE for the next boot on
/// `prepare_ramdisk`; disk, persistent, on `prepare_instance`), writing nothing.
///
/// ```
/// use hwctl_core::{DriverInfo, NodeContext, Registry, fake};
/// let mut registry = Registry::new();
/// registry.register(fake::hardware_type());
/// registry.register_boot_interface(fake::boot_interface());
/// let node = registry.build_node("fake-hardware", &DriverInfo::new(), &NodeContext::new("n1"), None)?;
/// assert_eq!(node.boot_interface(), Some(fake::FAKE_BOOT));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn boot_interface() -> crate::boot::BootInterface {
    crate::boot::BootInterface::new(
        FAKE_BOOT,
        "Records boot calls and sets the boot device; writes nothing.",
        Vec::new(),
        |b| Ok(Arc::new(FakeBoot::new(b.management.clone()))),
    )
}

/// A boot interface that records its calls (see [`boot_interface`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::{Boot, NodeContext, fake::FakeBoot};
/// let boot = FakeBoot::new(None); // no management: records only
/// boot.prepare_instance(&NodeContext::new("n1")).await?;
/// assert_eq!(boot.calls(), ["prepare_instance"]);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct FakeBoot {
    management: Option<Arc<dyn Management>>,
    calls: std::sync::Mutex<Vec<String>>,
}

impl FakeBoot {
    /// A fake boot interface setting boot devices through `management`, if any.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::{Boot, BootDevice, Management, NodeContext};
    /// use hwctl_core::fake::{FakeBoot, FakeManagement};
    /// let mgmt = Arc::new(FakeManagement::default());
    /// let boot = FakeBoot::new(Some(mgmt.clone()));
    /// boot.prepare_ramdisk(&NodeContext::new("n1"), &Default::default()).await?;
    /// assert_eq!(mgmt.get_boot_device().await?.device, Some(BootDevice::Pxe));
    /// # Ok(()) }
    /// ```
    pub fn new(management: Option<Arc<dyn Management>>) -> Self {
        FakeBoot {
            management,
            calls: std::sync::Mutex::default(),
        }
    }

    /// The calls so far (`prepare_ramdisk`, …).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Boot, NodeContext, fake::FakeBoot};
    /// let (boot, node) = (FakeBoot::new(None), NodeContext::new("n1"));
    /// assert!(boot.calls().is_empty());
    /// boot.prepare_ramdisk(&node, &Default::default()).await?;
    /// boot.clean_up_ramdisk(&node).await?;
    /// assert_eq!(boot.calls(), ["prepare_ramdisk", "clean_up_ramdisk"]);
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn record(&self, call: &str) {
        if let Ok(mut c) = self.calls.lock() {
            c.push(call.to_owned());
        }
    }

    async fn set(&self, device: BootDevice, persistent: bool) -> Result<()> {
        match &self.management {
            Some(m) => m.set_boot_device(device, persistent).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl crate::boot::Boot for FakeBoot {
    async fn prepare_ramdisk(
        &self,
        _node: &crate::node::NodeContext,
        _params: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        self.record("prepare_ramdisk");
        self.set(BootDevice::Pxe, false).await
    }

    async fn clean_up_ramdisk(&self, _node: &crate::node::NodeContext) -> Result<()> {
        self.record("clean_up_ramdisk");
        Ok(())
    }

    async fn prepare_instance(&self, _node: &crate::node::NodeContext) -> Result<()> {
        self.record("prepare_instance");
        self.set(BootDevice::Disk, true).await
    }

    async fn clean_up_instance(&self, _node: &crate::node::NodeContext) -> Result<()> {
        self.record("clean_up_instance");
        Ok(())
    }
}

impl fmt::Display for FakeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delay {:?}, failing {:?}", self.delay, self.fail)
    }
}
