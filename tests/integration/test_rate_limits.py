"""Rate limit quotas through the real server: 429 with Retry-After, one bucket
per client address, a refused request's body never decoded, the limit on
userpass logins applied before the password is hashed, and the quota back
after a restart."""

import http.client
import json
import shutil
import tempfile
import time
import unittest
import urllib.parse

import harness


def raw_request(server, method, path, body=b"", token=None, source="127.0.0.1"):
    """One request from a chosen loopback source address."""
    url = urllib.parse.urlparse(server.addr)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30,
                                      source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Vault-Token"] = token
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data, dict(resp.getheaders())


class RateLimitTest(unittest.TestCase):
    def setUp(self):
        self.server = harness.start_dev()
        self.root = self.server.root_token

    def tearDown(self):
        self.server.stop()

    def put(self, path, body):
        code, resp, _ = self.server.request("POST", path, body, token=self.root)
        self.assertIn(code, (200, 204), resp)

    def test_bucket_per_client_and_refusal_shape(self):
        self.put("/v1/secret/data/app", {"data": {"k": "v"}})
        self.put("/v1/sys/quotas/rate-limit/kv", {"path": "secret/", "rate": 3, "interval": "1m"})
        for _ in range(3):
            code, _, _ = raw_request(self.server, "GET", "/v1/secret/data/app", token=self.root)
            self.assertEqual(code, 200)
        code, data, headers = raw_request(self.server, "GET", "/v1/secret/data/app",
                                          token=self.root)
        self.assertEqual(code, 429)
        self.assertEqual(json.loads(data)["errors"],
                         ['request path "secret/data/app": rate limit quota exceeded'])
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        # Another client address has its own bucket; the rest of the API is
        # not limited by a mount quota.
        code, _, _ = raw_request(self.server, "GET", "/v1/secret/data/app", token=self.root,
                                 source="127.0.0.2")
        self.assertEqual(code, 200)
        code, _, _ = raw_request(self.server, "GET", "/v1/sys/mounts", token=self.root)
        self.assertEqual(code, 200)
        # A refused write is refused before its body is decoded: malformed
        # JSON gets 429, not 400, and nothing is written.
        code, _, _ = raw_request(self.server, "POST", "/v1/secret/data/app", body=b"{not json",
                                 token=self.root)
        self.assertEqual(code, 429)
        code, resp, _ = self.server.request("GET", "/v1/sys/quotas/rate-limit/kv",
                                            token=self.root)
        self.assertEqual(code, 200)
        self.assertEqual(resp["data"]["path"], "secret/")
        self.assertEqual(resp["data"]["interval"], 60)
        # Health stays exempt under a global quota.
        self.put("/v1/sys/quotas/rate-limit/global", {"rate": 1, "interval": "1h"})
        for _ in range(5):
            code, _, _ = raw_request(self.server, "GET", "/v1/sys/health", source="127.0.0.3")
            self.assertEqual(code, 200)

    def test_login_quota_stops_password_guessing(self):
        self.put("/v1/sys/auth/userpass", {"type": "userpass"})
        self.put("/v1/auth/userpass/users/alice", {"password": "right-password"})
        self.put("/v1/sys/quotas/rate-limit/logins",
                 {"path": "auth/userpass", "rate": 2, "interval": "1h", "block_interval": "1h"})
        body = json.dumps({"password": "guess"}).encode()
        codes = [raw_request(self.server, "POST", "/v1/auth/userpass/login/alice", body=body)[0]
                 for _ in range(4)]
        self.assertEqual(codes, [400, 400, 429, 429])
        # Even the right password is refused while blocked.
        good = json.dumps({"password": "right-password"}).encode()
        code, _, _ = raw_request(self.server, "POST", "/v1/auth/userpass/login/alice", body=good)
        self.assertEqual(code, 429)
        # Another address can still log in.
        code, data, _ = raw_request(self.server, "POST", "/v1/auth/userpass/login/alice",
                                    body=good, source="127.0.0.2")
        self.assertEqual(code, 200, data)

    def test_refused_requests_are_audited_when_asked(self):
        audit_dir = tempfile.mkdtemp(prefix="coffer-quota-audit-")
        self.addCleanup(shutil.rmtree, audit_dir, True)
        log = audit_dir + "/audit.log"
        self.put("/v1/sys/audit/file", {"type": "file", "options": {"file_path": log}})
        self.put("/v1/sys/quotas/rate-limit/kv", {"path": "secret/", "rate": 1, "interval": "1h"})
        body = json.dumps({"data": {"password": "never-in-the-audit-log"}}).encode()
        code, _, _ = raw_request(self.server, "POST", "/v1/secret/data/app", body=body,
                                 token=self.root)
        self.assertEqual(code, 200)
        # Off (the default): a refusal leaves no entry.
        code, _, _ = raw_request(self.server, "POST", "/v1/secret/data/app", body=body,
                                 token=self.root)
        self.assertEqual(code, 429)
        self.put("/v1/sys/quotas/config", {"enable_rate_limit_audit_logging": True})
        code, data, _ = raw_request(self.server, "GET", "/v1/secret/metadata/?list=true",
                                    token=self.root, source="127.0.0.4")
        self.assertEqual(code, 200, data)
        code, _, _ = raw_request(self.server, "GET", "/v1/secret/metadata/?list=true",
                                 token=self.root, source="127.0.0.4")
        self.assertEqual(code, 429)

        def refused():
            with open(log, encoding="utf-8") as f:
                return [e for e in map(json.loads, f)
                        if "rate limit quota exceeded" in e.get("error", "")]
        deadline = time.monotonic() + 10
        while not refused() and time.monotonic() < deadline:
            time.sleep(0.05)
        entries = refused()
        self.assertEqual(len(entries), 1, entries)
        entry = entries[0]
        self.assertEqual(entry["type"], "request")
        self.assertEqual(entry["error"],
                         'request path "secret/metadata/": rate limit quota exceeded')
        self.assertEqual(entry["request"]["path"], "secret/metadata/")
        self.assertEqual(entry["request"]["operation"], "list")
        self.assertEqual(entry["request"]["remote_address"], "127.0.0.4")
        self.assertEqual(entry["request"]["mount_type"], "kv")
        with open(log, encoding="utf-8") as f:
            self.assertNotIn("never-in-the-audit-log", f.read())


class RateLimitRestartTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-quota-")
        self.config = harness.write_config(self.dir)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_quota_survives_restart(self):
        s = harness.start_config(self.dir, self.config)
        _, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        key, root = init["keys"][0], init["root_token"]
        s.request("PUT", "/v1/sys/unseal", {"key": key})
        code, body, _ = s.request("POST", "/v1/sys/quotas/rate-limit/g",
                                  {"rate": 2, "interval": "1h"}, token=root)
        self.assertEqual(code, 204, body)
        s.stop()
        s = harness.start_config(self.dir, self.config)
        try:
            # Sealed: unseal is exempt and no quota applies yet.
            for _ in range(3):
                code, _, _ = s.request("GET", "/v1/sys/seal-status")
                self.assertEqual(code, 200)
            s.request("PUT", "/v1/sys/unseal", {"key": key})
            codes = [s.request("GET", "/v1/sys/mounts", token=root)[0] for _ in range(3)]
            self.assertEqual(codes, [200, 200, 429])
        finally:
            s.stop()


if __name__ == "__main__":
    unittest.main()
