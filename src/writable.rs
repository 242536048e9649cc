//! Can hubfleet write where it was told to? Probed before the first connection (issue 14: a
//! `--report` in a missing directory used to fail only after the whole fleet was upgraded).
//!
//! Each probe creates a temporary file where the real one will go and removes it again: the only
//! test that answers for permissions, read-only mounts, ACLs and full inode tables alike. An
//! existing report is never opened, so a refused run leaves the last report as it was.

use std::io;
use std::path::Path;

/// Checks that [`crate::atomic_file::write`] can later put a file at `path`: its directory
/// exists and takes a new file, and `path` is not a directory.
pub fn probe_file(path: &Path) -> io::Result<()> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    }
    if path.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    probe_in(dir)
}

/// Creates `dir` (and its parents) if needed and checks that it takes a new file.
pub fn probe_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    probe_in(dir)
}

/// Creates and removes a file of a name of its own in `dir`, by hand rather than with
/// `tempfile`, whose errors name the random path instead of saying only what the system said.
fn probe_in(dir: &Path) -> io::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let probe = dir.join(format!(".hubfleet-probe.{}.{nanos}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn probes_leave_nothing_behind_and_refuse_what_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let report = root.join("r.json");
        std::fs::write(&report, "last run").unwrap();
        probe_file(&report).unwrap();
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "last run");
        probe_dir(&root.join("new/backups")).unwrap();
        assert!(root.join("new/backups").is_dir());
        let left: Vec<PathBuf> = walk(root);
        assert_eq!(left, [root.join("new"), root.join("new/backups"), report]);

        let kind = |result: io::Result<()>| result.unwrap_err().kind();
        assert_eq!(
            kind(probe_file(&root.join("missing/r.json"))),
            io::ErrorKind::NotFound
        );
        assert_eq!(kind(probe_file(root)), io::ErrorKind::IsADirectory);
        assert_eq!(
            kind(probe_file(Path::new("/"))),
            io::ErrorKind::InvalidInput
        );
        let file = root.join("r.json");
        assert_eq!(kind(probe_dir(&file)), io::ErrorKind::AlreadyExists);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            paths.push(path.clone());
            if path.is_dir() {
                paths.extend(walk(&path));
            }
        }
        paths.sort();
        paths
    }
}
