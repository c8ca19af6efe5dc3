//! Per-node state a driver keeps between calls, and between processes: a pluggable
//! store keyed by node id and endpoint.
//!
//! Some devices forget or cannot report what a driver must know: Wake-on-LAN cannot
//! read the power state (the last one set is reported), Intel AMT forgets the boot
//! device after one boot (the wanted device is kept and re-applied before every
//! power on, as Ironic kept it in `driver_internal_info`). Such state goes through a
//! [`NodeStateStore`]: small named JSON values under a [`StateKey`] (node id +
//! endpoint, so two nodes with one id on different BMCs do not mix).
//!
//! - [`MemoryStore`]: lives as long as the process (the default);
//! - [`FileStore`]: one JSON file per key in a state directory, written atomically
//!   (temporary file + rename), so a command-line tool keeps state across runs;
//! - an orchestrator with a database implements the trait itself.
//!
//! [`set_global`] installs the store that drivers use when they are not given one
//! (`hwctl` installs a [`FileStore`] on its `--state-dir`); [`configured_global`] returns it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_core::state::{MemoryStore, NodeStateExt, NodeStateStore, StateKey};
//! let store = MemoryStore::new();
//! let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
//! assert_eq!(store.get(&key, "boot_device").await?, None);
//! store.set_typed(&key, "boot_device", &"pxe").await?;
//! assert_eq!(store.get_typed::<String>(&key, "boot_device").await?.as_deref(), Some("pxe"));
//! store.remove(&key, "boot_device").await?;
//! assert_eq!(store.get(&key, "boot_device").await?, None);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// The largest value a store accepts, serialized, in bytes: state is small (a boot
/// device, a power state), not a database.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Whose state: a node id and the endpoint that drives it (`amt://10.0.0.5:16992`,
/// `wol:52:54:00:…`).
///
/// ```
/// use hwctl_core::state::StateKey;
/// let key = StateKey::new("node-1", "ipmi://10.0.0.5:623");
/// assert_eq!(key.to_string(), "node-1 at ipmi://10.0.0.5:623");
/// // One node id behind two BMCs: two keys.
/// assert_ne!(key, StateKey::new("node-1", "ipmi://10.0.0.6:623"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey {
    /// The node's id (name or UUID).
    pub node_id: String,
    /// The endpoint, as the driver names it.
    pub endpoint: String,
}

impl StateKey {
    /// A key for `node_id` behind `endpoint`.
    ///
    /// ```
    /// use hwctl_core::state::StateKey;
    /// let key = StateKey::new("node-1", "wol:52:54:00:12:34:56");
    /// assert_eq!((key.node_id.as_str(), key.endpoint.as_str()), ("node-1", "wol:52:54:00:12:34:56"));
    /// ```
    pub fn new(node_id: impl Into<String>, endpoint: impl Into<String>) -> Self {
        StateKey {
            node_id: node_id.into(),
            endpoint: endpoint.into(),
        }
    }
}

impl fmt::Display for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.node_id, self.endpoint)
    }
}

/// A store of small named JSON values per [`StateKey`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey};
/// // Drivers hold a store as a trait object.
/// let store: Arc<dyn NodeStateStore> = Arc::new(MemoryStore::new());
/// let key = StateKey::new("node-1", "wol:52:54:00:12:34:56");
/// store.set(&key, "power_state", "on".into()).await?;
/// assert_eq!(store.get(&key, "power_state").await?, Some("on".into()));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait NodeStateStore: Send + Sync + fmt::Debug {
    /// The value named `name` for `key`, or `None` if never set (or removed).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] when the store cannot be read (a file store's I/O error
    /// or a file that is not JSON).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey};
    /// let store = MemoryStore::new();
    /// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
    /// assert_eq!(store.get(&key, "boot_device").await?, None); // never set
    /// store.set(&key, "boot_device", serde_json::json!({"device": "pxe"})).await?;
    /// let v = store.get(&key, "boot_device").await?.unwrap();
    /// assert_eq!(v["device"], "pxe");
    /// # Ok(()) }
    /// ```
    async fn get(&self, key: &StateKey, name: &str) -> Result<Option<Value>>;

    /// Sets `name` for `key` to `value`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for a value over [`MAX_VALUE_BYTES`];
    /// [`ErrorKind::Other`] when the store cannot be written.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey, MAX_VALUE_BYTES};
    /// let store = MemoryStore::new();
    /// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
    /// store.set(&key, "boot_device", "pxe".into()).await?;
    /// store.set(&key, "boot_device", "disk".into()).await?; // replaces
    /// assert_eq!(store.get(&key, "boot_device").await?, Some("disk".into()));
    /// let big = "x".repeat(MAX_VALUE_BYTES);
    /// let err = store.set(&key, "blob", big.into()).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// # Ok(()) }
    /// ```
    async fn set(&self, key: &StateKey, name: &str, value: Value) -> Result<()>;

    /// Removes `name` for `key` (nothing if absent).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] when the store cannot be written.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey};
    /// let store = MemoryStore::new();
    /// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
    /// store.set(&key, "boot_device", "pxe".into()).await?;
    /// store.remove(&key, "boot_device").await?;
    /// store.remove(&key, "boot_device").await?; // absent: still Ok
    /// assert_eq!(store.get(&key, "boot_device").await?, None);
    /// # Ok(()) }
    /// ```
    async fn remove(&self, key: &StateKey, name: &str) -> Result<()>;
}

