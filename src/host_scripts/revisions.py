# The alembic revisions a JupyterHub release ships, {revision: down_revision}, read from its
# `jupyterhub/alembic/versions/*.py`. Sent ahead of the facts, the stage and the cutover, so all
# three read revisions the same way.
import ast as _ast


def parse_revisions(sources):
    # (name, text) of alembic version files -> {revision: down_revision}
    revisions = {}
    for name, text in sources:
        scope = {}
        for line in text.splitlines():
            if line.startswith(("revision =", "down_revision =")):
                # A literal, read as one: nothing from a downloaded wheel is executed.
                key, _, value = line.partition("=")
                scope[key.strip()] = _ast.literal_eval(value.strip())
        if "revision" in scope:
            revisions[scope["revision"]] = scope.get("down_revision")
    return revisions


def installed_revisions(package_dir):
    # The revisions of the jupyterhub package installed at `package_dir`.
    versions = os.path.join(package_dir, "alembic", "versions")
    sources = []
    for name in sorted(os.listdir(versions)):
        if name.endswith(".py"):
            with open(os.path.join(versions, name)) as f:
                sources.append((name, f.read()))
    return parse_revisions(sources)




def alembic_head(revisions):
    # The revision no other revision comes down from: the code's head.
    downs = set(revisions.values())
    return next(rev for rev in revisions if rev not in downs)
