//! `hubfleet exec` through a jump host (issue 3): a target that only a bastion can reach. A
//! direct connection fails, the jumped one works, and a changed key on either hop is refused
//! with a line that names the hop. The topology is in `tests/lab/jump_net.rs`; it needs root.

#[path = "lab/mod.rs"]
mod lab;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lab::{Hubs, JumpNet, Lab, NetNames};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn toml_string(value: impl AsRef<str>) -> String {
    toml::Value::String(value.as_ref().to_owned()).to_string()
}

/// `LAB/jump-known_hosts` with both hops' lines, and an inventory in which `target` is reached
/// through the inventory host `bastion`.
fn write_inventory(lab: &Lab, net: &JumpNet<'_>) -> (PathBuf, PathBuf) {
    let known_hosts = lab.dir().join("jump-known_hosts");
    write_known_hosts(
        &known_hosts,
        &[
            &net.bastion().known_hosts_line,
            &net.target().known_hosts_line,
        ],
    );
    let inventory = lab.dir().join("jump.toml");
    let text = format!(
        "[defaults]\n\
         user = \"root\"\n\
         port = {port}\n\
         identity_files = [{key}]\n\
         known_hosts = {known_hosts}\n\
         host_key_policy = \"strict\"\n\
         connect_timeout = 5\n\
         \n\
         [hosts.bastion]\n\
         address = \"{bastion}\"\n\
         \n\
         [hosts.target]\n\
         address = \"{target}\"\n\
         jump = \"bastion\"\n",
        port = net.target().port,
        key = toml_string(lab.controller_key().display().to_string()),
        known_hosts = toml_string(known_hosts.display().to_string()),
        bastion = net.bastion().address,
        target = net.target().address,
    );
    std::fs::write(&inventory, text).unwrap();
    (inventory, known_hosts)
}

