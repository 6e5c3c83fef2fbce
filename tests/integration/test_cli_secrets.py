"""The CLI's secret commands against a real dev server: login, kv (v2 and v1),
policy, token, secrets, generic read/write, wrapping and leases."""

import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import harness

ROOT = "cli-test-root-token"


class CliSecretsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.home = tempfile.mkdtemp(prefix="coffer-cli-home-")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.home, ignore_errors=True)

    def cli(self, *args, stdin=None, token=ROOT, ok=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": self.home})
        if token:
            env["COFFER_TOKEN"] = token
        r = subprocess.run([harness.COFFER_BIN] + list(args), input=stdin, capture_output=True,
                           text=True, env=env, timeout=60)
        if ok:
            self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r

    def test_kv_v2_round_trip(self):
        self.cli("kv", "put", "secret/app", "user=alice", "pass=s3cr3t")
        self.cli("kv", "put", "secret/app", "user=bob", "pass=other")
        r = self.cli("kv", "get", "-format=json", "secret/app")
        body = json.loads(r.stdout)
        self.assertEqual(body["data"]["data"], {"user": "bob", "pass": "other"})
        self.assertEqual(body["data"]["metadata"]["version"], 2)
        r = self.cli("kv", "get", "-version=1", "-field=user", "secret/app")
        self.assertEqual(r.stdout.strip(), "alice")
        self.cli("kv", "patch", "secret/app", "pass=patched")
        r = self.cli("kv", "get", "-field=pass", "secret/app")
        self.assertEqual(r.stdout.strip(), "patched")
        self.cli("kv", "delete", "secret/app")
        # A deleted version shows its metadata (with deletion_time) and no data.
        r = self.cli("kv", "get", "-format=json", "secret/app")
        self.assertIsNone(json.loads(r.stdout)["data"]["data"])
        self.assertNotEqual(json.loads(r.stdout)["data"]["metadata"]["deletion_time"], "")
        r = self.cli("kv", "get", "-field=pass", "secret/app", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.cli("kv", "undelete", "-versions=3", "secret/app")
        r = self.cli("kv", "get", "-field=pass", "secret/app")
        self.assertEqual(r.stdout.strip(), "patched")
        r = self.cli("kv", "list", "-format=json", "secret/")
        self.assertIn("app", json.loads(r.stdout))
        r = self.cli("kv", "metadata", "get", "-format=json", "secret/app")
        self.assertEqual(json.loads(r.stdout)["data"]["current_version"], 3)

    def test_numbers_are_kept_as_written(self):
        # JSON input, the server and every output form keep a number's text,
        # as Vault's CLI does: nothing rounds it to a double on the way.
        written = '{"big":123456789012345678901234567890,"rate":1.50,"e":1e5,"n":{"a":[1.10]}}'
        self.cli("kv", "put", "secret/numbers", "-", stdin=written)
        r = self.cli("kv", "get", "-field=big", "secret/numbers")
        self.assertEqual(r.stdout.strip(), "123456789012345678901234567890")
        r = self.cli("kv", "get", "secret/numbers")
        self.assertRegex(r.stdout, r"rate\s+1\.50\n")
        self.assertRegex(r.stdout, r"n\s+map\[a:\[1\.10\]\]\n")
        r = self.cli("kv", "get", "-format=json", "secret/numbers")
        self.assertIn('"big": 123456789012345678901234567890,', r.stdout)
        self.assertIn('"e": 1e5,', r.stdout)
        r = self.cli("kv", "get", "-format=yaml", "secret/numbers")
        self.assertIn("rate: 1.50\n", r.stdout)
        # A read-then-write patch and a rollback send the data back: as
        # written still.
        self.cli("kv", "patch", "-method=rw", "secret/numbers", "x=1")
        self.cli("kv", "rollback", "-version=1", "secret/numbers")
        r = self.cli("read", "-format=json", "-field=data", "secret/data/numbers")
        self.assertIn('"big": 123456789012345678901234567890,', r.stdout)
        self.assertIn('"rate": 1.50', r.stdout)
        self.assertNotIn('"x"', r.stdout)

    def test_value_from_file_keeps_it_out_of_argv(self):
        path = os.path.join(self.home, "pw.txt")
        with open(path, "w") as f:
            f.write("from-a-file")
        self.cli("kv", "put", "secret/filed", "pw=@" + path)
        r = self.cli("kv", "get", "-field=pw", "secret/filed")
        self.assertEqual(r.stdout.strip(), "from-a-file")

    def test_kv_v1_and_secrets_commands(self):
        self.cli("secrets", "enable", "-path=kv1", "-version=1", "kv")
        r = self.cli("secrets", "list", "-format=json")
        self.assertEqual(json.loads(r.stdout)["kv1/"]["type"], "kv")
        self.cli("kv", "put", "kv1/db", "password=v1pass")
        r = self.cli("kv", "get", "-field=password", "kv1/db")
        self.assertEqual(r.stdout.strip(), "v1pass")
        r = self.cli("read", "-format=json", "kv1/db")
        self.assertEqual(json.loads(r.stdout)["data"]["password"], "v1pass")
        self.cli("secrets", "move", "kv1", "kv1moved")
        r = self.cli("read", "-field=password", "kv1moved/db")
        self.assertEqual(r.stdout.strip(), "v1pass")
        self.cli("secrets", "disable", "kv1moved")
        r = self.cli("read", "kv1moved/db", ok=False)
        self.assertNotEqual(r.returncode, 0)

    def test_policy_token_and_capabilities(self):
        policy = os.path.join(self.home, "app.hcl")
        with open(policy, "w") as f:
            f.write('path "secret/data/shared" {\n  capabilities = ["read"]\n}\n')
        self.cli("policy", "write", "app-reader", policy)
        r = self.cli("policy", "list")
        self.assertIn("app-reader", r.stdout.split())
        r = self.cli("policy", "read", "app-reader")
        self.assertIn("secret/data/shared", r.stdout)
        self.cli("kv", "put", "secret/shared", "k=v")
        r = self.cli("token", "create", "-policy=app-reader", "-ttl=1h", "-format=json")
        child = json.loads(r.stdout)["auth"]["client_token"]
        r = self.cli("kv", "get", "-field=k", "secret/shared", token=child)
        self.assertEqual(r.stdout.strip(), "v")
        r = self.cli("kv", "put", "secret/shared", "k=w", token=child, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)
        self.assertNotIn(child, r.stderr)
        r = self.cli("token", "capabilities", "secret/data/shared", token=child)
        self.assertIn("read", r.stdout)
        r = self.cli("token", "lookup", "-format=json", token=child)
        self.assertEqual(json.loads(r.stdout)["data"]["policies"], ["app-reader", "default"])
        self.cli("token", "revoke", "-self", token=child)
        r = self.cli("kv", "get", "secret/shared", token=child, ok=False)
        self.assertNotEqual(r.returncode, 0)

    def test_login_writes_private_token_file(self):
        self.cli("login", "-", stdin=ROOT + "\n", token=None)
        path = os.path.join(self.home, ".coffer-token")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        self.assertEqual(mode, 0o600)
        r = self.cli("token", "lookup", "-format=json", token=None)
        self.assertIn("root", json.loads(r.stdout)["data"]["policies"])

    def test_wrap_and_unwrap(self):
        self.cli("kv", "put", "secret/wrapped", "answer=42")
        r = self.cli("kv", "get", "-wrap-ttl=5m", "-format=json", "secret/wrapped")
        wrapping = json.loads(r.stdout)["wrap_info"]["token"]
        r = self.cli("unwrap", "-format=json", wrapping)
        self.assertEqual(json.loads(r.stdout)["data"]["data"]["answer"], "42")
        r = self.cli("unwrap", wrapping, ok=False)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
