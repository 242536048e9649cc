//! The steps of an upgrade, in the order they run: the one list that the plan, the progress
//! lines, the cutover's record, `upgrade --help` and the README's order are written from.

use serde::Serialize;

/// One step of a host's upgrade. [`Step::ALL`] is their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Facts, gathered with the hub's own Python, environment and working directory.
    Facts,
    /// The policy: whether this hub may be upgraded now, and whether it needs to be.
    Check,
    /// The target resolved and readied while the hub serves.
    Stage,
    /// A verified archive of the database, config and secrets, while the hub serves.
    Backup,
    /// The new release's `upgrade-db` on a copy of the database, while the hub serves.
    Rehearse,
    /// The single-user env's install tried with `--dry-run`, while the hub serves.
    SingleuserCheck,
    /// Users told, then `--grace` seconds.
    Notify,
    /// The hub stopped, and its stop confirmed (API quiet, database closed).
    Stop,
    /// The staged env exchanged with the hub's (a venv).
    Swap,
    /// The downloaded packages installed offline (conda, a Python that is no venv).
    Install,
    /// `jupyterhub upgrade-db`, then the database's revision checked.
    UpgradeDb,
    /// The hub started.
    Start,
    /// `/hub/api` answering with the target version.
    Health,
    /// The single-user env brought to the hub's release, once the hub is healthy.
    Singleuser,
}

/// When a step runs, as the operator's users see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The hub serves its users as before.
    Serving,
    /// The hub is down.
    Downtime,
    /// The hub serves again, on the new release.
    Upgraded,
}

impl Step {
    /// Every step, in the order an upgrade runs them.
    pub const ALL: [Step; 14] = [
        Step::Facts,
        Step::Check,
        Step::Stage,
        Step::Backup,
        Step::Rehearse,
        Step::SingleuserCheck,
        Step::Notify,
        Step::Stop,
        Step::Swap,
        Step::Install,
        Step::UpgradeDb,
        Step::Start,
        Step::Health,
        Step::Singleuser,
    ];

    /// The name in progress lines, logs, failures and the cutover's record.
    pub fn name(self) -> &'static str {
        match self {
            Step::Facts => "facts",
            Step::Check => "check",
            Step::Stage => "stage",
            Step::Backup => "backup",
            Step::Rehearse => "rehearse",
            Step::SingleuserCheck | Step::Singleuser => "singleuser",
            Step::Notify => "notify",
            Step::Stop => "stop",
            Step::Swap => "swap",
            Step::Install => "install",
            Step::UpgradeDb => "upgrade-db",
            Step::Start => "start",
            Step::Health => "health",
        }
    }

    /// What the step does, in a few words (`upgrade --help`).
    pub fn description(self) -> &'static str {
        match self {
            Step::Facts => "versions, database, environment, whether the hub serves",
            Step::Check => "refuse what would lose data or interrupt users",
            Step::Stage => "resolve the target and ready it beside the env",
            Step::Backup => "verified archive of the database, config and secrets",
            Step::Rehearse => "the new upgrade-db on a copy of the database",
            Step::SingleuserCheck => "try the single-user env's install (--dry-run)",
            Step::Notify => "tell users, wait --grace",
            Step::Stop => "stop the hub, confirm it stopped, keep its database",
            Step::Swap => "exchange the staged env with the hub's",
            Step::Install => "install the downloaded packages offline (conda)",
            Step::UpgradeDb => "jupyterhub upgrade-db, revision checked",
            Step::Start => "start the hub",
            Step::Health => "/hub/api reports the target",
            Step::Singleuser => "bring the single-user env to the release",
        }
    }

    /// Whether the hub serves, is down, or serves the new release during this step.
    pub fn phase(self) -> Phase {
        match self {
            Step::Stop | Step::Swap | Step::Install | Step::UpgradeDb | Step::Start => {
                Phase::Downtime
            }
            Step::Health | Step::Singleuser => Phase::Upgraded,
            _ => Phase::Serving,
        }
    }

    /// The step a cutover's record names (`cutover.py` writes [`Step::name`]s of the steps it
    /// runs); `None` for a name it does not know.
    pub fn of_cutover(name: &str) -> Option<Step> {
        [
            Step::Check,
            Step::Stop,
            Step::Swap,
            Step::Install,
            Step::UpgradeDb,
            Step::Start,
            Step::Health,
        ]
        .into_iter()
        .find(|step| step.name() == name)
    }

    /// The step order as `upgrade --help` prints it: one line per step, numbered.
    pub fn order_help() -> String {
        let mut help = String::from(
            "Upgrade JupyterHub on every selected hub, safely.\n\nPer host, in this order (steps \
             that do not apply are left out\nof the plan; `--dry-run` prints it):\n",
        );
        for (i, step) in Step::ALL.iter().enumerate() {
            let when = match step.phase() {
                Phase::Serving => "",
                Phase::Downtime => " [hub down]",
                Phase::Upgraded => "",
            };
            help.push_str(&format!(
                "  {:>2}. {:<11} {}{when}\n",
                i + 1,
                step.name(),
                step.description()
            ));
        }
        help.push_str(
            "\nStop to health run on the host in one detached process that finishes even if the \
             connection drops.\nOnce the hub is confirmed stopped, its database is kept beside it; \
             a failure after that\nis rolled back on the host (database put back, env swapped \
             back, old release\nstarted and checked), unless `--no-rollback`.\n\nExit codes (they \
             add up): 0 every host ok; 1 nothing ran; 2 some host failed\n(rolled back hosts count \
             as failed); 4 some host unreachable; 8 some hub left\ndown (a rollback that could not \
             complete, or `--no-rollback`).",
        );
        help
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's numbered upgrade steps follow [`Step::ALL`]: the order is written once, and
    /// this keeps the prose from drifting away from it.
    #[test]
    fn the_readme_describes_the_steps_in_their_order() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("### The upgrade, per host")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("the README has its upgrade section");
        let mut at = 0;
        for step in Step::ALL {
            let needle = format!("**{}**", step.name());
            let found = section[at..]
                .find(&needle)
                .unwrap_or_else(|| panic!("{needle} missing or out of order in the README"));
            at += found + needle.len();
        }
    }

    #[test]
    fn the_cutover_names_only_its_own_steps() {
        assert_eq!(Step::of_cutover("upgrade-db"), Some(Step::UpgradeDb));
        assert_eq!(Step::of_cutover("check"), Some(Step::Check));
        assert_eq!(Step::of_cutover("stage"), None);
        assert_eq!(Step::of_cutover("cutover"), None);
    }

    #[test]
    fn the_downtime_is_from_the_stop_to_the_start() {
        let down: Vec<_> = Step::ALL
            .into_iter()
            .filter(|s| s.phase() == Phase::Downtime)
            .map(Step::name)
            .collect();
        assert_eq!(down, ["stop", "swap", "install", "upgrade-db", "start"]);
    }
}
