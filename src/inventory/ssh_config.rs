//! `~/.ssh/config` Host entries, honoured where the inventory says nothing (HostName, User, Port,
//! IdentityFile, UserKnownHostsFile, ProxyJump), as `ssh NAME` would.

use std::path::{Path, PathBuf};

use super::InventoryError;

/// The operator's OpenSSH client configuration, read once per run.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    text: Option<String>,
}

impl SshConfig {
    /// Reads `HOME/.ssh/config`; a missing file is an empty configuration.
    pub fn load(home: &Path) -> Result<Self, InventoryError> {
        let path = home.join(".ssh").join("config");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Self { text: Some(text) }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(InventoryError::SshConfig { path, source }),
        }
    }

    /// A configuration from text (tests).
    pub fn from_text(text: &str) -> Self {
        Self {
            text: Some(text.to_owned()),
        }
    }

    /// The settings for `host` (its inventory name, matched against `Host` patterns).
    pub fn lookup(&self, host: &str) -> russh_config::HostConfig {
        self.text
            .as_deref()
            .and_then(|text| russh_config::parse(text, host).ok())
            .map(|config| config.host_config)
            .unwrap_or_default()
    }
}

/// Expands a leading `~/` against `home`.
pub fn expand_home(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if path == "~" => home.to_path_buf(),
        None => PathBuf::from(path),
    }
}
