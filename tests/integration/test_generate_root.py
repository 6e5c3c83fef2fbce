"""A new root token from a threshold of the unseal key shares
(sys/generate-root/attempt and /update) against a real server: the server
draws the one-time pad (or takes the client's), the token leaves only XORed with it, a wrong share
or nonce fails without a token, a sealed server refuses, nothing of it
reaches the audit log, and `coffer operator generate-root` reads shares and
the pad from stdin, never argv."""

import base64
import json
import os
import secrets
import shutil
import string
import subprocess
import tempfile
import unittest

import harness


def decode(encoded, otp):
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()


class GenerateRootTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-genroot-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server = harness.start_config(data_dir=self.dir)
        self.addCleanup(self.server.cleanup)
        status, init, _ = self.req("PUT", "/v1/sys/init",
                                   {"secret_shares": 3, "secret_threshold": 2})
        self.assertEqual(status, 200, init)
        self.keys, self.root = init["keys_base64"], init["root_token"]
        for k in self.keys[:2]:
            self.req("PUT", "/v1/sys/unseal", {"key": k})

    def req(self, method, path, body=None, token=None):
        return self.server.request(method, path, body, token=token)

    def start(self):
        status, st, _ = self.req("PUT", "/v1/sys/generate-root/attempt", {})
        self.assertEqual(status, 200, st)
        self.assertTrue(st["started"])
        self.assertEqual(len(st["otp"]), st["otp_length"])
        return st

    def test_new_root_token_after_the_old_one_is_revoked(self):
        audit_log = os.path.join(self.dir, "audit.log")
        status, body, _ = self.req("PUT", "/v1/sys/audit/file",
                                   {"type": "file", "options": {"file_path": audit_log}},
                                   token=self.root)
        self.assertEqual(status, 204, body)
        status, body, _ = self.req("POST", "/v1/auth/token/revoke-self", token=self.root)
        self.assertEqual(status, 204, body)
        self.assertEqual(self.req("GET", "/v1/auth/token/lookup-self", token=self.root)[0], 403)

        status, st, _ = self.req("GET", "/v1/sys/generate-root/attempt")
        self.assertEqual(status, 200, st)
        self.assertFalse(st["started"])
        self.assertEqual(st["required"], 2)
        st = self.start()
        otp, nonce = st["otp"], st["nonce"]
        # The pad is shown once, when the attempt starts.
        self.assertEqual(self.req("GET", "/v1/sys/generate-root/attempt")[1]["otp"], "")
        # A second attempt while one is under way is refused.
        self.assertEqual(self.req("PUT", "/v1/sys/generate-root/attempt", {})[0], 400)

        status, st, _ = self.req("PUT", "/v1/sys/generate-root/update",
                                 {"key": self.keys[0], "nonce": nonce})
        self.assertEqual(status, 200, st)
        self.assertEqual((st["progress"], st["complete"], st["encoded_token"]), (1, False, ""))
        status, st, _ = self.req("PUT", "/v1/sys/generate-root/update",
                                 {"key": self.keys[2], "nonce": nonce})
        self.assertEqual(status, 200, st)
        self.assertTrue(st["complete"])
        self.assertEqual(st["encoded_token"], st["encoded_root_token"])
        token = decode(st["encoded_token"], otp)
        self.assertTrue(token.startswith("hvs."), "decoded token has the wrong shape")
        status, me, _ = self.req("GET", "/v1/auth/token/lookup-self", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["data"]["policies"], ["root"])
        # The attempt is over.
        self.assertFalse(self.req("GET", "/v1/sys/generate-root/attempt")[1]["started"])

        with open(audit_log) as f:
            log = f.read()
        self.assertNotIn("generate-root", log)
        for secret in (otp, st["encoded_token"], token, *self.keys):
            self.assertNotIn(secret, log)
        self.assertNotIn(token, "".join(self.server.output))

    def test_a_pad_the_client_chooses(self):
        # Vault's older flow (`generate-root -otp`): the client's own pad, of
        # a token's length (Coffer's 44, or Vault's 28: the root token is then
        # that long), is used and not sent back.
        for length in (44, 28):
            with self.subTest(length=length):
                self.own_pad(length)

    def own_pad(self, length):
        alphabet = string.ascii_letters + string.digits
        otp = "".join(secrets.choice(alphabet) for _ in range(length))
        status, st, _ = self.req("PUT", "/v1/sys/generate-root/attempt", {"otp": otp})
        self.assertEqual(status, 200, st)
        self.assertTrue(st["started"])
        self.assertEqual(st["otp"], "")
        for k in self.keys[:2]:
            status, st, _ = self.req("PUT", "/v1/sys/generate-root/update",
                                     {"key": k, "nonce": st["nonce"]})
            self.assertEqual(status, 200, st)
        self.assertTrue(st["complete"])
        token = decode(st["encoded_token"], otp)
        self.assertEqual(len(token), length)
        self.assertTrue(token.startswith("hvs."))
        status, me, _ = self.req("GET", "/v1/auth/token/lookup-self", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["data"]["policies"], ["root"])

    def test_wrong_share_nonce_and_refused_inputs(self):
        nonce = self.start()["nonce"]
        self.assertEqual(self.req("PUT", "/v1/sys/generate-root/update",
                                  {"key": self.keys[0], "nonce": "not-the-nonce"})[0], 400)
        status, body, _ = self.req("PUT", "/v1/sys/generate-root/update",
                                   {"key": self.keys[0], "nonce": nonce})
        self.assertEqual(status, 200, body)
        status, body, _ = self.req("PUT", "/v1/sys/generate-root/update",
                                   {"key": self.keys[0], "nonce": nonce})
        self.assertEqual(status, 400, body)  # the same share twice
        # A share of another store: the threshold is reached and fails, no token.
        other = base64.b64encode(bytes([1] * 33)).decode()
        status, body, _ = self.req("PUT", "/v1/sys/generate-root/update",
                                   {"key": other, "nonce": nonce})
        self.assertEqual(status, 400, body)
        self.assertIn("root generation failed", body["errors"][0])
        st = self.req("GET", "/v1/sys/generate-root/attempt")[1]
        self.assertEqual((st["started"], st["progress"]), (True, 0))
        # Cancel ends it.
        self.assertEqual(self.req("DELETE", "/v1/sys/generate-root/attempt")[0], 204)
        self.assertFalse(self.req("GET", "/v1/sys/generate-root/attempt")[1]["started"])
        # A client-chosen pad of another length than a token's, and PGP, are refused.
        status, body, _ = self.req("PUT", "/v1/sys/generate-root/attempt",
                                   {"otp": base64.b64encode(os.urandom(16)).decode()})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["errors"], ["OTP string must be 44 (or 28) characters long"])
        self.assertEqual(self.req("PUT", "/v1/sys/generate-root/attempt",
                                  {"pgp_key": "abc"})[0], 400)
        # Sealed: refused, and sealing cancels an attempt.
        self.start()
        self.assertEqual(self.req("PUT", "/v1/sys/seal", token=self.root)[0], 204)
        self.assertEqual(self.req("GET", "/v1/sys/generate-root/attempt")[0], 503)
        for k in self.keys[:2]:
            self.req("PUT", "/v1/sys/unseal", {"key": k})
        self.assertFalse(self.req("GET", "/v1/sys/generate-root/attempt")[1]["started"])

    def test_cli(self):
        env = dict(os.environ, COFFER_ADDR=self.server.addr)
        env.pop("COFFER_TOKEN", None)
        env.pop("VAULT_TOKEN", None)

        def cli(*args, stdin=""):
            return subprocess.run([harness.COFFER_BIN, "operator", "generate-root"] + list(args),
                                  input=stdin, capture_output=True, text=True, env=env,
                                  timeout=30)

        r = cli("-init", "-format=json")
        self.assertEqual(r.returncode, 0, r.stderr)
        started = json.loads(r.stdout)
        nonce, otp = started["nonce"], started["otp"]
        r = cli("-status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0/2", r.stdout)
        # A share on argv is refused before anything is sent.
        r = cli("-nonce=" + nonce, self.keys[0])
        self.assertEqual(r.returncode, 1)
        self.assertNotIn(self.keys[0], r.stdout + r.stderr)
        r = cli("-nonce=" + nonce, stdin=self.keys[0] + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1/2", r.stdout)
        r = cli("-format=json", stdin=self.keys[1] + "\n")  # nonce read from the server
        self.assertEqual(r.returncode, 0, r.stderr)
        done = json.loads(r.stdout)
        self.assertTrue(done["complete"])
        # The pad on argv is refused; on stdin it decodes the token.
        r = cli("-decode=" + done["encoded_token"], "-otp=" + otp)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn(otp, r.stdout + r.stderr)
        r = cli("-decode=" + done["encoded_token"], stdin=otp + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        token = r.stdout.strip()
        self.assertEqual(token, decode(done["encoded_token"], otp))
        status, me, _ = self.req("GET", "/v1/auth/token/lookup-self", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["data"]["policies"], ["root"])
        r = cli("-cancel")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
