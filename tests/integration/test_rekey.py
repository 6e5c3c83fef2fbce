"""Unseal-key rekey (sys/rekey/init, update, verify) against a real server on
the local store: new shares replace the old ones (the old ones stop working
after a seal), a wrong share fails the attempt, verification keeps the old
shares active until a threshold of new ones is given back, shares never reach
the audit log or the server log, and `coffer operator rekey` reads shares from
stdin, never argv."""

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness
import memscan


class RekeyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-rekey-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server = harness.start_config(data_dir=self.dir)
        self.addCleanup(self.server.cleanup)
        status, init, _ = self.req("PUT", "/v1/sys/init",
                                   {"secret_shares": 5, "secret_threshold": 3})
        self.assertEqual(status, 200, init)
        self.keys, self.root = init["keys_base64"], init["root_token"]
        self.unseal(self.keys[:3])

    def req(self, method, path, body=None, token=None):
        return self.server.request(method, path, body, token=token)

    def unseal(self, keys):
        st = None
        for k in keys:
            status, st, _ = self.req("PUT", "/v1/sys/unseal", {"key": k})
            if status != 200:
                return status, st
        return 200, st

    def seal(self):
        status, body, _ = self.req("PUT", "/v1/sys/seal", token=self.root)
        self.assertEqual(status, 204, body)

    def start(self, shares, threshold, **extra):
        body = {"secret_shares": shares, "secret_threshold": threshold}
        body.update(extra)
        status, st, _ = self.req("PUT", "/v1/sys/rekey/init", body)
        self.assertEqual(status, 200, st)
        return st

    def rekey(self, keys, nonce):
        last = None
        for k in keys:
            status, last, _ = self.req("PUT", "/v1/sys/rekey/update", {"key": k, "nonce": nonce})
            self.assertEqual(status, 200, last)
        return last

    def test_rekey_replaces_the_shares(self):
        # Nothing under way: Vault's shape, required = the current threshold.
        status, st, _ = self.req("GET", "/v1/sys/rekey/init")
        self.assertEqual(status, 200, st)
        self.assertEqual(st, {"started": False, "nonce": "", "t": 0, "n": 0, "progress": 0,
                              "required": 3, "pgp_fingerprints": None, "backup": False,
                              "verification_required": False})
        st = self.start(3, 2)
        self.assertTrue(st["started"])
        self.assertEqual((st["t"], st["n"], st["progress"], st["required"]), (2, 3, 0, 3))
        nonce = st["nonce"]
        self.assertEqual(len(nonce), 36)

        status, up, _ = self.req("PUT", "/v1/sys/rekey/update", {"key": self.keys[0],
                                                                 "nonce": nonce})
        self.assertEqual(status, 200, up)
        self.assertEqual(up["progress"], 1)
        self.assertNotIn("keys", up)
        # hex works as well as base64
        hex_key = base64.b64decode(self.keys[1]).hex()
        up = self.rekey([hex_key], nonce)
        self.assertEqual(up["progress"], 2)
        done = self.rekey([self.keys[2]], nonce)
        self.assertTrue(done["complete"])
        self.assertEqual(done["nonce"], nonce)
        self.assertEqual(len(done["keys"]), 3)
        self.assertEqual(len(done["keys_base64"]), 3)
        self.assertFalse(done["verification_required"])
        new = done["keys_base64"]
        for h, b in zip(done["keys"], new):
            self.assertEqual(bytes.fromhex(h), base64.b64decode(b))
        self.assertTrue(set(new).isdisjoint(self.keys))

        status, st, _ = self.req("GET", "/v1/sys/rekey/init")
        self.assertFalse(st["started"])
        self.assertEqual(st["required"], 2)
        status, ss, _ = self.req("GET", "/v1/sys/seal-status")
        self.assertEqual((ss["t"], ss["n"]), (2, 3))

        # Data written before the rekey is still there after unsealing with
        # the new shares; the old ones no longer unseal.
        status, body, _ = self.req("POST", "/v1/sys/mounts/kv", {"type": "kv"}, token=self.root)
        self.assertEqual(status, 204, body)
        status, body, _ = self.req("POST", "/v1/kv/a", {"v": "kept"}, token=self.root)
        self.assertEqual(status, 204, body)
        self.seal()
        status, st = self.unseal(self.keys[:3])
        self.assertEqual(status, 400, st)
        status, st, _ = self.req("GET", "/v1/sys/seal-status")
        self.assertTrue(st["sealed"])
        status, st = self.unseal([new[2], new[0]])
        self.assertEqual(status, 200, st)
        self.assertFalse(st["sealed"])
        status, body, _ = self.req("GET", "/v1/kv/a", token=self.root)
        self.assertEqual(body["data"]["v"], "kept")

        # And after a restart on the same storage.
        self.server.stop()
        self.server = harness.start_config(data_dir=self.dir)
        self.addCleanup(self.server.cleanup)
        status, st = self.unseal(new[1:])
        self.assertEqual(status, 200, st)
        self.assertFalse(st["sealed"])

    def test_refusals(self):
        for extra in ({"pgp_keys": ["abc"]}, {"backup": True}):
            body = {"secret_shares": 3, "secret_threshold": 2}
            body.update(extra)
            status, err, _ = self.req("PUT", "/v1/sys/rekey/init", body)
            self.assertEqual(status, 400, err)
            self.assertIn("not supported", err["errors"][0])
        for n, t in ((3, 1), (2, 3), (256, 2), (0, 0)):
            status, err, _ = self.req("PUT", "/v1/sys/rekey/init",
                                      {"secret_shares": n, "secret_threshold": t})
            self.assertEqual(status, 400, (n, t, err))
        status, err, _ = self.req("PUT", "/v1/sys/rekey/update",
                                  {"key": self.keys[0], "nonce": "x"})
        self.assertEqual(status, 400, err)
        self.assertIn("no rekey in progress", err["errors"][0])

        nonce = self.start(3, 2)["nonce"]
        status, err, _ = self.req("PUT", "/v1/sys/rekey/init",
                                  {"secret_shares": 3, "secret_threshold": 2})
        self.assertEqual(status, 400, err)
        self.assertIn("already in progress", err["errors"][0])
        status, err, _ = self.req("PUT", "/v1/sys/rekey/update",
                                  {"key": self.keys[0], "nonce": "wrong"})
        self.assertEqual(status, 400, err)
        self.assertIn("incorrect nonce", err["errors"][0])
        status, err, _ = self.req("PUT", "/v1/sys/rekey/update", {"key": self.keys[0]})
        self.assertEqual(status, 400, err)
        self.rekey([self.keys[0]], nonce)
        status, err, _ = self.req("PUT", "/v1/sys/rekey/update",
                                  {"key": self.keys[0], "nonce": nonce})
        self.assertEqual(status, 400, err)
        self.assertIn("already been provided", err["errors"][0])
        for text in (err["errors"][0],):
            self.assertNotIn(self.keys[0], text)

        # A share of another server's key: the attempt fails at the threshold
        # and its progress resets; the nonce stays.
        foreign = base64.b64encode(bytes(range(200, 233))).decode()  # not hex
        self.rekey([self.keys[1]], nonce)
        status, err, _ = self.req("PUT", "/v1/sys/rekey/update", {"key": foreign, "nonce": nonce})
        self.assertEqual(status, 400, err)
        self.assertIn("rekey failed", err["errors"][0])
        status, st, _ = self.req("GET", "/v1/sys/rekey/init")
        self.assertTrue(st["started"])
        self.assertEqual((st["progress"], st["nonce"]), (0, nonce))

        # Cancel.
        status, body, _ = self.req("DELETE", "/v1/sys/rekey/init")
        self.assertEqual(status, 204, body)
        status, st, _ = self.req("GET", "/v1/sys/rekey/init")
        self.assertFalse(st["started"])
        # The old shares still unseal.
        self.seal()
        status, st = self.unseal(self.keys[2:5])
        self.assertEqual(status, 200, st)
        self.assertFalse(st["sealed"])

        # Sealed: 503, no token needed for any of it otherwise.
        self.seal()
        status, err, _ = self.req("GET", "/v1/sys/rekey/init")
        self.assertEqual(status, 503, err)
        status, err, _ = self.req("PUT", "/v1/sys/rekey/init",
                                  {"secret_shares": 3, "secret_threshold": 2})
        self.assertEqual(status, 503, err)

    def test_verification(self):
        st = self.start(4, 3, require_verification=True)
        self.assertTrue(st["verification_required"])
        nonce = st["nonce"]
        done = self.rekey(self.keys[:3], nonce)
        self.assertTrue(done["complete"])
        self.assertTrue(done["verification_required"])
        vnonce = done["verification_nonce"]
        self.assertNotEqual(vnonce, nonce)
        new = done["keys_base64"]
        self.assertEqual(len(new), 4)

        status, st, _ = self.req("GET", "/v1/sys/rekey/init")
        self.assertEqual((st["started"], st["verification_nonce"]), (True, vnonce))
        status, err, _ = self.req("PUT", "/v1/sys/rekey/update",
                                  {"key": self.keys[3], "nonce": nonce})
        self.assertEqual(status, 400, err)
        # Not active yet: the config still says 5/3.
        status, ss, _ = self.req("GET", "/v1/sys/seal-status")
        self.assertEqual((ss["t"], ss["n"]), (3, 5))

        status, v, _ = self.req("GET", "/v1/sys/rekey/verify")
        self.assertEqual(v, {"started": True, "nonce": vnonce, "t": 3, "n": 4, "progress": 0})
        status, err, _ = self.req("PUT", "/v1/sys/rekey/verify", {"key": new[0], "nonce": nonce})
        self.assertEqual(status, 400, err)
        status, v, _ = self.req("PUT", "/v1/sys/rekey/verify", {"key": new[0], "nonce": vnonce})
        self.assertEqual((status, v["progress"]), (200, 1), v)
        status, v, _ = self.req("DELETE", "/v1/sys/rekey/verify")
        self.assertEqual(status, 200, v)
        self.assertNotEqual(v["nonce"], vnonce)
        self.assertEqual(v["progress"], 0)
        vnonce = v["nonce"]
        # Old shares do not verify: with a new one they rebuild another key.
        for k in self.keys[:2] + [new[0]]:
            status, v, _ = self.req("PUT", "/v1/sys/rekey/verify", {"key": k, "nonce": vnonce})
        self.assertEqual(status, 400, v)
        self.assertIn("verification failed", v["errors"][0])
        # As in Vault, the failure drew a new verification nonce.
        status, v, _ = self.req("GET", "/v1/sys/rekey/verify")
        self.assertNotEqual(v["nonce"], vnonce)
        self.assertEqual(self.req("PUT", "/v1/sys/rekey/verify",
                                  {"key": new[1], "nonce": vnonce})[0], 400)
        vnonce = v["nonce"]

        for i, k in enumerate(new[1:]):
            status, v, _ = self.req("PUT", "/v1/sys/rekey/verify", {"key": k, "nonce": vnonce})
            self.assertEqual(status, 200, v)
        self.assertEqual(v, {"nonce": vnonce, "complete": True})
        status, ss, _ = self.req("GET", "/v1/sys/seal-status")
        self.assertEqual((ss["t"], ss["n"]), (3, 4))
        self.seal()
        status, st = self.unseal(self.keys[:3])
        self.assertEqual(status, 400, st)
        status, st = self.unseal(new[:3])
        self.assertEqual(status, 200, st)
        self.assertFalse(st["sealed"])

    def test_shares_never_logged(self):
        audit_log = os.path.join(self.dir, "audit.log")
        status, body, _ = self.req("PUT", "/v1/sys/audit/raw",
                                   {"type": "file", "options": {"file_path": audit_log,
                                                                "log_raw": "true"}},
                                   token=self.root)
        self.assertEqual(status, 204, body)
        nonce = self.start(2, 2)["nonce"]
        done = self.rekey(self.keys[:3], nonce)
        new = done["keys_base64"]
        self.req("GET", "/v1/sys/mounts", token=self.root)  # something audited after it
        secrets = []
        for k in self.keys + new:
            raw = base64.b64decode(k)
            secrets += [k, raw.hex()]
        with open(audit_log) as f:
            audit = f.read()
        self.assertTrue(audit)
        self.server.stop()
        log = self.server.log()
        for s in secrets:
            self.assertNotIn(s, audit)
            self.assertNotIn(s, log)


