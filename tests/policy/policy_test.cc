#include "policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "policy/acl.h"

namespace coffer::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParsePolicyTest, FullStanza) {
  auto p = ParsePolicy("  My-Policy ", R"(
# comment
path "secret/restricted" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo", "subscribe"]
  subscribe_event_types = ["kv-v2/*", "kv-v1/write"]
  allowed_parameters = {
    "Foo" = []
    "bar" = ["zip", "zap"]
  }
  denied_parameters = { "baz" = ["*secret*"] }
  required_parameters = ["Foo"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "90s"
}
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->name, "my-policy");
  ASSERT_EQ(p->paths.size(), 1u);
  const PathRules& r = p->paths[0];
  EXPECT_EQ(r.pattern, "secret/restricted");
  EXPECT_EQ(r.capabilities, kCapCreate | kCapRead | kCapUpdate | kCapPatch | kCapDelete | kCapList |
                                kCapSudo | kCapSubscribe);
  EXPECT_THAT(r.subscribe_event_types, ElementsAre("kv-v2/*", "kv-v1/write"));
  EXPECT_EQ(r.line, 3);
  ASSERT_EQ(r.allowed_parameters.size(), 2u);
  EXPECT_TRUE(r.allowed_parameters.at("foo").empty());  // keys are lower-cased
  EXPECT_EQ(r.allowed_parameters.at("bar").size(), 2u);
  EXPECT_EQ(r.denied_parameters.at("baz").size(), 1u);
  EXPECT_THAT(r.required_parameters, ElementsAre("foo"));
  EXPECT_EQ(r.min_wrapping_ttl, std::chrono::seconds(1));
  EXPECT_EQ(r.max_wrapping_ttl, std::chrono::seconds(90));
}

TEST(ParsePolicyTest, LegacyPolicyShorthand) {
  auto p = ParsePolicy("old", R"(
path "a" { policy = "deny" }
path "b" { policy = "read" }
path "c" { policy = "write" }
path "d" { policy = "sudo" }
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ASSERT_EQ(p->paths.size(), 4u);
  EXPECT_EQ(p->paths[0].capabilities, kCapDeny);
  EXPECT_EQ(p->paths[1].capabilities, kCapRead | kCapList);
  EXPECT_EQ(p->paths[2].capabilities, kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList);
  EXPECT_EQ(p->paths[3].capabilities,
            kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo);
}

TEST(ParsePolicyTest, DenyDropsEverythingElse) {
  auto p = ParsePolicy("d", R"(path "x" {
  capabilities = ["read", "deny"]
  allowed_parameters = { "a" = [] }
})");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->paths[0].capabilities, kCapDeny);
  EXPECT_TRUE(p->paths[0].allowed_parameters.empty());
}

