"""hvac (Debian's python3-hvac) enables a file audit device, lists it,
computes sys/audit-hash for a value it wrote, finds that exact HMAC in the
log, and disables the device."""

import json
import os
import shutil
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402

ROOT = "root-" + uuid.uuid4().hex


class HvacAuditTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.client = hvac.Client(url=cls.server.addr, token=ROOT)
        cls.dir = tempfile.mkdtemp(prefix="coffer-hvac-audit-")

    @classmethod
    def tearDownClass(cls):
        cls.client.adapter.close()
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_enable_hash_and_find_the_logged_value(self):
        log = os.path.join(self.dir, "audit.log")
        self.client.sys.enable_audit_device(device_type="file", path="hvac-file",
                                            description="hvac test",
                                            options={"file_path": log})
        devices = self.client.sys.list_enabled_audit_devices()
        self.assertEqual(devices["data"]["hvac-file/"]["type"], "file")
        self.assertEqual(devices["data"]["hvac-file/"]["options"]["file_path"], log)

        value = "hvac-secret-" + uuid.uuid4().hex
        self.client.secrets.kv.v2.create_or_update_secret("audited", {"password": value})
        read = self.client.secrets.kv.v2.read_secret_version("audited")
        self.assertEqual(read["data"]["data"]["password"], value)

        hashed = self.client.sys.calculate_hash("hvac-file", value)
        digest = hashed["data"]["hash"]
        self.assertTrue(digest.startswith("hmac-sha256:"))
        # The token is hashed the same way.
        token_hash = self.client.sys.calculate_hash("hvac-file", ROOT)["data"]["hash"]

        with open(log) as f:
            entries = [json.loads(line) for line in f]
        writes = [e for e in entries if e["type"] == "request"
                  and e["request"]["path"] == "secret/data/audited"
                  and e["request"]["operation"] in ("create", "update")]
        self.assertEqual(writes[0]["request"]["data"]["data"]["password"], digest)
        self.assertEqual(writes[0]["auth"]["client_token"], token_hash)
        reads = [e for e in entries if e["type"] == "response"
                 and e["request"]["path"] == "secret/data/audited"
                 and e["request"]["operation"] == "read"]
        self.assertEqual(reads[0]["response"]["data"]["data"]["password"], digest)
        self.assertNotIn(value, open(log).read())

        self.client.sys.disable_audit_device("hvac-file")
        self.assertEqual(self.client.sys.list_enabled_audit_devices()["data"], {})


if __name__ == "__main__":
    unittest.main()
