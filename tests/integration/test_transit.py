"""The transit engine against a real dev server: encryption round trips over
HTTP, bad input answered 400 without plaintext, cross-checks with independent
implementations (Python's cryptography for AES-GCM, the openssl command line
for ed25519 and ECDSA signatures, both ways), create-on-encrypt under an ACL,
automatic rotation on a short real period, sys/tools, and the generic CLI."""

import base64
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

import harness

ROOT = "transit-test-root-token"
CANARY = "TRANSIT-CANARY-PLAINTEXT-5521"


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


class TransitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        # A mount that accepts auto_rotate_period down to 1s (Vault's floor is 1h).
        st, body, _ = cls.server.request(
            "POST", "/v1/sys/mounts/transit",
            {"type": "transit", "options": {"min_auto_rotate_period": "1s"}}, token=ROOT)
        assert st in (200, 204), (st, body)
        cls.tmp = tempfile.mkdtemp(prefix="coffer-transit-")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def req(self, method, path, body=None, token=ROOT, status=None):
        st, data, _ = self.server.request(method, "/v1/" + path, body, token=token)
        if status is not None:
            self.assertEqual(st, status, (method, path, data))
        return st, data

    def ok(self, method, path, body=None):
        st, data = self.req(method, path, body)
        self.assertLess(st, 300, (method, path, data))
        return (data or {}).get("data")

    def bad(self, path, body):
        st, data = self.req("POST", path, body)
        self.assertEqual(st, 400, (path, data))
        self.assertIn("errors", data)
        self.assertNotIn(CANARY, str(data))
        self.assertNotIn(b64(CANARY), str(data))
        return " ".join(data["errors"])

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_encrypt_decrypt_rotate_rewrap(self):
        self.ok("POST", "transit/keys/app")
        ct = self.ok("POST", "transit/encrypt/app", {"plaintext": b64(CANARY)})["ciphertext"]
        self.assertTrue(ct.startswith("vault:v1:"))
        pt = self.ok("POST", "transit/decrypt/app", {"ciphertext": ct})["plaintext"]
        self.assertEqual(base64.b64decode(pt).decode(), CANARY)
        self.assertEqual(self.ok("POST", "transit/keys/app/rotate")["latest_version"], 2)
        new = self.ok("POST", "transit/rewrap/app", {"ciphertext": ct})["ciphertext"]
        self.assertTrue(new.startswith("vault:v2:"))
        keys = self.ok("LIST", "transit/keys")["keys"]
        self.assertIn("app", keys)
        self.assertNotIn(CANARY, self.server.log())

    def test_bad_input_is_400_without_plaintext(self):
        self.ok("POST", "transit/keys/strict")
        self.ok("POST", "transit/keys/stranger")
        ct = self.ok("POST", "transit/encrypt/strict", {"plaintext": b64(CANARY)})["ciphertext"]
        raw = base64.b64decode(ct[len("vault:v1:"):])
        self.assertIn("base64", self.bad("transit/encrypt/strict", {"plaintext": "%%%"}))
        self.assertIn("base64", self.bad("transit/decrypt/strict", {"ciphertext": "vault:v1:@@"}))
        self.assertIn("v99", self.bad("transit/decrypt/strict",
                                      {"ciphertext": "vault:v99:" + ct[9:]}))
        self.assertIn("too short", self.bad("transit/decrypt/strict",
                                            {"ciphertext": "vault:v1:" + b64(raw[:10])}))
        self.assertIn("authentication", self.bad("transit/decrypt/strict",
                                                 {"ciphertext": "vault:v1:" + b64(raw[:-1])}))
        other = self.ok("POST", "transit/encrypt/stranger", {"plaintext": b64(CANARY)})
        self.assertIn("authentication", self.bad("transit/decrypt/strict",
                                                 {"ciphertext": other["ciphertext"]}))
        self.ok("POST", "transit/keys/ctx", {"derived": True})
        dct = self.ok("POST", "transit/encrypt/ctx",
                      {"plaintext": b64(CANARY), "context": b64("a")})["ciphertext"]
        self.assertIn("authentication", self.bad("transit/decrypt/ctx",
                                                 {"ciphertext": dct, "context": b64("b")}))
        self.assertIn("nonce", self.bad("transit/encrypt/strict",
                                        {"plaintext": b64("x"), "nonce": b64("123456789012")}))
        self.assertNotIn(CANARY, self.server.log())

    def test_exported_keys_decrypt_with_python_cryptography(self):
        for key_type, aead in (("aes256-gcm96", AESGCM), ("aes128-gcm96", AESGCM),
                               ("chacha20-poly1305", ChaCha20Poly1305)):
            name = "exp-" + key_type
            self.ok("POST", "transit/keys/" + name, {"type": key_type, "exportable": True})
            ct = self.ok("POST", "transit/encrypt/" + name,
                         {"plaintext": b64("interop works"),
                          "associated_data": b64("aad")})["ciphertext"]
            key = self.ok("GET", "transit/export/encryption-key/%s/1" % name)["keys"]["1"]
            raw = base64.b64decode(ct.split(":", 2)[2])
            plain = aead(base64.b64decode(key)).decrypt(raw[:12], raw[12:], b"aad")
            self.assertEqual(plain, b"interop works", key_type)
            # And the other way: a ciphertext made by cryptography decrypts in Coffer.
            nonce = os.urandom(12)
            theirs = aead(base64.b64decode(key)).encrypt(nonce, b"from python", None)
            pt = self.ok("POST", "transit/decrypt/" + name,
                         {"ciphertext": "vault:v1:" + b64(nonce + theirs)})["plaintext"]
            self.assertEqual(base64.b64decode(pt), b"from python")

    def openssl(self, *args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_signatures_cross_checked_with_openssl(self):
        data = b"signed by coffer, checked by openssl"
        msg = self.write("msg", data)
        # ECDSA P-256: Coffer signs, openssl verifies (DER over SHA-256).
        self.ok("POST", "transit/keys/ec", {"type": "ecdsa-p256", "exportable": True})
        sig = self.ok("POST", "transit/sign/ec/sha2-256",
                      {"input": b64(data)})["signature"]
        pub = self.ok("GET", "transit/export/public-key/ec/1")["keys"]["1"]
        pub_path = self.write("ec.pub.pem", pub.encode())
        sig_path = self.write("ec.sig", base64.b64decode(sig.split(":", 2)[2]))
        rc, out = self.openssl("dgst", "-sha256", "-verify", pub_path, "-signature", sig_path, msg)
        self.assertEqual(rc, 0, out)
        self.assertIn("Verified OK", out)
        # openssl signs with the exported private key, Coffer verifies.
        priv = self.ok("GET", "transit/export/signing-key/ec/1")["keys"]["1"]
        priv_path = self.write("ec.pem", priv.encode())
        theirs = os.path.join(self.tmp, "ec.theirs.sig")
        rc, out = self.openssl("dgst", "-sha256", "-sign", priv_path, "-out", theirs, msg)
        self.assertEqual(rc, 0, out)
        with open(theirs, "rb") as f:
            their_sig = "vault:v1:" + b64(f.read())
        self.assertTrue(self.ok("POST", "transit/verify/ec/sha2-256",
                                {"input": b64(data), "signature": their_sig})["valid"])
        self.assertFalse(self.ok("POST", "transit/verify/ec/sha2-256",
                                 {"input": b64(data + b"!"), "signature": their_sig})["valid"])

        # Ed25519 both ways (openssl pkeyutl -rawin).
        self.ok("POST", "transit/keys/ed", {"type": "ed25519", "exportable": True})
        sig = self.ok("POST", "transit/sign/ed", {"input": b64(data)})["signature"]
        raw_pub = base64.b64decode(self.ok("GET", "transit/keys/ed")["keys"]["1"]["public_key"])
        pem = ed25519.Ed25519PublicKey.from_public_bytes(raw_pub).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        pub_path = self.write("ed.pub.pem", pem)
        sig_path = self.write("ed.sig", base64.b64decode(sig.split(":", 2)[2]))
        rc, out = self.openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub_path, "-rawin",
                               "-in", msg, "-sigfile", sig_path)
        self.assertEqual(rc, 0, out)
        self.assertIn("Signature Verified Successfully", out)
        both = base64.b64decode(self.ok("GET", "transit/export/signing-key/ed/1")["keys"]["1"])
        priv = ed25519.Ed25519PrivateKey.from_private_bytes(both[:32])
        self.assertEqual(priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw), both[32:])
        priv_path = self.write("ed.pem", priv.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        theirs = os.path.join(self.tmp, "ed.theirs.sig")
        rc, out = self.openssl("pkeyutl", "-sign", "-inkey", priv_path, "-rawin", "-in", msg,
                               "-out", theirs)
        self.assertEqual(rc, 0, out)
        with open(theirs, "rb") as f:
            their_sig = "vault:v1:" + b64(f.read())
        self.assertTrue(self.ok("POST", "transit/verify/ed",
                                {"input": b64(data), "signature": their_sig})["valid"])

    def test_encrypt_creates_key_only_with_create_capability(self):
        self.req("PUT", "sys/policies/acl/enc-update", {
            "policy": 'path "transit/encrypt/*" { capabilities = ["update"] }'}, status=204)
        self.req("PUT", "sys/policies/acl/enc-create", {
            "policy": 'path "transit/encrypt/*" { capabilities = ["create", "update"] }'},
            status=204)
        tokens = {}
        for pol in ("enc-update", "enc-create"):
            _, body = self.req("POST", "auth/token/create", {"policies": [pol], "ttl": "1h"})
            tokens[pol] = body["auth"]["client_token"]
        st, _ = self.req("POST", "transit/encrypt/upserted", {"plaintext": b64("x")},
                         token=tokens["enc-update"])
        self.assertEqual(st, 403)
        st, body = self.req("POST", "transit/encrypt/upserted", {"plaintext": b64("x")},
                            token=tokens["enc-create"])
        self.assertEqual(st, 200, body)
        self.assertEqual(self.ok("GET", "transit/keys/upserted")["type"], "aes256-gcm96")
        # Now it exists, update alone is enough.
        st, body = self.req("POST", "transit/encrypt/upserted", {"plaintext": b64("y")},
                            token=tokens["enc-update"])
        self.assertEqual(st, 200, body)

    def test_auto_rotate_on_a_short_real_period(self):
        self.ok("POST", "transit/keys/auto", {"auto_rotate_period": "1s"})
        self.assertEqual(self.ok("GET", "transit/keys/auto")["auto_rotate_period"], 1)
        deadline = time.monotonic() + 30
        latest = 1
        while latest < 2 and time.monotonic() < deadline:
            latest = self.ok("GET", "transit/keys/auto")["latest_version"]
            if latest < 2:
                time.sleep(0.05)  # poll interval, not a wait for the result
        self.assertGreaterEqual(latest, 2)
        self.ok("POST", "transit/keys/auto/config", {"auto_rotate_period": 0})

    def test_batch_and_datakey_and_hmac(self):
        self.ok("POST", "transit/keys/batch")
        items = [{"plaintext": b64("item%d" % i)} for i in range(100)]
        res = self.ok("POST", "transit/encrypt/batch", {"batch_input": items})["batch_results"]
        self.assertEqual(len(res), 100)
        dec = self.ok("POST", "transit/decrypt/batch",
                      {"batch_input": [{"ciphertext": r["ciphertext"]} for r in res]})
        self.assertEqual([base64.b64decode(r["plaintext"]).decode()
                          for r in dec["batch_results"]], ["item%d" % i for i in range(100)])
        dk = self.ok("POST", "transit/datakey/plaintext/batch", {"bits": 128})
        self.assertEqual(len(base64.b64decode(dk["plaintext"])), 16)
        mac = self.ok("POST", "transit/hmac/batch", {"input": b64("m")})["hmac"]
        self.assertTrue(self.ok("POST", "transit/verify/batch",
                                {"input": b64("m"), "hmac": mac})["valid"])

    def test_sys_tools_and_transit_tools(self):
        for prefix in ("sys/tools", "transit"):
            r = self.ok("POST", prefix + "/random/48", {"format": "hex"})
            self.assertEqual(len(r["random_bytes"]), 96)
            r = self.ok("POST", prefix + "/hash/sha2-256", {"input": b64("abc")})
            self.assertEqual(
                r["sum"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            st, _ = self.req("POST", prefix + "/random/0", {})
            self.assertEqual(st, 400)

    def test_generic_cli_write_and_read(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "COFFER_TOKEN": ROOT, "HOME": self.tmp})

        def cli(*args):
            r = subprocess.run([harness.COFFER_BIN] + list(args), capture_output=True, text=True,
                               env=env, timeout=60)
            self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
            return r.stdout.strip()

        cli("write", "-f", "transit/keys/cli")
        ct = cli("write", "-field=ciphertext", "transit/encrypt/cli", "plaintext=" + b64("hi cli"))
        self.assertTrue(ct.startswith("vault:v1:"), ct)
        pt = cli("write", "-field=plaintext", "transit/decrypt/cli", "ciphertext=" + ct)
        self.assertEqual(base64.b64decode(pt), b"hi cli")
        self.assertEqual(cli("read", "-field=type", "transit/keys/cli"), "aes256-gcm96")


if __name__ == "__main__":
    unittest.main()
