"""Change events: SSE subscriptions, ACL filtering, webhooks, KV rotation.

Runs the real binary (COFFER_BIN). Every received byte is checked for the
canary secret value, which must never leave the server in an event.
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import statistics
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness

CANARY = "canary-7f3a9c1e-never-in-an-event"


class SseClient:
    """Reads a text/event-stream in a background thread."""

    def __init__(self, server, event_type, token, prefix=None):
        u = urllib.parse.urlparse(server.addr)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        path = "/v1/sys/events/subscribe/" + event_type
        if prefix:
            path += "?prefix=" + urllib.parse.quote(prefix)
        self.conn.request("GET", path, headers={"X-Vault-Token": token})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.raw = []        # every line received
        self.events = []     # (monotonic time, parsed event)
        self.cv = threading.Condition()
        self.closed = False
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                now = time.monotonic()
                text = line.decode()
                with self.cv:
                    self.raw.append(text)
                    if text.startswith("data: "):
                        self.events.append((now, json.loads(text[6:])))
                    self.cv.notify_all()
        except (OSError, ValueError):
            pass
        with self.cv:
            self.closed = True
            self.cv.notify_all()

    def wait_for(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return True

    def all_text(self):
        with self.cv:
            return "".join(self.raw)

    def close(self):
        self.conn.close()


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with scripted statuses."""

    def __init__(self, statuses=None):
        self.calls = []
        self.statuses = list(statuses or [])
        self.cv = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.cv:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.calls.append((dict(self.headers), body, status))
                    outer.cv.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return True

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def signature_ok(secret, headers, body):
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Coffer-Signature", ""), want)


