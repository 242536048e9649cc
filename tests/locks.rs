//! The host lock of a run (issue 12, item 6): a second run against a host is refused naming the
//! holder, a lock whose holder vanished is taken over with a line saying so, and the cutover
//! swaps in only the env its own run staged.

#[path = "lab/mod.rs"]
mod lab;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lab::runs::{NEWEST, upgrade_args, upgrade_to_newest, wait_for};
use lab::{Lab, LabHost, text};

fn lab() -> Lab {
    lab::runs::serving_lab(1)
}

/// The host lock of `host`'s hub env: `.ENV.hubfleet-lock` beside it.
fn lock_file(host: &LabHost) -> PathBuf {
    let env = std::fs::canonicalize(&host.hub_env).unwrap();
    let name = env.file_name().unwrap().to_str().unwrap();
    env.parent().unwrap().join(format!(".{name}.hubfleet-lock"))
}

/// Makes the hub's config wait while `marker` exists, wherever it loads (the facts first): a
/// run that holds its lock and stays there.
fn config_waits_while(host: &LabHost, marker: &Path) {
    let config = host.hub_dir.join("jupyterhub_config.py");
    let mut body = std::fs::read_to_string(&config).unwrap();
    body.push_str(&format!(
        "\nimport os as _os, time as _time\nwhile _os.path.exists({marker:?}):\n    _time.sleep(0.2)\n"
    ));
    std::fs::write(&config, body).unwrap();
}

fn controller_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn a_second_run_is_refused_naming_the_holder_and_a_stale_lock_is_taken_over() {
    let lab = lab();
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    let marker = lab.dir().join("hold-the-facts");
    std::fs::write(&marker, "").unwrap();
    config_waits_while(host, &marker);

    // The first run takes the lock, then waits in its facts.
    let args = upgrade_args(&lab, &backups, NEWEST, &["--no-progress"]);
    let mut first = lab
        .hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = lock_file(host);
    wait_for("the first run's lock", Duration::from_secs(60), || {
        std::fs::read_to_string(&lock).is_ok_and(|l| l.contains("\"run\""))
    });

    // A second run is refused before anything, naming who holds the host.
    let second = upgrade_to_newest(&lab, &backups, &["--no-progress"]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    let refusal = stderr
        .lines()
        .find(|l| l.contains("another run holds this host's lock"))
        .unwrap_or_else(|| panic!("no refusal in: {stderr}"));
    let user = text(
        &std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    );
    let user = user.trim();
    let holder = format!("{user}@{} (pid {})", controller_name(), first.id());
    assert!(refusal.contains("h1"), "{refusal}");
    assert!(
        refusal.contains("`hubfleet upgrade` started 20"),
        "{refusal}"
    );
    assert!(refusal.contains(&holder), "{refusal} lacks {holder}");
    assert!(refusal.contains("nothing was changed"), "{refusal}");

    // So is a rollback: it takes the same lock before anything else.
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let rollback = lab.hubfleet(&[
        "rollback",
        "-i",
        &inventory,
        "--latest",
        "--yes",
        "--no-progress",
        "--backup-dir",
        backups.to_str().unwrap(),
    ]);
    let stderr = text(&rollback.stderr);
    assert_eq!(rollback.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another run holds this host's lock") && stderr.contains(&holder),
        "{stderr}"
    );

    // `facts` shows the held lock; the config, which still waits, is stopped at its
    // `config_timeout`.
    let began = Instant::now();
    let facts = lab.hubfleet(&[
        "facts",
        "-i",
        &inventory,
        "--no-progress",
        "-e",
        "config_timeout=3",
    ]);
    let table = text(&facts.stdout);
    assert!(
        table.contains("locked by `hubfleet upgrade`") && table.contains(&holder),
        "{table}\n{}",
        text(&facts.stderr)
    );
    assert!(
        table.contains("loading the hub config") && table.contains("raise `config_timeout`"),
        "{table}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "{:?}",
        began.elapsed()
    );

    // The first controller dies without releasing its lock: the next run takes it over, saying
    // whose it was, and upgrades the host.
    first.kill().unwrap();
    first.wait().unwrap();
    std::fs::remove_file(&marker).unwrap();
    let third = upgrade_to_newest(&lab, &backups, &["--no-progress"]);
    let stderr = text(&third.stderr);
    assert_eq!(third.status.code(), Some(0), "{stderr}");
    let taken = stderr
        .lines()
        .find(|l| l.contains("took over a stale lock"))
        .unwrap_or_else(|| panic!("no takeover line in: {stderr}"));
    assert!(taken.contains(&holder), "{taken}");
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    // Released at the end: the next run finds it free and clean.
    wait_for("the lock emptied", Duration::from_secs(30), || {
        std::fs::read_to_string(&lock).is_ok_and(|l| l.is_empty())
    });
}

#[test]
fn an_env_another_run_replaced_after_stage_is_not_swapped_in_and_the_hub_serves() {
    let lab = lab();
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    // Between the stage and the stop, the staged copy becomes another run's.
    let next = PathBuf::from(format!("{}.hubfleet-next", host.hub_env.display()));
    let token = next.join(".hubfleet-staged");
    let notify = format!("notify=printf other-run > {}", lab::shell_quote(&token));
    let out = upgrade_to_newest(&lab, &backups, &["--no-progress", "-e", &notify]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("is not the env this run staged"))
        .unwrap_or_else(|| panic!("no refusal in: {stderr}"));
    assert!(line.contains("'other-run'"), "{line}");
    assert!(line.contains("nothing was changed"), "{line}");
    // Refused before the stop: the hub serves its release, never stopped.
    assert!(!stderr.contains("THE HUB IS DOWN"), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    // Another run's copy is not ours to remove.
    assert_eq!(std::fs::read_to_string(&token).unwrap(), "other-run");
    // The cutover, which held the lock last, emptied it.
    let lock = lock_file(host);
    wait_for("the lock emptied", Duration::from_secs(30), || {
        std::fs::read_to_string(&lock).is_ok_and(|l| l.is_empty())
    });
}
