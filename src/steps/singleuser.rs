//! Step `singleuser`: the single-user env's jupyterhub brought to the hub's version once the hub
//! is healthy, since `jupyterhub-singleuser` must match the hub it talks to. Installed in place
//! with the env's own installer and package source: running user servers keep the code they
//! loaded, servers started from now on get the new release. The same install is first tried
//! with `--dry-run` while the hub still serves, so that an env that cannot take the release (its
//! Python too old, a pin) stops the upgrade before the hub changes, not after.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::install::{Source, install_command};
use super::script::run_command;
use super::step_work::{Done, OnHost, StepWork};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};
use crate::step::{Phase, Step};

/// The single-user env's check or install, as the plan holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Singleuser {
    /// The single-user env.
    pub env: String,
    /// The release it is brought to.
    pub version: String,
    /// Checked before the stop, or installed once the hub is healthy.
    pub mode: SingleUser,
    /// Its jupyterhub now, for the way back.
    pub before: Option<String>,
}

impl StepWork for Singleuser {
    fn name(&self) -> &'static str {
        Step::Singleuser.name()
    }

    fn phase(&self) -> Phase {
        match self.mode {
            SingleUser::Check => Step::SingleuserCheck.phase(),
            SingleUser::Upgrade => Step::Singleuser.phase(),
        }
    }

    fn action(&self, host: &Host) -> String {
        let install = singleuser_install_command(host, &self.env, &self.version);
        match self.mode {
            SingleUser::Check => install.arg("--dry-run").to_string(),
            SingleUser::Upgrade => {
                format!("{install} (running user servers keep the code they loaded)")
            }
        }
    }

    fn way_back(&self) -> String {
        match self.mode {
            SingleUser::Check => "nothing to undo: a dry run".to_owned(),
            SingleUser::Upgrade => format!(
                "by hand: reinstall jupyterhub {} in {}",
                self.before.as_deref().unwrap_or("as it was"),
                self.env
            ),
        }
    }

    fn run<'a>(&'a self, on: OnHost<'a>) -> BoxFuture<'a, Result<Done, StepFailure>> {
        let done = singleuser(
            on.host,
            on.session,
            on.events,
            &self.env,
            &self.version,
            self.mode,
        );
        let version = (self.mode == SingleUser::Upgrade).then(|| self.version.clone());
        done.map(|done| done.map(|()| version.map_or(Done::Nothing, Done::Singleuser)))
            .boxed()
    }
}

/// What [`singleuser`] does with the install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleUser {
    /// Resolve it without installing (`--dry-run`, which pip, uv and conda all take), before the
    /// hub is stopped.
    Check,
    /// Install, once the hub is healthy.
    Upgrade,
}

/// Brings jupyterhub in the single-user env `env` to `version`, or checks that it can be.
pub async fn singleuser(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    env: &str,
    version: &str,
    mode: SingleUser,
) -> Result<(), StepFailure> {
    let command = singleuser_install_command(host, env, version)
        .args((mode == SingleUser::Check).then_some("--dry-run"))
        .become_(host.hub.become_.clone());
    let what = match mode {
        SingleUser::Check => "trying the single-user env's install",
        SingleUser::Upgrade => "installing in the single-user env",
    };
    let done = run_command("singleuser", what, session, events, &command).await;
    match (done, mode) {
        (done, SingleUser::Upgrade) => done,
        (Ok(()), SingleUser::Check) => Ok(()),
        // pip before 22.2 has no --dry-run: the env is upgraded as before, unchecked.
        (Err(failure), SingleUser::Check)
            if failure.reason.contains("no such option: --dry-run") =>
        {
            events.step(
                "singleuser",
                format!("{env}'s pip has no --dry-run (pip < 22.2): not checked before the stop"),
            );
            Ok(())
        }
        (Err(failure), SingleUser::Check) => Err(StepFailure {
            step: failure.step,
            reason: format!(
                "the single-user env {env} cannot take jupyterhub {version}, which the hub would then need: {}; nothing was changed",
                failure.reason
            ),
            ended: Ended::Failed,
        }),
    }
}

/// The install of jupyterhub `version` into the single-user env `env`, with its installer and
/// its own package source (without `become`).
pub fn singleuser_install_command(host: &Host, env: &str, version: &str) -> RemoteCommand {
    install_command(
        host,
        host.hub.singleuser_installer,
        env,
        version,
        Source::Index,
    )
}
