"""database.py: the hub's database read without ever writing it, and who holds it open."""
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

from compose import load

database = load("database")


def make_hub_db(path):
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
        INSERT INTO alembic_version VALUES ('0eee8c825d24');
        CREATE TABLE spawners (id INTEGER PRIMARY KEY, server_id INTEGER);
        INSERT INTO spawners (server_id) VALUES (NULL), (7), (8);
        """
    )
    db.commit()
    db.close()


class ReadOnly(unittest.TestCase):
    def test_the_queries_read_a_database_in_a_directory_with_uri_characters(self):
        with tempfile.TemporaryDirectory() as tmp:
            odd = os.path.join(tmp, "hub #1?x=%41")
            os.mkdir(odd)
            path = os.path.join(odd, "jupyterhub.sqlite")
            make_hub_db(path)
            self.assertEqual(database.sqlite_value(path, database.REVISION_SQL), "0eee8c825d24")
            self.assertEqual(database.sqlite_value(path, database.ACTIVE_SERVERS_SQL), 2)
            self.assertEqual(sorted(os.listdir(odd)), ["jupyterhub.sqlite"])

    def test_a_missing_database_is_an_error_not_a_new_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "jupyterhub.sqlite")
            with self.assertRaises(sqlite3.OperationalError):
                database.sqlite_value(path, database.REVISION_SQL)
            self.assertEqual(os.listdir(tmp), [])

    def test_a_snapshot_is_a_copy_at_the_same_revision(self):
        with tempfile.TemporaryDirectory() as tmp:
            path, copy = os.path.join(tmp, "live.sqlite"), os.path.join(tmp, "copy.sqlite")
            make_hub_db(path)
            self.assertEqual(database.sqlite_snapshot(path, copy), "0eee8c825d24")
            self.assertEqual(database.sqlite_value(copy, database.ACTIVE_SERVERS_SQL), 2)


@contextlib.contextmanager
def holding(path, *extra):
    """Another process with `path` open, until the block ends."""
    code = "import sys; f = open(sys.argv[1]); print('open', flush=True); sys.stdin.read()"
    with subprocess.Popen([sys.executable, "-c", code, path, *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as holder:
        assert holder.stdout.readline() == b"open\n"
        try:
            yield holder.pid
        finally:
            holder.stdin.close()


class Holders(unittest.TestCase):
    def test_another_process_with_the_database_open_holds_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.realpath(os.path.join(tmp, "jupyterhub.sqlite"))
            make_hub_db(path)
            self.assertEqual(database.holders(path), [])
            # This process's own handle does not count: the cutover itself reads the database.
            with open(path, "rb"):
                self.assertEqual(database.holders(path), [])
            with holding(path) as pid:
                [(holder, command)] = database.holders(path)
                self.assertEqual(holder, pid)
                self.assertIn("print('open', flush=True)", command)
            self.assertEqual(database.holders(path), [])

    def test_the_command_line_is_cut_at_160_characters(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.realpath(os.path.join(tmp, "db"))
            open(path, "w").close()
            with holding(path, "x" * 300):
                [(_, command)] = database.holders(path)
                self.assertEqual(len(command), 160)


if __name__ == "__main__":
    unittest.main()