/// Typed access to any [`NodeStateStore`] (serde).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::PowerState;
/// use hwctl_core::state::{MemoryStore, NodeStateExt, StateKey};
/// let store = MemoryStore::new();
/// let key = StateKey::new("node-1", "wol:52:54:00:12:34:56");
/// store.set_typed(&key, "last_power", &PowerState::On).await?;
/// assert_eq!(store.get_typed(&key, "last_power").await?, Some(PowerState::On));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait NodeStateExt: NodeStateStore {
    /// [`get`](NodeStateStore::get) decoded as `T`.
    ///
    /// # Errors
    ///
    /// As `get`; [`ErrorKind::Other`] when the stored value is not a `T`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::ErrorKind;
    /// use hwctl_core::state::{MemoryStore, NodeStateExt, NodeStateStore, StateKey};
    /// let store = MemoryStore::new();
    /// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
    /// store.set(&key, "retries", 3.into()).await?;
    /// assert_eq!(store.get_typed::<u32>(&key, "retries").await?, Some(3));
    /// assert_eq!(store.get_typed::<u32>(&key, "absent").await?, None);
    /// let err = store.get_typed::<String>(&key, "retries").await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Other); // stored a number, asked for text
    /// # Ok(()) }
    /// ```
    async fn get_typed<T: serde::de::DeserializeOwned + Send>(
        &self,
        key: &StateKey,
        name: &str,
    ) -> Result<Option<T>> {
        match self.get(key, name).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
                Error::new(
                    ErrorKind::Other,
                    format!("stored state {name:?} of {key} has an unexpected shape"),
                )
                .with_source(e)
            }),
        }
    }

    /// [`set`](NodeStateStore::set) from a `T`.
    ///
    /// # Errors
    ///
    /// As `set`; [`ErrorKind::Other`] when `value` does not serialize.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::collections::BTreeMap;
    /// use hwctl_core::state::{MemoryStore, NodeStateExt, NodeStateStore, StateKey};
    /// let store = MemoryStore::new();
    /// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
    /// let wanted = BTreeMap::from([("device", "pxe"), ("persistence", "once")]);
    /// store.set_typed(&key, "boot", &wanted).await?;
    /// let raw = store.get(&key, "boot").await?.unwrap();
    /// assert_eq!(raw, serde_json::json!({"device": "pxe", "persistence": "once"}));
    /// # Ok(()) }
    /// ```
    async fn set_typed<T: serde::Serialize + Sync + ?Sized>(
        &self,
        key: &StateKey,
        name: &str,
        value: &T,
    ) -> Result<()> {
        let v = serde_json::to_value(value).map_err(|e| {
            Error::new(
                ErrorKind::Other,
                format!("state {name:?} does not serialize"),
            )
            .with_source(e)
        })?;
        self.set(key, name, v).await
    }
}

impl<S: NodeStateStore + ?Sized> NodeStateExt for S {}

