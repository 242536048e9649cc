//! The operator's OpenSSH client configuration, honoured where the inventory says nothing, as
//! `ssh NAME` would (issue 14, item 1).
//!
//! Where an `ssh` client is on `PATH`, OpenSSH itself decides: `ssh -G NAME` prints the settings
//! it would use, with `Include`, `Match`, tokens and `/etc/ssh/ssh_config` applied (see
//! [`super::ssh_g`]). Without one, russh-config reads `~/.ssh/config`, and every line it cannot
//! honour is a warning naming `FILE:LINE` (see [`super::ssh_config_file`]).

use std::path::{Path, PathBuf};

use super::InventoryError;
use super::ssh_config_file::ConfigFile;
use super::ssh_g::OpenSsh;

/// What the operator's ssh configuration sets for one name; `None` is "not set", so that
/// hubfleet's own default applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshSettings {
    /// `HostName`.
    pub hostname: Option<String>,
    /// `User`.
    pub user: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `IdentityFile`, in order (a leading `~/` is expanded by the resolver).
    pub identity_files: Option<Vec<PathBuf>>,
    /// `UserKnownHostsFile`: read in order, new keys learnt into the first.
    pub user_known_hosts: Option<Vec<PathBuf>>,
    /// `GlobalKnownHostsFile`: read, never written.
    pub global_known_hosts: Option<Vec<PathBuf>>,
    /// `ProxyJump` (`none` is reported as unset).
    pub proxy_jump: Option<String>,
    /// `ConnectTimeout`, in seconds.
    pub connect_timeout: Option<u64>,
    /// `ServerAliveInterval`, in seconds.
    pub server_alive_interval: Option<u64>,
}

/// Where the settings of a name come from, decided once per run.
#[derive(Debug, Clone, Default)]
pub enum SshConfig {
    /// No configuration: every name gets hubfleet's defaults (no `~/.ssh/config`, or tests).
    #[default]
    Empty,
    /// `ssh -G`, the OpenSSH client's own answer.
    OpenSsh(OpenSsh),
    /// `~/.ssh/config` read by russh-config, without an `ssh` client.
    File(ConfigFile),
}

impl SshConfig {
    /// `ssh -G` where an `ssh` client is on `PATH`, otherwise `HOME/.ssh/config` through
    /// russh-config (a missing file is an empty configuration).
    pub fn load(home: &Path) -> Result<Self, InventoryError> {
        if let Some(ssh) = OpenSsh::detect(home)? {
            return Ok(Self::OpenSsh(ssh));
        }
        let path = home.join(".ssh").join("config");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Self::File(ConfigFile::parse(&path, &text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::Empty),
            Err(source) => Err(InventoryError::SshConfig { path, source }),
        }
    }

    /// A configuration file's text, read without `ssh` (tests).
    pub fn from_text(text: &str) -> Self {
        Self::File(ConfigFile::parse(Path::new("~/.ssh/config"), text))
    }

    /// The lines that were not honoured, as `FILE:LINE: why` (only without `ssh`).
    pub fn warnings(&self) -> &[String] {
        match self {
            Self::File(file) => file.warnings(),
            Self::Empty | Self::OpenSsh(_) => &[],
        }
    }

    /// Looks up every name at once (in parallel with `ssh -G`), so that later lookups are cached.
    pub fn prefetch(&self, names: &[&str]) -> Result<(), InventoryError> {
        match self {
            Self::OpenSsh(ssh) => ssh.prefetch(names),
            Self::Empty | Self::File(_) => Ok(()),
        }
    }

    /// The settings for `name` (an inventory name or a jump host's address).
    pub fn lookup(&self, name: &str) -> Result<SshSettings, InventoryError> {
        match self {
            Self::Empty => Ok(SshSettings::default()),
            Self::OpenSsh(ssh) => ssh.lookup(name),
            Self::File(file) => Ok(file.lookup(name)),
        }
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
