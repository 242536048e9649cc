# The host lock of a run (lock.py holds it; launch.py hands it to the cutover; gather.py shows it).
#
# One file beside the hub env, `.ENV.hubfleet-lock` (inside the env only where its directory is
# not writable: an env that is never swapped), created by the hub's `become` user. A run holds it
# by flock(2) from a process that lives as long as the run's SSH channel (lock.py): the kernel
# drops the flock when that process ends, however it ends, so a dead controller leaves no lock
# that blocks. The file holds the holder's JSON: {run, controller, user, pid, started, command,
# host_pid, login}; once the run's cutover is launched, also {cutover: PID}: the detached cutover
# outlives the channel, and while that pid runs (its command line naming this file) the lock
# counts as held. A run that ends well empties the file; a holder that vanished leaves it full,
# and the next run takes it over, saying whose it was.
LOCK_SUFFIX = ".hubfleet-lock"
# In a staged copy of the env: the token of the run that made it (stage.py), which the cutover
# requires before it swaps the copy in.
STAGED_TOKEN = ".hubfleet-staged"


def lock_path(env):
    env = os.path.realpath(env)
    parent, name = os.path.split(env)
    if os.access(parent, os.W_OK) or not os.access(env, os.W_OK):
        return os.path.join(parent, "." + name + LOCK_SUFFIX)
    return os.path.join(env, LOCK_SUFFIX)


def read_holder(fd):
    # The holder's JSON from the lock's open fd; None for an empty (released) lock. A holder
    # being written is read again: it is one small pwrite.
    import time  # here, not at the top: the scripts this module is composed into differ in what they import

    for _ in range(5):
        data = os.pread(fd, 65536, 0)
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except ValueError:
            time.sleep(0.05)
    return {"unreadable": data[:200].decode(errors="replace")}


def read_holder_at(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        return read_holder(fd)
    finally:
        os.close(fd)


def write_holder(fd, holder):
    # The whole content in one pwrite, then cut to its length: a reader never sees it empty.
    data = json.dumps(holder).encode() if holder else b""
    if data:
        os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def runs_naming(pid, needle):
    # Whether `pid` runs with `needle` on its command line (raw or JSON-escaped): a pid reused by
    # another process does not count. A process in the middle of its exec shows an empty command
    # line for a moment (its launcher learns of the exec when the close-on-exec pipe closes,
    # before the kernel sets the new arguments), and so does one that has exited but is not yet
    # reaped: looked at again briefly.
    import time  # here, not at the top: the scripts this module is composed into differ in what they import

    for _ in range(20):
        try:
            with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, TypeError):
            return False
        if cmdline:
            break
        time.sleep(0.025)
    return any(n.encode() in cmdline for n in (needle, json.dumps(needle)[1:-1]))


def cutover_holds(holder, path):
    # The pid of the run's detached cutover if it still runs (it holds the lock past its run's
    # channel).
    pid = (holder or {}).get("cutover")
    return pid if pid and runs_naming(pid, path) else None


def flocked(path):
    # Whether some process holds a flock on `path`, read from /proc/locks: taking the lock to
    # find out would make a run that takes it at that moment fail.
    try:
        st = os.stat(path)
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return any(" FLOCK " in f" {l} " and f" {inode} " in f" {l} " for l in lines)


def describe_holder(holder):
    # The holder as a refusal or the facts say it.
    if not holder:
        return "an unknown run"
    if "unreadable" in holder:
        return f"a run whose lock file cannot be read ({holder['unreadable']!r})"
    said = (
        f"`hubfleet {holder.get('command', '?')}` started {holder.get('started', '?')} by "
        f"{holder.get('user', '?')}@{holder.get('controller', '?')} (pid {holder.get('pid', '?')})"
    )
    if holder.get("cutover"):
        said += f", its cutover running on this host as pid {holder['cutover']}"
    return said


def lock_state(env):
    # What facts show: the lock's path, whether it is held, and by whom (or what a stale one
    # names).
    path = lock_path(env)
    holder = read_holder_at(path)
    held = flocked(path) or bool(cutover_holds(holder, path))
    return {"path": path, "held": held, "holder": holder, "said": describe_holder(holder) if holder else None}
