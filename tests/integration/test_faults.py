"""Fault tests: full disks, wall-clock jumps, a failing random generator.

- Data directory full (a 4 MiB tmpfs filled by the test): writes fail with a
  clear error (500/507 saying the storage is full), reads keep working, and
  writes work again once space is freed, without a restart.
- Audit directory full: every request fails closed (500, nothing done) and
  service comes back once space is freed.
- Wall clock jumps of +/-1 h (libfaketime, CLOCK_REALTIME only; the
  monotonic clock keeps running as it does under an NTP step): a token lives
  its TTL of real time, never longer after a jump back, and is not expired
  early by a jump forward (no expiry storm). See docs/security-testing.md.
- The random generator fails (LD_PRELOAD shim, tests/faults/rand_fail.c,
  compiled here): writes and new tokens are refused with 500, the stored
  ciphertext is the old one, byte for byte; reads go on.

The disk tests need root (mount); the clock test needs libfaketime
(scripts/install-deps); each skips with the reason otherwise.
"""

import errno
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def fill(path):
    """Writes a file until the file system is full; returns its path."""
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            chunk = b"\0" * size
            while True:
                try:
                    f.write(chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return path


class Tmpfs:
    def __init__(self, path, size="4m"):
        self.path = path
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs",
                            path], capture_output=True, text=True)
        self.mounted = r.returncode == 0
        self.error = r.stderr.strip()

    def umount(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], check=False)
            self.mounted = False


def server_config(data_dir, storage_dir):
    path = os.path.join(data_dir, "config.hcl")
    with open(path, "w") as f:
        f.write('storage "local" {\n  path = "%s"\n}\n' % storage_dir)
        f.write('listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\n')
        f.write('disable_mlock = true\nlog_level = "warn"\n')
    return path


class FaultBase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-faults-")
        self.mounts = []
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        for m in self.mounts:
            m.umount()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tmpfs(self, name):
        m = Tmpfs(os.path.join(self.dir, name))
        if not m.mounted:
            self.skipTest("cannot mount a tmpfs: %s" % m.error)
        self.mounts.append(m)
        return m.path

    def start(self, storage_dir=None, env=None):
        if env and "LD_PRELOAD" in env:
            # Under ASan the shim comes before the ASan runtime; allow it.
            asan = os.environ.get("ASAN_OPTIONS", "")
            env["ASAN_OPTIONS"] = asan + (":" if asan else "") + "verify_asan_link_order=0"
        storage_dir = storage_dir or os.path.join(self.dir, "data")
        self.storage_dir = storage_dir
        config = server_config(self.dir, storage_dir)
        s = harness.Server(["server", "-config=" + config], data_dir=self.dir, env=env).start()
        self.server = s
        code, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(code, 200, init)
        self.root = init["root_token"]
        self.unseal_key = init["keys"][0]
        code, st, _ = s.request("PUT", "/v1/sys/unseal", {"key": self.unseal_key})
        self.assertFalse(st["sealed"], st)
        code, body, _ = s.request("POST", "/v1/sys/mounts/secret",
                                  {"type": "kv", "options": {"version": "1"}}, token=self.root)
        self.assertEqual(code, 204, body)
        return s

    def req(self, method, path, body=None):
        return self.server.request(method, "/v1/" + path, body, token=self.root)