class RekeyMemoryTest(unittest.TestCase):
    def test_seal_during_rekey_leaves_no_share_or_unseal_key_in_memory(self):
        self.run_scenario(verify=False)

    def test_seal_after_rekey_leaves_no_share_or_unseal_key_in_memory(self):
        self.run_scenario(verify=True)

    def run_scenario(self, verify):
        d = tempfile.mkdtemp(prefix="coffer-rekey-mem-")
        self.addCleanup(shutil.rmtree, d, True)
        asan = os.environ.get("ASAN_OPTIONS", "")
        asan += (":" if asan else "") + "max_free_fill_size=2147483647:free_fill_byte=165"
        server = harness.Server(["server", "-config=" + harness.write_config(d)], data_dir=d,
                                env={"ASAN_OPTIONS": asan}).start()
        self.addCleanup(server.cleanup)
        status, init, _ = server.request("PUT", "/v1/sys/init",
                                         {"secret_shares": 3, "secret_threshold": 2})
        old = init["keys"]
        for k in old[:2]:
            server.request("PUT", "/v1/sys/unseal", {"key": k})
        status, st, _ = server.request("PUT", "/v1/sys/rekey/init",
                                       {"secret_shares": 3, "secret_threshold": 2,
                                        "require_verification": True})
        done = None
        for k in old[:2]:
            status, done, _ = server.request("PUT", "/v1/sys/rekey/update",
                                             {"key": k, "nonce": st["nonce"]})
        new = done["keys"]
        old_raw = [bytes.fromhex(k) for k in old]
        new_raw = [bytes.fromhex(k) for k in new]
        old_unseal = memscan.shamir_combine(old_raw[:2])
        new_unseal = memscan.shamir_combine(new_raw[:2])
        root_key, _ = memscan.key_material(os.path.join(d, "data"), old_unseal)
        # Positive control: unsealed, with the new shares awaiting
        # verification, the root key and the new unseal key are in memory.
        found = memscan.scan(server.proc.pid, {"root key": root_key, "new unseal key": new_unseal})
        self.assertEqual(sorted(found), ["new unseal key", "root key"])
        if verify:  # the new shares become active; the pending key is dropped
            for k in new[1:]:
                status, v, _ = server.request("PUT", "/v1/sys/rekey/verify",
                                              {"key": k, "nonce": done["verification_nonce"]})
            self.assertTrue(v["complete"], v)
            self.assertEqual(memscan.key_material(os.path.join(d, "data"), new_unseal)[0],
                             root_key)

        # Sealing wipes the root key and cancels any attempt.
        status, body, _ = server.request("PUT", "/v1/sys/seal", token=init["root_token"])
        self.assertEqual(status, 204, body)
        needles = {}
        needles.update(memscan.encodings("root key", root_key))
        needles.update(memscan.encodings("old unseal key", old_unseal))
        needles.update(memscan.encodings("new unseal key", new_unseal))
        for i, raw in enumerate(old_raw):
            needles.update(memscan.encodings("old share %d" % (i + 1), raw))
        for i, raw in enumerate(new_raw):
            needles.update(memscan.encodings("new share %d" % (i + 1), raw))
        found = memscan.scan(server.proc.pid, needles)
        self.assertEqual(found, {}, "left in memory after seal: %s" % sorted(found))


