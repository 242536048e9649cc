//! `hubfleet inventory` as the operator runs it: the real binary, exit codes, stdout and stderr.

#[path = "cli/mod.rs"]
mod cli;

use cli::{example, hubfleet};

#[test]
fn the_example_inventory_resolves_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = hubfleet(dir.path(), &["inventory", "-i", &example()]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_shows_merged_variables_and_jump_chains() {
    let dir = tempfile::tempdir().unwrap();
    let run = hubfleet(
        dir.path(),
        &[
            "inventory",
            "-i",
            &example(),
            "--json",
            "--limit",
            "eu-gpu",
            "-e",
            "user=alice",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hosts: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hosts = hosts["hosts"].clone();
    let gpu = &hosts[0];
    assert_eq!(hosts.as_array().unwrap().len(), 1);
    assert_eq!(gpu["name"], "hub-gpu");
    assert_eq!(gpu["ssh"]["user"], "alice");
    assert_eq!(gpu["hub"]["installer"], "conda");
    assert_eq!(gpu["hub"]["env"], "/opt/conda/envs/hub");
    // The inventory's own key names, not the code's (`become_`).
    assert!(!run.stdout.contains("become_"), "{}", run.stdout);
    assert_eq!(gpu["hub"]["become"]["method"], "no");
    assert_eq!(gpu["ssh"]["jump"]["address"], "bastion.eu.example.org");
    // `-e` is above every layer of every host, the jump host of the inventory included.
    assert_eq!(gpu["ssh"]["jump"]["user"], "alice");
    assert_eq!(
        gpu["ssh"]["known_hosts"],
        format!("{}/.ssh/known_hosts", dir.path().display())
    );
}

#[test]
fn limit_from_a_file_of_failed_hosts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("failed.hosts"),
        "hub-berlin\n# unreachable:\nhub-gpu\n",
    )
    .unwrap();
    let run = hubfleet(
        dir.path(),
        &[
            "inventory",
            "-i",
            &example(),
            "--json",
            "--limit",
            "@failed.hosts,!hub-gpu",
        ],
    );
    let hosts: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hosts = hosts["hosts"].clone();
    let names: Vec<&str> = hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hub-berlin"]);
}

#[test]
fn bad_input_is_one_clear_error_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[groups.web]\nhosts = [\"www1\"]\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["inventory", "-i", "bad.toml"],
            "error: bad.toml:2:10: group `web` lists host `www1`, which is not defined\n\nhint: add a `[hosts.www1]` table, or remove `www1` from the group\n",
        ),
        (
            &["inventory", "-i", "missing.toml"],
            "error: cannot read inventory `missing.toml`\n  Caused by: No such file or directory (os error 2)\n",
        ),
        (
            &["inventory", "-i", &example(), "--limit", "nohost*"],
            "error: `--limit nohost*` selects no host of the inventory\n\nhint: `hubfleet inventory -i FILE` lists the host and group names\n",
        ),
        (
            &["inventory", "-i", &example(), "--limit", "hub-pari"],
            "error: `--limit hub-pari`: `hub-pari` is neither a host nor a group of the inventory; did you mean `hub-paris`?\n",
        ),
        (
            &["inventory", "-i", &example(), "-e", "port=0x"],
            "error: `-e port=0x`: invalid type: string \"0x\", expected a port number 1–65535\n",
        ),
    ];
    for (args, stderr) in cases {
        let run = hubfleet(dir.path(), args);
        assert_eq!(
            (run.code, run.stderr.as_str(), run.stdout.as_str()),
            (1, stderr, ""),
            "for {args:?}"
        );
    }
}
