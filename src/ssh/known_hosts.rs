//! Checking host keys against OpenSSH known_hosts files.
//!
//! We read the file ourselves instead of calling `russh::keys::known_hosts::check_known_hosts_path`
//! (russh 0.65.1), because that function: counts line numbers without the comment lines (so the
//! `file:line` we show for a changed key would point at the wrong line), splits fields on single
//! spaces only (OpenSSH allows any run of spaces and tabs), aborts the whole check when one matching
//! line holds an unparsable key, and knows no wildcard or negated patterns. The format follows
//! OpenSSH `sshd(8)` "SSH_KNOWN_HOSTS FILE FORMAT" and `hostfile.c`: `[marker] patterns keytype
//! base64 [comment]`, where patterns is a comma list of names, `[host]:port` for ports other than
//! 22, `*`/`?` wildcards, `!negations` and hashed `|1|salt|hmac-sha1` entries.
//!
//! The verdict is computed here; [`super::session`] turns it into an [`super::SshError`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{Algorithm, HashAlg, PublicKey};
use sha1::Sha1;

/// One key recorded for a host, with the 1-based line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordedKey {
    /// 1-based line number in the known_hosts file, counting every line.
    pub line: usize,
    /// The recorded key.
    pub key: PublicKey,
}

/// What the known_hosts file says about the key a host offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The offered key is recorded for this host.
    Known,
    /// Nothing is recorded for this host.
    Unknown,
    /// Keys are recorded for this host but none is the offered one. Either a key of the same type
    /// differs (what OpenSSH calls a changed key), or only keys of other types are recorded. OpenSSH
    /// would treat the second case as new under `accept-new`; we refuse it, because we already ask
    /// for the recorded types first (see [`preferred_host_key_algorithms`]), so a server that offers
    /// another type is exactly what an impostor without the recorded key would do.
    Changed(RecordedKey),
    /// The offered key is marked `@revoked` for this host: never accepted.
    Revoked(RecordedKey),
}

/// The name a host is recorded under: OpenSSH writes `[host]:port` for ports other than 22
/// (`hostfile.c`, `put_host_port`), and compares names in lower case.
pub(crate) fn host_pattern_name(address: &str, port: u16) -> String {
    let host = address.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// The keys recorded for `address:port` in the known_hosts text, in file order. Marker lines
/// (`@cert-authority`, `@revoked`) and lines that do not parse are skipped, never fatal.
pub(crate) fn recorded_keys(contents: &str, address: &str, port: u16) -> Vec<RecordedKey> {
    keys_on_lines(contents, address, port, None)
}

/// The keys marked `@revoked` for `address:port`: OpenSSH never accepts them, whatever else the
/// file records.
pub(crate) fn revoked_keys(contents: &str, address: &str, port: u16) -> Vec<RecordedKey> {
    keys_on_lines(contents, address, port, Some("@revoked"))
}

/// The keys of the lines for `address:port` that carry `marker` (`None`: lines without one).
fn keys_on_lines(
    contents: &str,
    address: &str,
    port: u16,
    marker: Option<&str>,
) -> Vec<RecordedKey> {
    let name = host_pattern_name(address, port);
    contents
        .lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut fields = line.split_ascii_whitespace();
            let marked = line.starts_with('@').then(|| fields.next()).flatten();
            if marked != marker {
                return None;
            }
            let patterns = fields.next()?;
            let _key_type = fields.next()?;
            let base64 = fields.next()?;
            if !patterns_match(patterns, &name) {
                return None;
            }
            let key = russh::keys::parse_public_key_base64(base64).ok()?;
            Some(RecordedKey {
                line: index + 1,
                key,
            })
        })
        .collect()
}

/// Compares the offered key with what is recorded.
pub(crate) fn verdict(recorded: &[RecordedKey], offered: &PublicKey) -> Verdict {
    if recorded
        .iter()
        .any(|r| r.key.key_data() == offered.key_data())
    {
        return Verdict::Known;
    }
    let same_type = recorded
        .iter()
        .find(|r| r.key.algorithm() == offered.algorithm());
    match same_type.or(recorded.first()) {
        Some(r) => Verdict::Changed(r.clone()),
        None => Verdict::Unknown,
    }
}

/// Reads `path` (a missing file is an empty one) and checks the offered key.
pub(crate) fn check(
    path: &Path,
    address: &str,
    port: u16,
    offered: &PublicKey,
) -> io::Result<Verdict> {
    let contents = read_or_empty(path)?;
    let revoked = revoked_keys(&contents, address, port)
        .into_iter()
        .find(|r| r.key.key_data() == offered.key_data());
    Ok(match revoked {
        Some(revoked) => Verdict::Revoked(revoked),
        None => verdict(&recorded_keys(&contents, address, port), offered),
    })
}

