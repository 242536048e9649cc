//! The fleet-exec benchmark of issue 3: the same work — `true` on every host of a 100-host lab,
//! one fresh connection per host per run — done in one run by hubfleet (a `--forks` sweep),
//! OpenSSH's `ssh` client 100-wide, pyinfra (its default parallelism and 100) and Ansible
//! (`-m raw`, 100 forks). Prints each runner's best wall time, the ratio to hubfleet's best,
//! hubfleet's peak RSS, and the verdicts the issue asks for.
//!
//! ```text
//! scripts/bench-exec                     # installs what it needs, builds release, runs this
//! scripts/bench-exec --runs 3 --forks 25,50,100
//! ```
//!
//! Absolute times swing by ±30 % between runs on a shared 2-core machine, so only ratios within
//! one run mean much; rounds run every
//! runner once each, in turn, each round from a different starting runner, so drift in the
//! machine's load hits all of them alike.
//!
//! Peak RSS comes from GNU time (`/usr/bin/time -f %M`, the child's `ru_maxrss`), and with it
//! hubfleet's CPU time, which shows how much of its wall time is the client's own work. Every
//! runner's success on every host is checked; a runner that fails or cannot run is reported and
//! the others go on. The lab is dropped (every sshd stopped) on every way out, Ctrl-C included.

#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "bench_support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use lab::{Hubs, Lab};

/// Time `exec true` on a lab fleet with hubfleet, OpenSSH, pyinfra and Ansible.
#[derive(Debug, Parser)]
struct Cli {
    /// The hubfleet binary (a release build).
    #[arg(long, default_value = "target/release/hubfleet")]
    hubfleet: PathBuf,
    /// A venv holding `pyinfra` and `ansible` (scripts/bench-exec makes it).
    #[arg(long)]
    venv: Option<PathBuf>,
    /// Lab hosts.
    #[arg(long, default_value_t = 100)]
    hosts: usize,
    /// Rounds: every runner runs this many times; its best time counts.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// hubfleet `--forks` values to sweep.
    #[arg(long, value_delimiter = ',', default_value = "5,10,25,50,100")]
    forks: Vec<u16>,
    /// Skip pyinfra and Ansible (a quick hubfleet-vs-OpenSSH run).
    #[arg(long)]
    skip_python: bool,
}

/// No runner of ours takes this long on 100 loopback hosts; one that does is hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Set by Ctrl-C: the current run is abandoned and the lab taken down.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    Hubfleet {
        forks: u16,
    },
    OpenSsh,
    /// `None`: pyinfra's default parallelism (20 per core, capped by the host count).
    Pyinfra {
        parallel: Option<u32>,
    },
    Ansible,
}

impl Runner {
    fn label(self, hosts: usize) -> String {
        match self {
            Runner::Hubfleet { forks } => format!("hubfleet --forks {forks}"),
            Runner::OpenSsh => format!("OpenSSH ssh, {hosts} at once"),
            Runner::Pyinfra { parallel: None } => "pyinfra (default parallel)".to_owned(),
            Runner::Pyinfra { parallel: Some(n) } => format!("pyinfra --parallel {n}"),
            Runner::Ansible => format!("ansible -m raw -f {hosts}"),
        }
    }
}

/// One successful run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    /// Peak RSS in KiB (hubfleet only).
    peak_rss_kib: Option<u64>,
    /// CPU time (user + system) in seconds (hubfleet only): how much of the wall time is ours.
    cpu_seconds: Option<f64>,
}

/// A runner's runs; `error` is why it was given up (a failed run or a missing tool).
#[derive(Debug)]
struct Record {
    runner: Runner,
    samples: Vec<Sample>,
    error: Option<String>,
}

impl Record {
    fn best(&self) -> Option<Duration> {
        if self.error.is_some() {
            return None;
        }
        self.samples.iter().map(|s| s.wall).min()
    }

    /// The median wall time (the upper one of an even count); with the load of a shared machine
    /// swinging, it tells a steady lead from one lucky run.
    fn median(&self) -> Duration {
        let mut walls: Vec<Duration> = self.samples.iter().map(|s| s.wall).collect();
        walls.sort();
        walls.get(walls.len() / 2).copied().unwrap_or_default()
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        self.samples.iter().filter_map(|s| s.peak_rss_kib).max()
    }
}

/// Files and tools shared by the runners.
struct Bench<'a> {
    lab: &'a Lab,
    hubfleet: PathBuf,
    venv: Option<PathBuf>,
    dir: PathBuf,
    pyinfra_inventory: PathBuf,
    ansible_inventory: PathBuf,
    /// An empty `ansible.cfg` (Ansible refuses `/dev/null`: it wants a `.cfg` extension).
    ansible_config: PathBuf,
}

