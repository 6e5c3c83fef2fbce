// Table-driven checks of Vault's documented matching, priority and merge
// rules (website/content/docs/concepts/policies.mdx) against Acl.

#include "policy/acl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace coffer::policy {
namespace {

using logical::Operation;
using Json = nlohmann::json;
using ::testing::ElementsAre;

std::shared_ptr<const Acl> Compile(const std::vector<std::string>& texts) {
  std::vector<std::shared_ptr<const Policy>> policies;
  int i = 0;
  for (const auto& t : texts) {
    auto p = ParsePolicy("p" + std::to_string(i++), t);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
    if (p) policies.push_back(std::make_shared<const Policy>(std::move(*p)));
  }
  auto acl = Acl::Compile(policies);
  EXPECT_TRUE(acl.has_value());
  return *acl;
}

struct Case {
  const char* name;
  std::vector<std::string> policies;
  const char* path;
  Operation op;
  Json params;
  bool allowed;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// A LIST of `path` without parameters.
Case ListCase(const char* name, std::vector<std::string> policies, const char* path, bool allowed) {
  return Case{name, std::move(policies), path, Operation::kList, {}, allowed};
}

class AclTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(AclTableTest, Decides) {
  const Case& c = GetParam();
  auto acl = Compile(c.policies);
  Decision d = acl->Check(c.path, c.op, c.params);
  EXPECT_EQ(d.allowed, c.allowed) << c.name << ": " << d.reason;
  if (!d.allowed) {
    EXPECT_FALSE(d.reason.empty());
  }
}

const std::string kSecretAll =
    R"(path "secret/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }
path "secret/super-secret" { capabilities = ["deny"] })";
const std::string kGlobs = R"(path "secret/*" { capabilities = ["read"] }
path "secret/foo*" { capabilities = ["list"] }
path "secret/foo" { capabilities = ["update"] })";
const std::string kSegments = R"(path "secret/+/teamb" { capabilities = ["read"] }
path "secret/+/+/teamb" { capabilities = ["update"] })";
const std::string kListTree = R"(path "secret/*" { capabilities = ["list", "read"] }
path "secret/private/*" { capabilities = ["deny"] })";
const std::string kParams = R"(path "secret/restricted" {
  capabilities = ["create", "update", "read"]
  allowed_parameters = { "foo" = [], "bar" = ["zip", "zap"] }
}
path "secret/star" {
  capabilities = ["create"]
  allowed_parameters = { "bar" = ["zip", "zap"], "*" = [] }
}
path "secret/glob" {
  capabilities = ["create"]
  allowed_parameters = { "bar" = ["baz/*", "*-suffix"] }
}
path "secret/denied" {
  capabilities = ["create"]
  denied_parameters = { "bar" = ["zip", "zap"], "secret" = [] }
}
path "secret/nothing" {
  capabilities = ["create"]
  denied_parameters = { "*" = [] }
}
path "secret/required" {
  capabilities = ["create", "list"]
  required_parameters = ["bar", "baz"]
}
path "secret/both" {
  capabilities = ["create"]
  allowed_parameters = { "bar" = [] }
  denied_parameters = { "bar" = ["evil"] }
})";

INSTANTIATE_TEST_SUITE_P(
    Vault, AclTableTest,
    ::testing::Values(
        // Exact paths, deny by default.
        Case{"exact read",
             {R"(path "secret/foo" { capabilities = ["read"] })"},
             "secret/foo",
             Operation::kRead,
             {},
             true},
        Case{"exact is not a prefix",
             {R"(path "secret/foo" { capabilities = ["read"] })"},
             "secret/food",
             Operation::kRead,
             {},
             false},
        Case{"exact not nested",
             {R"(path "secret/foo" { capabilities = ["read"] })"},
             "secret/foo/bar",
             Operation::kRead,
             {},
             false},
        Case{"capability missing",
             {R"(path "secret/foo" { capabilities = ["read"] })"},
             "secret/foo",
             Operation::kUpdate,
             {},
             false},
        Case{"empty policy denies", {""}, "secret/foo", Operation::kRead, {}, false},
        Case{"leading slash ignored",
             {R"(path "secret/foo" { capabilities = ["read"] })"},
             "/secret/foo",
             Operation::kRead,
             {},
             true},
        // Globs.
        Case{"glob under bar",
             {R"(path "secret/bar/*" { capabilities = ["read"] })"},
             "secret/bar/zip/zap",
             Operation::kRead,
             {},
             true},
        Case{"glob not sibling",
             {R"(path "secret/bar/*" { capabilities = ["read"] })"},
             "secret/bars/zip",
             Operation::kRead,
             {},
             false},
        Case{"glob partial segment",
             {R"(path "secret/zip-*" { capabilities = ["read"] })"},
             "secret/zip-zap/zong",
             Operation::kRead,
             {},
             true},
        Case{"glob partial no match",
             {R"(path "secret/zip-*" { capabilities = ["read"] })"},
             "secret/zip/zap",
             Operation::kRead,
             {},
             false},
        Case{"star matches all",
             {R"(path "*" { capabilities = ["read"] })"},
             "anything/at/all",
             Operation::kRead,
             {},
             true},
        // Deny on exact beats glob allow.
        Case{"deny exact beats glob",
             {kSecretAll},
             "secret/super-secret",
             Operation::kRead,
             {},
             false},
        Case{"glob still allows others", {kSecretAll}, "secret/other", Operation::kRead, {}, true},
        // secret/* vs secret/foo* vs secret/foo.
        Case{"exact foo wins (update)", {kGlobs}, "secret/foo", Operation::kUpdate, {}, true},
        Case{"exact foo wins (no read)", {kGlobs}, "secret/foo", Operation::kRead, {}, false},
        Case{"foo* beats * (list)", {kGlobs}, "secret/foobar", Operation::kList, {}, true},
        Case{"foo* beats * (no read)", {kGlobs}, "secret/foobar", Operation::kRead, {}, false},
        Case{"* for others", {kGlobs}, "secret/bar", Operation::kRead, {}, true},
        // + segments.
        Case{"+ one segment", {kSegments}, "secret/x/teamb", Operation::kRead, {}, true},
        Case{"+ not two segments", {kSegments}, "secret/x/y/teamb", Operation::kRead, {}, false},
        Case{"+/+ two segments", {kSegments}, "secret/x/y/teamb", Operation::kUpdate, {}, true},
        Case{"+ needs the tail", {kSegments}, "secret/x/teamc", Operation::kRead, {}, false},
        Case{"+ not deeper", {kSegments}, "secret/x/teamb/more", Operation::kRead, {}, false},
        Case{"+ with glob tail",
             {R"(path "secret/+/team*" { capabilities = ["read"] })"},
             "secret/x/teamb/more",
             Operation::kRead,
             {},
             true},
        // Priority rule 1: later first wildcard wins.
        Case{"later wildcard wins",
             {R"(path "secret/*" { capabilities = ["read"] }
                 path "secret/+/foo" { capabilities = ["deny"] })"},
             "secret/a/foo",
             Operation::kRead,
             {},
             false},
        Case{"a* beats +",
             {R"(path "foo/+" { capabilities = ["read"] }
                 path "foo/a*" { capabilities = ["deny"] })"},
             "foo/abc",
             Operation::kRead,
             {},
             false},
        // Rule 2: not ending in * wins at the same position.
        Case{"+ beats *",
             {R"(path "foo/+" { capabilities = ["deny"] }
                 path "foo/*" { capabilities = ["read"] })"},
             "foo/bar",
             Operation::kRead,
             {},
             false},
        // Rule 3: fewer + segments win; the documented example.
        Case{"fewer wildcards win",
             {R"(path "secret/*" { capabilities = ["read"] }
                 path "secret/+/+/foo/*" { capabilities = ["deny"] })"},
             "secret/a/b/foo/c",
             Operation::kRead,
             {},
             true},
        Case{"bar/+/baz beats +/+/baz",
             {R"(path "foo/bar/+/baz" { capabilities = ["read"] }
                 path "foo/+/+/baz" { capabilities = ["deny"] })"},
             "foo/bar/x/baz",
             Operation::kRead,
             {},
             true},
        // Rule 4: longer wins.
        Case{"longer prefix wins",
             {R"(path "foo/+/bar/b*" { capabilities = ["deny"] }
                 path "foo/+/bar/ba*" { capabilities = ["read"] })"},
             "foo/x/bar/baz",
             Operation::kRead,
             {},
             true},
        // Merging the same pattern across policies.
        Case{"union read",
             {R"(path "secret/app" { capabilities = ["read"] })",
              R"(path "secret/app" { capabilities = ["update"] })"},
             "secret/app",
             Operation::kRead,
             {},
             true},
        Case{"union update",
             {R"(path "secret/app" { capabilities = ["read"] })",
              R"(path "secret/app" { capabilities = ["update"] })"},
             "secret/app",
             Operation::kUpdate,
             {},
             true},
        Case{"deny in one policy wins",
             {R"(path "secret/app/*" { capabilities = ["read", "list"] })",
              R"(path "secret/app/*" { capabilities = ["deny"] })"},
             "secret/app/x",
             Operation::kRead,
             {},
             false},
        Case{"deny in first policy wins",
             {R"(path "secret/app/*" { capabilities = ["deny"] })",
              R"(path "secret/app/*" { capabilities = ["read", "sudo"] })"},
             "secret/app/x",
             Operation::kRead,
             {},
             false},
        Case{"different patterns: highest priority only",
             {R"(path "secret/*" { capabilities = ["update"] })",
              R"(path "secret/app" { capabilities = ["read"] })"},
             "secret/app",
             Operation::kUpdate,
             {},
             false},
        // LIST.
        Case{"list allowed under wildcard",
             {kListTree},
             "secret/public/",
             Operation::kList,
             {},
             true},
        Case{"list root of wildcard", {kListTree}, "secret/", Operation::kList, {}, true},
        Case{"list denied subtree", {kListTree}, "secret/private/", Operation::kList, {}, false},
        Case{"read denied subtree", {kListTree}, "secret/private/x", Operation::kRead, {}, false},
        ListCase("list exact without slash",
                 {R"(path "sys/policies/acl" { capabilities = ["list"] })"}, "sys/policies/acl/",
                 true),
        ListCase("list + pattern without slash",
                 {R"(path "+/sys/policies/acl" { capabilities = ["list"] })"},
                 "ns1/sys/policies/acl/", true),
        ListCase("list exact with slash denied", {R"(path "secret/*" { capabilities = ["list"] }
                 path "secret/app/" { capabilities = ["deny"] })"},
                 "secret/app/", false),
        // LIST tries, in order: an exact rule for the path, then for the
        // path without its '/', then globs and '+' rules for the path, and
        // only when none matches, those for the path without its '/'.
        ListCase("list: a longer glob on the full path beats a + on the trimmed path",
                 {R"(path "secret/metadata/+" { capabilities = ["deny"] }
                 path "secret/metadata/foo/*" { capabilities = ["list"] })"},
                 "secret/metadata/foo/", true),
        ListCase("list: the full path's glob decides, not the trimmed path's",
                 {R"(path "secret/metadata/*" { capabilities = ["read"] }
                 path "secret/metadata/team/*" { capabilities = ["list"] })"},
                 "secret/metadata/team/", true),
        ListCase("list: a deny glob on the full path beats a + on the trimmed path",
                 {R"(path "kv/metadata/*" { capabilities = ["deny"] }
                 path "kv/metadata/+" { capabilities = ["list"] })"},
                 "kv/metadata/team/", false),
        ListCase("list: a + on the trimmed path applies when nothing matches the full path",
                 {R"(path "kv/metadata/+" { capabilities = ["list"] })"}, "kv/metadata/team/",
                 true),
        ListCase("list: an exact rule on the trimmed path beats a glob on the full path",
                 {R"(path "secret/app" { capabilities = ["list"] }
                 path "secret/app/*" { capabilities = ["deny"] })"},
                 "secret/app/", true),
        ListCase("list: both forms allow", {R"(path "secret/metadata/+" { capabilities = ["list"] }
                 path "secret/metadata/foo/*" { capabilities = ["list"] })"},
                 "secret/metadata/foo/", true),
        // Scan (OpenBao's recursive list): its own capability, LIST's matching.
        Case{"scan needs scan, list is not enough",
             {R"(path "secret/metadata/*" { capabilities = ["list", "read"] })"},
             "secret/metadata/app/",
             Operation::kScan,
             {},
             false},
        Case{"scan granted",
             {R"(path "secret/metadata/app/*" { capabilities = ["scan"] })"},
             "secret/metadata/app/",
             Operation::kScan,
             {},
             true},
        Case{"scan alone does not list",
             {R"(path "secret/metadata/*" { capabilities = ["scan"] })"},
             "secret/metadata/app/",
             Operation::kList,
             {},
             false},
        Case{"scan: an exact rule on the trimmed path, as for list",
             {R"(path "secret/metadata/app" { capabilities = ["scan"] })"},
             "secret/metadata/app/",
             Operation::kScan,
             {},
             true},
        Case{"scan: a deny glob on the subtree beats a scan glob above it",
             {R"(path "secret/metadata/*" { capabilities = ["scan"] }
             path "secret/metadata/private/*" { capabilities = ["deny"] })"},
             "secret/metadata/private/",
             Operation::kScan,
             {},
             false},
        Case{"read: no fallback to the path without its '/'",
             {R"(path "kv/metadata/+" { capabilities = ["read"] })"},
             "kv/metadata/team/",
             Operation::kRead,
             {},
             false},
        // Parameters.
        Case{"allowed any value",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"foo", "anything"}},
             true},
        Case{"allowed listed value",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", "zap"}},
             true},
        Case{"allowed unlisted value",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", "zop"}},
             false},
        Case{"allowed unknown param",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"other", 1}},
             false},
        Case{"allowed case-insensitive name",
             {kParams},
             "secret/restricted",
             Operation::kUpdate,
             {{"BAR", "zip"}},
             true},
        Case{"no params passes",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             Json::object(),
             true},
        Case{"params ignored for delete",
             {R"(path "x" { capabilities = ["delete"]
                 allowed_parameters = { "a" = ["b"] } })"},
             "x",
             Operation::kDelete,
             {{"c", 1}},
             true},
        Case{"params checked for read",
             {kParams},
             "secret/restricted",
             Operation::kRead,
             {{"other", 1}},
             false},
        Case{"star allows others",
             {kParams},
             "secret/star",
             Operation::kCreate,
             {{"other", 1}, {"bar", "zip"}},
             true},
        Case{"star keeps value list",
             {kParams},
             "secret/star",
             Operation::kCreate,
             {{"bar", "nope"}},
             false},
        Case{"value prefix glob",
             {kParams},
             "secret/glob",
             Operation::kCreate,
             {{"bar", "baz/quux"}},
             true},
        Case{"value suffix glob",
             {kParams},
             "secret/glob",
             Operation::kCreate,
             {{"bar", "x-suffix"}},
             true},
        Case{"value glob miss",
             {kParams},
             "secret/glob",
             Operation::kCreate,
             {{"bar", "qux/baz"}},
             false},
        // Vault compares a value as a whole: a list value is not one of the
        // allowed strings, nor is a comma-separated string of them.
        Case{"list value is not an allowed string",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", {"zip", "zap"}}},
             false},
        Case{"list value one not allowed",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", {"zip", "zop"}}},
             false},
        Case{"list value of one allowed string",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", {"zip"}}},
             false},
        Case{"comma string of allowed items",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", "zip, zap"}},
             false},
        Case{"comma string repeating an allowed item",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", "zip,zip"}},
             false},
        Case{"allowed item with a leading space",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", " zip"}},
             false},
        Case{"empty string not listed",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", ""}},
             false},
        Case{"comma string smuggling",
             {kParams},
             "secret/restricted",
             Operation::kCreate,
             {{"bar", "zip,evil"}},
             false},
        Case{"a glob matches the whole comma string",
             {kParams},
             "secret/glob",
             Operation::kCreate,
             {{"bar", "baz/a,b"}},
             true},
        Case{"a listed list value matches as a whole",
             {R"(path "p" { capabilities = ["create"]
                 allowed_parameters = { "a" = [["x", "y"]] } })"},
             "p",
             Operation::kCreate,
             {{"a", {"x", "y"}}},
             true},
        Case{"a listed list value is not matched item by item",
             {R"(path "p" { capabilities = ["create"]
                 allowed_parameters = { "a" = [["x", "y"]] } })"},
             "p",
             Operation::kCreate,
             {{"a", {"x"}}},
             false},
        Case{"denied item in a list value",
             {kParams},
             "secret/denied",
             Operation::kCreate,
             {{"bar", {"ok", "zip"}}},
             false},
        Case{"denied value",
             {kParams},
             "secret/denied",
             Operation::kCreate,
             {{"bar", "zip"}},
             false},
        Case{"denied other value ok",
             {kParams},
             "secret/denied",
             Operation::kCreate,
             {{"bar", "zop"}, {"x", 1}},
             true},
        Case{"denied any value",
             {kParams},
             "secret/denied",
             Operation::kCreate,
             {{"secret", "x"}},
             false},
        Case{"denied in comma string",
             {kParams},
             "secret/denied",
             Operation::kCreate,
             {{"bar", "ok,zap"}},
             false},
        Case{"denied star", {kParams}, "secret/nothing", Operation::kCreate, {{"a", 1}}, false},
        Case{"denied star no params",
             {kParams},
             "secret/nothing",
             Operation::kCreate,
             Json::object(),
             true},
        Case{"denied beats allowed",
             {kParams},
             "secret/both",
             Operation::kCreate,
             {{"bar", "evil"}},
             false},
        Case{"required present",
             {kParams},
             "secret/required",
             Operation::kCreate,
             {{"bar", 1}, {"baz", 2}},
             true},
        Case{"required missing",
             {kParams},
             "secret/required",
             Operation::kCreate,
             {{"bar", 1}},
             false},
        Case{"required none",
             {kParams},
             "secret/required",
             Operation::kCreate,
             Json::object(),
             false},
        Case{"required not for list",
             {kParams},
             "secret/required",
             Operation::kList,
             Json::object(),
             true},
        // Parameter merge across policies on one pattern.
        Case{"merged allowed values",
             {R"(path "p" { capabilities = ["create"]
                 allowed_parameters = { "a" = ["x"] } })",
              R"(path "p" { capabilities = ["create"]
                 allowed_parameters = { "a" = ["y"] } })"},
             "p",
             Operation::kCreate,
             {{"a", "y"}},
             true},
        Case{"merged empty list absorbs",
             {R"(path "p" { capabilities = ["create"]
                 allowed_parameters = { "a" = ["x"] } })",
              R"(path "p" { capabilities = ["create"]
                 allowed_parameters = { "a" = [] } })"},
             "p",
             Operation::kCreate,
             {{"a", "z"}},
             true},
        Case{"merged required union",
             {R"(path "p" { capabilities = ["create"] required_parameters = ["a"] })",
              R"(path "p" { capabilities = ["create"] required_parameters = ["b"] })"},
             "p",
             Operation::kCreate,
             {{"a", 1}},
             false},
        Case{"merged wrapping TTLs conflict",
             {R"(path "p" { capabilities = ["read"] min_wrapping_ttl = "60s" })",
              R"(path "p" { capabilities = ["read"] max_wrapping_ttl = "30s" })"},
             "p",
             Operation::kRead,
             {},
             false},
        Case{"head needs read",
             {R"(path "p" { capabilities = ["read"] })"},
             "p",
             Operation::kHead,
             {},
             true},
        Case{"patch needs patch",
             {R"(path "p" { capabilities = ["update"] })"},
             "p",
             Operation::kPatch,
             {},
             false}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string n;
      for (const char* c = info.param.name; *c; ++c) n += std::isalnum(*c) ? *c : '_';
      return n;
    });

TEST(AclTest, SudoIsReported) {
  auto acl = Compile({R"(path "sys/audit/*" { capabilities = ["create", "update", "sudo"] }
path "sys/mounts/*" { capabilities = ["update"] })"});
  Decision d = acl->Check("sys/audit/file", Operation::kUpdate, Json::object());
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.sudo);
  EXPECT_FALSE(d.root);
  Decision m = acl->Check("sys/mounts/kv", Operation::kUpdate, Json::object());
  EXPECT_TRUE(m.allowed);
  EXPECT_FALSE(m.sudo);
}

TEST(AclTest, DenyBeatsSudo) {
  auto acl = Compile({R"(path "sys/audit/*" { capabilities = ["sudo", "update"] })",
                      R"(path "sys/audit/*" { capabilities = ["deny"] })"});
  Decision d = acl->Check("sys/audit/file", Operation::kUpdate, Json::object());
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(d.sudo);
  EXPECT_EQ(d.capabilities, kCapDeny);
}

// Vault 1.16's subscribe: the capability with subscribe_event_types (globs,
// merged as a union) lets a path's events through; it grants no request, a
// deny on the path takes it away, and a type not listed is not let through.
TEST(AclTest, SubscribeGrantsEventTypesOnly) {
  auto acl = Compile({R"(path "secret/data/*" {
  capabilities = ["list", "subscribe"]
  subscribe_event_types = ["kv-v2/data-*"]
})",
                      R"(path "secret/data/*" {
  capabilities = ["subscribe"]
  subscribe_event_types = ["kv-v2/delete"]
})",
                      R"(path "secret/data/locked" { capabilities = ["deny"] })",
                      R"(path "other/*" { capabilities = ["read"] })"});
  EXPECT_TRUE(acl->Subscribes("secret/data/app", "kv-v2/data-write"));
  EXPECT_TRUE(acl->Subscribes("secret/data/app", "kv-v2/delete"));
  EXPECT_FALSE(acl->Subscribes("secret/data/app", "kv-v2/destroy"));
  EXPECT_FALSE(acl->Subscribes("secret/data/locked", "kv-v2/data-write"));
  EXPECT_FALSE(acl->Subscribes("other/x", "kv-v2/data-write"));  // read is not subscribe
  EXPECT_FALSE(acl->Check("secret/data/app", Operation::kRead, Json::object()).allowed);
  EXPECT_EQ(acl->Capabilities("secret/data/app"), (std::vector<std::string>{"list", "subscribe"}));
}

TEST(AclTest, WrappingTtlsSurfaceAndMergeToLowest) {
  auto acl = Compile({R"(path "auth/approle/role/r/secret-id" {
  capabilities = ["create", "update"]
  min_wrapping_ttl = "10s"
  max_wrapping_ttl = "90s"
})",
                      R"(path "auth/approle/role/r/secret-id" {
  capabilities = ["update"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "5m"
})"});
  Decision d = acl->Check("auth/approle/role/r/secret-id", Operation::kUpdate, Json::object());
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.min_wrapping_ttl, std::chrono::seconds(1));
  EXPECT_EQ(d.max_wrapping_ttl, std::chrono::seconds(90));
}

TEST(AclTest, KeysFilterComesWithListsAndScansAndTheFirstStanzaGivesIt) {
  const std::string filtered = R"(path "secret/metadata/*" {
    capabilities = ["list", "scan", "read"]
    list_scan_response_keys_filter_path = "{{ .path }}{{ .key }}"
  })";
  auto acl = Compile({filtered});
  for (Operation op : {Operation::kList, Operation::kScan}) {
    Decision d = acl->Check("secret/metadata/app/", op, Json::object());
    ASSERT_TRUE(d.allowed);
    ASSERT_NE(d.keys_filter, nullptr);
    EXPECT_EQ(*KeysFilterPath(*d.keys_filter, "secret/metadata/app/", "db"),
              "secret/metadata/app/db");
  }
  EXPECT_EQ(acl->Check("secret/metadata/app", Operation::kRead, Json::object()).keys_filter,
            nullptr);
  // Merged with an unfiltered grant of the same pattern, either way round,
  // the filter stays (OpenBao: the first stanza with one gives it).
  const std::string plain = R"(path "secret/metadata/*" { capabilities = ["list"] })";
  EXPECT_NE(Compile({plain, filtered})->Check("secret/metadata/", Operation::kList, {}).keys_filter,
            nullptr);
  EXPECT_NE(Compile({filtered, plain})->Check("secret/metadata/", Operation::kList, {}).keys_filter,
            nullptr);
  // A deny on the pattern takes it away with everything else.
  const std::string deny = R"(path "secret/metadata/*" { capabilities = ["deny"] })";
  Decision denied = Compile({filtered, deny})->Check("secret/metadata/", Operation::kList, {});
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.keys_filter, nullptr);
}

TEST(AclTest, PaginationLimitBoundsListsAndScans) {
  auto acl = Compile({R"(path "secret/metadata/*" {
      capabilities = ["list", "scan", "read"]
      pagination_limit = 100
    })",
                      R"(path "secret/metadata/*" { pagination_limit = 50 })",
                      R"(path "secret/metadata/strict/*" {
      capabilities = ["list"]
      pagination_limit = 10
      required_parameters = ["limit"]
    })",
                      R"(path "secret/open/*" { capabilities = ["list"] })"});
  auto check = [&](const char* path, Operation op, Json params) {
    return acl->Check(path, op, params);
  };
  // The lowest bound of the merged stanzas: absent, 0 and max become it.
  for (Json params : {Json::object(), Json{{"limit", "0"}}, Json{{"limit", "max"}}}) {
    Decision d = check("secret/metadata/", Operation::kScan, params);
    ASSERT_TRUE(d.allowed) << params.dump() << d.reason;
    EXPECT_EQ(d.set_limit, "50") << params.dump();
  }
  Decision ok = check("secret/metadata/", Operation::kList, {{"limit", "20"}});
  EXPECT_TRUE(ok.allowed);
  EXPECT_FALSE(ok.set_limit.has_value());
  for (Json params : {Json{{"limit", "51"}}, Json{{"limit", -1}}, Json{{"limit", "many"}}}) {
    Decision d = check("secret/metadata/", Operation::kList, params);
    EXPECT_FALSE(d.allowed) << params.dump();
    EXPECT_THAT(d.reason, ::testing::HasSubstr("at most 50"));
  }
  // Reads are not paged.
  EXPECT_FALSE(check("secret/metadata/x", Operation::kRead, Json::object()).set_limit);
  // A required limit must be given.
  Decision missing = check("secret/metadata/strict/", Operation::kList, Json::object());
  EXPECT_FALSE(missing.allowed);
  EXPECT_THAT(missing.reason, ::testing::HasSubstr("requires a \"limit\""));
  EXPECT_EQ(check("secret/metadata/strict/", Operation::kList, {{"limit", "max"}}).set_limit, "10");
  // Without a bound, max is every entry (0); root too.
  EXPECT_EQ(check("secret/open/", Operation::kList, {{"limit", "max"}}).set_limit, "0");
  EXPECT_FALSE(check("secret/open/", Operation::kList, {{"limit", "7"}}).set_limit);
  auto root = std::make_shared<Policy>();
  root->name = "root";
  auto root_acl = Acl::Compile({root});
  ASSERT_TRUE(root_acl.has_value());
  EXPECT_EQ((*root_acl)->Check("x/", Operation::kScan, {{"limit", "max"}}).set_limit, "0");
}

TEST(AclTest, RootAllowsEverything) {
  auto root = std::make_shared<Policy>();
  root->name = "root";
  auto acl = Acl::Compile({root, nullptr});
  ASSERT_TRUE(acl.has_value());
  EXPECT_TRUE((*acl)->IsRoot());
  Decision d = (*acl)->Check("sys/audit/x", Operation::kDelete, Json{{"a", 1}});
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.root);
  EXPECT_TRUE(d.sudo);
  EXPECT_THAT((*acl)->Capabilities("anything"), ElementsAre("root"));
}

TEST(AclTest, CapabilitiesForSysCapabilities) {
  auto acl = Compile({kListTree, R"(path "secret/app" { capabilities = ["update", "create"] })"});
  EXPECT_THAT(acl->Capabilities("secret/x"), ElementsAre("list", "read"));
  EXPECT_THAT(acl->Capabilities("secret/app"), ElementsAre("create", "update"));
  EXPECT_THAT(acl->Capabilities("secret/private/x"), ElementsAre("deny"));
  EXPECT_THAT(acl->Capabilities("other"), ElementsAre("deny"));
  EXPECT_FALSE(acl->IsRoot());
  // A folder matches as a LIST does: rules for the path first, those for
  // the path without its '/' only when none matches.
  auto folders = Compile({R"(path "secret/metadata/+" { capabilities = ["read"] }
                             path "secret/metadata/foo/*" { capabilities = ["list", "read"] })"});
  EXPECT_THAT(folders->Capabilities("secret/metadata/foo/"), ElementsAre("list", "read"));
  EXPECT_THAT(folders->Capabilities("secret/metadata/foo/x"), ElementsAre("list", "read"));
  EXPECT_THAT(folders->Capabilities("secret/metadata/bar/"), ElementsAre("read"));
  auto scan = Compile({R"(path "secret/metadata/*" { capabilities = ["list", "scan"] })"});
  EXPECT_THAT(scan->Capabilities("secret/metadata/app/"), ElementsAre("list", "scan"));
}

// Vault's hasMountAccess: the mount path's own capabilities first (a deny
// there hides the mount whatever globs cover it), then any grant at or
// under the mount, '+' rules matched segment by segment.
TEST(AclTest, ReachesMount) {
  auto acl = Compile({R"(path "*" { capabilities = ["read"] }
path "kv/*" { capabilities = ["deny"] }
path "app/*" { capabilities = ["deny"] }
path "app/config" { capabilities = ["read"] }
path "team/*" { capabilities = ["deny"] }
path "team/+/shared" { capabilities = ["read"] }
path "org/*" { capabilities = ["deny"] }
path "org/+/other/x" { capabilities = ["read"] }
path "org/unit/*" { capabilities = ["deny"] }
path "org/unit/deep/x" { capabilities = ["deny"] })"});
  EXPECT_TRUE(acl->ReachesMount("open/"));
  EXPECT_FALSE(acl->ReachesMount("kv/"));
  EXPECT_TRUE(acl->ReachesMount("app/"));
  EXPECT_TRUE(acl->ReachesMount("team/"));
  EXPECT_TRUE(acl->ReachesMount("team/sub/"));
  EXPECT_TRUE(acl->ReachesMount("org/"));
  // A mount two segments deep: "org/+/other/x" reaches it through its '+'.
  EXPECT_TRUE(acl->ReachesMount("org/unit/"));

  auto plus = Compile({R"(path "+/data/cfg" { capabilities = ["list"] }
path "auth/+/login" { capabilities = ["deny"] }
path "team/+/x*" { capabilities = ["read"] })"});
  // As in Vault, a '+' rule shows every mount it could reach, even where a
  // rule of higher priority would deny the path itself.
  EXPECT_TRUE(plus->ReachesMount("secret/"));
  EXPECT_FALSE(plus->ReachesMount("auth/userpass/"));
  EXPECT_TRUE(plus->ReachesMount("team/a/"));
  EXPECT_FALSE(plus->ReachesMount("team/a/b/"));  // the rule is not under it
  EXPECT_FALSE(plus->ReachesMount("other/a/"));

  auto none = Compile({R"(path "secret/*" { capabilities = ["deny"] })"});
  EXPECT_FALSE(none->ReachesMount("secret/"));
  EXPECT_FALSE(none->ReachesMount("kv/"));
}

TEST(AclTest, TemplatedPathsFollowTheCaller) {
  auto policy = ParsePolicy("own", R"(
path "secret/data/{{identity.entity.name}}/*" { capabilities = ["create", "read"] }
path "secret/data/{{identity.entity.name}}/locked" { capabilities = ["deny"] }
path "secret/data/teams/{{identity.groups.names.ops.metadata.site}}" { capabilities = ["read"] }
path "secret/data/shared" { capabilities = ["read"] }
)");
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  std::vector<std::shared_ptr<const Policy>> set{std::make_shared<const Policy>(*policy)};
  TemplateIdentity alice;
  alice.entity_id = "e-a";
  alice.entity_name = "alice";
  alice.groups = {{"g-1", "ops", {{"site", "ams"}}}};
  TemplateIdentity bob;
  bob.entity_id = "e-b";
  bob.entity_name = "bob";
  auto for_alice = *Acl::Compile(set, &alice);
  auto for_bob = *Acl::Compile(set, &bob);
  auto for_nobody = *Acl::Compile(set);
  const Json none = Json::object();
  EXPECT_TRUE(for_alice->Check("secret/data/alice/x", Operation::kRead, none).allowed);
  EXPECT_FALSE(for_alice->Check("secret/data/bob/x", Operation::kRead, none).allowed);
  EXPECT_FALSE(for_alice->Check("secret/data/alice/locked", Operation::kRead, none).allowed);
  EXPECT_TRUE(for_alice->Check("secret/data/teams/ams", Operation::kRead, none).allowed);
  EXPECT_TRUE(for_bob->Check("secret/data/bob/x", Operation::kRead, none).allowed);
  EXPECT_FALSE(for_bob->Check("secret/data/alice/x", Operation::kRead, none).allowed);
  // Bob is in no group: that stanza is left out, the others still apply.
  EXPECT_FALSE(for_bob->Check("secret/data/teams/ams", Operation::kRead, none).allowed);
  EXPECT_TRUE(for_bob->Check("secret/data/shared", Operation::kRead, none).allowed);
  // No entity: only the plain stanza; the literal template text matches nothing.
  EXPECT_TRUE(for_nobody->Check("secret/data/shared", Operation::kRead, none).allowed);
  EXPECT_FALSE(
      for_nobody->Check("secret/data/{{identity.entity.name}}/x", Operation::kRead, none).allowed);
  EXPECT_EQ(for_nobody->rules().size(), 1u);
  // A name that would reach into another subtree leaves its stanzas out.
  TemplateIdentity sneaky = bob;
  sneaky.entity_name = "bob/../alice";
  auto for_sneaky = *Acl::Compile(set, &sneaky);
  EXPECT_FALSE(for_sneaky->Check("secret/data/bob/x", Operation::kRead, none).allowed);
  EXPECT_EQ(for_sneaky->rules().size(), 1u);
}

TEST(AclTest, ManyRulesStayCorrect) {
  // A larger tree: every exact path and its glob resolve independently.
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "path \"kv/team" + std::to_string(i) + "/*\" { capabilities = [\"read\"] }\n";
    text += "path \"kv/team" + std::to_string(i) + "/locked\" { capabilities = [\"deny\"] }\n";
  }
  auto acl = Compile({text});
  for (int i = 0; i < 200; i += 17) {
    std::string base = "kv/team" + std::to_string(i) + "/";
    EXPECT_TRUE(acl->Check(base + "x", Operation::kRead, Json::object()).allowed) << base;
    EXPECT_FALSE(acl->Check(base + "locked", Operation::kRead, Json::object()).allowed) << base;
  }
  EXPECT_FALSE(acl->Check("kv/team", Operation::kRead, Json::object()).allowed);
}

}  // namespace
}  // namespace coffer::policy
