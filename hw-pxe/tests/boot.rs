//! prepare/clean up on disk: rendered configs against expected files (BIOS/UEFI ×
//! pxe/ipxe), every MAC link, idempotency, nothing left after clean up, nothing
//! half-written after a failed prepare, typed errors naming the key.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hwctl_core::fake::FakeManagement;
use hwctl_core::{
    Boot, BootDevice, BootMode, DriverInfo, ErrorKind, Management, NodeContext, Registry,
};
use hwctl_pxe::{Flavor, PxeBoot, PxeConfig};

const MAC1: &str = "52:54:00:12:34:56";
const MAC2: &str = "52:54:00:ab:cd:ef";

struct Env {
    _dir: tempfile::TempDir,
    base: PathBuf,
    config: Arc<PxeConfig>,
    images: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let images = base.join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::write(images.join("ipa.kernel"), b"KERNEL").unwrap();
    std::fs::write(images.join("ipa.initramfs"), b"RAMDISK").unwrap();
    std::fs::write(images.join("vmlinuz"), b"INSTANCE-KERNEL").unwrap();
    std::fs::write(images.join("initrd"), b"INSTANCE-RAMDISK").unwrap();
    let mut cfg = PxeConfig::with_roots(&base, "http://10.0.2.100");
    cfg.tftp_server = "10.0.2.2".into();
    cfg.pxe_append_params = "nofb vga=normal console=ttyS0".into();
    Env {
        _dir: dir,
        base,
        config: Arc::new(cfg),
        images,
    }
}

fn info(e: &Env) -> DriverInfo {
    DriverInfo::from_pairs([
        (
            "deploy_kernel",
            e.images.join("ipa.kernel").display().to_string(),
        ),
        (
            "deploy_ramdisk",
            format!("file://{}", e.images.join("ipa.initramfs").display()),
        ),
    ])
}

fn node(id: &str, mode: BootMode) -> NodeContext {
    NodeContext::new(id)
        .with_port(MAC1.parse().unwrap())
        .with_port(MAC2.parse().unwrap())
        .with_boot_mode(mode)
}

fn params() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ipa-api-url".to_owned(), "http://10.0.2.2:6385".to_owned()),
        ("ipa-debug".to_owned(), "1".to_owned()),
    ])
}

fn boot(e: &Env, flavor: Flavor, mgmt: Option<Arc<dyn Management>>) -> PxeBoot {
    PxeBoot::new(flavor, e.config.clone(), info(e), mgmt)
}

/// Every file and link under `root`, relative, sorted (links as `name -> target`).
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let md = std::fs::symlink_metadata(&p).unwrap();
            if md.file_type().is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&p).unwrap().display()
                ));
            } else if md.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut v = Vec::new();
    walk(root, root, &mut v);
    v.sort();
    v
}

fn without_cache(t: Vec<String>) -> Vec<String> {
    t.into_iter()
        .filter(|l| !l.starts_with("master_images/"))
        .collect()
}

fn expected(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("HW_BLESS").is_some() {
        return String::new();
    }
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn check_expected(name: &str, got: &str) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("HW_BLESS").is_some() {
        std::fs::write(&p, got).unwrap();
        return;
    }
    assert_eq!(
        got,
        expected(name),
        "rendered {name} differs from tests/expected/{name}"
    );
}

#[tokio::test]
async fn rendered_configs_match_expected_files() {
    let e = env();
    for (flavor, mode, file) in [
        (Flavor::Pxe, BootMode::Bios, "pxe-bios.cfg"),
        (Flavor::Pxe, BootMode::Uefi, "pxe-uefi.cfg"),
        (Flavor::Ipxe, BootMode::Bios, "ipxe-bios.cfg"),
        (Flavor::Ipxe, BootMode::Uefi, "ipxe-uefi.cfg"),
    ] {
        let b = boot(&e, flavor, None);
        let n = node("node-1", mode);
        b.prepare_ramdisk(&n, &params()).await.unwrap();
        let root = b.root().to_path_buf();
        let written = std::fs::read_to_string(root.join("node-1/config")).unwrap();
        check_expected(file, &written);
        // The kernel command line carries pxe_append_params and every param.
        assert!(
            written.contains(
                "nofb vga=normal console=ttyS0 ipa-api-url=http://10.0.2.2:6385 ipa-debug=1"
            ),
            "{written}"
        );
        b.clean_up_ramdisk(&n).await.unwrap();
    }
    let b = boot(&e, Flavor::Ipxe, None);
    b.prepare_ramdisk(&node("node-1", BootMode::Bios), &params())
        .await
        .unwrap();
    check_expected(
        "boot.ipxe",
        &std::fs::read_to_string(b.root().join("boot.ipxe")).unwrap(),
    );
}

