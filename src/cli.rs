//! Command-line arguments (clap), kept apart from the settings they resolve to.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Default `--forks`, chosen by the 100-host benchmark (`scripts/bench-exec`, issue 3).
///
/// hubfleet's own cost is small (≈ 1–2 ms of CPU per host, ≈ 10–15 MiB peak RSS), so the limit
/// is the servers: each connection costs sshd a fork, a re-exec, privilege separation and the
/// user's shell. On the 2-core lab (`true` on 100 hosts, best / median of 3 rounds, Nov 2026):
/// 5 → 5.7 / 9.1 s, **10 → 5.8 / 6.3 s**, 25 → 6.4 / 8.8 s, 50 → 7.8 / 8.3 s,
/// 100 → 9.8 / 12.4 s (OpenSSH `ssh` 100-wide 8.8 s). Over four such runs 10 was fastest in
/// three and within 4 % of the fastest (50) in the fourth; 100 was always the slowest. In the
/// lab every sshd shares the controller's cores, which punishes wide parallelism more than a
/// real fleet would: raise `--forks` for remote hosts behind high latency. 10 also stays within
/// a stock sshd's `MaxStartups 10:30:100`, which starts dropping unauthenticated connections
/// beyond 10 — what a shared jump host sees when each target tunnels through it.
pub const DEFAULT_FORKS: u16 = 10;

/// Upgrade a fleet of JupyterHub servers safely, over SSH, with nothing installed on the hubs.
#[derive(Debug, Parser)]
#[command(name = "hubfleet", version = env!("HUBFLEET_VERSION"), max_term_width = 100)]
pub struct Cli {
    /// Show only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail, counted as with Ansible: `-v` the cause chain of every failure, `-vvv` also
    /// the SSH library's debug log.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Plain lines instead of progress bars, even in a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the resolved hosts and their variables.
    Inventory(InventoryArgs),
    /// Run a shell command on every selected host in parallel.
    Exec(ExecArgs),
    /// Back up every selected hub: a consistent database snapshot, config and secrets, verified.
    Backup(BackupArgs),
    /// Upgrade JupyterHub on every selected hub, safely (the steps: `upgrade --help`).
    #[command(long_about = crate::step::Step::order_help())]
    Upgrade(UpgradeArgs),
    /// Put hubs back as an archive has them: database, config, env and release.
    #[command(long_about = ROLLBACK_HELP)]
    Rollback(RollbackArgs),
    /// Gather each hub's facts: versions, database, revision, disk, whether it serves.
    Facts(FactsArgs),
    /// Check backup archives against the manifest each carries.
    Verify(VerifyArgs),
    /// Print a shell completion script, e.g. `source <(hubfleet completions bash)`.
    Completions(CompletionsArgs),
    /// Print hubfleet's man page (roff), or write every page: `hubfleet man --dir ~/.local/share/man/man1`.
    Man(ManArgs),
}

/// Which inventory and which of its hosts.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The inventory file (TOML).
    #[arg(short, long, env = "HUBFLEET_INVENTORY", value_name = "FILE")]
    pub inventory: PathBuf,
    /// Hosts to act on: `all`, names, groups, globs, `!exclusions`, `&intersections`, `@FILE`,
    /// separated by `,` or `:` as with Ansible (`eu:&canary`, `all:!bastion`).
    #[arg(short, long, value_name = "PATTERN")]
    pub limit: Option<String>,
    /// Set a variable for every host, above the inventory and `-u`/`--private-key`; `@FILE` reads
    /// a TOML file of them (repeatable, later ones win).
    #[arg(short = 'e', long = "extra-var", value_name = "KEY=VALUE|@FILE")]
    pub extra_vars: Vec<String>,
    /// The remote user for every host, above the inventory (`-e user=USER` wins over it).
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// A private key for every host instead of the inventory's `identity_files` (repeatable).
    #[arg(long = "private-key", value_name = "FILE")]
    pub private_keys: Vec<String>,
}

/// What every command that runs on the fleet takes.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Which hosts.
    #[command(flatten)]
    pub target: TargetArgs,
    /// How many hosts at once.
    #[arg(short, long, default_value_t = DEFAULT_FORKS, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    /// Where the results go.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where a command's results go: every subcommand takes these, and every result is the same
/// envelope (`schema_version`, `command`, `exit_code`, then the command's own fields).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The results as JSON on stdout instead of the recap.
    #[arg(long)]
    pub json: bool,
    /// Also write the results as JSON to this file (checked before the first connection).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
}

/// `--yes`, taken by the commands that stop hubs: in a terminal they show what they will do and
/// ask first.
#[derive(Debug, Args)]
pub struct ConfirmArg {
    /// Do not ask before stopping hubs (no question is asked when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

/// `--backup-dir`, shared by the commands that write or size backups.
#[derive(Debug, Args)]
pub struct BackupDirArg {
    /// Where archives go: `DIR/HOST/TIMESTAMP.tar.gz`, with per-host logs beside them.
    #[arg(
        long = "backup-dir",
        env = "HUBFLEET_BACKUP_DIR",
        default_value = "hubfleet-backups",
        value_name = "DIR"
    )]
    pub dir: PathBuf,
}

