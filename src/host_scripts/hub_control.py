# Driving a hub on its host, for the processes that run detached there (cutover.py, restore.py):
# their record, the operator's shell commands with a bound, the stop and its confirmation, the
# start and its health check, and the exchange of two envs. Definitions only. The script that
# sends it defines `record_fd` (the record the launcher opened, launch.py) and `args` holds the
# keys read here: stop, stop_timeout, start, start_timeout, url, db and hub (hub_environment.py).
import signal
import subprocess
import threading
import time
import urllib.request


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


def stop(step="stop", command=True):
    # A quiet API is not yet a stopped hub: a stop command may return while the hub still shuts
    # down and writes, and another program may hold the database. Nothing may touch it under
    # upgrade-db. The rollback confirms the same way (`step` "rollback"), without the command
    # when no start was tried.
    began = time.monotonic()
    if command:
        try:
            sh(step, args["stop"], timeout=args["stop_timeout"])
        except Failed as e:
            # A stop command that hangs (a script waiting on something else) or exits non-zero
            # (a script whose last line failed after the hub went down) may still have stopped
            # the hub: whether it did is what the confirmation below finds out, never the exit
            # status alone. A hub that went quiet is upgraded, or started again on its env.
            record(output=f"`{args['stop']}`: {e.reason}; the confirmation decides whether the hub stopped")
    db = os.path.realpath(args["db"])
    record(step=step, text=f"waiting until {args['url']} stops answering and no process has {args['db']} open")
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


def start(version, step="start", health="health"):
    began = time.monotonic()
    try:
        # Not stopped when it takes too long: a start command that does not return may be the
        # hub itself, run in the foreground.
        sh(step, args["start"], timeout=args["start_timeout"], kill=False)
    except TimedOut as e:
        record(output=e.reason)
    record(step=health, text=f"waiting for {args['url']} to answer with version {version}")
    while True:
        answered = answering_version()
        if answered is not None:
            if answered != version:
                raise Failed(health, f"the hub answers with version {answered} instead of {version}")
            return
        if time.monotonic() - began > args["start_timeout"]:
            raise Failed(health, f"the hub did not answer at {args['url']} within {args['start_timeout']}s of `{args['start']}`: see the hub's log")
        time.sleep(0.1)


class Down(Failed):
    # The failure `step`/`reason`, not undone: the hub is down; `state` says how the host is left
    # and `by_hand` lists the commands that finish the way back.
    def __init__(self, step, reason, state, by_hand):
        super().__init__(step, reason)
        self.state, self.by_hand = state, by_hand


def started_again(reason):
    # A hub stopped while nothing was changed goes back up on its env (`restart_version`, the
    # release it served) rather than stay down: `reason`, with how that went.
    version = args.get("restart_version")
    if not version:
        return reason
    try:
        start(version)
        return f"{reason}; the hub was started again at {version}"
    except Failed as again:
        return f"{reason}; starting the hub again at {version} failed too: {again.reason}"
