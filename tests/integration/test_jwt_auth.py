"""JWT auth against a real dev server and a JWKS served by a local HTTP
server (127.0.0.1, port 0) with keys made by python3-cryptography: a valid
token logs in with the role's policies; expired, wrong audience, wrong
signature, alg none, HS256 keyed with the public key, unknown kid and
claims that don't match are answered 400 without creating a token (the
accessor count is unchanged) and without echoing the JWT; a key rotated in
at the JWKS (new kid) is picked up without a restart; unknown kids do not
make the server hammer the JWKS; OIDC discovery works; an HTTPS JWKS is
trusted only with the right jwks_ca_pem and host name."""

import base64
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import harness

ROOT = "jwt-auth-test-root"
AUDIENCE = "https://github.com/acme"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint_b64(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64url(n.to_bytes(size, "big"))


class Key:
    """A signing key with its JWK."""

    def __init__(self, kind, kid):
        self.kind, self.kid = kind, kid
        if kind == "RS256":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pub = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "n": uint_b64(pub.n), "e": uint_b64(pub.e)}
        else:
            self.priv = ec.generate_private_key(ec.SECP256R1())
            pub = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "x": uint_b64(pub.x, 32),
                        "y": uint_b64(pub.y, 32)}
        self.jwk.update({"kid": kid, "use": "sig", "alg": kind})

    def pem(self):
        return self.priv.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, claims, header=None):
        hdr = {"alg": self.kind, "typ": "JWT", "kid": self.kid}
        hdr.update(header or {})
        signing_input = (b64url(json.dumps(hdr).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        if self.kind == "RS256":
            sig = self.priv.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.priv.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input.decode() + "." + b64url(sig)


def self_signed_cert(common_name):
    """A self-signed certificate for 127.0.0.1 → (cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


class JwksServer:
    """Serves JSON documents by path; counts the requests per path. With
    tls=(cert_pem, key_pem) it serves HTTPS."""

    def __init__(self, tls=None):
        self.docs = {}
        self.hits = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                    doc = outer.docs.get(self.path)
                if doc is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            with tempfile.TemporaryDirectory() as d:
                cert_path, key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
                with open(cert_path, "w") as f:
                    f.write(tls[0])
                with open(key_path, "w") as f:
                    f.write(tls[1])
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cert_path, key_path)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, path, doc):
        with self.lock:
            self.docs[path] = doc

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class JwtAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.jwks = JwksServer()
        cls.key = Key("RS256", "k1")
        cls.jwks.set("/jwks", {"keys": [cls.key.jwk]})
        cls.server = harness.start_dev(root_token=ROOT)
        cls.call("PUT", "sys/policies/acl/ci-read",
                 {"policy": 'path "secret/data/ci/*" { capabilities = ["read"] }'}, (204, 200))
        cls.call("POST", "secret/data/ci/deploy", {"data": {"api_key": "deploy-key"}}, (200,))
        cls.call("POST", "sys/auth/jwt", {"type": "jwt"}, (200, 204))
        cls.call("POST", "auth/jwt/config",
                 {"jwks_url": cls.jwks.url + "/jwks",
                  "bound_issuer": "https://token.actions.githubusercontent.com"}, (204,))
        cls.call("POST", "auth/jwt/role/deploy", {
            "role_type": "jwt",
            "user_claim": "actor",
            "bound_audiences": [AUDIENCE],
            "bound_claims_type": "glob",
            "bound_claims": {"repository": "acme/*", "ref": "refs/heads/main"},
            "claim_mappings": {"repository": "repository", "workflow": "workflow"},
            "token_policies": ["ci-read"],
            "token_ttl": "10m",
        }, (204,))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.jwks.stop()

    @classmethod
    def call(cls, method, path, body=None, want=None, token=ROOT):
        st, data, _ = cls.server.request(method, "/v1/" + path, body, token=token)
        if want is not None:
            assert st in want, (method, path, st, data)
        return st, data

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": "https://token.actions.githubusercontent.com", "aud": AUDIENCE,
             "sub": "repo:acme/app:ref:refs/heads/main", "repository": "acme/app",
             "ref": "refs/heads/main", "actor": "octocat", "workflow": "deploy",
             "iat": now, "nbf": now - 5, "exp": now + 300}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def login(self, jwt, role="deploy", mount="jwt"):
        return self.call("POST", "auth/%s/login" % mount, {"role": role, "jwt": jwt}, token=None)

    def accessor_count(self):
        st, data = self.call("LIST", "auth/token/accessors", want=(200,))
        return len(data["data"]["keys"])

    def test_valid_token_logs_in_with_role_policies(self):
        st, data = self.login(self.key.sign(self.claims()))
        self.assertEqual(st, 200, data)
        auth = data["auth"]
        self.assertIn("ci-read", auth["policies"])
        self.assertEqual(auth["lease_duration"], 600)
        self.assertEqual(auth["metadata"]["role"], "deploy")
        self.assertEqual(auth["metadata"]["repository"], "acme/app")
        st, secret = self.call("GET", "secret/data/ci/deploy", token=auth["client_token"])
        self.assertEqual(st, 200, secret)
        self.assertEqual(secret["data"]["data"]["api_key"], "deploy-key")
        st, _ = self.call("GET", "sys/policies/acl/ci-read", token=auth["client_token"])
        self.assertEqual(st, 403)

    def test_groups_claim_maps_to_external_groups(self):
        """RBAC from the identity provider: a role with groups_claim puts the
        login's entity into the external groups whose alias (on this mount)
        names one of its groups; the next login's groups replace them."""
        self.call("PUT", "sys/policies/acl/release",
                  {"policy": 'path "secret/data/release/*" { capabilities = ["read"] }'},
                  (204, 200))
        self.call("POST", "secret/data/release/sign", {"data": {"k": "signing-key"}}, (200,))
        self.call("POST", "auth/jwt/role/grouped", {
            "role_type": "jwt", "user_claim": "actor", "groups_claim": "teams",
            "bound_audiences": [AUDIENCE], "token_policies": ["default"]}, (204,))
        _, auth = self.call("GET", "sys/auth", want=(200,))
        accessor = auth["data"]["jwt/"]["accessor"]
        _, group = self.call("POST", "identity/group",
                             {"name": "releasers", "type": "external",
                              "policies": ["release"]}, (200,))
        gid = group["data"]["id"]
        st, bad = self.call("POST", "identity/group/id/" + gid,
                            {"member_entity_ids": ["x"]})
        self.assertEqual(st, 400, bad)
        _, alias = self.call("POST", "identity/group-alias",
                             {"name": "release-team", "mount_accessor": accessor,
                              "canonical_id": gid}, (200,))
        self.assertEqual(alias["data"]["canonical_id"], gid)

        st, data = self.login(self.key.sign(self.claims(actor="rel-bot",
                                                        teams=["dev", "release-team"])),
                              role="grouped")
        self.assertEqual(st, 200, data)
        token = data["auth"]["client_token"]
        st, secret = self.call("GET", "secret/data/release/sign", token=token)
        self.assertEqual(st, 200, secret)
        _, g = self.call("GET", "identity/group/id/" + gid, want=(200,))
        self.assertEqual(g["data"]["member_entity_ids"], [data["auth"]["entity_id"]])
        self.assertEqual(g["data"]["alias"]["name"], "release-team")
        _, found = self.call("POST", "identity/lookup/group",
                             {"alias_name": "release-team", "alias_mount_accessor": accessor},
                             (200,))
        self.assertEqual(found["data"]["id"], gid)

        # Out of the team at the provider: the next login takes it away, and
        # the earlier token loses it too (policies are evaluated per request).
        st, data = self.login(self.key.sign(self.claims(actor="rel-bot", teams="dev")),
                              role="grouped")
        self.assertEqual(st, 200, data)
        st, _ = self.call("GET", "secret/data/release/sign", token=token)
        self.assertEqual(st, 403)
        _, g = self.call("GET", "identity/group/id/" + gid, want=(200,))
        self.assertIsNone(g["data"]["member_entity_ids"])  # none left: Go's nil, as Vault

    def test_policy_templates_name_the_mapped_claims(self):
        """The mapped claims are the entity alias's metadata, as in Vault, so
        one templated policy scopes every repository's CI to its own
        subtree: {{identity.entity.aliases.<accessor>.metadata.repository}}."""
        _, auth = self.call("GET", "sys/auth", want=(200,))
        accessor = auth["data"]["jwt/"]["accessor"]
        self.call("PUT", "sys/policies/acl/per-repo", {"policy": (
            'path "secret/data/repos/{{identity.entity.aliases.%s.metadata.repository}}/*" '
            '{ capabilities = ["read"] }') % accessor}, (204, 200))
        self.call("POST", "secret/data/repos/acme/app/db", {"data": {"pw": "app-pw"}}, (200,))
        self.call("POST", "secret/data/repos/acme/web/db", {"data": {"pw": "web-pw"}}, (200,))
        self.call("POST", "auth/jwt/role/per-repo", {
            "role_type": "jwt", "user_claim": "repository", "bound_audiences": [AUDIENCE],
            "claim_mappings": {"repository": "repository"},
            "token_policies": ["per-repo"]}, (204,))
        # The value has a slash, which leaves the path out of the ACL unless
        # the policy allows slashes in template values.
        st, data = self.login(self.key.sign(self.claims(repository="acme/app")), role="per-repo")
        self.assertEqual(st, 200, data)
        st, _ = self.call("GET", "secret/data/repos/acme/app/db",
                          token=data["auth"]["client_token"])
        self.assertEqual(st, 403)
        self.call("PUT", "sys/policies/acl/per-repo", {"policy": (
            'path "secret/data/repos/{{identity.entity.aliases.%s.metadata.repository}}/*" '
            '{ capabilities = ["read"] }') % accessor,
            "allow_slashes_in_identity_templates": True}, (204, 200))
        st, data = self.login(self.key.sign(self.claims(repository="acme/app")), role="per-repo")
        self.assertEqual(st, 200, data)
        token = data["auth"]["client_token"]
        st, own = self.call("GET", "secret/data/repos/acme/app/db", token=token)
        self.assertEqual(st, 200, own)
        self.assertEqual(own["data"]["data"]["pw"], "app-pw")
        st, _ = self.call("GET", "secret/data/repos/acme/web/db", token=token)
        self.assertEqual(st, 403)
        # The alias reports its metadata.
        _, entity = self.call("GET", "identity/entity/id/" + data["auth"]["entity_id"],
                              want=(200,))
        alias = [a for a in entity["data"]["aliases"] if a["mount_accessor"] == accessor][0]
        self.assertEqual(alias["metadata"]["repository"], "acme/app")
        self.assertEqual(alias["metadata"]["role"], "per-repo")

    def test_cli_login_with_a_jwt_file_and_stdin(self):
        home = tempfile.mkdtemp(prefix="coffer-jwt-cli-")
        self.addCleanup(shutil.rmtree, home, True)
        jwt = self.key.sign(self.claims())
        path = os.path.join(home, "ci-token")
        with open(path, "w") as f:
            f.write(jwt + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": home})
        for args, stdin in ((["jwt=@" + path], None), (["jwt=-"], jwt)):
            r = subprocess.run([harness.COFFER_BIN, "login", "-method=jwt", "role=deploy"] + args,
                               input=stdin, capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNotIn(jwt, r.stdout + r.stderr)
            with open(os.path.join(home, ".coffer-token")) as f:
                token = f.read().strip()
            st, secret = self.call("GET", "secret/data/ci/deploy", token=token)
            self.assertEqual(st, 200, secret)
        r = subprocess.run([harness.COFFER_BIN, "login", "-method=jwt", "role=deploy",
                            "jwt=" + self.key.sign(self.claims(aud="someone-else"))],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("aud", r.stderr)

    def test_bad_tokens_are_400_and_create_no_token(self):
        now = int(time.time())
        other = Key("RS256", "k1")  # same kid, different key: wrong signature
        good = self.key.sign(self.claims())
        head, payload, _ = good.split(".")
        hs_input = (b64url(json.dumps({"alg": "HS256", "kid": "k1"}).encode()) + "." + payload)
        hs256 = hs_input + "." + b64url(
            hmac.new(self.key.pem().encode(), hs_input.encode(), hashlib.sha256).digest())
        none = b64url(json.dumps({"alg": "none", "kid": "k1"}).encode()) + "." + payload + "."
        cases = [
            ("expired", self.key.sign(self.claims(iat=now - 900, nbf=now - 900, exp=now - 600)),
             "token is expired"),
            ("wrong audience", self.key.sign(self.claims(aud="https://github.com/evil")),
             "aud claim does not match any bound audience"),
            ("wrong signature", other.sign(self.claims()), "signature verification failed"),
            ("alg none", none, "unsupported algorithm none"),
            ("HS256 with the public key", hs256, "unsupported algorithm HS256"),
            ("unknown kid", Key("RS256", "not-in-jwks").sign(self.claims()), "unknown key id"),
            ("claims not matching", self.key.sign(self.claims(repository="evil/app")),
             'claim "repository" does not match'),
            ("branch not matching", self.key.sign(self.claims(ref="refs/heads/dev")),
             'claim "ref" does not match'),
            ("wrong issuer", self.key.sign(self.claims(iss="https://evil.example")),
             "iss claim does not match"),
            ("not yet valid", self.key.sign(self.claims(nbf=now + 900)), "not yet valid"),
            ("tampered payload", head + "." + b64url(json.dumps(
                self.claims(repository="acme/other")).encode()) + "." + good.split(".")[2],
             "signature verification failed"),
        ]
        before = self.accessor_count()
        for name, jwt, message in cases:
            with self.subTest(name):
                st, data = self.login(jwt)
                self.assertEqual(st, 400, data)
                self.assertIn(message, " ".join(data["errors"]))
                self.assertNotIn(jwt.split(".")[1], json.dumps(data))
                self.assertNotIn("auth", data or {})
        st, data = self.login(good, role="missing")
        self.assertEqual(st, 400, data)
        self.assertEqual(self.accessor_count(), before)
        # And a good token still works afterwards (and adds exactly one).
        self.assertEqual(self.login(good)[0], 200)
        self.assertEqual(self.accessor_count(), before + 1)

    def test_key_rotation_at_the_jwks_is_picked_up(self):
        old = Key("RS256", "rot-1")
        self.jwks.set("/rot/jwks", {"keys": [old.jwk]})
        self.call("POST", "sys/auth/jwt-rot", {"type": "jwt"}, (200, 204))
        self.call("POST", "auth/jwt-rot/config", {"jwks_url": self.jwks.url + "/rot/jwks"},
                  (204,))
        self.call("POST", "auth/jwt-rot/role/r", {"role_type": "jwt", "user_claim": "sub",
                                                   "bound_audiences": AUDIENCE,
                                                   "token_policies": "ci-read"}, (204,))
        claims = self.claims(iss=None)
        self.assertEqual(self.login(old.sign(claims), role="r", mount="jwt-rot")[0], 200)

        new = Key("ES256", "rot-2")  # a new key, new kid, new type; the old one retired
        self.jwks.set("/rot/jwks", {"keys": [new.jwk]})
        jwt = new.sign(claims)
        # Refetches are rate-limited (1 s), so poll rather than sleep.
        deadline = time.monotonic() + 15
        while True:
            st, data = self.login(jwt, role="r", mount="jwt-rot")
            if st == 200 or time.monotonic() > deadline:
                break
            self.assertIn("unknown key id", " ".join(data["errors"]))
            time.sleep(0.2)
        self.assertEqual(st, 200, data)
        self.assertIn("ci-read", data["auth"]["policies"])
        # The retired key no longer verifies once the new set is in place.
        st, data = self.login(old.sign(claims), role="r", mount="jwt-rot")
        self.assertEqual(st, 400, data)

    def test_unknown_kids_do_not_hammer_the_jwks(self):
        self.assertEqual(self.login(self.key.sign(self.claims()))[0], 200)
        before = self.jwks.count("/jwks")
        started = time.monotonic()
        for i in range(30):
            st, _ = self.login(Key("ES256", "bogus-%d" % i).sign(self.claims()))
            self.assertEqual(st, 400)
        elapsed = time.monotonic() - started
        fetched = self.jwks.count("/jwks") - before
        # At most one refetch per second, plus one.
        self.assertLessEqual(fetched, int(elapsed) + 2, (fetched, elapsed))

    def test_oidc_discovery(self):
        issuer = self.jwks.url + "/oidc"
        key = Key("ES256", "d1")
        self.jwks.set("/oidc/.well-known/openid-configuration",
                      {"issuer": issuer, "jwks_uri": self.jwks.url + "/oidc/keys"})
        self.jwks.set("/oidc/keys", {"keys": [key.jwk]})
        self.call("POST", "sys/auth/jwt-oidc", {"type": "jwt"}, (200, 204))
        self.call("POST", "auth/jwt-oidc/config", {"oidc_discovery_url": issuer}, (204,))
        self.call("POST", "auth/jwt-oidc/role/r", {"role_type": "jwt", "user_claim": "sub",
                                                    "bound_subject": "svc"}, (204,))
        now = int(time.time())
        ok = key.sign({"iss": issuer, "sub": "svc", "exp": now + 60})
        st, data = self.login(ok, role="r", mount="jwt-oidc")
        self.assertEqual(st, 200, data)
        self.assertEqual(data["auth"]["metadata"]["role"], "r")
        st, data = self.login(key.sign({"iss": "https://elsewhere", "sub": "svc",
                                        "exp": now + 60}), role="r", mount="jwt-oidc")
        self.assertEqual(st, 400, data)

    def test_https_jwks_with_jwks_ca_pem(self):
        cert, key_pem = self_signed_cert("jwks.test")
        tls = JwksServer(tls=(cert, key_pem))
        self.addCleanup(tls.stop)
        key = Key("RS256", "t1")
        tls.set("/jwks", {"keys": [key.jwk]})
        self.call("POST", "sys/auth/jwt-tls", {"type": "jwt"}, (200, 204))
        # Without the CA the server's certificate is not trusted.
        st, data = self.call("POST", "auth/jwt-tls/config", {"jwks_url": tls.url + "/jwks"})
        self.assertEqual(st, 400, data)
        other_ca, _ = self_signed_cert("other")
        st, data = self.call("POST", "auth/jwt-tls/config",
                             {"jwks_url": tls.url + "/jwks", "jwks_ca_pem": other_ca})
        self.assertEqual(st, 400, data)
        self.assertIn("certificate verify failed", data["errors"][0])
        # The right CA, but a host name the certificate does not name.
        st, data = self.call("POST", "auth/jwt-tls/config",
                             {"jwks_url": tls.url.replace("127.0.0.1", "localhost") + "/jwks",
                              "jwks_ca_pem": cert})
        self.assertEqual(st, 400, data)
        self.assertIn("certificate verify failed", data["errors"][0])
        self.call("POST", "auth/jwt-tls/config",
                  {"jwks_url": tls.url + "/jwks", "jwks_ca_pem": cert}, (204,))
        self.call("POST", "auth/jwt-tls/role/r", {"role_type": "jwt", "user_claim": "sub",
                                                   "bound_audiences": AUDIENCE}, (204,))
        st, data = self.login(key.sign(self.claims(iss=None)), role="r", mount="jwt-tls")
        self.assertEqual(st, 200, data)

    def test_config_and_role_are_readable_and_validated(self):
        st, data = self.call("GET", "auth/jwt/config", want=(200,))
        self.assertEqual(data["data"]["jwks_url"], self.jwks.url + "/jwks")
        st, data = self.call("GET", "auth/jwt/role/deploy", want=(200,))
        self.assertEqual(data["data"]["bound_audiences"], [AUDIENCE])
        self.assertEqual(data["data"]["clock_skew_leeway"], 60)
        st, data = self.call("LIST", "auth/jwt/role", want=(200,))
        self.assertIn("deploy", data["data"]["keys"])
        st, data = self.call("POST", "auth/jwt/config", {"jwks_url": self.jwks.url + "/nope"})
        self.assertEqual(st, 400, data)
        st, data = self.call("POST", "auth/jwt/role/bad", {"bound_audiences": "x"})
        self.assertEqual(st, 400, data)
        # The config and roles need a token.
        st, _ = self.call("GET", "auth/jwt/config", token=None)
        self.assertIn(st, (400, 403))


if __name__ == "__main__":
    unittest.main()
