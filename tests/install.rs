//! What `cargo install` gives an operator besides the binary (issue 14): shell completions that
//! load in bash, a man page that names every subcommand, and a `--version` with the commit.

#[path = "cli/mod.rs"]
mod cli;

use std::process::Command;

use cli::hubfleet;

/// Every subcommand, from the same clap definition the binary parses with.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory;
    hubfleet::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn bash_completion_loads_and_completes_every_subcommand() {
    let bin = env!("CARGO_BIN_EXE_hubfleet");
    let script = format!(
        "source <('{bin}' completions bash) && complete -p hubfleet \
         && COMP_WORDS=(hubfleet '') COMP_CWORD=1 && _hubfleet hubfleet '' hubfleet \
         && printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    assert!(
        lines.next().unwrap_or("").starts_with("complete ") && stdout.contains(" hubfleet"),
        "{stdout}"
    );
    let offered: Vec<&str> = lines.collect();
    for name in subcommands() {
        assert!(offered.contains(&name.as_str()), "`{name}` in {offered:?}");
    }
}

#[test]
fn every_shell_gets_a_script() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = hubfleet(dir.path(), &["completions", shell]);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{shell}");
        assert!(run.stdout.contains("hubfleet"), "{shell}");
    }
    let run = hubfleet(dir.path(), &["completions", "tcsh"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let run = hubfleet(dir.path(), &["man"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(run.stdout.contains(".TH hubfleet 1"), "{}", run.stdout);
    assert!(run.stdout.contains(".SH SUBCOMMANDS"));
    for name in subcommands() {
        assert!(
            run.stdout.contains(&format!("hubfleet\\-{name}")),
            "`{name}` missing from the man page"
        );
    }
}

#[test]
fn man_dir_gets_the_main_page_and_one_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let run = hubfleet(dir.path(), &["man", "--dir", "pages"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let mut expected = vec!["hubfleet.1".to_owned()];
    expected.extend(
        subcommands()
            .iter()
            .map(|name| format!("hubfleet-{name}.1")),
    );
    expected.sort();
    let mut pages: Vec<String> = std::fs::read_dir(dir.path().join("pages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(pages, expected);
}

#[test]
fn version_names_the_commit_in_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let run = hubfleet(dir.path(), &["--version"]);
    assert_eq!(run.code, 0);
    let version = run.stdout.trim();
    let expected = format!("hubfleet {}", env!("CARGO_PKG_VERSION"));
    assert!(version.starts_with(&expected), "{version}");
    // In a git checkout (this test's), the commit follows: `(1a2b3c4)` or `(1a2b3c4-dirty)`.
    let in_git = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .is_ok_and(|o| o.status.success());
    if in_git {
        let commit = version[expected.len()..].trim();
        assert!(
            commit.starts_with('(') && commit.ends_with(')') && commit.len() >= 9,
            "{version}"
        );
    }
}
