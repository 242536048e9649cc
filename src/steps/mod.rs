//! The steps of a host's run, one file each. Steps are async, talk to the host over its session,
//! report through events and never print.

mod backup;
mod cutover;
mod gather_facts;
mod install;
mod notify;
mod rehearse;
mod script;
mod singleuser;
mod stage;
mod upgrade_db;

pub use backup::{BACKUP_SCRIPT, backup, backup_command};
pub use cutover::{Cutover, CutoverDone, RECORD_SUFFIX, cutover, status_path, swap_description};
pub use gather_facts::gather_facts;
pub use install::{Source, install_command};
pub use notify::notify;
pub use rehearse::{rehearse, rehearse_description};
pub use script::{
    describe, env_python, hub_environment_args, hub_python, run_command, run_script,
    run_script_with,
};
pub use singleuser::{SingleUser, singleuser, singleuser_install_command};
pub use stage::{Staged, Target, stage, stage_dir};
pub use upgrade_db::upgrade_db_command;

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Every script hubfleet sends to a host parses as Python 3.8: a host runs it with its hub
    /// env's Python, which is as old as 3.8 under JupyterHub 4 (this machine's Python would
    /// accept newer syntax without a word).
    #[test]
    fn every_host_script_is_python_3_8() {
        let scripts = [
            ("gather", crate::facts::GATHER_SCRIPT),
            ("backup", super::backup::BACKUP_SCRIPT),
            ("stage", super::stage::STAGE_SCRIPT),
            ("rehearse", super::rehearse::REHEARSE_SCRIPT),
            ("cutover", super::cutover::CUTOVER_SCRIPT),
            ("launch", super::cutover::LAUNCH_SCRIPT),
            ("follow", super::cutover::FOLLOW_SCRIPT),
        ];
        for (name, script) in scripts {
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
