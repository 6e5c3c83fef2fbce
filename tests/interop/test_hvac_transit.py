"""The real Python client hvac (Debian's python3-hvac) drives the transit
engine of a dev server through its own transit methods: keys, encrypt,
decrypt, rotate, rewrap, datakey, hmac, sign/verify, export, backup/restore,
trim, random and hash."""

import base64
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402

ROOT = "root-" + uuid.uuid4().hex


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


class HvacTransitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.client = hvac.Client(url=cls.server.addr, token=ROOT)
        cls.client.sys.enable_secrets_engine("transit", path="transit")
        cls.transit = cls.client.secrets.transit

    @classmethod
    def tearDownClass(cls):
        cls.client.adapter.close()
        cls.server.cleanup()

    def unique(self, prefix):
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])

    def test_encrypt_decrypt_rotate_rewrap(self):
        name = self.unique("app")
        self.transit.create_key(name)
        key = self.transit.read_key(name)["data"]
        self.assertEqual(key["type"], "aes256-gcm96")
        self.assertIn(name, self.transit.list_keys()["data"]["keys"])

        ct = self.transit.encrypt_data(name, b64("card 4111"))["data"]["ciphertext"]
        self.assertTrue(ct.startswith("vault:v1:"))
        pt = self.transit.decrypt_data(name, ct)["data"]["plaintext"]
        self.assertEqual(base64.b64decode(pt), b"card 4111")

        self.transit.rotate_key(name)
        self.assertEqual(self.transit.read_key(name)["data"]["latest_version"], 2)
        new = self.transit.rewrap_data(name, ct)["data"]["ciphertext"]
        self.assertTrue(new.startswith("vault:v2:"))
        self.assertEqual(base64.b64decode(self.transit.decrypt_data(name, new)["data"]
                                          ["plaintext"]), b"card 4111")

        self.transit.update_key_configuration(name, min_decryption_version=2,
                                              deletion_allowed=True)
        with self.assertRaises(exceptions.InvalidRequest):
            self.transit.decrypt_data(name, ct)
        self.transit.trim_key(name, min_version=2)
        self.assertEqual(self.transit.read_key(name)["data"]["min_available_version"], 2)
        self.transit.delete_key(name)
        with self.assertRaises(exceptions.InvalidPath):
            self.transit.read_key(name)

    def test_batch(self):
        name = self.unique("batch")
        self.transit.create_key(name, key_type="chacha20-poly1305")
        items = [{"plaintext": b64("n%d" % i)} for i in range(10)]
        res = self.transit.encrypt_data(name, plaintext=None, batch_input=items)
        cts = [r["ciphertext"] for r in res["data"]["batch_results"]]
        dec = self.transit.decrypt_data(name, ciphertext=None,
                                        batch_input=[{"ciphertext": c} for c in cts])
        self.assertEqual([base64.b64decode(r["plaintext"]) for r in dec["data"]["batch_results"]],
                         [b"n%d" % i for i in range(10)])

    def test_datakey_and_hmac(self):
        name = self.unique("dk")
        self.transit.create_key(name)
        dk = self.transit.generate_data_key(name, key_type="plaintext", bits=512)["data"]
        self.assertEqual(len(base64.b64decode(dk["plaintext"])), 64)
        back = self.transit.decrypt_data(name, dk["ciphertext"])["data"]["plaintext"]
        self.assertEqual(back, dk["plaintext"])
        wrapped = self.transit.generate_data_key(name, key_type="wrapped")["data"]
        self.assertNotIn("plaintext", wrapped)

        mac = self.transit.generate_hmac(name, b64("message"), algorithm="sha2-512")
        mac = mac["data"]["hmac"]
        ok = self.transit.verify_signed_data(name, b64("message"), hmac=mac,
                                             hash_algorithm="sha2-512")
        self.assertTrue(ok["data"]["valid"])
        bad = self.transit.verify_signed_data(name, b64("messages"), hmac=mac,
                                              hash_algorithm="sha2-512")
        self.assertFalse(bad["data"]["valid"])

    def test_sign_verify(self):
        for key_type in ("ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"):
            name = self.unique(key_type)
            self.transit.create_key(name, key_type=key_type)
            sig = self.transit.sign_data(name, b64("doc"), hash_algorithm="sha2-256")
            sig = sig["data"]["signature"]
            self.assertTrue(sig.startswith("vault:v1:"))
            ok = self.transit.verify_signed_data(name, b64("doc"), signature=sig,
                                                 hash_algorithm="sha2-256")
            self.assertTrue(ok["data"]["valid"], key_type)
            bad = self.transit.verify_signed_data(name, b64("dog"), signature=sig,
                                                  hash_algorithm="sha2-256")
            self.assertFalse(bad["data"]["valid"], key_type)
        name = self.unique("jws")
        self.transit.create_key(name, key_type="ecdsa-p256")
        sig = self.transit.sign_data(name, b64("doc"), marshaling_algorithm="jws")
        self.assertTrue(self.transit.verify_signed_data(
            name, b64("doc"), signature=sig["data"]["signature"],
            marshaling_algorithm="jws")["data"]["valid"])

    def test_export_backup_restore(self):
        name = self.unique("exp")
        self.transit.create_key(name, exportable=True, allow_plaintext_backup=True)
        exported = self.transit.export_key(name, key_type="encryption-key", version="latest")
        self.assertEqual(len(base64.b64decode(exported["data"]["keys"]["1"])), 32)
        ct = self.transit.encrypt_data(name, b64("keep me"))["data"]["ciphertext"]
        backup = self.transit.backup_key(name)["data"]["backup"]
        copy = self.unique("copy")
        self.transit.restore_key(backup, name=copy)
        pt = self.transit.decrypt_data(copy, ct)["data"]["plaintext"]
        self.assertEqual(base64.b64decode(pt), b"keep me")
        with self.assertRaises(exceptions.InvalidRequest):
            self.transit.restore_key(backup, name=copy)
        self.transit.restore_key(backup, name=copy, force=True)

        plain = self.unique("plain")
        self.transit.create_key(plain)
        with self.assertRaises(exceptions.InvalidRequest):
            self.transit.export_key(plain, key_type="encryption-key")
        with self.assertRaises(exceptions.InvalidRequest):
            self.transit.backup_key(plain)

    def test_random_and_hash(self):
        r = self.transit.generate_random_bytes(n_bytes=24, output_format="hex")
        self.assertEqual(len(r["data"]["random_bytes"]), 48)
        h = self.transit.hash_data(b64("abc"), algorithm="sha2-256")
        self.assertEqual(h["data"]["sum"],
                         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

    def test_bad_input_raises_invalid_request(self):
        name = self.unique("bad")
        self.transit.create_key(name)
        for ct in ("vault:v1:@@@", "vault:v99:AAAA", "garbage"):
            with self.assertRaises(exceptions.InvalidRequest):
                self.transit.decrypt_data(name, ct)
        with self.assertRaises(exceptions.InvalidRequest):
            self.transit.encrypt_data(name, "not base64!")


if __name__ == "__main__":
    unittest.main()
