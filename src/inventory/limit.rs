//! `--limit`: which hosts of the inventory a command touches.
//!
//! A list of patterns separated by `,` or `:`, as with Ansible: `all`, a host name, a group name,
//! a glob over both (`hub-*`), `&PATTERN` to intersect, `!PATTERN` to exclude, and `@FILE` for the
//! names in a file (one per line, `#` comments), such as a list of hosts an operator keeps to
//! retry. As in Ansible, included patterns are a union (none means every
//! host), which each intersection then narrows, and exclusions are removed last, wherever each
//! stands in the list (`eu:&canary:!hub-paris`).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};

use super::{Host, Inventory, InventoryError, Role as HostRole};

/// Which hosts a command may target at all, before `--limit` narrows them (issue 14, item 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Every host, helpers too: `inventory` lists them all.
    Every,
    /// Hubs only: a helper (`hub = false`) is never stopped, backed up or upgraded, whatever the
    /// limit says (`facts`, `backup`, `upgrade`).
    Hubs,
    /// Hubs, and a helper where the limit names it by its own name, not through a group, a
    /// glob or `all` (`exec`).
    HubsAndNamedHelpers,
}

impl Targets {
    /// Whether `host` may be selected when `limit` names it (or not).
    fn admits(self, host: &Host, limit: &Limit) -> bool {
        match (self, host.role) {
            (Self::Every, _) | (_, HostRole::Hub) => true,
            (Self::Hubs, HostRole::Helper) => false,
            (Self::HubsAndNamedHelpers, HostRole::Helper) => limit
                .include
                .iter()
                .chain(&limit.intersect)
                .any(|p| matches!(p, Pattern::Name(n) if *n == host.name)),
        }
    }
}

/// A parsed `--limit`.
#[derive(Debug, Clone)]
pub struct Limit {
    text: String,
    include: Vec<Pattern>,
    intersect: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

#[derive(Debug, Clone)]
enum Pattern {
    /// `all`: every host (Ansible's name for it).
    All,
    Name(String),
    Glob(GlobMatcher),
}

/// What an item of the list does with the hosts its pattern selects.
#[derive(Debug, Clone, Copy)]
enum Role {
    Include,
    Intersect,
    Exclude,
}

impl Limit {
    /// Every host.
    pub fn all() -> Self {
        Self {
            text: "all".to_owned(),
            include: Vec::new(),
            intersect: Vec::new(),
            exclude: Vec::new(),
        }
    }

    /// Parses a `--limit` value; `@FILE` paths are relative to the current directory.
    pub fn parse(text: &str) -> Result<Self, InventoryError> {
        let mut limit = Self {
            text: text.to_owned(),
            ..Self::all()
        };
        for item in items(text) {
            let (role, item) = match (item.strip_prefix('!'), item.strip_prefix('&')) {
                (Some(rest), _) => (Role::Exclude, rest),
                (_, Some(rest)) => (Role::Intersect, rest),
                _ => (Role::Include, item),
            };
            let patterns = match item.strip_prefix('@') {
                Some(file) => read_names(Path::new(file), text)?,
                None => vec![item.to_owned()],
            };
            let list = match role {
                Role::Include => &mut limit.include,
                Role::Intersect => &mut limit.intersect,
                Role::Exclude => &mut limit.exclude,
            };
            for pattern in patterns {
                list.push(Pattern::new(&pattern, text)?);
            }
        }
        Ok(limit)
    }

