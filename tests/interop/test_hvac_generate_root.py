"""hvac (Debian's python3-hvac) makes a new root token from the unseal key
shares: read_root_generation_progress, start_root_token_generation (the
server draws the one-time pad), generate_root, cancel_root_generation; the
decoded token works as root."""

import base64
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402


class HvacGenerateRootTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-hvac-genroot-")
        self.server = harness.start_config(self.dir, harness.write_config(self.dir))
        self.client = hvac.Client(url=self.server.addr)
        result = self.client.sys.initialize(secret_shares=5, secret_threshold=3)
        self.keys, self.root = result["keys"], result["root_token"]
        self.client.sys.submit_unseal_keys(self.keys[:3])

    def tearDown(self):
        self.client.adapter.close()
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_generate_root(self):
        c = self.client
        self.assertFalse(c.sys.read_root_generation_progress()["started"])
        started = c.sys.start_root_token_generation()
        self.assertTrue(started["started"])
        otp, nonce = started["otp"], started["nonce"]
        self.assertEqual(len(otp), started["otp_length"])
        c.sys.cancel_root_generation()
        self.assertFalse(c.sys.read_root_generation_progress()["started"])

        started = c.sys.start_root_token_generation()
        otp, nonce = started["otp"], started["nonce"]
        with self.assertRaises(exceptions.InvalidRequest):
            c.sys.generate_root(self.keys[0], "wrong-nonce")
        for key in self.keys[1:3]:
            progress = c.sys.generate_root(key, nonce)
            self.assertFalse(progress["complete"])
        done = c.sys.generate_root(self.keys[4], nonce)
        self.assertTrue(done["complete"])
        encoded = done["encoded_token"]
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        token = bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()

        new_root = hvac.Client(url=self.server.addr, token=token)
        self.addCleanup(new_root.adapter.close)
        me = new_root.auth.token.lookup_self()["data"]
        self.assertEqual(me["policies"], ["root"])
        self.assertNotEqual(token, self.root)
        # A root token can do what the old one could.
        new_root.sys.enable_secrets_engine("kv", path="after-root", options={"version": "2"})
        self.assertIn("after-root/", new_root.sys.list_mounted_secrets_engines()["data"])


if __name__ == "__main__":
    unittest.main()
