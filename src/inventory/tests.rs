//! Table-driven tests of inventory resolution, `-e` and `--limit`, with the operator-facing
//! messages asserted word for word.

use std::path::{Path, PathBuf};

use super::*;
use crate::ssh::{Become, HostKeyPolicy};

fn context() -> ResolveContext {
    ResolveContext {
        home: PathBuf::from("/home/op"),
        ssh_config: SshConfig::default(),
        local_user: "op".to_owned(),
        extra_vars: RawVars::default(),
    }
}

fn load(source: &str) -> Result<Inventory, InventoryError> {
    Inventory::parse(Path::new("inv.toml"), source, &context())
}

fn error(source: &str) -> String {
    load(source)
        .expect_err("inventory should be refused")
        .to_string()
}

const FLEET: &str = r#"
[defaults]
user = "root"
identity_files = ["~/.ssh/hub_key"]
installer = "pip"

[groups.eu]
hosts = ["paris"]
children = ["gpu"]
[groups.eu.vars]
user = "eu-admin"
installer = "uv"

[groups.gpu]
hosts = ["berlin"]
[groups.gpu.vars]
installer = "conda"

[hosts.paris]
address = "10.0.0.1"

[hosts.berlin]
address = "10.0.0.2"
user = "hans"

[hosts.lone]
"#;

#[test]
fn variables_merge_defaults_then_groups_parent_first_then_host() {
    let inv = load(FLEET).unwrap();
    let [paris, berlin, lone] = inv.hosts() else {
        panic!("three hosts")
    };
    assert_eq!(
        (paris.ssh.user.as_str(), paris.hub.installer),
        ("eu-admin", Installer::Uv)
    );
    // berlin: eu (depth 0) then gpu (depth 1, a child of eu), then its own user.
    assert_eq!(
        (berlin.ssh.user.as_str(), berlin.hub.installer),
        ("hans", Installer::Conda)
    );
    assert_eq!(berlin.groups, ["eu", "gpu"]);
    assert_eq!(
        (lone.ssh.user.as_str(), lone.ssh.address.as_str()),
        ("root", "lone")
    );
    assert_eq!(
        lone.ssh.identity_files,
        [PathBuf::from("/home/op/.ssh/hub_key")]
    );
    assert_eq!(
        lone.ssh.known_hosts,
        PathBuf::from("/home/op/.ssh/known_hosts")
    );
    assert_eq!(lone.ssh.host_key_policy, HostKeyPolicy::Strict);
    assert_eq!(inv.groups()["eu"], ["paris", "berlin"]);
}

#[test]
fn command_line_variables_win() {
    let mut ctx = context();
    ctx.extra_vars = parse_extra_vars(&[
        "user=alice".into(),
        "port=2222".into(),
        "become=true".into(),
    ])
    .unwrap();
    let inv = Inventory::parse(Path::new("inv.toml"), FLEET, &ctx).unwrap();
    let berlin = &inv.hosts()[1];
    assert_eq!((berlin.ssh.user.as_str(), berlin.ssh.port), ("alice", 2222));
    assert_eq!(
        berlin.hub.become_,
        Become::Sudo {
            user: "root".into()
        }
    );
}

#[test]
fn extra_var_errors_name_the_argument() {
    let cases = [
        ("port", "`-e port`: expected `KEY=VALUE` or `@FILE`"),
        (
            "port=abc",
            "`-e port=abc`: invalid type: string \"abc\", expected a port number 1–65535",
        ),
        (
            "colour=red",
            "`-e colour=red`: unknown key `colour`, expected one of `address`, `port`, `user`, `identity_files`, `known_hosts`, `host_key_policy`, `connect_timeout`, `keepalive`, `jump`, `become`, `become_user`, `hub_env`, `installer`, `conda`, `uv`, `singleuser_env`, `singleuser_installer`, `config`, `workdir`, `environment`, `environment_file`, `stop`, `stop_timeout`, `start`, `start_timeout`, `upgrade_db_timeout`, `stage_timeout`, `notify_timeout`, `config_timeout`, `notify`, `health_url`, `backup_extra`, `hub`",
        ),
        (
            "stop_timout=5",
            "`-e stop_timout=5`: unknown key `stop_timout`; did you mean `stop_timeout`?",
        ),
        (
            "stop=\"x\\u0000\"",
            "`-e stop=\"x\\u0000\"`: `stop` holds a NUL character, which no command, path or environment can carry",
        ),
        (
            "installer=apt",
            "`-e installer=apt`: unknown variant `apt`, expected one of `pip`, `uv`, `conda`",
        ),
    ];
    for (arg, message) in cases {
        let err = parse_extra_vars(&[arg.to_owned()]).unwrap_err();
        assert_eq!(err.to_string(), message, "for {arg}");
    }
}

