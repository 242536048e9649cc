//! `hubfleet backup` on lab hubs of a real JupyterHub: a database being written is snapshotted
//! with every committed row, and a snapshot that fails `integrity_check` leaves no archive.

#[path = "lab/mod.rs"]
mod lab;

use std::path::PathBuf;
use std::process::Command;

use lab::runs::{archives, backup, lab_of as lab, snapshot_of, sqlite};
use lab::{Hubs, Lab, text};

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