/// Checks the offered key against each file in order, as OpenSSH reads `UserKnownHostsFile` then
/// `GlobalKnownHostsFile`: a key revoked in any file is refused, a key recorded in any file is
/// known, else the first file recording other keys for the host decides. Returns the verdict and
/// the file it comes from (the first file when unknown). A file that cannot be read is an error
/// naming it.
pub(crate) fn check_files<'f>(
    files: &'f [PathBuf],
    address: &str,
    port: u16,
    offered: &PublicKey,
) -> Result<(Verdict, &'f Path), (io::Error, &'f Path)> {
    let mut verdicts = Vec::with_capacity(files.len());
    for file in files {
        let verdict = check(file, address, port, offered).map_err(|e| (e, file.as_path()))?;
        if matches!(verdict, Verdict::Revoked(_)) {
            return Ok((verdict, file));
        }
        verdicts.push((verdict, file.as_path()));
    }
    let first = files.first().map_or(Path::new(""), PathBuf::as_path);
    let known = verdicts.iter().position(|(v, _)| *v == Verdict::Known);
    let changed = verdicts
        .iter()
        .position(|(v, _)| matches!(v, Verdict::Changed(_)));
    Ok(match known.or(changed) {
        Some(i) => verdicts.swap_remove(i),
        None => (Verdict::Unknown, first),
    })
}

/// Every host may be checked from its own task, and `accept-new` appends from many of them at
/// once; one lock for the process keeps lines whole and lets us re-check before appending (the
/// same address may appear twice in one run).
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Checks the offered key and, if the host is unknown, records it (creating the file and its
/// directory if needed). Returns the verdict from before recording: `Unknown` means "now learned".
pub(crate) fn check_or_learn<'f>(
    files: &'f [PathBuf],
    address: &str,
    port: u16,
    offered: &PublicKey,
) -> Result<(Verdict, &'f Path), (io::Error, &'f Path)> {
    // A poisoned lock only means another task panicked while holding it; the file is still whole
    // lines because we write each line with one call.
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (verdict, path) = check_files(files, address, port, offered)?;
    if verdict == Verdict::Unknown {
        append(path, address, port, offered).map_err(|e| (e, path))?;
    }
    Ok((verdict, path))
}

fn append(path: &Path, address: &str, port: u16, key: &PublicKey) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let existing = read_or_empty(path)?;
    let mut line = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        line.push('\n');
    }
    let mut key = key.clone();
    key.set_comment("");
    let openssh = key.to_openssh().map_err(io::Error::other)?;
    line.push_str(&format!(
        "{} {}\n",
        host_pattern_name(address, port),
        openssh.trim_end()
    ));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_all()
}

fn read_or_empty(path: &Path) -> io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// OpenSSH `match_hostname`: the comma list matches if some pattern matches and no negated one
/// does. Hashed entries stand alone (OpenSSH hashes each name separately).
fn patterns_match(patterns: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns.split(',') {
        if let Some(hashed) = pattern.strip_prefix("|1|") {
            matched |= hashed_match(hashed, name);
        } else if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(&negated.to_ascii_lowercase(), name) {
                return false;
            }
        } else {
            matched |= wildcard_match(&pattern.to_ascii_lowercase(), name);
        }
    }
    matched
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, OpenSSH `hostfile.c` `host_hash`.
fn hashed_match(salt_and_hash: &str, name: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// `*` matches any run of characters, `?` exactly one (OpenSSH `match_pattern`).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// OpenSSH's fingerprint form, `SHA256:` and unpadded base64, as `ssh-keygen -lf` prints it.
pub(crate) fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The key type's short name as OpenSSH shows it before a fingerprint (`ED25519`, `ECDSA`, `RSA`).
pub(crate) fn key_type_label(key: &PublicKey) -> &'static str {
    match key.algorithm() {
        Algorithm::Ed25519 => "ED25519",
        Algorithm::Ecdsa { .. } => "ECDSA",
        Algorithm::Rsa { .. } => "RSA",
        Algorithm::Dsa => "DSA",
        _ => "other",
    }
}

/// The `ssh-keyscan -t` name of a key's type.
pub(crate) fn keyscan_type(key: &PublicKey) -> &'static str {
    match key.algorithm() {
        Algorithm::Ed25519 => "ed25519",
        Algorithm::Ecdsa { .. } => "ecdsa",
        Algorithm::Rsa { .. } => "rsa",
        _ => "ed25519,ecdsa,rsa",
    }
}

/// The host key algorithms to offer, with the types already recorded for this host first, as
/// OpenSSH does (`sshconnect2.c`, `order_hostkeyalgs`): the server picks the first type in our list
/// that it has, so a host known by its ECDSA key is not asked for an unrecorded ED25519 one.
pub(crate) fn preferred_host_key_algorithms(
    recorded: &[RecordedKey],
    defaults: &[Algorithm],
) -> Vec<Algorithm> {
    let is_recorded = |alg: &Algorithm| {
        recorded.iter().any(|r| match (r.key.algorithm(), alg) {
            // A recorded `ssh-rsa` key serves every RSA signature hash.
            (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
            (recorded, alg) => &recorded == alg,
        })
    };
    let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
        defaults.iter().cloned().partition(|a| is_recorded(a));
    first.extend(rest);
    first
}

#[cfg(test)]
mod tests;
