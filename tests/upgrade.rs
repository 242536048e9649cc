//! `hubfleet upgrade` and `backup` on lab hubs running a real, older JupyterHub: the fleet
//! upgrade across migrations, dry runs that change nothing, and backups of a database being
//! written.

#[path = "lab/mod.rs"]
mod lab;

use std::path::{Path, PathBuf};
use std::process::Command;

use lab::runs::{
    NEWEST, NEWEST_HEAD, archives, assert_kept, assert_upgraded, failed_at, snapshot_of, sqlite,
    tree_hashes, upgrade_args, upgrade_to, upgrade_to_newest,
};
use lab::{Hubs, Lab, text};

/// A lab of `hosts` hubs of JupyterHub 4.1.6, the release every test here upgrades from.
fn lab(hosts: usize, hubs: Hubs) -> Lab {
    Lab::builder()
        .hosts(hosts)
        .hubs(hubs)
        .jupyterhub("4.1.6")
        .start()
        .unwrap()
}

#[test]
fn three_hubs_upgrade_across_migrations_and_keep_their_users_and_tokens() {
    let lab = lab(3, Hubs::Running);
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let backups = lab.dir().join("backups");
    let report = lab.dir().join("upgrade.json");
    let count = |db: &Path, table: &str| sqlite(db, &format!("SELECT COUNT(*) FROM {table}"));
    let before: Vec<(String, String)> = lab
        .hosts()
        .iter()
        .map(|h| {
            (
                count(&h.hub_db(), "users"),
                count(&h.hub_db(), "api_tokens"),
            )
        })
        .collect();
    let envs_before: Vec<_> = lab
        .hosts()
        .iter()
        .map(|h| tree_hashes(&h.hub_env))
        .collect();
    // h1 was upgraded before: the env that upgrade replaced is still beside its env.
    let earlier = keep_an_earlier_upgrades_env(&lab.hosts()[0].hub_env);

    let out = upgrade_to(
        &lab,
        &backups,
        "latest",
        &["--report", report.to_str().unwrap()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("4.1.6 → {NEWEST}")), "{stdout}");
    assert!(stdout.contains("(6 migrations)"), "{stdout}");
    // upgrade-db was rehearsed on a copy of each database before its hub was stopped.
    for host in lab.hosts() {
        let rehearsed = format!(
            "{} rehearse a copy of the database reached {NEWEST_HEAD}",
            host.name
        );
        let at = |needle: &str| {
            stderr
                .find(needle)
                .unwrap_or_else(|| panic!("{needle}: {stderr}"))
        };
        assert!(
            at(&rehearsed) < at(&format!("{} stop ", host.name)),
            "{stderr}"
        );
        // Nothing of hubfleet's is left beside the database: not the rehearsal's copy, not the
        // cutover's record (its follower removes it once it has the result).
        assert_eq!(leftovers(&host.hub_dir, ".hubfleet-"), Vec::<String>::new());
    }
    assert!(
        stdout.contains("3 hosts: 3 ok, 0 failed, 0 unreachable"),
        "{stdout}"
    );

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for (i, host) in lab.hosts().iter().enumerate() {
        // /hub/api reports the new version, the database reached the new head, nothing lost.
        assert_eq!(lab.hub_version(i).unwrap(), NEWEST, "{}", host.name);
        let db = host.hub_db();
        assert_eq!(
            sqlite(&db, "SELECT version_num FROM alembic_version"),
            NEWEST_HEAD
        );
        assert_eq!(
            (count(&db, "users"), count(&db, "api_tokens")),
            before[i],
            "{}",
            host.name
        );

        let entry = &report["hosts"][i]["report"];
        assert_eq!(entry["version_before"], "4.1.6");
        assert_eq!(entry["version_after"], NEWEST);
        assert_eq!(entry["revision_after"], NEWEST_HEAD);
        assert!(entry["downtime_seconds"].as_f64().unwrap() > 0.0);
        // Each step's timing, in the order the steps began; the downtime's come from the
        // cutover's record.
        let steps: Vec<&str> = report["hosts"][i]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["step"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            [
                "connect",
                "facts",
                "stage",
                "backup",
                "rehearse",
                "check",
                "stop",
                "swap",
                "upgrade-db",
                "start",
                "health"
            ],
            "{}",
            host.name
        );
        let log = std::fs::read_dir(backups.join(&host.name))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "log"))
            .expect("a per-host log");
        let log = std::fs::read_to_string(log).unwrap();
        assert!(log.contains("[upgrade-db] done in "), "{log}");

        // The target was installed into a copy of the env, swapped in while the hub was down;
        // the env as it was is kept beside it, its scripts untouched, none left pointing at the
        // copy's path.
        let env = host.hub_env.to_str().unwrap();
        let previous = format!("{env}.hubfleet-previous");
        assert_eq!(entry["previous_env"], previous.as_str());
        assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
        assert_eq!(jupyterhub_in(Path::new(&previous)), "4.1.6");
        assert_eq!(jupyterhub_in(&host.hub_env), NEWEST);
        assert_kept(&envs_before[i], Path::new(&previous));
        // The one an earlier upgrade kept there is replaced, and nothing of it is left.
        assert!(!earlier.exists());
        assert!(!Path::new(&format!("{previous}-replaced")).exists());
        for script in std::fs::read_dir(host.hub_env.join("bin")).unwrap() {
            let content = std::fs::read(script.unwrap().path()).unwrap_or_default();
            let head = String::from_utf8_lossy(&content[..content.len().min(300)]).into_owned();
            assert!(!head.contains(".hubfleet-next"), "{head}");
        }
        let jupyterhub = std::process::Command::new(host.hub_env.join("bin/jupyterhub"))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(text(&jupyterhub.stdout).trim(), NEWEST);

        // The archive verifies, and its snapshot opens and holds the pre-upgrade database.
        let host_archives = archives(&backups.join(&host.name));
        assert_eq!(host_archives.len(), 1, "{host_archives:?}");
        assert_eq!(entry["archive"], host_archives[0].to_str().unwrap());
        let verify = lab.hubfleet(&["verify", host_archives[0].to_str().unwrap()]);
        assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
        let snapshot = snapshot_of(
            &host_archives[0],
            &lab.dir().join("restore").join(&host.name),
        );
        assert_eq!(sqlite(&snapshot, "PRAGMA integrity_check"), "ok");
        assert_eq!(
            sqlite(&snapshot, "SELECT version_num FROM alembic_version"),
            "0eee8c825d24"
        );
        assert_eq!(
            (count(&snapshot, "users"), count(&snapshot, "api_tokens")),
            before[i]
        );
        // Remote output went to the host's log beside its backups.
        let log = std::fs::read_dir(backups.join(&host.name))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "log"))
            .expect("a log file");
        assert!(
            std::fs::read_to_string(log)
                .unwrap()
                .contains("Running upgrade 0eee8c825d24")
        );
    }

    // A second run finds every host at the target and touches nothing.
    let out = lab.hubfleet(&[
        "upgrade",
        "-i",
        &inventory,
        "--to",
        NEWEST,
        "--backup-dir",
        backups.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).matches("(unchanged)").count(),
        3,
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        archives(&backups.join(&lab.hosts()[0].name)).len(),
        1,
        "no new backup"
    );
}

