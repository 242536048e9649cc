# Sent first in every script hubfleet runs on a host (composed in src/host_scripts.rs): what every
# script starts with. The modules sent after it and the script itself use its `json`, `os` and
# `sys` rather than importing them again, and import only what else they need.
import json
import os
import sys

# The script's one argument: a JSON object, the serialised `*Args` struct beside the script's
# constant in src/host_scripts.rs.
args = json.loads(sys.argv[1])


def fail(message):
    # A refusal or failure the controller shows: its last line is the reason.
    sys.stderr.write(message + "\n")
    sys.exit(3)


def leave(signum, frame):
    # The handler for SIGHUP (sshd closing the channel), SIGTERM and the like: exit through the
    # script's `finally`, which removes what it made.
    raise SystemExit(4)
