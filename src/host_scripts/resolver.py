# What the installers say, read: why pip could not resolve the target, and which release is the
# newest. Sent ahead of the stage (stage.py); pure functions, unit-tested in tests/test_resolver.py.
import re as _re


def resolver_cause(lines):
    # pip's "Ignored the following versions that require a different python version: …" (a
    # target this env's Python is too old for) and the lines under "The conflict is caused by:"
    # (a requirement of another package, or a constraint, holding the target back).
    cause = [l.strip()[:300] for l in lines if "require a different python version" in l]
    start = next((i + 1 for i, l in enumerate(lines) if "The conflict is caused by" in l), None)
    if start is not None:
        conflict = []
        for l in lines[start:]:
            if not l.startswith((" ", "\t")):
                break
            conflict.append(l.strip())
        cause.append("the conflict is caused by: " + ", ".join(conflict))
    return "; ".join(cause)


def release(v):
    # (numbers, final?) of a version: "5.0.0" -> ((5, 0, 0), True), "5.0.0b1" -> ((5, 0, 0), False).
    m = _re.match(r"(\d+(?:\.\d+)*)(.*)", v)
    if not m:
        return ((), False)
    return (tuple(int(n) for n in m.group(1).split(".")), m.group(2) == "")


def newest(versions):
    # The newest final release, as pip's `latest` (a prerelease only if there is nothing else).
    versions = list(versions)
    finals = [v for v in versions if release(v)[1]]
    return max(finals or versions, key=release)
