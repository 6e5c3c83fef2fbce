"""Authorization matrix: every route the server exposes, with every method it
accepts, is sent by callers that must be refused (no token, an unknown token,
a revoked token, an expired token, a token whose policies grant nothing there,
a default-policy token, a response-wrapping token). Each must answer 403, and
nothing may change: after every refused request the whole observable state
(read with the root token) is compared with a snapshot taken before the run,
including the barrier's encryption counter, which moves on any storage write.

One server serves the whole class; RouteTableTest checks on its own server
that every row of the table is a real route (the root token is not refused
with 403, 404 "unsupported path" or 405), so a 403 here is never an accident
of a misspelt path.
"""

import http.client
import json
import os
import shutil
import tempfile
import time
import unittest
import urllib.parse
import uuid

import harness

ROOT = "root-" + uuid.uuid4().hex

# Capabilities for a policy that grants everything (used for the tokens that
# are then revoked or left to expire: their refusal must come from that, not
# from their policies).
EVERYTHING = ('path "*" { capabilities = ["create", "read", "update", "patch", '
              '"delete", "list", "sudo"] }')
NOTHING = 'path "nothing/*" { capabilities = ["read", "list"] }'

# (method, path, body). {placeholders} are filled in from the fixture: victim
# (a live token that must survive), victim_acc, wrap (a live wrapping token),
# lease (a live lease id). Every row must be refused for the callers below.
# Answered for any valid token, with only what its ACL reaches.
FILTERED_LISTINGS = ("sys/internal/ui/mounts",)

# Root-protected rows that are in both lists below.
SHARED_SUDO_ROWS = [
    ("POST", "sys/rotate/keyring", None),
    ("GET", "sys/rotate/keyring/config", None),
    ("POST", "sys/rotate/keyring/config", {"max_operations": 3000000000, "enabled": False}),
    ("GET", "sys/config/cors", None),
    ("POST", "sys/config/cors", {"allowed_origins": "*"}),
    ("DELETE", "sys/config/cors", None),
    ("GET", "sys/config/auditing/request-headers", None),
    ("POST", "sys/config/auditing/request-headers/X-Test", {"hmac": True}),
    ("GET", "sys/config/auditing/request-headers/X-Test", None),
    ("DELETE", "sys/config/auditing/request-headers/X-Test", None),
]