#[tokio::test]
async fn pxe_publishes_every_mac_link_and_cleans_up_to_nothing() {
    let e = env();
    let mgmt = Arc::new(FakeManagement::default());
    let b = boot(&e, Flavor::Pxe, Some(mgmt.clone()));
    let n = node("node-1", BootMode::Bios);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    let root = &e.config.tftp_root;
    let t = without_cache(tree(root));
    assert_eq!(
        t,
        [
            "52:54:00:12:34:56.conf -> node-1/config",
            "52:54:00:ab:cd:ef.conf -> node-1/config",
            "grub.cfg-01-52-54-00-12-34-56 -> node-1/config",
            "grub.cfg-01-52-54-00-ab-cd-ef -> node-1/config",
            "grub/",
            "grub/grub.cfg",
            "node-1/",
            "node-1/config",
            "node-1/deploy_kernel",
            "node-1/deploy_ramdisk",
            "pxelinux.cfg/",
            "pxelinux.cfg/01-52-54-00-12-34-56 -> ../node-1/config",
            "pxelinux.cfg/01-52-54-00-ab-cd-ef -> ../node-1/config",
        ]
    );
    // Every link resolves to the config.
    for l in b.mac_links(&n) {
        assert!(
            std::fs::read_to_string(root.join(&l))
                .unwrap()
                .contains("label deploy"),
            "{l}"
        );
    }
    assert_eq!(
        std::fs::read(root.join("node-1/deploy_kernel")).unwrap(),
        b"KERNEL"
    );
    // Boot device PXE for the next boot only (Ironic's default).
    let s = mgmt.get_boot_device().await.unwrap();
    assert_eq!(
        (s.device, s.persistent),
        (Some(BootDevice::Pxe), Some(false))
    );

    // Idempotent: prepare twice = one preparation.
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    assert_eq!(without_cache(tree(root)), t);

    b.clean_up_ramdisk(&n).await.unwrap();
    b.clean_up_ramdisk(&n).await.unwrap();
    assert_eq!(without_cache(tree(root)), [] as [&str; 0]);
}

/// hwctl's default node id (`cli-` and the port MACs joined by `+`) has colons:
/// its directory gets an escaped name (`:` is `~3a`, `+` `~2b`), which every
/// loader's configuration references, and both flavours prepare and clean up.
#[tokio::test]
async fn an_id_with_colons_gets_an_escaped_directory_and_cleans_up() {
    let id = format!("cli-{MAC1}+{MAC2}");
    let dir = "cli-52~3a54~3a00~3a12~3a34~3a56~2b52~3a54~3a00~3aab~3acd~3aef";
    for (flavor, mode, kernel_ref) in [
        (
            Flavor::Pxe,
            BootMode::Bios,
            format!("kernel {dir}/deploy_kernel"),
        ),
        (
            Flavor::Pxe,
            BootMode::Uefi,
            format!("linux /{dir}/deploy_kernel"),
        ),
        (
            Flavor::Ipxe,
            BootMode::Uefi,
            format!("http://10.0.2.100/{dir}/deploy_kernel "),
        ),
    ] {
        let e = env();
        let mgmt = Arc::new(FakeManagement::default());
        let b = boot(&e, flavor, Some(mgmt.clone()));
        let n = node(&id, mode);
        b.prepare_ramdisk(&n, &params()).await.unwrap();
        let root = b.root().to_path_buf();
        let config = std::fs::read_to_string(root.join(dir).join("config")).unwrap();
        assert!(config.contains(&kernel_ref), "{flavor:?} {mode}: {config}");
        assert_eq!(
            std::fs::read(root.join(dir).join("deploy_kernel")).unwrap(),
            b"KERNEL"
        );
        for l in b.mac_links(&n) {
            assert_eq!(
                std::fs::read_to_string(root.join(&l)).unwrap(),
                config,
                "{l}"
            );
        }
        assert_eq!(
            mgmt.get_boot_device().await.unwrap().device,
            Some(BootDevice::Pxe)
        );
        b.clean_up_ramdisk(&n).await.unwrap();
        assert_eq!(without_cache(tree(&root)), [] as [&str; 0], "{flavor:?}");
    }
}

