//! JupyterHub's database schema revisions: which release a revision belongs to, the head of a
//! set of revisions, and the migrations between two revisions.
//!
//! The schema changes only at major releases (each release's `jupyterhub/alembic/versions`), so a minor
//! upgrade has no pending migration and `upgrade-db` is a no-op.

use std::collections::BTreeMap;

/// The newest revision of each JupyterHub release line, oldest first (from each release's
/// `jupyterhub/alembic/versions`). Revisions in between belong to the next line's development.
const RELEASE_HEADS: &[(&str, &str)] = &[
    ("4dc2d5a8c53c", "1.x"),
    ("833da8570507", "2.x"),
    ("651f5419b74d", "3.x"),
    ("0eee8c825d24", "4.x"),
    ("4621fec11365", "5.x"),
    ("f460b0348206", "6.x"),
];

/// The JupyterHub release line whose head is `revision`, if it is one.
pub fn release_of(revision: &str) -> Option<&'static str> {
    RELEASE_HEADS
        .iter()
        .find(|(head, _)| *head == revision)
        .map(|(_, release)| *release)
}

/// A revision graph: each revision with its parent (`down_revision`), as shipped by a release.
pub type Revisions = BTreeMap<String, Option<String>>;

/// The head: the revision no other revision names as its parent.
pub fn head(revisions: &Revisions) -> Option<&str> {
    revisions
        .keys()
        .find(|rev| {
            !revisions
                .values()
                .any(|down| down.as_deref() == Some(rev.as_str()))
        })
        .map(String::as_str)
}

/// The migrations `upgrade-db` applies to go from `current` to the head of `revisions`, oldest
/// first. `None` when `current` is not in `revisions` (a database newer than the code, or not a
/// JupyterHub database): the upgrade must not proceed.
pub fn pending(revisions: &Revisions, current: &str) -> Option<Vec<String>> {
    let mut chain = Vec::new();
    let mut at = head(revisions)?;
    while at != current {
        chain.push(at.to_owned());
        at = revisions.get(at)?.as_deref()?;
    }
    chain.reverse();
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revisions(pairs: &[(&str, Option<&str>)]) -> Revisions {
        pairs
            .iter()
            .map(|(r, d)| (r.to_string(), d.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn pending_migrations_walk_down_from_the_head() {
        // JupyterHub 6.1.1's tail of the chain.
        let six = revisions(&[
            ("651f5419b74d", None),
            ("0eee8c825d24", Some("651f5419b74d")),
            ("3c2384c5aae1", Some("0eee8c825d24")),
            ("4621fec11365", Some("3c2384c5aae1")),
            ("be8ecf03ddac", Some("4621fec11365")),
            ("afd65840b69e", Some("be8ecf03ddac")),
            ("ff1860e38070", Some("afd65840b69e")),
            ("f460b0348206", Some("ff1860e38070")),
        ]);
        assert_eq!(head(&six), Some("f460b0348206"));
        assert_eq!(
            pending(&six, "0eee8c825d24").unwrap(),
            [
                "3c2384c5aae1",
                "4621fec11365",
                "be8ecf03ddac",
                "afd65840b69e",
                "ff1860e38070",
                "f460b0348206"
            ]
        );
        assert_eq!(pending(&six, "f460b0348206").unwrap(), Vec::<String>::new());
        assert_eq!(pending(&six, "999999999999"), None);
        assert_eq!(release_of("0eee8c825d24"), Some("4.x"));
        assert_eq!(release_of("3c2384c5aae1"), None);
    }
}
