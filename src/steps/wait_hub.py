# Waits until the hub's /hub/api answers with a version (want "up") or stops answering (want
# "down"), polling every 0.1 s up to a timeout. Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# A quiet API is not yet a stopped hub: a stop command may return while the hub still shuts down
# (cleaning up, writing to its database), and another program may hold the database. With "db"
# (a SQLite file), "down" also waits until no process has that file open (read from /proc: a
# process whose fds this user may not read is not seen).
# Prints {"version": V or null, "holders": [{"pid", "command"}], "waited": s, "timed_out": bool}.
import json
import os
import sys
import time
import urllib.request

args = json.loads(sys.argv[1])
db = os.path.realpath(args["db"]) if args.get("db") else None


def answering_version():
    try:
        with urllib.request.urlopen(args["url"], timeout=2) as answer:
            return json.load(answer).get("version")
    except Exception:  # noqa: BLE001 - not answering is what "down" waits for
        return None


def command_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
    except OSError:
        return "?"


def holders():
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == db:
                    found.append({"pid": int(pid), "command": command_of(pid)})
                    break
            except OSError:
                pass
    return found


start = time.monotonic()
while True:
    version = answering_version()
    held = holders() if args["want"] == "down" and db and version is None else []
    done = version is not None if args["want"] == "up" else version is None and not held
    timed_out = not done and time.monotonic() - start > args["timeout"]
    if done or timed_out:
        break
    time.sleep(0.1)
json.dump({"version": version, "holders": held, "waited": time.monotonic() - start, "timed_out": timed_out}, sys.stdout)
