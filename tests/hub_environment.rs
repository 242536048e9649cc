//! The database the hub really uses: a config that takes its `db_url` from the environment its
//! service gives it (systemd's `Environment=`/`EnvironmentFile=`), with a leftover
//! `jupyterhub.sqlite` in its working directory, as after a move. hubfleet must resolve the
//! config with the hub's own environment (the running process's, else the inventory's), refuse
//! when it cannot, and never back up, migrate or wait on the leftover.

#[path = "lab/mod.rs"]
mod lab;

use std::path::{Path, PathBuf};
use std::process::Command;

use lab::runs::{archives, assert_upgraded, failed_at, snapshot_of, sqlite, upgrade_to_newest};
use lab::{HubFiles, Hubs, Lab, shell_quote, text};
use sha2::{Digest, Sha256};

/// A lab hub whose config reads `HUB_DB`, set only in the environment file its start command
/// reads.
struct Trap {
    /// The database the hub really uses: `state/real.sqlite`, named by `HUB_DB`.
    real: PathBuf,
    /// `jupyterhub.sqlite` in the working directory: what the config resolves without `HUB_DB`.
    /// One user fewer than the real database, so a snapshot tells them apart.
    leftover: PathBuf,
    /// The environment file, as systemd's `EnvironmentFile=` would read it.
    env_file: PathBuf,
    /// The hub's start command: the environment file, then the lab's `start.sh`.
    start: String,
}

impl Trap {
    fn set(lab: &Lab) -> Trap {
        let host = &lab.hosts()[0];
        let state = host.hub_dir.join("state");
        std::fs::create_dir_all(&state).unwrap();
        let real = state.join("real.sqlite");
        std::fs::rename(host.hub_db(), &real).unwrap();
        let leftover = host.hub_db();
        std::fs::copy(&real, &leftover).unwrap();
        sqlite(&leftover, "DELETE FROM users WHERE name = 'bob'");
        let config = host.hub_dir.join("jupyterhub_config.py");
        let mut source = std::fs::read_to_string(&config).unwrap();
        source.push_str(
            "\nimport os\nc.JupyterHub.db_url = os.environ.get(\"HUB_DB\", \"sqlite:///jupyterhub.sqlite\")\n",
        );
        std::fs::write(&config, source).unwrap();
        let env_file = host.hub_dir.join("hub.env");
        std::fs::write(
            &env_file,
            format!(
                "# the hub service's environment\nHUB_DB=\"sqlite:///{}\"\n",
                real.display()
            ),
        )
        .unwrap();
        let start = format!(
            "set -a && . {} && set +a && bash {}",
            shell_quote(&env_file),
            shell_quote(&host.hub_dir.join("start.sh"))
        );
        Trap {
            real,
            leftover,
            env_file,
            start,
        }
    }

    /// Starts the hub as its service would, and waits until it serves.
    fn start_hub(&self, lab: &Lab) {
        assert!(lab.ssh(0).arg(&self.start).status().unwrap().success());
        assert_eq!(lab.wait_hub(0).unwrap(), "4.1.6");
    }

    fn start_var(&self) -> String {
        format!("start={}", self.start)
    }
}

