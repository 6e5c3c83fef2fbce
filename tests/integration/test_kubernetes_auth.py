"""Kubernetes auth against a real dev server and a fake Kubernetes API over
HTTPS (127.0.0.1, a self-signed certificate given as kubernetes_ca_cert),
driven by hvac (python3-hvac): the API's TokenReview is asked as the
reviewer JWT about the pod's token, and a login gets the role's policies
and an entity alias; a token the API rejects, a service account outside the
role, a reviewer JWT the API does not accept and an API behind an unknown
CA are all refused with 403 and create no token; the pod's token and the
reviewer JWT never reach the server's log."""

import http.server
import json
import os
import ssl
import tempfile
import threading
import unittest

import hvac

import harness
from test_jwt_auth import Key, self_signed_cert

REVIEWER = "reviewer-jwt-" + "r" * 40


class FakeKubernetesApi:
    """Answers POST /apis/authentication.k8s.io/v1/tokenreviews for the
    tokens in self.valid (token -> (namespace, name, uid, audiences)), and
    GET /api/v1/namespaces/<name> with self.labels[name], when asked with
    the reviewer's bearer token."""

    def __init__(self, cert_pem, key_pem):
        self.valid, self.labels, self.requests, self.lock = {}, {}, [], threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with api.lock:
                    api.requests.append((self.path, self.headers.get("Authorization"), None))
                name = self.path.rsplit("/", 1)[-1]
                if self.headers.get("Authorization") != "Bearer " + REVIEWER:
                    return self.answer(401, {"kind": "Status", "status": "Failure", "code": 401})
                if not self.path.startswith("/api/v1/namespaces/") or name not in api.labels:
                    return self.answer(404, {"kind": "Status", "status": "Failure", "code": 404})
                self.answer(200, {"kind": "Namespace", "apiVersion": "v1",
                                  "metadata": {"name": name, "labels": api.labels[name]}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with api.lock:
                    api.requests.append((self.path, self.headers.get("Authorization"), body))
                if self.headers.get("Authorization") != "Bearer " + REVIEWER:
                    return self.answer(401, {"kind": "Status", "status": "Failure",
                                             "reason": "Unauthorized", "code": 401})
                found = api.valid.get(body["spec"]["token"])
                status = {"authenticated": False}
                if found:
                    ns, name, uid, auds = found
                    status = {"authenticated": True, "audiences": auds,
                              "user": {"username": "system:serviceaccount:%s:%s" % (ns, name),
                                       "uid": uid}}
                self.answer(201, {"apiVersion": "authentication.k8s.io/v1",
                                  "kind": "TokenReview", "status": status})

            def answer(self, code, doc):
                raw = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with tempfile.TemporaryDirectory() as d:
            cert_path, key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            with open(cert_path, "w") as f:
                f.write(cert_pem)
            with open(key_path, "w") as f:
                f.write(key_pem)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert_path, key_path)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class KubernetesAuthTest(harness.DevServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert, key = self_signed_cert("127.0.0.1")
        cls.api = FakeKubernetesApi(cls.cert, key)
        cls.key = Key("RS256", "sa-key")
        root = hvac.Client(url=cls.srv.addr, token=cls.root)
        root.sys.enable_auth_method("kubernetes")
        root.auth.kubernetes.configure(cls.api.url, kubernetes_ca_cert=cls.cert,
                                       token_reviewer_jwt=REVIEWER)
        root.auth.kubernetes.create_role("shop", bound_service_account_names=["web", "api-*"],
                                         bound_service_account_namespaces=["shop"],
                                         policies=["shop-read"], ttl="1h")
        root.sys.create_or_update_policy("shop-read",
                                         'path "secret/data/shop/*" { capabilities = ["read"] }')
        root.secrets.kv.v2.create_or_update_secret("shop/db", secret={"password": "s3cret"})
        cls.rootc = root

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        super().tearDownClass()

    def pod_token(self, ns, name, uid, valid=True):
        token = self.key.sign({
            "iss": "https://kubernetes.default.svc", "aud": ["https://kubernetes.default.svc"],
            "sub": "system:serviceaccount:%s:%s" % (ns, name),
            "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid}}})
        if valid:
            self.api.valid[token] = (ns, name, uid, ["https://kubernetes.default.svc"])
        return token

    def accessors(self):
        return len(self.rootc.list("auth/token/accessors")["data"]["keys"])

    def test_a_pod_logs_in_and_reads_its_secret(self):
        token = self.pod_token("shop", "api-7", "uid-api-7")
        pod = hvac.Client(url=self.srv.addr)
        auth = pod.auth.kubernetes.login("shop", token)["auth"]
        self.assertEqual(auth["metadata"]["service_account_name"], "api-7")
        self.assertEqual(auth["metadata"]["service_account_namespace"], "shop")
        self.assertIn("shop-read", auth["policies"])
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertTrue(auth["entity_id"])
        secret = pod.secrets.kv.v2.read_secret_version("shop/db")
        self.assertEqual(secret["data"]["data"]["password"], "s3cret")
        # The API was asked as the reviewer about the pod's token.
        path, bearer, body = self.api.requests[-1]
        self.assertEqual(path, "/apis/authentication.k8s.io/v1/tokenreviews")
        self.assertEqual(bearer, "Bearer " + REVIEWER)
        self.assertEqual(body["kind"], "TokenReview")
        self.assertEqual(body["spec"]["token"], token)
        # The same service account logs in to the same entity alias.
        again = hvac.Client(url=self.srv.addr).auth.kubernetes.login("shop", token)["auth"]
        self.assertEqual(again["entity_id"], auth["entity_id"])
        # Neither token was logged.
        log = self.srv.log()
        self.assertNotIn(token, log)
        self.assertNotIn(REVIEWER, log)
        config = self.rootc.read("auth/kubernetes/config")["data"]
        self.assertTrue(config["token_reviewer_jwt_set"])
        self.assertNotIn(REVIEWER, json.dumps(config))

    def test_refusals_create_no_token(self):
        before = self.accessors()
        cases = [
            ("the API does not confirm it", self.pod_token("shop", "web", "uid-w", valid=False)),
            ("another namespace", self.pod_token("prod", "web", "uid-p")),
            ("another service account", self.pod_token("shop", "db", "uid-d")),
        ]
        for what, token in cases:
            with self.subTest(what):
                with self.assertRaises(hvac.exceptions.Forbidden):
                    hvac.Client(url=self.srv.addr).auth.kubernetes.login("shop", token)
        self.assertEqual(self.accessors(), before)

    def test_a_namespace_selector_admits_labelled_namespaces(self):
        self.rootc.write("auth/kubernetes/role/by-label", bound_service_account_names="*",
                         bound_service_account_namespace_selector=json.dumps(
                             {"matchLabels": {"coffer-access": "yes"}}),
                         token_policies="shop-read")
        self.api.labels["team-a"] = {"coffer-access": "yes"}
        self.api.labels["team-b"] = {"coffer-access": "no"}
        pod = hvac.Client(url=self.srv.addr)
        auth = pod.auth.kubernetes.login("by-label", self.pod_token("team-a", "job", "uid-a"))
        self.assertIn("shop-read", auth["auth"]["policies"])
        path, bearer, _ = [r for r in self.api.requests if r[0].startswith("/api/v1/")][-1]
        self.assertEqual((path, bearer), ("/api/v1/namespaces/team-a", "Bearer " + REVIEWER))
        for ns in ("team-b", "team-c"):
            with self.subTest(ns):
                with self.assertRaises(hvac.exceptions.Forbidden):
                    hvac.Client(url=self.srv.addr).auth.kubernetes.login(
                        "by-label", self.pod_token(ns, "job", "uid-" + ns))

    def test_the_api_is_trusted_only_through_its_ca_and_the_reviewer(self):
        token = self.pod_token("shop", "web", "uid-web")
        other_ca, _ = self_signed_cert("127.0.0.1")
        try:
            # Another CA: the TLS handshake fails, and nothing reaches the API.
            # The wrong reviewer: the API answers 401.
            for ca, reviewer, reaches in ((other_ca, REVIEWER, 0),
                                          (self.cert, "not-the-reviewer", 1)):
                self.rootc.auth.kubernetes.configure(self.api.url, kubernetes_ca_cert=ca,
                                                     token_reviewer_jwt=reviewer)
                seen = len(self.api.requests)
                with self.assertRaises(hvac.exceptions.Forbidden) as caught:
                    hvac.Client(url=self.srv.addr).auth.kubernetes.login("shop", token)
                self.assertNotIn(token, str(caught.exception))
                self.assertEqual(len(self.api.requests) - seen, reaches)
            # Why is in the server's log (the handshake), not in the answer.
            self.assertIn("login for role shop refused", self.srv.log())
        finally:
            self.rootc.auth.kubernetes.configure(self.api.url, kubernetes_ca_cert=self.cert,
                                                 token_reviewer_jwt=REVIEWER)
        self.assertIn("client_token",
                      hvac.Client(url=self.srv.addr).auth.kubernetes.login("shop", token)["auth"])


if __name__ == "__main__":
    unittest.main()
