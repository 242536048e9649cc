# Rehearses `jupyterhub upgrade-db` while the hub still serves: the staged env's JupyterHub loads
# the hub's config and migrates a private copy of its database, as `jupyterhub upgrade-db` would
# (UpgradeDB.start: load the config, then dbutil.upgrade_if_needed). A config the new release
# cannot load, or a migration this database's rows break, fails here, before any downtime,
# instead of after the stop with the hub down. The real database is only read (SQLite's online
# backup API, as the backup takes it): the copy's URL is passed explicitly, never the config's.
# Run by the staged env's Python, with the hub's environment and in its working directory:
#   NEXT_ENV/bin/python -c SCRIPT ARGS_JSON
# Prints {"revision": the copy's revision afterwards, "seconds": time upgrade-db took}.
import inspect
import shlex
import shutil
import signal
import tempfile
import time


for sig in (signal.SIGHUP, signal.SIGTERM):
    signal.signal(sig, leave)

db = args["db_path"]
# How the hub runs (hub_environment.py): its config may read its environment and name files
# relative to its working directory.
hub = hub_environment(args["hub"])
if hub["blockers"]:
    fail("; ".join(hub["blockers"]))
# The copy, and the timestamped copy of it that upgrade-db keeps before migrating SQLite.
need = os.path.getsize(db) * 2.2 + 16 * 2**20
free = shutil.disk_usage(os.path.dirname(db)).free
if free < need:
    fail(f"not enough free disk beside {db} to rehearse upgrade-db on a copy: {free // 2**20} MiB free, {int(need) // 2**20} MiB needed")

work = tempfile.mkdtemp(prefix=".hubfleet-rehearse-", dir=os.path.dirname(db))
# The copy is named to SQLAlchemy and alembic by a URL, and its shim by PATH: through a link of a
# plain name in the temporary directory, since the database's directory may hold a "?" (which
# ends the path of a URL), a "%" (alembic.ini interpolates) or a ":" (which splits PATH).
plain = tempfile.mkdtemp(prefix="hubfleet-rehearse-")
try:
    os.symlink(work, os.path.join(plain, "work"))
    work_link = os.path.join(plain, "work")
    copy = os.path.join(work, "jupyterhub.sqlite")
    sqlite_snapshot(db, copy)

    # upgrade-db runs `alembic` from PATH; the staged env's own alembic script may name the live
    # env's Python in its shebang (scripts are pointed at ENV for after the swap).
    os.mkdir(os.path.join(work, "bin"))
    bin_dir = os.path.join(work_link, "bin")
    shim = os.path.join(bin_dir, "alembic")
    with open(shim, "w") as f:
        f.write(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m alembic "$@"\n')
    os.chmod(shim, 0o755)

    try:
        from jupyterhub import dbutil
        from jupyterhub.app import JupyterHub

        with applied(hub):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
            app = JupyterHub()
            app.load_config_file(args["hub"]["config"])
            url = f"sqlite:///{os.path.join(work_link, 'jupyterhub.sqlite')}"
            started = time.monotonic()
            kwargs = {"log": app.log}
            if "db_kwargs" in inspect.signature(dbutil.upgrade_if_needed).parameters:
                kwargs["db_kwargs"] = app.db_kwargs
            dbutil.upgrade_if_needed(url, **kwargs)
            seconds = time.monotonic() - started
    except SystemExit as e:
        fail(f"upgrade-db with the new release failed on a copy of the database (exit {e.code})")
    except BaseException as e:  # noqa: BLE001 - whatever breaks it is the finding
        message = " ".join(str(e).split())[:300]
        fail(f"upgrade-db with the new release failed on a copy of the database: {type(e).__name__}: {message}")
    revision = sqlite_value(copy, REVISION_SQL)
    json.dump({"revision": revision, "seconds": round(seconds, 2)}, sys.stdout)
finally:
    shutil.rmtree(plain, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
