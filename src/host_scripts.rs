//! The Python hubfleet runs on a host, composed in one place. Every script in `host_scripts/` is
//! run by a hub env's Python as `python -c SCRIPT ARGS_JSON`; the modules it needs (definitions
//! only) are sent ahead of it in the same `-c`, so each constant here is the whole program a host
//! runs, and no other file includes Python.

/// Composes a script: the prelude, then the modules it needs (definitions only), then its body,
/// all from `host_scripts/`.
macro_rules! script {
    ($($module:literal),* ; $body:literal) => {
        concat!(
            include_str!("host_scripts/prelude.py"),
            $(include_str!(concat!("host_scripts/", $module, ".py")),)*
            include_str!(concat!("host_scripts/", $body, ".py"))
        )
    };
}

/// The fact-gathering script (`gather.py`), run by the hub's Python.
pub const GATHER: &str =
    script!("revisions", "database", "cutover_record", "hub_environment"; "gather");

/// The backup (`backup.py`): streams a tar of the hub's state that ends with its manifest.
pub const BACKUP: &str = script!("database"; "backup");

/// Resolves the target release and readies it on the host (`stage.py`).
pub const STAGE: &str = script!("revisions", "resolver"; "stage");

/// upgrade-db on a private copy of the database, run by the staged env's Python (`rehearse.py`).
pub const REHEARSE: &str = script!("hub_environment", "database"; "rehearse");

/// The downtime, run detached on the host by [`LAUNCH`] (`cutover.py`).
pub const CUTOVER: &str = script!("revisions", "hub_environment", "database"; "cutover");

/// Starts [`CUTOVER`] in a session of its own and prints its pid (`launch.py`).
pub const LAUNCH: &str = script!("cutover_record"; "launch");

/// Prints the cutover's record as it grows, until its result (`follow.py`).
pub const FOLLOW: &str = script!(; "follow");

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
    use std::path::PathBuf;
    use std::process::{Command, Output, Stdio};

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
        for (name, script) in super::ALL {
            let code = "import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 8))";
            let out = python(code, script, None);
            assert!(
                out.status.success(),
                "{name}: {}",
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
        for (name, script) in super::ALL {
            let out = python(
                "import sys; from pyflakes.api import main; main(args=[])",
                script,
                Some(&tools),
            );
            assert!(
                out.status.success(),
                "{name} (composed in host_scripts.rs): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