ROUTES = [
    # sys/mounts and friends
    ("GET", "sys/mounts", None),
    ("GET", "sys/mounts/secret", None),
    ("POST", "sys/mounts/evil", {"type": "kv", "options": {"version": "2"}}),
    ("DELETE", "sys/mounts/kv1", None),
    ("GET", "sys/mounts/secret/tune", None),
    ("POST", "sys/mounts/secret/tune", {"default_lease_ttl": "1h", "max_lease_ttl": "2h"}),
    ("POST", "sys/remount", {"from": "kv1", "to": "moved"}),
    ("GET", "sys/remount/status/00000000-0000-4000-8000-000000000000", None),
    ("GET", "sys/internal/ui/mounts", None),
    ("GET", "sys/internal/ui/mounts/secret", None),
    ("GET", "sys/internal/ui/resultant-acl", None),
    ("GET", "sys/auth", None),
    ("POST", "sys/auth/evil", {"type": "token"}),
    ("DELETE", "sys/auth/token", None),
    # policies
    ("GET", "sys/policy", None),
    ("GET", "sys/policy/victim", None),
    ("PUT", "sys/policy/evil", {"policy": EVERYTHING}),
    ("PUT", "sys/policy/victim", {"policy": EVERYTHING}),
    ("PUT", "sys/policy/default", {"policy": EVERYTHING}),
    ("DELETE", "sys/policy/victim", None),
    ("LIST", "sys/policies/acl", None),
    ("GET", "sys/policies/acl/victim", None),
    ("PUT", "sys/policies/acl/evil", {"policy": EVERYTHING}),
    ("PUT", "sys/policies/acl/victim", {"policy": EVERYTHING}),
    ("DELETE", "sys/policies/acl/victim", None),
    ("PATCH", "sys/policies/acl/victim", {"policy": EVERYTHING}),
    ("PATCH", "sys/policy/victim", {"cas_required": True}),
    ("LIST", "sys/policies/acl/vic", None),
    ("LIST", "sys/policies/detailed/acl", None),
    ("LIST", "sys/policies/detailed/acl/vic", None),
    # capabilities
    ("POST", "sys/capabilities", {"token": "{victim}", "paths": ["secret/data/x"]}),
    ("POST", "sys/capabilities-self", {"paths": ["secret/data/x"]}),
    ("POST", "sys/capabilities-accessor", {"accessor": "{victim_acc}", "paths": ["secret/data/x"]}),
    # keys and seal
    ("POST", "sys/rotate", None),
    ("PUT", "sys/rotate", None),
    ("GET", "sys/rotate/config", None),
    ("POST", "sys/rotate/config", {"max_operations": 3000000000, "enabled": False}),
    *SHARED_SUDO_ROWS,
    ("GET", "sys/key-status", None),
    ("PUT", "sys/seal", None),
    ("POST", "sys/seal", None),
    # leases
    ("PUT", "sys/leases/lookup", {"lease_id": "{lease}"}),
    ("LIST", "sys/leases/lookup/auth/token/create/", None),
    ("PUT", "sys/leases/renew", {"lease_id": "{lease}", "increment": 7200}),
    ("PUT", "sys/leases/revoke", {"lease_id": "{lease}"}),
    ("PUT", "sys/leases/revoke-prefix/auth/token", None),
    ("PUT", "sys/leases/revoke-force/auth/token", None),
    ("PUT", "sys/leases/tidy", None),
    ("GET", "sys/leases/count?type=irrevocable", None),
    ("GET", "sys/leases?type=irrevocable", None),
    # the legacy lease paths
    ("PUT", "sys/renew", {"lease_id": "{lease}", "increment": 7200}),
    ("PUT", "sys/revoke", {"lease_id": "{lease}"}),
    ("PUT", "sys/revoke/{lease}", None),
    ("PUT", "sys/revoke-prefix/auth/token", None),
    ("PUT", "sys/revoke-force/auth/token", None),
    # wrapping
    ("POST", "sys/wrapping/wrap", {"stolen": "data"}),
    ("POST", "sys/wrapping/unwrap", {"token": "{wrap}"}),
    ("POST", "sys/wrapping/rewrap", {"token": "{wrap}"}),
    # audit devices
    ("GET", "sys/audit", None),
    ("PUT", "sys/audit/evil", {"type": "file", "options": {"file_path": "{audit_dir}/evil.log"}}),
    ("DELETE", "sys/audit/victim", None),
    ("POST", "sys/audit-hash/victim", {"input": "guess"}),
    ("POST", "sys/audit-verify/victim", {}),
    ("GET", "sys/plugins/catalog/secret/kv", None),
    ("LIST", "sys/plugins/catalog/auth/", None),
    # token auth method
    ("POST", "auth/token/create", {"policies": ["default"]}),
    ("POST", "auth/token/create", {"policies": ["root"], "id": "chosen-id"}),
    ("POST", "auth/token/create-orphan", {"policies": ["default"]}),
    ("POST", "auth/token/create/role1", {}),
    ("POST", "auth/token/lookup", {"token": "{victim}"}),
    ("GET", "auth/token/lookup-self", None),
    ("POST", "auth/token/lookup-accessor", {"accessor": "{victim_acc}"}),
    ("POST", "auth/token/renew", {"token": "{victim}", "increment": "5h"}),
    ("POST", "auth/token/renew-self", {"increment": "5h"}),
    ("POST", "auth/token/renew-accessor", {"accessor": "{victim_acc}", "increment": "5h"}),
    ("POST", "auth/token/revoke", {"token": "{victim}"}),
    ("POST", "auth/token/revoke-self", None),
    ("POST", "auth/token/revoke-accessor", {"accessor": "{victim_acc}"}),
    ("POST", "auth/token/revoke-orphan", {"token": "{victim}"}),
    ("LIST", "auth/token/accessors", None),
    ("GET", "auth/token/accessors?list=true", None),
    ("LIST", "auth/token/roles", None),
    ("GET", "auth/token/roles/role1", None),
    ("POST", "auth/token/roles/role1", {"allowed_policies": ["evil"], "orphan": True}),
    ("POST", "auth/token/roles/evil", {"allowed_policies": ["default"]}),
    ("DELETE", "auth/token/roles/role1", None),
    ("POST", "auth/token/tidy", None),
    # KV v2 at secret/
    ("GET", "secret/data/x", None),
    ("GET", "secret/data/x?version=1", None),
    ("POST", "secret/data/x", {"data": {"evil": "1"}}),
    ("PUT", "secret/data/x", {"data": {"evil": "1"}}),
    ("POST", "secret/data/new", {"data": {"evil": "1"}}),
    ("PATCH", "secret/data/x", {"data": {"evil": "1"}}),
    ("DELETE", "secret/data/x", None),
    ("GET", "secret/metadata/x", None),
    ("LIST", "secret/metadata/", None),
    ("GET", "secret/metadata/?list=true", None),
    ("LIST", "secret/metadata/?after=a&limit=1", None),
    ("SCAN", "secret/metadata/", None),
    ("GET", "secret/metadata/?scan=true", None),
    ("LIST", "secret/metadata/?recursive=true", None),
    ("LIST", "secret/detailed-metadata/", None),
    ("SCAN", "secret/detailed-metadata/", None),
    ("POST", "secret/metadata/x", {"max_versions": 1, "cas_required": True}),
    ("PATCH", "secret/metadata/x", {"custom_metadata": {"evil": "1"}}),
    ("DELETE", "secret/metadata/x", None),
    ("POST", "secret/delete/x", {"versions": [1, 2]}),
    ("POST", "secret/undelete/x", {"versions": [3]}),
    ("POST", "secret/destroy/x", {"versions": [1]}),
    ("PUT", "secret/destroy/x", {"versions": [1]}),
    ("GET", "secret/config", None),
    ("POST", "secret/config", {"max_versions": 1, "cas_required": True}),
    ("GET", "secret/subkeys/x", None),
    # KV v1 at kv1/
    ("GET", "kv1/x", None),
    ("POST", "kv1/x", {"evil": "1"}),
    ("PUT", "kv1/new", {"evil": "1"}),
    ("DELETE", "kv1/x", None),
    ("LIST", "kv1/", None),
    ("SCAN", "kv1/", None),
    ("LIST", "sys/version-history/", None),
    ("GET", "sys/config/state/sanitized", None),
    ("GET", "sys/host-info", None),
    ("GET", "sys/in-flight-req", None),
    ("GET", "sys/internal/counters/tokens", None),
    ("GET", "sys/internal/counters/entities", None),
    # streams (answered 200 with a body that stays open)
    ("GET", "sys/monitor", None),
    ("GET", "sys/monitor?log_level=debug", None),
    ("GET", "sys/events/subscribe/kv-v2/data-write?json=true", None),
    # the loggers' levels
    ("GET", "sys/loggers", None),
    ("GET", "sys/loggers/core", None),
    ("POST", "sys/loggers", {"level": "trace"}),
    ("POST", "sys/loggers/core", {"level": "trace"}),
    ("DELETE", "sys/loggers", None),
    ("DELETE", "sys/loggers/core", None),
    # the plugin catalog (read-only)
    ("GET", "sys/plugins/catalog", None),
    ("LIST", "sys/plugins/catalog/secret/", None),
    ("GET", "sys/plugins/catalog/secret/kv", None),
    ("PUT", "sys/plugins/catalog/secret/evil", {"sha256": "00" * 32, "command": "evil"}),
    # identity
    ("POST", "identity/entity", {"name": "evil"}),
    ("LIST", "identity/entity/id", None),
    ("POST", "identity/entity/merge", {"to_entity_id": "a", "from_entity_ids": ["b"]}),
    ("POST", "identity/entity-alias", {"name": "evil", "mount_accessor": "x"}),
    ("POST", "identity/group", {"name": "evil"}),
    ("POST", "identity/lookup/entity", {"name": "evil"}),
    ("POST", "identity/oidc/config", {"issuer": "https://evil.example.com"}),
    ("GET", "identity/oidc/config", None),
    ("POST", "identity/oidc/key/evil", {"allowed_client_ids": "*"}),
    ("GET", "identity/oidc/key/evil", None),
    ("DELETE", "identity/oidc/key/evil", None),
    ("POST", "identity/oidc/key/evil/rotate", None),
    ("LIST", "identity/oidc/key", None),
    ("POST", "identity/oidc/role/evil", {"key": "default"}),
    ("GET", "identity/oidc/role/evil", None),
    ("DELETE", "identity/oidc/role/evil", None),
    ("LIST", "identity/oidc/role", None),
    ("GET", "identity/oidc/token/evil", None),
    ("POST", "identity/oidc/introspect", {"token": "x.y.z"}),
    # cubbyhole (the caller's own)
    ("GET", "cubbyhole/x", None),
    ("POST", "cubbyhole/x", {"evil": "1"}),
    ("DELETE", "cubbyhole/x", None),
    ("LIST", "cubbyhole/", None),
]

