//! Safe rollouts (issue 12): batches and a failure budget stop a bad release from spreading;
//! Ctrl-C ends a run cleanly and a rerun converges; a controller killed mid-cutover leaves the
//! host to finish on its own, and the next run reports how it ended from the cutover's record.

#[path = "lab/mod.rs"]
mod lab;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use lab::runs::{
    NEWEST, NEWEST_HEAD, archives, on_the_new_release_start, sqlite, tree_hashes, upgrade_args,
    upgrade_to_newest,
};
use lab::{Hubs, Lab, LabHost, text};
use sha2::{Digest, Sha256};

fn lab(hosts: usize) -> Lab {
    Lab::builder()
        .hosts(hosts)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()
        .unwrap()
}

/// What must not change on a host hubfleet never touched: every file of its env, and its
/// database byte for byte.
fn fingerprint(host: &LabHost) -> (std::collections::BTreeMap<PathBuf, String>, String) {
    let db = hex::encode(Sha256::digest(std::fs::read(host.hub_db()).unwrap()));
    (tree_hashes(&host.hub_env), db)
}

/// The archives and `.partial` files anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.to_string_lossy().contains("partial") {
                found.push(path);
            }
        }
    }
    found
}

/// `hubfleet upgrade --to NEWEST` on `lab`, spawned, its stderr read line by line as it comes.
fn spawn_upgrade(lab: &Lab, extra: &[&str]) -> (Child, Receiver<String>) {
    let args = upgrade_args(lab, &lab.dir().join("backups"), NEWEST, extra);
    let mut child = lab
        .hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Waits until a line of `lines` holds `needle` (the run's progress lines say when each host
/// enters each step); every line so far.
fn wait_for(lines: &Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(240);
    while Instant::now() < deadline {
        match lines.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("no `{needle}` in:\n{}", seen.join("\n"));
}

/// The rest of a spawned run: its exit code, stdout, and every stderr line.
fn finish(
    mut child: Child,
    lines: Receiver<String>,
    mut seen: Vec<String>,
) -> (Option<i32>, String, String) {
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    let status = child.wait().unwrap();
    seen.extend(lines.iter());
    (status.code(), stdout, seen.join("\n"))
}

/// The cutover's record of `host`, beside its database.
fn record_of(host: &LabHost) -> PathBuf {
    host.hub_db()
        .with_file_name(".jupyterhub.sqlite.hubfleet-cutover.jsonl")
}

/// Waits until the cutover that writes `record`, with no controller following it, has written
/// its result; the whole record.
fn wait_for_result(record: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let text = std::fs::read_to_string(record).unwrap_or_default();
        if text.contains("{\"result\"") {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no result in {}: {text}",
            record.display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn signal(child: &Child, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn serial_1_50_percent_with_max_fail_0_stops_after_a_failing_first_host_and_touches_no_other() {
    let lab = lab(5);
    let h1 = &lab.hosts()[0];
    on_the_new_release_start(h1, "echo 'authenticator refuses jupyterhub 6' >&2; exit 1");
    let before: Vec<_> = lab.hosts()[1..].iter().map(fingerprint).collect();
    let report = lab.dir().join("upgrade.json");
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &[
            "--serial",
            "1,50%",
            "--max-fail",
            "0",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    // Rolled back (2) and hosts left alone (16).
    assert_eq!(out.status.code(), Some(18), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("h1 rolled back after start failed: authenticator refuses jupyterhub 6"),
        "{stderr}"
    );
    let why = "the failure budget (--max-fail 0) was spent by h1";
    assert!(stderr.contains(&format!("run stopping: {why}")), "{stderr}");
    for host in ["h2", "h3", "h4", "h5"] {
        assert!(
            stderr.contains(&format!(
                "{host} not started: {why}; nothing on it was touched"
            )),
            "{host}: {stderr}"
        );
    }
    assert!(
        stdout.contains(&format!("the run stopped early: {why}"))
            && stdout
                .contains("5 hosts: 0 ok, 1 failed (1 rolled back), 0 unreachable, 4 not started"),
        "{stdout}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["stopped"], why);
    assert_eq!(json["hosts"][1]["outcome"]["status"], "not-started");

    // The 4 others were never touched: not connected to, not backed up, not staged.
    for (host, before) in lab.hosts()[1..].iter().zip(&before) {
        assert_eq!(&fingerprint(host), before, "{}", host.name);
        assert_eq!(
            lab.hub_version(
                lab.hosts()
                    .iter()
                    .position(|h| h.name == host.name)
                    .unwrap()
            )
            .unwrap(),
            "4.1.6"
        );
        assert!(
            archives(&backups.join(&host.name)).is_empty(),
            "{}",
            host.name
        );
        let next = format!("{}.hubfleet-next", host.hub_env.display());
        assert!(!Path::new(&next).exists(), "{next}");
    }

    // The retry file names h1 alone, and works as `--limit @FILE`.
    let retry = PathBuf::from(json["retry_file"].as_str().expect("a retry file"));
    assert_eq!(retry.parent(), Some(backups.as_path()));
    assert!(
        retry
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("retry-"),
        "{}",
        retry.display()
    );
    assert_eq!(std::fs::read_to_string(&retry).unwrap(), "h1\n");
    assert!(
        stderr.contains(&format!("--limit @{}", retry.display())),
        "{stderr}"
    );
    let limit = format!("@{}", retry.display());
    let inventory = lab.inventory().to_str().unwrap();
    let selected = lab.hubfleet(&["inventory", "-i", inventory, "--limit", &limit, "--json"]);
    assert_eq!(
        selected.status.code(),
        Some(0),
        "{}",
        text(&selected.stderr)
    );
    let selected: serde_json::Value = serde_json::from_slice(&selected.stdout).unwrap();
    let names: Vec<&str> = selected
        .as_array()
        .or_else(|| selected["hosts"].as_array())
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["h1"]);
}

#[test]
fn sigint_during_a_five_host_upgrade_ends_every_host_cleanly_and_a_rerun_converges() {
    let lab = lab(5);
    // h2 to h4 wait in their notify, before their stop, while h1 goes through its cutover; h5
    // waits for a slot (--forks 4).
    let mut slow = String::new();
    for host in &lab.hosts()[1..] {
        slow.push_str(&format!("{}) sleep 20 ;; ", host.address));
    }
    let notify = format!("notify=set -- $SSH_CONNECTION; case \"$3\" in {slow}esac");
    let (child, lines) = spawn_upgrade(&lab, &["--forks", "4", "-e", &notify]);
    let mut seen = Vec::new();
    wait_for(&lines, " h1 stop ", &mut seen);
    signal(&child, "INT");
    let (code, stdout, stderr) = finish(child, lines, seen);
    // Hosts left alone: exit 16, not a failure.
    assert_eq!(code, Some(16), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("run stopping: interrupted by SIGINT"),
        "{stderr}"
    );
    // h1 was in its cutover: followed to its end.
    assert!(stderr.contains(" h1 ok ("), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    for host in ["h2", "h3", "h4"] {
        assert!(
            stderr.contains(&format!("{host} interrupted before "))
                && stderr.contains("interrupted by SIGINT before the stop: hub untouched"),
            "{host}: {stderr}"
        );
    }
    assert!(
        stderr.contains("h5 not started: interrupted by SIGINT"),
        "{stderr}"
    );
    assert!(
        stdout.contains("the run stopped early: interrupted by SIGINT")
            && stdout.contains("1 ok, 0 failed, 0 unreachable, 3 interrupted, 1 not started"),
        "{stdout}"
    );
    let backups = lab.dir().join("backups");
    for (i, host) in lab.hosts().iter().enumerate().skip(1) {
        // Untouched: serving the old release, nothing staged left, no half-received archive.
        assert_eq!(lab.hub_version(i).unwrap(), "4.1.6", "{}", host.name);
        let next = format!("{}.hubfleet-next", host.hub_env.display());
        assert!(!Path::new(&next).exists(), "{next}");
    }
    assert_eq!(leftovers(&backups), Vec::<PathBuf>::new());
    // The per-host logs were flushed: each started host's log ends with how it ended.
    for host in ["h1", "h2"] {
        let logs: Vec<String> = std::fs::read_dir(backups.join(host))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert!(
            logs.iter().any(|l| l.contains("[end] ")),
            "{host}: {logs:?}"
        );
    }

    // A rerun converges: every hub upgraded and healthy, none left stopped, every archive
    // verifies.
    let out = upgrade_to_newest(&lab, &backups, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for (i, host) in lab.hosts().iter().enumerate() {
        assert_eq!(lab.hub_version(i).unwrap(), NEWEST, "{}", host.name);
        assert_eq!(
            sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
            NEWEST_HEAD
        );
    }
    let verify = lab.hubfleet(&["verify", backups.to_str().unwrap()]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}\n{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    for host in lab.hosts() {
        assert!(
            !archives(&backups.join(&host.name)).is_empty(),
            "{}",
            host.name
        );
    }
}

#[test]
fn a_controller_killed_during_a_cutover_that_fails_is_rolled_back_by_the_host_and_reported_by_the_rerun()
 {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    // The new release fails to start, a few seconds after the controller is gone.
    on_the_new_release_start(
        host,
        "sleep 3; echo 'authenticator refuses jupyterhub 6' >&2; exit 1",
    );
    let (mut child, lines) = spawn_upgrade(&lab, &[]);
    let mut seen = Vec::new();
    wait_for(&lines, " h1 stop ", &mut seen);
    child.kill().unwrap();
    let _ = finish(child, lines, seen);

    // The host carries on alone: its record gets the rollback's result.
    let record = record_of(host);
    let result = wait_for_result(&record);
    assert!(result.contains("rolled-back"), "{result}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");

    // The rerun reports that outcome from the record, starts no second downtime, and removes
    // the record it has read.
    let report = lab.dir().join("rerun.json");
    let out = upgrade_to_newest(
        &lab,
        &lab.dir().join("backups"),
        &["--report", report.to_str().unwrap()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("h1 record an earlier run's cutover left its record unread: ")
            && stderr.contains("h1 record rollback: rolling back after start failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "h1 rolled back after start failed: in an earlier run whose controller went away (from the cutover's record): authenticator refuses jupyterhub 6"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("h1 stage "), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["hosts"][0]["outcome"]["status"], "rolled-back");
    assert!(
        json["hosts"][0]["report"]["kept_db_sha256"].is_string(),
        "{json}"
    );
    assert!(!record.exists(), "{}", record.display());
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
}

#[test]
fn a_second_sigint_exits_at_once_saying_where_each_host_is_and_the_rerun_reports_the_cutover_from_its_record()
 {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let (child, lines) = spawn_upgrade(&lab, &[]);
    let mut seen = Vec::new();
    wait_for(&lines, " h1 stop ", &mut seen);
    signal(&child, "INT");
    wait_for(&lines, "run stopping: interrupted by SIGINT", &mut seen);
    signal(&child, "INT");
    let (code, stdout, stderr) = finish(child, lines, seen);
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    let record = record_of(host);
    assert!(
        stderr.contains("SIGINT again: exiting at once; where each host was left:")
            && stderr.contains("  h1: in ")
            && stderr.contains(&format!(
                "its cutover carries on on the host by itself (it ends upgraded or rolled back): its record is {}",
                record.display()
            )),
        "{stderr}"
    );

    // Nobody watched the cutover end; the rerun reports it from the record, then finds the hub
    // at the target and leaves it as it is.
    let result = wait_for_result(&record);
    assert!(result.contains("\"ok\""), "{result}");
    let out = upgrade_to_newest(&lab, &lab.dir().join("backups"), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains("h1 record an earlier run's cutover left its record unread: ")
            && stderr.contains(" h1 record health: waiting for ")
            && stderr.contains(" h1 ok ("),
        "{stderr}"
    );
    // No step of this run: the record's lines are the earlier cutover's.
    assert!(
        !stderr.contains("h1 stage ") && !stderr.contains("h1 stop "),
        "{stderr}"
    );
    assert!(!record.exists(), "{}", record.display());
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
}
