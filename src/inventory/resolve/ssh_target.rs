//! A host's SSH settings: its target from the inventory, the ssh config and defaults, and its
//! jump host (a hop that may name another host of the inventory).

use std::path::Path;

use indexmap::IndexMap;

use super::Resolver;
use crate::inventory::raw::RawVars;
use crate::inventory::ssh_config::expand_home;
use crate::inventory::{DidYouMean, InventoryError};
use crate::ssh::{HostKeyPolicy, SshTarget};

impl Resolver<'_> {
    /// The host's SSH settings without its jump host (resolved separately, since it may name
    /// another host).
    pub(super) fn ssh_target(
        &self,
        name: &str,
        vars: &RawVars,
    ) -> Result<SshTarget, InventoryError> {
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
    pub(super) fn jump_for(
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
