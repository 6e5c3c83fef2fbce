"""Identity tokens on a real dev server, driven by hvac (python3-hvac): a
named key and a role are made, a user who logged in with userpass gets a
signed token for her entity, introspection accepts it and refuses it for
another client, the well-known documents answer without a token, and the
token logs in to Coffer's own JWT auth method configured with the issuer's
discovery URL (so the discovery document, its jwks_uri and the signature
all work for a real verifier). A rotation keeps the old token valid there
and signs new ones with the new key."""

import base64
import json
import unittest

import hvac

import harness


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class IdentityTokensTest(harness.DevServerTest):
    def client(self, token):
        return hvac.Client(url=self.srv.addr, token=token)

    def test_issue_introspect_and_log_in_elsewhere(self):
        root = self.client(self.root)
        root.sys.enable_auth_method("userpass")
        root.sys.create_or_update_policy(
            "idtoken", 'path "identity/oidc/token/app" { capabilities = ["read"] }')
        root.auth.userpass.create_or_update_user("alice", "pw", policies=["idtoken"])
        root.secrets.identity.create_named_key("app-key", allowed_client_ids=["*"],
                                               algorithm="ES256")
        self.assertEqual(root.secrets.identity.read_named_key("app-key")["data"]["algorithm"],
                         "ES256")
        root.secrets.identity.create_or_update_role(
            "app", key="app-key", ttl="15m",
            template='{"user": {{identity.entity.aliases.%s.name}}}'
            % root.sys.list_auth_methods()["userpass/"]["accessor"])
        client_id = root.secrets.identity.read_role("app")["data"]["client_id"]

        alice = self.client(None)
        alice.auth.userpass.login("alice", "pw")
        issued = alice.secrets.identity.generate_signed_id_token("app")["data"]
        self.assertEqual(issued["client_id"], client_id)
        self.assertEqual(issued["ttl"], 900)
        jwt = issued["token"]
        claims = claims_of(jwt)
        self.assertEqual(claims["aud"], client_id)
        self.assertEqual(claims["user"], "alice")
        self.assertEqual(claims["iss"], self.srv.addr + "/v1/identity/oidc")
        self.assertEqual(claims["exp"] - claims["iat"], 900)

        # Introspection (hvac answers the raw JSON).
        said = root.secrets.identity.introspect_signed_id_token(jwt, client_id=client_id)
        self.assertEqual(said, {"active": True})
        said = root.secrets.identity.introspect_signed_id_token(jwt, client_id="someone-else")
        self.assertFalse(said["active"])

        # The well-known documents need no token.
        status, disc, _ = self.srv.request(
            "GET", "/v1/identity/oidc/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(disc["issuer"], claims["iss"])
        status, keys, _ = self.srv.request("GET", "/v1/identity/oidc/.well-known/keys")
        self.assertEqual(status, 200)
        self.assertIn(json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))["kid"],
                      [k["kid"] for k in keys["keys"]])
        # ... and alice's policy lets her do nothing else here.
        with self.assertRaises(hvac.exceptions.Forbidden):
            alice.secrets.identity.create_named_key("mine")

        # A verifier that knows only the issuer: Coffer's own JWT auth method.
        root.sys.enable_auth_method("jwt")
        root.write("auth/jwt/config", oidc_discovery_url=claims["iss"],
                   bound_issuer=claims["iss"])
        root.write("auth/jwt/role/workload", role_type="jwt", user_claim="sub",
                   bound_audiences=[client_id], token_policies=["default"])
        login = self.client(None).write("auth/jwt/login", role="workload", jwt=jwt)
        self.assertEqual(login["auth"]["metadata"]["role"], "workload")

        # After a rotation the old token still logs in (its key is published
        # for the verification TTL) and a new one is signed by the new key.
        # (hvac's rotate_named_key writes to the key's own path, not to
        # .../rotate, and so rotates nothing, against Vault too.)
        root.write("identity/oidc/key/app-key/rotate", verification_ttl="1h")
        fresh = alice.secrets.identity.generate_signed_id_token("app")["data"]["token"]
        self.assertNotEqual(fresh.split(".")[0], jwt.split(".")[0])
        for token in (jwt, fresh):
            self.assertIn("client_token",
                          self.client(None).write("auth/jwt/login", role="workload",
                                                  jwt=token)["auth"])

    def test_a_token_without_an_entity_gets_none(self):
        root = self.client(self.root)
        root.secrets.identity.create_or_update_role("rootless", key="default")
        with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
            root.secrets.identity.generate_signed_id_token("rootless")
        self.assertIn("no entity associated with the request's token", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
