//! Ansible's flags where they mean the same thing (issue 14), through the real binary on the
//! example inventory: `-u`, `--private-key`, `-e @FILE` and their precedence, `--limit all`,
//! `a:b` and `a:&b`.

#[path = "cli/mod.rs"]
mod cli;

use cli::{example, hubfleet};

/// `hubfleet inventory --json ARGS` on the example inventory: each host's name, user and keys.
fn hosts(dir: &std::path::Path, args: &[&str]) -> Vec<(String, String, Vec<String>)> {
    let example = example();
    let mut all = vec!["inventory", "-i", &example, "--json"];
    all.extend(args);
    let run = hubfleet(dir, &all);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["schema_version"], 2);
    json["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let keys = h["ssh"]["identity_files"].as_array().unwrap();
            (
                h["name"].as_str().unwrap().to_owned(),
                h["ssh"]["user"].as_str().unwrap().to_owned(),
                keys.iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn user_and_private_key_override_the_inventory_and_e_overrides_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().display().to_string();
    std::fs::write(dir.path().join("vars.toml"), "user = \"from-file\"\n").unwrap();
    let flags = ["-u", "bob", "--private-key", "~/.ssh/fleet"];
    let by_flags = hosts(dir.path(), &flags);
    assert!(!by_flags.is_empty());
    for (name, user, keys) in &by_flags {
        assert_eq!(user, "bob", "{name}");
        assert_eq!(keys, &[format!("{home}/.ssh/fleet")], "{name}");
    }
    // `-e` is above `-u`, as in Ansible, in either order on the command line.
    for args in [
        ["-u", "bob", "-e", "@vars.toml"],
        ["-e", "@vars.toml", "-u", "bob"],
    ] {
        for (name, user, _) in hosts(dir.path(), &args) {
            assert_eq!(user, "from-file", "{name} with {args:?}");
        }
    }
}

#[test]
fn limit_takes_all_unions_and_intersections() {
    let dir = tempfile::tempdir().unwrap();
    let names = |limit: &str| -> Vec<String> {
        hosts(dir.path(), &["--limit", limit])
            .into_iter()
            .map(|(name, _, _)| name)
            .collect()
    };
    let every = names("all");
    assert_eq!(
        every,
        hosts(dir.path(), &[])
            .into_iter()
            .map(|h| h.0)
            .collect::<Vec<_>>()
    );
    assert_eq!(names("eu:&eu-gpu"), ["hub-gpu"]);
    assert_eq!(names("hub-gpu:hub-paris"), ["hub-paris", "hub-gpu"]);
    assert_eq!(names("all:!eu"), names("all,!eu"));
}

#[test]
fn a_vars_file_that_cannot_be_used_is_one_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vars.toml"),
        "user = \"ops\"\nport = \"ssh\"\n",
    )
    .unwrap();
    let example = example();
    let cases = [
        ("vars_file_wrong_type", "@vars.toml"),
        ("vars_file_missing", "@missing.toml"),
        ("extra_var_without_value", "user"),
    ];
    for (name, arg) in cases {
        let run = hubfleet(dir.path(), &["inventory", "-i", &example, "-e", arg]);
        assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{name}");
        insta::assert_snapshot!(name, run.stderr);
    }
}
