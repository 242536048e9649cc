"""revisions.py: the alembic revisions a JupyterHub release ships, read without running them."""
import os
import tempfile
import unittest

from compose import load

revisions = load("revisions")


def version_file(revision, down):
    return f'"""a migration"""\n\n# revision identifiers, used by Alembic.\nrevision = {revision!r}\ndown_revision = {down!r}\n\nimport sqlalchemy as sa\n'


class InstalledRevisions(unittest.TestCase):
    def test_reads_every_version_file_of_a_package(self):
        with tempfile.TemporaryDirectory() as package:
            versions = os.path.join(package, "alembic", "versions")
            os.makedirs(versions)
            files = {
                "19c0846f6344_base.py": version_file("19c0846f6344", None),
                "eeb276e51423_auth_state.py": version_file("eeb276e51423", "19c0846f6344"),
                "3ec6993fe20c_encrypted.py": version_file("3ec6993fe20c", "eeb276e51423"),
                "__init__.py": "",
                "README": "revision = 'not a version file'\n",
            }
            for name, text in files.items():
                with open(os.path.join(versions, name), "w") as f:
                    f.write(text)
            self.assertEqual(
                revisions.installed_revisions(package),
                {"19c0846f6344": None, "eeb276e51423": "19c0846f6344", "3ec6993fe20c": "eeb276e51423"},
            )

    def test_a_package_without_migrations_fails(self):
        with tempfile.TemporaryDirectory() as package:
            with self.assertRaises(FileNotFoundError):
                revisions.installed_revisions(package)


class ParseRevisions(unittest.TestCase):
    def test_a_merge_keeps_its_tuple_of_down_revisions(self):
        parsed = revisions.parse_revisions([("m.py", version_file("m", ("a", "b")))])
        self.assertEqual(parsed, {"m": ("a", "b")})

    def test_only_lines_that_start_with_the_assignment_count(self):
        text = "    revision = 'indented'\n# revision = 'comment'\nrevision = \"real\"\n"
        self.assertEqual(revisions.parse_revisions([("r.py", text)]), {"real": None})

    def test_a_value_that_is_not_a_literal_is_refused_not_run(self):
        # Read from a downloaded wheel: nothing in it is executed.
        text = "revision = __import__('os').getpid()\n"
        with self.assertRaises(ValueError):
            revisions.parse_revisions([("evil.py", text)])


class AlembicHead(unittest.TestCase):
    def test_the_head_is_the_revision_nothing_comes_down_from(self):
        chain = {"c": "b", "a": None, "b": "a"}
        self.assertEqual(revisions.alembic_head(chain), "c")
        self.assertEqual(revisions.alembic_head({"only": None}), "only")


if __name__ == "__main__":
    unittest.main()
