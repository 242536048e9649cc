//! The inventory file exactly as written: serde structs that mirror the TOML, with spans for
//! error messages. Nothing here is validated beyond types and key names; [`super::resolve`] turns
//! it into always-valid [`super::Host`]s.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::inventory::Installer;
use crate::ssh::HostKeyPolicy;

/// Defines [`RawVars`] once, with the list of its keys and the merge of two layers, so that a new
/// variable is one line here and cannot be forgotten in the merge.
macro_rules! raw_vars {
    ($( $(#[$attr:meta])* $field:ident : $ty:ty ),* $(,)?) => {
        /// The variables a `[defaults]`, `[groups.NAME.vars]` or `[hosts.NAME]` table may set.
        /// Every key is optional; an unset key inherits from the layer below.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawVars {
            $( $(#[$attr])* pub $field: Option<Spanned<$ty>>, )*
        }

        impl RawVars {
            /// Sets every key that `upper` sets, keeping the others: `upper` wins.
            pub fn overlay(&mut self, upper: &RawVars) {
                $( if upper.$field.is_some() { self.$field = upper.$field.clone(); } )*
            }

            /// The first key whose text holds a NUL character, and where it was set: no
            /// command line, path or environment can carry one.
            pub fn nul(&self) -> Option<(&'static str, std::ops::Range<usize>)> {
                $(
                    if let Some(value) = &self.$field
                        && Text::has_nul(value.get_ref())
                    {
                        return Some((stringify!($field), value.span()));
                    }
                )*
                None
            }
        }
    };
}

raw_vars! {
    /// Address to connect to; defaults to the host's name.
    address: String,
    /// sshd port.
    port: u16,
    /// Remote login user.
    user: String,
    /// Private key files, tried after the agent's keys.
    identity_files: Vec<String>,
    /// OpenSSH known_hosts files: one path or a list (all read, new keys learnt into the first).
    known_hosts: Paths,
    /// How unknown host keys are treated.
    host_key_policy: HostKeyPolicy,
    /// Seconds for connect, handshake and authentication.
    connect_timeout: u64,
    /// Seconds between keepalives.
    keepalive: u64,
    /// Jump host: an inventory host name or `user@address:port`; empty for none.
    jump: String,
    /// Run hub commands through sudo.
    #[serde(rename = "become")]
    become_: bool,
    /// The user sudo runs hub commands as.
    become_user: String,
    /// The hub's Python environment prefix.
    hub_env: String,
    /// The package installer of the hub environment.
    installer: Installer,
    /// The `conda` executable on the host, with `installer = "conda"`.
    conda: String,
    /// The `uv` executable on the host, with `installer = "uv"`.
    uv: String,
    /// The single-user servers' environment prefix.
    singleuser_env: String,
    /// The installer of the single-user env (default: `installer`).
    singleuser_installer: Installer,
    /// `jupyterhub_config.py` on the host.
    config: String,
    /// The hub's working directory.
    workdir: String,
    /// The hub's environment variables when it is not running (what its service sets with
    /// systemd's `Environment=`); the running hub's own environment wins.
    environment: IndexMap<String, String>,
    /// The file the hub's service reads its environment from (systemd's `EnvironmentFile=`), on
    /// the host; its variables override `environment`'s, as in systemd.
    environment_file: String,
    /// Shell command that stops the hub.
    stop: String,
    /// Seconds the hub may take to stop after `stop` (its API quiet, its database closed).
    stop_timeout: u64,
    /// Shell command that starts the hub.
    start: String,
    /// Seconds the hub may take to answer after `start`.
    start_timeout: u64,
    /// Seconds `jupyterhub upgrade-db` may take in the downtime before it is stopped and the
    /// cutover rolled back.
    upgrade_db_timeout: u64,
    /// Seconds the stage's installer (pip, uv or conda, while the hub serves) may take before it
    /// is stopped and the staged copy removed.
    stage_timeout: u64,
    /// Seconds the `notify` command may take before it is stopped and the upgrade refused.
    notify_timeout: u64,
    /// Seconds the hub's config may take to load when the facts resolve its database.
    config_timeout: u64,
    /// Shell command that tells users an upgrade is coming (`$HUBFLEET_MESSAGE` holds the text).
    notify: String,
    /// URL of the hub's `/hub/api`, as reachable from the host.
    health_url: String,
    /// More remote files to include in every backup.
    backup_extra: Vec<String>,
    /// `false` for a helper such as a bastion: never a target of `facts`, `backup` or `upgrade`.
    hub: bool,
}

/// Why a value holding a NUL character is refused, in the file or in `-e`.
pub const NUL_PROBLEM: &str =
    "holds a NUL character, which no command, path or environment can carry";

/// What a variable's value holds of text, for [`RawVars::nul`].
trait Text {
    fn has_nul(&self) -> bool {
        false
    }
}

impl Text for String {
    fn has_nul(&self) -> bool {
        self.contains('\0')
    }
}

impl Text for Vec<String> {
    fn has_nul(&self) -> bool {
        self.iter().any(Text::has_nul)
    }
}

impl Text for IndexMap<String, String> {
    fn has_nul(&self) -> bool {
        self.iter().any(|(k, v)| k.has_nul() || v.has_nul())
    }
}

impl Text for Paths {
    fn has_nul(&self) -> bool {
        self.0.has_nul()
    }
}

impl Text for u16 {}
impl Text for u64 {}
impl Text for bool {}
impl Text for HostKeyPolicy {}
impl Text for Installer {}

/// One path or a list of them, as OpenSSH's `UserKnownHostsFile` takes a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths(pub Vec<String>);

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Paths;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path or a list of paths")
            }
            fn visit_str<E: serde::de::Error>(self, path: &str) -> Result<Paths, E> {
                Ok(Paths(vec![path.to_owned()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Paths, A::Error> {
                let mut paths = Vec::new();
                while let Some(path) = seq.next_element::<String>()? {
                    paths.push(path);
                }
                Ok(Paths(paths))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A `[groups.NAME]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Hosts in this group.
    #[serde(default)]
    pub hosts: Vec<Spanned<String>>,
    /// Groups whose hosts belong to this group too.
    #[serde(default)]
    pub children: Vec<Spanned<String>>,
    /// Variables of the group's hosts.
    #[serde(default)]
    pub vars: RawVars,
}

/// The whole inventory file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    /// Variables of every host.
    #[serde(default)]
    pub defaults: RawVars,
    /// Groups, in file order.
    #[serde(default)]
    pub groups: IndexMap<Spanned<String>, RawGroup>,
    /// Hosts and their own variables, in file order.
    #[serde(default)]
    pub hosts: IndexMap<Spanned<String>, RawVars>,
}
