//! One output contract (issue 14): every subcommand's `--json` is the same envelope, with
//! `schema_version`, the command and its exit code; `--report` writes the same; `exec`'s holds
//! each host's stdout, stderr and exit status.

#[path = "lab/mod.rs"]
mod lab;

use lab::{Hubs, Lab, text};
use serde_json::Value;

/// `hubfleet COMMAND --json ARGS`: its exit code and the envelope, checked for what every command's has.
fn json(lab: &Lab, command: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec![command, "--json"];
    all.extend(args);
    let out = lab.hubfleet(&all);
    let stdout = text(&out.stdout);
    let envelope: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{command}: {e}\n{stdout}\n{}", text(&out.stderr)));
    assert_eq!(envelope["schema_version"], 2, "{command}");
    assert_eq!(envelope["command"], command);
    let code = out.status.code().unwrap();
    assert_eq!(
        envelope["exit_code"],
        code,
        "{command}: {}",
        text(&out.stderr)
    );
    (code, envelope)
}

#[test]
fn every_subcommand_speaks_the_same_json() {
    let lab = Lab::builder()
        .hosts(1)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()
        .unwrap();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let backups = lab.dir().join("backups");
    let backups = backups.to_str().unwrap();
    let inv = ["-i", inventory.as_str()];

    let (code, listed) = json(&lab, "inventory", &inv);
    assert_eq!((code, &listed["hosts"][0]["name"]), (0, &Value::from("h1")));

    let (code, facts) = json(&lab, "facts", &inv);
    assert_eq!(code, 0);
    assert_eq!(facts["hosts"][0]["report"]["jupyterhub_version"], "4.1.6");

    // exec: what the command printed on each stream and how it ended, in the report too.
    let report = lab.dir().join("exec.json");
    let script = "echo out; echo err >&2; exit 3";
    let exec = [
        &inv[..],
        &["--report", report.to_str().unwrap(), "--", script],
    ]
    .concat();
    let (code, ran) = json(&lab, "exec", &exec);
    assert_eq!(code, 2);
    let host = &ran["hosts"][0];
    assert_eq!(host["report"]["stdout"], "out\n", "{host}");
    assert_eq!(host["report"]["stderr"], "err\n", "{host}");
    assert_eq!(host["report"]["exit_code"], 3, "{host}");
    assert_eq!(host["outcome"]["status"], "failed", "{host}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written, ran, "--report writes what --json prints");
    // The command's own output still shows, on stderr: stdout is the JSON alone.
    let shown = lab.hubfleet(&[&["exec", "--json"], &exec[..]].concat());
    assert!(
        text(&shown.stderr).contains("h1 | out"),
        "{}",
        text(&shown.stderr)
    );

    let (code, backed_up) = json(
        &lab,
        "backup",
        &[&inv[..], &["--backup-dir", backups]].concat(),
    );
    assert_eq!(code, 0, "{backed_up}");
    let archive = backed_up["hosts"][0]["report"]["archive"].as_str().unwrap();
    assert!(archive.ends_with(".tar.gz"), "{archive}");

    let (code, verified) = json(&lab, "verify", &[backups]);
    assert_eq!(code, 0, "{verified}");
    assert_eq!(verified["archives"][0]["path"], archive);
    assert_eq!(verified["archives"][0]["ok"], true);
    assert_eq!(verified["archives"][0]["host"], "h1");

    let dry_run = [
        &inv[..],
        &["--to", "6.1.1", "--dry-run", "--backup-dir", backups],
    ]
    .concat();
    let (code, planned) = json(&lab, "upgrade", &dry_run);
    assert_eq!(code, 0, "{planned}");
    assert_eq!(planned["hosts"][0]["report"]["plan"]["target"], "6.1.1");
}
