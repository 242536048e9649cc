//! Hubs on PostgreSQL and MariaDB (issue 13): a lab hub on a private server of its own, its
//! password only in the environment file its service reads. hubfleet reads the facts of the
//! database the hub really uses, and refuses what it cannot yet back up safely before anything
//! changes, leaking the password nowhere.

#[path = "lab/mod.rs"]
mod lab;

use lab::runs::{archives, failed_at, upgrade_to_newest};
use lab::{Backend, DatabaseServer, HubOnServer, Hubs, Lab, text};

/// A password nothing else in a run could contain by chance.
fn password() -> String {
    format!("pw-{:016x}-secret", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

/// A one-host lab whose hub runs on a private `backend` server; the hub is stopped.
fn lab_on(backend: Backend) -> (Lab, DatabaseServer, HubOnServer, String) {
    let lab = Lab::builder()
        .hosts(1)
        .hubs(Hubs::Installed)
        .jupyterhub("4.1.6")
        .start()
        .unwrap();
    let server = DatabaseServer::start(backend, lab.dir()).unwrap();
    let password = password();
    let hub = lab.move_hub_to(0, &server, &password).unwrap();
    (lab, server, hub, password)
}

/// `hubfleet facts --json` with the hub's environment file: the host's report.
fn facts(lab: &Lab, hub: &HubOnServer) -> (serde_json::Value, std::process::Output) {
    let [env_file, _] = hub.inventory_vars();
    let inventory = lab.inventory().to_str().unwrap();
    let out = lab.hubfleet(&["facts", "-i", inventory, "--json", "-e", &env_file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (summary["hosts"][0]["report"].clone(), out)
}

/// Every file under `dir` (logs, archives, reports) and both streams of every run: none holds
/// `password`.
fn assert_nowhere(password: &str, dir: &std::path::Path, outputs: &[&std::process::Output]) {
    for out in outputs {
        assert!(!text(&out.stdout).contains(password), "password in stdout");
        assert!(!text(&out.stderr).contains(password), "password in stderr");
    }
    let found = std::process::Command::new("grep")
        .args(["-r", "-l", "-a", "-F", password])
        .arg(dir)
        .output()
        .unwrap();
    let files = text(&found.stdout);
    assert!(files.trim().is_empty(), "password in {files}");
}

/// A hub moved onto `backend`, and its facts read with its environment file: the real
/// database's revision, users and masked URL (`url_prefix`) are checked.
struct Read {
    lab: Lab,
    server: DatabaseServer,
    hub: HubOnServer,
    password: String,
    report: serde_json::Value,
    facts_out: std::process::Output,
}

fn read_hub_on(backend: Backend, url_prefix: &str) -> Read {
    let (lab, server, hub, password) = lab_on(backend);
    let users = server.sql("jupyterhub", "SELECT COUNT(*) FROM users");
    assert_eq!(users.unwrap(), "4");
    let (report, facts_out) = facts(&lab, &hub);
    assert_eq!(report["db_revision"], "0eee8c825d24", "{report}");
    assert_eq!(report["users"], 4, "{report}");
    let url = report["db_url"].as_str().unwrap();
    assert!(url.starts_with(url_prefix), "{url}");
    Read {
        lab,
        server,
        hub,
        password,
        report,
        facts_out,
    }
}

impl Read {
    /// `upgrade` refuses the hub before anything changes, naming `backend`; no archive is kept
    /// and the password is in no output.
    fn assert_upgrade_refused(&self, backend: &str) {
        let backups = self.lab.dir().join("backups");
        let vars = self.hub.inventory_vars();
        let out = upgrade_to_newest(&self.lab, &backups, &["-e", &vars[0], "-e", &vars[1]]);
        let (line, _) = failed_at(&out, "not supported yet");
        assert!(line.contains("h1") && line.contains(backend), "{line}");
        assert!(archives(&backups.join("h1")).is_empty());
        assert_nowhere(&self.password, &backups, &[&self.facts_out, &out]);
    }
}

#[test]
fn a_postgresql_hub_is_read_from_its_environment_file_and_its_password_stays_there() {
    let read = read_hub_on(
        Backend::Postgres,
        "postgresql+psycopg2://hub:***@127.0.0.1:",
    );
    let report = &read.report;
    assert_eq!(report["db_backend"], "postgresql", "{report}");
    let facts_of_server = &report["server"];
    assert_eq!(facts_of_server["driver"], "psycopg2", "{report}");
    let version = read.server.sql("", "SHOW server_version").unwrap();
    assert_eq!(facts_of_server["server_version"], version.as_str());
    assert_eq!(facts_of_server["may_create_databases"], true);
    let tools: Vec<&str> = facts_of_server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["pg_dump", "pg_restore", "psql"], "{report}");
    assert!(report["db_size"].as_u64().unwrap() > 0, "{report}");
    read.assert_upgrade_refused("`postgresql`");
}

#[test]
fn a_mariadb_hub_is_read_from_its_environment_file_and_its_password_stays_there() {
    let read = read_hub_on(Backend::MariaDb, "mysql+pymysql://hub:***@127.0.0.1:");
    let report = &read.report;
    assert_eq!(report["db_backend"], "mysql", "{report}");
    let version = read.server.sql("", "SELECT VERSION()").unwrap();
    assert_eq!(report["server"]["server_version"], version.as_str());
    assert_eq!(report["server"]["driver"], "pymysql", "{report}");
    read.assert_upgrade_refused("`mysql`");
    let (lab, hub) = (&read.lab, &read.hub);
    let backups = lab.dir().join("backups");
    let vars = hub.inventory_vars();

    // Without MariaDB's client tools on the hub's PATH, facts name the package and backup refuses.
    edit_env_file(hub, |text| format!("{text}PATH=/nonexistent\n"));
    let inventory = lab.inventory().to_str().unwrap();
    let table = lab.hubfleet(&["facts", "-i", inventory, "-e", &vars[0]]);
    assert!(
        text(&table.stdout).contains("`mariadb-client`"),
        "{}",
        text(&table.stdout)
    );
    let backup = lab.hubfleet(&[
        "backup",
        "-i",
        inventory,
        "--backup-dir",
        backups.to_str().unwrap(),
        "-e",
        &vars[0],
    ]);
    let (line, _) = failed_at(&backup, "mariadb-dump");
    assert!(line.contains("`mariadb-client`"), "{line}");
    assert!(archives(&backups.join("h1")).is_empty());
}

/// Rewrites the hub's environment file: `edit` gets and returns its text.
fn edit_env_file(hub: &HubOnServer, edit: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(&hub.env_file).unwrap();
    std::fs::write(&hub.env_file, edit(text)).unwrap();
}

#[test]
fn a_host_without_the_dump_tool_or_psycopg_3_is_refused_before_the_stop_naming_the_package() {
    let (lab, server, hub, password) = lab_on(Backend::Postgres);
    let backups = lab.dir().join("backups");
    let vars = hub.inventory_vars();
    let upgrade = || upgrade_to_newest(&lab, &backups, &["-e", &vars[0], "-e", &vars[1]]);

    // The hub's service PATH reaches no PostgreSQL client: the dump could not run.
    edit_env_file(&hub, |text| format!("{text}PATH=/nonexistent\n"));
    // facts warn in their table: the server's version, and what the dump would lack.
    let inventory = lab.inventory().to_str().unwrap();
    let table = lab.hubfleet(&["facts", "-i", inventory, "-e", &vars[0]]);
    let shown = text(&table.stdout);
    assert!(shown.contains("postgresql 1"), "{shown}");
    assert!(shown.contains("`postgresql-client`"), "{shown}");
    let out = upgrade();
    let (line, _) = failed_at(&out, "pg_dump");
    assert!(
        line.contains("h1") && line.contains("`postgresql-client`"),
        "{line}"
    );

    // A bare postgresql:// means psycopg 3 from SQLAlchemy 2.1, and the env has psycopg2 only.
    edit_env_file(&hub, |text| {
        text.replace("PATH=/nonexistent\n", "")
            .replace("postgresql+psycopg2://", "postgresql://")
    });
    let out = upgrade();
    let (line, _) = failed_at(&out, "psycopg");
    assert!(line.contains("`psycopg[binary]`"), "{line}");

    // Refused before the stop: the hub's database and files are as they were, no archive.
    assert!(archives(&backups.join("h1")).is_empty());
    assert_eq!(
        server
            .sql("jupyterhub", "SELECT version_num FROM alembic_version")
            .unwrap(),
        "0eee8c825d24"
    );
    assert_nowhere(&password, &backups, &[&out]);
}

/// `hubfleet backup` of the lab's hub into `backups` with `--report`, sampling `ps -ef` and
/// `ps e` (every process's environment) meanwhile: the run, and whether a sample held `password`.
fn backup_sampling_ps(
    lab: &Lab,
    hub: &HubOnServer,
    backups: &std::path::Path,
    password: &str,
) -> (std::process::Output, usize, Option<String>) {
    let [env_file, _] = hub.inventory_vars();
    let report = backups.join("backup-report.json");
    std::fs::create_dir_all(backups).unwrap();
    let child = lab
        .hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .args(["backup", "-i", lab.inventory().to_str().unwrap()])
        .args(["--backup-dir", backups.to_str().unwrap(), "-e", &env_file])
        .args(["--report", report.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut samples, mut leak) = (0, None);
    let pid = child.id();
    while std::path::Path::new(&format!("/proc/{pid}/stat")).exists() && samples < 2000 {
        for args in [&["-ef"][..], &["axeww", "e"][..]] {
            let ps = std::process::Command::new("ps")
                .args(args)
                .output()
                .unwrap();
            let seen = text(&ps.stdout);
            if leak.is_none() && seen.contains(password) {
                leak = seen
                    .lines()
                    .find(|l| l.contains(password))
                    .map(str::to_owned);
            }
        }
        samples += 1;
        // A zombie child still has /proc/PID: stop sampling once it exited.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, s)| s.trim_start().starts_with('Z'))
        {
            break;
        }
    }
    (child.wait_with_output().unwrap(), samples, leak)
}

/// A hub on `backend` is backed up with a dump that verifies, restores to the same users and
/// tokens, and the password is in no output, report, log, archive or process listing.
fn backed_up_without_leaks(backend: Backend, member: &str) {
    let (lab, server, hub, password) = lab_on(backend);
    let tokens = server
        .sql("jupyterhub", "SELECT COUNT(*) FROM api_tokens")
        .unwrap();
    let backups = lab.dir().join("backups");
    let (out, samples, leak) = backup_sampling_ps(&lab, &hub, &backups, &password);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(samples > 0);
    assert_eq!(leak, None, "the password was in a process listing");
    let archive = &archives(&backups.join("h1"))[0];

    let verified = lab.hubfleet(&["verify", archive.to_str().unwrap()]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stdout)
    );

    let extracted = lab.dir().join("extracted");
    std::fs::create_dir_all(&extracted).unwrap();
    let tar = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(&extracted)
        .status()
        .unwrap();
    assert!(tar.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(extracted.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["alembic_revision"], "0eee8c825d24", "{manifest}");
    let members: Vec<&str> = manifest["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert!(members.contains(&member), "{members:?}");

    server.restore("restored", &extracted.join(member)).unwrap();
    assert_eq!(
        server
            .sql("restored", "SELECT COUNT(*) FROM users")
            .unwrap(),
        "4"
    );
    assert_eq!(
        server
            .sql("restored", "SELECT COUNT(*) FROM api_tokens")
            .unwrap(),
        tokens
    );
    assert_nowhere(&password, &backups, &[&out, &verified]);
    assert_nowhere(&password, &extracted, &[]);
}

#[test]
fn a_postgresql_hub_is_backed_up_with_pg_dump_and_its_password_appears_nowhere() {
    backed_up_without_leaks(Backend::Postgres, "db/jupyterhub.pgdump");
}

#[test]
fn a_mariadb_hub_is_backed_up_with_mariadb_dump_and_its_password_appears_nowhere() {
    backed_up_without_leaks(Backend::MariaDb, "db/jupyterhub.sql");
}