#[expect(
    clippy::print_stdout,
    reason = "an example's output is for the human who ran it"
)]
fn main() -> Result<()> {
    let cli = Cli::parse();
    ensure!(!cli.forks.is_empty(), "`--forks` needs at least one value");
    ensure!(
        cli.forks.iter().all(|&f| f > 0),
        "`--forks` values are at least 1"
    );
    let hubfleet = fs::canonicalize(&cli.hubfleet).with_context(|| {
        format!(
            "no hubfleet binary at `{}`: `cargo build --release` first",
            cli.hubfleet.display()
        )
    })?;
    ensure!(
        Path::new("/usr/bin/time").exists(),
        "GNU time (`/usr/bin/time`) measures hubfleet's peak RSS: `apt-get install time`"
    );
    catch_ctrl_c();

    let started = Instant::now();
    let lab = Lab::builder()
        .hosts(cli.hosts)
        .hubs(Hubs::None)
        .addresses_per_sshd(16)
        .start()?;
    println!(
        "lab: {} hosts, {} sshds, up in {:.1} s",
        cli.hosts,
        cli.hosts.div_ceil(16),
        support::secs(started.elapsed())
    );
    // `lab` outlives everything below, whatever it returns: its drop stops the sshds.
    let result = bench(&cli, &lab, hubfleet);
    drop(lab);
    result
}

#[expect(
    clippy::print_stdout,
    reason = "an example's output is for the human who ran it"
)]
fn bench(cli: &Cli, lab: &Lab, hubfleet: PathBuf) -> Result<()> {
    let dir = lab.dir().join("bench");
    fs::create_dir_all(&dir)?;
    let bench = Bench {
        lab,
        hubfleet,
        venv: cli.venv.clone(),
        pyinfra_inventory: dir.join("pyinfra_inventory.py"),
        ansible_inventory: dir.join("ansible_inventory.ini"),
        ansible_config: dir.join("ansible.cfg"),
        dir,
    };
    bench.write_inventories()?;

    let mut runners: Vec<Runner> = cli
        .forks
        .iter()
        .map(|&forks| Runner::Hubfleet { forks })
        .collect();
    runners.push(Runner::OpenSsh);
    if !cli.skip_python {
        runners.push(Runner::Pyinfra { parallel: None });
        runners.push(Runner::Pyinfra {
            parallel: Some(u32::try_from(cli.hosts)?),
        });
        runners.push(Runner::Ansible);
    }
    let mut records: Vec<Record> = runners
        .iter()
        .map(|&runner| Record {
            runner,
            samples: Vec::new(),
            error: bench.missing_tool(runner),
        })
        .collect();

    for round in 1..=cli.runs {
        // Each round starts further down the list, so that no runner always goes first (in the
        // quiet after the lab came up) or last.
        let n = records.len();
        let start = (round - 1) as usize * n / cli.runs as usize;
        let order: Vec<Runner> = (0..n).map(|k| records[(k + start) % n].runner).collect();
        for runner in order {
            let Some(record) = records
                .iter_mut()
                .find(|r| r.runner == runner && r.error.is_none())
            else {
                continue;
            };
            let label = record.runner.label(cli.hosts);
            let outcome = bench.run(record.runner);
            if INTERRUPTED.load(Ordering::SeqCst) {
                bail!("interrupted");
            }
            match outcome {
                Ok(sample) => {
                    let rss = sample
                        .peak_rss_kib
                        .map(|k| format!(", peak RSS {:.1} MiB", support::mib(k * 1024)))
                        .unwrap_or_default();
                    let cpu = sample
                        .cpu_seconds
                        .map(|c| format!(", CPU {c:.2} s"))
                        .unwrap_or_default();
                    println!(
                        "round {round}: {label}: {:.2} s{rss}{cpu}",
                        support::secs(sample.wall)
                    );
                    record.samples.push(sample);
                }
                Err(error) => {
                    println!("round {round}: {label}: FAILED: {error:#}");
                    record.error = Some(format!("{error:#}"));
                }
            }
        }
    }
    println!();
    print!("{}", report(&records, cli.hosts));
    Ok(())
}

