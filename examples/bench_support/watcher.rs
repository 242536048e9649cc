//! A poller outside the tool under test: it watches a hub's `/hub/api` the same way whatever runs
//! the upgrade, and says how long the hub was down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Polls a hub's `/hub/api` every 100 ms in a thread; what it answered and when.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    back: String,
    thread: std::thread::JoinHandle<Vec<(f64, Option<String>)>>,
}

impl Watcher {
    /// Starts polling `addr`; the watch ends once the hub went down and came back with `back`
    /// (the new release after an upgrade, the old one after a rollback).
    pub fn start(addr: SocketAddr, back: &str) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let wanted = back.to_owned();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            let mut went_down = false;
            while !flag.load(Ordering::Relaxed) {
                let at = super::now();
                let version = super::hub_version(addr);
                went_down |= version.is_none();
                let up = went_down && version.as_deref() == Some(wanted.as_str());
                samples.push((at, version));
                if up {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            samples
        });
        Watcher {
            stop,
            back: back.to_owned(),
            thread,
        }
    }

    /// Stops polling; the downtime it saw: from the first failed poll to the first answer
    /// with the version it waits for.
    pub fn finish(self) -> Option<f64> {
        // The tool under test may have seen the hub back a poll before this watcher did: give
        // it a few seconds to see it too, then stop it anyway.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !self.thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop.store(true, Ordering::Relaxed);
        let samples = self.thread.join().ok()?;
        let down = samples.iter().find(|(_, v)| v.is_none())?.0;
        let up = samples
            .iter()
            .find(|(t, v)| *t > down && v.as_deref() == Some(self.back.as_str()))?
            .0;
        Some(up - down)
    }
}
