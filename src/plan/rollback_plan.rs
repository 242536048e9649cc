//! A host's rollback to an archive as data (`hubfleet rollback`): the checks that refuse an archive
//! before anything stops ([`check_archive`]), then the plan built from the archive's manifest and
//! what the host said of it (what would be lost, which files differ, which env comes back). The
//! dry run renders it, the report carries it, the rollback job executes it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::policy::refused;
use crate::archive::{DbBackend, Manifest, Role, Verification};
use crate::facts::{HostFacts, alembic};
use crate::inventory::{Host, Installer};
use crate::ssh::RemoteCommand;
use crate::step_failure::StepFailure;
use crate::steps::{Inspection, Losses};

/// Refuses an archive that cannot be put back on `host`: one that does not verify (the same
/// checks as `hubfleet verify`), one taken from another host, one that is not a SQLite backup, or
/// one whose alembic revision is not the schema of its own JupyterHub release. Its manifest.
pub fn check_archive(
    host: &Host,
    archive: &Path,
    verification: Verification,
) -> Result<Manifest, StepFailure> {
    let shown = archive.display();
    if !verification.is_ok() {
        let findings: Vec<String> = verification
            .findings
            .iter()
            .filter(|f| f.severity == crate::archive::Severity::Error)
            .map(ToString::to_string)
            .collect();
        return Err(refused(format!(
            "the archive `{shown}` does not verify ({}): choose another with `--archive`; nothing was stopped",
            findings.join("; ")
        )));
    }
    let Some(manifest) = verification.manifest else {
        return Err(refused(format!(
            "the archive `{shown}` has no manifest: nothing was stopped"
        )));
    };
    if manifest.host != host.name {
        return Err(refused(format!(
            "the archive `{shown}` was taken from `{}`, not `{}`: choose one of this host's with `--archive` or `--latest`; nothing was stopped",
            manifest.host, host.name
        )));
    }
    if manifest.db_backend != DbBackend::Sqlite {
        return Err(refused(format!(
            "the archive `{shown}` holds no SQLite database: hubfleet restores SQLite only; nothing was stopped"
        )));
    }
    let line = release_line(&manifest.jupyterhub_version);
    let release = alembic::release_of(&manifest.alembic_revision);
    if release.is_none() || release != line.as_deref() {
        return Err(refused(format!(
            "the archive's database is at revision {}, which is not the schema of jupyterhub {} ({}): it cannot be served by the release it was taken with; nothing was stopped",
            manifest.alembic_revision,
            manifest.jupyterhub_version,
            release.map_or("an unknown revision".to_owned(), |r| format!("it is {r}'s"))
        )));
    }
    Ok(manifest)
}

/// `4.x` for `4.1.6`: the release line whose schema a version's database has.
fn release_line(version: &str) -> Option<String> {
    let major = version.split('.').next()?;
    major.parse::<u32>().ok().map(|major| format!("{major}.x"))
}

/// How the archive's env comes back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EnvPlan {
    /// The hub env already holds the archive's release.
    Keep,
    /// `ENV.hubfleet-previous` holds it (an upgrade kept it there): exchanged back in.
    Previous {
        /// `ENV.hubfleet-previous`.
        path: String,
    },
    /// Installed from the index: the manifest's package list into the hub env.
    Install {
        /// The command, with the extracted list's path.
        command: String,
    },
}

/// What a rollback to an archive does on a host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackPlan {
    /// The archive, verified on the controller.
    #[serde(serialize_with = "crate::lossy_path::serialize")]
    pub archive: Option<PathBuf>,
    /// Its sha256.
    pub archive_sha256: String,
    /// When the host took it.
    pub taken_at: String,
    /// The release it was taken with, which the hub serves at the end.
    pub version: String,
    /// Its database's alembic revision.
    pub revision: String,
    /// What the live database has that the archive does not: lost by the rollback.
    pub losses: Losses,
    /// The live files the archive's copies replace (they differ; each is kept beside itself).
    pub files: Vec<String>,
    /// How the archive's env comes back.
    pub env: EnvPlan,
    /// Where the live database is kept before it is replaced.
    pub kept_db: String,
    /// The steps, in order, as the dry run shows them.
    pub steps: Vec<String>,
}

