//! What an operator sees, on a lab of two real hubs: in a terminal (a tmux pane, a real
//! pseudo-terminal) a bar per host names its current step above an overall bar, and the run ends
//! in the recap with every bar gone; piped, progress is plain timestamped lines and neither stream
//! holds an escape code; the recap tables and the JSON report are pinned by snapshots.

#[path = "lab/mod.rs"]
mod lab;
#[path = "pty/mod.rs"]
mod pty;

use std::collections::BTreeSet;
use std::process::Output;
use std::time::{Duration, Instant};

use lab::{Hubs, Lab};
use pty::{Tmux, shell_line};
use regex::Regex;

/// The steps a host bar can name (`src/steps/`, and `connect` from the runner).
const STEPS: &str = "connect|lock|facts|stage|backup|rehearse|check|stop|swap|install|upgrade-db|start|health|singleuser";

/// Pane size of the terminal test; `COLUMNS` says the same to the recap.
const PANE: (u16, u16) = (120, 40);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// hubfleet with stdout and stderr piped; wide enough that no recap cell wraps.
fn piped(lab: &Lab, args: &[&str]) -> Output {
    lab.hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .env("COLUMNS", "250")
        .args(args)
        .output()
        .expect("run hubfleet")
}

fn two_running_hubs() -> Lab {
    Lab::builder()
        .hosts(2)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()
        .expect("start the lab")
}

