//! Facts about a hub host: versions, environment, database, disk, whether the hub runs.

pub mod alembic;
mod host_facts;

pub use host_facts::HostFacts;

/// The fact-gathering script, run by the hub's Python with one JSON argument, after the
/// revision reader it shares with the stage step.
pub const GATHER_SCRIPT: &str = concat!(
    include_str!("revisions.py"),
    include_str!("../steps/sqlite_ro.py"),
    include_str!("../steps/cutover_record.py"),
    include_str!("gather.py")
);
