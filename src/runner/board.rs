//! What each host is doing right now, kept as the run goes so that a second Ctrl-C, which exits
//! at once, can still say where every host was left (and, for a host in its cutover, where the
//! record of the process that carries on without the controller is).

use std::sync::{Arc, Mutex};

/// The state of every host of a run, in inventory order; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Board {
    hosts: Arc<Mutex<Vec<HostState>>>,
}

/// Where one host is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostState {
    host: String,
    /// The step it is in and what it does, or how it ended.
    state: String,
    /// The record of its cutover, once one was started on the host.
    record: Option<String>,
    /// Whether it has ended.
    ended: bool,
}

impl Board {
    /// A board of `hosts`, none started yet.
    pub fn new<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Self {
        let hosts = hosts
            .into_iter()
            .map(|host| HostState {
                host: host.to_owned(),
                state: "not started".to_owned(),
                record: None,
                ended: false,
            })
            .collect();
        Self {
            hosts: Arc::new(Mutex::new(hosts)),
        }
    }

    fn update(&self, host: &str, change: impl FnOnce(&mut HostState)) {
        if let Ok(mut hosts) = self.hosts.lock()
            && let Some(state) = hosts.iter_mut().find(|s| s.host == host)
        {
            change(state);
        }
    }

    /// `host` is in `step`, doing `detail`.
    pub fn step(&self, host: &str, step: &str, detail: &str) {
        self.update(host, |s| s.state = format!("in {step}: {detail}"));
    }

    /// `host`'s cutover runs on the host with its record at `record`.
    pub fn cutover(&self, host: &str, record: &str) {
        self.update(host, |s| s.record = Some(record.to_owned()));
    }

    /// `host` ended, as `how` says.
    pub fn ended(&self, host: &str, how: String) {
        self.update(host, |s| {
            s.state = how;
            s.ended = true;
        });
    }

    /// One line per host: where it is, and for a host whose cutover was running, that it
    /// carries on by itself and where its record is.
    pub fn lines(&self) -> Vec<String> {
        let hosts = self.hosts.lock().map(|h| h.clone()).unwrap_or_default();
        hosts
            .iter()
            .map(|s| match (&s.record, s.ended) {
                (Some(record), false) => format!(
                    "{}: {}; its cutover carries on on the host by itself (it ends upgraded or rolled back): its record is {record}, and the next run reports how it ended",
                    s.host, s.state
                ),
                _ => format!("{}: {}", s.host, s.state),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_host_says_where_it_was_left() {
        let board = Board::new(["h1", "h2", "h3"]);
        board.step("h1", "stop", "stopping the hub");
        board.cutover("h1", "/srv/.jupyterhub.sqlite.hubfleet-cutover.jsonl");
        board.step("h2", "stage", "installing jupyterhub 6.1.1");
        board.step("h3", "facts", "reading");
        board.ended("h3", "ok".to_owned());
        assert_eq!(
            board.lines(),
            [
                "h1: in stop: stopping the hub; its cutover carries on on the host by itself (it ends upgraded or rolled back): its record is /srv/.jupyterhub.sqlite.hubfleet-cutover.jsonl, and the next run reports how it ended",
                "h2: in stage: installing jupyterhub 6.1.1",
                "h3: ok",
            ]
        );
    }
}