/// Two different ids never share a directory: every id of up to four characters
/// from an alphabet of plain characters, the escape `~`, characters it escapes
/// (`:`, `+`, space, a two-byte `é`) and hex digits gets its own name, made only of
/// characters safe in a path, a loader's configuration and a URL.
#[test]
fn directory_names_are_one_per_id_and_safe() {
    let alphabet = ['a', '3', '.', '-', '_', '~', ':', '+', ' ', 'é'];
    let mut ids = vec![String::new()];
    let mut all = Vec::new();
    for _ in 0..4 {
        ids = ids
            .iter()
            .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
            .collect();
        all.extend(ids.iter().cloned());
    }
    let mut seen = std::collections::HashMap::new();
    for id in &all {
        let node = NodeContext::new(id.as_str());
        let Ok(name) = hwctl_pxe::inputs::node_dir_name(&node) else {
            assert!(id.starts_with('.'), "{id:?} refused");
            continue;
        };
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)),
            "{id:?} -> {name}"
        );
        if let Some(other) = seen.insert(name.to_string(), id.clone()) {
            panic!("{id:?} and {other:?} share the directory {name}");
        }
    }
    // Every id but those with a leading dot (1111 of 11110) got a name.
    assert_eq!(seen.len(), 9999);
}

#[tokio::test]
async fn ipxe_links_by_hexhyp_mac_and_cleans_up() {
    let e = env();
    let b = boot(&e, Flavor::Ipxe, None);
    let n = node("node-1", BootMode::Uefi);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    let root = &e.config.http_root;
    assert_eq!(
        without_cache(tree(root)),
        [
            "boot.ipxe",
            "node-1/",
            "node-1/config",
            "node-1/deploy_kernel",
            "node-1/deploy_ramdisk",
            "pxelinux.cfg/",
            "pxelinux.cfg/52-54-00-12-34-56 -> ../node-1/config",
            "pxelinux.cfg/52-54-00-ab-cd-ef -> ../node-1/config",
        ]
    );
    b.clean_up_ramdisk(&n).await.unwrap();
    assert_eq!(without_cache(tree(root)), [] as [&str; 0]);
    // Nothing was written under the TFTP root.
    assert!(tree(&e.config.tftp_root).is_empty());
}

#[tokio::test]
async fn two_nodes_share_one_cached_copy_and_shared_files_stay_until_the_last() {
    let e = env();
    let b = boot(&e, Flavor::Ipxe, None);
    let (n1, n2) = (
        node("node-1", BootMode::Bios),
        NodeContext::new("node-2").with_port("52:54:00:00:00:02".parse().unwrap()),
    );
    b.prepare_ramdisk(&n1, &params()).await.unwrap();
    b.prepare_ramdisk(&n2, &params()).await.unwrap();
    assert_eq!(b.cache().entries().len(), 2, "one master per image");
    use std::os::unix::fs::MetadataExt;
    let k1 = std::fs::metadata(e.config.http_root.join("node-1/deploy_kernel")).unwrap();
    let k2 = std::fs::metadata(e.config.http_root.join("node-2/deploy_kernel")).unwrap();
    assert_eq!(k1.ino(), k2.ino(), "hard links to one copy");
    assert_eq!(k1.nlink(), 3);
    b.clean_up_ramdisk(&n1).await.unwrap();
    assert!(
        e.config.http_root.join("boot.ipxe").exists(),
        "node-2 still needs boot.ipxe"
    );
    assert!(
        e.config
            .http_root
            .join("pxelinux.cfg/52-54-00-00-00-02")
            .exists()
    );
    b.clean_up_ramdisk(&n2).await.unwrap();
    assert_eq!(without_cache(tree(&e.config.http_root)), [] as [&str; 0]);
}

