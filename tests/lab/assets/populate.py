"""Fills a fresh hub's database through its REST API: users, an API token, a running server.

Run once per JupyterHub release by hubfleet's lab harness; the database is then copied to every
lab host. Usage: populate.py HUB_URL SERVICE_TOKEN OUT_JSON
"""

import json
import sys
import time
import urllib.request

hub, service_token, out = sys.argv[1:4]


def api(method, path, body=None):
    request = urllib.request.Request(
        f"{hub}/hub/api{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {service_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
        return json.loads(data) if data else None


# The config's allowed_users and admin_users are created at hub start; check they are there.
users = sorted(u["name"] for u in api("GET", "/users"))
if users != ["admin", "alice", "bob", "carol"]:
    sys.exit(f"unexpected users {users}")
token = api("POST", "/users/alice/tokens", {"note": "hubfleet lab"})["token"]
api("POST", "/users/alice/server")
deadline = time.monotonic() + 30
while not (api("GET", "/users/alice").get("servers", {}).get("", {}).get("ready")):
    if time.monotonic() > deadline:
        sys.exit("alice's server did not become ready within 30 s")
    time.sleep(0.2)
with open(out, "w") as f:
    json.dump({"users": users, "token_user": "alice", "token": token,
               "server_user": "alice"}, f)
