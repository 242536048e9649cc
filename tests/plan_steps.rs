//! A step added to a host's plan is its own value plus one line: a test-only step, put between
//! `rehearse` and `notify`, shows in the dry run's lines and in the plan's JSON, and the upgrade
//! job runs it in its place, over a real SSH session to a lab host.

#[path = "lab/mod.rs"]
mod lab;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::FutureExt;
use futures::future::BoxFuture;
use hubfleet::facts::HostFacts;
use hubfleet::inventory::{Host, Inventory, ResolveContext, SshConfig, parse_extra_vars};
use hubfleet::jobs::{UpgradeJob, UpgradeReport};
use hubfleet::plan::{PlannedStep, Request, UpgradePlan};
use hubfleet::runner::{HostEvents, StepFailure};
use hubfleet::ssh::{Credentials, RemoteCommand, Session};
use hubfleet::step::Phase;
use hubfleet::steps::{Done, OnHost, Staged, StepWork, Target};
use lab::{Hubs, Lab};

/// The test-only step: it appends its name to a file on the host, so the order is the host's.
#[derive(Debug)]
struct Mark {
    file: String,
}

impl StepWork for Mark {
    fn name(&self) -> &'static str {
        "mark"
    }

    fn action(&self, host: &Host) -> String {
        format!("append `mark` to {} on {}", self.file, host.name)
    }

    fn way_back(&self) -> String {
        "nothing to undo: a test's file".to_owned()
    }

    fn run<'a>(&'a self, on: OnHost<'a>) -> BoxFuture<'a, Result<Done, StepFailure>> {
        async move {
            let command =
                RemoteCommand::new("sh").args(["-c", "echo mark >> \"$1\"", "sh", &self.file]);
            let (status, _, _) =
                on.session
                    .exec_capture(&command)
                    .await
                    .map_err(|e| StepFailure {
                        step: "mark",
                        reason: e.to_string(),
                        ended: hubfleet::runner::Ended::Failed,
                    })?;
            assert!(status.success());
            Ok(Done::Nothing)
        }
        .boxed()
    }
}

fn host(lab: &Lab, marks: &Path) -> Result<Host> {
    let vars: Vec<String> = [
        "hub_env=/opt/hub".to_owned(),
        "config=/srv/hub/jupyterhub_config.py".to_owned(),
        format!("notify=echo \"$HUBFLEET_MESSAGE\" >> {}", marks.display()),
    ]
    .into();
    let context = ResolveContext {
        home: lab.home().to_owned(),
        ssh_config: SshConfig::default(),
        local_user: "root".to_owned(),
        extra_vars: parse_extra_vars(&vars)?,
    };
    let inventory = Inventory::load(lab.inventory(), &context)?;
    Ok(inventory.hosts()[0].clone())
}

fn facts() -> HostFacts {
    HostFacts {
        jupyterhub_version: Some("4.1.6".into()),
        db_path: Some("/srv/hub/jupyterhub.sqlite".into()),
        db_revision: Some("0eee8c825d24".into()),
        cutover_record: Some("/srv/hub/.jupyterhub.sqlite.hubfleet-cutover.jsonl".into()),
        ..HostFacts::default()
    }
}

fn target() -> Target {
    Target {
        version: "6.1.1".into(),
        revisions: BTreeMap::from([
            ("0eee8c825d24".to_owned(), None),
            ("f460b0348206".to_owned(), Some("0eee8c825d24".to_owned())),
        ]),
        install: vec!["jupyterhub==6.1.1".into()],
        staged: Staged::NextEnv {
            env: "/opt/hub".into(),
            path: "/opt/hub.hubfleet-next".into(),
            previous: "/opt/hub.hubfleet-previous".into(),
            command: vec!["/opt/hub.hubfleet-next/bin/python".into()],
            replaces_previous: false,
        },
    }
}

#[tokio::test]
async fn a_test_only_step_between_rehearse_and_notify_is_planned_shown_and_run_in_order()
-> Result<()> {
    let lab = Lab::builder().hosts(1).hubs(Hubs::None).start()?;
    let marks = lab.dir().join("marks");
    let host = host(&lab, &marks)?;
    let request = Request {
        backup_dir: Path::new("/backups"),
        allow_active_servers: false,
        message: "to {version}",
        grace: Duration::ZERO,
    };
    let mut plan = UpgradePlan::build(&host, &facts(), &target(), &request, true)
        .map_err(|f| anyhow::anyhow!("{}: {}", f.step, f.reason))?;
    // The one line that adds the step (the builder's would be `plan.run(host, Mark { … })`).
    let at = 1 + plan
        .steps
        .iter()
        .position(|s| s.step == "rehearse")
        .context("rehearse")?;
    let mark = Mark {
        file: marks.display().to_string(),
    };
    plan.steps.insert(at, PlannedStep::runs(&host, mark));

    // The dry run's lines and the JSON show it, between rehearse and notify, while the hub serves.
    let lines = plan.lines();
    let names: Vec<&str> = lines
        .iter()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let rehearse = names
        .iter()
        .position(|n| *n == "rehearse")
        .context("line")?;
    assert_eq!(
        names[rehearse..rehearse + 3],
        ["rehearse", "mark", "notify"]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("mark [hub serving]: append `mark` to"))
    );
    let json = serde_json::to_value(&plan)?;
    let steps: Vec<&str> = json["steps"]
        .as_array()
        .context("steps")?
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "facts",
            "check",
            "stage",
            "backup",
            "rehearse",
            "mark",
            "notify",
            "stop",
            "swap",
            "upgrade-db",
            "start",
            "health"
        ]
    );
    assert_eq!(
        json["steps"][5]["way_back"],
        "nothing to undo: a test's file"
    );
    assert_eq!(plan.steps[at].phase, Phase::Serving);

    // The job runs the steps before the stop in the plan's order: the ones done already are
    // skipped, rehearse (which needs a staged env) is left out of this run.
    plan.steps
        .retain(|s| s.step == "mark" || s.step == "notify" || s.step == "facts");
    let session = Session::connect(
        &host.ssh,
        &Credentials::with_agent_socket(Arc::new(|_: &Path| None), None),
    )
    .await?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1024);
    let events = HostEvents::new(&host.name, tx);
    let job = UpgradeJob {
        to: "6.1.1".into(),
        backup_dir: "/backups".into(),
        dry_run: false,
        allow_active_servers: false,
        rollback: true,
        message: String::new(),
        grace: Duration::ZERO,
        holder: hubfleet::steps::LockHolder::this_run("upgrade"),
        pinned: None,
    };
    let mut report = UpgradeReport::default();
    job.execute(&host, &session, &events, &facts(), plan, &mut report)
        .await
        .map_err(|f| anyhow::anyhow!("{}: {}", f.step, f.reason))?;
    session.close().await;
    assert_eq!(std::fs::read_to_string(&marks)?, "mark\nto 6.1.1\n");
    let timings = events.timings();
    let timed: Vec<&str> = timings.iter().map(|t| t.step).collect();
    assert_eq!(timed, ["mark", "notify"]);
    drop(rx);
    Ok(())
}
