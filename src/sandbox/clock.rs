//! The sandbox clock: the only source of "now" for both emulators.
//!
//! Tests move it forward to expire tokens without sleeping. Clients never see it directly, only
//! through what the APIs return (token `iat`/`exp`, `Date` headers), which is exactly how they
//! see a real server's clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A shared, adjustable clock. Cloning shares the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    /// Added to the wall clock (or to the frozen instant).
    offset: Duration,
    /// When set, time stands still here (plus `offset`) until moved explicitly.
    frozen_at: Option<SystemTime>,
}

impl Clock {
    /// A clock that follows the wall clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// The sandbox's current time.
    pub fn now(&self) -> SystemTime {
        let state = self.inner.lock().expect("clock lock poisoned");
        state.frozen_at.unwrap_or_else(SystemTime::now) + state.offset
    }

    /// Seconds since the Unix epoch, as JWT claims and Okta's rate-limit reset use them.
    pub fn unix_seconds(&self) -> u64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.inner.lock().expect("clock lock poisoned").offset += by;
    }

    /// Stops time at the current instant; only `advance` moves it afterwards.
    pub fn freeze(&self) {
        let mut state = self.inner.lock().expect("clock lock poisoned");
        if state.frozen_at.is_none() {
            state.frozen_at = Some(SystemTime::now());
        }
    }

    /// Lets time follow the wall clock again, keeping the accumulated offset.
    pub fn unfreeze(&self) {
        let mut state = self.inner.lock().expect("clock lock poisoned");
        if let Some(frozen) = state.frozen_at.take() {
            // Keep "now" continuous: what was frozen + offset becomes wall + offset'.
            let wall = SystemTime::now();
            let lag = wall.duration_since(frozen).unwrap_or_default();
            state.offset = state.offset.saturating_sub(lag);
        }
    }

    /// Whether time stands still.
    pub fn is_frozen(&self) -> bool {
        self.inner
            .lock()
            .expect("clock lock poisoned")
            .frozen_at
            .is_some()
    }

    /// Back to the wall clock with no offset (used by the control plane's reset).
    pub fn reset(&self) {
        *self.inner.lock().expect("clock lock poisoned") = ClockState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_a_frozen_clock_exactly() {
        let clock = Clock::new();
        clock.freeze();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert_eq!(
            clock.now().duration_since(before).unwrap(),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn clones_share_time() {
        let a = Clock::new();
        a.freeze();
        let b = a.clone();
        a.advance(Duration::from_secs(60));
        assert_eq!(a.now(), b.now());
    }
}
