//! The Python hubfleet runs on a host, composed in one place. Every script in `host_scripts/` is
//! run by a hub env's Python as `python -c SCRIPT ARGS_JSON`; the modules it needs (definitions
//! only) are sent ahead of it in the same `-c`, so each constant here is the whole program a host
//! runs, and no other file includes Python.
//!
//! Beside each script's constant is the struct of its one JSON argument, serialised by serde:
//! its field names are the keys the script reads, so the two are checked side by side.

use indexmap::IndexMap;
use serde::Serialize;

use crate::inventory::{Host, Installer};
use crate::ssh::RemoteCommand;

/// A script a host runs: `python -c SOURCE ARGS_JSON`.
#[derive(Debug, Clone, Copy)]
pub struct HostScript {
    /// The script's file in `host_scripts/`, without `.py`.
    pub name: &'static str,
    /// The whole program: the prelude, the modules it needs, its body.
    pub source: &'static str,
}

/// The one JSON argument of a script, which names the script it is for: a step sends a script
/// only with the arguments it reads.
pub trait ScriptArgs: Serialize {
    /// The script that reads these arguments.
    const SCRIPT: HostScript;

    /// `PYTHON -c SCRIPT ARGS_JSON`: the script run by `python` with these arguments (every
    /// inventory value inside one argument, quoted by the command builder: nothing of it is ever
    /// seen by a shell).
    fn command(&self, python: impl Into<String>) -> RemoteCommand {
        let args = serde_json::to_string(self).expect("script arguments are plain JSON");
        RemoteCommand::new(python)
            .arg("-c")
            .arg(Self::SCRIPT.source)
            .arg(args)
    }
}

/// Composes a script: the prelude, then the modules it needs (definitions only), then its body,
/// all from `host_scripts/`.
macro_rules! script {
    ($($module:literal),* ; $body:literal) => {
        HostScript {
            name: $body,
            source: concat!(
                include_str!("host_scripts/prelude.py"),
                $(include_str!(concat!("host_scripts/", $module, ".py")),)*
                include_str!(concat!("host_scripts/", $body, ".py"))
            ),
        }
    };
}

/// The fact-gathering script (`gather.py`), run by the hub's Python.
pub const GATHER: HostScript = script!(
    "revisions",
    "database",
    "database_server",
    "cutover_record",
    "hub_environment",
    "bounded",
    "host_lock";
    "gather"
);

/// What `gather.py` reads.
#[derive(Debug, Serialize)]
pub struct GatherArgs<'a> {
    /// How the hub runs.
    pub hub: HubEnvironmentArgs<'a>,
    /// The hub's `/hub/api`, which tells the release it serves.
    pub health_url: &'a str,
    /// The single-user env, whose jupyterhub must match the hub's.
    pub singleuser_env: Option<&'a str>,
    /// Seconds the hub's config may take to load (`config_timeout`).
    pub config_timeout: u64,
}

impl ScriptArgs for GatherArgs<'_> {
    const SCRIPT: HostScript = GATHER;
}

/// What `hub_environment.py` needs to find how the hub runs (its process, or the environment the
/// inventory declares), for every script that loads the hub's config.
#[derive(Debug, Serialize)]
pub struct HubEnvironmentArgs<'a> {
    /// The hub env's prefix.
    pub hub_env: &'a str,
    /// The hub's working directory, as the inventory says.
    pub workdir: &'a str,
    /// The hub's config file.
    pub config: &'a str,
    /// The inventory's `environment` table, if it declares one.
    pub environment: Option<&'a IndexMap<String, String>>,
    /// The inventory's `environment_file`, if it declares one.
    pub environment_file: Option<&'a str>,
}

impl<'a> HubEnvironmentArgs<'a> {
    /// The hub of `host`, as its inventory describes it.
    pub fn of(host: &'a Host) -> Self {
        let declared = host.hub.environment.as_ref();
        Self {
            hub_env: &host.hub.env,
            workdir: &host.hub.workdir,
            config: &host.hub.config,
            environment: declared.map(|e| &e.variables),
            environment_file: declared.and_then(|e| e.file.as_deref()),
        }
    }
}

/// The backup (`backup.py`): streams a tar of the hub's state that ends with its manifest.
pub const BACKUP: HostScript =
    script!("database", "database_server", "dump", "hub_environment"; "backup");

