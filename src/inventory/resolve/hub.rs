//! A host's hub: its values checked (paths, commands, timeouts) and its service environment.

use std::path::Path;

use toml::Spanned;

use super::Resolver;
use crate::inventory::raw::RawVars;
use crate::inventory::{Hub, InventoryError, ServiceEnvironment};
use crate::ssh::Become;

impl Resolver<'_> {
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

    pub(super) fn hub(&self, name: &str, vars: &RawVars) -> Result<Hub, InventoryError> {
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

/// Whether `name` can name a variable of a process's environment (as POSIX shells require).
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
