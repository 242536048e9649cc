//! A resolved inventory host: every variable merged and validated, nothing left to default.

use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::installer::Installer;
use crate::ssh::{Become, SshTarget};

/// Where and how the hub runs on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hub {
    /// The hub's Python environment prefix (its `bin/python` runs JupyterHub).
    pub env: String,
    /// Who manages that environment's packages.
    pub installer: Installer,
    /// The `conda` executable on the host (with the conda installer).
    pub conda: String,
    /// The `uv` executable on the host (with the uv installer).
    pub uv: String,
    /// The single-user servers' environment, kept at the hub's JupyterHub version.
    pub singleuser_env: Option<String>,
    /// Who manages the single-user env's packages (the hub's installer unless set).
    pub singleuser_installer: Installer,
    /// `jupyterhub_config.py` on the host.
    pub config: String,
    /// The hub's working directory: relative sqlite URLs and secrets resolve against it.
    pub workdir: String,
    /// The environment the inventory declares for the hub (`environment`, `environment_file`),
    /// used when the running hub's own cannot be read; `None` when it declares none.
    pub environment: Option<ServiceEnvironment>,
    /// Shell command that stops the hub.
    pub stop: String,
    /// How long the hub may take to stop: its API quiet and its database closed.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub stop_timeout: Duration,
    /// Shell command that starts the hub.
    pub start: String,
    /// How long the hub may take to answer after `start` (a large database can take a while).
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub start_timeout: Duration,
    /// How long `jupyterhub upgrade-db` may take in the downtime: past it, its process group is
    /// stopped and the cutover rolled back (a migration stuck on a lock must not keep the hub
    /// down).
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub upgrade_db_timeout: Duration,
    /// How long the stage's installer may take while the hub serves: past it, its process group
    /// is stopped, the staged copy removed, and the hub keeps serving.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub stage_timeout: Duration,
    /// How long the `notify` command may take: past it, its process group is stopped and the
    /// upgrade refused before the stop.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub notify_timeout: Duration,
    /// How long loading the hub's config may take when the facts resolve its database (a config
    /// that asks a slow service for a secret must not hang the run).
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub config_timeout: Duration,
    /// Shell command that tells users an upgrade is coming, with the text in `$HUBFLEET_MESSAGE`.
    pub notify: Option<String>,
    /// URL of `/hub/api` as seen from the host.
    pub health_url: String,
    /// More files to back up.
    pub backup_extra: Vec<String>,
    /// Privilege escalation for hub commands (`become` in the inventory and its JSON).
    #[serde(rename = "become")]
    pub become_: Become,
}

/// The environment an inventory declares for a hub: what its service manager gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceEnvironment {
    /// `environment`: variables set directly (values masked in any output).
    #[serde(serialize_with = "masked_values")]
    pub variables: IndexMap<String, String>,
    /// `environment_file`: the file on the host the service reads (a leading `-`: optional).
    pub file: Option<String>,
}

/// Serialises variables with every value masked: an environment carries database passwords.
fn masked_values<S: serde::Serializer>(
    variables: &IndexMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(variables.keys().map(|k| (k, crate::secrets::MASK)))
}

/// What a host is to the fleet (the inventory's `hub` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A JupyterHub server: `facts`, `backup` and `upgrade` target it.
    Hub,
    /// A host that only helps reach the hubs, such as a bastion (`hub = false`): a `jump`, and a
    /// target of `exec` only where `--limit` names it.
    Helper,
}

/// One host of the inventory, ready to be connected to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    /// The inventory name.
    pub name: String,
    /// Groups the host belongs to (directly or through children), in merge order.
    pub groups: Vec<String>,
    /// A hub, or a helper that is never stopped, backed up or upgraded.
    pub role: Role,
    /// How to reach it.
    pub ssh: SshTarget,
    /// Its hub.
    pub hub: Hub,
}