/// How a run spreads over its hosts: batches and a failure budget (`upgrade`; any job can take
/// them, the runner does the batching).
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Hosts per batch, as Ansible's `serial`: `1,5,25%` upgrades 1 host, then 5, then 25 % of
    /// the selected hosts at a time (the last size repeats; a percentage is rounded down, at
    /// least 1). A batch starts only when the previous one is done and within `--max-fail`.
    #[arg(long, value_name = "SIZES")]
    pub serial: Option<crate::runner::Serial>,
    /// A first batch of one host, before the others (or before `--serial`'s batches).
    #[arg(long)]
    pub canary: bool,
    /// The failed hosts the run tolerates before no new host starts: `N` in all (`0` stops at
    /// the first failure) or `N%` of a batch, as Ansible's `max_fail_percentage`. Rolled-back,
    /// down and unreachable hosts count as failed. Hosts already running finish; those never
    /// started end `not started`. Without it, the run stops when a whole batch failed.
    #[arg(long, value_name = "N|N%")]
    pub max_fail: Option<crate::runner::FailureBudget>,
}

impl RolloutArgs {
    /// The batches these flags ask for.
    pub fn serial(&self) -> crate::runner::Serial {
        let serial = self
            .serial
            .clone()
            .unwrap_or_else(crate::runner::Serial::all_at_once);
        if self.canary {
            serial.after_a_canary()
        } else {
            serial
        }
    }

    /// The failure budget these flags ask for.
    pub fn budget(&self) -> crate::runner::FailureBudget {
        self.max_fail.unwrap_or_default()
    }
}

/// `hubfleet inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Which hosts.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Where the results go.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `hubfleet backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Which hosts, how many at once, where the results go.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Where archives and per-host logs go.
    #[command(flatten)]
    pub backups: BackupDirArg,
    /// Gather facts and show what would be backed up, changing nothing.
    #[arg(long, short = 'C', visible_alias = "check")]
    pub dry_run: bool,
}

/// `hubfleet upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Which hosts, how many at once, where the results go.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The JupyterHub version to reach, as PyPI spells it (`5.2.1`, `5.3.0b1`), or `latest`.
    #[arg(long, value_name = "VERSION")]
    pub to: String,
    /// Where archives and per-host logs go; failed hosts are listed in `DIR/retry-TIMESTAMP.txt`
    /// for `--limit @FILE`.
    #[command(flatten)]
    pub backups: BackupDirArg,
    /// Batches and the failure budget.
    #[command(flatten)]
    pub rollout: RolloutArgs,
    /// Gather facts, resolve the target and print each host's plan, changing nothing.
    #[arg(long, short = 'C', visible_alias = "check")]
    pub dry_run: bool,
    /// Stop hubs even while user servers run (their users are interrupted).
    #[arg(long)]
    pub allow_active_servers: bool,
    /// Leave a hub whose upgrade fails after the stop as the failure left it, stopped, for
    /// inspection (it ends `down`, exit code 8; the database as it was at the stop stays beside
    /// it). By default the host rolls it back by itself.
    #[arg(long)]
    pub no_rollback: bool,
    /// Whether to ask before hubs stop.
    #[command(flatten)]
    pub confirm: ConfirmArg,
    /// What the inventory's `notify` command tells users (`{version}` is the target).
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "JupyterHub is being upgraded to {version}: the hub will be back in about a minute."
    )]
    pub message: String,
    /// Seconds to wait after notifying users before the hub stops.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub grace: u64,
}

/// What `rollback --help` says first.
const ROLLBACK_HELP: &str =
    "Put hubs back as an archive has them: database, config, env and release.

Undoes, on demand, an upgrade that succeeded but is regretted. Per host, before anything stops:
the archive verifies (as `hubfleet verify`), it was taken from this host, its database's revision
is its release's; the host counts the users, tokens and servers of the live database that the
archive does not have (lost by the rollback) and names the files that differ. Then, after a yes:
stop (confirmed), the live database and every replaced file kept beside themselves (nothing is
deleted), the archive's files and database put back, its env back (ENV.hubfleet-previous when it
holds the archive's release, else the manifest's package list installed), start; /hub/api must
report the archive's release.

It asks before it stops anything. Without a terminal to ask on, it refuses to stop hubs unless
`--yes` is given. `--dry-run` changes nothing.";

/// `hubfleet rollback`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["archive", "latest"])))]
pub struct RollbackArgs {
    /// Which hosts, how many at once, where the results go.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The archive to put back (`BACKUP_DIR/HOST/TIMESTAMP.tar.gz`): it must be the host's own.
    #[arg(long, value_name = "PATH")]
    pub archive: Option<PathBuf>,
    /// Each host's newest archive in the backup directory.
    #[arg(long)]
    pub latest: bool,
    /// Where `--latest` looks, and per-host logs go.
    #[command(flatten)]
    pub backups: BackupDirArg,
    /// Check everything and show each host's plan and what it would lose, changing nothing.
    #[arg(long, short = 'C', visible_alias = "check")]
    pub dry_run: bool,
    /// `--yes`: stop and roll back without asking (required when stdin is not a terminal).
    #[command(flatten)]
    pub confirm: ConfirmArg,
}

