# Follows the cutover's record beside the cutover, on the host: prints the record's lines as they
# are appended and exits after the result; exits 3 if the cutover died without one. Run by the
# hub's Python:
#   HUB_ENV/bin/python -c SCRIPT ARGS_JSON
import time

path, pid = args["status"], args["pid"]


def alive():
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


position, partial, last_look = 0, b"", False
while True:
    try:
        with open(path, "rb") as f:
            f.seek(position)
            chunk = f.read()
    except FileNotFoundError:
        chunk = b""
    position += len(chunk)
    *lines, partial = (partial + chunk).split(b"\n")
    for line in lines:
        sys.stdout.buffer.write(line + b"\n")
        sys.stdout.flush()
        if line.startswith(b'{"result"'):
            sys.exit(0)
    if not chunk:
        if last_look:
            fail(f"the cutover (pid {pid}) ended without a result: see {path}")
        # One more read after the process is gone: its last lines may have landed meanwhile.
        last_look = not alive()
        time.sleep(0.05)
