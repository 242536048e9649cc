//! Asking before hubs stop (issue 14), in a real terminal: `upgrade` in a tmux pane shows the
//! one-line summary and waits; `n` changes nothing (no host is even dialled); `--yes`, and stdin
//! that is not a terminal, go ahead without asking. The hosts are a listener that records
//! connections, so no lab is needed.

#[path = "cli/mod.rs"]
mod cli;
#[path = "pty/mod.rs"]
mod pty;

use std::path::Path;
use std::time::{Duration, Instant};

use cli::{Recorder, hubfleet};
use pty::{Tmux, shell_line};

/// `hubfleet ARGS` as `cli::command` runs it, in a 120×30 pane; the pane says `EXIT=CODE` at the
/// end and stays.
fn in_a_pane(dir: &Path, args: &[&str]) -> Tmux {
    let mut hubfleet = cli::command(dir);
    hubfleet.args(args);
    let line = format!("{}; echo EXIT=$?; sleep 600", shell_line(&hubfleet));
    Tmux::start(&line, (120, 30))
}

/// Waits until the pane shows `text`; the screen then.
fn wait_for(pane: &Tmux, text: &str) -> String {
    let start = Instant::now();
    loop {
        let screen = pane.capture(false, false);
        if screen.contains(text) {
            return screen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no `{text}` in:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SUMMARY: &str = "upgrade 2 hubs (h1, h2) to jupyterhub 6.1.1, 10 at a time: each hub is stopped for its upgrade";

#[test]
fn a_terminal_is_asked_and_no_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = Recorder::start();
    hosts.inventory(dir.path());
    let pane = in_a_pane(dir.path(), &["upgrade", "-i", "inv.toml", "--to", "6.1.1"]);
    let screen = wait_for(&pane, "Continue? [y/N]");
    assert!(screen.contains(SUMMARY), "{screen}");
    assert_eq!(
        hosts.connections(),
        0,
        "a host was dialled before the answer"
    );
    pane.answer("n");
    let screen = wait_for(&pane, "EXIT=");
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert!(
        screen.contains("error: `upgrade` was not confirmed: nothing was changed"),
        "{screen}"
    );
    assert_eq!(hosts.connections(), 0, "a host was dialled after `n`");
}

#[test]
fn yes_and_a_stdin_that_is_no_terminal_are_not_asked() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = Recorder::start();
    hosts.inventory(dir.path());
    let args = [
        "upgrade", "-i", "inv.toml", "--to", "6.1.1", "--limit", "h1",
    ];
    let pane = in_a_pane(dir.path(), &[&args[..], &["--yes"]].concat());
    // The listener is no sshd: the host ends unreachable (exit 4), after being dialled.
    let screen = wait_for(&pane, "EXIT=");
    assert!(screen.contains("EXIT=4"), "{screen}");
    assert!(!screen.contains("Continue?"), "{screen}");
    assert_eq!(hosts.connections(), 1);
    // Not a terminal (`cli::command` gives no stdin): never asked.
    let run = hubfleet(dir.path(), &args);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!run.stderr.contains("Continue?"), "{}", run.stderr);
    assert_eq!(hosts.connections(), 1);
}