/// What `backup.py` reads.
#[derive(Debug, Serialize)]
pub struct BackupArgs<'a> {
    /// The host's name, for the manifest.
    pub host: &'a str,
    /// `sqlite`, or the server backend whose database is dumped.
    pub db_backend: &'a str,
    /// The SQLite database (`None` for a server).
    pub db_path: Option<&'a str>,
    /// Its URL (password masked), for the manifest.
    pub db_url: Option<&'a str>,
    /// The database's size as the facts read it, for the disk check of a dump.
    pub db_size: Option<u64>,
    /// How the hub runs: a server's URL is resolved again, with its password, on the host.
    pub hub: HubEnvironmentArgs<'a>,
    /// The hub's config file.
    pub config: &'a str,
    /// The cookie secret, if the hub has one.
    pub cookie_secret_file: Option<&'a str>,
    /// The inventory's `backup_extra` files.
    pub extra: &'a [String],
    /// The installer that lists the env's packages.
    pub installer: Installer,
    /// conda's path, for a conda env.
    pub conda: &'a str,
    /// uv's path, for a uv env.
    pub uv: &'a str,
}

impl ScriptArgs for BackupArgs<'_> {
    const SCRIPT: HostScript = BACKUP;
}

/// Resolves the target release and readies it on the host (`stage.py`).
pub const STAGE: HostScript = script!("revisions", "resolver", "bounded", "host_lock"; "stage");

/// What `stage.py` reads.
#[derive(Debug, Serialize)]
pub struct StageArgs<'a> {
    /// A version, or `latest`.
    pub to: &'a str,
    /// Whether the target is readied or only resolved.
    pub mode: StageMode,
    /// Where an in-place install's packages are downloaded.
    pub stage: String,
    /// The hub env.
    pub env: &'a str,
    /// The hub's state (database, config, …): none of it may live inside an env that is swapped.
    pub hub_paths: Vec<&'a str>,
    /// Disk space another step takes beside a path at the same time.
    pub reserve: Option<Reserve<'a>>,
    /// The hub env's installer.
    pub installer: Installer,
    /// conda's path, for a conda env.
    pub conda: &'a str,
    /// uv's path, for a uv env.
    pub uv: &'a str,
    /// Seconds the stage's installer commands may take together (`stage_timeout`).
    pub stage_timeout: u64,
    /// This run's token, written into a staged copy once it is complete: the cutover swaps in
    /// only a copy that carries it.
    pub token: &'a str,
}

impl ScriptArgs for StageArgs<'_> {
    const SCRIPT: HostScript = STAGE;
}

/// Whether `stage.py` readies the target or only resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageMode {
    /// Readies the target on the host.
    Stage,
    /// Writes nothing outside a temporary directory.
    DryRun,
}

/// Bytes another step takes beside a path, on the same filesystem.
#[derive(Debug, Serialize)]
pub struct Reserve<'a> {
    /// The path beside which they are taken.
    pub beside: &'a str,
    /// How many.
    pub bytes: u64,
}

/// upgrade-db on a private copy of the database, run by the staged env's Python (`rehearse.py`).
pub const REHEARSE: HostScript = script!("hub_environment", "database"; "rehearse");

/// What `rehearse.py` reads.
#[derive(Debug, Serialize)]
pub struct RehearseArgs<'a> {
    /// The database a copy of which is migrated.
    pub db_path: &'a str,
    /// How the hub runs.
    pub hub: HubEnvironmentArgs<'a>,
}

impl ScriptArgs for RehearseArgs<'_> {
    const SCRIPT: HostScript = REHEARSE;
}

/// The downtime, run detached on the host by [`LAUNCH`] (`cutover.py`).
pub const CUTOVER: HostScript = script!(
    "revisions",
    "hub_environment",
    "database",
    "kept_database",
    "hub_control",
    "host_lock";
    "cutover"
);

