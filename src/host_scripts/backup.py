# Takes a consistent backup of a JupyterHub host and streams it to stdout as an uncompressed tar
# whose LAST member is manifest.json. Run by the hub's own Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# The database is copied with SQLite's online backup API from a read-only connection: the hub may
# be running and writing, and committed data still in the WAL or journal is in the copy (copying
# the live file is not a backup). The copy must pass PRAGMA integrity_check. Every member's size
# and sha256 are computed here, on the host, in the same pass as it is streamed; the controller
# checks them when the manifest arrives at the end, and commits nothing before.
#
# The steps overlap instead of taking turns (issue 4: they cost 2.9 s per GiB before the first
# byte): the package list is made by a subprocess started first; integrity_check runs on the
# snapshot in a thread while the snapshot streams (sqlite3 releases the GIL while a statement
# runs). When integrity_check fails, no manifest and no tar end marker are written and the script
# exits non-zero: the controller never commits a stream without a manifest or whose command failed.
# Temporaries live in a private directory beside the database and are removed on every exit.
#
# A hub on PostgreSQL or MySQL/MariaDB (`db_backend` other than sqlite) is dumped instead
# (dump.py: credentials only in a 0600 file, removed on every exit), its URL resolved here again
# as the facts did, in the hub's own environment; the dump is checked (`pg_restore --list`, or the
# SQL dump's trailer) before its manifest is written. Its private directory is in the hub's
# working directory.
import datetime
import hashlib
import shutil
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import threading


# Bytes read, hashed and written at a time.
BLOCK = 1 << 20

# sshd closing the channel sends SIGHUP (or SIGPIPE on a write): exit through `finally`.
for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
    signal.signal(sig, leave)

server = args["db_backend"] != "sqlite"
if server:
    hub = hub_environment(args["hub"])
    if hub["blockers"]:
        fail("; ".join(hub["blockers"]))
    with applied(hub):
        _app, server_url = hub_db_url(args["config"])
    db = args["db_url"]
    place = hub["cwd"]
    size = args.get("db_size") or 0
else:
    db = args["db_path"]
    if not os.path.isfile(db):
        fail(f"the database {db} does not exist")
    place = os.path.dirname(db)
    size = os.path.getsize(db)
need = size * 1.1 + 16 * 2**20
free = shutil.disk_usage(place).free
if free < need:
    fail(f"not enough free disk in {place} for the snapshot of {db}: {free} bytes free, {int(need)} needed")

