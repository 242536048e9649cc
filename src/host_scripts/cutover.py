# The downtime of an upgrade, run on the host by one process that outlives the controller's
# connection: stop the hub and confirm it stopped, put the target in place (swap the envs, or an
# offline install), `jupyterhub upgrade-db` and the database's revision, start, health. A jump
# host that reboots or a link that drops in the middle no longer leaves the hub down: this process
# finishes the job, and its record says how it went.
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON RECORD_FD   (started in a session of its own by the
#   launcher, launch.py, which created the record exclusively and hands over its fd)
# Every step, output line and the result are JSON lines appended to the record, which the
# controller follows: {"pid"} first, then {"step", "text"} | {"output"} | {"revisions"} (after a
# conda install) | {"kept", "sha256", "bytes"} (the database at the stop), and last
# {"result": "ok", "previous", "revision"} | {"result": "failed", "step", "reason"} |
# {"result": "rolled-back", "step", "reason"} | {"result": "down", "step", "reason", "state",
# "by_hand"}. "step" and "reason" are always the original failure's.
#
# Once anything changed after the stop (swap or install, upgrade-db, start), a failure is rolled
# back here, in this process, so that it completes without the controller: the hub stopped if it
# came up, the database kept at the stop put back, ENV.hubfleet-previous swapped back, the hub
# started, and /hub/api must report the old release. A rollback that cannot complete ends "down",
# with the host's exact state and the commands that finish it by hand.
import shlex

record_fd = int(sys.argv[2])
signal.signal(signal.SIGHUP, signal.SIG_IGN)


class NotOurs(Unchanged):
    # The staged env is not the one this run made: it is another run's, and stays.
    pass


def check_staged(change, step):
    # The copy carries the token of the run that staged it (stage.py writes it last, once the
    # copy is complete): another run may have removed it, replaced it, or be installing into it.
    next_env = change["next"]
    try:
        with open(os.path.join(next_env, STAGED_TOKEN)) as f:
            found = f.read().strip()
    except OSError:
        found = None
    if found != change["token"]:
        said = "carries no token (it is missing, or was not completed)" if found is None else f"carries the token {found!r}, not this run's {change['token']!r}"
        raise NotOurs(step, f"{next_env} is not the env this run staged: it {said}; another run replaced or removed it, so it is not swapped in; nothing was changed; run the upgrade again")


def swap(change):
    env, next_env, previous = change["env"], change["next"], change["previous"]
    record(step="swap", text=change["text"])
    if not os.path.isdir(os.path.join(next_env, "bin")):
        raise Unchanged("swap", f"{next_env}, the env readied before the stop, is missing: nothing was changed")
    check_staged(change, "swap")
    if os.path.lexists(previous):
        if not change["replaces_previous"]:
            raise Unchanged("swap", f"{previous} exists: move it away and run the upgrade again; nothing was changed")
        # The env an earlier upgrade kept: replaced only now, by a swap that happens. It is moved
        # aside (one rename) and removed once the hub is back (see cutover()); a swap that fails
        # puts it back.
        # Left by a cutover that ended between this rename and that removal: it is ours.
        shutil.rmtree(replaced_path(change), ignore_errors=True)
        try:
            os.rename(previous, replaced_path(change))
        except OSError as e:
            raise Unchanged("swap", f"cannot move {previous} (the env an earlier upgrade kept) aside: {e}; nothing was changed")
        try:
            return exchange_envs(env, next_env, previous)
        except Unchanged:
            try:
                os.rename(replaced_path(change), previous)
            except OSError as e:
                record(output=f"the env an earlier upgrade kept stays at {replaced_path(change)}: {e}")
            raise
    return exchange_envs(env, next_env, previous)


def replaced_path(change):
    return change["previous"] + "-replaced"


def installed_head():
    # conda: the target's revisions are known only once it is installed.
    where = subprocess.run([args["env_python"], "-c", "import jupyterhub, os; print(os.path.dirname(jupyterhub.__file__))"], capture_output=True, text=True)
    if where.returncode != 0:
        raise Failed("install", f"the installed jupyterhub cannot be imported: {where.stderr.strip().splitlines()[-1:]}")
    revisions = installed_revisions(where.stdout.strip())
    record(revisions=revisions)
    return alembic_head(revisions)


def upgrade_db(head, hub):
    # Bounded: a migration stuck on a lock (or a hang) is stopped, its process group with it, and
    # rolled back rather than keep the hub down.
    sh("upgrade-db", args["upgrade_db"], timeout=args["upgrade_db_timeout"], hub=hub)
    revision = sqlite_value(args["db"], REVISION_SQL, timeout=30)
    if revision != head:
        raise Failed("upgrade-db", f"`jupyterhub upgrade-db` exited 0 but {args['db']} is at revision {revision}, not {head}: check the hub's `workdir` and `config`")
    return revision


def discard(change):
    # What was readied for a change that will not happen.
    if change["kind"] == "swap":
        shutil.rmtree(change["next"], ignore_errors=True)


def unchanged(failure):
    # Nothing was changed, but the hub is down: it goes back up on its env rather than stay down,
    # and what was readied for it goes (unless another run's).
    if not isinstance(failure, NotOurs):
        discard(args["change"])
    return started_again(failure.reason)


class RolledBack(Failed):
    # The failure `step`/`reason`, undone: the hub serves its old release on its old database.
    pass


class Progress:
    # What the cutover changed so far: what a rollback has to undo.
    def __init__(self):
        self.kept = None  # the path of the database kept at the stop
        self.hasher = None  # the thread that hashes it
        self.sha256 = None  # its sha256, once hashed (None if it could not be read)
        self.swapped = False  # ENV holds the new release, ENV.hubfleet-previous the old one
        self.installed = False  # an in-place install ran (or started)
        self.started = False  # a start was tried: the hub may be up, or coming up


def rollback(failure, progress):
    # Undoes what `progress` says changed, after `failure`. Raises RolledBack when the hub serves
    # its old release again (or is left stopped as it was found), Down otherwise.
    change, db = args["change"], args["db"]
    kept, sha256 = progress.kept, kept_sha256(progress)
    version = args.get("restart_version")
    record(step="rollback", text=f"rolling back after {failure.step} failed: {failure.reason}")
    db_state = f"the database is as the failed upgrade left it; the copy kept at the stop is {kept} (sha256 {sha256})"
    if change["kind"] == "swap":
        env_state = f"{change['env']} holds jupyterhub {args['version']}, the env as it was is at {change['previous']}" if progress.swapped else f"{change['env']} is the env as it was"
    else:
        env_state = f"{args['hub']['hub_env']} holds what the offline install of jupyterhub {args['version']} left"
    # The commands by hand, every path quoted for the shell (the operator's stop and start are
    # shell commands already).
    q = shlex.quote
    restore_db = [f"cp -p {q(kept)} {q(db + '.restore')} && sync && rm -f {q(db + '-journal')} {q(db + '-wal')} {q(db + '-shm')} && mv {q(db + '.restore')} {q(db)}"]
    # Without the env as it was, the release the hub had is installed again from the index.
    reinstall = [args["reinstall_previous"] or f"reinstall the packages the archive's manifest lists into {args['hub']['hub_env']}"]
    if change["kind"] == "swap" and progress.swapped:
        restore_env = [f"mv {q(change['env'])} {q(change['env'] + '.hubfleet-failed')} && mv {q(change['previous'])} {q(change['env'])}"]
    elif change["kind"] == "install" and progress.installed:
        restore_env = reinstall
    else:
        restore_env = []
    finish = [args["start"], f"curl -s {q(args['url'])}  # must report {version or 'the old release'}"]

    def down(why):
        state = f"{why}; {env_state}; {db_state}"
        record(step="rollback", text=f"cannot complete: {why}")
        raise Down(failure.step, failure.reason, state, [args["stop"]] + restore_db + restore_env + finish) from None

    if not args["rollback"]:
        if progress.started:
            try:
                stop("rollback")
            except Failed as e:
                record(output=f"stopping the failed hub: {e.reason}")
        record(step="rollback", text="--no-rollback: the hub is left stopped as the failure left it")
        raise Down(failure.step, failure.reason, f"--no-rollback; {env_state}; {db_state}", restore_db + restore_env + finish)
    # 1. Nothing may run on the database while it is put back.
    try:
        stop("rollback", command=progress.started)
    except Failed as e:
        down(f"the hub could not be stopped: {e.reason}")
    # 2. The database as it was at the stop, verified against its recorded sha256.
    record(step="rollback", text=f"put back {db} as it was at the stop, from {kept} (sha256 {sha256})")
    wrong = restore_database(kept, sha256, db) if sha256 else f"{kept} could not be hashed after the copy"
    if wrong:
        down(f"the database could not be put back: {wrong}")
    db_state = f"the database is back as it was at the stop (the copy stays at {kept}, sha256 {sha256})"
    restore_db = []
    # 3. The env as it was.
    if change["kind"] == "swap" and progress.swapped:
        env, previous = change["env"], change["previous"]
        failed_env = env + ".hubfleet-failed"
        record(step="rollback", text=f"exchange {env} with {previous}, the env as it was; the failed one goes to {failed_env}")
        if not os.path.isdir(os.path.join(previous, "bin")):
            env_state = f"{env} holds jupyterhub {args['version']}"
            restore_env = reinstall
            down(f"{previous}, the env as it was, is missing")
        shutil.rmtree(failed_env, ignore_errors=True)
        try:
            exchange_envs(env, previous, failed_env)
        except Failed as e:
            down(f"the env as it was could not be swapped back: {e.reason}")
        env_state = f"{env} is the env as it was"
        restore_env = []
        # The env an earlier upgrade kept, moved aside by the swap, is the way back again.
        if os.path.lexists(replaced_path(change)) and not os.path.lexists(previous):
            try:
                os.rename(replaced_path(change), previous)
            except OSError as e:
                record(output=f"the env an earlier upgrade kept stays at {replaced_path(change)}: {e}")
    elif change["kind"] == "install" and progress.installed:
        # The previous packages are not downloaded at stage: they cannot be put back offline.
        down(f"the offline install changed {args['hub']['hub_env']} and hubfleet cannot reinstall the previous packages without an index")
    # 4. The old release serves again.
    if not version:
        record(step="rollback", text="the hub was not serving before the upgrade: it is left stopped")
        raise RolledBack(failure.step, failure.reason)
    try:
        start(version, step="rollback", health="rollback")
    except Failed as e:
        down(f"the old release did not come back: {e.reason}")
    if change["kind"] == "swap" and progress.swapped:
        shutil.rmtree(change["env"] + ".hubfleet-failed", ignore_errors=True)
    record(step="rollback", text=f"{args['url']} reports {version} again, on the database as it was at the stop")
    raise RolledBack(failure.step, failure.reason)


def keep(progress):
    # Right after the stop is confirmed, before anything changes: the database exactly as it is.
    # Its sha256 is taken by a thread while the next steps run (the copy never changes, and
    # hashing 256 MiB would cost the downtime 0.4 s more than the copy itself); whatever uses it
    # (the rollback, the end) waits for it.
    db, kept = args["db"], args["kept_db"]
    record(step="stop", text=f"keep the database as it is: copy {db} to {kept}, fsynced, its sha256 recorded")
    try:
        size = keep_database(db, kept)
    except NotKept as e:
        raise Unchanged("stop", f"{e}: nothing was changed") from None
    progress.kept = kept

    def hash_it():
        try:
            progress.sha256 = sha256_of(kept)
            record(kept=kept, sha256=progress.sha256, bytes=size)
        except OSError as e:
            progress.sha256 = None
            record(output=f"cannot hash {kept}: {e}")

    progress.hasher = threading.Thread(target=hash_it, daemon=True)
    progress.hasher.start()


def kept_sha256(progress):
    # The kept database's sha256, once its thread is done (None if it could not be read).
    if progress.hasher is not None:
        progress.hasher.join()
    return progress.sha256


def cutover():
    change = args["change"]
    # How the hub runs, read while it still runs (its /proc entry is gone after the stop): the
    # environment and working directory upgrade-db needs to resolve the same database as the hub.
    record(step="check", text="the hub's environment, and the database it has open")
    hub = hub_environment(args["hub"])
    wrong = list(hub["blockers"])
    if hub["pid"] is not None and hub["provided"] is None:
        wrong.append(cross_check(hub["pid"], args["db"]))
    wrong = [w for w in wrong if w]
    if wrong:
        discard(change)
        raise Failed("check", "; ".join(wrong) + ": the hub was not stopped")
    if change["kind"] == "swap":
        record(step="check", text=f"{change['next']} is the env this run staged")
        check_staged(change, "check")
    # The facts that allowed the upgrade are minutes old by now (stage, backup, rehearsal,
    # grace): a user who started a server meanwhile is not interrupted unless allowed.
    if not args["allow_active_servers"]:
        record(step="check", text="no user server may be running")
        servers = sqlite_value(args["db"], ACTIVE_SERVERS_SQL, timeout=30)
        if servers:
            discard(change)
            raise Failed("check", f"{servers} user server(s) started while the upgrade got ready: the hub was not stopped; rerun with `--allow-active-servers` after notifying users")
    try:
        stop()
    except NotStopped as e:
        if e.down:
            raise Failed("stop", unchanged(e)) from None
        discard(change)
        raise
    except Failed:
        discard(change)
        raise
    progress = Progress()
    try:
        keep(progress)
    except Unchanged as e:
        raise Failed("stop", unchanged(e)) from None
    previous = None
    head = args.get("head")
    if change["kind"] == "swap":
        try:
            previous = swap(change)
        except Unchanged as e:
            forget(progress)
            raise Failed("swap", unchanged(e)) from None
        # Inside ENV now: the token has served.
        try:
            os.unlink(os.path.join(change["env"], STAGED_TOKEN))
        except OSError:
            pass
        except OSError as e:
            forget(progress)
            raise Failed("swap", unchanged(Failed("swap", f"the swap failed: {e}; nothing was changed"))) from None
        progress.swapped = True
    try:
        if change["kind"] == "install":
            progress.installed = True
            sh("install", change["command"])
            # The downloaded packages are no longer needed; a failure to remove them is not the hub's.
            shutil.rmtree(change["downloads"], ignore_errors=True)
        if head is None:
            head = installed_head()
        revision = upgrade_db(head, hub)
        progress.started = True
        start(args["version"])
    except Failed as e:
        rollback(e, progress)
    except Exception as e:  # noqa: BLE001 - an unforeseen error after a change is rolled back too
        rollback(Failed("cutover", f"{type(e).__name__}: {e}"), progress)
    # The way back is no longer needed once the target serves: the env an earlier upgrade kept
    # (replaced by this swap) and the database kept at the stop go (the archive is the off-host
    # copy of the latter).
    if change["kind"] == "swap":
        shutil.rmtree(replaced_path(change), ignore_errors=True)
    forget(progress)
    return {"previous": previous, "revision": revision}


def forget(progress):
    # The database kept at the stop, once it is not the way back: the upgrade serves, or nothing
    # was changed.
    if progress.kept:
        kept_sha256(progress)
        try:
            os.unlink(progress.kept)
        except OSError as e:
            record(output=f"cannot remove {progress.kept}: {e}")


def release_lock():
    # The run's host lock, handed to this process by launch.py: emptied once the cutover has its
    # result, if it still names this run. The run's lock.py may hold the flock a little longer
    # (the controller reads the result first): waited for, bounded.
    import fcntl

    lock = args["lock"]
    try:
        fd = os.open(lock["path"], os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        for _ in range(1200):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.1)
        else:
            return
        holder = read_holder(fd)
        if holder and holder.get("run") == lock["run"]:
            write_holder(fd, None)
    finally:
        os.close(fd)


record(pid=os.getpid())
try:
    record(result="ok", **cutover())
except RolledBack as e:
    record(result="rolled-back", step=e.step, reason=e.reason)
except Down as e:
    record(result="down", step=e.step, reason=e.reason, state=e.state, by_hand=e.by_hand)
except Failed as e:
    record(result="failed", step=e.step, reason=e.reason)
except BaseException as e:  # noqa: BLE001 - the controller must always get a result
    record(result="failed", step="cutover", reason=f"{type(e).__name__}: {e}")
finally:
    try:
        release_lock()
    except Exception as e:  # noqa: BLE001 - the result is recorded; a lock left is taken over
        record(output=f"cannot release the host lock: {e}")