class DiskFullTest(FaultBase):
    def test_data_dir_full(self):
        data = self.tmpfs("data")
        self.start(storage_dir=data)
        code, body, _ = self.req("POST", "secret/before", {"v": "kept"})
        self.assertEqual(code, 204, body)
        filler = fill(os.path.join(data, "filler"))
        # The last page of each file may still take a few bytes: write until
        # the store says no (bounded), then it must keep saying no.
        big = {"v": "y" * 8192}
        failure = None
        for i in range(200):
            code, body, _ = self.req("POST", "secret/k%d" % i, big)
            if code != 204:
                failure = (code, body)
                break
        self.assertIsNotNone(failure, "writes never failed on a full disk")
        code, body = failure
        self.assertEqual(code, 507, body)
        text = " ".join(body.get("errors", [])) if isinstance(body, dict) else str(body)
        self.assertRegex(text.lower(), "full|space", text)
        # Reads go on while the disk is full.
        code, body, _ = self.req("GET", "secret/before")
        self.assertEqual((code, body["data"]), (200, {"v": "kept"}))
        code, _, _ = self.req("GET", "sys/mounts")
        self.assertEqual(code, 200)
        # Space freed: writes work again without a restart.
        os.unlink(filler)
        code, body, _ = self.req("POST", "secret/after", big)
        self.assertEqual(code, 204, body)
        code, body, _ = self.req("GET", "secret/after")
        self.assertEqual(code, 200, body)
        self.assertIsNone(self.server.proc.poll(), "the server died")

    def test_audit_dir_full_fails_closed(self):
        audit = self.tmpfs("audit")
        self.start()
        code, body, _ = self.req("PUT", "sys/audit/file",
                                 {"type": "file", "options": {"file_path":
                                                              os.path.join(audit, "audit.log")}})
        self.assertEqual(code, 204, body)
        code, body, _ = self.req("POST", "secret/before", {"v": "kept"})
        self.assertEqual(code, 204, body)
        filler = fill(os.path.join(audit, "filler"))
        failure = None
        for i in range(500):
            code, body, _ = self.req("POST", "secret/k%d" % i, {"v": "z" * 2048})
            if code != 204:
                failure = (i, code, body)
                break
        self.assertIsNotNone(failure, "requests kept succeeding with the audit disk full")
        i, code, body = failure
        self.assertEqual(code, 500, body)
        # Fail closed: reads are refused too, and a refused write is not done.
        code, body, _ = self.req("GET", "secret/before")
        self.assertEqual(code, 500, body)
        code, body, _ = self.req("POST", "secret/refused", {"v": "no"})
        self.assertEqual(code, 500, body)
        os.unlink(filler)
        # Recovered without a restart.
        code, body, _ = self.req("GET", "secret/refused")
        self.assertEqual(code, 404, body)
        code, body, _ = self.req("POST", "secret/after", {"v": "ok"})
        self.assertEqual(code, 204, body)
        code, body, _ = self.req("GET", "secret/before")
        self.assertEqual(code, 200, body)


