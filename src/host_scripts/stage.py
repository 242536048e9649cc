# Resolves the target JupyterHub release with the hub env's own installer and gets it ready on the
# host while the hub keeps serving, so that the downtime is only a swap (or an offline install),
# upgrade-db and a start. Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
#
# How the target is readied ("staged"), by kind of env:
# - next-env (a venv with pip or uv, on the same filesystem as its parent): the env is copied to
#   ENV.hubfleet-next (the installers' trees by hard links, see LINKED) and the target installed
#   into the copy; after the stop, the two directories
#   are exchanged (cutover.py) and the env as it was stays at ENV.hubfleet-previous. Nothing is
#   installed while the hub is down, the live env is never half-upgraded, and the previous env is
#   the package half of a rollback.
# - in-place (conda, or a Python that is not a venv): every package is downloaded (into args
#   ["stage"], or conda's package cache) and installed offline while the hub is down.
# - nothing: the env already holds the target.
#
# mode "dry-run": resolves with `pip install --dry-run --report` and reads the target's alembic
#   revisions from its wheel, downloaded alone into a temporary directory outside the hub; the
#   hub env and its directory are left byte-identical.
# mode "stage": does it.
# Prints one JSON object: version, revisions {rev: down_rev}, install [name==version], staged.
# Every installer command is bounded by `stage_timeout` (bounded.py); a copy that is complete
# carries the run's token (STAGED_TOKEN, host_lock.py), which the cutover checks before the swap.
import glob
import importlib.util
import re
import shutil
import sysconfig
import tempfile
import time
import zipfile
from importlib import metadata


# sshd closing the channel sends SIGHUP: exit through the cleanup of a half-made copy.
for sig in (signal.SIGHUP, signal.SIGTERM):
    signal.signal(sig, leave)
requirement = "jupyterhub" if args["to"] == "latest" else f"jupyterhub=={args['to']}"
env = os.path.realpath(args["env"])
next_env = env + ".hubfleet-next"
previous_env = env + ".hubfleet-previous"
# Every installer command of this stage together may take `stage_timeout` seconds (an index that
# never answers, a resolver that loops): then the one running is stopped with its process group.
deadline = time.monotonic() + args["stage_timeout"]


def installer(cmd, **kwargs):
    # An installer command (pip, uv, conda), bounded by what is left of the stage's time.
    left = max(1.0, deadline - time.monotonic())
    try:
        return bounded(cmd, left, "stage_timeout", **kwargs)
    except TimedOutCommand:
        fail(
            f"the stage's installer `{' '.join(cmd)}` was still running {args['stage_timeout']}s after the stage began "
            "and was stopped with its process group; raise `stage_timeout` in the inventory if the index is that slow; "
            "the staged copy is removed and the hub keeps serving"
        )


def run(cmd, **kwargs):
    done = installer(cmd, **kwargs)
    if done.returncode != 0:
        # The controller shows the last line: the error, not uv's closing `hint:`, followed by
        # what the resolver said of its cause, which pip prints above it.
        lines = [l for l in done.stderr.splitlines() if l.strip() and not l.lstrip().startswith("hint:")]
        last = (lines or [f"exit code {done.returncode}"])[-1].strip()
        cause = resolver_cause(lines)
        fail(f"{' '.join(cmd)} failed:\n" + "\n".join(lines[-20:-1] + [f"{last}{'; ' + cause if cause else ''}"]))
    return done.stdout


def wheel_revisions(wheel):
    with zipfile.ZipFile(wheel) as z:
        return parse_revisions(
            (n, z.read(n).decode())
            for n in z.namelist()
            if re.match(r"jupyterhub/alembic/versions/[^/]+\.py$", n)
        )