#[tokio::test]
async fn cache_evicts_unused_entries_by_age_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let img = |name: &str, len: usize| {
        let p = dir.path().join(name);
        std::fs::write(&p, vec![b'x'; len]).unwrap();
        hwctl_pxe::ImageRef::parse(name, &p.display().to_string(), None).unwrap()
    };
    let cache = hwctl_pxe::ImageCache::new(
        dir.path().join("cache"),
        250,
        std::time::Duration::from_secs(3600),
    );
    let node_dir = dir.path().join("node");
    std::fs::create_dir_all(&node_dir).unwrap();
    // a (100 B) stays linked; b and c (100 B each) are unused.
    cache
        .link_into(&img("a", 100), &node_dir.join("a"))
        .await
        .unwrap();
    cache
        .link_into(&img("b", 100), &node_dir.join("b"))
        .await
        .unwrap();
    std::fs::remove_file(node_dir.join("b")).unwrap();
    // Age b past the TTL.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for name in cache.entries() {
        let p = cache.dir().join(&name);
        let f = std::fs::File::options().append(true).open(&p).unwrap();
        if std::fs::metadata(&p).unwrap().nlink() == 1 {
            f.set_modified(old).unwrap();
        }
    }
    use std::os::unix::fs::MetadataExt;
    let ev = cache.evict().await;
    assert_eq!(ev.by_age, 1);
    assert_eq!(cache.entries().len(), 1);
    // c and d unused, over the 250 B bound: the oldest unused goes.
    cache
        .link_into(&img("c", 100), &node_dir.join("c"))
        .await
        .unwrap();
    std::fs::remove_file(node_dir.join("c")).unwrap();
    let before_d = cache.entries();
    cache
        .link_into(&img("d", 100), &node_dir.join("d"))
        .await
        .unwrap();
    std::fs::remove_file(node_dir.join("d")).unwrap();
    // Linking d (300 B > 250 B) evicted c, the oldest unused entry.
    let after_d = cache.entries();
    assert_eq!(after_d.len(), 2);
    assert_eq!(
        before_d.iter().filter(|n| after_d.contains(n)).count(),
        1,
        "only a of a, c survived"
    );
    assert_eq!(cache.evict().await, hwctl_pxe::cache::Evicted::default());
    // The linked entry is never evicted, even over the bound.
    let small = hwctl_pxe::ImageCache::new(cache.dir(), 1, std::time::Duration::ZERO);
    small.evict().await;
    assert_eq!(small.entries().len(), 1, "a is in use");
}

