"""Memory hygiene proofs against the real server (mlock on, as in production).

- After sys/seal, /proc/<pid>/mem holds neither the root key, the keyring's
  data keys, the unseal key, the unseal shares, nor a canary secret written
  and read back before the seal. The same scan run while unsealed must find
  the root key and data keys: that proves the scanner and the search material.
- Unsealed: VmLck > 0, and the pages that hold the root key and the data keys
  are locked ("lo") and excluded from core dumps ("dd") in smaps.
- An unsealed server killed with SIGABRT while its RLIMIT_CORE was unlimited
  leaves no core file (core_pattern here is "core", relative to the cwd), and
  its own limits show a core size of 0.

The key material is derived the way an operator could: the shares come from
sys/init, the root key and keyring are decrypted from the local store with
them (docs/ciphertext-format.md). No API exposes keys.
"""

import os
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
import memscan


def write_config(data_dir):
    path = os.path.join(data_dir, "config.hcl")
    with open(path, "w") as f:
        f.write('storage "local" {\n  path = "%s"\n}\n' % os.path.join(data_dir, "data"))
        f.write('listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\n')
        f.write('log_level = "warn"\n')  # mlock stays on
    return path


class MemoryHygieneTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-mem-")
        self.config = write_config(self.dir)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop(sig=signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_unsealed(self, **popen):
        # Under ASan glibc's malloc is replaced: ask ASan to wipe freed
        # memory the way the server asks glibc to (no effect otherwise).
        asan = os.environ.get("ASAN_OPTIONS", "")
        asan += (":" if asan else "") + "max_free_fill_size=2147483647:free_fill_byte=165"
        s = harness.Server(["server", "-config=" + self.config], data_dir=self.dir,
                           env={"ASAN_OPTIONS": asan})
        if popen:
            s.start = lambda timeout=30, s=s: _start_with(s, popen, timeout)
        self.server = s.start()
        code, init, _ = s.request("PUT", "/v1/sys/init", {"secret_shares": 3, "secret_threshold": 2})
        self.assertEqual(code, 200, init)
        self.shares = [bytes.fromhex(k) for k in init["keys"]]
        self.root_token = init["root_token"]
        for k in init["keys"][:2]:
            code, st, _ = s.request("PUT", "/v1/sys/unseal", {"key": k})
            self.assertEqual(code, 200, st)
        self.assertFalse(st["sealed"])
        self.unseal_key = memscan.shamir_combine(self.shares[:2])
        return s

    def test_seal_wipes_keys_shares_and_canary(self):
        s = self.start_unsealed()
        root = self.root_token
        code, body, _ = s.request("POST", "/v1/sys/mounts/secret",
                                  {"type": "kv", "options": {"version": "1"}}, token=root)
        self.assertEqual(code, 204, body)
        canary = "canary-" + secrets.token_hex(24)
        code, body, _ = s.request("POST", "/v1/secret/canary", {"value": canary}, token=root)
        self.assertEqual(code, 204, body)
        code, body, _ = s.request("GET", "/v1/secret/canary", token=root)
        self.assertEqual(body["data"]["value"], canary)
        code, body, _ = s.request("POST", "/v1/sys/rotate", {}, token=root)
        self.assertEqual(code, 204, body)
        code, body, _ = s.request("GET", "/v1/secret/canary", token=root)  # under term 1
        self.assertEqual(code, 200, body)

        root_key, data_keys = memscan.key_material(os.path.join(self.dir, "data"),
                                                   self.unseal_key)
        self.assertEqual(len(data_keys), 2)
        keys = {"root key": root_key}
        for i, k in enumerate(data_keys):
            keys["data key %d" % (i + 1)] = k
        # Positive control: while unsealed, the keys are in memory.
        found = memscan.scan(s.proc.pid, keys)
        self.assertEqual(sorted(found), sorted(keys), "scanner cannot see unsealed keys")

        code, body, _ = s.request("PUT", "/v1/sys/seal", token=root)
        self.assertEqual(code, 204, body)
        code, st, _ = s.request("GET", "/v1/sys/seal-status")
        self.assertTrue(st["sealed"])

        needles = {}
        for name, raw in keys.items():
            needles.update(memscan.encodings(name, raw))
        needles.update(memscan.encodings("unseal key", self.unseal_key))
        for i, share in enumerate(self.shares):
            needles.update(memscan.encodings("share %d" % (i + 1), share))
        needles["canary"] = canary.encode()
        found = memscan.scan(s.proc.pid, needles)
        self.assertEqual(found, {}, "secret material left in memory after seal: %s"
                         % {k: [hex(a) for a in v[:4]] for k, v in found.items()})

    def test_keys_are_locked_and_excluded_from_dumps(self):
        s = self.start_unsealed()
        vmlck = memscan.status_field(s.proc.pid, "VmLck")
        self.assertIsNotNone(vmlck)
        self.assertGreater(int(vmlck.split()[0]), 0, "VmLck is %s" % vmlck)
        root_key, data_keys = memscan.key_material(os.path.join(self.dir, "data"),
                                                   self.unseal_key)
        keys = {"root key": root_key, "data key": data_keys[0]}
        found = memscan.scan(s.proc.pid, keys)
        self.assertEqual(sorted(found), sorted(keys))
        for name, addresses in found.items():
            for a in addresses:
                flags = memscan.vm_flags(s.proc.pid, a)
                self.assertIn("dd", flags, "%s at %#x is not MADV_DONTDUMP: %s" % (name, a, flags))
                self.assertIn("lo", flags, "%s at %#x is not mlocked: %s" % (name, a, flags))

    def test_dev_root_token_leaves_the_environment(self):
        # /proc/<pid>/environ shows the environment block the process
        # started with for as long as it runs: the dev root token is wiped
        # from it once read.
        token = "dev-root-environ-canary-5d1c"
        s = harness.start_dev(root_token=token)
        self.addCleanup(s.cleanup)
        st, body, _ = s.request("GET", "/v1/auth/token/lookup-self", token=token)
        self.assertEqual(st, 200, body)
        with open("/proc/%d/environ" % s.proc.pid, "rb") as f:
            environ = f.read()
        self.assertIn(b"COFFER_DEV_ROOT_TOKEN_ID=", environ)
        self.assertNotIn(token.encode(), environ)

    def test_sigabrt_leaves_no_core(self):
        cwd = os.path.join(self.dir, "cwd")
        os.mkdir(cwd)

        def unlimited_core():
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

        s = self.start_unsealed(cwd=cwd, preexec_fn=unlimited_core)
        with open("/proc/%d/limits" % s.proc.pid) as f:
            limits = [l for l in f if l.startswith("Max core file size")]
        root_key, _ = memscan.key_material(os.path.join(self.dir, "data"), self.unseal_key)
        s.proc.send_signal(signal.SIGABRT)
        s.proc.wait(timeout=30)
        self.assertEqual(s.proc.returncode, -signal.SIGABRT)
        cores = [f for f in os.listdir(cwd) if f.startswith("core")]
        leaked = []
        for c in cores:
            with open(os.path.join(cwd, c), "rb") as f:
                if root_key in f.read():
                    leaked.append(c)
        self.assertEqual(cores, [], "core dump written (root key inside: %s)" % leaked)
        self.assertTrue(limits and limits[0].split()[4:6] == ["0", "0"],
                        "RLIMIT_CORE not zeroed: %s" % limits)


def _start_with(server, popen, timeout):
    """harness.Server.start with extra Popen arguments (cwd, preexec_fn)."""
    real_popen = subprocess.Popen

    def patched(*a, **kw):
        kw.update(popen)
        return real_popen(*a, **kw)

    subprocess.Popen = patched
    try:
        return harness.Server.start(server, timeout)
    finally:
        subprocess.Popen = real_popen


if __name__ == "__main__":
    unittest.main()
