//! Where the power state of a node that cannot be queried is kept.
//!
//! Wake-on-LAN cannot read a machine's power state, so the state reported is the one
//! the caller last set. An orchestrator that persists node state (in a database, as
//! Ironic keeps `node.power_state`) supplies its own [`StateStore`]; the default is
//! [`MemoryStateStore`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use hw_core::{PowerState, Result, async_trait};

/// Keeps the last power state set on each node, by node id.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hw_core::Result<()> {
/// use hw_core::PowerState;
/// use hw_wol::{MemoryStateStore, StateStore};
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
    /// Whatever the store fails with ([`hw_core::ErrorKind::Other`] for a poisoned
    /// [`MemoryStateStore`]).
    async fn load(&self, node_id: &str) -> Result<Option<PowerState>>;

    /// Saves `state` for `node_id`.
    ///
    /// # Errors
    ///
    /// Whatever the store fails with ([`hw_core::ErrorKind::Other`] for a poisoned
    /// [`MemoryStateStore`]).
    async fn save(&self, node_id: &str, state: PowerState) -> Result<()>;
}

/// An in-memory [`StateStore`]: state lives as long as the store (share it with an
/// `Arc` between nodes, or let each node have its own).
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    states: Mutex<HashMap<String, PowerState>>,
}

impl MemoryStateStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStateStore::default()
    }

    /// A store that already knows `node_id` is in `state` (e.g. from an inventory).
    pub fn with_state(node_id: impl Into<String>, state: PowerState) -> Self {
        let store = MemoryStateStore::default();
        if let Ok(mut m) = store.states.lock() {
            m.insert(node_id.into(), state);
        }
        store
    }
}

fn poisoned() -> hw_core::Error {
    hw_core::Error::new(
        hw_core::ErrorKind::Other,
        "the in-memory power state store is poisoned (a thread panicked while holding it)",
    )
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn load(&self, node_id: &str) -> Result<Option<PowerState>> {
        let m = self.states.lock().map_err(|_| poisoned())?;
        Ok(m.get(node_id).copied())
    }

    async fn save(&self, node_id: &str, state: PowerState) -> Result<()> {
        let mut m = self.states.lock().map_err(|_| poisoned())?;
        m.insert(node_id.to_owned(), state);
        Ok(())
    }
}
