# Takes the host lock for a run and holds it until the run says `release`, its channel closes
# (the controller ended, or its connection dropped), or the controller is silent for
# args["silence"] seconds (it sends a heartbeat line every few seconds). Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# Prints one JSON line once it holds the lock: {"locked": PATH, "stale": PREVIOUS_HOLDER|null};
# refuses (exit 3) naming the holder when another run holds it. See host_lock.py.
import fcntl
import getpass
import select

path = lock_path(args["env"])
try:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
except OSError as e:
    # Not a refusal by another run (exit 3) but a lock this login cannot take (exit 5): the
    # controller lets the facts, which read only, say first whether they know a better reason.
    sys.stderr.write(f"cannot open the host lock {path}: {e.strerror}; the hub's user must be able to write beside {args['env']} (set `become = true`); nothing was changed\n")
    sys.exit(5)


def refuse(holder):
    fail(f"another run holds this host's lock ({path}): {describe_holder(holder)}; wait until it ends, then run again; nothing was changed")


try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    refuse(read_holder(fd))
previous = read_holder(fd)
if cutover_holds(previous, path):
    refuse(previous)
me = dict(args["holder"], host_pid=os.getpid(), login=getpass.getuser())
write_holder(fd, me)
sys.stdout.write(json.dumps({"locked": path, "stale": previous, "said": describe_holder(previous) if previous else None}) + "\n")
sys.stdout.flush()

released = False
while True:
    ready, _, _ = select.select([sys.stdin], [], [], args["silence"])
    if not ready:
        # No heartbeat for that long: the controller is gone without closing its connection (a
        # machine that lost power); the lock is left for the next run to take over.
        break
    line = sys.stdin.buffer.readline()
    if not line:
        break
    if line.strip() == b"release":
        released = True
        break
if released:
    # Emptied unless the run's cutover still holds it (launch.py wrote its pid): the cutover
    # empties it when it ends. One that gave up waiting for this flock (the run went on with
    # steps after the cutover) has ended: then it is emptied here.
    current = read_holder(fd)
    if current and current.get("run") == me["run"] and not cutover_holds(current, path):
        write_holder(fd, None)
