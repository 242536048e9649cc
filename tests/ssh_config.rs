//! `~/.ssh/config` as OpenSSH reads it (issue 14, item 1): with `ssh` on `PATH`, hubfleet resolves
//! every host as `ssh -G` prints it; without, every line it cannot honour is a warning naming
//! `FILE:LINE`. No lab: `hubfleet inventory --json` shows the resolution.

#[path = "cli/mod.rs"]
mod cli;

use std::path::Path;
use std::process::Command;

use cli::{command, hubfleet};
use serde_json::Value;

/// Writes the operator's config: `Include`, `Match host`, a tab, `%h` and repeated keys, and
/// returns the inventory's path. hub-d sets its own port and user, which win.
fn write_config(dir: &Path) -> String {
    let ssh = dir.join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).unwrap();
    std::fs::write(
        ssh.join("conf.d/hubs.conf"),
        "Host hub-c\n  HostName 10.0.0.3\n  Port=2203\n",
    )
    .unwrap();
    let known = dir.join("fleet_known_hosts");
    std::fs::write(
        ssh.join("config"),
        format!(
            "Include {conf_d}/*.conf\n\
             Host hub-a\n\
             \tHostName\t%h.example.org\n\
             \tPort 2201\n\
             \tPort 2202\n\
             Match host hub-b\n\
             \tUser matched\n\
             \tIdentityFile ~/.ssh/hub_b\n\
             Host hub-*\n\
             \tProxyJump gate\n\
             \tConnectTimeout 7\n\
             \tServerAliveInterval 30\n\
             \tUserKnownHostsFile {known} {known}2\n\
             Host *\n\
             \tUser ops\n\
             \tUser ignored\n",
            conf_d = ssh.join("conf.d").display(),
            known = known.display(),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("inv.toml"),
        "[hosts.hub-a]\n[hosts.hub-b]\n[hosts.hub-c]\n[hosts.hub-d]\nport = 2999\nuser = \"inv\"\n",
    )
    .unwrap();
    "inv.toml".to_owned()
}

