"""Cross-origin requests from a browser (sys/config/cors) against the real
binary: off by default, then on for named origins, preflights, refusals
that a browser can read, and off again; the settings survive a restart."""

import http.client
import json
import shutil
import tempfile
import unittest
import urllib.parse

import harness

APP = "http://app.example:3000"


class CorsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-cors-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.srv = harness.start_config(self.dir)
        self.addCleanup(self.srv.cleanup)
        st, body, _ = self.srv.request("PUT", "/v1/sys/init",
                                       {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(st, 200, body)
        self.key, self.root = body["keys"][0], body["root_token"]
        st, body, _ = self.srv.request("PUT", "/v1/sys/unseal", {"key": self.key})
        self.assertEqual(st, 200, body)

    def raw(self, method, path, headers):
        u = urllib.parse.urlparse(self.srv.addr)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request(method, "/v1/" + path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def enable(self, body):
        return self.srv.request("POST", "/v1/sys/config/cors", body, self.root)

    def test_off_by_default_then_on_for_named_origins(self):
        st, hdrs, _ = self.raw("GET", "sys/health", {"Origin": APP})
        self.assertEqual(st, 200)
        self.assertNotIn("access-control-allow-origin", hdrs)
        st, body, _ = self.srv.request("GET", "/v1/sys/config/cors", None, self.root)
        self.assertEqual(body["data"], {"enabled": False})

        st, body, _ = self.enable({"allowed_origins": [APP], "allowed_headers": "X-Trace-Id",
                                   "allow_credentials": True})
        self.assertEqual(st, 204, body)
        st, body, _ = self.srv.request("GET", "/v1/sys/config/cors", None, self.root)
        self.assertEqual(body["data"]["allowed_origins"], [APP])
        self.assertIn("X-Vault-Token", body["data"]["allowed_headers"])
        self.assertEqual(body["data"]["allowed_headers"][-1], "X-Trace-Id")
        # Also at the top level, as Vault answers this read.
        self.assertEqual(body["allowed_origins"], [APP])
        self.assertIs(body["enabled"], True)

        # An allowed origin: the answer says so, also on an error.
        st, hdrs, _ = self.raw("GET", "secret/data/missing", {"Origin": APP,
                                                              "X-Vault-Token": self.root})
        self.assertEqual(st, 404)
        self.assertEqual(hdrs["access-control-allow-origin"], APP)
        self.assertEqual(hdrs["vary"], "Origin")
        self.assertEqual(hdrs["access-control-allow-credentials"], "true")
        # A preflight.
        st, hdrs, body = self.raw("OPTIONS", "sys/mounts/x", {
            "Origin": APP, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-vault-token"})
        self.assertEqual(st, 204, body)
        self.assertIn("POST", hdrs["access-control-allow-methods"].split(","))
        self.assertIn("X-Trace-Id", hdrs["access-control-allow-headers"].split(","))
        self.assertEqual(hdrs["access-control-max-age"], "300")
        st, _, _ = self.raw("OPTIONS", "sys/health", {"Origin": APP,
                                                     "Access-Control-Request-Method": "TRACE"})
        self.assertEqual(st, 405)
        # Another origin is refused before the request runs: nothing written.
        st, hdrs, body = self.raw("PUT", "sys/policy/p", {
            "Origin": "http://evil.example", "X-Vault-Token": self.root})
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(body)["errors"], ["origin not allowed"])
        st, _, _ = self.srv.request("GET", "/v1/sys/policy/p", None, self.root)
        self.assertEqual(st, 404)
        # Without an Origin header (CLI, servers) nothing changes.
        st, hdrs, _ = self.raw("GET", "sys/health", {})
        self.assertEqual(st, 200)
        self.assertNotIn("access-control-allow-origin", hdrs)

        # The settings survive a restart, and hold while sealed.
        self.assertEqual(self.srv.stop(), 0)
        self.srv = harness.start_config(self.dir)
        self.addCleanup(self.srv.cleanup)
        st, _, _ = self.srv.request("PUT", "/v1/sys/unseal", {"key": self.key})
        self.assertEqual(st, 200)
        st, _, _ = self.srv.request("PUT", "/v1/sys/seal", None, self.root)
        self.assertEqual(st, 204)
        st, hdrs, _ = self.raw("GET", "sys/seal-status", {"Origin": APP})
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["access-control-allow-origin"], APP)
        st, _, _ = self.srv.request("PUT", "/v1/sys/unseal", {"key": self.key})
        self.assertEqual(st, 200)

        st, _, _ = self.srv.request("DELETE", "/v1/sys/config/cors", None, self.root)
        self.assertEqual(st, 204)
        st, hdrs, _ = self.raw("GET", "sys/health", {"Origin": "http://evil.example"})
        self.assertEqual(st, 200)
        self.assertNotIn("access-control-allow-origin", hdrs)

    def test_bad_settings_and_tokens_without_sudo_change_nothing(self):
        for body, text in (({}, "at least one origin"),
                           ({"allowed_origins": ["*", APP]}, "must be the only value"),
                           ({"allowed_origins": ["http://a b"]}, "invalid origin"),
                           ({"allowed_origins": APP, "allowed_headers": ["X:Y"]},
                            "invalid header name"),
                           # Any page could send the user's credentials.
                           ({"allowed_origins": "*", "allow_credentials": True},
                            "allow_credentials needs the origins named"),
                           ({"allowed_origins": [APP, "null"], "allow_credentials": True},
                            "allow_credentials needs the origins named")):
            st, answer, _ = self.enable(body)
            self.assertEqual(st, 400, body)
            self.assertIn(text, answer["errors"][0])
        st, body, _ = self.srv.request("POST", "/v1/sys/policy/cors-admin", {
            "policy": 'path "sys/config/cors" { capabilities = ["create", "update", "read"] }'},
            self.root)
        self.assertEqual(st, 204, body)
        st, body, _ = self.srv.request("POST", "/v1/auth/token/create",
                                       {"policies": ["cors-admin"]}, self.root)
        tok = body["auth"]["client_token"]
        st, _, _ = self.srv.request("POST", "/v1/sys/config/cors", {"allowed_origins": "*"}, tok)
        self.assertEqual(st, 403)  # sudo-protected, as in Vault
        st, body, _ = self.srv.request("GET", "/v1/sys/config/cors", None, self.root)
        self.assertEqual(body["data"], {"enabled": False})


if __name__ == "__main__":
    unittest.main()