#[test]
fn a_failure_before_the_stop_leaves_the_hub_serving_its_env_and_removes_the_copy() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    let env_before = tree_hashes(&host.hub_env);
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &["-e", "notify=echo the wall is down >&2; exit 3"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("h1") && stderr.contains("notify") && stderr.contains("the wall is down"),
        "{stderr}"
    );
    // The hub never stopped, its env is byte for byte as it was, the copy readied for the swap
    // is gone, and the verified backup stays.
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(tree_hashes(&host.hub_env), env_before);
    let env = host.hub_env.to_str().unwrap();
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
    assert!(!Path::new(&format!("{env}.hubfleet-previous")).exists());
    assert_eq!(archives(&backups.join(&host.name)).len(), 1);

    // A release the index does not have: the install into the copy fails, and the half-made
    // copy goes with it.
    let out = upgrade_to(&lab, &backups, "9.9.9", &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("h1 failed at stage"), "{stderr}");
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
    assert_eq!(tree_hashes(&host.hub_env), env_before);
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");

    // An earlier stage of this env still runs (its connection dropped): a new one waits for it
    // rather than remove the copy it installs into.
    let mut earlier = Command::new("python3")
        .args([
            "-c",
            "import fcntl, os, sys, time\n\
             fd = os.open(sys.argv[1], os.O_RDONLY)\n\
             fcntl.flock(fd, fcntl.LOCK_EX)\n\
             print('locked', flush=True)\n\
             time.sleep(120)",
        ])
        .arg(&host.hub_env)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut locked = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(earlier.stdout.as_mut().unwrap()),
        &mut locked,
    )
    .unwrap();
    assert_eq!(locked, "locked\n");
    let out = upgrade_to_newest(&lab, &backups, &[]);
    let _ = earlier.kill();
    let _ = earlier.wait();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "h1 failed at stage: an earlier upgrade is still readying {env}.hubfleet-next"
        )),
        "{stderr}"
    );
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");

    // No user server runs when the facts are gathered, so the upgrade goes ahead without
    // `--allow-active-servers`; one starts while it gets ready (here: in the notify command,
    // the last step before the cutover). It is not interrupted: the stop never happens.
    let db = host.hub_db();
    sqlite(
        &db,
        "CREATE TABLE test_running AS SELECT id, server_id FROM spawners WHERE server_id IS NOT NULL; \
         UPDATE spawners SET server_id = NULL;",
    );
    let start_server = format!(
        "notify=sqlite3 {} \"UPDATE spawners SET server_id = (SELECT server_id FROM test_running t WHERE t.id = spawners.id) WHERE id IN (SELECT id FROM test_running)\"",
        db.display()
    );
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let backups_arg = backups.to_str().unwrap();
    let out = lab.hubfleet(&[
        "upgrade",
        "-i",
        &inventory,
        "--to",
        NEWEST,
        "--backup-dir",
        backups_arg,
        "-e",
        &start_server,
    ]);
    let (line, stderr) = failed_at(&out, "h1 failed at check");
    assert!(
        line.ends_with("1 user server(s) started while the upgrade got ready: the hub was not stopped; rerun with `--allow-active-servers` after notifying users"),
        "{line}"
    );
    assert!(!stderr.contains("h1 stop "), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(tree_hashes(&host.hub_env), env_before);
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
}

