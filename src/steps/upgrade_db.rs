//! `jupyterhub upgrade-db` as JupyterHub expects it, run by the cutover (which then checks the
//! real database's revision).
//!
//! The subcommand comes first (`jupyterhub upgrade-db -f CONFIG`, jupyterhub#4436). The cutover
//! runs it with the hub's own environment and in its working directory (`hub_environment.py`),
//! since the config may take its URL from the environment and a relative
//! `sqlite:///jupyterhub.sqlite` resolves against the working directory (run elsewhere, upgrade-db
//! stamps a new empty database, exits 0 and leaves the real one alone: jupyterhub#4044); and with
//! the env's `bin` first on PATH, since upgrade-db runs `alembic` found there.

use crate::inventory::Host;
use crate::ssh::RemoteCommand;

/// The upgrade-db command line (without `become`: the cutover runs as the hub's user; it supplies
/// the hub's environment, PATH and working directory).
pub fn upgrade_db_command(host: &Host) -> RemoteCommand {
    let bin = format!("{}/bin", host.hub.env.trim_end_matches('/'));
    RemoteCommand::new(format!("{bin}/jupyterhub")).args(["upgrade-db", "-f", &host.hub.config])
}
