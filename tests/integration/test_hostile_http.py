"""Hostile HTTP against the real binary: request smuggling shapes, a deep JSON
bomb, an oversized body, traversal paths and 300 slow clients. Each is refused
and the server keeps answering everybody else."""

import os
import shutil
import socket
import tempfile
import time
import unittest
from urllib.parse import urlparse

import harness


def raw(addr, data, timeout=10):
    """Sends raw bytes; returns (status line, whether the server closed)."""
    u = urlparse(addr)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(data)
        buf = b""
        closed = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            buf += chunk
            if b"\r\n\r\n" in buf and b"Connection: close" not in buf and b"connection: close" not in buf:
                # A keep-alive answer: the server did not close.
                break
        status = buf.split(b"\r\n", 1)[0].decode(errors="replace")
        return status, closed


class HostileHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="coffer-hostile-")
        config = harness.write_config(cls.dir, extra_listener='  http_read_header_timeout = "2s"\n'
                                      '  http_read_timeout = "2s"\n')
        cls.server = harness.start_config(cls.dir, config)
        _, init, _ = cls.server.request("PUT", "/v1/sys/init",
                                        {"secret_shares": 1, "secret_threshold": 1})
        cls.root = init["root_token"]
        cls.server.request("PUT", "/v1/sys/unseal", {"key": init["keys"][0]})

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assertStillServing(self):
        code, body, _ = self.server.request("GET", "/v1/sys/health")
        self.assertEqual(code, 200, body)

    def test_content_length_and_transfer_encoding(self):
        status, closed = raw(self.server.addr,
                             b"POST /v1/sys/health HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertIn(" 400 ", status + " ")
        self.assertTrue(closed)
        self.assertStillServing()

    def test_duplicate_content_length(self):
        status, closed = raw(self.server.addr,
                             b"POST /v1/sys/health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                             b"Content-Length: 3\r\n\r\n{}")
        self.assertIn(" 400", status)
        self.assertTrue(closed)
        self.assertStillServing()

    def test_malformed_chunk(self):
        status, closed = raw(self.server.addr,
                             b"POST /v1/sys/health HTTP/1.1\r\nHost: x\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        self.assertIn(" 400", status)
        self.assertTrue(closed)
        self.assertStillServing()

    def test_deep_json(self):
        body = b"[" * 200000 + b"]" * 200000
        status, _ = raw(self.server.addr,
                        b"POST /v1/sys/mounts/x HTTP/1.1\r\nHost: x\r\nX-Vault-Token: "
                        + self.root.encode() + b"\r\nContent-Length: "
                        + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.assertIn(" 400", status)
        self.assertStillServing()

    def test_40_mib_body(self):
        u = urlparse(self.server.addr)
        with socket.create_connection((u.hostname, u.port), timeout=10) as s:
            s.sendall(b"POST /v1/secret/big HTTP/1.1\r\nHost: x\r\nContent-Length: "
                      + str(40 * 1024 * 1024).encode() + b"\r\n\r\n")
            # The server may answer before reading the body; send some of it.
            try:
                s.sendall(b"a" * (1024 * 1024))
            except OSError:
                pass
            buf = b""
            while b"\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        self.assertIn(b" 413", buf.split(b"\r\n", 1)[0])
        self.assertStillServing()

    def test_traversal_and_encoded_paths(self):
        for path in [b"/v1/secret/../sys/seal", b"/v1/secret/%2e%2e/sys/seal",
                     b"/v1/secret%2f..%2fsys/seal", b"/v1/sys%5cseal", b"/v1/secret/%00",
                     b"/v1/secret/%ff"]:
            status, _ = raw(self.server.addr, b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\n"
                            b"X-Vault-Token: " + self.root.encode()
                            + b"\r\nContent-Length: 0\r\n\r\n")
            self.assertIn(" 400", status, path)
        # Repeated slashes are redirected, as Vault's router does, and the
        # request itself does nothing.
        for path in [b"/v1/sys//seal", b"/v1//sys/seal", b"/v1/secret//x"]:
            status, _ = raw(self.server.addr, b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\n"
                            b"X-Vault-Token: " + self.root.encode()
                            + b"\r\nContent-Length: 0\r\n\r\n")
            self.assertIn(" 301", status, path)
        # Nothing was sealed by any of them.
        code, st, _ = self.server.request("GET", "/v1/sys/seal-status")
        self.assertFalse(st["sealed"])
        # An encoded slash is a slash (Vault reads the decoded path): the
        # same answer, through the same checks.
        code, encoded, _ = self.server.request("GET", "/v1/sys%2Fseal-status")
        self.assertEqual(code, 200)
        self.assertEqual(encoded["sealed"], st["sealed"])
        code, _, _ = self.server.request("GET", "/v1/sys%2Fmounts")
        self.assertEqual(code, 403)  # no token: authorised as sys/mounts is

    def test_body_read_timeout_comes_from_the_config(self):
        # http_read_timeout = "2s": a body that stops coming is cut off then,
        # not after the 30 s default (nor the server's own 60 s).
        start = time.monotonic()
        status, closed = raw(self.server.addr,
                             b"PUT /v1/secret/data/x HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100\r\n\r\n{\"data\":", timeout=20)
        self.assertTrue(closed, status)
        self.assertLess(time.monotonic() - start, 15)
        self.assertStillServing()

    def test_300_slow_clients(self):
        u = urlparse(self.server.addr)
        slow = []
        try:
            for _ in range(300):
                s = socket.create_connection((u.hostname, u.port), timeout=10)
                s.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nX-Partial: ")
                slow.append(s)
            # A normal client is still answered while they hang on.
            for _ in range(20):
                self.assertStillServing()
            # The header-read timeout (2 s here) closes every slow socket.
            deadline = time.monotonic() + 15
            open_count = len(slow)
            for s in slow:
                # The server may send a 408 first; closed means EOF or reset.
                try:
                    while True:
                        s.settimeout(max(0.1, deadline - time.monotonic()))
                        if s.recv(1024) == b"":
                            open_count -= 1
                            break
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    open_count -= 1
            self.assertEqual(open_count, 0)
        finally:
            for s in slow:
                s.close()
        self.assertStillServing()


if __name__ == "__main__":
    unittest.main()
