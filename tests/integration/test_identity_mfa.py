"""Identity and login MFA against the real binary: TOTP enrolment
(admin-generate; codes computed here from the otpauth URL's secret), logins
through an enforced userpass mount (two steps with sys/mfa/validate, one step
with X-Vault-MFA), wrong / reused / expired codes refused, failed logins that
create no token, the enforcement surviving a restart, and group membership
changes applied to the very next request of an existing token
(identity_policies in lookup-self), and templated policy paths."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import harness

ROOT = "identity-mfa-test-root"


def totp(secret_b32, counter, digits=6, algorithm="SHA1"):
    pad = "=" * (-len(secret_b32) % 8)
    key = base64.b32decode(secret_b32 + pad)
    digest = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, algorithm.lower())).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % (10 ** digits)).zfill(digits)


def secret_of(url):
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    return query["secret"][0]


class Api:
    def __init__(self, test, server, root=ROOT):
        self.test = test
        self.server = server
        self.root = root

    def req(self, method, path, body=None, token="root", status=None, headers=None):
        if token == "root":
            token = self.root
        st, data, _ = self.server.request(method, "/v1/" + path, body, token=token,
                                          headers=headers)
        if status is not None:
            self.test.assertEqual(st, status, (method, path, data))
        return st, data

    def accessor_count(self):
        st, data = self.req("LIST", "auth/token/accessors", status=200)
        return len(data["data"]["keys"])


class GroupMembershipTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_group_membership_applies_on_next_request(self):
        api = Api(self, self.server)
        api.req("POST", "sys/auth/userpass", {"type": "userpass"}, status=204)
        api.req("PUT", "sys/policies/acl/team-read",
                {"policy": 'path "secret/data/team/*" { capabilities = ["read"] }'}, status=204)
        api.req("POST", "secret/data/team/x", {"data": {"v": "1"}}, status=200)
        api.req("POST", "auth/userpass/users/bob", {"password": "bob-pw"}, status=204)
        st, login = api.req("POST", "auth/userpass/login/bob", {"password": "bob-pw"},
                            token=None, status=200)
        token = login["auth"]["client_token"]
        entity_id = login["auth"]["entity_id"]
        self.assertTrue(entity_id)
        api.req("GET", "secret/data/team/x", token=token, status=403)

        # The alias the login created, and its entity.
        st, ent = api.req("GET", "identity/entity/id/" + entity_id, status=200)
        self.assertEqual(ent["data"]["aliases"][0]["name"], "bob")
        self.assertEqual(ent["data"]["aliases"][0]["mount_type"], "userpass")

        # In a subgroup of a group that grants the policy.
        st, inner = api.req("POST", "identity/group",
                            {"name": "inner", "member_entity_ids": [entity_id]}, status=200)
        st, outer = api.req("POST", "identity/group",
                            {"name": "outer", "policies": ["team-read"],
                             "member_group_ids": [inner["data"]["id"]]}, status=200)
        api.req("GET", "secret/data/team/x", token=token, status=200)
        st, me = api.req("GET", "auth/token/lookup-self", token=token, status=200)
        self.assertEqual(me["data"]["identity_policies"], ["team-read"])
        self.assertNotIn("team-read", me["data"]["policies"])

        # Out of the group: the very next request is denied; back in: allowed.
        # (an update answers 204, as in Vault)
        api.req("POST", "identity/group/id/" + inner["data"]["id"], {"member_entity_ids": []},
                status=204)
        api.req("GET", "secret/data/team/x", token=token, status=403)
        api.req("POST", "identity/group/name/inner", {"member_entity_ids": [entity_id]},
                status=204)
        api.req("GET", "secret/data/team/x", token=token, status=200)
        # A cycle is refused.
        st, _ = api.req("POST", "identity/group/id/" + inner["data"]["id"],
                        {"member_group_ids": [outer["data"]["id"]]})
        self.assertEqual(st, 400)
        # A disabled entity's token is refused.
        api.req("POST", "identity/entity/id/" + entity_id, {"disabled": True}, status=204)
        api.req("GET", "secret/data/team/x", token=token, status=403)
        api.req("POST", "identity/entity/id/" + entity_id, {"disabled": False}, status=204)
        api.req("GET", "secret/data/team/x", token=token, status=200)
        # The same user logs in again: same entity.
        st, again = api.req("POST", "auth/userpass/login/bob", {"password": "bob-pw"},
                            token=None, status=200)
        self.assertEqual(again["auth"]["entity_id"], entity_id)
        st, found = api.req("POST", "identity/lookup/entity",
                            {"alias_name": "bob",
                             "alias_mount_accessor": ent["data"]["aliases"][0]["mount_accessor"]},
                            status=200)
        self.assertEqual(found["data"]["id"], entity_id)


    def test_templated_policy_paths_follow_the_caller(self):
        """{{identity.entity...}} and {{identity.groups...}} in paths: one
        policy gives each user a subtree of their own."""
        api = Api(self, self.server)
        api.req("POST", "sys/auth/people", {"type": "userpass"}, status=204)
        st, auths = api.req("GET", "sys/auth", status=200)
        accessor = auths["data"]["people/"]["accessor"]

        def login(user):
            st, out = api.req("POST", "auth/people/login/" + user, {"password": user + "-pw"},
                              token=None, status=200)
            return out["auth"]["client_token"], out["auth"]["entity_id"]

        own = ('path "secret/data/{{identity.entity.aliases.%s.name}}/*" {\n'
               '  capabilities = ["create", "update", "read"]\n}\n'
               'path "secret/data/teams/{{identity.groups.names.ops.metadata.site}}/*" {\n'
               '  capabilities = ["read"]\n}\n' % accessor)
        api.req("PUT", "sys/policies/acl/own", {"policy": own}, status=204)
        st, stored = api.req("GET", "sys/policies/acl/own", status=200)
        self.assertEqual(stored["data"]["policy"], own)
        for user in ("alice", "bob"):
            api.req("POST", "auth/people/users/" + user,
                    {"password": user + "-pw", "token_policies": ["own"]}, status=204)
            api.req("POST", "secret/data/%s/seed" % user, {"data": {"v": user}}, status=200)
        alice, alice_entity = login("alice")
        bob, bob_entity = login("bob")

        api.req("POST", "secret/data/alice/x", {"data": {"v": "1"}}, token=alice, status=200)
        api.req("GET", "secret/data/alice/seed", token=alice, status=200)
        api.req("GET", "secret/data/bob/seed", token=alice, status=403)
        api.req("POST", "secret/data/bob/x", {"data": {"v": "evil"}}, token=alice, status=403)
        api.req("GET", "secret/data/bob/seed", token=bob, status=200)
        api.req("GET", "secret/data/alice/x", token=bob, status=403)
        st, caps = api.req("POST", "sys/capabilities-self", {"paths": ["secret/data/alice/x"]},
                           token=alice, status=200)
        self.assertEqual(sorted(caps["data"]["secret/data/alice/x"]), ["create", "read", "update"])

        # The default policy lets an entity read itself, and no other.
        st, me = api.req("GET", "identity/entity/id/" + alice_entity, token=alice, status=200)
        self.assertEqual(me["data"]["id"], alice_entity)
        api.req("GET", "identity/entity/id/" + bob_entity, token=alice, status=403)

        # Group metadata: applies to the next request of the same token, and
        # follows a change.
        api.req("POST", "secret/data/teams/ams/doc", {"data": {"v": "ams"}}, status=200)
        api.req("GET", "secret/data/teams/ams/doc", token=alice, status=403)
        api.req("POST", "identity/group",
                {"name": "ops", "metadata": {"site": "ams"}, "member_entity_ids": [alice_entity]},
                status=200)
        api.req("GET", "secret/data/teams/ams/doc", token=alice, status=200)
        api.req("GET", "secret/data/teams/ams/doc", token=bob, status=403)
        api.req("POST", "identity/group/name/ops", {"metadata": {"site": "rtm"}}, status=204)
        api.req("GET", "secret/data/teams/ams/doc", token=alice, status=403)

        # A broken template is refused and nothing is stored.
        st, err = api.req("PUT", "sys/policies/acl/broken",
                          {"policy": 'path "secret/data/{{identity.entity.name}/*" '
                                     '{ capabilities = ["read"] }'}, status=400)
        self.assertIn("unbalanced templating characters", err["errors"][0])
        api.req("GET", "sys/policies/acl/broken", status=404)


class LoginMfaTest(unittest.TestCase):
    """One server with persistent storage, restarted once."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-mfa-")
        self.config = harness.write_config(self.dir)
        self.server = harness.start_config(data_dir=self.dir, config_path=self.config)
        st, init, _ = self.server.request("PUT", "/v1/sys/init",
                                          {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(st, 200, init)
        self.key = init["keys"][0]
        self.root = init["root_token"]
        self.unseal()

    def tearDown(self):
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def unseal(self):
        st, body, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": self.key})
        self.assertEqual(st, 200, body)
        self.assertFalse(body["sealed"])

    def restart(self):
        self.server.stop()
        self.server = harness.start_config(data_dir=self.dir, config_path=self.config)
        self.unseal()

    def api(self):
        return Api(self, self.server, self.root)

    def login(self, api, password="carol-pw", headers=None):
        return api.req("POST", "auth/userpass/login/carol", {"password": password}, token=None,
                       headers=headers)

    def login_with_mfa_fields(self, fields):
        # urllib folds repeated headers: one X-Vault-MFA field per value here.
        host, port = self.server.addr.split("//", 1)[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        body = json.dumps({"password": "carol-pw"}).encode()
        conn.putrequest("POST", "/v1/auth/userpass/login/carol")
        conn.putheader("Content-Length", str(len(body)))
        for field in fields:
            conn.putheader("X-Vault-MFA", field)
        conn.endheaders(body)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        return resp.status, json.loads(raw) if raw else None

    def validate(self, api, request_id, method_id, code):
        return api.req("POST", "sys/mfa/validate",
                       {"mfa_request_id": request_id, "mfa_payload": {method_id: [code]}},
                       token=None)

    def wait_for_new_step(self, period=30):
        # The next code: wait until the time step changes (polling the clock).
        step = int(time.time()) // period
        while int(time.time()) // period == step:
            time.sleep(0.2)

    def test_totp_login_mfa(self):
        api = self.api()
        api.req("POST", "sys/auth/userpass", {"type": "userpass"}, status=204)
        st, auths = api.req("GET", "sys/auth", status=200)
        accessor = auths["data"]["userpass/"]["accessor"]
        api.req("POST", "auth/userpass/users/carol", {"password": "carol-pw"}, status=204)
        # First login (no enforcement yet) creates the entity.
        st, first = self.login(api)
        self.assertEqual(st, 200, first)
        entity_id = first["auth"]["entity_id"]

        st, m = api.req("POST", "identity/mfa/method/totp",
                        {"issuer": "Coffer", "period": 30, "digits": 6, "algorithm": "SHA1"},
                        status=200)
        method_id = m["data"]["method_id"]
        st, gen = api.req("POST", "identity/mfa/method/totp/admin-generate",
                          {"method_id": method_id, "entity_id": entity_id}, status=200)
        url = gen["data"]["url"]
        self.assertTrue(url.startswith("otpauth://totp/Coffer:"), url)
        self.assertEqual(base64.b64decode(gen["data"]["barcode"])[1:4], b"PNG")
        secret = secret_of(url)
        # The secret is never shown again.
        st, again = api.req("POST", "identity/mfa/method/totp/admin-generate",
                            {"method_id": method_id, "entity_id": entity_id}, status=200)
        self.assertIsNone(again.get("data"))
        st, ent = api.req("GET", "identity/entity/id/" + entity_id, status=200)
        self.assertNotIn(secret, str(ent))

        api.req("POST", "identity/mfa/login-enforcement/people",
                {"mfa_method_ids": [method_id], "auth_method_accessors": [accessor]},
                status=204)
        before = api.accessor_count()

        # Login now answers an MFA requirement, without a token.
        st, pending = self.login(api)
        self.assertEqual(st, 200, pending)
        req = pending["auth"]["mfa_requirement"]
        self.assertEqual(pending["auth"]["client_token"], "")
        any_ = req["mfa_constraints"]["people"]["any"]
        self.assertEqual(any_[0]["id"], method_id)
        self.assertEqual(any_[0]["type"], "totp")
        self.assertTrue(any_[0]["uses_passcode"])
        self.assertEqual(api.accessor_count(), before)

        now = int(time.time()) // 30
        # Wrong and expired codes are refused; no token is made.
        st, body = self.validate(api, req["mfa_request_id"], method_id,
                                 "000000" if totp(secret, now) != "000000" else "111111")
        self.assertEqual(st, 403, body)
        st, body = self.validate(api, req["mfa_request_id"], method_id, totp(secret, now - 3))
        self.assertEqual(st, 403, body)
        # A wrong password never gets as far as MFA, and makes no token.
        st, body = self.login(api, password="wrong")
        self.assertEqual(st, 400, body)
        self.assertEqual(api.accessor_count(), before)

        # The right code completes the login.
        code = totp(secret, int(time.time()) // 30)
        st, done = self.validate(api, req["mfa_request_id"], method_id, code)
        self.assertEqual(st, 200, done)
        token = done["auth"]["client_token"]
        self.assertTrue(token)
        self.assertEqual(done["auth"]["entity_id"], entity_id)
        self.assertEqual(api.accessor_count(), before + 1)
        api.req("GET", "auth/token/lookup-self", token=token, status=200)
        # The request id is spent.
        st, body = self.validate(api, req["mfa_request_id"], method_id, code)
        self.assertEqual(st, 400, body)
        # An empty one is missing.
        st, body = self.validate(api, "", method_id, code)
        self.assertEqual((st, body["errors"]), (400, ["missing request ID"]))

        # The same code again (one step, X-Vault-MFA): refused as reused.
        st, body = self.login(api, headers={"X-Vault-MFA": "%s:%s" % (method_id, code)})
        self.assertEqual(st, 403, body)
        self.assertIn("already used", str(body))
        self.assertEqual(api.accessor_count(), before + 1)

        # Enforcement, method and used-code memory survive a restart.
        self.restart()
        api = self.api()
        st, body = self.login(api, headers={"X-Vault-MFA": "%s:%s" % (method_id, code)})
        self.assertEqual(st, 403, body)
        st, pending = self.login(api)
        self.assertEqual(st, 200, pending)
        self.assertIsNotNone(pending["auth"]["mfa_requirement"])
        st, enf = api.req("GET", "identity/mfa/login-enforcement/people", status=200)
        self.assertEqual(enf["data"]["mfa_method_ids"], [method_id])

        # The next time step's code works in one step, also as the second of
        # several X-Vault-MFA fields (Vault's Go client sends one per method).
        self.wait_for_new_step()
        code = totp(secret, int(time.time()) // 30)
        st, done = self.login_with_mfa_fields(["other-method:123456",
                                               "%s:%s" % (method_id, code)])
        self.assertEqual(st, 200, done)
        self.assertTrue(done["auth"]["client_token"])

        # Through the CLI: the passcode read from stdin after the password.
        self.wait_for_new_step()
        code = totp(secret, int(time.time()) // 30)
        home = tempfile.mkdtemp(prefix="coffer-home-")
        try:
            env = dict(os.environ, HOME=home, COFFER_ADDR=self.server.addr)
            env.pop("COFFER_TOKEN", None)
            env.pop("VAULT_TOKEN", None)
            out = subprocess.run(
                [harness.COFFER_BIN, "login", "-method=userpass", "-format=json",
                 "username=carol"],
                input="carol-pw\n%s\n" % code, capture_output=True, text=True, env=env,
                timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('"client_token"', out.stdout)
            self.assertNotIn("carol-pw", out.stdout + out.stderr)
            with open(os.path.join(home, ".coffer-token")) as f:
                self.assertTrue(f.read().strip())
            # A wrong passcode via -mfa fails with no token stored.
            os.remove(os.path.join(home, ".coffer-token"))
            out = subprocess.run(
                [harness.COFFER_BIN, "login", "-method=userpass", "-mfa=%s:000001" % method_id,
                 "username=carol"],
                input="carol-pw\n", capture_output=True, text=True, env=env, timeout=60)
            self.assertNotEqual(out.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(home, ".coffer-token")))
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def test_validation_attempts_are_limited(self):
        api = self.api()
        api.req("POST", "sys/auth/userpass", {"type": "userpass"}, status=204)
        api.req("POST", "auth/userpass/users/carol", {"password": "carol-pw"}, status=204)
        st, first = self.login(api)
        entity_id = first["auth"]["entity_id"]
        st, m = api.req("POST", "identity/mfa/method/totp",
                        {"issuer": "Coffer", "max_validation_attempts": 2}, status=200)
        method_id = m["data"]["method_id"]
        st, gen = api.req("POST", "identity/mfa/method/totp/admin-generate",
                          {"method_id": method_id, "entity_id": entity_id}, status=200)
        secret = secret_of(gen["data"]["url"])
        api.req("POST", "identity/mfa/login-enforcement/by-type",
                {"mfa_method_ids": [method_id], "auth_method_types": ["userpass"]}, status=204)
        st, pending = self.login(api)
        rid = pending["auth"]["mfa_requirement"]["mfa_request_id"]
        good = totp(secret, int(time.time()) // 30)
        bad = "123456" if good != "123456" else "654321"
        for _ in range(2):
            st, body = self.validate(api, rid, method_id, bad)
            self.assertEqual(st, 403, body)
        st, body = self.validate(api, rid, method_id, good)
        self.assertEqual(st, 429, body)


if __name__ == "__main__":
    unittest.main()
