# Runs the inventory's `notify` command before the stop, bounded by `notify_timeout`: the
# operator's shell command (`sh -c`), the text in $HUBFLEET_MESSAGE, its output passed through.
# Past the timeout its process group is stopped and the upgrade refused before the stop. Run by
# the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON

for sig in (signal.SIGHUP, signal.SIGTERM):
    signal.signal(sig, leave)
env = dict(os.environ, HUBFLEET_MESSAGE=args["message"])
try:
    done = bounded(["sh", "-c", args["command"]], args["timeout"], "notify_timeout", what=f"`{args['command']}`", capture=False, env=env, stdin=subprocess.DEVNULL)
except TimedOutCommand as e:
    fail(f"{e}; the hub was not stopped")
sys.exit(done.returncode if done.returncode >= 0 else 128 - done.returncode)
