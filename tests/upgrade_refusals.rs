//! `hubfleet upgrade` stopped before the stop, on lab hubs of a real, older JupyterHub: a failing
//! step, a broken pin, a full disk on either end, a config the new release cannot load. Each
//! leaves the hub serving its env as it was, the staged copy removed and the backup kept.

#[path = "lab/mod.rs"]
mod lab;

use std::path::{Path, PathBuf};
use std::process::Command;

use lab::runs::{
    NEWEST, archives, assert_kept, copy_env, failed_at, keep_an_earlier_upgrades_env,
    lab_of as lab, leftovers, sqlite, tree_hashes, upgrade_to, upgrade_to_newest,
};
use lab::{Hubs, text};

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