class ClockJumpTest(FaultBase):
    def setUp(self):
        super().setUp()
        if not os.path.exists(FAKETIME_LIB):
            self.skipTest("libfaketime is not installed (scripts/install-deps)")
        self.accessors = {}
        self.clock_file = os.path.join(self.dir, "faketime")
        self.set_offset(0)
        env = {
            "LD_PRELOAD": FAKETIME_LIB,
            "FAKETIME_TIMESTAMP_FILE": self.clock_file,
            "FAKETIME_NO_CACHE": "1",
            # An NTP step moves CLOCK_REALTIME only.
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }
        self.start(env=env)

    def set_offset(self, seconds):
        tmp = self.clock_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%+d\n" % seconds)
        os.replace(tmp, self.clock_file)

    def server_wall(self):
        # The server's notion of wall time: a token's creation_time.
        code, body, _ = self.req("POST", "auth/token/create", {"ttl": "1h", "policies": ["x"]})
        code, info, _ = self.server.request("GET", "/v1/auth/token/lookup-self",
                                            token=body["auth"]["client_token"])
        return info["data"]["creation_time"]

    def token(self, ttl):
        code, body, _ = self.req("POST", "auth/token/create",
                                 {"ttl": ttl, "explicit_max_ttl": ttl, "policies": ["x"]})
        self.assertEqual(code, 200, body)
        self.accessors[body["auth"]["client_token"]] = body["auth"]["accessor"]
        return body["auth"]["client_token"]

    def revoked_within(self, token, seconds):
        """The expiration manager revokes the token's lease (its accessor
        goes away), within `seconds` of real time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            code, _, _ = self.req("POST", "auth/token/lookup-accessor",
                                  {"accessor": self.accessors[token]})
            if code != 200:
                return True
            time.sleep(0.1)
        return False

    def valid(self, token):
        code, _, _ = self.server.request("GET", "/v1/auth/token/lookup-self", token=token)
        self.assertIn(code, (200, 403))
        return code == 200

    def lifetime(self, token, created, limit):
        """Real seconds from `created` until the token stops working."""
        while time.monotonic() - created < limit:
            if not self.valid(token):
                return time.monotonic() - created
            time.sleep(0.1)
        return None

    def check_jump(self, offset):
        before = self.server_wall()
        created = time.monotonic()
        short = self.token("6s")
        longer = self.token("2h")
        self.set_offset(offset)
        after = self.server_wall()
        self.assertGreater(abs(after - before), abs(offset) - 60, "the jump did not happen")
        # No expiry storm: right after the jump both still work.
        self.assertTrue(self.valid(short))
        self.assertTrue(self.valid(longer))
        # The short token dies after its 6 s of real time, not 1 h later.
        life = self.lifetime(short, created, limit=12)
        self.assertIsNotNone(life, "token outlived its max TTL after a %+d s jump" % offset)
        self.assertGreater(life, 5.0)
        self.assertTrue(self.revoked_within(short, 3), "the token's lease outlived its TTL")
        self.assertTrue(self.valid(longer))
        # A token made after the jump lives its TTL too.
        created = time.monotonic()
        fresh = self.token("3s")
        life = self.lifetime(fresh, created, limit=8)
        self.assertIsNotNone(life, "new token outlived its max TTL")
        self.assertGreater(life, 2.0)

    def test_wall_clock_back_one_hour(self):
        self.check_jump(-3600)

    def test_wall_clock_forward_one_hour(self):
        self.check_jump(3600)


class RandomFailureTest(FaultBase):
    def setUp(self):
        super().setUp()
        shim = os.path.join(self.dir, "rand_fail.so")
        src = os.path.join(HERE, "..", "faults", "rand_fail.c")
        r = subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, src, "-ldl"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.trigger = os.path.join(self.dir, "rand-fail-now")
        self.start(env={"LD_PRELOAD": shim, "COFFER_RAND_FAIL_TRIGGER": self.trigger})

    def stored(self, key):
        rows = harness.query_store(self.storage_dir, "SELECT key, value FROM kv WHERE key LIKE ?",
                                   ("logical/%/" + key,))
        return {k: bytes(v) for k, v in rows}

    def test_rng_failure_refuses_to_encrypt(self):
        code, body, _ = self.req("POST", "secret/k", {"v": "old"})
        self.assertEqual(code, 204, body)
        before = self.stored("k")
        self.assertEqual(len(before), 1)
        open(self.trigger, "w").close()
        for path in ("secret/k", "secret/new"):
            code, body, _ = self.req("POST", path, {"v": "written-without-randomness"})
            self.assertEqual(code, 500, body)
        self.assertEqual(self.stored("k"), before, "ciphertext changed while RNG failed")
        self.assertEqual(self.stored("new"), {})
        code, body, _ = self.req("POST", "sys/rotate", {})
        self.assertEqual(code, 500, body)
        code, body, _ = self.req("GET", "secret/k")
        self.assertEqual((code, body["data"]), (200, {"v": "old"}))
        os.unlink(self.trigger)
        code, body, _ = self.req("POST", "secret/k", {"v": "new"})
        self.assertEqual(code, 204, body)
        self.assertNotEqual(self.stored("k"), before)

    def test_rng_failure_refuses_new_tokens_and_keeps_serving(self):
        code, body, _ = self.req("POST", "secret/k", {"v": "old"})
        self.assertEqual(code, 204, body)
        code, body, _ = self.req("LIST", "auth/token/accessors")
        self.assertEqual(code, 200, body)
        accessors = sorted(body["data"]["keys"])
        open(self.trigger, "w").close()
        # A token needs random bytes for its id and accessor: refused with
        # 500, and the server goes on answering (it used to terminate).
        for ttl in ("1h", ""):
            code, body, _ = self.req("POST", "auth/token/create", {"ttl": ttl} if ttl else {})
            self.assertEqual(code, 500, body)
        code, body, _ = self.req("GET", "secret/k")
        self.assertEqual((code, body["data"]), (200, {"v": "old"}))
        code, body, _ = self.req("LIST", "auth/token/accessors")
        self.assertEqual((code, sorted(body["data"]["keys"])), (200, accessors))
        os.unlink(self.trigger)
        code, body, _ = self.req("POST", "auth/token/create", {"ttl": "1h"})
        self.assertEqual(code, 200, body)
        self.assertTrue(body["auth"]["client_token"].startswith("hvs."))

    def test_rng_failure_refuses_new_ids_and_keeps_serving(self):
        # Mounts, AppRole roles and secret IDs, identity entities and the
        # entity a first login creates all need a random UUID; the server
        # used to abort when it could not draw one.
        for path, body in (("sys/auth/approle", {"type": "approle"}),
                           ("sys/auth/userpass", {"type": "userpass"}),
                           ("auth/approle/role/app", {"token_ttl": "1h"}),
                           ("auth/userpass/users/alice", {"password": "correct horse"})):
            code, resp, _ = self.req("POST", path, body)
            self.assertIn(code, (200, 204), (path, resp))
        before = {p: self.req("GET", p)[1] for p in ("sys/mounts", "sys/auth")}
        code, entities, _ = self.req("LIST", "identity/entity/id")
        self.assertEqual(code, 404, entities)  # none yet
        open(self.trigger, "w").close()
        for method, path, body in (
                ("POST", "sys/mounts/kv2", {"type": "kv", "options": {"version": "2"}}),
                ("POST", "sys/auth/approle2", {"type": "approle"}),
                ("POST", "auth/approle/role/other", {}),
                ("POST", "auth/approle/role/app/secret-id", {}),
                ("POST", "identity/entity", {"name": "svc"}),
                ("POST", "auth/userpass/login/alice", {"password": "correct horse"})):
            code, resp, _ = self.req(method, path, body)
            self.assertEqual(code, 500, (path, resp))
        # Still serving, and nothing was half made.
        code, resp, _ = self.req("GET", "sys/health")
        self.assertEqual(code, 200, resp)
        for p, was in before.items():
            self.assertEqual(self.req("GET", p)[1]["data"].keys(), was["data"].keys(), p)
        self.assertEqual(self.req("GET", "auth/approle/role/other")[0], 404)
        self.assertEqual(self.req("LIST", "auth/approle/role/app/secret-id")[0], 404)
        self.assertEqual(self.req("LIST", "identity/entity/id")[0], 404)
        os.unlink(self.trigger)
        code, resp, _ = self.req("POST", "auth/approle/role/app/secret-id", {})
        self.assertEqual(code, 200, resp)
        code, resp, _ = self.req("POST", "auth/userpass/login/alice", {"password": "correct horse"})
        self.assertEqual(code, 200, resp)
        self.assertTrue(resp["auth"]["entity_id"])

    def test_rng_failure_during_unseal_counts_no_share(self):
        code, body, _ = self.req("PUT", "sys/seal")
        self.assertEqual(code, 204, body)
        open(self.trigger, "w").close()
        # An unseal attempt needs a random nonce: refused, and the share is
        # not kept (it used to be, so the same share was then refused as
        # "already provided" and the attempt was stuck until a reset).
        code, body, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": self.unseal_key})
        self.assertEqual(code, 500, body)
        code, st, _ = self.server.request("GET", "/v1/sys/seal-status")
        self.assertEqual((code, st["sealed"], st["progress"]), (200, True, 0), st)
        os.unlink(self.trigger)
        code, st, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": self.unseal_key})
        self.assertEqual((code, st["sealed"]), (200, False), st)
        code, body, _ = self.req("GET", "secret/none")
        self.assertEqual(code, 404, body)


if __name__ == "__main__":
    unittest.main()
