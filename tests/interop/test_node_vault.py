"""The real Node.js client node-vault (pinned in package.json) drives a dev
server: node_vault_test.js runs under node's built-in test runner against
`coffer server -dev`, with COFFER_ADDR and COFFER_TOKEN set.

Skips only when `node` is not installed. node_modules is installed with
`npm ci` from package-lock.json when absent.
"""

import os
import shutil
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = shutil.which("node")
NPM = shutil.which("npm")


@unittest.skipIf(NODE is None, "node is not installed: the node-vault interop test needs Node.js")
class NodeVaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(HERE, "node_modules", "node-vault")):
            if NPM is None:
                raise AssertionError("node is installed but npm is not: cannot install node-vault")
            r = subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise AssertionError("npm ci failed:\n" + r.stdout + r.stderr)

    def test_node_vault(self):
        root = "root-" + uuid.uuid4().hex
        server = harness.start_dev(root_token=root)
        self.addCleanup(server.cleanup)
        env = dict(os.environ, COFFER_ADDR=server.addr, COFFER_TOKEN=root)
        for var in ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_PREFIX", "VAULT_NAMESPACE"):
            env.pop(var, None)  # node-vault would pick these up
        r = subprocess.run([NODE, "--test", "--test-reporter=spec", "node_vault_test.js"],
                           cwd=HERE, env=env, capture_output=True, text=True, timeout=300)
        print(r.stdout)
        if r.stderr:
            print(r.stderr, file=sys.stderr)
        self.assertEqual(r.returncode, 0, "node --test failed:\n" + r.stdout[-8000:] + r.stderr)
        # The runner really ran the suites (a test file that loads nothing
        # would pass too).
        self.assertIn("pass ", r.stdout)
        self.assertRegex(r.stdout, r"pass (1[0-9]|[2-9][0-9])")


if __name__ == "__main__":
    unittest.main()