#[test]
fn in_a_terminal_bars_show_each_hosts_step_then_give_way_to_the_recap() {
    let lab = two_running_hubs();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let backups = lab.dir().join("backups");
    let report = lab.dir().join("upgrade.json");
    let mut hubfleet = lab.hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"));
    hubfleet.env("COLUMNS", PANE.0.to_string()).args([
        "upgrade",
        "-i",
        &inventory,
        "--to",
        "latest",
        "--allow-active-servers",
        // A terminal is asked before hubs stop (tests/terminal.rs); this one goes ahead.
        "--yes",
        "--backup-dir",
        backups.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    // The pane outlives the command, so its last screen can be read.
    let tmux = Tmux::start(
        &format!("{}; echo EXIT=$?; sleep 600", shell_line(&hubfleet)),
        PANE,
    );

    // A host bar: the spinner, the host, its step; the overall bar: its clock, `[===>  ] N/2 hosts`.
    // A hub in its downtime says so, with a clock since its stop.
    let host_bar = Regex::new(&format!(
        r"(?m)^\S? ?(h[12]) (DOWN \d\d:\d\d:\d\d )?({STEPS})\b(.*)$"
    ))
    .unwrap();
    // It counts hosts done and failed (and down now, while one is).
    let overall_bar =
        Regex::new(r"(?m)^(\d\d:\d\d:\d\d) \[[=> ]+\] [0-2]/2 hosts done [0-2], failed 0").unwrap();
    // A finished host's line, printed above the bars.
    let finished = Regex::new(r"^h[12] (ok|failed|unreachable)\b").unwrap();
    let mut seen = BTreeSet::new();
    let mut overall_seen = false;
    let mut down_seen = false;
    let mut command_on_bar = None;
    // upgrade-db's bar gives the plan's numbers, not the step's words.
    let upgrade_db_summary =
        Regex::new(r"^ [0-9a-f]{6} → [0-9a-f]{6} \(\d+ migrations?\)").unwrap();
    let mut upgrade_db_bars = Vec::new();
    let mut clocks = BTreeSet::new();
    let mut wrapped = None;
    let mut stray_before = false;
    let mut running_screen = String::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    let last = loop {
        let screen = tmux.capture(false, false);
        if screen.contains("EXIT=") {
            break screen;
        }
        let before = seen.len();
        for bar in host_bar.captures_iter(&screen) {
            seen.insert((bar[1].to_owned(), bar[3].to_owned()));
            down_seen |= bar.get(2).is_some();
            // A bar says what a step does, never the command line it runs.
            if bar[4].contains("/bin/") || bar[4].contains(" -c ") {
                command_on_bar = Some(bar[0].to_owned());
            }
            if &bar[3] == "upgrade-db" {
                upgrade_db_bars.push(bar[4].to_owned());
            }
        }
        if let Some(bar) = overall_bar.captures(&screen) {
            overall_seen = true;
            clocks.insert(bar[1].to_owned());
            // Above the overall bar, only host bars and finished hosts' lines: a bar whose
            // step detail is wider than the terminal wraps, and its tail is neither.
            let stray = screen[..bar.get(0).unwrap().start()]
                .lines()
                .filter(|l| !l.is_empty() && !host_bar.is_match(l) && !finished.is_match(l))
                // `latest`, resolved on one hub before the run, says so once.
                .filter(|l| !l.starts_with("latest resolved on h1: "))
                .count();
            // A capture can fall between the clearing and the redrawing of the bars (indicatif
            // writes them in several calls); a wrapped bar stays for its whole step, so only
            // two captures in a row count.
            if stray > 0 && stray_before && wrapped.is_none() {
                wrapped = Some(screen.clone());
            }
            stray_before = stray > 0;
        }
        if seen.len() > before {
            running_screen = tmux.capture(false, true);
        }
        assert!(
            Instant::now() < deadline,
            "no end after 240 s:\n{}",
            tmux.capture(true, true)
        );
        std::thread::sleep(Duration::from_millis(150));
    };
    let everything = tmux.capture(true, false);

    assert!(last.contains("EXIT=0"), "{everything}");
    for host in ["h1", "h2"] {
        assert!(
            seen.iter().any(|(h, _)| h == host),
            "no bar named {host} and a step; seen {seen:?}; a screen:\n{running_screen}"
        );
    }
    // Past connect and facts: the bars follow the upgrade's own steps.
    assert!(
        seen.iter()
            .any(|(_, step)| !["connect", "facts"].contains(&step.as_str())),
        "{seen:?}"
    );
    assert!(
        overall_seen,
        "no `N/2 hosts` bar; a screen:\n{running_screen}"
    );
    assert!(down_seen, "no hub shown DOWN during its cutover");
    assert_eq!(command_on_bar, None, "a command line on a bar");
    // Each upgrade-db bar caught (it lasts a second or two) read `0eee8c → f460b0 (N migrations)`.
    assert!(
        upgrade_db_bars
            .iter()
            .all(|b| upgrade_db_summary.is_match(b)),
        "{upgrade_db_bars:?}"
    );
    if let Some(screen) = wrapped {
        panic!("a bar took more than one line:\n{screen}");
    }
    // The overall bar's clock runs while the hosts work (the upgrade takes well over 2 s).
    assert!(
        clocks.len() > 2,
        "the overall bar's clock stood still: {clocks:?}"
    );

    // The end: the recap, and no bar left on the screen or in the scrollback (a bar that was
    // not cleared, or a redraw torn by a printed line, stays there).
    assert!(
        last.contains("2 hosts: 2 ok, 0 failed, 0 unreachable"),
        "{last}"
    );
    assert!(last.contains("HOST") && last.contains("DOWNTIME"), "{last}");
    assert!(
        !host_bar.is_match(&everything) && !overall_bar.is_match(&everything),
        "bars left behind:\n{everything}"
    );
    // Each finished host left one line above the bars, and the recap came after both.
    for host in ["h1", "h2"] {
        let done = Regex::new(&format!(r"(?m)^{host} ok \(\d+\.\ds\)$")).unwrap();
        let at = done.find(&everything).map(|m| m.start());
        assert!(
            at.is_some_and(|at| at < everything.find("HOST  RESULT").unwrap_or(0)),
            "no `{host} ok` line before the recap:\n{everything}"
        );
    }

    let json = std::fs::read_to_string(&report).expect("the --report file");
    with_redactions(false, || {
        insta::assert_snapshot!("upgrade_report_json", json)
    });
}

/// Progress lines on stderr are `HH:MM:SS h1 step detail` (or the run's start); neither stream
/// holds an ESC byte.
fn assert_plain(out: &Output, hosts_ok: bool) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!out.stdout.contains(&0x1b), "ESC on stdout:\n{stdout:?}");
    assert!(!out.stderr.contains(&0x1b), "ESC on stderr:\n{stderr:?}");
    // `--to latest` is first resolved on one host, in a run of its own, and said.
    let line = Regex::new(r"^\d\d:\d\d:\d\d (run started on [12] hosts|h[12] \S.*)$").unwrap();
    for l in stderr.lines() {
        assert!(
            line.is_match(l)
                || l.starts_with("remote output is logged per host in `")
                || l.starts_with("latest resolved on h1: "),
            "not a plain progress line: {l:?}\n{stderr}"
        );
    }
    let facts = Regex::new(r"(?m)^\d\d:\d\d:\d\d h[12] facts ").unwrap();
    assert!(facts.is_match(&stderr), "{stderr}");
    if hosts_ok {
        for host in ["h1", "h2"] {
            let done =
                Regex::new(&format!(r"(?m)^\d\d:\d\d:\d\d {host} ok \(\d+\.\ds\)$")).unwrap();
            assert!(done.is_match(&stderr), "{stderr}");
        }
    }
}

