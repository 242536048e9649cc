//! `hubfleet upgrade` on lab hubs running a real, older JupyterHub: the fleet upgrade across
//! migrations, and dry runs that change nothing. The envs it meets are in `upgrade_envs.rs`,
//! failures before the stop in `upgrade_refusals.rs`, the downtime's in `upgrade_downtime.rs`,
//! backups in `backup.rs`.

#[path = "lab/mod.rs"]
mod lab;

use std::path::Path;

use lab::runs::{
    NEWEST, NEWEST_HEAD, archives, assert_kept, jupyterhub_in, keep_an_earlier_upgrades_env,
    lab_of as lab, leftovers, snapshot_of, sqlite, tree_hashes, upgrade_to, wait_for,
};
use lab::{Hubs, text, unwrapped};

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
        // cutover's record (its follower removes it once it has the result). The host lock's
        // file stays beside the env (a flock file is never removed: a run waiting on it would
        // lock a file no other run sees), emptied: nobody holds it.
        let lock = ".env.hubfleet-lock";
        assert_eq!(
            leftovers(&host.hub_dir, ".hubfleet-"),
            vec![lock.to_owned()]
        );
        // The cutover holds it until it has tidied up after its result (the env it replaced).
        wait_for(
            &format!("{}'s lock to be released", host.name),
            std::time::Duration::from_secs(60),
            || {
                std::fs::read_to_string(host.hub_dir.join(lock))
                    .unwrap()
                    .is_empty()
            },
        );
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
                "lock",
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
            let stdout = unwrapped(&out.stdout);
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
