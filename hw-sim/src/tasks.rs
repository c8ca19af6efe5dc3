//! Tasks that end with their simulator: accept loops and per-connection tasks are
//! spawned into a [`TaskSet`] the simulator owns, and all are aborted when it is
//! dropped, so no simulator keeps answering after it is gone.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
//! use hwctl_sim::{bind::bind_tcp, tasks::TaskSet};
//! let listener = bind_tcp(None).await?;
//! let addr = listener.local_addr().map_err(|e| hwctl_core::Error::new(hwctl_core::ErrorKind::Other, e.to_string()))?;
//! let tasks = TaskSet::new();
//! let spawner = tasks.spawner();
//! tasks.spawn(async move {
//!     while let Ok((stream, _peer)) = listener.accept().await {
//!         // One task per connection, in the same set (the spawner holds it weakly).
//!         spawner.spawn(async move { drop(stream) });
//!     }
//! });
//! assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
//! drop(tasks); // the accept loop is aborted and the listener closed
//! # tokio::task::yield_now().await;
//! assert!(tokio::net::TcpStream::connect(addr).await.is_err());
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::task::JoinSet;

type Set = Mutex<JoinSet<()>>;

fn lock(set: &Set) -> MutexGuard<'_, JoinSet<()>> {
    // A panic while holding the lock cannot leave a JoinSet half-updated.
    set.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn spawn_into<F>(set: &Set, task: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut set = lock(set);
    // Reap finished tasks so a long-lived simulator does not accumulate them.
    while set.try_join_next().is_some() {}
    set.spawn(task);
}

/// The tasks of one simulator; dropping the set aborts every task in it.
///
/// Spawning needs a Tokio runtime (it panics outside one, as `tokio::spawn` does).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let tasks = hwctl_sim::TaskSet::new();
/// let (tx, rx) = tokio::sync::oneshot::channel::<()>();
/// tasks.spawn(async move { let _keep = tx; std::future::pending::<()>().await });
/// drop(tasks); // aborts the task: its sender is dropped
/// assert!(rx.await.is_err());
/// # }
/// ```
#[derive(Default)]
pub struct TaskSet {
    set: Arc<Set>,
}

impl fmt::Debug for TaskSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSet")
            .field("tasks", &self.len())
            .finish()
    }
}

impl TaskSet {
    /// An empty set.
    ///
    /// ```
    /// let tasks = hwctl_sim::TaskSet::new();
    /// assert!(tasks.is_empty());
    /// ```
    pub fn new() -> Self {
        TaskSet::default()
    }

    /// Spawns `task` on the current Tokio runtime; it is aborted when the set is
    /// dropped.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = hwctl_sim::TaskSet::new();
    /// let (tx, rx) = tokio::sync::oneshot::channel();
    /// tasks.spawn(async move { let _ = tx.send(42); });
    /// assert_eq!(rx.await, Ok(42));
    /// # }
    /// ```
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        spawn_into(&self.set, task);
    }

    /// A handle that spawns into this set from inside its own tasks (an accept loop
    /// spawning per-connection tasks). It holds the set weakly, so it does not keep
    /// the set alive.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = hwctl_sim::TaskSet::new();
    /// let spawner = tasks.spawner();
    /// assert!(spawner.spawn(async {}));
    /// assert_eq!(tasks.len(), 1);
    /// drop(tasks);
    /// // The set is gone: the spawner starts nothing.
    /// assert!(!spawner.spawn(async {}));
    /// # }
    /// ```
    pub fn spawner(&self) -> Spawner {
        Spawner {
            set: Arc::downgrade(&self.set),
        }
    }

    /// How many tasks are in the set (finished ones included until reaped by a later
    /// spawn).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = hwctl_sim::TaskSet::new();
    /// tasks.spawn(std::future::pending());
    /// tasks.spawn(std::future::pending());
    /// assert_eq!(tasks.len(), 2);
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.set).len()
    }

    /// Whether the set holds no task.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = hwctl_sim::TaskSet::new();
    /// assert!(tasks.is_empty());
    /// tasks.spawn(std::future::pending());
    /// assert!(!tasks.is_empty());
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Aborts every task now, keeping the set usable.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = hwctl_sim::TaskSet::new();
    /// let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    /// tasks.spawn(async move { let _keep = tx; std::future::pending::<()>().await });
    /// tasks.abort_all();
    /// assert!(rx.await.is_err());
    /// // Still usable.
    /// let (tx, rx) = tokio::sync::oneshot::channel();
    /// tasks.spawn(async move { let _ = tx.send("again"); });
    /// assert_eq!(rx.await, Ok("again"));
    /// # }
    /// ```
    pub fn abort_all(&self) {
        lock(&self.set).abort_all();
    }
}

/// Spawns into a [`TaskSet`] without keeping it alive (from [`TaskSet::spawner`]).
#[derive(Clone)]
pub struct Spawner {
    set: Weak<Set>,
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("alive", &(self.set.strong_count() > 0))
            .finish()
    }
}

impl Spawner {
    /// Spawns `task` into the set, or drops it unstarted if the set is gone. Returns
    /// whether it was spawned.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn spawn<F>(&self, task: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self.set.upgrade() {
            Some(set) => {
                spawn_into(&set, task);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn dropping_the_set_stops_its_tasks() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        let tasks = TaskSet::new();
        tasks.spawn(async move {
            let mut n = 0;
            loop {
                if tx.send(n).await.is_err() {
                    return;
                }
                n += 1;
            }
        });
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(rx.recv().await, Some(1));
        drop(tasks);
        // The task is aborted: its sender is dropped, so the channel drains and ends.
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while rx.recv().await.is_some() {}
        })
        .await;
        assert!(
            end.is_ok(),
            "task still running after its TaskSet was dropped"
        );
    }

    #[tokio::test]
    async fn spawner_tasks_die_with_the_set_and_do_not_keep_it_alive() {
        let tasks = TaskSet::new();
        let spawner = tasks.spawner();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let inner = spawner.clone();
        tasks.spawn(async move {
            inner.spawn(async move {
                let _tx = tx;
                std::future::pending::<()>().await;
            });
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(tasks.len(), 2);
        drop(tasks);
        let end = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(end, Ok(None), "per-connection task outlived the set");
        assert!(!spawner.spawn(async {}));
    }

    #[tokio::test]
    async fn finished_tasks_are_reaped_and_abort_all_works() {
        let tasks = TaskSet::new();
        for _ in 0..10 {
            tasks.spawn(async {});
            tokio::task::yield_now().await;
        }
        assert!(tasks.len() <= 2, "{}", tasks.len());
        tasks.spawn(std::future::pending());
        tasks.abort_all();
        tokio::task::yield_now().await;
        tasks.spawn(async {});
        assert!(tasks.len() <= 2);
        assert!(!tasks.is_empty());
    }
}
