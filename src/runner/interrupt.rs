//! Ctrl-C, SIGTERM and SIGHUP: a small type of its own, as mini-redis's `Shutdown`. The first
//! signal asks the run to stop starting things (no new host, no new step before a stop); the
//! hosts already in their cutover are followed to their end. A second signal is the operator
//! insisting: the command's own handler exits at once.

use std::sync::Arc;

use tokio::sync::watch;

/// Whether the run was asked to stop, and by which signal; clones share it.
#[derive(Debug, Clone)]
pub struct Interrupt {
    signal: Arc<watch::Sender<Option<&'static str>>>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Self {
            signal: Arc::new(watch::Sender::new(None)),
        }
    }
}

impl Interrupt {
    /// Records that `signal` (`SIGINT`…) asked the run to stop; `true` the first time.
    pub fn trigger(&self, signal: &'static str) -> bool {
        self.signal.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(signal);
            }
            first
        })
    }

    /// The signal that asked the run to stop, if one did.
    pub fn signal(&self) -> Option<&'static str> {
        *self.signal.borrow()
    }

    /// Resolves once the run is asked to stop (at once if it was).
    pub async fn wait(&self) {
        let mut asked = self.signal.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = asked.wait_for(Option::is_some).await;
    }

    /// Listens for SIGINT, SIGTERM and SIGHUP on the current runtime: the first triggers this
    /// interrupt, the second calls `insist` with its name (which is expected to exit).
    pub fn listen(&self, insist: impl Fn(&'static str) + Send + 'static) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let interrupt = self.clone();
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    // Ctrl-C in the terminal.
                    Some(()) = int.recv() => "SIGINT",
                    // A service manager or `kill` stopping the controller.
                    Some(()) = term.recv() => "SIGTERM",
                    // The terminal or the SSH session the operator ran from went away.
                    Some(()) = hup.recv() => "SIGHUP",
                    else => return,
                };
                if !interrupt.trigger(name) {
                    insist(name);
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_is_kept_and_wakes_every_waiter() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let interrupt = Interrupt::default();
        assert_eq!(interrupt.signal(), None);
        runtime.block_on(async {
            let waiter = tokio::spawn({
                let interrupt = interrupt.clone();
                async move { interrupt.wait().await }
            });
            tokio::task::yield_now().await;
            assert!(interrupt.trigger("SIGTERM"));
            assert!(!interrupt.trigger("SIGINT"));
            tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
                .await
                .expect("woken")
                .unwrap();
            // Waiting once asked returns at once.
            interrupt.wait().await;
        });
        assert_eq!(interrupt.signal(), Some("SIGTERM"));
    }
}
