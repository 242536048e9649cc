"""kept_database.py: the database at the stop, kept byte for byte and put back only if intact."""
import hashlib
import os
import sqlite3
import tempfile
import unittest
from unittest import mock

from compose import load

kept_database = load("kept_database")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class KeepAndRestore(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "jupyterhub.sqlite")
        self.kept = self.db + ".hubfleet-at-stop"
        db = sqlite3.connect(self.db)
        db.executescript("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');")
        db.commit()
        db.close()

    def tearDown(self):
        self.dir.cleanup()

    def test_the_copy_is_byte_for_byte_and_its_sha256_recorded(self):
        size = kept_database.keep_database(self.db, self.kept)
        self.assertEqual(sha256(self.kept), sha256(self.db))
        self.assertEqual(kept_database.sha256_of(self.kept), sha256(self.db))
        self.assertEqual(size, os.path.getsize(self.db))
        self.assertEqual([n for n in os.listdir(self.dir.name) if "tmp" in n], [])

    def test_a_disk_that_cannot_hold_the_copy_is_refused_before_writing(self):
        usage = mock.Mock(free=os.path.getsize(self.db) + 1)
        with mock.patch.object(kept_database.shutil, "disk_usage", return_value=usage):
            with self.assertRaisesRegex(kept_database.NotKept, "not enough for a copy"):
                kept_database.keep_database(self.db, self.kept)
        self.assertFalse(os.path.exists(self.kept))

    def test_a_hot_journal_beside_the_database_refuses_the_copy(self):
        with open(self.db + "-journal", "wb") as f:
            f.write(b"x")
        with self.assertRaisesRegex(kept_database.NotKept, "did not close it cleanly"):
            kept_database.keep_database(self.db, self.kept)

    def test_restore_puts_the_copy_back_and_drops_side_files(self):
        kept_database.keep_database(self.db, self.kept)
        digest = kept_database.sha256_of(self.kept)
        db = sqlite3.connect(self.db)
        db.execute("INSERT INTO users VALUES ('migrated')")
        db.commit()
        db.close()
        with open(self.db + "-journal", "wb") as f:
            f.write(b"left by a killed upgrade-db")
        self.assertIsNone(kept_database.restore_database(self.kept, digest, self.db))
        self.assertEqual(sha256(self.db), digest)
        self.assertFalse(os.path.exists(self.db + "-journal"))
        self.assertTrue(os.path.exists(self.kept))

    def test_a_kept_copy_that_changed_is_not_put_back(self):
        kept_database.keep_database(self.db, self.kept)
        digest = kept_database.sha256_of(self.kept)
        with open(self.kept, "ab") as f:
            f.write(b"rot")
        before = sha256(self.db)
        wrong = kept_database.restore_database(self.kept, digest, self.db)
        self.assertIn(f"not {digest} as recorded at the stop", wrong)
        self.assertEqual(sha256(self.db), before)

    def test_a_missing_kept_copy_is_said(self):
        self.assertIn("cannot read", kept_database.restore_database(self.kept, "0" * 64, self.db))


if __name__ == "__main__":
    unittest.main()
