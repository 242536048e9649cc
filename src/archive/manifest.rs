//! `manifest.json`, written on the host by hubfleet's backup script and carried as the last
//! member of the stream and of the archive (the first in archives written before the host
//! computed its sums while streaming): what the backup holds and the host's sums of it.

use std::collections::HashSet;
use std::path::{Component, Path};

use serde::Deserialize;

use super::hashing::Sha256Sum;
use crate::installer::Installer;

/// The manifest's path, in the host's stream and in the archive.
pub const MANIFEST_PATH: &str = "manifest.json";

/// The manifest layout this hubfleet reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The largest manifest accepted. A `pip freeze` of a large hub env is under 100 KiB; the bound
/// keeps a broken stream from making hubfleet buffer an arbitrary amount.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// What a member of the backup is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The hub's database snapshot (`db/…`).
    Database,
    /// `jupyterhub_config.py` (`config/…`).
    Config,
    /// The cookie secret file (`config/…`).
    CookieSecret,
    /// A file the inventory names (`extra/<absolute path without the leading slash>`).
    Extra,
    /// The hub env's package list (`env/packages.txt`).
    Packages,
}

impl Role {
    /// The name as written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Config => "config",
            Self::CookieSecret => "cookie_secret",
            Self::Extra => "extra",
            Self::Packages => "packages",
        }
    }

    /// The folder of the archive that members of this role live in.
    fn folder(self) -> &'static str {
        match self {
            Self::Database => "db",
            Self::Config | Self::CookieSecret => "config",
            Self::Extra => "extra",
            Self::Packages => "env",
        }
    }
}

/// The hub's database backend (one enum for facts and manifests).
pub use crate::facts::DbBackend;

/// One file of the backup, with the size and sum the host computed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Its path in the archive, e.g. `db/jupyterhub.sqlite`.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: Sha256Sum,
    /// What it is for.
    pub role: Role,
}

/// A parsed and checked manifest: member paths are relative, unique, inside their role's folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The layout version; always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The host name as the host reported it.
    pub host: String,
    /// When the host took the backup.
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: jiff::Timestamp,
    /// JupyterHub's version in the hub env.
    pub jupyterhub_version: String,
    /// The database's alembic revision.
    pub alembic_revision: String,
    /// The hub env's Python version.
    pub python_version: String,
    /// The hub env's installer.
    pub installer: Installer,
    /// The database backend.
    pub db_backend: DbBackend,
    /// The database URL, password already masked on the host.
    pub db_url: String,
    /// The hub env's packages (`pip freeze` or `conda list --export` lines).
    pub packages: Vec<String>,
    /// The files of the backup, in stream order.
    pub members: Vec<Member>,
}

/// Why a manifest is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("`manifest.json` is not valid")]
    Json(#[source] serde_json::Error),
    /// Written by a newer or older backup script.
    #[error(
        "`manifest.json` has schema version {found}, this hubfleet reads version {SCHEMA_VERSION}"
    )]
    Schema {
        /// The version found.
        found: u32,
    },
    /// A member path that could escape the restore directory or does not fit its role.
    #[error("`manifest.json` lists `{path}` with role `{role}`: {reason}")]
    BadPath {
        /// The path.
        path: String,
        /// Its role.
        role: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The same path twice.
    #[error("`manifest.json` lists `{0}` twice")]
    Duplicate(String),
}

impl Manifest {
    /// Parses and checks the bytes of `manifest.json`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        // The version first, so a newer layout says so instead of failing on a field.
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let version: Version = serde_json::from_slice(bytes).map_err(ManifestError::Json)?;
        if version.schema_version != SCHEMA_VERSION {
            return Err(ManifestError::Schema {
                found: version.schema_version,
            });
        }
        let manifest: Self = serde_json::from_slice(bytes).map_err(ManifestError::Json)?;
        let mut seen = HashSet::new();
        for member in &manifest.members {
            check_path(member)?;
            if !seen.insert(member.path.as_str()) {
                return Err(ManifestError::Duplicate(member.path.clone()));
            }
        }
        Ok(manifest)
    }

    /// The member at `path`.
    pub fn member(&self, path: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.path == path)
    }
}

/// An RFC 3339 time (jiff's own serde support is a feature this crate does not enable).
fn rfc3339<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<jiff::Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Member paths become paths on disk at restore: only plain relative components, inside the
/// role's folder, never the manifest itself.
fn check_path(member: &Member) -> Result<(), ManifestError> {
    let bad = |reason| ManifestError::BadPath {
        path: member.path.clone(),
        role: member.role.as_str(),
        reason,
    };
    let path = Path::new(&member.path);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) || member.path.contains('\\') {
        return Err(bad("only a relative path without `..` is allowed"));
    }
    if path.components().count() < 2 {
        return Err(bad("a member lives in a folder"));
    }
    if !path.starts_with(member.role.folder()) {
        return Err(bad("the path is outside the role's folder"));
    }
    if member.role == Role::Packages && member.path != "env/packages.txt" {
        return Err(bad("the package list is `env/packages.txt`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::fixtures;

    #[test]
    fn the_fixture_manifest_parses() {
        let manifest = Manifest::parse(&fixtures::HostBackup::good().manifest_bytes()).unwrap();
        assert_eq!(manifest.host, "hub-berlin");
        assert_eq!(manifest.members.len(), 5);
        assert_eq!(
            manifest.member("db/jupyterhub.sqlite").unwrap().role,
            Role::Database
        );
    }

    #[test]
    fn bad_manifests_say_why() {
        let message = |json: &str| {
            let error = Manifest::parse(json.as_bytes()).unwrap_err();
            crate::error::one_line(&error, &[])
        };
        let with = |path: &str, role: &str| {
            let mut value = fixtures::HostBackup::good().manifest_json();
            value["members"][0]["path"] = path.into();
            value["members"][0]["role"] = role.into();
            message(&value.to_string())
        };
        let mut newer = fixtures::HostBackup::good().manifest_json();
        newer["schema_version"] = 2.into();
        let mut unknown = fixtures::HostBackup::good().manifest_json();
        unknown["surprise"] = true.into();
        let mut twice = fixtures::HostBackup::good().manifest_json();
        twice["members"][1] = twice["members"][0].clone();
        let messages = [
            message("{"),
            message(&newer.to_string()),
            message(&unknown.to_string()),
            message(&twice.to_string()),
            with("db/../../etc/passwd", "database"),
            with("/etc/passwd", "extra"),
            with("jupyterhub.sqlite", "database"),
            with("config/jupyterhub.sqlite", "database"),
            with("env/other.txt", "packages"),
        ];
        insta::assert_snapshot!(messages.join("\n"));
    }
}
