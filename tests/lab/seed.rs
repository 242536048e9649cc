//! The populated hub database every lab host starts with: users, an API token and a server.
//!
//! Populating costs a hub start, so it happens once per JupyterHub release into the cache
//! (`db-RELEASE.sqlite` with `db-RELEASE.json` describing it) and each host gets a copy. The copy's
//! server record is then pointed at that host's own stand-in user server (address and pid), so the
//! hub finds the server alive at start, as on a production hub with `cleanup_servers = False`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::cache::Cache;
use super::hub::{self, HubFiles};
use super::teardown;

/// What the populated database holds.
#[derive(Debug, Clone, Deserialize)]
pub struct Seed {
    /// Every user, `admin` (an admin) included.
    pub users: Vec<String>,
    /// The user owning [`Seed::token`].
    pub token_user: String,
    /// An API token of `token_user`, valid on every host.
    pub token: String,
    /// The user whose server is running on every host.
    pub server_user: String,
}

/// The cached database for `release`, populating it first with a hub at `scratch` if missing.
pub fn ensure(
    cache: &Cache,
    release: &str,
    lab_dir: &Path,
    scratch: &HubFiles,
) -> Result<(PathBuf, Seed)> {
    let db = cache.root.join(format!("db-{release}.sqlite"));
    let json = cache.root.join(format!("db-{release}.json"));
    // Parallel tests starting cold would each populate: the first holds the lock, the others
    // wait for it and find the database ready. The lock goes with the file when we return.
    let lock = fs::File::create(cache.root.join(format!("db-{release}.lock")))?;
    lock.lock()?;
    if !(db.exists() && json.exists()) {
        populate(cache, lab_dir, scratch, &db, &json)
            .with_context(|| format!("populating the database for jupyterhub `{release}`"))?;
    }
    drop(lock);
    let seed = serde_json::from_str(&fs::read_to_string(&json)?)
        .with_context(|| format!("reading `{}`", json.display()))?;
    Ok((db, seed))
}

fn populate(
    cache: &Cache,
    lab_dir: &Path,
    scratch: &HubFiles,
    db: &Path,
    json: &Path,
) -> Result<()> {
    scratch.write(cache)?;
    teardown::record(lab_dir, &scratch.tracked())?;
    scratch.start()?;
    let populated = scratch.wait_healthy(Duration::from_secs(60)).and_then(|_| {
        let out = scratch.dir.join("seed.json");
        hub::run(
            hub::host_command(scratch.env.join("bin/python"))
                .arg(write_script(scratch)?)
                .arg(format!("http://{}", scratch.public_addr()))
                .arg(hub::SERVICE_TOKEN)
                .arg(&out),
        )?;
        Ok(out)
    });
    // Stop before copying: the hub may still write, and the copy must be consistent.
    let stopped = scratch.stop();
    scratch.stop_standin();
    let out = populated?;
    stopped?;
    // Rename complete files into place: a reader never sees half a database.
    let suffix = format!(".tmp-{}", std::process::id());
    let db_tmp = PathBuf::from(format!("{}{suffix}", db.display()));
    let json_tmp = PathBuf::from(format!("{}{suffix}", json.display()));
    fs::copy(scratch.dir.join("jupyterhub.sqlite"), &db_tmp)?;
    fs::rename(&db_tmp, db)?;
    fs::copy(&out, &json_tmp)?;
    fs::rename(&json_tmp, json)?;
    Ok(())
}

fn write_script(scratch: &HubFiles) -> Result<PathBuf> {
    let path = scratch.dir.join("populate.py");
    fs::write(&path, include_str!("assets/populate.py"))?;
    Ok(path)
}

/// Copies the cached database into `hub` and points its server record at `hub`'s stand-in.
pub fn install(db: &Path, hub: &HubFiles, standin_pid: u32) -> Result<()> {
    let target = hub.dir.join("jupyterhub.sqlite");
    fs::copy(db, &target)?;
    // LocalProcessSpawner keeps `{"pid": N}` as its state and polls that pid at hub start.
    let sql = format!(
        "UPDATE servers SET ip = '{address}', port = 8888; \
         UPDATE spawners SET state = '{{\"pid\": {standin_pid}}}' WHERE server_id IS NOT NULL;",
        address = hub.address,
    );
    hub::run(Command::new("sqlite3").arg(&target).arg(sql))
        .context("updating the server record (is `sqlite3` installed? run `scripts/setup`)")
}
