# `hubfleet rollback` on the host: puts a verified archive back in place of the live hub, run by
# one process that outlives the controller's connection (as the cutover is, and with its means:
# hub_control.py). The archive was extracted and checked by restore_check.py into `stage`.
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON RECORD_FD   (started by launch.py, in a session of its own)
# In order: stop (confirmed: the API quiet, the database closed); the live database kept beside
# it (fsynced, sha256 in the record) and every live file the archive replaces kept beside itself,
# so that nothing is ever deleted and a rollback can itself be undone; the archived files and
# database put in place atomically, each checked against the manifest's sha256; the env the
# archive ran (ENV.hubfleet-previous exchanged back, or the manifest's package list installed);
# the database's revision checked; start; `/hub/api` must report the archive's release.
# The record speaks cutover.py's language: {"pid"}, {"step", "text"}, {"output"}, {"kept",
# "sha256", "bytes"}, then {"result": "ok", "previous", "revision"} | {"result": "failed", ...}
# (nothing was changed; the hub was started again) | {"result": "down", ...} (with the state and
# the commands that finish, or undo, the rollback by hand).
import shlex

record_fd = int(sys.argv[2])
signal.signal(signal.SIGHUP, signal.SIG_IGN)


def aside(path):
    # Where a live file is kept before the archive's copy replaces it.
    return path + args["aside_suffix"]


def put_in_place(archived, sha256, live):
    # The archive's copy in place of `live` (restore_database: checked against its sha256, side
    # files of a database removed, atomic), with the live file's mode and owner: the extracted
    # copy has this process's, and a cookie secret readable by others is refused by JupyterHub.
    # A file that was not there gets 0600. A description of what is wrong, or None.
    try:
        st = os.stat(live)
        mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        mode, owner = 0o600, None
    wrong = restore_database(archived, sha256, live)
    if wrong:
        return wrong
    try:
        os.chmod(live, mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(live, *owner)
    except OSError as e:
        return f"cannot give {live} its mode and owner back: {e}"
    return None


def restore():
    db, env = args["db"], args["env"]
    q = shlex.quote
    done = []  # the commands that undo what was done so far, newest last
    try:
        stop()
    except NotStopped as e:
        if e.down:
            raise Failed("stop", started_again(e.reason)) from None
        raise
    except Failed as e:
        # The stop command failed: whether it stopped the hub or not, it goes back up as it was.
        raise Failed("stop", started_again(e.reason)) from None
    try:
        size = keep_database(db, args["kept_db"])
    except NotKept as e:
        raise Failed("stop", started_again(f"{e}: nothing was changed")) from None
    sha256 = sha256_of(args["kept_db"])
    record(kept=args["kept_db"], sha256=sha256, bytes=size)
    done.append(f"cp -p {q(args['kept_db'])} {q(db)}  # the live database as it was at the stop, sha256 {sha256}")

    def down(step, why):
        state = f"{why}; the database as it was before the rollback is at {args['kept_db']} (sha256 {sha256}); the extracted archive is at {args['stage']}"
        record(step="rollback", text=f"cannot complete: {why}")
        by_hand = [args["stop"]] + list(reversed(done)) + [args["start"]]
        raise Down(step, why, state, by_hand) from None

    try:
        for f in args["files"]:
            live = f["live"]
            if os.path.lexists(live):
                record(step="rollback", text=f"restore {live} from the archive; the live one is kept at {aside(live)}")
                copy_durably(live, aside(live))
                done.append(f"cp -p {q(aside(live))} {q(live)}")
            else:
                record(step="rollback", text=f"restore {live} from the archive (there is none now)")
            wrong = put_in_place(f["archived"], f["sha256"], live)
            if wrong:
                down("rollback", f"{live} could not be restored: {wrong}")
        record(step="rollback", text=f"put back {db} from the archive (sha256 {args['database']['sha256']})")
        wrong = put_in_place(args["database"]["archived"], args["database"]["sha256"], db)
        if wrong:
            down("rollback", f"the database could not be put back: {wrong}")
        change = args["change"]
        if change["kind"] == "previous":
            previous = change["previous"]
            record(step="rollback", text=f"exchange {env} with {previous} (jupyterhub {args['version']}); the env now in service is kept at {previous}")
            exchange_envs(env, previous, previous)
            done.append(f"mv {q(env)} {q(env + '.tmp')} && mv {q(previous)} {q(env)} && mv {q(env + '.tmp')} {q(previous)}")
        elif change["kind"] == "install":
            record(step="rollback", text=f"install the archive's package list into {env}")
            sh("rollback", change["command"])
        revision = sqlite_value(db, REVISION_SQL, timeout=30)
        if revision != args["revision"]:
            down("rollback", f"{db} is at revision {revision} once restored, not {args['revision']}")
        start(args["version"])
    except Down:
        raise
    except Failed as e:
        down(e.step, e.reason)
    except Exception as e:  # noqa: BLE001 - whatever went wrong, the host's state is said
        down("rollback", f"{type(e).__name__}: {e}")
    shutil.rmtree(args["stage"], ignore_errors=True)
    record(step="rollback", text=f"{args['url']} reports {args['version']} on the archive's database")
    return {"previous": args["change"].get("previous"), "revision": revision}


record(pid=os.getpid())
try:
    record(result="ok", **restore())
except Down as e:
    record(result="down", step=e.step, reason=e.reason, state=e.state, by_hand=e.by_hand)
except Failed as e:
    # Nothing was changed: the extracted archive is not needed any more.
    shutil.rmtree(args["stage"], ignore_errors=True)
    record(result="failed", step=e.step, reason=e.reason)
except BaseException as e:  # noqa: BLE001 - the controller must always get a result
    record(result="failed", step="rollback", reason=f"{type(e).__name__}: {e}")
