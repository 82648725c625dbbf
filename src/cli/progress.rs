//! The progress line on stderr while a command works: requests read and written, and the
//! rate-limit wait under way with its time left ([`crate::progress`] records them). Drawn by
//! indicatif only when [`super::printer::decide`] allows it (stderr a terminal, no `--quiet`),
//! and only after the command has taken a second; cleared before the command's own output.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::ACTIVITY;

/// How long a command runs before the line appears.
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

/// The line on screen, if any, so the printer can lift it while it writes.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `write` with the line lifted off the screen, so output never mixes with it.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    match shown.as_ref() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// The line, while it lives; dropping it clears the line.
pub struct Progress {
    stop: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the line for `what` ("plan", "apply"…); `None`: no line.
    pub fn start(what: Option<&'static str>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let drawer = what.map(|what| {
            let stop = stop.clone();
            std::thread::spawn(move || draw(what, &stop))
        });
        Self { stop, drawer }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

fn draw(what: &'static str, stop: &AtomicBool) {
    let started = Instant::now();
    while started.elapsed() < DELAY {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(TICK);
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(what);
    *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
    while !stop.load(Ordering::Relaxed) {
        // The line holds counts, durations and bucket paths only; scrubbed all the same.
        bar.set_message(crate::secret::scrub(&ACTIVITY.snapshot().line()).into_owned());
        bar.tick();
        std::thread::sleep(TICK);
    }
    SHOWN.lock().unwrap_or_else(|e| e.into_inner()).take();
    bar.finish_and_clear();
}
