//! `hubfleet rollback` (issue 12): an upgrade that succeeded but is regretted is undone on demand,
//! from a verified archive of the host's own; an archive that cannot be put back is refused
//! before anything stops, and a dry run changes nothing.

#[path = "lab/mod.rs"]
mod lab;
#[path = "pty/mod.rs"]
mod pty;

use std::path::{Path, PathBuf};

use lab::runs::{
    NEWEST, archives, assert_kept, snapshot_of, sqlite, tree_hashes, upgrade_to_newest,
};
use lab::{Hubs, Lab, LabHost, shell_quote, text};

/// The revision of the lab's JupyterHub 4.1.6 databases.
const OLD_HEAD: &str = "0eee8c825d24";

fn lab(hosts: usize) -> Lab {
    Lab::builder()
        .hosts(hosts)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()
        .unwrap()
}

/// `hubfleet backup` of every host into `LAB/backups`: the archives, host by host.
fn back_up(lab: &Lab) -> Vec<PathBuf> {
    let backups = lab.dir().join("backups");
    let out = lab.hubfleet(&[
        "backup",
        "-i",
        lab.inventory().to_str().unwrap(),
        "--backup-dir",
        backups.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    lab.hosts()
        .iter()
        .map(|h| archives(&backups.join(&h.name)).remove(0))
        .collect()
}

/// `hubfleet rollback` on the lab, backups in `LAB/backups`, with `args`.
fn rollback(lab: &Lab, args: &[&str]) -> std::process::Output {
    let backups = lab.dir().join("backups");
    let inventory = lab.inventory().to_str().unwrap();
    let mut all = vec![
        "rollback",
        "-i",
        inventory,
        "--backup-dir",
        backups.to_str().unwrap(),
    ];
    all.extend(args);
    lab.hubfleet(&all)
}

/// A user committed to the host's live database now: a row no archive taken before has.
fn add_user(host: &LabHost, name: &str) {
    sqlite(
        &host.hub_db(),
        &format!(
            "INSERT INTO users (name, admin, cookie_id, created) VALUES ('{name}', 0, '{name}-cookie', '2026-12-07 00:00:00')"
        ),
    );
}

/// `-e stop=…`: the lab's stop, which first leaves `marker` behind: whether anything was stopped.
fn stop_marks(host: &LabHost, marker: &Path) -> String {
    format!(
        "stop=touch {} && bash {}",
        shell_quote(marker),
        shell_quote(&host.hub_dir.join("stop.sh"))
    )
}

#[test]
fn rollback_latest_after_an_upgrade_serves_the_old_release_at_the_archives_revision() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let env_before = tree_hashes(&host.hub_env);
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(&lab, &backups, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    // A user who signed up on the new release: lost by the rollback, and said so first.
    add_user(host, "late-user");
    let config = host.hub_dir.join("jupyterhub_config.py");
    let config_before = std::fs::read(&config).unwrap();
    std::fs::write(
        &config,
        [&config_before[..], b"\n# edited after the upgrade\n"].concat(),
    )
    .unwrap();
    let live_db = std::fs::read(host.hub_db()).unwrap();

    let report = lab.dir().join("rollback.json");
    let out = rollback(
        &lab,
        &["--latest", "--yes", "--report", report.to_str().unwrap()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 user (late-user)"), "{stdout}");
    assert!(
        stderr.contains(&format!("restore {}", config.display())),
        "{stderr}"
    );

    // The old release serves, at the archive's revision, with the archive's rows.
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    let db = host.hub_db();
    assert_eq!(
        sqlite(&db, "SELECT version_num FROM alembic_version"),
        OLD_HEAD
    );
    let archive = &archives(&backups.join(&host.name))[0];
    let snapshot = snapshot_of(archive, &lab.dir().join("snapshot"));
    let users = "SELECT group_concat(name) FROM (SELECT name FROM users ORDER BY name)";
    assert_eq!(sqlite(&db, users), sqlite(&snapshot, users));
    assert_eq!(std::fs::read(&config).unwrap(), config_before);
    // The env as it was before the upgrade, byte for byte; the upgraded one kept beside it.
    assert_kept(&env_before, &host.hub_env);
    let previous = PathBuf::from(format!("{}.hubfleet-previous", host.hub_env.display()));
    assert!(previous.join("bin/python").exists());

    // Nothing deleted: the live database and config are kept beside themselves.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let entry = &report["hosts"][0]["report"];
    assert_eq!(report["hosts"][0]["outcome"]["status"], "ok", "{entry}");
    assert_eq!(entry["losses"]["users"], 1);
    assert_eq!(entry["version_after"], "4.1.6");
    let kept = entry["kept_db"].as_str().unwrap();
    assert_eq!(std::fs::read(kept).unwrap(), live_db);
    assert!(entry["kept_db_sha256"].as_str().is_some());
}

#[test]
fn rollback_without_the_env_an_upgrade_kept_installs_the_archives_package_list() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(&lab, &backups, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The env the upgrade kept is gone (removed by hand to free the disk, say): the archive's
    // package list is what brings the old release back (the lab's pip reads its wheelhouse).
    let previous = PathBuf::from(format!("{}.hubfleet-previous", host.hub_env.display()));
    std::fs::rename(&previous, lab.dir().join("moved-away")).unwrap();
    let out = rollback(&lab, &["--latest", "--yes"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("install the archive's package list into"),
        "{stderr}"
    );
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        OLD_HEAD
    );
}

#[test]
fn rollback_refuses_an_archive_of_another_host_before_anything_stops() {
    let lab = lab(2);
    let archives = back_up(&lab);
    let h1 = &lab.hosts()[0];
    let marker = lab.dir().join("stopped");
    let stop = stop_marks(h1, &marker);
    let other = archives[1].to_str().unwrap();
    // Without a terminal to ask on, nothing stops without `--yes`: refused before connecting.
    let out = rollback(&lab, &["-l", "h1", "--archive", other]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pass `--yes`"),
        "{}",
        text(&out.stderr)
    );

    let out = rollback(
        &lab,
        &["-l", "h1", "--archive", other, "--yes", "-e", &stop],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("was taken from `h2`, not `h1`") && stderr.contains("nothing was stopped"),
        "{stderr}"
    );
    assert!(!marker.exists(), "the hub was stopped");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
}

#[test]
fn rollback_refuses_an_archive_with_a_bad_sum_before_anything_stops() {
    let lab = lab(1);
    let archive = back_up(&lab).remove(0);
    let h1 = &lab.hosts()[0];
    // One byte changed in the middle of the compressed stream: the archive fails its sums.
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = archive.with_file_name("damaged.tar.gz");
    std::fs::write(&damaged, bytes).unwrap();
    let marker = lab.dir().join("stopped");
    let stop = stop_marks(h1, &marker);
    let out = rollback(
        &lab,
        &["--archive", damaged.to_str().unwrap(), "--yes", "-e", &stop],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not verify") && stderr.contains("nothing was stopped"),
        "{stderr}"
    );
    assert!(!marker.exists(), "the hub was stopped");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
}

#[test]
fn rollback_dry_run_leaves_every_file_byte_identical() {
    let lab = lab(1);
    back_up(&lab);
    let host = &lab.hosts()[0];
    add_user(host, "after-backup");
    let before = tree_hashes(&host.hub_dir);
    let out = rollback(&lab, &["--latest", "--dry-run"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("1 user (after-backup)"), "{stdout}");
    assert!(stdout.contains("4.1.6 (planned)"), "{stdout}");
    let after = tree_hashes(&host.hub_dir);
    let changed: Vec<_> = before
        .iter()
        .filter(|(path, hash)| after.get(*path) != Some(*hash))
        .map(|(path, _)| path)
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(before.len(), after.len(), "files appeared");
    // The same plan in the one JSON envelope, what would be lost with it.
    let out = rollback(&lab, &["--latest", "--dry-run", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["command"], "rollback", "{json}");
    let plan = &json["hosts"][0]["report"]["plan"];
    assert_eq!(plan["losses"]["users"], 1, "{json}");
    assert_eq!(plan["losses"]["new_users"][0], "after-backup", "{json}");
    assert_eq!(plan["env"]["kind"], "keep", "{json}");
    assert_eq!(tree_hashes(&host.hub_dir), before);
}

#[test]
fn rollback_in_a_terminal_shows_its_plan_and_asks_before_anything_stops() {
    let lab = lab(1);
    back_up(&lab);
    let host = &lab.hosts()[0];
    add_user(host, "after-backup");
    let marker = lab.dir().join("stopped");
    let stop = stop_marks(host, &marker);
    let backups = lab.dir().join("backups");
    let mut command = lab.hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"));
    command
        .args(["rollback", "-i"])
        .arg(lab.inventory())
        .arg("--backup-dir")
        .arg(&backups)
        .args(["--latest", "-e", &stop]);
    let line = format!("{}; echo EXIT=$?; sleep 600", pty::shell_line(&command));
    let pane = pty::Tmux::start(&line, (160, 50));
    // The whole screen, scrolled lines included, once it shows `text`.
    let wait_for = |text: &str| {
        let start = std::time::Instant::now();
        loop {
            let screen = pane.capture(true, false);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(120),
                "no `{text}` in:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let screen = wait_for("Continue? [y/N]");
    // The check ran and its plan is shown, what would be lost with it; nothing stopped yet.
    assert!(screen.contains("1 user (after-backup)"), "{screen}");
    assert!(
        screen.contains("roll back 1 hub (h1) as planned above"),
        "{screen}"
    );
    assert!(!marker.exists(), "the hub was stopped before the answer");
    pane.answer("n");
    let screen = wait_for("EXIT=");
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert!(!marker.exists(), "the hub was stopped after `n`");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
}
