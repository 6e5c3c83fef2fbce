"""`coffer operator diagnose` against the real binary: a sound file, a
syntax error, a taken port, TLS certificates expired and about to expire,
a storage path that is a file, a seal block, -skip, and usage errors."""

import datetime
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness


def find(result, name):
    if result["name"] == name:
        return result
    for child in result.get("children", []):
        found = find(child, name)
        if found:
            return found
    return None


class DiagnoseTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-diagnose-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def write(self, listener='address = "127.0.0.1:0"\n  tls_disable = true\n', extra="",
              storage=None):
        path = os.path.join(self.dir, "config.hcl")
        storage = storage or os.path.join(self.dir, "data")
        with open(path, "w") as f:
            f.write('storage "local" {\n  path = "%s"\n}\n' % storage)
            f.write('listener "tcp" {\n  %s}\n' % listener)
            f.write('disable_mlock = true\n' + extra)
        return path

    def diagnose(self, *args):
        r = subprocess.run([harness.COFFER_BIN, "operator", "diagnose"] + list(args),
                           capture_output=True, text=True, timeout=60)
        return r

    def json_of(self, path, *extra):
        r = self.diagnose("-config=" + path, "-format=json", *extra)
        return r.returncode, json.loads(r.stdout)

    def cert(self, name, not_before, not_after):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .sign(key, hashes.SHA256()))
        cert_path = os.path.join(self.dir, name + ".pem")
        key_path = os.path.join(self.dir, name + "-key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return ('address = "127.0.0.1:0"\n  tls_cert_file = "%s"\n  tls_key_file = "%s"\n'
                % (cert_path, key_path))

    def test_a_sound_file(self):
        code, res = self.json_of(self.write())
        self.assertIn(code, (0, 2), res)  # 2: a warning such as a low open file limit
        self.assertNotEqual(res["status"], "failure")
        self.assertEqual(find(res, "Parse Configuration")["status"], "success")
        self.assertEqual(find(res, "Create Storage Backend")["status"], "success")
        self.assertIn("creates it", find(res, "Create Storage Backend")["message"])
        self.assertEqual(find(res, "Create Listener")["status"], "success")
        self.assertEqual(find(res, "Check TLS")["status"], "success")  # loopback
        self.assertEqual(find(res, "Check Seal")["status"], "success")
        self.assertIn(find(res, "Check Memory Locking")["status"], ("success", "warning"))
        table = self.diagnose("-config=" + self.write()).stdout
        self.assertTrue(table.startswith("[ "), table)
        self.assertIn("  [ success ] Parse Configuration", table)

    def test_a_syntax_error_fails(self):
        path = os.path.join(self.dir, "bad.hcl")
        with open(path, "w") as f:
            f.write('storage "local" {\n  path = \n}\n')
        code, res = self.json_of(path)
        self.assertEqual(code, 1)
        self.assertEqual(res["status"], "failure")
        parse = find(res, "Parse Configuration")
        self.assertEqual(parse["status"], "failure")
        self.assertIn("bad.hcl", parse["message"])

    def test_a_taken_port_warns(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        port = s.getsockname()[1]
        code, res = self.json_of(self.write(
            listener='address = "127.0.0.1:%d"\n  tls_disable = true\n' % port))
        self.assertEqual(code, 2, res)
        listener = find(res, "Create Listener")
        self.assertEqual(listener["status"], "warning")
        self.assertIn("cannot listen", listener["message"])
        self.assertIn("advice", listener)

    def test_certificates_expired_and_expiring(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        code, res = self.json_of(self.write(
            listener=self.cert("old", now - datetime.timedelta(days=30),
                               now - datetime.timedelta(days=1))))
        self.assertEqual(code, 1)
        self.assertEqual(find(res, "Check TLS Certificate")["status"], "failure")
        self.assertIn("has expired", find(res, "Check TLS Certificate")["message"])
        code, res = self.json_of(self.write(
            listener=self.cert("soon", now - datetime.timedelta(days=1),
                               now + datetime.timedelta(days=10))))
        self.assertEqual(find(res, "Check TLS Certificate")["status"], "warning")
        self.assertRegex(find(res, "Check TLS Certificate")["message"], r"expires in (9|10) days")
        code, res = self.json_of(self.write(
            listener=self.cert("good", now - datetime.timedelta(days=1),
                               now + datetime.timedelta(days=365))))
        self.assertEqual(find(res, "Check TLS Certificate")["status"], "success")
        self.assertEqual(find(res, "Create Listener")["status"], "success")

    def test_storage_seal_and_skip(self):
        afile = os.path.join(self.dir, "a-file")
        open(afile, "w").close()
        code, res = self.json_of(self.write(storage=afile))
        self.assertEqual(code, 1)
        self.assertIn("not a directory", find(res, "Create Storage Backend")["message"])
        code, res = self.json_of(self.write(storage=afile), "-skip=storage")
        self.assertEqual(find(res, "Check Storage")["status"], "skipped")
        self.assertNotEqual(res["status"], "failure")
        code, res = self.json_of(self.write(extra='seal "awskms" {\n  region = "x"\n}\n'))
        self.assertEqual(code, 1)
        self.assertIn("auto-unseal is not available", find(res, "Check Seal")["message"])

    def test_usage_errors(self):
        r = self.diagnose()
        self.assertEqual(r.returncode, 3)
        self.assertIn("-config=FILE is required", r.stderr)
        r = self.diagnose("-config=" + self.write(), "-format=xml")
        self.assertEqual(r.returncode, 3)
        r = self.diagnose("-config=" + self.write(), "-skip=everything")
        self.assertEqual(r.returncode, 3)
        self.assertIn("unknown -skip", r.stderr)


if __name__ == "__main__":
    unittest.main()
