# Starts the cutover (cutover.py) on the host, detached, and prints its pid. Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# The cutover runs in a session of its own (closing the channel or losing the connection does not
# reach it), every stream away from the channel. The record is created exclusively and without
# following links (the database's directory belongs to the hub's user, and this may run as root),
# and handed to the cutover as an open fd. Any record already there is refused, never replaced:
# one of a cutover that still runs, and one of a cutover that ended with no controller reading
# it (the run's facts read such a record and remove it once reported: one found here appeared
# since). A record is never deleted unread.
import subprocess

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
print(child.pid)
