//! A lab hub on a database server instead of SQLite, as production hubs mostly run: its config
//! reads `db_url` from `HUB_DB_URL`, which only its environment file sets (as systemd's
//! `EnvironmentFile=` would), so the password is in that 0600 file and nowhere else.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::cache::Cache;
use super::database::DatabaseServer;
use super::handle::Lab;
use super::hub::{self, shell_quote};
use super::seed::Seed;

/// The database of every lab hub on a server, and its role.
pub const DATABASE: &str = "jupyterhub";
/// The role the hub connects as.
pub const ROLE: &str = "hub";

/// A hub moved onto a database server by [`Lab::move_hub_to`].
#[derive(Debug, Clone)]
pub struct HubOnServer {
    /// The hub's environment file: `HUB_DB_URL="…"`, mode 0600.
    pub env_file: PathBuf,
    /// The hub's start command: the environment file, then the lab's `start.sh`.
    pub start: String,
    /// What the database holds (a token valid on this hub only).
    pub seed: Seed,
}

impl HubOnServer {
    /// `-e` arguments that give hubfleet the environment file and the start command.
    pub fn inventory_vars(&self) -> [String; 2] {
        [
            format!("environment_file={}", self.env_file.display()),
            format!("start={}", self.start),
        ]
    }
}

impl Lab {
    /// Moves host `i`'s hub onto a fresh database of `server`, reached with `password`:
    /// installs the driver, points the config at `HUB_DB_URL`, removes the SQLite database,
    /// and populates the new one through a hub start (users, a token, alice's server, which
    /// keeps running). The hub is stopped when this returns.
    pub fn move_hub_to(
        &self,
        i: usize,
        server: &DatabaseServer,
        password: &str,
    ) -> Result<HubOnServer> {
        let hub = &self.hubs[i];
        let cache = Cache::locate(Some(&self.release))?;
        cache.has_drivers()?;
        hub.install_packages(&cache, &[server.backend().driver_package()])?;
        server.create_hub_database(DATABASE, ROLE, password)?;

        let mut config = fs::read_to_string(&hub.config)?;
        config.push_str(
            "\n# The database, from the service's environment (its password with it).\n\
             import os\nc.JupyterHub.db_url = os.environ[\"HUB_DB_URL\"]\n",
        );
        fs::write(&hub.config, config)?;
        let env_file = hub.dir.join("hub.env");
        fs::write(
            &env_file,
            format!(
                "# the hub service's environment\nHUB_DB_URL=\"{}\"\n",
                server.url(DATABASE, ROLE, password)
            ),
        )?;
        fs::set_permissions(&env_file, fs::Permissions::from_mode(0o600))?;
        // No SQLite database left to resolve by mistake.
        let _ = fs::remove_file(hub.dir.join("jupyterhub.sqlite"));
        let start = format!(
            "set -a && . {} && set +a && bash {}",
            shell_quote(&env_file),
            shell_quote(&hub.start_script)
        );

        // The lab's stand-in holds alice's port: the hub spawns her server itself now.
        hub.stop_standin();
        hub::run(hub::host_command("bash").arg("-c").arg(&start))?;
        let populated = hub.wait_healthy(Duration::from_secs(90)).and_then(|_| {
            let out = hub.dir.join("seed.json");
            let script = hub.dir.join("populate.py");
            fs::write(&script, include_str!("assets/populate.py"))?;
            hub::run(
                hub::host_command(hub.env.join("bin/python"))
                    .arg(&script)
                    .arg(format!("http://{}", hub.public_addr()))
                    .arg(hub::SERVICE_TOKEN)
                    .arg(&out),
            )?;
            let seed: Seed = serde_json::from_str(&fs::read_to_string(&out)?)?;
            Ok(seed)
        });
        let stopped = hub.stop();
        let seed = populated.with_context(|| hub.log_tail())?;
        stopped?;
        Ok(HubOnServer {
            env_file,
            start,
            seed,
        })
    }
}
