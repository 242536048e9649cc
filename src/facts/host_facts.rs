//! What hubfleet knows about a hub host, as gathered by `gather.py` with the hub's own Python.

use serde::{Deserialize, Serialize};

use super::alembic::{self, Revisions};
use super::database::{DbBackend, ServerFacts};

/// The facts of one host. Optional fields are facts that may truly be absent (no database file
/// yet, a hub that is not running); `problems` says why something could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// Python version of the hub env.
    pub python_version: String,
    /// The hub env's interpreter.
    pub python: String,
    /// The hub env's prefix.
    pub prefix: String,
    /// `venv`, `conda` or `system`.
    pub env_kind: String,
    /// JupyterHub installed in the hub env.
    pub jupyterhub_version: Option<String>,
    /// Alembic revisions shipped by the installed JupyterHub.
    #[serde(default)]
    pub code_revisions: Revisions,
    /// The database URL as JupyterHub resolves it, password masked.
    pub db_url: Option<String>,
    /// `sqlite`, `postgresql`, `mysql`… (SQLAlchemy's name; [`HostFacts::backend`] judges it).
    pub db_backend: Option<String>,
    /// A database server's driver, version and the host's dump tools (`None` for SQLite).
    #[serde(default)]
    pub server: Option<ServerFacts>,
    /// How the hub runs: whose environment and working directory resolved its config.
    #[serde(default)]
    pub hub_environment: Option<HubEnvironment>,
    /// Why nothing may be backed up or changed on this host: the database the config resolves
    /// cannot be trusted to be the one the hub uses. Each line names the cause and the fix.
    #[serde(default)]
    pub blockers: Vec<String>,
    /// Absolute path of the SQLite database.
    pub db_path: Option<String>,
    /// Absolute path of the cookie secret file.
    pub cookie_secret_file: Option<String>,
    /// Size of the database in bytes.
    pub db_size: Option<u64>,
    /// The database's alembic revision.
    pub db_revision: Option<String>,
    /// Users in the database.
    pub users: Option<u64>,
    /// User servers the database records as running.
    pub active_servers: Option<u64>,
    /// Free bytes on the hub's working directory's filesystem.
    pub free_disk: Option<u64>,
    /// The version `/hub/api` reports, if the hub answers.
    pub running_version: Option<String>,
    /// JupyterHub in the single-user env, when the inventory names one.
    pub singleuser_version: Option<String>,
    /// Where a cutover of this hub keeps its record: beside the database, the path made by
    /// `cutover_record.py` alone.
    #[serde(default)]
    pub cutover_record: Option<String>,
    /// The pid of a cutover an earlier upgrade started on this host and that still runs.
    #[serde(default)]
    pub cutover_running: Option<u32>,
    /// The host lock of a run (`host_lock.py`): held now, or left by a holder that vanished.
    #[serde(default)]
    pub lock: Option<LockState>,
    /// The record an earlier cutover left, which no controller read to its result (its
    /// controller was killed or exited at a second Ctrl-C): the upgrade reports how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutover_left: Option<String>,
    /// What could not be read, one line each.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// The host lock as the facts found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockState {
    /// The lock file, beside the hub env.
    pub path: String,
    /// Whether a run holds it now (its lock process, or its cutover, runs).
    pub held: bool,
    /// Who holds it (or last held it, for a stale lock), in words: subcommand, start time,
    /// user@controller, pid, and the cutover's pid once it runs.
    pub said: Option<String>,
}

impl LockState {
    /// What the facts table says of the lock; `None` for a free, clean one.
    pub fn note(&self) -> Option<String> {
        match (self.held, &self.said) {
            (true, Some(said)) => Some(format!("locked by {said}")),
            (true, None) => Some(format!("locked ({})", self.path)),
            (false, Some(said)) => Some(format!(
                "stale lock left by {said} (the next run takes it over)"
            )),
            (false, None) => None,
        }
    }
}

impl HostFacts {
    /// Masks what the host could not mask: a secret in the URL's query (SQLAlchemy hides only
    /// the userinfo's password), or a URL quoted whole in a problem's error message.
    pub fn mask_secrets(&mut self) {
        if let Some(url) = &mut self.db_url {
            crate::secrets::mask_in_place(url);
        }
        for line in self.problems.iter_mut().chain(&mut self.blockers) {
            crate::secrets::mask_in_place(line);
        }
    }

