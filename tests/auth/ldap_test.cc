// The LDAP auth method's logic against a directory played by the test (what
// it was asked, in order), and the escaping helpers. The method against a
// real slapd is tests/integration/test_ldap_auth.py.

#include <gtest/gtest.h>

#include "auth/auth_test_util.h"
#include "auth/ldap/directory.h"
#include "auth/ldap/ldap_backend.h"

namespace coffer::auth::ldap {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT
using Json = nlohmann::json;

// A directory: people by DN with a password, groups by DN with members, and
// a transcript of every bind and search.
struct FakeDirectory {
  std::map<std::string, std::string> passwords;  // DN → password
  std::vector<LdapEntry> people;
  std::vector<LdapEntry> groups;
  std::vector<std::string> transcript;
  std::map<std::string, LdapEntry> by_sid;  // "<SID=...>" → group
  int dials = 0;
  bool down = false;  // the directory cannot be reached

  Dialer dialer() {
    return [this](const DialOptions&) -> Result<std::unique_ptr<LdapConnection>> {
      ++dials;
      if (down) return Err(Unavailable("error connecting to host \"ldap://x\": refused"));
      return std::unique_ptr<LdapConnection>(std::make_unique<Conn>(*this));
    };
  }

  struct Conn final : LdapConnection {
    explicit Conn(FakeDirectory& d) : dir(d) {}
    Status Bind(const std::string& dn, const std::string& password) override {
      dir.transcript.push_back("bind " + dn);
      auto it = dir.passwords.find(dn);
      if (it == dir.passwords.end() || it->second != password) {
        return PermissionDenied("LDAP bind failed: Invalid credentials");
      }
      return Status::Ok();
    }
    Status UnauthenticatedBind(const std::string& dn) override {
      dir.transcript.push_back("anonymous bind " + dn);
      return Status::Ok();
    }
    Result<std::vector<LdapEntry>> Search(const SearchRequest& r) override {
      const std::string& base = r.base;
      const std::string& filter = r.filter;
      const int size_limit = r.size_limit;
      dir.transcript.push_back("search " + base + " " + filter +
                               (r.page_size > 0 ? " pages of " + std::to_string(r.page_size) : "") +
                               (r.base_only ? " (base)" : ""));
      std::vector<LdapEntry> out;
      // Active Directory's base searches: a user's tokenGroups, a group by SID.
      if (r.base_only) {
        if (auto it = dir.by_sid.find(base); it != dir.by_sid.end()) out.push_back(it->second);
        for (const LdapEntry& e : dir.people) {
          if (e.dn == base) out.push_back(e);
        }
        return out;
      }
      // Understands the filters the tests configure: (attr=value), and the
      // default group filter's member/memberUid terms.
      const bool groups = base.starts_with("ou=groups");
      for (const LdapEntry& e : groups ? dir.groups : dir.people) {
        for (const auto& [attr, values] : e.attributes) {
          for (const auto& v : values) {
            if (filter.find("(" + attr + "=" + v + ")") != std::string::npos) {
              out.push_back(e);
              goto next;
            }
          }
        }
      next:;
      }
      if (size_limit > 0 && static_cast<int>(out.size()) > size_limit) out.resize(size_limit);
      return out;
    }
    FakeDirectory& dir;
  };
};

LdapEntry Person(const std::string& uid) {
  return {"uid=" + uid + ",ou=people,dc=x", {{"uid", {uid}}, {"cn", {uid + " Smith"}}}};
}

class LdapBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logical::BackendConfig config{storage_, clock_, "auth/ldap/", "ldap", Json::object()};
    method_ = std::make_unique<LdapBackend>(config, dir_.dialer());
    ASSERT_TRUE(method_->Initialize().ok());
    dir_.people = {Person("alice"), Person("bob")};
    dir_.passwords = {{"uid=alice,ou=people,dc=x", "alice-pw"},
                      {"uid=bob,ou=people,dc=x", "bob-pw"},
                      {"cn=svc,dc=x", "svc-pw"}};
    dir_.groups = {
        {"cn=dev,ou=groups,dc=x", {{"member", {"uid=alice,ou=people,dc=x"}}, {"cn", {"dev"}}}},
        {"cn=ops,ou=groups,dc=x", {{"memberUid", {"bob", "alice"}}}}};
  }

  Result<Response> Do(Operation op, const std::string& path, Json body = Json::object()) {
    return method_->HandleRequest(MakeRequest("ldap", op, path, std::move(body)));
  }
  Result<Response> LogIn(const std::string& user, const std::string& password) {
    return Do(Operation::kUpdate, "login/" + user, {{"password", password}});
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  FakeDirectory dir_;
  std::unique_ptr<LdapBackend> method_;
};

