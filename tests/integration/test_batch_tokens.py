"""Batch tokens against the real binary: auth/token/create with type=batch,
reading a KV secret its policy allows (and nothing else), lookup-self,
what a batch token cannot do (children, renew, revoke), tampering, the parent's
revocation ending its batch children but not orphans, AppRole logins with a
batch-token role, and batch tokens staying valid across a restart of a
config-mode server (the key is kept under the barrier)."""

import os
import shutil
import tempfile
import unittest

import harness

ROOT = "batch-tokens-test-root"

READER = '''
path "secret/data/app/*" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
'''


class BatchTokensTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        s = cls.server
        st, body, _ = s.request("PUT", "/v1/sys/policies/acl/reader", {"policy": READER},
                                token=ROOT)
        assert st in (200, 204), (st, body)
        st, body, _ = s.request("POST", "/v1/secret/data/app/db", {"data": {"password": "p1"}},
                                token=ROOT)
        assert st == 200, (st, body)
        st, body, _ = s.request("POST", "/v1/sys/auth/approle", {"type": "approle"}, token=ROOT)
        assert st in (200, 204), (st, body)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def req(self, method, path, body=None, token=ROOT, status=None):
        st, data, _ = self.server.request(method, "/v1/" + path, body, token=token)
        if status is not None:
            self.assertEqual(st, status, data)
        return st, data

    def create(self, token, body, path="auth/token/create"):
        _, data = self.req("POST", path, body, token=token, status=200)
        return data["auth"]

    def test_batch_token_reads_what_its_policy_allows(self):
        parent = self.create(ROOT, {"policies": ["reader"], "ttl": "1h"})["client_token"]
        auth = self.create(parent, {"type": "batch", "policies": ["reader"], "ttl": "30m"})
        batch = auth["client_token"]
        self.assertTrue(batch.startswith("hvb."), batch[:4])
        self.assertEqual(auth["token_type"], "batch")
        self.assertEqual(auth["accessor"], "")
        self.assertFalse(auth["renewable"])
        self.assertFalse(auth["orphan"])
        self.assertEqual(auth["lease_duration"], 1800)

        _, data = self.req("GET", "secret/data/app/db", token=batch, status=200)
        self.assertEqual(data["data"]["data"], {"password": "p1"})
        self.req("POST", "secret/data/app/db", {"data": {"password": "x"}}, token=batch,
                 status=403)
        self.req("GET", "sys/mounts", token=batch, status=403)

        _, me = self.req("GET", "auth/token/lookup-self", token=batch, status=200)
        self.assertEqual(me["data"]["type"], "batch")
        self.assertEqual(me["data"]["id"], batch)
        self.assertEqual(me["data"]["accessor"], "")
        self.assertFalse(me["data"]["orphan"])
        self.assertFalse(me["data"]["renewable"])
        self.assertEqual(me["data"]["policies"], ["default", "reader"])
        self.assertGreater(me["data"]["ttl"], 1700)
        _, other = self.req("POST", "auth/token/lookup", {"token": batch}, status=200)
        self.assertEqual(other["data"]["type"], "batch")

    def test_what_a_batch_token_cannot_do(self):
        batch = self.create(ROOT, {"type": "batch", "policies": ["reader"]})["client_token"]
        st, data = self.req("POST", "auth/token/create", {"policies": ["reader"]}, token=batch)
        self.assertEqual((st, data["errors"]), (400, ["batch tokens cannot create more tokens"]))
        st, data = self.req("POST", "auth/token/renew-self", {}, token=batch)
        self.assertEqual((st, data["errors"]), (400, ["batch tokens cannot be renewed"]))
        st, data = self.req("POST", "auth/token/revoke", {"token": batch})
        self.assertEqual((st, data["errors"]), (400, ["batch tokens cannot be revoked"]))
        st, data = self.req("POST", "auth/token/create", {"type": "batch"})
        self.assertEqual((st, data["errors"]), (400, ["batch tokens cannot be root tokens"]))
        st, data = self.req("POST", "auth/token/create",
                            {"type": "batch", "policies": ["reader"], "num_uses": 3})
        self.assertEqual(st, 400, data)
        # Still works after all those refusals.
        self.req("GET", "secret/data/app/db", token=batch, status=200)

    def test_tampered_token_is_unknown(self):
        batch = self.create(ROOT, {"type": "batch", "policies": ["reader"]})["client_token"]
        for i in (4, len(batch) // 2, len(batch) - 1):
            flipped = batch[:i] + ("A" if batch[i] != "A" else "B") + batch[i + 1:]
            st, data = self.req("GET", "secret/data/app/db", token=flipped)
            self.assertEqual(st, 403, (i, data))
        for bad in (batch[:-3], batch + "AAAA", "hvb.", "hvb.%%%%"):
            st, _ = self.req("GET", "auth/token/lookup-self", token=bad)
            self.assertEqual(st, 403)

    def test_revoking_the_parent_ends_its_batch_children_not_orphans(self):
        parent = self.create(ROOT, {"policies": ["reader"], "ttl": "1h"})["client_token"]
        child = self.create(parent, {"type": "batch"})["client_token"]
        orphan = self.create(ROOT, {"type": "batch", "policies": ["reader"]},
                             path="auth/token/create-orphan")
        self.assertTrue(orphan["orphan"])
        self.req("GET", "secret/data/app/db", token=child, status=200)
        self.req("POST", "auth/token/revoke", {"token": parent}, status=204)
        st, _ = self.req("GET", "secret/data/app/db", token=child)
        self.assertEqual(st, 403)
        st, _ = self.req("GET", "auth/token/lookup-self", token=child)
        self.assertEqual(st, 403)
        self.req("GET", "secret/data/app/db", token=orphan["client_token"], status=200)

    def test_token_role_and_approle_issue_batch_tokens(self):
        # A batch role hands out orphans that do not renew, as in Vault.
        self.req("POST", "auth/token/roles/ci", {"token_type": "batch",
                                                 "allowed_policies": "reader"}, status=400)
        self.req("POST", "auth/token/roles/ci", {"token_type": "batch", "orphan": True,
                                                 "renewable": False,
                                                 "allowed_policies": "reader"}, status=204)
        auth = self.create(ROOT, {}, path="auth/token/create/ci")
        self.assertEqual(auth["token_type"], "batch")
        self.assertTrue(auth["client_token"].startswith("hvb."))

        self.req("POST", "auth/approle/role/x", {"token_type": "batch",
                                                 "token_policies": "reader",
                                                 "token_ttl": "10m"}, status=204)
        _, role = self.req("GET", "auth/approle/role/x", status=200)
        self.assertEqual(role["data"]["token_type"], "batch")
        _, rid = self.req("GET", "auth/approle/role/x/role-id", status=200)
        _, sid = self.req("POST", "auth/approle/role/x/secret-id", {}, status=200)
        _, login = self.req("POST", "auth/approle/login",
                            {"role_id": rid["data"]["role_id"],
                             "secret_id": sid["data"]["secret_id"]}, token=None, status=200)
        auth = login["auth"]
        self.assertEqual(auth["token_type"], "batch")
        self.assertTrue(auth["client_token"].startswith("hvb."))
        self.assertEqual(auth["accessor"], "")
        self.assertTrue(auth["orphan"])
        self.assertEqual(auth["lease_duration"], 600)
        _, me = self.req("GET", "auth/token/lookup-self", token=auth["client_token"], status=200)
        self.assertEqual(me["data"]["type"], "batch")
        self.assertEqual(me["data"]["path"], "auth/approle/login")
        self.req("GET", "secret/data/app/db", token=auth["client_token"], status=200)


class BatchTokensRestartTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-batch-")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        config = os.path.join(self.dir, "config.hcl")
        if not os.path.exists(config):
            config = harness.write_config(self.dir)
        self.server = harness.start_config(self.dir, config)
        return self.server

    def unseal(self, key):
        st, body, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": key})
        self.assertEqual(st, 200, body)
        self.assertFalse(body["sealed"])

    def test_batch_tokens_survive_a_restart(self):
        s = self.start()
        st, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(st, 200, init)
        key, root = init["keys"][0], init["root_token"]
        self.unseal(key)
        st, body, _ = s.request("PUT", "/v1/sys/policies/acl/reader", {"policy": READER},
                                token=root)
        self.assertIn(st, (200, 204), body)
        st, body, _ = s.request("POST", "/v1/auth/token/create",
                                {"type": "batch", "policies": ["reader"], "ttl": "1h"}, token=root)
        self.assertEqual(st, 200, body)
        batch = body["auth"]["client_token"]
        st, body, _ = s.request("GET", "/v1/auth/token/lookup-self", token=batch)
        self.assertEqual(st, 200, body)
        self.assertEqual(s.stop(), 0)

        s = self.start()
        st, body, _ = s.request("GET", "/v1/auth/token/lookup-self", token=batch)
        self.assertEqual(st, 503, body)  # sealed
        self.unseal(key)
        st, body, _ = s.request("GET", "/v1/auth/token/lookup-self", token=batch)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["data"]["type"], "batch")
        self.assertEqual(body["data"]["policies"], ["default", "reader"])


if __name__ == "__main__":
    unittest.main()
