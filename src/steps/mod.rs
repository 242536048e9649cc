//! The steps of a host's run, one file each. Steps are async, talk to the host over its session,
//! report through events and never print.

mod backup;
mod cutover;
mod detached;
mod gather_facts;
mod host_lock;
mod install;
mod notify;
mod rehearse;
mod restore;
mod script;
mod singleuser;
mod stage;
mod step_work;
mod upgrade_db;

pub use backup::{Backup, backup, backup_command};
pub use cutover::{
    Cutover, CutoverDone, WayBack, cutover, earlier_cutover, kept_database, swap_description,
};
pub use detached::remove_record;
pub use gather_facts::gather_facts;
pub use host_lock::{HostLock, LockHolder, NotLocked, SILENCE, lock};
pub use install::{Source, install_command};
pub use notify::{Notify, notify};
pub use rehearse::{Rehearse, rehearse, rehearse_description};
pub use restore::{Differing, Inspection, Losses, PreviousEnv, Restored, restore, restore_check};
pub use script::{describe, env_python, hub_python, run_command, run_script, run_script_with};
pub use singleuser::{SingleUser, Singleuser, singleuser, singleuser_install_command};
pub use stage::{Staged, Target, stage, stage_dir};
pub use step_work::{Done, OnHost, StepWork};
pub use upgrade_db::upgrade_db_command;
