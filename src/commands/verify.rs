//! `hubfleet verify ARCHIVE|DIR...`: re-checks backup archives, one result line per archive on
//! stdout with its findings below it. A directory stands for every archive below it (say, the
//! whole backup directory).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{Verification, verify};
use crate::cli::VerifyArgs;
use crate::error::FatalError;
use crate::printer::Printer;

/// The JSON body of `verify`: every archive checked (or directory that could not be), in order.
#[derive(Debug, Serialize)]
struct Body {
    /// 0 when every archive can be used to restore, else 2.
    exit_code: u8,
    archives: Vec<Checked>,
}

/// One archive's result, as JSON.
#[derive(Debug, Serialize)]
struct Checked {
    /// The archive (or the directory that held none, or could not be read).
    path: String,
    /// Whether it can be used to restore: no error, warnings allowed.
    ok: bool,
    /// What its manifest says, when it could be read.
    host: Option<String>,
    jupyterhub_version: Option<String>,
    alembic_revision: Option<String>,
    members: Option<usize>,
    /// The whole file's sha256, when it could be read to its end.
    sha256: Option<String>,
    /// Every finding, errors and warnings, in the order found.
    findings: Vec<FindingJson>,
}

/// One finding, as JSON.
#[derive(Debug, Serialize)]
struct FindingJson {
    severity: &'static str,
    member: Option<String>,
    message: String,
}

impl Checked {
    /// A path that is not an archive at all: one error.
    fn not_checked(path: &Path, message: String) -> Self {
        Self {
            path: path.to_string_lossy().into_owned(),
            ok: false,
            host: None,
            jupyterhub_version: None,
            alembic_revision: None,
            members: None,
            sha256: None,
            findings: vec![FindingJson {
                severity: "error",
                member: None,
                message,
            }],
        }
    }

    fn of(path: &Path, verification: &Verification) -> Self {
        let manifest = verification.manifest.as_ref();
        Self {
            path: path.to_string_lossy().into_owned(),
            ok: verification.is_ok(),
            host: manifest.map(|m| m.host.clone()),
            jupyterhub_version: manifest.map(|m| m.jupyterhub_version.clone()),
            alembic_revision: manifest.map(|m| m.alembic_revision.clone()),
            members: manifest.map(|m| m.members.len()),
            sha256: verification.sha256.map(|s| s.to_string()),
            findings: verification
                .findings
                .iter()
                .map(|f| FindingJson {
                    severity: f.severity.as_str(),
                    member: f.member.clone(),
                    message: f.message.clone(),
                })
                .collect(),
        }
    }
}

/// Checks every archive and returns the exit code: 0 when all can be used to restore.
pub fn run(args: &VerifyArgs, printer: &Printer) -> Result<u8, FatalError> {
    super::output::probe(&args.output)?;
    let mut lines = Vec::new();
    let mut checked = Vec::new();
    for given in &args.archives {
        let archives = if given.is_dir() {
            let (archives, unreadable) = archives_below(given);
            for (dir, error) in &unreadable {
                let message =
                    format!("cannot read this directory ({error}): its archives are not checked");
                lines.push(format!("bad {}\n    error: {message}", dir.display()));
                checked.push(Checked::not_checked(dir, message));
            }
            archives
        } else {
            vec![given.clone()]
        };
        if archives.is_empty() {
            let message = "no `*.tar.gz` archive below this directory".to_owned();
            lines.push(format!("bad {}\n    error: {message}", given.display()));
            checked.push(Checked::not_checked(given, message));
        }
        for path in &archives {
            let verification = verify(path);
            lines.push(render(path, &verification));
            checked.push(Checked::of(path, &verification));
        }
    }
    let bad = checked.iter().filter(|c| !c.ok).count();
    let exit_code = crate::exit_code::for_archives(bad);
    let body = Body {
        exit_code,
        archives: checked,
    };
    super::output::emit(&args.output, printer, "verify", body, || lines.join("\n"));
    Ok(exit_code)
}

/// Every `*.tar.gz` below `dir`, sorted, and the directories that could not be read; hidden names
/// (a receive's `.partial` files) are skipped. Links to directories are not followed (a link to
/// a parent would loop), links to archives are.
fn archives_below(dir: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) => {
                unreadable.push((d, e));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    unreadable.push((d.clone(), e));
                    break;
                }
            };
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                todo.push(path);
            } else if name.ends_with(".tar.gz") && (kind.is_file() || path.is_file()) {
                found.push(path);
            }
        }
    }
    found.sort();
    unreadable.sort_by(|a, b| a.0.cmp(&b.0));
    (found, unreadable)
}

/// `ok  PATH (host …, jupyterhub …, revision …, N members, sha256 …)` or `bad PATH`, then one
/// indented line per finding (warnings show under `ok` too).
pub fn render(path: &Path, verification: &Verification) -> String {
    let mut out = match (&verification.manifest, verification.is_ok()) {
        (Some(manifest), true) => format!(
            "ok  {} (host {}, jupyterhub {}, revision {}, {} member{}, sha256 {})",
            path.display(),
            manifest.host,
            manifest.jupyterhub_version,
            manifest.alembic_revision,
            manifest.members.len(),
            if manifest.members.len() == 1 { "" } else { "s" },
            verification
                .sha256
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        ),
        _ => format!("bad {}", path.display()),
    };
    for finding in &verification.findings {
        out.push_str(&format!("\n    {finding}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_stands_for_the_archives_below_it_but_not_partial_ones() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "h2/b.tar.gz",
            "h1/a.tar.gz",
            "h1/.a.tar.gz.x1.partial",
            "h1/upgrade.log",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
        // A link back up is not followed: each archive is found once.
        std::os::unix::fs::symlink("..", dir.path().join("h1/up")).unwrap();
        let (found, unreadable) = archives_below(dir.path());
        assert!(unreadable.is_empty(), "{unreadable:?}");
        let found: Vec<_> = found
            .into_iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            found,
            [PathBuf::from("h1/a.tar.gz"), PathBuf::from("h2/b.tar.gz")]
        );
    }
    use crate::archive::fixtures::HostBackup;
    use crate::archive::verify_reader;

    #[test]
    fn one_line_per_archive_then_its_findings() {
        let path = Path::new("backups/hub-berlin/20261125T130501Z.tar.gz");
        let cases = [
            HostBackup::good().archive(),
            HostBackup::good().extra("extra/etc/motd").archive(),
            HostBackup::good()
                .wrong_hash("db/jupyterhub.sqlite")
                .archive(),
        ];
        let text: Vec<_> = cases
            .iter()
            .map(|archive| {
                let verification = verify_reader(&archive[..]);
                let sum = verification.sha256.unwrap().to_string();
                // The archive's sum changes with the compressor's version; the members' do not.
                render(path, &verification).replace(&sum, "[SHA256]")
            })
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }
}