#[test]
fn bad_inventories_are_refused_with_file_line_column() {
    let cases = [
        (
            "[hosts.a]\nadress = \"x\"\n",
            "inv.toml:2:1: unknown key `adress`; did you mean `address`?",
        ),
        (
            "[hosts.a]\nport = \"22\"\n",
            "inv.toml:2:8: invalid type: string \"22\", expected a port number 1–65535",
        ),
        (
            "[hosts.a]\nport = 0\n",
            "inv.toml:2:8: `port` of host `a` must be between 1 and 65535",
        ),
        (
            "[defaults]\nconnect_timeout = 0\n[hosts.a]\n",
            "inv.toml:2:19: `connect_timeout` of host `a` must be at least 1 second",
        ),
        (
            "[hosts.a]\nhost_key_policy = \"yes\"\n",
            "inv.toml:2:19: unknown variant `yes`, expected `strict` or `accept-new`",
        ),
        (
            "[groups.g]\nhosts = [\"a\", \"b\"]\n[hosts.a]\n",
            "inv.toml:2:15: group `g` lists host `b`, which is not defined",
        ),
        (
            "[groups.g]\nchildren = [\"h\"]\n",
            "inv.toml:2:13: group `g` lists child group `h`, which is not defined",
        ),
        (
            "[groups.g]\nchildren = [\"h\"]\n[groups.h]\nchildren = [\"g\"]\n",
            "inv.toml:1:9: group `g` contains itself through `g -> h -> g`",
        ),
        (
            "[hosts.a]\n[hosts.a]\n",
            "inv.toml:2:8: `a` is defined twice",
        ),
        (
            "[hosts.a]\n[groups.a]\n",
            "inv.toml:1:8: `a` names both a host and a group; rename one of them",
        ),
        (
            "[hosts.a]\njump = \"b\"\n[hosts.b]\njump = \"a\"\n",
            "inv.toml:4:8: `jump` of host `b` forms a loop: a -> b -> a",
        ),
        (
            "[hosts.a]\njump = \"x:notaport\"\n",
            "inv.toml:2:8: `jump` of host `a` has a bad port in `x:notaport`: expected `[user@]host[:port]` or a host of the inventory",
        ),
        ("[hosts.a\n", "inv.toml:1:9: unclosed table, expected `]`"),
        (
            "[hosts.\"../..\"]\n",
            "inv.toml:1:8: host name `../..` starts with `.`; rename the host",
        ),
        (
            "[hosts.\"/tmp/x\"]\n",
            "inv.toml:1:8: host name `/tmp/x` contains a slash; rename the host",
        ),
        (
            "[hosts.\"a\\tb\"]\n",
            "inv.toml:1:8: host name `a\\tb` contains a control character; rename the host",
        ),
        (
            "[hosts.\"\"]\n",
            "inv.toml:1:8: host name `` is empty; rename the host",
        ),
        (
            "[defaults]\nstop = \"systemctl stop jupyterhub\\u0000\"\n[hosts.a]\n",
            "inv.toml:2:8: `stop` of host `a` holds a NUL character, which no command, path or environment can carry",
        ),
        (
            "[hosts.a]\nbackup_extra = [\"/etc/x\", \"/etc/\\u0000y\"]\n",
            "inv.toml:2:16: `backup_extra` of host `a` holds a NUL character, which no command, path or environment can carry",
        ),
        (
            "[serveurs.a]\n",
            "inv.toml:1:2: unknown key `serveurs`, expected one of `defaults`, `groups`, `hosts`",
        ),
    ];
    for (source, message) in cases {
        assert_eq!(error(source), message, "for {source:?}");
    }
}