#[test]
fn an_upgrade_that_breaks_a_plugins_pin_is_refused_but_an_old_breakage_is_not() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    let site = std::fs::read_dir(host.hub_env.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().path().join("site-packages"))
        .find(|p| p.is_dir())
        .unwrap();
    // Two installed distributions, as pip sees them: a plugin pinned below JupyterHub 5, which
    // the upgrade breaks, and one whose requirement was missing before any upgrade.
    let fake = |name: &str, requires: &str| {
        let dir = site.join(format!("{}-1.0.dist-info", name.replace('-', "_")));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("METADATA"),
            format!(
                "Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nRequires-Dist: {requires}\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("RECORD"), "").unwrap();
        dir
    };
    let pinned = fake("hubplugin-pinned", "jupyterhub<5");
    fake("hubplugin-old", "hubfleet-test-never-installed");
    let env_before = tree_hashes(&host.hub_env);
    let backups = lab.dir().join("backups");

    let out = upgrade_to_newest(&lab, &backups, &[]);
    let (line, _) = failed_at(&out, "h1 failed at stage");
    assert!(
        line.contains("has broken requirements the env has not: hubplugin-pinned 1.0 has requirement jupyterhub<5"),
        "{line}"
    );
    assert!(!line.contains("hubplugin-old"), "{line}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(tree_hashes(&host.hub_env), env_before);
    let env = host.hub_env.display();
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());

    // Without the pinned plugin, the breakage the env had before does not stop the upgrade.
    std::fs::remove_dir_all(pinned).unwrap();
    let out = upgrade_to_newest(&lab, &backups, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
}

#[test]
fn hub_state_inside_the_env_is_upgraded_in_place_not_swapped() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    // A file of the hub's inside its env (as with the config and database under
    // /opt/jupyterhub/etc/jupyterhub in JupyterHub's "from the ground up" guide): a swapped-in
    // copy would carry a stale snapshot of it, so the env is upgraded in place.
    let state = host.hub_env.join("etc/jupyterhub/extra_state.json");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, "{}").unwrap();
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &["-e", &format!("backup_extra=[\"{}\"]", state.display())],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("h1 install "), "{stderr}");
    assert!(!stderr.contains("h1 swap "), "{stderr}");
    let env = host.hub_env.to_str().unwrap();
    assert!(!Path::new(&format!("{env}.hubfleet-previous")).exists());
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
    assert_eq!(jupyterhub_in(&host.hub_env), NEWEST);
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{}");
}

/// `hubfleet backup` of every host of `lab` into `backups`.
fn backup(lab: &Lab, backups: &Path) -> std::process::Output {
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    lab.hubfleet(&[
        "backup",
        "-i",
        &inventory,
        "--backup-dir",
        backups.to_str().unwrap(),
    ])
}