class EventsTest(harness.DevServerTest):
    def req(self, method, path, body=None, token=None):
        return self.srv.request(method, path, body, token=token or self.root)

    def token_with(self, name, hcl):
        st, _, _ = self.req("PUT", "/v1/sys/policies/acl/" + name, {"policy": hcl})
        self.assertIn(st, (200, 204))
        st, body, _ = self.req("POST", "/v1/auth/token/create", {"policies": [name]})
        self.assertEqual(st, 200, body)
        return body["auth"]["client_token"]

    def test_write_event_within_100ms_and_never_the_value(self):
        sse = SseClient(self.srv, "kv-v2/*", self.root)
        self.assertEqual(sse.status, 200)
        self.assertEqual(sse.resp.getheader("Content-Type"), "text/event-stream")
        latencies = []
        try:
            for i in range(20):
                n = len(sse.events)
                t0 = time.monotonic()
                st, body, _ = self.req("POST", "/v1/secret/data/latency",
                                       {"data": {"password": CANARY, "i": i}})
                self.assertEqual(st, 200, body)
                self.assertTrue(sse.wait_for(lambda: len(sse.events) > n), "no event")
                latencies.append(sse.events[n][0] - t0)
                ev = sse.events[n][1]
                self.assertEqual(ev["type"], "kv-v2/data-write")
                self.assertEqual(ev["data"]["event_type"], "kv-v2/data-write")
                md = ev["data"]["event"]["metadata"]
                self.assertEqual(md["path"], "secret/data/latency")
                self.assertEqual(md["current_version"], str(body["data"]["version"]))
                self.assertEqual(ev["data"]["plugin_info"]["mount_path"], "secret/")
            # Other operations publish too.
            self.req("DELETE", "/v1/secret/data/latency")
            self.req("POST", "/v1/secret/undelete/latency", {"versions": [20]})
            self.req("POST", "/v1/secret/destroy/latency", {"versions": [1]})
            self.req("DELETE", "/v1/secret/metadata/latency")
            self.assertTrue(sse.wait_for(lambda: len(sse.events) >= 24))
            types = [e["type"] for _, e in sse.events[20:24]]
            self.assertEqual(types, ["kv-v2/data-delete", "kv-v2/undelete", "kv-v2/destroy",
                                     "kv-v2/metadata-delete"])
        finally:
            sse.close()
        self.assertNotIn(CANARY, sse.all_text())
        print("\nevent latency (write start -> event received, ms): median %.1f, max %.1f"
              % (statistics.median(latencies) * 1000, max(latencies) * 1000))
        self.assertLess(max(latencies), 0.100)

    def test_token_without_subscribe_permission_gets_403(self):
        tok = self.token_with("no-events", 'path "secret/data/*" { capabilities = ["read"] }')
        sse = SseClient(self.srv, "kv-v2/*", tok)
        self.assertEqual(sse.status, 403)
        sse.close()
        sse = SseClient(self.srv, "kv-v2/*", "not-a-token")
        self.assertEqual(sse.status, 403)
        sse.close()

    def test_events_filtered_by_read_on_the_path(self):
        tok = self.token_with("events-app", """
            path "sys/events/subscribe/*" { capabilities = ["read"] }
            path "secret/data/allowed/*" { capabilities = ["read"] }
        """)
        sse = SseClient(self.srv, "kv-v2/*", tok)
        self.assertEqual(sse.status, 200)
        try:
            self.req("POST", "/v1/secret/data/denied/x", {"data": {"v": CANARY}})
            self.req("POST", "/v1/secret/data/allowed/y", {"data": {"v": CANARY}})
            self.assertTrue(sse.wait_for(lambda: len(sse.events) >= 1))
            # Events arrive in order: had the denied one been delivered, it
            # would be first.
            paths = [e["data"]["event"]["metadata"]["path"] for _, e in sse.events]
            self.assertEqual(paths, ["secret/data/allowed/y"])
        finally:
            sse.close()
        self.assertNotIn(CANARY, sse.all_text())
        self.assertNotIn("denied", sse.all_text())

    def test_subscribe_capability_lets_the_listed_event_types_through(self):
        # Vault 1.16's policy shape: subscribe with subscribe_event_types on
        # the data path, no read on it.
        tok = self.token_with("events-subscribe", """
            path "sys/events/subscribe/*" { capabilities = ["read"] }
            path "secret/data/sub/*" {
              capabilities = ["list", "subscribe"]
              subscribe_event_types = ["kv-v2/data-write"]
            }
        """)
        st, _, _ = self.req("GET", "/v1/secret/data/sub/x", token=tok)
        self.assertEqual(st, 403)  # subscribe grants no read
        sse = SseClient(self.srv, "kv-v2/*", tok)
        self.assertEqual(sse.status, 200)
        try:
            self.req("POST", "/v1/secret/data/other/x", {"data": {"v": CANARY}})
            self.req("POST", "/v1/secret/data/sub/x", {"data": {"v": CANARY}})
            self.req("DELETE", "/v1/secret/data/sub/x")  # kv-v2/data-delete: not listed
            self.req("POST", "/v1/secret/data/sub/y", {"data": {"v": CANARY}})
            self.assertTrue(sse.wait_for(lambda: len(sse.events) >= 2))
            got = [(e["type"], e["data"]["event"]["metadata"]["path"]) for _, e in sse.events]
            self.assertEqual(got, [("kv-v2/data-write", "secret/data/sub/x"),
                                   ("kv-v2/data-write", "secret/data/sub/y")])
        finally:
            sse.close()
        self.assertNotIn(CANARY, sse.all_text())

    def test_disabled_entity_ends_the_stream_and_group_policies_count(self):
        # A userpass login: the token has an entity. Read on the path comes
        # from the entity's group only, as it would for a request.
        self.req("POST", "/v1/sys/auth/ev-users", {"type": "userpass"})
        self.req("PUT", "/v1/sys/policies/acl/ev-sub",
                 {"policy": 'path "sys/events/subscribe/*" { capabilities = ["read"] }'})
        self.req("PUT", "/v1/sys/policies/acl/ev-read",
                 {"policy": 'path "secret/data/ev-group/*" { capabilities = ["read"] }'})
        st, _, _ = self.req("POST", "/v1/auth/ev-users/users/evan",
                            {"password": "pw", "token_policies": "ev-sub"})
        self.assertEqual(st, 204)
        st, login, _ = self.req("POST", "/v1/auth/ev-users/login/evan", {"password": "pw"})
        self.assertEqual(st, 200, login)
        tok = login["auth"]["client_token"]
        entity = login["auth"]["entity_id"]
        st, body, _ = self.req("POST", "/v1/identity/group",
                               {"name": "ev-readers", "policies": ["ev-read"],
                                "member_entity_ids": [entity]})
        self.assertIn(st, (200, 204), body)
        sse = SseClient(self.srv, "kv-v2/*", tok)
        self.assertEqual(sse.status, 200)
        try:
            self.req("POST", "/v1/secret/data/ev-group/one", {"data": {"v": 1}})
            self.assertTrue(sse.wait_for(lambda: len(sse.events) >= 1))
            st, _, _ = self.req("POST", "/v1/identity/entity/id/" + entity, {"disabled": True})
            self.assertIn(st, (200, 204))
            self.req("POST", "/v1/secret/data/ev-group/two", {"data": {"v": 2}})
            self.assertTrue(sse.wait_for(lambda: sse.closed))
            paths = [e["data"]["event"]["metadata"]["path"] for _, e in sse.events]
            self.assertEqual(paths, ["secret/data/ev-group/one"])
        finally:
            sse.close()

    def test_expired_token_ends_a_quiet_stream(self):
        # No matching event ever arrives: the keepalive checks the token.
        self.req("PUT", "/v1/sys/policies/acl/ev-quiet",
                 {"policy": 'path "sys/events/subscribe/*" { capabilities = ["read"] }'})
        st, body, _ = self.req("POST", "/v1/auth/token/create",
                               {"policies": ["ev-quiet"], "ttl": "2s"})
        self.assertEqual(st, 200, body)
        sse = SseClient(self.srv, "kv-v2/*", body["auth"]["client_token"],
                        prefix="secret/data/nothing-ever")
        self.assertEqual(sse.status, 200)
        try:
            # The keepalive comes every 15 s; the stream ends at the first
            # one after the token expired.
            self.assertTrue(sse.wait_for(lambda: sse.closed, timeout=40))
        finally:
            sse.close()

    def test_prefix_and_security_events(self):
        sse = SseClient(self.srv, "*", self.root, prefix="secret/data/pfx")
        sec = SseClient(self.srv, "coffer/*", self.root)
        try:
            self.req("POST", "/v1/secret/data/other", {"data": {"v": 1}})
            self.req("POST", "/v1/secret/data/pfx/a", {"data": {"v": 1}})
            self.assertTrue(sse.wait_for(lambda: len(sse.events) >= 1))
            self.assertEqual(sse.events[0][1]["data"]["event"]["metadata"]["path"],
                             "secret/data/pfx/a")
            st, _, _ = self.srv.request("GET", "/v1/secret/data/pfx/a", token="bogus")
            self.assertEqual(st, 403)
            self.assertTrue(sec.wait_for(
                lambda: any(e["type"] == "coffer/permission-denied" for _, e in sec.events)))
            denied = [e for _, e in sec.events if e["type"] == "coffer/permission-denied"][0]
            self.assertEqual(denied["data"]["event"]["metadata"]["path"], "secret/data/pfx/a")
            self.assertNotIn("bogus", sec.all_text())
        finally:
            sse.close()
            sec.close()

    def cli_subscribe(self, token, *args):
        return self.cli(token, "events", "subscribe", *args)

    def cli(self, token, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update(COFFER_ADDR=self.srv.addr, COFFER_TOKEN=token)
        proc = subprocess.Popen([harness.COFFER_BIN] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(proc.stdout.close)
        return proc

    def test_cli_subscribe_prints_one_json_line_per_event(self):
        proc = self.cli_subscribe(self.root, "-timeout=6s", "-prefix=secret/data/cli-a",
                                  "kv-v2/*")
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        # Write until the subscription is in place and the first event shows.
        deadline = time.monotonic() + 5
        while not lines and time.monotonic() < deadline:
            self.req("POST", "/v1/secret/data/cli-b", {"data": {"pw": CANARY}})
            self.req("POST", "/v1/secret/data/cli-a", {"data": {"pw": CANARY}})
            time.sleep(0.2)
        self.assertEqual(proc.wait(timeout=30), 0, proc.stderr.read())
        reader.join(timeout=5)
        self.assertTrue(lines, "no event printed")
        for line in lines:
            self.assertNotIn(CANARY, line)
            ev = json.loads(line)
            self.assertEqual(ev["type"], "kv-v2/data-write")
            self.assertEqual(ev["data"]["event"]["metadata"]["path"], "secret/data/cli-a")

    def test_cli_subscribe_refused_and_bad_arguments(self):
        tok = self.token_with("no-events-cli", 'path "secret/data/*" { capabilities = ["read"] }')
        proc = self.cli_subscribe(tok, "kv-v2/*")
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(out, "")
        self.assertIn("Code: 403", err)
        self.assertIn("permission denied", err)
        self.assertNotIn(tok, err)
        for args, text in ((["-timeout=0s", "*"], "invalid -timeout"),
                           ([], "Not enough arguments")):
            proc = self.cli_subscribe(self.root, *args)
            _, err = proc.communicate(timeout=30)
            self.assertEqual(proc.returncode, 1, err)
            self.assertIn(text, err)

    def test_monitor_streams_log_lines_at_the_level_asked(self):
        # The server logs at info; a monitor at debug also gets debug lines
        # (a lease revocation), which the server's own output does not show.
        proc = self.cli(self.root, "monitor", "-log-level=debug")
        lines = []
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
        try:
            deadline = time.monotonic() + 10
            n = 0
            while time.monotonic() < deadline and not any("mon-%d/" % n in l for l in lines):
                n += 1
                self.req("POST", "/v1/sys/mounts/mon-%d" % n, {"type": "kv"})
                time.sleep(0.2)
            self.assertTrue(any("core: successful mount: path=mon-%d/ type=kv" % n in l
                                for l in lines), lines)
            st, body, _ = self.req("POST", "/v1/auth/token/create", {"ttl": "1h"})
            self.assertEqual(st, 200, body)
            st, _, _ = self.req("PUT", "/v1/sys/leases/revoke-prefix/auth/token/create?sync=true")
            self.assertIn(st, (200, 204))
            wait = time.monotonic() + 10
            while time.monotonic() < wait and not any("[debug]" in l for l in lines):
                time.sleep(0.1)
            debug = [l for l in lines if "[debug] expiration: revoked lease" in l]
            self.assertTrue(debug, lines)
            self.assertNotIn("[debug]", self.srv.log())
            self.assertNotIn(body["auth"]["client_token"], "".join(lines))
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    def test_monitor_refuses_bad_parameters_and_tokens_without_read(self):
        for query, text in (("log_level=loud", "unknown log level"),
                            ("log_format=xml", "unknown log format")):
            st, body, _ = self.req("GET", "/v1/sys/monitor?" + query)
            self.assertEqual(st, 400, body)
            self.assertIn(text, body["errors"][0])
        tok = self.token_with("no-monitor", 'path "sys/events/*" { capabilities = ["read"] }')
        st, _, _ = self.req("GET", "/v1/sys/monitor", token=tok)
        self.assertEqual(st, 403)
        st, _, _ = self.req("GET", "/v1/sys/monitor", token="not-a-token")
        self.assertEqual(st, 403)

    def test_monitor_ends_when_the_token_is_revoked(self):
        tok = self.token_with("monitor", 'path "sys/monitor" { capabilities = ["read"] }')
        u = urllib.parse.urlparse(self.srv.addr)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("GET", "/v1/sys/monitor?log_format=json", headers={"X-Vault-Token": tok})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/plain"))
        self.req("POST", "/v1/auth/token/tidy")  # logs "token: tidy started"
        first = json.loads(resp.readline())
        self.assertEqual(first["@level"], "info")
        self.assertIn("tidy", first["@message"])
        st, _, _ = self.req("POST", "/v1/auth/token/revoke", {"token": tok})
        self.assertEqual(st, 204)
        # The next line (or the 15 s liveness check) finds the token gone.
        self.req("POST", "/v1/sys/mounts/mon-end", {"type": "kv"})
        t0 = time.monotonic()
        rest = resp.read()  # returns when the server closes the stream
        self.assertLess(time.monotonic() - t0, 30)
        self.assertNotIn(b"mon-end", rest)
        conn.close()

    def test_an_open_monitor_is_listed_in_flight_until_it_ends(self):
        u = urllib.parse.urlparse(self.srv.addr)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("GET", "/v1/sys/monitor?log_level=debug",
                     headers={"X-Vault-Token": self.root})
        mine = "%s:%d" % conn.sock.getsockname()[:2]
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        st, body, _ = self.req("GET", "/v1/sys/in-flight-req")
        self.assertEqual(st, 200, body)
        listed = {v["request_path"]: v for v in body.values()}
        self.assertIn("/v1/sys/in-flight-req", listed)  # the asking request
        monitor = listed["/v1/sys/monitor"]  # no query string
        self.assertEqual(monitor["request_method"], "GET")
        self.assertEqual(monitor["client_remote_address"], mine)
        self.assertTrue(monitor["start_time"].endswith("Z"))
        resp.close()
        conn.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            # The server sees the closed socket when it next writes a log
            # line to it; each request here logs one at debug.
            st, body, _ = self.req("GET", "/v1/sys/in-flight-req")
            if not any(v["client_remote_address"] == mine for v in body.values()):
                break
            time.sleep(0.1)
        self.assertFalse(any(v["client_remote_address"] == mine for v in body.values()), body)
        # A token without read on the path is refused.
        tok = self.token_with("no-in-flight", 'path "sys/monitor" { capabilities = ["read"] }')
        st, _, _ = self.req("GET", "/v1/sys/in-flight-req", token=tok)
        self.assertEqual(st, 403)

    def test_webhook_gets_a_signed_body(self):
        rx = Receiver()
        try:
            st, _, _ = self.req("PUT", "/v1/sys/events/webhooks/ci", {
                "url": rx.url, "event_types": ["kv-v2/data-write"],
                "path_prefix": "secret/data/hooked", "secret": "hook-secret"})
            self.assertIn(st, (200, 204))
            st, body, _ = self.req("GET", "/v1/sys/events/webhooks/ci")
            self.assertEqual(st, 200)
            self.assertNotIn("hook-secret", json.dumps(body))
            self.assertTrue(body["data"]["has_secret"])
            st, body, _ = self.req("LIST", "/v1/sys/events/webhooks")
            self.assertEqual(body["data"]["keys"], ["ci"])
            self.req("POST", "/v1/secret/data/unhooked", {"data": {"v": CANARY}})
            self.req("POST", "/v1/secret/data/hooked", {"data": {"v": CANARY}})
            self.assertTrue(rx.wait_for(lambda: len(rx.calls) >= 1))
            headers, raw, _ = rx.calls[0]
            self.assertTrue(signature_ok("hook-secret", headers, raw))
            self.assertFalse(signature_ok("wrong", headers, raw))
            ev = json.loads(raw)
            self.assertEqual(ev["data"]["event"]["metadata"]["path"], "secret/data/hooked")
            self.assertNotIn(CANARY, raw.decode())
            st, _, _ = self.req("DELETE", "/v1/sys/events/webhooks/ci")
            self.assertIn(st, (200, 204))
            st, _, _ = self.req("GET", "/v1/sys/events/webhooks/ci")
            self.assertEqual(st, 404)
        finally:
            rx.stop()

    def test_kv_rotation_webhook_fails_then_succeeds(self):
        rx = Receiver(statuses=[500, 200])
        sse = SseClient(self.srv, "coffer/kv-rotate*", self.root)
        try:
            st, _, _ = self.req("POST", "/v1/secret/data/rotated",
                                {"data": {"password": CANARY, "user": "app"}})
            self.assertEqual(st, 200)
            st, body, _ = self.req("PUT", "/v1/secret/rotation/rotated", {
                "rotation_period": "1s", "fields": {"password": {"generator": "hex32"}},
                "webhook_url": rx.url, "webhook_secret": "rot-secret"})
            self.assertIn(st, (200, 204), body)
            # First slot: the webhook answers 500, the old version stays.
            self.assertTrue(rx.wait_for(lambda: len(rx.calls) >= 1))
            self.assertTrue(sse.wait_for(lambda: len(sse.events) >= 1))
            self.assertEqual(sse.events[0][1]["type"], "coffer/kv-rotate-failed")
            st, body, _ = self.req("GET", "/v1/secret/rotation/rotated")
            self.assertGreaterEqual(body["data"]["failures"], 1)
            self.assertEqual(body["data"]["last_error"], "webhook answered HTTP 500")
            # Second slot: 200, the pending version becomes current.
            self.assertTrue(rx.wait_for(lambda: len(rx.calls) >= 2))
            self.assertTrue(sse.wait_for(
                lambda: any(e["type"] == "coffer/kv-rotate" for _, e in sse.events)))
            st, body, _ = self.req("GET", "/v1/secret/data/rotated")
            # The period is 1s: later slots may have rotated again already.
            self.assertGreaterEqual(body["data"]["metadata"]["version"], 2)
            self.assertNotEqual(body["data"]["data"]["password"], CANARY)
            self.assertEqual(body["data"]["data"]["user"], "app")
            for headers, raw, _ in rx.calls[:2]:
                self.assertTrue(signature_ok("rot-secret", headers, raw))
                self.assertNotIn(CANARY, raw.decode())
                self.assertNotIn(body["data"]["data"]["password"], raw.decode())
            self.assertEqual(json.loads(rx.calls[1][1])["version"], 2)
            st, body, _ = self.req("DELETE", "/v1/secret/rotation/rotated")
            self.assertIn(st, (200, 204))
        finally:
            rx.stop()
            sse.close()
        self.assertNotIn(CANARY, sse.all_text())


if __name__ == "__main__":
    unittest.main()
