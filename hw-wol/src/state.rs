//! Where the power state of a node that cannot be queried is kept.
//!
//! Wake-on-LAN cannot read a machine's power state, so the state reported is the one
//! the caller last set. It is kept in hwctl-core's per-node state store
//! ([`hwctl_core::state::NodeStateStore`], value `power_state` under the node id and
//! the endpoint `staging-wol`), so an orchestrator that persists node state (in a
//! database, as Ironic keeps `node.power_state`) or a command-line tool with a state
//! directory (`hwctl --state-dir`) supplies its own store. [`StateStore`] is the
//! narrow view this crate uses; [`CoreStateStore`] adapts any hwctl-core store to it and
//! [`MemoryStateStore`] is hwctl-core's [`MemoryStore`] behind it.

use std::fmt;
use std::sync::Arc;

use hwctl_core::state::{MemoryStore, NodeStateExt as _, NodeStateStore, StateKey};
use hwctl_core::{PowerState, Result, async_trait};

/// The endpoint part of every Wake-on-LAN state key.
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::PowerState;
/// use hwctl_core::state::{NodeStateStore, StateKey};
/// use hwctl_wol::state::{POWER_STATE, STATE_ENDPOINT};
/// use hwctl_wol::{MemoryStateStore, StateStore};
/// let store = MemoryStateStore::new();
/// store.save("n1", PowerState::Off).await?;
/// let key = StateKey::new("n1", STATE_ENDPOINT);
/// assert_eq!(store.core().get(&key, POWER_STATE).await?, Some("off".into()));
/// # Ok(()) }
/// ```
pub const STATE_ENDPOINT: &str = "staging-wol";

/// The name of the recorded power state in the store.
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::state::{NodeStateStore, StateKey};
/// use hwctl_wol::MemoryStateStore;
/// use hwctl_wol::state::{POWER_STATE, STATE_ENDPOINT};
/// let store = MemoryStateStore::with_state("n1", hwctl_core::PowerState::On);
/// let key = StateKey::new("n1", STATE_ENDPOINT);
/// assert_eq!(store.core().get(&key, POWER_STATE).await?, Some("on".into()));
/// assert_eq!(store.core().get(&key, "other").await?, None);
/// # Ok(()) }
/// ```
pub const POWER_STATE: &str = "power_state";

/// Keeps the last power state set on each node, by node id.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use hwctl_core::PowerState;
/// use hwctl_wol::{MemoryStateStore, StateStore};
/// let store = MemoryStateStore::default();
/// assert_eq!(store.load("n1").await?, None);
/// store.save("n1", PowerState::On).await?;
/// assert_eq!(store.load("n1").await?, Some(PowerState::On));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait StateStore: Send + Sync + fmt::Debug {
    /// The state last saved for `node_id`, or `None` if never saved.
    ///
    /// # Errors
    ///
    /// Whatever the underlying store fails with ([`hwctl_core::ErrorKind::Other`] for
    /// an unreadable state file).
    async fn load(&self, node_id: &str) -> Result<Option<PowerState>>;

    /// Saves `state` for `node_id`.
    ///
    /// # Errors
    ///
    /// Whatever the underlying store fails with ([`hwctl_core::ErrorKind::Other`] for
    /// an unwritable state directory).
    async fn save(&self, node_id: &str, state: PowerState) -> Result<()>;
}

/// Any hwctl-core [`NodeStateStore`] as a [`StateStore`].
#[derive(Debug, Clone)]
pub struct CoreStateStore {
    store: Arc<dyn NodeStateStore>,
}

impl CoreStateStore {
    /// Wraps `store`.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::PowerState;
    /// use hwctl_core::state::MemoryStore;
    /// use hwctl_wol::{CoreStateStore, StateStore};
    /// let store = CoreStateStore::new(Arc::new(MemoryStore::new()));
    /// store.save("n1", PowerState::Off).await?;
    /// assert_eq!(store.load("n1").await?, Some(PowerState::Off));
    /// assert_eq!(store.load("n2").await?, None);
    /// # Ok(()) }
    /// ```
    pub fn new(store: Arc<dyn NodeStateStore>) -> Self {
        CoreStateStore { store }
    }