/// A copy of the venv at `from` at `to`: a working venv (its `bin/python` finds its own
/// `pyvenv.cfg`), with the same `pip.conf` and so the same package source.
fn copy_env(from: &Path, to: &Path) {
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(
        copied.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}

/// A tmpfs of `mib` MiB mounted at `dir`, unmounted when dropped: a small filesystem to fill.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: PathBuf, mib: u64) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs at {}", dir.display());
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("--lazy")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_backup_disk_on_the_controller_stops_that_host_before_its_stop_and_the_other_upgrades() {
    let lab = lab(2, Hubs::Running);
    let backups = lab.dir().join("backups");
    // h1's backups go to a 1 MiB filesystem that a filler leaves full; h2's to the lab disk.
    let disk = SmallDisk::mount(backups.join("h1"), 1);
    let filler = disk.0.join("filler");
    let free = free_bytes(&disk.0);
    std::fs::write(&filler, vec![0u8; free as usize]).unwrap();

    let out = upgrade_to_newest(&lab, &backups, &[]);
    let (line, stderr) = failed_at(&out, "h1 failed at backup");
    assert!(line.contains("No space left on device"), "{line}");
    // No verified backup, no stop: h1 still serves 4.1.6 on its own env, with nothing of the
    // upgrade left on the host or half-written on the full disk; h2 went on to the end.
    assert!(!stderr.contains("h1 stop "), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    let env = lab.hosts()[0].hub_env.display();
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
    let mut left: Vec<_> = std::fs::read_dir(&disk.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".log"))
        .collect();
    left.sort();
    assert_eq!(left, ["filler"]);
    assert_eq!(lab.hub_version(1).unwrap(), NEWEST);
    assert_eq!(archives(&backups.join("h2")).len(), 1);
}

/// Free bytes on the filesystem holding `dir` (`df`'s view).
fn free_bytes(dir: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    text(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn an_env_whose_disk_cannot_hold_its_upgraded_copy_is_refused_and_the_hub_keeps_serving() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    // The hub env moved onto a filesystem with room for itself, not for a second copy.
    let du = std::process::Command::new("du")
        .arg("-sb")
        .arg(&host.hub_env)
        .output()
        .unwrap();
    let env_bytes: u64 = text(&du.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let disk = SmallDisk::mount(lab.dir().join("small"), env_bytes / (1 << 20) + 40);
    let env = disk.0.join("env");
    copy_env(&host.hub_env, &env);
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &["-e", &format!("hub_env={}", env.display())],
    );
    let (line, _) = failed_at(&out, "h1 failed at stage");
    assert!(
        line.contains(&format!("not enough free disk beside {}", env.display()))
            && line.contains("MiB free")
            && line.contains("MiB needed"),
        "{line}"
    );
    // Nothing half-copied is left on the small disk, the hub still serves the old release, and
    // the backup taken meanwhile stays.
    assert!(!disk.0.join("env.hubfleet-next").exists());
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(archives(&backups.join(&host.name)).len(), 1);
}

#[test]
fn a_config_the_new_release_cannot_load_fails_the_rehearsal_while_the_hub_serves() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    // Breaks under JupyterHub 5 and later, as a removed option or a moved import does; the
    // running 4.1.6 hub loaded it fine.
    let config = host.hub_dir.join("jupyterhub_config.py");
    let mut text_of_config = std::fs::read_to_string(&config).unwrap();
    text_of_config.push_str(
        "\nimport jupyterhub\nif jupyterhub.version_info[0] >= 5:\n    raise RuntimeError('this config predates JupyterHub 5')\n",
    );
    std::fs::write(&config, text_of_config).unwrap();
    let env_before = tree_hashes(&host.hub_env);
    let earlier = keep_an_earlier_upgrades_env(&host.hub_env);
    let revision = sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version");
    let backups = lab.dir().join("backups");

    let out = upgrade_to_newest(&lab, &backups, &[]);
    let (line, stderr) = failed_at(&out, "h1 failed at rehearse");
    assert!(
        line.ends_with("upgrade-db with the new release failed on a copy of the database: RuntimeError: this config predates JupyterHub 5 (exit code 3)"),
        "{line}"
    );
    // Found before the stop: the hub never went down, its env and database are as they were,
    // the staged copy and the rehearsal's copy are gone, and the backup stays.
    assert!(!stderr.contains("h1 stop "), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_kept(&env_before, &host.hub_env);
    let env = host.hub_env.display();
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        revision
    );
    assert_eq!(
        leftovers(&host.hub_dir, ".hubfleet-rehearse-"),
        Vec::<String>::new()
    );
    assert_eq!(archives(&backups.join(&host.name)).len(), 1);
    // An upgrade that never swapped keeps the env an earlier upgrade kept: still a way back.
    assert!(earlier.exists());
    // The rehearsal's whole stderr is in the host's log, not only its last line.
    let log = std::fs::read_dir(backups.join(&host.name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains(
            "! upgrade-db with the new release failed on a copy of the database: RuntimeError"
        ),
        "{log}"
    );
}

/// The run exited 2 (a host failed): the line `needle` is in (`h1 failed at STEP`), and stderr.
/// Puts a stand-in for the env an earlier upgrade replaced at `ENV.hubfleet-previous`; the file
/// that marks it.
fn keep_an_earlier_upgrades_env(env: &Path) -> PathBuf {
    let previous = PathBuf::from(format!("{}.hubfleet-previous", env.display()));
    std::fs::create_dir(&previous).unwrap();
    let marker = previous.join("kept-by-an-earlier-upgrade");
    std::fs::write(&marker, "").unwrap();
    marker
}

/// Names of the hidden entries of `dir` that contain `needle`.
fn leftovers(dir: &Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') && name.contains(needle))
        .collect()
}

#[test]
fn a_controller_lost_during_the_downtime_leaves_the_host_to_finish_the_upgrade() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    let users = sqlite(&host.hub_db(), "SELECT COUNT(*) FROM users");
    let backups = lab.dir().join("backups");
    // A start that takes 5 s more: the host is still in its cutover when the next run comes.
    let start = format!(
        "start=sleep 5; bash '{}'",
        host.hub_dir.join("start.sh").display()
    );
    let args = upgrade_args(&lab, &backups, NEWEST, &["-e", &start]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The controller dies (SIGKILL: the jump host rebooted) as upgrade-db starts, the hub down.
    let mut child = lab
        .hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in std::io::BufRead::lines(stderr) {
        let line = line.unwrap();
        let reached = line.contains("h1 upgrade-db ");
        seen.push(line);
        if reached {
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert!(
        seen.last().is_some_and(|l| l.contains("h1 upgrade-db ")),
        "{seen:#?}"
    );

    // A run meanwhile finds the host locked by the cutover, which holds the lock its run handed
    // it, and leaves the host alone.
    let out = lab.hubfleet(&args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("h1 failed at lock: another run holds this host's lock")
            && stderr.contains("its cutover running on this host as pid "),
        "{stderr}"
    );

    // The host finishes the upgrade by itself, and its record says so.
    let record_path = host
        .hub_dir
        .join(".jupyterhub.sqlite.hubfleet-cutover.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let record = loop {
        let record = std::fs::read_to_string(&record_path).unwrap();
        if record.contains("{\"result\"") {
            break record;
        }
        assert!(std::time::Instant::now() < deadline, "{record}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let result: serde_json::Value = serde_json::from_str(record.lines().last().unwrap()).unwrap();
    assert_eq!(result["result"], "ok", "{record}");
    assert_eq!(result["revision"], NEWEST_HEAD);
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        NEWEST_HEAD
    );
    assert_eq!(sqlite(&host.hub_db(), "SELECT COUNT(*) FROM users"), users);

    // The next run finds the hub at the target and changes nothing.
    let out = lab.hubfleet(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("h1 stop "));
    assert_eq!(archives(&backups.join(&host.name)).len(), 1);
}

#[test]
fn a_stop_command_that_hangs_after_stopping_the_hub_is_stopped_and_the_upgrade_goes_on() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    let backups = lab.dir().join("backups");
    // Stops the hub, then waits on something that never comes.
    let marker = lab.dir().join("hanging-stop");
    let stop = format!(
        "stop=bash '{}'; python3 -c 'import time; time.sleep(600)' '{}'",
        host.hub_dir.join("stop.sh").display(),
        marker.display()
    );
    let out = upgrade_to_newest(&lab, &backups, &["-e", &stop, "-e", "stop_timeout=5"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    // The hanging command was stopped, and the per-host log says so.
    let pgrep = std::process::Command::new("pgrep")
        .args(["-f", &marker.display().to_string()])
        .output()
        .unwrap();
    assert!(pgrep.stdout.is_empty(), "{}", text(&pgrep.stdout));
    let log = std::fs::read_dir(backups.join(&host.name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains("did not return within 5s and was stopped"),
        "{log}"
    );
}

/// Stands in for whatever keeps a hub's database open after its API went quiet (a hub still
/// shutting down, an admin's `sqlite3` shell): opens DB, writes its pid to RESULT.pid, holds
/// the database SECONDS, then writes to RESULT whether ENV had been swapped meanwhile.
const DB_HOLDER: &str = r#"
import os, sqlite3, sys, time
db, seconds, env, result = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
connection = sqlite3.connect(db)
connection.execute("SELECT COUNT(*) FROM users").fetchall()
with open(result + ".pid", "w") as f:
    f.write(str(os.getpid()))
time.sleep(seconds)
with open(result, "w") as f:
    f.write("swapped" if os.path.exists(env + ".hubfleet-previous") else "not swapped")
"#;

#[test]
fn a_hub_is_stopped_only_once_nothing_holds_its_database() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    let holder = lab.dir().join("holder.py");
    std::fs::write(&holder, DB_HOLDER).unwrap();
    let backups = lab.dir().join("backups");
    // The lab's stop, then a process that keeps the database open (started detached, and
    // holding it before the stop command returns).
    let stop_holding = |seconds: u32, result: &Path| {
        format!(
            "bash '{stop}'; setsid python3 '{holder}' '{db}' {seconds} '{env}' '{result}' </dev/null >/dev/null 2>&1 & \
             while [ ! -e '{result}.pid' ]; do sleep 0.05; done",
            stop = host.hub_dir.join("stop.sh").display(),
            holder = holder.display(),
            db = host.hub_db().display(),
            env = host.hub_env.display(),
            result = result.display(),
        )
    };

    // Held past stop_timeout (which bounds the stop command too, so it leaves the lab's stop
    // time to finish): the upgrade stops there, the hub is started again on its unchanged env,
    // and the failure names the process.
    let held = lab.dir().join("held");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &[
            "-e",
            &format!("stop={}", stop_holding(120, &held)),
            "-e",
            "stop_timeout=8",
        ],
    );
    let pid = std::fs::read_to_string(held.with_extension("pid")).unwrap();
    let _ = std::process::Command::new("kill").arg(&pid).status();
    let (line, _) = failed_at(&out, "h1 failed at stop");
    assert!(
        line.contains(&format!(
            "{} is still open in pid {pid} (`",
            host.hub_db().display()
        )) && line.contains(&format!("{} ", holder.display()))
            && line.contains("8s after")
            && line.ends_with("the hub was started again at 4.1.6"),
        "{line}"
    );
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(jupyterhub_in(&host.hub_env), "4.1.6");
    let env = host.hub_env.display();
    assert!(!Path::new(&format!("{env}.hubfleet-next")).exists());
    assert!(!Path::new(&format!("{env}.hubfleet-previous")).exists());

    // Held 3 s: the swap waits until the database is closed.
    let released = lab.dir().join("released");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &["-e", &format!("stop={}", stop_holding(3, &released))],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&released).unwrap(), "not swapped");
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
}

/// The jupyterhub release the Python env at `env` imports.
fn jupyterhub_in(env: &Path) -> String {
    let out = std::process::Command::new(env.join("bin/python"))
        .args(["-c", "import jupyterhub; print(jupyterhub.__version__)"])
        .output()
        .unwrap();
    text(&out.stdout).trim().to_owned()
}

#[test]
fn the_single_user_env_is_brought_to_the_hubs_release_and_a_mismatch_is_a_fact() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    // A single-user env of its own: a copy of the hub's venv, whose pip finds the wheelhouse.
    let singleuser = lab.dir().join("singleuser");
    copy_env(&host.hub_env, &singleuser);
    let backups = lab.dir().join("backups");
    let singleuser_var = format!("singleuser_env={}", singleuser.display());

    // First its pip finds no package at all: tried before the stop, the install fails there, and
    // the hub is never upgraded past what its users' servers can run.
    let pip_conf = singleuser.join("pip.conf");
    let reachable = std::fs::read_to_string(&pip_conf).unwrap();
    let nowhere = lab.dir().join("no-packages");
    std::fs::create_dir_all(&nowhere).unwrap();
    std::fs::write(
        &pip_conf,
        format!(
            "[global]\nno-index = true\nfind-links = {}\n",
            nowhere.display()
        ),
    )
    .unwrap();
    let out = upgrade_to_newest(&lab, &backups, &["-e", &singleuser_var]);
    let (line, stderr) = failed_at(&out, "h1 failed at singleuser");
    assert!(
        line.contains(&format!(
            "the single-user env {} cannot take jupyterhub {NEWEST}, which the hub would then need",
            singleuser.display()
        )),
        "{line}"
    );
    assert!(!stderr.contains("h1 stop "), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6");
    assert_eq!(jupyterhub_in(&singleuser), "4.1.6");
    std::fs::write(&pip_conf, reachable).unwrap();

    let out = upgrade_to_newest(&lab, &backups, &["-e", &singleuser_var]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("h1 singleuser "), "{stderr}");
    assert_eq!(jupyterhub_in(&singleuser), NEWEST);
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);

    // Pointed at the env the upgrade replaced (4.1.6), facts flags the mismatch.
    let previous = format!("{}.hubfleet-previous", host.hub_env.display());
    let facts = lab.hubfleet(&[
        "facts",
        "-i",
        lab.inventory().to_str().unwrap(),
        "--json",
        "-e",
        &format!("singleuser_env={previous}"),
    ]);
    let stdout = text(&facts.stdout);
    assert!(
        stdout.contains(&format!(
            "the single-user env has jupyterhub 4.1.6 and the hub {NEWEST}: they must match"
        )),
        "{stdout}"
    );
}

#[test]
fn a_hub_env_without_pip_is_upgraded_with_uv() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    // A uv-managed env: no pip in it. Its uv is a wrapper that installs from the lab's wheelhouse
    // only (`pip install … --no-index --find-links`), as an operator's uv config points at their
    // index.
    let removed = std::process::Command::new(host.hub_env.join("bin/python"))
        .args(["-m", "pip", "uninstall", "--yes", "--quiet", "pip"])
        .status()
        .unwrap();
    assert!(removed.success());
    let cache = lab::Cache::locate(None).unwrap();
    let uv = lab.dir().join("uv-offline");
    std::fs::write(
        &uv,
        format!(
            "#!/bin/sh\nexport UV_CACHE_DIR='{}'\ncase \"$2\" in install) exec '{}' \"$@\" --no-index --find-links '{}';; esac\nexec '{1}' \"$@\"\n",
            cache.root.join("uv").display(),
            cache.uv.display(),
            cache.wheels.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&uv, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let vars = ["-e", "installer=uv", "-e", &format!("uv={}", uv.display())];

    let inventory = lab.inventory().to_str().unwrap().to_owned();
    // The lab built this env with uv, which left its lock file in it; an env made by
    // `python -m venv` has none, and a dry run must not leave one behind.
    let _ = std::fs::remove_file(host.hub_env.join(".lock"));
    let env_before = tree_hashes(&host.hub_env);
    let dry_run = lab.hubfleet(
        &[
            &["upgrade", "-i", &inventory, "--to", NEWEST, "--dry-run"],
            &vars[..],
        ]
        .concat(),
    );
    let stdout = text(&dry_run.stdout);
    assert_eq!(
        dry_run.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&dry_run.stderr)
    );
    assert!(
        stdout.contains("pending migrations: 3c2384c5aae1 -> "),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("jupyterhub=={NEWEST}")),
        "{stdout}"
    );
    // uv's lock file included: the dry run leaves the env as it found it.
    assert_eq!(tree_hashes(&host.hub_env), env_before);

    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(&lab, &backups, &vars);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("with uv"), "{stderr}");
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    assert_eq!(jupyterhub_in(&host.hub_env), NEWEST);
    assert_eq!(
        sqlite(&host.hub_db(), "SELECT version_num FROM alembic_version"),
        NEWEST_HEAD
    );
    let previous = format!("{}.hubfleet-previous", host.hub_env.display());
    assert_kept(&env_before, Path::new(&previous));
}

