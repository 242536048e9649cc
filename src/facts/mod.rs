//! Facts about a hub host: versions, environment, database, disk, whether the hub runs.

pub mod alembic;
pub mod database;
mod host_facts;

pub use database::{ClientTool, DbBackend, ServerFacts};
pub use host_facts::{HostFacts, HubEnvironment, LockState};
