"""The GitHub auth method on a real dev server against a GitHub API played by
this test on 127.0.0.1 (GitHub Enterprise's base_url), driven by hvac
(python3-hvac) and the CLI: the organization's id is read at config; a
member logs in with the policies of their teams (by name and slug) and of
their user; a non-member, a refused token and a team of another
organization give nothing; the personal access token never reaches the
server's log or the audit log."""

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
import urllib.parse

import hvac

import harness

ROOT = "github-auth-test-root"
TOKENS = {"ghp_ada0000000000000000000000000000000": "ada",
          "ghp_bob0000000000000000000000000000000": "bob"}
ADA, BOB = list(TOKENS)


class FakeGithub:
    ORGS = {"ada": [{"login": "acme", "id": 42}, {"login": "other", "id": 7}],
            "bob": [{"login": "other", "id": 7}]}
    TEAMS = {"ada": [{"name": "Platform Team", "slug": "platform-team",
                      "organization": {"id": 42}},
                     {"name": "admins", "slug": "admins", "organization": {"id": 7}}],
             "bob": []}

    def __init__(self):
        outer = self
        self.paths = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                outer.paths.append(self.path)
                path = url.path.removeprefix("/api/v3")
                body, status = None, 200
                auth = self.headers.get("Authorization", "")
                user = TOKENS.get(auth.removeprefix("Bearer "))
                if path == "/orgs/acme":
                    body = {"login": "acme", "id": 42}
                elif user is None:
                    status, body = 401, {"message": "Bad credentials"}
                elif path == "/user":
                    body = {"login": user, "id": 1}
                elif path == "/user/orgs":
                    body = outer.ORGS[user]
                elif path == "/user/teams":
                    body = outer.TEAMS[user]
                else:
                    status, body = 404, {"message": "Not Found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/api/v3/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class GithubAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.github = FakeGithub()
        cls.server = harness.start_dev(root_token=ROOT)
        cls.root = hvac.Client(url=cls.server.addr, token=ROOT)
        cls.audit_dir = tempfile.mkdtemp(prefix="coffer-github-audit-")
        cls.audit_log = os.path.join(cls.audit_dir, "audit.log")
        cls.root.sys.enable_audit_device("file", options={"file_path": cls.audit_log})
        cls.root.sys.create_or_update_policy(
            "platform", 'path "secret/data/platform/*" { capabilities = ["read"] }')
        cls.root.secrets.kv.v2.create_or_update_secret("platform/db", secret={"pw": "p-db"})
        cls.root.sys.enable_auth_method("github")
        cls.root.auth.github.configure(organization="acme", base_url=cls.github.url, ttl="30m")
        cls.root.auth.github.map_team("platform-team", policies=["platform"])
        cls.root.auth.github.map_team("admins", policies=["root-ish"])  # other org's team
        cls.root.auth.github.map_user("ada", policies=["ada-own"])

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.github.stop()
        shutil.rmtree(cls.audit_dir, True)

    def accessor_count(self):
        return len(self.root.list("auth/token/accessors")["data"]["keys"])

    def test_member_logs_in_with_team_and_user_policies(self):
        config = self.root.auth.github.read_configuration()["data"]
        self.assertEqual(config["organization_id"], 42)
        self.assertEqual(config["token_ttl"], 1800)
        auth = hvac.Client(url=self.server.addr).auth.github.login(token=ADA)["auth"]
        self.assertEqual(auth["policies"], ["ada-own", "default", "platform"])
        self.assertEqual(auth["metadata"], {"username": "ada", "org": "acme"})
        self.assertEqual(auth["lease_duration"], 1800)
        user = hvac.Client(url=self.server.addr, token=auth["client_token"])
        secret = user.secrets.kv.v2.read_secret_version("platform/db")
        self.assertEqual(secret["data"]["data"]["pw"], "p-db")
        self.assertEqual(user.lookup_token()["data"]["display_name"], "github-ada")

    def test_refusals_make_no_token_and_leak_no_token(self):
        before = self.accessor_count()
        anonymous = hvac.Client(url=self.server.addr)
        with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
            anonymous.auth.github.login(token=BOB)
        self.assertIn("user is not part of required org", str(caught.exception))
        with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
            anonymous.auth.github.login(token="ghp_unknown")
        self.assertIn("the token was refused", str(caught.exception))
        self.assertNotIn("ghp_unknown", str(caught.exception))
        self.assertEqual(self.accessor_count(), before)
        with open(self.audit_log) as f:
            audit = f.read()
        self.assertIn("auth/github/login", audit)
        for log in (self.server.log(), audit):
            for token in TOKENS:
                self.assertNotIn(token, log)

    def test_cli_login_reads_the_token_from_stdin(self):
        home = tempfile.mkdtemp(prefix="coffer-github-cli-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": home})
        r = subprocess.run([harness.COFFER_BIN, "login", "-method=github", "token=-"],
                           input=ADA, capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn(ADA, r.stdout + r.stderr)
        with open(os.path.join(home, ".coffer-token")) as f:
            token = f.read().strip()
        me = hvac.Client(url=self.server.addr, token=token).lookup_token()["data"]
        self.assertEqual(me["meta"], {"username": "ada", "org": "acme"})


if __name__ == "__main__":
    unittest.main()
