//! The master-image cache: one copy of each image, hard-linked into every node's
//! directory, bounded by size and age (Ironic's `ImageCache`: only entries no node
//! links to, `nlink == 1`, are evicted; oldest first).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use hwctl_core::{Error, ErrorKind, Result};
use sha2::Digest;

use crate::inputs::{Checksum, ChecksumAlgo, ImageRef, ImageSource};
use crate::layout::{self, io_err};

/// A master-image cache directory.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::time::Duration;
/// use hwctl_pxe::{ImageCache, ImageRef};
/// let dir = tempfile::tempdir().unwrap();
/// let src = dir.path().join("ipa.kernel");
/// std::fs::write(&src, b"kernel").unwrap();
/// let cache = ImageCache::new(dir.path().join("master"), 1 << 30, Duration::from_secs(3600));
/// let image = ImageRef::parse("deploy_kernel", &src.display().to_string(), None)?;
/// std::fs::create_dir(dir.path().join("n1")).unwrap();
/// cache.link_into(&image, &dir.path().join("n1/deploy_kernel")).await?;
/// cache.link_into(&image, &dir.path().join("n1/again")).await?;
/// assert_eq!(cache.entries().len(), 1); // one master copy, two links
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ImageCache {
    dir: PathBuf,
    max_bytes: u64,
    ttl: Duration,
    file_mode: u32,
    dir_mode: Option<u32>,
    download_timeout: Duration,
    lock: tokio::sync::Mutex<()>,
}

/// What an eviction pass removed.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::time::Duration;
/// use hwctl_pxe::{ImageCache, ImageRef, cache::Evicted};
/// let dir = tempfile::tempdir().unwrap();
/// let src = dir.path().join("ipa.kernel");
/// std::fs::write(&src, b"kernel").unwrap();
/// let cache = ImageCache::new(dir.path().join("master"), 1 << 30, Duration::ZERO);
/// let image = ImageRef::parse("deploy_kernel", &src.display().to_string(), None)?;
/// let dest = dir.path().join("deploy_kernel");
/// cache.link_into(&image, &dest).await?;
/// assert_eq!(cache.evict().await, Evicted::default()); // still linked: in use
/// std::fs::remove_file(&dest).unwrap();
/// assert_eq!(cache.evict().await.by_age, 1);
/// assert!(cache.entries().is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    /// Entries removed for their age.
    pub by_age: usize,
    /// Entries removed to bring the cache under its size.
    pub by_size: usize,
}