    /// The underlying store.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::sync::Arc;
    /// use hwctl_core::state::{MemoryStore, NodeStateStore, StateKey};
    /// use hwctl_wol::state::{POWER_STATE, STATE_ENDPOINT};
    /// use hwctl_wol::{CoreStateStore, StateStore};
    /// let store = CoreStateStore::new(Arc::new(MemoryStore::new()));
    /// store.save("n1", hwctl_core::PowerState::On).await?;
    /// let key = StateKey::new("n1", STATE_ENDPOINT);
    /// assert_eq!(store.inner().get(&key, POWER_STATE).await?, Some("on".into()));
    /// # Ok(()) }
    /// ```
    pub fn inner(&self) -> &Arc<dyn NodeStateStore> {
        &self.store
    }
}

fn key(node_id: &str) -> StateKey {
    StateKey::new(node_id, STATE_ENDPOINT)
}

#[async_trait]
impl StateStore for CoreStateStore {
    async fn load(&self, node_id: &str) -> Result<Option<PowerState>> {
        self.store.get_typed(&key(node_id), POWER_STATE).await
    }

    async fn save(&self, node_id: &str, state: PowerState) -> Result<()> {
        self.store
            .set_typed(&key(node_id), POWER_STATE, &state)
            .await
    }
}

/// An in-memory [`StateStore`] (hwctl-core's [`MemoryStore`]): state lives as long as
/// the store (share it with an `Arc` between nodes, or let each node have its own).
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    inner: Arc<MemoryStore>,
}

impl MemoryStateStore {
    /// An empty store.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_wol::{MemoryStateStore, StateStore};
    /// assert_eq!(MemoryStateStore::new().load("n1").await?, None);
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        MemoryStateStore::default()
    }

    /// A store that already knows `node_id` is in `state` (e.g. from an inventory).
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerState;
    /// use hwctl_wol::{MemoryStateStore, StateStore};
    /// let store = MemoryStateStore::with_state("n1", PowerState::On);
    /// assert_eq!(store.load("n1").await?, Some(PowerState::On));
    /// assert_eq!(store.load("n2").await?, None);
    /// # Ok(()) }
    /// ```
    pub fn with_state(node_id: impl Into<String>, state: PowerState) -> Self {
        let store = MemoryStateStore::default();
        if let Ok(v) = serde_json::to_value(state) {
            store.inner.insert(key(&node_id.into()), POWER_STATE, v);
        }
        store
    }

    /// The hwctl-core store underneath.
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::PowerState;
    /// use hwctl_wol::{CoreStateStore, MemoryStateStore, StateStore};
    /// // A second view over the same state: what one saves, the other loads.
    /// let memory = MemoryStateStore::new();
    /// let view = CoreStateStore::new(memory.core());
    /// view.save("n1", PowerState::Off).await?;
    /// assert_eq!(memory.load("n1").await?, Some(PowerState::Off));
    /// # Ok(()) }
    /// ```
    pub fn core(&self) -> Arc<dyn NodeStateStore> {
        self.inner.clone()
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn load(&self, node_id: &str) -> Result<Option<PowerState>> {
        self.inner.get_typed(&key(node_id), POWER_STATE).await
    }

    async fn save(&self, node_id: &str, state: PowerState) -> Result<()> {
        self.inner
            .set_typed(&key(node_id), POWER_STATE, &state)
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_core_store_and_the_memory_store_agree() {
        let core = Arc::new(MemoryStore::new());
        let s = CoreStateStore::new(core.clone());
        s.save("n", PowerState::Off).await.unwrap();
        assert_eq!(s.load("n").await.unwrap(), Some(PowerState::Off));
        assert_eq!(
            core.get(&key("n"), POWER_STATE).await.unwrap(),
            Some(serde_json::Value::from("off"))
        );
        let m = MemoryStateStore::with_state("n", PowerState::On);
        assert_eq!(m.load("n").await.unwrap(), Some(PowerState::On));
    }
}