    /// The selected hosts, in inventory order. Fails if a plain name is neither a host nor a
    /// group (a typo would otherwise silently shrink the run), or if nothing is selected.
    pub fn select<'i>(
        &self,
        inventory: &'i Inventory,
        targets: Targets,
    ) -> Result<Vec<&'i Host>, InventoryError> {
        for pattern in self
            .include
            .iter()
            .chain(&self.intersect)
            .chain(&self.exclude)
        {
            if let Pattern::Name(name) = pattern
                && !inventory.hosts().iter().any(|h| &h.name == name)
                && !inventory.groups().contains_key(name)
            {
                let names = inventory
                    .hosts()
                    .iter()
                    .map(|h| h.name.as_str())
                    .chain(inventory.groups().keys().map(String::as_str));
                return Err(InventoryError::BadLimit {
                    pattern: self.text.clone(),
                    message: format!(
                        "`{name}` is neither a host nor a group of the inventory{}",
                        super::DidYouMean::new(name, names)
                    ),
                });
            }
        }
        let matched: Vec<&Host> = inventory
            .hosts()
            .iter()
            .filter(|host| {
                let selects = |p: &Pattern| p.selects(host, inventory);
                (self.include.is_empty() || self.include.iter().any(selects))
                    && self.intersect.iter().all(selects)
                    && !self.exclude.iter().any(selects)
            })
            .collect();
        let helpers: Vec<String> = matched
            .iter()
            .filter(|h| !targets.admits(h, self))
            .map(|h| h.name.clone())
            .collect();
        let selected: Vec<&Host> = matched
            .into_iter()
            .filter(|h| targets.admits(h, self))
            .collect();
        if selected.is_empty() {
            return Err(if helpers.is_empty() {
                InventoryError::EmptySelection {
                    limit: self.text.clone(),
                }
            } else {
                InventoryError::OnlyHelpers {
                    limit: self.text.clone(),
                    helpers: helpers.join("`, `"),
                }
            });
        }
        Ok(selected)
    }
}

impl Pattern {
    fn new(pattern: &str, limit: &str) -> Result<Self, InventoryError> {
        if pattern == "all" {
            Ok(Self::All)
        } else if pattern.contains(['*', '?', '[']) {
            let glob = Glob::new(pattern).map_err(|e| InventoryError::BadLimit {
                pattern: limit.to_owned(),
                message: format!("`{pattern}` is not a valid glob: {}", e.kind()),
            })?;
            Ok(Self::Glob(glob.compile_matcher()))
        } else {
            Ok(Self::Name(pattern.to_owned()))
        }
    }

    /// True if the pattern names the host, or a group the host is in.
    fn selects(&self, host: &Host, inventory: &Inventory) -> bool {
        let matches = |name: &str| match self {
            Self::All => true,
            Self::Name(n) => n == name,
            Self::Glob(g) => g.is_match(name),
        };
        matches(&host.name)
            || inventory
                .groups()
                .iter()
                .any(|(group, hosts)| matches(group) && hosts.contains(&host.name))
    }
}

