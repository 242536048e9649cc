# Takes a consistent backup of a JupyterHub host and streams it to stdout as an uncompressed tar
# whose first member is manifest.json. Run by the hub's own Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# The database is copied with SQLite's online backup API from a read-only connection: the hub may
# be running and writing, and committed data still in the WAL or journal is in the copy (copying
# the live file is not a backup). The copy must pass PRAGMA integrity_check. Every member's size
# and sha256 are computed here, on the host; the controller checks them as it receives.
# Temporaries live in a private directory beside the database and are removed on every exit.
import datetime
import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile

args = json.loads(sys.argv[1])


def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(3)


def leave(signum, frame):
    # sshd closing the channel sends SIGHUP (or SIGPIPE on write): exit through `finally`.
    raise SystemExit(4)


for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
    signal.signal(sig, leave)

db = args["db_path"]
if not os.path.isfile(db):
    fail(f"the database {db} does not exist")
need = os.path.getsize(db) * 1.1 + 16 * 2**20
free = shutil.disk_usage(os.path.dirname(db)).free
if free < need:
    fail(f"not enough free disk beside {db} for its snapshot: {free} bytes free, {int(need)} needed")

work = tempfile.mkdtemp(prefix=".hubfleet-backup-", dir=os.path.dirname(db))
try:
    members = []  # (archive path, local path, role)

    snapshot = os.path.join(work, "jupyterhub.sqlite")
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(snapshot)
    with target:
        source.backup(target)
    source.close()
    check = target.execute("PRAGMA integrity_check").fetchall()
    revision = target.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    target.close()
    if check != [("ok",)]:
        fail(f"the snapshot of {db} fails integrity_check: {check[:5]}")
    members.append(("db/jupyterhub.sqlite", snapshot, "database"))

    members.append(("config/" + os.path.basename(args["config"]), args["config"], "config"))
    secret = args.get("cookie_secret_file")
    if secret and os.path.isfile(secret):
        members.append(("config/" + os.path.basename(secret), secret, "cookie_secret"))
    for extra in args.get("extra", []):
        if not os.path.isfile(extra):
            fail(f"the extra file {extra} named in the inventory does not exist")
        members.append(("extra/" + os.path.abspath(extra).lstrip("/"), extra, "extra"))

    packages_cmd = (
        [args["conda"], "list", "--export", "--prefix", sys.prefix]
        if args["installer"] == "conda"
        else [sys.executable, "-m", "pip", "freeze", "--all"]
    )
    freeze = subprocess.run(packages_cmd, capture_output=True, text=True)
    if freeze.returncode != 0:
        fail(f"{' '.join(packages_cmd)} failed: {freeze.stderr.strip()[-300:]}")
    packages_file = os.path.join(work, "packages.txt")
    with open(packages_file, "w") as f:
        f.write(freeze.stdout)
    members.append(("env/packages.txt", packages_file, "packages"))

    def digest(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    from importlib import metadata

    manifest = {
        "schema_version": 1,
        "host": args["host"],
        "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "jupyterhub_version": metadata.version("jupyterhub"),
        "alembic_revision": revision,
        "python_version": sys.version.split()[0],
        "installer": args["installer"],
        "db_backend": "sqlite",
        "db_url": args["db_url"],
        "packages": [l for l in freeze.stdout.splitlines() if l.strip()],
        "members": [
            {"path": name, "size": os.path.getsize(path), "sha256": digest(path), "role": role}
            for name, path, role in members
        ],
    }

    out = sys.stdout.buffer
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        data = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(data))
        for name, path, _ in members:
            info = tar.gettarinfo(path, arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(path, "rb") as f:
                tar.addfile(info, f)
    out.flush()
finally:
    shutil.rmtree(work, ignore_errors=True)
