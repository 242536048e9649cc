//! `receive` against the fixture streams: the good one, and each way a host's stream breaks.

use std::io::{self, Read};
use std::process::Command;

use super::*;
use crate::archive::fixtures::{self, HostBackup, ManifestAt};
use crate::archive::{NoProgress, verify::verify_reader};

fn receive_vec(stream: impl Read) -> Result<(Received, Vec<u8>), ReceiveError> {
    let mut out = Vec::new();
    let received = receive(stream, &mut out, &NoProgress)?;
    Ok((received, out))
}

/// The error as the operator reads it.
fn rendered(stream: &[u8]) -> String {
    let error = receive_vec(stream).unwrap_err();
    crate::error::render(&error, &error.hints())
}

#[test]
fn a_good_stream_becomes_an_archive_that_verifies() {
    let backup = HostBackup::good();
    let stream = backup.stream();
    let (received, archive) = receive_vec(&stream[..]).unwrap();
    assert_eq!(received.manifest.host, "hub-berlin");
    assert_eq!(received.stream_bytes, stream.len() as u64);
    assert_eq!(received.archive_bytes, archive.len() as u64);
    assert_eq!(received.sha256, Sha256Sum::of(&archive));
    let verification = verify_reader(&archive[..]);
    assert_eq!(verification.findings, []);
    assert_eq!(verification.sha256, Some(received.sha256));

    // The members, then the manifest, byte for byte as the host wrote it, nothing else.
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&archive[..]));
    let mut members = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        assert_eq!(entry.header().mode().unwrap(), 0o600);
        members.push((entry.path().unwrap().display().to_string(), bytes));
    }
    let mut expected: Vec<_> = backup
        .members
        .iter()
        .map(|m| (m.path.clone(), m.data.clone()))
        .collect();
    expected.push(("manifest.json".to_owned(), backup.manifest_bytes()));
    assert_eq!(members, expected);
}

#[test]
fn a_manifest_last_that_lists_a_wrong_sum_refuses_the_stream() {
    // The host's sums arrive after the members they are about: the member is already hashed and
    // written, and the comparison at the end still refuses it.
    let stream = HostBackup::good().wrong_hash("env/packages.txt").stream();
    let error = receive_vec(&stream[..]).unwrap_err();
    assert!(
        matches!(&error, ReceiveError::HashMismatch { path, .. } if path == "env/packages.txt"),
        "{error}"
    );
}

#[test]
fn the_system_tar_lists_and_extracts_a_received_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar.gz");
    let (_, archive) = receive_vec(&HostBackup::good().stream()[..]).unwrap();
    std::fs::write(&path, &archive).unwrap();
    let list = Command::new("tar").arg("-tzf").arg(&path).output().unwrap();
    assert!(list.status.success(), "{list:?}");
    insta::assert_snapshot!(String::from_utf8(list.stdout).unwrap());
    let db = Command::new("tar")
        .arg("-xzOf")
        .arg(&path)
        .arg("db/jupyterhub.sqlite")
        .output()
        .unwrap();
    assert!(db.status.success(), "{db:?}");
    assert_eq!(db.stdout, HostBackup::good().members[0].data);
}

/// Yields at most a few bytes per read, varying, as a slow SSH channel does.
struct Trickle<R> {
    inner: R,
    reads: usize,
}

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        let n = buf.len().min(1 + self.reads % 4093);
        self.inner.read(&mut buf[..n])
    }
}

#[test]
fn a_stream_in_small_pieces_hashes_the_same() {
    // A 4 MiB member read in pieces of at most 4 KiB: every byte is hashed exactly once
    // whatever the split, so the sums match and the archive verifies.
    let mut backup = HostBackup::good();
    backup.members[0].data = fixtures::sqlite_like(4 << 20);
    let stream = backup.stream();
    let trickle = Trickle {
        inner: &stream[..],
        reads: 0,
    };
    let (received, archive) = receive_vec(trickle).unwrap();
    assert_eq!(received.stream_bytes, stream.len() as u64);
    assert!(verify_reader(&archive[..]).is_ok());
}

/// Counts what the progress display would show.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicU64);