#[tokio::test]
async fn a_failed_prepare_leaves_nothing() {
    let e = env();
    let mut di = info(&e);
    // The ramdisk is unreadable: the kernel is staged first, then the failure.
    di.insert("deploy_ramdisk", "/nonexistent/ramdisk");
    let b = PxeBoot::new(Flavor::Pxe, e.config.clone(), di, None);
    let n = node("node-1", BootMode::Bios);
    let err = b.prepare_ramdisk(&n, &params()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert_eq!(err.problems()[0].name, "deploy_ramdisk");
    assert_eq!(without_cache(tree(&e.config.tftp_root)), [] as [&str; 0]);

    // A failing management (boot device) also rolls back.
    let b = PxeBoot::new(
        Flavor::Pxe,
        e.config.clone(),
        info(&e),
        Some(Arc::new(FakeManagement::with_config(
            hwctl_core::fake::FakeConfig {
                fail: ["set_boot".to_owned()].into(),
                ..Default::default()
            },
        ))),
    );
    assert_eq!(
        b.prepare_ramdisk(&n, &params()).await.unwrap_err().kind(),
        ErrorKind::DeviceFault
    );
    assert_eq!(without_cache(tree(&e.config.tftp_root)), [] as [&str; 0]);

    // A bad checksum: nothing staged, and no master kept.
    let mut di = info(&e);
    di.insert(
        "deploy_kernel_checksum",
        format!("sha256:{}", "0".repeat(64)),
    );
    let b = PxeBoot::new(Flavor::Ipxe, e.config.clone(), di, None);
    let err = b.prepare_ramdisk(&n, &params()).await.unwrap_err();
    assert_eq!(err.problems()[0].name, "deploy_kernel_checksum");
    assert!(without_cache(tree(&e.config.http_root)).is_empty());
}

#[tokio::test]
async fn bad_inputs_give_typed_errors_naming_the_key() {
    let e = env();
    let n = node("node-1", BootMode::Bios);
    // Missing deploy_kernel.
    let b = PxeBoot::new(
        Flavor::Pxe,
        e.config.clone(),
        DriverInfo::from_pairs([("deploy_ramdisk", "/x")]),
        None,
    );
    let err = b.prepare_ramdisk(&n, &params()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingParameter);
    assert_eq!(err.problems()[0].name, "deploy_kernel");
    assert!(b.validate(&n).await.is_err());
    // An unreadable image.
    let b = PxeBoot::new(
        Flavor::Pxe,
        e.config.clone(),
        DriverInfo::from_pairs([("deploy_kernel", "/nope"), ("deploy_ramdisk", "/nope2")]),
        None,
    );
    let err = b.prepare_ramdisk(&n, &params()).await.unwrap_err();
    assert_eq!(err.problems()[0].name, "deploy_kernel");
    // A scheme we cannot fetch.
    let b = PxeBoot::new(
        Flavor::Pxe,
        e.config.clone(),
        DriverInfo::from_pairs([("deploy_kernel", "glance://abc"), ("deploy_ramdisk", "/x")]),
        None,
    );
    assert_eq!(
        b.prepare_ramdisk(&n, &params())
            .await
            .unwrap_err()
            .problems()[0]
            .name,
        "deploy_kernel"
    );
    // A MAC-less node.
    let b = boot(&e, Flavor::Pxe, None);
    let err = b
        .prepare_ramdisk(&NodeContext::new("node-1"), &params())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingParameter);
    assert_eq!(err.problems()[0].name, "ports");
    // A node id escaping the root.
    for id in [
        "../etc",
        "..",
        ".",
        "/",
        "a/b",
        "a\\b",
        ".hidden",
        "master_images",
        "",
        "a\nb",
    ] {
        let mut n = node(id, BootMode::Bios);
        n.id = id.to_owned();
        let err = b.prepare_ramdisk(&n, &params()).await.unwrap_err();
        assert_eq!(err.problems()[0].name, "id", "{id:?}");
    }
    // A parameter that would inject a line into the config.
    let bad = BTreeMap::from([("ipa-api-url".to_owned(), "x\nlabel evil".to_owned())]);
    assert_eq!(
        b.prepare_ramdisk(&n, &bad).await.unwrap_err().problems()[0].name,
        "ipa-api-url"
    );
    // Nothing written by any of these.
    assert!(without_cache(tree(&e.config.tftp_root)).is_empty());
    // instance_info
    let mut ni = n.clone();
    ni.instance_info
        .insert("boot_option".into(), "netboot".into());
    let err = b.prepare_instance(&ni).await.unwrap_err();
    let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "instance_info/kernel",
            "instance_info/ramdisk",
            "instance_info/root_uuid"
        ]
    );
    ni.instance_info
        .insert("boot_option".into(), "cdrom".into());
    assert_eq!(
        b.prepare_instance(&ni).await.unwrap_err().problems()[0].name,
        "instance_info/boot_option"
    );
}

