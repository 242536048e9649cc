//! What a job's report adds to the recap table: each job's report says which columns it has.

/// The columns a job's report adds to the recap table.
pub trait RecapColumns {
    /// Column headers.
    fn headers() -> Vec<&'static str>;
    /// This host's cells, one per header.
    fn cells(&self) -> Vec<String>;
    /// Lines shown under the table for this host (a dry run's plan).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

impl RecapColumns for () {
    fn headers() -> Vec<&'static str> {
        Vec::new()
    }

    fn cells(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The lines under a hub left down: the commands that finish by hand, numbered (none for a hub
/// that is not down).
pub(super) fn by_hand(commands: &[String]) -> Vec<String> {
    if commands.is_empty() {
        return Vec::new();
    }
    let mut lines = vec!["the hub is DOWN; to finish by hand, on the host:".to_owned()];
    lines.extend(
        commands
            .iter()
            .enumerate()
            .map(|(i, command)| format!("  {}. {command}", i + 1)),
    );
    lines
}
