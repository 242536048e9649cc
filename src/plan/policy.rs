//! Whether a hub may be upgraded now, and whether it needs to be: pure functions of the host, its
//! facts and the target, each returning a refusal that says why and what to do.

use crate::facts::HostFacts;
use crate::facts::alembic::{self, Revisions};
use crate::inventory::Host;
use crate::step_failure::{Ended, StepFailure};

use crate::step::Step;

/// A refusal at [`Step::Check`]: nothing was changed on the host.
pub fn refused(reason: String) -> StepFailure {
    StepFailure {
        step: Step::Check.name(),
        reason,
        ended: Ended::Failed,
    }
}

/// What forbids touching this host at all, from its facts alone: a cutover of an earlier run
/// still running, or a database that may not be the one the hub uses.
pub fn may_touch(facts: &HostFacts) -> Result<(), StepFailure> {
    if let Some(pid) = facts.cutover_running {
        return Err(refused(format!(
            "an earlier upgrade's cutover is still running on this host (pid {pid}): wait until it ends, then run again; nothing was changed"
        )));
    }
    match facts.blocked() {
        Some(reason) => Err(refused(format!("{reason}; nothing was changed"))),
        None => Ok(()),
    }
}

/// Refuses a hub whose database hubfleet cannot back up and bring back, before anything is
/// readied: a backend it does not know, a server URL whose driver the target's SQLAlchemy reads
/// otherwise, dump tools missing or older than the server (each naming what to install), and,
/// until their rehearsal and restore land (issue 13), any database server. Facts that could not
/// resolve the URL at all are refused later, where the database is needed.
pub fn database(facts: &HostFacts) -> Result<(), StepFailure> {
    if facts.db_backend.is_none() {
        return Ok(());
    }
    let backend = facts
        .backend()
        .map_err(|reason| refused(format!("{reason}: nothing was changed")))?;
    let mut problems = Vec::new();
    if let Some(server) = &facts.server {
        problems.extend(server.driver_problem(backend));
        problems.extend(server.tools_problem(backend));
    }
    if !backend.upgradable() {
        problems.push(format!(
            "database backend `{}` is not supported yet by `upgrade`: hubfleet backs it up (`hubfleet backup`) but cannot yet rehearse its migration nor bring it back after the stop, and never stops a hub it cannot bring back",
            facts.db_backend.as_deref().unwrap_or_default()
        ));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(refused(format!(
            "{}; nothing was changed",
            problems.join("; ")
        ))),
    }
}

/// Whether the hub already runs `version`, installed and answering: nothing to do.
pub fn serves(facts: &HostFacts, version: &str) -> bool {
    facts.jupyterhub_version.as_deref() == Some(version)
        && facts.running_version.as_deref() == Some(version)
}

/// Refuses to stop a hub whose users have servers running, unless `allowed`.
pub fn active_servers(facts: &HostFacts, allowed: bool) -> Result<(), StepFailure> {
    match facts.active_servers {
        Some(servers) if servers > 0 && !allowed => Err(refused(format!(
            "{servers} user server(s) are running: stopping the hub interrupts them; rerun with `--allow-active-servers` after notifying users"
        ))),
        _ => Ok(()),
    }
}

/// The database's path and the migrations from its revision to the head of `revisions` (empty
/// where they are known only once installed: conda). Refuses a database that cannot be read,
/// and one the target does not know (newer than the target, or not JupyterHub's).
pub fn migrations(
    facts: &HostFacts,
    revisions: &Revisions,
    version: &str,
) -> Result<(String, Vec<String>), StepFailure> {
    let (Some(db_path), Some(revision)) = (&facts.db_path, &facts.db_revision) else {
        return Err(refused(format!(
            "the hub's SQLite database or its revision could not be read ({}): nothing was changed",
            facts.problems.join("; ")
        )));
    };
    let migrations = if revisions.is_empty() {
        Vec::new()
    } else {
        pending(revisions, revision, version)?
    };
    Ok((db_path.clone(), migrations))
}

/// Where the cutover keeps its record on the host (beside the database, as the facts found it);
/// refuses a host whose facts could not say.
pub fn cutover_record(facts: &HostFacts) -> Result<String, StepFailure> {
    facts.cutover_record.clone().ok_or_else(|| {
        refused(format!(
            "the cutover's record beside the database could not be placed ({}): nothing was changed",
            facts.problems.join("; ")
        ))
    })
}