def conda_stage():
    # conda resolves from its channels: the version, the packages it would link, and with
    # "stage" the downloads into its package cache (the install then runs --offline). The
    # alembic revisions are read from the installed code after the install.
    conda = [args["conda"]]
    prefix = ["--prefix", sys.prefix]
    version = args["to"]
    if version == "latest":
        found = json.loads(run(conda + ["search", "--json", "jupyterhub"]))["jupyterhub"]
        version = newest(p["version"] for p in found)
    plan = json.loads(run(conda + ["install", "--dry-run", "--json", "--yes"] + prefix + [f"jupyterhub={version}"]))
    linked = plan.get("actions", {}).get("LINK", [])
    install = [f"{p['name']}=={p['version']}" for p in linked]
    # conda's `jupyterhub=4.1` matches any 4.1.x: the release is the one its plan links, which
    # /hub/api must report at the end.
    version = next((p["version"] for p in linked if p["name"] == "jupyterhub"), version)
    if args["mode"] == "stage":
        run(conda + ["install", "--download-only", "--json", "--yes"] + prefix + [f"jupyterhub={version}"])
    return {"version": version, "revisions": {}, "install": install, "staged": {"kind": "in-place"}}


def can_swap():
    # A venv (not the system's Python), not a mount point, in a writable directory: its copy can
    # sit beside it and the two can be exchanged by rename(2).
    # Nothing the hub writes or reads as its state may live inside the env: the copy would carry
    # a stale snapshot of it into service, and the live one would leave with the old env.
    parent = os.path.dirname(env)
    return (
        sys.prefix != sys.base_prefix
        and os.path.realpath(sys.prefix) == env
        and not os.path.ismount(env)
        and os.access(parent, os.W_OK)
        and not hub_state_inside_env()
    )


def hub_state_inside_env():
    inside = [p for p in args.get("hub_paths", []) if p and (os.path.realpath(p) + "/").startswith(env + "/")]
    return inside


def tree_bytes(root, skip=()):
    total = 0
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


# The parts of a venv that only installers write, where the copy shares the env's files by hard
# links: pip replaces a file by removing it and writing a new one (it unlinks first, so a loaded
# .so keeps its pages), never by writing into it, so installing into the copy cannot touch the
# env. share/ holds the packages' data files (JupyterHub's templates and static files).
LINKED = ("lib", "lib64", "lib32", "share")


def linked_paths():
    # Inside LINKED, what is written in place and so is copied: kernelspecs and JupyterLab
    # settings under share/jupyter, which operators edit, and .pth files, which pip rewrites when
    # it removes a legacy develop install.
    copied = [os.path.join(env, "share", "jupyter")]
    for top in ("lib", "lib32"):
        copied += glob.glob(os.path.join(env, top, "python*", "site-packages", "*.pth"))
    return [os.path.join(env, top) for top in LINKED if os.path.lexists(os.path.join(env, top))], [p for p in copied if os.path.lexists(p)]


def reflinks_work(parent):
    # A filesystem that clones files (XFS, btrfs) gives a full independent copy for almost no
    # space or time: then nothing is linked.
    probe = os.path.join(parent, f".hubfleet-reflink-probe-{os.getpid()}")
    try:
        return subprocess.run(["cp", "--reflink=always", os.path.join(env, "pyvenv.cfg"), probe], capture_output=True).returncode == 0
    finally:
        if os.path.lexists(probe):
            os.remove(probe)


