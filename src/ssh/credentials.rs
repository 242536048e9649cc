//! The keys hubfleet authenticates with: the ssh-agent's identities and key files, loaded once per
//! run and shared by every host (a passphrase is asked at most once per file).

use std::path::Path;
use std::sync::Arc;

/// Asks the operator for a key file's passphrase; `None` when nobody can answer (no terminal).
pub type PassphrasePrompt = Arc<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// Shared, cheaply cloned authentication material.
#[derive(Clone)]
pub struct Credentials {
    _prompt: PassphrasePrompt,
}

impl Credentials {
    /// Credentials that use `$SSH_AUTH_SOCK` if set, and ask `prompt` for passphrases.
    pub fn new(prompt: PassphrasePrompt) -> Self {
        Self { _prompt: prompt }
    }
}