# Paths the built-in default policy grants (Vault's default rules).
DEFAULT_GRANTED = {
    "auth/token/lookup-self", "auth/token/renew-self", "auth/token/revoke-self",
    "sys/capabilities-self", "sys/leases/renew", "sys/leases/lookup", "sys/renew",
    "sys/wrapping/wrap", "sys/wrapping/unwrap", "cubbyhole/x", "cubbyhole/",
    "sys/internal/ui/resultant-acl",
}

# Root-protected (sudo) requests, and spellings that must not dodge the check.
# A token whose policy grants every capability but sudo on every path sends
# them; the answer may be 403 or, for the token-create escalations, 400.
SUDO_ROUTES = [
    ("POST", "sys/rotate", None),
    ("PUT", "sys/rotate/", None),
    ("GET", "sys/rotate/config", None),
    ("POST", "sys/rotate/config", {"max_operations": 3000000000, "enabled": False}),
    *SHARED_SUDO_ROWS,
    ("PUT", "sys/seal", None),
    ("PUT", "sys/seal/", None),
    ("POST", "sys/remount", {"from": "kv1", "to": "moved"}),
    ("POST", "sys/remount/", {"from": "kv1", "to": "moved"}),
    ("POST", "sys/mounts/evil", {"type": "kv", "options": {"version": "2"}}),
    ("DELETE", "sys/mounts/kv1", None),
    ("DELETE", "sys/mounts/kv1/", None),
    ("POST", "sys/mounts/secret/tune", {"default_lease_ttl": "1h"}),
    ("POST", "sys/auth/evil", {"type": "token"}),
    ("DELETE", "sys/auth/token", None),
    ("PUT", "sys/leases/revoke-prefix/auth/token", None),
    ("PUT", "sys/leases/revoke-force/auth/token", None),
    ("PUT", "sys/revoke-prefix/auth/token", None),
    ("PUT", "sys/revoke-force/auth/token", None),
    ("LIST", "sys/leases/lookup/auth/token/create/", None),
    ("GET", "sys/audit", None),
    ("PUT", "sys/audit/evil", {"type": "file", "options": {"file_path": "{audit_dir}/evil.log"}}),
    ("DELETE", "sys/audit/victim", None),
    ("DELETE", "sys/audit/victim/", None),
    ("POST", "sys/audit-verify/victim", {}),
    ("LIST", "auth/token/accessors", None),
    ("LIST", "auth/token/accessors/", None),
    ("GET", "auth/token/accessors?list=true", None),
    ("POST", "auth/token/revoke-orphan", {"token": "{victim}"}),
    ("POST", "auth/token/revoke-orphan/", {"token": "{victim}"}),
    ("POST", "auth/token/create", {"id": "chosen-id"}),
    ("POST", "auth/token/create", {"no_parent": True}),
    ("POST", "auth/token/create", {"policies": ["root"]}),
    ("POST", "auth/token/create", {"policies": ["everything"]}),
    ("POST", "auth/token/create", {"period": "1h"}),
]
ALL_BUT_SUDO = ('path "*" { capabilities = ["create", "read", "update", "patch", '
                '"delete", "list"] }')

