//! The faults every simulator can be told to inject, and the plan it consults on
//! each request.
//!
//! A simulator keeps one [`FaultPlan`] (clones share it) and calls
//! [`FaultPlan::take`] once per request it receives, before answering; the result
//! says how to misbehave for that request (or `None`: answer normally). Tests and
//! `hwctl sim` change the plan at any time through [`Simulator::inject`](crate::Simulator::inject)
//! or a clone of the plan.
//!
//! ```
//! use std::time::Duration;
//! use hwctl_sim::fault::{CommonFault, FaultPlan};
//! let plan = FaultPlan::new();
//! assert_eq!(plan.take(), None);
//! plan.set_for(CommonFault::Garbage, 2);
//! assert_eq!(plan.take(), Some(CommonFault::Garbage));
//! assert_eq!(plan.take(), Some(CommonFault::Garbage));
//! assert_eq!(plan.take(), None); // expired after 2 requests
//! plan.set(CommonFault::Delay(Duration::from_millis(50)));
//! assert_eq!(plan.clone().current(), Some(CommonFault::Delay(Duration::from_millis(50))));
//! plan.clear();
//! assert_eq!(plan.current(), None);
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A protocol-independent fault. Each simulator realises it in its own protocol.
///
/// ```
/// use std::time::Duration;
/// use hwctl_sim::CommonFault;
/// assert_eq!(CommonFault::BadCredentials.name(), "bad-credentials");
/// assert_eq!(CommonFault::Delay(Duration::from_millis(250)).to_string(), "delay 250 ms");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommonFault {
    /// Accept connections and receive requests but never answer (the device hangs).
    Silence,
    /// Refuse every login or authentication as wrong credentials, whatever was sent.
    BadCredentials,
    /// Answer with bytes that are not the protocol (the client must report a
    /// protocol error, not panic or hang).
    Garbage,
    /// Answer normally, but only after this delay.
    Delay(Duration),
}

impl CommonFault {
    /// A short lower-case name (`silence`, `bad-credentials`, `garbage`, `delay`).
    ///
    /// ```
    /// use hwctl_sim::CommonFault;
    /// assert_eq!(CommonFault::Garbage.name(), "garbage");
    /// assert_eq!(CommonFault::Silence.to_string(), "silence");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            CommonFault::Silence => "silence",
            CommonFault::BadCredentials => "bad-credentials",
            CommonFault::Garbage => "garbage",
            CommonFault::Delay(_) => "delay",
        }
    }
}

impl fmt::Display for CommonFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommonFault::Delay(d) => write!(f, "delay {} ms", d.as_millis()),
            other => f.write_str(other.name()),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    fault: Option<CommonFault>,
    /// Uses left before the fault expires; `None` = until cleared.
    remaining: Option<u64>,
}

/// Which [`CommonFault`] to inject into later requests; shared (clones see the same
/// plan) and safe to change while the simulator runs.
///
/// ```
/// use hwctl_sim::{CommonFault, FaultPlan};
/// let plan = FaultPlan::new();
/// let handler_view = plan.clone(); // what the simulator's request handler holds
/// plan.set(CommonFault::Silence);
/// assert_eq!(handler_view.take(), Some(CommonFault::Silence));
/// assert_eq!(handler_view.take(), Some(CommonFault::Silence)); // until cleared
/// plan.clear();
/// assert_eq!(handler_view.take(), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    state: Arc<Mutex<State>>,
}