fn check_size(name: &str, value: &Value) -> Result<()> {
    let n = serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if n > MAX_VALUE_BYTES {
        return Err(Error::invalid_parameter(
            name,
            format!("state value of {n} bytes is over the {MAX_VALUE_BYTES}-byte limit"),
        ));
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An in-memory [`NodeStateStore`]: state lives as long as the store.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey};
/// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
/// let store = MemoryStore::new();
/// store.set(&key, "boot_device", "pxe".into()).await?;
/// // A new store starts empty: nothing outlives the process.
/// assert_eq!(MemoryStore::new().get(&key, "boot_device").await?, None);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<StateKey, BTreeMap<String, Value>>>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// ```
    /// use hwctl_core::state::MemoryStore;
    /// let store = MemoryStore::new();
    /// assert!(format!("{store:?}").starts_with("MemoryStore"));
    /// ```
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Sets a value without awaiting (for seeding a store from an inventory).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey};
    /// let store = MemoryStore::new();
    /// let key = StateKey::new("node-1", "wol:52:54:00:12:34:56");
    /// store.insert(key.clone(), "power_state", "off".into()); // no .await
    /// assert_eq!(store.get(&key, "power_state").await?, Some("off".into()));
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, key: StateKey, name: impl Into<String>, value: Value) {
        lock(&self.values)
            .entry(key)
            .or_default()
            .insert(name.into(), value);
    }
}

#[async_trait]
impl NodeStateStore for MemoryStore {
    async fn get(&self, key: &StateKey, name: &str) -> Result<Option<Value>> {
        Ok(lock(&self.values)
            .get(key)
            .and_then(|m| m.get(name))
            .cloned())
    }

    async fn set(&self, key: &StateKey, name: &str, value: Value) -> Result<()> {
        check_size(name, &value)?;
        self.insert(key.clone(), name, value);
        Ok(())
    }

    async fn remove(&self, key: &StateKey, name: &str) -> Result<()> {
        let mut m = lock(&self.values);
        if let Some(values) = m.get_mut(key) {
            values.remove(name);
            if values.is_empty() {
                m.remove(key);
            }
        }
        Ok(())
    }
}

/// A [`NodeStateStore`] in a directory: one JSON file per key
/// (`<node id, made file-safe>-<16 hex digits of SHA-256 of node id and endpoint>.json`,
/// holding the node id, the endpoint and the values), replaced atomically on every
/// change (written to a temporary file in the same directory, synced, renamed), so
/// a reader never sees half a file. Changes within one process are serialized;
/// two processes changing the same node at once may lose one change (last writer
/// wins), never corrupt the file.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::state::{FileStore, NodeStateStore, StateKey};
/// let dir = std::env::temp_dir().join(format!("hw-core-doc-{}", std::process::id()));
/// let key = StateKey::new("n1", "amt://127.0.0.1:16992");
/// FileStore::new(&dir).set(&key, "boot_device", "pxe".into()).await?;
/// // Another store on the same directory (another run of the program) sees it.
/// assert_eq!(FileStore::new(&dir).get(&key, "boot_device").await?, Some("pxe".into()));
/// # std::fs::remove_dir_all(&dir).ok(); Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    write: Mutex<()>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FileContent {
    node_id: String,
    endpoint: String,
    values: BTreeMap<String, Value>,
}