class RekeyCliTest(unittest.TestCase):
    def test_operator_rekey_reads_shares_from_stdin(self):
        d = tempfile.mkdtemp(prefix="coffer-rekey-cli-")
        self.addCleanup(shutil.rmtree, d, True)
        server = harness.start_config(data_dir=d)
        self.addCleanup(server.cleanup)
        status, init, _ = server.request("PUT", "/v1/sys/init",
                                         {"secret_shares": 3, "secret_threshold": 2})
        keys = init["keys_base64"]
        for k in keys[:2]:
            server.request("PUT", "/v1/sys/unseal", {"key": k})
        env = dict(os.environ, COFFER_ADDR=server.addr)
        env.pop("COFFER_TOKEN", None)
        env.pop("VAULT_TOKEN", None)

        def cli(*args, stdin=""):
            return subprocess.run([harness.COFFER_BIN, "operator", "rekey"] + list(args),
                                  input=stdin, capture_output=True, text=True, env=env,
                                  timeout=30)

        r = cli("-status", "-format=json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"started": false', r.stdout)
        r = cli("-init", "-key-shares=4", "-key-threshold=3", "-format=json")
        self.assertEqual(r.returncode, 0, r.stderr)
        import json
        nonce = json.loads(r.stdout)["nonce"]
        r = cli("-nonce=" + nonce, stdin=keys[0] + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1/2", r.stdout)
        r = cli("-nonce=" + nonce, "-format=json", stdin=keys[2] + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        new = out["keys_base64"]
        self.assertEqual(len(new), 4)
        self.assertNotIn(keys[0], r.stdout + r.stderr)
        # A share on the command line is refused: shares are never argv.
        r = cli("-nonce=" + nonce, keys[1])
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn(keys[1], r.stdout + r.stderr)

        status, ss, _ = server.request("GET", "/v1/sys/seal-status")
        self.assertEqual((ss["t"], ss["n"]), (3, 4))
        # Cancel of nothing is fine; status shows none.
        r = cli("-cancel")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Verify flow from the CLI.
        r = cli("-init", "-key-shares=2", "-key-threshold=2", "-verify", "-format=json")
        self.assertEqual(r.returncode, 0, r.stderr)
        nonce = json.loads(r.stdout)["nonce"]
        for k in new[:3]:
            r = cli("-nonce=" + nonce, "-format=json", stdin=k + "\n")
            self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        vnonce, newer = out["verification_nonce"], out["keys_base64"]
        for k in newer:
            r = cli("-verify", "-nonce=" + vnonce, stdin=k + "\n")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("verified", r.stdout)
        status, ss, _ = server.request("GET", "/v1/sys/seal-status")
        self.assertEqual((ss["t"], ss["n"]), (2, 2))


class DisabledOnListenerTest(unittest.TestCase):
    """disable_unauthed_rekey_endpoints and
    disable_unauthed_generate_root_endpoints (OpenBao's listener keys): the
    endpoints answer 405 on that listener, with or without a token, and
    change nothing; a second listener without the keys serves them."""

    def start(self, extra):
        d = tempfile.mkdtemp(prefix="coffer-rekey-off-")
        self.addCleanup(shutil.rmtree, d, True)
        path = harness.write_config(d, extra)
        with socket.socket() as probe:  # a free port for the second listener
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with open(path, "a") as f:
            f.write('listener "tcp" {\n  address = "127.0.0.1:%d"\n  tls_disable = true\n}\n'
                    % port)
        server = harness.Server(["server", "-config=" + path], data_dir=d).start()
        self.addCleanup(server.cleanup)
        addrs = []
        for line in server.output:
            m = harness._ADDR_RE.search(line)
            if m and m.group(1) not in addrs:
                addrs.append(m.group(1))
        self.assertEqual(len(addrs), 2, server.output)
        self.assertEqual(addrs[0], server.addr)
        self.open = harness.Server([])
        self.open.addr = addrs[1]
        status, init, _ = server.request("PUT", "/v1/sys/init",
                                         {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(status, 200, init)
        status, _, _ = server.request("PUT", "/v1/sys/unseal", {"key": init["keys_base64"][0]})
        self.assertEqual(status, 200)
        return server, init["root_token"]

    def test_both_disabled(self):
        server, root = self.start("  disable_unauthed_rekey_endpoints = true\n"
                                  "  disable_unauthed_generate_root_endpoints = true\n")
        # An operation in progress, started where the endpoints are served.
        status, rekey, _ = self.open.request("PUT", "/v1/sys/rekey/init",
                                             {"secret_shares": 2, "secret_threshold": 2})
        self.assertEqual(status, 200, rekey)
        for token in (None, root):
            for method, path, body in (
                    ("GET", "/v1/sys/rekey/init", None),
                    ("PUT", "/v1/sys/rekey/init", {"secret_shares": 1, "secret_threshold": 1}),
                    ("DELETE", "/v1/sys/rekey/init", None),
                    ("PUT", "/v1/sys/rekey/update", {"key": "x", "nonce": rekey["nonce"]}),
                    ("GET", "/v1/sys/rekey-recovery-key/init", None),
                    ("GET", "/v1/sys/generate-root/attempt", None),
                    ("PUT", "/v1/sys/generate-root/attempt", {}),
                    ("DELETE", "/v1/sys/generate-root/attempt", None)):
                status, answer, _ = server.request(method, path, body, token=token)
                self.assertEqual(status, 405, (method, path, answer))
                self.assertIn("disabled on this listener", str(answer))
        # The rekey was neither cancelled nor replaced nor advanced, and no
        # root generation started.
        status, after, _ = self.open.request("GET", "/v1/sys/rekey/init")
        self.assertEqual(status, 200, after)
        self.assertTrue(after["started"])
        self.assertEqual((after["nonce"], after["n"], after["progress"]),
                         (rekey["nonce"], 2, 0))
        status, attempt, _ = self.open.request("GET", "/v1/sys/generate-root/attempt")
        self.assertEqual(status, 200, attempt)
        self.assertFalse(attempt["started"])
        # Everything else is served on the listener.
        status, seal, _ = server.request("GET", "/v1/sys/seal-status")
        self.assertEqual(status, 200, seal)
        self.assertFalse(seal["sealed"])

    def test_only_rekey_disabled(self):
        server, _ = self.start("  disable_unauthed_rekey_endpoints = true\n")
        status, _, _ = server.request("GET", "/v1/sys/rekey/init")
        self.assertEqual(status, 405)
        status, attempt, _ = server.request("GET", "/v1/sys/generate-root/attempt")
        self.assertEqual(status, 200, attempt)
        self.assertFalse(attempt["started"])
        status, rekey, _ = self.open.request("GET", "/v1/sys/rekey/init")
        self.assertEqual(status, 200, rekey)

if __name__ == "__main__":
    unittest.main()
