//! Host backup streams for tests: a good one built in memory, and the ways one breaks (wrong
//! sums, members missing or extra, the manifest out of place, truncation, bad compression).
//! The good stream ends with `manifest.json`, as the host script writes it.

use std::io::Write;

use serde_json::json;

use super::codec::Codec;
use super::hashing::Sha256Sum;

/// When the fixture backup was taken: 2026-11-25T13:05:01Z.
pub const CREATED_AT: i64 = 1_795_611_901;

/// One file of a fixture backup, and how the fixture lies about it.
#[derive(Clone)]
pub struct FixtureMember {
    /// Its path in the stream.
    pub path: String,
    /// Its role in the manifest.
    pub role: &'static str,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Listed in the manifest.
    pub in_manifest: bool,
    /// Present in the tar stream.
    pub in_stream: bool,
    /// The sum the manifest claims instead of the true one.
    pub claimed_sha256: Option<String>,
    /// The size the manifest claims instead of the true one.
    pub claimed_size: Option<u64>,
}

/// Where `manifest.json` is in the stream.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ManifestAt {
    /// Last, as the host script writes it.
    Last,
    /// First, as the host script wrote it before its sums were computed while streaming.
    First,
    /// After the first member: neither layout.
    Second,
    /// Not in the stream at all.
    Nowhere,
}

/// A backup as the host script would stream it.
#[derive(Clone)]
pub struct HostBackup {
    /// The members, in stream order.
    pub members: Vec<FixtureMember>,
    /// Where `manifest.json` goes.
    pub manifest_at: ManifestAt,
}

/// Deterministic bytes that compress somewhat, like a database: a SQLite header, then pages of
/// pseudo-random text.
pub fn sqlite_like(len: usize) -> Vec<u8> {
    let mut data = b"SQLite format 3\0".to_vec();
    let mut state: u32 = 0x2545_f491;
    while data.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        data.push(b"abcdefghij user server token 0123"[(state % 33) as usize]);
    }
    data.truncate(len);
    data
}

impl HostBackup {
    /// A complete, consistent backup of `hub-berlin`.
    pub fn good() -> Self {
        let member = |path: &str, role, data: &[u8]| FixtureMember {
            path: path.to_owned(),
            role,
            data: data.to_vec(),
            in_manifest: true,
            in_stream: true,
            claimed_sha256: None,
            claimed_size: None,
        };
        Self {
            members: vec![
                member("db/jupyterhub.sqlite", "database", &sqlite_like(200_000)),
                member(
                    "config/jupyterhub_config.py",
                    "config",
                    b"c = get_config()  # noqa\nc.JupyterHub.db_url = 'sqlite:///jupyterhub.sqlite'\n",
                ),
                member(
                    "config/jupyterhub_cookie_secret",
                    "cookie_secret",
                    b"6f1b2c3d4e5f60718293a4b5c6d7e8f96f1b2c3d4e5f60718293a4b5c6d7e8f9\n",
                ),
                member(
                    "extra/etc/jupyterhub/templates/page.html",
                    "extra",
                    b"{% extends \"templates/page.html\" %}\n",
                ),
                member(
                    "env/packages.txt",
                    "packages",
                    b"jupyterhub==5.2.1\nSQLAlchemy==2.0.36\nalembic==1.14.0\n",
                ),
            ],
            manifest_at: ManifestAt::Last,
        }
    }

    fn get(&mut self, path: &str) -> &mut FixtureMember {
        self.members
            .iter_mut()
            .find(|m| m.path == path)
            .expect("fixture member")
    }

    /// The manifest claims a different sum for `path`.
    pub fn wrong_hash(mut self, path: &str) -> Self {
        self.get(path).claimed_sha256 = Some(Sha256Sum::of(b"something else").to_string());
        self
    }

    /// The manifest claims a different size for `path`.
    pub fn wrong_size(mut self, path: &str) -> Self {
        let member = self.get(path);
        member.claimed_size = Some(member.data.len() as u64 + 1);
        self
    }

    /// The manifest lists `path` but the stream lacks it.
    pub fn missing(mut self, path: &str) -> Self {
        self.get(path).in_stream = false;
        self
    }

    /// The stream holds `path`, the manifest does not list it.
    pub fn extra(mut self, path: &str) -> Self {
        self.members.push(FixtureMember {
            path: path.to_owned(),
            role: "extra",
            data: b"not in the manifest\n".to_vec(),
            in_manifest: false,
            in_stream: true,
            claimed_sha256: None,
            claimed_size: None,
        });
        self
    }

    /// `manifest.json` comes at `at`.
    pub fn manifest_at(mut self, at: ManifestAt) -> Self {
        self.manifest_at = at;
        self
    }

    /// The manifest as JSON, with the lies applied.
    pub fn manifest_json(&self) -> serde_json::Value {
        let members: Vec<_> = self
            .members
            .iter()
            .filter(|m| m.in_manifest)
            .map(|m| {
                json!({
                    "path": m.path,
                    "size": m.claimed_size.unwrap_or(m.data.len() as u64),
                    "sha256": m.claimed_sha256.clone().unwrap_or_else(|| Sha256Sum::of(&m.data).to_string()),
                    "role": m.role,
                })
            })
            .collect();
        json!({
            "schema_version": 1,
            "host": "hub-berlin",
            "created_at": "2026-11-25T13:05:01Z",
            "jupyterhub_version": "5.2.1",
            "alembic_revision": "4621fec11365",
            "python_version": "3.12.7",
            "installer": "pip",
            "db_backend": "sqlite",
            "db_url": "sqlite:////srv/jupyterhub/jupyterhub.sqlite",
            "packages": ["jupyterhub==5.2.1", "SQLAlchemy==2.0.36", "alembic==1.14.0"],
            "members": members,
        })
    }

    /// The bytes of `manifest.json`, as the host writes them.
    pub fn manifest_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.manifest_json()).unwrap()
    }

    /// The uncompressed tar stream the host sends, padded to tar's 10 KiB record with zeros as
    /// GNU tar and Python's `tarfile` do: the reader stops at the end marker before them.
    pub fn stream(&self) -> Vec<u8> {
        let mut stream = self.tar();
        stream.resize(stream.len().next_multiple_of(10240), 0);
        stream
    }

    /// The stream cut right after the last member: no end marker (two zero blocks), no padding.
    pub fn stream_without_end_marker(&self) -> Vec<u8> {
        let mut stream = self.tar();
        stream.truncate(stream.len() - 1024);
        stream
    }

    /// The tar archive up to and with its end marker.
    fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut append = |path: &str, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(CREATED_AT as u64);
            builder.append_data(&mut header, path, data).unwrap();
        };
        let manifest = self.manifest_bytes();
        let members: Vec<_> = self.members.iter().filter(|m| m.in_stream).collect();
        let at = match self.manifest_at {
            ManifestAt::First => 0,
            ManifestAt::Second => 1.min(members.len()),
            ManifestAt::Last => members.len(),
            ManifestAt::Nowhere => usize::MAX,
        };
        for (index, member) in members.iter().enumerate() {
            if index == at {
                append("manifest.json", &manifest);
            }
            append(&member.path, &member.data);
        }
        if at == members.len() {
            append("manifest.json", &manifest);
        }
        builder.into_inner().unwrap()
    }

    /// The stream compressed as an archive, without the checks `receive` makes, so broken
    /// backups can be written as archives for `verify`.
    pub fn archive(&self) -> Vec<u8> {
        let mut encoder = Codec::default().encoder(Vec::new());
        encoder.write_all(&self.stream()).unwrap();
        encoder.finish().unwrap()
    }
}