impl FileStore {
    /// A store in `dir` (created, with its parents, on the first write).
    ///
    /// ```
    /// use std::path::Path;
    /// use hwctl_core::state::FileStore;
    /// let store = FileStore::new("/var/lib/hwctl/state"); // nothing created yet
    /// assert_eq!(store.dir(), Path::new("/var/lib/hwctl/state"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore {
            dir: dir.into(),
            write: Mutex::new(()),
        }
    }

    /// The directory.
    ///
    /// ```
    /// use std::path::Path;
    /// use hwctl_core::state::FileStore;
    /// assert_eq!(FileStore::new("state").dir(), Path::new("state"));
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding `key`'s values.
    ///
    /// ```
    /// use hwctl_core::state::{FileStore, StateKey};
    /// let store = FileStore::new("/var/lib/hwctl/state");
    /// let path = store.path_of(&StateKey::new("rack 1/node 7", "ipmi://10.0.0.5:623"));
    /// assert!(path.starts_with("/var/lib/hwctl/state"));
    /// let name = path.file_name().unwrap().to_str().unwrap();
    /// // The node id made file-safe, a dash, 16 hex digits, ".json".
    /// assert!(name.starts_with("rack_1_node_7-"));
    /// assert_eq!(name.len(), "rack_1_node_7-".len() + 16 + ".json".len());
    /// // Another endpoint: another file.
    /// assert_ne!(path, store.path_of(&StateKey::new("rack 1/node 7", "ipmi://10.0.0.6:623")));
    /// ```
    pub fn path_of(&self, key: &StateKey) -> PathBuf {
        let safe: String = key
            .node_id
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut h = Sha256::new();
        h.update(key.node_id.as_bytes());
        h.update([0u8]);
        h.update(key.endpoint.as_bytes());
        let digest = h.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{safe}-{hex}.json"))
    }

    fn io_error(&self, what: &str, path: &Path, e: std::io::Error) -> Error {
        Error::new(
            ErrorKind::Other,
            format!("node state store: cannot {what} {}", path.display()),
        )
        .with_source(e)
    }

    fn read(&self, key: &StateKey) -> Result<BTreeMap<String, Value>> {
        let path = self.path_of(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(self.io_error("read", &path, e)),
        };
        let content: FileContent = serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::Other,
                format!("node state store: {} is not a state file", path.display()),
            )
            .with_source(e)
        })?;
        if content.node_id != key.node_id || content.endpoint != key.endpoint {
            // A hash collision on 64 bits: treat as empty rather than mix nodes.
            return Ok(BTreeMap::new());
        }
        Ok(content.values)
    }

    fn write(&self, key: &StateKey, values: BTreeMap<String, Value>) -> Result<()> {
        let path = self.path_of(key);
        if values.is_empty() {
            return match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(self.io_error("remove", &path, e)),
            };
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io_error("create", &self.dir, e))?;
        let content = FileContent {
            node_id: key.node_id.clone(),
            endpoint: key.endpoint.clone(),
            values,
        };
        let bytes = serde_json::to_vec_pretty(&content)
            .map_err(|e| Error::new(ErrorKind::Other, "state does not serialize").with_source(e))?;
        let tmp = path.with_extension(format!("json.tmp.{}.{}", std::process::id(), rand_suffix()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io_error("write", &path, e));
        }
        Ok(())
    }

    fn update(
        &self,
        key: &StateKey,
        change: impl FnOnce(&mut BTreeMap<String, Value>),
    ) -> Result<()> {
        let _guard = lock(&self.write);
        let mut values = self.read(key)?;
        change(&mut values);
        self.write(key, values)
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[async_trait]
impl NodeStateStore for FileStore {
    async fn get(&self, key: &StateKey, name: &str) -> Result<Option<Value>> {
        Ok(self.read(key)?.remove(name))
    }

    async fn set(&self, key: &StateKey, name: &str, value: Value) -> Result<()> {
        check_size(name, &value)?;
        self.update(key, |m| {
            m.insert(name.to_owned(), value);
        })
    }

    async fn remove(&self, key: &StateKey, name: &str) -> Result<()> {
        self.update(key, |m| {
            m.remove(name);
        })
    }
}

fn global_slot() -> &'static RwLock<Option<Arc<dyn NodeStateStore>>> {
    static SLOT: OnceLock<RwLock<Option<Arc<dyn NodeStateStore>>>> = OnceLock::new();
    SLOT.get_or_init(|| RwLock::new(None))
}

/// Installs `store` as the process's store for drivers not given one (`hwctl`
/// installs a [`FileStore`] on its state directory).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::sync::Arc;
/// use hwctl_core::state::{self, MemoryStore, NodeStateStore, StateKey};
/// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
/// let mine = Arc::new(MemoryStore::new());
/// state::set_global(mine.clone());
/// // A driver that was not given a store uses the global one.
/// state::global_or_memory().set(&key, "boot_device", "pxe".into()).await?;
/// assert_eq!(mine.get(&key, "boot_device").await?, Some("pxe".into()));
/// # Ok(()) }
/// ```
pub fn set_global(store: Arc<dyn NodeStateStore>) {
    *global_slot()
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(store);
}

