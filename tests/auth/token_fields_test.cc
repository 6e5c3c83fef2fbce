#include "auth/token_fields.h"

#include <gtest/gtest.h>

#include "token/token_params.h"

namespace coffer::auth {
namespace {

TEST(AddressAllowedTest, Ipv4AndIpv6Blocks) {
  EXPECT_TRUE(AddressAllowed("127.0.0.1", {}));
  EXPECT_TRUE(AddressAllowed("127.0.0.1", {"127.0.0.0/8"}));
  EXPECT_TRUE(AddressAllowed("10.1.2.3", {"192.168.0.0/16", "10.1.2.3"}));
  EXPECT_FALSE(AddressAllowed("10.1.2.4", {"10.1.2.3/32"}));
  EXPECT_TRUE(AddressAllowed("10.1.2.4", {"10.1.2.0/23"}));
  EXPECT_FALSE(AddressAllowed("11.0.0.1", {"10.0.0.0/8"}));
  EXPECT_TRUE(AddressAllowed("::1", {"::1/128"}));
  EXPECT_TRUE(AddressAllowed("2001:db8::5", {"2001:db8::/32"}));
  EXPECT_FALSE(AddressAllowed("2001:db9::5", {"2001:db8::/32"}));
  EXPECT_TRUE(AddressAllowed("1.2.3.4", {"0.0.0.0/0"}));
  EXPECT_FALSE(AddressAllowed("", {"0.0.0.0/0"}));
  EXPECT_FALSE(AddressAllowed("not-an-ip", {"0.0.0.0/0"}));
}

TEST(ValidateCidrsTest, RefusesGarbage) {
  EXPECT_TRUE(ValidateCidrs({"10.0.0.0/8", "::1", "1.2.3.4"}).ok());
  EXPECT_FALSE(ValidateCidrs({"10.0.0.0/33"}).ok());
  EXPECT_FALSE(ValidateCidrs({"10.0.0.0/"}).ok());
  EXPECT_FALSE(ValidateCidrs({"example.com"}).ok());
}

TEST(CanonicalTest, FoldsCaseAndSpaces) {
  EXPECT_EQ(Canonical("  AlIce\t"), "alice");
  EXPECT_EQ(Canonical(""), "");
}

TEST(TokenFieldsTest, ParsesVaultShapesAndRoundTrips) {
  logical::Request r;
  r.data = {{"policies", "a, b"},  // the legacy name
            {"token_ttl", "30m"},
            {"token_max_ttl", 7200},
            {"period", "1h"},
            {"token_num_uses", "4"},
            {"token_no_default_policy", "true"},
            {"token_bound_cidrs", logical::Json::array({"127.0.0.1/32"})},
            {"token_type", "service"}};
  TokenFields f;
  ASSERT_TRUE(f.Update(r).ok());
  EXPECT_EQ(f.ttl, 1800);
  EXPECT_EQ(f.max_ttl, 7200);
  EXPECT_EQ(f.period, 3600);
  EXPECT_EQ(f.num_uses, 4);
  EXPECT_TRUE(f.no_default_policy);
  // "a, b": each item trimmed, as Vault's comma-separated lists are.
  EXPECT_EQ(f.policies, (std::vector<std::string>{"a", "b"}));
  TokenFields back = TokenFields::FromStored(f.ToStored());
  EXPECT_EQ(back.ttl, f.ttl);
  EXPECT_EQ(back.bound_cidrs, f.bound_cidrs);
  logical::LoginResult login = back.ToLogin();
  EXPECT_EQ(login.token_type, "service");
  EXPECT_EQ(login.num_uses, 4);

  logical::Request neg;
  neg.data = {{"token_num_uses", -1}};
  EXPECT_FALSE(TokenFields().Update(neg).ok());
}

// Lists and strings are decoded weakly and trimmed, as Vault's fields are
// (what a config tool sends from YAML: "x, y", unquoted numbers).
TEST(TokenParamsTest, ListsAreTrimmedAndScalarsDecodedWeakly) {
  logical::Request r;
  r.data = {{"comma", " x, y ,,z "},
            {"array", logical::Json::array({" a ", 7, true})},
            {"number", 1234},
            {"flag", true},
            {"object", logical::Json::object()}};
  auto comma = token::params::List(r, "comma");
  ASSERT_TRUE(comma.has_value());
  EXPECT_EQ(**comma, (std::vector<std::string>{"x", "y", "z"}));
  auto array = token::params::List(r, "array");
  ASSERT_TRUE(array.has_value());
  EXPECT_EQ(**array, (std::vector<std::string>{"a", "7", "1"}));
  EXPECT_EQ(token::params::String(r, "number").value(), "1234");
  EXPECT_EQ(token::params::String(r, "flag").value(), "1");
  EXPECT_FALSE(token::params::String(r, "object").has_value());
  EXPECT_FALSE(token::params::List(r, "object").has_value());
}

// The pre-token_* names count only where the method takes them, and a
// token_* field given too wins (Vault's tokenutil.UpgradeValue).
TEST(TokenFieldsTest, LegacyNamesOnlyWhereTheMethodTakesThem) {
  logical::Request r;
  r.data = {{"ttl", "1h"},
            {"max_ttl", "2h"},
            {"num_uses", 3},
            {"bound_cidrs", logical::Json::array({"10.0.0.0/8"})}};
  TokenFields all;
  ASSERT_TRUE(
      all.Update(r, {.ttl = true, .max_ttl = true, .num_uses = true, .bound_cidrs = true}).ok());
  EXPECT_EQ(all.ttl, 3600);
  EXPECT_EQ(all.max_ttl, 7200);
  EXPECT_EQ(all.num_uses, 3);
  EXPECT_EQ(all.bound_cidrs, std::vector<std::string>{"10.0.0.0/8"});

  TokenFields none;  // AppRole's roles: only "policies" and "period"
  ASSERT_TRUE(none.Update(r).ok());
  EXPECT_EQ(none.ttl, 0);
  EXPECT_EQ(none.max_ttl, 0);
  EXPECT_EQ(none.num_uses, 0);
  EXPECT_TRUE(none.bound_cidrs.empty());

  r.data["token_ttl"] = "30m";
  r.data["token_bound_cidrs"] = "192.168.0.0/16";
  TokenFields both;
  ASSERT_TRUE(both.Update(r, {.ttl = true, .bound_cidrs = true}).ok());
  EXPECT_EQ(both.ttl, 1800);
  EXPECT_EQ(both.bound_cidrs, std::vector<std::string>{"192.168.0.0/16"});

  logical::Request bad;
  bad.data = {{"bound_cidrs", "10.0.0.0/99"}};
  EXPECT_FALSE(TokenFields().Update(bad, {.bound_cidrs = true}).ok());
}

}  // namespace
}  // namespace coffer::auth
