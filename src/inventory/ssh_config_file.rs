//! `~/.ssh/config` read by russh-config, for a controller without an `ssh` client.
//!
//! russh-config 0.58 understands only `Host` blocks and a few keywords, and gets some of them
//! wrong: it splits a line at a single space (a tab or `Key=Value` is lost), lets a repeated key's
//! last value win, refuses the whole file for an option before the first `Host`, and merges a
//! `Match` block's settings into the `Host` block above it. So we hand it a cleaned copy: one
//! `keyword value` per line, the first value of a key kept (OpenSSH's rule), options before the
//! first `Host` under `Host *`, and every line it cannot honour left out with a warning that names
//! `FILE:LINE`, never silently (issue 14).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::ssh_config::SshSettings;

/// The keywords russh-config reads, spelt as OpenSSH documents them (`ssh_config(5)`).
const READ: [&str; 7] = [
    "HostName",
    "User",
    "Port",
    "IdentityFile",
    "UserKnownHostsFile",
    "ProxyJump",
    "Host",
];

/// A parsed `~/.ssh/config`, with what could not be honoured.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The cleaned text russh-config reads.
    text: String,
    /// `FILE:LINE: why`, one per line left out.
    warnings: Vec<String>,
}

impl ConfigFile {
    /// Cleans `text` (read from `path`, named in warnings) for russh-config.
    pub fn parse(path: &Path, text: &str) -> Self {
        let mut cleaner = Cleaner {
            path: path.to_path_buf(),
            out: String::new(),
            warnings: Vec::new(),
            seen: HashSet::new(),
            in_match: None,
            in_host: false,
        };
        for (index, line) in text.lines().enumerate() {
            cleaner.line(index + 1, line);
        }
        cleaner.end_match(text.lines().count());
        let Cleaner {
            out, mut warnings, ..
        } = cleaner;
        if let Err(e) = russh_config::parse(&out, "") {
            warnings.push(format!(
                "{}: cannot be read without `ssh` on `PATH` ({e}); it is ignored",
                path.display()
            ));
        }
        Self {
            text: out,
            warnings,
        }
    }

    /// The lines left out, as `FILE:LINE: why`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The settings for `name`.
    pub fn lookup(&self, name: &str) -> SshSettings {
        let config = russh_config::parse(&self.text, name)
            .map(|config| config.host_config)
            .unwrap_or_default();
        SshSettings {
            hostname: config.hostname,
            user: config.user,
            port: config.port,
            identity_files: config.identity_file,
            // OpenSSH takes a list of files; russh-config one path.
            user_known_hosts: config.user_known_hosts_file.map(|files| {
                files
                    .to_string_lossy()
                    .split_ascii_whitespace()
                    .map(PathBuf::from)
                    .collect()
            }),
            global_known_hosts: None,
            proxy_jump: config
                .proxy_jump
                .filter(|j| !j.eq_ignore_ascii_case("none")),
            connect_timeout: None,
            server_alive_interval: None,
        }
    }
}

struct Cleaner {
    path: PathBuf,
    out: String,
    warnings: Vec<String>,
    /// Keys already set in the current block: OpenSSH keeps the first value.
    seen: HashSet<String>,
    /// The line of the `Match` whose block is being skipped.
    in_match: Option<usize>,
    /// Whether a `Host` line (or our `Host *`) opened the current block.
    in_host: bool,
}

impl Cleaner {
    fn warn(&mut self, line: usize, why: &str) {
        self.warnings
            .push(format!("{}:{line}: {why}", self.path.display()));
    }

    fn end_match(&mut self, last_line: usize) {
        if let Some(start) = self.in_match.take() {
            self.warn(
                start,
                &format!(
                    "`Match` is understood only by `ssh`, which is not on `PATH`: lines {start}-{last_line} are ignored"
                ),
            );
        }
    }

    fn line(&mut self, number: usize, line: &str) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        // OpenSSH: the keyword ends at whitespace or `=`, and one `=` may separate it from the
        // value, with whitespace around it.
        let end = line
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(line.len());
        let (keyword, rest) = line.split_at(end);
        let rest = rest.trim_start();
        let value = rest.strip_prefix('=').unwrap_or(rest).trim();
        let lower = keyword.to_ascii_lowercase();
        match lower.as_str() {
            "host" => {
                self.end_match(number - 1);
                self.seen.clear();
                self.in_host = true;
                self.out.push_str(&format!("Host {value}\n"));
                return;
            }
            "match" => {
                self.end_match(number - 1);
                self.in_match = Some(number);
                return;
            }
            _ if self.in_match.is_some() => return,
            "include" => {
                return self.warn(
                    number,
                    "`Include` is followed only by `ssh`, which is not on `PATH`: the included files are ignored",
                );
            }
            _ => {}
        }
        let Some(known) = READ.iter().find(|k| k.eq_ignore_ascii_case(&lower)) else {
            return self.warn(
                number,
                &format!(
                    "`{keyword}` is ignored: without `ssh` on `PATH`, hubfleet reads only {}",
                    READ[..6].join(", ")
                ),
            );
        };
        if value.is_empty() {
            return self.warn(
                number,
                &format!("`{known}` has no value; the line is ignored"),
            );
        }
        if lower == "port" && !value.parse::<u16>().is_ok_and(|p| p != 0) {
            return self.warn(
                number,
                &format!("`Port {value}` is not a port number 1-65535; the line is ignored"),
            );
        }
        if let Some(token) = value.find('%').and_then(|i| value.get(i..i + 2)) {
            return self.warn(
                number,
                &format!(
                    "`{token}` in `{known}` is expanded only by `ssh`, which is not on `PATH`; the line is ignored"
                ),
            );
        }
        // Every `IdentityFile` adds a key; any other key keeps its first value.
        if lower != "identityfile" && !self.seen.insert(lower.clone()) {
            return;
        }
        if !self.in_host {
            // Options before the first `Host` apply to every host, and win over later blocks.
            self.out.push_str("Host *\n");
            self.in_host = true;
        }
        self.out.push_str(&format!("{lower} {value}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_not_honoured_is_a_warning_with_its_line() {
        let file = ConfigFile::parse(
            Path::new("/home/op/.ssh/config"),
            "User\tfirst\nUser second\nInclude conf.d/*\nHost hub1\n  HostName=%h.example.org\n  Port two\n  ForwardAgent yes\nMatch host hub1\n  User matched\n  Port 2200\nHost hub2\n  HostName 10.0.0.2\n  HostName 10.0.0.3\n",
        );
        assert_eq!(
            file.warnings(),
            [
                "/home/op/.ssh/config:3: `Include` is followed only by `ssh`, which is not on `PATH`: the included files are ignored",
                "/home/op/.ssh/config:5: `%h` in `HostName` is expanded only by `ssh`, which is not on `PATH`; the line is ignored",
                "/home/op/.ssh/config:6: `Port two` is not a port number 1-65535; the line is ignored",
                "/home/op/.ssh/config:7: `ForwardAgent` is ignored: without `ssh` on `PATH`, hubfleet reads only HostName, User, Port, IdentityFile, UserKnownHostsFile, ProxyJump",
                "/home/op/.ssh/config:8: `Match` is understood only by `ssh`, which is not on `PATH`: lines 8-10 are ignored",
            ]
        );
        let hub1 = file.lookup("hub1");
        assert_eq!((hub1.user.as_deref(), hub1.port), (Some("first"), None));
        assert_eq!(
            file.lookup("hub2").hostname.as_deref(),
            Some("10.0.0.2"),
            "the first value wins"
        );
    }
}
