//! Receiving a host's backup: the uncompressed tar stream from the host is hashed member by
//! member while it is copied into a compressed archive, and checked against the host's manifest,
//! which comes last.
//!
//! The manifest is the last member because the host computes its sums in the same pass as it
//! streams the members (issue 4: a separate digest pass before the first byte cost 0.6 s per
//! GiB). So the checks wait for the end of the stream: every member's size and sum as received
//! are kept (a few dozen bytes each, at most [`MAX_MEMBERS`] members), then compared with the
//! manifest: a member it does not list, one it lists and the stream lacks, a size or a sum that
//! differs all refuse the backup, exactly as when the manifest came first. Nothing is committed
//! before that (see [`store`](super::store)).
//!
//! Memory is bounded by construction, whatever the size of the database: a member is never held
//! whole; it flows from the stream through a hasher in `io::copy`'s fixed 8 KiB chunks, then to
//! the compressing threads through bounded channels (see `compressor`: two 1 MiB chunks and
//! their members per core at most). What is held at once is one tar header, those chunks, each
//! compressing thread's state (a few hundred KiB), whatever buffer `out` has, and the manifest
//! (at most [`MAX_MANIFEST_BYTES`]).

use std::io::{self, Read, Write};

use indexmap::IndexMap;

use super::codec::Codec;
use super::compressor::{self, ChunkSender};
use super::hashing::{HashingReader, Sha256Sum};
use super::manifest::{MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest, ManifestError};
use super::progress::Progress;

/// A backup received and checked.
#[derive(Debug)]
pub struct Received {
    /// The host's manifest; every member matched it.
    pub manifest: Manifest,
    /// The SHA-256 of the archive as written to `out`.
    pub sha256: Sha256Sum,
    /// The size of the archive as written to `out`.
    pub archive_bytes: u64,
    /// The bytes read from the host's stream, end padding included.
    pub stream_bytes: u64,
}

/// Why a received backup is not usable. Any of them means the output must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Reading the stream failed.
    #[error("cannot read the backup stream")]
    Read(#[source] io::Error),
    /// Writing the archive failed.
    #[error("cannot write the archive")]
    Write(#[source] io::Error),
    /// Reading a member from the stream failed.
    #[error("cannot read `{path}` from the backup stream")]
    ReadMember {
        /// The member.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The stream holds no member at all.
    #[error("the backup stream is empty")]
    Empty,
    /// A member after the manifest, which the host writes last.
    #[error("`{path}` follows `manifest.json` in the backup stream, which must end with it")]
    AfterManifest {
        /// The member.
        path: String,
    },
    /// The stream ends without a manifest.
    #[error("the backup stream has no `manifest.json`: its members cannot be checked")]
    NoManifest,
    /// More members than any backup has: a broken stream, refused before it uses much memory.
    #[error("the backup stream has more than {MAX_MEMBERS} members")]
    TooManyMembers,
    /// The manifest is larger than [`MAX_MANIFEST_BYTES`].
    #[error("`manifest.json` has {size} bytes, more than the {MAX_MANIFEST_BYTES} allowed")]
    ManifestTooLarge {
        /// Its size.
        size: u64,
    },
    /// The manifest does not parse or is not consistent.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A member that is not a regular file (a directory, a link, a device).
    #[error("`{path}` in the backup stream is not a regular file")]
    NotAFile {
        /// The member.
        path: String,
    },
    /// A member the manifest does not list.
    #[error("`{path}` is in the backup stream but not in `manifest.json`")]
    Unexpected {
        /// The member.
        path: String,
    },
    /// The same member twice.
    #[error("`{path}` is twice in the backup stream")]
    Duplicate {
        /// The member.
        path: String,
    },
    /// Members the manifest lists that the stream lacks.
    #[error("the backup stream lacks {} listed in `manifest.json`", quoted(.paths))]
    Missing {
        /// The members, in manifest order.
        paths: Vec<String>,
    },
    /// A member's size differs from the manifest's.
    #[error("`{path}` has {actual} bytes in the backup stream, `manifest.json` says {expected}")]
    SizeMismatch {
        /// The member.
        path: String,
        /// The manifest's size.
        expected: u64,
        /// The stream's size.
        actual: u64,
    },
    /// The stream ends inside a member.
    #[error("the backup stream ends inside `{path}`, after {actual} of its {expected} bytes")]
    Truncated {
        /// The member.
        path: String,
        /// The manifest's size.
        expected: u64,
        /// The bytes received.
        actual: u64,
    },
    /// A member's sum differs from the host's.
    #[error(
        "`{path}` does not match the host's sum: sha256 {actual} received, {expected} on the host"
    )]
    HashMismatch {
        /// The member.
        path: String,
        /// The host's sum.
        expected: Sha256Sum,
        /// The sum of the bytes received.
        actual: Sha256Sum,
    },
    /// The stream ends after the last member without tar's end marker: the host's `tar` did
    /// not finish.
    #[error("the backup stream ends without tar's end marker")]
    NoEndMarker,
    /// Data other than zero padding after the tar end marker.
    #[error("the backup stream has data after the end of the tar archive")]
    TrailingData,
}

