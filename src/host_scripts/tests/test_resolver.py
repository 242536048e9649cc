"""resolver.py: what pip says of a failed resolution, and which release is the newest."""
import unittest

from compose import load

resolver = load("resolver")


class ResolverCause(unittest.TestCase):
    def test_a_python_too_old_for_the_target_is_the_cause(self):
        lines = [
            "ERROR: Ignored the following versions that require a different python version: 5.0.0 Requires-Python >=3.8",
            "ERROR: Could not find a version that satisfies the requirement jupyterhub==5.0.0",
            "ERROR: No matching distribution found for jupyterhub==5.0.0",
        ]
        self.assertEqual(
            resolver.resolver_cause(lines),
            "ERROR: Ignored the following versions that require a different python version: 5.0.0 Requires-Python >=3.8",
        )

    def test_the_indented_lines_under_the_conflict_are_the_cause(self):
        lines = [
            "ERROR: Cannot install jupyterhub==5.0.0 because these package versions have conflicting dependencies.",
            "The conflict is caused by:",
            "    The user requested jupyterhub==5.0.0",
            "\toauthenticator 15.0 depends on jupyterhub<5",
            "To fix this you could try to:",
            "    loosen the range of package versions you've specified",
        ]
        self.assertEqual(
            resolver.resolver_cause(lines),
            "the conflict is caused by: The user requested jupyterhub==5.0.0, oauthenticator 15.0 depends on jupyterhub<5",
        )

    def test_both_causes_are_joined(self):
        lines = [
            "Ignored the following versions that require a different python version: 6.0.0",
            "The conflict is caused by:",
            "    x 1 depends on jupyterhub<5",
        ]
        self.assertEqual(
            resolver.resolver_cause(lines),
            "Ignored the following versions that require a different python version: 6.0.0; "
            "the conflict is caused by: x 1 depends on jupyterhub<5",
        )

    def test_a_long_line_is_cut_at_300_characters(self):
        line = "Ignored the following versions that require a different python version: " + "9.9.9 " * 100
        self.assertEqual(len(resolver.resolver_cause([line])), 300)

    def test_other_failures_have_no_cause(self):
        self.assertEqual(resolver.resolver_cause(["ERROR: HTTP error 503", "network is down"]), "")
        self.assertEqual(resolver.resolver_cause([]), "")


class Versions(unittest.TestCase):
    def test_release_splits_numbers_from_a_prerelease_tag(self):
        self.assertEqual(resolver.release("5.0.0"), ((5, 0, 0), True))
        self.assertEqual(resolver.release("5.0.0b1"), ((5, 0, 0), False))
        self.assertEqual(resolver.release("4.1"), ((4, 1), True))
        self.assertEqual(resolver.release("nightly"), ((), False))

    def test_newest_compares_numbers_not_text(self):
        self.assertEqual(resolver.newest(["4.1.6", "4.10.0", "4.9.2"]), "4.10.0")

    def test_newest_is_final_when_there_is_one(self):
        # As pip's `latest`: a prerelease only if there is nothing else.
        self.assertEqual(resolver.newest(["4.1.6", "5.0.0b1"]), "4.1.6")
        self.assertEqual(resolver.newest(iter(["4.0.0rc1", "5.0.0b1"])), "5.0.0b1")


if __name__ == "__main__":
    unittest.main()
