# The record of a cutover (cutover.py), shared by the facts, the launcher and the cutover itself:
# hubfleet sends it to the host ahead of each (`concat!` in Rust).
import json as _json
import os as _os


def cutover_record(db, suffix):
    # Beside the database (a directory the hub's user can always write), one per database.
    # cutover.rs's `status_path` says the same.
    return _os.path.join(_os.path.dirname(db), "." + _os.path.basename(db) + suffix)


def running_cutover(record):
    # The pid of the cutover writing `record` if it still runs: the record's first line names its
    # pid, no result has been written, and that pid's command line names the record (so a pid
    # reused after a reboot does not count).
    try:
        fd = _os.open(record, _os.O_RDONLY | _os.O_NOFOLLOW)
        with _os.fdopen(fd, "rb") as f:
            lines = f.read().splitlines()
        pid = _json.loads(lines[0]).get("pid") if lines else None
    except (OSError, ValueError, AttributeError):
        return None
    if not pid or any(line.startswith(b'{"result"') for line in lines):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return None
    names = {record.encode(), _json.dumps(record)[1:-1].encode()}
    return pid if any(name in cmdline for name in names) else None


def still_running(pid, record):
    # What facts and the launcher say of a cutover that still runs.
    return f"an earlier upgrade's cutover is still running on this host (pid {pid}, its record in {record}): wait until it ends, then run again"