TEST_F(LdapBackendTest, DirectBindThenGroupsThenLocalPolicies) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"url", "ldap://127.0.0.1:1"},
                  {"userdn", "ou=people,dc=x"},
                  {"userattr", "uid"},
                  {"groupdn", "ou=groups,dc=x"},
                  {"token_policies", "base"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "groups/Dev", {{"policies", "dev-read"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice", {{"groups", "extra"}, {"policies", "own"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "groups/extra", {{"policies", "extra-read"}}));
  auto r = LogIn("alice", "alice-pw");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->policies,
            (std::vector<std::string>{"base", "dev-read", "extra-read", "own"}));
  EXPECT_EQ(r->login->alias_name, "uid=alice,ou=people,dc=x");
  EXPECT_EQ(r->login->metadata["username"], "alice");
  EXPECT_EQ(*r->login->group_aliases, (std::vector<std::string>{"extra", "dev", "ops"}));
  EXPECT_EQ(dir_.transcript,
            (std::vector<std::string>{
                "bind uid=alice,ou=people,dc=x",
                "search ou=groups,dc=x "
                "(|(memberUid=alice)(member=uid=alice,ou=people,dc=x)(uniqueMember=uid=alice,ou="
                "people,dc=x))"}));
  // Group names are folded; the read answers Vault's shape.
  EXPECT_EQ(Do(Operation::kRead, "groups/DEV")->data, (Json{{"policies", {"dev-read"}}}));
  EXPECT_EQ(Do(Operation::kList, "groups/")->data["keys"], Json::array({"dev", "extra"}));
  EXPECT_EQ(Do(Operation::kRead, "users/alice")->data,
            (Json{{"policies", {"own"}}, {"groups", {"extra"}}}));

  // A config write keeps what it does not name, token_* fields included.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"groupattr", "cn"}}));
  EXPECT_EQ(Do(Operation::kRead, "config")->data["token_policies"], Json::array({"base"}));
  EXPECT_EQ(LogIn("alice", "alice-pw")->login->policies,
            (std::vector<std::string>{"base", "dev-read", "extra-read", "own"}));

  // Refusals: all the same words, whatever failed.
  for (auto [user, pw] : {std::pair{"alice", "wrong"}, {"carol", "x"}}) {
    auto refused = LogIn(user, pw);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().message(), "ldap operation failed: failed to bind as user");
  }
  auto empty = LogIn("alice", "");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message(),
            "password cannot be of zero length when passwordless binds are being denied");
  // A name with DN metacharacters is escaped into the DN, not parsed.
  dir_.transcript.clear();
  EXPECT_FALSE(LogIn("x,ou=admins", "p").has_value());
  EXPECT_EQ(dir_.transcript.front(), "bind uid=x\\,ou=admins,ou=people,dc=x");
}

