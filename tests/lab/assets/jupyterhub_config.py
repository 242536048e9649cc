# JupyterHub configuration of one lab host, written by hubfleet's lab harness (tests/lab).
# The same file works for JupyterHub 4.x and 6.x, so an upgrade needs no config change.
import sys

c = get_config()  # noqa: F821

# Everything listens on this host's own loopback address, so hosts never collide.
c.JupyterHub.ip = "@ADDRESS@"
c.JupyterHub.port = 8000
c.JupyterHub.hub_ip = "@ADDRESS@"
c.JupyterHub.hub_port = 8081
c.ConfigurableHTTPProxy.api_url = "http://@ADDRESS@:8001"
c.ConfigurableHTTPProxy.command = ["@CHP@"]

# Real hub, stand-in users: no PAM, no system users, no jupyterhub-singleuser.
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = "@PASSWORD@"
c.Authenticator.admin_users = {"admin"}
c.Authenticator.allowed_users = {"alice", "bob", "carol"}
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [sys.executable, "@HUB_DIR@/standin.py"]
c.Spawner.ip = "@ADDRESS@"
c.Spawner.port = 8888
c.Spawner.http_timeout = 10

# User servers outlive a hub restart, as on a production hub being upgraded.
c.JupyterHub.cleanup_servers = False

# The tests' own admin credentials (JupyterHub 6 refuses api_tokens longer than 64 characters).
c.JupyterHub.services = [{"name": "hubfleet-lab", "api_token": "@SERVICE_TOKEN@"}]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["hubfleet-lab"]}]