#[tokio::test]
async fn prepare_instance_local_and_netboot() {
    let e = env();
    let mgmt = Arc::new(FakeManagement::default());
    let b = boot(&e, Flavor::Pxe, Some(mgmt.clone()));
    let mut n = node("node-1", BootMode::Bios);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    // local: network-boot files removed, disk persistent.
    b.prepare_instance(&n).await.unwrap();
    assert_eq!(without_cache(tree(&e.config.tftp_root)), [] as [&str; 0]);
    let s = mgmt.get_boot_device().await.unwrap();
    assert_eq!(
        (s.device, s.persistent),
        (Some(BootDevice::Disk), Some(true))
    );
    // netboot: instance kernel/ramdisk, boot_partition default, PXE persistent.
    n.instance_info
        .insert("boot_option".into(), "netboot".into());
    n.instance_info.insert(
        "kernel".into(),
        e.images.join("vmlinuz").display().to_string().into(),
    );
    n.instance_info.insert(
        "ramdisk".into(),
        e.images.join("initrd").display().to_string().into(),
    );
    n.instance_info.insert(
        "root_uuid".into(),
        "1be26c0b-03f2-4d2e-ae87-c02d7f33c123".into(),
    );
    n.instance_info.insert(
        "image_source".into(),
        "http://example.invalid/img.qcow2".into(),
    );
    b.prepare_instance(&n).await.unwrap();
    b.prepare_instance(&n).await.unwrap();
    let cfg = std::fs::read_to_string(e.config.tftp_root.join("node-1/config")).unwrap();
    check_expected("pxe-bios-instance.cfg", &cfg);
    assert!(cfg.starts_with("default boot_partition\n"));
    assert!(cfg.contains("root=UUID=1be26c0b-03f2-4d2e-ae87-c02d7f33c123 ro"));
    let s = mgmt.get_boot_device().await.unwrap();
    assert_eq!(
        (s.device, s.persistent),
        (Some(BootDevice::Pxe), Some(true))
    );
    assert_eq!(
        std::fs::read(e.config.tftp_root.join("node-1/kernel")).unwrap(),
        b"INSTANCE-KERNEL"
    );
    // ramdisk boot option with ramdisk_kernel_arguments (iPXE)
    let bi = boot(&e, Flavor::Ipxe, None);
    n.instance_info
        .insert("boot_option".into(), "ramdisk".into());
    n.instance_info
        .insert("ramdisk_kernel_arguments".into(), "rd.debug quiet".into());
    bi.prepare_instance(&n).await.unwrap();
    let cfg = std::fs::read_to_string(e.config.http_root.join("node-1/config")).unwrap();
    assert!(cfg.contains("\ngoto boot_ramdisk\n"), "{cfg}");
    assert!(
        cfg.contains(
            "root=/dev/ram0 text nofb vga=normal console=ttyS0 rd.debug quiet initrd=ramdisk"
        ),
        "{cfg}"
    );
    // clean up twice leaves nothing.
    for _ in 0..2 {
        b.clean_up_instance(&n).await.unwrap();
        bi.clean_up_instance(&n).await.unwrap();
    }
    assert_eq!(without_cache(tree(&e.config.tftp_root)), [] as [&str; 0]);
    assert_eq!(without_cache(tree(&e.config.http_root)), [] as [&str; 0]);
}

#[tokio::test]
async fn registry_composes_pxe_with_fake_hardware_and_its_management() {
    let e = env();
    let mut r = Registry::new();
    r.register(hwctl_core::fake::hardware_type());
    for b in hwctl_pxe::boot_interfaces(e.config.clone()) {
        r.register_boot_interface(b);
    }
    let n = node("node-9", BootMode::Bios);
    let node = r
        .build_node("fake-hardware", &info(&e), &n, Some("ipxe"))
        .unwrap();
    assert_eq!(node.boot_interface(), Some("ipxe"));
    node.boot()
        .unwrap()
        .prepare_ramdisk(&n, &params())
        .await
        .unwrap();
    let s = node.management().unwrap().get_boot_device().await.unwrap();
    assert_eq!(s.device, Some(BootDevice::Pxe));
    assert!(
        e.config
            .http_root
            .join("pxelinux.cfg/52-54-00-12-34-56")
            .exists()
    );
    // Errors are named after the hardware type and operation by the Node layers.
    let bad = r
        .build_node("fake-hardware", &DriverInfo::new(), &n, None)
        .unwrap();
    let err = bad
        .boot()
        .unwrap()
        .prepare_ramdisk(&n, &params())
        .await
        .unwrap_err();
    assert_eq!(err.operation(), Some("prepare ramdisk"));
    node.boot().unwrap().clean_up_ramdisk(&n).await.unwrap();
    let _ = e.base;
}

