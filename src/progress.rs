//! What the run is doing, for a progress display to sample: requests answered and the
//! rate-limit wait under way. The HTTP client records; only `cli/` draws (when stderr is a
//! terminal), so the library prints nothing and costs two atomic adds a request.
//!
//! One activity per process: a run is one command, and the counters only grow.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The process's activity.
pub static ACTIVITY: Activity = Activity {
    reads: AtomicU64::new(0),
    writes: AtomicU64::new(0),
    throttled: AtomicU64::new(0),
    waiting: Mutex::new(None),
};

pub struct Activity {
    reads: AtomicU64,
    writes: AtomicU64,
    /// 429 answers (each waited out and retried, or the request's error).
    throttled: AtomicU64,
    /// The rate-limit wait under way: until when, and the bucket.
    waiting: Mutex<Option<(Instant, String)>>,
}

/// One look at the activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Requests answered that changed nothing (pages and objects read).
    pub reads: u64,
    /// Requests answered that change something.
    pub writes: u64,
    /// A rate-limit wait under way: the time left and the bucket.
    pub waiting: Option<(Duration, String)>,
}

/// The counters since the process started, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub reads: u64,
    pub writes: u64,
    /// 429 answers.
    pub throttled: u64,
}

impl Activity {
    /// A 429 came back.
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> Counts {
        Counts {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }

    /// A request was answered.
    pub fn answered(&self, write: bool) {
        let counter = if write { &self.writes } else { &self.reads };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A wait for `bucket`'s rate-limit window starts, lasting `wait`.
    pub fn waiting(&self, bucket: &str, wait: Duration) {
        *self.waiting.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now() + wait, bucket.to_owned()));
    }

    pub fn snapshot(&self) -> Snapshot {
        let Counts { reads, writes, .. } = self.counts();
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        Snapshot {
            reads,
            writes,
            waiting: waiting
                .as_ref()
                .filter(|(until, _)| *until > now)
                .map(|(until, bucket)| (*until - now, bucket.clone())),
        }
    }
}

impl Snapshot {
    /// One line for a spinner: "38 read, 412 written; waiting 41 s for the rate-limit reset
    /// of Okta's /api/v1/apps".
    pub fn line(&self) -> String {
        let mut line = format!("{} read, {} written", self.reads, self.writes);
        if let Some((left, bucket)) = &self.waiting {
            line.push_str(&format!(
                "; waiting {} s for the rate-limit reset of {bucket}",
                left.as_secs() + 1
            ));
        }
        line
    }
}
