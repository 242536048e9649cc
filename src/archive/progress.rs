//! How a long transfer reports its bytes without knowing who shows them: the archive code only
//! calls [`Progress`]; the backup step implements it (`StreamProgress` in `steps/backup.rs`, which
//! counts the bytes and sends a throttled progress event), so the archive never learns of events
//! or reporters (the shape of rustic_core's `progress.rs`).

/// Receives the count of bytes as they stream. `Send + Sync` because a receive runs on a
/// blocking thread while the reporter lives on another; `bytes` is called for every read, so
/// keep it cheap (an atomic add) and throttle the display elsewhere.
pub trait Progress: Send + Sync {
    /// `n` more bytes were read from the host's stream.
    fn bytes(&self, n: u64);
}

/// Shows nothing: for tests and for callers without a display.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn bytes(&self, _n: u64) {}
}