// A renewal binds again with the login's password (kept in its internal
// data, as Vault keeps it) and looks the groups up again: renewed while the
// policies are the same, refused once the password changed, the user left
// a group that gave a policy, or the directory is down.
TEST_F(LdapBackendTest, RenewalAsksTheDirectoryAgain) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"url", "ldap://127.0.0.1:1"},
                  {"userdn", "ou=people,dc=x"},
                  {"userattr", "uid"},
                  {"groupdn", "ou=groups,dc=x"},
                  {"token_ttl", "1h"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "groups/dev", {{"policies", "dev-read"}}));
  auto r = LogIn("alice", "alice-pw");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const auto internal = r->login->internal;
  ASSERT_EQ(internal.count("password"), 1u);
  std::vector<std::string> policies = {"default", "dev-read"};  // as the token holds them
  std::map<std::string, std::string> meta = r->login->metadata;
  auto renew = [&](const std::map<std::string, std::string>& kept) {
    logical::LoginRenewalRequest req{&meta, &policies, &kept, nullptr};
    return method_->CheckLoginRenewal(req);
  };
  dir_.transcript.clear();
  auto ok = renew(internal);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  ASSERT_TRUE(ok->has_value());
  EXPECT_EQ((*ok)->ttl, 3600);
  EXPECT_EQ(dir_.transcript.front(), "bind uid=alice,ou=people,dc=x");
  // Alice leaves the dev group: her token's policies no longer follow.
  dir_.groups[0].attributes["member"] = {};
  auto left = renew(internal);
  ASSERT_FALSE(left.has_value());
  EXPECT_EQ(left.error().message(), "policies have changed, not renewing");
  dir_.groups[0].attributes["member"] = {"uid=alice,ou=people,dc=x"};
  ASSERT_TRUE(renew(internal).has_value());
  // Her password changed in the directory, or the directory is down.
  dir_.passwords["uid=alice,ou=people,dc=x"] = "new-pw";
  EXPECT_EQ(renew(internal).error().code(), Code::kInvalidArgument);
  dir_.passwords["uid=alice,ou=people,dc=x"] = "alice-pw";
  dir_.down = true;
  EXPECT_EQ(renew(internal).error().code(), Code::kUnavailable);
  dir_.down = false;
  // A token whose login kept no password: refused.
  EXPECT_FALSE(renew({}).has_value());
}

// Another spelling of a name is the same user: "ALICE", " alice" and
// "alice/" log in as alice (one alias, one lockout counter), so they cannot
// make a new identity (escaping alice's login MFA) or a fresh counter.
TEST_F(LdapBackendTest, NamesAreFoldedAndAnUnreachableDirectoryIsNotAFailedLogin) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"url", "ldap://127.0.0.1:1"},
                  {"userdn", "ou=people,dc=x"},
                  {"userattr", "uid"},
                  {"groupdn", "ou=groups,dc=x"}}));
  for (const char* typed : {"ALICE", " alice ", "Alice"}) {
    auto r = LogIn(typed, "alice-pw");
    ASSERT_TRUE(r.has_value()) << typed << ": " << r.error().ToString();
    EXPECT_EQ(r->login->alias_name, "uid=alice,ou=people,dc=x") << typed;
    EXPECT_EQ(r->login->metadata["username"], "alice") << typed;
  }
  for (const char* path : {"login/alice", "login/ALICE", "login/ alice", "login/alice/"}) {
    logical::Request req = MakeRequest("ldap", Operation::kUpdate, path, Json::object());
    EXPECT_EQ(method_->LoginAlias(req), "alice") << path;
  }
  // With case_sensitive_names the case stays, the spaces go.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"case_sensitive_names", true}}));
  dir_.transcript.clear();
  EXPECT_FALSE(LogIn(" Alice", "alice-pw").has_value());
  EXPECT_EQ(dir_.transcript.front(), "bind uid=Alice,ou=people,dc=x");
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"case_sensitive_names", false}}));
  EXPECT_EQ(LogIn("   ", "x").error().message(), "missing username");

  // A directory that cannot be reached: 503 (kUnavailable), which the
  // lockout does not count; a wrong password stays a 400.
  dir_.down = true;
  auto down = LogIn("alice", "alice-pw");
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code(), Code::kUnavailable);
  EXPECT_NE(down.error().message().find("error connecting"), std::string::npos);
  dir_.down = false;
  EXPECT_EQ(LogIn("alice", "wrong").error().code(), Code::kInvalidArgument);
}

