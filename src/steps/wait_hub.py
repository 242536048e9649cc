# Waits until the hub's /hub/api answers with a version (want "up") or stops answering (want
# "down"), polling every 0.1 s up to a timeout. Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# Prints {"version": V or null, "waited": seconds}; exits 3 on timeout.
import json
import sys
import time
import urllib.request

args = json.loads(sys.argv[1])
start = time.monotonic()
version = None
while True:
    try:
        with urllib.request.urlopen(args["url"], timeout=2) as answer:
            version = json.load(answer).get("version")
    except Exception:  # noqa: BLE001 - not answering is what "down" waits for
        version = None
    up = version is not None
    if (args["want"] == "up" and up) or (args["want"] == "down" and not up):
        break
    if time.monotonic() - start > args["timeout"]:
        json.dump({"version": version, "waited": time.monotonic() - start}, sys.stdout)
        sys.exit(3)
    time.sleep(0.1)
json.dump({"version": version, "waited": time.monotonic() - start}, sys.stdout)
