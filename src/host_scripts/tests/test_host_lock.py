"""host_lock.py: where a run's host lock lives, what it says of its holder, when it counts as held."""
import fcntl
import os
import subprocess
import sys
import tempfile
import unittest

from compose import load

host_lock = load("host_lock")
bounded = load("bounded")

HOLDER = {"run": "r1", "controller": "ctl", "user": "alice", "pid": 42, "started": "2026-12-07T23:00:00Z", "command": "upgrade"}


class Lock(unittest.TestCase):
    def test_the_lock_lives_beside_the_env_or_inside_one_whose_directory_is_not_writable(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = os.path.join(tmp, "env")
            os.mkdir(env)
            self.assertEqual(host_lock.lock_path(env), os.path.join(os.path.realpath(tmp), ".env.hubfleet-lock"))
            if os.geteuid() != 0:
                os.chmod(tmp, 0o555)
                try:
                    self.assertEqual(host_lock.lock_path(env), os.path.join(os.path.realpath(env), ".hubfleet-lock"))
                finally:
                    os.chmod(tmp, 0o755)

    def test_a_holder_written_is_read_back_and_an_emptied_lock_has_none(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, ".env.hubfleet-lock")
            fd = os.open(path, os.O_RDWR | os.O_CREAT)
            try:
                host_lock.write_holder(fd, dict(HOLDER, controller="a-much-longer-controller-name"))
                host_lock.write_holder(fd, HOLDER)
                self.assertEqual(host_lock.read_holder(fd), HOLDER)
                self.assertEqual(host_lock.read_holder_at(path), HOLDER)
                host_lock.write_holder(fd, None)
                self.assertIsNone(host_lock.read_holder(fd))
                self.assertEqual(os.path.getsize(path), 0)
            finally:
                os.close(fd)

    def test_the_holder_is_named_with_its_command_start_user_controller_pid_and_cutover(self):
        self.assertEqual(
            host_lock.describe_holder(dict(HOLDER, cutover=7)),
            "`hubfleet upgrade` started 2026-12-07T23:00:00Z by alice@ctl (pid 42), its cutover running on this host as pid 7",
        )

    def test_a_flock_is_seen_in_proc_locks_without_taking_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, ".env.hubfleet-lock")
            open(path, "w").close()
            self.assertFalse(host_lock.lock_state(os.path.join(tmp, "env"))["held"])
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self.assertTrue(host_lock.flocked(path))
                # Seeing it did not take it: another open file still cannot.
                other = os.open(path, os.O_RDONLY)
                with self.assertRaises(BlockingIOError):
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.close(other)
            finally:
                os.close(fd)
            self.assertFalse(host_lock.flocked(path))

    def test_a_cutover_holds_the_lock_while_its_pid_runs_naming_the_lock(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, ".env.hubfleet-lock")
            with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", path], stdin=subprocess.PIPE) as cutover:
                try:
                    self.assertEqual(host_lock.cutover_holds(dict(HOLDER, cutover=cutover.pid), path), cutover.pid)
                    # A pid that does not name the lock (reused) does not hold it.
                    self.assertIsNone(host_lock.cutover_holds(dict(HOLDER, cutover=cutover.pid), path + "-other"))
                finally:
                    cutover.stdin.close()
            self.assertIsNone(host_lock.cutover_holds(dict(HOLDER, cutover=cutover.pid), path))


class Bounded(unittest.TestCase):
    def test_a_command_past_its_timeout_is_stopped_with_its_whole_process_group(self):
        with tempfile.TemporaryDirectory() as tmp:
            child_pid = os.path.join(tmp, "child.pid")
            script = f"sleep 600 & echo $! > {child_pid}; wait"
            with self.assertRaises(bounded.TimedOutCommand):
                bounded.bounded(["sh", "-c", script], 1, "stage_timeout", stdin=subprocess.DEVNULL)
            with open(child_pid) as f:
                pid = int(f.read())
            # The shell's child, in the same group, went too (a zombie at most, reaped by init).
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                self.assertEqual(state, "Z")
            except FileNotFoundError:
                pass

    def test_a_command_within_its_timeout_is_run_to_its_end(self):
        done = bounded.bounded(["sh", "-c", "echo out; echo err >&2; exit 3"], 10, "stage_timeout")
        self.assertEqual((done.returncode, done.stdout, done.stderr), (3, "out\n", "err\n"))

    def test_the_timeout_line_names_the_key_to_raise(self):
        self.assertEqual(
            bounded.over_time("`pip install`", 8, "stage_timeout"),
            "`pip install` did not finish within 8s and was stopped with its process group; raise `stage_timeout` in the inventory if it needs longer",
        )


if __name__ == "__main__":
    unittest.main()
