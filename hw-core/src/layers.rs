//! The layers [`Node`](crate::Node) puts around every interface it is given, so each
//! driver gets them the same way:
//!
//! - **capabilities first**: a power target, boot device, boot mode, sensor read or
//!   NMI the interface's capabilities do not list fails with
//!   [`ErrorKind::Unsupported`] before the driver is called;
//! - **error context**: the driver is the node's hardware type (the name the caller
//!   chose: a `staging-nm` node's errors say `staging-nm`, not `ipmi`) and the
//!   operation is the interface operation (`power on`, `set boot device`); a wire
//!   operation the driver named stays at the front of the message
//!   ([`Error::in_context`]);
//! - **boot persistence**: `set_boot_device` sends the persistence the node's
//!   `force_persistent_boot_device` ([`BootPersistence`]) makes of the one asked
//!   for (`Always` → persistent, `Never` → next boot only, `Default` → as asked);
//! - **vendor input**: an unknown method or verb is refused
//!   ([`find_method`](crate::vendor::find_method)), and arguments are checked
//!   against the method's input schema ([`crate::json_schema`]) before the call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::boot::Boot;
use crate::boot_device::{BootDevice, BootDeviceSetting, BootMode, BootPersistence};
use crate::capabilities::{ManagementCapabilities, PowerCapabilities};
use crate::console::{Console, ConsoleHandle};
use crate::error::{Error, Result};
use crate::management::{Management, ensure_boot_device};
use crate::node::NodeContext;
use crate::power::{Power, PowerState, PowerTarget, ensure_supported};
use crate::sensors::SensorReading;
use crate::vendor::{HttpMethod, Vendor, VendorMethod, find_method};

/// The node's hardware type, shared by its layers (a copy is made for an error only).
type Name = Arc<str>;

/// The error context of the layers; the driver's name is copied only for an
/// error (a call that succeeds copies nothing).
fn ctx<'a>(driver: &'a Name, op: &'static str) -> impl FnOnce(Error) -> Error + 'a {
    move |e| e.in_context(String::from(&**driver), op)
}

#[derive(Debug)]
pub(crate) struct LayeredPower {
    pub(crate) inner: Arc<dyn Power>,
    pub(crate) driver: Name,
}

#[async_trait]
impl Power for LayeredPower {
    fn capabilities(&self) -> PowerCapabilities {
        self.inner.capabilities()
    }

    async fn get_power_state(&self) -> Result<PowerState> {
        self.inner
            .get_power_state()
            .await
            .map_err(ctx(&self.driver, "get power state"))
    }

    async fn set_power_state(&self, target: PowerTarget, timeout: Option<Duration>) -> Result<()> {
        let op = target.operation();
        ensure_supported(&self.inner.capabilities(), target).map_err(ctx(&self.driver, op))?;
        self.inner
            .set_power_state(target, timeout)
            .await
            .map_err(ctx(&self.driver, op))
    }
}

#[derive(Debug)]
pub(crate) struct LayeredManagement {
    pub(crate) inner: Arc<dyn Management>,
    pub(crate) driver: Name,
    pub(crate) persistence: BootPersistence,
}

impl LayeredManagement {
    fn require(
        &self,
        ok: impl FnOnce(&ManagementCapabilities) -> bool,
        what: &str,
        op: &'static str,
    ) -> Result<()> {
        if ok(&self.inner.capabilities()) {
            Ok(())
        } else {
            Err(Error::unsupported(what).in_context(String::from(&*self.driver), op))
        }
    }
}

#[async_trait]
impl Management for LayeredManagement {
    fn capabilities(&self) -> ManagementCapabilities {
        self.inner.capabilities()
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        const OP: &str = "get boot device";
        self.require(|c| c.can_get_boot_device, "reading the boot device", OP)?;
        self.inner
            .get_boot_device()
            .await
            .map_err(ctx(&self.driver, OP))
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        const OP: &str = "set boot device";
        ensure_boot_device(&self.inner.capabilities(), device).map_err(ctx(&self.driver, OP))?;
        let persistent = self.persistence.apply(persistent);
        self.inner
            .set_boot_device(device, persistent)
            .await
            .map_err(ctx(&self.driver, OP))
    }

