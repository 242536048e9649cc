//! Receives FILE as a host's one-member backup stream into a temporary backup directory and
//! prints the throughput and the peak RSS, to show that memory stays flat in the file's size.
//! The stream is built on the fly from the file, never held in memory.
//!
//! `cargo run --release --example bench_receive -- FILE`

use std::io::{Read, Write};
use std::time::Instant;

use hubfleet::archive::{HashingReader, NoProgress, store};

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).expect("usage: bench_receive FILE");
    let size = std::fs::metadata(&path)?.len();
    // The host computes the member's sum as it streams and sends the manifest last; this
    // stand-in hashes the file first (not timed) to have the manifest ready.
    let mut hashing = HashingReader::new(std::fs::File::open(&path)?);
    std::io::copy(&mut hashing, &mut std::io::sink())?;
    let (sum, _, _) = hashing.finish();
    let manifest = serde_json::json!({
        "schema_version": 1, "host": "bench", "created_at": "2026-11-25T13:05:01Z",
        "jupyterhub_version": "5.2.1", "alembic_revision": "4621fec11365",
        "python_version": "3.12.7", "installer": "pip", "db_backend": "sqlite",
        "db_url": "sqlite:///jupyterhub.sqlite", "packages": [],
        "members": [{"path": "db/jupyterhub.sqlite", "size": size, "sha256": sum.to_string(), "role": "database"}],
    })
    .to_string();
    let mut prefix = Vec::new();
    append_header(&mut prefix, "db/jupyterhub.sqlite", size)?;
    let mut suffix = vec![0; ((512 - size % 512) % 512) as usize];
    append_header(&mut suffix, "manifest.json", manifest.len() as u64)?;
    suffix.write_all(manifest.as_bytes())?;
    suffix.resize(suffix.len().next_multiple_of(512) + 1024, 0);
    let stream = (&prefix[..])
        .chain(std::fs::File::open(&path)?)
        .chain(&suffix[..]);

    let dir = tempfile::tempdir()?;
    let start = Instant::now();
    let stored = store(dir.path(), "bench", stream, &NoProgress)?;
    let secs = start.elapsed().as_secs_f64();
    let mib = |bytes: u64| bytes as f64 / 1048576.0;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "received {:.0} MiB in {secs:.2} s = {:.0} MiB/s; archive {:.0} MiB (ratio {:.3}); peak RSS {}",
        mib(size),
        mib(size) / secs,
        mib(stored.received.archive_bytes),
        stored.received.archive_bytes as f64 / size as f64,
        peak_rss(),
    )?;
    Ok(())
}

fn append_header(out: &mut Vec<u8>, path: &str, size: u64) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_path(path)?;
    header.set_size(size);
    header.set_mode(0o600);
    header.set_cksum();
    out.write_all(header.as_bytes())
}

/// `VmHWM` from `/proc/self/status` (Linux).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
