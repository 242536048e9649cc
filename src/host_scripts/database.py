# The hub's SQLite database as hubfleet reads it: read-only, with the queries written once.
import pathlib as _pathlib
import sqlite3 as _sqlite3

# The database's alembic revision.
REVISION_SQL = "SELECT version_num FROM alembic_version"
# User servers the database records as running: the facts count them, and the cutover counts them
# again right before the stop.
ACTIVE_SERVERS_SQL = "SELECT COUNT(*) FROM spawners WHERE server_id IS NOT NULL"


def sqlite_read_only(path, timeout=5):
    # mode=ro needs a URI, and in a URI the path must be percent-encoded: a "#", "?" or "%" in a
    # directory name would otherwise end it early, and SQLite would open (and create) another file.
    uri = _pathlib.Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    return _sqlite3.connect(uri, uri=True, timeout=timeout)


def sqlite_value(path, sql, timeout=5):
    # The one value `sql` selects, read-only.
    db = sqlite_read_only(path, timeout=timeout)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def sqlite_snapshot(db, dest):
    # A consistent copy of a live database (the backup, the rehearsal): SQLite's online backup API
    # from a read-only connection. The hub may be running and writing, and committed data still in
    # the WAL or journal is in the copy (copying the live file is not a backup). No fsync of the
    # private copy: it is used at once and thrown away, and a crash loses it either way (the fsync
    # of 1 GiB cost ~0.5 s of the backup API's ~1.5 s). Returns the revision the copy is at.
    source = sqlite_read_only(db, timeout=30)
    target = _sqlite3.connect(dest)
    try:
        target.execute("PRAGMA synchronous=OFF")
        with target:
            source.backup(target)
        return target.execute(REVISION_SQL).fetchone()[0]
    finally:
        source.close()
        target.close()


def holders(db):
    # Processes other than this one that have the database `db` (a real path) open, as
    # [(pid, command line)], read from /proc (a process whose fds this user may not read is not
    # seen).
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == db:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
                    found.append((int(pid), command))
                    break
            except OSError:
                pass
    return found
