"""hvac (Debian's python3-hvac) rekeys the unseal key: start_rekey,
read_rekey_progress, rekey_multi, cancel_rekey, and the verification calls;
after a seal the new shares unseal and the old ones do not."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402


class HvacRekeyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-hvac-rekey-")
        self.server = harness.start_config(self.dir, harness.write_config(self.dir))
        self.client = hvac.Client(url=self.server.addr)
        result = self.client.sys.initialize(secret_shares=5, secret_threshold=3)
        self.keys, self.root = result["keys"], result["root_token"]
        self.client.sys.submit_unseal_keys(self.keys[:3])
        self.assertFalse(self.client.sys.is_sealed())

    def tearDown(self):
        self.client.adapter.close()
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def seal_and_try(self, keys):
        if not self.client.sys.is_sealed():
            self.client.token = self.root
            self.client.sys.seal()
            self.client.token = None
        try:
            self.client.sys.submit_unseal_keys(keys)
        except exceptions.InvalidRequest:
            pass
        sealed = self.client.sys.is_sealed()
        self.client.sys.submit_unseal_key(reset=True)
        return not sealed

    def test_rekey(self):
        c = self.client
        self.assertFalse(c.sys.read_rekey_progress()["started"])
        started = c.sys.start_rekey(secret_shares=3, secret_threshold=2)
        self.assertTrue(started["started"])
        self.assertEqual((started["n"], started["t"], started["required"]), (3, 2, 3))
        progress = c.sys.rekey(self.keys[0], nonce=started["nonce"])
        self.assertEqual(progress["progress"], 1)
        done = c.sys.rekey_multi(self.keys[1:3], nonce=started["nonce"])
        self.assertTrue(done["complete"])
        new = done["keys"]
        self.assertEqual(len(new), 3)
        self.assertFalse(c.sys.read_rekey_progress()["started"])

        self.assertFalse(self.seal_and_try(self.keys[:3]))
        self.assertTrue(self.seal_and_try(new[:2]))

    def test_cancel_and_refusals(self):
        c = self.client
        started = c.sys.start_rekey(secret_shares=3, secret_threshold=2)
        with self.assertRaises(exceptions.InvalidRequest):
            c.sys.start_rekey(secret_shares=3, secret_threshold=2)
        with self.assertRaises(exceptions.InvalidRequest):
            c.sys.rekey(self.keys[0], nonce="not-the-nonce")
        c.sys.cancel_rekey()
        self.assertFalse(c.sys.read_rekey_progress()["started"])
        with self.assertRaises(exceptions.InvalidRequest):
            c.sys.rekey(self.keys[0], nonce=started["nonce"])
        with self.assertRaises(exceptions.InvalidRequest):
            c.sys.start_rekey(secret_shares=2, secret_threshold=2,
                              pgp_keys=["a", "b"])
        self.assertTrue(self.seal_and_try(self.keys[2:5]))

    def test_verification(self):
        c = self.client
        started = c.sys.start_rekey(secret_shares=4, secret_threshold=2,
                                    require_verification=True)
        self.assertTrue(started["verification_required"])
        done = c.sys.rekey_multi(self.keys[:3], nonce=started["nonce"])
        self.assertTrue(done["complete"])
        vnonce = done["verification_nonce"]
        progress = c.sys.read_rekey_verify_progress()
        self.assertEqual((progress["nonce"], progress["t"], progress["n"]), (vnonce, 2, 4))
        cancelled = c.sys.cancel_rekey_verify()
        vnonce = cancelled["nonce"] if isinstance(cancelled, dict) else \
            c.sys.read_rekey_verify_progress()["nonce"]
        verified = c.sys.rekey_verify_multi(done["keys"][2:4], nonce=vnonce)
        self.assertTrue(verified["complete"])
        self.assertFalse(self.seal_and_try(self.keys[:3]))
        self.assertTrue(self.seal_and_try(done["keys"][:2]))


if __name__ == "__main__":
    unittest.main()
