# Puts the env readied by stage.py in place of the hub env, while the hub is stopped:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON   (env, next, previous: absolute paths)
# ENV and ENV.hubfleet-next are exchanged in one renameat2(RENAME_EXCHANGE), so no crash can leave
# ENV missing; where the kernel or filesystem lacks it, two renames (the second undone on error).
# Then the env as it was is renamed to ENV.hubfleet-previous, and the parent directory fsynced.
# Prints {"previous": PATH}.
import ctypes
import json
import os
import sys

args = json.loads(sys.argv[1])
env, next_env, previous = args["env"], args["next"], args["previous"]


def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(3)


if not os.path.isdir(os.path.join(next_env, "bin")):
    fail(f"{next_env}, the env readied before the stop, is missing: nothing was changed")
if os.path.lexists(previous):
    fail(f"{previous} exists: move it away and run the upgrade again; nothing was changed")


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
    fail(f"cannot exchange {env} and {next_env}: {os.strerror(errno)}; nothing was changed")


if exchange():
    # The new env serves from here on; the old one only changes its name, and if that fails it
    # stays where it is, which the controller is told.
    try:
        os.rename(next_env, previous)
    except OSError as e:
        sys.stderr.write(f"swapped, but the env as it was stays at {next_env}: {e}\n")
        previous = next_env
else:
    os.rename(env, previous)
    try:
        os.rename(next_env, env)
    except OSError as e:
        os.rename(previous, env)
        fail(f"cannot move {next_env} to {env}: {e}; nothing was changed")
try:
    fd = os.open(os.path.dirname(env), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
except OSError as e:  # the swap is done: a directory that cannot be fsynced does not undo it
    sys.stderr.write(f"cannot fsync {os.path.dirname(env)}: {e}\n")
json.dump({"previous": previous}, sys.stdout)
