//! `hubfleet upgrade` on the envs hubs have: state inside the env (upgraded in place), a
//! single-user env, an env without pip (uv), conda (a recorded stand-in), and a relative SQLite
//! URL resolved against the hub's working directory.

#[path = "lab/mod.rs"]
mod lab;

use std::path::Path;
use std::process::Command;

use lab::runs::{
    NEWEST, NEWEST_HEAD, archives, assert_kept, assert_upgraded, copy_env, failed_at,
    jupyterhub_in, lab_of as lab, snapshot_of, sqlite, tree_hashes, upgrade_to, upgrade_to_newest,
};
use lab::{Hubs, text};

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
