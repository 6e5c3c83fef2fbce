"""`coffer run` against a real dev server: several secrets injected as
environment variables (--secret, --path, project files), a missing secret
stops everything before the command starts (named, never a value), the
child's exit code and signals pass through (with and without --watch),
secret values are absent from /proc/*/cmdline and from every file under a
fresh HOME, TMPDIR and the working directory, --watch restarts the child
within 1 s of a KV write (or sends --signal): through the change-event
stream even with a 5 s poll interval, and by polling when the token may not
subscribe; AppRole and JWT logins work as token sources."""

import base64
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import harness

ROOT = "run-test-root"
PASSWORD = "pw-9f3c1e-canary"
API_KEY = "ak-77d2b0-canary"
PY = sys.executable or "/usr/bin/python3"

# Prints the named variables as JSON (null when unset).
SHOW = ("import json, os, sys; "
        "print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))")


def wait_for(predicate, timeout=15.0, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met within %.1fs" % timeout)


def slurp(path):
    """The file's text, or "" while it does not exist."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class RunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.write("app", {"password": PASSWORD, "api_key": API_KEY, "db-user": "admin"})
        cls.write("prod/db", {"password": "prod-" + PASSWORD})

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    @classmethod
    def call(cls, method, path, body=None, want=(200, 204), token=ROOT):
        st, data, _ = cls.server.request(method, "/v1/" + path, body, token=token)
        assert st in want, (method, path, st, data)
        return data

    @classmethod
    def write(cls, path, data):
        return cls.call("POST", "secret/data/" + path, {"data": data})

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-run-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.home = os.path.join(self.dir, "home")
        self.tmp = os.path.join(self.dir, "tmp")
        self.cwd = os.path.join(self.dir, "cwd")
        for d in (self.home, self.tmp, self.cwd):
            os.mkdir(d)

    def env(self, token=ROOT, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": self.home, "TMPDIR": self.tmp})
        if token:
            env["COFFER_TOKEN"] = token
        env.update(extra)
        return env

    def run_cli(self, args, token=ROOT, timeout=60, **extra):
        return subprocess.run([harness.COFFER_BIN, "run"] + args, capture_output=True, text=True,
                              env=self.env(token, **extra), cwd=self.cwd, timeout=timeout)

    def popen(self, args, token=ROOT):
        p = subprocess.Popen([harness.COFFER_BIN, "run"] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=self.env(token), cwd=self.cwd)
        self.addCleanup(self.reap, p)
        return p

    @staticmethod
    def reap(p):
        if p.poll() is None:
            p.kill()
        p.communicate()

    def show(self, result):
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return json.loads(result.stdout)

    def assert_no_file_contains(self, *values):
        for root in (self.home, self.tmp, self.cwd):
            for dirpath, _, files in os.walk(root):
                for name in files:
                    with open(os.path.join(dirpath, name), "rb") as f:
                        content = f.read()
                    for v in values:
                        self.assertNotIn(v.encode(), content, os.path.join(dirpath, name))

    # --- injection --------------------------------------------------------

    def test_injects_several_secrets(self):
        r = self.run_cli(["--secret", "DB_PASSWORD=secret/data/app#password",
                          "--secret", "KEY=secret/app#api_key",
                          "--path", "secret/app", "--prefix", "APP_", "--",
                          PY, "-c", SHOW, "DB_PASSWORD", "KEY", "APP_PASSWORD", "APP_API_KEY",
                          "APP_DB_USER", "COFFER_TOKEN", "VAULT_TOKEN", "HOME"])
        got = self.show(r)
        self.assertEqual(got, {"DB_PASSWORD": PASSWORD, "KEY": API_KEY, "APP_PASSWORD": PASSWORD,
                               "APP_API_KEY": API_KEY, "APP_DB_USER": "admin",
                               "COFFER_TOKEN": None, "VAULT_TOKEN": None, "HOME": self.home})
        self.assertNotIn(PASSWORD, r.stderr)

    def test_field_names_cannot_steer_the_child(self):
        # Whoever can write a secret used with --path must not set loader,
        # shell or client variables in the child (LD_PRELOAD, PATH,
        # COFFER_ADDR...), nor a NUL that cuts a value short.
        marker = os.path.join(self.dir, "ran")
        child = ["--", PY, "-c", "open(%r, 'w').close()" % marker]
        for name, fields in (("evil-loader", {"ld_preload": "/tmp/x.so", "user": "u"}),
                             ("evil-path", {"path": "/tmp/bin"}),
                             ("evil-addr", {"coffer_addr": "http://127.0.0.1:9"}),
                             ("evil-jdk", {"jdk_java_options": "-javaagent:/tmp/x.jar"}),
                             ("evil-less", {"lessopen": "|/tmp/x %s"}),
                             ("evil-keylog", {"sslkeylogfile": "/tmp/keys"}),
                             ("evil-nul", {"password": "abc\u0000def"})):
            self.write(name, fields)
            r = self.run_cli(["--path", "secret/" + name] + child)
            self.assertNotEqual(r.returncode, 0, name)
            self.assertFalse(os.path.exists(marker), name)
            self.assertIn("secret/" + name, r.stderr)
            self.assertNotIn("abc", r.stderr)
        # Named by the operator, a field goes where the operator says.
        got = self.show(self.run_cli(["--secret", "PRELOAD_HINT=secret/evil-loader#ld_preload",
                                      "--", PY, "-c", SHOW, "PRELOAD_HINT", "LD_PRELOAD"]))
        self.assertEqual(got, {"PRELOAD_HINT": "/tmp/x.so", "LD_PRELOAD": None})

    def test_pass_token(self):
        got = self.show(self.run_cli(["--pass-token", "--secret", "X=secret/app#api_key", "--",
                                      PY, "-c", SHOW, "COFFER_TOKEN", "VAULT_TOKEN", "X"]))
        self.assertEqual(got, {"COFFER_TOKEN": ROOT, "VAULT_TOKEN": ROOT, "X": API_KEY})

    def test_project_files_hcl_and_yaml(self):
        hcl = ('default_env = "dev"\n'
               'secrets = { KEY = "secret/app#api_key" }\n'
               'env "dev" {\n  secrets = { DB = "secret/app#password" }\n}\n'
               'env "prod" {\n  secrets = { DB = "secret/data/prod/db#password" }\n'
               '  paths = [{ path = "secret/app", prefix = "APP_" }]\n}\n')
        yaml = ("default_env: dev\nsecrets:\n  KEY: secret/app#api_key\nenv:\n"
                "  dev:\n    secrets:\n      DB: secret/app#password\n"
                "  prod:\n    secrets:\n      DB: secret/data/prod/db#password\n"
                "    paths:\n      - path: secret/app\n        prefix: APP_\n")
        for name, text in ((".coffer.hcl", hcl), (".coffer.yaml", yaml)):
            path = os.path.join(self.cwd, name)
            with open(path, "w") as f:
                f.write(text)
            show = ["--", PY, "-c", SHOW, "KEY", "DB", "APP_DB_USER"]
            self.assertEqual(self.show(self.run_cli(show)),
                             {"KEY": API_KEY, "DB": PASSWORD, "APP_DB_USER": None}, name)
            self.assertEqual(self.show(self.run_cli(["--env", "prod"] + show)),
                             {"KEY": API_KEY, "DB": "prod-" + PASSWORD, "APP_DB_USER": "admin"},
                             name)
            r = self.run_cli(["--env", "staging"] + show)
            self.assertEqual(r.returncode, 1)
            self.assertIn('"staging" is not defined', r.stderr)
            os.rename(path, os.path.join(self.dir, name))
            self.assertEqual(self.show(self.run_cli(["--config", os.path.join(self.dir, name),
                                                     "--env", "prod"] + show))["DB"],
                             "prod-" + PASSWORD)

    # --- failures before exec ----------------------------------------------

    def test_missing_secret_or_field_fails_before_the_command_starts(self):
        marker = os.path.join(self.dir, "started")
        child = ["--", PY, "-c", "open(%r, 'w').write('x')" % marker]
        for ref in ("secret/data/app#nope", "secret/data/nothing-here#password",
                    "secret/nothing-here#password"):
            r = self.run_cli(["--secret", "GOOD=secret/app#password",
                              "--secret", "BAD=" + ref] + child)
            self.assertNotEqual(r.returncode, 0, ref)
            self.assertFalse(os.path.exists(marker), ref)
            self.assertIn(ref, r.stderr)
            self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        r = self.run_cli(["--path", "secret/nothing-here"] + child)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("secret/nothing-here", r.stderr)
        self.assertFalse(os.path.exists(marker))
        # A token that may not read: refused before the command, too.
        r = self.run_cli(["--secret", "A=secret/app#password"] + child, token="s.bogus")
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(marker))
        r = self.run_cli(["--secret", "A=secret/app#password", "--", "no-such-command-xyz"])
        self.assertEqual(r.returncode, 127)

    # --- exit codes and signals --------------------------------------------

    def test_local_errors_exit_1(self):
        marker = os.path.join(self.dir, "started")
        child = ["--", PY, "-c", "open(%r, 'w').write('x')" % marker]
        # A kill timeout that would not fit is refused, not wrapped around.
        r = self.run_cli(["--watch", "--kill-timeout", "40000m", "--secret",
                          "A=secret/app#password"] + child)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("at most 24h", r.stderr)
        # A mistyped flag, before or after the others, is not run as the command.
        for args in (["--bogus", "--secret", "A=secret/app#password"],
                     ["--secret", "A=secret/app#password", "--bogus"]):
            r = self.run_cli(args + child)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("unknown flag --bogus", r.stderr)
        # No token anywhere (no COFFER_TOKEN, no ~/.coffer-token).
        r = self.run_cli(["--secret", "A=secret/app#password"] + child, token=None)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no token", r.stderr)
        self.assertFalse(os.path.exists(marker))

    def test_exit_code_passes_through(self):
        for watch in ([], ["--watch"]):
            r = self.run_cli(watch + ["--secret", "A=secret/app#password", "--",
                                      "/bin/sh", "-c", "exit 7"])
            self.assertEqual(r.returncode, 7, watch)

    def test_signal_passes_through(self):
        kill_self = [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"]
        for watch in ([], ["--watch"]):
            r = self.run_cli(watch + ["--secret", "A=secret/app#password", "--"] + kill_self)
            self.assertEqual(r.returncode, -signal.SIGTERM, (watch, r.stderr))

    def test_watch_forwards_sigterm_to_the_child(self):
        got = os.path.join(self.dir, "got")
        ready = os.path.join(self.dir, "ready")
        script = ("import os, signal, sys, time\n"
                  "def on(sig, frame):\n"
                  "    open(%r, 'w').write(str(sig)); sys.exit(3)\n"
                  "signal.signal(signal.SIGTERM, on)\n"
                  "open(%r, 'w').write(str(os.getpid()))\n"
                  "time.sleep(60)\n" % (got, ready))
        p = self.popen(["--watch", "--secret", "A=secret/app#password", "--", PY, "-c", script])
        wait_for(lambda: slurp(ready))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        self.assertEqual(p.returncode, 3)
        with open(got) as f:
            self.assertEqual(f.read(), str(int(signal.SIGTERM)))

    # --- values stay out of argv and files ---------------------------------

    def test_values_absent_from_cmdline_and_files(self):
        ready = os.path.join(self.cwd, "child.pid")
        script = ("import os, time\n"
                  "open(%r, 'w').write(str(os.getpid()))\n"
                  "time.sleep(60)\n" % ready)
        p = self.popen(["--watch", "--secret", "DB=secret/app#password",
                        "--path", "secret/app", "--", PY, "-c", script])
        pid = int(wait_for(lambda: slurp(ready)))
        for proc in (pid, p.pid):
            with open("/proc/%d/cmdline" % proc, "rb") as f:
                cmdline = f.read()
            self.assertNotIn(PASSWORD.encode(), cmdline)
            self.assertNotIn(API_KEY.encode(), cmdline)
        # The values did reach the child, through its environment only.
        with open("/proc/%d/environ" % pid, "rb") as f:
            self.assertIn(b"DB=" + PASSWORD.encode(), f.read())
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        out, err = p.communicate()
        self.assertNotIn(PASSWORD, out + err)
        self.assert_no_file_contains(PASSWORD, API_KEY, ROOT)

    # --- --watch ------------------------------------------------------------

    def test_children_get_only_stdio(self):
        # coffer run's own sockets (the server connection, the event stream
        # of --watch) and files must not leak into the program it starts,
        # neither the first time nor after a restart.
        self.write("fds", {"password": "v0"})
        log = os.path.join(self.dir, "fds")
        script = ("import os, time\n"
                  "fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))\n"
                  "leaked = [f for f in fds if f > 2 and os.path.exists('/proc/self/fd/' + str(f))]\n"
                  "open(" + repr(log) + ", 'a').write(repr(leaked) + '\\n')\n"
                  "time.sleep(60)\n")
        p = self.popen(["--watch", "--secret", "PW=secret/data/fds#password", "--",
                        PY, "-c", script])
        wait_for(lambda: slurp(log).count("\n") >= 1)
        self.write("fds", {"password": "v1"})
        wait_for(lambda: slurp(log).count("\n") >= 2)
        self.stop_watch(p)
        self.assertEqual(slurp(log).splitlines()[:2], ["[]", "[]"])

    def test_watch_restarts_within_one_second_of_a_write(self):
        p, latencies, starts = self.watch_starts("rotating", [])
        self.report("", latencies)
        self.assertLess(max(latencies), 1.0, latencies)
        self.assertEqual(len(starts), 6)  # one start per version, no spurious restarts
        self.stop_watch(p)

    def watch_starts(self, name, args, token=ROOT, writes=5, timeout=10):
        """Starts `coffer run --watch` on secret/<name>, writes it `writes`
        times and returns (process, restart latencies in seconds, starts)."""
        self.write(name, {"password": "v0"})
        log = os.path.join(self.dir, "starts-" + name)
        script = 'echo "$PW $(date +%%s.%%N)" >> %s; exec sleep 60' % log
        p = self.popen(["--watch", "--secret", "PW=secret/data/%s#password" % name] + args +
                       ["--", "/bin/sh", "-c", script], token=token)

        def starts():
            if not os.path.exists(log):
                return []
            with open(log) as f:
                return [line.split() for line in f if line.endswith("\n")]

        wait_for(lambda: starts())
        latencies = []
        for i in range(1, writes + 1):
            value = "v%d" % i
            self.write(name, {"password": value})
            acked = time.time()
            line = wait_for(lambda: [s for s in starts() if s[0] == value], timeout=timeout)[0]
            latencies.append(float(line[1]) - acked)
        return p, latencies, starts()

    @staticmethod
    def report(label, latencies):
        print("\ncoffer run --watch%s restart latency after a KV write: "
              "median %.0f ms, max %.0f ms (%s)" % (
                  label, statistics.median(latencies) * 1000, max(latencies) * 1000,
                  ", ".join("%.0f" % (x * 1000) for x in latencies)), file=sys.stderr)

    def stop_watch(self, p):
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGTERM)
        return err

    def test_watch_with_events_restarts_far_below_the_poll_interval(self):
        # A 5 s poll could not restart within 1 s: only the event stream can.
        p, latencies, starts = self.watch_starts("evented", ["--watch-interval", "5s"])
        self.report(" (events, 5 s poll)", latencies)
        self.assertLess(max(latencies), 1.0, latencies)
        self.assertEqual(len(starts), 6)  # one start per version
        err = self.stop_watch(p)
        self.assertIn("subscribed to change events (kv*)", err)
        self.assertNotIn("v5", err)  # event bodies are never printed (nor values)

    def test_watch_polls_when_the_token_cannot_subscribe(self):
        # Reads its secret, but has no read on sys/events/subscribe/...
        self.call("PUT", "sys/policies/acl/run-noevents", {"policy": """
path "secret/data/polled" { capabilities = ["read"] }
path "secret/metadata/polled" { capabilities = ["read"] }
"""})
        token = self.call("POST", "auth/token/create",
                          {"policies": ["run-noevents"], "ttl": "1h"})["auth"]["client_token"]
        p, latencies, starts = self.watch_starts("polled", ["--watch-interval", "200ms"],
                                                 token=token, writes=3)
        self.report(" (polling, 200 ms)", latencies)
        self.assertEqual(len(starts), 4)
        err = self.stop_watch(p)
        self.assertIn("refused the change-event subscription (403); polling instead", err)
        self.assertNotIn(token, err)

    def test_watch_signal_mode_signals_instead_of_restarting(self):
        self.write("reload", {"password": "r0"})
        log = os.path.join(self.dir, "events")
        script = ("import os, signal, time\n"
                  "def log(s):\n"
                  "    with open(%r, 'a') as f: f.write(s + '\\n')\n"
                  "signal.signal(signal.SIGUSR1, lambda *a: log('usr1'))\n"
                  "log('start')\n"
                  "while True: time.sleep(1)\n" % log)
        p = self.popen(["--watch", "--signal", "SIGUSR1", "--watch-interval", "100ms",
                        "--secret", "PW=secret/reload#password", "--", PY, "-c", script])

        def events():
            return slurp(log).split()

        wait_for(lambda: events() == ["start"])
        self.write("reload", {"password": "r1"})
        wait_for(lambda: events() == ["start", "usr1"], timeout=5)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGINT)

    # --- auth sources --------------------------------------------------------

    def test_approle_login(self):
        self.call("PUT", "sys/policies/acl/run-app",
                  {"policy": 'path "secret/data/app" { capabilities = ["read"] }'})
        self.call("POST", "sys/auth/approle", {"type": "approle"}, want=(200, 204, 400))
        self.call("POST", "auth/approle/role/run", {"token_policies": "run-app"})
        role_id = self.call("GET", "auth/approle/role/run/role-id")["data"]["role_id"]
        secret_id = self.call("POST", "auth/approle/role/run/secret-id")["data"]["secret_id"]
        rid, sid = os.path.join(self.dir, "role-id"), os.path.join(self.dir, "secret-id")
        with open(rid, "w") as f:
            f.write(role_id + "\n")
        with open(sid, "w") as f:
            f.write(secret_id)
        r = self.run_cli(["--role-id-file", rid, "--secret-id-file", sid,
                          "--secret", "PW=secret/data/app#password", "--",
                          PY, "-c", SHOW, "PW", "COFFER_TOKEN"], token=None)
        self.assertEqual(self.show(r), {"PW": PASSWORD, "COFFER_TOKEN": None})
        self.assertNotIn(secret_id, r.stdout + r.stderr)
        with open(sid, "w") as f:
            f.write("wrong-secret-id")
        r = self.run_cli(["--role-id-file", rid, "--secret-id-file", sid,
                          "--secret", "PW=secret/data/app#password", "--", "/bin/true"],
                         token=None)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("approle login failed", r.stderr)
        self.assertNotIn("wrong-secret-id", r.stderr)

    def test_jwt_login(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.call("PUT", "sys/policies/acl/run-ci",
                  {"policy": 'path "secret/data/app" { capabilities = ["read"] }'})
        self.call("POST", "sys/auth/jwt", {"type": "jwt"}, want=(200, 204, 400))
        self.call("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [pem],
                                              "bound_issuer": "https://ci.example"})
        self.call("POST", "auth/jwt/role/deploy", {
            "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["coffer"],
            "bound_claims": {"ref": "refs/heads/main"}, "token_policies": ["run-ci"],
            "token_ttl": "5m"})
        now = int(time.time())

        def sign(claims):
            head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
            body = b64url(json.dumps(claims).encode())
            sig = key.sign((head + "." + body).encode(), padding.PKCS1v15(), hashes.SHA256())
            return head + "." + body + "." + b64url(sig)

        claims = {"iss": "https://ci.example", "aud": "coffer", "sub": "repo:acme/app",
                  "ref": "refs/heads/main", "iat": now, "nbf": now - 5, "exp": now + 300}
        jwt = sign(claims)
        path = os.path.join(self.dir, "oidc-token")
        with open(path, "w") as f:
            f.write(jwt)
        r = self.run_cli(["--jwt-file", path, "--jwt-role", "deploy",
                          "--secret", "PW=secret/app#password", "--", PY, "-c", SHOW, "PW"],
                         token=None)
        self.assertEqual(self.show(r), {"PW": PASSWORD})
        self.assertNotIn(jwt, r.stdout + r.stderr)
        claims["ref"] = "refs/heads/feature"
        with open(path, "w") as f:
            f.write(sign(claims))
        r = self.run_cli(["--jwt-file", path, "--jwt-role", "deploy",
                          "--secret", "PW=secret/app#password", "--", "/bin/true"], token=None)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("jwt login failed", r.stderr)


if __name__ == "__main__":
    unittest.main()
