// The Kubernetes auth method with a TokenReview stand-in: what a login
// checks before and after the review, what it sends the reviewer, what the
// login carries, and Vault's refusals. (tests/integration/
// test_kubernetes_auth.py reviews over HTTPS against a fake API server.)
#include "auth/kubernetes/kubernetes.h"

#include <gtest/gtest.h>

#include "auth/auth_test_util.h"
#include "auth/jwt_test_util.h"
#include "net/one_shot_server.h"

namespace coffer::auth::kubernetes {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT
namespace jt = ::coffer::auth::jwt::testing;

// A self-signed certificate (its key was discarded): a CA to configure.
constexpr const char* kCaPem = R"(-----BEGIN CERTIFICATE-----
MIIBeDCCAR+gAwIBAgIUHAnnuM8VPSbor5NVSbu9lBtCOgcwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAeFw0yNjEyMDcxNDMwMTNaFw0zNjEyMDQxNDMw
MTNaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQrhKDPLVIKndkWf5hOxUFToVD5OLJR0QY2QhkdRZhboTlibDKj7Eq+fq4AmQiz
JWgoGGX4lIMzhD3sUfJEK4Q7o1MwUTAdBgNVHQ4EFgQUqfKuXy9930dnqvE5toKV
vXvy2TkwHwYDVR0jBBgwFoAUqfKuXy9930dnqvE5toKVvXvy2TkwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAt5VO1DnpYLGZ8HCs5NNo+tuDChVOY
BhzHQZB/OBqdDgIgcPsLMGFkmhlcpPgVjdNzRHB9kAoxdZquNYHE4rqO8Us=
-----END CERTIFICATE-----
)";

class KubernetesTest : public ::testing::Test {
 protected:
  KubernetesTest()
      : backend_(logical::BackendConfig{storage_, clock_, "auth/kubernetes/", "kubernetes",
                                        Json::object()},
                 KubeApi{.review = [this](const ReviewRequest& r) -> Result<ReviewResult> {
                           reviews_.push_back(r);
                           if (unreachable_) {
                             return Err(Unavailable("POST 10.0.0.1: connect failed"));
                           }
                           if (!review_ok_) {
                             return Err(PermissionDenied("lookup failed: not valid"));
                           }
                           return answer_;
                         },
                         .labels = [this](const ReviewRequest& r, const std::string& ns)
                             -> Result<std::map<std::string, std::string>> {
                           label_reads_.push_back({r.bearer, ns});
                           auto it = labels_.find(ns);
                           if (it == labels_.end()) return Err(Unavailable("404"));
                           return it->second;
                         }}) {}

