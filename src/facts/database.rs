//! The hub's database backend and, for a database server, what `gather.py` read of it: the
//! driver, the server's version, and the dump and restore tools the host has. The judgements an
//! upgrade needs (is a tool missing or older than the server? does the URL's driver change
//! meaning in the target's SQLAlchemy?) are pure functions here, unit-tested.

use serde::{Deserialize, Serialize};

/// The hub's database backend, as JupyterHub resolved its `db_url` (SQLAlchemy's backend name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbBackend {
    /// SQLite: the database member is a snapshot taken with SQLite's online backup API.
    Sqlite,
    /// PostgreSQL: the database member is a `pg_dump -Fc` custom-format dump.
    Postgresql,
    /// MySQL or MariaDB: the database member is a `mariadb-dump --single-transaction` SQL dump.
    Mysql,
}

/// One need of a dump or restore: any of `names` does, and `package` is the Debian package
/// that brings them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolNeed {
    /// What the tool is for, for the refusal.
    pub purpose: &'static str,
    /// Interchangeable tools, preferred first (`mariadb-dump` is `mysqldump`'s new name).
    pub names: &'static [&'static str],
    /// The Debian package that installs them.
    pub package: &'static str,
}

impl DbBackend {
    /// From SQLAlchemy's backend name (`URL.get_backend_name()`); `mariadb` is MySQL's dialect.
    pub fn from_name(name: &str) -> Option<DbBackend> {
        match name {
            "sqlite" => Some(DbBackend::Sqlite),
            "postgresql" => Some(DbBackend::Postgresql),
            "mysql" | "mariadb" => Some(DbBackend::Mysql),
            _ => None,
        }
    }

    /// The tools a dump, its check and its restore need on the hub host (none for SQLite:
    /// the hub's own Python does it).
    pub fn client_tools(self) -> &'static [ToolNeed] {
        const PG: &str = "postgresql-client";
        const MY: &str = "mariadb-client";
        match self {
            DbBackend::Sqlite => &[],
            DbBackend::Postgresql => &[
                ToolNeed {
                    purpose: "the dump",
                    names: &["pg_dump"],
                    package: PG,
                },
                ToolNeed {
                    purpose: "the restore",
                    names: &["pg_restore"],
                    package: PG,
                },
                ToolNeed {
                    purpose: "the row counts",
                    names: &["psql"],
                    package: PG,
                },
            ],
            DbBackend::Mysql => &[
                ToolNeed {
                    purpose: "the dump",
                    names: &["mariadb-dump", "mysqldump"],
                    package: MY,
                },
                ToolNeed {
                    purpose: "the restore",
                    names: &["mariadb", "mysql"],
                    package: MY,
                },
            ],
        }
    }

    /// Whether hubfleet can upgrade a hub on this backend: back it up, rehearse `upgrade-db` and
    /// bring it back after the stop. Database servers are backed up (a dump) but neither
    /// rehearsed nor restored yet (issue 13), so their hubs are left untouched.
    pub fn upgradable(self) -> bool {
        self == DbBackend::Sqlite
    }

    /// The release of a version text that decides dump compatibility: PostgreSQL's major
    /// (`15.18 (Debian …)` → (15, 0); before 10 the first two numbers), MySQL's and MariaDB's
    /// major.minor (`Ver 10.19 Distrib 10.11.14-MariaDB` → (10, 11): the distribution's, not
    /// the tool's own version).
    pub fn release(self, text: &str) -> Option<(u32, u32)> {
        let after = match self {
            DbBackend::Mysql => text.split_once("Distrib ").map_or(text, |(_, rest)| rest),
            _ => text,
        };
        let word = after
            .split(|c: char| c.is_whitespace() || c == '-' || c == ',')
            .find(|w| {
                w.contains('.')
                    && w.split('.')
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })?;
        let mut numbers = word.split('.').map(|n| n.parse::<u32>().ok());
        let major = numbers.next()??;
        let minor = numbers.next().flatten().unwrap_or(0);
        Some(match self {
            DbBackend::Postgresql if major >= 10 => (major, 0),
            _ => (major, minor),
        })
    }
}

