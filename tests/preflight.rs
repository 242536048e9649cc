//! What is checked before the first connection (issue 14): `--to`, the `--report` file and the
//! backup directory are refused with exit 1 and one clear error while a listener standing in for
//! every host records that nothing connected; a report that cannot be written after the run
//! keeps the run's exit code.

#[path = "cli/mod.rs"]
mod cli;

use std::path::Path;
use std::time::Duration;

use cli::{Recorder, Run, hubfleet};

/// stderr with the temporary directory's path replaced, for a snapshot.
fn redacted(run: &Run, dir: &Path) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
    .replace(&dir.display().to_string(), "[TMP]")
}

#[test]
fn bad_arguments_exit_1_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let hosts = Recorder::start();
    hosts.inventory(root);
    std::fs::write(root.join("a-file"), "").unwrap();
    let cases: [(&str, &[&str]); 6] = [
        (
            "to_not_a_version",
            &["upgrade", "-i", "inv.toml", "--to", "notaversion"],
        ),
        (
            "to_not_normalized",
            &["upgrade", "-i", "inv.toml", "--to", "v5.0.0-beta.1"],
        ),
        (
            "to_local",
            &["upgrade", "-i", "inv.toml", "--to", "5.2.1+site"],
        ),
        (
            "report_in_a_missing_directory",
            &[
                "upgrade",
                "-i",
                "inv.toml",
                "--to",
                "5.2.1",
                "--report",
                "missing/r.json",
            ],
        ),
        (
            "report_is_a_directory",
            &["exec", "-i", "inv.toml", "--report", ".", "--", "true"],
        ),
        (
            "backup_dir_is_a_file",
            &["backup", "-i", "inv.toml", "--backup-dir", "a-file/backups"],
        ),
    ];
    for (name, args) in cases {
        let run = hubfleet(root, args);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        insta::assert_snapshot!(name, redacted(&run, root));
    }
    assert_eq!(hosts.connections(), 0, "a host was contacted");
    assert!(!root.join("missing").exists());
}

#[test]
fn an_existing_report_is_not_touched_by_a_refused_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    Recorder::start().inventory(root);
    std::fs::write(root.join("r.json"), "the last run's report").unwrap();
    let args = [
        "upgrade", "-i", "inv.toml", "--to", "x", "--report", "r.json",
    ];
    assert_eq!(hubfleet(root, &args).code, 1);
    let report = std::fs::read_to_string(root.join("r.json")).unwrap();
    assert_eq!(report, "the last run's report");
}

#[test]
fn a_report_lost_after_the_run_keeps_the_runs_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let hosts = Recorder::start();
    hosts.inventory(root);
    std::fs::create_dir(root.join("reports")).unwrap();
    let child = cli::command(root)
        .args([
            "exec",
            "-i",
            "inv.toml",
            "--limit",
            "h1",
            "--report",
            "reports/r.json",
        ])
        .args(["--", "true"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The probe passed and the host is being dialled: take the report's directory away, then
    // hang up, which makes the host unreachable (exit 4).
    let connection = hosts
        .connections
        .recv_timeout(Duration::from_secs(30))
        .expect("hubfleet connects to h1");
    std::fs::remove_dir(root.join("reports")).unwrap();
    drop(connection);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let tail = stderr
        .split_once("error: the report")
        .map(|(_, tail)| format!("error: the report{tail}"))
        .unwrap_or_else(|| panic!("no report error in {stderr}"));
    // The temporary file's random name is redacted too.
    let partial = regex::Regex::new(r"\.r\.json\.\w+\.partial").unwrap();
    let tail = tail.replace(&root.display().to_string(), "[TMP]");
    insta::assert_snapshot!(partial.replace(&tail, ".r.json.XXXXXX.partial"));
}

/// Inventory values that cannot work, refused with their place in the file before any host is
/// dialled: the other host of the inventory, which is fine, is not contacted either.
#[test]
fn bad_inventory_values_exit_1_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let hosts = Recorder::start();
    let cases = [
        ("address_empty", "[hosts.h1]\naddress = \"\"\n"),
        ("key_misspelt", "[hosts.h1]\nadress = \"127.0.0.1\"\n"),
    ];
    for (name, h1) in cases {
        hosts.inventory_with(&root.join("bad.toml"), h1);
        for command in [
            &["exec", "-i", "bad.toml", "--", "true"][..],
            &["upgrade", "-i", "bad.toml", "--to", "6.1.1", "--yes"],
        ] {
            let run = hubfleet(root, command);
            assert_eq!(run.code, 1, "{name}: {}", run.stderr);
            if command[0] == "exec" {
                insta::assert_snapshot!(name, redacted(&run, root));
            }
        }
    }
    assert_eq!(hosts.connections(), 0, "a host was contacted");
}
