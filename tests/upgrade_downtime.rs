//! `hubfleet upgrade`'s downtime on lab hubs of a real, older JupyterHub: the cutover finishes
//! without its controller, a stop command that hangs, a database still held after the stop.

#[path = "lab/mod.rs"]
mod lab;

use std::path::Path;

use lab::runs::{
    NEWEST, NEWEST_HEAD, archives, failed_at, jupyterhub_in, lab_of as lab, sqlite, upgrade_args,
    upgrade_to_newest,
};
use lab::{Hubs, text};

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
    // The sleeping command itself (`time.sleep(600) MARKER`), not a process whose arguments
    // merely quote the stop command (the cutover, which may still be tidying up).
    let pgrep = std::process::Command::new("pgrep")
        .args(["-f", &format!(r"time\.sleep\(600\) {}", marker.display())])
        .output()
        .unwrap();
    let still = text(&pgrep.stdout);
    assert!(
        still.is_empty(),
        "still running: {}",
        text(
            &std::process::Command::new("ps")
                .args([
                    "-o",
                    "pid,args",
                    "-p",
                    &still.split_whitespace().collect::<Vec<_>>().join(",")
                ])
                .output()
                .unwrap()
                .stdout
        )
    );
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
