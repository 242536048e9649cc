//! What the integration tests of upgrades and backups share: running `hubfleet upgrade` on a lab,
//! reading its databases and archives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::{Hubs, Lab, LabHost, shell_quote, text};

/// The newest release in the lab's wheelhouse (`scripts/setup`) and its alembic head.
pub const NEWEST: &str = "6.1.1";
pub const NEWEST_HEAD: &str = "f460b0348206";

/// A lab of `hosts` hubs serving JupyterHub 4.1.6, the release the upgrade tests start from.
pub fn serving_lab(hosts: usize) -> Lab {
    Lab::builder()
        .hosts(hosts)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()
        .unwrap()
}

/// One value of `sql` on the SQLite database `db`, with the sqlite3 CLI.
pub fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("run sqlite3");
    assert!(
        out.status.success(),
        "sqlite3 {}: {}",
        db.display(),
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_owned()
}

/// The archives (`*.tar.gz`) in `dir`.
pub fn archives(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "gz"));
    found
}

/// Extracts `db/jupyterhub.sqlite` of an archive with the system's tar.
pub fn snapshot_of(archive: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .arg("db/jupyterhub.sqlite")
        .output()
        .unwrap();
    assert!(out.status.success(), "tar: {}", text(&out.stderr));
    into.join("db/jupyterhub.sqlite")
}

/// `hubfleet upgrade --to NEWEST --allow-active-servers` on every host of `lab`, backing up
/// into `backups`, with `extra` arguments.
pub fn upgrade_to_newest(lab: &Lab, backups: &Path, extra: &[&str]) -> std::process::Output {
    upgrade_to(lab, backups, NEWEST, extra)
}

/// `hubfleet upgrade --to TO --allow-active-servers` on every host of `lab`, backing up into
/// `backups`, with `extra` arguments.
pub fn upgrade_to(lab: &Lab, backups: &Path, to: &str, extra: &[&str]) -> std::process::Output {
    let args = upgrade_args(lab, backups, to, extra);
    lab.hubfleet(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The arguments of [`upgrade_to`], for a run a test spawns itself.
pub fn upgrade_args(lab: &Lab, backups: &Path, to: &str, extra: &[&str]) -> Vec<String> {
    let inventory = lab.inventory().to_str().unwrap();
    let args = [
        "upgrade",
        "-i",
        inventory,
        "--to",
        to,
        "--allow-active-servers",
        "--backup-dir",
        backups.to_str().unwrap(),
    ];
    args.iter().chain(extra).map(|a| a.to_string()).collect()
}

/// The run failed (exit 2), and one of its lines holds `needle`: that line and all of stderr.
pub fn failed_at(out: &std::process::Output, needle: &str) -> (String, String) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    let line = stderr
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no `{needle}` in: {stderr}"))
        .to_owned();
    (line, stderr)
}

/// The run `out` exited 0, h1's hub serves [`NEWEST`], and `db` is at its head.
pub fn assert_upgraded(lab: &Lab, out: &std::process::Output, db: &Path) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(lab.hub_version(0).unwrap(), NEWEST);
    assert_eq!(
        sqlite(db, "SELECT version_num FROM alembic_version"),
        NEWEST_HEAD
    );
}

/// Every file of an env as it was before its upgrade (`before`, from `tree_hashes`) is in
/// `previous`, byte for byte: the copy shares most of its files with the env by hard links, and
/// installing into the copy must never have written into one of them.
pub fn assert_kept(before: &BTreeMap<PathBuf, String>, previous: &Path) {
    let after = tree_hashes(previous);
    let changed: Vec<_> = before
        .iter()
        .filter(|(path, hash)| after.get(*path) != Some(*hash))
        .map(|(path, _)| path)
        .collect();
    assert!(
        changed.is_empty(),
        "{} files of the env differ in {}: {changed:?}",
        changed.len(),
        previous.display()
    );
}

/// sha256 of every file under `dir` but the hub's own logs and the stand-in's pid/log files,
/// which a running hub writes whatever hubfleet does.
pub fn tree_hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut hashes = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_none_or(|e| e != "log") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                let relative = path.strip_prefix(dir).unwrap().to_path_buf();
                hashes.insert(relative, hex::encode(Sha256::digest(&bytes)));
            }
        }
    }
    hashes
}

/// Makes `host`'s `start.sh` run `then` first when its env holds JupyterHub 5 or later (what an
/// authenticator that breaks on the new release does: the rehearsal, upgrade-db on a copy, passes;
/// the failure comes after the stop). On the old release it first copies the database to
/// [`at_old_start`]: the database exactly as the rollback put it back, before the hub writes to it
/// again.
pub fn on_the_new_release_start(host: &LabHost, then: &str) {
    let script = host.hub_dir.join("start.sh");
    let body = std::fs::read_to_string(&script).unwrap();
    let python = shell_quote(&host.hub_env.join("bin/python"));
    let guard = format!(
        "set -euo pipefail\nif ! {python} -c 'import jupyterhub, sys; sys.exit(jupyterhub.version_info[0] >= 5)'; then\n    {then}\nelse\n    cp {} {}\nfi\n",
        shell_quote(&host.hub_db()),
        shell_quote(&at_old_start(host)),
    );
    std::fs::write(&script, body.replacen("set -euo pipefail\n", &guard, 1)).unwrap();
}

/// Where `start.sh` copies the database when it starts the old release.
pub fn at_old_start(host: &LabHost) -> PathBuf {
    host.hub_dir.join("db-at-old-start.sqlite")
}

/// A lab of `hosts` hubs of JupyterHub 4.1.6, the release the upgrade tests upgrade from.
pub fn lab_of(hosts: usize, hubs: Hubs) -> Lab {
    Lab::builder()
        .hosts(hosts)
        .hubs(hubs)
        .jupyterhub("4.1.6")
        .start()
        .unwrap()
}

/// `hubfleet backup` of every host of `lab` into `backups`.
pub fn backup(lab: &Lab, backups: &Path) -> std::process::Output {
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
pub fn copy_env(from: &Path, to: &Path) {
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

/// Puts a stand-in for the env an earlier upgrade replaced at `ENV.hubfleet-previous`; the file
/// that marks it.
pub fn keep_an_earlier_upgrades_env(env: &Path) -> PathBuf {
    let previous = PathBuf::from(format!("{}.hubfleet-previous", env.display()));
    std::fs::create_dir(&previous).unwrap();
    let marker = previous.join("kept-by-an-earlier-upgrade");
    std::fs::write(&marker, "").unwrap();
    marker
}

/// Names of the hidden entries of `dir` that contain `needle`.
pub fn leftovers(dir: &Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') && name.contains(needle))
        .collect()
}

/// Waits until `done`, looking every 100 ms; fails the test after `timeout`, naming `what`.
pub fn wait_for(what: &str, timeout: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The jupyterhub release the Python env at `env` imports.
pub fn jupyterhub_in(env: &Path) -> String {
    let out = std::process::Command::new(env.join("bin/python"))
        .args(["-c", "import jupyterhub; print(jupyterhub.__version__)"])
        .output()
        .unwrap();
    text(&out.stdout).trim().to_owned()
}
