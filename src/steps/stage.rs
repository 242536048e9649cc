//! Step `stage`: resolve the target release and download its packages on the host while the hub
//! still serves users, so the downtime is only install + upgrade-db + start.

use serde::Deserialize;

use crate::facts::alembic::Revisions;
use crate::inventory::{Host, Installer};
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;

const STAGE_SCRIPT: &str = include_str!("stage.py");

/// What the target release is and what installing it means.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Target {
    /// The resolved JupyterHub version (`--to latest` resolved).
    pub version: String,
    /// The alembic revisions it ships; empty where they are only known once installed (conda).
    pub revisions: Revisions,
    /// Every package the installer would install or upgrade, `name==version`.
    pub install: Vec<String>,
}

/// Where the packages are staged on the host.
pub fn stage_dir(host: &Host) -> String {
    format!("{}/.hubfleet-stage", host.hub.env.trim_end_matches('/'))
}

/// Resolves `to` (a version or `latest`). With `download`, every package is downloaded into
/// [`stage_dir`]; without, nothing is written outside a temporary directory (dry run).
pub async fn stage(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    to: &str,
    download: bool,
) -> Result<Target, StepFailure> {
    let mode = if download { "stage" } else { "dry-run" };
    let resolver = if host.hub.installer == Installer::Conda {
        "conda"
    } else {
        "the hub env's pip"
    };
    events.step(
        "stage",
        format!("resolving jupyterhub {to} with {resolver} ({mode})"),
    );
    let args = serde_json::json!({
        "to": to,
        "mode": mode,
        "stage": stage_dir(host),
        "installer": host.hub.installer.as_str(),
        "conda": host.hub.conda,
    });
    super::run_script("stage", host, session, STAGE_SCRIPT, &args).await
}
