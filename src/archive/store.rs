//! Where a received backup lands: `BACKUP_DIR/HOST/TIMESTAMP.tar.gz`, written under a hidden
//! `.partial` name and renamed into place only when [`receive`] checked every member, so nothing
//! named `*.tar.gz` is ever half written or unverified.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::codec::Codec;
use super::progress::Progress;
use super::receive::{ReceiveError, Received, receive};
use crate::atomic_file::AtomicFile;
use crate::backup_dir;

/// How many `-N` suffixes to try when archives of the same second exist already.
const MAX_SUFFIX: u32 = 99;

/// A backup checked and in place.
#[derive(Debug)]
pub struct Stored {
    /// The archive's path.
    pub path: PathBuf,
    /// What was received.
    pub received: Received,
}

/// Why a backup could not be stored; no archive was left behind.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The host name cannot be a directory name.
    #[error("`{0}` cannot name a backup directory")]
    HostName(String),
    /// The directory or the temporary file could not be created.
    #[error("cannot create a backup file in `{}`", dir.display())]
    Create {
        /// The host's backup directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The backup did not check out.
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    /// The checked archive could not be made durable or renamed into place.
    #[error("cannot put the archive in place in `{}`", dir.display())]
    Commit {
        /// The host's backup directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl StoreError {
    /// Lines telling the operator what to do.
    pub fn hints(&self) -> Vec<String> {
        match self {
            Self::Receive(e) => e.hints(),
            Self::HostName(_) => vec!["rename the host in the inventory".to_owned()],
            Self::Create { .. } | Self::Commit { .. } => {
                vec!["check free space and permissions of the backup directory".to_owned()]
            }
        }
    }
}

/// Receives `host`'s backup `stream` into `backup_dir/host/TIMESTAMP.tar.gz` (now, in UTC),
/// creating the directories; see [`receive`].
pub fn store(
    backup_dir: &Path,
    host: &str,
    stream: impl Read,
    progress: &dyn Progress,
) -> Result<Stored, StoreError> {
    store_at(backup_dir, host, jiff::Timestamp::now(), stream, progress)
}

/// [`store`] at a given time.
pub(crate) fn store_at(
    backup_dir: &Path,
    host: &str,
    now: jiff::Timestamp,
    stream: impl Read,
    progress: &dyn Progress,
) -> Result<Stored, StoreError> {
    if backup_dir::host_name_problem(host).is_some() {
        return Err(StoreError::HostName(host.to_owned()));
    }
    let dir = backup_dir::host_dir(backup_dir, host);
    let create = |source| StoreError::Create {
        dir: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(create)?;
    let stem = backup_dir::stamp(now);
    let extension = Codec::default().extension();
    let mut file = AtomicFile::create(&dir.join(format!("{stem}.{extension}"))).map_err(create)?;
    // On error `file` is dropped here, which removes the temporary.
    let received = receive(stream, &mut file, progress)?;
    let names = backup_dir::candidates(&dir, &stem, extension, MAX_SUFFIX);
    let path = file
        .commit_new(names)
        .map_err(|source| StoreError::Commit {
            dir: dir.clone(),
            source,
        })?;
    Ok(Stored { path, received })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::NoProgress;
    use crate::archive::fixtures::HostBackup;

    fn now() -> jiff::Timestamp {
        "2026-11-25T13:05:01Z".parse().unwrap()
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_good_backup_lands_under_its_timestamp_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let stream = HostBackup::good().stream();
        for _ in 0..2 {
            store_at(dir.path(), "hub-berlin", now(), &stream[..], &NoProgress).unwrap();
        }
        let stored = store_at(dir.path(), "hub-berlin", now(), &stream[..], &NoProgress).unwrap();
        assert_eq!(
            stored.path,
            dir.path().join("hub-berlin/20261125T130501Z-2.tar.gz")
        );
        assert_eq!(
            listing(&dir.path().join("hub-berlin")),
            [
                "20261125T130501Z-1.tar.gz",
                "20261125T130501Z-2.tar.gz",
                "20261125T130501Z.tar.gz"
            ]
        );
        // The archive holds the cookie secret and API tokens: its owner only.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let bytes = std::fs::read(&stored.path).unwrap();
        assert_eq!(
            crate::archive::Sha256Sum::of(&bytes),
            stored.received.sha256
        );
        assert_eq!(bytes.len() as u64, stored.received.archive_bytes);
    }

    #[test]
    fn a_failed_backup_leaves_no_archive_and_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let broken = HostBackup::good()
            .wrong_hash("db/jupyterhub.sqlite")
            .stream();
        let error =
            store_at(dir.path(), "hub-berlin", now(), &broken[..], &NoProgress).unwrap_err();
        assert!(matches!(error, StoreError::Receive(_)), "{error}");
        assert!(listing(&dir.path().join("hub-berlin")).is_empty());
    }

    #[test]
    fn host_names_that_are_not_one_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for host in ["", "..", "a/b", ".hidden"] {
            let error = store_at(dir.path(), host, now(), &b""[..], &NoProgress).unwrap_err();
            assert!(matches!(error, StoreError::HostName(_)), "{host}: {error}");
        }
    }
}
