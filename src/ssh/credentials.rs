//! The keys hubfleet authenticates with: the ssh-agent's identities and key files, loaded once per
//! run and shared by every host (a passphrase is asked at most once per file).
//!
//! A hundred hosts connect at once, all wanting `~/.ssh/id_ed25519`: each file gets one
//! [`OnceCell`], so the first task reads it (and asks the passphrase) while the others wait for
//! the same result, including a failure, which is not retried within the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::PrivateKey;
use tokio::sync::OnceCell;

/// Asks the operator for a key file's passphrase; `None` when nobody can answer (no terminal).
pub type PassphrasePrompt = Arc<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// Shared, cheaply cloned authentication material.
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    prompt: PassphrasePrompt,
    agent_socket: Option<PathBuf>,
    keys: Mutex<HashMap<PathBuf, Arc<OnceCell<KeyFile>>>>,
}

impl std::fmt::Debug for Credentials {
    /// Shows where keys come from, never key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("agent_socket", &self.inner.agent_socket)
            .finish_non_exhaustive()
    }
}

/// The outcome of loading one identity file, kept for the whole run.
#[derive(Clone)]
pub(crate) enum KeyFile {
    /// Decoded (and decrypted) key.
    Loaded(Arc<PrivateKey>),
    /// Not usable; the reason is shown in the auth error's list of keys tried.
    Skipped(String),
}

impl Credentials {
    /// Credentials that use `$SSH_AUTH_SOCK` if set, and ask `prompt` for passphrases.
    pub fn new(prompt: PassphrasePrompt) -> Self {
        let agent = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        Self::with_agent_socket(prompt, agent)
    }

    /// Credentials with an explicit agent socket (`None`: no agent), e.g. for tests that must not
    /// see the operator's agent.
    pub fn with_agent_socket(prompt: PassphrasePrompt, agent_socket: Option<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                prompt,
                agent_socket,
                keys: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The ssh-agent socket to ask for identities, if any.
    pub(crate) fn agent_socket(&self) -> Option<&Path> {
        self.inner.agent_socket.as_deref()
    }

    /// Reads (and asks the passphrase of) every key file these targets and their jump hosts
    /// name, once each, so that prompts come before a run's progress display starts.
    pub async fn preload<'a>(&self, targets: impl IntoIterator<Item = &'a super::SshTarget>) {
        for target in targets {
            let mut hop = Some(target);
            while let Some(t) = hop {
                for path in &t.identity_files {
                    self.key_file(path).await;
                }
                hop = t.jump.as_deref();
            }
        }
    }

    /// The identity file at `path`, read and decrypted on first use only.
    pub(crate) async fn key_file(&self, path: &Path) -> KeyFile {
        let cell = {
            // Held only to find the cell, never across an await.
            let mut keys = self.inner.keys.lock().unwrap_or_else(|e| e.into_inner());
            keys.entry(path.to_owned()).or_default().clone()
        };
        cell.get_or_init(|| {
            let path = path.to_owned();
            let prompt = Arc::clone(&self.inner.prompt);
            async move {
                // Reading the file and, above all, the prompt (a terminal read) block: keep them
                // off the runtime's worker threads.
                tokio::task::spawn_blocking(move || load(&path, &*prompt))
                    .await
                    .unwrap_or_else(|e| KeyFile::Skipped(format!("not loaded: {e}")))
            }
        })
        .await
        .clone()
    }
}

fn load(path: &Path, prompt: &(dyn Fn(&Path) -> Option<String> + Send + Sync)) -> KeyFile {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return KeyFile::Skipped("missing".to_owned());
        }
        Err(e) => return KeyFile::Skipped(format!("unreadable: {e}")),
    };
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => KeyFile::Loaded(Arc::new(key)),
        // russh says `KeyIsEncrypted` for OpenSSH and PKCS#5 keys; encrypted PKCS#8 fails with a
        // decoding error instead, hence the look at the PEM header.
        Err(russh::keys::Error::KeyIsEncrypted) => decrypt(path, &text, prompt),
        Err(_) if text.contains("ENCRYPTED") => decrypt(path, &text, prompt),
        Err(e) => KeyFile::Skipped(format!("unreadable: {e}")),
    }
}

fn decrypt(
    path: &Path,
    text: &str,
    prompt: &(dyn Fn(&Path) -> Option<String> + Send + Sync),
) -> KeyFile {
    let Some(passphrase) = prompt(path) else {
        return KeyFile::Skipped("encrypted, no passphrase given".to_owned());
    };
    match russh::keys::decode_secret_key(text, Some(&passphrase)) {
        Ok(key) => KeyFile::Loaded(Arc::new(key)),
        Err(_) => KeyFile::Skipped("wrong passphrase".to_owned()),
    }
}
