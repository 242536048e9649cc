//! `hubfleet verify` as the operator runs it: the real binary on archives written by
//! `archive::store`, exit codes and stdout, temp paths redacted.

use std::path::Path;
use std::process::Command;

use hubfleet::archive::fixtures::HostBackup;
use hubfleet::archive::{NoProgress, store};

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
    // The backup of `hub-berlin` the archive's unit tests use, as its host streams it.
    let stream = HostBackup::good().stream();
    let good = store(dir.path(), "hub-berlin", &stream[..], &NoProgress).unwrap();
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
