# The environment and working directory the hub really runs with, shared by the facts, the
# rehearsal and the cutover (sent ahead of them).
#
# Many hubs take their database URL, and nearly always their database password, from the
# environment their service manager gives them (systemd `Environment=`/`EnvironmentFile=`):
#   c.JupyterHub.db_url = os.environ.get("HUB_DB", "sqlite:///jupyterhub.sqlite")
# Loaded over SSH without that environment, such a config resolves another database (a leftover
# `jupyterhub.sqlite`, say), and an upgrade would back up, migrate and wait on the wrong file.
# So every hub command runs with the hub's own environment and working directory:
#   1. those of the running hub process (`/proc/PID/environ` and `cwd`: root, or the hub's user);
#   2. otherwise the inventory's `environment` table and `environment_file` (the same file the
#      service reads), over the login's environment;
#   3. otherwise the login's environment: the config may then read only what every process has.
# Values never leave the host: the controller is told the variables' names only.
import sysconfig as _sysconfig

# What every process gets from a service manager or a login: a config that reads only these needs
# nothing from the inventory.
_EVERYWHERE = {"HOME", "USER", "LOGNAME", "PATH", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ", "TMPDIR", "HOSTNAME", "PWD"}
# `jupyterhub SUBCOMMAND` processes are not the hub (`upgrade-db` is the cutover's own).
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _everywhere(name):
    return name in _EVERYWHERE or name.startswith("LC_")


def _proc_argv(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode(errors="surrogateescape") for a in f.read().split(b"\0")[:-1]]


def _hub_config_arg(pid, argv, hub_env):
    # Whether `argv` runs this env's hub (not a subcommand such as `upgrade-db`): `ENV/bin/jupyterhub
    # ...`, `PYTHON ENV/bin/jupyterhub ...` (a shebang) or `ENV/bin/python -m jupyterhub ...`.
    # Returns (True, the `-f`/`--config` it was given or None), or (False, None).
    def absolute(path):
        if os.path.isabs(path):
            return os.path.normpath(path)
        try:
            return os.path.normpath(os.path.join(os.readlink(f"/proc/{pid}/cwd"), path))
        except OSError:
            return None

    bins = {os.path.join(os.path.normpath(hub_env), "bin"), os.path.join(os.path.realpath(hub_env), "bin")}
    if not argv:
        return False, None
    first = absolute(argv[0])
    if first is not None and os.path.basename(first) == "jupyterhub" and os.path.dirname(first) in bins:
        rest = argv[1:]
    elif os.path.basename(argv[0]).startswith("python"):
        if argv[1:3] == ["-m", "jupyterhub"] and first is not None and os.path.dirname(first) in bins:
            rest = argv[3:]
        elif len(argv) > 1 and absolute(argv[1]) in {os.path.join(b, "jupyterhub") for b in bins}:
            rest = argv[2:]
        else:
            return False, None
    else:
        return False, None
    if rest and not rest[0].startswith("-"):
        return False, None
    config = None
    for i, arg in enumerate(rest):
        if arg in ("-f", "--config") and i + 1 < len(rest):
            config = rest[i + 1]
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        elif arg.startswith("--JupyterHub.config_file="):
            config = arg.split("=", 1)[1]
    return True, config


def find_hub(hub_env):
    # The running hub of `hub_env`: (pid, its `-f` config or None), or None. Several (a hub and a
    # child of its own that kept its command line): the one whose parent is not one of them.
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            is_hub, config = _hub_config_arg(pid, _proc_argv(pid), hub_env)
        except OSError:
            continue
        if is_hub:
            found[int(pid)] = config
    if not found:
        return None

    def parent(pid):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                return int(f.read().rsplit(b") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None

    tops = sorted(pid for pid in found if parent(pid) not in found)
    pid = (tops or sorted(found))[0]
    return pid, found[pid]


def _owner(pid):
    try:
        import pwd

        return pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name
    except (OSError, KeyError, ImportError):
        return "another user"


def _login():
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, ImportError):
        return str(os.geteuid())


def read_environment_file(path):
    # The variables of a systemd `EnvironmentFile=`: KEY=VALUE lines, `#`/`;` comments, values in
    # single or double quotes, a trailing backslash continuing a line. A leading "-" makes the file
    # optional, as in systemd.
    optional = path.startswith("-")
    path = path[1:] if optional else path
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except FileNotFoundError:
        if optional:
            return {}
        raise
    variables = {}
    logical = ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            logical += raw[:-1]
            continue
        line, logical = (logical + raw).strip(), ""
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key, value = key.strip(), value.strip()
        if not key.replace("_", "a").isalnum() or key[0].isdigit():
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace('\\"', '"').replace("\\\\", "\\")
        variables[key] = value
    return variables


def _in_reach(pid):
    # The running hub's environment and working directory, or None when this user may not read
    # them (another user's process, without root).
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except PermissionError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            key, value = item.split(b"=", 1)
            env[key.decode(errors="surrogateescape")] = value.decode(errors="surrogateescape")
    return env, cwd


def hub_environment(args):
    # How the hub runs, from the arguments every script that needs it gets (`hub_environment` in
    # Rust): {"hub_env", "workdir", "config", "environment" (a table or None), "environment_file"}.
    # Returns {"env", "cwd", "source", "pid", "provided" (names the inventory gives, or None when
    # the environment is the hub's own), "blockers" (why nothing may be changed on this host)}.
    table, env_file = args.get("environment"), args.get("environment_file")
    declared = table is not None or env_file is not None
    result = {"env": dict(os.environ), "cwd": args["workdir"], "source": "login", "pid": None, "provided": set(), "blockers": []}
    hub = find_hub(args["hub_env"])
    if hub is not None:
        pid, started_with = hub
        result["pid"] = pid
        if started_with is not None:
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                cwd = args["workdir"]
            given = os.path.realpath(os.path.join(cwd, started_with))
            if given != os.path.realpath(args["config"]):
                result["blockers"].append(
                    f"the running hub (pid {pid}) was started with the config {given}, but the inventory's `config` is {args['config']}: set `config` to the file the hub runs with"
                )
        own = _in_reach(pid)
        if own is not None:
            result["env"], result["cwd"] = own
            result["source"] = f"the running hub (pid {pid})"
            result["provided"] = None
            return result
        if not declared:
            result["blockers"].append(
                f"the running hub (pid {pid}) runs as {_owner(pid)}, and its environment (/proc/{pid}/environ) is out of reach of {_login()}: set `become = true` in the inventory (or log in as root) so hubfleet reads it, or set `environment_file` to the file the hub's service reads (`environment = {{}}` if it reads none)"
            )
            return result
    if declared:
        sources = []
        if table:
            result["env"].update(table)
            result["provided"].update(table)
        if table is not None:
            sources.append("the inventory's `environment`")
        if env_file is not None:
            try:
                variables = read_environment_file(env_file)
            except OSError as e:
                result["blockers"].append(f"cannot read the inventory's `environment_file` {env_file}: {e.strerror}")
                variables = {}
            # As systemd: the file's variables override `Environment=`'s.
            result["env"].update(variables)
            result["provided"].update(variables)
            sources.append(f"`environment_file` {env_file.lstrip('-')}")
        result["source"] = " and ".join(sources)
    return result


class applied:
    # Runs a block in the hub's environment and working directory (this process's own), and
    # collects the variables that operator code (the config, or what it loads) reads meanwhile.
    def __init__(self, hub):
        self.hub, self.reads = hub, set()

    def __enter__(self):
        self.saved_env, self.saved_cwd = dict(os.environ), os.getcwd()
        os.environ.clear()
        os.environ.update(self.hub["env"])
        os.chdir(self.hub["cwd"])
        environ, reads = os.environ, self.reads
        self.cls = cls = type(environ)
        libraries = {_sysconfig.get_path("stdlib"), _sysconfig.get_path("platstdlib")}

        def operators(filename):
            return not (
                filename.startswith("<")
                or "/site-packages/" in filename
                or "/dist-packages/" in filename
                or any(lib and filename.startswith(lib + os.sep) for lib in libraries)
            )

        class Recording(cls):
            # os.getenv and os.environ.get both end here (Mapping.get calls __getitem__).
            def __getitem__(self, key):
                frame = sys._getframe(1)
                while frame is not None:
                    if operators(frame.f_code.co_filename):
                        reads.add(key)
                        break
                    frame = frame.f_back
                return cls.__getitem__(self, key)

        environ.__class__ = Recording
        return self

    def __exit__(self, *exc):
        os.environ.__class__ = self.cls
        os.environ.clear()
        os.environ.update(self.saved_env)
        os.chdir(self.saved_cwd)
        return False

    def unprovided(self):
        # What the config read that nothing declared: empty with the hub's own environment.
        provided = self.hub["provided"]
        if provided is None:
            return []
        return sorted(name for name in self.reads if name not in provided and not _everywhere(name))


def unprovided_problem(names):
    # Why a config that reads what nobody provides resolves no database hubfleet can trust.
    listed = ", ".join(f"`{n}`" for n in names)
    return (
        f"the hub's config reads {listed} from its environment, which neither the running hub nor the inventory provides: "
        "start the hub so hubfleet reads its own, or set `environment_file` to the file the hub's service reads (or `environment`)"
    )


def open_databases(pid):
    # The SQLite databases process `pid` has open (real paths), or None if its fds are out of reach.
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    found = set()
    for fd in fds:
        try:
            path = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if not path.startswith("/") or path in found:
            continue
        try:
            with open(path, "rb") as f:
                if f.read(16) == _SQLITE_MAGIC:
                    found.add(path)
        except OSError:
            continue
    return sorted(found)


def cross_check(pid, db):
    # Why the running hub `pid` is not using the database `db` that its config resolves, or None.
    # A hub that holds no SQLite database open right now proves nothing either way.
    held = open_databases(pid)
    real = os.path.realpath(db)
    if not held or real in held:
        return None
    return (
        f"the running hub (pid {pid}) has {', '.join(held)} open, but its config resolves {real}: "
        "check `config`, `workdir` and the hub's environment in the inventory; nothing was backed up or changed"
    )
