"""The real Python client hvac (Debian's python3-hvac) against identity/:
entities, aliases and groups created, read, listed and looked up through
hvac.secrets.identity, and a group's policy reaching a userpass login's token
(then taken away) through the identity of the login."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402

ROOT = "hvac-identity-root"


class HvacIdentityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.admin = hvac.Client(url=cls.server.addr, token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_entities_aliases_groups(self):
        identity = self.admin.secrets.identity
        created = identity.create_or_update_entity(name="svc-a", policies=["p1"],
                                                   metadata={"team": "infra"})
        entity_id = created["data"]["id"]
        read = identity.read_entity(entity_id=entity_id)["data"]
        self.assertEqual(read["name"], "svc-a")
        self.assertEqual(read["policies"], ["p1"])
        self.assertEqual(read["metadata"], {"team": "infra"})
        self.assertEqual(identity.read_entity_by_name(name="svc-a")["data"]["id"], entity_id)
        self.assertIn(entity_id, identity.list_entities()["data"]["keys"])

        self.admin.sys.enable_auth_method("userpass", path="people")
        accessor = self.admin.sys.list_auth_methods()["data"]["people/"]["accessor"]
        alias = identity.create_or_update_entity_alias(name="svc-a", canonical_id=entity_id,
                                                       mount_accessor=accessor)
        alias_id = alias["data"]["id"]
        self.assertEqual(identity.read_entity_alias(alias_id=alias_id)["data"]["canonical_id"],
                         entity_id)
        with self.assertRaises(exceptions.InvalidRequest):
            identity.create_or_update_entity_alias(name="svc-a", canonical_id=entity_id,
                                                   mount_accessor=accessor)

        group = identity.create_or_update_group(name="ops", policies=["ops-p"],
                                                member_entity_ids=[entity_id])
        group_id = group["data"]["id"]
        g = identity.read_group(group_id=group_id)["data"]
        self.assertEqual(g["member_entity_ids"], [entity_id])
        self.assertEqual(g["type"], "internal")
        self.assertEqual(identity.read_group_by_name(name="ops")["data"]["id"], group_id)
        self.assertIn(group_id, identity.list_groups()["data"]["keys"])
        found = identity.lookup_entity(alias_name="svc-a", alias_mount_accessor=accessor)
        self.assertEqual(found["data"]["id"], entity_id)
        self.assertEqual(identity.lookup_group(name="ops")["data"]["id"], group_id)
        self.assertEqual(identity.read_entity(entity_id=entity_id)["data"]["group_ids"],
                         [group_id])

    def test_group_policy_reaches_login_token(self):
        self.admin.sys.enable_auth_method("userpass")
        self.admin.sys.create_or_update_policy(
            "shared-read", 'path "secret/data/shared/*" { capabilities = ["read"] }')
        self.admin.secrets.kv.v2.create_or_update_secret("shared/x", secret={"v": "1"})
        self.admin.auth.userpass.create_or_update_user("dana", password="dana-pw")
        user = hvac.Client(url=self.server.addr)
        login = user.auth.userpass.login("dana", "dana-pw")
        entity_id = login["auth"]["entity_id"]
        self.assertTrue(entity_id)
        with self.assertRaises(exceptions.Forbidden):
            user.secrets.kv.v2.read_secret_version("shared/x")
        group = self.admin.secrets.identity.create_or_update_group(
            name="readers", policies=["shared-read"], member_entity_ids=[entity_id])
        self.assertEqual(user.secrets.kv.v2.read_secret_version("shared/x")["data"]["data"],
                         {"v": "1"})
        self.assertEqual(user.auth.token.lookup_self()["data"]["identity_policies"],
                         ["shared-read"])
        # A login's auth block lists them too, as Vault's does: in policies
        # and apart in identity_policies; token_policies stays the token's.
        again = hvac.Client(url=self.server.addr).auth.userpass.login("dana", "dana-pw")["auth"]
        self.assertEqual(again["identity_policies"], ["shared-read"])
        self.assertEqual(again["policies"], ["default", "shared-read"])
        self.assertEqual(again["token_policies"], ["default"])
        renewed = user.auth.token.renew_self()["auth"]
        self.assertEqual(renewed["identity_policies"], ["shared-read"])
        self.admin.secrets.identity.update_group(group_id=group["data"]["id"], name="readers",
                                                 policies=["shared-read"], member_entity_ids=[])
        with self.assertRaises(exceptions.Forbidden):
            user.secrets.kv.v2.read_secret_version("shared/x")
        # Without any, lookup leaves identity_policies out, as Vault does.
        self.assertNotIn("identity_policies", user.auth.token.lookup_self()["data"])


if __name__ == "__main__":
    unittest.main()