/// The store installed with [`set_global`], if any.
///
/// ```
/// use std::sync::Arc;
/// use hwctl_core::state::{self, MemoryStore};
/// assert!(state::configured_global().is_none()); // nothing installed yet
/// state::set_global(Arc::new(MemoryStore::new()));
/// assert!(state::configured_global().is_some());
/// ```
pub fn configured_global() -> Option<Arc<dyn NodeStateStore>> {
    global_slot()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The store installed with [`set_global`], else a fresh [`MemoryStore`] (state
/// kept only by whoever holds it).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::state::{self, NodeStateStore, StateKey};
/// let key = StateKey::new("node-1", "amt://10.0.0.5:16992");
/// // Nothing installed: each call gives a fresh, empty memory store.
/// state::global_or_memory().set(&key, "boot_device", "pxe".into()).await?;
/// assert_eq!(state::global_or_memory().get(&key, "boot_device").await?, None);
/// # Ok(()) }
/// ```
pub fn global_or_memory() -> Arc<dyn NodeStateStore> {
    configured_global().unwrap_or_else(|| Arc::new(MemoryStore::new()))
}

/// The XDG state directory for an application: `$XDG_STATE_HOME/<app>`, else
/// `$HOME/.local/state/<app>`; `None` without either variable.
///
/// ```
/// use std::path::PathBuf;
/// use hwctl_core::state::xdg_state_dir;
/// // SAFETY: single-threaded here; nothing else reads the environment.
/// unsafe { std::env::set_var("XDG_STATE_HOME", "/srv/state") };
/// assert_eq!(xdg_state_dir("hwctl"), Some(PathBuf::from("/srv/state/hwctl")));
/// // A relative XDG_STATE_HOME is ignored (the XDG rule): $HOME/.local/state then.
/// unsafe {
///     std::env::set_var("XDG_STATE_HOME", "state");
///     std::env::set_var("HOME", "/home/op");
/// }
/// assert_eq!(xdg_state_dir("hwctl"), Some(PathBuf::from("/home/op/.local/state/hwctl")));
/// ```
pub fn xdg_state_dir(app: &str) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        let d = PathBuf::from(d);
        if d.is_absolute() {
            return Some(d.join(app));
        }
    }
    let home = std::env::var_os("HOME").filter(|d| !d.is_empty())?;
    Some(PathBuf::from(home).join(".local").join("state").join(app))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "hw-core-state-{tag}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    async fn exercise(store: &dyn NodeStateStore) {
        let a = StateKey::new("n1", "amt://h:1");
        let b = StateKey::new("n1", "amt://h:2");
        store.set(&a, "x", Value::from(1)).await.unwrap();
        store.set(&b, "x", Value::from(2)).await.unwrap();
        assert_eq!(store.get(&a, "x").await.unwrap(), Some(Value::from(1)));
        assert_eq!(store.get(&b, "x").await.unwrap(), Some(Value::from(2)));
        store.set_typed(&a, "y", &true).await.unwrap();
        assert_eq!(store.get_typed::<bool>(&a, "y").await.unwrap(), Some(true));
        assert!(store.get_typed::<String>(&a, "y").await.is_err());
        store.remove(&a, "x").await.unwrap();
        store.remove(&a, "nothing").await.unwrap();
        assert_eq!(store.get(&a, "x").await.unwrap(), None);
        let big = Value::String("x".repeat(MAX_VALUE_BYTES + 1));
        assert_eq!(
            store.set(&a, "big", big).await.unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
    }

    #[tokio::test]
    async fn memory_store_keys_by_node_and_endpoint() {
        exercise(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn file_store_keys_by_node_and_endpoint_and_survives_a_new_store() {
        let dir = tmpdir("a");
        exercise(&FileStore::new(&dir)).await;
        let again = FileStore::new(&dir);
        let b = StateKey::new("n1", "amt://h:2");
        assert_eq!(again.get(&b, "x").await.unwrap(), Some(Value::from(2)));
        // No temporary file is left behind.
        for e in std::fs::read_dir(&dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(name.ends_with(".json"), "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn file_store_odd_node_ids_stay_in_the_directory() {
        let dir = tmpdir("b");
        let store = FileStore::new(&dir);
        let key = StateKey::new("../../etc/passwd\u{0}é", "x");
        store.set(&key, "k", Value::from("v")).await.unwrap();
        assert!(store.path_of(&key).starts_with(&dir));
        assert_eq!(store.get(&key, "k").await.unwrap(), Some(Value::from("v")));
        store.remove(&key, "k").await.unwrap();
        assert!(!store.path_of(&key).exists());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_not_a_panic() {
        let dir = tmpdir("c");
        let store = FileStore::new(&dir);
        let key = StateKey::new("n", "e");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(store.path_of(&key), b"{not json").unwrap();
        assert_eq!(
            store.get(&key, "k").await.unwrap_err().kind(),
            ErrorKind::Other
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn xdg_dir_is_under_state_home() {
        // Only checks the shape: environment variables are process-wide.
        if let Some(d) = xdg_state_dir("hwctl") {
            assert!(d.ends_with("hwctl"));
        }
    }
}
