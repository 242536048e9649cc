"""The host modules as a host gets them: the prelude, then the modules, in one namespace.

src/host_scripts.rs sends every script as one program (prelude + modules + body); these tests
load the same files the same way, so a module is tested with exactly the names it has on a host.
"""
import os
import sys
import types

FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(*modules):
    """The prelude and `modules` (file names in src/host_scripts/ without `.py`), composed."""
    source = "".join(_read(name) for name in ("prelude",) + modules)
    namespace = types.ModuleType("host_" + "_".join(modules))
    argv = sys.argv
    # The prelude parses the script's one argument.
    sys.argv = ["-c", "{}"]
    try:
        exec(compile(source, "+".join(modules) + ".py", "exec"), namespace.__dict__)
    finally:
        sys.argv = argv
    return namespace


def _read(name):
    with open(os.path.join(FOLDER, name + ".py"), encoding="utf-8") as f:
        return f.read()
