//! The automatic rollback after the stop (issue 12): a failure in the downtime puts the database
//! kept at the stop back, swaps the env as it was back in and starts the old release, on the host;
//! a rollback that cannot complete leaves the hub down, said as such, with its own exit code.

#[path = "lab/mod.rs"]
mod lab;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lab::runs::{
    NEWEST, archives, assert_kept, at_old_start, on_the_new_release_start, snapshot_of, sqlite,
    tree_hashes, upgrade_to_newest,
};
use lab::{Lab, LabHost, shell_quote, text};
use sha2::{Digest, Sha256};

/// The revision of the lab's JupyterHub 4.1.6 databases.
const OLD_HEAD: &str = "0eee8c825d24";

fn lab(hosts: usize) -> Lab {
    lab::runs::serving_lab(hosts)
}

/// Makes `host`'s `jupyterhub upgrade-db` run `python` (code in its config) once `marker` exists,
/// which the test's stop command creates: the rehearsal before the stop passes, the real
/// upgrade-db in the downtime does not.
fn at_the_cutovers_upgrade_db(host: &LabHost, marker: &Path, python: &str) {
    let config = host.hub_dir.join("jupyterhub_config.py");
    let mut body = std::fs::read_to_string(&config).unwrap();
    body.push_str(&format!(
        "\nimport os as _os, sys as _sys\nif 'upgrade-db' in _sys.argv and _os.path.exists({marker:?}):\n{}\n",
        python
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    ));
    std::fs::write(&config, body).unwrap();
}

/// The lab's stop, then `marker` created.
fn stop_then_mark(host: &LabHost, marker: &Path) -> String {
    format!(
        "stop=bash {} && touch {}",
        shell_quote(&host.hub_dir.join("stop.sh")),
        shell_quote(marker)
    )
}

/// A `notify` that commits a user to the host's own database, after the streamed backup and
/// before the stop: a row the archive does not have and a rollback must keep.
fn notify_commits_a_late_row(lab: &Lab) -> String {
    let mut cases = String::new();
    for host in lab.hosts() {
        cases.push_str(&format!(
            "{}) db={} ;; ",
            host.address,
            shell_quote(&host.hub_db())
        ));
    }
    format!(
        "notify=set -- $SSH_CONNECTION; case \"$3\" in {cases}esac; sqlite3 \"$db\" \"INSERT INTO users (name, admin, cookie_id, created) VALUES ('late-row', 0, 'late-row-cookie', '2026-12-07 00:00:00')\""
    )
}

fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// `hubfleet upgrade --to NEWEST` with `extra` arguments and a `--report`: the run, and the
/// report's entry of the first host.
fn upgrade(lab: &Lab, extra: &[&str]) -> (std::process::Output, serde_json::Value) {
    let report = lab.dir().join("upgrade.json");
    let mut args = extra.to_vec();
    args.extend(["--report", report.to_str().unwrap()]);
    let out = upgrade_to_newest(lab, &lab.dir().join("backups"), &args);
    let report = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (out, report)
}

/// The hub serves 4.1.6 on its old env, and its database is byte for byte the copy kept at the
/// stop, whose sha256 the report carries: what every rolled-back host must show.
fn assert_rolled_back(
    lab: &Lab,
    i: usize,
    entry: &serde_json::Value,
    env_before: &BTreeMap<PathBuf, String>,
) {
    let host = &lab.hosts()[i];
    assert_eq!(lab.hub_version(i).unwrap(), "4.1.6");
    let kept = PathBuf::from(entry["kept_db"].as_str().expect("the kept database"));
    let sum = entry["kept_db_sha256"].as_str().unwrap();
    assert_eq!(sha256_file(&kept), sum);
    // The old hub writes to its database as soon as it runs: the database the rollback put back
    // is the one its start found.
    assert_eq!(sha256_file(&at_old_start(host)), sum);
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        OLD_HEAD
    );
    // Files the old release writes when it runs again (bytecode) may be new; none changed.
    assert_kept(env_before, &host.hub_env);
    let env = host.hub_env.display();
    for leftover in ["hubfleet-next", "hubfleet-failed", "hubfleet-previous"] {
        assert!(
            !Path::new(&format!("{env}.{leftover}")).exists(),
            "{env}.{leftover}"
        );
    }
}