  Result<Response> Send(Operation op, const std::string& path, Json body = Json::object()) {
    return backend_.HandleRequest(MakeRequest("kubernetes", op, path, std::move(body)));
  }
  void Configure(Json extra = Json::object()) {
    Json body{{"kubernetes_host", "https://10.0.0.1:6443"},
              {"kubernetes_ca_cert", kCaPem},
              {"token_reviewer_jwt", "reviewer-jwt"}};
    body.update(extra);
    auto r = Send(Operation::kUpdate, "config", body);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  void Role(const std::string& name, Json body) {
    auto r = Send(Operation::kUpdate, "role/" + name, std::move(body));
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  // A projected service account token (unsigned content; the review is
  // what vouches for it unless pem_keys are set).
  std::string Token(const std::string& ns, const std::string& name, const std::string& uid,
                    Json extra = Json::object(), const jt::Pkey& key = nullptr) {
    Json claims{
        {"iss", "https://kubernetes.default.svc"},
        {"aud", {"https://kubernetes.default.svc"}},
        {"exp", UnixSeconds(clock_.Wall()) + 600},
        {"kubernetes.io", {{"namespace", ns}, {"serviceaccount", {{"name", name}, {"uid", uid}}}}}};
    claims.update(extra);
    return jt::Sign(key ? key : key_, {{"alg", "ES256"}, {"kid", "k"}}, claims);
  }
  Result<Response> Login(const std::string& role, const std::string& jwt) {
    return Send(Operation::kUpdate, "login", {{"role", role}, {"jwt", jwt}});
  }
  static void ExpectDenied(const Result<Response>& r, const std::string& says) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied) << r.error().ToString();
    EXPECT_NE(r.error().message().find(says), std::string::npos) << r.error().message();
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::vector<ReviewRequest> reviews_;
  bool review_ok_ = true;
  bool unreachable_ = false;
  std::map<std::string, std::map<std::string, std::string>> labels_;
  std::vector<std::pair<std::string, std::string>> label_reads_;  // bearer, namespace
  ReviewResult answer_{"web", "shop", "uid-1"};
  jt::Pkey key_ = jt::MakeEc();
  KubernetesBackend backend_;
};

TEST_F(KubernetesTest, ALoginIsReviewedAndCarriesTheServiceAccount) {
  Configure();
  Role("web", {{"bound_service_account_names", "web,api-*"},
               {"bound_service_account_namespaces", {"shop"}},
               {"token_policies", "shop-read"},
               {"token_ttl", "1h"}});
  const std::string jwt = Token("shop", "web", "uid-1");
  auto r = Login("web", jwt);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  const logical::LoginResult& login = *r->login;
  EXPECT_EQ(login.policies, std::vector<std::string>{"shop-read"});
  EXPECT_EQ(login.ttl, 3600);
  EXPECT_EQ(login.display_name, "shop-web");
  EXPECT_EQ(login.alias_name, "uid-1");
  EXPECT_EQ(login.metadata.at("service_account_namespace"), "shop");
  EXPECT_EQ(login.metadata.at("service_account_name"), "web");
  EXPECT_EQ(login.metadata.at("role"), "web");
  ASSERT_TRUE(login.alias_metadata.has_value());
  EXPECT_EQ(login.alias_metadata->count("role"), 0u);
  // The reviewer was asked as the reviewer JWT, about this token, for the
  // token's own audiences.
  ASSERT_EQ(reviews_.size(), 1u);
  EXPECT_EQ(reviews_[0].host, "https://10.0.0.1:6443");
  EXPECT_EQ(reviews_[0].ca_pem, kCaPem);
  EXPECT_EQ(reviews_[0].audiences, std::vector<std::string>{"https://kubernetes.default.svc"});

  // The reviewer JWT is never read back.
  auto config = Send(Operation::kRead, "config");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->data["token_reviewer_jwt_set"], true);
  EXPECT_FALSE(config->data.contains("token_reviewer_jwt"));
  EXPECT_EQ(config->data.dump().find("reviewer-jwt"), std::string::npos);
  // A glob name matches; legacy secret tokens' flat claims are read too.
  answer_ = {"api-1", "shop", "uid-2"};
  Json legacy{{"iss", "kubernetes/serviceaccount"},
              {"kubernetes.io/serviceaccount/namespace", "shop"},
              {"kubernetes.io/serviceaccount/service-account.name", "api-1"},
              {"kubernetes.io/serviceaccount/service-account.uid", "uid-2"},
              {"kubernetes.io/serviceaccount/secret.name", "api-1-token-x"}};
  auto flat = Login("web", jt::Sign(key_, {{"alg", "ES256"}}, legacy));
  ASSERT_TRUE(flat.has_value()) << flat.error().ToString();
  EXPECT_EQ(flat->login->metadata.at("service_account_secret_name"), "api-1-token-x");
  EXPECT_EQ(reviews_.back().audiences, std::vector<std::string>{});
}

