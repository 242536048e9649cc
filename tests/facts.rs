//! `hubfleet facts` on lab hosts with real JupyterHub installs.

#[path = "lab/mod.rs"]
mod lab;

use lab::{Hubs, Lab};

#[test]
fn facts_report_versions_revision_and_serving_state_as_jupyterhub_resolves_them() {
    let lab = Lab::builder()
        .hosts(2)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()
        .unwrap();
    lab.stop_hub(1).unwrap();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let out = lab.hubfleet(&["facts", "-i", &inventory, "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let facts = |i: usize| summary["hosts"][i]["report"].clone();
    for i in 0..2 {
        let f = facts(i);
        assert_eq!(f["jupyterhub_version"], "4.1.6", "{f}");
        assert_eq!(f["db_backend"], "sqlite");
        assert_eq!(f["db_path"], lab.hosts()[i].hub_db().to_str().unwrap());
        assert_eq!(f["db_revision"], "0eee8c825d24");
        assert_eq!(f["users"], 4);
        assert_eq!(f["problems"], serde_json::json!([]));
    }
    assert_eq!(facts(0)["running_version"], "4.1.6");
    assert_eq!(facts(1)["running_version"], serde_json::Value::Null);

    // The table, as the operator reads it.
    let out = lab.hubfleet(&["facts", "-i", &inventory]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("0eee8c825d") && table.contains("(4.x)"),
        "{table}"
    );
    assert!(
        table.contains("2 hosts: 2 ok, 0 failed, 0 unreachable"),
        "{table}"
    );
}

#[test]
fn hostile_inventory_values_reach_the_host_as_literal_text() {
    let lab = Lab::builder()
        .hosts(1)
        .hubs(Hubs::Installed)
        .start()
        .unwrap();
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let pwned = lab.dir().join("pwned");
    // Absolute, as the inventory requires, and shell code all the same.
    let workdir = format!("workdir=/nonexistent/'; touch {} #", pwned.display());
    let out = lab.hubfleet(&[
        "facts",
        "-i",
        &inventory,
        "--json",
        "-e",
        &workdir,
        "-e",
        "config=/$(id)`id`",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = summary["hosts"][0]["report"]["problems"].to_string();
    assert!(
        problems.contains(&format!(
            "working directory /nonexistent/'; touch {} #",
            pwned.display()
        )),
        "{problems}"
    );
    assert!(problems.contains("/$(id)`id`"), "{problems}");
    assert!(!pwned.exists(), "an inventory value ran as shell code");
}

#[test]
fn database_passwords_never_reach_any_output() {
    let lab = Lab::builder()
        .hosts(2)
        .hubs(Hubs::Installed)
        .start()
        .unwrap();
    let secrets = ["s3cret-userinfo", "s3cret-query", "s3cret-libpq"];
    // h1's hub is on PostgreSQL, its password in the userinfo and, for TLS, in the query, which
    // SQLAlchemy's own masking leaves. h2's config fails with a message that quotes its URL, as
    // a driver's or a secrets manager's error may.
    let configs = [
        format!(
            "\nc.JupyterHub.db_url = 'postgresql://hub:{}@db.internal/jupyterhub?sslmode=verify-full&sslpassword={}'\n",
            secrets[0], secrets[1]
        ),
        format!(
            "\nraise RuntimeError('cannot reach postgresql://hub:{}@db.internal/jupyterhub (host=db.internal password={})')\n",
            secrets[0], secrets[2]
        ),
    ];
    for (host, extra) in lab.hosts().iter().zip(&configs) {
        let config = host.hub_dir.join("jupyterhub_config.py");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(extra);
        std::fs::write(&config, text).unwrap();
    }
    let inventory = lab.inventory().to_str().unwrap().to_owned();
    let backups = lab.dir().join("backups");
    let backups = backups.to_str().unwrap();
    let reports = lab.dir().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let report = |name: &str| reports.join(name).to_str().unwrap().to_owned();

    let runs = [
        lab.hubfleet(&["facts", "-i", &inventory, "--json"]),
        lab.hubfleet(&["facts", "-i", &inventory, "--report", &report("facts.json")]),
        lab.hubfleet(&[
            "backup",
            "-i",
            &inventory,
            "--backup-dir",
            backups,
            "--report",
            &report("backup.json"),
        ]),
        lab.hubfleet(&[
            "upgrade",
            "-i",
            &inventory,
            "--to",
            "latest",
            "--backup-dir",
            backups,
            "--report",
            &report("upgrade.json"),
        ]),
    ];
    let mut seen = String::new();
    for out in &runs {
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    // The reports, and every per-host log beside the backups.
    let mut files = vec![reports.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            seen.push_str(&std::fs::read_to_string(&path).unwrap());
        }
        if path == reports {
            files.push(lab.dir().join("backups"));
        }
    }
    for secret in secrets {
        assert!(!seen.contains(secret), "{secret} was shown:\n{seen}");
    }
    // What was masked is still there to read.
    assert!(
        seen.contains(
            "postgresql://hub:***@db.internal/jupyterhub?sslmode=verify-full&sslpassword=***"
        ),
        "{seen}"
    );
    assert!(seen.contains("password=***)"), "{seen}");
    assert!(
        seen.contains("database backend `postgresql` is not supported yet"),
        "{seen}"
    );
}
