//! From [`RawInventory`] to [`Inventory`]: checks every reference, merges variables
//! (defaults < groups < host < command line), refuses values that cannot work, and fills what
//! the inventory leaves unset from the ssh config ([`SshConfig`]: `ssh -G`, or `~/.ssh/config`)
//! and built-in defaults. The result is always valid.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use toml::Spanned;

use super::raw::{RawInventory, RawVars};
use super::ssh_config::{SshConfig, expand_home};
use super::{DidYouMean, Host, Hub, InventoryError, Location, Role, ServiceEnvironment};
use crate::ssh::{Become, HostKeyPolicy, SshTarget};

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

    /// Every name a group or a host refers to exists, and no name is both a host and a group.
    fn check_references(&self) -> Result<(), InventoryError> {
        for (host, _) in &self.raw.hosts {
            if let Some(problem) = super::host_name_problem(host.get_ref()) {
                return Err(InventoryError::BadHostName {
                    location: self.at(host.span()),
                    name: host.get_ref().escape_debug().to_string(),
                    problem,
                });
            }
            if self
                .raw
                .groups
                .keys()
                .any(|g| g.get_ref() == host.get_ref())
            {
                return Err(InventoryError::HostIsGroup {
                    location: self.at(host.span()),
                    name: host.get_ref().clone(),
                });
            }
        }
        for (group, raw_group) in &self.raw.groups {
            for host in &raw_group.hosts {
                if !self.raw.hosts.keys().any(|h| h.get_ref() == host.get_ref()) {
                    return Err(InventoryError::UndefinedHost {
                        did_you_mean: DidYouMean::new(
                            host.get_ref(),
                            self.raw.hosts.keys().map(|h| h.get_ref().as_str()),
                        ),
                        location: self.at(host.span()),
                        group: group.get_ref().clone(),
                        host: host.get_ref().clone(),
                    });
                }
            }
            for child in &raw_group.children {
                if !self
                    .raw
                    .groups
                    .keys()
                    .any(|g| g.get_ref() == child.get_ref())
                {
                    return Err(InventoryError::UndefinedGroup {
                        did_you_mean: DidYouMean::new(
                            child.get_ref(),
                            self.raw.groups.keys().map(|g| g.get_ref().as_str()),
                        ),
                        location: self.at(child.span()),
                        group: group.get_ref().clone(),
                        child: child.get_ref().clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn children(&self, group: &str) -> impl Iterator<Item = &Spanned<String>> {
        self.raw
            .groups
            .iter()
            .filter(move |(g, _)| g.get_ref() == group)
            .flat_map(|(_, raw_group)| raw_group.children.iter())
    }

    /// Each group's depth: 0 for a group no other group lists as a child, else one more than its
    /// deepest parent. Fails on a cycle.
    fn group_depths(&self) -> Result<HashMap<&str, usize>, InventoryError> {
        // A cycle check first, so the depth recursion below terminates.
        for (group, _) in &self.raw.groups {
            let mut stack = vec![group.get_ref().as_str()];
            self.find_cycle(group, &mut stack)?;
        }
        let mut depth: HashMap<&str, usize> = HashMap::new();
        fn depth_of<'r>(
            r: &'r Resolver<'_>,
            g: &'r str,
            memo: &mut HashMap<&'r str, usize>,
        ) -> usize {
            if let Some(d) = memo.get(g) {
                return *d;
            }
            let d = r
                .raw
                .groups
                .iter()
                .filter(|(_, raw)| raw.children.iter().any(|c| c.get_ref() == g))
                .map(|(parent, _)| depth_of(r, parent.get_ref(), memo) + 1)
                .max()
                .unwrap_or(0);
            memo.insert(g, d);
            d
        }
        for group in self.raw.groups.keys() {
            depth_of(self, group.get_ref(), &mut depth);
        }
        Ok(depth)
    }

    fn find_cycle<'r>(
        &'r self,
        origin: &Spanned<String>,
        stack: &mut Vec<&'r str>,
    ) -> Result<(), InventoryError> {
        let current = *stack.last().unwrap_or(&"");
        for child in self.children(current) {
            if child.get_ref() == origin.get_ref() {
                stack.push(child.get_ref());
                return Err(InventoryError::GroupCycle {
                    location: self.at(origin.span()),
                    group: origin.get_ref().clone(),
                    path: stack.join(" -> "),
                });
            }
            if !stack.contains(&child.get_ref().as_str()) {
                stack.push(child.get_ref());
                self.find_cycle(origin, stack)?;
                stack.pop();
            }
        }
        Ok(())
    }

    /// A group's hosts: its own and its children's, in file order of the hosts.
    fn members(&self, group: &str) -> Vec<String> {
        let mut names = BTreeSet::new();
        let mut todo = vec![group.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(g) = todo.pop() {
            if !seen.insert(g.clone()) {
                continue;
            }
            if let Some((_, raw_group)) = self.raw.groups.iter().find(|(k, _)| *k.get_ref() == g) {
                names.extend(raw_group.hosts.iter().map(|h| h.get_ref().clone()));
                todo.extend(raw_group.children.iter().map(|c| c.get_ref().clone()));
            }
        }
        self.raw
            .hosts
            .keys()
            .map(|h| h.get_ref())
            .filter(|h| names.contains(*h))
            .cloned()
            .collect()
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

    /// The host's SSH settings without its jump host (resolved separately, since it may name
    /// another host).
    fn ssh_target(&self, name: &str, vars: &RawVars) -> Result<SshTarget, InventoryError> {
        let home = &self.context.home;
        if let Some(address) = &vars.address
            && let Some(problem) = address_problem(address.get_ref())
        {
            return Err(self.invalid(name, "address", address.span(), &problem));
        }
        if let Some(user) = &vars.user
            && user.get_ref().trim().is_empty()
        {
            return Err(self.invalid(
                name,
                "user",
                user.span(),
                "is empty: give the remote login name, or leave `user` out to use `ssh -G`'s or yours",
            ));
        }
        let from_config = self.context.ssh_config.lookup(name)?;
        let port = match &vars.port {
            Some(p) if *p.get_ref() == 0 => {
                return Err(self.invalid(name, "port", p.span(), "must be between 1 and 65535"));
            }
            Some(p) => *p.get_ref(),
            None => from_config.port.unwrap_or(22),
        };
        let identity_files = match &vars.identity_files {
            Some(files) => files
                .get_ref()
                .iter()
                .map(|f| expand_home(f, home))
                .collect(),
            None => from_config.identity_files.clone().unwrap_or_else(|| {
                ["id_ed25519", "id_ecdsa", "id_rsa"]
                    .iter()
                    .map(|f| home.join(".ssh").join(f))
                    .collect()
            }),
        };
        // As OpenSSH: every user file and every global file is read; new keys are learnt into
        // the first user file. `none` (ssh_config(5)) names no file.
        let ssh_default = |dir: &Path, names: [&str; 2]| names.map(|n| dir.join(n)).to_vec();
        let user_files = match &vars.known_hosts {
            Some(paths) if paths.get_ref().0.is_empty() => {
                return Err(self.invalid(
                    name,
                    "known_hosts",
                    paths.span(),
                    "is an empty list: give at least one known_hosts file",
                ));
            }
            Some(paths) => paths
                .get_ref()
                .0
                .iter()
                .map(|p| expand_home(p, home))
                .collect(),
            None => from_config.user_known_hosts.clone().unwrap_or_else(|| {
                ssh_default(&home.join(".ssh"), ["known_hosts", "known_hosts2"])
            }),
        };
        let global_files = from_config.global_known_hosts.clone().unwrap_or_else(|| {
            ssh_default(
                Path::new("/etc/ssh"),
                ["ssh_known_hosts", "ssh_known_hosts2"],
            )
        });
        let mut files = user_files
            .iter()
            .chain(&global_files)
            .filter(|f| f.as_os_str() != "none")
            .map(|f| expand_home(&f.to_string_lossy(), home));
        let known_hosts = files
            .next()
            .unwrap_or_else(|| home.join(".ssh").join("known_hosts"));
        let more_known_hosts = files.collect();
        Ok(SshTarget {
            name: name.to_owned(),
            address: vars
                .address
                .as_ref()
                .map(|a| a.get_ref().clone())
                .or(from_config.hostname.clone())
                .unwrap_or_else(|| name.to_owned()),
            port,
            user: vars
                .user
                .as_ref()
                .map(|u| u.get_ref().clone())
                .or(from_config.user.clone())
                .unwrap_or_else(|| self.context.local_user.clone()),
            identity_files: identity_files
                .into_iter()
                .map(|p| expand_home(&p.to_string_lossy(), home))
                .collect(),
            known_hosts,
            more_known_hosts,
            host_key_policy: vars
                .host_key_policy
                .as_ref()
                .map_or(HostKeyPolicy::Strict, |p| *p.get_ref()),
            connect_timeout: self.seconds(
                name,
                "connect_timeout",
                &vars.connect_timeout,
                from_config.connect_timeout.unwrap_or(10),
            )?,
            keepalive: self.seconds(
                name,
                "keepalive",
                &vars.keepalive,
                from_config.server_alive_interval.unwrap_or(15),
            )?,
            jump: None,
        })
    }

    /// The jump host chain of `name`: an inventory host, or a `[user@]address[:port]` list as in
    /// OpenSSH's ProxyJump (`a,b`: through `a`, then `b`). Unset means `~/.ssh/config`'s ProxyJump.
    fn jump_for(
        &self,
        name: &str,
        vars: &RawVars,
        target: &SshTarget,
        merged: &IndexMap<String, (Vec<String>, RawVars)>,
        chain: &mut Vec<String>,
    ) -> Result<Option<Box<SshTarget>>, InventoryError> {
        let (spec, span) = match &vars.jump {
            Some(j) => (j.get_ref().clone(), j.span()),
            None => match self.context.ssh_config.lookup(name)?.proxy_jump {
                Some(j) => (j, 0..0),
                None => return Ok(None),
            },
        };
        let mut jump: Option<Box<SshTarget>> = None;
        for hop in spec.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            let mut hop_target = if let Some((_, hop_vars)) = merged.get(hop) {
                if chain.iter().any(|c| c == hop) {
                    chain.push(hop.to_owned());
                    return Err(self.invalid(
                        name,
                        "jump",
                        span,
                        &format!("forms a loop: {}", chain.join(" -> ")),
                    ));
                }
                chain.push(hop.to_owned());
                let mut t = self.ssh_target(hop, hop_vars)?;
                // A jump host of the inventory brings its own jump chain, unless this spec
                // already lists the hops before it.
                if jump.is_none() {
                    t.jump = self.jump_for(hop, hop_vars, &t, merged, chain)?;
                }
                chain.pop();
                t
            } else {
                // A jump the inventory wrote is checked; one from `ssh -G` was checked by ssh.
                if vars.jump.is_some() {
                    self.check_hop(name, hop, merged, span.clone())?;
                }
                self.parse_hop(name, hop, target, span.clone())?
            };
            if jump.is_some() {
                hop_target.jump = jump.take();
            }
            jump = Some(Box::new(hop_target));
        }
        Ok(jump)
    }

    /// A hop that is not a host of the inventory: refused if it looks like a typo of one (a bare
    /// name close to a host's that the ssh config does not know either), or if it is not
    /// `[user@]host[:port]`.
    fn check_hop(
        &self,
        name: &str,
        hop: &str,
        merged: &IndexMap<String, (Vec<String>, RawVars)>,
        span: std::ops::Range<usize>,
    ) -> Result<(), InventoryError> {
        // A bare name the ssh config knows (a `Host` alias with a `HostName`) is no typo.
        if !hop.contains(['@', ':', '.']) && self.context.ssh_config.lookup(hop)?.hostname.is_none()
        {
            let suggestion = DidYouMean::new(hop, merged.keys().map(String::as_str));
            if suggestion.name().is_some() {
                return Err(self.invalid(
                    name,
                    "jump",
                    span,
                    &format!(
                        "names `{hop}`, which is not a host of the inventory{suggestion} (for a host outside the inventory, write `{hop}:22`)"
                    ),
                ));
            }
        }
        let (user, rest) = match hop.split_once('@') {
            Some((user, rest)) => (Some(user), rest),
            None => (None, hop),
        };
        let host = match rest.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(h, _)| h),
            None => rest.rsplit_once(':').map_or(rest, |(h, _)| h),
        };
        let user_ok = user.is_none_or(|u| !u.is_empty() && !u.contains(char::is_whitespace));
        let host_ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:%".contains(c));
        if user_ok && host_ok {
            return Ok(());
        }
        Err(self.invalid(
            name,
            "jump",
            span,
            &format!(
                "names `{hop}`, which is neither a host of the inventory nor `[user@]host[:port]`"
            ),
        ))
    }

    /// A `[user@]address[:port]` hop, inheriting keys, known_hosts and timeouts from `via`.
    fn parse_hop(
        &self,
        name: &str,
        hop: &str,
        via: &SshTarget,
        span: std::ops::Range<usize>,
    ) -> Result<SshTarget, InventoryError> {
        let (user, rest) = match hop.split_once('@') {
            Some((u, r)) => (Some(u.to_owned()), r),
            None => (None, hop),
        };
        let (address, port) = match rest.rsplit_once(':') {
            Some((a, p)) if !a.contains(':') || a.starts_with('[') => {
                let port = p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
                    self.invalid(name, "jump", span.clone(), &format!("has a bad port in `{hop}`: expected `[user@]host[:port]` or a host of the inventory"))
                })?;
                (a.trim_matches(['[', ']']).to_owned(), Some(port))
            }
            _ => (rest.to_owned(), None),
        };
        if address.is_empty() {
            return Err(self.invalid(name, "jump", span, &format!("`{hop}` names no host: expected `[user@]host[:port]` or a host of the inventory")));
        }
        let from_config = self.context.ssh_config.lookup(&address)?;
        Ok(SshTarget {
            name: hop.to_owned(),
            address: from_config
                .hostname
                .clone()
                .unwrap_or_else(|| address.clone()),
            port: port.or(from_config.port).unwrap_or(22),
            user: user
                .or(from_config.user.clone())
                .unwrap_or_else(|| self.context.local_user.clone()),
            identity_files: via.identity_files.clone(),
            known_hosts: via.known_hosts.clone(),
            more_known_hosts: via.more_known_hosts.clone(),
            host_key_policy: via.host_key_policy,
            connect_timeout: via.connect_timeout,
            keepalive: via.keepalive,
            jump: None,
        })
    }

    /// `environment` and `environment_file`: names a process environment can hold, a path the
    /// host can open without a working directory.
    fn environment(
        &self,
        name: &str,
        vars: &RawVars,
    ) -> Result<Option<ServiceEnvironment>, InventoryError> {
        if vars.environment.is_none() && vars.environment_file.is_none() {
            return Ok(None);
        }
        let variables = vars
            .environment
            .as_ref()
            .map(|v| v.get_ref().clone())
            .unwrap_or_default();
        if let (Some(table), Some(bad)) = (
            &vars.environment,
            variables.keys().find(|k| !is_variable_name(k)),
        ) {
            return Err(self.invalid(
                name,
                "environment",
                table.span(),
                &format!(
                    "names `{}`, which is not an environment variable name (letters, digits and `_`, not starting with a digit)",
                    bad.escape_debug()
                ),
            ));
        }
        let file = vars.environment_file.as_ref().map(|f| f.get_ref().clone());
        if let (Some(raw), Some(path)) = (&vars.environment_file, &file)
            && !path.trim_start_matches('-').starts_with('/')
        {
            return Err(self.invalid(
                name,
                "environment_file",
                raw.span(),
                &format!("is `{path}`, which is not an absolute path on the host"),
            ));
        }
        Ok(Some(ServiceEnvironment { variables, file }))
    }

    /// Hub values that cannot work: a relative path (the host has no working directory to
    /// resolve it against) or an empty command.
    fn check_hub_values(&self, name: &str, vars: &RawVars) -> Result<(), InventoryError> {
        let paths = [
            ("hub_env", &vars.hub_env),
            ("singleuser_env", &vars.singleuser_env),
            ("config", &vars.config),
            ("workdir", &vars.workdir),
        ];
        for (key, value) in paths {
            if let Some(path) = value
                && !path.get_ref().starts_with('/')
            {
                return Err(self.invalid(
                    name,
                    key,
                    path.span(),
                    &format!(
                        "is `{}`, which is not an absolute path on the host",
                        path.get_ref()
                    ),
                ));
            }
        }
        for (key, value, does) in [
            ("stop", &vars.stop, "stops"),
            ("start", &vars.start, "starts"),
        ] {
            if let Some(command) = value
                && command.get_ref().trim().is_empty()
            {
                return Err(self.invalid(
                    name,
                    key,
                    command.span(),
                    &format!("is empty: give the shell command that {does} the hub"),
                ));
            }
        }
        Ok(())
    }

    fn hub(&self, name: &str, vars: &RawVars) -> Result<Hub, InventoryError> {
        self.check_hub_values(name, vars)?;
        let text = |v: &Option<Spanned<String>>, default: &str| {
            v.as_ref()
                .map_or_else(|| default.to_owned(), |s| s.get_ref().clone())
        };
        let config = text(&vars.config, "/etc/jupyterhub/jupyterhub_config.py");
        // JupyterHub resolves a relative sqlite URL against its working directory; without one in
        // the inventory we assume the config's directory, where most guides run the hub from.
        let config_dir = Path::new(&config)
            .parent()
            .map_or_else(|| "/".to_owned(), |p| p.to_string_lossy().into_owned());
        let become_ = match vars.become_.as_ref().map(|b| *b.get_ref()) {
            Some(true) => Become::Sudo {
                user: text(&vars.become_user, "root"),
            },
            _ => Become::No,
        };
        let installer = vars
            .installer
            .as_ref()
            .map(|i| *i.get_ref())
            .unwrap_or_default();
        Ok(Hub {
            env: text(&vars.hub_env, "/opt/jupyterhub"),
            installer,
            conda: text(&vars.conda, "conda"),
            uv: text(&vars.uv, "uv"),
            singleuser_env: vars.singleuser_env.as_ref().map(|s| s.get_ref().clone()),
            singleuser_installer: vars
                .singleuser_installer
                .as_ref()
                .map_or(installer, |i| *i.get_ref()),
            workdir: text(&vars.workdir, &config_dir),
            config,
            environment: self.environment(name, vars)?,
            stop: text(&vars.stop, "systemctl stop jupyterhub"),
            stop_timeout: self.seconds(name, "stop_timeout", &vars.stop_timeout, 120)?,
            start: text(&vars.start, "systemctl start jupyterhub"),
            start_timeout: self.seconds(name, "start_timeout", &vars.start_timeout, 120)?,
            upgrade_db_timeout: self.seconds(
                name,
                "upgrade_db_timeout",
                &vars.upgrade_db_timeout,
                600,
            )?,
            stage_timeout: self.seconds(name, "stage_timeout", &vars.stage_timeout, 1800)?,
            notify_timeout: self.seconds(name, "notify_timeout", &vars.notify_timeout, 120)?,
            config_timeout: self.seconds(name, "config_timeout", &vars.config_timeout, 60)?,
            notify: vars
                .notify
                .as_ref()
                .map(|s| s.get_ref().clone())
                .filter(|s| !s.is_empty()),
            health_url: text(&vars.health_url, "http://127.0.0.1:8081/hub/api"),
            backup_extra: vars
                .backup_extra
                .as_ref()
                .map(|b| b.get_ref().clone())
                .unwrap_or_default(),
            become_,
        })
    }
}

/// What is wrong with an `address` the inventory sets, in words that say what to write instead.
fn address_problem(address: &str) -> Option<String> {
    if address.trim().is_empty() {
        return Some(
            "is empty: give the host's DNS name or IP address, or leave `address` out to use the host's name"
                .to_owned(),
        );
    }
    if let Some((user, host)) = address.split_once('@') {
        return Some(format!(
            "is `{address}`, which holds a user: write `address = \"{host}\"` and `user = \"{user}\"`"
        ));
    }
    // `host:port` or `[v6]:port`; a bare IPv6 address has more than one colon.
    let split = match address.strip_prefix('[') {
        Some(rest) => rest.split_once("]:"),
        None => address
            .split_once(':')
            .filter(|_| address.matches(':').count() == 1),
    };
    if let Some((host, port)) = split
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(format!(
            "is `{address}`, which holds a port: write `address = \"{host}\"` and `port = {port}`"
        ));
    }
    if address.contains(char::is_whitespace) {
        return Some(format!(
            "is `{address}`, which holds a space: give only the host's DNS name or IP address"
        ));
    }
    None
}

/// Whether `name` can name a variable of a process's environment (as POSIX shells require).
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