#[test]
fn config_from_toml_names_bad_keys() {
    let cfg = PxeConfig::from_toml_str(
        "[pxe]\ntftp_root = \"/srv/tftp\"\nimage_cache_size = 10\n[deploy]\nhttp_root = \"/srv/http\"\nhttp_url = \"http://h:1\"\n",
    )
    .unwrap();
    assert_eq!(cfg.image_cache_size, 10);
    assert_eq!(cfg.uefi_ipxe_bootfile_name, "snponly.efi");
    let err = PxeConfig::from_toml_str("[pxe]\ntftp_rot = \"/x\"\n").unwrap_err();
    assert_eq!(err.problems()[0].name, "tftp_rot");
    let err = PxeConfig::from_toml_str("image_cache_ttl = \"week\"\n").unwrap_err();
    assert_eq!(err.problems()[0].name, "image_cache_ttl", "{err}");
    let err =
        PxeConfig::from_toml_str("tftp_root = \"rel\"\nhttp_url = \"ftp://x\"\n").unwrap_err();
    let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["tftp_root", "http_url"]);
}

#[test]
fn dnsmasq_file_for_ipxe_tags_ipxe_clients() {
    let cfg = PxeConfig::default();
    let n = node("node-1", BootMode::Uefi);
    let opts = hwctl_pxe::dhcp::dhcp_options(&cfg, Flavor::Ipxe, BootMode::Uefi);
    let text = hwctl_pxe::dhcp::dnsmasq_config(&n, &opts).unwrap();
    check_expected("dnsmasq-ipxe-uefi.conf", &text);
    let text = hwctl_pxe::dhcp::dnsmasq_config(
        &n,
        &hwctl_pxe::dhcp::dhcp_options(&cfg, Flavor::Pxe, BootMode::Bios),
    )
    .unwrap();
    check_expected("dnsmasq-pxe-bios.conf", &text);
}

/// Newcomer report: every byte outside `[A-Za-z0-9_-]` became `_`, so nodes `a.b`
/// and `a_b` shared a tag, and one node's boot options were served to the
/// other's MACs.
#[test]
fn dnsmasq_tags_are_one_per_node_id() {
    let cfg = PxeConfig::default();
    let opts = hwctl_pxe::dhcp::dhcp_options(&cfg, Flavor::Pxe, BootMode::Bios);
    let tag_of = |id: &str| {
        let text = hwctl_pxe::dhcp::dnsmasq_config(&node(id, BootMode::Bios), &opts).unwrap();
        let line = text.lines().find(|l| l.starts_with("dhcp-host=")).unwrap();
        line.split_once(",set:").unwrap().1.to_owned()
    };
    let (dot, underscore) = (tag_of("a.b"), tag_of("a_b"));
    assert_ne!(dot, underscore);
    assert_eq!(
        (dot.as_str(), underscore.as_str()),
        ("hw-a_2eb", "hw-a_5fb")
    );
    // Every id of up to 3 characters over an alphabet of the escaped bytes: one tag
    // each, of letters, digits, `-` and `_` only.
    let alphabet = ['a', '1', '-', '_', '.', '~', ':', '+', 'é'];
    let mut ids = vec![String::new()];
    for _ in 0..3 {
        let longer: Vec<String> = ids
            .iter()
            .flat_map(|id| alphabet.iter().map(move |c| format!("{id}{c}")))
            .collect();
        ids.extend(longer);
    }
    ids.sort();
    ids.dedup();
    let mut seen = std::collections::HashMap::new();
    // An id starting with a dot cannot name the node's directory: refused before.
    for id in ids
        .iter()
        .filter(|id| !id.is_empty() && !id.starts_with('.'))
    {
        let tag = tag_of(id);
        assert!(
            tag.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id:?}: {tag}"
        );
        if let Some(other) = seen.insert(tag.clone(), id.clone()) {
            panic!("{id:?} and {other:?} share the tag {tag}");
        }
    }
    assert_eq!(seen.len(), 8 + 8 * 9 + 8 * 81);
}

