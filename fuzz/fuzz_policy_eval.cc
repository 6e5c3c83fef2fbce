// Fuzz target: ACL decisions for random paths, operations and parameters
// against a fixed set of compiled policies (policy/acl.h). Invariants:
//  - the root policy allows everything (with sudo);
//  - deny wins within a pattern: `deny` on "*" merged with full rights on "*"
//    denies all, and `deny` on "secret/*" merged into the set denies every
//    path under secret/ except where "secret/+/config" has priority;
//  - a more specific deny glob beats a broader allow ("secret/private/*");
//  - a path no rule matches is denied;
//  - the same question gets the same answer (no hidden state).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "policy/acl.h"
#include "policy/policy.h"

namespace {

using coffer::logical::Operation;
using namespace coffer::policy;

std::shared_ptr<const Policy> Parse(const char* name, const char* text) {
  auto p = ParsePolicy(name, text);
  FUZZ_CHECK(p.has_value());
  return std::make_shared<const Policy>(std::move(*p));
}

std::shared_ptr<const Acl> Compile(std::vector<std::shared_ptr<const Policy>> policies) {
  auto acl = Acl::Compile(policies);
  FUZZ_CHECK(acl.has_value());
  return *acl;
}

struct Acls {
  std::shared_ptr<const Acl> root, deny_wins, secret_denied, specific, scoped;
};

const Acls& Get() {
  static const Acls* acls = [] {
    auto root = std::make_shared<Policy>();
    root->name = "root";
    auto all = Parse("all", R"(path "*" { capabilities = ["create", "read", "update", "patch",
                                                          "delete", "list", "sudo"] })");
    auto deny_all = Parse("deny-all", R"(path "*" { capabilities = ["deny"] })");
    auto deny_secret = Parse("deny-secret", R"(path "secret/*" { capabilities = ["deny"] })");
    auto secret = Parse("secret", R"(
      path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }
      path "secret/private/*" { capabilities = ["deny"] }
      path "secret/+/config" {
        capabilities = ["read", "update"]
        allowed_parameters = { "ttl" = ["1h", "2h*"] }
        denied_parameters = { "admin" = [] }
      }
      path "sys/mounts" { policy = "read" })");
    auto* a = new Acls;
    a->root = Compile({root, secret});
    a->deny_wins = Compile({all, deny_all});
    a->secret_denied = Compile({secret, deny_secret, all});
    a->specific = Compile({secret});
    a->scoped = Compile({secret, all});
    return a;
  }();
  return *acls;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const Acls& acls = Get();
  const auto op = in.PickValueInArray({Operation::kRead, Operation::kCreate, Operation::kUpdate,
                                       Operation::kPatch, Operation::kDelete, Operation::kList,
                                       Operation::kHead});
  std::string prefix =
      in.PickValueInArray<std::string>({"", "secret/", "secret/private/", "sys/", "/secret/"});
  nlohmann::json params = nlohmann::json::object();
  const int n = in.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < n; ++i) {
    std::string key = in.ConsumeRandomLengthString(16);
    params[key] = in.ConsumeRandomLengthString(16);
  }
  const std::string path = prefix + in.ConsumeRemainingBytesAsString();
  if (std::getenv("FUZZ_VERBOSE") != nullptr) {  // when replaying one input
    std::fprintf(stderr, "op=%s path=%s params=%s\n",
                 std::string(coffer::logical::OperationName(op)).c_str(), path.c_str(),
                 params.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }

  const Decision root = acls.root->Check(path, op, params);
  FUZZ_CHECK(root.allowed && root.root && root.sudo);

  const Decision denied = acls.deny_wins->Check(path, op, params);
  FUZZ_CHECK(!denied.allowed);

  std::string_view p = path;
  while (p.starts_with('/')) p.remove_prefix(1);  // as Acl::Check does
  if (p.starts_with("secret/")) {
    // "secret/<one segment>/config" is governed by the "secret/+/config" rule
    // ('+' matches an empty segment too, as in Vault; http/path.cc refuses
    // empty segments before any ACL sees a path).
    const std::string_view rest = p.substr(7);
    const auto slash = rest.find('/');
    const bool config_rule = slash != std::string_view::npos &&
                             (rest.substr(slash + 1) == "config" ||
                              (op == Operation::kList && rest.substr(slash + 1) == "config/"));
    if (!config_rule) FUZZ_CHECK(!acls.secret_denied->Check(path, op, params).allowed);
  }

  const Decision d = acls.specific->Check(path, op, params);
  const Decision again = acls.specific->Check(path, op, params);
  FUZZ_CHECK(d.allowed == again.allowed && d.capabilities == again.capabilities);
  if (p.starts_with("secret/private/")) FUZZ_CHECK(!d.allowed);
  if (!p.starts_with("secret/") && p != "sys/mounts" && p != "sys/mounts/") {
    FUZZ_CHECK(!d.allowed);
  }
  // Adding a policy never takes rights away from paths the added one covers
  // only through "*" (the broader rule loses to the specific ones).
  const Decision scoped = acls.scoped->Check(path, op, params);
  if (p.starts_with("secret/private/")) FUZZ_CHECK(!scoped.allowed);
  (void)acls.specific->Capabilities(path);
  return 0;
}