#[test]
fn a_hub_whose_start_fails_only_on_the_new_release_is_rolled_back_and_the_others_upgrade() {
    let lab = lab(2);
    let (h1, h2) = (&lab.hosts()[0], &lab.hosts()[1]);
    on_the_new_release_start(h2, "echo 'authenticator refuses jupyterhub 6' >&2; exit 1");
    let env_before = tree_hashes(&h2.hub_env);
    let (out, report) = upgrade(&lab, &["-e", &notify_commits_a_late_row(&lab)]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    // Rolled back counts as failed: exit 2, not the down code.
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "h2 rolled back after start failed: authenticator refuses jupyterhub 6 (exit code 1)"
        ),
        "{stderr}"
    );
    // Every step of the rollback is a line, as the cutover recorded it.
    for step in [
        "h2 rollback rolling back after start failed",
        "h2 rollback put back ",
        "h2 rollback exchange ",
        "h2 rollback http://",
    ] {
        assert!(stderr.contains(step), "{step}: {stderr}");
    }
    assert!(stdout.contains("rolled back"), "{stdout}");
    assert!(
        stdout.contains("2 hosts: 1 ok, 1 failed (1 rolled back), 0 unreachable"),
        "{stdout}"
    );

    let entry = &report["hosts"][1]["report"];
    assert_eq!(report["hosts"][1]["outcome"]["status"], "rolled-back");
    assert_rolled_back(&lab, 1, entry, &env_before);
    // The row notify committed after the streamed backup: not in the archive, kept by the
    // rollback (the archive would have lost it).
    let late = "SELECT COUNT(*) FROM users WHERE name = 'late-row'";
    assert_eq!(sqlite(&h2.hub_db(), late), "1");
    let archive = &archives(&lab.dir().join("backups").join(&h2.name))[0];
    let snapshot = snapshot_of(archive, &lab.dir().join("restore"));
    assert_eq!(sqlite(&snapshot, late), "0");

    // The other host was upgraded, and its kept database went once the target served.
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    assert_eq!(report["hosts"][0]["outcome"]["status"], "ok");
    assert_eq!(sqlite(&h1.hub_db(), late), "1");
    let kept = report["hosts"][0]["report"]["kept_db"].as_str().unwrap();
    assert!(!Path::new(kept).exists(), "{kept}");
}

