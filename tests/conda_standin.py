# A recorded stand-in for `conda`, for tests only: conda's channels cannot be reached here, so
# hubfleet's conda path is driven through this script. It records every call (one JSON argv per
# line in CALLS, beside itself) and carries out the few commands hubfleet uses with the env's pip
# and the lab's wheelhouse:
#   search --json jupyterhub                       versions found in the wheelhouse
#   install --dry-run --json --yes --prefix P S     pip's --dry-run report as conda's LINK actions
#   install --download-only --json --yes --prefix P S   pip download into PKGS (conda's cache)
#   install --offline --yes --prefix P S            pip install --no-index from PKGS
#   list --export --prefix P                        pip freeze as name=version=pypi_0
# The shebang is set by the test to the hub env's Python.
import configparser
import glob
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
argv = sys.argv[1:]
with open(os.path.join(here, "CALLS"), "a") as calls:
    calls.write(json.dumps(argv) + "\n")
pkgs = os.path.join(here, "pkgs")


def option(name):
    return argv[argv.index(name) + 1]


def pip(prefix, *args):
    return subprocess.run([os.path.join(prefix, "bin", "python"), "-m", "pip", "--disable-pip-version-check", *args],
                          check=True, capture_output=True, text=True).stdout


spec = argv[-1].replace("jupyterhub=", "jupyterhub==") if argv and argv[-1].startswith("jupyterhub=") else None
if argv[:1] == ["search"]:
    config = configparser.ConfigParser()
    config.read(os.path.join(sys.prefix, "pip.conf"))
    wheels = config["global"]["find-links"]
    versions = [os.path.basename(w).split("-")[1] for w in glob.glob(os.path.join(wheels, "jupyterhub-*.whl"))]
    json.dump({"jupyterhub": [{"version": v} for v in versions]}, sys.stdout)
elif argv[:1] == ["install"] and "--dry-run" in argv:
    report = json.loads(pip(option("--prefix"), "install", "--dry-run", "--quiet", "--report", "-", spec))
    links = [{"name": i["metadata"]["name"], "version": i["metadata"]["version"]} for i in report["install"]]
    json.dump({"actions": {"LINK": links}}, sys.stdout)
elif argv[:1] == ["install"] and "--download-only" in argv:
    pip(option("--prefix"), "download", "--quiet", "--dest", pkgs, spec)
    json.dump({"success": True}, sys.stdout)
elif argv[:1] == ["install"] and "--offline" in argv:
    print(pip(option("--prefix"), "install", "--no-index", "--find-links", pkgs, spec))
elif argv[:2] == ["list", "--export"]:
    for line in pip(option("--prefix"), "freeze", "--all").splitlines():
        name, _, version = line.partition("==")
        print(f"{name}={version}=pypi_0")
else:
    sys.stderr.write(f"conda stand-in: unsupported call {argv}\n")
    sys.exit(2)
