"""The LDAP auth method against a real OpenLDAP server (Debian's slapd,
started here on 127.0.0.1 with a directory of people, groups and a service
account, over ldap:// and ldaps://), driven by hvac (python3-hvac) and the
CLI: a user logs in with the policies of her directory groups, by the
direct bind (userdn + userattr) and by a search as the service account;
wrong passwords, empty passwords and filter metacharacters are refused
without a token; the bind password is never read back or logged; ldaps
verifies the server against the configured certificate; the directory's
groups are the login's group aliases for external identity groups."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import hvac

import harness
from test_jwt_auth import self_signed_cert

ROOT = "ldap-auth-test-root"
BASE = "dc=example,dc=org"
SERVICE_PW = "service-pw-7c1e"
ALICE_PW = "alice-pw-93ab"
BOB_PW = "bob-pw-5d02"

LDIF = """dn: {base}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{base}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{base}
objectClass: organizationalUnit
ou: services

dn: uid=alice,ou=people,{base}
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
userPassword: {alice}

dn: uid=bob,ou=people,{base}
objectClass: inetOrgPerson
uid: bob
cn: Bob Stone
sn: Stone
userPassword: {bob}

dn: cn=coffer,ou=services,{base}
objectClass: person
cn: coffer
sn: service
userPassword: {service}

dn: cn=dev,ou=groups,{base}
objectClass: groupOfNames
cn: dev
member: uid=alice,ou=people,{base}

