//! The large databases of the benchmarks: a lab hub's JupyterHub database grown with a filler
//! table of text rows (`big_db.py`), cached in the lab cache so reruns do not generate them again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};

/// The cached database of at least `size_mib` MiB grown from `seed`; generated if missing.
pub fn big_db(seed: &Path, size_mib: u64) -> Result<PathBuf> {
    let dir = super::cache_dir()?.join("bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("jupyterhub-4.1.6-{size_mib}MiB-v2.sqlite"));
    if path.exists() {
        return Ok(path);
    }
    let script = dir.join("big_db.py");
    std::fs::write(&script, include_str!("big_db.py"))?;
    writeln!(
        std::io::stdout(),
        "bench: generating {} (once; cached)",
        path.display()
    )?;
    let started = Instant::now();
    let status = Command::new("python3")
        .arg(&script)
        .arg(seed)
        .arg(&path)
        .arg((size_mib << 20).to_string())
        .status()?;
    if !status.success() {
        bail!("generating {} failed ({status})", path.display());
    }
    writeln!(
        std::io::stdout(),
        "bench: generated in {:.1} s",
        started.elapsed().as_secs_f64()
    )?;
    Ok(path)
}