/// What `cutover.py` reads.
#[derive(Debug, Serialize)]
pub struct CutoverArgs<'a> {
    /// The cutover's record. cutover.py writes it through the fd the launcher hands it and never
    /// reads this: it is here so that the record's path is on the cutover's command line, which
    /// is how `running_cutover()` (cutover_record.py) tells the cutover from a process that
    /// reused its pid.
    pub record: &'a str,
    /// The operator's stop command.
    pub stop: &'a str,
    /// Seconds the hub may take to stop.
    pub stop_timeout: u64,
    /// The operator's start command.
    pub start: &'a str,
    /// Seconds the hub may take to start and answer.
    pub start_timeout: u64,
    /// The hub's `/hub/api`.
    pub url: &'a str,
    /// The SQLite database.
    pub db: &'a str,
    /// The release `/hub/api` must report at the end.
    pub version: &'a str,
    /// The revision upgrade-db must reach; `None` where it is known only once installed (conda).
    pub head: Option<&'a str>,
    /// The release to start again if nothing was changed.
    pub restart_version: Option<&'a str>,
    /// Whether the hub may be stopped with user servers running.
    pub allow_active_servers: bool,
    /// The hub env's Python.
    pub env_python: String,
    /// How the hub runs.
    pub hub: HubEnvironmentArgs<'a>,
    /// The upgrade-db command line.
    pub upgrade_db: String,
    /// Seconds upgrade-db may take before its process group is stopped and the cutover rolled
    /// back.
    pub upgrade_db_timeout: u64,
    /// Where the database is kept as it was at the stop (beside it: the same filesystem).
    pub kept_db: String,
    /// Whether a failure after the stop is rolled back (`--no-rollback` leaves it stopped).
    pub rollback: bool,
    /// The command that installs the release the hub had from the index, for a rollback finished
    /// by hand where the env as it was is gone (or was installed over in place).
    pub reinstall_previous: Option<String>,
    /// What takes the old release's place.
    pub change: Change<'a>,
    /// The run's host lock, handed to the cutover, which empties it when it ends.
    pub lock: LockRef<'a>,
}

/// A run's host lock, as the scripts after `lock.py` name it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LockRef<'a> {
    /// The lock file, as `lock.py` found it.
    pub path: &'a str,
    /// The run's token: the lock is this run's while its holder names it.
    pub run: &'a str,
}

impl ScriptArgs for CutoverArgs<'_> {
    const SCRIPT: HostScript = CUTOVER;
}

/// What the cutover puts in the old release's place.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Change<'a> {
    /// The env `stage` readied is exchanged with the hub env.
    Swap {
        /// The hub env.
        env: &'a str,
        /// The readied env.
        next: &'a str,
        /// Where the env as it was is kept.
        previous: &'a str,
        /// Whether an env an earlier upgrade kept at `previous` is replaced.
        replaces_previous: bool,
        /// The swap, as the progress line says it.
        text: String,
        /// The run's token, which the readied env must carry to be swapped in.
        token: &'a str,
    },
    /// The packages `stage` downloaded are installed.
    Install {
        /// The install command line.
        command: String,
        /// Where the packages wait, removed after the install.
        downloads: String,
    },
    /// The env holds the target already.
    Nothing,
}

/// Starts [`CUTOVER`] in a session of its own and prints its pid (`launch.py`).
pub const LAUNCH: HostScript = script!("cutover_record", "host_lock"; "launch");

/// What `launch.py` reads: the detached script (the cutover, or a rollback's restore) and its
/// argument.
#[derive(Debug, Serialize)]
pub struct LaunchArgs<'a, A: ScriptArgs> {
    /// The record it creates and hands to the detached script.
    pub record: &'a str,
    /// The detached script's program.
    pub script: &'static str,
    /// Its argument.
    pub args: A,
    /// The run's host lock, which must still be this run's, and is handed to the detached
    /// script (`None`: a script whose command takes no host lock).
    pub lock: Option<LockRef<'a>>,
}

impl<A: ScriptArgs> ScriptArgs for LaunchArgs<'_, A> {
    const SCRIPT: HostScript = LAUNCH;
}

/// Prints the cutover's record as it grows, until its result (`follow.py`).
pub const FOLLOW: HostScript = script!(; "follow");

/// What `follow.py` reads.
#[derive(Debug, Serialize)]
pub struct FollowArgs<'a> {
    /// The cutover's record.
    pub status: &'a str,
    /// The cutover's pid.
    pub pid: u32,
}

impl ScriptArgs for FollowArgs<'_> {
    const SCRIPT: HostScript = FOLLOW;
}

/// `hubfleet rollback`'s checks on the host (`restore_check.py`): the archive received on stdin,
/// checked, extracted, and what restoring it would lose and change.
pub const RESTORE_CHECK: HostScript =
    script!("revisions", "database", "kept_database"; "restore_check");

