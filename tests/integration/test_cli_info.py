"""`coffer version-history`, `coffer plugin list|info` and `coffer print
token` against the real binary, in table and JSON formats, with the
errors a user meets."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness


class CliInfoTest(harness.DevServerTest):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="coffer-cli-info-")
        self.addCleanup(shutil.rmtree, self.home, ignore_errors=True)

    def cli(self, *args, token=None, env_extra=None):
        env = {k: v for k, v in os.environ.items() if k not in ("COFFER_TOKEN", "VAULT_TOKEN")}
        env.update({"COFFER_ADDR": self.srv.addr, "HOME": self.home})
        if token is not None:
            env["COFFER_TOKEN"] = token
        env.update(env_extra or {})
        return subprocess.run([harness.COFFER_BIN] + list(args), env=env, capture_output=True,
                              text=True, timeout=60)

    def test_version_history(self):
        r = self.cli("version-history", token=self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Version", "Installation", "Time", "Build", "Date"])
        st, body, _ = self.srv.request("LIST", "/v1/sys/version-history", token=self.root)
        version = body["data"]["keys"][0]
        installed = body["data"]["key_info"][version]["timestamp_installed"]
        self.assertEqual(lines[2].split()[:2], [version, installed])
        r = self.cli("version-history", "-format=json", token=self.root)
        self.assertEqual(json.loads(r.stdout)["data"]["keys"], body["data"]["keys"])
        r = self.cli("version-history", token="not-a-token")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Error reading the version history", r.stderr)
        self.assertIn("403", r.stderr)

    def test_plugin_list_and_info(self):
        r = self.cli("plugin", "list", token=self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line.split() for line in r.stdout.splitlines()[2:]]
        self.assertIn("kv", [row[0] for row in rows])
        self.assertIn(["userpass", "auth"], [row[:2] for row in rows])
        r = self.cli("plugin", "list", "-detailed", "secret", token=self.root)
        self.assertIn("Deprecation Status", r.stdout)
        self.assertTrue(all(line.split()[1] == "secret" for line in r.stdout.splitlines()[2:]))
        r = self.cli("plugin", "list", "-format=json", "auth", token=self.root)
        self.assertIn("userpass", json.loads(r.stdout))
        self.assertNotIn("kv", json.loads(r.stdout))
        r = self.cli("plugin", "info", "-format=json", "secret", "kv", token=self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["data"]["name"], "kv")
        self.assertTrue(json.loads(r.stdout)["data"]["builtin"])
        r = self.cli("plugin", "info", "-field=version", "secret", "kv", token=self.root)
        self.assertTrue(r.stdout.strip().endswith("+builtin"), r.stdout)
        r = self.cli("plugin", "info", "secret", "nope", token=self.root)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no secret plugin named nope", r.stderr)
        r = self.cli("plugin", "list", "bogus", token=self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid plugin type", r.stderr)
        r = self.cli("plugin", "info", "secret", token=self.root)
        self.assertEqual(r.returncode, 1)

    def test_print_token_follows_the_clients_order(self):
        with open(os.path.join(self.home, ".vault-token"), "w") as f:
            f.write("from-vault-file\n")
        self.assertEqual(self.cli("print", "token").stdout, "from-vault-file\n")
        with open(os.path.join(self.home, ".coffer-token"), "w") as f:
            f.write("from-coffer-file")
        self.assertEqual(self.cli("print", "token").stdout, "from-coffer-file\n")
        r = self.cli("print", "token", env_extra={"VAULT_TOKEN": "from-vault-env"})
        self.assertEqual(r.stdout, "from-vault-env\n")
        r = self.cli("print", "token", token=" from-env ",
                     env_extra={"VAULT_TOKEN": "from-vault-env"})
        self.assertEqual(r.stdout, "from-env\n")
        r = self.cli("print", "token", "extra")
        self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    unittest.main()
