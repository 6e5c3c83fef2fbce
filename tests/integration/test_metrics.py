"""sys/metrics against the real server: authentication (and the listener's
unauthenticated_metrics_access), Prometheus text and JSON formats, exact
request counts, the audit failure counter, seal-state gauges, and that no
secret written in the session ever appears in a scrape."""

import json
import os
import shutil
import socket
import tempfile
import unittest
import urllib.error
import urllib.request
import uuid

import harness

ROOT = "metrics-root-" + uuid.uuid4().hex
KV_GETS = 'coffer_http_requests_total{code="%s",family="kv",method="GET"}'


def scrape(server, token=None, query="?format=prometheus", headers=None):
    """Returns (status, body text, headers) of GET /v1/sys/metrics."""
    req = urllib.request.Request(server.addr + "/v1/sys/metrics" + query, method="GET")
    if token:
        req.add_header("X-Vault-Token", token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


def parse_text(text):
    """Prometheus text exposition -> ({"name{labels}": value}, {name: type})."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        samples[key] = float(value)
    return samples, types


class DevMetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def metrics(self):
        status, text, headers = scrape(self.server, ROOT)
        self.assertEqual(status, 200, text)
        return parse_text(text)[0]

    def test_needs_a_token_with_read_on_sys_metrics(self):
        status, body, _ = scrape(self.server)
        self.assertEqual(status, 403, body)
        st, created, _ = self.server.request("POST", "/v1/auth/token/create",
                                             {"policies": ["default"]}, token=ROOT)
        self.assertEqual(st, 200, created)
        default_token = created["auth"]["client_token"]
        status, body, _ = scrape(self.server, default_token)
        self.assertEqual(status, 403, body)
        status, body, _ = scrape(self.server, default_token, query="")
        self.assertEqual(status, 403, body)
        # A policy granting read on sys/metrics is enough.
        st, _, _ = self.server.request("PUT", "/v1/sys/policies/acl/scraper",
                                       {"policy": 'path "sys/metrics" { capabilities = ["read"] }'},
                                       token=ROOT)
        self.assertEqual(st, 204)
        st, created, _ = self.server.request("POST", "/v1/auth/token/create",
                                             {"policies": ["scraper"]}, token=ROOT)
        status, body, _ = scrape(self.server, created["auth"]["client_token"])
        self.assertEqual(status, 200, body)

    def test_prometheus_text(self):
        status, text, headers = scrape(self.server, ROOT)
        self.assertEqual(status, 200, text)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertIn("# TYPE coffer_http_requests_total counter", text)
        self.assertIn("# TYPE coffer_http_request_duration_seconds histogram", text)
        samples, types = parse_text(text)
        self.assertEqual(samples["coffer_core_unsealed"], 1)
        self.assertEqual(samples["coffer_core_initialized"], 1)
        self.assertIn("coffer_expire_num_leases", samples)
        self.assertGreater(samples["coffer_process_resident_memory_bytes"], 1 << 20)
        self.assertGreater(samples["coffer_process_open_fds"], 0)
        self.assertGreater(samples["coffer_process_start_time_seconds"], 1.6e9)
        self.assertGreater(samples['coffer_barrier_operations_total{op="get"}'], 0)
        self.assertEqual(types["coffer_barrier_operations_total"], "counter")

    def test_accept_header_selects_prometheus(self):
        status, text, headers = scrape(self.server, ROOT, query="",
                                       headers={"Accept": "text/plain; version=0.0.4"})
        self.assertEqual(status, 200, text)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"), headers)
        self.assertIn("# TYPE coffer_http_requests_total counter", text)

    def test_kv_reads_are_counted_exactly(self):
        s = self.server
        st, body, _ = s.request("POST", "/v1/secret/data/metrics-count", {"data": {"a": "b"}},
                                token=ROOT)
        self.assertEqual(st, 200, body)
        before = self.metrics()
        n = 7
        for _ in range(n):
            st, body, _ = s.request("GET", "/v1/secret/data/metrics-count", token=ROOT)
            self.assertEqual(st, 200, body)
        after = self.metrics()
        self.assertEqual(after[KV_GETS % "200"] - before.get(KV_GETS % "200", 0), n)
        count = 'coffer_http_request_duration_seconds_count{family="kv"}'
        self.assertGreaterEqual(after[count] - before.get(count, 0), n)

    def test_not_found_is_counted_under_its_code(self):
        before = self.metrics()
        st, _, _ = self.server.request("GET", "/v1/secret/data/metrics-missing", token=ROOT)
        self.assertEqual(st, 404)
        after = self.metrics()
        self.assertEqual(after[KV_GETS % "404"] - before.get(KV_GETS % "404", 0), 1)

    def test_http_layer_refusals_are_counted(self):
        """Answers given before the core (malformed framing, a rate-limit
        quota, a body that is not JSON) count in coffer_http_refused_total,
        one each, by reason and code."""
        s = self.server
        framing = 'coffer_http_refused_total{code="400",reason="framing"}'
        limited = 'coffer_http_refused_total{code="429",reason="rate_limit"}'
        request = 'coffer_http_refused_total{code="400",reason="request"}'
        st, body, _ = s.request("POST", "/v1/sys/quotas/rate-limit/metrics-refusals",
                                {"path": "secret/data/metrics-refused", "rate": 1,
                                 "interval": "1h"}, token=ROOT)
        self.assertIn(st, (200, 204), body)
        try:
            before = self.metrics()
            # Two Content-Length headers: ambiguous framing.
            host, port = s.addr.split("//", 1)[1].rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as c:
                c.sendall(b"POST /v1/sys/health HTTP/1.1\r\nHost: t\r\n"
                          b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab")
                self.assertIn(b" 400 ", c.recv(4096).split(b"\r\n", 1)[0] + b" ")
            codes = [s.request("GET", "/v1/secret/data/metrics-refused", token=ROOT)[0]
                     for _ in range(2)]
            self.assertEqual(codes, [404, 429])
            req = urllib.request.Request(s.addr + "/v1/secret/data/metrics-bad-json",
                                         data=b"{not json", method="POST",
                                         headers={"X-Vault-Token": ROOT})
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(req, timeout=30)
            self.assertEqual(e.exception.code, 400)
            after = self.metrics()
            for name in (framing, limited, request):
                self.assertEqual(after.get(name, 0) - before.get(name, 0), 1, name)
            # The core never saw them: no 429 or 400 under the kv family.
            for code in ("400", "429"):
                self.assertEqual(after.get(KV_GETS % code, 0), before.get(KV_GETS % code, 0))
        finally:
            s.request("DELETE", "/v1/sys/quotas/rate-limit/metrics-refusals", token=ROOT)

    def test_json_format(self):
        status, text, headers = scrape(self.server, ROOT, query="")
        self.assertEqual(status, 200, text)
        self.assertTrue(headers["Content-Type"].startswith("application/json"), headers)
        body = json.loads(text)
        for key in ("Timestamp", "Gauges", "Counters", "Samples", "Points"):
            self.assertIn(key, body)
        gauges = {g["Name"]: g for g in body["Gauges"]}
        self.assertEqual(gauges["coffer_core_unsealed"]["Value"], 1)
        self.assertEqual(set(gauges["coffer_core_unsealed"]), {"Name", "Value", "Labels"})
        counter = body["Counters"][0]
        self.assertEqual(set(counter), {"Name", "Count", "Rate", "Sum", "Min", "Max", "Mean",
                                        "Stddev", "Labels"})
        self.assertTrue(body["Samples"], "request durations")
        self.assertEqual(set(body["Samples"][0]), set(counter))

    def test_bad_format_is_refused(self):
        status, text, _ = scrape(self.server, ROOT, query="?format=xml")
        self.assertEqual(status, 400, text)
        self.assertIn("format", json.loads(text)["errors"][0])

    def test_no_secret_in_any_scrape(self):
        s = self.server
        canary = "canary-" + uuid.uuid4().hex
        path = "canarypath-" + uuid.uuid4().hex[:8]
        st, _, _ = s.request("POST", "/v1/secret/data/" + path, {"data": {"v": canary}},
                             token=ROOT)
        self.assertEqual(st, 200)
        st, body, _ = s.request("GET", "/v1/secret/data/" + path, token=ROOT)
        self.assertEqual(body["data"]["data"]["v"], canary)
        st, created, _ = s.request("POST", "/v1/auth/token/create", {"policies": ["default"]},
                                   token=ROOT)
        child = created["auth"]["client_token"]
        accessor = created["auth"]["accessor"]
        s.request("GET", "/v1/secret/data/" + path, token=child)  # 403
        for query in ("?format=prometheus", ""):
            status, text, _ = scrape(s, ROOT, query=query)
            self.assertEqual(status, 200)
            for needle in (canary, path, ROOT, child, accessor):
                self.assertNotIn(needle, text)

    def test_audit_failure_is_counted(self):
        s = self.server
        d = tempfile.mkdtemp(prefix="coffer-metrics-audit-")
        self.addCleanup(shutil.rmtree, d, True)
        logdir = os.path.join(d, "logs")
        os.mkdir(logdir)
        st, body, _ = s.request("PUT", "/v1/sys/audit/metricsfile",
                                {"type": "file",
                                 "options": {"file_path": os.path.join(logdir, "audit.log")}},
                                token=ROOT)
        self.assertEqual(st, 204, body)
        self.addCleanup(s.request, "DELETE", "/v1/sys/audit/metricsfile", None, ROOT)
        before = self.metrics()
        shutil.rmtree(logdir)
        st, body, _ = s.request("GET", "/v1/secret/data/anything", token=ROOT)
        self.assertEqual(st, 500, body)  # fails closed
        os.mkdir(logdir)  # the device reopens on its next write
        after = self.metrics()
        self.assertEqual(after["coffer_audit_log_request_failures_total"]
                         - before["coffer_audit_log_request_failures_total"], 1)
        failed = 'coffer_audit_device_write_failures_total{type="file"}'
        self.assertGreaterEqual(after[failed] - before[failed], 1)
        written = 'coffer_audit_device_writes_total{type="file"}'
        self.assertGreater(after[written], before[written])  # the scrapes were audited


class UnauthenticatedMetricsTest(unittest.TestCase):
    """A config-file server whose listener allows unauthenticated scrapes,
    with Prometheus turned off by prometheus_retention_time = 0."""

    def test_served_without_token_while_sealed_and_after_unseal(self):
        data_dir = tempfile.mkdtemp(prefix="coffer-metrics-it-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        config = harness.write_config(
            data_dir, extra_listener="  telemetry {\n    unauthenticated_metrics_access = true\n"
                                     "  }\n")
        with open(config, "a") as f:
            f.write('telemetry {\n  prometheus_retention_time = "0s"\n'
                    '  disable_hostname = true\n}\n')
        s = harness.start_config(data_dir=data_dir, config_path=config)
        self.addCleanup(s.cleanup)

        def gauges():
            status, text, _ = scrape(s, query="")
            self.assertEqual(status, 200, text)
            return {g["Name"]: g["Value"] for g in json.loads(text)["Gauges"]}

        g = gauges()
        self.assertEqual(g["coffer_core_initialized"], 0)
        self.assertEqual(g["coffer_core_unsealed"], 0)
        self.assertNotIn("coffer_expire_num_leases", g)
        status, text, _ = scrape(s)
        self.assertEqual(status, 400, text)
        self.assertIn("prometheus is not enabled", text)

        st, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(st, 200, init)
        g = gauges()
        self.assertEqual(g["coffer_core_initialized"], 1)
        self.assertEqual(g["coffer_core_unsealed"], 0)
        st, body, _ = s.request("PUT", "/v1/sys/unseal", {"key": init["keys"][0]})
        self.assertEqual(st, 200, body)
        g = gauges()
        self.assertEqual(g["coffer_core_unsealed"], 1)
        self.assertIn("coffer_expire_num_leases", g)
        # Other sys paths still need a token.
        st, _, _ = s.request("GET", "/v1/sys/mounts")
        self.assertEqual(st, 403)
        status, text, _ = scrape(s, query="")
        self.assertNotIn(init["root_token"], text)
        self.assertNotIn(init["keys"][0], text)


if __name__ == "__main__":
    unittest.main()