    /// The database backend, or why hubfleet does not know it.
    pub fn backend(&self) -> Result<DbBackend, String> {
        match self.db_backend.as_deref() {
            Some(name) => DbBackend::from_name(name).ok_or_else(|| {
                format!("database backend `{name}` is not one hubfleet knows (SQLite, PostgreSQL, MySQL/MariaDB)")
            }),
            None => Err(format!(
                "the hub's database URL could not be resolved ({})",
                self.problems.join("; ")
            )),
        }
    }

    /// What a dump of this hub's database server would lack (a tool, psycopg 3), one line each
    /// with its fix: `facts` warn, `backup` and `upgrade` refuse.
    pub fn database_warnings(&self) -> Vec<String> {
        match (self.backend(), &self.server) {
            (Ok(backend), Some(server)) => server
                .driver_problem(backend)
                .into_iter()
                .chain(server.tools_problem(backend))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `BACKEND [SERVER VERSION]` for display (`postgresql 15.18`), `-` when unresolved.
    pub fn database_label(&self) -> String {
        let Some(backend) = &self.db_backend else {
            return "-".to_owned();
        };
        let version = self
            .server
            .as_ref()
            .and_then(|s| s.server_version.as_deref())
            .and_then(|v| v.split_whitespace().next());
        match version {
            Some(version) => format!("{backend} {version}"),
            None => backend.clone(),
        }
    }

    /// Why this host's database cannot be trusted, as one line; `None` when it can.
    pub fn blocked(&self) -> Option<String> {
        (!self.blockers.is_empty()).then(|| self.blockers.join("; "))
    }

    /// `REVISION (RELEASE)` for display.
    pub fn db_revision_label(&self) -> String {
        match self.db_revision.as_deref() {
            Some(rev) => match alembic::release_of(rev) {
                Some(release) => format!("{rev} ({release})"),
                None => rev.to_owned(),
            },
            None => "-".to_owned(),
        }
    }
}

/// Whose environment and working directory the hub's config was resolved with
/// (`hub_environment.py`). Only names travel: values stay on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubEnvironment {
    /// `the running hub (pid N)`, the inventory's `environment` and/or `environment_file`, or
    /// `login` (neither: the login's own environment).
    pub source: String,
    /// The running hub's pid, if one runs.
    pub pid: Option<u32>,
    /// The working directory the config was resolved in.
    pub workdir: String,
    /// The variables the inventory provides (empty with the running hub's own environment).
    pub variables: Vec<String>,
    /// The variables the config read while it loaded.
    pub config_reads: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ClientTool;

    #[test]
    fn a_server_is_labelled_with_its_version_and_warned_of_a_missing_tool() {
        let facts = HostFacts {
            db_backend: Some("postgresql".into()),
            server: Some(ServerFacts {
                driver: "psycopg2".into(),
                driver_named: true,
                server_version: Some("15.18 (Debian 15.18-0+deb12u1)".into()),
                tools: vec![ClientTool {
                    name: "psql".into(),
                    path: "/usr/bin/psql".into(),
                    version: Some("psql (PostgreSQL) 15.18".into()),
                }],
                ..ServerFacts::default()
            }),
            ..HostFacts::default()
        };
        assert_eq!(facts.database_label(), "postgresql 15.18");
        let warnings = facts.database_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`pg_dump`"), "{warnings:?}");
        let sqlite = HostFacts {
            db_backend: Some("sqlite".into()),
            ..HostFacts::default()
        };
        assert_eq!(sqlite.database_label(), "sqlite");
        assert!(sqlite.database_warnings().is_empty());
    }
}

#[cfg(test)]
mod lock_tests {
    use super::LockState;

    #[test]
    fn the_facts_say_whether_the_lock_is_held_stale_or_free() {
        let lock = |held: bool, said: Option<&str>| LockState {
            path: "/opt/.hub.hubfleet-lock".to_owned(),
            held,
            said: said.map(str::to_owned),
        };
        let by = "`hubfleet upgrade` started 2026-12-07T23:00:00Z by alice@ctl (pid 42)";
        let cases = [
            (lock(true, Some(by)), Some(format!("locked by {by}"))),
            (
                lock(true, None),
                Some("locked (/opt/.hub.hubfleet-lock)".to_owned()),
            ),
            (
                lock(false, Some(by)),
                Some(format!(
                    "stale lock left by {by} (the next run takes it over)"
                )),
            ),
            (lock(false, None), None),
        ];
        for (state, note) in cases {
            assert_eq!(state.note(), note, "{state:?}");
        }
    }
}
