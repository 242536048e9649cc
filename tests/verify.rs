//! `hubfleet verify` as the operator runs it: the real binary on archives written by
//! `archive::store`, exit codes and stdout, temp paths redacted.

use std::path::Path;
use std::process::Command;

use hubfleet::archive::{NoProgress, Sha256Sum, store};
use serde_json::json;

/// A host's backup stream with one database member, as the host script sends it.
fn host_stream(db: &[u8]) -> Vec<u8> {
    let manifest = json!({
        "schema_version": 1,
        "host": "hub-berlin",
        "created_at": "2026-11-25T13:05:01Z",
        "jupyterhub_version": "5.2.1",
        "alembic_revision": "4621fec11365",
        "python_version": "3.12.7",
        "installer": "pip",
        "db_backend": "sqlite",
        "db_url": "sqlite:////srv/jupyterhub/jupyterhub.sqlite",
        "packages": ["jupyterhub==5.2.1"],
        "members": [{
            "path": "db/jupyterhub.sqlite",
            "size": db.len(),
            "sha256": Sha256Sum::of(db).to_string(),
            "role": "database",
        }],
    })
    .to_string();
    let mut builder = tar::Builder::new(Vec::new());
    // The manifest last: the host computes its sums while it streams the members.
    for (path, data) in [
        ("db/jupyterhub.sqlite", db),
        ("manifest.json", manifest.as_bytes()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o600);
        builder.append_data(&mut header, path, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn hubfleet(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hubfleet"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .expect("run hubfleet");
    let redact =
        |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&dir.display().to_string(), "[TEMP]");
    (
        out.status.code().unwrap_or(-1),
        redact(&out.stdout),
        redact(&out.stderr),
    )
}

#[test]
fn good_archives_exit_0_and_a_damaged_one_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = b"SQLite format 3\0".repeat(1000);
    let good = store(dir.path(), "hub-berlin", &host_stream(&db)[..], &NoProgress).unwrap();
    let sum = good.received.sha256.to_string();
    let path = good.path.display().to_string();

    let (code, stdout, stderr) = hubfleet(dir.path(), &["verify", &path]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let name = good
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    insta::assert_snapshot!(
        stdout
            .replace(&sum, "[SHA256]")
            .replace(&name, "[TIMESTAMP].tar.gz")
    );

    let damaged = dir.path().join("damaged.tar.gz");
    let bytes = std::fs::read(&good.path).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let (code, stdout, _) = hubfleet(
        dir.path(),
        &["verify", &path, damaged.to_str().unwrap(), "missing.tar.gz"],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(
        stdout
            .replace(&sum, "[SHA256]")
            .replace(&name, "[TIMESTAMP].tar.gz")
    );
}
