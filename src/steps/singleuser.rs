//! Step `singleuser`: the single-user env's jupyterhub brought to the hub's version once the hub
//! is healthy, since `jupyterhub-singleuser` must match the hub it talks to. Installed in place
//! with the env's own installer and package source: running user servers keep the code they
//! loaded, servers started from now on get the new release.

use crate::inventory::{Host, Installer};
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

/// The install command into `env` for `version` with the host's installer.
pub fn singleuser_command(host: &Host, env: &str, version: &str) -> RemoteCommand {
    let python = format!("{}/bin/python", env.trim_end_matches('/'));
    let command = match host.hub.installer {
        Installer::Pip => RemoteCommand::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .arg(format!("jupyterhub=={version}")),
        Installer::Uv => RemoteCommand::new("uv")
            .args(["pip", "install", "--python", &python])
            .arg(format!("jupyterhub=={version}")),
        Installer::Conda => RemoteCommand::new(&host.hub.conda)
            .args(["install", "--yes", "--prefix", env])
            .arg(format!("jupyterhub={version}")),
    };
    command.become_(host.hub.become_.clone())
}

/// Installs jupyterhub `version` into the single-user env `env`.
pub async fn upgrade_singleuser(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    env: &str,
    version: &str,
) -> Result<(), StepFailure> {
    super::run_command(
        "singleuser",
        session,
        events,
        &singleuser_command(host, env, version),
    )
    .await
}