fn write_known_hosts(path: &Path, lines: &[&str]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// `hubfleet exec -i INVENTORY ARGS… -- echo $SSH_CONNECTION`: each host prints who connected
/// to which of its addresses.
fn exec(lab: &Lab, inventory: &Path, args: &[&str]) -> Output {
    lab.hubfleet_at(env!("CARGO_BIN_EXE_hubfleet"))
        .arg("exec")
        .arg("-i")
        .arg(inventory)
        .args(args)
        .args(["--", "echo", "$SSH_CONNECTION"])
        .output()
        .expect("run hubfleet")
}

/// The last stderr line about `host` (the per-host fault line: `TIME HOST LABEL: REASON`).
fn fault_line(out: &Output, host: &str) -> String {
    text(&out.stderr)
        .lines()
        .rfind(|l| l.contains(&format!(" {host} ")))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no line for `{host}` in:\n{}", text(&out.stderr)))
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Nothing the [`JumpNet`] created outlives it: namespaces, veth, route.
fn assert_cleaned_up(names: &NetNames) {
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().unwrap();
        (out.status.success(), text(&out.stdout))
    };
    let (_, list) = ip(&["netns", "list"]);
    for name in &names.namespaces {
        assert!(!list.contains(name.as_str()), "`{name}` left in:\n{list}");
    }
    let (exists, _) = ip(&["link", "show", &names.veth]);
    assert!(!exists, "veth `{}` left behind", names.veth);
    let (_, routes) = ip(&["route", "show", "table", "all"]);
    assert!(
        !routes.contains(&names.route),
        "route `{}` left in:\n{routes}",
        names.route
    );
}

#[test]
fn the_target_is_unreachable_directly_and_reached_through_the_bastion() {
    let lab = Lab::builder().hosts(1).hubs(Hubs::None).start().unwrap();
    let net = JumpNet::start(&lab).unwrap();
    let (inventory, _) = write_inventory(&lab, &net);
    let (bastion, target) = (net.bastion(), net.target());

    // (a) `-e jump=` (empty: connect directly) overrides the inventory's jump host.
    let out = exec(&lab, &inventory, &["--limit", "target", "-e", "jump="]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let line = fault_line(&out, "target");
    assert!(
        line.contains("target unreachable: cannot connect to `target`")
            && line.contains(&format!("`{}:{}`", target.address, target.port))
            && line.contains("No route to host"),
        "{line}"
    );

    // (b) Through the bastion: the target's sshd sees the bastion's inner address as the client
    // and serves its own address, which only the bastion can reach.
    let out = exec(&lab, &inventory, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = text(&out.stdout);
    let ssh_connection = |host: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{host} | ")))
            .unwrap_or_else(|| panic!("no output from `{host}`:\n{stdout}"))
            .split(' ')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let seen = ssh_connection("target");
    assert_eq!(seen[0], net.bastion_inner_address().to_string(), "{stdout}");
    assert_eq!(
        seen[2..],
        [target.address.to_string(), target.port.to_string()]
    );
    let seen = ssh_connection("bastion");
    assert_eq!(
        seen[2..],
        [bastion.address.to_string(), bastion.port.to_string()]
    );
    assert!(
        stdout.contains("2 hosts: 2 ok, 0 failed, 0 unreachable"),
        "{stdout}"
    );

    // The target down behind a working bastion: unreachable, and the line names both hops (the
    // bastion's sshd reports that it could not connect).
    net.stop_sshd(target);
    let out = exec(&lab, &inventory, &["--limit", "target"]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let line = fault_line(&out, "target");
    assert!(
        line.contains("target unreachable: jump host `bastion` cannot open a tunnel to `target`")
            && line.contains(&format!("`{}:{}`", target.address, target.port)),
        "{line}"
    );

    let names = net.names();
    drop(net);
    assert_cleaned_up(&names);
}

#[test]
fn a_changed_key_on_the_target_or_on_the_bastion_is_refused() {
    let lab = Lab::builder().hosts(1).hubs(Hubs::None).start().unwrap();
    let net = JumpNet::start(&lab).unwrap();
    let (inventory, known_hosts) = write_inventory(&lab, &net);
    let (bastion, target) = (net.bastion(), net.target());

    // (d) The target's key changed, the bastion's did not: the bastion still answers, the
    // target is refused after the tunnel is up, and the line names the target.
    net.change_host_key(target).unwrap();
    let out = exec(&lab, &inventory, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let line = fault_line(&out, "target");
    assert!(
        line.contains("target host key changed: host key of `target`")
            && line.contains(&format!("`{}:{}`", target.address, target.port))
            && !line.contains("jump host"),
        "{line}"
    );
    assert!(
        text(&out.stdout).contains("2 hosts: 1 ok, 0 failed, 1 unreachable"),
        "{}",
        show(&out)
    );

    // Once the new key is recorded, the jump works again.
    let new_target_line = net.known_hosts_line(target).unwrap();
    write_known_hosts(&known_hosts, &[&bastion.known_hosts_line, &new_target_line]);
    let out = exec(&lab, &inventory, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // (c) The bastion's key changed: both hosts are refused, and the target's line says that it
    // was the bastion's key (the target's own key is never even offered).
    net.change_host_key(bastion).unwrap();
    let out = exec(&lab, &inventory, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let line = fault_line(&out, "target");
    assert!(
        line.contains(
            "target host key changed: cannot reach `target` \
             (`198.51.100."
        ) && line.contains("through jump host `bastion`")
            && line.contains("host key of `bastion`")
            && line.contains(&format!("`{}:{}`", bastion.address, bastion.port)),
        "{line}"
    );
    let line = fault_line(&out, "bastion");
    assert!(
        line.contains("bastion host key changed: host key of `bastion`"),
        "{line}"
    );
    assert!(
        text(&out.stdout).contains("2 hosts: 0 ok, 0 failed, 2 unreachable"),
        "{}",
        show(&out)
    );

    let names = net.names();
    drop(net);
    assert_cleaned_up(&names);
}