impl FaultPlan {
    /// A plan with no fault.
    ///
    /// ```
    /// let plan = hwctl_sim::FaultPlan::new();
    /// assert_eq!(plan.current(), None);
    /// ```
    pub fn new() -> Self {
        FaultPlan::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Injects `fault` into every later request until [`clear`](Self::clear)ed or
    /// replaced.
    ///
    /// ```
    /// use hwctl_sim::{CommonFault, FaultPlan};
    /// let plan = FaultPlan::new();
    /// plan.set(CommonFault::Garbage);
    /// plan.set(CommonFault::BadCredentials); // replaces
    /// assert_eq!(plan.current(), Some(CommonFault::BadCredentials));
    /// ```
    pub fn set(&self, fault: CommonFault) {
        *self.lock() = State {
            fault: Some(fault),
            remaining: None,
        };
    }

    /// Injects `fault` into the next `n_requests` requests (as counted by
    /// [`take`](Self::take)), then clears itself. `n_requests == 0` clears the plan.
    ///
    /// ```
    /// use hwctl_sim::{CommonFault, FaultPlan};
    /// let plan = FaultPlan::new();
    /// plan.set_for(CommonFault::Garbage, 2);
    /// assert_eq!(plan.take(), Some(CommonFault::Garbage));
    /// assert_eq!(plan.take(), Some(CommonFault::Garbage));
    /// assert_eq!(plan.take(), None); // used up
    /// ```
    pub fn set_for(&self, fault: CommonFault, n_requests: u64) {
        *self.lock() = if n_requests == 0 {
            State::default()
        } else {
            State {
                fault: Some(fault),
                remaining: Some(n_requests),
            }
        };
    }

    /// Sets or clears the fault (`None` clears), as [`Simulator::inject`](crate::Simulator::inject) takes it.
    ///
    /// ```
    /// use hwctl_sim::{CommonFault, FaultPlan};
    /// let plan = FaultPlan::new();
    /// plan.replace(Some(CommonFault::Silence));
    /// assert_eq!(plan.current(), Some(CommonFault::Silence));
    /// plan.replace(None);
    /// assert_eq!(plan.current(), None);
    /// ```
    pub fn replace(&self, fault: Option<CommonFault>) {
        match fault {
            Some(f) => self.set(f),
            None => self.clear(),
        }
    }

    /// Removes any fault: later requests are answered normally.
    ///
    /// ```
    /// use hwctl_sim::{CommonFault, FaultPlan};
    /// let plan = FaultPlan::new();
    /// plan.set_for(CommonFault::Silence, 10);
    /// plan.clear();
    /// assert_eq!(plan.take(), None);
    /// ```
    pub fn clear(&self) {
        *self.lock() = State::default();
    }

    /// The fault in force, without using it up.
    ///
    /// ```
    /// use hwctl_sim::{CommonFault, FaultPlan};
    /// let plan = FaultPlan::new();
    /// plan.set_for(CommonFault::Garbage, 1);
    /// assert_eq!(plan.current(), Some(CommonFault::Garbage));
    /// assert_eq!(plan.current(), Some(CommonFault::Garbage)); // not used up
    /// assert_eq!(plan.take(), Some(CommonFault::Garbage));
    /// assert_eq!(plan.current(), None);
    /// ```
    pub fn current(&self) -> Option<CommonFault> {
        self.lock().fault
    }

    /// The fault for the request being handled, counting one use of a fault set with
    /// [`set_for`](Self::set_for). Call it once per request.
    ///
    /// ```
    /// use hwctl_sim::{CommonFault, Counters, FaultPlan};
    /// let (plan, counters) = (FaultPlan::new(), Counters::new());
    /// plan.set_for(CommonFault::BadCredentials, 1);
    /// // In a request handler:
    /// if let Some(fault) = plan.take() {
    ///     counters.fault_injected();
    ///     assert_eq!(fault, CommonFault::BadCredentials);
    /// }
    /// assert_eq!(counters.snapshot().faults_injected, 1);
    /// ```
    pub fn take(&self) -> Option<CommonFault> {
        let mut s = self.lock();
        let fault = s.fault?;
        if let Some(n) = s.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                *s = State::default();
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_persists_until_cleared() {
        let p = FaultPlan::new();
        p.set(CommonFault::Silence);
        for _ in 0..5 {
            assert_eq!(p.take(), Some(CommonFault::Silence));
        }
        p.replace(None);
        assert_eq!(p.take(), None);
        p.replace(Some(CommonFault::BadCredentials));
        assert_eq!(p.current(), Some(CommonFault::BadCredentials));
    }

    #[test]
    fn set_for_counts_only_takes_and_zero_clears() {
        let p = FaultPlan::new();
        p.set_for(CommonFault::Garbage, 1);
        assert_eq!(p.current(), Some(CommonFault::Garbage));
        assert_eq!(p.current(), Some(CommonFault::Garbage));
        assert_eq!(p.take(), Some(CommonFault::Garbage));
        assert_eq!(p.current(), None);
        p.set_for(CommonFault::Garbage, 0);
        assert_eq!(p.take(), None);
    }

    #[test]
    fn clones_share_the_plan_and_set_replaces_a_count() {
        let p = FaultPlan::new();
        let q = p.clone();
        p.set_for(CommonFault::Silence, 1);
        q.set(CommonFault::Garbage);
        assert_eq!(p.take(), Some(CommonFault::Garbage));
        assert_eq!(p.take(), Some(CommonFault::Garbage));
    }

    #[test]
    fn names_and_display() {
        assert_eq!(CommonFault::BadCredentials.to_string(), "bad-credentials");
        assert_eq!(
            CommonFault::Delay(Duration::from_millis(250)).to_string(),
            "delay 250 ms"
        );
        assert_eq!(CommonFault::Delay(Duration::ZERO).name(), "delay");
    }
}