TEST_F(LdapBackendTest, SearchAsServiceAccountAndTheOtherModes) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"url", "ldap://127.0.0.1:1"},
                  {"userdn", "ou=people,dc=x"},
                  {"userattr", "uid"},
                  {"groupdn", "ou=groups,dc=x"},
                  {"binddn", "cn=svc,dc=x"},
                  {"bindpass", "svc-pw"}}));
  auto r = LogIn("bob", "bob-pw");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->login->alias_name, "bob");  // the userattr value, found by the search
  EXPECT_EQ(dir_.transcript,
            (std::vector<std::string>{
                "bind cn=svc,dc=x", "search ou=people,dc=x (uid=bob)",
                "bind uid=bob,ou=people,dc=x", "bind cn=svc,dc=x",
                "search ou=groups,dc=x "
                "(|(memberUid=bob)(member=uid=bob,ou=people,dc=x)(uniqueMember=uid=bob,ou=people,"
                "dc=x))"}));
  // The read has no bind password; the rest of the config stays on a
  // partial update.
  auto read = Do(Operation::kRead, "config");
  EXPECT_FALSE(read->data.contains("bindpass"));
  EXPECT_EQ(read->data.dump().find("svc-pw"), std::string::npos);
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"username_as_alias", true}}));
  EXPECT_EQ(Do(Operation::kRead, "config")->data["binddn"], "cn=svc,dc=x");
  EXPECT_EQ(LogIn("bob", "bob-pw")->login->alias_name, "bob");

  // A filter metacharacter in a name is escaped (RFC 4515).
  dir_.transcript.clear();
  EXPECT_FALSE(LogIn("b*", "bob-pw").has_value());
  EXPECT_EQ(dir_.transcript[1], "search ou=people,dc=x (uid=b\\2a)");
  // Two entries for one name: refused, as not unique.
  dir_.people.push_back(Person("bob"));
  EXPECT_FALSE(LogIn("bob", "bob-pw").has_value());
  dir_.people.pop_back();

  // discoverdn without a bind DN: an anonymous search; a userfilter of the
  // operator's own.
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"binddn", ""},
                  {"bindpass", ""},
                  {"discoverdn", true},
                  {"userfilter", "(&(objectClass=person)(uid={{.Username}}))"}}));
  dir_.transcript.clear();
  ASSERT_TRUE(LogIn("bob", "bob-pw").has_value());
  EXPECT_EQ(dir_.transcript[0], "anonymous bind ");
  EXPECT_EQ(dir_.transcript[1], "search ou=people,dc=x (&(objectClass=person)(uid=bob))");

  // anonymous_group_search: groups are searched on a fresh connection.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"anonymous_group_search", true}}));
  const int before = dir_.dials;
  ASSERT_TRUE(LogIn("bob", "bob-pw").has_value());
  EXPECT_EQ(dir_.dials - before, 2);
}

TEST_F(LdapBackendTest, ConfigIsCheckedAndDefaultsAreVaults) {
  auto read = Do(Operation::kRead, "config");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["url"], "ldap://127.0.0.1");
  EXPECT_EQ(read->data["userattr"], "cn");
  EXPECT_EQ(read->data["groupattr"], "cn");
  EXPECT_EQ(read->data["deny_null_bind"], true);
  EXPECT_EQ(read->data["groupfilter"],
            "(|(memberUid={{.Username}})(member={{.UserDN}})(uniqueMember={{.UserDN}}))");
  auto refusal = [&](Json body) {
    auto r = Do(Operation::kUpdate, "config", std::move(body));
    return r.has_value() ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(refusal({{"url", "ldap://h"}}), "cannot derive UserBindDN");
  EXPECT_EQ(refusal({{"url", "http://h"}, {"userdn", "dc=x"}}),
            "invalid LDAP scheme in url \"http://h\"");
  EXPECT_EQ(refusal({{"userdn", "dc=x"}, {"tls_min_version", "tls14"}}),
            "invalid 'tls_min_version' in config");
  EXPECT_EQ(refusal({{"userdn", "dc=x"}, {"tls_min_version", "tls13"}}),
            "'tls_max_version' must be greater than or equal to 'tls_min_version'");
  EXPECT_EQ(refusal({{"userdn", "dc=x"}, {"certificate", "nope"}}),
            "failed to parse server tls cert: not a PEM certificate");
  EXPECT_NE(
      refusal({{"userdn", "dc=x"}, {"userfilter", "({{.UserAttr}"}}).find("invalid userfilter"),
      std::string::npos);
  EXPECT_EQ(Do(Operation::kRead, "config")->data["userdn"], "");  // nothing refused was kept
  auto login = LogIn("alice", "alice-pw");
  ASSERT_FALSE(login.has_value());
  EXPECT_EQ(login.error().message(), "ldap backend not configured");
  EXPECT_TRUE(method_->IsUnauthenticated("login/alice"));
  EXPECT_FALSE(method_->IsUnauthenticated("config"));
}

