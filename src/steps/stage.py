# Resolves the target JupyterHub release with the hub env's own pip and reads the alembic
# revisions it ships, while the hub keeps serving. Run by the hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
# mode "dry-run": `pip install --dry-run --report` (nothing installed) and the jupyterhub wheel
#   alone in a temporary directory outside the hub, removed afterwards.
# mode "stage": every package the upgrade needs downloaded into args["stage"], so the install
#   during the downtime reads only local files.
# Prints one JSON object: version, revisions {rev: down_rev}, install [name==version].
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

args = json.loads(sys.argv[1])
requirement = "jupyterhub" if args["to"] == "latest" else f"jupyterhub=={args['to']}"
pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}\n")
        sys.exit(3)
    return done.stdout


def revisions_of(wheel):
    revisions = {}
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if re.match(r"jupyterhub/alembic/versions/[^/]+\.py$", name):
                scope = {}
                for line in z.read(name).decode().splitlines():
                    if line.startswith(("revision =", "down_revision =")):
                        exec(line, scope)  # plain literal assignments
                if "revision" in scope:
                    revisions[scope["revision"]] = scope.get("down_revision")
    return revisions


def conda_stage():
    # conda resolves from its channels: the version, the packages it would link, and with
    # "stage" the downloads into its package cache (the install then runs --offline). The
    # alembic revisions are read from the installed code after the install.
    conda = [args["conda"]]
    prefix = ["--prefix", sys.prefix]
    version = args["to"]
    if version == "latest":
        found = json.loads(run(conda + ["search", "--json", "jupyterhub"]))["jupyterhub"]
        version = sorted((p["version"] for p in found), key=lambda v: [int(x) if x.isdigit() else x for x in v.split(".")])[-1]
    plan = json.loads(run(conda + ["install", "--dry-run", "--json", "--yes"] + prefix + [f"jupyterhub={version}"]))
    install = [f"{p['name']}=={p['version']}" for p in plan.get("actions", {}).get("LINK", [])]
    if args["mode"] == "stage":
        run(conda + ["install", "--download-only", "--json", "--yes"] + prefix + [f"jupyterhub={version}"])
    return {"version": version, "revisions": {}, "install": install}


if args["installer"] == "conda":
    json.dump(conda_stage(), sys.stdout)
    sys.exit(0)

result = {}
tmp = tempfile.mkdtemp(prefix="hubfleet-stage-")
try:
    report = os.path.join(tmp, "report.json")
    run(pip + ["install", "--dry-run", "--quiet", "--report", report, "--upgrade", requirement])
    with open(report) as f:
        items = json.load(f).get("install", [])
    result["install"] = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in items]
    if args["mode"] == "stage":
        dest = args["stage"]
        os.makedirs(dest, exist_ok=True)
        run(pip + ["download", "--quiet", "--dest", dest, requirement])
    else:
        dest = os.path.join(tmp, "wheel")
        run(pip + ["download", "--quiet", "--no-deps", "--dest", dest, requirement])
    wheels = sorted(glob.glob(os.path.join(dest, "jupyterhub-*.whl")))
    if not wheels:
        sys.stderr.write("pip downloaded no jupyterhub wheel\n")
        sys.exit(3)
    versions = {os.path.basename(w).split("-")[1]: w for w in wheels}
    version = args["to"] if args["to"] in versions else sorted(versions, key=lambda v: [int(p) if p.isdigit() else p for p in re.split(r"[.]", v)])[-1]
    result["version"] = version
    result["revisions"] = revisions_of(versions[version])
finally:
    shutil.rmtree(tmp, ignore_errors=True)
json.dump(result, sys.stdout)
