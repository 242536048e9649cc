//! Tests of the lab harness itself, with the real OpenSSH client: if these fail, every
//! integration test built on the lab would fail for reasons that are not hubfleet's.

// `mod lab;` alone would be ambiguous here: this file is `tests/lab.rs` itself.
#[path = "lab/mod.rs"]
mod lab;

use std::collections::BTreeSet;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use anyhow::Result;
use lab::{Hubs, Lab};

/// Runs `command`; its stdout, or a panic with everything it said.
fn stdout_of(command: &mut Command) -> String {
    let out = command.output().expect("the command runs");
    assert!(out.status.success(), "{command:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Every pid in the pid files of the lab that are running right now.
fn live_pids(lab: &Lab) -> Vec<u32> {
    let state = fs::read_to_string(lab.dir().join("lab-state")).expect("the lab has a state file");
    state
        .lines()
        .filter_map(|line| fs::read_to_string(line.split('\t').next()?).ok())
        .filter_map(|pid| pid.trim().parse().ok())
        .filter(|&pid| running(pid))
        .collect()
}

/// Whether `pid` is a process that has not exited (a zombie has: only its reaping is due, and
/// this machine's init reaps orphans lazily).
fn running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

#[test]
fn every_host_answers_over_ssh_with_the_labs_key_and_known_hosts() -> Result<()> {
    let lab = Lab::builder().hosts(3).start()?;
    assert_eq!(lab.hosts().len(), 3);
    for (i, host) in lab.hosts().iter().enumerate() {
        let out = stdout_of(lab.ssh(i).arg("echo $SSH_CONNECTION; hostname"));
        // The server end of the connection is this host's own address and port.
        assert!(out.contains(&format!("{} 22022", host.address)), "{out}");
        let out = lab.ssh(i).arg("true").status()?;
        assert!(out.success());
    }
    // No trust on first use: every host is in known_hosts before the first connection.
    let known_hosts = fs::read_to_string(lab.known_hosts())?;
    for host in lab.hosts() {
        assert!(known_hosts.contains(&format!("[{}]:22022 ssh-ed25519 ", host.address)));
    }
    Ok(())
}

/// Every `[section]` key of an inventory, as `defaults.user`, `hosts.*.address`, `groups.*.hosts`.
fn keys(inventory: &toml::Table) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (section, value) in inventory {
        let table = value.as_table().expect("top-level tables only");
        if section == "defaults" {
            keys.extend(table.keys().map(|k| format!("defaults.{k}")));
            continue;
        }
        for entry in table.values() {
            let entry = entry.as_table().expect("named tables");
            keys.extend(entry.keys().map(|k| format!("{section}.*.{k}")));
        }
    }
    keys
}

#[test]
fn the_inventory_names_every_host_and_the_groups_with_only_known_keys() -> Result<()> {
    let lab = Lab::builder().hosts(5).hubs(Hubs::Installed).start()?;
    let inventory: toml::Table = fs::read_to_string(lab.inventory())?.parse()?;
    let example: toml::Table = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/inventories/example.toml"
    ))?
    .parse()?;
    // A host's hub variables may also sit in [defaults]: compare host keys with both.
    let mut known = keys(&example);
    let defaults: Vec<String> = known
        .iter()
        .filter_map(|k| k.strip_prefix("defaults."))
        .map(|k| format!("hosts.*.{k}"))
        .collect();
    known.extend(defaults);
    let unknown: Vec<_> = keys(&inventory).difference(&known).cloned().collect();
    assert!(
        unknown.is_empty(),
        "keys not in inventories/example.toml: {unknown:?}"
    );

    let defaults = inventory["defaults"].as_table().expect("[defaults]");
    assert_eq!(defaults["port"].as_integer(), Some(22022));
    assert_eq!(defaults["host_key_policy"].as_str(), Some("strict"));
    let hosts = inventory["hosts"].as_table().expect("[hosts]");
    assert_eq!(hosts.len(), 5);
    let h3 = &hosts["h3"];
    assert_eq!(
        h3["address"].as_str(),
        Some(lab.hosts()[2].address.to_string().as_str())
    );
    // The inventory's own stop command works in a shell, quoting and all.
    let stop = h3["stop"].as_str().expect("a stop command");
    assert!(
        Command::new("sh").args(["-c", stop]).status()?.success(),
        "{stop}"
    );
    let group = |name: &str| inventory["groups"][name]["hosts"].clone();
    assert_eq!(group("odd"), toml::Value::try_from(["h1", "h3", "h5"])?);
    assert_eq!(group("even"), toml::Value::try_from(["h2", "h4"])?);
    assert_eq!(group("lab").as_array().map(Vec::len), Some(5));
    Ok(())
}

#[test]
fn a_running_hub_answers_and_its_database_holds_the_seeded_users() -> Result<()> {
    let lab = Lab::builder()
        .hosts(2)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()?;
    for (i, host) in lab.hosts().iter().enumerate() {
        assert_eq!(lab.hub_version(i)?, "4.1.6");
        // The hub answers on the address in the inventory, from the host itself over SSH too.
        let url = format!("{}/hub/api", host.hub_url());
        let out = stdout_of(lab.ssh(i).arg(format!("curl -sf {url}")));
        assert!(out.contains("\"version\": \"4.1.6\""), "{out}");
        let users = stdout_of(
            Command::new("sqlite3")
                .arg(host.hub_db())
                .arg("SELECT name FROM users ORDER BY name"),
        );
        assert_eq!(users, "admin\nalice\nbob\ncarol\n");
    }
    let seed = lab.seed().expect("a lab with hubs has a seed");
    // The seeded user's token and running server are alive on every hub.
    for host in lab.hosts() {
        let out = stdout_of(Command::new("curl").args([
            "-sf",
            "-H",
            &format!("Authorization: token {}", seed.token),
            &format!("{}/hub/api/users/{}", host.hub_url(), seed.token_user),
        ]));
        let user: serde_json::Value = serde_json::from_str(&out)?;
        assert_eq!(user["servers"][""]["ready"], true, "{out}");
    }
    Ok(())
}

