"""The real Python client hvac (Debian's python3-hvac) drives the seal
lifecycle: init, unseal, seal-status, health, key-status, rotate."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402


class HvacCoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-hvac-")
        self.server = harness.start_config(self.dir, harness.write_config(self.dir))
        self.client = hvac.Client(url=self.server.addr)

    def tearDown(self):
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_seal_lifecycle(self):
        c = self.client
        self.assertFalse(c.sys.is_initialized())
        health = c.sys.read_health_status(method="GET")
        self.assertEqual(health.status_code, 501)

        result = c.sys.initialize(secret_shares=5, secret_threshold=3)
        keys, root = result["keys"], result["root_token"]
        self.assertEqual(len(keys), 5)
        self.assertTrue(c.sys.is_initialized())
        self.assertTrue(c.sys.is_sealed())
        self.assertEqual(c.sys.read_health_status(method="HEAD").status_code, 503)
        # The *code parameters change the answer, as load balancers rely on.
        # (hvac hands back the parsed body for a 200 and the response otherwise.)
        health = c.sys.read_health_status(method="GET", sealed_code=200)
        self.assertIsInstance(health, dict)
        self.assertTrue(health["sealed"])

        status = c.sys.read_seal_status()
        self.assertEqual((status["t"], status["n"], status["progress"]), (3, 5, 0))
        # The leader answer does not wait for the unseal, as Vault's without HA.
        self.assertFalse(c.sys.read_leader_status()["ha_enabled"])

        status = c.sys.submit_unseal_key(keys[2])
        self.assertEqual(status["progress"], 1)
        status = c.sys.submit_unseal_key(reset=True)
        self.assertEqual(status["progress"], 0)
        status = c.sys.submit_unseal_keys([keys[4], keys[0], keys[3]])
        self.assertFalse(status["sealed"])
        self.assertFalse(c.sys.is_sealed())

        health = c.sys.read_health_status(method="GET")
        self.assertTrue(health["initialized"])
        self.assertFalse(health["sealed"])
        self.assertEqual(c.sys.read_health_status(method="HEAD").status_code, 200)

        c.token = root
        status = c.sys.get_encryption_key_status()
        term = status["data"]["term"] if "data" in status else status["term"]
        self.assertEqual(term, 1)
        c.sys.rotate_encryption_key()
        status = c.sys.get_encryption_key_status()
        self.assertEqual(status["data"]["term"], 2)
        self.assertEqual(status["term"], 2)
        self.assertIn("install_time", status["data"])

        # An unauthenticated client may not rotate.
        anon = hvac.Client(url=self.server.addr)
        with self.assertRaises(exceptions.Forbidden):
            anon.sys.rotate_encryption_key()

        # A single node keeps the active role: step-down succeeds (sudo) and
        # changes nothing; an unauthenticated client may not ask.
        self.assertEqual(c.sys.step_down().status_code, 204)
        self.assertFalse(c.sys.is_sealed())
        with self.assertRaises(exceptions.Forbidden):
            anon.sys.step_down()

        c.sys.seal()
        self.assertTrue(c.sys.is_sealed())
        with self.assertRaises(exceptions.VaultDown):
            c.sys.get_encryption_key_status()


if __name__ == "__main__":
    unittest.main()