TEST(ParsePolicyTest, RepeatedLabelsAndLeadingSlash) {
  auto p = ParsePolicy("r", R"(
path "/secret/a" { capabilities = ["read"] }
path "secret/a" { capabilities = ["list"] }
path "secret/+/teamb" { capabilities = ["read"] }
path "*" { capabilities = ["list"] }
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ASSERT_EQ(p->paths.size(), 4u);
  int secret_a = 0;
  for (const auto& r : p->paths) secret_a += r.pattern == "secret/a";
  EXPECT_EQ(secret_a, 2);
}

TEST(ParsePolicyTest, EveryLeadingSlashGoes) {
  // Found by fuzz_hcl_policy: with one slash stripped, this deny rule kept
  // the pattern "/private", which no checked path can match, and the glob
  // below allowed listing "private".
  auto p = ParsePolicy("r", R"(
path "///private" { capabilities = ["deny"] }
path "*" { capabilities = ["list"] }
path "/" { capabilities = ["read"] }
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  std::vector<std::string> patterns;
  for (const auto& r : p->paths) patterns.push_back(r.pattern);
  EXPECT_THAT(patterns, ::testing::UnorderedElementsAre("private", "*", ""));
  auto acl = Acl::Compile({std::make_shared<const Policy>(std::move(*p))});
  ASSERT_TRUE(acl.has_value());
  for (std::string_view path : {"private", "/private", "///private"}) {
    EXPECT_FALSE((*acl)->Check(path, logical::Operation::kList, nlohmann::json::object()).allowed)
        << path;
  }
  EXPECT_TRUE((*acl)->Check("public", logical::Operation::kList, nlohmann::json::object()).allowed);
}

TEST(ParsePolicyTest, JsonInput) {
  auto p = ParsePolicy("j", R"({
  "path": {
    "secret/foo": { "capabilities": ["read", "list"], "max_wrapping_ttl": 300 },
    "secret/bar/*": { "policy": "write" }
  }
})");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ASSERT_EQ(p->paths.size(), 2u);
  for (const auto& r : p->paths) {
    if (r.pattern == "secret/foo") {
      EXPECT_EQ(r.capabilities, kCapRead | kCapList);
      EXPECT_EQ(r.max_wrapping_ttl, std::chrono::seconds(300));
      EXPECT_EQ(r.line, 3);
    } else {
      EXPECT_EQ(r.pattern, "secret/bar/*");
    }
  }
}

TEST(ParsePolicyTest, EmptyPolicyIsValid) {
  auto p = ParsePolicy("empty", "");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_TRUE(p->paths.empty());
}

struct BadCase {
  const char* text;
  const char* message;  // a fragment of the error
};

class ParsePolicyErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParsePolicyErrorTest, FailsWithNameLineAndReason) {
  auto p = ParsePolicy("bad", GetParam().text);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(p.error().message(), HasSubstr("policy \"bad\""));
  EXPECT_THAT(p.error().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParsePolicyErrorTest,
    ::testing::Values(
        BadCase{"path \"a\" {\n  capabilities = [\"read\"]\n}\npath \"b\" {\n  capabilities = "
                "[\"reed\"]\n}\n",
                "line 5: path \"b\": unknown capability \"reed\""},
        BadCase{"\n\npath \"secret/*/foo\" { capabilities = [\"read\"] }",
                "line 3: path \"secret/*/foo\": the glob '*' is only allowed"},
        BadCase{"path \"secret/+*\" { capabilities = [\"read\"] }", "'+*' is forbidden"},
        BadCase{"path \"a\" {\n  capabilities = [\"read\"]\n  colour = \"red\"\n}",
                "line 3: path \"a\": unknown key \"colour\""},
        BadCase{"path \"a\" {\n  max_wrapping_ttl = \"ten\"\n}",
                "line 2: path \"a\": max_wrapping_ttl: invalid duration"},
        BadCase{"path \"a\" {\n  min_wrapping_ttl = -3\n}", "min_wrapping_ttl: invalid duration"},
        BadCase{"path \"a\" { min_wrapping_ttl = \"90s\"\n max_wrapping_ttl = \"1s\" }",
                "max_wrapping_ttl cannot be less than min_wrapping_ttl"},
        BadCase{"path \"a\" { policy = \"admin\" }", "invalid policy \"admin\""},
        BadCase{"path \"a\" { capabilities = \"read\" }", "capabilities must be a list"},
        BadCase{"\nfoo = 1\n", "line 2: unknown key \"foo\""},
        BadCase{"path \"a\" { allowed_parameters = { \"x*\" = [] } }", "non-tail wildcards"},
        BadCase{"path \"a\" { allowed_parameters = { \"x\" = \"y\" } }", "must be a list"},
        BadCase{"path \"a\" { denied_parameters = { \"*\" = [\"y\"] } }",
                "the only value allowed for \"*\" is []"},
        BadCase{"path \"a\" { required_parameters = [\"a*\"] }", "required_parameters"},
        BadCase{"path \"a\" { subscribe_event_types = \"kv*\" }",
                "subscribe_event_types must be a list of event types"},
        BadCase{"path \"a\" { subscribe_event_types = [1] }",
                "subscribe_event_types must be a list of event types"},
        BadCase{"path \"a/{{identity.entity.id\" { capabilities = [\"read\"] }",
                "unbalanced templating characters"},
        BadCase{"path \"a/identity.entity.id}}\" { capabilities = [\"read\"] }",
                "unbalanced templating characters"},
        BadCase{"path \"a/{{identity.entity.id}}}}/b\" { capabilities = [\"read\"] }",
                "unbalanced templating characters"},
        BadCase{"path \"a/{{ {{identity.entity.id}}\" { capabilities = [\"read\"] }",
                "unbalanced templating characters"},
        BadCase{"\npath \"a/{{identity.entity.nmae}}\" { capabilities = [\"read\"] }",
                "line 2: path \"a/{{identity.entity.nmae}}\": unknown template parameter "
                "\"{{identity.entity.nmae}}\""},
        BadCase{"path \"a/{{time.now}}\" { capabilities = [\"read\"] }",
                "unknown template parameter"},
        BadCase{"path \"a/{{identity.entity.metadata}}\" { capabilities = [\"read\"] }",
                "unknown template parameter"},
        BadCase{"path \"a/{{identity.groups.names.team}}\" { capabilities = [\"read\"] }",
                "unknown template parameter"},
        BadCase{"path \"a/{{identity.entity.aliases.auth_userpass_1}}\" { capabilities = "
                "[\"read\"] }",
                "unknown template parameter"},
        BadCase{"path \"a/{{identity.entity.metadata.a*}}\" { capabilities = [\"read\"] }",
                "may not contain '*'"},
        BadCase{"path \"a/*/{{identity.entity.id}}\" { capabilities = [\"read\"] }",
                "the glob '*' is only allowed as the last character"},
        BadCase{"path \"a/{{identity.entity.id}}*/b\" { capabilities = [\"read\"] }",
                "the glob '*' is only allowed"},
        BadCase{"path \"a\" { control_group = {} }", "not supported"},
        BadCase{"path \"a\" {\n  capabilities = [\"read\"\n", "failed to parse policy: line"},
        BadCase{"path = 3", "path must be a block"}));

TEST(ParsePolicyTest, TemplatedPathsAreMarked) {
  auto p = ParsePolicy("t", R"(
path "secret/data/{{identity.entity.name}}/*" { capabilities = ["read"] }
path "secret/data/{{ identity.groups.names.ops.metadata.team }}/x" { capabilities = ["deny"] }
path "secret/data/shared" { capabilities = ["read"] }
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ASSERT_EQ(p->paths.size(), 3u);
  EXPECT_TRUE(p->templated);
  auto stanza = [&](std::string_view pattern) -> const PathRules& {
    for (const auto& r : p->paths) {
      if (r.pattern == pattern) return r;
    }
    ADD_FAILURE() << "no stanza " << pattern;
    return p->paths[0];
  };
  EXPECT_TRUE(stanza("secret/data/{{identity.entity.name}}/*").templated);
  const PathRules& denied = stanza("secret/data/{{ identity.groups.names.ops.metadata.team }}/x");
  EXPECT_TRUE(denied.templated);  // kept through the deny rewrite
  EXPECT_EQ(denied.capabilities, kCapDeny);
  EXPECT_FALSE(stanza("secret/data/shared").templated);
  auto plain = ParsePolicy("p", R"(path "secret/*" { capabilities = ["read"] })");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->templated);
}

TEST(TemplateTest, EveryParameterExpands) {
  TemplateIdentity who;
  who.entity_id = "e-1";
  who.entity_name = "alice";
  who.entity_metadata = {{"team", "blue"}, {"a.b", "dotted"}};
  who.aliases = {{"auth_userpass_9", "al-1", "alice-login", {{"dept", "eng"}}}};
  who.groups = {{"g-1", "ops", {{"site", "ams"}}}, {"g-2", "dev", {}}};
  const std::pair<const char*, const char*> cases[] = {
      {"k/{{identity.entity.id}}", "k/e-1"},
      {"k/{{identity.entity.name}}/*", "k/alice/*"},
      {"k/{{identity.entity.metadata.team}}", "k/blue"},
      {"k/{{identity.entity.metadata.a.b}}", "k/dotted"},
      {"k/{{identity.entity.aliases.auth_userpass_9.id}}", "k/al-1"},
      {"k/{{identity.entity.aliases.auth_userpass_9.name}}", "k/alice-login"},
      {"k/{{identity.entity.aliases.auth_userpass_9.custom_metadata.dept}}", "k/eng"},
      {"k/{{identity.groups.ids.g-1.name}}", "k/ops"},
      {"k/{{identity.groups.names.dev.id}}", "k/g-2"},
      {"k/{{identity.groups.names.ops.metadata.site}}", "k/ams"},
      {"{{identity.entity.name}}-{{ identity.entity.id }}+x", "alice-e-1+x"},
      {"k/plain", "k/plain"},
  };
  for (const auto& [pattern, want] : cases) {
    auto got = ExpandTemplate(pattern, &who);
    ASSERT_TRUE(got.has_value()) << pattern;
    EXPECT_EQ(*got, want) << pattern;
  }
}

TEST(TemplateTest, MissingOrUnsafeValuesLeaveThePathOut) {
  TemplateIdentity who;
  who.entity_id = "e-1";
  who.entity_name = "alice";
  who.entity_metadata = {
      {"slash", "bob/private"}, {"star", "a*"},  {"plus", "+"},        {"empty", ""},
      {"brace", "{x}"},         {"ctl", "a\nb"}, {"email", "a+b@x.io"}};
  who.groups = {{"g-1", "ops", {}}};
  for (const char* pattern : {
           "k/{{identity.entity.metadata.none}}",
           "k/{{identity.entity.aliases.auth_jwt_1.name}}",
           "k/{{identity.entity.aliases.auth_jwt_1.metadata.x}}",
           "k/{{identity.groups.names.dev.id}}",
           "k/{{identity.groups.ids.g-1.metadata.site}}",
           "k/{{identity.entity.metadata.slash}}/*",
           "k/{{identity.entity.metadata.star}}",
           "k/{{identity.entity.metadata.plus}}/x",
           "k/{{identity.entity.metadata.empty}}",
           "k/{{identity.entity.metadata.brace}}",
           "k/{{identity.entity.metadata.ctl}}",
           "k/{{identity.entity.name}}/{{identity.entity.metadata.none}}",
       }) {
    EXPECT_FALSE(ExpandTemplate(pattern, &who).has_value()) << pattern;
  }
  // No entity at all: nothing resolves.
  EXPECT_FALSE(ExpandTemplate("k/{{identity.entity.id}}", nullptr).has_value());
  EXPECT_FALSE(ExpandTemplate("k/{{identity.groups.names.ops.id}}", nullptr).has_value());
  // A '+' inside a value is plain text (it only acts as a wildcard as a
  // whole segment).
  EXPECT_EQ(ExpandTemplate("k/{{identity.entity.metadata.email}}", &who), "k/a+b@x.io");
}

TEST(ParsePolicyTest, Names) {
  EXPECT_EQ(CanonicalPolicyName("  Dev-ReadOnly\t"), "dev-readonly");
  auto root = ParsePolicy(" ROOT ", "");
  ASSERT_FALSE(root.has_value());
  EXPECT_THAT(root.error().message(), HasSubstr("cannot update \"root\" policy"));
  EXPECT_FALSE(ParsePolicy("   ", "").has_value());
  // As in Vault, a name may hold '/' between segments (Salt's default
  // policies are "saltstack/minions" and "saltstack/<minion>").
  EXPECT_TRUE(ValidatePolicyName("saltstack/minions").ok());
  EXPECT_TRUE(ValidatePolicyName("a/b/c").ok());
  for (const char* bad : {"/a", "a/", "a//b", "a/./b", "a/../b", "..", ".", "a\nb"}) {
    EXPECT_FALSE(ValidatePolicyName(bad).ok()) << bad;
  }
}

TEST(ParsePolicyTest, ListScanResponseKeysFilterPath) {
  auto p = ParsePolicy("filtered", R"(
path "secret/metadata/*" {
  capabilities = ["list", "scan"]
  list_scan_response_keys_filter_path = "{{ .path | replace \"secret/metadata/\" \"secret/data/\" }}{{ .key }}"
})");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  const PathRules& r = p->paths.at(0);
  ASSERT_NE(r.keys_filter, nullptr);
  EXPECT_THAT(r.keys_filter_path, HasSubstr("replace"));
  auto path = KeysFilterPath(*r.keys_filter, "secret/metadata/app/", "db");
  ASSERT_TRUE(path.has_value()) << path.error().ToString();
  EXPECT_EQ(*path, "secret/data/app/db");

  auto bad = [](const std::string& body) {
    auto q = ParsePolicy("bad", "path \"secret/metadata/*\" {\n" + body + "\n}");
    return q.has_value() ? std::string("parsed") : q.error().message();
  };
  const std::string filter = R"(list_scan_response_keys_filter_path = "{{ .path }}{{ .key }}")";
  EXPECT_EQ(bad("capabilities = [\"list\"]\n" + filter), "parsed");
  EXPECT_EQ(bad("capabilities = [\"scan\"]\n" + filter), "parsed");
  EXPECT_THAT(bad("capabilities = [\"read\"]\n" + filter),
              HasSubstr("needs the list or scan capability"));
  EXPECT_THAT(bad("capabilities = [\"deny\"]\n" + filter),
              HasSubstr("needs the list or scan capability"));
  EXPECT_THAT(
      bad("capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = \"{{ .path }}\""),
      HasSubstr("same path for different keys"));
  EXPECT_THAT(bad("capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = \"{{ .key\""),
              HasSubstr("list_scan_response_keys_filter_path"));
  EXPECT_THAT(bad("capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = "
                  "\"{{ .key | frobnicate }}\""),
              HasSubstr("frobnicate"));
  EXPECT_THAT(bad("capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = 3"),
              HasSubstr("must be a string"));
}

TEST(ParsePolicyTest, PaginationLimit) {
  auto p = ParsePolicy("paged", R"(path "secret/metadata/*" {
  capabilities = ["list"]
  pagination_limit = 500
}
path "kv/*" { pagination_limit = "20" })");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  for (const PathRules& r : p->paths) {
    EXPECT_EQ(r.pagination_limit, r.pattern == "kv/*" ? 20 : 500) << r.pattern;
  }
  for (const char* bad : {"-1", "\"lots\"", "1.5", "[1]"}) {
    auto q = ParsePolicy("bad", std::string("path \"a/*\" { pagination_limit = ") + bad + " }");
    ASSERT_FALSE(q.has_value()) << bad;
    EXPECT_THAT(q.error().message(), HasSubstr("pagination_limit must be a whole number"));
  }
}

// OpenBao's per-path expiration: parsed as RFC 3339, kept through a deny,
// and the stanza left out of ACLs compiled at or after it.
TEST(ParsePolicyTest, PathExpiration) {
  auto p = ParsePolicy("x", R"(
path "kv/glass" {
  capabilities = ["read"]
  expiration   = "2030-01-01T00:00:00Z"
  comment      = "break-glass access until 2030"
}
path "secret/data/closed" {
  capabilities = ["deny"]
  expiration   = "2030-01-01T00:00:00+01:00"
}
path "secret/data/*" { capabilities = ["read"] }
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  const auto at = *ParseRfc3339("2030-01-01T00:00:00Z");
  std::map<std::string, std::optional<std::chrono::system_clock::time_point>> by;
  for (const auto& r : p->paths) by[r.pattern] = r.expiration;
  EXPECT_EQ(by["kv/glass"], at);
  EXPECT_EQ(by["secret/data/closed"], at - std::chrono::hours(1));
  EXPECT_FALSE(by["secret/data/*"].has_value());

  auto policy = std::make_shared<const Policy>(std::move(*p));
  auto check = [&](std::chrono::system_clock::time_point now, std::string_view path) {
    auto acl = Acl::Compile({policy}, nullptr, now);
    return (*acl)->Check(path, logical::Operation::kRead, nlohmann::json::object()).allowed;
  };
  const auto before = at - std::chrono::hours(2);
  EXPECT_TRUE(check(before, "kv/glass"));
  EXPECT_FALSE(check(before, "secret/data/closed"));
  // The deny expires first: the glob then grants the path.
  EXPECT_TRUE(check(at - std::chrono::minutes(30), "secret/data/closed"));
  EXPECT_TRUE(check(at - std::chrono::nanoseconds(1), "kv/glass"));
  EXPECT_FALSE(check(at, "kv/glass"));

  for (const char* bad : {R"(path "a" {
  capabilities = ["read"]
  expiration = "next tuesday"
})",
                          R"(path "a" {
  capabilities = ["read"]
  expiration = 1767225600
})"}) {
    auto e = ParsePolicy("bad", bad);
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_THAT(e.error().message(), ::testing::HasSubstr("line 3"));
    EXPECT_THAT(e.error().message(), ::testing::HasSubstr("invalid expiration time"));
  }
}

TEST(CapabilityTest, NamesRoundTripAndSort) {
  for (const char* n :
       {"create", "read", "update", "patch", "delete", "list", "scan", "sudo", "deny"}) {
    auto c = ParseCapability(n);
    ASSERT_TRUE(c.has_value()) << n;
    EXPECT_EQ(CapabilityName(*c), n);
  }
  EXPECT_FALSE(ParseCapability("root").has_value());
  EXPECT_THAT(CapabilityNames(kCapUpdate | kCapCreate | kCapSudo),
              ElementsAre("create", "sudo", "update"));
  // OpenBao's bit for scan.
  EXPECT_EQ(static_cast<std::uint32_t>(kCapScan), 1u << 8);
  EXPECT_THAT(CapabilityNames(kCapScan | kCapList), ElementsAre("list", "scan"));
}

}  // namespace
}  // namespace coffer::policy
