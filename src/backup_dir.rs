//! The controller's backup directory, written in one place: `DIR/HOST/` per host (so a host's
//! name must be a plain directory name), names stamped with the UTC time to the second
//! (`20261125T130501Z`), a `-N` suffix when a name is taken, and the free space there.

use std::path::{Path, PathBuf};

/// Why `name` cannot name a host, if it cannot: each host's backups and logs live in a
/// directory of its name, which must stay one plain directory inside the backup directory.
pub fn host_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('.') {
        Some("starts with `.`")
    } else if name.contains(['/', '\\']) {
        Some("contains a slash")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// `DIR/HOST`: where a host's archives and logs go.
pub fn host_dir(dir: &Path, host: &str) -> PathBuf {
    dir.join(host)
}

/// The stamp of a name made at `now`: sortable, and the same on every controller.
pub fn stamp(now: jiff::Timestamp) -> String {
    now.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// `STEM.EXTENSION`, then `STEM-1.EXTENSION` … `STEM-MAX.EXTENSION` in `dir`: the names to try in
/// turn, so that nothing ever overwrites a file of the same second.
pub fn candidates(
    dir: &Path,
    stem: &str,
    extension: &str,
    max: u32,
) -> impl Iterator<Item = PathBuf> {
    let dir = dir.to_path_buf();
    let (stem, extension) = (stem.to_owned(), extension.to_owned());
    std::iter::once(format!("{stem}.{extension}"))
        .chain((1..=max).map(move |n| format!("{stem}-{n}.{extension}")))
        .map(move |name| dir.join(name))
}

/// Free bytes for an unprivileged writer where `dir` is, or would be once created (its nearest
/// existing ancestor).
pub fn free_space(dir: &Path) -> std::io::Result<u64> {
    let existing = dir
        .ancestors()
        .find(|d| d.exists())
        .unwrap_or(Path::new("."));
    let stats = rustix::fs::statvfs(existing)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stamped_and_never_reused() {
        let now: jiff::Timestamp = "2026-11-25T13:05:01Z".parse().unwrap();
        assert_eq!(stamp(now), "20261125T130501Z");
        let names: Vec<_> = candidates(Path::new("/b/h1"), "upgrade-X", "log", 2).collect();
        assert_eq!(
            names,
            [
                PathBuf::from("/b/h1/upgrade-X.log"),
                PathBuf::from("/b/h1/upgrade-X-1.log"),
                PathBuf::from("/b/h1/upgrade-X-2.log")
            ]
        );
    }

    #[test]
    fn a_host_name_must_stay_one_directory() {
        for (name, problem) in [
            ("hub-1", None),
            ("", Some("is empty")),
            ("..", Some("starts with `.`")),
            ("a/b", Some("contains a slash")),
            ("a\nb", Some("contains a control character")),
        ] {
            assert_eq!(host_name_problem(name), problem, "{name:?}");
        }
        assert!(free_space(Path::new("/nonexistent/backups")).unwrap() > 0);
    }
}
