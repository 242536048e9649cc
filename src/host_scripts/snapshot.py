# A consistent copy of a live SQLite database, shared by backup.py and rehearse.py: hubfleet sends
# it to the host ahead of either script (`concat!` in Rust).
import sqlite3 as _sqlite3


def sqlite_snapshot(db, dest):
    # SQLite's online backup API from a read-only connection: the hub may be running and writing,
    # and committed data still in the WAL or journal is in the copy (copying the live file is not
    # a backup). No fsync of the private copy: it is used at once and thrown away, and a crash
    # loses it either way (the fsync of 1 GiB cost ~0.5 s of the backup API's ~1.5 s). Returns the
    # revision the copy is at.
    source = sqlite_read_only(db, timeout=30)  # noqa: F821 - from sqlite_ro.py, sent ahead
    target = _sqlite3.connect(dest)
    try:
        target.execute("PRAGMA synchronous=OFF")
        with target:
            source.backup(target)
        return target.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        source.close()
        target.close()