impl Bench<'_> {
    /// Why `runner` cannot run at all, if it cannot.
    fn missing_tool(&self, runner: Runner) -> Option<String> {
        let tool = match runner {
            Runner::Hubfleet { .. } | Runner::OpenSsh => return None,
            Runner::Pyinfra { .. } => "pyinfra",
            Runner::Ansible => "ansible",
        };
        match self.venv_bin(tool) {
            Some(bin) if bin.exists() => None,
            Some(bin) => Some(format!(
                "not installed (`{}` missing; scripts/bench-exec installs it from PyPI)",
                bin.display()
            )),
            None => Some("not run: no `--venv` given".to_owned()),
        }
    }

    fn venv_bin(&self, tool: &str) -> Option<PathBuf> {
        self.venv.as_ref().map(|v| v.join("bin").join(tool))
    }

    fn run(&self, runner: Runner) -> Result<Sample> {
        match runner {
            Runner::Hubfleet { forks } => self.hubfleet(forks),
            Runner::OpenSsh => self.openssh(),
            Runner::Pyinfra { parallel } => self.pyinfra(parallel),
            Runner::Ansible => self.ansible(),
        }
    }

    /// hubfleet under GNU time; success is exit code 0 and `ok` for every host in the report.
    fn hubfleet(&self, forks: u16) -> Result<Sample> {
        let rss_file = self.dir.join("hubfleet.rss");
        let report = self.dir.join("hubfleet-report.json");
        let _ = fs::remove_file(&report);
        let mut command = self.lab.hubfleet_at("/usr/bin/time");
        command
            .args(["-f", support::GNU_TIME_FORMAT, "-o"])
            .arg(&rss_file)
            .arg(&self.hubfleet)
            .args(["exec", "-i"])
            .arg(self.lab.inventory())
            .args(["--forks", &forks.to_string(), "-q", "--report"])
            .arg(&report)
            .args(["--", "true"]);
        let (wall, status, output) = self.timed(command, "hubfleet")?;
        ensure!(status.success(), "{status}: {}", tail(&output));
        let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report)?)?;
        let ok = json["counts"]["ok"].as_u64().unwrap_or(0);
        ensure!(
            ok == self.hosts() as u64,
            "{ok} of {} hosts ok: {}",
            self.hosts(),
            tail(&output)
        );
        let usage = support::Usage::read(&rss_file)?;
        Ok(Sample {
            wall,
            peak_rss_kib: Some(usage.peak_rss_kib),
            cpu_seconds: Some(usage.cpu_seconds),
        })
    }

    /// One `ssh … true` per host, all started at once; success is every one exiting 0.
    fn openssh(&self) -> Result<Sample> {
        let lab = self.lab;
        let started = Instant::now();
        let mut children = Vec::new();
        for (i, host) in lab.hosts().iter().enumerate() {
            let err = self.dir.join(format!("ssh-{i}.err"));
            let child = Command::new("ssh")
                .arg("-F")
                .arg("/dev/null")
                .arg("-i")
                .arg(lab.controller_key())
                .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
                .arg("-o")
                .arg(format!(
                    "UserKnownHostsFile={}",
                    lab.known_hosts().display()
                ))
                .args(["-o", "StrictHostKeyChecking=yes"])
                .args(["-p", &host.port.to_string()])
                .arg(host.destination())
                .arg("true")
                .env("HOME", lab.home())
                .env_remove("SSH_AUTH_SOCK")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&err)?)
                .spawn();
            match child {
                Ok(child) => children.push((i, child, err)),
                Err(e) => {
                    kill_all(&mut children);
                    bail!("spawning ssh: {e}");
                }
            }
        }
        let mut failures = Vec::new();
        for (i, child, err) in &mut children {
            let status = wait_deadline(child, started + RUN_TIMEOUT)?;
            if !status.success() {
                let name = &lab.hosts()[*i].name;
                failures.push(format!("{name}: {status}: {}", tail_file(err)));
            }
        }
        let wall = started.elapsed();
        ensure!(
            failures.is_empty(),
            "{} of {} hosts failed, first: {}",
            failures.len(),
            self.hosts(),
            failures[0]
        );
        Ok(Sample {
            wall,
            peak_rss_kib: None,
            cpu_seconds: None,
        })
    }

    /// `pyinfra INVENTORY exec -- true`; success is exit code 0 and every host named as done.
    fn pyinfra(&self, parallel: Option<u32>) -> Result<Sample> {
        let bin = self.venv_bin("pyinfra").context("no venv")?;
        let mut command = Command::new(bin);
        command.arg("-y");
        if let Some(n) = parallel {
            command.args(["--parallel", &n.to_string()]);
        }
        command
            .arg(&self.pyinfra_inventory)
            .args(["exec", "--", "true"]);
        let (wall, status, output) = self.timed(command, "pyinfra")?;
        ensure!(status.success(), "{status}: {}", tail(&output));
        // The results table ends with `Grand total  HOSTS  SUCCESS  ERROR  NO-CHANGE` ("-" for
        // 0); a host that could not connect is dropped from it, hence the count of hosts.
        let total: Vec<String> = strip_ansi(&output)
            .lines()
            .find_map(|l| l.trim().strip_prefix("Grand total").map(str::to_owned))
            .with_context(|| format!("no results table: {}", tail(&output)))?
            .split_whitespace()
            .map(|f| {
                if f == "-" {
                    "0".to_owned()
                } else {
                    f.to_owned()
                }
            })
            .collect();
        let count = |i: usize| total.get(i).and_then(|f| f.parse::<usize>().ok());
        ensure!(
            count(0) == Some(self.hosts())
                && count(2) == Some(0)
                && count(1).zip(count(3)).map(|(a, b)| a + b) == Some(self.hosts()),
            "not every host succeeded (hosts, success, error, no change = {total:?}): {}",
            tail(&output)
        );
        Ok(Sample {
            wall,
            peak_rss_kib: None,
            cpu_seconds: None,
        })
    }

    /// `ansible all -m raw -a true -f HOSTS`; success is exit code 0 and `rc=0` for every host.
    fn ansible(&self) -> Result<Sample> {
        let bin = self.venv_bin("ansible").context("no venv")?;
        let mut command = Command::new(bin);
        command
            .arg("all")
            .arg("-i")
            .arg(&self.ansible_inventory)
            .args(["-m", "raw", "-a", "true", "-o"])
            .args(["-f", &self.hosts().to_string()])
            // No ansible.cfg from anywhere else: everything that matters is said here.
            .env("ANSIBLE_CONFIG", &self.ansible_config)
            .env("ANSIBLE_HOST_KEY_CHECKING", "True")
            // The default `-C -o ControlMaster=auto -o ControlPersist=60s` would let a run reuse
            // the previous run's connections; every runner makes fresh ones.
            .env(
                "ANSIBLE_SSH_ARGS",
                "-o ControlMaster=no -o ControlPath=none",
            )
            // The default 10 s is tight for 100 handshakes at once on 2 cores.
            .env("ANSIBLE_TIMEOUT", "60")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("ansible-tmp"));
        let (wall, status, output) = self.timed(command, "ansible")?;
        ensure!(status.success(), "{status}: {}", tail(&output));
        let ok = output.lines().filter(|l| l.contains("rc=0")).count();
        ensure!(
            ok == self.hosts(),
            "{ok} of {} hosts answered rc=0: {}",
            self.hosts(),
            tail(&output)
        );
        Ok(Sample {
            wall,
            peak_rss_kib: None,
            cpu_seconds: None,
        })
    }

    fn hosts(&self) -> usize {
        self.lab.hosts().len()
    }

    /// Runs `command` (in the lab directory, `HOME` the lab's, no agent) with its output in a
    /// file; the wall time, status and output (stdout then stderr).
    fn timed(&self, mut command: Command, name: &str) -> Result<(Duration, ExitStatus, String)> {
        let out = self.dir.join(format!("{name}.out"));
        let err = self.dir.join(format!("{name}.err"));
        command
            .current_dir(self.lab.dir())
            .env("HOME", self.lab.home())
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out)?)
            .stderr(fs::File::create(&err)?);
        let started = Instant::now();
        let mut child = command.spawn().with_context(|| format!("running {name}"))?;
        let status = wait_deadline(&mut child, started + RUN_TIMEOUT)?;
        let wall = started.elapsed();
        let output = fs::read_to_string(&out)? + &fs::read_to_string(&err)?;
        Ok((wall, status, output))
    }

    /// The lab's hosts, key and known_hosts for pyinfra (Python) and Ansible (INI), strict host
    /// key checking in both: no runner may accept a key the others would refuse.
    fn write_inventories(&self) -> Result<()> {
        let lab = self.lab;
        let key = lab.controller_key().display().to_string();
        let known_hosts = lab.known_hosts().display().to_string();

        let mut py = String::from(
            "# pyinfra inventory of the hubfleet lab (examples/bench_exec.rs)\nhosts = [\n",
        );
        for host in lab.hosts() {
            writeln!(
                py,
                "    ({name:?}, {{\"ssh_hostname\": {addr:?}, \"ssh_port\": {port}, \
                 \"ssh_user\": \"root\", \"ssh_key\": {key:?}, \
                 \"ssh_known_hosts_file\": {known_hosts:?}, \
                 \"ssh_strict_host_key_checking\": \"yes\", \
                 \"ssh_allow_agent\": False, \"ssh_look_for_keys\": False}}),",
                name = host.name,
                addr = host.address.to_string(),
                port = host.port,
            )?;
        }
        py.push_str("]\n");
        fs::write(&self.pyinfra_inventory, py)?;

        let mut ini = String::from("[lab]\n");
        for host in lab.hosts() {
            writeln!(
                ini,
                "{} ansible_host={} ansible_port={}",
                host.name, host.address, host.port
            )?;
        }
        write!(
            ini,
            "\n[lab:vars]\nansible_user=root\nansible_ssh_private_key_file={key}\n\
             ansible_ssh_common_args='-F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes \
             -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes'\n"
        )?;
        fs::write(&self.ansible_inventory, ini)?;
        fs::write(&self.ansible_config, "[defaults]\n")?;
        Ok(())
    }
}

