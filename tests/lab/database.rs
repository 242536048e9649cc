//! Private database servers for lab hubs: a PostgreSQL or MariaDB server per test, from Debian's
//! packages (`scripts/setup`), listening on a free loopback port with its socket in a directory of
//! its own, stopped when dropped (and by the lab's teardown, which records its pid file).
//!
//! The hub's role reaches the server over TCP with a password (scram-sha-256 / mysql_native);
//! the test itself administers the server as its superuser over the private socket, without one.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::hub;
use super::teardown::{self, Tracked};

/// Which server, and the facts of its Debian packaging the lab relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (Debian's `postgresql`), run as the `postgres` system user: it refuses root.
    Postgres,
    /// MariaDB (Debian's `mariadb-server`), run as root with `--user=root`.
    MariaDb,
}

impl Backend {
    /// The SQLAlchemy URL scheme a hub uses, with the driver named explicitly (a bare
    /// `postgresql://` means psycopg 3 from SQLAlchemy 2.1 on).
    pub fn scheme(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql+psycopg2",
            Backend::MariaDb => "mysql+pymysql",
        }
    }

    /// The Python package the hub env needs for [`Backend::scheme`].
    pub fn driver_package(self) -> &'static str {
        match self {
            Backend::Postgres => "psycopg2-binary",
            Backend::MariaDb => "PyMySQL",
        }
    }
}

/// A running private server; dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct DatabaseServer {
    backend: Backend,
    /// Data directory, socket directory and logs; owned by `postgres` for PostgreSQL.
    dir: TempDir,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    tracked: Tracked,
}

const RUN_SETUP: &str = "run `scripts/setup` (it installs Debian's postgresql and mariadb-server)";

impl DatabaseServer {
    /// Initialises and starts a server. `lab_dir`'s teardown stops it too, if this value is
    /// never dropped (a killed test).
    pub fn start(backend: Backend, lab_dir: &Path) -> Result<DatabaseServer> {
        // Not in the lab directory: that is private to root, and PostgreSQL runs as `postgres`.
        let dir = tempfile::Builder::new()
            .prefix("hubfleet-db-")
            .tempdir_in("/tmp")?;
        let port = free_port()?;
        let tracked = match backend {
            Backend::Postgres => Tracked::new(
                dir.path().join("server.pid"),
                &["postgres", &dir.path().join("data").display().to_string()],
            ),
            Backend::MariaDb => Tracked::new(
                dir.path().join("server.pid"),
                &[
                    "mariadbd",
                    &format!("--datadir={}", dir.path().join("data").display()),
                ],
            ),
        };
        teardown::record(lab_dir, std::slice::from_ref(&tracked))?;
        let server = DatabaseServer {
            backend,
            dir,
            port,
            tracked,
        };
        match backend {
            Backend::Postgres => server.start_postgres()?,
            Backend::MariaDb => server.start_mariadb()?,
        }
        Ok(server)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Which server this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The directory of the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.path("run")
    }