TEST_F(KubernetesTest, RefusalsAreDeniedBeforeOrAfterTheReview) {
  Configure();
  Role("web", {{"bound_service_account_names", {"web"}},
               {"bound_service_account_namespaces", {"shop"}},
               {"audience", "coffer"}});
  ExpectDenied(Login("web", Token("other", "web", "uid-1", {{"aud", "coffer"}})),
               "namespace not authorized");
  ExpectDenied(Login("web", Token("shop", "db", "uid-1", {{"aud", "coffer"}})),
               "service account name not authorized");
  ExpectDenied(Login("web", Token("shop", "web", "uid-1")), "invalid audience");
  EXPECT_TRUE(reviews_.empty());  // none of those reached the cluster
  // With the role's audience, the review asks for that audience.
  review_ok_ = false;
  // The cluster's refusal is a bare 403: its words are for the log only.
  auto refused = Login("web", Token("shop", "web", "uid-1", {{"aud", "coffer"}}));
  ExpectDenied(refused, "permission denied");
  EXPECT_EQ(refused.error().message().find("lookup failed"), std::string::npos);
  ASSERT_EQ(reviews_.size(), 1u);
  EXPECT_EQ(reviews_[0].audiences, std::vector<std::string>{"coffer"});
  review_ok_ = true;
  // An API that cannot be reached: 403 too, as in Vault, and its address is
  // not told to the caller.
  unreachable_ = true;
  auto down = Login("web", Token("shop", "web", "uid-1", {{"aud", "coffer"}}));
  ExpectDenied(down, "permission denied");
  EXPECT_EQ(down.error().message().find("10.0.0.1"), std::string::npos);
  unreachable_ = false;
  answer_ = {"web", "shop", "uid-other"};
  ExpectDenied(Login("web", Token("shop", "web", "uid-1", {{"aud", "coffer"}})),
               "JWT UIDs did not match");
  answer_ = {"web", "shop", "uid-1"};
  clock_.Advance(std::chrono::hours(1));
  ExpectDenied(Login("web", Token("shop", "web", "uid-1",
                                  {{"aud", "coffer"}, {"exp", UnixSeconds(clock_.Wall()) - 600}})),
               "expired");
  EXPECT_TRUE(Login("web", Token("shop", "web", "uid-1", {{"aud", "coffer"}})).has_value());

  auto missing = Send(Operation::kUpdate, "login", {{"role", "web"}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "missing jwt");
  auto unknown = Login("nope", Token("shop", "web", "uid-1"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(), "invalid role name \"nope\"");
  ExpectDenied(Login("web", "not-a-jwt"), "malformed");
}

TEST_F(KubernetesTest, PemKeysAndTheIssuerAreCheckedWhenConfigured) {
  jt::Pkey other = jt::MakeEc();
  Configure({{"pem_keys", {jt::PublicPem(key_)}},
             {"disable_iss_validation", false},
             {"issuer", "https://kubernetes.default.svc"}});
  Role("any", {{"bound_service_account_names", "*"}, {"bound_service_account_namespaces", "*"}});
  EXPECT_TRUE(Login("any", Token("shop", "web", "uid-1")).has_value());
  ExpectDenied(Login("any", Token("shop", "web", "uid-1", Json::object(), other)),
               "permission denied");
  ExpectDenied(Login("any", Token("shop", "web", "uid-1", {{"iss", "someone-else"}})),
               "invalid issuer");
  // A config write replaces the whole config: the issuer check is back to off.
  Configure();
  EXPECT_TRUE(
      Login("any", Token("shop", "web", "uid-1", {{"iss", "someone-else"}}, other)).has_value());
  auto bad = Send(Operation::kUpdate, "config",
                  {{"kubernetes_host", "https://x"}, {"pem_keys", {"not a key"}}});
  ASSERT_FALSE(bad.has_value());
  // A CA that does not parse is kept with a warning, as in Vault.
  auto not_pem = Send(Operation::kUpdate, "config",
                      {{"kubernetes_host", "https://x"}, {"kubernetes_ca_cert", "dummy"}});
  ASSERT_TRUE(not_pem.has_value());
  EXPECT_NE(not_pem->warnings.dump().find("no valid PEM certificate"), std::string::npos);
  auto good_pem = Send(Operation::kUpdate, "config",
                       {{"kubernetes_host", "https://x"}, {"kubernetes_ca_cert", kCaPem}});
  ASSERT_TRUE(good_pem.has_value());
  EXPECT_TRUE(good_pem->warnings.is_null());
  auto no_host = Send(Operation::kUpdate, "config", Json::object());
  ASSERT_FALSE(no_host.has_value());
  EXPECT_EQ(no_host.error().message(), "no host provided");
}

// A namespace outside the role's list is allowed when its labels, read from
// the API as the reviewer, match the role's selector.
TEST_F(KubernetesTest, ANamespaceSelectorReadsLabelsAsTheReviewer) {
  Configure();
  Role("labelled", {{"bound_service_account_names", "*"},
                    {"bound_service_account_namespace_selector",
                     R"({"matchLabels": {"tier": "web"},
                         "matchExpressions": [{"key": "env", "operator": "In",
                                               "values": ["prod", "stage"]},
                                              {"key": "frozen", "operator": "DoesNotExist"}]})"}});
  labels_["shop"] = {{"tier", "web"}, {"env", "prod"}};
  labels_["lab"] = {{"tier", "web"}, {"env", "dev"}};
  labels_["old"] = {{"tier", "web"}, {"env", "prod"}, {"frozen", "yes"}};
  answer_ = {"web", "shop", "uid-1"};
  auto ok = Login("labelled", Token("shop", "web", "uid-1"));
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  ASSERT_EQ(label_reads_.size(), 1u);
  EXPECT_EQ(label_reads_[0], (std::pair<std::string, std::string>{"reviewer-jwt", "shop"}));
  ExpectDenied(Login("labelled", Token("lab", "web", "uid-2")), "namespace not authorized");
  ExpectDenied(Login("labelled", Token("old", "web", "uid-3")), "namespace not authorized");
  ExpectDenied(Login("labelled", Token("gone", "web", "uid-4")), "namespace not authorized");
  // A name the API could not hold is never put in its URL.
  const std::size_t reads = label_reads_.size();
  ExpectDenied(Login("labelled", Token("../secrets", "web", "uid-5")), "namespace not authorized");
  EXPECT_EQ(label_reads_.size(), reads);
  auto read = Send(Operation::kRead, "role/labelled");
  ASSERT_TRUE(read.has_value());
  EXPECT_NE(
      read->data["bound_service_account_namespace_selector"].get<std::string>().find("matchLabels"),
      std::string::npos);
  // Without a reviewer JWT the labels are not read at all.
  ASSERT_TRUE(Send(Operation::kUpdate, "config",
                   {{"kubernetes_host", "https://10.0.0.1:6443"},
                    {"kubernetes_ca_cert", kCaPem},
                    {"disable_local_ca_jwt", true}}));
  ExpectDenied(Login("labelled", Token("shop", "web", "uid-1")), "needs a token_reviewer_jwt");
  EXPECT_EQ(label_reads_.size(), reads);
}

TEST_F(KubernetesTest, RolesAreValidatedAsVaultDoes) {
  auto refuse = [&](Json body, const std::string& says) {
    auto r = Send(Operation::kUpdate, "role/r", std::move(body));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(says), std::string::npos) << r.error().message();
  };
  refuse({{"bound_service_account_namespaces", "a"}}, "can not be empty");
  refuse({{"bound_service_account_names", "a"}}, "can not be empty if");
  refuse({{"bound_service_account_names", "*,a"}, {"bound_service_account_namespaces", "a"}},
         "can not mix");
  refuse({{"bound_service_account_names", "a"}, {"bound_service_account_namespace_selector", "x"}},
         "must be a JSON LabelSelector");
  refuse({{"bound_service_account_names", "a"},
          {"bound_service_account_namespace_selector",
           R"({"matchExpressions":[{"key":"team","operator":"Near"}]})"}},
         "unknown operator");
  refuse({{"bound_service_account_names", "a"},
          {"bound_service_account_namespace_selector",
           R"({"matchExpressions":[{"key":"team","operator":"In","values":[]}]})"}},
         "operator In needs values");
  refuse({{"bound_service_account_names", "a"},
          {"bound_service_account_namespaces", "a"},
          {"alias_name_source", "pod"}},
         "invalid alias_name_source");
  Role("r", {{"bound_service_account_names", "a"},
             {"bound_service_account_namespaces", "b"},
             {"alias_name_source", "serviceaccount_name"},
             {"ttl", "10m"}});
  refuse({{"alias_name_source", "serviceaccount_uid"}}, "cannot be changed");
  auto read = Send(Operation::kRead, "role/r");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["bound_service_account_names"], Json::array({"a"}));
  EXPECT_EQ(read->data["alias_name_source"], "serviceaccount_name");
  EXPECT_EQ(read->data["token_ttl"], 600);
  EXPECT_EQ(read->data["ttl"], 600);  // given under the older name
  auto list = Send(Operation::kList, "role");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], Json::array({"r"}));

  // alias_name_source serviceaccount_name: the alias is namespace/name.
  Configure();
  answer_ = {"a", "b", "uid-9"};
  auto login = Login("r", Token("b", "a", "uid-9"));
  ASSERT_TRUE(login.has_value()) << login.error().ToString();
  EXPECT_EQ(login->login->alias_name, "b/a");
}