/// Values of the right type that cannot work (issue 14, item 3): refused at the value, in plain
/// words that say what to write instead, with "did you mean" for names.
#[test]
fn values_that_cannot_work_are_refused_in_plain_words() {
    let cases = [
        (
            "[hosts.a]\naddress = \"\"\n",
            "inv.toml:2:11: `address` of host `a` is empty: give the host's DNS name or IP address, or leave `address` out to use the host's name",
        ),
        (
            "[hosts.a]\naddress = \"10.0.0.1:2222\"\n",
            "inv.toml:2:11: `address` of host `a` is `10.0.0.1:2222`, which holds a port: write `address = \"10.0.0.1\"` and `port = 2222`",
        ),
        (
            "[hosts.a]\naddress = \"[fe80::1]:2222\"\n",
            "inv.toml:2:11: `address` of host `a` is `[fe80::1]:2222`, which holds a port: write `address = \"fe80::1\"` and `port = 2222`",
        ),
        (
            "[hosts.a]\naddress = \"ops@10.0.0.1\"\n",
            "inv.toml:2:11: `address` of host `a` is `ops@10.0.0.1`, which holds a user: write `address = \"10.0.0.1\"` and `user = \"ops\"`",
        ),
        (
            "[defaults]\nuser = \"\"\n[hosts.a]\n",
            "inv.toml:2:8: `user` of host `a` is empty: give the remote login name, or leave `user` out to use `ssh -G`'s or yours",
        ),
        (
            "[hosts.a]\nhub_env = \"opt/jupyterhub\"\n",
            "inv.toml:2:11: `hub_env` of host `a` is `opt/jupyterhub`, which is not an absolute path on the host",
        ),
        (
            "[hosts.a]\nconfig = \"jupyterhub_config.py\"\n",
            "inv.toml:2:10: `config` of host `a` is `jupyterhub_config.py`, which is not an absolute path on the host",
        ),
        (
            "[hosts.a]\nworkdir = \"~/hub\"\n",
            "inv.toml:2:11: `workdir` of host `a` is `~/hub`, which is not an absolute path on the host",
        ),
        (
            "[hosts.a]\nstop = \"\"\n",
            "inv.toml:2:8: `stop` of host `a` is empty: give the shell command that stops the hub",
        ),
        (
            "[hosts.a]\nstart = \" \"\n",
            "inv.toml:2:9: `start` of host `a` is empty: give the shell command that starts the hub",
        ),
        (
            "[hosts.bastion]\n[hosts.a]\njump = \"bastoin\"\n",
            "inv.toml:3:8: `jump` of host `a` names `bastoin`, which is not a host of the inventory; did you mean `bastion`? (for a host outside the inventory, write `bastoin:22`)",
        ),
        (
            "[hosts.a]\njump = \"ops@bad host\"\n",
            "inv.toml:2:8: `jump` of host `a` names `ops@bad host`, which is neither a host of the inventory nor `[user@]host[:port]`",
        ),
        (
            "[hosts.a]\njump = \"@gate\"\n",
            "inv.toml:2:8: `jump` of host `a` names `@gate`, which is neither a host of the inventory nor `[user@]host[:port]`",
        ),
        (
            "[hosts.a]\nknown_hosts = []\n",
            "inv.toml:2:15: `known_hosts` of host `a` is an empty list: give at least one known_hosts file",
        ),
        (
            "[hosts.a]\nknown_hosts = 3\n",
            "inv.toml:2:15: invalid type: integer `3`, expected a path or a list of paths",
        ),
        (
            "[hosts.a]\nport = 70000\n",
            "inv.toml:2:8: invalid value: integer `70000`, expected a port number 1–65535",
        ),
        (
            "[hosts.a]\nstop_timeout = -5\n",
            "inv.toml:2:16: invalid value: integer `-5`, expected a number of seconds",
        ),
        (
            "[groups.eu]\nhosts = [\"hub-pari\"]\n[hosts.hub-paris]\n",
            "inv.toml:2:10: group `eu` lists host `hub-pari`, which is not defined; did you mean `hub-paris`?",
        ),
        (
            "[groups.eu]\nchildren = [\"gpus\"]\n[groups.gpu]\n",
            "inv.toml:2:13: group `eu` lists child group `gpus`, which is not defined; did you mean `gpu`?",
        ),
        (
            "[hosts.a]\nhub_enw = \"/opt/hub\"\n",
            "inv.toml:2:1: unknown key `hub_enw`; did you mean `hub_env`?",
        ),
        (
            "[groups.g]\nhost = [\"a\"]\n",
            "inv.toml:2:1: unknown key `host`; did you mean `hosts`?",
        ),
    ];
    for (source, message) in cases {
        assert_eq!(error(source), message, "for {source:?}");
    }
    // What does work stays accepted: an IPv6 address, an outside jump host.
    let inv =
        load("[hosts.a]\naddress = \"fe80::1\"\njump = \"ops@gate.example.org:2222\"\nknown_hosts = [\"~/.ssh/kh\", \"/etc/fleet_kh\"]\n").unwrap();
    let ssh = &inv.hosts()[0].ssh;
    assert_eq!(ssh.address, "fe80::1");
    assert_eq!(ssh.known_hosts, PathBuf::from("/home/op/.ssh/kh"));
    assert_eq!(
        ssh.more_known_hosts,
        [
            "/etc/fleet_kh",
            "/etc/ssh/ssh_known_hosts",
            "/etc/ssh/ssh_known_hosts2"
        ]
        .map(PathBuf::from)
    );
}

