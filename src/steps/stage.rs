//! Step `stage`: resolve the target release and ready it on the host while the hub still serves
//! users, so the downtime is only a swap of envs (or an offline install) + upgrade-db + start.
//! How it is readied depends on the env; see [`Staged`] and `stage.py`.

use serde::Deserialize;

use super::script::run_script;
use crate::facts::HostFacts;
use crate::facts::alembic::Revisions;
use crate::host_scripts::{Reserve, StageArgs, StageMode};
use crate::inventory::{Host, Installer};
use crate::runner::{HostEvents, StepFailure, Summary};
use crate::ssh::Session;

/// What the target release is and what installing it means.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Target {
    /// The resolved JupyterHub version (`--to latest` resolved).
    pub version: String,
    /// The alembic revisions it ships; empty where they are only known once installed (conda).
    pub revisions: Revisions,
    /// Every package the installer would install or upgrade, `name==version`.
    pub install: Vec<String>,
    /// How the target waits on the host for the stop.
    pub staged: Staged,
}

/// How the target release waits on the host for the hub to stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Staged {
    /// The env already holds the target: nothing to install.
    #[default]
    Nothing,
    /// A copy of the hub env with the target installed, beside it at `path` (a venv): swapped in
    /// while the hub is down, the env as it was kept at `previous`.
    NextEnv {
        /// The hub env, resolved (`realpath`): what is swapped.
        env: String,
        /// `ENV.hubfleet-next`.
        path: String,
        /// `ENV.hubfleet-previous`: the package half of a rollback.
        previous: String,
        /// The install into the copy, argv (for the plan: `stage.py` runs it).
        command: Vec<String>,
        /// An env kept by an earlier upgrade is at `previous`: the swap replaces it (before, it is
        /// left alone, so a run that stops short of the swap keeps it).
        replaces_previous: bool,
    },
    /// The packages are downloaded on the host ([`super::stage_dir`], or conda's package cache) and
    /// installed into the hub env while the hub is down (conda, or a Python that is no venv).
    InPlace,
}

/// Where the packages are downloaded on the host for an in-place install.
pub fn stage_dir(host: &Host) -> String {
    format!("{}/.hubfleet-stage", host.hub.env.trim_end_matches('/'))
}

/// Resolves `to` (a version or `latest`). With `token` (the run's), the target is readied as
/// [`Staged`] says, a readied copy marked with the token; without, nothing is written outside a
/// temporary directory (dry run). Its installer is bounded by the host's `stage_timeout`. `reserve` is disk
/// space another step takes at the same time beside a path (the backup's snapshot beside the
/// database): a copy of the env is refused if it would not leave that much free there.
pub async fn stage(
    host: &Host,
    facts: &HostFacts,
    session: &Session,
    events: &HostEvents,
    to: &str,
    token: Option<&str>,
    reserve: Option<(&str, u64)>,
) -> Result<Target, StepFailure> {
    let (mode, said) = if token.is_some() {
        (StageMode::Stage, "stage")
    } else {
        (StageMode::DryRun, "dry-run")
    };
    let resolver = match host.hub.installer {
        Installer::Conda => "conda",
        Installer::Uv => "uv",
        Installer::Pip => "the hub env's pip",
    };
    events.step(
        "stage",
        format!("resolving jupyterhub {to} with {resolver} ({said})"),
    );
    // The hub's state: none of it may live inside an env that is swapped.
    let hub_paths: Vec<&str> = [&facts.db_path, &facts.cookie_secret_file]
        .into_iter()
        .flatten()
        .chain([&host.hub.config, &host.hub.workdir])
        .chain(&host.hub.backup_extra)
        .map(String::as_str)
        .collect();
    let args = StageArgs {
        to,
        mode,
        stage: stage_dir(host),
        env: &host.hub.env,
        hub_paths,
        reserve: reserve.map(|(beside, bytes)| Reserve { beside, bytes }),
        installer: host.hub.installer,
        conda: &host.hub.conda,
        uv: &host.hub.uv,
        stage_timeout: host.hub.stage_timeout.as_secs(),
        token: token.unwrap_or_default(),
    };
    let target: Target = run_script("stage", host, session, Some(events), &args).await?;
    events.summary("stage", Summary::Packages(target.install.len()));
    Ok(target)
}
