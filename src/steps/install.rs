//! How hubfleet installs jupyterhub into an env: [`install_command`] is the one way, used by the
//! cutover (the target from the packages staged on the host, nothing from the network while the
//! hub is down: conda, or a Python that is not a venv) and by the single-user env's upgrade.

use super::script::env_python;
use super::stage::stage_dir;
use crate::inventory::{Host, Installer};
use crate::ssh::RemoteCommand;

/// Where an install takes its packages from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Only what `stage` downloaded on the host ([`stage_dir`], or conda's package
    /// cache): nothing from the network while the hub is down.
    Staged,
    /// The env's own configured index or channels.
    Index,
}

/// The command that installs jupyterhub `version` into the env at `env` with `installer`, from
/// `source` (without `become`: whoever runs it adds that).
pub fn install_command(
    host: &Host,
    installer: Installer,
    env: &str,
    version: &str,
    source: Source,
) -> RemoteCommand {
    let python = env_python(env);
    let requirement = format!("jupyterhub=={version}");
    let pip_source = match source {
        Source::Staged => vec![
            "--no-index".to_owned(),
            "--find-links".to_owned(),
            stage_dir(host),
        ],
        Source::Index => Vec::new(),
    };
    match installer {
        Installer::Pip => RemoteCommand::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(pip_source)
            .arg(requirement),
        Installer::Uv => RemoteCommand::new(&host.hub.uv)
            .args(["pip", "install", "--python", &python])
            .args(pip_source)
            .arg(requirement),
        Installer::Conda => RemoteCommand::new(&host.hub.conda)
            .arg("install")
            .args((source == Source::Staged).then_some("--offline"))
            .args(["--yes", "--prefix", env])
            .arg(format!("jupyterhub={version}")),
    }
}
