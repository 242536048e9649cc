//! A structural check of a database server's dump, fed the member's bytes as `verify` streams
//! them (memory bounded whatever the dump's size): a `pg_dump -Fc` file starts with its `PGDMP`
//! magic; a SQL dump from `mariadb-dump`/`mysqldump` creates `alembic_version` and ends with the
//! `-- Dump completed` trailer, which the tool writes only when it finished.
//! Where the controller has PostgreSQL's `pg_restore`, a custom-format dump is also streamed into
//! `pg_restore --list`, which must list `alembic_version`'s data, as the host checked it before the
//! manifest was written (dump.py). This finds an archive altered or damaged since, besides the sums.

use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::JoinHandle;

/// The member of a custom-format PostgreSQL dump (as backup.py names it).
pub const PG_DUMP_MEMBER: &str = "db/jupyterhub.pgdump";
/// The member of a SQL dump.
pub const SQL_DUMP_MEMBER: &str = "db/jupyterhub.sql";

const PG_MAGIC: &[u8] = b"PGDMP";
const ALEMBIC_TABLE: &[u8] = b"CREATE TABLE `alembic_version`";
const TRAILER: &str = "-- Dump completed";
const TAIL: usize = 4096;

/// How a custom-format dump is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// With `pg_restore --list` where the controller has it, else by its header.
    PgRestoreIfInstalled,
    /// By its header only.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the unit tests feed made-up dumps that pg_restore rejects"
        )
    )]
    HeaderOnly,
}

/// `pg_restore --list` reading the dump from its stdin, its listing read by a thread.
#[derive(Debug)]
struct PgRestore {
    child: Child,
    /// `None` once `pg_restore` stopped reading (it needs only the table of contents).
    stdin: Option<ChildStdin>,
    listing: JoinHandle<String>,
}

impl PgRestore {
    fn spawn() -> Option<PgRestore> {
        let mut child = Command::new("pg_restore")
            .arg("--list")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        let mut stdout = child.stdout.take()?;
        let listing = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        Some(PgRestore {
            stdin: child.stdin.take(),
            child,
            listing,
        })
    }

    fn feed(&mut self, buf: &[u8]) {
        if let Some(stdin) = &mut self.stdin
            && stdin.write_all(buf).is_err()
        {
            // It has read what it lists and exited: the rest of the dump is not its business.
            self.stdin = None;
        }
    }

    fn finish(mut self) -> Option<String> {
        drop(self.stdin.take());
        let status = self.child.wait().ok()?;
        let listing = self.listing.join().unwrap_or_default();
        if !status.success() {
            let mut stderr = String::new();
            if let Some(mut err) = self.child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            return Some(format!(
                "(database) is rejected by `pg_restore --list` ({status}: {})",
                stderr.trim()
            ));
        }
        let holds = listing
            .lines()
            .any(|l| l.contains("TABLE DATA") && l.contains(" alembic_version "));
        (!holds).then(|| {
            "(database) is a dump whose `pg_restore --list` shows no data of `alembic_version`: not a JupyterHub database".to_owned()
        })
    }
}

/// What kind of dump a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Custom,
    Sql,
}

/// The check of one member, written to as a sink.
#[derive(Debug)]
pub struct DumpCheck {
    kind: Kind,
    /// The first bytes (custom format's magic).
    head: Vec<u8>,
    /// The start of the current line, up to [`ALEMBIC_TABLE`]'s length.
    line: Vec<u8>,
    /// Whether the current line's start is still being read.
    in_prefix: bool,
    /// Whether a line created `alembic_version`.
    alembic: bool,
    /// The last bytes read.
    tail: Vec<u8>,
    /// The controller's `pg_restore --list`, for a custom-format dump.
    pg_restore: Option<PgRestore>,
}

impl DumpCheck {
    /// The check for the member at `path`, if it is a dump.
    pub fn for_member(path: &str, listing: Listing) -> Option<DumpCheck> {
        let kind = match path {
            PG_DUMP_MEMBER => Kind::Custom,
            SQL_DUMP_MEMBER => Kind::Sql,
            _ => return None,
        };
        Some(DumpCheck {
            kind,
            head: Vec::new(),
            line: Vec::new(),
            in_prefix: true,
            alembic: false,
            tail: Vec::new(),
            pg_restore: (kind == Kind::Custom && listing == Listing::PgRestoreIfInstalled)
                .then(PgRestore::spawn)
                .flatten(),
        })
    }