impl RollbackPlan {
    /// The plan for putting `manifest`'s archive back on `host`, from what the host's check found.
    pub fn build(
        host: &Host,
        facts: &HostFacts,
        (archive, sha256, manifest): (&Path, &str, &Manifest),
        inspection: &Inspection,
        kept_db: String,
    ) -> RollbackPlan {
        let env = &host.hub.env;
        let env_plan = if facts.jupyterhub_version.as_deref() == Some(&manifest.jupyterhub_version)
        {
            EnvPlan::Keep
        } else {
            match &inspection.previous_env {
                Some(previous)
                    if previous.version.as_deref() == Some(&manifest.jupyterhub_version)
                        && previous.knows_revision =>
                {
                    EnvPlan::Previous {
                        path: previous.path.clone(),
                    }
                }
                _ => EnvPlan::Install {
                    command: install_packages(
                        host,
                        &format!(
                            "{}/env/packages.txt",
                            inspection
                                .stage
                                .as_deref()
                                .unwrap_or("<the extracted archive>")
                        ),
                    )
                    .to_string(),
                },
            }
        };
        let files: Vec<String> = inspection
            .differing
            .iter()
            .map(|d| d.live.clone())
            .collect();
        let db = facts.db_path.as_deref().unwrap_or("-");
        let mut steps = vec![
            format!(
                "stop: `{}`, confirmed (the API quiet, {db} closed)",
                host.hub.stop
            ),
            format!("keep the live database: {db} copied to {kept_db}, fsynced, sha256 recorded"),
        ];
        for file in &files {
            steps.push(format!(
                "restore {file} from the archive (it differs; the live one is kept beside it)"
            ));
        }
        steps.push(format!(
            "restore {db} from the archive's snapshot (revision {})",
            manifest.alembic_revision
        ));
        steps.push(match &env_plan {
            EnvPlan::Keep => format!("keep {env}: it holds jupyterhub {}", manifest.jupyterhub_version),
            EnvPlan::Previous { path } => format!(
                "exchange {env} with {path} (jupyterhub {}); the env in service now is kept at {path}",
                manifest.jupyterhub_version
            ),
            EnvPlan::Install { command } => format!(
                "install the archive's {} packages from the index: {command}",
                manifest.packages.len()
            ),
        });
        steps.push(format!(
            "start: `{}`; {} must report {}",
            host.hub.start, host.hub.health_url, manifest.jupyterhub_version
        ));
        RollbackPlan {
            archive: Some(archive.to_path_buf()),
            archive_sha256: sha256.to_owned(),
            taken_at: manifest.created_at.to_string(),
            version: manifest.jupyterhub_version.clone(),
            revision: manifest.alembic_revision.clone(),
            losses: inspection.losses.clone(),
            files,
            env: env_plan,
            kept_db,
            steps,
        }
    }

    /// The plan as the recap shows it under its host.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "roll back to {} (taken {}, jupyterhub {}, revision {})",
            self.archive
                .as_deref()
                .map_or_else(String::new, |p| p.display().to_string()),
            self.taken_at,
            self.version,
            self.revision
        )];
        lines.push(format!("lost: {}", self.losses.describe()));
        lines.extend(
            self.steps
                .iter()
                .enumerate()
                .map(|(i, step)| format!("  {}. {step}", i + 1)),
        );
        lines
    }
}

/// Where each archived member lives on the host: the config and cookie secret where the hub has
/// them now, an extra file at its absolute path, the database at the live one's path.
pub fn live_path(host: &Host, facts: &HostFacts, role: Role, path: &str) -> Option<String> {
    match role {
        Role::Database => facts.db_path.clone(),
        Role::Config => Some(host.hub.config.clone()),
        Role::CookieSecret => facts.cookie_secret_file.clone(),
        Role::Extra => path.strip_prefix("extra/").map(|p| format!("/{p}")),
        Role::Packages => None,
    }
}