#[test]
fn dry_run_changes_nothing_and_names_the_target_and_its_migrations() {
    let lab = lab(2, Hubs::Running);
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let before: Vec<_> = lab
        .hosts()
        .iter()
        .map(|h| tree_hashes(&h.hub_dir))
        .collect();
    let backups = lab.dir().join("backups");
    for command in [&["upgrade", "--to", "latest"][..], &["backup"][..]] {
        let args = [
            command,
            &[
                "-i",
                &inventory,
                "--dry-run",
                "--backup-dir",
                backups.to_str().unwrap(),
            ],
        ]
        .concat();
        let out = lab.hubfleet(&args);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}\n{}",
            text(&out.stderr)
        );
        if command[0] == "upgrade" {
            assert!(
                stdout.contains(&format!("target: jupyterhub {NEWEST} (now 4.1.6)")),
                "{stdout}"
            );
            assert!(
                stdout.contains("pending migrations: 3c2384c5aae1 -> 4621fec11365 -> be8ecf03ddac -> afd65840b69e -> ff1860e38070 -> f460b0348206"),
                "{stdout}"
            );
            // The plan readies a copy of each venv and swaps it in while the hub is down.
            for host in lab.hosts() {
                let env = host.hub_env.display();
                assert!(
                    stdout.contains(&format!("swap [HUB DOWN]: exchange {env} with {env}.hubfleet-next; the env as it was is kept at {env}.hubfleet-previous")),
                    "{stdout}"
                );
            }
        }
    }
    for (i, host) in lab.hosts().iter().enumerate() {
        let after = tree_hashes(&host.hub_dir);
        let changed: Vec<_> = before[i]
            .iter()
            .filter(|(path, hash)| after.get(*path) != Some(hash))
            .map(|(path, _)| path)
            .chain(after.keys().filter(|path| !before[i].contains_key(*path)))
            .collect();
        assert!(changed.is_empty(), "{} changed: {changed:?}", host.name);
        assert_eq!(lab.hub_version(i).unwrap(), "4.1.6", "still serving");
    }
    assert!(
        archives(&backups.join(&lab.hosts()[0].name)).is_empty(),
        "a dry run took a backup"
    );
}

