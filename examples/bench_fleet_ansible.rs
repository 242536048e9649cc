//! The fleet benchmark of issue 4: a 3-host upgrade of JupyterHub 4.1.6 → 6.1.1 with
//! `hubfleet upgrade` against the same steps as an Ansible playbook, in one run, each tool on a
//! fresh 3-host lab of its own (brought up one after the other, so neither shares the machine
//! with the other's hubs).
//!
//! The playbook (ansible-core from PyPI, forks 5, strict host key checking with the lab's
//! `known_hosts` and key, the host's python3): backup with SQLite's backup API through the hub's
//! Python and `fetch`, stop, the `pip` module (`executable: ENV/bin/pip`), upgrade-db, start, and
//! a `uri` health check until `/hub/api` reports 6.1.1. Both tools' pip get packages from the
//! same source, set in each env's `pip.conf`: by default PyPI with an empty cache per host, as
//! the issue's reference; `--source wheelhouse` runs offline from the lab's wheelhouse.
//!
//! Last, on a 1-host lab, the machine's CPU during JupyterHub's documented steps alone, done
//! naively over one ssh (stop, `pip install -U`, upgrade-db, start, health: no backup, no tool):
//! work that any tool upgrading a host does, so the fleet's share of it, divided by the cores,
//! is a floor on either tool's wall time on this machine, where every lab host shares its cores.
//!
//! `scripts/bench-fleet-ansible`; target: hubfleet ≤ 0.5 × Ansible.

#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "bench_support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use lab::{Hubs, Lab};
use support::{PackageSource, secs, verdict};

const FROM: &str = "4.1.6";
const TO: &str = "6.1.1";
const HOSTS: usize = 3;

/// Upgrade a 3-host lab with hubfleet and another with Ansible, in one run.
#[derive(Debug, Parser)]
struct Args {
    /// The hubfleet binary (a release build).
    #[arg(long)]
    hubfleet: PathBuf,
    /// The venv holding ansible-core (default: the lab cache's `bench-venv`).
    #[arg(long)]
    venv: Option<PathBuf>,
    /// Where the hubs' pip gets the target, for both tools: the issue's reference installs from
    /// the index.
    #[arg(long, value_enum, default_value = "index")]
    source: PackageSource,
}

/// The playbook: JupyterHub's documented steps, as an operator would write them.
const PLAYBOOK: &str = r#"- name: Upgrade JupyterHub
  hosts: hubs
  gather_facts: false
  tasks:
    - name: Back up the database with SQLite's backup API
      ansible.builtin.command:
        argv:
          - "{{ hub_env }}/bin/python"
          - -c
          - |
            import sqlite3, sys
            source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
            target = sqlite3.connect(sys.argv[2])
            with target:
                source.backup(target)
            assert target.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
          - "{{ hub_dir }}/jupyterhub.sqlite"
          - "{{ hub_dir }}/jupyterhub-backup.sqlite"
    - name: Fetch the backup
      ansible.builtin.fetch:
        src: "{{ hub_dir }}/jupyterhub-backup.sqlite"
        dest: "{{ backup_dir }}/{{ inventory_hostname }}/jupyterhub.sqlite"
        flat: true
    - name: Stop the hub
      ansible.builtin.command: bash {{ hub_dir }}/stop.sh
    - name: Upgrade JupyterHub
      ansible.builtin.pip:
        name: jupyterhub
        version: "{{ target_version }}"
        executable: "{{ hub_env }}/bin/pip"
    - name: Upgrade the database
      ansible.builtin.shell: PATH={{ hub_env }}/bin:$PATH jupyterhub upgrade-db -f {{ hub_dir }}/jupyterhub_config.py
      args:
        chdir: "{{ hub_dir }}"
    - name: Start the hub
      ansible.builtin.command: bash {{ hub_dir }}/start.sh
    - name: Wait until the hub reports the new version
      ansible.builtin.uri:
        url: "http://{{ ansible_host }}:8000/hub/api"
        return_content: true
      register: hub_api
      until: hub_api.status == 200 and hub_api.json.version == target_version
      retries: 120
      delay: 1
