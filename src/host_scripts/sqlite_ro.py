# Opens a hub's SQLite database read-only; shared by every script that reads one (hubfleet sends
# it to the host ahead of them, `concat!` in Rust).
import os as _os
import pathlib as _pathlib
import sqlite3 as _sqlite3


def sqlite_read_only(path, timeout=5):
    # mode=ro needs a URI, and in a URI the path must be percent-encoded: a "#", "?" or "%" in a
    # directory name would otherwise end it early, and SQLite would open (and create) another file.
    uri = _pathlib.Path(_os.path.abspath(path)).as_uri() + "?mode=ro"
    return _sqlite3.connect(uri, uri=True, timeout=timeout)


def sqlite_value(path, sql, timeout=5):
    # The one value `sql` selects, read-only.
    db = sqlite_read_only(path, timeout=timeout)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()
