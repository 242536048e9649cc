//! From [`RawInventory`] to [`Inventory`]: checks every reference, merges variables
//! (defaults < groups < host < command line), refuses values that cannot work, and fills what
//! the inventory leaves unset from the ssh config ([`SshConfig`]: `ssh -G`, or `~/.ssh/config`)
//! and built-in defaults. The result is always valid.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use toml::Spanned;

use super::raw::{RawInventory, RawVars};
use super::ssh_config::SshConfig;
use super::{Host, InventoryError, Location, Role};

mod groups;
mod hub;
mod ssh_target;

/// What resolution needs besides the file: the operator's home (for `~/` and `~/.ssh`), their
/// ssh config, their local user name, and `-e KEY=VALUE` overrides.
#[derive(Debug, Clone)]
pub struct ResolveContext {
    /// `$HOME`.
    pub home: PathBuf,
    /// `~/.ssh/config`.
    pub ssh_config: SshConfig,
    /// The local user, the last fallback for the remote user (as with `ssh`).
    pub local_user: String,
    /// Command-line variables, highest precedence.
    pub extra_vars: RawVars,
}

/// A loaded, fully resolved inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    hosts: Vec<Host>,
    groups: IndexMap<String, Vec<String>>,
}

impl Inventory {
    /// Reads and resolves the inventory at `path`.
    pub fn load(path: &Path, context: &ResolveContext) -> Result<Self, InventoryError> {
        let source = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &source, context)
    }

    /// Resolves inventory text; `path` is only used in messages.
    pub fn parse(
        path: &Path,
        source: &str,
        context: &ResolveContext,
    ) -> Result<Self, InventoryError> {
        let raw: RawInventory = toml::from_str(source)
            .map_err(|e| InventoryError::syntax(path, source, e.span(), e.message()))?;
        // One `ssh -G` per host, in parallel, before the resolver asks for them one by one.
        let names: Vec<&str> = raw.hosts.keys().map(|h| h.get_ref().as_str()).collect();
        context.ssh_config.prefetch(&names)?;
        Resolver {
            path,
            source,
            raw: &raw,
            context,
        }
        .resolve()
    }

    /// Every host, in file order.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Every group with its hosts (direct members and those of its children), in file order.
    pub fn groups(&self) -> &IndexMap<String, Vec<String>> {
        &self.groups
    }
}

struct Resolver<'a> {
    path: &'a Path,
    source: &'a str,
    raw: &'a RawInventory,
    context: &'a ResolveContext,
}

impl Resolver<'_> {
    fn at(&self, span: std::ops::Range<usize>) -> Location {
        Location::new(self.path, self.source, span.start)
    }

    fn resolve(&self) -> Result<Inventory, InventoryError> {
        self.check_references()?;
        let depth = self.group_depths()?;
        let groups: IndexMap<String, Vec<String>> = self
            .raw
            .groups
            .keys()
            .map(|g| (g.get_ref().clone(), self.members(g.get_ref())))
            .collect();

        // Merge each host's variables, parents before children, same depth by name.
        let mut merged: IndexMap<String, (Vec<String>, RawVars)> = IndexMap::new();
        for (name, own) in &self.raw.hosts {
            let name = name.get_ref();
            let mut host_groups: Vec<&String> = groups
                .iter()
                .filter(|(_, hosts)| hosts.contains(name))
                .map(|(group, _)| group)
                .collect();
            host_groups.sort_by_key(|g| (depth[g.as_str()], g.as_str()));
            let mut vars = self.raw.defaults.clone();
            for group in &host_groups {
                let group_vars = self.raw.groups.iter().find(|(g, _)| g.get_ref() == *group);
                if let Some((_, raw_group)) = group_vars {
                    vars.overlay(&raw_group.vars);
                }
            }
            vars.overlay(own);
            vars.overlay(&self.context.extra_vars);
            merged.insert(
                name.clone(),
                (host_groups.into_iter().cloned().collect(), vars),
            );
        }

        let mut hosts = Vec::with_capacity(merged.len());
        for (name, (host_groups, vars)) in &merged {
            if let Some((key, span)) = vars.nul() {
                return Err(self.invalid(name, key, span, super::raw::NUL_PROBLEM));
            }
            let mut ssh = self.ssh_target(name, vars)?;
            ssh.jump = self.jump_for(name, vars, &ssh, &merged, &mut vec![name.clone()])?;
            hosts.push(Host {
                name: name.clone(),
                groups: host_groups.clone(),
                role: match vars.hub.as_ref().map(|h| *h.get_ref()) {
                    Some(false) => Role::Helper,
                    _ => Role::Hub,
                },
                hub: self.hub(name, vars)?,
                ssh,
            });
        }
        Ok(Inventory { hosts, groups })
    }

    /// A duration key of host `name`, in whole seconds, at least 1.
    fn seconds(
        &self,
        name: &str,
        key: &'static str,
        value: &Option<Spanned<u64>>,
        default: u64,
    ) -> Result<Duration, InventoryError> {
        match value {
            Some(v) if *v.get_ref() == 0 => {
                Err(self.invalid(name, key, v.span(), "must be at least 1 second"))
            }
            Some(v) => Ok(Duration::from_secs(*v.get_ref())),
            None => Ok(Duration::from_secs(default)),
        }
    }

    fn invalid(
        &self,
        host: &str,
        key: &'static str,
        span: std::ops::Range<usize>,
        problem: &str,
    ) -> InventoryError {
        InventoryError::InvalidValue {
            location: self.at(span),
            host: host.to_owned(),
            key,
            problem: problem.to_owned(),
        }
    }
}
