# The checks of `hubfleet rollback` on the host, before anything stops: receives the archive on
# stdin, checks its sum and every member's against the manifest, extracts it, and tells what a
# restore would lose and change. Read-only for the hub: the live database is opened read-only
# (the archived snapshot is attached read-only beside it) and nothing of the hub is written. Run by
# the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON < ARCHIVE.tar.gz
# With "keep", the extracted archive stays in a private directory beside the database (the same
# filesystem: the restore renames from it) for restore.py; without it (a dry run, or a check that
# fails) it goes on every exit. Prints one JSON object.
import signal
import subprocess
import tarfile
import tempfile

for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
    signal.signal(sig, leave)

# Bytes read, hashed and written at a time.
BLOCK = 1 << 20

# What a restore to the archive loses: rows of the live database that the archived snapshot does
# not have, each table's rows told apart by a column that does not change.
LOSSES = {
    "users": ("users", "name"),
    "tokens": ("api_tokens", "hashed"),
    "servers": ("servers", "base_url"),
}


def receive(stage):
    # The archive from stdin to `stage/archive.tar.gz`, hashed on the way: the controller's sum
    # of the file it verified must be the one that arrived.
    path = os.path.join(stage, "archive.tar.gz")
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        while True:
            chunk = sys.stdin.buffer.read(BLOCK)
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != args["archive_sha256"]:
        fail(f"the archive arrived with sha256 {digest.hexdigest()}, not {args['archive_sha256']} as verified on the controller: nothing was changed")
    return path


def extract(archive, stage):
    # Only the members the manifest lists (their paths were checked on the controller: relative,
    # inside their folder), each hashed against the manifest as it is written.
    wanted = {m["path"]: m for m in args["members"]}
    found = set()
    with tarfile.open(archive, "r:gz") as tar:
        for info in tar:
            member = wanted.get(info.name)
            if member is None or not info.isfile():
                continue
            dest = os.path.join(stage, info.name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            digest = hashlib.sha256()
            with tar.extractfile(info) as src, open(dest, "wb") as out:
                while True:
                    chunk = src.read(BLOCK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != member["sha256"]:
                fail(f"{info.name} in the archive has sha256 {digest.hexdigest()}, not {member['sha256']} as its manifest says: nothing was changed")
            found.add(info.name)
    missing = sorted(set(wanted) - found)
    if missing:
        fail(f"the archive lacks {', '.join(missing)}: nothing was changed")


def losses(snapshot):
    # Counted on the live database (read-only) against the archived snapshot attached beside it.
    live = sqlite_read_only(args["db"], timeout=30)
    counts, names = {}, []
    try:
        live.execute("ATTACH DATABASE ? AS archived", (_pathlib.Path(os.path.abspath(snapshot)).as_uri() + "?mode=ro",))
        for what, (table, key) in LOSSES.items():
            try:
                counts[what] = live.execute(f"SELECT COUNT(*) FROM main.{table} WHERE {key} NOT IN (SELECT {key} FROM archived.{table} WHERE {key} IS NOT NULL)").fetchone()[0]
            except _sqlite3.Error:
                counts[what] = None  # a table one of the two releases does not have
        try:
            names = [r[0] for r in live.execute("SELECT name FROM main.users WHERE name NOT IN (SELECT name FROM archived.users) ORDER BY id LIMIT 10")]
        except _sqlite3.Error:
            names = []
    finally:
        live.close()
    return {"users": counts["users"], "tokens": counts["tokens"], "servers": counts["servers"], "new_users": names}


def sha256_or_none(path):
    try:
        return sha256_of(path)
    except OSError:
        return None


def previous_env():
    # The env an upgrade kept (ENV.hubfleet-previous): its jupyterhub and whether its alembic
    # revisions know the archive's.
    python = os.path.join(args["previous"], "bin", "python")
    if not os.path.exists(python):
        return None
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    probe = subprocess.run([python, "-c", "import jupyterhub, os; print(jupyterhub.__version__); print(os.path.dirname(jupyterhub.__file__))"], capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        return {"path": args["previous"], "version": None, "knows_revision": False}
    version, package = probe.stdout.split("\n")[:2]
    return {"path": args["previous"], "version": version, "knows_revision": args["revision"] in installed_revisions(package)}


keep = args["keep"]
where = os.path.dirname(args["db"]) if keep else tempfile.gettempdir()
# The archive as sent and its members extracted, with KEEP_MARGIN (kept_database.py) to spare:
# refused here rather than fail half way with the disk full.
free = shutil.disk_usage(where).free
if free < args["bytes_needed"] + KEEP_MARGIN:
    fail(f"{where} has {free // 2**20} MiB free, not enough for the archive and its files ({args['bytes_needed'] // 2**20} MiB) and {KEEP_MARGIN // 2**20} MiB to spare: nothing was changed")
stage = tempfile.mkdtemp(prefix=".hubfleet-restore-", dir=where)
done = False
try:
    archive = receive(stage)
    extract(archive, stage)
    os.unlink(archive)
    snapshot = next(os.path.join(stage, m["path"]) for m in args["members"] if m["role"] == "database")
    differing = []
    for member in args["members"]:
        live = member.get("live")
        if member["role"] in ("database", "packages") or not live:
            continue
        if sha256_or_none(live) != member["sha256"]:
            differing.append({"live": live, "archived": os.path.join(stage, member["path"]), "sha256": member["sha256"], "exists": os.path.exists(live)})
    result = {
        "stage": stage if keep else None,
        "losses": losses(snapshot),
        "differing": differing,
        "previous_env": previous_env(),
    }
    print(json.dumps(result))
    done = True
finally:
    if not (keep and done):
        shutil.rmtree(stage, ignore_errors=True)