/// The migrations from `revision` to the head of `revisions`; refuses a revision they do not
/// know.
pub fn pending(
    revisions: &Revisions,
    revision: &str,
    version: &str,
) -> Result<Vec<String>, StepFailure> {
    alembic::pending(revisions, revision).ok_or_else(|| {
        refused(format!(
            "the database is at revision {revision}, which jupyterhub {version} does not know (a database newer than the target?): nothing was changed"
        ))
    })
}

/// The single-user env the inventory names, if its jupyterhub is not at `version` yet.
pub fn singleuser_behind<'h>(host: &'h Host, facts: &HostFacts, version: &str) -> Option<&'h str> {
    host.hub
        .singleuser_env
        .as_deref()
        .filter(|_| facts.singleuser_version.as_deref() != Some(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            jupyterhub_version: Some("4.1.6".into()),
            running_version: Some("4.1.6".into()),
            db_path: Some("/srv/hub/jupyterhub.sqlite".into()),
            db_revision: Some("0eee8c825d24".into()),
            active_servers: Some(0),
            ..HostFacts::default()
        }
    }

    /// 4.x's head and 6.x's chain above it.
    fn revisions() -> Revisions {
        [
            ("0eee8c825d24", "651f5419b74d"),
            ("3c2384c5aae1", "0eee8c825d24"),
            ("4621fec11365", "3c2384c5aae1"),
        ]
        .into_iter()
        .map(|(rev, down)| (rev.to_owned(), Some(down.to_owned())))
        .collect()
    }

    fn reason(result: Result<impl std::fmt::Debug, StepFailure>) -> String {
        let failure = result.expect_err("refused");
        assert_eq!(failure.step, "check");
        failure.reason
    }

    #[test]
    fn a_running_cutover_or_a_doubtful_database_forbids_touching_the_host() {
        assert!(may_touch(&facts()).is_ok());
        let running = HostFacts {
            cutover_running: Some(42),
            ..facts()
        };
        assert!(reason(may_touch(&running)).contains("(pid 42): wait until it ends"));
        let doubtful = HostFacts {
            blockers: vec!["the hub's config reads `HUB_DB`".into()],
            ..facts()
        };
        assert_eq!(
            reason(may_touch(&doubtful)),
            "the hub's config reads `HUB_DB`; nothing was changed"
        );
    }

    #[test]
    fn a_hub_serves_a_version_only_when_installed_and_answering_with_it() {
        let cases = [
            (Some("4.1.6"), Some("4.1.6"), true),
            (Some("4.1.6"), None, false),
            (Some("6.1.1"), Some("4.1.6"), false),
        ];
        for (installed, running, serves_it) in cases {
            let facts = HostFacts {
                jupyterhub_version: installed.map(Into::into),
                running_version: running.map(Into::into),
                ..facts()
            };
            assert_eq!(
                serves(&facts, "4.1.6"),
                serves_it,
                "{installed:?} {running:?}"
            );
        }
    }

    #[test]
    fn running_user_servers_are_refused_unless_allowed() {
        let busy = HostFacts {
            active_servers: Some(2),
            ..facts()
        };
        assert!(reason(active_servers(&busy, false)).starts_with("2 user server(s) are running"));
        assert!(active_servers(&busy, true).is_ok());
        assert!(active_servers(&facts(), false).is_ok());
    }

    #[test]
    fn migrations_walk_to_the_targets_head_and_refuse_an_unknown_revision() {
        let (db, pending) = migrations(&facts(), &revisions(), "6.1.1").unwrap();
        assert_eq!(db, "/srv/hub/jupyterhub.sqlite");
        assert_eq!(pending, ["3c2384c5aae1", "4621fec11365"]);
        // conda: known only once installed.
        assert!(
            migrations(&facts(), &Revisions::new(), "6.1.1")
                .unwrap()
                .1
                .is_empty()
        );
        let newer = HostFacts {
            db_revision: Some("f460b0348206".into()),
            ..facts()
        };
        assert!(reason(migrations(&newer, &revisions(), "5.4.6")).contains(
            "revision f460b0348206, which jupyterhub 5.4.6 does not know (a database newer than the target?)"
        ));
        let unread = HostFacts {
            db_revision: None,
            problems: vec!["cannot read the database".into()],
            ..facts()
        };
        assert!(
            reason(migrations(&unread, &revisions(), "6.1.1"))
                .contains("could not be read (cannot read the database)")
        );
    }
}
