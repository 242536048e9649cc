# The hub's database on a server (PostgreSQL, MySQL/MariaDB) as hubfleet reads it: one read-only
# connection through the hub's own SQLAlchemy and driver, and the dump and restore tools this host
# has. The URL (password included) is used in this process only: nothing of it is returned.
import shutil as _shutil
import subprocess as _subprocess

# The client tools a dump and a restore need, per SQLAlchemy backend name (kept in step with
# `DbBackend::client_tools` in src/facts/database.rs, which judges them).
CLIENT_TOOLS = {
    "postgresql": ["pg_dump", "pg_restore", "psql"],
    "mysql": ["mariadb-dump", "mysqldump", "mariadb", "mysql"],
    "mariadb": ["mariadb-dump", "mysqldump", "mariadb", "mysql"],
}
# Per backend: the server's version, the database's size in bytes, and whether the hub's role may
# create databases (the rehearsal's scratch copy needs it), each one value.
_SERVER_SQL = {
    "postgresql": (
        "SHOW server_version",
        "SELECT pg_database_size(current_database())",
        "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user",
    ),
    "mysql": (
        "SELECT VERSION()",
        "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema = DATABASE()",
        None,
    ),
}
_SERVER_SQL["mariadb"] = _SERVER_SQL["mysql"]


def hub_db_url(config):
    # (JupyterHub app, its db_url as a SQLAlchemy URL) as JupyterHub's own config loader
    # resolves it; call inside `applied(hub)`, with the hub's environment and working directory.
    from jupyterhub.app import JupyterHub
    from sqlalchemy.engine import make_url

    app = JupyterHub()
    app.load_config_file(os.path.abspath(config))
    return app, make_url(app.db_url)


def client_tools(backend, path):
    # [{"name", "path", "version"}] of the tools found on `path`: the hub's own PATH, which is
    # what its service (and the dump, run in its environment) sees.
    found = []
    for name in CLIENT_TOOLS.get(backend, []):
        where = _shutil.which(name, path=path or os.defpath)
        if where is None:
            continue
        try:
            # Not the hub's environment (this runs inside `applied(hub)`): its variables may hold
            # the database URL, password included, and `ps e` shows a process's environment.
            env = {"PATH": path or os.defpath, "LANG": "C.UTF-8"}
            out = _subprocess.run([where, "--version"], capture_output=True, text=True, timeout=10, env=env)
            version = out.stdout.strip().splitlines()[0] if out.stdout.strip() else None
        except (OSError, _subprocess.SubprocessError):
            version = None
        found.append({"name": name, "path": where, "version": version})
    return found


def has_module(name):
    # Whether the hub env can import `name` (a DBAPI driver), without importing it.
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def server_facts(url):
    # Facts of the database at `url` (a sqlalchemy URL object), read in one connection:
    # {"revision", "users", "active_servers", "server_version", "size", "may_create_databases"}.
    # Raises on a database that cannot be reached or read.
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    backend = url.get_backend_name()
    version_sql, size_sql, create_sql = _SERVER_SQL[backend]
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as db:

            def value(sql):
                return db.execute(text(sql)).scalar()

            facts = {
                "server_version": str(value(version_sql)),
                "size": int(value(size_sql)),
                "may_create_databases": None if create_sql is None else bool(value(create_sql)),
                "revision": value(REVISION_SQL),
                "users": int(value("SELECT COUNT(*) FROM users")),
                "active_servers": int(value(ACTIVE_SERVERS_SQL)),
            }
    finally:
        engine.dispose()
    return facts
