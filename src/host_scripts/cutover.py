# The downtime of an upgrade, run on the host by one process that outlives the controller's
# connection: stop the hub and confirm it stopped, put the target in place (swap the envs, or an
# offline install), `jupyterhub upgrade-db` and the database's revision, start, health. A jump
# host that reboots or a link that drops in the middle no longer leaves the hub down: this process
# finishes the job, and its record says how it went.
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON RECORD_FD   (started in a session of its own by the
#   launcher, launch.py, which created the record exclusively and hands over its fd)
# Every step, output line and the result are JSON lines appended to the record, which the
# controller follows: {"pid"} first, then {"step", "text"} | {"output"} | {"revisions"} (after a
# conda install), and last {"result": "ok", "previous", "revision"} |
# {"result": "failed", "step", "reason"}.
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

record_fd = int(sys.argv[2])
signal.signal(signal.SIGHUP, signal.SIG_IGN)


def record(**fields):
    # Best effort: a record that cannot be written (a full disk) must not stop the cutover, whose
    # work matters more than its log. One write(2) per line, so lines never interleave.
    try:
        os.write(record_fd, (json.dumps(fields) + "\n").encode())
    except OSError:
        pass


class Failed(Exception):
    def __init__(self, step, reason):
        super().__init__(reason)
        self.step, self.reason = step, reason


def describe(code):
    return f"exit code {code}" if code >= 0 else f"killed by {signal.Signals(-code).name}"


class TimedOut(Failed):
    pass


class Unchanged(Failed):
    # A step that failed before it changed anything: the hub can go back up on its env.
    pass


def sh(step, command, timeout=None, kill=True, hub=None):
    # Runs an operator's (or hubfleet's) shell command, its output recorded line by line; fails
    # with its last line, as the controller's steps do. With `hub` (hub_environment.py), in the
    # hub's own environment and working directory, its env's bin first on PATH. It ends when the command exits: a daemon
    # it started that keeps the output pipe open (a start command that does not redirect) is
    # not waited for. A command still running after `timeout` seconds is stopped (its process
    # group; with kill=False left running) and TimedOut raised.
    record(step=step, text=command)
    env = cwd = None
    if hub is not None:
        env, cwd = dict(hub["env"]), hub["cwd"]
        bin_dir = os.path.join(args["hub"]["hub_env"].rstrip("/"), "bin")
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    child = subprocess.Popen(["sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=cwd)
    last = ["no output"]

    def read():
        for raw in child.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            record(output=line)
            if line.strip():
                last[0] = line.strip()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if not kill:
            raise TimedOut(step, f"`{command}` has not returned after {timeout}s; it is left running") from None
        for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(child.pid, sig)
                child.wait(timeout=grace)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                pass
        raise TimedOut(step, f"`{command}` did not return within {timeout}s and was stopped") from None
    reader.join(timeout=2)
    if code != 0:
        raise Failed(step, f"{last[0]} ({describe(code)})")


def answering_version():
    try:
        with urllib.request.urlopen(args["url"], timeout=2) as answer:
            return json.load(answer).get("version")
    except Exception:  # noqa: BLE001 - not answering is what a stop waits for
        return None


class NotStopped(Failed):
    def __init__(self, reason, down):
        super().__init__("stop", reason)
        self.down = down


def stop():
    # A quiet API is not yet a stopped hub: a stop command may return while the hub still shuts
    # down and writes, and another program may hold the database. Nothing may touch it under
    # upgrade-db.
    began = time.monotonic()
    try:
        sh("stop", args["stop"], timeout=args["stop_timeout"])
    except TimedOut as e:
        # A stop command that hangs (a script waiting on something else) may still have stopped
        # the hub: whether it did is what the confirmation below finds out.
        record(output=e.reason)
    db = os.path.realpath(args["db"])
    record(step="stop", text=f"waiting until {args['url']} stops answering and no process has {args['db']} open")
    while True:
        version = answering_version()
        held = holders(db) if version is None else []
        if version is None and not held:
            return
        if time.monotonic() - began > args["stop_timeout"]:
            after = f"{args['stop_timeout']}s after `{args['stop']}`"
            if version is not None:
                raise NotStopped(f"the hub still answers at {args['url']} {after}: it was not stopped, nothing was changed", False)
            pid, command = held[0]
            raise NotStopped(f"{args['db']} is still open in pid {pid} (`{command}`) {after}, though {args['url']} no longer answers: nothing was changed", True)
        time.sleep(0.1)


def swap(change):
    env, next_env, previous = change["env"], change["next"], change["previous"]
    record(step="swap", text=change["text"])
    if not os.path.isdir(os.path.join(next_env, "bin")):
        raise Unchanged("swap", f"{next_env}, the env readied before the stop, is missing: nothing was changed")
    if os.path.lexists(previous):
        if not change["replaces_previous"]:
            raise Unchanged("swap", f"{previous} exists: move it away and run the upgrade again; nothing was changed")
        # The env an earlier upgrade kept: replaced only now, by a swap that happens. It is moved
        # aside (one rename) and removed once the hub is back (see cutover()); a swap that fails
        # puts it back.
        # Left by a cutover that ended between this rename and that removal: it is ours.
        shutil.rmtree(replaced_path(change), ignore_errors=True)
        try:
            os.rename(previous, replaced_path(change))
        except OSError as e:
            raise Unchanged("swap", f"cannot move {previous} (the env an earlier upgrade kept) aside: {e}; nothing was changed")
        try:
            return exchange_envs(env, next_env, previous)
        except Unchanged:
            try:
                os.rename(replaced_path(change), previous)
            except OSError as e:
                record(output=f"the env an earlier upgrade kept stays at {replaced_path(change)}: {e}")
            raise
    return exchange_envs(env, next_env, previous)


def replaced_path(change):
    return change["previous"] + "-replaced"


def exchange_envs(env, next_env, previous):
    # ENV and ENV.hubfleet-next are exchanged in one renameat2(RENAME_EXCHANGE), so no crash can
    # leave ENV missing; where the kernel or filesystem lacks it, two renames (the second undone
    # on error). The env as it was is renamed to ENV.hubfleet-previous, the parent fsynced.
    import ctypes

    def exchange():
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = getattr(libc, "renameat2", None)
        if renameat2 is None:
            return False
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, env.encode(), at_fdcwd, next_env.encode(), rename_exchange) == 0:
            return True
        errno = ctypes.get_errno()
        if errno in (18, 22, 38, 95):  # EXDEV (overlayfs), EINVAL, ENOSYS, EOPNOTSUPP: not here
            return False
        raise Unchanged("swap", f"cannot exchange {env} and {next_env}: {os.strerror(errno)}; nothing was changed")

    if exchange():
        # The new env serves from here on; the old one only changes its name, and if that fails
        # it stays where it is, which the controller is told.
        try:
            os.rename(next_env, previous)
        except OSError as e:
            record(output=f"swapped, but the env as it was stays at {next_env}: {e}")
            previous = next_env
    else:
        try:
            os.rename(env, previous)
        except OSError as e:
            raise Unchanged("swap", f"cannot move {env} to {previous}: {e}; nothing was changed")
        try:
            os.rename(next_env, env)
        except OSError as e:
            try:
                os.rename(previous, env)
            except OSError as undo:
                raise Failed("swap", f"cannot move {next_env} to {env} ({e}), nor {previous} back ({undo}): {env} is missing; move {previous} back to it") from None
            raise Unchanged("swap", f"cannot move {next_env} to {env}: {e}; nothing was changed")
    try:
        fd = os.open(os.path.dirname(env), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:  # the swap is done: a directory that cannot be fsynced does not undo it
        record(output=f"cannot fsync {os.path.dirname(env)}: {e}")
    return previous


def installed_head():
    # conda: the target's revisions are known only once it is installed.
    where = subprocess.run([args["env_python"], "-c", "import jupyterhub, os; print(os.path.dirname(jupyterhub.__file__))"], capture_output=True, text=True)
    if where.returncode != 0:
        raise Failed("install", f"the installed jupyterhub cannot be imported: {where.stderr.strip().splitlines()[-1:]}")
    revisions = installed_revisions(where.stdout.strip())
    record(revisions=revisions)
    return alembic_head(revisions)


def upgrade_db(head, hub):
    sh("upgrade-db", args["upgrade_db"], hub=hub)
    revision = sqlite_value(args["db"], REVISION_SQL, timeout=30)
    if revision != head:
        raise Failed("upgrade-db", f"`jupyterhub upgrade-db` exited 0 but {args['db']} is at revision {revision}, not {head}: check the hub's `workdir` and `config`")
    return revision


def start(version):
    began = time.monotonic()
    try:
        # Not stopped when it takes too long: a start command that does not return may be the
        # hub itself, run in the foreground.
        sh("start", args["start"], timeout=args["start_timeout"], kill=False)
    except TimedOut as e:
        record(output=e.reason)
    record(step="health", text=f"waiting for {args['url']} to answer")
    while True:
        answered = answering_version()
        if answered is not None:
            if answered != version:
                raise Failed("health", f"the hub answers with version {answered} instead of {version}")
            return
        if time.monotonic() - began > args["start_timeout"]:
            raise Failed("health", f"the hub did not answer at {args['url']} within {args['start_timeout']}s of `{args['start']}`: see the hub's log")
        time.sleep(0.1)


def discard(change):
    # What was readied for a change that will not happen.
    if change["kind"] == "swap":
        shutil.rmtree(change["next"], ignore_errors=True)


def unchanged(failure):
    # Nothing was changed, but the hub is down: it goes back up on its env rather than stay down,
    # and what was readied for it goes.
    discard(args["change"])
    version = args.get("restart_version")
    if not version:
        return failure.reason
    try:
        start(version)
        return f"{failure.reason}; the hub was started again at {version}"
    except Failed as again:
        return f"{failure.reason}; starting the hub again at {version} failed too: {again.reason}"


def cutover():
    change = args["change"]
    # How the hub runs, read while it still runs (its /proc entry is gone after the stop): the
    # environment and working directory upgrade-db needs to resolve the same database as the hub.
    record(step="check", text="the hub's environment, and the database it has open")
    hub = hub_environment(args["hub"])
    wrong = list(hub["blockers"])
    if hub["pid"] is not None and hub["provided"] is None:
        wrong.append(cross_check(hub["pid"], args["db"]))
    wrong = [w for w in wrong if w]
    if wrong:
        discard(change)
        raise Failed("check", "; ".join(wrong) + ": the hub was not stopped")
    # The facts that allowed the upgrade are minutes old by now (stage, backup, rehearsal,
    # grace): a user who started a server meanwhile is not interrupted unless allowed.
    if not args["allow_active_servers"]:
        record(step="check", text="no user server may be running")
        servers = sqlite_value(args["db"], ACTIVE_SERVERS_SQL, timeout=30)
        if servers:
            discard(change)
            raise Failed("check", f"{servers} user server(s) started while the upgrade got ready: the hub was not stopped; rerun with `--allow-active-servers` after notifying users")
    try:
        stop()
    except NotStopped as e:
        if e.down:
            raise Failed("stop", unchanged(e)) from None
        discard(change)
        raise
    except Failed:
        discard(change)
        raise
    previous = None
    head = args.get("head")
    if change["kind"] == "swap":
        try:
            previous = swap(change)
        except Unchanged as e:
            raise Failed("swap", unchanged(e)) from None
        except OSError as e:
            raise Failed("swap", unchanged(Failed("swap", f"the swap failed: {e}; nothing was changed"))) from None
    elif change["kind"] == "install":
        sh("install", change["command"])
        # The downloaded packages are no longer needed; a failure to remove them is not the hub's.
        shutil.rmtree(change["downloads"], ignore_errors=True)
    try:
        if head is None:
            head = installed_head()
        revision = upgrade_db(head, hub)
        start(args["version"])
    finally:
        # After a swap, the env an earlier upgrade kept has been replaced, whatever comes next;
        # removed out of the downtime when it goes well.
        if change["kind"] == "swap":
            shutil.rmtree(replaced_path(change), ignore_errors=True)
    return {"previous": previous, "revision": revision}


record(pid=os.getpid())
try:
    record(result="ok", **cutover())
except Failed as e:
    record(result="failed", step=e.step, reason=e.reason)
except BaseException as e:  # noqa: BLE001 - the controller must always get a result
    record(result="failed", step="cutover", reason=f"{type(e).__name__}: {e}")