/// `hubfleet facts`.
#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Which hosts, how many at once, where the results go.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Whose free space is reported for the controller.
    #[command(flatten)]
    pub backups: BackupDirArg,
}

/// `hubfleet exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Which hosts, how many at once, where the results go.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Run the command through `sudo -n` (as `become_user` where the inventory sets `become`, else root).
    #[arg(short, long = "become")]
    pub become_: bool,
    /// The command, run by the remote user's shell (as with `ssh HOST COMMAND`).
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `hubfleet verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The archives (`BACKUP_DIR/HOST/TIMESTAMP.tar.gz`), or directories of them.
    #[arg(required = true, value_name = "ARCHIVE|DIR")]
    pub archives: Vec<PathBuf>,
    /// Where the results go.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `hubfleet completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `hubfleet man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `hubfleet.1` and a page per subcommand into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, Command};
    use crate::printer::Verbosity;

    /// clap's own consistency checks (unique names, valid defaults) for every subcommand.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    fn parse(args: &str) -> Cli {
        let words = std::iter::once("hubfleet").chain(args.split_whitespace());
        Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{args}: {e}"))
    }

    #[test]
    fn ansibles_check_flag_is_a_dry_run() {
        let cases = [
            ("upgrade -i inv --to 5.2.1 -C", true),
            ("upgrade -i inv --to 5.2.1 --check", true),
            ("upgrade -i inv --to 5.2.1 --dry-run", true),
            ("upgrade -i inv --to 5.2.1", false),
            ("backup -i inv -C", true),
            ("backup -i inv --check", true),
            ("backup -i inv", false),
        ];
        for (args, dry_run) in cases {
            let parsed = match parse(args).command {
                Command::Upgrade(a) => a.dry_run,
                Command::Backup(a) => a.dry_run,
                other => panic!("{other:?}"),
            };
            assert_eq!(parsed, dry_run, "{args}");
        }
    }

    #[test]
    fn batches_and_the_failure_budget_are_parsed_before_anything_runs() {
        let upgrade =
            |flags: &str| match parse(&format!("upgrade -i inv --to 6.1.1 {flags}")).command {
                Command::Upgrade(a) => a.rollout,
                other => panic!("{other:?}"),
            };
        let plain = upgrade("");
        assert_eq!(plain.serial().batches(5), [5]);
        assert_eq!(plain.budget(), crate::runner::FailureBudget::WholeBatch);
        let rollout = upgrade("--serial 1,50% --max-fail 0");
        assert_eq!(rollout.serial().batches(5), [1, 2, 2]);
        assert_eq!(rollout.budget(), crate::runner::FailureBudget::Hosts(0));
        assert_eq!(upgrade("--canary").serial().batches(5), [1, 4]);
        assert_eq!(
            upgrade("--canary --serial 2").serial().batches(5),
            [1, 2, 2]
        );
        assert_eq!(
            upgrade("--max-fail 20%").budget(),
            crate::runner::FailureBudget::Percent(20)
        );
        for bad in [
            "--serial 0",
            "--serial 1,x",
            "--max-fail 101%",
            "--max-fail=-1",
        ] {
            let words = format!("hubfleet upgrade -i inv --to 6.1.1 {bad}");
            let error = Cli::try_parse_from(words.split_whitespace()).unwrap_err();
            assert!(
                error.to_string().contains("invalid value"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn verbosity_counts_v_as_ansible_does() {
        let cases = [
            ("", Verbosity::Normal),
            ("-q", Verbosity::Quiet),
            ("-v", Verbosity::Verbose),
            ("-vv", Verbosity::Verbose),
            ("-vvv", Verbosity::Debug),
            ("-v -v -v -v", Verbosity::Debug),
            ("--verbose --verbose --verbose", Verbosity::Debug),
        ];
        for (flags, verbosity) in cases {
            let cli = parse(&format!("{flags} inventory -i inv"));
            assert_eq!(
                Verbosity::from_flags(cli.quiet, cli.verbose),
                verbosity,
                "{flags}"
            );
        }
    }

    #[test]
    fn connection_flags_are_taken_by_every_command_that_selects_hosts() {
        for command in ["inventory", "facts", "backup", "exec -b"] {
            let args = format!("{command} -i inv -u bob --private-key k1 --private-key k2 -- true");
            let args = if command == "exec -b" {
                args
            } else {
                args.replace(" -- true", "")
            };
            let target = match parse(&args).command {
                Command::Inventory(a) => a.target,
                Command::Facts(a) => a.fleet.target,
                Command::Backup(a) => a.fleet.target,
                Command::Exec(a) => a.fleet.target,
                other => panic!("{other:?}"),
            };
            assert_eq!(target.user.as_deref(), Some("bob"), "{command}");
            assert_eq!(target.private_keys, ["k1", "k2"], "{command}");
        }
    }
}