work = tempfile.mkdtemp(prefix=".hubfleet-backup-", dir=place)
packages = None
try:
    members = []  # (archive path, local path, role), in stream order

    # Started first, it runs while the snapshot is taken; its output goes to a file, so a large
    # list never fills a pipe nobody reads yet.
    packages_cmd = {
        "conda": [args["conda"], "list", "--export", "--prefix", sys.prefix],
        # A uv-managed env may have no pip.
        "uv": [args["uv"], "pip", "freeze", "--python", sys.executable],
    }.get(args["installer"], [sys.executable, "-m", "pip", "freeze", "--all"])
    packages_file = os.path.join(work, "packages.txt")
    packages_err = os.path.join(work, "packages.err")
    with open(packages_file, "w") as stdout, open(packages_err, "w") as stderr:
        packages = subprocess.Popen(packages_cmd, stdout=stdout, stderr=stderr, text=True)

    # The files named by the inventory are checked before the long part starts.
    config = args["config"]
    if not os.path.isfile(config):
        fail(f"the hub's config {config} does not exist")
    secret = args.get("cookie_secret_file")
    extras = []
    for extra in args.get("extra", []):
        if not os.path.isfile(extra):
            fail(f"the extra file {extra} named in the inventory does not exist")
        extras.append(("extra/" + os.path.abspath(extra).lstrip("/"), extra, "extra"))

    check = {}
    if server:
        backend = dump_backend(server_url)
        # The revision before the dump: a hub does not migrate while it serves.
        revision = server_facts(server_url)["revision"]
        created_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        snapshot = take_dump(server_url, work, hub["env"].get("PATH"))
        server_url = None
        check["rows"] = [("ok",)]
        checker = threading.Thread(target=lambda: None, daemon=True)
        members.append((DUMP_MEMBERS[backend], snapshot, "database"))
    else:
        backend = "sqlite"
        snapshot = os.path.join(work, "jupyterhub.sqlite")
        revision = sqlite_snapshot(db, snapshot)
        created_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        def integrity_check():
            connection = sqlite_read_only(snapshot)
            try:
                check["rows"] = connection.execute("PRAGMA integrity_check").fetchall()
            except sqlite3.Error as e:
                check["rows"] = [(f"integrity_check failed to run: {e}",)]
            finally:
                connection.close()

        checker = threading.Thread(target=integrity_check, daemon=True)
        members.append(("db/jupyterhub.sqlite", snapshot, "database"))
    checker.start()

    members.append(("config/" + os.path.basename(config), config, "config"))
    if secret and os.path.isfile(secret):
        members.append(("config/" + os.path.basename(secret), secret, "cookie_secret"))
    members.extend(extras)

    out = sys.stdout.buffer
    written = 0
    buf = bytearray(BLOCK)
    view = memoryview(buf)

    def emit(data):
        global written
        out.write(data)
        written += len(data)

    def stream(name, path, role):
        """Streams one member and returns its manifest entry, hashed in the same pass."""
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            info = tarfile.TarInfo(name)
            info.size = stat.st_size
            info.mtime = int(stat.st_mtime)
            info.mode = 0o600
            emit(info.tobuf(tarfile.PAX_FORMAT))
            digest = hashlib.sha256()
            left = stat.st_size
            while left:
                n = f.readinto(view[: min(BLOCK, left)])
                if not n:
                    fail(f"{path} shrank while it was read")
                digest.update(view[:n])
                emit(view[:n])
                left -= n
            emit(b"\0" * (-stat.st_size % tarfile.BLOCKSIZE))
        return {"path": name, "size": stat.st_size, "sha256": digest.hexdigest(), "role": role}

    entries = [stream(*member) for member in members]

    # Last of the files: the package list has had the whole stream to finish.
    if packages.wait() != 0:
        with open(packages_err) as f:
            fail(f"{' '.join(packages_cmd)} failed: {f.read().strip()[-300:]}")
    entries.append(stream("env/packages.txt", packages_file, "packages"))
    with open(packages_file) as f:
        package_lines = [l for l in f.read().splitlines() if l.strip()]

    checker.join()
    if check["rows"] != [("ok",)]:
        fail(f"the snapshot of {db} fails integrity_check: {check['rows'][:5]}")

    from importlib import metadata

    manifest = {
        "schema_version": 1,
        "host": args["host"],
        "created_at": created_at,
        "jupyterhub_version": metadata.version("jupyterhub"),
        "alembic_revision": revision,
        "python_version": sys.version.split()[0],
        "installer": args["installer"],
        "db_backend": backend,
        "db_url": args["db_url"],
        "packages": package_lines,
        "members": entries,
    }
    data = json.dumps(manifest, indent=2).encode()
    info = tarfile.TarInfo("manifest.json")
    info.size = len(data)
    info.mtime = int(datetime.datetime.now().timestamp())
    info.mode = 0o600
    emit(info.tobuf(tarfile.PAX_FORMAT))
    emit(data + b"\0" * (-len(data) % tarfile.BLOCKSIZE))
    # The end marker, two zero blocks, padded to tar's record size as tarfile and GNU tar do.
    emit(b"\0" * (2 * tarfile.BLOCKSIZE))
    emit(b"\0" * (-written % tarfile.RECORDSIZE))
    out.flush()
finally:
    if packages is not None and packages.poll() is None:
        packages.kill()
    shutil.rmtree(work, ignore_errors=True)