#[test]
fn piped_progress_is_plain_lines_and_the_recaps_are_pinned() {
    let lab = two_running_hubs();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let backups = lab.dir().join("backups");
    let backups = backups.to_str().unwrap();

    let plan_report = lab.dir().join("plan.json");
    let dry_run = piped(
        &lab,
        &[
            "upgrade",
            "-i",
            &inventory,
            "--to",
            "latest",
            "--dry-run",
            "--backup-dir",
            backups,
            "--report",
            plan_report.to_str().unwrap(),
        ],
    );
    assert_plain(&dry_run, true);
    with_redactions(true, || {
        insta::assert_snapshot!("upgrade_dry_run_recap", text(&dry_run.stdout))
    });
    // The report holds the same plan, typed: each step with its phase, action and way back.
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_report).unwrap()).unwrap();
    assert_eq!(plan["schema_version"], 2);
    let steps: Vec<_> = plan["hosts"][0]["report"]["plan"]["steps"]
        .as_array()
        .expect("typed steps")
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "facts",
            "check",
            "stage",
            "backup",
            "rehearse",
            "stop",
            "swap",
            "upgrade-db",
            "start",
            "health"
        ]
    );
    with_redactions(false, || {
        insta::assert_snapshot!(
            "upgrade_dry_run_report_json",
            serde_json::to_string_pretty(&plan["hosts"][0]["report"]["plan"]).unwrap()
        )
    });

    let backup = piped(&lab, &["backup", "-i", &inventory, "--backup-dir", backups]);
    assert_plain(&backup, true);
    with_redactions(true, || {
        insta::assert_snapshot!("backup_recap", text(&backup.stdout))
    });

    // `--quiet`: the same results, no progress and no notice about the logs.
    let quiet = piped(
        &lab,
        &[
            "backup",
            "-i",
            &inventory,
            "--backup-dir",
            backups,
            "--quiet",
        ],
    );
    assert_eq!(quiet.status.code(), Some(0), "{}", text(&quiet.stderr));
    assert_eq!(text(&quiet.stderr), "", "progress despite --quiet");
    assert!(text(&quiet.stdout).contains("2 hosts: 2 ok"));
}

/// What varies from run to run: the lab's directory (`/tmp/hubfleet-lab-` and six characters),
/// its random subnet, timestamps, durations, sums and archive sizes.
const REDACTIONS: [(&str, &str); 10] = [
    (r"\(pid \d+\)", "(pid [PID])"),
    (r"/tmp/hubfleet-lab-[A-Za-z0-9]{6}", "[LAB]"),
    (r"\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", "[ADDRESS]"),
    (r"\b\d{8}T\d{6}Z\b", "[TIMESTAMP]"),
    (r"\b[0-9a-f]{64}\b", "[SHA256]"),
    (r"\b[0-9a-f]{16}\b", "[SHA256-PREFIX]"),
    (
        r#""(elapsed|downtime_seconds|started|took)": \d+(\.\d+)?"#,
        r#""$1": "[SECONDS]""#,
    ),
    (r#""archive_bytes": \d+"#, r#""archive_bytes": "[BYTES]""#),
    (r"\(\d+(\.\d)? (B|KiB|MiB)\)", "([SIZE])"),
    (r"\b\d+\.\ds\b", "[DURATION]"),
];

/// The recap's columns are as wide as their longest cell, and a duration's length varies
/// (`9.8s`, `10.2s`): after the redactions, runs of spaces are squeezed to two, so a table
/// snapshot pins every cell, the column order and the rows, but not the padding.
const TABLE_SQUEEZE: [(&str, &str); 1] = [(r" {2,}", "  ")];

/// Runs `assert` with [`REDACTIONS`], and for a table [`TABLE_SQUEEZE`].
fn with_redactions(table: bool, assert: impl FnOnce()) {
    let mut filters = REDACTIONS.to_vec();
    if table {
        filters.extend(TABLE_SQUEEZE);
    }
    insta::with_settings!({ filters => filters }, { assert() });
}