/// A client tool found on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientTool {
    /// Its name (`pg_dump`).
    pub name: String,
    /// Where it is.
    pub path: String,
    /// The first line of its `--version`, if it answered.
    pub version: Option<String>,
}

/// What `gather.py` read of a database server, through the hub's own driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// The DBAPI driver SQLAlchemy picks for the URL (`psycopg2`, `psycopg`, `pymysql`).
    pub driver: String,
    /// Whether the URL names its driver (`postgresql+psycopg2://`) rather than leaving it to
    /// SQLAlchemy's default, which changes with its release.
    pub driver_named: bool,
    /// Whether the hub env has psycopg 3 (`import psycopg`).
    pub psycopg3_installed: bool,
    /// The server's version (`SHOW server_version`, `SELECT VERSION()`).
    pub server_version: Option<String>,
    /// Whether the hub's role may create databases (PostgreSQL; `None`: not known).
    pub may_create_databases: Option<bool>,
    /// The dump and restore tools found on the host.
    pub tools: Vec<ClientTool>,
}

impl ServerFacts {
    /// Why the host's tools cannot dump and restore this server: a need no tool meets, or a tool
    /// older than the server. One line naming the Debian package; `None` when all are there.
    pub fn tools_problem(&self, backend: DbBackend) -> Option<String> {
        let server = self
            .server_version
            .as_deref()
            .and_then(|v| backend.release(v));
        let mut problems = Vec::new();
        for need in backend.client_tools() {
            let found = need
                .names
                .iter()
                .find_map(|name| self.tools.iter().find(|t| t.name == *name));
            let Some(tool) = found else {
                problems.push(format!(
                    "`{}` (for {}) is not installed on the host: install Debian's `{}`",
                    need.names.join("` or `"),
                    need.purpose,
                    need.package
                ));
                continue;
            };
            let release = tool.version.as_deref().and_then(|v| backend.release(v));
            if let (Some(server), Some(release)) = (server, release)
                && release < server
            {
                problems.push(format!(
                    "`{}` {} is older than the server ({}): install Debian's `{}` of the server's release",
                    tool.name,
                    dotted(release),
                    dotted(server),
                    need.package
                ));
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }

    /// Why the URL would stop working in a target whose SQLAlchemy is 2.1 or later (JupyterHub
    /// 6's): a bare `postgresql://` then means psycopg 3, which the env lacks.
    pub fn driver_problem(&self, backend: DbBackend) -> Option<String> {
        (backend == DbBackend::Postgresql && !self.driver_named && !self.psycopg3_installed).then(|| {
            "the hub's URL `postgresql://…` names no driver, and SQLAlchemy 2.1 (JupyterHub 6's) reads it as psycopg 3, which the hub env lacks: install the package `psycopg[binary]` in the hub env, or name the driver in the URL (`postgresql+psycopg2://…`)".to_owned()
        })
    }
}

fn dotted((major, minor): (u32, u32)) -> String {
    if minor == 0 {
        major.to_string()
    } else {
        format!("{major}.{minor}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, version: &str) -> ClientTool {
        ClientTool {
            name: name.to_owned(),
            path: format!("/usr/bin/{name}"),
            version: Some(version.to_owned()),
        }
    }

    fn postgres(tools: Vec<ClientTool>) -> ServerFacts {
        ServerFacts {
            driver: "psycopg2".into(),
            driver_named: true,
            server_version: Some("15.18 (Debian 15.18-0+deb12u1)".into()),
            tools,
            ..ServerFacts::default()
        }
    }

    #[test]
    fn releases_are_read_from_every_version_text_the_tools_print() {
        let cases = [
            (
                DbBackend::Postgresql,
                "15.18 (Debian 15.18-0+deb12u1)",
                Some((15, 0)),
            ),
            (
                DbBackend::Postgresql,
                "pg_dump (PostgreSQL) 16.4",
                Some((16, 0)),
            ),
            (DbBackend::Postgresql, "9.6.24", Some((9, 6))),
            (
                DbBackend::Mysql,
                "10.11.14-MariaDB-0+deb12u2",
                Some((10, 11)),
            ),
            (
                DbBackend::Mysql,
                "mariadb-dump  Ver 10.19 Distrib 10.11.14-MariaDB, for debian-linux-gnu (x86_64)",
                Some((10, 11)),
            ),
            (
                DbBackend::Mysql,
                "mysqldump  Ver 8.0.36 for Linux on x86_64",
                Some((8, 0)),
            ),
            (DbBackend::Mysql, "no version here", None),
        ];
        for (backend, text, expected) in cases {
            assert_eq!(backend.release(text), expected, "{text}");
        }
    }

    #[test]
    fn a_missing_or_older_dump_tool_is_named_with_its_debian_package() {
        let all = postgres(vec![
            tool("pg_dump", "pg_dump (PostgreSQL) 15.18"),
            tool("pg_restore", "pg_restore (PostgreSQL) 15.18"),
            tool("psql", "psql (PostgreSQL) 15.18"),
        ]);
        assert_eq!(all.tools_problem(DbBackend::Postgresql), None);

        let missing = postgres(vec![tool("psql", "psql (PostgreSQL) 15.18")]);
        let problem = missing.tools_problem(DbBackend::Postgresql).unwrap();
        assert!(
            problem.contains("`pg_dump` (for the dump) is not installed"),
            "{problem}"
        );
        assert!(problem.contains("`postgresql-client`"), "{problem}");

        let older = postgres(vec![
            tool("pg_dump", "pg_dump (PostgreSQL) 13.2"),
            tool("pg_restore", "pg_restore (PostgreSQL) 15.18"),
            tool("psql", "psql (PostgreSQL) 15.18"),
        ]);
        let problem = older.tools_problem(DbBackend::Postgresql).unwrap();
        assert_eq!(
            problem,
            "`pg_dump` 13 is older than the server (15): install Debian's `postgresql-client` of the server's release"
        );
    }

    #[test]
    fn mysqldump_stands_in_for_mariadb_dump() {
        let facts = ServerFacts {
            server_version: Some("10.11.14-MariaDB-0+deb12u2".into()),
            tools: vec![
                tool(
                    "mysqldump",
                    "mysqldump  Ver 10.19 Distrib 10.11.14-MariaDB, for debian-linux-gnu",
                ),
                tool(
                    "mysql",
                    "mysql  Ver 15.1 Distrib 10.11.14-MariaDB, for debian-linux-gnu",
                ),
            ],
            ..ServerFacts::default()
        };
        assert_eq!(facts.tools_problem(DbBackend::Mysql), None);
        let none = ServerFacts::default();
        let problem = none.tools_problem(DbBackend::Mysql).unwrap();
        assert!(
            problem.contains("`mariadb-dump` or `mysqldump`"),
            "{problem}"
        );
        assert!(problem.contains("`mariadb-client`"), "{problem}");
    }

    #[test]
    fn a_bare_postgresql_url_needs_psycopg_3_in_the_env() {
        let bare = ServerFacts {
            driver: "psycopg".into(),
            ..ServerFacts::default()
        };
        let problem = bare.driver_problem(DbBackend::Postgresql).unwrap();
        assert!(problem.contains("`psycopg[binary]`"), "{problem}");
        let with_psycopg3 = ServerFacts {
            psycopg3_installed: true,
            ..bare.clone()
        };
        assert_eq!(with_psycopg3.driver_problem(DbBackend::Postgresql), None);
        let named = ServerFacts {
            driver_named: true,
            ..bare.clone()
        };
        assert_eq!(named.driver_problem(DbBackend::Postgresql), None);
        assert_eq!(bare.driver_problem(DbBackend::Mysql), None);
    }

    #[test]
    fn backends_come_from_sqlalchemy_names_and_only_sqlite_is_upgradable_yet() {
        assert_eq!(DbBackend::from_name("mariadb"), Some(DbBackend::Mysql));
        assert_eq!(DbBackend::from_name("oracle"), None);
        assert!(DbBackend::Sqlite.upgradable());
        assert!(!DbBackend::Postgresql.upgradable());
    }
}