impl ImageCache {
    /// A cache in `dir` bounded by `max_bytes` and `ttl`.
    ///
    /// ```
    /// use std::{path::Path, time::Duration};
    /// let cache = hwctl_pxe::ImageCache::new("/var/cache/hw/master", 20 << 30, Duration::from_secs(7 * 86400));
    /// assert_eq!(cache.dir(), Path::new("/var/cache/hw/master"));
    /// assert!(cache.entries().is_empty()); // no such directory yet: nothing cached
    /// ```
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64, ttl: Duration) -> Self {
        ImageCache {
            dir: dir.into(),
            max_bytes,
            ttl,
            file_mode: 0o644,
            dir_mode: None,
            download_timeout: Duration::from_secs(600),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The process-wide cache for `config`'s master path of the `ipxe` (true) or
    /// `pxe` (false) root: every node of the process shares one.
    ///
    /// ```
    /// use std::{path::Path, sync::Arc};
    /// use hwctl_pxe::{ImageCache, PxeConfig};
    /// let config = PxeConfig::with_roots(Path::new("/srv/b"), "http://192.0.2.1:8080");
    /// assert!(Arc::ptr_eq(&ImageCache::shared(&config, true), &ImageCache::shared(&config, true)));
    /// assert!(!Arc::ptr_eq(&ImageCache::shared(&config, true), &ImageCache::shared(&config, false)));
    /// ```
    pub fn shared(config: &crate::PxeConfig, ipxe: bool) -> Arc<ImageCache> {
        static CACHES: OnceLock<Mutex<HashMap<PathBuf, Arc<ImageCache>>>> = OnceLock::new();
        let dir = config.master_path(ipxe);
        let map = CACHES.get_or_init(Mutex::default);
        let mut map = map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(dir.clone())
            .or_insert_with(|| {
                let mut c = ImageCache::new(dir, config.cache_size_bytes(), config.cache_ttl());
                c.file_mode = config.file_permission;
                c.dir_mode = config.dir_permission;
                c.download_timeout = Duration::from_secs(config.image_download_timeout.max(1));
                Arc::new(c)
            })
            .clone()
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Puts `image` at `dest` (a hard link to the master copy), fetching the master
    /// when missing, then evicts what the bounds say.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming the image's key for an unreadable
    /// file, a failed download or a checksum mismatch; [`ErrorKind::DeviceFault`]
    /// for a local file-system failure.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::time::Duration;
    /// use hwctl_pxe::{ImageCache, ImageRef};
    /// let dir = tempfile::tempdir().unwrap();
    /// let src = dir.path().join("ipa.kernel");
    /// std::fs::write(&src, b"kernel").unwrap();
    /// let cache = ImageCache::new(dir.path().join("master"), 1 << 30, Duration::from_secs(60));
    /// let wrong = ImageRef::parse("deploy_kernel", &src.display().to_string(), Some(&"0".repeat(64)))?;
    /// let err = cache.link_into(&wrong, &dir.path().join("k")).await.unwrap_err();
    /// assert!(err.to_string().contains("deploy_kernel"));
    /// assert!(!dir.path().join("k").exists());
    /// # Ok(()) }
    /// ```
    pub async fn link_into(&self, image: &ImageRef, dest: &Path) -> Result<()> {
        let _guard = self.lock.lock().await;
        layout::ensure_dir(&self.dir, self.dir_mode)?;
        let master = self.dir.join(master_name(image)?);
        if !master.exists() {
            self.fetch(image, &master).await?;
        } else if let Ok(f) = std::fs::File::options().append(true).open(&master) {
            // touch: the entry's age counts from its last use
            let _ = f.set_modified(SystemTime::now());
        }
        layout::hardlink_atomic(&master, dest, self.file_mode)?;
        self.evict_locked();
        Ok(())
    }

    async fn fetch(&self, image: &ImageRef, master: &Path) -> Result<()> {
        let tmp = self.dir.join(format!(
            "{}{}",
            layout::TMP_PREFIX,
            master
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("image")
        ));
        let key = image.key.clone();
        let res = match &image.source {
            ImageSource::Path(p) => {
                let (p, t) = (p.clone(), tmp.clone());
                tokio::task::spawn_blocking(move || std::fs::copy(&p, &t).map(drop))
                    .await
                    .map_err(|e| {
                        Error::new(ErrorKind::DeviceFault, format!("copy task failed: {e}"))
                    })?
                    .map_err(|e| {
                        Error::invalid_parameter(key.clone(), format!("cannot read the image: {e}"))
                    })
            }
            ImageSource::Http(url) => self.download(&key, url, &tmp).await,
        };
        let res = res.and_then(|()| match &image.checksum {
            Some(sum) => verify(&key, &tmp, sum),
            None => Ok(()),
        });
        let res = res.and_then(|()| {
            set_mode(&tmp, self.file_mode)
                .and_then(|()| std::fs::rename(&tmp, master))
                .map_err(|e| io_err("store", master, &e))
        });
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res
    }

    async fn download(&self, key: &str, url: &url::Url, tmp: &Path) -> Result<()> {
        let origin = url.origin().ascii_serialization();
        let fail = |e: Error| {
            Error::invalid_parameter(key.to_owned(), format!("cannot download the image: {e}"))
        };
        let cfg = hwctl_http::EndpointConfig::builder(origin)
            .request_timeout(self.download_timeout)
            .max_body_bytes(usize::MAX / 2)
            .build()
            .map_err(fail)?;
        let client = hwctl_http::HttpClients::global().get(&cfg).map_err(fail)?;
        let mut path = url.path().to_owned();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let resp = client
            .send(hwctl_http::Request::get(path).operation("download image"))
            .await
            .and_then(hwctl_http::Response::error_for_status)
            .map_err(fail)?;
        std::fs::write(tmp, resp.body()).map_err(|e| io_err("write", tmp, &e))
    }

    /// Evicts unused entries older than the TTL, then unused entries oldest first
    /// until the cache fits its size.
    pub async fn evict(&self) -> Evicted {
        let _guard = self.lock.lock().await;
        self.evict_locked()
    }

    fn evict_locked(&self) -> Evicted {
        let mut out = Evicted::default();
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        let now = SystemTime::now();
        // (mtime, size, in use, path)
        let mut entries: Vec<(SystemTime, u64, bool, PathBuf)> = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with(layout::TMP_PREFIX) {
                continue;
            }
            let Ok(md) = e.metadata() else { continue };
            if !md.is_file() {
                continue;
            }
            let mtime = md.modified().unwrap_or(now);
            entries.push((mtime, md.len(), nlink(&md) > 1, e.path()));
        }
        entries.sort();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        let mut keep = Vec::new();
        for (mtime, size, used, path) in entries {
            let age = now.duration_since(mtime).unwrap_or_default();
            if !used && age > self.ttl && std::fs::remove_file(&path).is_ok() {
                out.by_age += 1;
                total = total.saturating_sub(size);
            } else {
                keep.push((size, used, path));
            }
        }
        for (size, used, path) in keep {
            if total <= self.max_bytes {
                break;
            }
            if !used && std::fs::remove_file(&path).is_ok() {
                out.by_size += 1;
                total = total.saturating_sub(size);
            }
        }
        out
    }

    /// The cached master files (names), for tests and `hwctl`.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with(layout::TMP_PREFIX))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn nlink(md: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        md.nlink()
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        1
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The master file name: a SHA-256 of the source (for a local file, also its size
/// and modification time, so a changed file is fetched again) and the checksum.
fn master_name(image: &ImageRef) -> Result<String> {
    let mut h = sha2::Sha256::new();
    match &image.source {
        ImageSource::Path(p) => {
            let md = std::fs::metadata(p).map_err(|e| {
                Error::invalid_parameter(image.key.clone(), format!("cannot read the image: {e}"))
            })?;
            if !md.is_file() {
                return Err(Error::invalid_parameter(
                    image.key.clone(),
                    "is not a regular file",
                ));
            }
            h.update(p.to_string_lossy().as_bytes());
            h.update(md.len().to_le_bytes());
            let mt = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .unwrap_or_default();
            h.update(mt.as_nanos().to_le_bytes());
        }
        ImageSource::Http(u) => h.update(u.as_str().as_bytes()),
    }
    if let Some(c) = &image.checksum {
        h.update(c.hex.as_bytes());
    }
    Ok(hex::encode(&h.finalize()[..20]))
}

fn verify(key: &str, path: &Path, sum: &Checksum) -> Result<()> {
    let mut f = std::fs::File::open(path).map_err(|e| io_err("read", path, &e))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut md5 = md5::Md5::new();
    let mut s256 = sha2::Sha256::new();
    let mut s512 = sha2::Sha512::new();
    loop {
        let n = f.read(&mut buf).map_err(|e| io_err("read", path, &e))?;
        if n == 0 {
            break;
        }
        match sum.algo {
            ChecksumAlgo::Md5 => md5.update(&buf[..n]),
            ChecksumAlgo::Sha256 => s256.update(&buf[..n]),
            ChecksumAlgo::Sha512 => s512.update(&buf[..n]),
        }
    }
    let got = match sum.algo {
        ChecksumAlgo::Md5 => hex::encode(md5.finalize()),
        ChecksumAlgo::Sha256 => hex::encode(s256.finalize()),
        ChecksumAlgo::Sha512 => hex::encode(s512.finalize()),
    };
    if got == sum.hex {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            format!("{key}_checksum"),
            format!("does not match the image (got {got})"),
        ))
    }
}