fn quoted(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ReceiveError {
    /// Lines telling the operator what to do.
    pub fn hints(&self) -> Vec<String> {
        let hint = match self {
            Self::Write(_) => "check free space and permissions of the backup directory",
            Self::HashMismatch { .. } | Self::SizeMismatch { .. } => {
                "the file changed on the host while it was read, or the transfer is corrupt; run the backup again"
            }
            Self::Read(_) | Self::ReadMember { .. } => {
                "the connection or the backup command on the host failed; see the host's log, then run the backup again"
            }
            Self::Truncated { .. } | Self::Empty | Self::NoEndMarker | Self::NoManifest => {
                "the connection or the backup command on the host stopped early; run the backup again"
            }
            _ => {
                "the host's backup script and this hubfleet disagree; run the backup again, and report it if it repeats"
            }
        };
        vec![hint.to_owned()]
    }
}

/// The most members a backup stream may have before the manifest says which it should have: the
/// database, the config, the cookie secret, the package list and the inventory's extra files.
pub const MAX_MEMBERS: usize = 10_000;

/// Counts bytes read from the host's stream, for the progress display and [`Received`].
struct Counted<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
    bytes: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        self.progress.bytes(n as u64);
        Ok(n)
    }
}

/// Reads a host's backup `stream` to its end, checking each member against the manifest, and
/// writes it to `out` as a compressed archive holding the members and the manifest (last, byte for
/// byte as the host wrote it), nothing else. `out` is left flushed; on error its content is
/// garbage and must be discarded (see [`store`](super::store)). Compression runs on threads of
/// its own, overlapping the receiving and hashing on this one.
pub fn receive(
    stream: impl Read,
    out: impl Write + Send,
    progress: &dyn Progress,
) -> Result<Received, ReceiveError> {
    std::thread::scope(|scope| {
        let (chunks, compressor) = compressor::spawn(scope, Codec::default(), out);
        // `chunks` is closed or dropped when this returns, so the compressor ends either way.
        let received = receive_into(stream, chunks, progress);
        let compressed = compressor.finish();
        let ((manifest, stream_bytes), (sha256, archive_bytes, mut out)) =
            match (received, compressed) {
                // The receiving side only saw the compressor stop; its own error says why.
                (Err(ReceiveError::Write(_)), Err(cause)) => {
                    return Err(ReceiveError::Write(cause));
                }
                (Err(e), _) => return Err(e),
                (Ok(_), Err(cause)) => return Err(ReceiveError::Write(cause)),
                (Ok(received), Ok(compressed)) => (received, compressed),
            };
        out.flush().map_err(ReceiveError::Write)?;
        Ok(Received {
            manifest,
            sha256,
            archive_bytes,
            stream_bytes,
        })
    })
}

