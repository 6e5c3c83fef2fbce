"""Init, unseal, write, seal, restart, unseal, read: the real binary with a
config file and the embedded local store."""

import http.client
import itertools
import json
import os
import random
import shutil
import tempfile
import threading
import time
import unittest

import harness

CANARY = "canary-plaintext-4f1d2c9e7b"


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-life-")
        self.config = harness.write_config(self.dir)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        if self.server:
            self.server.stop()
        self.server = harness.start_config(self.dir, self.config)
        return self.server

    def unseal(self, keys):
        status = None
        for k in keys:
            code, status, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": k})
            self.assertEqual(code, 200, status)
        return status

    def test_full_lifecycle(self):
        s = self.start()
        code, body, _ = s.request("GET", "/v1/sys/init")
        self.assertEqual((code, body), (200, {"initialized": False}))
        code, body, _ = s.request("GET", "/v1/secret/x")
        self.assertEqual(code, 503)

        code, init, _ = s.request("PUT", "/v1/sys/init",
                                  {"secret_shares": 5, "secret_threshold": 3})
        self.assertEqual(code, 200, init)
        keys, root = init["keys"], init["root_token"]
        self.assertEqual(len(keys), 5)
        self.assertEqual(len(init["keys_base64"]), 5)
        code, body, _ = s.request("PUT", "/v1/sys/init",
                                  {"secret_shares": 5, "secret_threshold": 3})
        self.assertEqual(code, 400)

        # Initialised but sealed: every other path answers 503.
        code, st, _ = s.request("GET", "/v1/sys/seal-status")
        self.assertEqual((st["sealed"], st["t"], st["n"], st["progress"]), (True, 3, 5, 0))
        self.assertEqual(s.request("GET", "/v1/sys/mounts", token=root)[0], 503)

        # Two shares are not enough; the third (base64 form) unseals.
        st = self.unseal([keys[4], keys[1]])
        self.assertTrue(st["sealed"])
        self.assertEqual(st["progress"], 2)
        st = self.unseal([init["keys_base64"][2]])
        self.assertFalse(st["sealed"])

        code, body, _ = s.request("POST", "/v1/sys/mounts/secret",
                                  {"type": "kv", "options": {"version": "1"}}, token=root)
        self.assertEqual(code, 204, body)
        code, body, _ = s.request("POST", "/v1/secret/app", {"password": CANARY}, token=root)
        self.assertIn(code, (200, 204), body)
        code, body, _ = s.request("GET", "/v1/secret/app", token=root)
        self.assertEqual(code, 200)
        self.assertEqual(body["data"]["password"], CANARY)

        # Seal: reads are refused with 503.
        code, body, _ = s.request("PUT", "/v1/sys/seal", token=root)
        self.assertEqual(code, 204, body)
        self.assertEqual(s.request("GET", "/v1/secret/app", token=root)[0], 503)

        # Restart; sealed again; unseal with another 3-subset in another order.
        s = self.start()
        code, st, _ = s.request("GET", "/v1/sys/seal-status")
        self.assertTrue(st["sealed"])
        self.unseal([keys[3], keys[0], keys[2]])
        code, body, _ = s.request("GET", "/v1/secret/app", token=root)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["data"]["password"], CANARY)

        # The plaintext never reaches the data directory.
        s.stop()
        for root_dir, _, files in os.walk(os.path.join(self.dir, "data")):
            for name in files:
                with open(os.path.join(root_dir, name), "rb") as f:
                    self.assertNotIn(CANARY.encode(), f.read(), name)

    def test_every_three_share_subset_unseals(self):
        s = self.start()
        _, init, _ = s.request("PUT", "/v1/sys/init",
                               {"secret_shares": 5, "secret_threshold": 3})
        keys = init["keys"]
        for combo in itertools.combinations(range(5), 3):
            order = list(combo)
            random.shuffle(order)
            st = self.unseal([keys[i] for i in order])
            self.assertFalse(st["sealed"], combo)
            code, _, _ = s.request("PUT", "/v1/sys/seal", token=init["root_token"])
            self.assertEqual(code, 204)

    def test_bad_unseal_input(self):
        s = self.start()
        _, init, _ = s.request("PUT", "/v1/sys/init",
                               {"secret_shares": 3, "secret_threshold": 2})
        keys = init["keys"]
        code, body, _ = s.request("PUT", "/v1/sys/unseal", {"key": "not hex!"})
        self.assertEqual(code, 400)
        # The same share twice is refused and does not count.
        self.unseal([keys[0]])
        code, body, _ = s.request("PUT", "/v1/sys/unseal", {"key": keys[0]})
        self.assertEqual(code, 400)
        _, st, _ = s.request("GET", "/v1/sys/seal-status")
        self.assertEqual(st["progress"], 1)
        # A wrong share: unseal fails, stays sealed, reveals nothing.
        flipped = "%02x" % (int(keys[1][10:12], 16) ^ 0x5A)
        wrong = keys[1][:10] + flipped + keys[1][12:]
        code, body, _ = s.request("PUT", "/v1/sys/unseal", {"key": wrong})
        self.assertEqual(code, 400)
        self.assertNotIn(keys[1], str(body))
        _, st, _ = s.request("GET", "/v1/sys/seal-status")
        self.assertTrue(st["sealed"])
        self.assertEqual(st["progress"], 0)
        # reset clears progress.
        self.unseal([keys[2]])
        _, st, _ = s.request("PUT", "/v1/sys/unseal", {"reset": True})
        self.assertEqual(st["progress"], 0)
        # Tokens are refused without a token or with a made-up one.
        self.unseal([keys[0], keys[1]])
        self.assertEqual(s.request("GET", "/v1/sys/mounts")[0], 403)
        self.assertEqual(s.request("GET", "/v1/sys/mounts", token="hvs.madeup")[0], 403)
        self.assertEqual(s.request("GET", "/v1/sys/mounts", token=init["root_token"])[0], 200)

    def request_from(self, source, method, path, token, body=None):
        """One request sent from a chosen loopback address (any 127.x.y.z
        reaches the server's 127.0.0.1)."""
        host, port = self.server.addr.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30,
                                          source_address=(source, 0))
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"X-Vault-Token": token})
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
        finally:
            conn.close()

    def test_a_token_bound_to_addresses_stays_bound_after_a_restart(self):
        s = self.start()
        code, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(code, 200, init)
        self.unseal(init["keys"])
        root = init["root_token"]
        code, body, _ = s.request("POST", "/v1/auth/token/roles/runner",
                                  {"allowed_policies": ["default"],
                                   "token_bound_cidrs": ["127.0.0.2/32"]}, token=root)
        self.assertEqual(code, 204, body)
        code, made, _ = s.request("POST", "/v1/auth/token/create/runner", {}, token=root)
        self.assertEqual(code, 200, made)
        token = made["auth"]["client_token"]
        for _ in range(2):
            code, me = self.request_from("127.0.0.2", "GET", "/v1/auth/token/lookup-self", token)
            self.assertEqual(code, 200, me)
            self.assertEqual(me["data"]["bound_cidrs"], ["127.0.0.2/32"])
            code, err = self.request_from("127.0.0.1", "GET", "/v1/auth/token/lookup-self", token)
            self.assertEqual((code, err), (403, {"errors": ["permission denied"]}))
            code, err = self.request_from("127.0.0.3", "POST", "/v1/auth/token/renew-self",
                                          token, {})
            self.assertEqual(code, 403, err)
            # The binding is stored with the token: it holds after a restart.
            self.start()
            self.unseal(init["keys"])

    def accessors(self, root):
        code, body, _ = self.server.request("LIST", "/v1/auth/token/accessors", token=root)
        self.assertEqual(code, 200, body)
        return set(body["data"]["keys"])

    def test_short_tokens_created_until_a_kill9_all_expire_after_the_restart(self):
        # Each token's lease is indexed in the same transaction as the token:
        # after a crash, every token that was acknowledged (and any that
        # committed without an answer) must still expire on time.
        ttl = 8
        s = self.start()
        code, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(code, 200, init)
        self.unseal(init["keys"])
        root = init["root_token"]
        before = self.accessors(root)
        acked = []  # (accessor, monotonic time of the answer)
        stop = threading.Event()

        def create():
            host, port = s.addr.rsplit("/", 1)[1].split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            body = json.dumps({"ttl": "%ds" % ttl, "policies": ["default"]})
            while not stop.is_set():
                try:
                    conn.request("POST", "/v1/auth/token/create", body=body,
                                 headers={"X-Vault-Token": root})
                    resp = conn.getresponse()
                    raw = resp.read()
                except (OSError, http.client.HTTPException):
                    return  # the server is gone
                if resp.status == 200:
                    acked.append((json.loads(raw)["auth"]["accessor"], time.monotonic()))

        threads = [threading.Thread(target=create) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        s.kill9()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(acked), 100)

        self.server = None
        s = self.start()
        self.unseal(init["keys"])
        now = time.monotonic()
        alive = self.accessors(root)
        # Every acknowledged token still well inside its TTL is there.
        young = {a for a, at in acked if at + ttl > now + 2}
        self.assertTrue(young, "the restart took longer than the TTL")
        self.assertEqual(young - alive, set())
        # And every token expires: none is left once the last TTL is over
        # (the expiry revokes at most 500 a second).
        deadline = max(at for _, at in acked) + ttl + 60
        while time.monotonic() < deadline:
            left = self.accessors(root) - before
            if not left:
                break
            time.sleep(0.5)
        self.assertEqual(self.accessors(root) - before, set())


if __name__ == "__main__":
    unittest.main()
