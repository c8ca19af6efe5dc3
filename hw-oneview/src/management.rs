//! `OneviewManagement`: boot device (persistent through the server profile's boot
//! order, one-time through the iLO) and sensors (`…/utilization`).

use std::sync::Arc;

use hwctl_core::{
    BootDevice, BootDeviceSetting, Management, ManagementCapabilities, Result, SensorReading,
    async_trait,
};

use crate::server::{BOOT_DEVICES, OneviewServer};

/// Boot device and sensors of one server hardware.
#[derive(Debug, Clone)]
pub struct OneviewManagement {
    server: Arc<OneviewServer>,
}

impl OneviewManagement {
    /// Management of `server`.
    pub fn new(server: Arc<OneviewServer>) -> Self {
        OneviewManagement { server }
    }
}

#[async_trait]
impl Management for OneviewManagement {
    /// pxe, disk, cdrom, persistent or not; sensors; no boot mode, no NMI.
    fn capabilities(&self) -> ManagementCapabilities {
        ManagementCapabilities {
            boot_devices: BOOT_DEVICES.to_vec(),
            can_get_boot_device: true,
            persistent_only: false,
            boot_modes: Vec::new(),
            can_get_boot_mode: false,
            sensors: true,
            nmi: false,
        }
    }

    async fn get_boot_device(&self) -> Result<BootDeviceSetting> {
        self.server.boot().await
    }

    async fn set_boot_device(&self, device: BootDevice, persistent: bool) -> Result<()> {
        self.server.set_boot(device, persistent).await
    }

    async fn get_sensors(&self) -> Result<Vec<SensorReading>> {
        self.server.sensors().await
    }
}