#[test]
fn a_hub_whose_health_never_passes_within_its_timeout_is_rolled_back() {
    let lab = lab(1);
    // The start command succeeds, but on the new release nothing comes up.
    on_the_new_release_start(&lab.hosts()[0], "exit 0");
    let env_before = tree_hashes(&lab.hosts()[0].hub_env);
    let (out, report) = upgrade(&lab, &["-e", "start_timeout=10"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("h1 rolled back after health failed: the hub did not answer at ")
            && stderr.contains("within 10s"),
        "{stderr}"
    );
    assert_rolled_back(&lab, 0, &report["hosts"][0]["report"], &env_before);
}

/// Config code that takes an exclusive lock on `db` in a process of its own, as an admin's
/// `sqlite3` shell or a stray script would, holds it 12 s, and returns once it holds it.
fn locker(db: &Path, ready: &Path) -> String {
    format!(
        "import subprocess, time\n\
         subprocess.Popen([_sys.executable, '-c', \"import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); open(sys.argv[2], 'w').close(); time.sleep(12)\", {db:?}, {ready:?}], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
         while not _os.path.exists({ready:?}):\n    time.sleep(0.05)"
    )
}

#[test]
fn an_upgrade_db_that_fails_on_the_real_database_though_the_rehearsal_passed_is_rolled_back() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let marker = lab.dir().join("stopped");
    let locked = lab.dir().join("locked");
    at_the_cutovers_upgrade_db(host, &marker, &locker(&host.hub_db(), &locked));
    on_the_new_release_start(host, ":");
    let env_before = tree_hashes(&host.hub_env);
    let (out, report) = upgrade(&lab, &["-e", &stop_then_mark(host, &marker)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("h1 rehearse a copy of the database reached"),
        "{stderr}"
    );
    assert!(
        stderr.contains("h1 rolled back after upgrade-db failed: "),
        "{stderr}"
    );
    assert_rolled_back(&lab, 0, &report["hosts"][0]["report"], &env_before);
}

#[test]
fn an_upgrade_db_that_hangs_is_stopped_at_its_timeout_and_rolled_back() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let marker = lab.dir().join("stopped");
    at_the_cutovers_upgrade_db(host, &marker, "import time\ntime.sleep(600)");
    on_the_new_release_start(host, ":");
    let env_before = tree_hashes(&host.hub_env);
    let (out, report) = upgrade(
        &lab,
        &[
            "-e",
            &stop_then_mark(host, &marker),
            "-e",
            "upgrade_db_timeout=5",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("h1 rolled back after upgrade-db failed: ")
            && stderr.contains("did not return within 5s and was stopped"),
        "{stderr}"
    );
    assert_rolled_back(&lab, 0, &report["hosts"][0]["report"], &env_before);
}

#[test]
fn a_rollback_that_cannot_complete_leaves_the_hub_down_with_its_exit_code_and_the_steps_by_hand() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    let env = host.hub_env.display().to_string();
    let previous = format!("{env}.hubfleet-previous");
    // Mid-cutover, the env the rollback needs goes away; then the new release fails to start.
    on_the_new_release_start(
        host,
        &format!(
            "rm -rf {}; echo 'authenticator refuses jupyterhub 6' >&2; exit 1",
            shell_quote(Path::new(&previous))
        ),
    );
    let (out, report) = upgrade(&lab, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(8), "{stdout}\n{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("h1 DOWN after start failed: authenticator refuses jupyterhub 6"))
        .unwrap_or_else(|| panic!("{stderr}"));
    // The exact state: which env is in place, where the database kept at the stop is.
    assert!(
        line.contains(&format!("{previous}, the env as it was, is missing"))
            && line.contains(&format!("{env} holds jupyterhub {NEWEST}"))
            && line.contains("the database is back as it was at the stop"),
        "{line}"
    );
    assert!(
        stdout.contains("1 hosts: 0 ok, 0 failed, 1 DOWN, 0 unreachable"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the hub is DOWN; to finish by hand"),
        "{stdout}"
    );
    assert_eq!(report["hosts"][0]["outcome"]["status"], "down");
    assert_eq!(report["exit_code"], 8);
    let entry = &report["hosts"][0]["report"];
    let by_hand: Vec<&str> = entry["by_hand"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        by_hand.iter().any(|c| c.contains("jupyterhub==4.1.6")),
        "{by_hand:?}"
    );
    assert!(lab.hub_version(0).is_err(), "the hub is down");
    // The database was put back before the env failed to: it is the copy kept at the stop.
    let sum = entry["kept_db_sha256"].as_str().unwrap();
    assert_eq!(sha256_file(&host.hub_db()), sum);
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        OLD_HEAD
    );
}

#[test]
fn no_rollback_leaves_a_failed_hub_stopped_as_it_failed_and_says_where_the_kept_database_is() {
    let lab = lab(1);
    let host = &lab.hosts()[0];
    on_the_new_release_start(
        host,
        "echo 'authenticator refuses jupyterhub 6' >&2; exit 1",
    );

    let (out, report) = upgrade(&lab, &["--no-rollback"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    let entry = &report["hosts"][0]["report"];
    let kept = entry["kept_db"].as_str().unwrap();
    let line = stderr
        .lines()
        .find(|l| l.contains("h1 DOWN after start failed: authenticator refuses jupyterhub 6"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("--no-rollback")
            && line.contains(&format!("the copy kept at the stop is {kept}")),
        "{line}"
    );
    // Left as the failure left it: stopped, the new env in place, the database migrated, the
    // way back beside it.
    assert!(lab.hub_version(0).is_err(), "the hub is stopped");
    assert!(Path::new(&format!("{}.hubfleet-previous", host.hub_env.display())).exists());
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        lab::runs::NEWEST_HEAD
    );
    assert_eq!(
        sha256_file(Path::new(kept)),
        entry["kept_db_sha256"].as_str().unwrap()
    );
}
