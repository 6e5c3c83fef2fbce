"""The coffer binary as an operator meets it: config errors, dev mode, clean
shutdown on SIGTERM, TLS listeners, and the operator CLI against a real
server."""

import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness


def run_cli(args, addr, stdin=None, token=None, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
    env["COFFER_ADDR"] = addr
    env["HOME"] = tempfile.gettempdir()
    if token:
        env["COFFER_TOKEN"] = token
    env.update(extra_env or {})
    return subprocess.run([harness.COFFER_BIN] + args, input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


class ConfigErrorTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-cfg-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_with(self, text):
        path = os.path.join(self.dir, "bad.hcl")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run([harness.COFFER_BIN, "server", "-config=" + path],
                              capture_output=True, text=True, timeout=30)

    def test_bad_config_names_file_line_and_key(self):
        r = self.start_with('storage "inmem" {}\n\nlistener "tcp" {\n  address = "127.0.0.1:0"\n'
                            '  tls_min_version = "tls99"\n}\n')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.hcl:5", r.stderr)
        self.assertIn("tls_min_version", r.stderr)

    def test_unknown_key_and_syntax_error(self):
        r = self.start_with('storage "inmem" {}\nlistener "tcp" { tls_disable = true }\nbogus = 1\n')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bogus", r.stderr)
        r = self.start_with('storage "inmem" {\n')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.hcl", r.stderr)

    def test_missing_config(self):
        r = subprocess.run([harness.COFFER_BIN, "server"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("-config", r.stderr)


class VaultConfigKeysTest(unittest.TestCase):
    """Keys of Vault's configuration: the ones that act (cluster_name,
    pid_file), the ones that are read but change nothing here (warned at
    start), and a seal block, which is refused rather than ignored."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-cfg-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def config(self, extra):
        path = harness.write_config(self.dir)
        with open(path, "a") as f:
            f.write(extra)
        return path

    def test_seal_block_is_refused(self):
        path = self.config('seal "transit" {\n  address = "https://127.0.0.1:1"\n'
                           '  key_name = "autounseal"\n}\n')
        r = subprocess.run([harness.COFFER_BIN, "server", "-config=" + path],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn('seal "transit"', r.stderr)
        self.assertIn("config.hcl:", r.stderr)
        self.assertIn("Shamir", r.stderr)

    def test_pid_file_cluster_name_and_ineffective_keys(self):
        pid_path = os.path.join(self.dir, "coffer.pid")
        path = self.config('pid_file = "%s"\ncluster_name = "docs-cluster"\nui = true\n'
                           'api_addr = "https://127.0.0.1:8200"\n' % pid_path)
        s = harness.start_config(data_dir=self.dir, config_path=path)
        try:
            with open(pid_path) as f:
                self.assertEqual(f.read(), "%d\n" % s.proc.pid)
            self.assertIn("ui = true has no effect", s.log())
            self.assertNotIn("api_addr", s.log())  # it has an effect now: no warning
            status, init, _ = s.request("PUT", "/v1/sys/init",
                                        {"secret_shares": 1, "secret_threshold": 1})
            self.assertEqual(status, 200)
            s.request("PUT", "/v1/sys/unseal", {"key": init["keys"][0]})
            status, body, _ = s.request("GET", "/v1/sys/seal-status")
            self.assertEqual(body["cluster_name"], "docs-cluster")
            cluster_id = body["cluster_id"]
        finally:
            self.assertEqual(s.stop(), 0)
        self.assertFalse(os.path.exists(pid_path))

        # Another name in the config replaces the stored one at unseal; the
        # cluster's id stays.
        with open(path) as f:
            text = f.read().replace("docs-cluster", "renamed")
        with open(path, "w") as f:
            f.write(text)
        s = harness.start_config(data_dir=self.dir, config_path=path)
        try:
            s.request("PUT", "/v1/sys/unseal", {"key": init["keys"][0]})
            status, body, _ = s.request("GET", "/v1/sys/seal-status")
            self.assertEqual(body["cluster_name"], "renamed")
            self.assertEqual(body["cluster_id"], cluster_id)
        finally:
            s.cleanup()


class LogFormatTest(unittest.TestCase):
    """log_format as Vault reads it: the config file, overridden by
    COFFER_LOG_FORMAT / VAULT_LOG_FORMAT, overridden by -log-format."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-logfmt-")
        self.path = harness.write_config(self.dir)
        with open(self.path, "a") as f:
            f.write('log_format = "json"\nui = true\n')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def warning_line(self, args, env):
        s = harness.Server(["server", "-config=" + self.path] + args, data_dir=self.dir,
                           env=env).start()
        try:
            # Logged before the banner's last line, which start() waits for.
            return next(line for line in s.output if "ui = true has no effect" in line)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_json_from_the_config(self):
        entry = json.loads(self.warning_line([], {"COFFER_LOG_FORMAT": "", "VAULT_LOG_FORMAT": ""}))
        self.assertEqual(entry["@level"], "warn")
        self.assertEqual(entry["@message"], "ui = true has no effect: Coffer has no web UI")
        self.assertEqual(entry["@module"], "config")
        self.assertRegex(entry["@timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_environment_then_flag_override_the_config(self):
        line = self.warning_line([], {"VAULT_LOG_FORMAT": "standard"})
        self.assertFalse(line.startswith("{"), line)
        self.assertIn("[warning] config: ui = true", line)
        line = self.warning_line(["-log-format=json"], {"VAULT_LOG_FORMAT": "standard"})
        self.assertEqual(json.loads(line)["@level"], "warn")

    def test_unknown_format_is_refused(self):
        r = subprocess.run([harness.COFFER_BIN, "server", "-config=" + self.path,
                            "-log-format=xml"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn('unknown log format "xml"', r.stderr)


class DevModeTest(unittest.TestCase):
    def test_dev_root_token_and_sigterm(self):
        s = harness.start_dev(root_token="dev-root-for-tests")
        try:
            self.assertEqual(s.root_token, "dev-root-for-tests")
            code, body, _ = s.request("GET", "/v1/sys/mounts", token="dev-root-for-tests")
            self.assertEqual(code, 200)
            self.assertEqual(body["data"]["secret/"]["options"], {"version": "2"})
            code, _, _ = s.request("POST", "/v1/secret/data/app", {"data": {"k": "v"}},
                                   token="dev-root-for-tests")
            self.assertEqual(code, 200)
        finally:
            rc = s.stop(sig=signal.SIGTERM)
        self.assertEqual(rc, 0)
        # The token never reaches the log lines after the banner.
        after_banner = s.log().split("server started", 1)[1]
        self.assertNotIn("dev-root-for-tests", after_banner)


class TlsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-tls-")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key, "-out",
                        self.cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, min_version):
        config = os.path.join(self.dir, "tls.hcl")
        with open(config, "w") as f:
            f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n'
                    '  tls_cert_file = "%s"\n  tls_key_file = "%s"\n'
                    '  tls_min_version = "%s"\n}\ndisable_mlock = true\n'
                    % (self.cert, self.key, min_version))
        return harness.Server(["server", "-config=" + config]).start()

    def test_tls_listener_and_cli_with_cacert(self):
        s = self.start("tls12")
        try:
            self.assertTrue(s.addr.startswith("https://"))
            ctx = ssl.create_default_context(cafile=self.cert)
            with urllib.request.urlopen(s.addr + "/v1/sys/seal-status", context=ctx) as r:
                self.assertFalse(json.loads(r.read())["initialized"])
            r = run_cli(["status"], s.addr, extra_env={"COFFER_CACERT": self.cert})
            self.assertEqual(r.returncode, 2, r.stderr)  # sealed
            r = run_cli(["status"], s.addr)  # no CA: verification fails
            self.assertEqual(r.returncode, 1)
        finally:
            s.cleanup()

    def test_tls13_minimum_refuses_tls12(self):
        s = self.start("tls13")
        try:
            ctx = ssl.create_default_context(cafile=self.cert)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            with self.assertRaises((ssl.SSLError, OSError)):
                urllib.request.urlopen(s.addr + "/v1/sys/seal-status", context=ctx)
            ctx13 = ssl.create_default_context(cafile=self.cert)
            with urllib.request.urlopen(s.addr + "/v1/sys/seal-status", context=ctx13) as r:
                self.assertEqual(r.status, 200)
        finally:
            s.cleanup()


class OperatorCliTest(unittest.TestCase):
    def test_init_unseal_status_rotate_seal(self):
        s = harness.start_config()
        try:
            r = run_cli(["status"], s.addr)
            self.assertEqual(r.returncode, 2)
            r = run_cli(["operator", "init", "-key-shares=3", "-key-threshold=2",
                         "-format=json"], s.addr)
            self.assertEqual(r.returncode, 0, r.stderr)
            init = json.loads(r.stdout)
            keys, root = init["unseal_keys_b64"], init["root_token"]
            self.assertEqual(len(keys), 3)
            # Keys come on standard input, never in argv.
            r = run_cli(["operator", "unseal"], s.addr, stdin=keys[0] + "\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(run_cli(["status"], s.addr).returncode, 2)
            r = run_cli(["operator", "unseal"], s.addr, stdin=keys[2] + "\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run_cli(["status", "-format=json"], s.addr)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(json.loads(r.stdout)["sealed"])

            r = run_cli(["operator", "key-status"], s.addr, token=root)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Key Term", r.stdout)
            r = run_cli(["operator", "rotate"], s.addr, token=root)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run_cli(["operator", "key-status", "-format=json"], s.addr, token=root)
            self.assertEqual(json.loads(r.stdout)["term"], 2)
            r = run_cli(["operator", "rotate"], s.addr)  # no token
            self.assertNotEqual(r.returncode, 0)
            r = run_cli(["operator", "seal"], s.addr, token=root)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(run_cli(["status"], s.addr).returncode, 2)
            self.assertNotIn(root, r.stderr)
        finally:
            s.cleanup()

    def test_connection_refused_is_exit_1(self):
        r = run_cli(["status"], "http://127.0.0.1:1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("127.0.0.1:1", r.stderr)


class IoThreadsTest(unittest.TestCase):
    """listener "tcp" { io_threads = N } runs N I/O threads (named coffer-io)
    for the listener; 0, the default, runs one per core."""

    def io_thread_ids(self, srv):
        ids = []
        for tid in os.listdir("/proc/%d/task" % srv.proc.pid):
            try:
                with open("/proc/%d/task/%s/comm" % (srv.proc.pid, tid)) as f:
                    if f.read().strip() == "coffer-io":
                        ids.append(int(tid))
            except FileNotFoundError:
                pass  # a short-lived thread that has ended
        return ids

    def with_settled_io_threads(self, extra, expected, read):
        """read(ids) of the coffer-io threads once the server answers, waiting
        up to 10 s for them to reach `expected` (the banner comes before the
        listener's threads start) and then 0.3 s more for any extra one;
        called while the server still runs."""
        d = tempfile.mkdtemp(prefix="coffer-io-")
        srv = harness.start_config(d, harness.write_config(d, extra_listener=extra))
        try:
            self.assertEqual(srv.request("GET", "/v1/sys/seal-status")[0], 200)
            deadline = time.monotonic() + 10
            while len(self.io_thread_ids(srv)) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            return read(self.io_thread_ids(srv))
        finally:
            srv.stop()
            shutil.rmtree(d, ignore_errors=True)

    def io_threads_with(self, extra, expected):
        """The number of coffer-io threads (see with_settled_io_threads)."""
        return self.with_settled_io_threads(extra, expected, len)

    def test_io_threads_sets_the_listener_thread_count(self):
        self.assertEqual(self.io_threads_with("  io_threads = 6\n", 6), 6)
        self.assertEqual(self.io_threads_with("  io_threads = 1\n", 1), 1)
        self.assertEqual(self.io_threads_with("", os.cpu_count()), os.cpu_count())

    def io_thread_affinities(self, extra, threads):
        """The CPU set of each of the server's `threads` I/O threads (the
        server pins them as it starts them)."""
        def read(ids):
            self.assertEqual(len(ids), threads)
            return [frozenset(os.sched_getaffinity(t)) for t in ids]
        return self.with_settled_io_threads(extra, threads, read)

    def test_pin_io_threads_gives_each_thread_one_cpu_in_turn(self):
        allowed = sorted(os.sched_getaffinity(0))  # the server inherits it
        threads = 2 * len(allowed)
        sets = self.io_thread_affinities(
            "  io_threads = %d\n  pin_io_threads = true\n" % threads, threads)
        self.assertTrue(all(len(s) == 1 for s in sets), sets)
        pinned = sorted(next(iter(s)) for s in sets)
        # Each allowed CPU carries exactly two of the threads.
        self.assertEqual(pinned, sorted(allowed * 2))

    def test_io_threads_are_not_pinned_by_default(self):
        allowed = frozenset(os.sched_getaffinity(0))
        sets = self.io_thread_affinities("  io_threads = 2\n", 2)
        self.assertEqual(sets, [allowed, allowed])



class LoggersTest(unittest.TestCase):
    """sys/loggers: one subsystem turned up while the server runs, then back."""

    def setUp(self):
        self.srv = harness.start_dev()
        self.addCleanup(self.srv.cleanup)
        self.root = self.srv.root_token

    def revoke_a_token_lease(self):
        st, body, _ = self.srv.request("POST", "/v1/auth/token/create", {"ttl": "1h"}, self.root)
        self.assertEqual(st, 200, body)
        st, _, _ = self.srv.request(
            "PUT", "/v1/sys/leases/revoke-prefix/auth/token/create?sync=true", None, self.root)
        self.assertIn(st, (200, 204))
        return body["auth"]["client_token"]

    def debug_lines(self):
        return [l for l in self.srv.log().splitlines() if "[debug] expiration: revoked lease" in l]

    def test_one_logger_up_and_back(self):
        self.revoke_a_token_lease()
        self.assertEqual(self.debug_lines(), [])
        # As an operator does it: the generic write command.
        r = run_cli(["write", "sys/loggers/expiration", "level=debug"], self.srv.addr,
                    token=self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        st, body, _ = self.srv.request("GET", "/v1/sys/loggers", None, self.root)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["data"]["expiration"], "debug")
        self.assertEqual(body["data"]["core"], "info")
        token = self.revoke_a_token_lease()
        deadline = time.monotonic() + 10
        while not self.debug_lines() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(self.debug_lines(), self.srv.log())
        self.assertNotIn(token, self.srv.log())
        # Back to the configured level: no more debug lines.
        st, _, _ = self.srv.request("DELETE", "/v1/sys/loggers/expiration", None, self.root)
        self.assertEqual(st, 204)
        seen = len(self.debug_lines())
        self.revoke_a_token_lease()
        st, body, _ = self.srv.request("GET", "/v1/sys/loggers/expiration", None, self.root)
        self.assertEqual(body["data"], {"expiration": "info"})
        self.assertEqual(len(self.debug_lines()), seen)
        st, body, _ = self.srv.request("POST", "/v1/sys/loggers/nope", {"level": "debug"},
                                       self.root)
        self.assertEqual(st, 400)
        self.assertEqual(body["errors"], ['logger "nope" not found'])


if __name__ == "__main__":
    unittest.main()
