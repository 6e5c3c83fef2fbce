"""OpenBao's recursive list (SCAN), paged LISTs and detailed-metadata over
real HTTP against the coffer binary: the SCAN method and GET ?scan=true,
the "scan" capability, Coffer's LIST ?recursive=true as the same operation,
KV version 1, `coffer kv scan`, the audit entry's operation, and policies'
list_scan_response_keys_filter_path."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness


class KvScanTest(harness.DevServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        req = cls.srv.request
        for key in ("app/db", "app/queue/1", "app/queue/2", "app/private/key", "web"):
            st, body, _ = req("POST", "/v1/secret/data/" + key, {"data": {"v": key}},
                              token=cls.root)
            assert st == 200, (st, body)
        st, _, _ = req("POST", "/v1/sys/mounts/kv1", {"type": "kv"}, token=cls.root)
        assert st == 204
        for key in ("a", "b/c", "b/d/e"):
            st, _, _ = req("POST", "/v1/kv1/" + key, {"v": 1}, token=cls.root)
            assert st == 204

    def token(self, name, hcl):
        st, body, _ = self.srv.request("PUT", "/v1/sys/policies/acl/" + name, {"policy": hcl},
                                       token=self.root)
        self.assertEqual(st, 204, body)
        st, body, _ = self.srv.request("POST", "/v1/auth/token/create",
                                       {"policies": [name], "no_default_policy": True},
                                       token=self.root)
        self.assertEqual(st, 200, body)
        return body["auth"]["client_token"]

    def test_scan_method_and_query_form(self):
        want = ["db", "private/key", "queue/1", "queue/2"]
        st, body, _ = self.srv.request("SCAN", "/v1/secret/metadata/app", token=self.root)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["data"]["keys"], want)
        self.assertNotIn("next_after", body["data"])
        st, body, _ = self.srv.request("GET", "/v1/secret/metadata/app?scan=true",
                                       token=self.root)
        self.assertEqual((st, body["data"]["keys"]), (200, want))
        # Paged: after and limit, with Coffer's cursor.
        st, body, _ = self.srv.request("SCAN", "/v1/secret/metadata/app?after=db&limit=2",
                                       token=self.root)
        self.assertEqual(body["data"], {"keys": ["private/key", "queue/1"],
                                        "next_after": "queue/1"})
        st, body, _ = self.srv.request("GET", "/v1/secret/metadata/app?list=true&scan=true",
                                       token=self.root)
        self.assertEqual(st, 400, body)
        st, body, _ = self.srv.request("SCAN", "/v1/secret/metadata/nothing", token=self.root)
        self.assertEqual(st, 404, body)

    def test_paged_one_level_list(self):
        st, body, _ = self.srv.request("LIST", "/v1/secret/metadata/app?limit=2",
                                       token=self.root)
        self.assertEqual((st, body["data"]), (200, {"keys": ["db", "private/"],
                                                    "next_after": "private/"}))
        st, body, _ = self.srv.request("LIST", "/v1/secret/metadata/app?after=private/",
                                       token=self.root)
        self.assertEqual(body["data"], {"keys": ["queue/"]})

    def test_scan_needs_the_scan_capability(self):
        lister = self.token("scan-it-lister", """
            path "secret/metadata/*" { capabilities = ["list"] }
            path "secret/metadata/app/private/*" { capabilities = ["deny"] }""")
        st, body, _ = self.srv.request("LIST", "/v1/secret/metadata/app", token=lister)
        self.assertEqual(st, 200, body)
        # Neither SCAN nor Coffer's older LIST ?recursive=true: both would
        # reveal the denied sub-folder's keys.
        for method, path in (("SCAN", "/v1/secret/metadata/app"),
                             ("LIST", "/v1/secret/metadata/app?recursive=true"),
                             ("GET", "/v1/secret/metadata/app?list=true&recursive=true")):
            st, body, _ = self.srv.request(method, path, token=lister)
            self.assertEqual(st, 403, (method, path, body))
            self.assertNotIn("private/key", json.dumps(body))

        scanner = self.token("scan-it-scanner", """
            path "secret/metadata/app/*" { capabilities = ["scan"] }""")
        st, body, _ = self.srv.request("LIST", "/v1/secret/metadata/app?recursive=true",
                                       token=scanner)
        self.assertEqual(st, 200, body)
        self.assertIn("private/key", body["data"]["keys"])
        st, body, _ = self.srv.request("SCAN", "/v1/secret/metadata", token=scanner)
        self.assertEqual(st, 403, body)
        st, body, _ = self.srv.request("POST", "/v1/sys/capabilities",
                                       {"token": scanner, "paths": ["secret/metadata/app/"]},
                                       token=self.root)
        self.assertEqual(body["data"]["capabilities"], ["scan"])

    def test_scan_elsewhere_is_method_not_allowed(self):
        for path in ("/v1/sys/policies/acl", "/v1/auth/token/accessors", "/v1/cubbyhole",
                     "/v1/secret/data/app", "/v1/sys/health"):
            st, body, _ = self.srv.request("SCAN", path, token=self.root)
            self.assertEqual(st, 405, (path, body))

    def test_detailed_metadata(self):
        st, body, _ = self.srv.request("LIST", "/v1/secret/detailed-metadata/app",
                                       token=self.root)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["data"]["keys"], ["db", "private/", "queue/"])
        st, meta, _ = self.srv.request("GET", "/v1/secret/metadata/app/db", token=self.root)
        self.assertEqual(body["data"]["key_info"]["db"], meta["data"])
        self.assertEqual(body["data"]["key_info"]["queue/"], {})
        st, body, _ = self.srv.request("SCAN", "/v1/secret/detailed-metadata/app/queue",
                                       token=self.root)
        self.assertEqual(sorted(body["data"]["key_info"]), ["1", "2"])
        self.assertEqual(body["data"]["key_info"]["2"]["current_version"], 1)
        # A separate path: a grant on metadata/ does not reach it.
        lister = self.token("scan-it-meta", 'path "secret/metadata/*" { capabilities = ["list"] }')
        st, body, _ = self.srv.request("LIST", "/v1/secret/detailed-metadata/app", token=lister)
        self.assertEqual(st, 403, body)

    def test_filter_path_hides_what_the_caller_may_not_read(self):
        t = self.token("scan-it-filter", r"""
            path "secret/metadata/*" {
              capabilities = ["list", "scan"]
              list_scan_response_keys_filter_path = "{{ .path | replace \"secret/metadata/\" \"secret/data/\" }}{{ .key }}"
            }
            path "secret/detailed-metadata/*" {
              capabilities = ["list"]
              list_scan_response_keys_filter_path = "{{ .path | replace \"secret/detailed-metadata/\" \"secret/data/\" }}{{ .key }}"
            }
            path "secret/data/app/queue/*" { capabilities = ["read", "list"] }
            path "secret/data/app/db" { capabilities = ["read"] }
            path "sys/internal/ui/resultant-acl" { capabilities = ["read"] }""")
        st, body, _ = self.srv.request("LIST", "/v1/secret/metadata/app", token=t)
        self.assertEqual((st, body["data"]["keys"]), (200, ["db", "queue/"]))
        st, body, _ = self.srv.request("SCAN", "/v1/secret/metadata/app?limit=1", token=t)
        self.assertEqual(body["data"], {"keys": ["db"], "next_after": "db"})
        st, body, _ = self.srv.request("SCAN", "/v1/secret/metadata/app?after=db", token=t)
        self.assertEqual(body["data"]["keys"], ["queue/1", "queue/2"])
        self.assertNotIn("private", json.dumps(body))
        st, body, _ = self.srv.request("LIST", "/v1/secret/detailed-metadata/app", token=t)
        self.assertEqual(st, 200, body)
        self.assertEqual(sorted(body["data"]["key_info"]), ["db", "queue/"])
        st, body, _ = self.srv.request("LIST", "/v1/secret/metadata/app/private", token=t)
        self.assertEqual(st, 404, body)
        st, body, _ = self.srv.request("GET", "/v1/sys/internal/ui/resultant-acl", token=t)
        rule = body["data"]["glob_paths"]["secret/metadata/"]
        self.assertEqual(rule["capabilities"], ["list", "scan"])
        self.assertIn("replace", rule["list_scan_response_keys_filter_path"])
        # A filter that cannot tell keys apart is refused when written.
        st, body, _ = self.srv.request(
            "PUT", "/v1/sys/policies/acl/scan-it-bad",
            {"policy": 'path "secret/metadata/*" { capabilities = ["list"]\n'
                       'list_scan_response_keys_filter_path = "{{ .path }}" }'},
            token=self.root)
        self.assertEqual(st, 400, body)
        self.assertIn("same path for different keys", body["errors"][0])

    def test_kv_version_1(self):
        st, body, _ = self.srv.request("SCAN", "/v1/kv1", token=self.root)
        self.assertEqual((st, body["data"]["keys"]), (200, ["a", "b/c", "b/d/e"]))
        st, body, _ = self.srv.request("LIST", "/v1/kv1?after=a", token=self.root)
        self.assertEqual(body["data"]["keys"], ["b/"])

    def test_cli_kv_scan(self):
        home = tempfile.mkdtemp(prefix="coffer-scan-cli-")
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in ("COFFER_TOKEN", "VAULT_TOKEN")}
        env.update({"COFFER_ADDR": self.srv.addr, "HOME": home, "COFFER_TOKEN": self.root})

        def cli(*args):
            return subprocess.run([harness.COFFER_BIN] + list(args), env=env,
                                  capture_output=True, text=True, timeout=60)

        r = cli("kv", "scan", "-format=json", "secret/app")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout),
                         ["db", "private/key", "queue/1", "queue/2"])
        r = cli("kv", "scan", "kv1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["Keys", "----", "a", "b/c", "b/d/e"])
        r = cli("kv", "scan", "secret/nothing")
        self.assertEqual(r.returncode, 2)
        env["COFFER_TOKEN"] = self.token("scan-it-cli", 'path "secret/*" { capabilities = ["list"] }')
        r = cli("kv", "scan", "secret/app")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Error scanning secret/metadata/app", r.stderr)
        self.assertIn("403", r.stderr)


class KvScanAuditTest(unittest.TestCase):
    def test_audit_entry_names_the_scan(self):
        srv = harness.start_dev()
        self.addCleanup(srv.cleanup)
        self.addCleanup(srv.stop)
        log = os.path.join(tempfile.mkdtemp(prefix="coffer-scan-audit-"), "audit.log")
        self.addCleanup(shutil.rmtree, os.path.dirname(log), ignore_errors=True)
        st, body, _ = srv.request("PUT", "/v1/sys/audit/file",
                                  {"type": "file", "options": {"file_path": log}},
                                  token=srv.root_token)
        self.assertEqual(st, 204, body)
        st, body, _ = srv.request("POST", "/v1/secret/data/x/y", {"data": {"v": 1}},
                                  token=srv.root_token)
        self.assertEqual(st, 200, body)
        st, body, _ = srv.request("SCAN", "/v1/secret/metadata", token=srv.root_token)
        self.assertEqual(st, 200, body)
        with open(log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        scans = [e for e in entries if e["request"]["path"] == "secret/metadata/"]
        self.assertEqual([e["type"] for e in scans], ["request", "response"])
        self.assertTrue(all(e["request"]["operation"] == "scan" for e in scans))
        keys = scans[1]["response"]["data"]["keys"]
        self.assertEqual(len(keys), 1)
        self.assertTrue(keys[0].startswith("hmac-sha256:"), keys)


if __name__ == "__main__":
    unittest.main()
