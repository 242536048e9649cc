//! A remote command whose channel stays open while the controller needs it: the host lock's
//! holder (`lock.py`) lives exactly as long as its channel. One task reads its output line by
//! line and sends a heartbeat line every few seconds, so the remote side can tell a controller
//! that went silent (a machine that lost power, whose TCP connection sshd still believes in) from
//! one that merely works; [`Attached::finish`] says a last line, closes its stdin and waits.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::running::{Output, Running};
use super::{ExitStatus, SshError};

/// How often the heartbeat line (`\n`) is sent to the command's stdin.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// How an attached command ended: its exit status and its stderr.
type Finished = Result<(ExitStatus, Vec<u8>), SshError>;

/// A command running on its own channel, kept open; see [`super::Session::attach`].
pub struct Attached {
    lines: mpsc::UnboundedReceiver<Vec<u8>>,
    finish: Option<oneshot::Sender<Vec<u8>>>,
    task: Option<JoinHandle<Finished>>,
}

impl std::fmt::Debug for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached").finish_non_exhaustive()
    }
}

impl Attached {
    pub(super) fn new(mut running: Running) -> Self {
        let (line_tx, lines) = mpsc::unbounded_channel();
        let (finish, mut finish_rx) = oneshot::channel::<Vec<u8>>();
        let task = tokio::spawn(async move {
            // A writer of its own: it does not borrow the channel the loop reads.
            let mut stdin = running.channel.make_writer();
            let mut beat = tokio::time::interval(HEARTBEAT);
            let (mut partial, mut stderr, mut closing) = (Vec::new(), Vec::new(), false);
            loop {
                tokio::select! {
                    // The command's output: stdout split into lines for `line()`.
                    output = running.next() => match output? {
                        Some(Output::Stdout(chunk)) => {
                            partial.extend_from_slice(&chunk);
                            while let Some(end) = partial.iter().position(|b| *b == b'\n') {
                                let line: Vec<u8> = partial.drain(..=end).collect();
                                let _ = line_tx.send(line[..end].to_vec());
                            }
                        }
                        Some(Output::Stderr(chunk)) => stderr.extend_from_slice(&chunk),
                        None => break,
                    },
                    // Alive: a lost heartbeat only means the command ended, which the output
                    // branch sees.
                    _ = beat.tick(), if !closing => {
                        let _ = stdin.write_all(b"\n").await;
                    }
                    // `finish` (or the value dropped, which says nothing): the last words, then
                    // EOF on the command's stdin.
                    said = &mut finish_rx, if !closing => {
                        closing = true;
                        if let Ok(said) = said {
                            let _ = stdin.write_all(&said).await;
                        }
                        let _ = stdin.shutdown().await;
                        let _ = running.channel.eof().await;
                    }
                }
            }
            Ok((running.status()?, stderr))
        });
        Self {
            lines,
            finish: Some(finish),
            task: Some(task),
        }
    }

    /// The next line of the command's stdout (without its newline); `None` once it ended.
    pub async fn line(&mut self) -> Option<Vec<u8>> {
        self.lines.recv().await
    }

    /// Sends `said` to the command's stdin, closes it, and waits for the command to end: its exit
    /// status and its stderr.
    pub async fn finish(mut self, said: &[u8]) -> Finished {
        if let Some(finish) = self.finish.take() {
            let _ = finish.send(said.to_vec());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .unwrap_or_else(|_| Ok((ExitStatus::Signal("KILL"), Vec::new()))),
            None => Ok((ExitStatus::Signal("KILL"), Vec::new())),
        }
    }
}

impl Drop for Attached {
    /// Dropped without [`Attached::finish`]: its stdin is closed without last words (the task
    /// sees the dropped sender), and the task ends with the command, on its own.
    fn drop(&mut self) {
        self.finish.take();
    }
}