/// The items of a limit: split at `,`, then at `:` as Ansible does, except in an `@FILE` item,
/// whose path is taken whole up to the next `,`.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .flat_map(|item| {
            let file = item
                .trim_start()
                .trim_start_matches(['!', '&'])
                .starts_with('@');
            let parts: Vec<&str> = if file {
                vec![item]
            } else {
                item.split(':').collect()
            };
            parts
        })
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn read_names(file: &Path, limit: &str) -> Result<Vec<String>, InventoryError> {
    let text = std::fs::read_to_string(file).map_err(|e| InventoryError::BadLimit {
        pattern: limit.to_owned(),
        message: match e.kind() {
            // Most often a retry file's name mistyped, or taken from another backup directory.
            std::io::ErrorKind::NotFound => format!(
                "cannot read `{}`: no such file (a run with failed hosts lists them in `BACKUP_DIR/retry-TIMESTAMP.txt`; its path is under the recap)",
                PathBuf::from(file).display()
            ),
            _ => format!("cannot read `{}`: {e}", PathBuf::from(file).display()),
        },
    })?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::inventory::{RawVars, ResolveContext, SshConfig};

    /// eu = {paris, berlin} (berlin through its child group gpu), canary = {paris, lone}.
    const FLEET: &str = r#"
[groups.eu]
hosts = ["paris"]
children = ["gpu"]
[groups.gpu]
hosts = ["berlin"]
[groups.canary]
hosts = ["paris", "lone"]
[hosts.paris]
[hosts.berlin]
[hosts.lone]
"#;

    fn inventory() -> Inventory {
        let context = ResolveContext {
            home: PathBuf::from("/home/op"),
            ssh_config: SshConfig::default(),
            local_user: "op".to_owned(),
            extra_vars: RawVars::default(),
        };
        Inventory::parse(Path::new("inv.toml"), FLEET, &context).unwrap()
    }

    #[test]
    fn ansible_patterns_select_as_in_ansible() {
        let inv = inventory();
        let cases: &[(&str, &[&str])] = &[
            ("all", &["paris", "berlin", "lone"]),
            ("all:!eu", &["lone"]),
            ("all,!eu", &["lone"]),
            ("gpu:lone", &["berlin", "lone"]),
            ("eu:&canary", &["paris"]),
            ("eu,&canary", &["paris"]),
            // Intersections narrow the whole union, wherever they stand.
            ("&canary:eu:lone", &["paris", "lone"]),
            ("eu:lone:&canary:!paris", &["lone"]),
            // An intersection alone narrows every host.
            ("&canary", &["paris", "lone"]),
            ("&eu:&canary", &["paris"]),
            ("p*:b*", &["paris", "berlin"]),
            (" eu : &canary ", &["paris"]),
        ];
        for (limit, expected) in cases {
            let selected = Limit::parse(limit)
                .unwrap()
                .select(&inv, Targets::Hubs)
                .unwrap();
            let names: Vec<&str> = selected.iter().map(|h| h.name.as_str()).collect();
            assert_eq!(names, *expected, "--limit {limit}");
        }
    }

    #[test]
    fn helpers_are_targeted_only_by_exec_and_only_by_their_own_name() {
        let context = ResolveContext {
            home: PathBuf::from("/home/op"),
            ssh_config: SshConfig::default(),
            local_user: "op".to_owned(),
            extra_vars: RawVars::default(),
        };
        let fleet =
            format!("{FLEET}[hosts.gate]\nhub = false\n[groups.gpu.vars]\njump = \"gate\"\n");
        let inv = Inventory::parse(Path::new("inv.toml"), &fleet, &context).unwrap();
        let cases: &[(&str, Targets, &[&str])] = &[
            ("all", Targets::Hubs, &["paris", "berlin", "lone"]),
            (
                "all",
                Targets::HubsAndNamedHelpers,
                &["paris", "berlin", "lone"],
            ),
            ("all", Targets::Every, &["paris", "berlin", "lone", "gate"]),
            ("eu", Targets::Hubs, &["paris", "berlin"]),
            ("g*", Targets::HubsAndNamedHelpers, &["berlin"]),
            ("gate", Targets::HubsAndNamedHelpers, &["gate"]),
            (
                "eu:gate",
                Targets::HubsAndNamedHelpers,
                &["paris", "berlin", "gate"],
            ),
        ];
        for (limit, targets, expected) in cases {
            let selected = Limit::parse(limit).unwrap().select(&inv, *targets).unwrap();
            let names: Vec<&str> = selected.iter().map(|h| h.name.as_str()).collect();
            assert_eq!(names, *expected, "--limit {limit} for {targets:?}");
        }
        // The helper is still the hubs' jump host.
        assert_eq!(inv.hosts()[1].ssh.jump.as_ref().unwrap().name, "gate");
        let error = Limit::parse("gate")
            .unwrap()
            .select(&inv, Targets::Hubs)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`--limit gate` selects no hub: `gate` is not a hub (`hub = false`)"
        );
    }

    #[test]
    fn a_file_item_keeps_its_colons() {
        let inv = inventory();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("failed:2026.hosts");
        std::fs::write(&file, "lone\nberlin\n").unwrap();
        let limit = format!("@{},&canary", file.display());
        let selected = Limit::parse(&limit)
            .unwrap()
            .select(&inv, Targets::Hubs)
            .unwrap();
        let names: Vec<&str> = selected.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["lone"]);
    }

    #[test]
    fn ansible_patterns_that_select_nothing_or_name_nothing_are_refused() {
        let inv = inventory();
        let cases = [
            (
                "eu:&lone",
                "`--limit eu:&lone` selects no host of the inventory",
            ),
            (
                "all:!all",
                "`--limit all:!all` selects no host of the inventory",
            ),
            (
                "eu:&canry",
                "`--limit eu:&canry`: `canry` is neither a host nor a group of the inventory; did you mean `canary`?",
            ),
        ];
        for (limit, message) in cases {
            let error = Limit::parse(limit)
                .unwrap()
                .select(&inv, Targets::Hubs)
                .unwrap_err();
            assert_eq!(error.to_string(), message, "--limit {limit}");
        }
    }
}
