//! `hubfleet verify ARCHIVE...`: re-checks backup archives, one result line per archive on
//! stdout with its findings below it.

use std::path::Path;

use crate::archive::{Verification, verify};
use crate::cli::VerifyArgs;
use crate::printer::Printer;

/// Checks every archive and returns the exit code: 0 when all can be used to restore.
pub fn run(args: &VerifyArgs, printer: &Printer) -> u8 {
    let mut bad = 0;
    for path in &args.archives {
        let verification = verify(path);
        if !verification.is_ok() {
            bad += 1;
        }
        printer.out(&render(path, &verification));
    }
    crate::exit_code::for_archives(bad)
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
