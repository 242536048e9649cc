//! Build script: puts the commit into `hubfleet --version` (`0.1.0 (1a2b3c4)`, `-dirty` when the
//! checkout has uncommitted changes), so a bug report names the exact build.
//!
//! Outside a git checkout of this package (a crates.io tarball, a source archive, no `git`), the
//! version is the package's alone.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Cargo reads a build script's instructions from its stdout (clippy's `print_stdout` knows).
fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let commit = commit();
    if let Some(commit) = &commit {
        println!("cargo:rustc-env=HUBFLEET_VERSION={version} ({commit})");
    } else {
        println!("cargo:rustc-env=HUBFLEET_VERSION={version}");
    }
    // Rerun when HEAD moves (checkout, commit) or the tree changes (the dirty flag); without
    // git, when this script changes only.
    println!("cargo:rerun-if-changed=build.rs");
    for path in watched() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `git` in this package's directory, its stdout trimmed, if it ran and succeeded.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// True if this package is the top of a git work tree: a tarball unpacked inside some other
/// repository (`~/.cargo` kept in a dotfiles repo) must not take that repository's commit.
fn in_own_checkout() -> bool {
    let Some(top) = git(&["rev-parse", "--show-toplevel"]) else {
        return false;
    };
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    Path::new(&top).canonicalize().ok() == here.canonicalize().ok()
}

/// The short commit, with `-dirty` if tracked files differ from it.
fn commit() -> Option<String> {
    if !in_own_checkout() {
        return None;
    }
    let hash = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// The files whose change means another commit or another dirty state: HEAD, the branch it points
/// at (loose or packed), the index, and the sources. Works in linked worktrees, whose HEAD lives
/// in `.git/worktrees/NAME` and whose branches in the common directory.
fn watched() -> Vec<PathBuf> {
    if !in_own_checkout() {
        return Vec::new();
    }
    let path = |args: &[&str]| git(args).map(PathBuf::from);
    let mut files = Vec::new();
    if let Some(git_dir) = path(&["rev-parse", "--absolute-git-dir"]) {
        files.push(git_dir.join("HEAD"));
        files.push(git_dir.join("index"));
    }
    if let Some(common) = path(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
        files.push(common.join("packed-refs"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            files.push(common.join(branch));
        }
    }
    files.extend(["src", "Cargo.toml", "Cargo.lock"].map(PathBuf::from));
    // A path that does not exist would make cargo rerun the script on every build.
    files.retain(|f| f.exists());
    files
}