    async fn get_boot_mode(&self) -> Result<Option<BootMode>> {
        const OP: &str = "get boot mode";
        self.require(|c| c.can_get_boot_mode, "reading the boot mode", OP)?;
        self.inner
            .get_boot_mode()
            .await
            .map_err(ctx(&self.driver, OP))
    }

    async fn set_boot_mode(&self, mode: BootMode) -> Result<()> {
        const OP: &str = "set boot mode";
        let settable = self.inner.capabilities().boot_modes;
        // Say which modes can be set, or that none can (the mode may still be
        // readable: `boot mode bios is not supported` read as if bios were unknown).
        let what = if settable.is_empty() {
            format!("setting the boot mode ({mode} asked; this driver cannot set it)")
        } else {
            let list: Vec<String> = settable.iter().map(ToString::to_string).collect();
            format!("boot mode {mode} (settable: {})", list.join(", "))
        };
        self.require(|c| c.boot_modes.contains(&mode), &what, OP)?;
        self.inner
            .set_boot_mode(mode)
            .await
            .map_err(ctx(&self.driver, OP))
    }

    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        const OP: &str = "get sensors";
        self.require(|c| c.sensors, "reading sensors", OP)?;
        self.inner
            .get_sensors()
            .await
            .map_err(ctx(&self.driver, OP))
    }

    async fn inject_nmi(&self) -> Result<()> {
        const OP: &str = "inject nmi";
        self.require(|c| c.nmi, "injecting an NMI", OP)?;
        self.inner.inject_nmi().await.map_err(ctx(&self.driver, OP))
    }
}

#[derive(Debug)]
pub(crate) struct LayeredConsole {
    pub(crate) inner: Arc<dyn Console>,
    pub(crate) driver: Name,
}

#[async_trait]
impl Console for LayeredConsole {
    async fn open(&self) -> Result<ConsoleHandle> {
        self.inner
            .open()
            .await
            .map_err(ctx(&self.driver, "open console"))
    }
}

#[derive(Debug)]
pub(crate) struct LayeredVendor {
    pub(crate) inner: Arc<dyn Vendor>,
    pub(crate) driver: Name,
}

#[async_trait]
impl Vendor for LayeredVendor {
    fn methods(&self) -> Vec<VendorMethod> {
        self.inner.methods()
    }

    async fn call(&self, method: &str, http_method: HttpMethod, args: Value) -> Result<Value> {
        const OP: &str = "vendor passthru";
        let methods = self.inner.methods();
        let m = find_method(&methods, method, http_method).map_err(ctx(&self.driver, OP))?;
        if let Some(schema) = &m.input_schema {
            // Ironic's passthru passes keyword arguments: no body is an empty object.
            let empty = Value::Object(serde_json::Map::new());
            let checked = if args.is_null() { &empty } else { &args };
            crate::json_schema::validate(schema, checked)
                .map_err(|e| e.to_error().in_context(String::from(&*self.driver), OP))?;
        }
        self.inner
            .call(method, http_method, args)
            .await
            .map_err(|e| {
                let driver = String::from(&*self.driver);
                e.in_context(driver, OP)
            })
    }
}

#[derive(Debug)]
pub(crate) struct LayeredBoot {
    pub(crate) inner: Arc<dyn Boot>,
    pub(crate) driver: Name,
}

#[async_trait]
impl Boot for LayeredBoot {
    async fn prepare_ramdisk(
        &self,
        node: &NodeContext,
        params: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.inner
            .prepare_ramdisk(node, params)
            .await
            .map_err(ctx(&self.driver, "prepare ramdisk"))
    }

    async fn clean_up_ramdisk(&self, node: &NodeContext) -> Result<()> {
        self.inner
            .clean_up_ramdisk(node)
            .await
            .map_err(ctx(&self.driver, "clean up ramdisk"))
    }

    async fn prepare_instance(&self, node: &NodeContext) -> Result<()> {
        self.inner
            .prepare_instance(node)
            .await
            .map_err(ctx(&self.driver, "prepare instance"))
    }

    async fn clean_up_instance(&self, node: &NodeContext) -> Result<()> {
        self.inner
            .clean_up_instance(node)
            .await
            .map_err(ctx(&self.driver, "clean up instance"))
    }

    async fn validate(&self, node: &NodeContext) -> Result<()> {
        self.inner
            .validate(node)
            .await
            .map_err(ctx(&self.driver, "validate boot"))
    }
}
