"""The browser login of the JWT/OIDC auth method (role_type "oidc") on a real
dev server, against an OpenID provider played by this test on 127.0.0.1: it
serves discovery, keys, an authorization endpoint that consents at once and
redirects with a code, a token endpoint that checks the client's Basic
credentials, the redirect URI and the PKCE verifier before it signs an ID
token with the login's nonce, and a userinfo endpoint.

hvac configures the method and asks for the auth_url; the test plays the
browser. The login completes at Coffer's own callback URL, and through
`coffer login -method=oidc` (its loopback listener). A replayed callback, a
redirect URI the role does not allow and an ID token for another client are
refused without creating a token, and neither the client secret, a code nor
an ID token reaches the server's log or the audit log."""

import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import hvac
import requests

import harness
from test_jwt_auth import Key

ROOT = "oidc-auth-test-root"
CLIENT_ID = "coffer-app"
CLIENT_SECRET = "client-secret-" + secrets.token_hex(8)


class Provider:
    """A minimal OpenID provider. `claims` are the next ID token's claims
    (besides iss, aud, nonce and times); `audience` its aud."""

    def __init__(self):
        self.key = Key("RS256", "p1")
        self.codes = {}
        self.issued = []  # every code and token handed out, to look for in logs
        self.claims = {}
        self.audience = CLIENT_ID
        self.token_requests = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, status, doc=None, headers=None):
                body = b"" if doc is None else json.dumps(doc).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    base = outer.url
                    return self.answer(200, {
                        "issuer": base, "authorization_endpoint": base + "/authorize",
                        "token_endpoint": base + "/token", "jwks_uri": base + "/keys",
                        "userinfo_endpoint": base + "/userinfo"})
                if url.path == "/keys":
                    return self.answer(200, {"keys": [outer.key.jwk]})
                if url.path == "/authorize":
                    return self.answer(*outer.authorize(q))
                if url.path == "/userinfo":
                    return self.answer(*outer.userinfo(self.headers.get("Authorization", "")))
                return self.answer(404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path == "/token":
                    return self.answer(*outer.token(self.headers.get("Authorization", ""), form))
                return self.answer(404)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def authorize(self, q):
        """The user agrees at once: a code, sent back to the redirect URI."""
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code" or \
                q.get("code_challenge_method") != "S256" or "openid" not in q.get("scope", ""):
            return 400, {"error": "invalid_request"}
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = q
            self.issued.append(code)
        location = q["redirect_uri"] + "?" + urllib.parse.urlencode(
            {"code": code, "state": q["state"]})
        return 302, None, {"Location": location}

    def token(self, authorization, form):
        with self.lock:
            self.token_requests += 1
        basic = "Basic " + base64.b64encode(
            ("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
        if authorization != basic:
            return 401, {"error": "invalid_client"}
        with self.lock:
            asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"] or \
                form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != asked["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.audience, "nonce": asked["nonce"],
                  "iat": now, "exp": now + 300}
        claims.update(self.claims)
        id_token = self.key.sign(claims)
        access_token = secrets.token_urlsafe(24)
        with self.lock:
            self.issued += [id_token, access_token]
            self.access = (access_token, claims["sub"])
        return 200, {"access_token": access_token, "token_type": "Bearer", "id_token": id_token}

    def userinfo(self, authorization):
        with self.lock:
            access, sub = self.access
        if authorization != "Bearer " + access:
            return 401, {"error": "invalid_token"}
        return 200, {"sub": sub, "groups": ["engineering", "on-call"]}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class OidcAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.provider = Provider()
        cls.server = harness.start_dev(root_token=ROOT)
        cls.root = hvac.Client(url=cls.server.addr, token=ROOT)
        cls.root.sys.create_or_update_policy(
            "team", 'path "secret/data/team/*" { capabilities = ["read"] }')
        cls.root.secrets.kv.v2.create_or_update_secret(
            "team/db", secret={"password": "team-db-password"})
        cls.audit_dir = tempfile.mkdtemp(prefix="coffer-oidc-audit-")
        cls.audit_log = os.path.join(cls.audit_dir, "audit.log")
        cls.root.sys.enable_audit_device("file", options={"file_path": cls.audit_log})
        cls.root.sys.enable_auth_method("oidc")
        cls.root.auth.oidc.configure(
            oidc_discovery_url=cls.provider.url, oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET, default_role="team")
        cls.callback = cls.server.addr + "/v1/auth/oidc/oidc/callback"
        cls.root.auth.oidc.create_role(
            name="team", role_type="oidc", user_claim="email", groups_claim="groups",
            allowed_redirect_uris=[cls.callback, "http://localhost:8250/oidc/callback"],
            oidc_scopes=["email"], claim_mappings={"name": "name"},
            token_policies=["team"], token_ttl="15m")
        # An external group named by the provider's userinfo only (the ID
        # token carries no groups): its policy shows that those claims count.
        accessor = cls.root.sys.list_auth_methods()["oidc/"]["accessor"]
        group = cls.root.secrets.identity.create_or_update_group(
            name="on-call", group_type="external", policies=["on-call"])["data"]["id"]
        cls.root.secrets.identity.create_or_update_group_alias(
            name="on-call", mount_accessor=accessor, canonical_id=group)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.provider.stop()
        shutil.rmtree(cls.audit_dir, True)

    def setUp(self):
        self.provider.audience = CLIENT_ID
        self.provider.claims = {"sub": "u-42", "email": "ada@example.com", "name": "Ada"}

    def accessor_count(self):
        return len(self.root.list("auth/token/accessors")["data"]["keys"])

    def auth_url(self, redirect_uri, role="team"):
        anonymous = hvac.Client(url=self.server.addr)
        return anonymous.auth.oidc.oidc_authorization_url_request(
            role=role, redirect_uri=redirect_uri)["data"]["auth_url"]

    def consent(self, auth_url):
        """The browser at the provider: where it is sent back to."""
        r = requests.get(auth_url, allow_redirects=False, timeout=10)
        self.assertEqual(r.status_code, 302, r.text)
        return r.headers["Location"]

    def test_browser_login_at_the_servers_callback(self):
        url = self.auth_url(self.callback)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        self.assertTrue(url.startswith(self.provider.url + "/authorize?client_id=" + CLIENT_ID))
        self.assertEqual(q["scope"], "openid email")
        self.assertEqual(q["redirect_uri"], self.callback)
        back = self.consent(url)
        r = requests.get(back, timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        auth = r.json()["auth"]
        self.assertEqual(auth["metadata"], {"role": "team", "name": "Ada"})
        self.assertIn("team", auth["policies"])
        self.assertEqual(auth["lease_duration"], 900)
        user = hvac.Client(url=self.server.addr, token=auth["client_token"])
        secret = user.secrets.kv.v2.read_secret_version("team/db")
        self.assertEqual(secret["data"]["data"]["password"], "team-db-password")
        me = user.lookup_token()["data"]
        self.assertEqual(me["meta"]["role"], "team")
        self.assertEqual(me["display_name"], "oidc-ada@example.com")
        self.assertEqual(me["path"], "auth/oidc/oidc/callback")
        # The userinfo endpoint's groups joined the ID token's claims.
        self.assertEqual(me["identity_policies"], ["on-call"])
        entity = self.root.secrets.identity.read_entity(me["entity_id"])["data"]
        self.assertEqual(entity["aliases"][0]["name"], "ada@example.com")

        # The same callback again: the state is spent. No token is made.
        before = self.accessor_count()
        again = requests.get(back, timeout=10)
        self.assertEqual(again.status_code, 400, again.text)
        self.assertIn("Expired or missing OAuth state", again.text)
        self.assertEqual(self.accessor_count(), before)

    def test_refusals_create_no_token_and_leak_nothing(self):
        before = self.accessor_count()
        # A redirect URI the role does not allow: an empty URL, as in Vault.
        self.assertEqual(self.auth_url("https://evil.example/cb"), "")
        # An ID token for another client.
        self.provider.audience = "another-app"
        r = requests.get(self.consent(self.auth_url(self.callback)), timeout=10)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("aud claim does not match", r.text)
        # The user claim missing.
        self.provider.audience = CLIENT_ID
        self.provider.claims = {"sub": "u-7"}
        r = requests.get(self.consent(self.auth_url(self.callback)), timeout=10)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn('claim \\"email\\" not found', r.text)
        # The JWT login refuses an oidc role.
        anonymous = hvac.Client(url=self.server.addr)
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            anonymous.auth.oidc.jwt_login(role="team", jwt="a.b.c", path="oidc")
        self.assertEqual(self.accessor_count(), before)
        # The config read has no secret.
        config = self.root.auth.oidc.read_config()["data"]
        self.assertEqual(config["oidc_client_id"], CLIENT_ID)
        self.assertNotIn("oidc_client_secret", config)
        # Nor do the server's log and the audit log (whose entries HMAC the
        # callback's query as any request's data).
        with open(self.audit_log) as f:
            audit = f.read()
        self.assertIn("auth/oidc/oidc/callback", audit)
        for log in (self.server.log(), audit):
            self.assertNotIn(CLIENT_SECRET, log)
            for issued in self.provider.issued:
                self.assertNotIn(issued, log)

    def start_cli_login(self, *args):
        """`coffer login -method=oidc` in a fresh HOME, without a display:
        (the process, its HOME, the auth_url it printed)."""
        home = tempfile.mkdtemp(prefix="coffer-oidc-cli-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("VAULT_", "COFFER_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": home})
        cli = subprocess.Popen(
            [harness.COFFER_BIN, "login", "-method=oidc", "port=0"] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(cli.kill)
        url = None
        for line in cli.stderr:
            if line.strip().startswith(self.provider.url + "/authorize?"):
                url = line.strip()
                break
        self.assertIsNotNone(url, "the CLI printed no auth_url")
        return cli, home, url

    def test_cli_login_through_its_loopback_listener(self):
        cli, home, url = self.start_cli_login("role=team")
        back = self.consent(url)
        self.assertTrue(back.startswith("http://localhost:"), back)
        page = requests.get(back, timeout=30)
        self.assertEqual(page.status_code, 200, page.text)
        self.assertIn("Signed in to Coffer", page.text)
        out, err = cli.communicate(timeout=30)
        self.assertEqual(cli.returncode, 0, out + err)
        self.assertIn("Success! You are now authenticated.", out)
        with open(os.path.join(home, ".coffer-token")) as f:
            token = f.read().strip()
        user = hvac.Client(url=self.server.addr, token=token)
        self.assertEqual(user.lookup_token()["data"]["meta"]["role"], "team")
        for issued in self.provider.issued:
            self.assertNotIn(issued, out + err)

    def test_cli_login_takes_only_its_own_callback(self):
        # Login CSRF: a web page sends the browser to the CLI's port with the
        # code of a login someone else began. The CLI refuses it and waits
        # for its own.
        cli, home, url = self.start_cli_login("role=team")
        back = self.consent(url)
        port = urllib.parse.urlsplit(back).port
        other = self.consent(self.auth_url(f"http://localhost:{port}/oidc/callback"))
        forged = requests.get(other, timeout=30)
        self.assertEqual(forged.status_code, 400, forged.text)
        self.assertIn("not for the login in progress", forged.text)
        self.assertEqual(requests.get(f"http://localhost:{port}/oidc/callbackX",
                                      timeout=30).status_code, 404)
        page = requests.get(back, timeout=30)
        self.assertEqual(page.status_code, 200, page.text)
        out, err = cli.communicate(timeout=30)
        self.assertEqual(cli.returncode, 0, out + err)

    def test_cli_login_reports_a_refused_login_to_the_browser_too(self):
        self.provider.audience = "another-app"
        # No role: the mount's default_role; skip_browser as a user would.
        cli, home, url = self.start_cli_login("skip_browser=true")
        page = requests.get(self.consent(url), timeout=30)
        self.assertEqual(page.status_code, 400, page.text)
        self.assertIn("Coffer login failed", page.text)
        out, err = cli.communicate(timeout=30)
        self.assertEqual(cli.returncode, 2, out + err)
        self.assertIn("aud claim does not match", err)
        self.assertFalse(os.path.exists(os.path.join(home, ".coffer-token")))
        # The code travels in the callback's URL; no message repeats it.
        for issued in self.provider.issued:
            self.assertNotIn(issued, page.text + out + err)


if __name__ == "__main__":
    unittest.main()