dn: cn=ops,ou=groups,{base}
objectClass: posixGroup
cn: ops
gidNumber: 5000
memberUid: bob
memberUid: alice
""".format(base=BASE, alice=ALICE_PW, bob=BOB_PW, service=SERVICE_PW)

SLAPD_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
TLSCertificateFile {d}/cert.pem
TLSCertificateKeyFile {d}/key.pem
database mdb
maxsize 10485760
suffix "{base}"
rootdn "cn=admin,{base}"
rootpw admin-secret-1f
directory {d}/db
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Slapd:
    """slapd on 127.0.0.1 (ldap:// and ldaps://) with the directory above."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-slapd-")
        os.mkdir(os.path.join(self.dir, "db"))
        self.cert, key = self_signed_cert("127.0.0.1")
        for name, text in (("cert.pem", self.cert), ("key.pem", key),
                           ("data.ldif", LDIF),
                           ("slapd.conf", SLAPD_CONF.format(d=self.dir, base=BASE))):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        conf = os.path.join(self.dir, "slapd.conf")
        subprocess.run(["/usr/sbin/slapadd", "-f", conf, "-l",
                        os.path.join(self.dir, "data.ldif")],
                       check=True, capture_output=True, timeout=60)
        self.port, self.tls_port = free_port(), free_port()
        self.url = "ldap://127.0.0.1:%d" % self.port
        self.tls_url = "ldaps://127.0.0.1:%d" % self.tls_port
        self.proc = subprocess.Popen(
            ["/usr/sbin/slapd", "-f", conf, "-h", self.url + "/ " + self.tls_url + "/",
             "-d", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("slapd did not start: " + self.proc.stderr.read().decode())
                time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, True)


class LdapAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.slapd = Slapd()
        cls.server = harness.start_dev(root_token=ROOT)
        cls.root = hvac.Client(url=cls.server.addr, token=ROOT)
        for name, path in (("dev-read", "dev"), ("ops-read", "ops"), ("alice-own", "alice")):
            cls.root.sys.create_or_update_policy(
                name, 'path "secret/data/%s/*" { capabilities = ["read"] }' % path)
        cls.root.secrets.kv.v2.create_or_update_secret("dev/db", secret={"pw": "dev-db"})
        # The direct bind: the user's DN is uid=<name>,ou=people.
        cls.root.sys.enable_auth_method("ldap")
        cls.root.auth.ldap.configure(
            url=cls.slapd.url, user_dn="ou=people," + BASE, user_attr="uid",
            group_dn="ou=groups," + BASE)
        cls.root.auth.ldap.create_or_update_group("dev", policies=["dev-read"])
        cls.root.auth.ldap.create_or_update_group("ops", policies=["ops-read"])
        cls.root.auth.ldap.create_or_update_user("alice", policies=["alice-own"])

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.slapd.stop()

    def anonymous(self):
        return hvac.Client(url=self.server.addr)

    def accessor_count(self):
        return len(self.root.list("auth/token/accessors")["data"]["keys"])

    def test_login_gets_the_policies_of_the_users_groups(self):
        auth = self.anonymous().auth.ldap.login("alice", ALICE_PW)["auth"]
        self.assertEqual(auth["policies"], ["alice-own", "default", "dev-read", "ops-read"])
        self.assertEqual(auth["metadata"], {"username": "alice"})
        user = hvac.Client(url=self.server.addr, token=auth["client_token"])
        secret = user.secrets.kv.v2.read_secret_version("dev/db")
        self.assertEqual(secret["data"]["data"]["pw"], "dev-db")
        me = user.lookup_token()["data"]
        self.assertEqual(me["display_name"], "ldap-alice")
        self.assertEqual(me["path"], "auth/ldap/login/alice")
        entity = self.root.secrets.identity.read_entity(me["entity_id"])["data"]
        # With the direct bind the alias is the user's DN, as in Vault.
        self.assertEqual(entity["aliases"][0]["name"], "uid=alice,ou=people," + BASE)
        # bob is in ops only (a posixGroup's memberUid).
        bob = self.anonymous().auth.ldap.login("bob", BOB_PW)["auth"]
        self.assertEqual(bob["policies"], ["default", "ops-read"])
        # Another case or surrounding spaces is the same user: the same
        # groups (memberUid compares case), the same entity, so login MFA
        # on alice's entity cannot be escaped by typing "ALICE".
        upper = self.anonymous().auth.ldap.login(" ALICE", ALICE_PW)["auth"]
        self.assertEqual(upper["policies"], auth["policies"])
        self.assertEqual(upper["entity_id"], me["entity_id"])
        self.assertEqual(upper["metadata"], {"username": "alice"})

    def test_renewal_binds_again_and_compares_the_policies(self):
        # The renewal binds with the login's password (kept with the token)
        # and looks the groups up again; a group mapping that changed since
        # the login stops it, as in Vault.
        auth = self.anonymous().auth.ldap.login("bob", BOB_PW)["auth"]
        bob = hvac.Client(url=self.server.addr, token=auth["client_token"])
        renewed = bob.auth.token.renew_self()["auth"]
        self.assertEqual(renewed["policies"], ["default", "ops-read"])
        # The password is kept, never shown.
        self.assertNotIn(BOB_PW, str(bob.lookup_token()))
        self.assertNotIn(BOB_PW, str(self.root.lookup_token(auth["client_token"])))
        self.root.auth.ldap.create_or_update_group("ops", policies=["ops-read", "more"])
        try:
            with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
                bob.auth.token.renew_self()
            self.assertIn("policies have changed, not renewing", str(caught.exception))
        finally:
            self.root.auth.ldap.create_or_update_group("ops", policies=["ops-read"])
        self.assertEqual(bob.auth.token.renew_self()["auth"]["policies"], ["default", "ops-read"])
        self.assertNotIn(BOB_PW, self.server.log())

    def test_refusals_make_no_token(self):
        before = self.accessor_count()
        for username, password, want in (
                ("alice", "wrong", "ldap operation failed: failed to bind as user"),
                ("nobody", ALICE_PW, "ldap operation failed: failed to bind as user"),
                ("alice", "", "password cannot be of zero length"),
                ("alice)(uid=*", ALICE_PW, "ldap operation failed: failed to bind as user"),
                ("*", ALICE_PW, "ldap operation failed: failed to bind as user")):
            with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
                self.anonymous().auth.ldap.login(username, password)
            self.assertIn(want, str(caught.exception), username)
        self.assertEqual(self.accessor_count(), before)
        log = self.server.log()
        self.assertNotIn(ALICE_PW, log)

    def test_search_as_a_service_account_and_external_groups(self):
        self.root.sys.enable_auth_method("ldap", path="corp")
        self.root.auth.ldap.configure(
            url=self.slapd.url, user_dn="ou=people," + BASE, user_attr="uid",
            group_dn="ou=groups," + BASE, bind_dn="cn=coffer,ou=services," + BASE,
            bind_pass=SERVICE_PW, mount_point="corp")
        # Group searches in pages of one entry (RFC 2696): alice's two groups
        # take two pages.
        self.root.write("auth/corp/config", max_page_size=1)
        config = self.root.auth.ldap.read_configuration(mount_point="corp")["data"]
        self.assertEqual(config["max_page_size"], 1)
        self.assertEqual(config["binddn"], "cn=coffer,ou=services," + BASE)
        self.assertNotIn("bindpass", config)
        # The directory's groups are external identity groups' aliases.
        accessor = self.root.sys.list_auth_methods()["corp/"]["accessor"]
        for name, alias, policy in (("developers", "dev", "dev-read"),
                                    ("operators", "ops", "ops-read")):
            group = self.root.secrets.identity.create_or_update_group(
                name=name, group_type="external", policies=[policy])["data"]["id"]
            self.root.secrets.identity.create_or_update_group_alias(
                name=alias, mount_accessor=accessor, canonical_id=group)
        auth = self.anonymous().auth.ldap.login("alice", ALICE_PW, mount_point="corp")["auth"]
        self.assertEqual(auth["token_policies"], ["default"])  # no groups mapped on this mount
        self.assertEqual(auth["identity_policies"], ["dev-read", "ops-read"])
        user = hvac.Client(url=self.server.addr, token=auth["client_token"])
        me = user.lookup_token()["data"]
        self.assertEqual(me["identity_policies"], ["dev-read", "ops-read"])
        entity = self.root.secrets.identity.read_entity(me["entity_id"])["data"]
        # Found by a search, the alias is the userattr's value.
        self.assertEqual(entity["aliases"][0]["name"], "alice")
        # A wrong service password: the login cannot search for the user.
        self.root.auth.ldap.configure(bind_pass="wrong", mount_point="corp")
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.anonymous().auth.ldap.login("alice", ALICE_PW, mount_point="corp")
        self.assertNotIn(SERVICE_PW, self.server.log())

    def test_ldaps_verifies_the_server(self):
        self.root.sys.enable_auth_method("ldap", path="secure")
        self.root.write("auth/secure/config", url=self.slapd.tls_url,
                        userdn="ou=people," + BASE, userattr="uid",
                        groupdn="ou=groups," + BASE, certificate=self.slapd.cert)
        auth = self.anonymous().auth.ldap.login("bob", BOB_PW, mount_point="secure")["auth"]
        self.assertTrue(auth["client_token"])
        # Another CA: the TLS handshake fails and nobody logs in.
        other, _ = self_signed_cert("127.0.0.1")
        self.root.write("auth/secure/config", certificate=other)
        # A directory Coffer cannot reach (or trust) is 503, not the user's
        # failed login: five of them lock nobody out.
        for _ in range(6):
            with self.assertRaises(hvac.exceptions.VaultDown) as caught:
                self.anonymous().auth.ldap.login("bob", BOB_PW, mount_point="secure")
        self.assertIn("error connecting", str(caught.exception))
        # starttls on an ldaps:// URL is ignored (the connection is TLS
        # already), and a request_timeout of 0 is no limit, as in Vault.
        self.root.write("auth/secure/config", certificate=self.slapd.cert, starttls=True,
                        request_timeout=0)
        auth = self.anonymous().auth.ldap.login("bob", BOB_PW, mount_point="secure")["auth"]
        self.assertTrue(auth["client_token"])
        self.root.write("auth/secure/config", starttls=False, request_timeout="90s")
        # StartTLS on the plain port, with the same certificate.
        self.root.write("auth/secure/config", url=self.slapd.url, starttls=True,
                        certificate=self.slapd.cert)
        auth = self.anonymous().auth.ldap.login("bob", BOB_PW, mount_point="secure")["auth"]
        self.assertTrue(auth["client_token"])
        self.root.write("auth/secure/config", certificate=other)
        with self.assertRaises(hvac.exceptions.VaultDown) as caught:
            self.anonymous().auth.ldap.login("bob", BOB_PW, mount_point="secure")
        self.assertIn("StartTLS failed", str(caught.exception))
        # A certificate that is not one is refused at config.
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.root.write("auth/secure/config", certificate="not a certificate")

    def test_cli_login(self):
        home = tempfile.mkdtemp(prefix="coffer-ldap-cli-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "HOME": home})
        r = subprocess.run([harness.COFFER_BIN, "login", "-method=ldap", "username=alice",
                            "password=-"], input=ALICE_PW, capture_output=True, text=True,
                           env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn(ALICE_PW, r.stdout + r.stderr)
        with open(os.path.join(home, ".coffer-token")) as f:
            token = f.read().strip()
        me = hvac.Client(url=self.server.addr, token=token).lookup_token()["data"]
        self.assertEqual(me["meta"]["username"], "alice")


if __name__ == "__main__":
    unittest.main()
