//! Step `singleuser`: the single-user env's jupyterhub brought to the hub's version once the hub
//! is healthy, since `jupyterhub-singleuser` must match the hub it talks to. Installed in place
//! with the env's own installer and package source: running user servers keep the code they
//! loaded, servers started from now on get the new release.

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;

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
        &super::install_command(host, env, version, super::Source::Index)
            .become_(host.hub.become_.clone()),
    )
    .await
}