/// What `ssh -G` prints for `name` with `config` (`/dev/null`: OpenSSH's defaults), as
/// `(key, value)` lines. `-F`, because ssh reads the passwd home's config, not `$HOME`'s.
fn ssh_g(dir: &Path, config: &Path, name: &str) -> Vec<(String, String)> {
    let out = Command::new("ssh")
        .arg("-F")
        .arg(config)
        .args(["-G", name])
        .env("HOME", dir)
        .output()
        .expect("ssh -G runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn values<'p>(printed: &'p [(String, String)], key: &str) -> Vec<&'p str> {
    printed
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn ssh_on_path() -> bool {
    Command::new("ssh").arg("-V").output().is_ok()
}

#[test]
fn every_host_resolves_as_ssh_g_prints_it() {
    if !ssh_on_path() {
        // The fallback is tested below; this one needs the OpenSSH client.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let inventory = write_config(home);
    let run = hubfleet(home, &["inventory", "-i", &inventory, "--json"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let hosts: Value = serde_json::from_str(&run.stdout).unwrap();
    let hosts = hosts["hosts"].clone();
    let defaults = ssh_g(home, Path::new("/dev/null"), "hubfleet-defaults.invalid");
    let expand = |p: &str| match p.strip_prefix("~/") {
        Some(rest) => home.join(rest).display().to_string(),
        None => p.to_owned(),
    };
    for host in hosts.as_array().unwrap() {
        let name = host["name"].as_str().unwrap();
        let ssh = &host["ssh"];
        let printed = ssh_g(home, &home.join(".ssh/config"), name);
        // A value equal to OpenSSH's built-in default is not the operator's choice: hubfleet's
        // own default applies (the local `$USER`, its three default keys).
        let chosen = |key: &str| values(&printed, key) != values(&defaults, key);
        let one = |key: &str| values(&printed, key)[0].to_owned();
        if name == "hub-d" {
            assert_eq!(
                (ssh["user"].as_str(), ssh["port"].as_u64()),
                (Some("inv"), Some(2999)),
                "the inventory wins"
            );
        } else {
            assert_eq!(
                ssh["user"],
                if chosen("user") {
                    one("user")
                } else {
                    "op".to_owned()
                },
                "{name}"
            );
            assert_eq!(ssh["port"].to_string(), one("port"), "{name}");
        }
        assert_eq!(ssh["address"], one("hostname"), "{name}");
        if chosen("identityfile") {
            let files: Vec<String> = values(&printed, "identityfile")
                .into_iter()
                .map(expand)
                .collect();
            assert_eq!(strings(&ssh["identity_files"]), files, "{name}");
        } else {
            assert_eq!(ssh["identity_files"].as_array().unwrap().len(), 3, "{name}");
        }
        let mut known = vec![ssh["known_hosts"].as_str().unwrap().to_owned()];
        known.extend(strings(&ssh["more_known_hosts"]));
        let mut expected: Vec<String> = one("userknownhostsfile")
            .split(' ')
            .map(str::to_owned)
            .collect();
        expected.extend(one("globalknownhostsfile").split(' ').map(str::to_owned));
        assert_eq!(known, expected, "{name}");
        assert_eq!(
            ssh["connect_timeout"].as_f64().unwrap().to_string(),
            one("connecttimeout"),
            "{name}"
        );
        assert_eq!(
            ssh["keepalive"].as_f64().unwrap().to_string(),
            one("serveraliveinterval"),
            "{name}"
        );
        assert_eq!(ssh["jump"]["name"], one("proxyjump"), "{name}");
    }
    // What the config says, spelt out, so that a change in the comparison above cannot hide it.
    let by_name = |n: &str| {
        hosts
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == n)
            .unwrap()["ssh"]
            .clone()
    };
    let (a, b, c) = (by_name("hub-a"), by_name("hub-b"), by_name("hub-c"));
    assert_eq!(
        (
            a["address"].as_str(),
            a["port"].as_u64(),
            a["user"].as_str()
        ),
        (Some("hub-a.example.org"), Some(2201), Some("ops"))
    );
    assert_eq!(
        (b["user"].as_str(), b["identity_files"][0].as_str()),
        (
            Some("matched"),
            Some(home.join(".ssh/hub_b").to_str().unwrap())
        )
    );
    assert_eq!(
        (c["address"].as_str(), c["port"].as_u64()),
        (Some("10.0.0.3"), Some(2203))
    );
    assert_eq!(
        a["jump"]["user"], "ops",
        "the jump host is resolved by ssh -G too"
    );
}

#[test]
fn without_ssh_every_line_not_honoured_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let inventory = write_config(home);
    let out = command(home)
        .env("PATH", home.join("no-ssh-here"))
        .args(["inventory", "-i", &inventory, "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let config = home.join(".ssh/config").display().to_string();
    assert_eq!(
        stderr
            .replace(&config, "CONFIG")
            .replace(&home.display().to_string(), "HOME"),
        "warning: CONFIG:1: `Include` is followed only by `ssh`, which is not on `PATH`: the included files are ignored\n\
         warning: CONFIG:3: `%h` in `HostName` is expanded only by `ssh`, which is not on `PATH`; the line is ignored\n\
         warning: CONFIG:6: `Match` is understood only by `ssh`, which is not on `PATH`: lines 6-8 are ignored\n\
         warning: CONFIG:11: `ConnectTimeout` is ignored: without `ssh` on `PATH`, hubfleet reads only HostName, User, Port, IdentityFile, UserKnownHostsFile, ProxyJump\n\
         warning: CONFIG:12: `ServerAliveInterval` is ignored: without `ssh` on `PATH`, hubfleet reads only HostName, User, Port, IdentityFile, UserKnownHostsFile, ProxyJump\n"
    );
    // What it could read, it read: the first `Port`, the tab-separated `User` of `Host *`.
    let hosts: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = hosts["hosts"].clone();
    assert_eq!(hosts[0]["ssh"]["port"], 2201);
    assert_eq!(hosts[0]["ssh"]["user"], "ops");
    assert_eq!(
        hosts[1]["ssh"]["user"], "ops",
        "the `Match` block does not leak"
    );
}

#[test]
fn a_config_ssh_refuses_is_refused_before_any_connection() {
    if !ssh_on_path() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/config"), "Host *\n  Bogus yes\n").unwrap();
    std::fs::write(home.join("inv.toml"), "[hosts.a]\n").unwrap();
    let run = hubfleet(home, &["inventory", "-i", "inv.toml"]);
    let config = home.join(".ssh/config").display().to_string();
    assert_eq!(
        (run.code, run.stderr.replace(&config, "CONFIG").as_str()),
        (
            1,
            "error: `ssh -G a` failed: CONFIG: line 2: Bad configuration option: bogus; CONFIG: terminating, 1 bad configuration options\n"
        )
    );
}