    fn start_postgres(&self) -> Result<()> {
        let bin = postgres_bin()?;
        fs::create_dir_all(self.socket_dir())?;
        fs::set_permissions(self.dir.path(), fs::Permissions::from_mode(0o755))?;
        owned_by_postgres(self.dir.path())?;
        owned_by_postgres(&self.socket_dir())?;
        let data = self.path("data");
        // Local (socket) connections trusted, for the test's own administration; TCP wants a
        // password, as a hub's connection does in production.
        checked(
            "initdb",
            as_postgres(&bin.join("initdb"))
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ])
                .args(["--no-sync", "-E", "UTF8", "--locale=C", "-D"])
                .arg(&data),
        )?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB",
            self.port,
            self.socket_dir().display()
        );
        checked(
            "pg_ctl start",
            as_postgres(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-w", "-t", "60", "-l"])
                .arg(self.path("server.log"))
                .args(["-o", &options, "start"]),
        )?;
        // postmaster.pid holds more than the pid: the lab's teardown wants it alone.
        let postmaster = fs::read_to_string(data.join("postmaster.pid"))?;
        let pid = postmaster.lines().next().unwrap_or_default();
        fs::write(&self.tracked.pid_file, format!("{pid}\n"))?;
        Ok(())
    }

    fn start_mariadb(&self) -> Result<()> {
        let data = self.path("data");
        fs::create_dir_all(self.socket_dir())?;
        let install = which("mariadb-install-db")?;
        checked(
            "mariadb-install-db",
            Command::new(install)
                .args(["--no-defaults", "--user=root", "--skip-test-db"])
                .arg(format!("--datadir={}", data.display()))
                .arg("--auth-root-authentication-method=socket"),
        )?;
        let log = fs::File::create(self.path("server.log"))?;
        checked(
            "mariadbd",
            Command::new("setsid")
                .arg("-f")
                .arg(which("mariadbd")?)
                .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1"])
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--port={}", self.port))
                .arg(format!("--socket={}", self.socket()))
                .arg(format!("--pid-file={}", self.tracked.pid_file.display()))
                .args(["--skip-log-bin", "--innodb-buffer-pool-size=16M"])
                .args(["--innodb-flush-log-at-trx-commit=0", "--skip-name-resolve"])
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log),
        )?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.sql("", "SELECT 1").is_err() {
            if Instant::now() > deadline {
                bail!("MariaDB did not answer within 60 s; {}", self.log_tail());
            }
            sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// The MariaDB socket.
    fn socket(&self) -> String {
        self.socket_dir().join("mysqld.sock").display().to_string()
    }

    /// Runs `sql` as the superuser over the socket, in `database` (`""`: none); its output,
    /// tab-separated, without headers.
    pub fn sql(&self, database: &str, sql: &str) -> Result<String> {
        let output = match self.backend {
            Backend::Postgres => {
                let mut psql = as_postgres(&postgres_bin()?.join("psql"));
                psql.args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"])
                    .arg("-h")
                    .arg(self.socket_dir())
                    .args(["-p", &self.port.to_string(), "-U", "postgres"])
                    .args([
                        "-d",
                        if database.is_empty() {
                            "postgres"
                        } else {
                            database
                        },
                    ])
                    .args(["-c", sql]);
                psql.output()?
            }
            Backend::MariaDb => {
                let mut client = Command::new(which("mariadb")?);
                client
                    .args(["--no-defaults", "-u", "root", "-N", "-B"])
                    .arg(format!("--socket={}", self.socket()))
                    .args(["-e", sql]);
                if !database.is_empty() {
                    client.arg(database);
                }
                client.stdin(Stdio::null()).output()?
            }
        };
        if !output.status.success() {
            bail!(
                "`{sql}` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Creates `database` and a role `role` with `password` that owns it (and, for PostgreSQL,
    /// may create databases: the rehearsal's scratch copy needs that).
    pub fn create_hub_database(&self, database: &str, role: &str, password: &str) -> Result<()> {
        match self.backend {
            Backend::Postgres => {
                self.sql(
                    "",
                    &format!("CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'"),
                )?;
                self.sql("", &format!("CREATE DATABASE {database} OWNER {role}"))?;
            }
            Backend::MariaDb => {
                self.sql(
                    "",
                    &format!(
                        "CREATE DATABASE {database} CHARACTER SET utf8mb4; \
                         CREATE USER '{role}'@'%' IDENTIFIED BY '{password}'; \
                         GRANT ALL ON {database}.* TO '{role}'@'%'"
                    ),
                )?;
            }
        }
        Ok(())
    }

    /// The SQLAlchemy URL of `database` for `role`, over TCP on 127.0.0.1.
    pub fn url(&self, database: &str, role: &str, password: &str) -> String {
        format!(
            "{}://{role}:{password}@127.0.0.1:{}/{database}",
            self.backend.scheme(),
            self.port
        )
    }

    /// Restores `dump` (a `pg_dump -Fc` file, or a SQL dump for MariaDB) into a new database
    /// `database`, as the superuser: for tests that read what an archive holds.
    pub fn restore(&self, database: &str, dump: &Path) -> Result<()> {
        self.sql("", &format!("CREATE DATABASE {database}"))?;
        let mut command = match self.backend {
            Backend::Postgres => {
                // A copy the `postgres` user may read: the dump may live in a private directory.
                let copy = self.path("restore.pgdump");
                fs::copy(dump, &copy)?;
                owned_by_postgres(&copy)?;
                let mut restore = as_postgres(&postgres_bin()?.join("pg_restore"));
                restore
                    .args(["--no-owner", "--exit-on-error", "-h"])
                    .arg(self.socket_dir())
                    .args(["-p", &self.port.to_string(), "-U", "postgres"])
                    .args(["-d", database])
                    .arg(copy);
                restore
            }
            Backend::MariaDb => {
                let mut client = Command::new(which("mariadb")?);
                client
                    .args(["--no-defaults", "-u", "root"])
                    .arg(format!("--socket={}", self.socket()))
                    .arg(format!("--execute=source {}", dump.display()))
                    .arg(database);
                client
            }
        };
        checked("restore", &mut command)?;
        Ok(())
    }

    /// The server's version, as `SELECT version()` reports it.
    pub fn version(&self) -> Result<String> {
        self.sql("", "SELECT version()")
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.path("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }
}

impl Drop for DatabaseServer {
    fn drop(&mut self) {
        if let Some(pid) = self.tracked.live_pid() {
            teardown::stop_pids(&[pid]);
        }
    }
}

/// Debian keeps PostgreSQL's server binaries off PATH, in `/usr/lib/postgresql/N/bin`: the
/// newest installed.
fn postgres_bin() -> Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .with_context(|| format!("PostgreSQL is not installed: {RUN_SETUP}"))?
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.parse().ok()?;
            Some((n, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!("PostgreSQL's `initdb` is not installed: {RUN_SETUP}"),
    }
}

fn which(program: &str) -> Result<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.exists())
        .with_context(|| format!("`{program}` is not installed: {RUN_SETUP}"))
}

/// A command run as the `postgres` system user (which Debian's package creates).
fn as_postgres(program: &Path) -> Command {
    let mut command = Command::new("runuser");
    command
        .args(["-u", "postgres", "--"])
        .arg(program)
        .current_dir("/")
        .stdin(Stdio::null());
    command
}

fn owned_by_postgres(path: &Path) -> Result<()> {
    checked(
        "chown",
        Command::new("chown").arg("postgres:postgres").arg(path),
    )?;
    Ok(())
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs `command` (the lab's [`hub::run`]: its stderr in the error), saying what to install.
fn checked(what: &str, command: &mut Command) -> Result<()> {
    hub::run(command).with_context(|| format!("`{what}` failed: {RUN_SETUP}"))
}
