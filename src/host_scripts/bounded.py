# Commands that may not run for ever: each runs in a process group of its own, and past its
# timeout the whole group is stopped (SIGTERM, then SIGKILL), so an installer's or a shell's
# children go with it. The failure names the inventory key that bounds it and how to raise it.
import signal
import subprocess


class TimedOutCommand(Exception):
    pass


def stop_group(child):
    # The child leads its own group (start_new_session): every process it started is in it.
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            child.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            pass


def over_time(what, timeout, key):
    # The one line a timeout fails with.
    return f"{what} did not finish within {timeout}s and was stopped with its process group; raise `{key}` in the inventory if it needs longer"


def bounded(cmd, timeout, key, what=None, capture=True, **kwargs):
    # subprocess.run(cmd, capture_output=capture, text=True) with a bound: returns the
    # CompletedProcess, or raises TimedOutCommand with over_time()'s line.
    pipe = subprocess.PIPE if capture else None
    child = subprocess.Popen(cmd, stdout=pipe, stderr=pipe, text=capture or None, start_new_session=True, **kwargs)
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(child)
        raise TimedOutCommand(over_time(what or f"`{' '.join(cmd)}`", timeout, key)) from None
    except BaseException:
        # Interrupted (SIGHUP, SIGTERM through leave()): nothing of it may outlive this script.
        stop_group(child)
        raise
    return subprocess.CompletedProcess(cmd, child.returncode, out, err)
