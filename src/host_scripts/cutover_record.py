# The record of a cutover (cutover.py), shared by the facts and the launcher.


# The end of a record's name: `.DATABASE` + this.
RECORD_SUFFIX = ".hubfleet-cutover.jsonl"


def cutover_record(db):
    # Beside the database (a directory the hub's user can always write), one per database. The
    # only place the path is made: the facts report it (`cutover_record`), and the controller
    # hands it to the launcher, the follower and the plan from there.
    return os.path.join(os.path.dirname(db), "." + os.path.basename(db) + RECORD_SUFFIX)


def running_cutover(record):
    # The pid of the cutover writing `record` if it still runs: the record's first line names its
    # pid, no result has been written, and that pid's command line names the record (so a pid
    # reused after a reboot does not count).
    try:
        fd = os.open(record, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            lines = f.read().splitlines()
        pid = json.loads(lines[0]).get("pid") if lines else None
    except (OSError, ValueError, AttributeError):
        return None
    if not pid or any(line.startswith(b'{"result"') for line in lines):
        return None
    # Composed with host_lock.py, whose runs_naming() reads the command line (again, while a
    # process in the middle of its exec shows an empty one).
    return pid if runs_naming(pid, record) else None


def still_running(pid, record):
    # What facts and the launcher say of a cutover that still runs.
    return f"an earlier upgrade's cutover is still running on this host (pid {pid}, its record in {record}): wait until it ends, then run again"


def left_record(record):
    # The text of a record no controller read to its result (a controller removes a record once
    # it has it): the trace of a cutover whose controller went away, for the next run to report.
    # Read without following links, as it was created; None when there is none.
    try:
        fd = os.open(record, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read().decode("utf-8", "replace")
