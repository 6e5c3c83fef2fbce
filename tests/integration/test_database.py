"""The database secrets engine against a real PostgreSQL 15 (Debian's
packages), started by the test on 127.0.0.1 in a temp directory."""

import json
import os
import shutil
import tempfile
import time
import unittest

import harness
import pg_helper
from pg_helper import poll

CREATION = ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
            "VALID UNTIL '{{expiration}}';",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";"]


@unittest.skipUnless(pg_helper.available(),
                     "PostgreSQL 15 binaries not found in /usr/lib/postgresql/15/bin "
                     "(scripts/install-deps installs them)")
class DatabaseEngineTest(unittest.TestCase):
    def setUp(self):
        self.pg = pg_helper.Postgres().start()
        self.addCleanup(self.pg.stop)
        self.data_dir = tempfile.mkdtemp(prefix="coffer-it-db-")
        self.addCleanup(shutil.rmtree, self.data_dir, True)
        self.server = None
        self.start_coffer(init=True)
        self.addCleanup(lambda: self.server and self.server.stop())
        self.req("POST", "/v1/sys/mounts/database", {"type": "database"}, 204)
        self.configure()

    # --- helpers ---------------------------------------------------------

    def start_coffer(self, init=False):
        config = os.path.join(self.data_dir, "config.hcl")
        if not os.path.exists(config):
            harness.write_config(self.data_dir)
        self.server = harness.Server(["server", "-config=" + config],
                                     data_dir=self.data_dir).start()
        if init:
            st, body, _ = self.server.request("PUT", "/v1/sys/init",
                                              {"secret_shares": 1, "secret_threshold": 1})
            self.assertEqual(st, 200, body)
            self.key = body["keys"][0]
            self.token = body["root_token"]
        st, body, _ = self.server.request("PUT", "/v1/sys/unseal", {"key": self.key})
        self.assertEqual(st, 200, body)
        self.assertFalse(body["sealed"])

    def req(self, method, path, body=None, expect=None):
        st, out, _ = self.server.request(method, path, body, token=self.token)
        if expect is not None:
            self.assertEqual(st, expect, "%s %s -> %s %s" % (method, path, st, out))
        return st, out

    def configure(self, **extra):
        body = {"plugin_name": "postgresql-database-plugin", "connection_url": self.pg.url(),
                "username": self.pg.admin_user, "password": self.pg.admin_password,
                "allowed_roles": "*", "max_open_connections": 4}
        body.update(extra)
        self.req("POST", "/v1/database/config/pg", body, 204)

    def make_role(self, name="app", ttl="1h", **extra):
        body = {"db_name": "pg", "creation_statements": CREATION, "default_ttl": ttl,
                "max_ttl": "24h"}
        body.update(extra)
        self.req("POST", "/v1/database/roles/" + name, body, 204)

    def creds(self, role="app"):
        _, out = self.req("GET", "/v1/database/creds/" + role, None, 200)
        self.assertTrue(out["lease_id"].startswith("database/creds/" + role + "/"))
        return out

    def can_login(self, user, password):
        rc, out, _ = self.pg.psql(user, password, "SELECT 1")
        return rc == 0 and out == "1"

    # --- tests -----------------------------------------------------------

    def test_config_read_never_returns_password(self):
        _, out = self.req("GET", "/v1/database/config/pg", None, 200)
        text = str(out)
        self.assertNotIn(self.pg.admin_password, text)
        self.assertEqual(out["data"]["plugin_name"], "postgresql-database-plugin")
        self.assertEqual(out["data"]["connection_details"]["username"], "postgres")
        _, lst = self.req("LIST", "/v1/database/config", None, 200)
        self.assertEqual(lst["data"]["keys"], ["pg"])
        # A wrong password fails verification and names no password.
        st, bad = self.server.request("POST", "/v1/database/config/bad", {
            "connection_url": self.pg.url(), "username": "postgres",
            "password": "wrong-pw-canary", "allowed_roles": "*"}, token=self.token)[:2]
        self.assertEqual(st, 400, bad)
        self.assertNotIn("wrong-pw-canary", str(bad))
        # A password written into the URL itself is redacted on read, and a
        # templated one (percent-encoded into the URL) never reaches an error.
        self.req("POST", "/v1/database/config/inurl", {
            "connection_url": "postgresql://admin:url-pw-Canary9@127.0.0.1:1/postgres",
            "verify_connection": False, "allowed_roles": "*"}, 204)
        _, out = self.req("GET", "/v1/database/config/inurl", None, 200)
        self.assertNotIn("url-pw-Canary9", str(out))
        self.assertEqual(out["data"]["connection_details"]["connection_url"],
                         "postgresql://admin:xxxxx@127.0.0.1:1/postgres")
        self.req("POST", "/v1/database/config/typo", {
            "connection_url": "postgresql://{{username}}:{{password}}@[::1]x/postgres",
            "username": "admin", "password": "p@ss/w0rd!", "verify_connection": False,
            "allowed_roles": "*"}, 204)
        self.make_role("typo-role", db_name="typo")
        st, err = self.req("GET", "/v1/database/creds/typo-role")
        self.assertGreaterEqual(st, 400, err)
        self.assertNotIn("p%40ss", str(err))
        self.assertNotIn("p@ss", str(err))

    def test_dynamic_user_can_log_in_and_query(self):
        self.pg.admin("CREATE TABLE widgets (id int); INSERT INTO widgets VALUES (7)")
        self.make_role()
        out = self.creds()
        self.assertTrue(out["renewable"])
        self.assertEqual(out["lease_duration"], 3600)
        user, pw = out["data"]["username"], out["data"]["password"]
        self.assertTrue(user.startswith("v-root-app-"), user)
        self.assertLessEqual(len(user), 63)
        rc, rows, err = self.pg.psql(user, pw, "SELECT id FROM widgets")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rows, "7")
        # Renewal extends the lease and the user's VALID UNTIL.
        _, ren = self.req("PUT", "/v1/sys/leases/renew",
                          {"lease_id": out["lease_id"], "increment": "2h"}, 200)
        self.assertEqual(ren["lease_id"], out["lease_id"])
        until = self.pg.admin("SELECT rolvaliduntil > now() + interval '90 minutes' FROM "
                              "pg_roles WHERE rolname = '%s'" % user)
        self.assertEqual(until, "t")
        # A max tuned down since the issue bounds the renewal, with a warning.
        self.req("POST", "/v1/sys/mounts/database/tune", {"max_lease_ttl": "1h"}, 204)
        _, capped = self.req("PUT", "/v1/sys/leases/renew",
                             {"lease_id": out["lease_id"], "increment": "5h"}, 200)
        self.assertLessEqual(capped["lease_duration"], 3600)
        self.assertIn("exceeded the effective max_ttl", capped["warnings"][0])
        # So does the role's max_ttl lowered since the issue, as Vault's
        # engine returns it with each renewal.
        self.make_role(ttl="10m", max_ttl="20m")
        _, role_capped = self.req("PUT", "/v1/sys/leases/renew",
                                  {"lease_id": out["lease_id"], "increment": "5h"}, 200)
        self.assertLessEqual(role_capped["lease_duration"], 1200)
        self.assertGreater(role_capped["lease_duration"], 1000)
        # Without an increment, the role's default_ttl now, as in Vault (not
        # the last increment).
        _, default = self.req("PUT", "/v1/sys/leases/renew", {"lease_id": out["lease_id"]}, 200)
        self.assertEqual(default["lease_duration"], 600)
        # The engine is asked first: credentials of a deleted role are not
        # renewed, and the lease keeps its expiry.
        _, before = self.req("PUT", "/v1/sys/leases/lookup", {"lease_id": out["lease_id"]}, 200)
        self.req("DELETE", "/v1/database/roles/app", None, 204)
        st, err = self.req("PUT", "/v1/sys/leases/renew",
                           {"lease_id": out["lease_id"], "increment": "10m"})
        self.assertEqual(st, 400, err)
        self.assertEqual(err["errors"], ['could not find role with name: "app"'])
        _, after = self.req("PUT", "/v1/sys/leases/lookup", {"lease_id": out["lease_id"]}, 200)
        self.assertEqual(after["data"]["expire_time"], before["data"]["expire_time"])

    def test_revoke_drops_user_and_terminates_sessions(self):
        self.make_role()
        out = self.creds()
        user, pw = out["data"]["username"], out["data"]["password"]
        session = self.pg.open_session(user, pw)
        self.addCleanup(self._close, session)
        session.stdin.write("SELECT 'ready';\n")
        session.stdin.flush()
        self.assertEqual(session.stdout.readline().strip(), "ready")
        self.assertTrue(poll(lambda: self.pg.admin(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '%s'" % user) == "1"))
        self.req("PUT", "/v1/sys/leases/revoke", {"lease_id": out["lease_id"]}, 204)
        self.assertFalse(self.pg.role_exists(user))
        self.assertTrue(poll(lambda: self.pg.admin(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '%s'" % user) == "0"))
        self.assertTrue(poll(lambda: session.poll() is not None or self._dead(session)))
        self.assertFalse(self.can_login(user, pw))

    @staticmethod
    def _close(session):
        session.kill()
        session.communicate()

    def _dead(self, session):
        try:
            session.stdin.write("SELECT 1;\n")
            session.stdin.flush()
        except (BrokenPipeError, OSError):
            return True
        return False

    def test_revoke_prefix_and_token_revocation(self):
        self.make_role()
        a = self.creds()["data"]["username"]
        self.req("PUT", "/v1/sys/leases/revoke-prefix/database/creds/app", None, 204)
        self.assertFalse(self.pg.role_exists(a))
        _, child = self.req("POST", "/v1/auth/token/create", {"policies": ["root"]}, 200)
        st, out, _ = self.server.request("GET", "/v1/database/creds/app",
                                         token=child["auth"]["client_token"])
        self.assertEqual(st, 200, out)
        b = out["data"]["username"]
        self.assertTrue(self.pg.role_exists(b))
        self.req("POST", "/v1/auth/token/revoke", {"token": child["auth"]["client_token"]}, 204)
        self.assertFalse(self.pg.role_exists(b))

    def lease_exists(self, lease_id):
        st, _ = self.req("PUT", "/v1/sys/leases/lookup", {"lease_id": lease_id})
        return st == 200

    def test_tidy_keeps_the_leases_of_live_tokens(self):
        # sys/leases/tidy revokes leases whose token is gone; every token
        # here is alive, so nothing may go: the root token's credential, a
        # child token's credential and the child token's own lease.
        self.make_role()
        root_creds = self.creds()
        _, child = self.req("POST", "/v1/auth/token/create", {"policies": ["root"], "ttl": "1h"}, 200)
        st, child_creds, _ = self.server.request("GET", "/v1/database/creds/app",
                                                 token=child["auth"]["client_token"])
        self.assertEqual(st, 200, child_creds)
        st, out = self.req("PUT", "/v1/sys/leases/tidy", None, 202)
        self.assertEqual(len(out["warnings"]), 1, out)
        # The tidy runs in the background; a second call answers "already in
        # progress" (200) until it has finished, then starts another (202).
        deadline = time.monotonic() + 30
        while True:
            st, out = self.req("PUT", "/v1/sys/leases/tidy")
            if st == 202:
                break
            self.assertEqual(st, 200, out)
            self.assertEqual(out["warnings"], ["Tidy operation already in progress."])
            self.assertLess(time.monotonic(), deadline, "the tidy never finished")
            time.sleep(0.05)
        for creds in (root_creds, child_creds):
            self.assertTrue(self.lease_exists(creds["lease_id"]), creds["lease_id"])
            self.assertTrue(self.pg.role_exists(creds["data"]["username"]))
        st, out = self.req("LIST", "/v1/sys/leases/lookup/auth/token/create/")
        self.assertEqual(st, 200, out)
        self.assertEqual(len(out["data"]["keys"]), 1, out)

    def test_lease_outlives_a_deleted_config_until_it_can_be_revoked(self):
        # Deleting the connection config must not turn its dynamic users
        # into credentials nobody revokes: the leases stay until the config
        # is back (or an operator forces them out).
        self.make_role()
        kept, forced = self.creds(), self.creds()
        _, child = self.req("POST", "/v1/auth/token/create", {"policies": ["root"]}, 200)
        child_token = child["auth"]["client_token"]
        st, owned, _ = self.server.request("GET", "/v1/database/creds/app", token=child_token)
        self.assertEqual(st, 200, owned)
        self.req("DELETE", "/v1/database/config/pg", None, 204)
        # Revoking the token that owns a lease succeeds, as in Vault: the
        # token is gone at once; its lease expires now and stays, retried
        # by the expiry thread until its engine can revoke it.
        self.req("POST", "/v1/auth/token/revoke", {"token": child_token}, 204)
        st, _, _ = self.server.request("GET", "/v1/auth/token/lookup-self", token=child_token)
        self.assertEqual(st, 403)
        self.assertTrue(self.pg.role_exists(owned["data"]["username"]))
        self.assertTrue(self.lease_exists(owned["lease_id"]))
        _, looked = self.req("PUT", "/v1/sys/leases/lookup", {"lease_id": owned["lease_id"]}, 200)
        self.assertEqual(looked["data"]["ttl"], 0, looked)
        self.assertFalse(looked["data"]["renewable"], looked)
        st, err = self.req("PUT", "/v1/sys/leases/revoke", {"lease_id": kept["lease_id"]})
        self.assertEqual(st, 400, err)
        self.assertIn("no longer exists", str(err))
        self.assertIn("revoke-force", str(err))
        self.assertNotIn(kept["data"]["password"], str(err))
        self.assertTrue(self.lease_exists(kept["lease_id"]))
        self.assertTrue(self.pg.role_exists(kept["data"]["username"]))
        # A prefix revocation fails the same way and drops nothing.
        st, _ = self.req("PUT", "/v1/sys/leases/revoke-prefix/database/creds/app")
        self.assertEqual(st, 400)
        self.assertTrue(self.lease_exists(forced["lease_id"]))
        # revoke-force is the operator's way out: the lease goes, the user
        # stays (nothing could reach the database to drop it).
        self.req("PUT", "/v1/sys/leases/revoke-force/" + forced["lease_id"], None, 204)
        self.assertFalse(self.lease_exists(forced["lease_id"]))
        self.assertTrue(self.pg.role_exists(forced["data"]["username"]))
        # With the config written again the revocation goes through.
        self.configure()
        self.req("PUT", "/v1/sys/leases/revoke", {"lease_id": kept["lease_id"]}, 204)
        self.assertFalse(self.pg.role_exists(kept["data"]["username"]))
        self.assertFalse(self.lease_exists(kept["lease_id"]))
        # The revoked token's lease goes at its next retry.
        self.assertTrue(
            poll(lambda: not self.lease_exists(owned["lease_id"]), timeout=40),
            self.server.log()[-2000:],
        )
        self.assertFalse(self.pg.role_exists(owned["data"]["username"]))

    def test_unmount_fails_while_a_lease_cannot_be_revoked(self):
        # As in Vault, disabling the engine revokes its leases first, and a
        # revocation that fails stops it: its users must not outlive the
        # records that could drop them.
        self.make_role()
        out = self.creds()
        # A path below the mount is not a mount: 204, and nothing revoked.
        self.req("DELETE", "/v1/sys/mounts/database/creds", None, 204)
        self.assertTrue(self.lease_exists(out["lease_id"]))
        self.assertTrue(self.pg.role_exists(out["data"]["username"]))
        self.req("DELETE", "/v1/database/config/pg", None, 204)
        st, err = self.req("DELETE", "/v1/sys/mounts/database")
        self.assertGreaterEqual(st, 400, err)
        self.assertIn("failed to revoke", str(err))
        self.assertNotIn(out["data"]["password"], str(err))
        self.assertTrue(self.lease_exists(out["lease_id"]))
        _, mounts = self.req("GET", "/v1/sys/mounts", None, 200)
        self.assertIn("database/", mounts["data"])
        self.configure()
        self.req("DELETE", "/v1/sys/mounts/database", None, 204)
        self.assertFalse(self.pg.role_exists(out["data"]["username"]))

    def test_expired_lease_is_retried_while_its_config_is_gone(self):
        self.make_role(ttl="2s")
        out = self.creds()
        user = out["data"]["username"]
        self.req("DELETE", "/v1/database/config/pg", None, 204)
        time.sleep(4)  # expired, and at least one revocation attempt failed
        self.assertTrue(self.pg.role_exists(user))
        self.assertTrue(self.lease_exists(out["lease_id"]))

        # From its sixth failure in a row (after 1 + 2 + 4 + 8 + 16 s of
        # backoff) the lease is reported as irrevocable, by mount, and listed
        # with sudo; the retries go on.
        def irrevocable():
            _, count = self.req("GET", "/v1/sys/leases/count?type=irrevocable", None, 200)
            return count["data"]["lease_count"]
        self.assertEqual(irrevocable(), 0)
        self.assertTrue(poll(lambda: irrevocable() == 1, timeout=60), self.server.log()[-2000:])
        _, mounts = self.req("GET", "/v1/sys/mounts", None, 200)
        accessor = mounts["data"]["database/"]["accessor"]
        _, count = self.req("GET", "/v1/sys/leases/count?type=irrevocable", None, 200)
        self.assertEqual(count["data"]["counts"], {accessor: 1})
        _, listed = self.req("GET", "/v1/sys/leases?type=irrevocable", None, 200)
        self.assertEqual(len(listed["data"]["leases"]), 1, listed)
        lease = listed["data"]["leases"][0]
        self.assertEqual(lease["lease_id"], out["lease_id"])
        self.assertEqual(lease["mount_id"], accessor)
        self.assertIn("no longer exists", lease["error"])
        self.assertNotIn(out["data"]["password"], json.dumps(listed))

        # The report survives a restart: it is there as soon as the server
        # is unsealed, not after six new failures.
        self.server.stop()
        self.start_coffer()
        self.assertEqual(irrevocable(), 1)
        _, listed = self.req("GET", "/v1/sys/leases?type=irrevocable", None, 200)
        self.assertEqual([x["lease_id"] for x in listed["data"]["leases"]], [out["lease_id"]])

        # With the cause fixed, a plain revoke goes through the engine (the
        # next retry is a backoff away: the count went on from six).
        self.configure()
        self.req("PUT", "/v1/sys/leases/revoke", {"lease_id": out["lease_id"]}, 204)
        self.assertFalse(self.pg.role_exists(user))
        self.assertFalse(self.lease_exists(out["lease_id"]))
        self.assertEqual(irrevocable(), 0)

    def test_ttl_expiry_drops_user(self):
        self.make_role(ttl="2s")
        out = self.creds()
        self.assertEqual(out["lease_duration"], 2)
        user = out["data"]["username"]
        self.assertTrue(self.pg.role_exists(user))
        self.assertTrue(poll(lambda: not self.pg.role_exists(user), timeout=30))

    def test_leases_expire_after_restart(self):
        self.make_role(ttl="6s")
        users = [self.creds()["data"]["username"] for _ in range(2)]
        self.server.stop()
        self.start_coffer()
        for u in users:
            self.assertTrue(self.pg.role_exists(u))
        self.assertTrue(poll(lambda: not any(self.pg.role_exists(u) for u in users),
                             timeout=40), self.server.log()[-2000:])

    def test_static_role_rotates_on_schedule(self):
        self.pg.admin("CREATE ROLE app_static LOGIN PASSWORD 'initial-static-pw'")
        self.assertTrue(self.can_login("app_static", "initial-static-pw"))
        self.req("POST", "/v1/database/static-roles/static1",
                 {"db_name": "pg", "username": "app_static", "rotation_period": "3s"}, 204)
        # Created → rotated at once: the initial password no longer works.
        self.assertFalse(self.can_login("app_static", "initial-static-pw"))
        _, first = self.req("GET", "/v1/database/static-creds/static1", None, 200)
        pw1 = first["data"]["password"]
        self.assertEqual(first["data"]["username"], "app_static")
        self.assertEqual(first["data"]["rotation_period"], 3)
        self.assertLessEqual(first["data"]["ttl"], 3)
        self.assertTrue(self.can_login("app_static", pw1))

        def rotated():
            return self.req("GET", "/v1/database/static-creds/static1")[1]["data"]["password"] \
                != pw1
        self.assertTrue(poll(rotated, timeout=20))
        _, second = self.req("GET", "/v1/database/static-creds/static1", None, 200)
        self.assertTrue(self.can_login("app_static", second["data"]["password"]))
        self.assertFalse(self.can_login("app_static", pw1))
        # rotate-role now; and the role's READ has no password.
        self.req("POST", "/v1/database/rotate-role/static1", None, 204)
        # Off the connection's allowed_roles: no credentials, no rotation.
        self.configure(allowed_roles="app")
        self.req("GET", "/v1/database/static-creds/static1", None, 400)
        self.req("POST", "/v1/database/rotate-role/static1", None, 400)
        self.configure()
        _, role = self.req("GET", "/v1/database/static-roles/static1", None, 200)
        self.assertNotIn("password", role["data"])
        # A cron schedule is accepted; a bad one is not.
        self.req("POST", "/v1/database/static-roles/static1",
                 {"rotation_schedule": "0 * * * *"}, 204)
        st, _ = self.req("POST", "/v1/database/static-roles/static2",
                         {"db_name": "pg", "username": "app_static",
                          "rotation_schedule": "61 * * * *"})
        self.assertEqual(st, 400)

    def test_rotate_root(self):
        self.make_role()
        self.req("POST", "/v1/database/rotate-root/pg", None, 204)
        self.assertFalse(self.can_login("postgres", self.pg.admin_password))
        _, cfg = self.req("GET", "/v1/database/config/pg", None, 200)
        self.assertNotIn("password", cfg["data"]["connection_details"])
        out = self.creds()  # the engine still works with the new password
        self.assertTrue(self.can_login(out["data"]["username"], out["data"]["password"]))
        self.req("PUT", "/v1/sys/leases/revoke", {"lease_id": out["lease_id"]}, 204)

    def test_injection_is_rejected_or_quoted(self):
        # Role and config names are validated.
        for bad in ['x";DROP', "a'b", "a b", "a\\b"]:
            st, _ = self.req("POST", "/v1/database/roles/" + bad.replace(" ", "%20"),
                             {"db_name": "pg", "creation_statements": CREATION})
            self.assertIn(st, (400, 404), bad)
        st, _ = self.req("POST", "/v1/database/roles/r", {
            "db_name": "pg\"; DROP ROLE postgres; --", "creation_statements": CREATION})
        self.assertEqual(st, 400)
        # A template placeholder inside a longer string is refused when the
        # role is written, in any of its statement lists: revocation
        # statements that can never run would leave every user alive.
        for field in ("creation_statements", "revocation_statements", "rollback_statements",
                      "renew_statements"):
            body = {"db_name": "pg", "creation_statements": CREATION,
                    field: ["COMMENT ON ROLE \"{{name}}\" IS 'x{{password}}';"]}
            st, err = self.req("POST", "/v1/database/roles/inside", body)
            self.assertEqual(st, 400, field)
            self.assertIn(field + "[0]", str(err))
            self.assertEqual(self.req("GET", "/v1/database/roles/inside")[0], 404, field)
        # A statement PostgreSQL refuses: its error says why, without the
        # lines that quote the statement (and the password rendered in it).
        self.make_role("typo", creation_statements=[
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTL "
            "'{{expiration}}';"])
        st, err = self.req("GET", "/v1/database/creds/typo")
        self.assertEqual(st, 400, err)
        self.assertIn("syntax error", str(err))
        self.assertNotIn("LINE", str(err))
        self.assertNotIn("PASSWORD '", str(err))
        # Hostile usernames of static roles are quoted, not executed.
        evil = 'ev"il; DROP ROLE postgres; --'
        self.pg.admin("CREATE ROLE \"%s\" LOGIN PASSWORD 'p'" % evil.replace('"', '""'))
        self.req("POST", "/v1/database/static-roles/evil",
                 {"db_name": "pg", "username": evil, "rotation_period": "1h"}, 204)
        _, sc = self.req("GET", "/v1/database/static-creds/evil", None, 200)
        self.assertTrue(self.can_login(evil, sc["data"]["password"]))
        self.assertTrue(self.pg.role_exists("postgres"))
        # Hostile display names end up quoted in the dynamic username.
        self.make_role()
        _, child = self.req("POST", "/v1/auth/token/create",
                            {"policies": ["root"], "display_name": "x'\";--\\"}, 200)
        st, out, _ = self.server.request("GET", "/v1/database/creds/app",
                                         token=child["auth"]["client_token"])
        self.assertEqual(st, 200, out)
        self.assertTrue(self.can_login(out["data"]["username"], out["data"]["password"]))
        # A password policy whose charset has quotes and backslashes.
        policy = ('length = 24\nrule "charset" {\n  charset = "\'\\\\\\";abc"\n'
                  '  min-chars = 6\n}\n')
        self.req("PUT", "/v1/sys/policies/password/nasty", {"policy": policy}, 204)
        _, gen = self.req("GET", "/v1/sys/policies/password/nasty/generate", None, 200)
        self.assertEqual(len(gen["data"]["password"]), 24)
        self.configure(password_policy="nasty")
        out = self.creds()
        pw = out["data"]["password"]
        self.assertTrue(any(c in pw for c in "'\\\";"))
        self.assertTrue(self.can_login(out["data"]["username"], pw))
        self.assertTrue(self.pg.role_exists("postgres"))

    def test_password_policies_api(self):
        policy = 'length = 20\nrule "charset" {\n  charset = "abcdefghijklmnopqrstuvwxyz"\n' \
                 '  min-chars = 1\n}\n'
        self.req("PUT", "/v1/sys/policies/password/lower", {"policy": policy}, 204)
        _, got = self.req("GET", "/v1/sys/policies/password/lower", None, 200)
        self.assertEqual(got["data"]["policy"], policy)
        _, lst = self.req("LIST", "/v1/sys/policies/password", None, 200)
        self.assertEqual(lst["data"]["keys"], ["lower"])
        _, gen = self.req("GET", "/v1/sys/policies/password/lower/generate", None, 200)
        pw = gen["data"]["password"]
        self.assertEqual(len(pw), 20)
        self.assertTrue(pw.isalpha() and pw.islower())
        st, _ = self.req("PUT", "/v1/sys/policies/password/bad",
                         {"policy": 'length = 2\nrule "charset" { charset = "ab" min-chars = 3 }'})
        self.assertEqual(st, 400)
        self.req("DELETE", "/v1/sys/policies/password/lower", None, 204)
        self.req("GET", "/v1/sys/policies/password/lower", None, 404)


if __name__ == "__main__":
    unittest.main()
