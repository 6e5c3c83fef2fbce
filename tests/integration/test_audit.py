"""Audit devices against the real server: nothing secret in any log, fail
closed, tamper evidence with `coffer audit verify`, rotation by SIGHUP,
filters."""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import uuid

import harness

ROOT = "audit-root-" + uuid.uuid4().hex


def lines_of(path):
    with open(path) as f:
        return f.read().splitlines()


def wait_for(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class AuditBase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-audit-it-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def enable(self, server, path, file_path, token=ROOT, **options):
        options = dict(options, file_path=file_path)
        status, body, _ = server.request("PUT", "/v1/sys/audit/" + path,
                                         {"type": "file", "options": options}, token=token)
        self.assertEqual(status, 204, body)

    def cli(self, server, *args, token=ROOT):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": server.addr, "COFFER_TOKEN": token, "HOME": self.dir})
        return subprocess.run([harness.COFFER_BIN] + list(args), capture_output=True, text=True,
                              env=env, timeout=60)


class CanaryTest(AuditBase):
    """A whole API session with planted canaries; then neither the audit log
    nor the server's own log (at debug level) contains any of them."""

    def test_no_secret_reaches_any_log(self):
        data_dir = tempfile.mkdtemp(prefix="coffer-canary-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        config = harness.write_config(data_dir)
        with open(config) as f:
            text = f.read().replace('log_level = "warn"', 'log_level = "debug"')
        with open(config, "w") as f:
            f.write(text)
        server = harness.Server(["server", "-config=" + config], data_dir=data_dir).start()
        self.addCleanup(server.cleanup)

        status, init, _ = server.request("PUT", "/v1/sys/init",
                                         {"secret_shares": 3, "secret_threshold": 2})
        self.assertEqual(status, 200, init)
        keys, root = init["keys_base64"], init["root_token"]
        for k in keys[:2]:
            server.request("PUT", "/v1/sys/unseal", {"key": k})
        audit_log = os.path.join(self.dir, "audit.log")
        self.enable(server, "file", audit_log, token=root)
        raw_log = os.path.join(self.dir, "raw.log")

        canary_value = "canary-value-" + uuid.uuid4().hex
        canary_number = 918273645546372819
        canaries = [canary_value, str(canary_number), root] + keys + init["keys"]

        def req(method, path, body=None, token=root, **kw):
            status, resp, _ = server.request(method, path, body, token=token, **kw)
            self.assertLess(status, 300, (path, resp))
            return resp

        server.request("POST", "/v1/sys/mounts/kv1", {"type": "kv"}, token=root)
        server.request("POST", "/v1/sys/mounts/secret", {"type": "kv-v2"}, token=root)
        req("POST", "/v1/secret/data/app",
            {"data": {"password": canary_value, "pin": canary_number, "flag": True,
                      "nested": {"list": [canary_value]}}})
        req("GET", "/v1/secret/data/app")
        req("PATCH", "/v1/secret/data/app", {"data": {"extra": canary_value}},
            headers={"Content-Type": "application/merge-patch+json"})
        req("PUT", "/v1/kv1/app", {"api_key": canary_value})
        req("GET", "/v1/kv1/app")
        req("PUT", "/v1/sys/policies/acl/app",
            {"policy": 'path "secret/*" { capabilities = ["read"] }'})
        child = req("POST", "/v1/auth/token/create", {"policies": ["app"], "ttl": "1h"})
        child_token = child["auth"]["client_token"]
        canaries += [child_token, child["auth"]["accessor"]]
        req("GET", "/v1/secret/data/app", token=child_token)
        req("GET", "/v1/auth/token/lookup-self", token=child_token)
        req("POST", "/v1/auth/token/lookup", {"token": child_token})
        req("POST", "/v1/auth/token/renew", {"token": child_token})
        wrapped = req("GET", "/v1/secret/data/app", headers={"X-Vault-Wrap-TTL": "5m"})
        wrap_token = wrapped["wrap_info"]["token"]
        canaries.append(wrap_token)
        req("POST", "/v1/sys/wrapping/unwrap", {"token": wrap_token})
        req("PUT", "/v1/cubbyhole/mine", {"value": canary_value})
        req("GET", "/v1/cubbyhole/mine")
        req("POST", "/v1/auth/token/revoke", {"token": child_token})
        # A denied request carries the token too.
        server.request("GET", "/v1/secret/data/app", token=child_token)
        req("DELETE", "/v1/sys/audit/file")
        # A log_raw device is the one place values appear in the clear.
        self.enable(server, "raw", raw_log, token=root, log_raw="true")
        req("GET", "/v1/kv1/app")
        req("DELETE", "/v1/sys/audit/raw")
        server.stop()

        with open(audit_log) as f:
            audit_text = f.read()
        self.assertGreater(len(audit_text.splitlines()), 30)
        server_text = server.log()
        for canary in canaries:
            raw = canary.encode()
            forms = {canary, base64.b64encode(raw).decode(), raw.hex(),
                     base64.urlsafe_b64encode(raw).decode().rstrip("=")}
            for form in forms:
                self.assertNotIn(form, audit_text, "canary found in the audit log")
                self.assertNotIn(form, server_text, "canary found in the server log")
        # The values were logged, as HMACs.
        self.assertIn('"hmac-sha256:', audit_text)
        with open(raw_log) as f:
            self.assertIn(canary_value, f.read())


class FailClosedTest(AuditBase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        # Whatever a test left enabled goes away (when the device works again).
        _, body, _ = self.server.request("GET", "/v1/sys/audit", token=ROOT)
        for path in (body or {}).get("data", {}):
            self.server.request("DELETE", "/v1/sys/audit/" + path, token=ROOT)

    def assert_fails_closed(self, status, body):
        self.assertEqual(status, 500, body)
        self.assertEqual(set(body.keys()), {"errors"}, body)

    def test_removed_directory_fails_every_request_and_changes_nothing(self):
        s = self.server
        s.request("POST", "/v1/secret/data/fc", {"data": {"v": "before"}}, token=ROOT)
        st, body, _ = s.request("POST", "/v1/sys/auth/fcusers", {"type": "userpass"}, token=ROOT)
        self.assertEqual(st, 204, body)
        s.request("POST", "/v1/auth/fcusers/users/alice", {"password": "pw-fc"}, token=ROOT)
        st, body, _ = s.request("POST", "/v1/auth/fcusers/login/alice", {"password": "pw-fc"})
        self.assertEqual(st, 200, body)  # logins work before the failure
        _, before, _ = s.request("GET", "/v1/auth/token/accessors?list=true", token=ROOT)
        logdir = os.path.join(self.dir, "logs")
        os.mkdir(logdir)
        self.enable(s, "only", os.path.join(logdir, "audit.log"))
        shutil.rmtree(logdir)
        st, body, _ = s.request("GET", "/v1/secret/data/fc", token=ROOT)
        self.assert_fails_closed(st, body)
        st, body, _ = s.request("POST", "/v1/secret/data/fc", {"data": {"v": "after"}}, token=ROOT)
        self.assert_fails_closed(st, body)
        st, body, _ = s.request("POST", "/v1/auth/token/create", {"ttl": "1h"}, token=ROOT)
        self.assert_fails_closed(st, body)
        st, body, _ = s.request("PUT", "/v1/sys/policies/acl/fc", {"policy": ""}, token=ROOT)
        self.assert_fails_closed(st, body)
        st, body, _ = s.request("POST", "/v1/auth/fcusers/login/alice", {"password": "pw-fc"})
        self.assert_fails_closed(st, body)  # a login: no token comes back, none is made
        # The operator recreates the directory; the device reopens.
        os.mkdir(logdir)
        st, body, _ = s.request("GET", "/v1/secret/data/fc", token=ROOT)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["data"]["data"], {"v": "before"})
        self.assertEqual(body["data"]["metadata"]["version"], 1)
        st, body, _ = s.request("GET", "/v1/auth/token/accessors?list=true", token=ROOT)
        self.assertEqual(body["data"]["keys"], before["data"]["keys"], "no token was created")
        st, _, _ = s.request("GET", "/v1/sys/policies/acl/fc", token=ROOT)
        self.assertEqual(st, 404)

    def test_full_disk_fails_closed(self):
        # Its own server: a device that can never write locks the server for
        # good (disabling it is a request too), as it should.
        s = harness.start_dev(root_token=ROOT)
        self.addCleanup(s.cleanup)
        s.request("POST", "/v1/secret/data/disk", {"data": {"v": "x"}}, token=ROOT)
        good = os.path.join(self.dir, "good.log")
        self.enable(s, "full", "/dev/full")
        st, body, _ = s.request("GET", "/v1/secret/data/disk", token=ROOT)
        self.assert_fails_closed(st, body)
        st, body, _ = s.request("POST", "/v1/auth/token/create", {}, token=ROOT)
        self.assert_fails_closed(st, body)
        # With the only device failing even enabling another one is refused:
        st, body, _ = s.request("PUT", "/v1/sys/audit/good",
                                {"type": "file", "options": {"file_path": good}}, token=ROOT)
        self.assert_fails_closed(st, body)
        self.assertFalse(os.path.exists(good))
        wait_for(lambda: "No space left on device" in s.log(), "the failure in the server log")

    def test_two_devices_one_failing(self):
        s = self.server
        good = os.path.join(self.dir, "good.log")
        self.enable(s, "good", good)
        self.enable(s, "full", "/dev/full")
        st, body, _ = s.request("POST", "/v1/secret/data/two", {"data": {"v": "y"}}, token=ROOT)
        self.assertEqual(st, 200, body)
        st, body, _ = s.request("GET", "/v1/secret/data/two", token=ROOT)
        self.assertEqual(st, 200, body)
        st, body, _ = s.request("POST", "/v1/auth/token/create", {}, token=ROOT)
        self.assertEqual(st, 200, body)
        entries = [json.loads(l) for l in lines_of(good)]
        paths = [(e["type"], e["request"]["path"]) for e in entries if e.get("type") != "checkpoint"]
        self.assertIn(("request", "secret/data/two"), paths)
        self.assertIn(("response", "secret/data/two"), paths)
        self.assertIn(("response", "auth/token/create"), paths)
        s.request("DELETE", "/v1/sys/audit/full", token=ROOT)

    def test_bad_options_are_refused_and_nothing_is_enabled(self):
        s = self.server
        for options, message in [({"file_path": "/tmp/x.log", "mode": "0755"}, "executable"),
                                 ({}, "file_path"),
                                 ({"file_path": "/no/such/dir/a.log"}, "cannot open"),
                                 ({"file_path": "/tmp/x.log", "filter": "path =="}, "filter")]:
            st, body, _ = s.request("PUT", "/v1/sys/audit/bad",
                                    {"type": "file", "options": options}, token=ROOT)
            self.assertEqual(st, 400, body)
            self.assertIn(message, body["errors"][0])
        st, body, _ = s.request("PUT", "/v1/sys/audit/bad", {"type": "kafka"}, token=ROOT)
        self.assertEqual(st, 400, body)
        st, body, _ = s.request("GET", "/v1/sys/audit", token=ROOT)
        self.assertEqual(body["data"], {})

    def test_a_link_or_a_file_in_use_is_refused(self):
        s = self.server
        # A symbolic link is not followed: the file it points to keeps its
        # content and its mode.
        victim = os.path.join(self.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.chmod(victim, 0o644)
        link = os.path.join(self.dir, "link.log")
        os.symlink(victim, link)
        st, body, _ = s.request("PUT", "/v1/sys/audit/linked",
                                {"type": "file", "options": {"file_path": link}}, token=ROOT)
        self.assertEqual(st, 400, body)
        self.assertIn("symbolic link", body["errors"][0])
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertEqual(os.stat(victim).st_mode & 0o777, 0o644)
        # Two devices on one file (by the same name or another) are refused.
        shared = os.path.join(self.dir, "shared.log")
        self.enable(s, "first", shared)
        self.addCleanup(s.request, "DELETE", "/v1/sys/audit/first", None, ROOT)
        other_name = os.path.join(self.dir, ".", "shared.log")
        for path in (shared, other_name):
            st, body, _ = s.request("PUT", "/v1/sys/audit/second",
                                    {"type": "file", "options": {"file_path": path}}, token=ROOT)
            self.assertEqual(st, 400, body)
            self.assertIn("already in use", body["errors"][0])
        st, body, _ = s.request("GET", "/v1/sys/audit", token=ROOT)
        self.assertEqual(sorted(body["data"]), ["first/"])

    def test_audit_endpoints_need_sudo(self):
        s = self.server
        s.request("PUT", "/v1/sys/policies/acl/auditor",
                  {"policy": 'path "sys/audit*" { capabilities = ["create","read","update","delete","list"] }'},
                  token=ROOT)
        _, tok, _ = s.request("POST", "/v1/auth/token/create", {"policies": ["auditor"]}, token=ROOT)
        t = tok["auth"]["client_token"]
        st, _, _ = s.request("GET", "/v1/sys/audit", token=t)
        self.assertEqual(st, 403)
        st, _, _ = s.request("PUT", "/v1/sys/audit/x",
                             {"type": "file", "options": {"file_path": "/tmp/x"}}, token=t)
        self.assertEqual(st, 403)


class SocketAndTuneTest(AuditBase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def receive_lines(self, conn, count):
        buf = b""
        conn.settimeout(10)
        while buf.count(b"\n") < count:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        return [json.loads(l) for l in buf.decode().splitlines()]

    def test_tcp_socket_device_reconnects(self):
        import socket
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        st, body, _ = self.server.request(
            "PUT", "/v1/sys/audit/tcp",
            {"type": "socket", "options": {"address": "127.0.0.1:%d" % port}}, token=ROOT)
        self.assertEqual(st, 204, body)
        self.addCleanup(self.server.request, "DELETE", "/v1/sys/audit/tcp", None, ROOT)
        conn, _ = listener.accept()
        self.server.request("GET", "/v1/secret/data/sock1", token=ROOT)
        entries = self.receive_lines(conn, 2)
        self.assertEqual([e["request"]["path"] for e in entries[:2]], ["secret/data/sock1"] * 2)
        # The collector restarts: the very next request's entries go to a new
        # connection. (The closed one would still take one send into the
        # kernel; counting that as recorded would lose the entry.)
        conn.close()
        time.sleep(0.2)  # the close reaches the server's socket
        st, _, _ = self.server.request("GET", "/v1/secret/data/sock2", token=ROOT)
        listener.settimeout(5)
        conn, _ = listener.accept()
        self.addCleanup(conn.close)
        paths = [e.get("request", {}).get("path") for e in self.receive_lines(conn, 2)]
        self.assertIn("secret/data/sock2", paths)

    def test_legacy_unwrap_is_recorded_before_it_spends_the_token(self):
        # GET cubbyhole/response with a wrapping token is Vault's older
        # unwrap: it spends the token, so its request entry must be written
        # before it runs. With the collector down it fails and the wrapped
        # secret is still there once the collector is back.
        import socket
        s = harness.start_dev(root_token=ROOT)
        self.addCleanup(s.cleanup)
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        st, body, _ = s.request(
            "PUT", "/v1/sys/audit/tcp",
            {"type": "socket", "options": {"address": "127.0.0.1:%d" % port}}, token=ROOT)
        self.assertEqual(st, 204, body)
        conn, _ = listener.accept()
        st, body, _ = s.request("POST", "/v1/sys/wrapping/wrap", {"pw": "kept-safe"},
                                token=ROOT, headers={"X-Vault-Wrap-TTL": "300"})
        self.assertEqual(st, 200, body)
        wrapping = body["wrap_info"]["token"]
        conn.close()
        listener.close()
        time.sleep(0.2)
        st, body, _ = s.request("GET", "/v1/cubbyhole/response", token=wrapping)
        self.assertEqual(st, 500, body)
        # The collector is back: the token was not spent.
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        self.addCleanup(listener.close)
        st, body, _ = s.request("POST", "/v1/sys/wrapping/unwrap", {}, token=wrapping)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["data"], {"pw": "kept-safe"})

    def test_unix_socket_device(self):
        import socket
        path = os.path.join(self.dir, "audit.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen()
        self.addCleanup(listener.close)
        st, body, _ = self.server.request(
            "PUT", "/v1/sys/audit/unix",
            {"type": "socket", "options": {"address": path, "socket_type": "unix"}}, token=ROOT)
        self.assertEqual(st, 204, body)
        self.addCleanup(self.server.request, "DELETE", "/v1/sys/audit/unix", None, ROOT)
        conn, _ = listener.accept()
        self.addCleanup(conn.close)
        self.server.request("GET", "/v1/secret/data/unix", token=ROOT)
        entries = self.receive_lines(conn, 2)
        self.assertEqual(entries[0]["type"], "request")
        self.assertEqual(entries[1]["type"], "response")

    def test_udp_socket_device_sends_one_datagram_per_line(self):
        import socket
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        self.addCleanup(receiver.close)
        port = receiver.getsockname()[1]
        st, body, _ = self.server.request(
            "PUT", "/v1/sys/audit/udp",
            {"type": "socket", "options": {"address": "127.0.0.1:%d" % port,
                                           "socket_type": "udp"}}, token=ROOT)
        self.assertEqual(st, 204, body)
        self.addCleanup(self.server.request, "DELETE", "/v1/sys/audit/udp", None, ROOT)
        self.server.request("GET", "/v1/secret/data/udp", token=ROOT)
        first = json.loads(receiver.recv(65536).decode())
        second = json.loads(receiver.recv(65536).decode())
        self.assertEqual((first["type"], second["type"]), ("request", "response"))
        self.assertEqual(second["request"]["path"], "secret/data/udp")

    def test_non_hmac_keys_from_the_mount_tune(self):
        log = os.path.join(self.dir, "tune.log")
        self.enable(self.server, "tune", log)
        self.addCleanup(self.server.request, "DELETE", "/v1/sys/audit/tune", None, ROOT)
        st, body, _ = self.server.request(
            "POST", "/v1/sys/mounts/secret/tune",
            {"audit_non_hmac_request_keys": ["cas", "data"],
             "audit_non_hmac_response_keys": "version,deletion_time"}, token=ROOT)
        self.assertEqual(st, 204, body)
        self.addCleanup(self.server.request, "POST", "/v1/sys/mounts/secret/tune",
                        {"audit_non_hmac_request_keys": [], "audit_non_hmac_response_keys": []},
                        ROOT)
        st, tune, _ = self.server.request("GET", "/v1/sys/mounts/secret/tune", token=ROOT)
        self.assertEqual(tune["data"]["audit_non_hmac_request_keys"], ["cas", "data"])
        self.server.request("POST", "/v1/secret/data/tuned",
                            {"options": {"cas": 0},
                             "data": {"pw": "hidden", "nested": {"k": "deep"}, "list": ["x"]}},
                            token=ROOT)
        entries = [json.loads(l) for l in lines_of(log)]
        req = next(e for e in entries if e["type"] == "request"
                   and e["request"]["path"] == "secret/data/tuned")
        # An exempt key leaves its own value raw, wherever it is nested...
        self.assertEqual(req["request"]["data"]["options"], {"cas": 0})
        # ...but not the values under it: "data" exempt still hashes the secret.
        logged = req["request"]["data"]["data"]
        self.assertTrue(logged["pw"].startswith("hmac-sha256:"))
        self.assertTrue(logged["nested"]["k"].startswith("hmac-sha256:"))
        self.assertTrue(logged["list"][0].startswith("hmac-sha256:"))
        text = "\n".join(lines_of(log))
        self.assertNotIn("hidden", text)
        self.assertNotIn("deep", text)
        resp = next(e for e in entries if e["type"] == "response"
                    and e["request"]["path"] == "secret/data/tuned")
        self.assertEqual(resp["response"]["data"]["version"], 1)
        self.assertTrue(resp["response"]["data"]["created_time"].startswith("hmac-sha256:"))

        # The token auth method's own tune counts for its paths.
        st, body, _ = self.server.request(
            "POST", "/v1/sys/auth/token/tune",
            {"audit_non_hmac_request_keys": ["display_name"]}, token=ROOT)
        self.assertEqual(st, 204, body)
        self.addCleanup(self.server.request, "POST", "/v1/sys/auth/token/tune",
                        {"audit_non_hmac_request_keys": []}, ROOT)
        st, body, _ = self.server.request(
            "POST", "/v1/auth/token/create",
            {"display_name": "shown-name", "meta": {"m": "kept-hashed"}}, token=ROOT)
        self.assertEqual(st, 200, body)
        entries = [json.loads(l) for l in lines_of(log)]
        req = [e for e in entries if e["type"] == "request"
               and e["request"]["path"] == "auth/token/create"][-1]
        self.assertEqual(req["request"]["data"]["display_name"], "shown-name")
        self.assertTrue(req["request"]["data"]["meta"]["m"].startswith("hmac-sha256:"))


    def test_audited_request_headers(self):
        log = os.path.join(self.dir, "headers.log")
        base = "/v1/sys/config/auditing/request-headers"
        for name, hmac in (("X-Forwarded-For", False), ("X-Correlation-Id", True)):
            st, body, _ = self.server.request("POST", base + "/" + name, {"hmac": hmac}, ROOT)
            self.assertEqual(st, 204, body)
            self.addCleanup(self.server.request, "DELETE", base + "/" + name, None, ROOT)
        st, body, _ = self.server.request("GET", base, None, ROOT)
        self.assertEqual(body["data"]["headers"], {"x-forwarded-for": {"hmac": False},
                                                   "x-correlation-id": {"hmac": True}})
        # Also at the top level, as Vault answers these reads.
        self.assertEqual(body["headers"], body["data"]["headers"])
        st, body, _ = self.server.request("GET", base + "/X-Correlation-Id", None, ROOT)
        self.assertEqual(body["data"], {"X-Correlation-Id": {"hmac": True}})
        self.assertEqual(body["X-Correlation-Id"], {"hmac": True})
        # A header that carries the token cannot be chosen.
        for name in ("X-Vault-Token", "authorization"):
            st, body, _ = self.server.request("POST", base + "/" + name, {"hmac": True}, ROOT)
            self.assertEqual(st, 400, body)
            self.assertIn("carries the token", body["errors"][0])
        self.enable(self.server, "headers", log)
        self.addCleanup(self.server.request, "DELETE", "/v1/sys/audit/headers", None, ROOT)

        u = urllib.parse.urlparse(self.server.addr)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.putrequest("GET", "/v1/secret/data/audited-headers")
        conn.putheader("X-Vault-Token", ROOT)
        conn.putheader("X-Forwarded-For", "10.0.0.1")
        conn.putheader("X-Forwarded-For", "10.0.0.2")
        conn.putheader("X-Correlation-Id", "corr-canary-42")
        conn.putheader("X-Other", "not-audited")
        conn.endheaders()
        conn.getresponse().read()
        conn.close()
        entries = [json.loads(l) for l in lines_of(log)]
        mine = [e for e in entries if e["request"]["path"] == "secret/data/audited-headers"]
        self.assertEqual(len(mine), 2)  # request and response
        for e in mine:
            headers = e["request"]["headers"]
            self.assertEqual(headers["x-forwarded-for"], ["10.0.0.1", "10.0.0.2"])
            self.assertTrue(headers["x-correlation-id"][0].startswith("hmac-sha256:"), headers)
            self.assertEqual(set(headers), {"x-forwarded-for", "x-correlation-id"})
        text = "\n".join(lines_of(log))
        self.assertNotIn("corr-canary-42", text)
        self.assertNotIn("not-audited", text)
        # The same value hashes to what audit-hash gives for it.
        st, body, _ = self.server.request("POST", "/v1/sys/audit-hash/headers",
                                          {"input": "corr-canary-42"}, ROOT)
        self.assertEqual(body["data"]["hash"], mine[0]["request"]["headers"]["x-correlation-id"][0])
        # A device that is not there: Vault's 400.
        st, body, _ = self.server.request("POST", "/v1/sys/audit-hash/nope", {"input": "x"}, ROOT)
        self.assertEqual((st, body["errors"]), (400, ['unknown audit backend "nope/"']))
        # Removed: later entries carry no headers.
        for name in ("x-forwarded-for", "X-CORRELATION-ID"):
            st, _, _ = self.server.request("DELETE", base + "/" + name, None, ROOT)
            self.assertEqual(st, 204)
        self.server.request("GET", "/v1/secret/data/after", None, ROOT,
                            headers={"X-Forwarded-For": "10.0.0.9"})
        after = [json.loads(l) for l in lines_of(log)]
        self.assertTrue(all("headers" not in e["request"] for e in after
                            if e["request"]["path"] == "secret/data/after"))


class FilterTest(AuditBase):
    def test_health_checks_go_to_their_own_device(self):
        server = harness.start_dev(root_token=ROOT)
        self.addCleanup(server.cleanup)
        noisy = os.path.join(self.dir, "noisy.log")
        main = os.path.join(self.dir, "main.log")
        self.enable(server, "noisy", noisy, filter='path matches "sys/internal/*"')
        self.enable(server, "main", main, filter='not path matches "sys/internal/*"')
        for _ in range(3):
            server.request("GET", "/v1/sys/internal/ui/mounts", token=ROOT)
        server.request("GET", "/v1/secret/data/none", token=ROOT)
        noisy_paths = {json.loads(l).get("request", {}).get("path") for l in lines_of(noisy)}
        main_paths = {json.loads(l).get("request", {}).get("path") for l in lines_of(main)}
        self.assertEqual(noisy_paths, {"sys/internal/ui/mounts"})
        self.assertIn("secret/data/none", main_paths)
        self.assertNotIn("sys/internal/ui/mounts", main_paths)


class VerifyTest(AuditBase):
    """`coffer audit verify` against a running server, on the live log."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def fresh_log(self, entries=12):
        name = "v" + uuid.uuid4().hex[:8]
        path = os.path.join(self.dir, name + ".log")
        self.enable(self.server, name, path, checkpoint_entries="5")
        self.addCleanup(self.server.request, "DELETE", "/v1/sys/audit/" + name, None, ROOT)
        for i in range(entries):
            self.server.request("POST", "/v1/secret/data/" + name, {"data": {"i": i}}, token=ROOT)
        return name, path

    def rewrite(self, path, lines):
        # In place: the server keeps appending to the same open file.
        with open(path, "r+") as f:
            f.seek(0)
            f.write("".join(l + "\n" for l in lines))
            f.truncate()

    def verify(self, *files, device=None, offline=False):
        args = ["audit", "verify"] + list(files)
        if device:
            args.append("-device=" + device)
        if offline:
            args.append("-offline")
        return self.cli(self.server, *args)

    def assert_tampered(self, r, *words):
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("TAMPERED", r.stdout)
        for w in words:
            self.assertIn(w, r.stdout)

    def test_untouched_log_passes(self):
        name, path = self.fresh_log()
        r = self.verify(path, device=name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("OK:", r.stdout)
        self.assertRegex(r.stdout, r"[1-9]\d* checkpoint signature\(s\) verified")

    def test_deleted_line(self):
        name, path = self.fresh_log()
        lines = lines_of(path)
        del lines[7]
        self.rewrite(path, lines)
        self.assert_tampered(self.verify(path, device=name), ":8:", "removed")

    def test_edited_line(self):
        name, path = self.fresh_log()
        lines = lines_of(path)
        entry = json.loads(lines[6])
        entry["request"]["remote_address"] = "10.6.6.6"
        lines[6] = json.dumps(entry, separators=(",", ":"))
        self.rewrite(path, lines)
        self.assert_tampered(self.verify(path, device=name), ":8:", "line 7 was edited")

    def test_swapped_lines(self):
        name, path = self.fresh_log()
        lines = lines_of(path)
        lines[3], lines[4] = lines[4], lines[3]
        self.rewrite(path, lines)
        self.assert_tampered(self.verify(path, device=name), ":4:", "swapped")

    def test_truncated_end(self):
        name, path = self.fresh_log()
        lines = lines_of(path)
        self.rewrite(path, lines[:-3])
        self.assert_tampered(self.verify(path, device=name), "removed")

    def test_forged_line_appended(self):
        import hashlib
        name, path = self.fresh_log()
        lines = lines_of(path)
        last = json.loads(lines[-1])
        forged = {"seq": last["seq"] + 1,
                  "prev_hash": hashlib.sha256(lines[-1].encode()).hexdigest(),
                  "type": "request", "time": last["time"],
                  "request": {"path": "secret/data/innocent", "operation": "read"}}
        with open(path, "a") as f:
            f.write(json.dumps(forged, separators=(",", ":")) + "\n")
        self.assert_tampered(self.verify(path, device=name))

    def test_forged_checkpoint_signature(self):
        name, path = self.fresh_log()
        lines = lines_of(path)
        # Re-sign nothing: rewrite the chain from a checkpoint on with a
        # fake MAC, as an attacker who can hash but not sign would.
        import hashlib
        idx = next(i for i, l in enumerate(lines) if '"checkpoint"' in l)
        out = lines[:idx]
        for l in lines[idx:]:
            e = json.loads(l)
            e["prev_hash"] = hashlib.sha256(out[-1].encode()).hexdigest()
            if e.get("type") == "checkpoint":
                e["hmac"] = "0" * 64
            # The frame last, as the device writes it.
            frame = {"seq": e.pop("seq"), "prev_hash": e.pop("prev_hash")}
            e.update(frame)
            out.append(json.dumps(e, separators=(",", ":")))
        self.rewrite(path, out)
        self.assert_tampered(self.verify(path, device=name), "signature is not valid")

    def test_rotation_by_sighup_continues_the_chain(self):
        name, path = self.fresh_log()
        rotated = path + ".1"
        os.rename(path, rotated)
        self.server.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(path), "the log to be reopened")
        self.assertIn('"reason":"rotate"', lines_of(rotated)[-1])
        for i in range(4):
            self.server.request("GET", "/v1/secret/data/" + name, token=ROOT)
        r = self.verify(rotated, path, device=name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.verify(rotated, offline=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Offline, a cut-off archive is caught by its missing final checkpoint.
        self.rewrite(rotated, lines_of(rotated)[:-2])
        self.assert_tampered(self.verify(rotated, offline=True), "removed from the end")


if __name__ == "__main__":
    unittest.main()
