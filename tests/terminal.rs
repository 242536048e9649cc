//! What a terminal gets (issue 14), in a real one (a tmux pane): before hubs stop, `upgrade`
//! shows the one-line summary and asks; `n` changes nothing (no host is even dialled); `--yes`,
//! and stdin that is not a terminal, go ahead without asking. `TERM=dumb` gets plain lines and no
//! colour; colour follows `NO_COLOR` and `CLICOLOR_FORCE`. The hosts are a listener that records
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

/// `exec` on h1, which the listener leaves unreachable after `connect_timeout` (5 s).
const EXEC_H1: [&str; 7] = ["exec", "-i", "inv.toml", "--limit", "h1", "--", "true"];

#[test]
fn a_dumb_terminal_gets_plain_lines_and_no_colour() {
    let dir = tempfile::tempdir().unwrap();
    Recorder::start().inventory(dir.path());
    let mut hubfleet = cli::command(dir.path());
    hubfleet
        .env("TERM", "dumb")
        .env_remove("NO_COLOR")
        .args(EXEC_H1);
    let line = format!("{}; echo EXIT=$?; sleep 600", shell_line(&hubfleet));
    let pane = Tmux::start(&line, (120, 30));
    let screen = wait_for(&pane, "EXIT=");
    assert!(screen.contains("EXIT=4"), "{screen}");
    let connect = regex::Regex::new(r"(?m)^\d\d:\d\d:\d\d h1 connect op@127\.0\.0\.1:").unwrap();
    assert!(
        connect.is_match(&screen),
        "no plain progress line:\n{screen}"
    );
    let everything = pane.capture(true, true);
    assert!(
        !everything.contains('\x1b'),
        "escape codes:\n{everything:?}"
    );
}

#[test]
fn colour_follows_the_terminal_no_color_and_clicolor_force() {
    let dir = tempfile::tempdir().unwrap();
    Recorder::start().inventory(dir.path());
    let red = "\x1b[31munreachable\x1b[0m";
    // A terminal: the result word in colour.
    let mut hubfleet = cli::command(dir.path());
    hubfleet.env_remove("NO_COLOR").args(EXEC_H1);
    let line = format!("{}; echo EXIT=$?; sleep 600", shell_line(&hubfleet));
    let pane = Tmux::start(&line, (120, 30));
    wait_for(&pane, "EXIT=");
    let screen = pane.capture(true, true);
    assert!(
        screen.contains("\x1b[31m"),
        "no colour in a terminal:\n{screen:?}"
    );
    // Piped, `NO_COLOR=1` (as `cli::command` sets it): none; `CLICOLOR_FORCE=1`: colour anyway.
    let plain = cli::command(dir.path()).args(EXEC_H1).output().unwrap();
    assert!(!plain.stdout.contains(&0x1b), "{:?}", text(&plain.stdout));
    let forced = cli::command(dir.path())
        .env("CLICOLOR_FORCE", "1")
        .args(EXEC_H1)
        .output()
        .unwrap();
    assert!(
        text(&forced.stdout).contains(red),
        "{:?}",
        text(&forced.stdout)
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
