"""kill -9 while 32 clients write: after a restart every acknowledged write is
there, whole, and the server still serves."""

import hashlib
import json
import shutil
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import harness

CLIENTS = 32


def payload(client, seq):
    body = "client-%d-seq-%d-" % (client, seq) + "x" * (seq % 50)
    return {"body": body, "sha": hashlib.sha256(body.encode()).hexdigest()}


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-crash-")
        self.config = harness.write_config(self.dir)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_kill9_keeps_acknowledged_writes(self):
        s = harness.start_config(self.dir, self.config)
        _, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        key, root = init["keys"][0], init["root_token"]
        s.request("PUT", "/v1/sys/unseal", {"key": key})
        code, body, _ = s.request("POST", "/v1/sys/mounts/secret",
                                  {"type": "kv", "options": {"version": "1"}}, token=root)
        self.assertEqual(code, 204, body)

        acked = {}  # path -> payload, recorded only after a 2xx answer
        lock = threading.Lock()
        stop = threading.Event()

        def writer(client):
            seq = 0
            while not stop.is_set():
                path = "/v1/secret/c%d/k%d" % (client, seq % 40)
                p = payload(client, seq)
                req = urllib.request.Request(s.addr + path, data=json.dumps(p).encode(),
                                             method="POST")
                req.add_header("X-Vault-Token", root)
                try:
                    with urllib.request.urlopen(req, timeout=10) as resp:
                        if 200 <= resp.status < 300:
                            with lock:
                                acked[path] = p
                except (urllib.error.URLError, ConnectionError, OSError):
                    return  # the server is gone
                seq += 1

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        # Let the writers get going, then pull the plug mid-flight.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= CLIENTS * 40:
                    break
            time.sleep(0.05)
        s.kill9()
        stop.set()
        for t in threads:
            t.join()
        with lock:
            snapshot = dict(acked)
        self.assertGreater(len(snapshot), CLIENTS)

        s = harness.start_config(self.dir, self.config)
        try:
            code, st, _ = s.request("PUT", "/v1/sys/unseal", {"key": key})
            self.assertFalse(st["sealed"], st)
            for path, p in snapshot.items():
                code, body, _ = s.request("GET", path, token=root)
                self.assertEqual(code, 200, (path, body))
                got = body["data"]
                # The last acknowledged write is there, or a later one that was
                # in flight when the process died; never a torn value.
                self.assertEqual(hashlib.sha256(got["body"].encode()).hexdigest(), got["sha"])
                client, seq = got["body"].split("-")[1], int(got["body"].split("-")[3])
                want_seq = int(p["body"].split("-")[3])
                self.assertEqual(client, p["body"].split("-")[1])
                self.assertGreaterEqual(seq, want_seq, path)
            # And it keeps serving writes.
            code, _, _ = s.request("POST", "/v1/secret/after", {"ok": "yes"}, token=root)
            self.assertIn(code, (200, 204))
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
