//! What a simulator counts: requests, connections and sessions (with peaks), failed
//! logins and injected faults.
//!
//! [`Counters`] is shared by every task of a simulator (cloning it is cheap: one
//! `Arc`); [`SimStats`] is a plain snapshot of it for tests, `hwctl sim` and JSON.
//!
//! ```
//! use hwctl_sim::stats::Counters;
//! let counters = Counters::new();
//! {
//!     let _conn = counters.connection();
//!     counters.request();
//!     let _a = counters.session();
//!     let _b = counters.session();
//!     assert_eq!(counters.snapshot().open_sessions, 2);
//! }
//! let s = counters.snapshot();
//! assert_eq!((s.requests, s.connections, s.open_connections, s.peak_connections), (1, 1, 0, 1));
//! assert_eq!((s.sessions_opened, s.sessions_closed, s.open_sessions, s.peak_sessions), (2, 2, 0, 2));
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a simulator's counters. Every field is a count (no units); "open"
/// fields are the value at the time of the snapshot and "peak" fields the highest
/// value seen since the simulator started.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SimStats {
    /// Requests (or datagrams, or commands) received.
    pub requests: u64,
    /// Connections accepted since the start.
    pub connections: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// The most connections open at once.
    pub peak_connections: u64,
    /// Sessions (logins) opened since the start.
    pub sessions_opened: u64,
    /// Sessions closed (logged out, expired or dropped) since the start.
    pub sessions_closed: u64,
    /// Sessions open now.
    pub open_sessions: u64,
    /// The most sessions open at once.
    pub peak_sessions: u64,
    /// Logins or authentications refused.
    pub failed_logins: u64,
    /// Requests answered with an injected fault instead of normally.
    pub faults_injected: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: AtomicU64,
    connections: AtomicU64,
    open_connections: AtomicU64,
    peak_connections: AtomicU64,
    sessions_opened: AtomicU64,
    sessions_closed: AtomicU64,
    open_sessions: AtomicU64,
    peak_sessions: AtomicU64,
    failed_logins: AtomicU64,
    faults_injected: AtomicU64,
}

/// A simulator's counters, shared by all its tasks; clones count into the same
/// numbers.
///
/// ```
/// let counters = hwctl_sim::Counters::new();
/// let task_view = counters.clone();
/// task_view.request();
/// task_view.request();
/// assert_eq!(counters.snapshot().requests, 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Counters {
    inner: Arc<Inner>,
}

impl Counters {
    /// Counters at zero.
    ///
    /// ```
    /// assert_eq!(hwctl_sim::Counters::new().snapshot(), hwctl_sim::SimStats::default());
    /// ```
    pub fn new() -> Self {
        Counters::default()
    }