/// The command that installs the package list at `list` into the hub env with its installer (run
/// by the restore, which runs as the hub's user already).
fn install_packages(host: &Host, list: &str) -> RemoteCommand {
    let python = crate::steps::hub_python(host);
    match host.hub.installer {
        Installer::Pip => RemoteCommand::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(list),
        Installer::Uv => RemoteCommand::new(&host.hub.uv)
            .args(["pip", "install", "--python", &python, "-r"])
            .arg(list),
        Installer::Conda => RemoteCommand::new(&host.hub.conda)
            .args(["install", "--yes", "--prefix", &host.hub.env, "--file"])
            .arg(list),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::fixtures::HostBackup;
    use crate::plan::upgrade_plan::tests::host;
    use crate::steps::{Differing, PreviousEnv};

    /// The fixture's archive (jupyterhub 5.2.1 at 5.x's head), taken from `h1`, with `edit` applied
    /// to its manifest.
    fn verification(edit: impl FnOnce(&mut serde_json::Value)) -> Verification {
        let mut json = HostBackup::good().manifest_json();
        json["host"] = "h1".into();
        edit(&mut json);
        Verification {
            manifest: Some(Manifest::parse(json.to_string().as_bytes()).unwrap()),
            findings: Vec::new(),
            sha256: None,
        }
    }

    #[test]
    fn an_archive_that_cannot_be_put_back_is_refused_before_anything_stops() {
        let archive = Path::new("/b/h1/20261125T130501Z.tar.gz");
        let h1 = host("");
        assert!(check_archive(&h1, archive, verification(|_| ())).is_ok());
        let reason = |host: &Host, v: Verification| {
            let refusal = check_archive(host, archive, v).unwrap_err();
            assert_eq!(refusal.step, "check");
            refusal.reason
        };
        let damaged = Verification {
            findings: vec![crate::archive::Finding {
                severity: crate::archive::Severity::Error,
                member: Some("db/jupyterhub.sqlite".into()),
                message: "has sha256 0000, the manifest says 1111".into(),
            }],
            ..verification(|_| ())
        };
        let reasons = [
            reason(&h1, verification(|m| m["host"] = "hub-berlin".into())),
            reason(&h1, damaged),
            reason(
                &h1,
                verification(|m| m["alembic_revision"] = "0eee8c825d24".into()),
            ),
            reason(
                &h1,
                verification(|m| m["alembic_revision"] = "abcdef".into()),
            ),
        ];
        for reason in &reasons {
            assert!(reason.ends_with("nothing was stopped"), "{reason}");
        }
        insta::assert_snapshot!(reasons.join("\n"));
    }

    #[test]
    fn the_plan_says_what_is_lost_and_what_comes_back() {
        let host = host("");
        let facts = HostFacts {
            jupyterhub_version: Some("6.1.1".into()),
            db_path: Some("/srv/hub/jupyterhub.sqlite".into()),
            ..HostFacts::default()
        };
        let manifest = verification(|_| ()).manifest.unwrap();
        let mut inspection = Inspection {
            stage: Some("/srv/hub/.hubfleet-restore-x".into()),
            losses: Losses {
                users: Some(2),
                tokens: Some(1),
                servers: None,
                new_users: vec!["ada".into(), "bob".into()],
            },
            differing: vec![Differing {
                live: "/srv/hub/jupyterhub_config.py".into(),
                archived: "/srv/hub/.hubfleet-restore-x/config/jupyterhub_config.py".into(),
                sha256: "00".into(),
            }],
            previous_env: Some(PreviousEnv {
                path: "/opt/hub.hubfleet-previous".into(),
                version: Some("5.2.1".into()),
                knows_revision: true,
            }),
        };
        let archive = Path::new("/b/h1/20261125T130501Z.tar.gz");
        let build = |inspection: &Inspection| {
            RollbackPlan::build(
                &host,
                &facts,
                (archive, "ab12", &manifest),
                inspection,
                "/srv/hub/jupyterhub.sqlite.hubfleet-before-rollback-X".into(),
            )
        };
        let with_previous = build(&inspection);
        assert_eq!(
            with_previous.env,
            EnvPlan::Previous {
                path: "/opt/hub.hubfleet-previous".into()
            }
        );
        // An env kept by an upgrade to another release is not the archive's: install instead.
        inspection.previous_env.as_mut().unwrap().version = Some("5.0.0".into());
        let installed = build(&inspection);
        assert!(matches!(installed.env, EnvPlan::Install { .. }));
        insta::assert_snapshot!(
            [with_previous.lines(), installed.lines()]
                .concat()
                .join("\n")
        );
    }
}