#[test]
fn a_jump_alias_of_the_ssh_config_is_not_taken_for_a_typo() {
    let source = "[hosts.hub1]\njump = \"hubgw\"\n";
    assert_eq!(
        error(source),
        "inv.toml:2:8: `jump` of host `hub1` names `hubgw`, which is not a host of the inventory; did you mean `hub1`? (for a host outside the inventory, write `hubgw:22`)"
    );
    let mut ctx = context();
    ctx.ssh_config = SshConfig::from_text("Host hubgw\n  HostName 10.0.0.9\n");
    let inv = Inventory::parse(Path::new("inv.toml"), source, &ctx).unwrap();
    let jump = inv.hosts()[0].ssh.jump.as_deref().unwrap();
    assert_eq!(
        (jump.name.as_str(), jump.address.as_str()),
        ("hubgw", "10.0.0.9")
    );
}

#[test]
fn jump_hosts_resolve_from_the_inventory_or_a_spec() {
    let inv = load(
        "[defaults]\nknown_hosts = \"/kh\"\n[hosts.bastion]\naddress = \"1.2.3.4\"\nuser = \"ops\"\n\
         [hosts.inner]\njump = \"bastion\"\n[hosts.outer]\njump = \"jo@5.6.7.8:2200,bastion\"\n\
         [hosts.direct]\njump = \"\"\n",
    )
    .unwrap();
    let [bastion, inner, outer, direct] = inv.hosts() else {
        panic!("four hosts")
    };
    assert_eq!(bastion.ssh.jump, None);
    assert_eq!(inner.ssh.jump.as_deref(), Some(&bastion.ssh));
    // `a,b`: connect to a, from there to b, from there to the host.
    let last = outer.ssh.jump.as_deref().unwrap();
    assert_eq!(
        (last.name.as_str(), last.address.as_str()),
        ("bastion", "1.2.3.4")
    );
    let first = last.jump.as_deref().unwrap();
    assert_eq!(
        (first.user.as_str(), first.address.as_str(), first.port),
        ("jo", "5.6.7.8", 2200)
    );
    assert_eq!(first.known_hosts, PathBuf::from("/kh"));
    assert_eq!(direct.ssh.jump, None);
}

#[test]
fn ssh_config_fills_what_the_inventory_leaves_unset() {
    let mut ctx = context();
    ctx.ssh_config = SshConfig::from_text(
        "Host hub*\n  HostName 10.9.9.9\n  User cfguser\n  Port 2022\n  ProxyJump gate\n\nHost gate\n  User gateuser\n",
    );
    let inv = Inventory::parse(
        Path::new("inv.toml"),
        "[hosts.hub1]\n[hosts.hub2]\nuser = \"inv\"\naddress = \"10.0.0.2\"\njump = \"\"\n",
        &ctx,
    )
    .unwrap();
    let [hub1, hub2] = inv.hosts() else {
        panic!("two hosts")
    };
    assert_eq!(
        (
            hub1.ssh.address.as_str(),
            hub1.ssh.user.as_str(),
            hub1.ssh.port
        ),
        ("10.9.9.9", "cfguser", 2022)
    );
    let gate = hub1.ssh.jump.as_deref().unwrap();
    assert_eq!(
        (gate.address.as_str(), gate.user.as_str()),
        ("gate", "gateuser")
    );
    assert_eq!(
        (hub2.ssh.address.as_str(), hub2.ssh.user.as_str()),
        ("10.0.0.2", "inv")
    );
    assert_eq!(hub2.ssh.jump, None);
}

#[test]
fn hub_settings_default_to_the_configs_directory() {
    let inv = load("[hosts.a]\nconfig = \"/srv/hub/jupyterhub_config.py\"\n").unwrap();
    let hub = &inv.hosts()[0].hub;
    assert_eq!(hub.workdir, "/srv/hub");
    assert_eq!(hub.stop, "systemctl stop jupyterhub");
    assert_eq!(hub.become_, Become::No);
}