    /// Counts one request and returns the new total.
    ///
    /// ```
    /// let counters = hwctl_sim::Counters::new();
    /// assert_eq!(counters.request(), 1);
    /// assert_eq!(counters.request(), 2);
    /// ```
    pub fn request(&self) -> u64 {
        self.inner.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts an accepted connection; it stays open until the guard is dropped.
    /// Updates the peak.
    #[must_use = "the connection    ///
    /// ```
    /// let counters = hwctl_sim::Counters::new();
    /// let a = counters.connection();
    /// let b = counters.connection();
    /// drop(a);
    /// let stats = counters.snapshot();
    /// assert_eq!((stats.connections, stats.open_connections, stats.peak_connections), (2, 1, 2));
    /// drop(b);
    /// assert_eq!(counters.snapshot().open_connections, 0);
    /// ```
 counts as open only while the guard lives"]
    pub fn connection(&self) -> ConnectionGuard {
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        let open = self.inner.open_connections.fetch_add(1, Ordering::AcqRel) + 1;
        self.inner
            .peak_connections
            .fetch_max(open, Ordering::AcqRel);
        ConnectionGuard {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Counts an opened session; it stays open until the guard is dropped (keep the
    /// guard in the simulator's session table). Updates the peak.
    ///
    /// ```
    /// let counters = hwctl_sim::Counters::new();
    /// let session = counters.session();
    /// assert_eq!(counters.snapshot().open_sessions, 1);
    /// drop(session); // the client logged out or the session expired
    /// let stats = counters.snapshot();
    /// assert_eq!((stats.sessions_opened, stats.sessions_closed, stats.open_sessions), (1, 1, 0));
    /// ```
    #[must_use = "the session counts as open only while the guard lives"]
    pub fn session(&self) -> SessionGuard {
        self.inner.sessions_opened.fetch_add(1, Ordering::Relaxed);
        let open = self.inner.open_sessions.fetch_add(1, Ordering::AcqRel) + 1;
        self.inner.peak_sessions.fetch_max(open, Ordering::AcqRel);
        SessionGuard {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Counts a refused login or authentication.
    ///
    /// ```
    /// let counters = hwctl_sim::Counters::new();
    /// counters.failed_login();
    /// assert_eq!(counters.snapshot().failed_logins, 1);
    /// ```
    pub fn failed_login(&self) {
        self.inner.failed_logins.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request answered with an injected fault.
    ///
    /// ```
    /// let counters = hwctl_sim::Counters::new();
    /// counters.fault_injected();
    /// assert_eq!(counters.snapshot().faults_injected, 1);
    /// ```
    pub fn fault_injected(&self) {
        self.inner.faults_injected.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    ///
    /// ```
    /// let counters = hwctl_sim::Counters::new();
    /// counters.request();
    /// let stats = counters.snapshot();
    /// assert_eq!(stats.requests, 1);
    /// assert_eq!(stats.sessions_opened, 0);
    /// ```
    pub fn snapshot(&self) -> SimStats {
        let i = &self.inner;
        let get = |a: &AtomicU64| a.load(Ordering::Acquire);
        SimStats {
            requests: get(&i.requests),
            connections: get(&i.connections),
            open_connections: get(&i.open_connections),
            peak_connections: get(&i.peak_connections),
            sessions_opened: get(&i.sessions_opened),
            sessions_closed: get(&i.sessions_closed),
            open_sessions: get(&i.open_sessions),
            peak_sessions: get(&i.peak_sessions),
            failed_logins: get(&i.failed_logins),
            faults_injected: get(&i.faults_injected),
        }
    }
}

/// An open connection, from [`Counters::connection`]; dropping it closes it in the
/// counts.
pub struct ConnectionGuard {
    inner: Arc<Inner>,
}

impl fmt::Debug for ConnectionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionGuard")
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.inner.open_connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An open session, from [`Counters::session`]; dropping it closes it in the counts.
pub struct SessionGuard {
    inner: Arc<Inner>,
}

impl fmt::Debug for SessionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionGuard")
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.inner.open_sessions.fetch_sub(1, Ordering::AcqRel);
        self.inner.sessions_closed.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_survive_closing() {
        let c = Counters::new();
        let guards: Vec<_> = (0..5).map(|_| c.connection()).collect();
        assert_eq!(c.snapshot().open_connections, 5);
        drop(guards);
        let _one = c.connection();
        let s = c.snapshot();
        assert_eq!(s.connections, 6);
        assert_eq!(s.open_connections, 1);
        assert_eq!(s.peak_connections, 5);
    }

    #[test]
    fn clones_share_counts_and_misc_counters() {
        let c = Counters::new();
        let d = c.clone();
        assert_eq!(d.request(), 1);
        assert_eq!(c.request(), 2);
        c.failed_login();
        d.fault_injected();
        let s = d.snapshot();
        assert_eq!((s.requests, s.failed_logins, s.faults_injected), (2, 1, 1));
    }

    #[test]
    fn sessions_count_open_closed_and_peak() {
        let c = Counters::new();
        let a = c.session();
        let b = c.session();
        drop(a);
        let s = c.snapshot();
        assert_eq!(
            (
                s.sessions_opened,
                s.sessions_closed,
                s.open_sessions,
                s.peak_sessions
            ),
            (2, 1, 1, 2)
        );
        drop(b);
        assert_eq!(c.snapshot().open_sessions, 0);
    }

    #[test]
    fn peak_is_exact_under_threads() {
        let c = Counters::new();
        std::thread::scope(|s| {
            for _ in 0..8 {
                let c = c.clone();
                s.spawn(move || {
                    for _ in 0..1000 {
                        let _g = c.connection();
                    }
                });
            }
        });
        let s = c.snapshot();
        assert_eq!(s.connections, 8000);
        assert_eq!(s.open_connections, 0);
        assert!((1..=8).contains(&s.peak_connections), "{s:?}");
    }

    #[test]
    fn snapshot_serializes_to_json() {
        let c = Counters::new();
        c.request();
        let v = serde_json::to_value(c.snapshot()).unwrap();
        assert_eq!(v["requests"], 1);
        assert_eq!(v["peak_sessions"], 0);
    }
}
