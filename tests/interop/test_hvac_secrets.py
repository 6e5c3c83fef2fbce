"""The real Python client hvac (Debian's python3-hvac 0.11) drives a dev
server: KV v2 and v1, policies, tokens and response wrapping.

Every call goes through hvac's own methods (or, where hvac 0.11 has no method
for an endpoint, through hvac's adapter), and every answer is checked for the
values a program would rely on.
"""

import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

import hvac  # noqa: E402
from hvac import exceptions  # noqa: E402

ROOT = "root-" + uuid.uuid4().hex


class HvacTestBase(unittest.TestCase):
    """One dev server for the whole class; each test uses its own paths."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.client = hvac.Client(url=cls.server.addr, token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.client.adapter.close()
        cls.server.cleanup()

    def unique(self, prefix):
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])

    def as_token(self, token):
        client = hvac.Client(url=self.server.addr, token=token)
        self.addCleanup(client.adapter.close)
        return client


class HvacKvV2Test(HvacTestBase):
    def kv(self):
        return self.client.secrets.kv.v2

    def test_write_read_versions(self):
        path = self.unique("app/db")
        r1 = self.kv().create_or_update_secret(path, {"user": "app", "password": "one"})
        self.assertEqual(r1["data"]["version"], 1)
        self.assertFalse(r1["data"]["destroyed"])
        self.assertEqual(r1["data"]["deletion_time"], "")
        r2 = self.kv().create_or_update_secret(path, {"user": "app", "password": "two"})
        self.assertEqual(r2["data"]["version"], 2)

        latest = self.kv().read_secret_version(path)
        self.assertEqual(latest["data"]["data"], {"user": "app", "password": "two"})
        self.assertEqual(latest["data"]["metadata"]["version"], 2)
        first = self.kv().read_secret_version(path, version=1)
        self.assertEqual(first["data"]["data"]["password"], "one")
        self.assertEqual(first["data"]["metadata"]["version"], 1)
        # read_secret is read_secret_version without a version.
        self.assertEqual(self.kv().read_secret(path)["data"]["data"]["password"], "two")

        with self.assertRaises(exceptions.InvalidPath):
            self.kv().read_secret_version(path, version=7)
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().read_secret_version(self.unique("missing"))

    def test_cas(self):
        path = self.unique("cas")
        r = self.kv().create_or_update_secret(path, {"v": "1"}, cas=0)
        self.assertEqual(r["data"]["version"], 1)
        # cas=0 means "only if absent": the key exists now.
        with self.assertRaises(exceptions.InvalidRequest) as ctx:
            self.kv().create_or_update_secret(path, {"v": "x"}, cas=0)
        self.assertIn("check-and-set", str(ctx.exception))
        with self.assertRaises(exceptions.InvalidRequest):
            self.kv().create_or_update_secret(path, {"v": "x"}, cas=5)
        r = self.kv().create_or_update_secret(path, {"v": "2"}, cas=1)
        self.assertEqual(r["data"]["version"], 2)
        self.assertEqual(self.kv().read_secret_version(path)["data"]["data"], {"v": "2"})

        # cas_required on the key makes a write without cas fail.
        self.kv().update_metadata(path, cas_required=True)
        with self.assertRaises(exceptions.InvalidRequest) as ctx:
            self.kv().create_or_update_secret(path, {"v": "3"})
        self.assertIn("check-and-set parameter required", str(ctx.exception))
        self.assertEqual(self.kv().read_secret_metadata(path)["data"]["current_version"], 2)

    def test_patch(self):
        path = self.unique("patch")
        self.kv().create_or_update_secret(path, {"a": "1", "b": "2"})
        # hvac 0.11's patch is read + check-and-set write.
        r = self.kv().patch(path, {"b": "3", "c": "4"})
        self.assertEqual(r["data"]["version"], 2)
        self.assertEqual(self.kv().read_secret_version(path)["data"]["data"],
                         {"a": "1", "b": "3", "c": "4"})
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().patch(self.unique("nothing"), {"a": "1"})

        # The real HTTP PATCH (JSON merge patch), through hvac's adapter.
        resp = self.client.adapter.request(
            "PATCH", "/v1/secret/data/" + path,
            json={"data": {"a": None, "d": "5"}},
            headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(resp["data"]["version"], 3)
        self.assertEqual(self.kv().read_secret_version(path)["data"]["data"],
                         {"b": "3", "c": "4", "d": "5"})

    def test_numbers_come_back_as_written(self):
        # Python's integers are exact at any size, and Vault keeps a
        # number's text (Go's json.Number): a value beyond 64 bits comes back
        # unchanged through a write, a patch and a wrapped read. Held as a
        # double it would read back as a float (1.2345678901234568e+29).
        path = self.unique("numbers")
        data = {"big": 123456789012345678901234567890, "past_u64": 2**64,
                "below_i64": -2**63 - 1, "small": 7, "half": 0.5}
        self.kv().create_or_update_secret(path, data)
        self.assertEqual(self.kv().read_secret_version(path)["data"]["data"], data)
        self.client.adapter.request(
            "PATCH", "/v1/secret/data/" + path, json={"data": {"more": 10**30}},
            headers={"Content-Type": "application/merge-patch+json"})
        data["more"] = 10**30
        self.assertEqual(self.kv().read_secret_version(path)["data"]["data"], data)
        wrapped = self.client.read("secret/data/" + path, wrap_ttl="60s")
        self.assertEqual(self.client.sys.unwrap(wrapped["wrap_info"]["token"])["data"]["data"],
                         data)

    def test_delete_undelete_destroy(self):
        path = self.unique("lifecycle")
        for i in range(1, 4):
            self.kv().create_or_update_secret(path, {"n": str(i)})

        self.kv().delete_latest_version_of_secret(path)
        meta = self.kv().read_secret_metadata(path)["data"]
        self.assertNotEqual(meta["versions"]["3"]["deletion_time"], "")
        self.assertEqual(meta["versions"]["2"]["deletion_time"], "")
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().read_secret_version(path)
        # Vault answers a deleted version with 404 and its metadata; hvac
        # raises InvalidPath, and the raw answer carries the metadata.
        raw = self.client.adapter.request("GET", "/v1/secret/data/" + path,
                                          raise_exception=False)
        self.assertEqual(raw.status_code, 404)
        self.assertIsNone(raw.json()["data"]["data"])
        self.assertEqual(raw.json()["data"]["metadata"]["version"], 3)

        self.kv().delete_secret_versions(path, versions=[1, 2])
        meta = self.kv().read_secret_metadata(path)["data"]
        for v in ("1", "2", "3"):
            self.assertNotEqual(meta["versions"][v]["deletion_time"], "", v)

        self.kv().undelete_secret_versions(path, versions=[1, 3])
        meta = self.kv().read_secret_metadata(path)["data"]
        self.assertEqual(meta["versions"]["1"]["deletion_time"], "")
        self.assertNotEqual(meta["versions"]["2"]["deletion_time"], "")
        self.assertEqual(meta["versions"]["3"]["deletion_time"], "")
        self.assertEqual(self.kv().read_secret_version(path)["data"]["data"], {"n": "3"})
        self.assertEqual(self.kv().read_secret_version(path, version=1)["data"]["data"],
                         {"n": "1"})

        self.kv().destroy_secret_versions(path, versions=[1])
        meta = self.kv().read_secret_metadata(path)["data"]
        self.assertTrue(meta["versions"]["1"]["destroyed"])
        self.assertFalse(meta["versions"]["3"]["destroyed"])
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().read_secret_version(path, version=1)
        # A destroyed version cannot be undeleted.
        self.kv().undelete_secret_versions(path, versions=[1])
        self.assertTrue(self.kv().read_secret_metadata(path)["data"]["versions"]["1"]["destroyed"])

        # hvac refuses an empty list itself; the server does too.
        with self.assertRaises(exceptions.ParamValidationError):
            self.kv().delete_secret_versions(path, versions=[])
        with self.assertRaises(exceptions.InvalidRequest):
            self.client.adapter.post("/v1/secret/delete/" + path, json={"versions": []})

    def test_metadata(self):
        path = self.unique("meta")
        self.kv().create_or_update_secret(path, {"k": "v"})
        self.kv().create_or_update_secret(path, {"k": "w"})
        meta = self.kv().read_secret_metadata(path)["data"]
        self.assertEqual(meta["current_version"], 2)
        self.assertEqual(meta["oldest_version"], 0)
        self.assertEqual(meta["max_versions"], 0)
        self.assertFalse(meta["cas_required"])
        self.assertEqual(sorted(meta["versions"]), ["1", "2"])
        self.assertTrue(meta["created_time"].endswith("Z"))

        self.kv().update_metadata(path, max_versions=2, cas_required=False,
                                  delete_version_after="1h")
        meta = self.kv().read_secret_metadata(path)["data"]
        self.assertEqual(meta["max_versions"], 2)
        self.assertEqual(meta["delete_version_after"], "1h0m0s")
        # A third version pushes the oldest out.
        self.kv().create_or_update_secret(path, {"k": "x"})
        meta = self.kv().read_secret_metadata(path)["data"]
        self.assertEqual(sorted(meta["versions"]), ["2", "3"])
        self.assertEqual(meta["oldest_version"], 2)

        self.kv().delete_metadata_and_all_versions(path)
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().read_secret_metadata(path)
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().read_secret_version(path, version=3)

    def test_list(self):
        folder = self.unique("folder")
        for name in ("b", "a", "sub/c"):
            self.kv().create_or_update_secret(folder + "/" + name, {"x": "1"})
        keys = self.kv().list_secrets(folder)["data"]["keys"]
        self.assertEqual(keys, ["a", "b", "sub/"])
        self.assertEqual(self.kv().list_secrets(folder + "/sub")["data"]["keys"], ["c"])
        with self.assertRaises(exceptions.InvalidPath):
            self.kv().list_secrets(self.unique("empty"))


class HvacKvV1Test(HvacTestBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client.sys.enable_secrets_engine(backend_type="kv", path="kv1",
                                             options={"version": "1"})

    def test_mount_is_v1(self):
        mounts = self.client.sys.list_mounted_secrets_engines()["data"]
        self.assertEqual(mounts["kv1/"]["type"], "kv")
        self.assertEqual(mounts["kv1/"]["options"]["version"], "1")
        self.assertEqual(mounts["secret/"]["options"]["version"], "2")

    def test_write_read_list_delete(self):
        kv1 = self.client.secrets.kv.v1
        # hvac first reads to choose POST (absent) or PUT (present).
        r = kv1.create_or_update_secret("app/one", {"user": "u1", "n": 1}, mount_point="kv1")
        self.assertEqual(r.status_code, 204)
        kv1.create_or_update_secret("app/two", {"user": "u2"}, mount_point="kv1")
        kv1.create_or_update_secret("app/deep/three", {"user": "u3"}, mount_point="kv1")
        read = kv1.read_secret("app/one", mount_point="kv1")
        self.assertEqual(read["data"], {"user": "u1", "n": 1})
        self.assertEqual(read["lease_duration"], 2764800)  # Vault's kv v1: 768h hint

        # A write replaces the whole value.
        kv1.create_or_update_secret("app/one", {"user": "u1b"}, mount_point="kv1")
        self.assertEqual(kv1.read_secret("app/one", mount_point="kv1")["data"], {"user": "u1b"})

        self.assertEqual(kv1.list_secrets("app", mount_point="kv1")["data"]["keys"],
                         ["deep/", "one", "two"])

        r = kv1.delete_secret("app/one", mount_point="kv1")
        self.assertEqual(r.status_code, 204)
        with self.assertRaises(exceptions.InvalidPath):
            kv1.read_secret("app/one", mount_point="kv1")
        self.assertEqual(kv1.list_secrets("app", mount_point="kv1")["data"]["keys"],
                         ["deep/", "two"])
        with self.assertRaises(exceptions.InvalidPath):
            kv1.list_secrets("nothing-here", mount_point="kv1")

    def test_numbers_come_back_as_written(self):
        kv1 = self.client.secrets.kv.v1
        data = {"big": 123456789012345678901234567890, "negative": -(10**25)}
        kv1.create_or_update_secret("numbers", data, mount_point="kv1")
        self.assertEqual(kv1.read_secret("numbers", mount_point="kv1")["data"], data)
        self.client.write("cubbyhole/numbers", **data)
        self.assertEqual(self.client.read("cubbyhole/numbers")["data"], data)

    def test_tune_move_and_the_ttl_a_read_reports(self):
        mount = self.unique("kvmove")
        self.client.sys.enable_secrets_engine(backend_type="kv", path=mount,
                                              options={"version": "1"})
        kv1 = self.client.secrets.kv.v1
        kv1.create_or_update_secret("app", {"user": "u"}, mount_point=mount)
        # The tune read reports the TTLs in effect: the system's until tuned.
        conf = self.client.sys.read_mount_configuration(path=mount)
        self.assertEqual(conf["data"]["default_lease_ttl"], 2764800)
        self.client.sys.tune_mount_configuration(path=mount, default_lease_ttl="1h",
                                                 max_lease_ttl="2h")
        conf = self.client.sys.read_mount_configuration(path=mount)
        self.assertEqual((conf["data"]["default_lease_ttl"], conf["data"]["max_lease_ttl"]),
                         (3600, 7200))
        self.assertEqual(kv1.read_secret("app", mount_point=mount)["lease_duration"], 3600)

        moved = mount + "-moved"
        r = self.client.sys.move_backend(from_path=mount, to_path=moved)
        migration_id = r["data"]["migration_id"]
        status = self.client.adapter.get(f"/v1/sys/remount/status/{migration_id}")
        self.assertEqual(status["data"]["migration_info"],
                         {"source_mount": mount + "/", "target_mount": moved + "/",
                          "status": "success"})
        self.assertEqual(kv1.read_secret("app", mount_point=moved)["data"], {"user": "u"})
        self.assertEqual(kv1.read_secret("app", mount_point=moved)["lease_duration"], 3600)
        with self.assertRaises(exceptions.InvalidPath):
            kv1.read_secret("app", mount_point=mount)
        # Onto another mount: refused, nothing moves.
        with self.assertRaises(exceptions.InvalidRequest):
            self.client.sys.move_backend(from_path=moved, to_path="secret")
        self.assertIn(moved + "/", self.client.sys.list_mounted_secrets_engines()["data"])

    def test_ui_mount_lookup_reaches_every_mount(self):
        # What Vault's CLI asks before a kv command, and its UI for any path.
        for path, mount, kind in (("secret/app", "secret/", "kv"),
                                  ("auth/token/lookup-self", "auth/token/", "token"),
                                  ("sys/policy", "sys/", "system"),
                                  ("identity/entity", "identity/", "identity")):
            info = self.client.adapter.get("/v1/sys/internal/ui/mounts/" + path)["data"]
            self.assertEqual((info["path"], info["type"]), (mount, kind), path)
        with self.assertRaises(exceptions.Forbidden):
            self.client.adapter.get("/v1/sys/internal/ui/mounts/nowhere/x")
        # A KV v2 mount answers a path outside its API with the warning
        # clients look for.
        r = self.client.adapter.request("GET", "/v1/secret/app", raise_exception=False)
        self.assertEqual(r.status_code, 404)
        self.assertIn("Invalid path for a versioned K/V secrets engine", r.json()["warnings"][0])

    def test_upgrade_to_v2_in_place(self):
        # Vault's `kv enable-versioning`: a tune of options.version to "2".
        mount = self.unique("kvup")
        self.client.sys.enable_secrets_engine(backend_type="kv", path=mount,
                                              options={"version": "1"})
        kv1 = self.client.secrets.kv.v1
        kv1.create_or_update_secret("app/db", {"user": "app", "pass": "p1"}, mount_point=mount)
        kv1.create_or_update_secret("top", {"n": 1}, mount_point=mount)
        r = self.client.sys.tune_mount_configuration(path=mount, options={"version": "2"})
        # 200 with a warning, as Vault answers an upgrade (hvac hands back the JSON).
        self.assertIn("from version 1 to version 2", r["warnings"][0])
        mounts = self.client.sys.list_mounted_secrets_engines()["data"]
        self.assertEqual(mounts[mount + "/"]["options"]["version"], "2")

        kv2 = self.client.secrets.kv.v2
        read = kv2.read_secret_version("app/db", mount_point=mount)
        self.assertEqual(read["data"]["data"], {"user": "app", "pass": "p1"})
        self.assertEqual(read["data"]["metadata"]["version"], 1)
        self.assertEqual(kv2.read_secret_version("top", mount_point=mount)["data"]["data"], {"n": 1})
        self.assertEqual(kv2.list_secrets("", mount_point=mount)["data"]["keys"], ["app/", "top"])
        # Versioned from here on.
        kv2.create_or_update_secret("app/db", {"user": "app", "pass": "p2"}, mount_point=mount)
        meta = kv2.read_secret_metadata("app/db", mount_point=mount)["data"]
        self.assertEqual(meta["current_version"], 2)
        old = kv2.read_secret_version("app/db", version=1, mount_point=mount)
        self.assertEqual(old["data"]["data"]["pass"], "p1")
        # No way back.
        with self.assertRaises(exceptions.InvalidRequest):
            self.client.sys.tune_mount_configuration(path=mount, options={"version": "1"})
        mounts = self.client.sys.list_mounted_secrets_engines()["data"]
        self.assertEqual(mounts[mount + "/"]["options"]["version"], "2")


CREATOR = 'path "auth/token/create" { capabilities = ["update"] }'
POLICY = 'path "secret/data/team/*" {\n  capabilities = ["read", "create", "update"]\n}\n'


class HvacPolicyTest(HvacTestBase):
    def test_policy_crud(self):
        name = self.unique("team")
        sysb = self.client.sys
        sysb.create_or_update_policy(name, POLICY)
        self.assertIn(name, sysb.list_policies()["data"]["policies"])
        self.assertIn("default", sysb.list_policies()["data"]["policies"])
        self.assertIn("root", sysb.list_policies()["policies"])
        read = sysb.read_policy(name)
        self.assertEqual(read["data"]["name"], name)
        self.assertEqual(read["data"]["rules"], POLICY)
        self.assertEqual(read["rules"], POLICY)

        # Names are lower-cased, as in Vault.
        sysb.create_or_update_policy(name.upper() + "X", POLICY)
        self.assertIn(name + "x", sysb.list_policies()["data"]["keys"])

        # hvac turns a dict into JSON policy text.
        sysb.create_or_update_policy(
            name, {"path": {"secret/data/team/*": {"capabilities": ["read"]}}})
        self.assertIn("secret/data/team/*", sysb.read_policy(name)["data"]["rules"])

        with self.assertRaises(exceptions.InvalidRequest) as ctx:
            sysb.create_or_update_policy(name, 'path "a" { capabilities = ["reed"] }')
        self.assertIn("reed", str(ctx.exception))

        sysb.delete_policy(name)
        sysb.delete_policy(name + "x")
        self.assertNotIn(name, sysb.list_policies()["data"]["policies"])
        with self.assertRaises(exceptions.InvalidPath):
            sysb.read_policy(name)
        with self.assertRaises(exceptions.InvalidRequest):
            sysb.delete_policy("default")

    def test_acl_endpoints_via_adapter(self):
        # hvac 0.11 has no sys/policies/acl methods; its adapter reaches them.
        name = self.unique("acl")
        a = self.client.adapter
        r = a.put("/v1/sys/policies/acl/" + name, json={"policy": POLICY})
        self.assertEqual(r.status_code, 204)
        data = a.get("/v1/sys/policies/acl/" + name)["data"]
        self.assertEqual((data["name"], data["policy"], data["version"]), (name, POLICY, 1))
        self.assertIn(name, a.list("/v1/sys/policies/acl")["data"]["keys"])
        a.delete("/v1/sys/policies/acl/" + name)
        with self.assertRaises(exceptions.InvalidPath):
            a.get("/v1/sys/policies/acl/" + name)

    def test_acl_policy_check_and_set_via_adapter(self):
        # OpenBao's policy versions: a write with a stale cas changes nothing.
        name = self.unique("cas")
        a = self.client.adapter
        path = "/v1/sys/policies/acl/" + name
        self.assertEqual(a.put(path, json={"policy": POLICY, "cas": -1,
                                           "cas_required": True}).status_code, 204)
        with self.assertRaises(exceptions.InvalidRequest) as ctx:
            a.put(path, json={"policy": POLICY})
        self.assertIn("check-and-set parameter required", str(ctx.exception))
        with self.assertRaises(exceptions.InvalidRequest) as ctx:
            a.put(path, json={"policy": 'path "x" { capabilities = ["read"] }', "cas": 0})
        self.assertIn("did not match the current version", str(ctx.exception))
        self.assertEqual(a.get(path)["data"]["policy"], POLICY)
        self.assertEqual(a.put(path, json={"policy": POLICY, "cas": 1}).status_code, 204)
        data = a.get(path)["data"]
        self.assertEqual((data["version"], data["cas_required"]), (2, False))
        detailed = a.list("/v1/sys/policies/detailed/acl/" + name)["data"]
        self.assertEqual(detailed["keys"], [name])
        self.assertEqual(detailed["key_info"][name]["version"], 2)
        a.delete(path)

    def test_policy_is_enforced(self):
        name = self.unique("team")
        self.client.sys.create_or_update_policy(name, POLICY)
        token = self.client.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]
        user = self.as_token(token)
        r = user.secrets.kv.v2.create_or_update_secret("team/x", {"ok": "yes"})
        self.assertEqual(r["data"]["version"], 1)
        self.assertEqual(user.secrets.kv.v2.read_secret_version("team/x")["data"]["data"],
                         {"ok": "yes"})
        with self.assertRaises(exceptions.Forbidden):
            user.secrets.kv.v2.read_secret_version("other/x")
        with self.assertRaises(exceptions.Forbidden):
            user.secrets.kv.v2.delete_latest_version_of_secret("team/x")
        caps = self.client.sys.get_capabilities(["secret/data/team/x", "secret/data/y"],
                                                token=token)
        self.assertEqual(sorted(caps["secret/data/team/x"]), ["create", "read", "update"])
        self.assertEqual(caps["secret/data/y"], ["deny"])
        # Deleting the policy takes effect on the very next request.
        self.client.sys.delete_policy(name)
        with self.assertRaises(exceptions.Forbidden):
            user.secrets.kv.v2.read_secret_version("team/x")


class HvacTokenTest(HvacTestBase):
    def create(self, client=None, **kw):
        return (client or self.client).auth.token.create(**kw)["auth"]

    def test_create_and_lookup(self):
        self.client.sys.create_or_update_policy("reader", POLICY)
        auth = self.create(policies=["reader"], ttl="1h", meta={"team": "ci"},
                           display_name="ci")
        self.assertTrue(auth["client_token"].startswith("hvs."))
        self.assertEqual(auth["policies"], ["default", "reader"])
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertTrue(auth["renewable"])
        self.assertEqual(auth["metadata"], {"team": "ci"})
        self.assertFalse(auth["orphan"])

        data = self.client.auth.token.lookup(auth["client_token"])["data"]
        self.assertEqual(data["id"], auth["client_token"])
        self.assertEqual(data["accessor"], auth["accessor"])
        self.assertEqual(data["policies"], ["default", "reader"])
        self.assertEqual(data["display_name"], "token-ci")
        self.assertEqual(data["meta"], {"team": "ci"})
        self.assertEqual(data["creation_ttl"], 3600)
        self.assertTrue(3590 <= data["ttl"] <= 3600, data["ttl"])
        self.assertEqual(data["path"], "auth/token/create")
        self.assertEqual(data["type"], "service")

        me = self.as_token(auth["client_token"]).auth.token.lookup_self()["data"]
        self.assertEqual(me["accessor"], auth["accessor"])
        self.assertEqual(me["id"], auth["client_token"])

        by_acc = self.client.auth.token.lookup_accessor(auth["accessor"])["data"]
        self.assertEqual(by_acc["id"], "")
        self.assertEqual(by_acc["policies"], ["default", "reader"])
        self.assertEqual(by_acc["display_name"], "token-ci")

        self.assertIn(auth["accessor"], self.client.auth.token.list_accessors()["data"]["keys"])
        with self.assertRaises(exceptions.Forbidden):
            self.client.auth.token.lookup("hvs.doesnotexist" + "x" * 16)

        # The root token's own lookup.
        root = self.client.auth.token.lookup_self()["data"]
        self.assertEqual(root["policies"], ["root"])
        self.assertEqual(root["ttl"], 0)

    def test_durations_in_go_forms(self):
        # As Vault's parseutil reads them, in whole seconds.
        self.assertEqual(self.create(ttl="1.5h")["lease_duration"], 5400)
        self.assertEqual(self.create(ttl="1m30.5s")["lease_duration"], 90)
        wrapped = self.client.auth.token.create(ttl="10m", wrap_ttl="1.5s")
        self.assertEqual(wrapped["wrap_info"]["ttl"], 1)

    def test_child_policies_must_be_subset(self):
        self.client.sys.create_or_update_policy("reader", POLICY)
        self.client.sys.create_or_update_policy("creator", CREATOR)
        # The default policy does not grant auth/token/create.
        plain = self.create(policies=["reader"], ttl="1h")["client_token"]
        with self.assertRaises(exceptions.Forbidden):
            self.create(client=self.as_token(plain), policies=["reader"])

        parent = self.create(policies=["creator", "reader"], ttl="1h")["client_token"]
        with self.assertRaises(exceptions.InvalidRequest):
            self.create(client=self.as_token(parent), policies=["reader", "admin"])
        child = self.create(client=self.as_token(parent), policies=["reader"])
        self.assertEqual(child["policies"], ["default", "reader"])
        # Without policies a child inherits its parent's.
        child = self.create(client=self.as_token(parent))
        self.assertEqual(child["policies"], ["creator", "default", "reader"])

    def test_renew(self):
        auth = self.create(policies=["default"], ttl="30m", explicit_max_ttl="2h")
        token = auth["client_token"]
        r = self.client.auth.token.renew(token, increment="1h")["auth"]
        self.assertEqual(r["lease_duration"], 3600)
        self.assertEqual(r["client_token"], token)
        ttl = self.client.auth.token.lookup(token)["data"]["ttl"]
        self.assertTrue(3590 <= ttl <= 3600, ttl)
        # Beyond explicit_max_ttl the TTL is capped, with Vault's warning.
        renewed = self.as_token(token).auth.token.renew_self(increment="5h")
        r = renewed["auth"]
        self.assertTrue(7190 <= r["lease_duration"] <= 7200, r["lease_duration"])
        self.assertEqual(len(renewed["warnings"]), 1, renewed["warnings"])
        self.assertIn('TTL of "5h" exceeded the effective max_ttl', renewed["warnings"][0])
        r = self.client.auth.token.renew_accessor(auth["accessor"], increment="10m")["auth"]
        self.assertEqual(r["lease_duration"], 600)
        self.assertEqual(r["client_token"], "")

        fixed = self.create(policies=["default"], ttl="30m", renewable=False)
        self.assertFalse(fixed["renewable"])
        with self.assertRaises(exceptions.InvalidRequest) as ctx:
            self.client.auth.token.renew(fixed["client_token"])
        self.assertIn("not renewable", str(ctx.exception))

    def test_meta_is_read_weakly(self):
        auth = self.create(policies=["default"], ttl="1h", meta={"n": 1, "ok": True})
        self.assertEqual(auth["metadata"], {"n": "1", "ok": "1"})

    def test_token_auth_method_tune(self):
        # hvac's tune_auth_method sends sys/auth/token/tune; its
        # read_mount_configuration("auth/token") sends sys/mounts/auth/token/tune.
        self.addCleanup(self.client.sys.tune_auth_method, "token",
                        default_lease_ttl="system", max_lease_ttl="system")
        self.client.sys.tune_auth_method("token", default_lease_ttl="10m", max_lease_ttl="1h")
        for tune in (self.client.sys.read_auth_method_tuning("token"),
                     self.client.sys.read_mount_configuration("auth/token")):
            self.assertEqual(tune["data"]["default_lease_ttl"], 600)
            self.assertEqual(tune["data"]["max_lease_ttl"], 3600)
        self.client.sys.create_or_update_policy("creator", CREATOR)
        parent = self.as_token(self.create(policies=["creator"], ttl="1h")["client_token"])
        self.assertEqual(self.create(client=parent)["lease_duration"], 600)
        capped = parent.auth.token.create(ttl="5h")
        self.assertEqual(capped["auth"]["lease_duration"], 3600)
        self.assertIn("exceeded the effective max_ttl", capped["warnings"][0])
        with self.assertRaises(exceptions.InvalidRequest):
            self.client.sys.tune_auth_method("token", token_type="batch")

    def test_revoke_cascades_to_children(self):
        # A token may create children only with auth/token/create: use a
        # policy that grants it.
        self.client.sys.create_or_update_policy("creator", CREATOR)
        parent = self.create(policies=["creator"], ttl="1h")
        pc = self.as_token(parent["client_token"])
        child = self.create(client=pc, policies=["creator"], ttl="1h")
        grandchild = self.create(client=self.as_token(child["client_token"]),
                                 policies=["default"], ttl="1h")
        self.assertEqual(self.client.auth.token.lookup(child["client_token"])["data"]["orphan"],
                         False)

        self.client.auth.token.revoke(parent["client_token"])
        for t in (parent, child, grandchild):
            with self.assertRaises(exceptions.Forbidden, msg=t["accessor"]):
                self.client.auth.token.lookup(t["client_token"])
            with self.assertRaises(exceptions.InvalidRequest):
                self.client.auth.token.lookup_accessor(t["accessor"])
        accessors = self.client.auth.token.list_accessors()["data"]["keys"]
        for t in (parent, child, grandchild):
            self.assertNotIn(t["accessor"], accessors)

    def test_revoke_orphan_keeps_children(self):
        self.client.sys.create_or_update_policy("creator", CREATOR)
        parent = self.create(policies=["creator"], ttl="1h")
        child = self.create(client=self.as_token(parent["client_token"]),
                            policies=["default"], ttl="1h")
        self.client.auth.token.revoke_and_orphan_children(parent["client_token"])
        with self.assertRaises(exceptions.Forbidden):
            self.client.auth.token.lookup(parent["client_token"])
        data = self.client.auth.token.lookup(child["client_token"])["data"]
        self.assertEqual(data["accessor"], child["accessor"])
        self.assertTrue(data["orphan"])
        # The orphan still works.
        me = self.as_token(child["client_token"]).auth.token.lookup_self()["data"]
        self.assertEqual(me["id"], child["client_token"])

    def test_revoke_self_and_accessor(self):
        a = self.create(policies=["default"], ttl="1h")
        self.as_token(a["client_token"]).auth.token.revoke_self()
        with self.assertRaises(exceptions.Forbidden):
            self.client.auth.token.lookup(a["client_token"])

        b = self.create(policies=["default"], ttl="1h")
        self.client.auth.token.revoke_accessor(b["accessor"])
        with self.assertRaises(exceptions.Forbidden):
            self.as_token(b["client_token"]).auth.token.lookup_self()
        # Revoking it again is not an error, as in Vault: a warning only.
        again = self.client.auth.token.revoke_accessor(b["accessor"])
        self.assertEqual(again["warnings"], ["No token found with this accessor"])

    def test_orphan_and_num_uses(self):
        o = self.client.adapter.post("/v1/auth/token/create-orphan",
                                     json={"policies": ["default"], "ttl": "1h"})["auth"]
        self.assertTrue(o["orphan"])
        self.assertTrue(self.client.auth.token.lookup(o["client_token"])["data"]["orphan"])

        limited = self.create(policies=["default"], ttl="1h", num_uses=3)
        self.assertEqual(limited["num_uses"], 3)
        c = self.as_token(limited["client_token"])
        self.assertEqual(c.auth.token.lookup_self()["data"]["num_uses"], 2)
        # Cubbyhole reads spend uses too; the last one is allowed (hvac's
        # read answers None for a 404) ...
        self.assertIsNone(c.read("cubbyhole/nothing"))
        self.assertIsNone(c.read("cubbyhole/nothing"))
        # ... and then the token is gone.
        with self.assertRaises(exceptions.Forbidden):
            c.read("cubbyhole/nothing")
        with self.assertRaises(exceptions.Forbidden):
            self.client.auth.token.lookup(limited["client_token"])

    def test_last_use_is_allowed_then_revoked(self):
        """The use that brings num_uses to 0 is allowed (the request can still
        look the token up), and the token is revoked after it."""
        once = self.create(policies=["default"], ttl="1h", num_uses=1)
        c = self.as_token(once["client_token"])
        data = c.auth.token.lookup_self()["data"]
        self.assertEqual(data["accessor"], once["accessor"])
        with self.assertRaises(exceptions.Forbidden):
            c.auth.token.lookup_self()

    def test_role_tokens_for_an_entity_alias(self):
        name = self.unique("broker")
        self.client.auth.token.create_or_update_role(
            name, allowed_policies=["default"], allowed_entity_aliases="Svc-*")
        role = self.client.auth.token.read_role(name)["data"]
        self.assertEqual(role["allowed_entity_aliases"], ["svc-*"])
        auth = self.client.auth.token.create(role_name=name, entity_alias="svc-payments")["auth"]
        entity_id = auth["entity_id"]
        self.assertNotEqual(entity_id, "")
        # The same alias names the same entity; its alias is on the token
        # auth method, and the token carries the entity.
        again = self.client.auth.token.create(role_name=name, entity_alias="svc-payments")
        self.assertEqual(again["auth"]["entity_id"], entity_id)
        entity = self.client.secrets.identity.read_entity(entity_id)["data"]
        self.assertEqual([(a["name"], a["mount_type"]) for a in entity["aliases"]],
                         [("svc-payments", "token")])
        looked = self.client.auth.token.lookup(auth["client_token"])["data"]
        self.assertEqual(looked["entity_id"], entity_id)
        with self.assertRaises(exceptions.InvalidRequest):
            self.client.auth.token.create(role_name=name, entity_alias="web-frontend")
        with self.assertRaises(exceptions.InvalidRequest):
            self.client.auth.token.create(entity_alias="svc-payments")
        # A disabled entity gets no more tokens.
        self.client.secrets.identity.update_entity(entity_id, disabled=True)
        with self.assertRaises(exceptions.Forbidden):
            self.client.auth.token.create(role_name=name, entity_alias="svc-payments")

    def test_roles(self):
        name = self.unique("role")
        self.client.auth.token.create_or_update_role(
            name, allowed_policies=["default", "reader"], orphan=True, renewable=True,
            path_suffix="v1")
        # hvac 0.11 has no period argument; set it through the adapter.
        self.client.adapter.post("/v1/auth/token/roles/" + name,
                                 json={"allowed_policies": ["default", "reader"],
                                       "orphan": True, "period": "1h", "path_suffix": "v1"})
        role = self.client.auth.token.read_role(name)["data"]
        self.assertEqual(role["name"], name)
        self.assertEqual(sorted(role["allowed_policies"]), ["default", "reader"])
        self.assertTrue(role["orphan"])
        self.assertIn(name, self.client.auth.token.list_roles()["data"]["keys"])
        auth = self.create(role_name=name, policies=["reader"])
        self.assertTrue(auth["orphan"])
        data = self.client.auth.token.lookup(auth["client_token"])["data"]
        self.assertEqual(data["path"], "auth/token/create/" + name + "/v1")
        self.assertEqual(data["period"], 3600)
        self.client.auth.token.delete_role(name)
        with self.assertRaises(exceptions.InvalidPath):
            self.client.auth.token.read_role(name)


class HvacWrappingTest(HvacTestBase):
    def test_wrap_token_create_and_unwrap(self):
        wrapped = self.client.auth.token.create(policies=["default"], ttl="1h", wrap_ttl="2m")
        self.assertIsNone(wrapped["auth"])
        info = wrapped["wrap_info"]
        self.assertEqual(info["ttl"], 120)
        self.assertEqual(info["creation_path"], "auth/token/create")
        self.assertTrue(info["token"].startswith("hvs."))
        self.assertNotEqual(info["accessor"], "")

        # sys/wrapping/lookup needs no client token.
        anon = self.as_token(None)
        look = anon.adapter.post("/v1/sys/wrapping/lookup", json={"token": info["token"]})
        self.assertEqual(look["data"]["creation_path"], "auth/token/create")
        self.assertEqual(look["data"]["creation_ttl"], 120)

        # Unwrap with the wrapping token as the client token.
        unwrapped = self.as_token(info["token"]).sys.unwrap()
        inner = unwrapped["auth"]["client_token"]
        self.assertTrue(inner.startswith("hvs."))
        self.assertEqual(unwrapped["auth"]["policies"], ["default"])
        ttl = self.client.auth.token.lookup(inner)["data"]["ttl"]
        self.assertTrue(3500 <= ttl <= 3600, ttl)  # 1h, less the seconds since the create

        # A second unwrap fails: the wrapping token was single-use.
        with self.assertRaises((exceptions.InvalidRequest, exceptions.Forbidden)):
            self.as_token(info["token"]).sys.unwrap()
        with self.assertRaises((exceptions.InvalidRequest, exceptions.Forbidden)):
            self.client.sys.unwrap(info["token"])
        with self.assertRaises((exceptions.InvalidRequest, exceptions.Forbidden)):
            anon.adapter.post("/v1/sys/wrapping/lookup", json={"token": info["token"]})

    def test_wrap_kv_read_unwrap_in_body(self):
        self.client.secrets.kv.v2.create_or_update_secret("wrapme", {"pw": "hunter2"})
        wrapped = self.client.read("secret/data/wrapme", wrap_ttl="60s")
        self.assertIsNone(wrapped["data"])
        token = wrapped["wrap_info"]["token"]
        self.assertEqual(wrapped["wrap_info"]["creation_path"], "secret/data/wrapme")
        # Unwrap with the wrapping token in the body, as another client.
        reader = self.as_token(self.client.auth.token.create(
            policies=["default"], ttl="10m")["auth"]["client_token"])
        out = reader.sys.unwrap(token)
        self.assertEqual(out["data"]["data"], {"pw": "hunter2"})
        self.assertEqual(out["data"]["metadata"]["version"], 1)
        with self.assertRaises((exceptions.InvalidRequest, exceptions.Forbidden)):
            reader.sys.unwrap(token)

    def test_sys_wrapping_wrap_and_rewrap(self):
        a = self.client.adapter
        wrapped = a.post("/v1/sys/wrapping/wrap", json={"k": "v", "n": 3},
                         headers={"X-Vault-Wrap-TTL": "90s"})
        info = wrapped["wrap_info"]
        self.assertEqual(info["ttl"], 90)
        self.assertEqual(info["creation_path"], "sys/wrapping/wrap")
        rewrapped = a.post("/v1/sys/wrapping/rewrap", json={"token": info["token"]})
        new = rewrapped["wrap_info"]["token"]
        self.assertNotEqual(new, info["token"])
        self.assertEqual(rewrapped["wrap_info"]["ttl"], 90)
        with self.assertRaises((exceptions.InvalidRequest, exceptions.Forbidden)):
            self.client.sys.unwrap(info["token"])
        self.assertEqual(self.client.sys.unwrap(new)["data"], {"k": "v", "n": 3})

    def test_wrapped_numbers_come_back_as_written(self):
        wrapped = self.client.adapter.post("/v1/sys/wrapping/wrap", json={"n": 2**70 + 1})
        self.assertEqual(self.client.sys.unwrap(wrapped["wrap_info"]["token"])["data"],
                         {"n": 2**70 + 1})

    def test_concurrent_unwraps_exactly_one_wins(self):
        import threading
        wrapped = self.client.adapter.post("/v1/sys/wrapping/wrap", json={"once": "only"},
                                           headers={"X-Vault-Wrap-TTL": "60s"})
        token = wrapped["wrap_info"]["token"]
        clients = [self.as_token(ROOT) for _ in range(8)]
        results, start = [], threading.Barrier(len(clients))

        def unwrap(c):
            start.wait()
            try:
                results.append(c.sys.unwrap(token)["data"])
            except (exceptions.InvalidRequest, exceptions.Forbidden):
                results.append(None)

        threads = [threading.Thread(target=unwrap, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), len(clients))
        self.assertEqual([r for r in results if r is not None], [{"once": "only"}])

    def test_wrapping_token_is_useless_elsewhere(self):
        wrapped = self.client.auth.token.create(policies=["default"], wrap_ttl="60s")
        w = self.as_token(wrapped["wrap_info"]["token"])
        with self.assertRaises(exceptions.Forbidden):
            w.auth.token.lookup_self()
        with self.assertRaises(exceptions.Forbidden):
            w.secrets.kv.v2.read_secret_version("anything")
        # It still unwraps after those refusals.
        self.assertTrue(w.sys.unwrap()["auth"]["client_token"].startswith("hvs."))

    def test_lookup_by_get_and_a_zero_wrap_ttl(self):
        wrapped = self.client.auth.token.create(policies=["default"], wrap_ttl="60s")
        token = wrapped["wrap_info"]["token"]
        # GET, unauthenticated, with the token as a query parameter or as
        # the caller's token; neither uses it up.
        anon = self.as_token(None)
        look = anon.adapter.get("/v1/sys/wrapping/lookup", params={"token": token})
        self.assertEqual(look["data"]["creation_path"], "auth/token/create")
        look = self.as_token(token).adapter.get("/v1/sys/wrapping/lookup")
        self.assertEqual(look["data"]["creation_ttl"], 60)
        self.assertTrue(self.as_token(token).sys.unwrap()["auth"]["client_token"])
        # A wrap TTL of 0 asks for no wrapping: the answer comes as it is.
        self.client.secrets.kv.v2.create_or_update_secret("unwrapped", {"k": "v"})
        plain = self.client.read("secret/data/unwrapped", wrap_ttl="0")
        self.assertIsNone(plain["wrap_info"])
        self.assertEqual(plain["data"]["data"], {"k": "v"})

    def test_wrapping_token_expires(self):
        wrapped = self.client.auth.token.create(policies=["default"], wrap_ttl="1s")
        token = wrapped["wrap_info"]["token"]
        anon = self.as_token(None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = anon.adapter.request("POST", "/v1/sys/wrapping/lookup",
                                     json={"token": token}, raise_exception=False)
            if not isinstance(r, dict):
                break
            time.sleep(0.05)
        else:
            self.fail("wrapping token still valid 10 s after a 1 s TTL")
        with self.assertRaises((exceptions.InvalidRequest, exceptions.Forbidden)):
            self.client.sys.unwrap(token)


if __name__ == "__main__":
    unittest.main()
