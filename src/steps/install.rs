//! Step `install`: the target release from the packages staged on the host, nothing from the
//! network while the hub is down.

use crate::inventory::{Host, Installer};
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

/// The install command for `version` with the host's installer.
pub fn install_command(host: &Host, version: &str) -> RemoteCommand {
    let requirement = format!("jupyterhub=={version}");
    let stage = super::stage_dir(host);
    let python = super::hub_python(host);
    let command = match host.hub.installer {
        Installer::Pip => RemoteCommand::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-index",
            ])
            .args(["--find-links", &stage, &requirement]),
        Installer::Uv => RemoteCommand::new("uv")
            .args(["pip", "install", "--python", &python, "--no-index"])
            .args(["--find-links", &stage, &requirement]),
        // The stage step downloaded into conda's package cache: install from it, offline.
        Installer::Conda => RemoteCommand::new(&host.hub.conda)
            .args(["install", "--offline", "--yes", "--prefix", &host.hub.env])
            .arg(format!("jupyterhub={version}")),
    };
    command.become_(host.hub.become_.clone())
}

/// Installs `version` into the hub env.
pub async fn install(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    version: &str,
) -> Result<(), StepFailure> {
    super::run_command("install", session, events, &install_command(host, version)).await
}
