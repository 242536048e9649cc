//! `--to latest` is resolved once per run (issue 14): on the first hub, then pinned for every
//! other, so a fleet whose hosts see different newest releases lands on one version, and a host
//! whose index cannot offer that version is refused before anything changes on it.

#[path = "lab/mod.rs"]
mod lab;

use lab::runs::{NEWEST, NEWEST_HEAD, failed_at, sqlite, tree_hashes, upgrade_args};
use lab::{Hubs, Lab, text};

const OLD: &str = "4.1.6";

#[test]
fn latest_is_resolved_on_the_first_hub_and_pinned_for_the_fleet() {
    let lab = Lab::builder()
        .hosts(3)
        .hubs(Hubs::Running)
        .jupyterhub(OLD)
        .start()
        .unwrap();
    // h3's mirror lags: its newest release is the one it runs.
    lab.index_without(2, NEWEST).unwrap();
    let backups = lab.dir().join("backups");
    let h3_env = tree_hashes(&lab.hosts()[2].hub_env);

    // The plan says where `latest` came from: the first host of the selection.
    let plan = lab.dir().join("plan.json");
    let dry = upgrade_args(&lab, &backups, "latest", &["--dry-run", "--limit", "h2"]);
    let mut dry: Vec<&str> = dry.iter().map(String::as_str).collect();
    dry.extend(["--report", plan.to_str().unwrap()]);
    let out = lab.hubfleet(&dry);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let on_h2 = format!("latest resolved on h2: {NEWEST}, pinned for every host of this run");
    assert!(text(&out.stderr).contains(&on_h2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&on_h2), "{}", text(&out.stdout));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(plan["hosts"][0]["report"]["latest_resolved_on"], "h2");
    assert_eq!(plan["hosts"][0]["report"]["plan"]["target"], NEWEST);

    let line = format!("latest resolved on h1: {NEWEST}, pinned for every host of this run");
    let report = lab.dir().join("upgrade.json");
    let args = upgrade_args(&lab, &backups, "latest", &[]);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--report", report.to_str().unwrap()]);
    let out = lab.hubfleet(&args);
    // h3 is refused (exit 2); h1 and h2 land on the release h1 resolved.
    let (_, stderr) = failed_at(&out, "(`latest` as resolved on h1, pinned for the run)");
    assert!(stderr.contains(&line), "{stderr}");
    for i in [0, 1] {
        assert_eq!(lab.hub_version(i).unwrap(), NEWEST, "h{}", i + 1);
        let db = lab.hosts()[i].hub_db();
        assert_eq!(
            sqlite(&db, "SELECT version_num FROM alembic_version"),
            NEWEST_HEAD
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let h3 = &json["hosts"][2];
    assert_eq!(h3["outcome"]["status"], "failed", "{h3}");
    let reason = h3["outcome"]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "jupyterhub {NEWEST} (`latest` as resolved on h1, pinned for the run) cannot be readied on this host, nothing was changed"
        )),
        "{reason}"
    );
    // Nothing changed on h3: its hub serves the old release from the same env, nothing staged.
    assert_eq!(lab.hub_version(2).unwrap(), OLD);
    assert_eq!(tree_hashes(&lab.hosts()[2].hub_env), h3_env);
    let next = lab.hosts()[2].hub_env.with_extension("hubfleet-next");
    assert!(!next.exists(), "{} was left", next.display());
    for host in json["hosts"].as_array().unwrap() {
        assert_eq!(host["report"]["latest_resolved_on"], "h1", "{host}");
    }
}
