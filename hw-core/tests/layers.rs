//! The layers a Node puts around every interface: capabilities first, the hardware
//! type named as driver, the interface operation as operation, vendor input checked.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hwctl_core::{
    Error, ErrorKind, HttpMethod, Node, NodeContext, Power, PowerCapabilities, PowerState,
    PowerTarget, Result, Vendor, VendorMethod, async_trait,
};

/// Names itself `ipmi` in errors and counts the calls that reach it.
#[derive(Debug, Default)]
struct Inner {
    calls: AtomicU32,
}

#[async_trait]
impl Power for Inner {
    fn capabilities(&self) -> PowerCapabilities {
        PowerCapabilities {
            can_query: true,
            targets: vec![PowerTarget::On, PowerTarget::Off],
            recorded_only: Vec::new(),
        }
    }
    async fn get_power_state(&self) -> Result<PowerState> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(Error::new(ErrorKind::Timeout, "no reply")
            .with_driver("ipmi")
            .with_operation("Get Chassis Status"))
    }
    async fn set_power_state(&self, _: PowerTarget, _: Option<Duration>) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn errors_name_the_hardware_type_and_the_interface_operation() {
    let inner = Arc::new(Inner::default());
    let node = Node::new("staging-nm", NodeContext::new("n")).with_power(inner.clone());
    let e = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(e.driver(), Some("staging-nm"));
    assert_eq!(e.operation(), Some("get power state"));
    assert_eq!(
        e.to_string(),
        "staging-nm: get power state: Get Chassis Status: no reply"
    );
}

#[tokio::test]
async fn an_unsupported_target_never_reaches_the_driver() {
    let inner = Arc::new(Inner::default());
    let node = Node::new("x", NodeContext::new("n")).with_power(inner.clone());
    let e = node
        .power()
        .unwrap()
        .set_power_state(PowerTarget::SoftReboot, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(e.operation(), Some("soft reboot"));
    assert_eq!(inner.calls.load(Ordering::SeqCst), 0);
}

#[derive(Debug, Default)]
struct Echo {
    calls: AtomicU32,
}

#[async_trait]
impl Vendor for Echo {
    fn methods(&self) -> Vec<VendorMethod> {
        vec![VendorMethod {
            name: "set_limit".into(),
            http_methods: vec![HttpMethod::Post],
            is_async: false,
            description: "Sets a limit.".into(),
            input_schema: Some(serde_json::json!({"type": "object",
                "properties": {"watts": {"type": "integer", "minimum": 1}},
                "required": ["watts"], "additionalProperties": false})),
        }]
    }
    async fn call(
        &self,
        _: &str,
        _: HttpMethod,
        args: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(args)
    }
}

#[tokio::test]
async fn vendor_arguments_are_checked_against_the_schema_first() {
    let echo = Arc::new(Echo::default());
    let node = Node::new("x", NodeContext::new("n")).with_vendor(echo.clone());
    let v = node.vendor().unwrap();
    let e = v
        .call(
            "set_limit",
            HttpMethod::Post,
            serde_json::json!({"watts": 0}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.problems()[0].name, "watts");
    let e = v
        .call(
            "set_limit",
            HttpMethod::Get,
            serde_json::json!({"watts": 5}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(echo.calls.load(Ordering::SeqCst), 0);
    let ok = v
        .call(
            "set_limit",
            HttpMethod::Post,
            serde_json::json!({"watts": 5}),
        )
        .await
        .unwrap();
    assert_eq!(ok["watts"], 5);
    assert_eq!(echo.calls.load(Ordering::SeqCst), 1);
}

/// Reads the boot mode but sets only the modes it is given.
#[derive(Debug)]
struct Modes(Vec<hwctl_core::BootMode>);

#[async_trait]
impl hwctl_core::Management for Modes {
    fn capabilities(&self) -> hwctl_core::ManagementCapabilities {
        hwctl_core::ManagementCapabilities {
            boot_modes: self.0.clone(),
            can_get_boot_mode: true,
            ..Default::default()
        }
    }
    async fn get_boot_device(&self) -> Result<hwctl_core::BootDeviceSetting> {
        Ok(hwctl_core::BootDeviceSetting::default())
    }
    async fn set_boot_device(&self, _: hwctl_core::BootDevice, _: bool) -> Result<()> {
        Ok(())
    }
}

/// A refused boot mode says which can be set, or that none can: `boot mode bios is
/// not supported` on a node whose `boot-mode get` reads bios read as if bios were
/// an unknown mode (operator trial).
#[tokio::test]
async fn a_refused_boot_mode_names_what_can_be_set() {
    use hwctl_core::BootMode;
    for (settable, expected) in [
        (vec![], "this driver cannot set it"),
        (vec![BootMode::Uefi], "boot mode bios (settable: uefi)"),
    ] {
        let node =
            Node::new("ipmi", NodeContext::new("n")).with_management(Arc::new(Modes(settable)));
        let e = node
            .management()
            .unwrap()
            .set_boot_mode(BootMode::Bios)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains(expected), "{e}");
    }
}