# What a response-wrapping token may do.
WRAPPING_TOKEN_MAY = {"sys/wrapping/unwrap", "sys/wrapping/rewrap"}

# Answer without any token, on an initialised, unsealed server.
UNAUTHENTICATED = [
    ("GET", "sys/health", None, 200),
    ("GET", "sys/seal-status", None, 200),
    ("GET", "sys/init", None, 200),
    ("GET", "sys/leader", None, 200),
    ("POST", "sys/wrapping/lookup", {"token": "{wrap}"}, 200),
    ("GET", "sys/wrapping/lookup?token={wrap}", None, 200),
    # The unseal key shares authorise it, as sys/unseal and sys/rekey/*.
    ("GET", "sys/generate-root/attempt", None, 200),
    # The identity token issuer's public documents.
    ("GET", "identity/oidc/.well-known/openid-configuration", None, 200),
    ("GET", "identity/oidc/.well-known/keys", None, 200),
]


# Paths whose success is a stream that stays open.
STREAMS = ("sys/monitor", "sys/events/subscribe/")


class Http:
    """A keep-alive HTTP/1.1 client (the matrix sends thousands of requests)."""

    def __init__(self, addr):
        u = urllib.parse.urlparse(addr)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, token=None, headers=None):
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["X-Vault-Token"] = token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = ("application/merge-patch+json" if method == "PATCH"
                                    else "application/json")
        elif method in ("POST", "PUT", "PATCH"):
            data = b""
            if method == "PATCH":
                hdrs["Content-Type"] = "application/merge-patch+json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, "/v1/" + path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                if resp.status == 200 and path.startswith(STREAMS):
                    # An open stream (it ends only when the token or the
                    # server does): the status is the answer.
                    self.close()
                    return resp.status, None
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                break
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt:
                    raise
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
        return resp.status, parsed


def fill(value, ctx):
    """Replaces {name} placeholders in strings, lists and dicts."""
    if isinstance(value, str):
        for k, v in ctx.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ctx) for k, v in value.items()}
    return value