/// What `restore_check.py` reads.
#[derive(Debug, Serialize)]
pub struct RestoreCheckArgs<'a> {
    /// The live database.
    pub db: &'a str,
    /// The sha256 of the archive file, as verified on the controller.
    pub archive_sha256: &'a str,
    /// The archive's members, with where each lives on the host.
    pub members: Vec<RestoreMember<'a>>,
    /// The archive's alembic revision, which the env kept by an upgrade must know.
    pub revision: &'a str,
    /// `ENV.hubfleet-previous`.
    pub previous: String,
    /// Whether the extracted archive stays for the restore (not with `--dry-run`).
    pub keep: bool,
    /// Free disk the check needs where it extracts: the archive and its members.
    pub bytes_needed: u64,
}

impl ScriptArgs for RestoreCheckArgs<'_> {
    const SCRIPT: HostScript = RESTORE_CHECK;
}

/// A member of an archive and its place on the host.
#[derive(Debug, Serialize)]
pub struct RestoreMember<'a> {
    /// Its path in the archive.
    pub path: &'a str,
    /// Its sha256, from the manifest.
    pub sha256: String,
    /// Its role, as the manifest says it.
    pub role: &'static str,
    /// Where it lives on the host (`None` for the package list).
    pub live: Option<String>,
}

/// `hubfleet rollback`'s restore, run detached on the host by [`LAUNCH`] (`restore.py`).
pub const RESTORE: HostScript = script!(
    "database", "kept_database", "hub_control"; "restore"
);

/// What `restore.py` reads (the keys `hub_control.py` reads among them).
#[derive(Debug, Serialize)]
pub struct RestoreArgs<'a> {
    /// Its record: on its command line, as for the cutover (see [`CutoverArgs::record`]).
    pub record: &'a str,
    /// The operator's stop command.
    pub stop: &'a str,
    /// Seconds the hub may take to stop.
    pub stop_timeout: u64,
    /// The operator's start command.
    pub start: &'a str,
    /// Seconds the hub may take to start and answer.
    pub start_timeout: u64,
    /// The hub's `/hub/api`.
    pub url: &'a str,
    /// The live database.
    pub db: &'a str,
    /// How the hub runs.
    pub hub: HubEnvironmentArgs<'a>,
    /// The hub env.
    pub env: &'a str,
    /// The archive's JupyterHub release, which `/hub/api` must report at the end.
    pub version: &'a str,
    /// The archive's alembic revision, which the restored database must be at.
    pub revision: &'a str,
    /// The release the hub serves now, started again if the rollback stops it but changes
    /// nothing.
    pub restart_version: Option<&'a str>,
    /// Where `restore_check.py` extracted the archive (removed once the rollback is done).
    pub stage: &'a str,
    /// Where the live database is kept before the archive's replaces it.
    pub kept_db: &'a str,
    /// Appended to a live file's path to keep it before the archive's copy replaces it.
    pub aside_suffix: &'a str,
    /// The archived files (config, cookie secret, extras) that differ from the live ones.
    pub files: Vec<RestoreFile<'a>>,
    /// The archived database.
    pub database: RestoreFile<'a>,
    /// How the archive's env comes back.
    pub change: EnvBack<'a>,
}

impl ScriptArgs for RestoreArgs<'_> {
    const SCRIPT: HostScript = RESTORE;
}

/// A file the restore puts in place.
#[derive(Debug, Serialize)]
pub struct RestoreFile<'a> {
    /// The extracted copy, on the host.
    pub archived: &'a str,
    /// Its sha256, from the manifest.
    pub sha256: &'a str,
    /// Where it goes.
    pub live: &'a str,
}

/// How the archive's env comes back.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EnvBack<'a> {
    /// The hub env holds the archive's release already.
    Keep,
    /// `ENV.hubfleet-previous` holds the archive's release: it is exchanged with the hub env.
    Previous {
        /// `ENV.hubfleet-previous`.
        previous: &'a str,
    },
    /// The manifest's package list is installed into the hub env.
    Install {
        /// The install command line.
        command: String,
    },
}

/// Takes the run's host lock and holds it while its channel is open (`lock.py`).
pub const LOCK: HostScript = script!("host_lock"; "lock");

/// What `lock.py` reads.
#[derive(Debug, Serialize)]
pub struct LockArgs<'a> {
    /// The hub env, beside which the lock lives.
    pub env: &'a str,
    /// Who holds it: written into the lock for a refused run to name.
    pub holder: &'a crate::steps::LockHolder,
    /// Seconds without a heartbeat after which the controller is taken for gone.
    pub silence: u64,
}

impl ScriptArgs for LockArgs<'_> {
    const SCRIPT: HostScript = LOCK;
}

#[cfg(test)]
mod checks;