#[test]
fn a_backup_of_a_database_being_written_holds_every_row_committed_before_it() {
    let lab = lab(1, Hubs::Installed);
    let db = lab.hosts()[0].hub_db();
    sqlite(
        &db,
        "PRAGMA journal_mode=WAL; CREATE TABLE churn (id INTEGER PRIMARY KEY, pad TEXT)",
    );
    // A writer that commits one row at a time, as fast as it can, until it is killed.
    let writer_script = format!(
        "import sqlite3\ndb = sqlite3.connect({db:?}, timeout=30)\nwhile True:\n    db.execute(\"INSERT INTO churn (pad) VALUES (hex(randomblob(256)))\")\n    db.commit()\n"
    );
    let mut writer = Command::new("python3")
        .arg("-c")
        .arg(writer_script)
        .spawn()
        .unwrap();
    // Let the writer get going (a loaded machine may take seconds to start Python).
    let mut committed: u64 = 0;
    for _ in 0..120 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        committed = sqlite(&db, "SELECT COALESCE(MAX(id), 0) FROM churn")
            .parse()
            .unwrap();
        if committed > 100 {
            break;
        }
    }
    let backups = lab.dir().join("backups");
    let out = backup(&lab, &backups);
    let _ = writer.kill();
    let _ = writer.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(committed > 0, "the writer never committed");
    let archive = &archives(&backups.join(&lab.hosts()[0].name))[0];
    let snapshot = snapshot_of(archive, &lab.dir().join("restore"));
    assert_eq!(sqlite(&snapshot, "PRAGMA integrity_check"), "ok");
    let rows: u64 = sqlite(
        &snapshot,
        &format!("SELECT COUNT(*) FROM churn WHERE id <= {committed}"),
    )
    .parse()
    .unwrap();
    assert_eq!(
        rows, committed,
        "rows committed before the backup are missing from the snapshot"
    );
    // The WAL was still in use: the live database file alone would not have held them all.
    assert!(db.with_extension("sqlite-wal").exists());
}

