//! Re-checking an archive at any time: every member against the manifest it carries, first (as
//! older archives have it) or last (as `hubfleet backup` writes it now). Findings
//! are collected with a severity instead of stopping at the first (the shape of rustic_core's
//! `commands/check.rs`): damage to the compressed stream, the manifest, members missing or extra,
//! then sizes and sums. Memory stays flat: members are hashed as they stream by.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::codec::Codec;
use super::dump_check::{DumpCheck, Listing};
use super::hashing::{HashingReader, Sha256Sum};
use super::manifest::{MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The archive cannot be trusted for a restore.
    Error,
    /// Worth knowing; the members the manifest lists are intact.
    Warning,
}

impl Severity {
    /// The word shown before the finding.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One thing wrong with an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// The member it is about, if one.
    pub member: Option<String>,
    /// What is wrong and what it means for the operator.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.member {
            Some(member) => write!(f, "{}: `{member}` {}", self.severity.as_str(), self.message),
            None => write!(f, "{}: {}", self.severity.as_str(), self.message),
        }
    }
}

/// What checking an archive found.
#[derive(Debug)]
pub struct Verification {
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// Everything wrong, errors and warnings, in the order found.
    pub findings: Vec<Finding>,
    /// The SHA-256 of the whole file, when it could be read to its end.
    pub sha256: Option<Sha256Sum>,
}

impl Verification {
    /// Whether the archive can be used to restore: no error, warnings allowed.
    pub fn is_ok(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }
}

/// Checks the archive at `path`.
pub fn verify(path: &Path) -> Verification {
    match File::open(path) {
        Ok(file) => verify_reader(file),
        Err(e) => Verification {
            manifest: None,
            findings: vec![error(None, format!("cannot be opened: {e}"))],
            sha256: None,
        },
    }
}

/// A member as found in the archive.
struct Seen {
    path: String,
    size: u64,
    sha256: Sha256Sum,
}

fn error(member: Option<&str>, message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        member: member.map(str::to_owned),
        message,
    }
}

fn warning(member: Option<&str>, message: String) -> Finding {
    Finding {
        severity: Severity::Warning,
        member: member.map(str::to_owned),
        message,
    }
}

const TAKE_NEW: &str = "this archive cannot be used to restore; take a new backup";

/// Checks an archive read from `input`.
pub fn verify_reader(input: impl Read) -> Verification {
    let mut findings = Vec::new();
    let mut file = BufReader::with_capacity(64 * 1024, HashingReader::new(input));
    let mut seen = Vec::<Seen>::new();
    // Links and special files: never written by `hubfleet backup`, but `tar` restores them.
    let mut not_files = Vec::<String>::new();
    let mut manifest_bytes = None;
    // Where the (first) manifest was, and how many entries there were: `hubfleet backup` writes
    // it last, and wrote it first before its sums were computed while streaming.
    let mut manifest_index = None;
    let mut entries_read = 0;
    // The first damage stops the reading; what it hides is reported as not reached.
    let mut damage = None;
    {
        let mut archive = tar::Archive::new(Codec::default().decoder(&mut file));
        match archive.entries() {
            Err(e) => damage = Some((None, e)),
            Ok(entries) => {
                for (index, entry) in entries.enumerate() {
                    let mut entry = match entry {
                        Ok(entry) => entry,
                        Err(e) => {
                            damage = Some((None, e));
                            break;
                        }
                    };
                    let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                    entries_read = index + 1;
                    if path == MANIFEST_PATH {
                        manifest_index.get_or_insert(index);
                        let mut bytes = Vec::new();
                        match (&mut entry)
                            .take(MAX_MANIFEST_BYTES + 1)
                            .read_to_end(&mut bytes)
                        {
                            Err(e) => {
                                damage = Some((Some(path), e));
                                break;
                            }
                            Ok(_) if manifest_bytes.is_some() => findings.push(warning(
                                Some(MANIFEST_PATH),
                                "is twice in the archive: the first one is used".to_owned(),
                            )),
                            Ok(_) => manifest_bytes = Some(bytes),
                        }
                        continue;
                    }
                    if path.starts_with('/') || path.split('/').any(|part| part == "..") {
                        findings.push(error(
                            Some(&path),
                            format!("points outside the directory a restore writes to (an absolute path or `..`): hubfleet never writes one, so the archive was altered; {TAKE_NEW}"),
                        ));
                        continue;
                    }
                    if entry.header().entry_type().is_dir() {
                        continue;
                    }
                    if !entry.header().entry_type().is_file() {
                        not_files.push(path);
                        continue;
                    }
                    // The PAX size where there is one (8 GiB or more), as in `receive`.
                    let size = entry.size();
                    let mut hashing = HashingReader::new(&mut entry);
                    // A database server's dump is also checked for its structure as it streams.
                    let mut dump = DumpCheck::for_member(&path, Listing::PgRestoreIfInstalled);
                    let copied = match &mut dump {
                        Some(check) => io::copy(&mut hashing, check),
                        None => io::copy(&mut hashing, &mut io::sink()),
                    };
                    if let Err(e) = copied {
                        damage = Some((Some(path), e));
                        break;
                    }
                    if let Some(problem) = dump.and_then(DumpCheck::finish) {
                        findings.push(error(Some(&path), format!("{problem}; {TAKE_NEW}")));
                    }
                    let (sha256, read, _) = hashing.finish();
                    if read != size {
                        let e = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the archive ends after {read} of its {size} bytes"),
                        );
                        damage = Some((Some(path), e));
                        break;
                    }
                    seen.push(Seen {
                        path,
                        size: read,
                        sha256,
                    });
                }
            }
        }
        // The tar reader stops at its end marker; read the compressed stream to its end so its
        // trailer (CRC-32 and length) is checked too.
        if damage.is_none()
            && let Err(e) = io::copy(&mut archive.into_inner(), &mut io::sink())
        {
            damage = Some((None, e));
        }
    }
    if let Some(index) = manifest_index
        && damage.is_none()
        && index != 0
        && index + 1 != entries_read
    {
        findings.push(warning(
            Some(MANIFEST_PATH),
            "is neither the first nor the last member: the archive was repacked or not written by `hubfleet backup`".to_owned(),
        ));
    }
    let trailing = io::copy(&mut file, &mut io::sink());
    let sha256 = match (trailing, file.into_inner().finish()) {
        (Ok(0), (sum, _, _)) => Some(sum),
        (Ok(n), (sum, _, _)) => {
            if damage.is_none() {
                findings.push(warning(
                    None,
                    format!("{n} bytes follow the compressed data: they are ignored"),
                ));
            }
            Some(sum)
        }
        (Err(e), _) => {
            damage.get_or_insert((None, e));
            None
        }
    };
    if let Some((member, e)) = &damage {
        let message = match member {
            Some(_) => format!("is damaged ({e}): {TAKE_NEW}"),
            None => format!("the archive is damaged ({e}): {TAKE_NEW}"),
        };
        findings.insert(0, error(member.as_deref(), message));
    }
    let manifest = match manifest_bytes {
        // The damage finding says it all: nothing after it could be read.
        None if damage.is_some() => None,
        None => {
            findings.push(error(
                None,
                format!(
                    "the archive has no `manifest.json`: its members cannot be checked; {TAKE_NEW}"
                ),
            ));
            None
        }
        Some(bytes) if bytes.len() as u64 > MAX_MANIFEST_BYTES => {
            findings.push(error(
                Some(MANIFEST_PATH),
                format!("is larger than {MAX_MANIFEST_BYTES} bytes: the members cannot be checked; {TAKE_NEW}"),
            ));
            None
        }
        Some(bytes) => match Manifest::parse(&bytes) {
            Ok(manifest) => Some(manifest),
            Err(e) => {
                let cause = crate::error::one_line(&e, &[]);
                findings.push(error(
                    Some(MANIFEST_PATH),
                    format!("cannot be read ({cause}): the members cannot be checked; {TAKE_NEW}"),
                ));
                None
            }
        },
    };
    if let Some(manifest) = &manifest {
        let damaged = damage.as_ref().map(|(member, _)| member.as_deref());
        compare(manifest, &seen, &not_files, damaged, &mut findings);
    }
    Verification {
        manifest,
        findings,
        sha256,
    }
}

