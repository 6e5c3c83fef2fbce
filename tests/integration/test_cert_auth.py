"""TLS certificate auth (auth/cert) over a real mTLS listener: a client
certificate issued by the trusted CA logs in with the entry's policies; one
from another CA, an expired one, one whose name is not allowed, and no
certificate at all are refused without creating a token; hvac's cert login
works; tls_require_and_verify_client_cert refuses the handshake without a
certificate."""

import datetime
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import harness

try:
    import hvac
except ImportError:  # hvac is in scripts/install-deps; the test says so if absent
    hvac = None

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=10))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, cn, dns=None, client=True, ip=None, days=(-1, 10)):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(d) for d in (dns or [])]
    if ip:
        import ipaddress
        sans.append(x509.IPAddress(ipaddress.ip_address(ip)))
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW + datetime.timedelta(days=days[0]))
         .not_valid_after(NOW + datetime.timedelta(days=days[1]))
         .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                        critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


def write_pair(directory, name, key, cert):
    cert_path = os.path.join(directory, name + ".pem")
    key_path = os.path.join(directory, name + "-key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class CertAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="coffer-cert-")
        server_ca_key, server_ca = make_ca("server-ca")
        cls.server_ca = write_pair(cls.dir, "server-ca", server_ca_key, server_ca)[0]
        skey, scert = make_leaf(server_ca_key, server_ca, "127.0.0.1", client=False,
                                ip="127.0.0.1")
        cls.server_cert, cls.server_key = write_pair(cls.dir, "server", skey, scert)
        ca_key, ca = make_ca("clients-ca")
        cls.ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
        cls.ca_file = write_pair(cls.dir, "clients-ca", ca_key, ca)[0]
        good_key, cls.good_cert = make_leaf(ca_key, ca, "web.example.com", ["web.example.com"])
        cls.good = write_pair(cls.dir, "good", good_key, cls.good_cert)
        cls.second = write_pair(cls.dir, "second",
                                *make_leaf(ca_key, ca, "api.example.com", ["api.example.com"]))
        cls.other_name = write_pair(cls.dir, "other",
                                    *make_leaf(ca_key, ca, "evil.other.org", ["evil.other.org"]))
        cls.expired = write_pair(cls.dir, "expired",
                                 *make_leaf(ca_key, ca, "old.example.com", days=(-10, -1)))
        rogue_key, rogue = make_ca("rogue-ca")
        cls.rogue = write_pair(cls.dir, "rogue",
                               *make_leaf(rogue_key, rogue, "web.example.com"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, extra=""):
        config = os.path.join(self.dir, "cert.hcl")
        with open(config, "w") as f:
            f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n'
                    '  tls_cert_file = "%s"\n  tls_key_file = "%s"\n%s}\n'
                    'disable_mlock = true\n' % (self.server_cert, self.server_key, extra))
        s = harness.Server(["server", "-config=" + config]).start()
        self.addCleanup(s.cleanup)
        _, init, _ = self.call(s, "PUT", "/v1/sys/init",
                               {"secret_shares": 1, "secret_threshold": 1}, client=self.good)
        self.call(s, "PUT", "/v1/sys/unseal", {"key": init["keys"][0]}, client=self.good)
        return s, init["root_token"]

    def call(self, s, method, path, body=None, token=None, client=None):
        ctx = ssl.create_default_context(cafile=self.server_ca)
        if client:
            ctx.load_cert_chain(client[0], client[1])
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(s.addr + path, data=data, method=method)
        if token:
            req.add_header("X-Vault-Token", token)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None), r.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, (json.loads(raw) if raw else None), e.headers

    def setup_cert_auth(self, s, root):
        code, body, _ = self.call(s, "POST", "/v1/sys/auth/cert", {"type": "cert"}, root,
                                  client=self.good)
        self.assertEqual(code, 204, body)
        code, body, _ = self.call(s, "POST", "/v1/auth/cert/certs/web",
                                  {"certificate": self.ca_pem, "token_policies": "web",
                                   "allowed_common_names": "*.example.com",
                                   "display_name": "web"}, root, client=self.good)
        self.assertEqual(code, 204, body)

    def accessors(self, s, root):
        _, body, _ = self.call(s, "LIST", "/v1/auth/token/accessors", None, root,
                               client=self.good)
        return len(body["data"]["keys"])

    def test_login_and_refusals(self):
        s, root = self.start()
        self.setup_cert_auth(s, root)
        code, body, _ = self.call(s, "GET", "/v1/auth/cert/certs/web", None, root,
                                  client=self.good)
        self.assertEqual(code, 200)
        self.assertEqual(body["data"]["allowed_common_names"], ["*.example.com"])
        self.assertEqual(body["data"]["token_policies"], ["web"])
        # Without a display_name the entry's name is stored as one, as in Vault.
        code, body, _ = self.call(s, "POST", "/v1/auth/cert/certs/plain",
                                  {"certificate": self.ca_pem}, root, client=self.good)
        self.assertEqual(code, 204, body)
        code, body, _ = self.call(s, "GET", "/v1/auth/cert/certs/plain", None, root,
                                  client=self.good)
        self.assertEqual(body["data"]["display_name"], "plain")
        self.call(s, "DELETE", "/v1/auth/cert/certs/plain", None, root, client=self.good)

        code, body, _ = self.call(s, "POST", "/v1/auth/cert/login", {}, client=self.good)
        self.assertEqual(code, 200, body)
        auth = body["auth"]
        self.assertIn("web", auth["policies"])
        self.assertEqual(auth["metadata"]["cert_name"], "web")
        self.assertEqual(auth["metadata"]["common_name"], "web.example.com")
        # The serial in decimal, as Vault reports it.
        self.assertEqual(auth["metadata"]["serial_number"], str(self.good_cert.serial_number))
        code, me, _ = self.call(s, "GET", "/v1/auth/token/lookup-self", None,
                                auth["client_token"], client=self.good)
        self.assertEqual(code, 200)
        self.assertEqual(me["data"]["display_name"], "cert-web")

        before = self.accessors(s, root)
        for client, why in ((self.rogue, "another CA"), (self.other_name, "name not allowed"),
                            (self.expired, "expired"), (None, "no certificate")):
            code, body, _ = self.call(s, "POST", "/v1/auth/cert/login", {"name": "web"},
                                      client=client)
            self.assertEqual(code, 400, why)
            self.assertNotIn("auth", body or {}, why)
        code, body, _ = self.call(s, "POST", "/v1/auth/cert/login", {}, client=None)
        self.assertEqual(body["errors"], ["client certificate must be supplied"])
        self.assertEqual(self.accessors(s, root), before)

    def test_renewal_is_bound_to_the_login_certificate(self):
        # As Vault's cert method: a token renews only for the client that
        # presents the certificate it logged in with, unless the mount's
        # config says disable_binding; and only while its entry keeps the
        # same token_policies.
        s, root = self.start()
        self.setup_cert_auth(s, root)
        code, body, _ = self.call(s, "POST", "/v1/auth/cert/login", {}, client=self.good)
        self.assertEqual(code, 200, body)
        token = body["auth"]["client_token"]
        self.assertNotIn("certificate_sha256", json.dumps(body))

        def renew(client):
            return self.call(s, "POST", "/v1/auth/token/renew-self", {}, token, client=client)

        code, body, _ = renew(self.good)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["auth"]["client_token"], token)
        # Another certificate the entry accepts, or none: refused.
        code, body, _ = renew(self.second)
        self.assertEqual(code, 400, body)
        self.assertIn("client identity during renewal not matching", body["errors"][0])
        code, body, _ = renew(None)
        self.assertEqual(code, 400, body)
        self.assertEqual(body["errors"], ["client certificate must be supplied"])
        # The token itself still works without the certificate.
        code, _, _ = self.call(s, "GET", "/v1/auth/token/lookup-self", None, token)
        self.assertEqual(code, 200)
        # Nothing reports the fingerprint the token keeps.
        _, me, _ = self.call(s, "GET", "/v1/auth/token/lookup-self", None, token,
                             client=self.good)
        self.assertNotIn("certificate_sha256", json.dumps(me))

        code, body, _ = self.call(s, "GET", "/v1/auth/cert/config", None, root,
                                  client=self.good)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["data"], {"disable_binding": False})
        code, body, _ = self.call(s, "POST", "/v1/auth/cert/config", {"disable_binding": True},
                                  root, client=self.good)
        self.assertEqual(code, 204, body)
        code, body, _ = renew(None)
        self.assertEqual(code, 200, body)

        # A changed token_policies stops the renewals.
        code, body, _ = self.call(s, "POST", "/v1/auth/cert/certs/web",
                                  {"token_policies": "web,extra"}, root, client=self.good)
        self.assertEqual(code, 204, body)
        code, body, _ = renew(self.good)
        self.assertEqual(code, 400, body)
        self.assertEqual(body["errors"], ["policies have changed, not renewing"])

    @unittest.skipIf(hvac is None, "python3-hvac is not installed")
    def test_hvac_cert_login(self):
        s, root = self.start()
        self.setup_cert_auth(s, root)
        client = hvac.Client(url=s.addr, verify=self.server_ca, cert=self.good)
        resp = client.auth.cert.login(name="web")
        self.assertIn("web", resp["auth"]["policies"])
        self.assertTrue(client.is_authenticated())

    def test_cli_login_with_client_certificate(self):
        s, root = self.start()
        self.setup_cert_auth(s, root)
        home = tempfile.mkdtemp(prefix="coffer-cert-home-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "COFFER_ADDR": s.addr,
               "COFFER_CACERT": self.server_ca}
        r = subprocess.run([harness.COFFER_BIN, "login", "-method=cert",
                            "-client-cert=" + self.good[0], "-client-key=" + self.good[1],
                            "-format=json", "name=web"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        auth = json.loads(r.stdout)["auth"]
        self.assertIn("web", auth["policies"])
        with open(os.path.join(home, ".coffer-token")) as f:
            self.assertEqual(f.read().strip(), auth["client_token"])
        # A certificate from another CA: refused, nothing stored.
        os.remove(os.path.join(home, ".coffer-token"))
        env["COFFER_CLIENT_CERT"], env["COFFER_CLIENT_KEY"] = self.rogue
        r = subprocess.run([harness.COFFER_BIN, "login", "-method=cert"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("invalid certificate", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(home, ".coffer-token")))

    def test_require_and_verify_client_cert(self):
        s, root = self.start('  tls_require_and_verify_client_cert = true\n'
                             '  tls_client_ca_file = "%s"\n' % self.ca_file)
        code, _, _ = self.call(s, "GET", "/v1/sys/health", client=self.good)
        self.assertEqual(code, 200)
        for client in (None, self.rogue):
            with self.assertRaises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
                self.call(s, "GET", "/v1/sys/health", client=client)


if __name__ == "__main__":
    unittest.main()
