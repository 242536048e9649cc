# Starts the cutover (cutover.py) on the host, detached, and prints its pid. Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# The cutover runs in a session of its own (closing the channel or losing the connection does not
# reach it), every stream away from the channel. The record is created exclusively and without
# following links (the database's directory belongs to the hub's user, and this may run as root),
# and handed to the cutover as an open fd. Any record already there is refused, never replaced:
# one of a cutover that still runs, and one of a cutover that ended with no controller reading
# it (the run's facts read such a record and remove it once reported: one found here appeared
# since). A record is never deleted unread.
# The run's host lock (host_lock.py) is handed over to the cutover: its pid is written into the
# lock, which then counts as held while the cutover runs, past the run's own channel. A run that
# no longer holds the lock (its lock.py ended) starts no cutover.
import subprocess

lock = args["lock"]  # None: a detached script whose command takes no host lock
holder = read_holder_at(lock["path"]) if lock else None
if lock and (not holder or holder.get("run") != lock["run"] or not runs_naming(holder.get("host_pid"), lock["run"])):
    fail(f"this run no longer holds the host lock {lock['path']} (held now by {describe_holder(holder)}): the hub was not stopped; run the upgrade again")
path = args["record"]
try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW, 0o600)
except FileExistsError:
    pid = running_cutover(path)
    if pid:
        fail(still_running(pid, path) + "; nothing was changed")
    fail(
        f"an earlier cutover's record {path} has not been read: run the upgrade again, which "
        "reports how that cutover ended; nothing was changed"
    )
child = subprocess.Popen(
    [sys.executable, "-c", args["script"], json.dumps(args["args"]), str(fd)],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    pass_fds=(fd,), start_new_session=True,
)
if lock:
    try:
        lock_fd = os.open(lock["path"], os.O_RDWR | os.O_NOFOLLOW)
        try:
            write_holder(lock_fd, dict(read_holder(lock_fd) or holder, cutover=child.pid))
        finally:
            os.close(lock_fd)
    except OSError as e:
        # The cutover runs: a lock it does not hold only lets a second run be refused later, by
        # the cutover's record, instead of now.
        sys.stderr.write(f"cannot hand the host lock {lock['path']} to the cutover: {e}\n")
print(child.pid)
