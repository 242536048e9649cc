//! The one door through which a remote command line is built.
//!
//! sshd hands the command string to the login shell of the remote user, so every program name,
//! argument, environment value and directory is quoted here with POSIX single quotes
//! (`shlex::try_quote`). An inventory value can therefore never become shell code. The only way to
//! pass shell syntax is [`RemoteCommand::shell`], used for commands the operator wrote on purpose
//! (`hubfleet exec -- CMD`, a hub's `stop`/`start` variables); it is run as the single, quoted
//! argument of `sh -c`, so even then nothing of ours is spliced into it.

use std::fmt;

/// Privilege escalation for a command.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "method")]
pub enum Become {
    /// Run as the login user.
    #[default]
    No,
    /// Run through `sudo -n -u USER --` (non-interactive: a password prompt fails instead of hanging).
    Sudo {
        /// The user to become.
        user: String,
    },
}

/// A remote command: a program and its arguments, or an operator's shell snippet, plus optional
/// working directory, environment and privilege escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCommand {
    argv: Vec<String>,
    cwd: Option<String>,
    env: Vec<(String, String)>,
    become_: Become,
}

/// A command argument that cannot be passed safely.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnquotableArgument {
    /// It holds a NUL byte, which no shell, path or environment can carry.
    #[error("remote argument `{}` contains a NUL byte and cannot be passed to a shell", .0.escape_debug())]
    Nul(String),
    /// An environment variable's name that is not one (letters, digits and `_` only).
    #[error("`{}` is not an environment variable name (letters, digits and `_` only)", .0.escape_debug())]
    VariableName(String),
}

impl RemoteCommand {
    /// A program to run with arguments added by [`RemoteCommand::arg`].
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            argv: vec![program.into()],
            cwd: None,
            env: Vec::new(),
            become_: Become::No,
        }
    }

    /// An operator-written shell snippet, run as `sh -c SNIPPET`.
    pub fn shell(snippet: impl Into<String>) -> Self {
        Self::new("sh").arg("-c").arg(snippet)
    }

    /// Appends one argument, passed literally.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.argv.push(arg.into());
        self
    }

    /// Appends arguments, each passed literally.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs the command in `dir` (the command fails if it cannot change into it).
    pub fn cwd(mut self, dir: impl Into<String>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Sets an environment variable for the command.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs the command with privilege escalation.
    pub fn become_(mut self, become_: Become) -> Self {
        self.become_ = become_;
        self
    }

    /// The command line sent to sshd, every piece quoted.
    pub fn to_command_line(&self) -> Result<String, UnquotableArgument> {
        let mut words: Vec<String> = Vec::new();
        if let Some(dir) = &self.cwd {
            words.extend(["cd".to_owned(), quote(dir)?, "&&".to_owned()]);
        }
        if let Become::Sudo { user } = &self.become_ {
            words.extend(["sudo", "-n", "-u"].map(str::to_owned));
            words.push(quote(user)?);
            words.push("--".to_owned());
        }
        if !self.env.is_empty() {
            words.push("env".to_owned());
            for (key, value) in &self.env {
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(UnquotableArgument::VariableName(key.clone()));
                }
                words.push(quote(&format!("{key}={value}"))?);
            }
        }
        for arg in &self.argv {
            words.push(quote(arg)?);
        }
        Ok(words.join(" "))
    }
}

impl fmt::Display for RemoteCommand {
    /// The command line as it will run, for plans and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_command_line() {
            Ok(line) => f.write_str(&line),
            Err(e) => write!(f, "<{e}>"),
        }
    }
}

fn quote(word: &str) -> Result<String, UnquotableArgument> {
    shlex::try_quote(word)
        .map(|q| q.into_owned())
        .map_err(|_| UnquotableArgument::Nul(word.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_literal() {
        let cmd = RemoteCommand::new("echo")
            .arg("'; touch /tmp/pwned #")
            .arg("$(id)")
            .arg("`id`");
        assert_eq!(
            cmd.to_command_line().unwrap(),
            r#"echo "'; touch /tmp/pwned #" '$(id)' '`id`'"#
        );
    }

    #[test]
    fn cwd_env_and_sudo_are_quoted() {
        let cmd = RemoteCommand::new("/opt/hub env/bin/jupyterhub")
            .arg("upgrade-db")
            .cwd("/srv/my hub")
            .env("PATH", "/opt/hub env/bin:$PATH")
            .become_(Become::Sudo {
                user: "jupyter hub".into(),
            });
        assert_eq!(
            cmd.to_command_line().unwrap(),
            "cd '/srv/my hub' && sudo -n -u 'jupyter hub' -- env 'PATH=/opt/hub env/bin:$PATH' \
             '/opt/hub env/bin/jupyterhub' upgrade-db"
        );
    }

    #[test]
    fn shell_snippet_is_one_quoted_argument() {
        let cmd = RemoteCommand::shell("systemctl stop jupyterhub; echo $HOME");
        assert_eq!(
            cmd.to_command_line().unwrap(),
            "sh -c 'systemctl stop jupyterhub; echo $HOME'"
        );
    }

    #[test]
    fn nul_bytes_and_bad_env_names_are_refused_each_for_its_own_reason() {
        let nul = RemoteCommand::new("echo").arg("a\0b").to_command_line();
        assert_eq!(
            nul.unwrap_err().to_string(),
            "remote argument `a\\0b` contains a NUL byte and cannot be passed to a shell"
        );
        let name = RemoteCommand::new("true").env("A;B", "x").to_command_line();
        assert_eq!(
            name.unwrap_err().to_string(),
            "`A;B` is not an environment variable name (letters, digits and `_` only)"
        );
    }
}
