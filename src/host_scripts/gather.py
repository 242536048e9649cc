# Gathers a JupyterHub host's facts in one round trip, run by the hub's own Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# Prints one JSON object on stdout. Problems are reported in "problems", never as a traceback,
# so the controller always gets facts it can show. Reads the database read-only; writes nothing.
import platform
import shutil
import time
import urllib.request

facts = {"problems": []}


def problem(what, error):
    facts["problems"].append(f"{what}: {type(error).__name__}: {error}".strip())


facts["python_version"] = platform.python_version()
facts["python"] = sys.executable
facts["prefix"] = sys.prefix
if os.path.isdir(os.path.join(sys.prefix, "conda-meta")):
    facts["env_kind"] = "conda"
elif sys.prefix != sys.base_prefix:
    facts["env_kind"] = "venv"
else:
    facts["env_kind"] = "system"

try:
    from importlib import metadata

    facts["jupyterhub_version"] = metadata.version("jupyterhub")
except Exception as e:  # noqa: BLE001 - any failure is a fact to report
    facts["jupyterhub_version"] = None
    problem("jupyterhub is not importable in the hub env", e)

# The alembic revisions the installed JupyterHub ships (revision -> down_revision), from which
# the controller computes the code's head and the migrations an upgrade would apply.
try:
    import jupyterhub

    facts["code_revisions"] = installed_revisions(os.path.dirname(jupyterhub.__file__))
except Exception as e:  # noqa: BLE001
    facts["code_revisions"] = {}
    problem("cannot read the alembic revisions of the installed jupyterhub", e)

# The database URL exactly as JupyterHub resolves it: its own config loader, with the hub's own
# environment and in its own working directory (hub_environment.py: a config may take its URL from
# the environment, and a relative sqlite:///jupyterhub.sqlite resolves against the hub's cwd).
config = args["hub"]["config"]
hub = hub_environment(args["hub"])
workdir = hub["cwd"]
facts["hub_environment"] = {
    "source": hub["source"],
    "pid": hub["pid"],
    "workdir": workdir,
    # Names only: values (a database password) never leave the host.
    "variables": [] if hub["provided"] is None else sorted(hub["provided"]),
    "config_reads": [],
}
facts["blockers"] = list(hub["blockers"])
can_resolve = True
if not os.path.isdir(workdir):
    can_resolve = False
    facts["problems"].append(f"the hub's working directory {workdir} does not exist (set `workdir` in the inventory)")
# traitlets silently skips a missing config file and JupyterHub would fall back to its defaults
# (a new sqlite:///jupyterhub.sqlite): that would be the wrong database, so refuse instead.
if not os.path.isfile(config):
    can_resolve = False
    facts["problems"].append(f"the hub config {config} does not exist (set `config` in the inventory)")
facts["db_url"] = None
facts["db_backend"] = None
facts["db_path"] = None
facts["cookie_secret_file"] = None
facts["server"] = None
server_url = None


def resolve_config():
    # Runs in a child (in_child): the config is the operator's code, and may hang. What it
    # returns goes back to the parent through a pipe, on the host.
    found = {"blockers": [], "server": None}
    with applied(hub) as running:
        app, parsed = hub_db_url(config)
        found["db_url"] = parsed.render_as_string(hide_password=True)
        found["db_backend"] = parsed.get_backend_name()
        if found["db_backend"] == "sqlite" and parsed.database not in (None, "", ":memory:"):
            found["db_path"] = os.path.abspath(parsed.database)
        elif found["db_backend"] != "sqlite":
            # The URL (password inside) only crosses the pipe to the parent, on the host, which
            # keeps it out of the facts.
            found["server_url"] = parsed.render_as_string(hide_password=False)
            found["server"] = {
                "driver": parsed.get_driver_name(),
                # `postgresql://` names no driver: SQLAlchemy 2.1 reads it as psycopg 3, older
                # releases as psycopg2 (research: the SQLAlchemy 2.1 driver switch).
                "driver_named": "+" in parsed.drivername,
                "psycopg3_installed": has_module("psycopg"),
                "server_version": None,
                "may_create_databases": None,
                "tools": client_tools(found["db_backend"], hub["env"].get("PATH")),
            }
        secret = app.cookie_secret_file
        found["cookie_secret_file"] = os.path.abspath(secret) if secret else None
    found["config_reads"] = sorted(running.reads)
    unprovided = running.unprovided()
    # An environment out of reach says so already, with the same fixes.
    if unprovided and not hub["blockers"]:
        found["blockers"].append(unprovided_problem(unprovided))
    return found


