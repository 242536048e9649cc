# A dump of the hub's database on a server, taken on the hub host with the server's own tools:
# `pg_dump -Fc` (PostgreSQL), `mariadb-dump`/`mysqldump --single-transaction` (MySQL/MariaDB).
#
# The password reaches the tool only through a 0600 file in a private directory (libpq's
# PGPASSFILE, MySQL's --defaults-extra-file), which the caller removes on every exit. It is never
# on a command line (`ps -ef`) nor in the tool's environment (`ps e`): the tool gets a minimal
# environment of its own, not the hub's, whose variables may hold the URL itself.
import shutil as _dump_shutil
import subprocess as _dump_subprocess

# The archive member of each backend's dump, and whether it is SQL text (checked by its trailer)
# or PostgreSQL's custom format (checked by `pg_restore --list`).
DUMP_MEMBERS = {"postgresql": "db/jupyterhub.pgdump", "mysql": "db/jupyterhub.sql"}


def dump_backend(url):
    # The manifest's backend: SQLAlchemy's `mariadb` dialect is MySQL's.
    name = url.get_backend_name()
    return "mysql" if name == "mariadb" else name


def _tool(names, path):
    for name in names:
        found = _dump_shutil.which(name, path=path or os.defpath)
        if found:
            return found
    fail(f"none of {', '.join(names)} is on the hub's PATH: install Debian's {'postgresql-client' if 'pg_dump' in names else 'mariadb-client'}")


def _private_file(directory, name, text):
    # Created 0600 before a byte is written: the secret is never readable by others.
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def _tool_env(path, **extra):
    # What a dump tool gets instead of the hub's environment.
    env = {"PATH": path or os.defpath, "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    env.update(extra)
    return env


def _passfile_field(value):
    # libpq's ~/.pgpass escapes `:` and `\` with a backslash.
    return str(value).replace("\\", "\\\\").replace(":", "\\:")


def _option_value(value):
    # A MySQL option file value in double quotes, `\` and `"` escaped.
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dump_command(url, work, path):
    # (argv, env) of the dump of `url` into `work`/dump, with its credentials file in `work`.
    backend = dump_backend(url)
    out = os.path.join(work, "dump")
    query = dict(url.query)
    if backend == "postgresql":
        passfile = _private_file(work, "pgpass", f"*:*:*:{_passfile_field(url.username or '')}:{_passfile_field(url.password or '')}\n")
        extra = {"PGPASSFILE": passfile, "PGAPPNAME": "hubfleet-backup"}
        if "sslmode" in query:
            extra["PGSSLMODE"] = str(query["sslmode"])
        host = url.host or query.get("host")
        argv = [_tool(["pg_dump"], path), "--format=custom", "--no-password", "--file", out]
        if host:
            argv += ["--host", str(host)]
        if url.port:
            argv += ["--port", str(url.port)]
        if url.username:
            argv += ["--username", url.username]
        argv += ["--dbname", url.database]
        return argv, _tool_env(path, **extra), out
    if backend == "mysql":
        lines = ["[client]"]
        if url.username:
            lines.append(f"user={_option_value(url.username)}")
        if url.password is not None:
            lines.append(f"password={_option_value(url.password)}")
        if url.host:
            lines.append(f"host={_option_value(url.host)}")
        if url.port:
            lines.append(f"port={url.port}")
        if "unix_socket" in query:
            lines.append(f"socket={_option_value(query['unix_socket'])}")
        options = _private_file(work, "client.cnf", "\n".join(lines) + "\n")
        # --defaults-extra-file must come first.
        argv = [
            _tool(["mariadb-dump", "mysqldump"], path),
            f"--defaults-extra-file={options}",
            "--single-transaction",
            "--routines",
            "--triggers",
            "--hex-blob",
            f"--result-file={out}",
            url.database,
        ]
        return argv, _tool_env(path), out
    fail(f"hubfleet cannot dump a {backend} database")


def check_dump(backend, dump, path):
    # Why the dump is not a complete dump holding the hub's schema, or None.
    if backend == "postgresql":
        listing = _dump_subprocess.run([_tool(["pg_restore"], path), "--list", dump], capture_output=True, text=True, env=_tool_env(path))
        if listing.returncode != 0:
            return f"pg_restore --list rejects the dump: {listing.stderr.strip()[-300:]}"
        if not any("TABLE DATA" in line and " alembic_version " in line for line in listing.stdout.splitlines()):
            return "the dump holds no data of the table alembic_version"
        return None
    return sql_dump_problem(dump)


def sql_dump_problem(dump):
    # A SQL dump is complete when its last line is mysqldump's trailer (written only at a
    # successful end), and is the hub's when it creates alembic_version.
    with open(dump, "rb") as f:
        f.seek(max(0, os.path.getsize(dump) - 4096))
        tail = f.read().decode(errors="replace").strip().splitlines()
    if not tail or not tail[-1].startswith("-- Dump completed"):
        return "the SQL dump has no `-- Dump completed` trailer: it is truncated"
    with open(dump, "rb") as f:
        for line in f:
            if line.startswith(b"CREATE TABLE `alembic_version`"):
                return None
    return "the SQL dump holds no table alembic_version"


def take_dump(url, work, path):
    # Dumps `url` into `work` and checks it; the dump's path. The credentials file goes with
    # `work` (the caller removes it on every exit), and already now: it is needed no longer.
    argv, env, out = dump_command(url, work, path)
    try:
        done = _dump_subprocess.run(argv, env=env, stdin=_dump_subprocess.DEVNULL, capture_output=True, text=True)
    finally:
        for name in ("pgpass", "client.cnf"):
            try:
                os.remove(os.path.join(work, name))
            except FileNotFoundError:
                pass
    if done.returncode != 0:
        fail(f"{os.path.basename(argv[0])} failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    problem = check_dump(dump_backend(url), out, path)
    if problem:
        fail(problem)
    return out
