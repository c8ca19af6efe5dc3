//! hwctl-pxe: rendering a node's boot configuration from the shipped templates
//! (minijinja), per loader, as `prepare_ramdisk` does before writing it.
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::{BootMode, DriverInfo, NodeContext};
use hwctl_pxe::{Flavor, PxeBoot, PxeConfig, RamdiskKind};

fn bench(c: &mut Criterion) {
    let cfg = Arc::new(PxeConfig::with_roots(
        std::path::Path::new("/nonexistent"),
        "http://10.0.2.100",
    ));
    let params = BTreeMap::from([
        ("ipa-api-url".to_owned(), "http://10.0.2.2:6385".to_owned()),
        ("ipa-debug".to_owned(), "1".to_owned()),
    ]);
    for (name, flavor, mode) in [
        ("pxelinux", Flavor::Pxe, BootMode::Bios),
        ("grub", Flavor::Pxe, BootMode::Uefi),
        ("ipxe", Flavor::Ipxe, BootMode::Bios),
    ] {
        let boot = PxeBoot::new(flavor, cfg.clone(), DriverInfo::new(), None);
        let node = NodeContext::new("node-1")
            .with_port("52:54:00:12:34:56".parse().unwrap())
            .with_boot_mode(mode);
        c.bench_function(&format!("pxe/render_config/{name}"), |b| {
            b.iter(|| {
                boot.render_ramdisk_config(&node, RamdiskKind::Deploy, &params)
                    .unwrap()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