    /// What is wrong with the dump, once all of it was written; `None` when it looks whole.
    pub fn finish(self) -> Option<String> {
        match self.kind {
            Kind::Custom if !self.head.starts_with(PG_MAGIC) => {
                Some("(database) is not a `pg_dump -Fc` dump (no `PGDMP` header)".to_owned())
            }
            Kind::Custom => self.pg_restore.and_then(PgRestore::finish),
            Kind::Sql => {
                let tail = String::from_utf8_lossy(&self.tail);
                let last = tail.trim_end().lines().last().unwrap_or_default();
                if !last.starts_with(TRAILER) {
                    Some(format!(
                        "(database) is a SQL dump without its `{TRAILER}` trailer: it is truncated"
                    ))
                } else if !self.alembic {
                    Some("(database) is a SQL dump that creates no `alembic_version`: not a JupyterHub database".to_owned())
                } else {
                    None
                }
            }
        }
    }
}

impl io::Write for DumpCheck {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.head.len() < PG_MAGIC.len() {
            let take = (PG_MAGIC.len() - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..take]);
        }
        if let Some(pg_restore) = &mut self.pg_restore {
            pg_restore.feed(buf);
        }
        if self.kind == Kind::Sql {
            for &byte in buf {
                if byte == b'\n' {
                    self.line.clear();
                    self.in_prefix = true;
                    continue;
                }
                if self.in_prefix {
                    self.line.push(byte);
                    if !ALEMBIC_TABLE.starts_with(&self.line) {
                        self.in_prefix = false;
                    } else if self.line.len() == ALEMBIC_TABLE.len() {
                        self.alembic = true;
                        self.in_prefix = false;
                    }
                }
            }
            self.tail.extend_from_slice(buf);
            if self.tail.len() > TAIL {
                self.tail.drain(..self.tail.len() - TAIL);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in chunks of `chunk` (so that lines cross writes), then finishes.
    fn check(path: &str, bytes: &[u8], chunk: usize) -> Option<String> {
        let mut check = DumpCheck::for_member(path, Listing::HeaderOnly).unwrap();
        for part in bytes.chunks(chunk) {
            check.write_all(part).unwrap();
        }
        check.finish()
    }

    const SQL: &str = "-- MariaDB dump 10.19\n\nCREATE TABLE `users` (\n  `id` int\n);\nCREATE TABLE `alembic_version` (\n  `version_num` varchar(32)\n);\nINSERT INTO `alembic_version` VALUES ('0eee8c825d24');\n\n-- Dump completed on 2026-12-07 23:40:01\n";

    #[test]
    fn a_complete_sql_dump_of_a_hub_passes_however_it_is_cut() {
        for chunk in [1, 3, 7, 64, 4096] {
            assert_eq!(
                check(SQL_DUMP_MEMBER, SQL.as_bytes(), chunk),
                None,
                "{chunk}"
            );
        }
    }

    #[test]
    fn a_truncated_or_foreign_sql_dump_is_named() {
        let truncated = &SQL[..SQL.len() - 40];
        let problem = check(SQL_DUMP_MEMBER, truncated.as_bytes(), 5).unwrap();
        assert!(problem.contains("truncated"), "{problem}");
        let foreign = SQL.replace("`alembic_version`", "`other`");
        let problem = check(SQL_DUMP_MEMBER, foreign.as_bytes(), 5).unwrap();
        assert!(problem.contains("no `alembic_version`"), "{problem}");
        // Quoted inside a row, the table's name does not count: only a line's start does.
        let quoted = SQL.replace(
            "CREATE TABLE `alembic_version`",
            "INSERT INTO x VALUES ('CREATE TABLE `alembic_version`')",
        );
        assert!(check(SQL_DUMP_MEMBER, quoted.as_bytes(), 2).is_some());
    }

    #[test]
    fn a_custom_format_dump_needs_its_magic() {
        assert_eq!(check(PG_DUMP_MEMBER, b"PGDMP\x01\x0f\x00rest", 2), None);
        let problem = check(PG_DUMP_MEMBER, b"SQLite format 3\0", 4).unwrap();
        assert!(problem.contains("PGDMP"), "{problem}");
        let sqlite = DumpCheck::for_member("db/jupyterhub.sqlite", Listing::HeaderOnly);
        assert!(sqlite.is_none());
    }
}
