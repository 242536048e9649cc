//! The checks of every composed host script, run with the unit tests: it parses as Python 3.8,
//! pyflakes finds nothing in it (an undefined name is a helper its composition lacks), and its
//! argument struct has exactly the keys it reads.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::*;

/// Every script a host runs.
const ALL: &[HostScript] = &[
    GATHER,
    BACKUP,
    STAGE,
    REHEARSE,
    CUTOVER,
    LAUNCH,
    FOLLOW,
    RESTORE_CHECK,
    RESTORE,
    LOCK,
];

/// Runs `python3 -c CODE` with `script` on its stdin, and `PYTHONPATH` at `path` if given.
fn python(code: &str, script: &str, path: Option<&PathBuf>) -> Output {
    let mut command = Command::new("python3");
    command.args(["-c", code]);
    if let Some(path) = path {
        command.env("PYTHONPATH", path);
    }
    let mut python = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the lab, and this check");
    let mut stdin = python.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    drop(stdin);
    python.wait_with_output().unwrap()
}

/// Where `scripts/setup` installs pyflakes: `tools/` in the lab's cache
/// (`${HUBFLEET_LAB_CACHE:-$HOME/.cache/hubfleet-lab}`, as `tests/lab/cache.rs` finds it).
fn tools() -> PathBuf {
    let cache = std::env::var_os("HUBFLEET_LAB_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("`HOME` is set"))
                .join(".cache/hubfleet-lab")
        },
        PathBuf::from,
    );
    cache.join("tools")
}

/// Every script hubfleet sends to a host parses as Python 3.8: a host runs it with its hub
/// env's Python, which is as old as 3.8 under JupyterHub 4 (this machine's Python would
/// accept newer syntax without a word).
#[test]
fn every_host_script_is_python_3_8() {
    for script in ALL {
        let code = "import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 8))";
        let out = python(code, script.source, None);
        assert!(
            out.status.success(),
            "{}: {}",
            script.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every script passes pyflakes as composed: a helper its composition lacks is an undefined
/// name here, not a `NameError` on a host in the middle of an upgrade; a module imported twice
/// or an import left unused shows here too.
#[test]
fn every_host_script_passes_pyflakes() {
    let tools = tools();
    let probe = python("import pyflakes", "", Some(&tools));
    assert!(
        probe.status.success(),
        "pyflakes is not installed in `{}`: run `scripts/setup`",
        tools.display()
    );
    for script in ALL {
        let out = python(
            "from pyflakes.api import main; main(args=[])",
            script.source,
            Some(&tools),
        );
        assert!(
            out.status.success(),
            "{} (composed in host_scripts.rs): {}{}",
            script.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The keys a script's body reads from `args` (`args["key"]`, `args.get("key")`).
fn reads(name: &str) -> BTreeSet<String> {
    let body = std::fs::read_to_string(format!(
        "{}/src/host_scripts/{name}.py",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let read = regex::Regex::new(r#"\bargs(?:\[|\.get\()"(\w+)""#).unwrap();
    read.captures_iter(&body).map(|c| c[1].to_owned()).collect()
}

/// The keys `args` serialises to.
fn keys(args: &impl Serialize) -> BTreeSet<String> {
    let value = serde_json::to_value(args).unwrap();
    value.as_object().unwrap().keys().cloned().collect()
}

/// Each argument struct has exactly the keys its script (or `hub_environment.py`) reads: a field renamed on one side
/// fails here, not as a `KeyError` on a host.
#[test]
fn every_argument_struct_has_the_keys_its_script_reads() {
    let hub = || HubEnvironmentArgs {
        hub_env: "/opt/hub",
        workdir: "/srv/hub",
        config: "/etc/jupyterhub_config.py",
        environment: None,
        environment_file: None,
    };
    let cutover = || CutoverArgs {
        record: "",
        stop: "stop",
        stop_timeout: 1,
        start: "start",
        start_timeout: 1,
        url: "http://hub/hub/api",
        db: "/srv/hub/jupyterhub.sqlite",
        version: "5.0.0",
        head: None,
        restart_version: None,
        allow_active_servers: false,
        env_python: "/opt/hub/bin/python".to_owned(),
        hub: hub(),
        upgrade_db: "upgrade-db".to_owned(),
        upgrade_db_timeout: 1,
        kept_db: String::new(),
        rollback: true,
        reinstall_previous: None,
        change: Change::Nothing,
        lock: LockRef { path: "", run: "" },
    };
    let checks = [
        // Not a script: the module every script that loads the hub's config calls.
        ("hub_environment", keys(&hub())),
        (
            GATHER.name,
            keys(&GatherArgs {
                hub: hub(),
                health_url: "",
                singleuser_env: None,
                config_timeout: 1,
            }),
        ),
        (
            BACKUP.name,
            keys(&BackupArgs {
                host: "h",
                db_backend: "sqlite",
                db_path: None,
                db_url: None,
                db_size: None,
                hub: hub(),
                config: "",
                cookie_secret_file: None,
                extra: &[],
                installer: Installer::Pip,
                conda: "",
                uv: "",
            }),
        ),
        (
            STAGE.name,
            keys(&StageArgs {
                to: "latest",
                mode: StageMode::DryRun,
                stage: String::new(),
                env: "",
                hub_paths: Vec::new(),
                reserve: None,
                installer: Installer::Pip,
                conda: "",
                uv: "",
                stage_timeout: 1,
                token: "",
            }),
        ),
        (
            REHEARSE.name,
            keys(&RehearseArgs {
                db_path: "",
                hub: hub(),
            }),
        ),
        (CUTOVER.name, keys(&cutover())),
        (
            LAUNCH.name,
            keys(&LaunchArgs {
                record: "",
                script: CUTOVER.source,
                args: cutover(),
                lock: Some(LockRef { path: "", run: "" }),
            }),
        ),
        (FOLLOW.name, keys(&FollowArgs { status: "", pid: 1 })),
        (
            RESTORE_CHECK.name,
            keys(&RestoreCheckArgs {
                db: "",
                archive_sha256: "",
                members: Vec::new(),
                revision: "",
                previous: String::new(),
                keep: false,
                bytes_needed: 0,
            }),
        ),
        (
            RESTORE.name,
            keys(&RestoreArgs {
                record: "",
                stop: "stop",
                stop_timeout: 1,
                start: "start",
                start_timeout: 1,
                url: "",
                db: "",
                hub: hub(),
                env: "",
                version: "",
                revision: "",
                restart_version: None,
                stage: "",
                kept_db: "",
                aside_suffix: "",
                files: Vec::new(),
                database: RestoreFile {
                    archived: "",
                    sha256: "",
                    live: "",
                },
                change: EnvBack::Install {
                    command: String::new(),
                },
            }),
        ),
        (
            LOCK.name,
            keys(&LockArgs {
                env: "",
                holder: &crate::steps::LockHolder::this_run("upgrade"),
                silence: 1,
            }),
        ),
    ];
    for (name, mut keys) in checks {
        let mut read = reads(name);
        if name == CUTOVER.name || name == RESTORE.name {
            // Only for the detached script's command line (see `CutoverArgs::record`).
            keys.remove("record");
            // What they share, the stop, start and health, reads its keys from the same `args`.
            read.extend(reads("hub_control"));
        }
        assert_eq!(keys, read, "{name}");
    }
}
