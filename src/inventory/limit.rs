//! `--limit`: which hosts of the inventory a command touches.
//!
//! A comma list of patterns, as with Ansible: a host name, a group name, a glob over both
//! (`hub-*`), `!PATTERN` to exclude, and `@FILE` for the names in a file (one per line, `#`
//! comments) — how an operator retries the hosts a previous run wrote to its failed-hosts file.
//! Included patterns are a union (none means every host); exclusions are removed from it.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};

use super::{Host, Inventory, InventoryError};

/// A parsed `--limit`.
#[derive(Debug, Clone)]
pub struct Limit {
    text: String,
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

#[derive(Debug, Clone)]
enum Pattern {
    Name(String),
    Glob(GlobMatcher),
}

impl Limit {
    /// Every host.
    pub fn all() -> Self {
        Self {
            text: "all".to_owned(),
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }

    /// Parses a `--limit` value; `@FILE` paths are relative to the current directory.
    pub fn parse(text: &str) -> Result<Self, InventoryError> {
        let mut limit = Self {
            text: text.to_owned(),
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (negated, item) = match item.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let patterns = match item.strip_prefix('@') {
                Some(file) => read_names(Path::new(file), text)?,
                None => vec![item.to_owned()],
            };
            for pattern in patterns {
                let pattern = Pattern::new(&pattern, text)?;
                if negated {
                    limit.exclude.push(pattern);
                } else {
                    limit.include.push(pattern);
                }
            }
        }
        Ok(limit)
    }

    /// The selected hosts, in inventory order. Fails if a plain name is neither a host nor a
    /// group (a typo would otherwise silently shrink the run), or if nothing is selected.
    pub fn select<'i>(&self, inventory: &'i Inventory) -> Result<Vec<&'i Host>, InventoryError> {
        for pattern in self.include.iter().chain(&self.exclude) {
            if let Pattern::Name(name) = pattern
                && !inventory.hosts().iter().any(|h| &h.name == name)
                && !inventory.groups().contains_key(name)
            {
                return Err(InventoryError::BadLimit {
                    pattern: self.text.clone(),
                    message: format!("`{name}` is neither a host nor a group of the inventory"),
                });
            }
        }
        let selected: Vec<&Host> = inventory
            .hosts()
            .iter()
            .filter(|host| {
                (self.include.is_empty() || self.include.iter().any(|p| p.selects(host, inventory)))
                    && !self.exclude.iter().any(|p| p.selects(host, inventory))
            })
            .collect();
        if selected.is_empty() {
            return Err(InventoryError::EmptySelection {
                limit: self.text.clone(),
            });
        }
        Ok(selected)
    }
}

impl Pattern {
    fn new(pattern: &str, limit: &str) -> Result<Self, InventoryError> {
        if pattern.contains(['*', '?', '[']) {
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

fn read_names(file: &Path, limit: &str) -> Result<Vec<String>, InventoryError> {
    let text = std::fs::read_to_string(file).map_err(|e| InventoryError::BadLimit {
        pattern: limit.to_owned(),
        message: format!("cannot read `{}`: {e}", PathBuf::from(file).display()),
    })?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}
