"""userpass and AppRole against a real dev server: sys/auth, logins whose
tokens carry the user's or role's policies, wrong credentials answered 400,
failed logins that create no token, user lockout, secret ID use counts and
TTLs, wrapped secret ID delivery, and the timing of logins for existing and
unknown users (2,000 samples each; medians reported)."""

import http.client
import json
import statistics
import time
import unittest
import urllib.parse

import harness

ROOT = "auth-methods-test-root"


class AuthMethodsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        for path, typ in (("userpass", "userpass"), ("approle", "approle")):
            st, body, _ = cls.server.request("POST", "/v1/sys/auth/" + path, {"type": typ},
                                             token=ROOT)
            assert st in (200, 204), (st, body)
        st, body, _ = cls.server.request(
            "PUT", "/v1/sys/policies/acl/app-read",
            {"policy": 'path "secret/data/app/*" { capabilities = ["read"] }'}, token=ROOT)
        assert st in (200, 204), (st, body)
        st, body, _ = cls.server.request("POST", "/v1/secret/data/app/db",
                                         {"data": {"password": "db-pass"}}, token=ROOT)
        assert st == 200, (st, body)
        st, body, _ = cls.server.request("POST", "/v1/secret/data/other/x",
                                         {"data": {"v": "1"}}, token=ROOT)
        assert st == 200, (st, body)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def req(self, method, path, body=None, token=ROOT, status=None, headers=None):
        st, data, _ = self.server.request(method, "/v1/" + path, body, token=token,
                                          headers=headers)
        if status is not None:
            self.assertEqual(st, status, (method, path, data))
        return st, data

    def accessor_count(self):
        st, data = self.req("LIST", "auth/token/accessors")
        self.assertEqual(st, 200, data)
        return len(data["data"]["keys"])

    def add_user(self, name, password, **fields):
        body = {"password": password}
        body.update(fields)
        self.req("POST", "auth/userpass/users/" + name, body, status=204)

    def login_user(self, name, password, mount="userpass"):
        return self.req("POST", "auth/%s/login/%s" % (mount, name), {"password": password},
                        token=None)

    # --- sys/auth ---------------------------------------------------------

    def test_sys_auth_lists_methods_with_token(self):
        st, data = self.req("GET", "sys/auth", status=200)
        for key in ("token/", "userpass/", "approle/"):
            self.assertIn(key, data["data"])
        self.assertEqual(data["data"]["userpass/"]["type"], "userpass")
        self.assertTrue(data["data"]["approle/"]["accessor"].startswith("auth_approle_"))
        st, mounts = self.req("GET", "sys/mounts", status=200)
        self.assertNotIn("auth/userpass/", mounts["data"])
        st, data = self.req("POST", "sys/auth/bogus", {"type": "kv"})
        self.assertEqual(st, 400, data)

    def form(self, path, pairs, token=ROOT):
        """POSTs `pairs` as an application/x-www-form-urlencoded body, as
        curl -d and Ruby's Net::HTTP form_data send them."""
        body = urllib.parse.urlencode(pairs).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            headers["X-Vault-Token"] = token
        conn = http.client.HTTPConnection(self.server.addr.split("//", 1)[1], timeout=30)
        try:
            conn.request("POST", "/v1/" + path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
        finally:
            conn.close()

    def test_form_bodies_are_read_as_vault_reads_them(self):
        # vault-ruby's TLS login with a name, and curl -d, send forms.
        st, data = self.form("auth/userpass/users/formuser",
                             [("password", "form pw&=!"), ("token_policies", "app-read"),
                              ("token_policies", "extra"), ("token_ttl", "2h")])
        self.assertEqual(st, 204, data)
        st, user = self.req("GET", "auth/userpass/users/formuser", status=200)
        self.assertEqual(user["data"]["token_policies"], ["app-read", "extra"])
        self.assertEqual(user["data"]["token_ttl"], 7200)
        before = self.accessor_count()
        st, data = self.form("auth/userpass/login/formuser", [("password", "form pw")], token=None)
        self.assertEqual(st, 400, data)
        self.assertEqual(self.accessor_count(), before)
        st, data = self.form("auth/userpass/login/formuser", [("password", "form pw&=!")],
                             token=None)
        self.assertEqual(st, 200, data)
        self.assertEqual(data["auth"]["policies"], ["app-read", "default", "extra"])
        self.assertEqual(data["auth"]["lease_duration"], 7200)
        st, data = self.form("auth/token/create", [("policies", "app-read"), ("ttl", "90m"),
                                                   ("num_uses", "3"), ("renewable", "false")])
        self.assertEqual(st, 200, data)
        self.assertEqual(data["auth"]["policies"], ["app-read", "default"])
        self.assertEqual(data["auth"]["lease_duration"], 5400)
        self.assertFalse(data["auth"]["renewable"])
        st, me = self.req("GET", "auth/token/lookup-self", token=data["auth"]["client_token"],
                          status=200)
        self.assertEqual(me["data"]["num_uses"], 2)  # the lookup used one
        # A policy's text spans lines.
        text = 'path "secret/data/form/*" {\n  capabilities = ["read"]\n}\n'
        st, data = self.form("sys/policy/form-pol", [("policy", text)])
        self.assertEqual(st, 204, data)
        st, pol = self.req("GET", "sys/policy/form-pol", status=200)
        self.assertEqual(pol["rules"], text)
        # A malformed form is refused, and nothing of it is in the answer.
        conn = http.client.HTTPConnection(self.server.addr.split("//", 1)[1], timeout=30)
        conn.request("POST", "/v1/auth/userpass/login/formuser", body=b"password=hunter2%zz",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        raw = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 400, raw)
        self.assertIn("error parsing form data", raw)
        self.assertNotIn("hunter2", raw)

    # --- userpass ---------------------------------------------------------

    def test_userpass_login_token_carries_policies(self):
        self.add_user("alice", "alice-pw", token_policies="app-read", token_ttl="1h")
        st, data = self.login_user("alice", "alice-pw")
        self.assertEqual(st, 200, data)
        auth = data["auth"]
        self.assertEqual(auth["policies"], ["app-read", "default"])
        self.assertEqual(auth["token_policies"], ["app-read", "default"])
        self.assertEqual(auth["metadata"], {"username": "alice"})
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertTrue(auth["renewable"])
        self.assertEqual(auth["token_type"], "service")
        self.assertTrue(auth["orphan"])
        token = auth["client_token"]
        st, secret = self.req("GET", "secret/data/app/db", token=token, status=200)
        self.assertEqual(secret["data"]["data"], {"password": "db-pass"})
        self.req("GET", "secret/data/other/x", token=token, status=403)
        st, me = self.req("GET", "auth/token/lookup-self", token=token, status=200)
        self.assertEqual(me["data"]["display_name"], "userpass-alice")

    def test_wrong_credentials_are_400_and_create_no_token(self):
        self.add_user("bob", "bob-pw")
        before = self.accessor_count()
        st, wrong = self.login_user("bob", "not-bob-pw")
        self.assertEqual(st, 400)
        self.assertEqual(wrong, {"errors": ["invalid username or password"]})
        st, unknown = self.login_user("nobody-here", "bob-pw")
        self.assertEqual(st, 400)
        self.assertEqual(unknown, wrong)  # no hint which part was wrong
        st, _ = self.req("POST", "auth/approle/login",
                         {"role_id": "no-such-role", "secret_id": "x"}, token=None)
        self.assertEqual(st, 400)
        self.assertEqual(self.accessor_count(), before)
        st, ok = self.login_user("bob", "bob-pw")
        self.assertEqual(st, 200, ok)
        self.assertEqual(self.accessor_count(), before + 1)

    def test_lockout_after_threshold(self):
        self.req("POST", "sys/auth/locked", {"type": "userpass"}, status=204)
        self.req("POST", "sys/auth/locked/tune",
                 {"user_lockout_config": {"lockout_threshold": 3, "lockout_duration": "1h"}},
                 status=204)
        self.req("POST", "auth/locked/users/carol", {"password": "carol-pw"}, status=204)
        for name in ("carol", "CAROL", " carol "):
            st, _ = self.login_user(urllib.parse.quote(name), "wrong", mount="locked")
            self.assertEqual(st, 400)
        before = self.accessor_count()
        st, data = self.login_user("carol", "carol-pw", mount="locked")
        self.assertEqual(st, 403, data)  # locked out: even the right password is refused
        self.assertEqual(self.accessor_count(), before)
        st, data = self.req("GET", "sys/auth/locked/tune", status=200)
        # Vault's tune read: the settings at the top level, under its names.
        self.assertEqual(data["data"]["user_lockout_threshold"], 3)
        self.assertEqual(data["data"]["user_lockout_duration"], 3600)

    def test_login_timing_existing_vs_unknown_user(self):
        # A mount without lockout, so thousands of failures stay failures.
        self.req("POST", "sys/auth/timing", {"type": "userpass"}, status=204)
        self.req("POST", "sys/auth/timing/tune",
                 {"user_lockout_config": {"lockout_disable": True}}, status=204)
        self.req("POST", "auth/timing/users/dave", {"password": "dave-pw"}, status=204)
        url = urllib.parse.urlparse(self.server.addr)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        body = json.dumps({"password": "wrong-password"})

        def once(name):
            start = time.perf_counter()
            conn.request("POST", "/v1/auth/timing/login/" + name, body,
                         {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            elapsed = time.perf_counter() - start
            self.assertEqual(resp.status, 400)
            return elapsed

        for _ in range(20):  # warm up the connection and caches
            once("dave")
            once("ghost")
        existing, unknown = [], []
        for i in range(2000):
            # Interleaved, so drifts in machine load hit both series alike.
            existing.append(once("dave"))
            unknown.append(once("ghost-%d" % (i % 50)))
        conn.close()
        m_existing = statistics.median(existing)
        m_unknown = statistics.median(unknown)
        ratio = m_existing / m_unknown
        print("\nuserpass login timing (2,000 each): median existing user %.2f ms, "
              "unknown user %.2f ms, ratio %.3f" % (m_existing * 1e3, m_unknown * 1e3, ratio))
        self.assertGreater(ratio, 0.8)
        self.assertLess(ratio, 1.25)

    # --- approle ----------------------------------------------------------

    def role_id(self, role):
        st, data = self.req("GET", "auth/approle/role/%s/role-id" % role, status=200)
        return data["data"]["role_id"]

    def secret_id(self, role, **fields):
        st, data = self.req("POST", "auth/approle/role/%s/secret-id" % role, fields, status=200)
        return data["data"]

    def approle_login(self, role_id, secret_id):
        return self.req("POST", "auth/approle/login",
                        {"role_id": role_id, "secret_id": secret_id}, token=None)

    def test_approle_login_token_carries_role_policies(self):
        self.req("POST", "auth/approle/role/app", {"token_policies": "app-read",
                                                   "token_ttl": "20m"}, status=204)
        sid = self.secret_id("app", metadata=json.dumps({"team": "blue"}))
        st, data = self.approle_login(self.role_id("app"), sid["secret_id"])
        self.assertEqual(st, 200, data)
        auth = data["auth"]
        self.assertEqual(auth["policies"], ["app-read", "default"])
        self.assertEqual(auth["metadata"], {"role_name": "app", "team": "blue"})
        self.assertEqual(auth["lease_duration"], 1200)
        st, secret = self.req("GET", "secret/data/app/db", token=auth["client_token"],
                              status=200)
        self.assertEqual(secret["data"]["data"]["password"], "db-pass")
        self.req("GET", "secret/data/other/x", token=auth["client_token"], status=403)
        before = self.accessor_count()
        st, wrong = self.approle_login(self.role_id("app"), "wrong-secret")
        self.assertEqual(st, 400)
        self.assertEqual(wrong, {"errors": ["invalid role or secret ID"]})
        self.assertEqual(self.accessor_count(), before)

    def test_secret_id_num_uses(self):
        self.req("POST", "auth/approle/role/counted", {}, status=204)
        sid = self.secret_id("counted", num_uses=2)
        self.assertEqual(sid["secret_id_num_uses"], 2)
        rid = self.role_id("counted")
        self.assertEqual(self.approle_login(rid, sid["secret_id"])[0], 200)
        self.assertEqual(self.approle_login(rid, sid["secret_id"])[0], 200)
        self.assertEqual(self.approle_login(rid, sid["secret_id"])[0], 400)

    def test_secret_id_ttl(self):
        self.req("POST", "auth/approle/role/brief", {"secret_id_ttl": "2s"}, status=204)
        sid = self.secret_id("brief")
        self.assertEqual(sid["secret_id_ttl"], 2)
        rid = self.role_id("brief")
        self.assertEqual(self.approle_login(rid, sid["secret_id"])[0], 200)
        # Poll until it expires (it must, within a few seconds).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            st, _ = self.approle_login(rid, sid["secret_id"])
            if st == 400:
                break
            time.sleep(0.2)
        self.assertEqual(st, 400)

    def test_wrapped_secret_id(self):
        self.req("POST", "auth/approle/role/wrapped", {"token_policies": "app-read"},
                 status=204)
        st, data = self.req("POST", "auth/approle/role/wrapped/secret-id", {},
                            headers={"X-Vault-Wrap-TTL": "60s"}, status=200)
        self.assertIsNone(data["data"])
        wrap = data["wrap_info"]
        self.assertEqual(wrap["ttl"], 60)
        st, unwrapped = self.req("POST", "sys/wrapping/unwrap", {}, token=wrap["token"],
                                 status=200)
        secret_id = unwrapped["data"]["secret_id"]
        st, data = self.approle_login(self.role_id("wrapped"), secret_id)
        self.assertEqual(st, 200, data)
        # A wrapping token unwraps once.
        st, _ = self.req("POST", "sys/wrapping/unwrap", {}, token=wrap["token"])
        self.assertNotEqual(st, 200)

    def test_accessor_only_within_its_role(self):
        self.req("POST", "auth/approle/role/one", {}, status=204)
        self.req("POST", "auth/approle/role/two", {}, status=204)
        sid = self.secret_id("one")
        acc = sid["secret_id_accessor"]
        st, data = self.req("LIST", "auth/approle/role/one/secret-id", status=200)
        self.assertIn(acc, data["data"]["keys"])
        self.req("POST", "auth/approle/role/two/secret-id-accessor/destroy",
                 {"secret_id_accessor": acc}, status=400)
        self.assertEqual(self.approle_login(self.role_id("one"), sid["secret_id"])[0], 200)
        self.req("POST", "auth/approle/role/one/secret-id-accessor/destroy",
                 {"secret_id_accessor": acc}, status=204)
        self.assertEqual(self.approle_login(self.role_id("one"), sid["secret_id"])[0], 400)

    def test_disabling_a_method_revokes_its_tokens(self):
        self.req("POST", "sys/auth/temp", {"type": "userpass"}, status=204)
        self.req("POST", "auth/temp/users/eve", {"password": "eve-pw"}, status=204)
        st, data = self.login_user("eve", "eve-pw", mount="temp")
        token = data["auth"]["client_token"]
        self.req("GET", "auth/token/lookup-self", token=token, status=200)
        self.req("DELETE", "sys/auth/temp", status=204)
        self.req("GET", "auth/token/lookup-self", token=token, status=403)


if __name__ == "__main__":
    unittest.main()