// ReviewOverHttp against a server that answers once: what it sends, and
// answers it must not take for a confirmation (or crash on).
TEST(KubernetesReviewTest, SendsATokenReviewAndReadsOnlyAConfirmation) {
  using coffer::testing::OneShotServer;
  const std::string confirmed =
      R"({"kind":"TokenReview","spec":{"token":"pod-jwt"},"status":{"authenticated":true,)"
      R"("audiences":["a"],"user":{"username":"system:serviceaccount:shop:web","uid":"u1"}}})";
  {
    OneShotServer server(OneShotServer::Reply(201, confirmed));
    auto r = ReviewOverHttp(
        {.host = server.url("/"), .bearer = "reviewer", .token = "pod-jwt", .audiences = {"a"}});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->namespace_name, "shop");
    EXPECT_EQ(r->name, "web");
    EXPECT_EQ(r->uid, "u1");
    const std::string& sent = server.request();
    EXPECT_TRUE(sent.starts_with("POST /apis/authentication.k8s.io/v1/tokenreviews HTTP/1.1"))
        << sent;
    EXPECT_NE(sent.find("Authorization: Bearer reviewer"), std::string::npos);
    EXPECT_NE(server.body().find(R"("token":"pod-jwt")"), std::string::npos) << server.body();
  }
  for (const std::string& body :
       {std::string(R"({"status":"yes"})"), std::string(R"({"status":{"authenticated":"true"}})"),
        std::string(R"([1,2])"), std::string("not json"),
        std::string(R"({"status":{"authenticated":true,"user":{"username":"alice"}}})"),
        std::string(R"({"status":{"authenticated":true,"audiences":"a",)"
                    R"("user":{"username":"system:serviceaccount:shop:web"}}})")}) {
    SCOPED_TRACE(body);
    OneShotServer server(OneShotServer::Reply(201, body));
    auto r = ReviewOverHttp(
        {.host = server.url("/"), .bearer = "reviewer", .token = "pod-jwt", .audiences = {"a"}});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
  }
  OneShotServer unauthorized(OneShotServer::Reply(401, "{}"));
  auto r = ReviewOverHttp({.host = unauthorized.url("/"), .bearer = "x", .token = "y"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("service account unauthorized"), std::string::npos);
}

}  // namespace
}  // namespace coffer::auth::kubernetes
