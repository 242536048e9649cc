//! Facts about a hub host: versions, environment, database, disk, whether the hub runs.

pub mod alembic;
mod host_facts;

pub use host_facts::{HostFacts, HubEnvironment};

#[cfg(test)]
mod tests {
    use std::process::Command;

    /// The pure parts of `hub_environment.py`, run by this machine's Python: which command lines
    /// are the hub of an env, and how systemd's `EnvironmentFile=` format reads.
    #[test]
    fn hub_environment_finds_the_hub_and_reads_environment_files_as_systemd() {
        let checks = r#"
import os, tempfile
env = "/opt/hub"
cases = [
    (["/opt/hub/bin/python", "/opt/hub/bin/jupyterhub", "-f", "/etc/jh.py"], (True, "/etc/jh.py")),
    (["/opt/hub/bin/python3", "/opt/hub/bin/jupyterhub", "--config=/c.py"], (True, "/c.py")),
    (["/opt/hub/bin/python", "-m", "jupyterhub"], (True, None)),
    (["/opt/hub/bin/python", "/opt/hub/bin/jupyterhub", "upgrade-db", "-f", "x"], (False, None)),
    (["/opt/other/bin/python", "/opt/other/bin/jupyterhub"], (False, None)),
    (["/opt/hub/bin/python", "/opt/hub/bin/jupyterhub-singleuser"], (False, None)),
    (["sudo", "-u", "hub", "/opt/hub/bin/jupyterhub"], (False, None)),
    ([], (False, None)),
]
for argv, expected in cases:
    got = _hub_config_arg(1, argv, env)
    assert got == expected, (argv, got)
with tempfile.NamedTemporaryFile("w", delete=False) as f:
    f.write('# comment\n; too\nHUB_DB="sqlite:////srv/a b.sqlite"\nQUOTED=\'x y\'\n  SPACED = v  \nLONG=a\\\nb\nnot a line\n1BAD=x\n')
got = read_environment_file(f.name)
assert got == {"HUB_DB": "sqlite:////srv/a b.sqlite", "QUOTED": "x y", "SPACED": "v", "LONG": "ab"}, got
assert read_environment_file("-/nonexistent/hub.env") == {}
try:
    read_environment_file("/nonexistent/hub.env")
    raise AssertionError("a missing file must fail")
except FileNotFoundError:
    pass
os.unlink(f.name)
print("ok")
"#;
        let out = Command::new("python3")
            .arg("-c")
            .arg(format!(
                "{}\n{checks}",
                include_str!("../host_scripts/hub_environment.py")
            ))
            .output()
            .expect("python3 runs the lab, and this check");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    }
}
