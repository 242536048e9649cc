//! Faults before and around the stop (issue 12, items 3 and the Done-when): an installer that
//! hangs is stopped at `stage_timeout`, a stop command that fails after stopping the hub does not
//! leave it down, and a host cut off during its backup keeps no archive and is never stopped.

#[path = "lab/mod.rs"]
mod lab;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lab::runs::{NEWEST, archives, assert_upgraded, sqlite, upgrade_args, upgrade_to_newest};
use lab::{Lab, shell_quote, text};

fn lab(hosts: usize) -> Lab {
    lab::runs::serving_lab(hosts)
}

/// An index on loopback that accepts every connection and never answers: pip waits on it for
/// as long as its own timeout allows.
fn silent_index() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    addr
}

/// Processes whose command line holds `needle`.
fn processes_naming(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

fn next_env(env: &Path) -> PathBuf {
    PathBuf::from(format!("{}.hubfleet-next", env.display()))
}

#[test]
fn a_stage_installer_that_hangs_is_stopped_at_its_timeout_and_the_hub_serves() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    // The env's own pip (its pip.conf, which the staged copy carries) asks an index that never
    // answers, and would wait 10 minutes for it.
    let index = silent_index();
    std::fs::write(
        host.hub_env.join("pip.conf"),
        format!("[global]\nindex-url = http://{index}/simple\ntimeout = 600\nretries = 0\n"),
    )
    .unwrap();
    let began = Instant::now();
    let out = upgrade_to_newest(&lab, &backups, &["--no-progress", "-e", "stage_timeout=8"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        began.elapsed() < Duration::from_secs(120),
        "{:?}",
        began.elapsed()
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("failed at stage"))
        .unwrap_or_else(|| panic!("no stage failure in: {stderr}"));
    assert!(
        line.contains("was still running 8s after the stage began"),
        "{line}"
    );
    assert!(line.contains("raise `stage_timeout`"), "{line}");
    // Its process group went with it, and so did the staged copy; the hub serves on.
    let next = next_env(&host.hub_env);
    assert!(
        processes_naming(&next.display().to_string()).is_empty(),
        "a process of the stage still runs"
    );
    assert!(!next.exists(), "{} is left", next.display());
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
}

#[test]
fn a_stop_command_that_fails_after_stopping_the_hub_does_not_leave_it_down() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    let stop = format!(
        "stop=bash {} && echo stopped, then a cleanup failed && exit 1",
        shell_quote(&host.hub_dir.join("stop.sh"))
    );
    let out = upgrade_to_newest(&lab, &backups, &["--no-progress", "-e", &stop]);
    // The confirmation, not the exit status, says the hub stopped: the upgrade goes on.
    assert_upgraded(&lab, &out, &host.hub_db());
    let log = std::fs::read_dir(backups.join("h1"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("upgrade-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("a per-host log");
    assert!(
        log.contains("exit code 1") && log.contains("the confirmation decides"),
        "{log}"
    );
}

#[test]
fn a_host_cut_off_during_its_backup_keeps_no_archive_and_is_never_stopped() {
    let lab = lab(2);
    let h1 = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    // Enough incompressible rows that the stream takes a while.
    sqlite(
        &h1.hub_db(),
        "CREATE TABLE hubfleet_pad(b); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 384) INSERT INTO hubfleet_pad SELECT randomblob(1048576) FROM c;",
    );
    let hub_pid = |i: usize| {
        let host = &lab.hosts()[i];
        std::fs::read_to_string(host.hub_dir.join("hub.pid")).ok()
    };
    let pid_before = hub_pid(0);
    let args = upgrade_args(&lab, &backups, NEWEST, &["--no-progress"]);
    let run = lab
        .hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Cut h1 off once its archive is streaming in.
    let streaming = || {
        std::fs::read_dir(backups.join("h1")).is_ok_and(|d| {
            d.flatten().any(|e| {
                !e.file_name().to_string_lossy().ends_with(".log")
                    && e.metadata().is_ok_and(|m| m.len() > 4 << 20)
            })
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !streaming() {
        assert!(Instant::now() < deadline, "h1's backup never streamed");
        std::thread::sleep(Duration::from_millis(20));
    }
    lab.cut_off(0);
    let out = run.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    // h1 fails (unreachable or failed, by when the cut came), h2 is upgraded.
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    let h1_line = stderr
        .lines()
        .find(|l| l.contains(" h1 ") && (l.contains("failed") || l.contains("unreachable")))
        .unwrap_or_else(|| panic!("no h1 failure in: {stderr}"));
    assert!(!h1_line.contains("THE HUB IS DOWN"), "{h1_line}");
    assert_eq!(lab.hub_version(1).unwrap(), NEWEST, "{stderr}");
    // No archive, and no temporary left of it.
    let left: Vec<String> = std::fs::read_dir(backups.join("h1"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".log"))
        .collect();
    assert!(left.is_empty(), "left in the backup directory: {left:?}");
    assert!(archives(&backups.join("h1")).is_empty());
    // h1's hub was never stopped: the same process serves the old release.
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(hub_pid(0), pid_before);
}

#[test]
fn a_notify_that_hangs_is_stopped_at_its_timeout_and_the_hub_serves() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    let marker = lab.dir().join("hanging-notify");
    let notify = format!(
        "notify=python3 -c 'import time; time.sleep(600)' {}",
        shell_quote(&marker)
    );
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &["--no-progress", "-e", &notify, "-e", "notify_timeout=3"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("h1 failed at notify"))
        .unwrap_or_else(|| panic!("no notify failure in: {stderr}"));
    assert!(
        line.contains("did not finish within 3s and was stopped with its process group")
            && line.contains("raise `notify_timeout`"),
        "{line}"
    );
    // The sleeper went with its group; the staged copy went; the hub serves on.
    assert!(processes_naming(&marker.display().to_string()).is_empty());
    assert!(!next_env(&host.hub_env).exists());
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
}
