//! The Python hubfleet runs on a host, composed in one place. Every script in `host_scripts/` is
//! run by a hub env's Python as `python -c SCRIPT ARGS_JSON`; the modules it needs (definitions
//! only) are sent ahead of it in the same `-c`, so each constant here is the whole program a host
//! runs, and no other file includes Python.

/// The fact-gathering script (`gather.py`), run by the hub's Python.
pub const GATHER: &str = concat!(
    include_str!("host_scripts/revisions.py"),
    include_str!("host_scripts/sqlite_ro.py"),
    include_str!("host_scripts/cutover_record.py"),
    include_str!("host_scripts/hub_environment.py"),
    include_str!("host_scripts/gather.py")
);

/// The backup (`backup.py`): streams a tar of the hub's state that ends with its manifest.
pub const BACKUP: &str = concat!(
    include_str!("host_scripts/sqlite_ro.py"),
    include_str!("host_scripts/snapshot.py"),
    include_str!("host_scripts/backup.py")
);

/// Resolves the target release and readies it on the host (`stage.py`).
pub const STAGE: &str = concat!(
    include_str!("host_scripts/revisions.py"),
    include_str!("host_scripts/stage.py")
);

/// upgrade-db on a private copy of the database, run by the staged env's Python (`rehearse.py`).
pub const REHEARSE: &str = concat!(
    include_str!("host_scripts/hub_environment.py"),
    include_str!("host_scripts/sqlite_ro.py"),
    include_str!("host_scripts/snapshot.py"),
    include_str!("host_scripts/rehearse.py")
);

/// The downtime, run detached on the host by [`LAUNCH`] (`cutover.py`).
pub const CUTOVER: &str = concat!(
    include_str!("host_scripts/revisions.py"),
    include_str!("host_scripts/hub_environment.py"),
    include_str!("host_scripts/sqlite_ro.py"),
    include_str!("host_scripts/cutover.py")
);

/// Starts [`CUTOVER`] in a session of its own and prints its pid (`launch.py`).
pub const LAUNCH: &str = concat!(
    include_str!("host_scripts/cutover_record.py"),
    include_str!("host_scripts/launch.py")
);

/// Prints the cutover's record as it grows, until its result (`follow.py`).
pub const FOLLOW: &str = include_str!("host_scripts/follow.py");

/// Every script, by name, for the checks.
#[cfg(test)]
const ALL: &[(&str, &str)] = &[
    ("gather", GATHER),
    ("backup", BACKUP),
    ("stage", STAGE),
    ("rehearse", REHEARSE),
    ("cutover", CUTOVER),
    ("launch", LAUNCH),
    ("follow", FOLLOW),
];

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Every script hubfleet sends to a host parses as Python 3.8: a host runs it with its hub
    /// env's Python, which is as old as 3.8 under JupyterHub 4 (this machine's Python would
    /// accept newer syntax without a word).
    #[test]
    fn every_host_script_is_python_3_8() {
        for (name, script) in super::ALL {
            let mut python = Command::new("python3")
                .args([
                    "-c",
                    "import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 8))",
                ])
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python3 runs the lab, and this check");
            python
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            let out = python.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
