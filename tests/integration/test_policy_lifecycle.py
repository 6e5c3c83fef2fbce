"""ACL policy versions, check-and-set, PATCH and expiration (OpenBao's
lifecycle fields) through the HTTP API of a real server, and across a
restart on local storage."""

import os
import shutil
import tempfile
import time
import unittest

import harness

READ_T = 'path "secret/data/t" { capabilities = ["read"] }'
READ_U = 'path "secret/data/u" { capabilities = ["read"] }'
MERGE = {"Content-Type": "application/merge-patch+json"}


class PolicyLifecycleTest(harness.DevServerTest):
    def req(self, method, path, body=None, token=None, headers=None):
        status, data, _ = self.srv.request(method, "/v1/" + path, body,
                                           token or self.root, headers)
        return status, data

    def test_versions_and_check_and_set(self):
        st, _ = self.req("PUT", "sys/policies/acl/cas1", {"policy": READ_T, "cas": -1})
        self.assertEqual(st, 204)
        st, body = self.req("GET", "sys/policies/acl/cas1")
        self.assertEqual((st, body["data"]["version"], body["data"]["cas_required"]),
                         (200, 1, False))
        st, body = self.req("PUT", "sys/policies/acl/cas1", {"policy": READ_U, "cas": 7})
        self.assertEqual(st, 400)
        self.assertEqual(body["errors"],
                         ["check-and-set parameter did not match the current version"])
        st, body = self.req("PUT", "sys/policies/acl/cas1", {"policy": READ_U, "cas": -1})
        self.assertEqual(st, 400)
        self.assertEqual(self.req("GET", "sys/policies/acl/cas1")[1]["data"]["policy"], READ_T)
        st, _ = self.req("PUT", "sys/policies/acl/cas1",
                         {"policy": READ_U, "cas": 1, "cas_required": True})
        self.assertEqual(st, 204)
        st, body = self.req("PUT", "sys/policies/acl/cas1", {"policy": READ_T})
        self.assertEqual((st, body["errors"]),
                         (400, ["check-and-set parameter required for this call"]))
        # The legacy endpoint reads the same record, with "rules".
        st, body = self.req("GET", "sys/policy/cas1")
        self.assertEqual((body["rules"], body["version"], body["cas_required"]),
                         (READ_U, 2, True))

    def test_names_with_slashes(self):
        # Salt's default policy names, written through both endpoints.
        self.assertEqual(self.req("POST", "sys/policy/saltstack/minions", {"policy": READ_T})[0],
                         204)
        self.assertEqual(self.req("PUT", "sys/policies/acl/saltstack/Minion-1",
                                  {"policy": READ_U})[0], 204)
        st, body = self.req("GET", "sys/policies/acl/saltstack/minions")
        self.assertEqual((st, body["data"]["name"]), (200, "saltstack/minions"))
        keys = self.req("LIST", "sys/policies/acl")[1]["data"]["keys"]
        self.assertIn("saltstack/minions", keys)
        self.assertIn("saltstack/minion-1", keys)
        self.assertEqual(self.req("LIST", "sys/policies/acl/saltstack/")[1]["data"]["keys"],
                         ["saltstack/minion-1", "saltstack/minions"])
        self.assertEqual(self.req("POST", "secret/data/t", {"data": {"v": "1"}})[0], 200)
        self.assertEqual(self.req("POST", "secret/data/u", {"data": {"v": "2"}})[0], 200)
        st, body = self.req("POST", "auth/token/create",
                            {"policies": ["saltstack/minions"], "ttl": "1h"})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["auth"]["policies"], ["default", "saltstack/minions"])
        minion = body["auth"]["client_token"]
        self.assertEqual(self.req("GET", "secret/data/t", token=minion)[0], 200)
        self.assertEqual(self.req("GET", "secret/data/u", token=minion)[0], 403)
        # A trailing '/' is not the policy; empty segments are refused.
        st, body = self.req("DELETE", "sys/policies/acl/saltstack/minions/")
        self.assertEqual((st, body["errors"]), (400, ["policy name may not end with '/'"]))
        self.assertEqual(self.req("GET", "secret/data/t", token=minion)[0], 200)
        self.assertEqual(self.req("DELETE", "sys/policy/saltstack/minions")[0], 204)
        self.assertEqual(self.req("GET", "secret/data/t", token=minion)[0], 403)

    def test_patch(self):
        self.assertEqual(self.req("PUT", "sys/policies/acl/p1", {"policy": READ_T})[0], 204)
        # PATCH needs JSON merge-patch's media type, as every PATCH does.
        st, _ = self.req("PATCH", "sys/policies/acl/p1", {"cas_required": True})
        self.assertEqual(st, 415)
        st, _ = self.req("PATCH", "sys/policies/acl/p1", {"cas_required": True}, headers=MERGE)
        self.assertEqual(st, 204)
        data = self.req("GET", "sys/policies/acl/p1")[1]["data"]
        self.assertEqual((data["policy"], data["version"], data["cas_required"]),
                         (READ_T, 2, True))
        st, body = self.req("PATCH", "sys/policies/acl/nope", {"policy": READ_T},
                            headers=MERGE)
        self.assertEqual((st, body["errors"]), (404, ["policy not found"]))
        self.assertEqual(self.req("GET", "sys/policies/acl/nope")[0], 404)

    def test_expired_policy_stops_granting(self):
        self.assertEqual(self.req("POST", "secret/data/t", {"data": {"v": "1"}})[0], 200)
        st, _ = self.req("PUT", "sys/policies/acl/brief", {"policy": READ_T, "ttl": "2s"})
        self.assertEqual(st, 204)
        st, body = self.req("POST", "auth/token/create", {"policies": ["brief"], "ttl": "1h"})
        self.assertEqual(st, 200, body)
        user = body["auth"]["client_token"]
        self.assertEqual(self.req("GET", "secret/data/t", token=user)[0], 200)
        self.assertIn("expiration", self.req("GET", "sys/policies/acl/brief")[1]["data"])
        time.sleep(2.5)
        # The token's cached ACL is compiled again, without the policy.
        self.assertEqual(self.req("GET", "secret/data/t", token=user)[0], 403)
        self.assertEqual(self.req("GET", "sys/policies/acl/brief")[0], 404)
        keys = self.req("LIST", "sys/policies/acl")[1]["data"]["keys"]
        self.assertNotIn("brief", keys)
        st, body = self.req("PUT", "sys/policies/acl/brief",
                            {"policy": READ_T, "expiration": "2001-01-01T00:00:00Z"})
        self.assertEqual((st, body["errors"]),
                         (400, ["refusing to update policy as expiration time has already "
                                "elapsed"]))

    def test_prefix_and_detailed_lists(self):
        for name in ("team-a", "team-b"):
            self.assertEqual(self.req("PUT", "sys/policies/acl/" + name,
                                      {"policy": READ_T})[0], 204)
        st, body = self.req("LIST", "sys/policies/acl/team-")
        self.assertEqual((st, body["data"]["keys"]), (200, ["team-a", "team-b"]))
        st, body = self.req("GET", "sys/policies/detailed/acl/team-?list=true")
        self.assertEqual(st, 200)
        self.assertEqual(sorted(body["data"]["key_info"]), ["team-a", "team-b"])
        self.assertEqual(body["data"]["key_info"]["team-a"]["policy"], READ_T)


