"""log_requests_level and a listener's inflight_requests_logging against the
real binary: completed requests are logged with Vault's fields and never a
query string; a SIGHUP rereads the level (a broken file changes nothing);
sys/in-flight-req answers without a token only where the listener says so."""

import os
import shutil
import signal
import tempfile
import time
import unittest

import harness

CANARY = "canary-9f3e1b"


def config_text(data_dir, requests_level, open_in_flight=True, log_level="info", extra=""):
    block = ("  inflight_requests_logging {\n"
             "    unauthenticated_in_flight_requests_access = true\n  }\n"
             if open_in_flight else "") + extra
    return ('storage "local" {\n  path = "%s"\n}\n'
            'listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n%s}\n'
            'disable_mlock = true\nlog_level = "%s"\nlog_requests_level = "%s"\n'
            % (os.path.join(data_dir, "data"), block, log_level, requests_level))


class RequestLoggingTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-reqlog-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.cfg = os.path.join(self.dir, "config.hcl")

    def start(self, requests_level, open_in_flight=True):
        self.store = tempfile.mkdtemp(dir=self.dir)  # a new store each time
        with open(self.cfg, "w") as f:
            f.write(config_text(self.store, requests_level, open_in_flight))
        srv = harness.start_config(self.store, self.cfg)
        self.addCleanup(srv.cleanup)
        st, body, _ = srv.request("PUT", "/v1/sys/init",
                                  {"secret_shares": 1, "secret_threshold": 1})
        self.assertEqual(st, 200, body)
        root = body["root_token"]
        st, body, _ = srv.request("PUT", "/v1/sys/unseal", {"key": body["keys"][0]})
        self.assertEqual(st, 200, body)
        return srv, root

    def completed(self, srv, path):
        return [line for line in srv.log().splitlines()
                if "completed_request" in line and "request_path=" + path + " " in line]

    def wait_for(self, pred, what):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def test_completed_requests_logged_then_turned_off_by_sighup(self):
        srv, root = self.start("info")
        st, _, _ = srv.request("GET", "/v1/sys/health?canary=" + CANARY)
        self.assertEqual(st, 200)
        st, _, _ = srv.request("GET", "/v1/secret/data/missing", token=root)
        self.assertEqual(st, 404)
        self.wait_for(lambda: self.completed(srv, "/v1/secret/data/missing"), "the log line")
        line = self.completed(srv, "/v1/sys/health")[-1]
        for part in ("[info]", "core: completed_request start_time=", "duration=",
                     "client_address=127.0.0.1:", "status_code=200", "request_method=GET"):
            self.assertIn(part, line)
        self.assertIn("status_code=404", self.completed(srv, "/v1/secret/data/missing")[-1])
        self.assertNotIn(CANARY, srv.log())  # never the query string
        st, body, _ = srv.request("GET", "/v1/sys/config/state/sanitized", token=root)
        self.assertEqual(body["data"]["log_requests_level"], "info")

        # log_level is not reread: the view keeps "info"; nor is a listener's
        # setting, which the view keeps as the listener uses it.
        with open(self.cfg, "w") as f:
            f.write(config_text(self.store, "off", log_level="error",
                                extra="  max_request_size = 1024\n"))
        srv.proc.send_signal(signal.SIGHUP)
        self.wait_for(lambda: "configuration reloaded: log_requests_level=off" in srv.log(),
                      "the reload")
        before = len(self.completed(srv, "/v1/sys/health"))
        for _ in range(3):
            srv.request("GET", "/v1/sys/health")
        st, body, _ = srv.request("GET", "/v1/sys/config/state/sanitized", token=root)
        self.assertEqual(body["data"]["log_requests_level"], "off")
        self.assertEqual(body["data"]["log_level"], "info")  # still the level in effect
        self.assertEqual(body["data"]["listeners"][0]["config"]["max_request_size"],
                         32 * 1024 * 1024)
        time.sleep(0.3)
        self.assertEqual(len(self.completed(srv, "/v1/sys/health")), before)

        # A file that no longer parses changes nothing; the server serves on.
        with open(self.cfg, "w") as f:
            f.write(config_text(self.store, "loud"))
        srv.proc.send_signal(signal.SIGHUP)
        self.wait_for(lambda: "reloading the configuration failed" in srv.log(), "the refusal")
        self.assertIn("log_requests_level", srv.log().split("reloading the configuration failed")[1])
        st, body, _ = srv.request("GET", "/v1/sys/config/state/sanitized", token=root)
        self.assertEqual(st, 200)
        self.assertEqual(body["data"]["log_requests_level"], "off")

    def test_in_flight_without_a_token_only_where_the_listener_allows(self):
        srv, root = self.start("off", open_in_flight=True)
        st, body, _ = srv.request("GET", "/v1/sys/in-flight-req")
        self.assertEqual(st, 200, body)
        mine = [v for v in body.values() if v["request_path"] == "/v1/sys/in-flight-req"]
        self.assertEqual(len(mine), 1, body)
        self.assertEqual(mine[0]["request_method"], "GET")
        st, _, _ = srv.request("POST", "/v1/sys/in-flight-req")  # only reads are opened
        self.assertNotEqual(st, 200)
        # With CORS on, the listener's own answer carries its headers too.
        app = "http://app.example:3000"
        st, body, _ = srv.request("POST", "/v1/sys/config/cors",
                                  {"allowed_origins": [app]}, token=root)
        self.assertEqual(st, 204, body)
        st, _, headers = srv.request("GET", "/v1/sys/in-flight-req", headers={"Origin": app})
        self.assertEqual(st, 200)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), app)
        srv.stop()

        srv, root = self.start("off", open_in_flight=False)
        st, _, _ = srv.request("GET", "/v1/sys/in-flight-req")
        self.assertEqual(st, 403)
        st, body, _ = srv.request("GET", "/v1/sys/in-flight-req", token=root)
        self.assertEqual(st, 200, body)


if __name__ == "__main__":
    unittest.main()
