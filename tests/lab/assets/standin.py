"""A stand-in for a JupyterHub single-user server: answers every GET with a small JSON body.

The hub only needs an HTTP answer at the server's URL to count it as running, and
jupyterhub-singleuser would cost about 100 MB per host. Started by the hub's
SimpleLocalProcessSpawner (which passes JUPYTERHUB_SERVICE_URL and JUPYTERHUB_USER) or by the lab
harness, which passes the same variables. Writes its pid to standin-USER.pid next to this file, so
the lab can stop it by pid.
"""

import http.server
import json
import os
import sys
import urllib.parse

url = urllib.parse.urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8888/"))
user = os.environ.get("JUPYTERHUB_USER", "nobody")
version = os.environ.get("HUBFLEET_LAB_JUPYTERHUB", "")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"standin": True, "user": user, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if version:
            self.send_header("X-JupyterHub-Version", version)
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer((url.hostname, url.port or 80), Handler)
pid_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"standin-{user}.pid")
with open(pid_file + ".tmp", "w") as f:
    f.write(f"{os.getpid()}\n")
os.replace(pid_file + ".tmp", pid_file)
sys.stdout.flush()
server.serve_forever()
