"""`coffer kv enable-versioning`: a KV version 1 mount upgraded in place to
version 2 on the real binary with the embedded local store; the secrets read
as version 1 of versioned secrets, and still do after a restart."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

SECRETS = {
    "app": {"user": "alice", "pass": "canary-kv-upgrade-91c2"},
    "team/db": {"dsn": "postgres://db", "port": 5432},
    "a/b/c": {"deep": "value"},
    "metadata/looks-internal": {"still": "a secret"},
}


class KvUpgradeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-kvup-")
        self.config = harness.write_config(self.dir)
        self.home = tempfile.mkdtemp(prefix="coffer-kvup-home-")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)

    def start(self):
        if self.server:
            self.server.stop()
        self.server = harness.start_config(self.dir, self.config)
        return self.server

    def unseal(self, key):
        code, st, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": key})
        self.assertEqual(code, 200, st)
        self.assertFalse(st["sealed"])

    def cli(self, *args, ok=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": self.home,
                    "COFFER_TOKEN": self.root})
        r = subprocess.run([harness.COFFER_BIN] + list(args), capture_output=True, text=True,
                           env=env, timeout=60)
        if ok:
            self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r

    def check_v2(self):
        s = self.server
        for key, data in SECRETS.items():
            code, body, _ = s.request("GET", "/v1/kv/data/" + key, token=self.root)
            self.assertEqual(code, 200, (key, body))
            self.assertEqual(body["data"]["data"], data)
            self.assertEqual(body["data"]["metadata"]["version"], 1)
            code, meta, _ = s.request("GET", "/v1/kv/metadata/" + key, token=self.root)
            self.assertEqual(code, 200, (key, meta))
            self.assertEqual(meta["data"]["current_version"], 1)
        r = self.cli("kv", "get", "-format=json", "kv/app")
        got = json.loads(r.stdout)["data"]
        self.assertEqual(got["data"], SECRETS["app"])
        self.assertEqual(got["metadata"]["version"], 1)
        r = self.cli("kv", "get", "-field=deep", "kv/a/b/c")
        self.assertEqual(r.stdout.strip(), "value")
        code, body, _ = s.request("LIST", "/v1/kv/metadata/", token=self.root)
        self.assertEqual(code, 200, body)
        self.assertEqual(sorted(body["data"]["keys"]), ["a/", "app", "metadata/", "team/"])
        code, body, _ = s.request("GET", "/v1/sys/internal/ui/mounts/kv", token=self.root)
        self.assertEqual(body["data"]["options"], {"version": "2"})

    def test_enable_versioning_converts_in_place_and_survives_a_restart(self):
        s = self.start()
        code, init, _ = s.request("PUT", "/v1/sys/init",
                                  {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(code, 200, init)
        self.root, key = init["root_token"], init["keys"][0]
        self.unseal(key)
        code, body, _ = s.request("POST", "/v1/sys/mounts/kv", {"type": "kv"}, token=self.root)
        self.assertEqual(code, 204, body)
        for k, data in SECRETS.items():
            code, body, _ = s.request("POST", "/v1/kv/" + k, data, token=self.root)
            self.assertEqual(code, 204, (k, body))

        r = self.cli("kv", "enable-versioning", "kv")
        self.assertEqual(r.stdout.strip(), "Success! Tuned the secrets engine at: kv/")
        code, body, _ = s.request("GET", "/v1/sys/mounts", token=self.root)
        self.assertEqual(body["data"]["kv/"]["options"], {"version": "2"})
        self.check_v2()
        # The v1 paths are gone; a second enable-versioning changes nothing.
        self.assertEqual(s.request("GET", "/v1/kv/app", token=self.root)[0], 404)
        self.cli("kv", "enable-versioning", "kv/")
        # Downgrading is refused with a clear message.
        code, body, _ = s.request("POST", "/v1/sys/mounts/kv/tune",
                                  {"options": {"version": "1"}}, token=self.root)
        self.assertEqual(code, 400, body)
        self.assertIn("downgrade", body["errors"][0])
        # New writes version on top of the converted secret.
        self.cli("kv", "put", "kv/app", "user=bob")
        r = self.cli("kv", "get", "-version=1", "-field=user", "kv/app")
        self.assertEqual(r.stdout.strip(), "alice")
        self.cli("kv", "put", "kv/app", "user=alice", "pass=" + SECRETS["app"]["pass"])

        self.start()
        self.unseal(key)
        code, body, _ = self.server.request("GET", "/v1/kv/data/app", token=self.root)
        self.assertEqual(body["data"]["metadata"]["version"], 3)
        for k in SECRETS:
            if k == "app":
                continue
            code, body, _ = self.server.request("GET", "/v1/kv/data/" + k, token=self.root)
            self.assertEqual((code, body["data"]["data"]), (200, SECRETS[k]))
        r = self.cli("kv", "get", "-field=deep", "kv/a/b/c")
        self.assertEqual(r.stdout.strip(), "value")
        # No secret value reached the server's log.
        self.assertNotIn(SECRETS["app"]["pass"], self.server.log())

    def test_enable_versioning_of_a_missing_or_v2_mount(self):
        s = self.start()
        _, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.root = init["root_token"]
        self.unseal(init["keys"][0])
        r = self.cli("kv", "enable-versioning", "nothing-here", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nothing-here", r.stderr)
        s.request("POST", "/v1/sys/mounts/v2", {"type": "kv-v2"}, token=self.root)
        r = self.cli("kv", "enable-versioning", "v2")
        self.assertIn("Success! Tuned the secrets engine at: v2/", r.stdout)


if __name__ == "__main__":
    unittest.main()