def in_child(work, timeout, key, what):
    # `work()` in a forked child that leads a process group of its own, its result (JSON) back
    # through a pipe; past `timeout` seconds the group is killed and TimeoutError raised with the
    # line to show. The child's stdout goes to stderr: what a config prints must not mix with
    # the facts.
    import select
    import signal

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            os.close(read_end)
            os.dup2(2, 1)
            try:
                out = {"ok": work()}
            except BaseException as e:  # noqa: BLE001 - told to the parent
                out = {"error": f"{type(e).__name__}: {e}"}
            data = json.dumps(out).encode()
            while data:
                data = data[os.write(write_end, data):]
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            ready = select.select([read_end], [], [], max(0, left))[0] if left > 0 else []
            if not ready:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                raise TimeoutError(over_time(what, timeout, key))
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    out = json.loads(b"".join(chunks) or b'{"error": "the child ended without a result"}')
    if "error" in out:
        raise RuntimeError(out["error"])
    return out["ok"]


try:
    if not can_resolve:
        raise LookupError("skipped")
    # Bounded: a config that waits on a slow service for a secret must not hang the run.
    found = in_child(resolve_config, args["config_timeout"], "config_timeout", f"loading the hub config {config}")
    facts["blockers"] += found.pop("blockers")
    facts["hub_environment"]["config_reads"] = found.pop("config_reads")
    if "server_url" in found:
        from sqlalchemy.engine import make_url

        server_url = make_url(found.pop("server_url"))
    facts.update(found)
except LookupError:
    pass
except TimeoutError as e:
    facts["blockers"].append(str(e))
except Exception as e:  # noqa: BLE001
    facts["problems"].append(f"cannot load the hub config {config}: {e}")

# The database the running hub has open must be the one its config resolves here.
if hub["pid"] is not None and facts["db_path"] and hub["provided"] is None:
    mismatch = cross_check(hub["pid"], facts["db_path"])
    if mismatch:
        facts["blockers"].append(mismatch)

facts["db_size"] = None
facts["db_revision"] = None
facts["active_servers"] = None
facts["users"] = None
path = facts["db_path"]
if path:
    try:
        facts["db_size"] = os.path.getsize(path)
        # Read-only: a plain connect on a wrong path would create an empty database.
        db = sqlite_read_only(path)
        try:
            facts["db_revision"] = db.execute(REVISION_SQL).fetchone()[0]
            facts["users"] = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            facts["active_servers"] = db.execute(ACTIVE_SERVERS_SQL).fetchone()[0]
        finally:
            db.close()
    except Exception as e:  # noqa: BLE001
        problem(f"cannot read the database {path}", e)

if server_url is not None:
    try:
        with applied(hub):
            server = server_facts(server_url)
        facts["server"]["server_version"] = server["server_version"]
        facts["server"]["may_create_databases"] = server["may_create_databases"]
        facts["db_size"] = server["size"]
        facts["db_revision"] = server["revision"]
        facts["users"] = server["users"]
        facts["active_servers"] = server["active_servers"]
    except Exception as e:  # noqa: BLE001
        problem(f"cannot read the {facts['db_backend']} database {facts['db_url']}", e)
    server_url = None

# A cutover (the downtime of an upgrade, run on the host by a process of its own) that an earlier
# run started and that is still running: nothing may stop this hub now.
# A record of one that ended with no controller reading it is read here, for the upgrade to report.
facts["cutover_record"] = None
facts["cutover_running"] = None
facts["cutover_left"] = None
if path:
    record = facts["cutover_record"] = cutover_record(path)
    facts["cutover_running"] = running_cutover(record)
    if facts["cutover_running"]:
        facts["problems"].append(still_running(facts["cutover_running"], record))
    else:
        try:
            facts["cutover_left"] = left_record(record)
        except OSError as e:
            problem(f"cannot read the record {record} an earlier cutover left", e)

# The host lock of a run (host_lock.py), held or left by one that vanished.
try:
    facts["lock"] = lock_state(args["hub"]["hub_env"])
except OSError as e:
    facts["lock"] = None
    problem("cannot read the host lock", e)

try:
    facts["free_disk"] = shutil.disk_usage(workdir if can_resolve else "/").free
except OSError as e:
    facts["free_disk"] = None
    problem("cannot measure free disk", e)

facts["running_version"] = None
try:
    with urllib.request.urlopen(args["health_url"], timeout=3) as answer:
        facts["running_version"] = json.load(answer).get("version")
except Exception:  # noqa: BLE001 - a hub that does not answer is simply not running
    pass

facts["singleuser_version"] = None
if args.get("singleuser_env"):
    python = os.path.join(args["singleuser_env"], "bin", "python")
    try:
        out = subprocess.run(
            [python, "-c", "from importlib import metadata; print(metadata.version('jupyterhub'))"],
            capture_output=True, text=True, timeout=30, check=True,
        )
        facts["singleuser_version"] = out.stdout.strip()
    except Exception as e:  # noqa: BLE001
        problem(f"cannot read jupyterhub's version in the single-user env {python}", e)
    hub = facts.get("jupyterhub_version")
    single = facts["singleuser_version"]
    if hub and single and hub != single:
        facts["problems"].append(
            f"the single-user env has jupyterhub {single} and the hub {hub}: they must match "
            "(`hubfleet upgrade` brings both to its target)"
        )

json.dump(facts, sys.stdout)
