// sys/locked-users: lists the aliases locked out by failed logins, filters
// by mount accessor, and unlocks one alias without touching the others.
#include <gtest/gtest.h>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;
using namespace std::chrono_literals;

class LockedUsersTest : public CoreFixture {
 protected:
  void SetUp() override {
    CoreFixture::SetUp();
    ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status,
              204);
    ASSERT_EQ(
        Call(Operation::kUpdate, "sys/auth/userpass/tune",
             {{"user_lockout_config", {{"lockout_threshold", 2}, {"lockout_duration", "1h"}}}})
            .http_status,
        204);
    for (std::string user : {"alice", "bob"}) {
      ASSERT_EQ(
          Call(Operation::kUpdate, "auth/userpass/users/" + user, {{"password", "pw-" + user}})
              .http_status,
          204);
    }
    auto auth = Call(Operation::kRead, "sys/auth");  // data also at the top level
    accessor_ = (auth.raw ? (*auth.raw)["data"] : auth.data)["userpass/"]["accessor"];
  }

  int Login(const std::string& user, const std::string& password) {
    return Call(Operation::kUpdate, "auth/userpass/login/" + user, {{"password", password}}, "")
        .http_status;
  }

  std::string accessor_;
};

TEST_F(LockedUsersTest, ListsAndUnlocks) {
  auto empty = Call(Operation::kRead, "sys/locked-users");
  ASSERT_EQ(empty.http_status, 200);
  EXPECT_EQ(empty.data["total"], 0);
  EXPECT_EQ(empty.data["by_namespace"], Json::array());

  for (std::string user : {"alice", "bob"}) {
    EXPECT_EQ(Login(user, "wrong"), 400);
    EXPECT_EQ(Login(user, "wrong"), 400);
    EXPECT_EQ(Login(user, "pw-" + user), 403) << user << " should be locked out";
    // Other spellings of the same name share the counter.
    for (std::string other : {user + "/", user + "//", " " + user, "X" + user.substr(1)}) {
      other[0] = other[0] == 'X' ? static_cast<char>(std::toupper(user[0])) : other[0];
      EXPECT_EQ(Login(other, "pw-" + user), 403) << "\"" << other << "\" should be locked out";
    }
  }
  auto locked = Call(Operation::kRead, "sys/locked-users");
  ASSERT_EQ(locked.http_status, 200);
  EXPECT_EQ(locked.data["total"], 2);
  const Json& ns = locked.data["by_namespace"][0];
  EXPECT_EQ(ns["namespace_id"], "root");
  EXPECT_EQ(ns["counts"], 2);
  EXPECT_EQ(ns["mount_accessors"][0]["mount_accessor"], accessor_);
  EXPECT_EQ(ns["mount_accessors"][0]["alias_identifiers"], Json::array({"alice", "bob"}));

  auto filtered = Call(Operation::kRead, "sys/locked-users", {{"mount_accessor", "auth_x_1"}});
  EXPECT_EQ(filtered.data["total"], 0);

  EXPECT_EQ(Call(Operation::kUpdate, "sys/locked-users/" + accessor_ + "/unlock/alice").http_status,
            204);
  EXPECT_EQ(Login("alice", "pw-alice"), 200);
  EXPECT_EQ(Login("bob", "pw-bob"), 403);
  auto after = Call(Operation::kRead, "sys/locked-users");
  EXPECT_EQ(after.data["total"], 1);
  EXPECT_EQ(after.data["by_namespace"][0]["mount_accessors"][0]["alias_identifiers"],
            Json::array({"bob"}));
  // The lockout ends by itself after lockout_duration.
  clock_.Advance(61min);
  EXPECT_EQ(Call(Operation::kRead, "sys/locked-users").data["total"], 0);
  EXPECT_EQ(Login("bob", "pw-bob"), 200);
}

TEST_F(LockedUsersTest, NeedsAPolicyAndAWellFormedPath) {
  EXPECT_EQ(Call(Operation::kRead, "sys/locked-users", Json::object(), "").http_status, 403);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/locked-users/" + accessor_ + "/lock/alice").http_status,
            404);
  EXPECT_EQ(Call(Operation::kRead, "sys/locked-users/" + accessor_ + "/unlock/alice").http_status,
            405);
}

}  // namespace
}  // namespace coffer::core