def copy_env():
    # Left over from an upgrade that stopped before its swap: it is ours, and stale.
    shutil.rmtree(next_env, ignore_errors=True)
    if os.path.lexists(next_env):
        fail(f"cannot remove {next_env}, left by an earlier upgrade: remove it and run the upgrade again")
    parent = os.path.dirname(env)
    # uv, when it cannot link from its cache (another filesystem, UV_LINK_MODE=copy), copies
    # over an existing file in place: a uv env gets a full copy.
    reflinks = reflinks_work(parent)
    full = args["installer"] == "uv" or reflinks
    linked, copied = ([], []) if full else linked_paths()
    # What the copy takes: the files it does not share with the env (none, where the filesystem
    # clones them), and room for what the install adds.
    if reflinks:
        unshared = tree_bytes(env) * 0.1
    else:
        unshared = tree_bytes(env, skip=linked) + sum(tree_bytes(p) if os.path.isdir(p) else os.lstat(p).st_size for p in copied)
    check_space(unshared * 1.1 + 64 * 2**20)
    try:
        # -T: into exactly NEXT, never a directory inside it. -a keeps owners, modes, times and
        # xattrs (SELinux labels).
        if not linked:
            subprocess.run(["cp", "-aT", "--reflink=auto", env, next_env], check=True, capture_output=True)
            return
        subprocess.run(["cp", "-alT", env, next_env], check=True, capture_output=True)
        own = [os.path.join(env, name) for name in os.listdir(env) if os.path.join(env, name) not in linked]
        for src in own + copied:
            dst = next_env + src[len(env):]
            subprocess.run(["rm", "-rf", dst], check=True, capture_output=True)
            subprocess.run(["cp", "-aT", "--reflink=auto", src, dst], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        # No cp, or no hard links here: a full copy, which the disk must hold too.
        shutil.rmtree(next_env, ignore_errors=True)
        check_space(tree_bytes(env) * 1.1 + 64 * 2**20)
        shutil.copytree(env, next_env, symlinks=True)


def check_space(need):
    # Refuses a copy the disk beside the env cannot hold while the hub serves from it.
    parent = os.path.dirname(env)
    reserve = args.get("reserve")
    # The backup's snapshot, taken at the same time, on the same filesystem.
    if reserve and os.stat(os.path.dirname(reserve["beside"])).st_dev == os.stat(parent).st_dev:
        need += reserve["bytes"]
    free = shutil.disk_usage(parent).free
    if free < need:
        kept = ""
        if os.path.lexists(previous_env):
            kept = f" ({previous_env}, the env the last upgrade replaced, holds {tree_bytes(previous_env) // 2**20} MiB: remove it if you no longer need it)"
        fail(
            f"not enough free disk beside {env} for a copy of it to upgrade: {free // 2**20} MiB free, "
            f"{int(need) // 2**20} MiB needed; free some space{kept} and run the upgrade again"
        )


def point_scripts_at(src, dst):
    # pip writes `#!NEXT/bin/python` into the scripts it installs in the copy; after the swap they
    # live at ENV. Scripts copied from ENV already name ENV. Only the first line (or pip's
    # sh-wrapped form for long paths, in the first three lines) is rewritten.
    bin_dir = os.path.join(next_env, "bin")
    old, new = (src + "/bin/").encode(), (dst + "/bin/").encode()
    for name in os.listdir(bin_dir):
        path = os.path.join(bin_dir, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            head = f.read(2)
            if head != b"#!":
                continue
            content = head + f.read()
        lines = content.split(b"\n", 3)
        top = b"\n".join(lines[:3])
        if old not in top:
            continue
        fixed = top.replace(old, new) + (b"\n" + lines[3] if len(lines) > 3 else b"")
        tmp = path + ".hubfleet-tmp"
        with open(tmp, "wb") as f:
            f.write(fixed)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)


def names(items):
    return [f"{name}=={version}" for name, version in sorted(items, key=lambda i: i[0].lower())]


def uv_command():
    return [args["uv"], "pip", "install"]


def resolve(report):
    # What the installer would install into the hub env, [(name, version)]; nothing is installed.
    if args["installer"] == "uv":
        # uv has no JSON report: its dry run lists `+ name==version` for what it would install.
        out = installer(uv_command() + ["--dry-run", "--python", sys.executable, "--upgrade-package", "jupyterhub", requirement])
        if out.returncode != 0:
            fail(f"uv pip install --dry-run failed:\n{out.stderr[-2000:]}")
        return [tuple(m.groups()) for m in re.finditer(r"^\s*\+ (\S+)==(\S+)\s*$", out.stderr + out.stdout, re.M)]
    pip = metadata.version("pip")
    if release(pip)[0][:2] < (22, 2):
        fail(
            f"pip {pip} in {env} cannot tell what it would install (`pip install --dry-run --report` needs pip 22.2 or later): "
            f"upgrade it with `{sys.executable} -m pip install -U pip`, or give --to an exact version for a run that is not a dry run"
        )
    run([sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--dry-run", "--quiet", "--report", report, "--upgrade", requirement])
    with open(report) as f:
        return [(i["metadata"]["name"], i["metadata"]["version"]) for i in json.load(f).get("install", [])]


def broken_requirements(python):
    # What `pip check` (or uv's) finds wrong in the env of `python`: one line per requirement.
    if args["installer"] == "uv":
        cmd = [args["uv"], "pip", "check", "--python", python]
    else:
        cmd = [python, "-m", "pip", "--disable-pip-version-check", "check"]
    done = installer(cmd)
    if done.returncode == 0:
        return set()
    lines = {l.strip() for l in (done.stdout + done.stderr).splitlines() if "requires" in l or "has requirement" in l}
    return lines or {f"{' '.join(cmd)} failed: {(done.stdout + done.stderr).strip()[-300:]}"}


def jupyterhub_version_in(items, default):
    return next((v for n, v in items if n.lower() == "jupyterhub"), default)


def pin(version):
    # What was resolved is what gets installed, even if a newer release appears meanwhile.
    global requirement
    requirement = f"jupyterhub=={version}"


def nothing(installed):
    return {"version": installed, "revisions": installed_revisions(os.path.dirname(importlib.util.find_spec("jupyterhub").origin)), "install": [], "staged": {"kind": "nothing"}}


def next_env_install():
    # The copy's own installer (its pip.conf or uv's config, its index) resolves and installs
    # into the copy, writing .pyc files as pip does, so the hub starts as fast as before.
    python = os.path.join(next_env, "bin", "python")
    if args["installer"] == "uv":
        # Not --upgrade, which in uv upgrades every dependency: only jupyterhub, as pip does.
        return uv_command() + ["--python", python, "--compile-bytecode", "--upgrade-package", "jupyterhub", requirement]
    return [python, "-m", "pip", "--disable-pip-version-check", "install", "--upgrade", requirement]


def staged_next_env():
    return {"kind": "next-env", "env": env, "path": next_env, "previous": previous_env, "command": next_env_install(), "replaces_previous": os.path.lexists(previous_env)}


def site_packages(prefix):
    return sysconfig.get_path("purelib", vars={"base": prefix, "platbase": prefix})


def distributions(prefix):
    return {d.metadata["Name"].lower(): (d.metadata["Name"], d.version) for d in metadata.distributions(path=[site_packages(prefix)])}


def hold_stage_lock():
    # One stage of an env at a time. A stage whose connection dropped runs on (sshd signals no
    # command that has no terminal), and a rerun must not remove the copy it still installs
    # into, nor have its copy removed when that one fails. The lock is on the env's directory
    # and lasts as long as this process.
    import fcntl

    global stage_lock
    stage_lock = os.open(env, os.O_RDONLY)
    try:
        fcntl.flock(stage_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fail(f"an earlier upgrade is still readying {next_env} (its connection may have dropped): wait until it ends, then run the upgrade again; nothing was changed")


def stage_next_env(installed):
    hold_stage_lock()
    # Whatever stops it (a failed install, a full disk, the connection closing), the copy goes.
    try:
        return ready_next_env(installed)
    except BaseException:
        shutil.rmtree(next_env, ignore_errors=True)
        raise


def ready_next_env(installed):
    copy_env()
    child_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run(next_env_install() + ["--quiet"], env=child_env)
    # The install must leave a consistent env (a plugin's pin broken by a new dependency would
    # otherwise show only once the hub runs): checked before any downtime. Only what the install
    # broke counts: an env that was inconsistent before (a --system-site-packages venv sees the
    # distro's packages) is not refused for it.
    broken = broken_requirements(os.path.join(next_env, "bin", "python"))
    if broken:
        new = broken - broken_requirements(sys.executable)
        if new:
            fail(f"the upgraded copy of {env} has broken requirements the env has not: {'; '.join(sorted(new))[:600]}; nothing was changed")
    # What the install changed: the copy's packages that the env does not have at that version.
    before, after = distributions(env), distributions(next_env)
    items = sorted(nv for key, nv in after.items() if before.get(key, (None, None))[1] != nv[1])
    if not items:
        shutil.rmtree(next_env)
        return nothing(installed)
    point_scripts_at(next_env, env)
    # Last, once the copy is complete: which run made it. The cutover swaps in only a copy that
    # carries its own run's token, never one another run replaced or left half-installed.
    with open(os.path.join(next_env, STAGED_TOKEN), "w") as f:
        f.write(args["token"])
    # On disk before the swap, while the hub still serves: a power cut after the swap must not
    # find the new env's files empty.
    os.sync()
    # The env an earlier upgrade kept stays until the swap replaces it (cutover.py): a run that
    # stops before the swap (a refused check, a failed rehearsal) leaves it.
    staged = staged_next_env()
    return {"version": jupyterhub_version_in(items, installed), "revisions": installed_revisions(os.path.join(site_packages(next_env), "jupyterhub")), "install": names(items), "staged": staged}


def target_revisions(tmp):
    # The target's alembic revisions without installing it into the hub env: its wheel alone,
    # downloaded (pip) or unpacked (uv) into a temporary directory.
    dest = os.path.join(tmp, "wheel")
    if args["installer"] == "uv":
        run(uv_command() + ["--quiet", "--python", sys.executable, "--no-deps", "--target", dest, requirement])
        return installed_revisions(os.path.join(dest, "jupyterhub"))
    run([sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "--quiet", "--no-deps", "--dest", dest, requirement])
    wheels = glob.glob(os.path.join(dest, "jupyterhub-*.whl"))
    if not wheels:
        fail("pip downloaded no jupyterhub wheel")
    return wheel_revisions(wheels[0])


def pip_stage(tmp):
    installed = metadata.version("jupyterhub")
    if args["to"] == installed:
        # Nothing to copy or download: the env holds the target (a rerun, or a hub not restarted).
        return nothing(installed)
    swap = can_swap()
    if args["mode"] == "stage" and swap and args["to"] != "latest":
        return stage_next_env(installed)
    # `latest` is resolved before anything is copied: a fleet already there is left alone.
    items = resolve(os.path.join(tmp, "report.json"))
    if not items:
        return nothing(installed)
    version = jupyterhub_version_in(items, installed)
    pin(version)
    if args["mode"] == "stage" and swap:
        return stage_next_env(installed)
    if args["mode"] == "stage":
        if args["installer"] == "uv":
            inside = hub_state_inside_env()
            why = f"the hub's {inside[0]} lives inside it" if inside else "it is not a venv in a writable directory"
            fail(f"cannot upgrade {env} with uv: {why}; hubfleet upgrades a uv env only by swapping in an upgraded copy")
        os.makedirs(args["stage"], exist_ok=True)
        try:
            run([sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "--quiet", "--dest", args["stage"], requirement])
        except BaseException:
            # Half the packages are no way to install: they go, as a half-made copy does.
            shutil.rmtree(args["stage"], ignore_errors=True)
            raise
    staged = staged_next_env() if swap else {"kind": "in-place"}
    return {"version": version, "revisions": target_revisions(tmp), "install": names(items), "staged": staged}


if args["installer"] == "conda":
    json.dump(conda_stage(), sys.stdout)
    sys.exit(0)

tmp = tempfile.mkdtemp(prefix="hubfleet-stage-")
if args["mode"] == "dry-run":
    # A dry run leaves the host as it found it, the installers' caches in the user's home
    # included: what it downloads goes into its temporary directory, and goes with it.
    os.environ["PIP_CACHE_DIR"] = os.path.join(tmp, "pip-cache")
    os.environ["UV_CACHE_DIR"] = os.path.join(tmp, "uv-cache")
# uv takes a lock file in the env it is pointed at, even for a dry run, which must leave the env
# as it found it.
uv_lock = os.path.join(sys.prefix, ".lock")
had_uv_lock = os.path.lexists(uv_lock)
try:
    json.dump(pip_stage(tmp), sys.stdout)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
    if args["mode"] == "dry-run" and not had_uv_lock and os.path.lexists(uv_lock):
        os.remove(uv_lock)
