//! `jupyterhub upgrade-db` as JupyterHub expects it, run by the cutover (which then checks the
//! real database's revision).
//!
//! The subcommand comes first (`jupyterhub upgrade-db -f CONFIG`, jupyterhub#4436); it runs in the
//! hub's working directory, since a relative `sqlite:///jupyterhub.sqlite` resolves against it
//! (run elsewhere, upgrade-db stamps a new empty database, exits 0 and leaves the real one alone:
//! jupyterhub#4044); and the env's `bin` is on PATH, since upgrade-db runs `alembic` found there.

use crate::inventory::Host;
use crate::ssh::RemoteCommand;

/// The upgrade-db command line (without `become`: the cutover runs as the hub's user).
pub fn upgrade_db_command(host: &Host) -> RemoteCommand {
    let bin = format!("{}/bin", host.hub.env.trim_end_matches('/'));
    RemoteCommand::new(format!("{bin}/jupyterhub"))
        .args(["upgrade-db", "-f", &host.hub.config])
        .cwd(&host.hub.workdir)
        .env(
            "PATH",
            format!("{bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        )
}