def drop_volatile(value):
    """Removes fields that move with the clock or the request (ttl, ids)."""
    if isinstance(value, dict):
        return {k: drop_volatile(v) for k, v in value.items()
                if k not in ("ttl", "request_id", "encryptions_warning")}
    if isinstance(value, list):
        return [drop_volatile(v) for v in value]
    return value


class Fixture:
    """Builds the state the matrix attacks, and snapshots it."""

    def __init__(self, server):
        self.server = server
        self.http = Http(server.addr)
        # The audit device's directory; whoever makes a Fixture removes it.
        self.audit_dir = tempfile.mkdtemp(prefix="coffer-matrix-audit-")

    def root(self, method, path, body=None, expect=(200, 204), headers=None):
        status, data = self.http.request(method, path, body, ROOT, headers)
        if expect and status not in expect:
            raise AssertionError("setup %s %s -> %s %s" % (method, path, status, data))
        return data

    def create_token(self, **body):
        return self.root("POST", "auth/token/create", body)["auth"]

    def build(self):
        # Every request of the matrix is also audited.
        self.root("PUT", "sys/audit/victim",
                  {"type": "file",
                   "options": {"file_path": os.path.join(self.audit_dir, "audit.log")}})
        self.root("PUT", "sys/policy/everything", {"policy": EVERYTHING})
        self.root("PUT", "sys/policy/nothing", {"policy": NOTHING})
        self.root("PUT", "sys/policy/victim", {"policy": NOTHING})
        # The expired token first, so its second passes while we set up.
        self.expired = self.create_token(policies=["everything"], ttl="1s")
        self.root("POST", "sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
        self.root("POST", "kv1/x", {"v": "1"})
        self.root("POST", "kv1/y", {"v": "2"})
        for i in range(3):
            self.root("POST", "secret/data/x", {"data": {"v": str(i)}})
        self.root("POST", "secret/delete/x", {"versions": [3]})
        self.root("POST", "auth/token/roles/role1", {"allowed_policies": ["default"]})
        # An identity token key and role the refused requests would change.
        self.root("POST", "identity/oidc/key/evil", {"allowed_client_ids": "*"})
        self.root("POST", "identity/oidc/role/evil", {"key": "evil"})
        self.victim = self.create_token(policies=["default"], ttl="1h")
        self.revoked = self.create_token(policies=["everything"], ttl="1h")
        self.root("POST", "auth/token/revoke", {"token": self.revoked["client_token"]})
        self.denied = self.create_token(policies=["nothing"], no_default_policy=True, ttl="1h")
        self.default = self.create_token(policies=["default"], ttl="1h")
        self.root("PUT", "sys/policy/allbutsudo", {"policy": ALL_BUT_SUDO})
        self.nosudo = self.create_token(policies=["allbutsudo"], ttl="1h")
        wrapped = self.root("POST", "auth/token/create", {"policies": ["default"], "ttl": "1h"},
                            headers={"X-Vault-Wrap-TTL": "1h"})
        self.wrap = wrapped["wrap_info"]["token"]
        # A second wrapping token, used as the caller in its own column.
        wrapped = self.root("POST", "sys/wrapping/wrap", {"k": "v"},
                            headers={"X-Vault-Wrap-TTL": "1h"})
        self.wrap_caller = wrapped["wrap_info"]["token"]
        leases = self.root("LIST", "sys/leases/lookup/auth/token/create/")
        self.lease = "auth/token/create/" + leases["data"]["keys"][0]
        self.ctx = {"victim": self.victim["client_token"],
                    "victim_acc": self.victim["accessor"],
                    "wrap": self.wrap, "lease": self.lease,
                    "audit_dir": self.audit_dir}
        self.wait_until_expired(self.expired)

    def wait_until_expired(self, auth, timeout=15):
        """Polls until the token is refused and its accessor is gone (the
        expiration manager revoked it), so no background write follows."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.http.request("POST", "auth/token/lookup",
                                          {"token": auth["client_token"]}, ROOT)
            keys = self.root("LIST", "auth/token/accessors")["data"]["keys"]
            if status == 403 and auth["accessor"] not in keys:
                return
            time.sleep(0.05)
        raise AssertionError("token with ttl=1s still present after %ss" % timeout)

    def snapshot(self):
        s = {}

        def get(name, method, path, body=None):
            status, data = self.http.request(method, path, body, ROOT)
            if isinstance(data, dict):
                data = data.get("data", data)
            s[name] = (status, drop_volatile(data))
            return data

        s["seal"] = self.http.request("GET", "sys/seal-status")[1]["sealed"]
        ks = get("key-status", "GET", "sys/key-status")
        get("rotate-config", "GET", "sys/rotate/config")
        get("mounts", "GET", "sys/mounts")
        get("tune", "GET", "sys/mounts/secret/tune")
        get("auth", "GET", "sys/auth")
        get("audit", "GET", "sys/audit")
        names = get("policies", "GET", "sys/policy")["keys"]
        for name in names:
            get("policy:" + name, "GET", "sys/policy/" + name)
        accessors = get("accessors", "LIST", "auth/token/accessors")["keys"]
        for acc in accessors:
            get("token:" + acc, "POST", "auth/token/lookup-accessor", {"accessor": acc})
        get("victim", "POST", "auth/token/lookup", {"token": self.ctx["victim"]})
        get("roles", "LIST", "auth/token/roles")
        get("role1", "GET", "auth/token/roles/role1")
        get("kv2-config", "GET", "secret/config")
        get("kv2-meta", "GET", "secret/metadata/x")
        get("kv2-list", "LIST", "secret/metadata/")
        for v in (1, 2, 3):
            get("kv2-v%d" % v, "GET", "secret/data/x?version=%d" % v)
        get("kv2-new", "GET", "secret/data/new")
        get("kv1-list", "LIST", "kv1/")
        get("kv1-x", "GET", "kv1/x")
        get("kv1-new", "GET", "kv1/new")
        get("wrap", "POST", "sys/wrapping/lookup", {"token": self.ctx["wrap"]})
        get("wrap-caller", "POST", "sys/wrapping/lookup", {"token": self.wrap_caller})
        get("leases", "LIST", "sys/leases/lookup/auth/token/create/")
        get("lease", "PUT", "sys/leases/lookup", {"lease_id": self.lease})
        get("loggers", "GET", "sys/loggers")
        get("cors", "GET", "sys/config/cors")
        get("audited-headers", "GET", "sys/config/auditing/request-headers")
        get("entities", "LIST", "identity/entity/id")
        get("groups", "LIST", "identity/group/id")
        get("oidc-config", "GET", "identity/oidc/config")
        get("oidc-keys", "LIST", "identity/oidc/key")
        get("oidc-key", "GET", "identity/oidc/key/evil")
        get("oidc-roles", "LIST", "identity/oidc/role")
        get("oidc-role", "GET", "identity/oidc/role/evil")
        get("oidc-jwks", "GET", "identity/oidc/.well-known/keys")
        # Last, so every read above is counted (reads must not encrypt).
        s["encryptions"] = ks["encryptions"]
        return s


def diff(before, after):
    keys = sorted(set(before) | set(after))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


class AuthzMatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)
        cls.fx = Fixture(cls.server)
        try:
            cls.fx.build()
            cls.baseline = cls.fx.snapshot()
        except Exception:
            cls.server.cleanup()
            shutil.rmtree(cls.fx.audit_dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.fx.http.close()
        cls.server.cleanup()
        shutil.rmtree(cls.fx.audit_dir, ignore_errors=True)

    def test_snapshot_is_stable(self):
        # The detector itself: reading the state twice changes nothing, and a
        # real write is seen.
        self.assertEqual(diff(self.baseline, self.fx.snapshot()), {})
        self.assertGreater(self.baseline["encryptions"], 0)
        self.assertFalse(self.baseline["seal"])
        self.assertEqual(self.baseline["victim"][0], 200)
        self.assertEqual(self.baseline["wrap"][0], 200)
        self.assertEqual(self.baseline["kv2-meta"][1]["current_version"], 3)

    def run_column(self, token, skip=(), routes=ROUTES, allowed=(403,), headers=None):
        """Sends every row with `token`; each must be 403 with no effect."""
        http = Http(self.server.addr)
        self.addCleanup(http.close)
        refused = 0
        for method, path, body in routes:
            if path.split("?")[0] in skip:
                continue
            path_f, body_f = fill(path, self.fx.ctx), fill(body, self.fx.ctx)
            with self.subTest(method=method, path=path_f, body=body_f):
                status, answer = http.request(method, path_f, body_f, token, headers)
                ok = allowed(method, path) if callable(allowed) else allowed
                self.assertIn(status, ok, "%s %s answered %s %s" %
                              (method, path_f, status, answer))
                self.assertIsInstance(answer, dict)
                self.assertTrue(answer.get("errors"), answer)
                changed = diff(self.baseline, self.fx.snapshot())
                self.assertEqual(changed, {}, "%s %s changed state" % (method, path_f))
                refused += 1
        return refused

    # Without a token the mount listing for UIs answers too, as in Vault,
    # with only the mounts tuned to listing_visibility "unauth" (checked in
    # test_anonymous_mount_listing).
    def test_no_token(self):
        n = self.run_column(None, skip=FILTERED_LISTINGS)
        self.assertEqual(n, len(ROUTES) - len(FILTERED_LISTINGS))

    def test_no_token_asking_for_wrapping(self):
        # A refused request must not mint a wrapping token either.
        n = self.run_column(None, skip=FILTERED_LISTINGS, headers={"X-Vault-Wrap-TTL": "5m"})
        self.assertEqual(n, len(ROUTES) - len(FILTERED_LISTINGS))

    def test_empty_token_header(self):
        n = self.run_column("", skip=FILTERED_LISTINGS)
        self.assertEqual(n, len(ROUTES) - len(FILTERED_LISTINGS))

    def test_anonymous_mount_listing(self):
        # No mount of the fixture is tuned to be listed without a token: the
        # listing is empty, it is not wrapped (that would mint a token), and
        # nothing changes. An unknown token is still refused.
        for headers in (None, {"X-Vault-Wrap-TTL": "5m"}):
            status, answer = self.fx.http.request("GET", "sys/internal/ui/mounts", None, None,
                                                  headers)
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["data"], {"secret": {}, "auth": {}})
            self.assertIsNone(answer.get("wrap_info"))
        self.assertEqual(diff(self.baseline, self.fx.snapshot()), {})
        status, _ = self.fx.http.request("GET", "sys/internal/ui/mounts", None,
                                         "hvs.doesnotexist" + "D" * 24)
        self.assertEqual(status, 403)
        status, _ = self.fx.http.request("GET", "sys/internal/ui/mounts/secret", None, None)
        self.assertEqual(status, 403)

    def test_unknown_token(self):
        self.assertEqual(self.run_column("hvs.doesnotexist" + "A" * 24), len(ROUTES))

    def test_unknown_token_as_bearer(self):
        n = self.run_column(None, headers={"Authorization": "Bearer hvs.doesnotexist" + "C" * 24})
        self.assertEqual(n, len(ROUTES))

    def test_sudo_paths_without_sudo(self):
        # The token may do anything but sudo: every root-protected request is
        # refused, whatever its spelling. Token creation escalations may be
        # 400 (Vault's answer) instead of 403.
        # A trailing-slash spelling that is no route may answer 404; what
        # matters is that it does nothing.
        def allowed(method, path):
            if path.endswith("/") and method != "LIST":
                return (400, 403, 404)
            return (400, 403)

        n = self.run_column(self.fx.nosudo["client_token"], routes=SUDO_ROUTES,
                            allowed=allowed)
        self.assertEqual(n, len(SUDO_ROUTES))

    def test_revoked_token(self):
        self.assertEqual(self.run_column(self.fx.revoked["client_token"]), len(ROUTES))

    def test_expired_token(self):
        self.assertEqual(self.run_column(self.fx.expired["client_token"]), len(ROUTES))

    def test_denied_policy_token(self):
        # policies ["nothing"] and no default policy: not even the
        # self-service paths are granted. The mount listing for UIs answers
        # any valid token, filtered by its ACL (checked below).
        n = self.run_column(self.fx.denied["client_token"], skip=FILTERED_LISTINGS)
        self.assertEqual(n, len(ROUTES) - len(FILTERED_LISTINGS))

    def test_default_policy_token(self):
        n = self.run_column(self.fx.default["client_token"],
                            skip=set(DEFAULT_GRANTED) | set(FILTERED_LISTINGS))
        self.assertGreater(n, len(ROUTES) - 20)

    def test_mount_listing_is_filtered_by_acl(self):
        for token in (self.fx.denied["client_token"], self.fx.default["client_token"]):
            status, answer = self.fx.http.request("GET", "sys/internal/ui/mounts", None, token)
            self.assertEqual(status, 200, answer)
            visible = set(answer["data"]["secret"])
            # Neither token has any grant on the KV mounts: they are hidden.
            self.assertNotIn("secret/", visible)
            self.assertNotIn("kv1/", visible)
        status, answer = self.fx.http.request("GET", "sys/internal/ui/mounts", None, ROOT)
        self.assertIn("secret/", answer["data"]["secret"])

    def test_resultant_acl_shows_each_token_its_own_rules(self):
        # The default policy grants it; the answer holds that token's rules
        # only, and nothing of the KV mounts it cannot reach.
        status, answer = self.fx.http.request("GET", "sys/internal/ui/resultant-acl", None,
                                              self.fx.default["client_token"])
        self.assertEqual(status, 200, answer)
        data = answer["data"]
        self.assertIs(data["root"], False)
        self.assertEqual(data["exact_paths"]["sys/internal/ui/resultant-acl"],
                         {"capabilities": ["read"]})
        self.assertEqual(data["glob_paths"]["cubbyhole/"]["capabilities"],
                         ["create", "delete", "list", "read", "update"])
        self.assertFalse([p for p in list(data["exact_paths"]) + list(data["glob_paths"])
                          if p.startswith(("secret/", "kv1/"))], data)
        status, answer = self.fx.http.request("GET", "sys/internal/ui/resultant-acl", None, ROOT)
        self.assertEqual((status, answer["data"]), (200, {"root": True}), answer)

    def test_wrapping_token_as_client_token(self):
        n = self.run_column(self.fx.wrap_caller, skip=WRAPPING_TOKEN_MAY)
        self.assertEqual(n, len(ROUTES) - 2)
        # The refusals did not spend it.
        status, data = self.fx.http.request("POST", "sys/wrapping/lookup",
                                            {"token": self.fx.wrap_caller})
        self.assertEqual(status, 200, data)

    def test_unauthenticated_paths(self):
        for token in (None, "hvs.doesnotexist" + "B" * 24, self.fx.revoked["client_token"]):
            for method, path, body, expect in UNAUTHENTICATED:
                with self.subTest(token=bool(token), method=method, path=path):
                    status, answer = self.fx.http.request(method, fill(path, self.fx.ctx),
                                                          fill(body, self.fx.ctx), token)
                    self.assertEqual(status, expect, answer)
        self.assertEqual(diff(self.baseline, self.fx.snapshot()), {})
        status, health = self.fx.http.request("GET", "sys/health")
        self.assertEqual((health["initialized"], health["sealed"]), (True, False))
        status, init = self.fx.http.request("GET", "sys/init")
        self.assertEqual(init, {"initialized": True})
        status, look = self.fx.http.request("POST", "sys/wrapping/lookup",
                                            {"token": self.fx.wrap})
        self.assertEqual(look["data"]["creation_path"], "auth/token/create")

    def test_default_policy_grants_its_paths(self):
        # The skips of test_default_policy_token are really granted.
        status, data = self.fx.http.request(
            "POST", "sys/capabilities-accessor",
            {"accessor": self.fx.default["accessor"], "paths": sorted(DEFAULT_GRANTED)}, ROOT)
        self.assertEqual(status, 200, data)
        for path in DEFAULT_GRANTED:
            self.assertNotEqual(data["data"][path], ["deny"], path)


class RouteTableTest(unittest.TestCase):
    """Every row of ROUTES is a real route: the root token is not refused."""

    def test_every_route_exists_for_root(self):
        server = harness.start_dev(root_token=ROOT)
        fx = Fixture(server)
        # Cleanups run last first: the directory goes after the server.
        self.addCleanup(shutil.rmtree, fx.audit_dir, ignore_errors=True)
        self.addCleanup(server.cleanup)
        self.addCleanup(fx.http.close)
        fx.build()
        # The side-effect detector sees a write, and reads do not move it.
        before = fx.snapshot()
        self.assertEqual(diff(before, fx.snapshot()), {})
        fx.root("POST", "secret/data/other", {"data": {"v": "1"}})
        changed = diff(before, fx.snapshot())
        self.assertIn("encryptions", changed)
        self.assertIn("kv2-list", changed)
        # Destructive rows go last, in this order.
        last = ["sys/leases/revoke", "sys/revoke", "sys/revoke/{lease}",
                "sys/revoke-prefix/auth/token", "sys/revoke-force/auth/token",
                "auth/token/revoke-accessor", "auth/token/revoke-orphan", "auth/token/revoke", "sys/leases/revoke-force/auth/token",
                "sys/leases/revoke-prefix/auth/token", "sys/mounts/kv1", "sys/seal"]
        rows = sorted(ROUTES, key=lambda r: last.index(r[1]) if r[1] in last else -1)
        for method, path, body in rows:
            path_f, body_f = fill(path, fx.ctx), fill(body, fx.ctx)
            token = ROOT
            if path == "auth/token/revoke-self":  # not the root token itself
                token = fx.create_token(policies=["root"])["client_token"]
            status, answer = fx.http.request(method, path_f, body_f, token)
            with self.subTest(method=method, path=path_f):
                self.assertNotIn(status, (403, 405), answer)
                self.assertFalse(status == 404 and "unsupported path" in str(answer), answer)
                if path == "sys/seal" and method == "POST":
                    # the PUT before it sealed the server
                    self.assertEqual(status, 503, answer)
                else:
                    self.assertLess(status, 500, answer)


if __name__ == "__main__":
    unittest.main()
