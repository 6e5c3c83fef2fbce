"""`coffer debug` against the real binary: the bundle's files and index, a
.tar.gz of it, what a token without the grants gets (errors recorded, exit
0), an interrupted run, and refused flags. Nothing in a bundle holds the
token used."""

import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import unittest

import harness

FILES = ["config.json", "coffer.log", "host_info.json", "index.json", "metrics.json",
         "requests.json", "server_status.json"]


class DebugTest(harness.DevServerTest):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-debug-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def env(self, token):
        env = dict(os.environ)
        env.update({"COFFER_ADDR": self.srv.addr, "COFFER_TOKEN": token, "HOME": self.dir})
        return env

    def debug(self, *args, token=None, timeout=60):
        return subprocess.run([harness.COFFER_BIN, "debug"] + list(args), cwd=self.dir,
                              env=self.env(token or self.root), capture_output=True, text=True,
                              timeout=timeout)

    def read_bundle(self, path):
        out = {}
        for name in os.listdir(path):
            with open(os.path.join(path, name)) as f:
                out[name] = f.read()
            self.assertEqual(os.stat(os.path.join(path, name)).st_mode & 0o777, 0o600, name)
        return out

    def wait_until_streaming(self):
        """Waits for a debug run's sys/monitor stream; the run polls the
        other targets once that stream is open."""
        deadline = time.monotonic() + 30
        streaming = False
        while not streaming and time.monotonic() < deadline:
            st, body, _ = self.srv.request("GET", "/v1/sys/in-flight-req", token=self.root)
            self.assertEqual(st, 200, body)
            streaming = any(v["request_path"] == "/v1/sys/monitor" for v in body.values())
            time.sleep(0.3)  # listed in flight just before the handler subscribes
        self.assertTrue(streaming, "the debug run never opened sys/monitor")

    def test_a_bundle_directory_with_every_target(self):
        proc = subprocess.Popen([harness.COFFER_BIN, "debug", "-duration=5s", "-interval=5s",
                                 "-metrics-interval=5s", "-compress=false", "-output=b"],
                                cwd=self.dir, env=self.env(self.root), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # Mount only once the log target's stream is open (slow under the
        # sanitizers): a line logged before it subscribes is not streamed.
        self.wait_until_streaming()
        st, _, _ = self.srv.request("POST", "/v1/sys/mounts/debug-seen", {"type": "kv"},
                                    token=self.root)
        self.assertEqual(st, 204)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("Success! Bundle written to: b", out)
        files = self.read_bundle(os.path.join(self.dir, "b"))
        self.assertEqual(sorted(files), sorted(FILES))
        for text in files.values():
            self.assertNotIn(self.root, text)
        index = json.loads(files["index.json"])
        self.assertEqual(index["errors"], [])
        self.assertEqual(index["duration_seconds"], 5)
        self.assertEqual(index["vault_address"], self.srv.addr)
        self.assertEqual(index["output"]["files"], sorted(FILES))
        self.assertIn("successful mount: path=debug-seen/", files["coffer.log"])
        config = json.loads(files["config.json"])
        self.assertEqual(config[0]["config"]["storage"]["type"], "inmem")
        status = json.loads(files["server_status.json"])
        self.assertFalse(status[0]["seal"]["sealed"])
        self.assertTrue(status[0]["health"]["initialized"])
        requests = json.loads(files["requests.json"])
        paths = [r["request_path"] for r in requests[0]["in_flight_requests"].values()]
        self.assertIn("/v1/sys/in-flight-req", paths)
        self.assertIn("/v1/sys/monitor", paths)  # the log target's stream
        self.assertIn("memory", json.loads(files["host_info.json"])[0])
        self.assertIn("Gauges", json.loads(files["metrics.json"])[0])

    def test_a_compressed_bundle(self):
        r = self.debug("-duration=5s", "-target=server-status", "-target=config",
                       "-output=packed.tgz")
        self.assertEqual(r.returncode, 0, r.stderr)
        archive = os.path.join(self.dir, "packed.tgz")
        self.assertEqual(os.stat(archive).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "packed")))  # staging removed
        with tarfile.open(archive) as tar:
            names = sorted(tar.getnames())
            self.assertEqual(names, ["packed", "packed/config.json", "packed/index.json",
                                     "packed/server_status.json"])
            index = json.load(tar.extractfile("packed/index.json"))
        self.assertEqual(index["targets"], ["server-status", "config"])
        self.assertTrue(index["compress"])

    def test_a_token_without_the_grants_gets_errors_in_the_index(self):
        st, body, _ = self.srv.request("POST", "/v1/auth/token/create",
                                       {"policies": ["default"]}, token=self.root)
        self.assertEqual(st, 200, body)
        user = body["auth"]["client_token"]
        r = self.debug("-duration=5s", "-compress=false", "-output=limited", token=user)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = self.read_bundle(os.path.join(self.dir, "limited"))
        index = json.loads(files["index.json"])
        failed = {e["target"] for e in index["errors"]}
        self.assertEqual(failed, {"config", "host", "metrics", "requests", "log"})
        self.assertTrue(all("403" in e["error"] for e in index["errors"]), index["errors"])
        self.assertIn("server_status.json", files)  # unauthenticated endpoints
        for text in files.values():
            self.assertNotIn(user, text)

    def test_interrupted_run_writes_what_it_has(self):
        proc = subprocess.Popen([harness.COFFER_BIN, "debug", "-duration=10m",
                                 "-compress=false", "-output=cut"], cwd=self.dir,
                                env=self.env(self.root), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.wait_until_streaming()  # then a first poll, before the signal
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("Interrupted", err)
        files = self.read_bundle(os.path.join(self.dir, "cut"))
        self.assertEqual(len(json.loads(files["server_status.json"])), 1)

    def test_refused_flags_and_outputs(self):
        r = self.debug("-duration=soon")
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid -duration", r.stderr)
        r = self.debug("-log-format=xml")
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid -log-format", r.stderr)
        r = self.debug("-target=pprof")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Ignoring invalid targets: pprof", r.stderr)
        os.mkdir(os.path.join(self.dir, "taken"))
        r = self.debug("-compress=false", "-output=taken")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        env = self.env(self.root)
        env["COFFER_ADDR"] = "http://127.0.0.1:1"
        r = subprocess.run([harness.COFFER_BIN, "debug", "-output=none"], cwd=self.dir,
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot reach the server", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "none")))


if __name__ == "__main__":
    unittest.main()
