//! The fleet runner: one task per host, at most `forks` at once, each over one SSH session.
//!
//! A host that cannot be reached or whose job fails ends with an [`Outcome`]; a host's failure
//! stops the others only through the run's failure budget ([`Rollout`]), and then only from
//! starting. Results come back in inventory order whatever order hosts finish in.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::rollout::{Gate, Tally};
use super::{Event, HostEvents, Outcome, Rollout, StepFailure, StopReason};
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

/// What a run gives back: every host's result, in inventory order, and why it stopped early if
/// it did.
#[derive(Debug)]
pub struct FleetRun<R> {
    /// Every selected host's result.
    pub results: Vec<HostResult<R>>,
    /// Why the run stopped starting hosts, if it did before every host had its turn.
    pub stopped: Option<StopReason>,
}

/// Runs `job` on every host, `forks` at a time, in the batches of `rollout` and within its
/// failure budget, and returns their results in `hosts` order.
pub async fn run_fleet<J: HostJob>(
    hosts: &[Host],
    forks: usize,
    credentials: &Credentials,
    job: Arc<J>,
    events: SyncSender<Event>,
    rollout: &Rollout,
) -> FleetRun<J::Report> {
    let _ = events.send(Event::RunStarted { hosts: hosts.len() });
    let slots = Arc::new(Semaphore::new(forks.max(1)));
    let gate = Gate::default();
    // The first signal closes the gate: hosts waiting for a slot or a batch never start.
    let watcher = tokio::spawn({
        let (gate, interrupt, events) = (gate.clone(), rollout.interrupt.clone(), events.clone());
        async move {
            interrupt.wait().await;
            let signal = interrupt.signal().unwrap_or("a signal");
            gate.stop(StopReason::Interrupted { signal }, &events);
        }
    });
    let mut results: Vec<Option<HostResult<J::Report>>> = vec![None; hosts.len()];
    let tally = Tally::default();
    let mut first = 0;
    for size in rollout.serial.batches(hosts.len()) {
        let batch = first..first + size;
        first += size;
        // A batch starts only when the previous one is done (every host ended, cutovers
        // followed to their end) and its failures are within the budget.
        if gate.reason().is_some() {
            break;
        }
        tally.new_batch(size);
        let mut tasks = JoinSet::new();
        let mut task_hosts = std::collections::HashMap::new();
        for index in batch {
            // Slots are taken here, in inventory order, so hosts start in the order the
            // inventory lists them. The semaphore is never closed: acquiring only waits.
            let slot = slots.clone().acquire_owned().await;
            if let Some(reason) = gate.reason() {
                results[index] = Some(not_started(&hosts[index], &reason, &events));
                continue;
            }
            let host = hosts[index].clone();
            let (credentials, job, tally) = (credentials.clone(), job.clone(), tally.clone());
            let (events, gate, board) = (events.clone(), gate.clone(), rollout.board.clone());
            let (interrupt, budget) = (rollout.interrupt.clone(), rollout.budget);
            let task = tasks.spawn(async move {
                let _slot = slot;
                // Created once the host has its slot: its step timings count from here.
                let host_events =
                    HostEvents::new(&host.name, events.clone()).watched(interrupt, board.clone());
                let result = run_host(&host, &credentials, &*job, &host_events).await;
                board.ended(&result.host, ended_line(&result.outcome));
                // Counted before the slot is given back: the next host sees a spent budget.
                tally.count(&result.host, &result.outcome, budget, &gate, &events);
                (index, result)
            });
            task_hosts.insert(task.id(), index);
        }
        while let Some(joined) = tasks.join_next().await {
            let (index, result) = match joined {
                Ok(done) => done,
                // A panic is a bug of ours: that host ends failed, and says so at once, so that
                // its bar, its log and the overall count end too.
                Err(error) => {
                    let Some(&index) = task_hosts.get(&error.id()) else {
                        continue;
                    };
                    let result = crashed(&hosts[index]);
                    let _ = events.send(Event::HostFinished {
                        host: result.host.clone(),
                        outcome: result.outcome.clone(),
                        elapsed: result.elapsed,
                    });
                    tally.count(
                        &result.host,
                        &result.outcome,
                        rollout.budget,
                        &gate,
                        &events,
                    );
                    (index, result)
                }
            };
            results[index] = Some(result);
        }
        if first < hosts.len() {
            tally.batch_done(rollout.budget, &gate, &events);
        }
    }
    watcher.abort();
    let reason = gate.reason();
    let results: Vec<_> = results
        .into_iter()
        .zip(hosts)
        .map(|(result, host)| {
            result.unwrap_or_else(|| match &reason {
                Some(reason) => not_started(host, reason, &events),
                None => crashed(host),
            })
        })
        .collect();
    // Said only when it mattered: a host was left out, or an operator asked to stop.
    let left_out = results.iter().any(|r| {
        matches!(
            r.outcome,
            Outcome::NotStarted { .. } | Outcome::Interrupted { .. }
        )
    });
    let stopped = reason.filter(|r| left_out || matches!(r, StopReason::Interrupted { .. }));
    FleetRun { results, stopped }
}

/// The result of a host the run never started, for `reason`.
fn not_started<R: Default>(
    host: &Host,
    reason: &StopReason,
    events: &SyncSender<Event>,
) -> HostResult<R> {
    let outcome = Outcome::NotStarted {
        reason: format!("not started: {reason}; nothing on it was touched"),
    };
    let _ = events.send(Event::HostFinished {
        host: host.name.clone(),
        outcome: outcome.clone(),
        elapsed: Duration::ZERO,
    });
    HostResult {
        host: host.name.clone(),
        outcome,
        elapsed: Duration::ZERO,
        report: R::default(),
        steps: Vec::new(),
    }
}

/// How a host ended, as the board says it.
fn ended_line(outcome: &Outcome) -> String {
    match outcome.reason() {
        Some(reason) => format!("{}: {reason}", outcome.label()),
        None => outcome.label().to_owned(),
    }
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