#[tokio::test]
async fn ironic_templates_render_unchanged() {
    let e = env();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ironic");
    let mut cfg = (*e.config).clone();
    cfg.pxe_config_template = Some(fixtures.join("pxe_config.template"));
    cfg.ipxe_config_template = Some(fixtures.join("ipxe_config.template"));
    let cfg = Arc::new(cfg);
    let n = node("node-1", BootMode::Bios);
    let b = PxeBoot::new(Flavor::Pxe, cfg.clone(), info(&e), None);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    let text = std::fs::read_to_string(cfg.tftp_root.join("node-1/config")).unwrap();
    assert!(text.starts_with("default deploy\n\nlabel deploy\nkernel node-1/deploy_kernel\nappend initrd=node-1/deploy_ramdisk selinux=0 troubleshoot=0 text nofb vga=normal console=ttyS0 ipa-api-url=http://10.0.2.2:6385 ipa-debug=1\n"), "{text}");
    let bi = PxeBoot::new(Flavor::Ipxe, cfg.clone(), info(&e), None);
    bi.prepare_ramdisk(&n, &params()).await.unwrap();
    let text = std::fs::read_to_string(cfg.http_root.join("node-1/config")).unwrap();
    // Ironic's template names ipa-api-url itself: pxe_options['ipa-api-url'] is there.
    assert!(text.contains("BOOTIF=${mac} ipa-api-url=http://10.0.2.2:6385 initrd=deploy_ramdisk coreos.configdrive=0 || goto deploy"), "{text}");
    assert!(
        text.contains("initrd http://10.0.2.100/node-1/deploy_ramdisk || goto deploy"),
        "{text}"
    );
    assert!(!text.contains("boot_iscsi"));
}

#[test]
fn dnsmasq_accepts_the_generated_file() {
    let found = std::process::Command::new("sh")
        .args(["-c", "command -v dnsmasq >/dev/null"])
        .status()
        .is_ok_and(|s| s.success());
    if !hwctl_sim::testkit::require_peer("dnsmasq (dnsmasq-base)", found) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = PxeConfig::default();
    let n = node("node-1", BootMode::Uefi);
    let mut text = hwctl_pxe::dhcp::DNSMASQ_COMMON.to_owned();
    for (flavor, mode) in [
        (Flavor::Ipxe, BootMode::Uefi),
        (Flavor::Pxe, BootMode::Bios),
    ] {
        text += &hwctl_pxe::dhcp::dnsmasq_config(
            &n,
            &hwctl_pxe::dhcp::dhcp_options(&cfg, flavor, mode),
        )
        .unwrap();
    }
    // An escaped tag (`hw-rack_2e1_3anode_5f7`) is a tag dnsmasq takes too.
    let escaped = NodeContext::new("rack.1:node_7").with_port("52:54:00:aa:bb:01".parse().unwrap());
    text += &hwctl_pxe::dhcp::dnsmasq_config(
        &escaped,
        &hwctl_pxe::dhcp::dhcp_options(&cfg, Flavor::Pxe, BootMode::Bios),
    )
    .unwrap();
    assert!(text.contains("set:hw-rack_2e1_3anode_5f7\n"), "{text}");
    let path = dir.path().join("hwctl-pxe.conf");
    std::fs::write(&path, &text).unwrap();
    // dnsmasq parses the file as it would at start (--test: syntax check, then exit).
    let out = std::process::Command::new("dnsmasq")
        .arg("--test")
        .arg(format!("--conf-file={}", path.display()))
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}\n{text}");
    assert!(said.contains("syntax check OK"), "{said}");
    // A broken line is caught by the same check (so the check can fail).
    std::fs::write(&path, "dhcp-hots=52:54:00:12:34:56\n").unwrap();
    let out = std::process::Command::new("dnsmasq")
        .arg("--test")
        .arg(format!("--conf-file={}", path.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
}