impl Progress for Counter {
    fn bytes(&self, n: u64) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn progress_sees_every_byte_of_the_stream() {
    let stream = HostBackup::good().stream();
    let counter = Counter::default();
    receive(&stream[..], io::sink(), &counter).unwrap();
    assert_eq!(counter.0.into_inner(), stream.len() as u64);
}

#[test]
fn broken_streams_are_refused_with_the_member_and_both_sums() {
    let db = "db/jupyterhub.sqlite";
    let good = HostBackup::good().stream();
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"oops");
    // The manifest's data starts one 512-byte block after its header's name.
    let manifest_data = good
        .windows(13)
        .position(|w| w == b"manifest.json")
        .unwrap()
        + 512;
    let cases = [
        ("wrong hash", HostBackup::good().wrong_hash(db).stream()),
        ("wrong size", HostBackup::good().wrong_size(db).stream()),
        (
            "missing members",
            HostBackup::good()
                .missing(db)
                .missing("env/packages.txt")
                .stream(),
        ),
        (
            "extra member",
            HostBackup::good().extra("extra/etc/passwd").stream(),
        ),
        (
            "manifest first (not the host's layout)",
            HostBackup::good().manifest_at(ManifestAt::First).stream(),
        ),
        (
            "manifest between members",
            HostBackup::good().manifest_at(ManifestAt::Second).stream(),
        ),
        (
            "no manifest",
            HostBackup::good().manifest_at(ManifestAt::Nowhere).stream(),
        ),
        ("truncated inside a member", good[..20_000].to_vec()),
        ("truncated inside a header", good[..1000].to_vec()),
        (
            "truncated inside the manifest",
            good[..manifest_data + 100].to_vec(),
        ),
        ("empty", Vec::new()),
        (
            "cut after the last member",
            HostBackup::good().stream_without_end_marker(),
        ),
        (
            "cut inside the end marker",
            HostBackup::good().stream_without_end_marker()[..]
                .iter()
                .copied()
                .chain([0; 512])
                .collect(),
        ),
        ("data after the end", trailing),
        (
            "not a tar stream",
            b"Traceback (most recent call last):\n".repeat(20),
        ),
    ];
    let text: Vec<_> = cases
        .iter()
        .map(|(name, stream)| format!("--- {name}\n{}", rendered(stream)))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn folders_in_the_stream_are_skipped_and_links_refused() {
    let backup = HostBackup::good();
    let with = |entry_type: tar::EntryType, path: &str| {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(entry_type);
        header.set_size(0);
        builder.append_data(&mut header, path, &b""[..]).unwrap();
        for member in &backup.members {
            let mut header = tar::Header::new_gnu();
            header.set_size(member.data.len() as u64);
            builder
                .append_data(&mut header, &member.path, &member.data[..])
                .unwrap();
        }
        let manifest = backup.manifest_bytes();
        let mut header = tar::Header::new_gnu();
        header.set_size(manifest.len() as u64);
        builder
            .append_data(&mut header, "manifest.json", &manifest[..])
            .unwrap();
        builder.into_inner().unwrap()
    };
    let (_, archive) = receive_vec(&with(tar::EntryType::Directory, "db/")[..]).unwrap();
    assert_eq!(verify_reader(&archive[..]).findings, []);
    let error = receive_vec(&with(tar::EntryType::Symlink, "db/link")[..]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`db/link` in the backup stream is not a regular file"
    );
}

/// Fails every write after the first `budget` bytes, as a full disk does.
struct FullDisk {
    budget: usize,
}

impl io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget < buf.len() {
            return Err(io::Error::other("no space left on device"));
        }
        self.budget -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Fails reading after the first `budget` bytes, as a dropped connection does.
struct Dropped<'a> {
    data: &'a [u8],
    budget: usize,
}

impl Read for Dropped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            ));
        }
        let n = buf.len().min(self.budget).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.budget -= n;
        Ok(n)
    }
}

#[test]
fn a_full_disk_and_a_dropped_connection_are_told_apart() {
    let mut backup = HostBackup::good();
    backup.members[0].data = fixtures::sqlite_like(1 << 20);
    let stream = backup.stream();
    let full = receive(&stream[..], FullDisk { budget: 50_000 }, &NoProgress).unwrap_err();
    let dropped = Dropped {
        data: &stream,
        budget: 100_000,
    };
    let reset = receive(dropped, io::sink(), &NoProgress).unwrap_err();
    let text = [full, reset].map(|e| crate::error::render(&e, &e.hints()));
    insta::assert_snapshot!(text.join("\n---\n"));
}
