//! The one way hubfleet writes a file the operator relies on: to a temporary name in the same
//! directory, fsynced, renamed over the target, then the directory fsynced — so a crash or a full
//! disk leaves the old file or the new one, never half of one.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit().map(drop)
}

/// A file being written under a temporary name (`.NAME.XXXXXX.partial`, beside `path`,
/// readable by its owner only); it appears under its name only on [`commit`](Self::commit), and
/// the temporary is removed if it is dropped before.
pub struct AtomicFile {
    file: BufWriter<NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`; its directory must exist.
    pub fn create(path: &Path) -> io::Result<Self> {
        let dir = parent(path);
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".partial")
            .tempfile_in(dir)?;
        Ok(Self {
            file: BufWriter::with_capacity(64 * 1024, temp),
            path: path.to_path_buf(),
        })
    }

    /// Makes the file durable and renames it to its path, replacing any file there.
    pub fn commit(self) -> io::Result<PathBuf> {
        let path = self.path.clone();
        let temp = self.sync()?;
        temp.persist(&path).map_err(|e| e.error)?;
        sync_dir(&path)?;
        Ok(path)
    }

    /// Makes the file durable and renames it to the first of `paths` (in its directory) that
    /// does not exist, never replacing a file; returns that path.
    pub fn commit_new(self, paths: impl IntoIterator<Item = PathBuf>) -> io::Result<PathBuf> {
        let mut temp = self.sync()?;
        for path in paths {
            // `persist_noclobber` links, or renames with `RENAME_NOREPLACE`: no race with a
            // second writer choosing the same name.
            match temp.persist_noclobber(&path) {
                Ok(_) => {
                    sync_dir(&path)?;
                    return Ok(path);
                }
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.file,
                Err(e) => return Err(e.error),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "every candidate name is taken",
        ))
    }

    fn sync(self) -> io::Result<NamedTempFile> {
        let temp = self.file.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        Ok(temp)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes the rename itself durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    std::fs::File::open(parent(path))?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        super::write(&path, b"old").unwrap();
        super::write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::write(&dir.path().join("no/such/dir/r.json"), b"x").is_err());
    }

    #[test]
    fn commit_new_never_replaces_and_drop_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.tar.gz");
        std::fs::write(&first, b"old").unwrap();
        let mut file = AtomicFile::create(&first).unwrap();
        file.write_all(b"new").unwrap();
        let names = [first.clone(), dir.path().join("a-1.tar.gz")];
        assert_eq!(
            file.commit_new(names).unwrap(),
            dir.path().join("a-1.tar.gz")
        );
        assert_eq!(std::fs::read(&first).unwrap(), b"old");

        let mut dropped = AtomicFile::create(&dir.path().join("b.tar.gz")).unwrap();
        dropped.write_all(b"half").unwrap();
        drop(dropped);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a-1.tar.gz", "a.tar.gz"]);
    }
}
