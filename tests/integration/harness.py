"""Starts the real coffer binary for integration and interop tests.

Servers listen on 127.0.0.1 port 0; the banner tells the bound port. Every
server is stopped (and its temp directory removed) when the test ends.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

COFFER_BIN = os.environ.get(
    "COFFER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "coffer"))

_ADDR_RE = re.compile(r"Api Address: (https?://[0-9.]+:\d+)")
_TOKEN_RE = re.compile(r"Root Token: (\S+)")
_KEY_RE = re.compile(r"Unseal Key: (\S+)")


class Server:
    """A coffer server process. Use start_dev() or start_config()."""

    def __init__(self, args, data_dir=None, owns_dir=False, env=None):
        self.args = args
        self.data_dir = data_dir
        self.owns_dir = owns_dir
        self.env = env
        self.proc = None
        self.addr = None
        self.root_token = None
        self.unseal_key = None
        self.output = []

    def start(self, timeout=30):
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(
            [COFFER_BIN] + self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("coffer exited early:\n" + "".join(self.output))
            self.output.append(line)
            m = _ADDR_RE.search(line)
            if m and self.addr is None:
                self.addr = m.group(1)
            m = _TOKEN_RE.search(line)
            if m:
                self.root_token = m.group(1)
            m = _KEY_RE.search(line)
            if m:
                self.unseal_key = m.group(1)
            if "server started" in line:
                break
        else:
            raise RuntimeError("coffer did not start in time")
        # Keep draining output so the pipe never fills and blocks the server.
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout and not self.proc.stdout.closed:
            try:
                self.proc.stdout.close()
            except (OSError, ValueError):
                pass  # the drain thread may be reading it right now
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.stop(sig=signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.owns_dir and self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log(self):
        return "".join(self.output)

    # --- HTTP helpers -----------------------------------------------------

    def request(self, method, path, body=None, token=None, headers=None, timeout=30):
        """Returns (status, parsed JSON or None, headers)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.addr + path, data=data, method=method)
        if token:
            req.add_header("X-Vault-Token", token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None), resp.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw
            return e.code, parsed, e.headers


def start_dev(root_token=None):
    args = ["server", "-dev", "-dev-listen-address=127.0.0.1:0"]
    env = {"COFFER_DEV_ROOT_TOKEN_ID": root_token} if root_token else None
    return Server(args, env=env).start()


class DevServerTest(unittest.TestCase):
    """A test case whose tests share one dev server (self.srv, self.root),
    started once for the class and stopped after its last test."""

    @classmethod
    def setUpClass(cls):
        cls.srv = start_dev()
        cls.root = cls.srv.root_token

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.srv.cleanup()


def write_config(data_dir, extra_listener="", storage=None):
    storage = storage or 'storage "local" {\n  path = "%s"\n}\n' % os.path.join(data_dir, "data")
    path = os.path.join(data_dir, "config.hcl")
    with open(path, "w") as f:
        f.write(storage)
        f.write('listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n%s}\n'
                % extra_listener)
        f.write('disable_mlock = true\nlog_level = "warn"\n')
    return path


def start_config(data_dir=None, config_path=None):
    owns = data_dir is None
    if data_dir is None:
        data_dir = tempfile.mkdtemp(prefix="coffer-it-")
    if config_path is None:
        config_path = write_config(data_dir)
    return Server(["server", "-config=" + config_path], data_dir=data_dir,
                  owns_dir=owns).start()


def query_store(data_dir, sql, params=()):
    """Runs a read-only query on the local store in data_dir while a server
    may hold it. The server locks its database exclusively (SQLite's
    unix-excl VFS, src/storage/local), so the query runs on a copy of the
    database and its write-ahead log, taken while the server is idle; SQLite
    rebuilds the copy's WAL index when it opens it."""
    import sqlite3
    tmp = tempfile.mkdtemp(prefix="coffer-store-copy-")
    try:
        for name in ("coffer.db", "coffer.db-wal"):
            src = os.path.join(data_dir, name)
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(tmp, name))
        db = sqlite3.connect(os.path.join(tmp, "coffer.db"))
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
