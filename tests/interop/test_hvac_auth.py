"""The real Python client hvac (Debian's python3-hvac) against userpass and
AppRole: enabling the methods through sys/auth, managing users and roles,
logging in (the client adopts the token), tokens that carry the user's or
role's policies, and wrong credentials rejected with 400 (hvac's
InvalidRequest)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402

ROOT = "hvac-auth-root"
POLICY = 'path "secret/data/shared/*" { capabilities = ["read", "list"] }'


class HvacAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        admin = hvac.Client(url=cls.server.addr, token=ROOT)
        admin.sys.enable_auth_method("userpass")
        admin.sys.enable_auth_method("approle", path="machines")
        admin.sys.create_or_update_policy("shared-read", POLICY)
        admin.secrets.kv.v2.create_or_update_secret("shared/config", secret={"url": "db:5432"})
        admin.secrets.kv.v2.create_or_update_secret("private/key", secret={"k": "v"})
        cls.admin = admin

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def fresh(self):
        return hvac.Client(url=self.server.addr)

    def test_auth_methods_listed(self):
        methods = self.admin.sys.list_auth_methods()
        data = methods.get("data", methods)
        self.assertEqual(data["userpass/"]["type"], "userpass")
        self.assertEqual(data["machines/"]["type"], "approle")
        self.assertIn("token/", data)

    def test_userpass(self):
        up = self.admin.auth.userpass
        up.create_or_update_user("frank", password="frank-pw", policies=["shared-read"])
        self.assertIn("frank", up.list_user()["data"]["keys"])
        self.assertEqual(up.read_user("frank")["data"]["token_policies"], ["shared-read"])

        client = self.fresh()
        result = client.auth.userpass.login("frank", "frank-pw")
        self.assertEqual(result["auth"]["policies"], ["default", "shared-read"])
        self.assertTrue(client.is_authenticated())
        secret = client.secrets.kv.v2.read_secret_version("shared/config")
        self.assertEqual(secret["data"]["data"], {"url": "db:5432"})
        with self.assertRaises(exceptions.Forbidden):
            client.secrets.kv.v2.read_secret_version("private/key")

        with self.assertRaises(exceptions.InvalidRequest) as wrong:
            self.fresh().auth.userpass.login("frank", "not-frank-pw")
        self.assertIn("invalid username or password", str(wrong.exception))
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.userpass.login("nobody", "frank-pw")

        up.update_password_on_user("frank", "new-pw")
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.userpass.login("frank", "frank-pw")
        self.fresh().auth.userpass.login("frank", "new-pw")
        up.delete_user("frank")
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.userpass.login("frank", "new-pw")

    def test_approle(self):
        ar = self.admin.auth.approle
        ar.create_or_update_approle("ci", token_policies=["shared-read"], token_ttl="10m",
                                    mount_point="machines")
        self.assertIn("ci", ar.list_roles(mount_point="machines")["data"]["keys"])
        role = ar.read_role("ci", mount_point="machines")["data"]
        self.assertEqual(role["token_policies"], ["shared-read"])
        self.assertEqual(role["token_ttl"], 600)
        role_id = ar.read_role_id("ci", mount_point="machines")["data"]["role_id"]
        generated = ar.generate_secret_id("ci", metadata={"job": "42"},
                                          mount_point="machines")["data"]
        secret_id, accessor = generated["secret_id"], generated["secret_id_accessor"]

        looked = ar.read_secret_id("ci", secret_id, mount_point="machines")["data"]
        self.assertEqual(looked["secret_id_accessor"], accessor)
        self.assertEqual(looked["metadata"], {"job": "42"})
        self.assertIn(accessor, ar.list_secret_id_accessors(
            "ci", mount_point="machines")["data"]["keys"])
        by_accessor = ar.read_secret_id_accessor("ci", accessor, mount_point="machines")
        self.assertEqual(by_accessor["data"]["secret_id_accessor"], accessor)

        client = self.fresh()
        result = client.auth.approle.login(role_id, secret_id, mount_point="machines")
        self.assertEqual(result["auth"]["policies"], ["default", "shared-read"])
        self.assertEqual(result["auth"]["metadata"], {"job": "42", "role_name": "ci"})
        self.assertEqual(result["auth"]["lease_duration"], 600)
        secret = client.secrets.kv.v2.read_secret_version("shared/config")
        self.assertEqual(secret["data"]["data"]["url"], "db:5432")
        with self.assertRaises(exceptions.Forbidden):
            client.secrets.kv.v2.read_secret_version("private/key")

        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.approle.login(role_id, "wrong-secret", mount_point="machines")
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.approle.login("wrong-role", secret_id, mount_point="machines")

        custom = ar.create_custom_secret_id("ci", "my-custom-secret", mount_point="machines")
        self.assertEqual(custom["data"]["secret_id"], "my-custom-secret")
        self.fresh().auth.approle.login(role_id, "my-custom-secret", mount_point="machines")

        ar.destroy_secret_id("ci", secret_id, mount_point="machines")
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.approle.login(role_id, secret_id, mount_point="machines")
        ar.destroy_secret_id_accessor(
            "ci", custom["data"]["secret_id_accessor"], mount_point="machines")
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.approle.login(role_id, "my-custom-secret", mount_point="machines")

        ar.update_role_id("ci", "fixed-role-id", mount_point="machines")
        sid = ar.generate_secret_id("ci", mount_point="machines")["data"]["secret_id"]
        self.fresh().auth.approle.login("fixed-role-id", sid, mount_point="machines")
        ar.delete_role("ci", mount_point="machines")
        with self.assertRaises(exceptions.InvalidRequest):
            self.fresh().auth.approle.login("fixed-role-id", sid, mount_point="machines")


if __name__ == "__main__":
    unittest.main()