TEST_F(LdapBackendTest, PagedGroupSearchesAndActiveDirectoryTokenGroups) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"url", "ldap://127.0.0.1:1"},
                  {"userdn", "ou=people,dc=x"},
                  {"userattr", "uid"},
                  {"groupdn", "ou=groups,dc=x"},
                  {"max_page_size", 50}}));
  EXPECT_EQ(Do(Operation::kRead, "config")->data["max_page_size"], 50);
  ASSERT_TRUE(LogIn("alice", "alice-pw").has_value());
  EXPECT_NE(dir_.transcript.back().find(" pages of 50"), std::string::npos)
      << dir_.transcript.back();

  // tokenGroups: the user's group SIDs, each looked up by "<SID=...>".
  const std::string sid_bytes = std::string("\x01\x02\x00\x00\x00\x00\x00\x05", 8) +
                                std::string("\x20\x00\x00\x00\x21\x02\x00\x00", 8);
  dir_.people[0].attributes["tokengroups"] = {sid_bytes};
  dir_.by_sid["<SID=S-1-5-32-545>"] = {"CN=Users,CN=Builtin,DC=x", {}};
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"use_token_groups", true}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "groups/users", {{"policies", "builtin-users"}}));
  dir_.transcript.clear();
  auto r = LogIn("alice", "alice-pw");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r->login->group_aliases, std::vector<std::string>{"Users"});
  EXPECT_EQ(r->login->policies, std::vector<std::string>{"builtin-users"});
  EXPECT_EQ(dir_.transcript,
            (std::vector<std::string>{"bind uid=alice,ou=people,dc=x",
                                      "search uid=alice,ou=people,dc=x (objectClass=*) (base)",
                                      "search <SID=S-1-5-32-545> (objectClass=*) (base)"}));

  // Client certificates: Vault's message for half a pair, then refused.
  auto refusal = [&](Json body) {
    auto res = Do(Operation::kUpdate, "config", std::move(body));
    return res.has_value() ? std::string("accepted") : res.error().message();
  };
  EXPECT_EQ(refusal({{"client_tls_cert", "PEM"}}),
            "both client_tls_cert and client_tls_key must be set");
  EXPECT_EQ(refusal({{"client_tls_cert", "PEM"}, {"client_tls_key", "KEY"}}),
            "client_tls_cert and client_tls_key (client certificates) are not supported");
}

TEST(LdapEscapingTest, FiltersDnsAndCns) {
  // S-1-5-32-545 (BUILTIN\Users) and a domain SID with four sub-authorities.
  EXPECT_EQ(SidString(std::string(
                "\x01\x02\x00\x00\x00\x00\x00\x05\x20\x00\x00\x00\x21\x02\x00\x00", 16)),
            "S-1-5-32-545");
  EXPECT_EQ(SidString(std::string("\x01\x04\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00"
                                  "\x01\x00\x00\x00\x02\x00\x00\x00\xe8\x03\x00\x00",
                                  24)),
            "S-1-5-21-1-2-1000");
  EXPECT_FALSE(SidString("short").has_value());
  EXPECT_FALSE(SidString(std::string("\x01\x05\x00\x00\x00\x00\x00\x05", 8)).has_value());
  EXPECT_EQ(EscapeFilterValue("a*b(c)d\\e"), "a\\2ab\\28c\\29d\\5ce");
  EXPECT_EQ(EscapeFilterValue(std::string("a\0b", 3)), "a\\00b");
  EXPECT_EQ(EscapeDnValue(" a,b+c=d "), "\\ a\\,b\\+c=d\\ ");
  EXPECT_EQ(EscapeDnValue("#x;<y>\"z\""), "\\#x\\;\\<y\\>\\\"z\\\"");
  EXPECT_EQ(FirstCn("cn=ops,ou=groups,dc=x"), "ops");
  EXPECT_EQ(FirstCn("CN=Domain Admins,OU=Groups,DC=corp"), "Domain Admins");
  EXPECT_EQ(FirstCn("ou=groups,dc=x"), "ou=groups,dc=x");
  EXPECT_EQ(FirstCn("ops"), "ops");
}

}  // namespace
}  // namespace coffer::auth::ldap
