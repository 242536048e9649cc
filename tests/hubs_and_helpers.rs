//! Hubs and helpers (issue 14, item 2): a host with `hub = false`, such as the example's bastion,
//! is listed by `inventory` and stays the hubs' jump host, but `facts`, `backup` and `upgrade`
//! refuse to target it, before any connection. No lab: the refusal comes from host selection.

#[path = "cli/mod.rs"]
mod cli;

use cli::{example, hubfleet};

#[test]
fn the_bastion_is_listed_as_a_helper_and_stays_the_jump_host() {
    let dir = tempfile::tempdir().unwrap();
    let run = hubfleet(
        dir.path(),
        &["inventory", "-i", &example(), "--json", "--limit", "all"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hosts: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hosts = hosts["hosts"].clone();
    let roles: Vec<(&str, &str)> = hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("bastion-eu", "helper"),
            ("hub-paris", "hub"),
            ("hub-berlin", "hub"),
            ("hub-gpu", "hub"),
        ]
    );
    assert_eq!(hosts[1]["ssh"]["jump"]["name"], "bastion-eu");
}

#[test]
fn hub_commands_never_target_a_helper() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = example();
    let commands: [&[&str]; 3] = [&["facts"], &["backup"], &["upgrade", "--to", "5.2.1"]];
    for command in commands {
        let mut args = command.to_vec();
        args.extend(["-i", &inventory, "--limit", "bastion-eu"]);
        let run = hubfleet(dir.path(), &args);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (
                1,
                "",
                "error: `--limit bastion-eu` selects no hub: `bastion-eu` is not a hub (`hub = false`)\n\n\
                 hint: `facts`, `backup` and `upgrade` never touch a helper; `hubfleet exec --limit NAME` runs a command on one\n"
            ),
            "{command:?}"
        );
    }
}
