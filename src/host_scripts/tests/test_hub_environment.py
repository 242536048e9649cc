"""hub_environment.py: which command lines are the hub of an env, and systemd's
`EnvironmentFile=` format."""
import os
import tempfile
import unittest

from compose import load

hub_environment = load("hub_environment")


class HubConfigArg(unittest.TestCase):
    def test_which_command_lines_run_the_hub_of_an_env(self):
        env = "/opt/hub"
        cases = [
            (["/opt/hub/bin/python", "/opt/hub/bin/jupyterhub", "-f", "/etc/jh.py"], (True, "/etc/jh.py")),
            (["/opt/hub/bin/python3", "/opt/hub/bin/jupyterhub", "--config=/c.py"], (True, "/c.py")),
            (["/opt/hub/bin/jupyterhub", "--JupyterHub.config_file=/d.py"], (True, "/d.py")),
            (["/opt/hub/bin/python", "-m", "jupyterhub"], (True, None)),
            # A subcommand is not the hub: `upgrade-db` is the cutover's own.
            (["/opt/hub/bin/python", "/opt/hub/bin/jupyterhub", "upgrade-db", "-f", "x"], (False, None)),
            (["/opt/other/bin/python", "/opt/other/bin/jupyterhub"], (False, None)),
            (["/opt/hub/bin/python", "/opt/hub/bin/jupyterhub-singleuser"], (False, None)),
            (["sudo", "-u", "hub", "/opt/hub/bin/jupyterhub"], (False, None)),
            ([], (False, None)),
        ]
        for argv, expected in cases:
            with self.subTest(argv=argv):
                self.assertEqual(hub_environment._hub_config_arg(1, argv, env), expected)

    def test_the_last_config_given_wins(self):
        argv = ["/opt/hub/bin/jupyterhub", "-f", "/a.py", "--config", "/b.py"]
        self.assertEqual(hub_environment._hub_config_arg(1, argv, "/opt/hub/"), (True, "/b.py"))


class ReadEnvironmentFile(unittest.TestCase):
    def test_reads_as_systemd_does(self):
        text = (
            "# comment\n"
            "; too\n"
            'HUB_DB="sqlite:////srv/a b.sqlite"\n'
            "QUOTED='x y'\n"
            "  SPACED = v  \n"
            "LONG=a\\\nb\n"
            'ESCAPED="say \\"hi\\" \\\\ bye"\n'
            "not a line\n"
            "1BAD=x\n"
        )
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(text)
        try:
            self.assertEqual(
                hub_environment.read_environment_file(f.name),
                {"HUB_DB": "sqlite:////srv/a b.sqlite", "QUOTED": "x y", "SPACED": "v", "LONG": "ab", "ESCAPED": 'say "hi" \\ bye'},
            )
        finally:
            os.unlink(f.name)

    def test_a_leading_dash_makes_the_file_optional(self):
        self.assertEqual(hub_environment.read_environment_file("-/nonexistent/hub.env"), {})

    def test_a_missing_file_fails(self):
        with self.assertRaises(FileNotFoundError):
            hub_environment.read_environment_file("/nonexistent/hub.env")


if __name__ == "__main__":
    unittest.main()
