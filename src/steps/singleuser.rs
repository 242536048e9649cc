//! Step `singleuser`: the single-user env's jupyterhub brought to the hub's version once the hub
//! is healthy, since `jupyterhub-singleuser` must match the hub it talks to. Installed in place
//! with the env's own installer and package source: running user servers keep the code they
//! loaded, servers started from now on get the new release. The same install is first tried
//! with `--dry-run` while the hub still serves, so that an env that cannot take the release (its
//! Python too old, a pin) stops the upgrade before the hub changes, not after.

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

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
        &singleuser_install_command(host, env, version).become_(host.hub.become_.clone()),
    )
    .await
}

/// Resolves the install of jupyterhub `version` into the single-user env `env` without doing it
/// (`--dry-run`, which pip, uv and conda all take), before the hub is stopped.
pub async fn check_singleuser(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    env: &str,
    version: &str,
) -> Result<(), StepFailure> {
    let checked = super::run_command(
        "singleuser",
        session,
        events,
        &dry_run_command(host, env, version),
    )
    .await;
    match checked {
        // pip before 22.2 has no --dry-run: the env is upgraded as before, unchecked.
        Err(failure) if failure.reason.contains("no such option: --dry-run") => {
            events.step(
                "singleuser",
                format!("{env}'s pip has no --dry-run (pip < 22.2): not checked before the stop"),
            );
            Ok(())
        }
        checked => checked,
    }
    .map_err(|failure| StepFailure {
        step: failure.step,
        reason: format!(
            "the single-user env {env} cannot take jupyterhub {version}, which the hub would then need: {}; nothing was changed",
            failure.reason
        ),
    })
}

/// The single-user install, resolved without installing.
fn dry_run_command(host: &Host, env: &str, version: &str) -> RemoteCommand {
    singleuser_install_command(host, env, version)
        .arg("--dry-run")
        .become_(host.hub.become_.clone())
}

/// The install of jupyterhub `version` into the single-user env `env`, with its installer and
/// its own package source (without `become`).
pub fn singleuser_install_command(host: &Host, env: &str, version: &str) -> RemoteCommand {
    super::install_command(
        host,
        host.hub.singleuser_installer,
        env,
        version,
        super::Source::Index,
    )
}
