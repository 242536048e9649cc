//! Facts about a hub host: versions, environment, database, disk, whether the hub runs.

pub mod alembic;
mod host_facts;

pub use host_facts::{HostFacts, HubEnvironment, LockState};
