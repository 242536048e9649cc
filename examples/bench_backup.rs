//! The backup benchmark of issue 4: `hubfleet backup` of a large SQLite database on a lab host,
//! end to end (snapshot on the host, stream, sha256 on both ends, gzip, archive renamed into
//! place), against `ssh HOST cat DB > /dev/null` with OpenSSH (the transport's limit) in the
//! same run. Prints throughputs, the ratio (target ≥ 0.8), hubfleet's peak RSS per database size
//! (target < 64 MiB and flat), and where hubfleet's time goes.
//!
//! `scripts/bench-backup [--sizes 1024,256] [--runs 1]` (installs what is missing, builds, runs).
//!
//! The databases are a lab hub's JupyterHub database grown with a filler table of text rows that
//! gzip to ~0.45 (`bench_support/big_db.py`); they are cached in the lab cache so reruns do not
//! generate them again.

#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "bench_support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use hubfleet::archive::{Codec, HashingReader};
use lab::{Hubs, Lab};
use support::{mib, quote, secs, verdict};

/// Back up a large lab database with hubfleet and with `ssh cat`, in one run.
#[derive(Debug, Parser)]
struct Args {
    /// The hubfleet binary (a release build).
    #[arg(long)]
    hubfleet: PathBuf,
    /// Database sizes in MiB; the first is the headline figure, the others show RSS is flat.
    #[arg(long, value_delimiter = ',', default_value = "1024,256")]
    sizes: Vec<u64>,
    /// Runs per size (each: OpenSSH, then hubfleet).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Another hubfleet binary (say, a build before a change) to run in each run too, before or
    /// after `--hubfleet` by turns, so a before/after comparison shares the run's conditions.
    #[arg(long)]
    compare: Option<PathBuf>,
}

