//! Step `upgrade-db`: `jupyterhub upgrade-db` as JupyterHub expects it, then a check of the real
//! database's revision.
//!
//! The subcommand comes first (`jupyterhub upgrade-db -f CONFIG`, jupyterhub#4436); it runs in the
//! hub's working directory, since a relative `sqlite:///jupyterhub.sqlite` resolves against it
//! (run elsewhere, upgrade-db stamps a new empty database, exits 0 and leaves the real one alone:
//! jupyterhub#4044); and the env's `bin` is on PATH, since upgrade-db runs `alembic` found there.

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

const REVISION_SCRIPT: &str = r#"
import json, sqlite3, sys
path = json.loads(sys.argv[1])["db_path"]
db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
json.dump(db.execute("SELECT version_num FROM alembic_version").fetchone()[0], sys.stdout)
"#;

/// The upgrade-db command line.
pub fn upgrade_db_command(host: &Host) -> RemoteCommand {
    let bin = format!("{}/bin", host.hub.env.trim_end_matches('/'));
    RemoteCommand::new(format!("{bin}/jupyterhub"))
        .args(["upgrade-db", "-f", &host.hub.config])
        .cwd(&host.hub.workdir)
        .env(
            "PATH",
            format!("{bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        )
        .become_(host.hub.become_.clone())
}

/// Runs upgrade-db and checks that the database at `db_path` reached `head`.
pub async fn upgrade_db(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    db_path: &str,
    head: &str,
) -> Result<String, StepFailure> {
    super::run_command("upgrade-db", session, events, &upgrade_db_command(host)).await?;
    let args = serde_json::json!({ "db_path": db_path });
    let revision: String =
        super::run_script("upgrade-db", host, session, REVISION_SCRIPT, &args).await?;
    if revision != head {
        return Err(StepFailure {
            step: "upgrade-db",
            reason: format!(
                "`jupyterhub upgrade-db` exited 0 but {db_path} is at revision {revision}, not {head}: check the hub's `workdir` and `config`"
            ),
        });
    }
    Ok(revision)
}
