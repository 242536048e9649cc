//! The fleet runner: one task per host, at most `forks` at once, each over one SSH session.
//!
//! A host that cannot be reached or whose job fails ends with an [`Outcome`]; nothing a host does
//! stops the others. Results come back in inventory order whatever order hosts finish in.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Event, HostEvents, Outcome, StepFailure};
use crate::inventory::Host;
use crate::ssh::{Credentials, Session, SshError};

/// The work done on each host once it is connected.
pub trait HostJob: Send + Sync + 'static {
    /// What the job learns about a host (versions, archive…), for the recap and the report. It
    /// is filled in as the job goes, so a host that fails half-way still shows what was known.
    type Report: Default + serde::Serialize + Clone + Send + 'static;

    /// Runs on one host over its session, reporting through `events` and into `report`.
    fn run<'a>(
        &'a self,
        host: &'a Host,
        session: &'a Session,
        events: &'a HostEvents,
        report: &'a mut Self::Report,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send + 'a;
}

/// One host's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostResult<R> {
    /// The host.
    pub host: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time from its start to its end.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub elapsed: Duration,
    /// What the job learnt about the host.
    pub report: R,
    /// The steps it ran, in the order they began, with their timings.
    pub steps: Vec<super::StepTiming>,
}

/// Runs `job` on every host, `forks` at a time, and returns their results in `hosts` order.
pub async fn run_fleet<J: HostJob>(
    hosts: &[Host],
    forks: usize,
    credentials: &Credentials,
    job: Arc<J>,
    events: SyncSender<Event>,
) -> Vec<HostResult<J::Report>> {
    let _ = events.send(Event::RunStarted { hosts: hosts.len() });
    let slots = Arc::new(Semaphore::new(forks.max(1)));
    let mut tasks = JoinSet::new();
    let mut task_hosts = std::collections::HashMap::new();
    for (index, host) in hosts.iter().cloned().enumerate() {
        let (slots, credentials, job) = (slots.clone(), credentials.clone(), job.clone());
        let events = events.clone();
        let task = tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits for a slot.
            let _slot = slots.acquire_owned().await;
            // Created once the host has its slot: its step timings count from here.
            let events = HostEvents::new(&host.name, events);
            (index, run_host(&host, &credentials, &*job, &events).await)
        });
        task_hosts.insert(task.id(), index);
    }
    let mut results: Vec<Option<HostResult<J::Report>>> = vec![None; hosts.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            // A panic is a bug of ours: that host ends failed, and says so at once, so that its
            // bar, its log and the overall count end too.
            Err(error) => {
                if let Some(&index) = task_hosts.get(&error.id()) {
                    let result = crashed(&hosts[index]);
                    let _ = events.send(Event::HostFinished {
                        host: result.host.clone(),
                        outcome: result.outcome.clone(),
                        elapsed: result.elapsed,
                    });
                    results[index] = Some(result);
                }
            }
        }
    }
    results
        .into_iter()
        .zip(hosts)
        .map(|(result, host)| result.unwrap_or_else(|| crashed(host)))
        .collect()
}

/// The result of a host whose task panicked.
fn crashed<R: Default>(host: &Host) -> HostResult<R> {
    HostResult {
        host: host.name.clone(),
        outcome: Outcome::Failed {
            step: "internal".to_owned(),
            reason: "hubfleet crashed on this host; please report a bug".to_owned(),
        },
        elapsed: Duration::ZERO,
        report: R::default(),
        steps: Vec::new(),
    }
}

async fn run_host<J: HostJob>(
    host: &Host,
    credentials: &Credentials,
    job: &J,
    events: &HostEvents,
) -> HostResult<J::Report> {
    let started = Instant::now();
    events.send(Event::HostStarted {
        host: host.name.clone(),
    });
    events.step(
        "connect",
        format!("{}@{}:{}", host.ssh.user, host.ssh.address, host.ssh.port),
    );
    let mut report = J::Report::default();
    let connecting = Instant::now();
    let connected = Session::connect(&host.ssh, credentials).await;
    events.timing("connect", connecting, connected.is_ok());
    let outcome = match connected {
        Err(error) => unreachable(&error),
        Ok(session) => {
            let outcome = match job.run(host, &session, events, &mut report).await {
                Ok(()) => Outcome::Ok,
                Err(StepFailure {
                    step,
                    reason,
                    ended,
                }) => ended.outcome(step.to_owned(), reason),
            };
            session.close().await;
            outcome
        }
    };
    // The recap and the report show the reason too, not only the event.
    let mut outcome = outcome;
    outcome.mask_secrets();
    let elapsed = started.elapsed();
    events.send(Event::HostFinished {
        host: host.name.clone(),
        outcome: outcome.clone(),
        elapsed,
    });
    HostResult {
        host: host.name.clone(),
        outcome,
        elapsed,
        report,
        steps: events.timings(),
    }
}

/// The outcome of a host whose connection failed: the error and its hints on one line.
fn unreachable(error: &SshError) -> Outcome {
    let reason = crate::error::one_line(error, &error.hints());
    match error.failure() {
        Some(failure) => Outcome::Unreachable { failure, reason },
        // Not the host's fault: the connection step itself failed.
        None => Outcome::Failed {
            step: "connect".to_owned(),
            reason,
        },
    }
}