/// [`receive`]'s checks and tar, writing the uncompressed archive to `chunks`; the manifest and
/// the bytes read from the stream.
fn receive_into(
    stream: impl Read,
    chunks: ChunkSender,
    progress: &dyn Progress,
) -> Result<(Manifest, u64), ReceiveError> {
    let counted = Counted {
        inner: stream,
        progress,
        bytes: 0,
    };
    let mut archive = tar::Archive::new(counted);
    let mut builder = tar::Builder::new(chunks);
    // Every member received, in stream order, with its size and sum.
    let mut seen = IndexMap::<String, Seen>::new();
    let mut manifest = None;
    // Where the last member's data ends, padded to tar's 512-byte blocks; the end marker (two
    // zero blocks) must follow it.
    let mut end_of_members = 0;
    for entry in archive.entries().map_err(ReceiveError::Read)? {
        let mut entry = entry.map_err(ReceiveError::Read)?;
        let path = entry_path(&entry);
        // `tar -cf - db config …` on the host adds the folders too; they carry nothing.
        if entry.header().entry_type().is_dir() {
            continue;
        }
        if manifest.is_some() {
            return Err(ReceiveError::AfterManifest { path });
        }
        if !entry.header().entry_type().is_file() {
            return Err(ReceiveError::NotAFile { path });
        }
        // `entry.size()`, not the header's: Python's PAX writer puts a size of 8 GiB or more in a
        // PAX record and 0 in the ustar field.
        let size = entry.size();
        end_of_members = entry.raw_file_position() + size.next_multiple_of(512);
        let mut header = member_header(size, entry.header().mtime().unwrap_or(0));
        if path == MANIFEST_PATH {
            if size > MAX_MANIFEST_BYTES {
                return Err(ReceiveError::ManifestTooLarge { size });
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(ReceiveError::Read)?;
            if bytes.len() as u64 != size {
                return Err(ReceiveError::Truncated {
                    path,
                    expected: size,
                    actual: bytes.len() as u64,
                });
            }
            manifest = Some(Manifest::parse(&bytes)?);
            builder
                .append_data(&mut header, MANIFEST_PATH, &bytes[..])
                .map_err(ReceiveError::Write)?;
            continue;
        }
        if seen.contains_key(&path) {
            return Err(ReceiveError::Duplicate { path });
        }
        if seen.len() == MAX_MEMBERS {
            return Err(ReceiveError::TooManyMembers);
        }
        let mut hashing = HashingReader::new(ReadFailed {
            inner: &mut entry,
            failed: false,
        });
        // `append_data` streams through `io::copy`: fixed-size chunks, never the whole member.
        let copied = builder.append_data(&mut header, &path, &mut hashing);
        let (sha256, received, reader) = hashing.finish();
        match copied {
            Err(source) if reader.failed => {
                return Err(ReceiveError::ReadMember { path, source });
            }
            Err(source) => return Err(ReceiveError::Write(source)),
            Ok(()) => {}
        }
        // A tar entry reader returns end of file early when the stream ends inside it.
        if received != size {
            return Err(ReceiveError::Truncated {
                path,
                expected: size,
                actual: received,
            });
        }
        seen.insert(path, Seen { size, sha256 });
    }
    let manifest = match manifest {
        Some(manifest) => manifest,
        None if seen.is_empty() => return Err(ReceiveError::Empty),
        None => return Err(ReceiveError::NoManifest),
    };
    check(&manifest, &seen)?;
    // The tar reader stops at the end marker; the host's tar pads on with zeros to its record
    // size. Read to the end so the stream is complete (and the remote command can exit), and
    // so that anything after the archive is noticed.
    let mut rest = archive.into_inner();
    drain_zeros(&mut rest)?;
    let stream_bytes = rest.bytes;
    // A tar reader takes the end of the input for the end of the archive; without this, a
    // stream cut right after a member would pass when the manifest's last member is complete.
    if stream_bytes < end_of_members + 1024 {
        return Err(ReceiveError::NoEndMarker);
    }

    builder
        .into_inner()
        .and_then(ChunkSender::close)
        .map_err(ReceiveError::Write)?;
    Ok((manifest, stream_bytes))
}

/// A member as received: what the manifest is checked against once it arrives.
struct Seen {
    size: u64,
    sha256: Sha256Sum,
}

/// The members received against the host's manifest: each one listed, with its size and sum
/// (in stream order, so the first difference is the one reported), then none missing.
fn check(manifest: &Manifest, seen: &IndexMap<String, Seen>) -> Result<(), ReceiveError> {
    for (path, Seen { size, sha256 }) in seen {
        let Some(member) = manifest.member(path) else {
            return Err(ReceiveError::Unexpected { path: path.clone() });
        };
        if *size != member.size {
            return Err(ReceiveError::SizeMismatch {
                path: path.clone(),
                expected: member.size,
                actual: *size,
            });
        }
        if *sha256 != member.sha256 {
            return Err(ReceiveError::HashMismatch {
                path: path.clone(),
                expected: member.sha256,
                actual: *sha256,
            });
        }
    }
    let missing: Vec<_> = manifest
        .members
        .iter()
        .filter(|m| !seen.contains_key(&m.path))
        .map(|m| m.path.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ReceiveError::Missing { paths: missing });
    }
    Ok(())
}

/// Remembers whether reading failed, to tell the stream's errors from the archive's (both
/// surface from the same `io::copy`): the hints differ.
struct ReadFailed<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for ReadFailed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        self.failed |= result.is_err();
        result
    }
}

/// The header of a member in the archive: a regular file, private (the archive holds the
/// cookie secret and API tokens), owned by nobody in particular, with the host's mtime.
fn member_header(size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// The member's path as text (a path that is not UTF-8 never matches the manifest anyway).
fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    String::from_utf8_lossy(&entry.path_bytes()).into_owned()
}

/// Reads `input` to its end; anything but zeros is an error.
fn drain_zeros(input: &mut impl Read) -> Result<(), ReceiveError> {
    let mut buf = [0; 8192];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReceiveError::Read(e)),
        };
        if buf[..n].iter().any(|&b| b != 0) {
            return Err(ReceiveError::TrailingData);
        }
    }
}

#[cfg(test)]
mod tests;