fn lab() -> Lab {
    Lab::builder()
        .hosts(1)
        .hubs(Hubs::Installed)
        .jupyterhub("4.1.6")
        .start()
        .unwrap()
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// `hubfleet facts --json` on the lab's host, with `extra` arguments: its report.
fn facts(lab: &Lab, extra: &[&str]) -> serde_json::Value {
    let inventory = lab.inventory().to_str().unwrap();
    let mut args = vec!["facts", "-i", inventory, "--json"];
    args.extend(extra);
    let out = lab.hubfleet(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["hosts"][0]["report"].clone()
}

/// Nothing of the host was changed: both databases as they were, no archive, no staged env.
fn assert_untouched(lab: &Lab, trap: &Trap, sums: &(String, String), backups: &Path) {
    assert_eq!(sha256(&trap.real), sums.0, "the real database changed");
    assert_eq!(sha256(&trap.leftover), sums.1, "the leftover changed");
    assert!(
        archives(&backups.join("h1")).is_empty(),
        "an archive was kept"
    );
    let next = PathBuf::from(format!(
        "{}.hubfleet-next",
        lab.hosts()[0].hub_env.display()
    ));
    assert!(!next.exists(), "a staged env was left");
}

#[test]
fn a_hub_whose_database_url_comes_from_its_environment_is_upgraded_on_the_database_it_uses() {
    let lab = lab();
    let trap = Trap::set(&lab);
    trap.start_hub(&lab);
    let tokens = sqlite(&trap.real, "SELECT COUNT(*) FROM api_tokens");
    let leftover = sha256(&trap.leftover);

    // Facts resolve the config with the running hub's own environment and working directory.
    let report = facts(&lab, &[]);
    assert_eq!(report["db_path"], trap.real.to_str().unwrap(), "{report}");
    assert_eq!(report["users"], 4, "{report}");
    let source = report["hub_environment"]["source"].as_str().unwrap();
    assert!(source.starts_with("the running hub (pid "), "{report}");
    assert_eq!(report["blockers"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["hub_environment"]["config_reads"],
        serde_json::json!(["HUB_DB"])
    );

    let backups = lab.dir().join("backups");
    let start = trap.start_var();
    let out = upgrade_to_newest(&lab, &backups, &["-e", &start]);
    let real = &trap.real;
    assert_upgraded(&lab, &out, real);
    assert_eq!(sqlite(real, "SELECT COUNT(*) FROM users"), "4");
    assert_eq!(sqlite(real, "SELECT COUNT(*) FROM api_tokens"), tokens);
    assert_eq!(sha256(&trap.leftover), leftover, "the leftover was touched");
    // The archive holds the real database, as it was before the upgrade.
    let archive = &archives(&backups.join("h1"))[0];
    let snapshot = snapshot_of(archive, &lab.dir().join("restore"));
    assert_eq!(sqlite(&snapshot, "SELECT COUNT(*) FROM users"), "4");
    assert_eq!(
        sqlite(&snapshot, "SELECT version_num FROM alembic_version"),
        "0eee8c825d24"
    );
}

#[test]
fn a_stopped_hub_takes_its_environment_from_the_inventory_or_is_refused_naming_the_variable() {
    let lab = lab();
    let trap = Trap::set(&lab);
    let sums = (sha256(&trap.real), sha256(&trap.leftover));
    let backups = lab.dir().join("backups");

    // Nobody provides HUB_DB: facts warn, the upgrade is refused before anything changes.
    let report = facts(&lab, &[]);
    assert_eq!(report["hub_environment"]["source"], "login", "{report}");
    assert!(report["blockers"][0].as_str().unwrap().contains("`HUB_DB`"));
    let start = trap.start_var();
    let out = upgrade_to_newest(&lab, &backups, &["-e", &start]);
    let (line, _) = failed_at(&out, "`HUB_DB`");
    assert!(
        line.contains("h1") && line.contains("environment_file"),
        "{line}"
    );
    assert_untouched(&lab, &trap, &sums, &backups);

    // With the file the service reads, the stopped hub resolves its real database...
    let env_file = format!("environment_file={}", trap.env_file.display());
    let report = facts(&lab, &["-e", &env_file]);
    assert_eq!(report["db_path"], trap.real.to_str().unwrap(), "{report}");
    assert_eq!(report["blockers"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["hub_environment"]["variables"],
        serde_json::json!(["HUB_DB"])
    );

    // ...and upgrade-db migrates that one, with the same environment.
    let out = upgrade_to_newest(&lab, &backups, &["-e", &start, "-e", &env_file]);
    assert_upgraded(&lab, &out, &trap.real);
    assert_eq!(sha256(&trap.leftover), sums.1, "the leftover was touched");
}

#[test]
fn a_running_hub_with_another_database_open_is_refused_before_any_backup() {
    let lab = lab();
    let trap = Trap::set(&lab);
    trap.start_hub(&lab);
    // The config was edited after the hub started: it now names the leftover.
    let config = lab.hosts()[0].hub_dir.join("jupyterhub_config.py");
    let source = std::fs::read_to_string(&config).unwrap().replace(
        "os.environ.get(\"HUB_DB\", \"sqlite:///jupyterhub.sqlite\")",
        "\"sqlite:///jupyterhub.sqlite\"",
    );
    std::fs::write(&config, source).unwrap();
    let leftover = sha256(&trap.leftover);

    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(&lab, &backups, &[]);
    let (line, _) = failed_at(&out, "open");
    assert!(
        line.contains(trap.real.to_str().unwrap())
            && line.contains(trap.leftover.to_str().unwrap()),
        "{line}"
    );
    assert!(
        archives(&backups.join("h1")).is_empty(),
        "an archive was kept"
    );
    assert_eq!(sha256(&trap.leftover), leftover);
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6", "the hub was stopped");
}

/// A login user other than the hub's (root's), who cannot read `/proc/PID/environ` of the hub.
const OUTSIDER: &str = "hubfleet-lab";

/// Makes h1 a hub that [`OUTSIDER`] can run Python in: its env rebuilt on Debian's own
/// interpreter (the lab's lives under root's private home), its directory readable.
fn ensure_outsider(lab: &Lab) {
    let host = &lab.hosts()[0];
    std::fs::remove_dir_all(&host.hub_env).unwrap();
    let cache = lab::Cache::locate(Some(lab.release())).unwrap();
    HubFiles::new(&host.hub_dir, &host.hub_env, host.address)
        .install_on(&cache, lab.release(), Path::new("/usr/bin/python3"))
        .unwrap();
    let known = Command::new("id").arg(OUTSIDER).output().unwrap();
    if !known.status.success() {
        // `*`: no password, but not a locked account (sshd without PAM refuses those).
        let added = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--home-dir",
                "/",
                "--shell",
                "/bin/sh",
            ])
            .args(["-p", "*"])
            .arg(OUTSIDER)
            .status()
            .expect("useradd: this test runs as root, as CI does");
        assert!(added.success());
    }
    // The lab's directory is private to root; the outsider may read the hub's files.
    let open = Command::new("chmod")
        .arg("755")
        .arg(lab.dir())
        .status()
        .unwrap();
    assert!(open.success());
}

#[test]
fn a_running_hub_whose_environment_is_out_of_reach_is_refused_naming_what_to_add() {
    let lab = lab();
    let trap = Trap::set(&lab);
    ensure_outsider(&lab);
    trap.start_hub(&lab);
    let sums = (sha256(&trap.real), sha256(&trap.leftover));
    let user = format!("user={OUTSIDER}");

    let report = facts(&lab, &["-e", &user]);
    let blockers = report["blockers"].to_string();
    assert!(
        blockers.contains("out of reach") && blockers.contains("`become = true`"),
        "{report}"
    );
    let backups = lab.dir().join("backups");
    let out = upgrade_to_newest(&lab, &backups, &["-e", &user]);
    let (line, _) = failed_at(&out, "out of reach");
    assert!(
        line.contains("h1") && line.contains("`environment_file`"),
        "{line}"
    );
    assert!(
        archives(&backups.join("h1")).is_empty(),
        "an archive was kept"
    );
    assert_eq!(sha256(&trap.leftover), sums.1);
    assert_eq!(lab.hub_version(0).unwrap(), "4.1.6", "the hub was stopped");
}