#[test]
fn installed_hubs_start_and_stop_with_their_scripts() -> Result<()> {
    let lab = Lab::builder().hosts(1).hubs(Hubs::Installed).start()?;
    let public = SocketAddr::from((lab.hosts()[0].address, 8000));
    assert!(TcpStream::connect_timeout(&public, Duration::from_secs(1)).is_err());
    // As hubfleet will: the inventory's start command, over SSH, returns at once.
    let start = format!("bash {}/start.sh", lab.hosts()[0].hub_dir.display());
    stdout_of(lab.ssh(0).arg(start));
    assert_eq!(lab.start_hub(0)?, "4.1.6");
    lab.stop_hub(0)?;
    assert!(
        lab.hub_version(0).is_err(),
        "the hub still answers after stop.sh"
    );
    Ok(())
}

/// The scenario hubfleet automates, done by hand over SSH: the lab's hubs must survive it with
/// their users, tokens and running servers, or the lab cannot judge hubfleet.
#[test]
fn a_hub_upgraded_by_hand_from_4_to_6_keeps_users_tokens_and_servers() -> Result<()> {
    let lab = Lab::builder()
        .hosts(1)
        .hubs(Hubs::Running)
        .jupyterhub("4.1.6")
        .start()?;
    let host = &lab.hosts()[0];
    let (dir, env) = (host.hub_dir.display(), host.hub_env.display());
    let wheels = lab.wheelhouse().display();
    let script = format!(
        "set -e; bash {dir}/stop.sh; \
         env -u PIP_FIND_LINKS {env}/bin/pip install -q --no-index --find-links {wheels} jupyterhub==6.1.1; \
         cd {dir} && PATH={env}/bin:$PATH jupyterhub upgrade-db -f {dir}/jupyterhub_config.py; \
         bash {dir}/start.sh"
    );
    stdout_of(lab.ssh(0).arg(script));
    assert_eq!(lab.wait_hub(0)?, "6.1.1");
    let users = stdout_of(
        Command::new("sqlite3")
            .arg(host.hub_db())
            .arg("SELECT name FROM users ORDER BY name"),
    );
    assert_eq!(users, "admin\nalice\nbob\ncarol\n");
    let seed = lab.seed().expect("a lab with hubs has a seed");
    let out = stdout_of(Command::new("curl").args([
        "-sf",
        "-H",
        &format!("Authorization: token {}", seed.token),
        &format!("{}/hub/api/users/{}", host.hub_url(), seed.token_user),
    ]));
    let user: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(user["servers"][""]["ready"], true, "{out}");
    Ok(())
}

#[test]
fn drop_stops_every_process_the_lab_started() -> Result<()> {
    let lab = Lab::builder().hosts(2).hubs(Hubs::Running).start()?;
    let pids = live_pids(&lab);
    // Two sshds, and per host a hub, a proxy and a user server.
    assert_eq!(pids.len(), 8, "{pids:?}");
    drop(lab);
    let left: Vec<_> = pids.iter().filter(|&&pid| running(pid)).collect();
    assert!(left.is_empty(), "still running after drop: {left:?}");
    Ok(())
}

#[test]
fn a_stopped_sshd_refuses_connections_until_started_again() -> Result<()> {
    let lab = Lab::builder().hosts(2).start()?;
    lab.stop_sshd(0);
    let out = lab.ssh(0).arg("true").output()?;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Connection refused"),
        "{out:?}"
    );
    // The other host has its own sshd.
    assert!(lab.ssh(1).arg("true").status()?.success());
    lab.start_sshd(0)?;
    assert!(lab.ssh(0).arg("true").status()?.success());
    Ok(())
}

#[test]
fn a_changed_host_key_fails_strict_host_key_checking() -> Result<()> {
    let lab = Lab::builder().hosts(2).start()?;
    lab.change_host_key(1)?;
    let out = lab.ssh(1).arg("true").output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{stderr}"
    );
    assert!(lab.ssh(0).arg("true").status()?.success());
    Ok(())
}

#[test]
fn a_forgotten_host_key_makes_the_host_unknown() -> Result<()> {
    let lab = Lab::builder().hosts(2).start()?;
    lab.forget_host_key(0)?;
    let out = lab.ssh(0).arg("true").output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No ED25519 host key is known"), "{stderr}");
    assert!(lab.ssh(1).arg("true").status()?.success());
    Ok(())
}

#[test]
fn one_sshd_serves_up_to_sixteen_hosts() -> Result<()> {
    let lab = Lab::builder().hosts(20).addresses_per_sshd(16).start()?;
    assert_eq!(live_pids(&lab).len(), 2);
    for i in [0, 15, 16, 19] {
        assert!(lab.ssh(i).arg("true").status()?.success(), "host {i}");
    }
    Ok(())
}

#[test]
fn hubfleet_commands_get_the_labs_home_and_a_quiet_terminal() -> Result<()> {
    let lab = Lab::builder().hosts(1).start()?;
    let out = stdout_of(lab.hubfleet_at("sh").args([
        "-c",
        "echo $HOME $COLUMNS $NO_COLOR ${SSH_AUTH_SOCK:-none}; ls -a ~/.ssh",
    ]));
    let home = lab.home().display().to_string();
    assert!(out.starts_with(&format!("{home} 160 1 none\n")), "{out}");
    Ok(())
}