#[test]
fn a_snapshot_that_fails_integrity_check_leaves_no_archive() {
    let lab = Lab::builder()
        .hosts(1)
        .hubs(Hubs::Installed)
        .jupyterhub("4.1.6")
        .start()
        .unwrap();
    let db = lab.hosts()[0].hub_db();
    // An index that no longer matches its table: every page reads, the backup API copies it,
    // and only integrity_check, which the host runs beside the stream, notices.
    sqlite(
        &db,
        "CREATE TABLE broken (a INTEGER, b TEXT); CREATE INDEX broken_b ON broken(b); \
         INSERT INTO broken VALUES (1, 'x'), (2, 'y'); PRAGMA writable_schema=ON; \
         UPDATE sqlite_master SET sql = 'CREATE INDEX broken_b ON broken(a)' WHERE name = 'broken_b';",
    );
    assert_ne!(sqlite(&db, "PRAGMA integrity_check"), "ok");
    let backups = lab.dir().join("backups");
    let out = backup(&lab, &backups);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("fails integrity_check"),
        "{stdout}\n{stderr}"
    );
    // No archive and no partial file: only the run's log.
    let host_dir = backups.join(&lab.hosts()[0].name);
    let mut left: Vec<PathBuf> = std::fs::read_dir(&host_dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    left.retain(|p| p.extension().is_none_or(|e| e != "log"));
    assert_eq!(left, Vec::<PathBuf>::new());
}

