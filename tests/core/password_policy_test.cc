#include "core/password_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "storage/inmem/inmem_backend.h"

namespace coffer::core {
namespace {

constexpr std::string_view kLower = R"(
length = 20
rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}
)";

TEST(PasswordPolicyTest, ParsesVaultsHcl) {
  auto p = ParsePasswordPolicy(kLower);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->length, 20);
  ASSERT_EQ(p->rules.size(), 1u);
  EXPECT_EQ(p->rules[0].charset, "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(p->rules[0].min_chars, 1);
}

TEST(PasswordPolicyTest, SeveralRulesAndMinChars) {
  auto p = ParsePasswordPolicy(R"(
length = 8
rule "charset" {
  charset = "abc"
  min-chars = 3
}
rule "charset" {
  charset = "0123456789"
  min-chars = 4
}
rule "charset" {
  charset = "!"
  min-chars = 1
}
)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ASSERT_EQ(p->rules.size(), 3u);
  for (int i = 0; i < 200; ++i) {
    auto pw = GeneratePassword(*p);
    ASSERT_TRUE(pw.has_value());
    std::string_view s = pw->view();
    ASSERT_EQ(s.size(), 8u);
    int letters = 0, digits = 0, bang = 0;
    for (char c : s) {
      letters += (c >= 'a' && c <= 'c');
      digits += (c >= '0' && c <= '9');
      bang += c == '!';
    }
    EXPECT_EQ(letters + digits + bang, 8);
    EXPECT_EQ(letters, 3);
    EXPECT_EQ(digits, 4);
    EXPECT_EQ(bang, 1);
  }
}

TEST(PasswordPolicyTest, ImpossiblePoliciesAreRefused) {
  EXPECT_FALSE(ParsePasswordPolicy(R"(
length = 4
rule "charset" {
  charset = "abc"
  min-chars = 3
}
rule "charset" {
  charset = "123"
  min-chars = 2
}
)")
                   .has_value());
  EXPECT_FALSE(ParsePasswordPolicy("length = 3\nrule \"charset\" { charset = \"a\" }").has_value());
  EXPECT_FALSE(ParsePasswordPolicy("length = 10").has_value());
  EXPECT_FALSE(ParsePasswordPolicy("length = 10\nrule \"charset\" { charset = \"\" }").has_value());
  EXPECT_FALSE(
      ParsePasswordPolicy("length = 10\nrule \"other\" { charset = \"abc\" }").has_value());
  EXPECT_FALSE(
      ParsePasswordPolicy("length = 10\nrule \"charset\" { charset = \"\xc3\xa9\" }").has_value());
  PasswordPolicy direct{5, {{"ab", 3}, {"cd", 3}}};
  EXPECT_FALSE(GeneratePassword(direct).has_value());
}

TEST(PasswordPolicyTest, DistributionIsRoughlyUniform) {
  auto p = ParsePasswordPolicy("length = 100\nrule \"charset\" { charset = \"abcdefghij\" }");
  ASSERT_TRUE(p.has_value());
  std::map<char, int> counts;
  const int kPasswords = 200;
  for (int i = 0; i < kPasswords; ++i) {
    auto pw = GeneratePassword(*p);
    ASSERT_TRUE(pw.has_value());
    for (char c : pw->view()) ++counts[c];
  }
  ASSERT_EQ(counts.size(), 10u);
  // 20,000 draws over 10 symbols: 2,000 expected each; a fair generator
  // stays well within ±15% (about 7 standard deviations).
  for (const auto& [c, n] : counts) {
    EXPECT_GT(n, 1700) << c;
    EXPECT_LT(n, 2300) << c;
  }
}

TEST(PasswordPolicyTest, UniformRandomCoversTheRangeWithoutBias) {
  std::map<std::uint32_t, int> counts;
  for (int i = 0; i < 30000; ++i) {
    auto v = UniformRandom(3);
    ASSERT_TRUE(v.has_value());
    ASSERT_LT(*v, 3u);
    ++counts[*v];
  }
  for (const auto& [v, n] : counts) {
    EXPECT_GT(n, 9400) << v;
    EXPECT_LT(n, 10600) << v;
  }
}

TEST(PasswordPolicyTest, DefaultGenerator) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto pw = GeneratePassword(DefaultPasswordPolicy());
    ASSERT_TRUE(pw.has_value());
    std::string s(pw->view());
    ASSERT_EQ(s.size(), 20u);
    EXPECT_NE(s.find_first_of("abcdefghijklmnopqrstuvwxyz"), std::string::npos);
    EXPECT_NE(s.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos);
    EXPECT_NE(s.find_first_of("0123456789"), std::string::npos);
    EXPECT_NE(s.find('-'), std::string::npos);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(PasswordPolicyTest, StoreRoundTrip) {
  storage::InmemBackend view;
  PasswordPolicies store(view);
  EXPECT_FALSE(store.Put("bad/name", kLower).ok());
  EXPECT_FALSE(store.Put("p", "length = 2").ok());
  ASSERT_TRUE(store.Put("lower", kLower).ok());
  auto text = store.Get("lower");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, kLower);
  auto list = store.List();
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(*list, std::vector<std::string>{"lower"});
  auto pw = store.Generate("lower");
  ASSERT_TRUE(pw.has_value());
  EXPECT_EQ(pw->size(), 20u);
  for (char c : pw->view()) EXPECT_TRUE(c >= 'a' && c <= 'z');
  EXPECT_EQ(store.Generate("missing").error().code(), Code::kNotFound);
  auto def = store.Generate("");
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(def->size(), 20u);
  ASSERT_TRUE(store.Delete("lower").ok());
  EXPECT_EQ(store.Get("lower").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace coffer::core
