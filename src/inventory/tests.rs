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
            "`-e port=abc`: invalid type: string \"abc\", expected u16",
        ),
        (
            "colour=red",
            "`-e colour=red`: unknown field `colour`, expected one of `address`, `port`, `user`, `identity_files`, `known_hosts`, `host_key_policy`, `connect_timeout`, `keepalive`, `jump`, `become`, `become_user`, `hub_env`, `installer`, `conda_env`, `conda`, `uv`, `singleuser_env`, `singleuser_installer`, `config`, `workdir`, `environment`, `environment_file`, `stop`, `stop_timeout`, `start`, `start_timeout`, `upgrade_db_timeout`, `notify`, `health_url`, `backup_extra`",
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
            "inv.toml:2:1: unknown field `adress`, expected one of `address`, `port`, `user`, `identity_files`, `known_hosts`, `host_key_policy`, `connect_timeout`, `keepalive`, `jump`, `become`, `become_user`, `hub_env`, `installer`, `conda_env`, `conda`, `uv`, `singleuser_env`, `singleuser_installer`, `config`, `workdir`, `environment`, `environment_file`, `stop`, `stop_timeout`, `start`, `start_timeout`, `upgrade_db_timeout`, `notify`, `health_url`, `backup_extra`",
        ),
        (
            "[hosts.a]\nport = \"22\"\n",
            "inv.toml:2:8: invalid type: string \"22\", expected u16",
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
            "inv.toml:1:2: unknown field `serveurs`, expected one of `defaults`, `groups`, `hosts`",
        ),
    ];
    for (source, message) in cases {
        assert_eq!(error(source), message, "for {source:?}");
    }
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
            .select(&inv)
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
        Ok(l) => l.select(&inv).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err("pariss"),
        "`--limit pariss`: `pariss` is neither a host nor a group of the inventory"
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
    assert!(
        err("@/nonexistent/file")
            .starts_with("`--limit @/nonexistent/file`: cannot read `/nonexistent/file`")
    );
}