"#;

fn main() -> Result<()> {
    let args = Args::parse();
    let venv = match args.venv {
        Some(venv) => venv,
        None => support::cache_dir()?.join("bench-venv"),
    };
    let playbook_bin = venv.join("bin/ansible-playbook");
    if !playbook_bin.exists() {
        bail!(
            "`{}` is missing: run scripts/bench-fleet-ansible, which installs ansible-core",
            playbook_bin.display()
        );
    }
    let mut out = std::io::stdout().lock();

    writeln!(
        out,
        "bench-fleet-ansible: lab 1 ({HOSTS} hubs, {FROM} running) for hubfleet"
    )?;
    let (fleet_wall, downtimes, timeline, fleet_busy) = {
        let lab = start_lab(args.source, HOSTS)?;
        let busy = support::machine_busy_seconds();
        let (wall, downtimes, timeline) = hubfleet_upgrade(&lab, &args.hubfleet)?;
        let result = (
            wall,
            downtimes,
            timeline,
            support::machine_busy_seconds() - busy,
        );
        check_versions(&lab)?;
        result
    };
    writeln!(
        out,
        "bench-fleet-ansible: lab 2 ({HOSTS} hubs, {FROM} running) for Ansible"
    )?;
    let (ansible_wall, recap, ansible_busy) = {
        let lab = start_lab(args.source, HOSTS)?;
        let busy = support::machine_busy_seconds();
        let (wall, recap) = ansible_upgrade(&lab, &playbook_bin)?;
        let result = (wall, recap, support::machine_busy_seconds() - busy);
        check_versions(&lab)?;
        result
    };

    writeln!(
        out,
        "bench-fleet-ansible: lab 3 (1 hub, {FROM} running): the documented steps alone, naively"
    )?;
    let naive_busy = {
        let lab = start_lab(args.source, 1)?;
        let busy = support::machine_busy_seconds();
        support::naive_upgrade(&lab, 0, TO)?;
        support::machine_busy_seconds() - busy
    };

    let ratio = secs(fleet_wall) / secs(ansible_wall);
    writeln!(
        out,
        "\n{HOSTS}-host fleet upgrade, JupyterHub {FROM} -> {TO} (backup, stop, install, upgrade-db, start, health), {}; load average {}",
        args.source.label(),
        support::load_average()
    )?;
    writeln!(
        out,
        "{:<44} {:>8.1} s",
        "Ansible playbook (ansible-core, forks 5)",
        secs(ansible_wall)
    )?;
    writeln!(
        out,
        "{:<44} {:>8.1} s",
        "hubfleet upgrade",
        secs(fleet_wall)
    )?;
    writeln!(
        out,
        "ratio hubfleet/Ansible: {ratio:.2} (target <= 0.50: {})",
        verdict(ratio <= 0.5)
    )?;
    let cores = support::cores() as f64;
    for (tool, busy, wall) in [
        ("Ansible", ansible_busy, ansible_wall),
        ("hubfleet", fleet_busy, fleet_wall),
    ] {
        writeln!(
            out,
            "machine CPU during the {tool} run (every process: tool, sshd, pip, hubs): {busy:.1} core-s of {:.1} ({:.0} % busy)",
            cores * secs(wall),
            100.0 * busy / (cores * secs(wall))
        )?;
    }
    let floor = HOSTS as f64 * naive_busy / cores;
    writeln!(
        out,
        "the documented steps alone (stop, pip install -U, upgrade-db, start, health; naive, one host): {naive_busy:.1} core-s; \
         {HOSTS} hosts on {cores} cores need >= {floor:.1} s whatever the tool: {} the target's {:.1} s \
         (hubfleet {:.2}x this floor, Ansible {:.2}x)",
        if floor > 0.5 * secs(ansible_wall) {
            "above"
        } else {
            "below"
        },
        0.5 * secs(ansible_wall),
        secs(fleet_wall) / floor,
        secs(ansible_wall) / floor
    )?;
    writeln!(
        out,
        "hubfleet per-host downtime: {}",
        downtimes
            .iter()
            .map(|d| format!("{d:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "hubfleet's lines (arrival, seconds after its start):\n{}",
        timeline.join("\n")
    )?;
    writeln!(out, "Ansible recap:\n{recap}")?;
    Ok(())
}

fn start_lab(source: PackageSource, hosts: usize) -> Result<Lab> {
    let lab = Lab::builder()
        .hosts(hosts)
        .hubs(Hubs::Running)
        .jupyterhub(FROM)
        .start()?;
    source.apply(&lab)?;
    support::compile_like_pip(&lab)?;
    Ok(lab)
}

/// Every hub of `lab` reports `TO`.
fn check_versions(lab: &Lab) -> Result<()> {
    for (i, host) in lab.hosts().iter().enumerate() {
        let version = lab.hub_version(i)?;
        if version != TO {
            bail!(
                "{} reports {version} after the upgrade, not {TO}",
                host.name
            );
        }
    }
    Ok(())
}

/// `hubfleet upgrade` of the whole lab: its wall time, each host's downtime and its timeline.
fn hubfleet_upgrade(lab: &Lab, hubfleet: &Path) -> Result<(Duration, Vec<f64>, Vec<String>)> {
    let (run, json) = support::run_upgrade(lab, hubfleet, TO, None)?;
    let downtimes = json["hosts"]
        .as_array()
        .context("no hosts in the report")?
        .iter()
        .map(|h| h["report"]["downtime_seconds"].as_f64().unwrap_or(f64::NAN))
        .collect();
    Ok((run.wall, downtimes, run.timeline(Duration::ZERO, 150)))
}

/// The playbook on the whole lab: its wall time and its recap.
fn ansible_upgrade(lab: &Lab, playbook_bin: &Path) -> Result<(Duration, String)> {
    let dir = tempfile::Builder::new()
        .prefix("bench-ansible-")
        .tempdir_in("/tmp")?;
    // The interpreter `python3` resolves to on the hosts, as Ansible's discovery would find it.
    let python = lab.ssh(0).arg("command -v python3").output()?;
    let python = String::from_utf8(python.stdout)?.trim().to_owned();
    if python.is_empty() {
        bail!("no python3 on the lab hosts");
    }
    let mut inventory = String::from("[hubs]\n");
    for host in lab.hosts() {
        writeln!(
            inventory,
            "{} ansible_host={} ansible_port={} hub_dir={} hub_env={}",
            host.name,
            host.address,
            host.port,
            host.hub_dir.display(),
            host.hub_env.display()
        )?;
    }
    writeln!(
        inventory,
        "\n[hubs:vars]\nansible_user=root\nansible_python_interpreter={python}\n\
         ansible_ssh_private_key_file={key}\n\
         ansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n\
         target_version={TO}\nbackup_dir={backups}",
        key = lab.controller_key().display(),
        known = lab.known_hosts().display(),
        backups = dir.path().join("backups").display(),
    )?;
    std::fs::write(dir.path().join("inventory.ini"), inventory)?;
    std::fs::write(dir.path().join("upgrade.yml"), PLAYBOOK)?;
    let mut command = Command::new(playbook_bin);
    command
        .current_dir(dir.path())
        .args(["-i", "inventory.ini", "--forks", "5", "upgrade.yml"])
        // Ansible reads `ansible.cfg` from the working directory and the user's home: neither
        // is ours, so say everything that matters here.
        .env("ANSIBLE_CONFIG", dir.path().join("none.cfg"))
        .env("ANSIBLE_HOST_KEY_CHECKING", "True")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", dir.path().join("tmp"))
        .env_remove("SSH_AUTH_SOCK");
    let run = support::run_timed(&command)?;
    if !run.status.success() {
        bail!(
            "ansible-playbook failed ({}):\n{}\n{}",
            run.status,
            run.stdout,
            run.stderr_text()
        );
    }
    let recap = run
        .stdout
        .split("PLAY RECAP")
        .nth(1)
        .unwrap_or_default()
        .trim_matches(|c: char| c == '*' || c.is_whitespace())
        .to_owned();
    Ok((run.wall, recap))
}