/// The host-side steps of a backup, run alone over ssh by the hub's Python: the same calls as
/// `src/steps/backup.py`, each timed, one after the other. In a backup only the snapshot comes
/// before the first byte: pip freeze runs beside it, integrity_check beside the stream, and the
/// sha256 is computed as the members stream.
const HOST_SPLIT: &str = r#"
import hashlib, json, os, shutil, sqlite3, subprocess, sys, tempfile, time
db = sys.argv[1]
work = tempfile.mkdtemp(prefix=".bench-split-", dir=os.path.dirname(db))
try:
    t0 = time.monotonic()
    snapshot = os.path.join(work, "s.sqlite")
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    target = sqlite3.connect(snapshot)
    target.execute("PRAGMA synchronous=OFF")
    with target:
        source.backup(target)
    source.close()
    t1 = time.monotonic()
    target.execute("PRAGMA integrity_check").fetchall()
    target.close()
    t2 = time.monotonic()
    subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True)
    t3 = time.monotonic()
    h = hashlib.sha256()
    with open(snapshot, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    t4 = time.monotonic()
    print(json.dumps({"snapshot": t1 - t0, "integrity_check": t2 - t1, "pip_freeze": t3 - t2, "sha256": t4 - t3}))
finally:
    shutil.rmtree(work, ignore_errors=True)
"#;

/// One hubfleet backup, timed from its stderr lines.
struct Backup {
    wall: Duration,
    peak_rss_kib: Option<u64>,
    archive_bytes: u64,
    /// `snapshot of …` line: facts are done, the backup command starts.
    snapshot_at: Option<Duration>,
    /// First byte from the host, from the first `streaming X (R/s)` line: its arrival minus X/R.
    first_byte_at: Option<Duration>,
    /// `received … in …` line: the archive is written, verified and renamed into place.
    received_at: Option<Duration>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "bench-backup: starting a 1-host lab (hub installed, stopped)"
    )?;
    let lab = Lab::builder()
        .hosts(1)
        .hubs(Hubs::Installed)
        .jupyterhub("4.1.6")
        .start()?;
    let host = &lab.hosts()[0];
    support::compile_like_pip(&lab)?;
    let db = host.hub_db();
    // The lab's own database seeds the big ones; keep it, since they replace it on the host.
    let seed = lab.dir().join("seed-jupyterhub.sqlite");
    std::fs::copy(&db, &seed)?;
    let mut results = Vec::new();
    for &size in &args.sizes {
        let big = support::big_db(&seed, size)?;
        std::fs::copy(&big, &db).with_context(|| format!("copying {}", big.display()))?;
        let db_bytes = std::fs::metadata(&db)?.len();
        for run in 1..=args.runs {
            writeln!(
                out,
                "bench-backup: {} MiB, run {run}: OpenSSH, then hubfleet",
                mib(db_bytes).round()
            )?;
            // Page cache warm for both: the first reader must not pay the disk for the second.
            std::io::copy(&mut std::fs::File::open(&db)?, &mut std::io::sink())?;
            let ssh = support::time_quiet(
                lab.ssh(0).arg(format!("cat {}", quote(db.display()))),
                "ssh cat",
            )?;
            let compare_first = run % 2 == 0;
            let mut other = None;
            if compare_first && let Some(bin) = &args.compare {
                other = Some(hubfleet_backup(&lab, bin)?);
            }
            let backup = hubfleet_backup(&lab, &args.hubfleet)?;
            if !compare_first && let Some(bin) = &args.compare {
                other = Some(hubfleet_backup(&lab, bin)?);
            }
            writeln!(
                out,
                "bench-backup: ssh cat {:.2} s, hubfleet backup {:.2} s{}",
                secs(ssh),
                secs(backup.wall),
                other
                    .as_ref()
                    .map(|o| format!(", --compare {:.2} s", secs(o.wall)))
                    .unwrap_or_default()
            )?;
            results.push((db_bytes, ssh, backup, other));
        }
    }
    // The split is measured on the headline database, which is on the host now only if it came
    // last: put it back.
    let headline = support::big_db(&seed, args.sizes[0])?;
    std::fs::copy(&headline, &db)?;
    writeln!(
        out,
        "bench-backup: measuring the host-side steps alone, then sha256 and gzip on the controller"
    )?;
    let host_split = host_split(&lab, &db)?;
    let step = |name: &str| host_split[name].as_f64().unwrap_or(f64::NAN);
    let (sha_rate, gzip_rate, gzip_ratio) = controller_split(&headline)?;

    writeln!(
        out,
        "\nbackup of a SQLite database on one lab host (hub stopped); load average {}",
        support::load_average()
    )?;
    writeln!(
        out,
        "{:>8}  {:>9} {:>8}  {:>9} {:>8}  {:>6}  {:>9}  {:>6}",
        "db MiB", "ssh cat s", "MiB/s", "hubfleet", "MiB/s", "ratio", "peak RSS", "gzip"
    )?;
    let rows = results.iter().flat_map(|(bytes, ssh, b, other)| {
        std::iter::once((bytes, ssh, b, ""))
            .chain(other.iter().map(move |o| (bytes, ssh, o, " (--compare)")))
    });
    for (bytes, ssh, b, label) in rows {
        let ratio = secs(*ssh) / secs(b.wall);
        writeln!(
            out,
            "{:>8.0}  {:>9.2} {:>8.0}  {:>9.2} {:>8.0}  {:>6.2}  {:>9}  {:>6.3}{label}",
            mib(*bytes),
            secs(*ssh),
            mib(*bytes) / secs(*ssh),
            secs(b.wall),
            mib(*bytes) / secs(b.wall),
            ratio,
            b.peak_rss_kib
                .map_or("?".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            b.archive_bytes as f64 / *bytes as f64,
        )?;
    }
    let (bytes, ssh, head, other) = &results[0];
    let ratio = secs(*ssh) / secs(head.wall);
    let rss: Vec<f64> = results
        .iter()
        .filter_map(|(_, _, b, _)| b.peak_rss_kib.map(|k| k as f64 / 1024.0))
        .collect();
    let rss_max = rss.iter().copied().fold(0.0, f64::max);
    let rss_min = rss.iter().copied().fold(f64::INFINITY, f64::min);
    writeln!(
        out,
        "throughput ratio hubfleet/OpenSSH at {:.0} MiB: {ratio:.2} (target >= 0.80: {})",
        mib(*bytes),
        verdict(ratio >= 0.8)
    )?;
    writeln!(
        out,
        "peak RSS: {rss_min:.1}-{rss_max:.1} MiB across sizes (target < 64 MiB: {}; flat: {})",
        verdict(rss_max < 64.0),
        verdict(rss_max - rss_min < 8.0)
    )?;

    print_split(&mut out, "hubfleet", head, *bytes)?;
    if let Some(other) = other {
        print_split(&mut out, "--compare", other, *bytes)?;
    }
    writeln!(
        out,
        "host-side steps alone (hub's Python over ssh): backup API {:.2} s, integrity_check {:.2} s, pip freeze {:.2} s, sha256 {:.2} s",
        step("snapshot"),
        step("integrity_check"),
        step("pip_freeze"),
        step("sha256"),
    )?;
    // The backup API writes its copy in one destination transaction, complete only when the
    // last page is in: nothing of it can stream before. So a backup that snapshots first takes
    // at least the snapshot plus the transport's time, with compression and hashing free.
    let snapshot_bound = secs(*ssh) / (step("snapshot") + secs(*ssh));
    writeln!(
        out,
        "snapshot first, then stream: even with free hashing and compression the ratio is <= ssh cat / (backup API + ssh cat) = {snapshot_bound:.2}{}",
        if snapshot_bound < 0.8 {
            ": the 0.80 target is out of reach on this machine"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "controller-side alone (this process, one core, page cache): sha256 {sha_rate:.0} MiB/s, gzip -1 (libdeflate, 1 MiB members) {gzip_rate:.0} MiB/s, ratio {gzip_ratio:.3}"
    )?;
    let transfer = mib(*bytes) / secs(*ssh);
    let pipe = 1.0 / (1.0 / sha_rate + 1.0 / gzip_rate);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    writeln!(
        out,
        "controller CPU bound: 1/(1/sha256 + 1/gzip) = {pipe:.0} MiB/s per core, {cores} cores shared with the host's side; transport {transfer:.0} MiB/s"
    )?;
    Ok(())
}

/// Where one backup's time went, from the arrival of its stderr lines.
fn print_split(out: &mut impl Write, label: &str, head: &Backup, bytes: u64) -> Result<()> {
    writeln!(
        out,
        "\nwhere {label}'s {:.2} s go ({:.0} MiB; from its stderr lines as they arrived):",
        secs(head.wall),
        mib(bytes)
    )?;
    let span = |from: Option<Duration>, to: Option<Duration>| match (from, to) {
        (Some(a), Some(b)) => format!("{:>6.2} s", secs(b.saturating_sub(a))),
        _ => "     ? s".to_owned(),
    };
    let stream_rate = match (head.first_byte_at, head.received_at) {
        (Some(a), Some(b)) => format!(" = {:.0} MiB/s", mib(bytes) / secs(b - a)),
        _ => String::new(),
    };
    writeln!(
        out,
        "  {}  connect, host key, auth, facts",
        span(Some(Duration::ZERO), head.snapshot_at)
    )?;
    writeln!(
        out,
        "  {}  on the host before the first byte: snapshot (pip freeze beside it)",
        span(head.snapshot_at, head.first_byte_at)
    )?;
    writeln!(
        out,
        "  {}  stream (host sha256, integrity_check beside it), controller sha256 + gzip, fsync, rename{stream_rate}",
        span(head.first_byte_at, head.received_at)
    )?;
    writeln!(
        out,
        "  {}  report, close, exit",
        span(head.received_at, Some(head.wall))
    )?;
    Ok(())
}

/// Runs `hubfleet backup` on the lab into a fresh directory, removed afterwards.
fn hubfleet_backup(lab: &Lab, hubfleet: &Path) -> Result<Backup> {
    let dir = tempfile::Builder::new()
        .prefix("bench-backup-")
        .tempdir_in("/tmp")?;
    let mut command = lab.hubfleet_at(hubfleet);
    command
        .arg("backup")
        .arg("-i")
        .arg(lab.inventory())
        .arg("--backup-dir")
        .arg(dir.path())
        .arg("--no-progress");
    let run = support::run_timed(&command)?;
    run.check("hubfleet backup")?;
    let host_dir = dir.path().join(&lab.hosts()[0].name);
    let archives: Vec<PathBuf> = std::fs::read_dir(&host_dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    let archive_bytes = archives
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    // Not timed: the archive must hold what the host sent, read back by `hubfleet verify`.
    let verify = lab
        .hubfleet_at(hubfleet)
        .arg("verify")
        .args(&archives)
        .output()?;
    if !verify.status.success() || archives.len() != 1 {
        bail!(
            "hubfleet verify {archives:?} failed: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    let first_byte_at = run.first_line(" backup streaming ").and_then(|(at, line)| {
        // `HH:MM:SS h1 backup streaming 1.2 GiB (210.0 MiB/s)`: the rate counts from the
        // first byte, so the first byte came bytes/rate before this line.
        let rest = line.split(" backup streaming ").nth(1)?;
        let (amount, rate) = rest.split_once(" (")?;
        let rate = rate.strip_suffix("/s)")?;
        let streamed = parse_bytes(amount)? / parse_bytes(rate)?;
        at.checked_sub(Duration::from_secs_f64(streamed))
    });
    Ok(Backup {
        wall: run.wall,
        peak_rss_kib: run.peak_rss_kib,
        archive_bytes,
        snapshot_at: run.first_line(" backup snapshot of ").map(|(t, _)| t),
        first_byte_at,
        received_at: run.first_line(" backup received ").map(|(t, _)| t),
    })
}

/// `1.5 GiB` (hubfleet's `human_bytes`) as bytes.
fn parse_bytes(text: &str) -> Option<f64> {
    let (value, unit) = text.trim().split_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1_048_576.0,
        "GiB" => 1_073_741_824.0,
        _ => return None,
    };
    Some(value * scale)
}

/// The host-side steps of a backup, alone: seconds per step.
fn host_split(lab: &Lab, db: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let python = lab.hosts()[0].hub_env.join("bin/python");
    let output = lab
        .ssh(0)
        .arg(format!(
            "{} -c {} {}",
            quote(python.display()),
            quote(HOST_SPLIT),
            quote(db.display())
        ))
        .output()?;
    if !output.status.success() {
        bail!(
            "the host-side split failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    value
        .as_object()
        .cloned()
        .context("the host-side split printed no object")
}

/// sha256 and gzip throughput of this build on `file`, each alone on one core (MiB/s), and the
/// gzip ratio.
fn controller_split(file: &Path) -> Result<(f64, f64, f64)> {
    let bytes = std::fs::metadata(file)?.len();
    let started = Instant::now();
    let mut hashing = HashingReader::new(std::fs::File::open(file)?);
    std::io::copy(&mut hashing, &mut std::io::sink())?;
    let sha = mib(bytes) / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut counted = CountingSink(0);
    let mut encoder = Codec::default().encoder(&mut counted);
    std::io::copy(&mut std::fs::File::open(file)?, &mut encoder)?;
    encoder.finish()?;
    let gzip = mib(bytes) / started.elapsed().as_secs_f64();
    Ok((sha, gzip, counted.0 as f64 / bytes as f64))
}

/// Counts what is written, keeps nothing.
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