/// The members found against the manifest: missing, twice, shadowed by a link, sizes, then sums
/// (errors), extra (warnings). A restore is `tar xzf`, which writes every entry in order, so the
/// last entry of a name is what is restored: a member must be there exactly once, as a file.
/// `damaged` is `Some` when the reading stopped early, with the member it stopped in.
fn compare(
    manifest: &Manifest,
    seen: &[Seen],
    not_files: &[String],
    damaged: Option<Option<&str>>,
    findings: &mut Vec<Finding>,
) {
    for member in &manifest.members {
        let path = Some(member.path.as_str());
        let role = member.role.as_str();
        let mut copies = seen.iter().filter(|s| s.path == member.path);
        let Some(found) = copies.next() else {
            let message = match damaged {
                // Already reported as damaged.
                Some(Some(at)) if at == member.path => continue,
                Some(_) => format!("({role}) is not reached: the archive is damaged before it"),
                None => format!(
                    "({role}) is listed in `manifest.json` but not in the archive: a restore would lack it; {TAKE_NEW}"
                ),
            };
            findings.push(error(path, message));
            continue;
        };
        if copies.next().is_some() {
            findings.push(error(
                path,
                format!("is twice in the archive: `tar` restores the last copy, and hubfleet writes each member once, so the archive was altered; {TAKE_NEW}"),
            ));
        }
        if not_files.contains(&member.path) {
            findings.push(error(
                path,
                format!("is also in the archive as a link or special file, which `tar` would restore in its place; {TAKE_NEW}"),
            ));
        }
        if found.size != member.size {
            findings.push(error(
                path,
                format!(
                    "has {} bytes, `manifest.json` says {}: the member is damaged; {TAKE_NEW}",
                    found.size, member.size
                ),
            ));
        } else if found.sha256 != member.sha256 {
            findings.push(error(
                path,
                format!(
                    "has sha256 {}, `manifest.json` says {}: the member is damaged; {TAKE_NEW}",
                    found.sha256, member.sha256
                ),
            ));
        }
    }
    for extra in seen.iter().filter(|s| manifest.member(&s.path).is_none()) {
        findings.push(warning(
            Some(&extra.path),
            "is not in `manifest.json`: it is not checked, and `tar` would restore it too"
                .to_owned(),
        ));
    }
    for other in not_files.iter().filter(|p| manifest.member(p).is_none()) {
        findings.push(warning(
            Some(other),
            "is a link or special file, not in `manifest.json`: hubfleet never writes one, and `tar` would restore it too".to_owned(),
        ));
    }
}

#[cfg(test)]
mod tests;
