//! What can be wrong with an inventory or a `--limit`, reported before any connection is made.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A place in the inventory file, shown as `FILE:LINE:COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    file: PathBuf,
    line: usize,
    column: usize,
}

impl Location {
    /// The line and column (both from 1) of byte `offset` in `source`.
    pub fn new(file: &Path, source: &str, offset: usize) -> Self {
        let before = &source[..offset.min(source.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            file: file.to_path_buf(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// An inventory that cannot be used, or a `--limit` / `-e` that does not fit it.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("cannot read inventory `{}`", path.display())]
    Read {
        /// The inventory path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, a wrong type or value.
    #[error("{location}: {message}")]
    Syntax {
        /// Where.
        location: Location,
        /// The parser's words.
        message: String,
    },
    /// A group lists a host that no `[hosts.NAME]` table defines.
    #[error("{location}: group `{group}` lists host `{host}`, which is not defined{did_you_mean}")]
    UndefinedHost {
        /// The closest defined host.
        did_you_mean: super::DidYouMean,
        /// Where.
        location: Location,
        /// The group.
        group: String,
        /// The missing host.
        host: String,
    },
    /// A group lists a child group that is not defined.
    #[error(
        "{location}: group `{group}` lists child group `{child}`, which is not defined{did_you_mean}"
    )]
    UndefinedGroup {
        /// The closest defined group.
        did_you_mean: super::DidYouMean,
        /// Where.
        location: Location,
        /// The group.
        group: String,
        /// The missing child.
        child: String,
    },
    /// A group is (through its children) a child of itself.
    #[error("{location}: group `{group}` contains itself through `{path}`")]
    GroupCycle {
        /// Where.
        location: Location,
        /// The group.
        group: String,
        /// The chain, `a -> b -> a`.
        path: String,
    },
    /// One name is used for a host and a group, which would make `--limit NAME` ambiguous.
    #[error("{location}: `{name}` names both a host and a group; rename one of them")]
    HostIsGroup {
        /// Where (the host table).
        location: Location,
        /// The name.
        name: String,
    },
    /// A host name that cannot name the host's directory of backups and logs.
    #[error("{location}: host name `{name}` {problem}; rename the host")]
    BadHostName {
        /// Where (the host table).
        location: Location,
        /// The name, escaped.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A value of the right type that is still not usable.
    #[error("{location}: `{key}` of host `{host}` {problem}")]
    InvalidValue {
        /// Where the value was set.
        location: Location,
        /// The host being resolved.
        host: String,
        /// The key.
        key: &'static str,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// A `-e KEY=VALUE` that is not a known key with a value of the right type.
    #[error("`-e {arg}`: {message}")]
    ExtraVar {
        /// The argument as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// `~/.ssh/config` exists but cannot be read.
    #[error("cannot read `{}`", path.display())]
    SshConfig {
        /// The ssh config path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `ssh -G NAME` refused the configuration (OpenSSH names the file and line).
    #[error("`ssh -G {name}` failed: {message}")]
    SshG {
        /// The name looked up.
        name: String,
        /// What ssh printed on stderr, one line.
        message: String,
    },
    /// The `ssh` found on `PATH` could not be run.
    #[error("cannot run `{}`", program.display())]
    SshGSpawn {
        /// The program.
        program: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `--limit` pattern that is not valid.
    #[error("`--limit {pattern}`: {message}")]
    BadLimit {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// A `--limit` that selects only helpers (`hub = false`) for a command that targets hubs.
    #[error("`--limit {limit}` selects no hub: `{helpers}` is not a hub (`hub = false`)")]
    OnlyHelpers {
        /// The whole limit.
        limit: String,
        /// The helpers it matched, joined for the message.
        helpers: String,
    },
    /// A `--limit` that selects no host.
    #[error("`--limit {limit}` selects no host of the inventory")]
    EmptySelection {
        /// The whole limit.
        limit: String,
    },
}

impl InventoryError {
    /// A syntax error at a span of `source`.
    pub fn syntax(file: &Path, source: &str, span: Option<Range<usize>>, message: &str) -> Self {
        let mut message = super::did_you_mean::plain_words(&message.trim_end().replace('\n', " "));
        // toml says only "duplicate key"; name it, since it is usually a host defined twice.
        if message == "duplicate key"
            && let Some(key) = span.clone().and_then(|s| source.get(s))
        {
            message = format!("`{}` is defined twice", key.trim_matches(['"', '\'']));
        }
        Self::Syntax {
            location: Location::new(file, source, span.map_or(0, |s| s.start)),
            message,
        }
    }

    /// Lines telling the operator what to do.
    pub fn hints(&self) -> Vec<String> {
        match self {
            Self::OnlyHelpers { .. } => vec![
                "`facts`, `backup` and `upgrade` never touch a helper; `hubfleet exec --limit NAME` runs a command on one".to_owned(),
            ],
            Self::EmptySelection { .. } => {
                vec!["`hubfleet inventory -i FILE` lists the host and group names".to_owned()]
            }
            Self::UndefinedHost { host, .. } => {
                vec![format!(
                    "add a `[hosts.{host}]` table, or remove `{host}` from the group"
                )]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_columns_from_one() {
        let src = "a = 1\nbb = 2\n";
        let at = |offset| Location::new(Path::new("inv.toml"), src, offset).to_string();
        assert_eq!(at(0), "inv.toml:1:1");
        assert_eq!(at(6), "inv.toml:2:1");
        assert_eq!(at(11), "inv.toml:2:6");
    }
}