/// The table and the verdicts.
fn report(records: &[Record], hosts: usize) -> String {
    let hubfleet_best = records
        .iter()
        .filter(|r| matches!(r.runner, Runner::Hubfleet { .. }))
        .filter_map(|r| r.best().map(|b| (b, r.runner)))
        .min_by_key(|(b, _)| *b);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<30} {:>8} {:>10} {:>18} {:>13}  runs (s)",
        "runner", "best (s)", "median (s)", "hubfleet_best/it", "peak RSS MiB"
    );
    for record in records {
        let label = record.runner.label(hosts);
        let runs: Vec<String> = record
            .samples
            .iter()
            .map(|s| format!("{:.2}", support::secs(s.wall)))
            .collect();
        match (record.best(), &record.error) {
            (Some(best), _) => {
                let ratio = hubfleet_best.map_or("-".to_owned(), |(h, _)| {
                    format!("{:.2}", support::secs(h) / support::secs(best))
                });
                let rss = record
                    .peak_rss_kib()
                    .map_or("-".to_owned(), |k| format!("{:.1}", support::mib(k * 1024)));
                let _ = writeln!(
                    out,
                    "{label:<30} {:>8.2} {:>10.2} {ratio:>18} {rss:>13}  {}",
                    support::secs(best),
                    support::secs(record.median()),
                    runs.join(" ")
                );
            }
            (None, Some(error)) => {
                let _ = writeln!(out, "{label:<30} not measured: {error}");
            }
            (None, None) => {
                let _ = writeln!(out, "{label:<30} not measured: no run finished");
            }
        }
    }
    let _ = writeln!(out);
    match hubfleet_best {
        None => {
            let _ = writeln!(out, "hubfleet: no successful run");
        }
        Some((best, runner)) => {
            if let Runner::Hubfleet { forks } = runner {
                let _ = writeln!(
                    out,
                    "fastest --forks: {forks} ({:.2} s)",
                    support::secs(best)
                );
            }
            for record in records
                .iter()
                .filter(|r| !matches!(r.runner, Runner::Hubfleet { .. }))
            {
                let label = record.runner.label(hosts);
                let verdict = match record.best() {
                    Some(theirs) if best < theirs => "yes".to_owned(),
                    Some(_) => "no".to_owned(),
                    None => "not measured".to_owned(),
                };
                let _ = writeln!(out, "hubfleet faster than {label}: {verdict}");
            }
        }
    }
    let peak = records
        .iter()
        .filter_map(Record::peak_rss_kib)
        .max()
        .map(|k| support::mib(k * 1024));
    let _ = match peak {
        Some(peak) => writeln!(
            out,
            "peak RSS < 64 MiB: {} (max {peak:.1} MiB over every hubfleet run)",
            if peak < 64.0 { "yes" } else { "no" }
        ),
        None => writeln!(out, "peak RSS < 64 MiB: not measured"),
    };
    out
}

/// Waits for `child` until `deadline`, then kills it. Polls, so that Ctrl-C (which the child
/// gets too, being in our process group) and hangs are both noticed.
fn wait_deadline(child: &mut Child, deadline: Instant) -> Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline || INTERRUPTED.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("killed after {} s", RUN_TIMEOUT.as_secs());
        }
        sleep(Duration::from_millis(2));
    }
}

fn kill_all(children: &mut [(usize, Child, PathBuf)]) {
    for (_, child, _) in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `text` without ANSI colour sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The last lines of a runner's output, for a failure message.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn tail_file(path: &Path) -> String {
    tail(&fs::read_to_string(path).unwrap_or_default())
}

/// Ctrl-C sets [`INTERRUPTED`] instead of killing us, so the lab's drop still stops the sshds.
fn catch_ctrl_c() {
    std::thread::spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        else {
            return;
        };
        if runtime.block_on(tokio::signal::ctrl_c()).is_ok() {
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    });
}