class PolicyLifecycleRestartTest(unittest.TestCase):
    """Versions survive a restart; a policy that expired while the server was
    down is deleted from the store when it unseals."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-policy-")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_unsealed(self, key=None):
        self.server = harness.start_config(data_dir=self.dir)
        if key is None:
            _, init, _ = self.server.request("PUT", "/v1/sys/init",
                                             {"secret_shares": 1, "secret_threshold": 1})
            key, self.root = init["keys"][0], init["root_token"]
        st, _, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": key})
        self.assertEqual(st, 200)
        return key

    def stored_names(self):
        rows = harness.query_store(os.path.join(self.dir, "data"), "SELECT key FROM kv WHERE key LIKE 'sys/policy/%'")
        return sorted(r[0] for r in rows)

    def test_versions_persist_and_expired_records_go(self):
        key = self.start_unsealed()
        s = self.server
        for _ in range(3):
            st, _, _ = s.request("PUT", "/v1/sys/policies/acl/kept", {"policy": READ_T},
                                 self.root)
            self.assertEqual(st, 204)
        st, _, _ = s.request("PUT", "/v1/sys/policies/acl/brief",
                             {"policy": READ_T, "ttl": "1s"}, self.root)
        self.assertEqual(st, 204)
        self.assertEqual(self.stored_names(),
                         ["sys/policy/brief", "sys/policy/default", "sys/policy/kept"])
        s.stop()
        self.server = None
        time.sleep(1.2)
        self.start_unsealed(key)
        st, body, _ = self.server.request("GET", "/v1/sys/policies/acl/kept", None, self.root)
        self.assertEqual((st, body["data"]["version"]), (200, 3))
        self.assertEqual(self.stored_names(), ["sys/policy/default", "sys/policy/kept"])


if __name__ == "__main__":
    unittest.main()
