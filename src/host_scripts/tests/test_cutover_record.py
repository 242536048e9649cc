"""cutover_record.py: where a cutover's record lives, and whether its cutover still runs."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from compose import load

cutover_record = load("cutover_record", "host_lock")


class Record(unittest.TestCase):
    def test_the_record_lives_beside_the_database(self):
        self.assertEqual(
            cutover_record.cutover_record("/srv/hub/jupyterhub.sqlite"),
            "/srv/hub/.jupyterhub.sqlite.hubfleet-cutover.jsonl",
        )

    def test_a_cutover_runs_while_its_pid_names_the_record_and_no_result_is_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            record = os.path.join(tmp, ".db.hubfleet-cutover.jsonl")
            self.assertIsNone(cutover_record.running_cutover(record))
            code = "import sys; sys.stdin.read()"
            with subprocess.Popen([sys.executable, "-c", code, record], stdin=subprocess.PIPE) as cutover:
                try:
                    with open(record, "w") as f:
                        f.write(json.dumps({"pid": cutover.pid}) + "\n" + json.dumps({"step": "stop", "text": "x"}) + "\n")
                    self.assertEqual(cutover_record.running_cutover(record), cutover.pid)
                    # A pid that does not name the record (reused after a reboot) is not it.
                    with open(record, "w") as f:
                        f.write(json.dumps({"pid": os.getpid()}) + "\n")
                    self.assertIsNone(cutover_record.running_cutover(record))
                    with open(record, "w") as f:
                        f.write(json.dumps({"pid": cutover.pid}) + "\n" + json.dumps({"result": "ok"}) + "\n")
                    self.assertIsNone(cutover_record.running_cutover(record))
                finally:
                    cutover.stdin.close()

    def test_a_record_that_is_not_json_lines_is_no_running_cutover(self):
        with tempfile.NamedTemporaryFile("w") as f:
            f.write("garbage\n")
            f.flush()
            self.assertIsNone(cutover_record.running_cutover(f.name))

    def test_a_left_record_is_read_whole_and_never_through_a_link(self):
        with tempfile.TemporaryDirectory() as tmp:
            record = os.path.join(tmp, ".db.hubfleet-cutover.jsonl")
            self.assertIsNone(cutover_record.left_record(record))
            lines = json.dumps({"pid": 1}) + "\n" + json.dumps({"result": "rolled-back", "step": "start", "reason": "x"}) + "\n"
            with open(record, "w") as f:
                f.write(lines)
            self.assertEqual(cutover_record.left_record(record), lines)
            link = os.path.join(tmp, ".other.hubfleet-cutover.jsonl")
            os.symlink(record, link)
            with self.assertRaises(OSError):
                cutover_record.left_record(link)

    def test_the_launcher_refuses_a_record_nobody_read_and_leaves_it_as_it_was(self):
        from compose import _read

        source = "".join(_read(name) for name in ("prelude", "cutover_record", "host_lock", "launch"))
        with tempfile.TemporaryDirectory() as tmp:
            record = os.path.join(tmp, ".db.hubfleet-cutover.jsonl")
            lines = json.dumps({"pid": 1}) + "\n" + json.dumps({"result": "rolled-back", "step": "start", "reason": "x"}) + "\n"
            with open(record, "w") as f:
                f.write(lines)
            args = json.dumps({"record": record, "script": "raise SystemExit(9)", "args": {}, "lock": None})
            done = subprocess.run([sys.executable, "-c", source, args], capture_output=True, text=True)
            self.assertEqual(done.returncode, 3, done.stderr)
            self.assertIn("has not been read: run the upgrade again", done.stderr)
            with open(record) as f:
                self.assertEqual(f.read(), lines)


if __name__ == "__main__":
    unittest.main()
