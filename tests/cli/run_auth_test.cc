// `coffer run`'s first phase: what can be decided without the server. Its
// errors are local (exit 1); only Authenticate talks to the server.
#include "cli/run_auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

namespace coffer::cli {
namespace {

class PrepareLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/coffer-runauth-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> files_;
  std::map<std::string, std::string> vars_;
  Env env_;
};

TEST_F(PrepareLoginTest, AppRoleReadsBothFilesIntoTheLoginBody) {
  RunAuthOptions o;
  o.role_id_file = Write("role", "role-123\n");
  o.secret_id_file = Write("secret", "  secret-456\n");
  o.approle_mount = "ci-approle";
  vars_["COFFER_TOKEN"] = "ambient-token";  // a login wins over it
  Result<RunLogin> plan = PrepareLogin(env_, o);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_EQ(plan->mount, "ci-approle");
  EXPECT_EQ(plan->source, "approle");
  EXPECT_EQ(plan->body.view(), R"({"role_id":"role-123","secret_id":"secret-456"})");
  EXPECT_EQ(plan->credential.view(), "secret-456");
  EXPECT_TRUE(plan->ready.token.empty());
}

TEST_F(PrepareLoginTest, JwtWithRole) {
  RunAuthOptions o;
  o.jwt_file = Write("jwt", "eyJ.a.b\n");
  o.jwt_role = "deploy";
  Result<RunLogin> plan = PrepareLogin(env_, o);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_EQ(plan->mount, "jwt");
  EXPECT_EQ(plan->body.view(), R"({"role":"deploy","jwt":"eyJ.a.b"})");
  EXPECT_EQ(plan->credential.view(), "eyJ.a.b");
}

TEST_F(PrepareLoginTest, ATokenAtHandNeedsNoLogin) {
  vars_["VAULT_TOKEN"] = " from-vault-var\n";
  Result<RunLogin> plan = PrepareLogin(env_, RunAuthOptions{});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_TRUE(plan->mount.empty());
  EXPECT_EQ(plan->ready.token.view(), "from-vault-var");
  EXPECT_EQ(plan->ready.source, "VAULT_TOKEN");
}

TEST_F(PrepareLoginTest, LocalProblemsAreErrorsBeforeAnyRequest) {
  RunAuthOptions missing;
  missing.role_id_file = dir_ + "/absent";
  Result<RunLogin> r = PrepareLogin(env_, missing);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("cannot read the role ID file"), std::string::npos)
      << r.error().message();

  RunAuthOptions empty;
  empty.jwt_file = Write("empty", " \n");
  r = PrepareLogin(env_, empty);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("is empty"), std::string::npos) << r.error().message();

  RunAuthOptions alone;
  alone.secret_id_file = Write("s", "x");
  r = PrepareLogin(env_, alone);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("needs --role-id-file"), std::string::npos);

  vars_["HOME"] = dir_;  // no .coffer-token there
  r = PrepareLogin(env_, RunAuthOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("no token"), std::string::npos) << r.error().message();

  // Vault's token helper file, when Coffer's is absent.
  Write(".vault-token", "s.vault-file\n");
  r = PrepareLogin(env_, RunAuthOptions{});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->ready.token.view(), "s.vault-file");
  EXPECT_EQ(r->ready.source, "~/.vault-token");
  Write(".coffer-token", "s.coffer-file");
  r = PrepareLogin(env_, RunAuthOptions{});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->ready.token.view(), "s.coffer-file");
  EXPECT_EQ(r->ready.source, "~/.coffer-token");
}

}  // namespace
}  // namespace coffer::cli