#[test]
fn a_relative_sqlite_url_resolves_against_the_hubs_working_directory_not_its_configs() {
    let lab = lab(1, Hubs::Installed);
    let host = &lab.hosts()[0];
    // The hub runs from its own directory (as under systemd's WorkingDirectory) while its config
    // lives in the hub directory, and the config names its database relatively. The directory's
    // name holds what ends or escapes a path in a SQLite URI: each script must still open this
    // database, read-only, and no other file.
    let run = host.dir.join("run #2?%41");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::rename(host.hub_db(), run.join("jupyterhub.sqlite")).unwrap();
    let config = host.hub_dir.join("jupyterhub_config.py");
    let mut source = std::fs::read_to_string(&config).unwrap();
    source.push_str("\nc.JupyterHub.db_url = \"sqlite:///jupyterhub.sqlite\"\n");
    std::fs::write(&config, source).unwrap();
    let (env, hub) = (host.hub_env.display(), host.hub_dir.display());
    let start = format!(
        "cd '{run}' || exit 1; PATH={env}/bin:$PATH setsid nohup {env}/bin/jupyterhub -f {hub}/jupyterhub_config.py >>{hub}/hub.log 2>&1 </dev/null & echo $! >{hub}/hub.pid",
        run = run.display()
    );
    let started = lab.ssh(0).arg(&start).status().unwrap();
    assert!(started.success());
    assert_eq!(lab.wait_hub(0).unwrap(), "4.1.6");

    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(
        &lab,
        &backups,
        &[
            "-e",
            &format!("workdir={}", run.display()),
            "-e",
            &format!("start={start}"),
        ],
    );
    // The real database was upgraded; no empty one was stamped beside the config.
    let db = run.join("jupyterhub.sqlite");
    assert_upgraded(&lab, &out, &db);
    assert_eq!(sqlite(&db, "SELECT COUNT(*) FROM users"), "4");
    assert!(
        !host.hub_db().exists(),
        "a second database appeared beside the config"
    );
    let mut beside: Vec<_> = std::fs::read_dir(&host.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("run"))
        .collect();
    beside.sort();
    assert_eq!(beside, ["run #2?%41"], "a file opened by a cut URI");
    let archive = &archives(&backups.join(&host.name))[0];
    let snapshot = snapshot_of(archive, &lab.dir().join("restore"));
    assert_eq!(sqlite(&snapshot, "SELECT COUNT(*) FROM users"), "4");

    lab.stop_hub(0).unwrap();
    // The proxy's pid file is in the hub's working directory, where the lab does not look.
    if let Ok(pid) = std::fs::read_to_string(run.join("jupyterhub-proxy.pid")) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
}

/// conda's channels cannot be reached here, so the conda path runs through a recorded stand-in
/// (`tests/conda_standin.py`) that carries out conda's commands with pip and the lab's
/// wheelhouse; the test checks the calls hubfleet made and the upgraded hub.
#[test]
fn the_conda_path_through_a_recorded_stand_in() {
    let lab = lab(1, Hubs::Running);
    let host = &lab.hosts()[0];
    let standin_dir = lab.dir().join("conda");
    std::fs::create_dir_all(&standin_dir).unwrap();
    let conda = standin_dir.join("conda");
    let script = include_str!("conda_standin.py");
    std::fs::write(
        &conda,
        format!("#!{}/bin/python\n{script}", host.hub_env.display()),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&conda)
        .status()
        .unwrap();
    let backups = lab.dir().join("backups");
    let out = upgrade_to(
        &lab,
        &backups,
        "latest",
        &[
            "-e",
            "installer=conda",
            "-e",
            &format!("conda={}", conda.display()),
        ],
    );
    assert_upgraded(&lab, &out, &host.hub_db());
    let calls: Vec<Vec<String>> = std::fs::read_to_string(standin_dir.join("CALLS"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let prefix = host.hub_env.to_str().unwrap();
    let spec = format!("jupyterhub={NEWEST}");
    let expected: Vec<Vec<&str>> = vec![
        vec!["search", "--json", "jupyterhub"],
        vec![
            "install",
            "--dry-run",
            "--json",
            "--yes",
            "--prefix",
            prefix,
            &spec,
        ],
        vec![
            "install",
            "--download-only",
            "--json",
            "--yes",
            "--prefix",
            prefix,
            &spec,
        ],
        vec!["list", "--export", "--prefix", prefix],
        vec!["install", "--offline", "--yes", "--prefix", prefix, &spec],
    ];
    assert_eq!(calls, expected);
    // The archive's package list is conda's export.
    let archive = &archives(&backups.join(&host.name))[0];
    let listing = Command::new("tar")
        .arg("-xzOf")
        .arg(archive)
        .arg("env/packages.txt")
        .output()
        .unwrap();
    assert!(
        text(&listing.stdout).contains("jupyterhub=4.1.6=pypi_0"),
        "{}",
        text(&listing.stdout)
    );
}