#[test]
fn a_hubs_environment_is_declared_by_a_table_and_a_file_and_masked_in_output() {
    let inv = load(
        "[defaults]\nenvironment_file = \"-/etc/default/jupyterhub\"\n[hosts.a]\nenvironment = { HUB_DB = \"postgresql://hub:s3cret@db/hub\" }\n[hosts.b]\nenvironment = {}\n[hosts.c]\nenvironment_file = \"/etc/hub.env\"\n",
    )
    .unwrap();
    let a = inv.hosts()[0].hub.environment.as_ref().expect("declared");
    assert_eq!(a.variables["HUB_DB"], "postgresql://hub:s3cret@db/hub");
    assert_eq!(a.file.as_deref(), Some("-/etc/default/jupyterhub"));
    // `environment = {}` declares a hub that needs nothing, which is not saying nothing.
    let b = inv.hosts()[1].hub.environment.as_ref().expect("declared");
    assert!(b.variables.is_empty());
    let json = serde_json::to_string(&inv.hosts()[0]).unwrap();
    assert!(
        json.contains(r#""variables":{"HUB_DB":"***"}"#) && !json.contains("s3cret"),
        "{json}"
    );
    assert!(
        load("[hosts.a]\n").unwrap().hosts()[0]
            .hub
            .environment
            .is_none()
    );

    for (source, message) in [
        (
            "[hosts.a]\nenvironment = { \"HUB-DB\" = \"x\" }\n",
            "inv.toml:2:15: `environment` of host `a` names `HUB-DB`, which is not an environment variable name (letters, digits and `_`, not starting with a digit)",
        ),
        (
            "[hosts.a]\nenvironment_file = \"hub.env\"\n",
            "inv.toml:2:20: `environment_file` of host `a` is `hub.env`, which is not an absolute path on the host",
        ),
    ] {
        assert_eq!(error(source), message, "{source}");
    }
}

#[test]
fn the_single_user_env_takes_the_hubs_installer_unless_told_otherwise() {
    let inv = load(
        "[defaults]\ninstaller = \"conda\"\n[hosts.a]\n[hosts.b]\nsingleuser_installer = \"pip\"\n",
    )
    .unwrap();
    let installers: Vec<_> = inv
        .hosts()
        .iter()
        .map(|h| (h.hub.installer, h.hub.singleuser_installer))
        .collect();
    assert_eq!(
        installers,
        [
            (Installer::Conda, Installer::Conda),
            (Installer::Conda, Installer::Pip)
        ]
    );
}

#[test]
fn limit_selects_names_groups_globs_exclusions_and_files() {
    let inv = load(FLEET).unwrap();
    let names = |limit: &str| -> Vec<String> {
        Limit::parse(limit)
            .unwrap()
            .select(&inv, Targets::Hubs)
            .unwrap()
            .iter()
            .map(|h| h.name.clone())
            .collect()
    };
    assert_eq!(names(""), ["paris", "berlin", "lone"]);
    assert_eq!(names("eu"), ["paris", "berlin"]);
    assert_eq!(names("gpu,lone"), ["berlin", "lone"]);
    assert_eq!(names("*,!eu"), ["lone"]);
    assert_eq!(names("p*"), ["paris"]);
    assert_eq!(names("g*"), ["berlin"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("failed.hosts");
    std::fs::write(&file, "# retry\nlone\nparis  # unreachable\n").unwrap();
    assert_eq!(names(&format!("@{}", file.display())), ["paris", "lone"]);
}

#[test]
fn limit_errors_say_what_is_wrong() {
    let inv = load(FLEET).unwrap();
    let err = |limit: &str| match Limit::parse(limit) {
        Ok(l) => l.select(&inv, Targets::Hubs).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err("pariss"),
        "`--limit pariss`: `pariss` is neither a host nor a group of the inventory; did you mean `paris`?"
    );
    assert_eq!(err("x*"), "`--limit x*` selects no host of the inventory");
    assert_eq!(
        err("eu,!eu"),
        "`--limit eu,!eu` selects no host of the inventory"
    );
    assert_eq!(
        err("[a"),
        "`--limit [a`: `[a` is not a valid glob: unclosed character class; missing ']'"
    );
    assert_eq!(
        err("@/nonexistent/file"),
        "`--limit @/nonexistent/file`: cannot read `/nonexistent/file`: no such file (a run with failed hosts lists them in `BACKUP_DIR/retry-TIMESTAMP.txt`; its path is under the recap)"
    );
}
