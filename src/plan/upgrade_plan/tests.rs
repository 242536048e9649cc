//! The plan built for typical hubs: its steps, their order, their ways back.
use std::path::PathBuf;

use super::*;
use crate::facts::HubEnvironment;
use crate::inventory::{Inventory, RawVars, ResolveContext, SshConfig};

/// `h1` of an inventory with `extra` lines.
pub(in crate::plan) fn host(extra: &str) -> Host {
    let context = ResolveContext {
        home: PathBuf::from("/home/op"),
        ssh_config: SshConfig::default(),
        local_user: "op".to_owned(),
        extra_vars: RawVars::default(),
    };
    let source = format!(
        "[hosts.h1]\nhub_env = \"/opt/hub\"\nconfig = \"/srv/hub/jupyterhub_config.py\"\n{extra}"
    );
    let inventory = Inventory::parse(Path::new("inv.toml"), &source, &context).unwrap();
    inventory.hosts()[0].clone()
}

fn facts() -> HostFacts {
    HostFacts {
        jupyterhub_version: Some("4.1.6".into()),
        running_version: Some("4.1.6".into()),
        db_path: Some("/srv/hub/jupyterhub.sqlite".into()),
        db_revision: Some("0eee8c825d24".into()),
        active_servers: Some(1),
        singleuser_version: Some("4.1.6".into()),
        cutover_record: Some("/srv/hub/.jupyterhub.sqlite.hubfleet-cutover.jsonl".into()),
        hub_environment: Some(HubEnvironment {
            source: "the running hub (pid 42)".into(),
            workdir: "/srv/hub".into(),
            ..HubEnvironment::default()
        }),
        ..HostFacts::default()
    }
}

fn target(staged: Staged) -> Target {
    Target {
        version: "6.1.1".into(),
        revisions: [
            ("0eee8c825d24", None),
            ("f460b0348206", Some("0eee8c825d24")),
        ]
        .into_iter()
        .map(|(r, d)| (r.to_owned(), d.map(str::to_owned)))
        .collect(),
        install: vec!["jupyterhub==6.1.1".into()],
        staged,
    }
}

fn next_env() -> Staged {
    Staged::NextEnv {
        env: "/opt/hub".into(),
        path: "/opt/hub.hubfleet-next".into(),
        previous: "/opt/hub.hubfleet-previous".into(),
        command: vec![
            "/opt/hub.hubfleet-next/bin/python".into(),
            "-m".into(),
            "pip".into(),
        ],
        replaces_previous: false,
    }
}

fn request() -> Request<'static> {
    Request {
        backup_dir: Path::new("/backups"),
        allow_active_servers: true,
        message: "upgrading to {version}",
        grace: Duration::from_secs(30),
    }
}

fn names(plan: &UpgradePlan) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.step).collect()
}

#[test]
fn a_venv_hub_is_rehearsed_then_swapped_and_each_step_says_its_way_back() {
    let host =
        host("notify = \"wall \\\"$HUBFLEET_MESSAGE\\\"\"\nsingleuser_env = \"/opt/user\"\n");
    let facts = HostFacts {
        singleuser_version: Some("4.1.6".into()),
        ..facts()
    };
    let plan = UpgradePlan::build(&host, &facts, &target(next_env()), &request(), true).unwrap();
    assert_eq!(
        names(&plan),
        [
            "facts",
            "check",
            "stage",
            "backup",
            "rehearse",
            "singleuser",
            "notify",
            "stop",
            "swap",
            "upgrade-db",
            "start",
            "health",
            "singleuser"
        ]
    );
    // The order is Step::ALL's, whatever applies.
    let order: Vec<usize> = plan
        .steps
        .iter()
        .map(|s| Step::ALL.iter().position(|a| s.is(*a)).unwrap())
        .collect();
    assert!(order.is_sorted(), "{order:?}");
    assert_eq!(
        plan.migrations.as_deref(),
        Some(&["f460b0348206".to_owned()][..])
    );
    let notify = plan.steps.iter().find(|s| s.is(Step::Notify)).unwrap();
    assert_eq!(
        notify.work,
        Work::Run(Arc::new(steps::Notify {
            message: "upgrading to 6.1.1".into(),
            grace: Duration::from_secs(30)
        }))
    );
    insta::assert_snapshot!(plan.lines().join("\n"));
}

#[test]
fn conda_installs_in_the_downtime_and_learns_its_migrations_there() {
    let host = host("installer = \"conda\"\n");
    let mut target = target(Staged::InPlace);
    target.revisions.clear();
    let plan = UpgradePlan::build(&host, &facts(), &target, &request(), false).unwrap();
    assert_eq!(
        names(&plan),
        [
            "facts",
            "check",
            "stage",
            "backup",
            "stop",
            "install",
            "upgrade-db",
            "start",
            "health"
        ]
    );
    assert_eq!(plan.migrations, None);
    // `--to latest`: the backup comes after the stage, as a step of the plan.
    assert_eq!(
        plan.steps[3].work,
        Work::Run(Arc::new(steps::Backup {
            db_path: "/srv/hub/jupyterhub.sqlite".into(),
            backup_dir: "/backups".into()
        }))
    );
    let Work::Cutover(cutover) = &plan.steps[4].work else {
        panic!("the stop starts the cutover");
    };
    assert_eq!(cutover.head, None);
    assert_eq!(cutover.restart_version.as_deref(), Some("4.1.6"));
    assert!(plan.lines()[1].contains("conda resolves it"));
}

#[test]
fn a_hub_already_at_the_target_only_brings_its_single_user_env_along() {
    let host = host("singleuser_env = \"/opt/user\"\n");
    let facts = HostFacts {
        singleuser_version: Some("4.1.5".into()),
        ..facts()
    };
    let plan = UpgradePlan::unchanged(&host, &facts, "4.1.6");
    assert_eq!(names(&plan), ["facts", "check", "singleuser"]);
    assert!(plan.steps.iter().all(|s| s.phase != Phase::Downtime));
    assert!(
        plan.steps[2]
            .way_back
            .contains("reinstall jupyterhub 4.1.5")
    );
}

#[test]
fn a_database_the_target_does_not_know_is_refused_when_the_plan_is_made() {
    let facts = HostFacts {
        db_revision: Some("ffffffffffff".into()),
        ..facts()
    };
    let refusal =
        UpgradePlan::build(&host(""), &facts, &target(next_env()), &request(), true).unwrap_err();
    assert_eq!(refusal.step, "check");
    assert!(
        refusal
            .reason
            .contains("ffffffffffff, which jupyterhub 6.1.1 does not know")
    );
}
