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
    let workdir = format!("workdir='; touch {} #", pwned.display());
    let out = lab.hubfleet(&[
        "facts",
        "-i",
        &inventory,
        "--json",
        "-e",
        &workdir,
        "-e",
        "config=$(id)`id`",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = summary["hosts"][0]["report"]["problems"].to_string();
    assert!(
        problems.contains(&format!("working directory '; touch {} #", pwned.display())),
        "{problems}"
    );
    assert!(problems.contains("$(id)`id`"), "{problems}");
    assert!(!pwned.exists(), "an inventory value ran as shell code");
}
