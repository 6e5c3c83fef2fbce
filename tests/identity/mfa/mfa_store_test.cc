#include "identity/mfa/mfa_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "common/encoding.h"
#include "storage/inmem/inmem_backend.h"
#include "storage/stalling_backend.h"

namespace coffer::identity::mfa {
namespace {

class MfaStoreTest : public ::testing::Test {
 protected:
  MfaStoreTest() : mfa_(storage_, clock_) {
    TotpMethod m;
    m.issuer = "Coffer";
    m.max_validation_attempts = 3;
    auto stored = mfa_.PutMethod(m);
    EXPECT_TRUE(stored);
    method_ = *stored;
    auto enrolment = mfa_.Generate(method_.id, "entity-1", "alice");
    EXPECT_TRUE(enrolment && *enrolment);
    url_ = (*enrolment)->url;
    // The key, as an authenticator app would read it from the URL.
    auto at = url_.find("secret=");
    std::string b32 = url_.substr(at + 7);
    key_ = FromBase32(b32);
  }

  static SecretBytes FromBase32(const std::string& s) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : s) {
      int v = c >= 'A' && c <= 'Z' ? c - 'A' : c - '2' + 26;
      buffer = (buffer << 5) | static_cast<unsigned>(v);
      bits += 5;
      if (bits >= 8) {
        out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
        bits -= 8;
      }
    }
    return SecretBytes::FromString(out);
  }

  std::string CodeAt(std::int64_t step_offset) {
    std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
    auto code = TotpCode(key_, method_.params, now / 30 + step_offset);
    EXPECT_TRUE(code);
    return std::string(code->view());
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  MfaStore mfa_;
  TotpMethod method_;
  std::string url_;
  SecretBytes key_;
};

TEST_F(MfaStoreTest, MethodValidation) {
  TotpMethod bad;
  EXPECT_FALSE(mfa_.PutMethod(bad));  // no issuer
  bad.issuer = "x";
  bad.params.digits = 7;
  EXPECT_FALSE(mfa_.PutMethod(bad));
  bad.params.digits = 8;
  bad.params.skew = 2;
  EXPECT_FALSE(mfa_.PutMethod(bad));
  bad.params.skew = 0;
  bad.params.algorithm = "SHA256";
  EXPECT_TRUE(mfa_.PutMethod(bad));
}

TEST_F(MfaStoreTest, SecondGenerateDoesNotReplaceTheSecret) {
  auto again = mfa_.Generate(method_.id, "entity-1", "alice");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  // The stored secret is not in the method's JSON.
  EXPECT_EQ(method_.ToJson().dump().find(url_.substr(url_.find("secret=") + 7)), std::string::npos);
}

TEST_F(MfaStoreTest, CorrectCodeOnceThenReuseRefused) {
  std::string code = CodeAt(0);
  EXPECT_TRUE(mfa_.ValidateTotp(method_.id, "entity-1", code).ok());
  Status reused = mfa_.ValidateTotp(method_.id, "entity-1", code);
  EXPECT_EQ(reused.code(), Code::kPermissionDenied);
  // An older code after a newer one is refused too; the next one works.
  EXPECT_FALSE(mfa_.ValidateTotp(method_.id, "entity-1", CodeAt(-1)).ok());
  EXPECT_TRUE(mfa_.ValidateTotp(method_.id, "entity-1", CodeAt(1)).ok());
}

TEST_F(MfaStoreTest, ReuseIsRefusedAfterReload) {
  std::string code = CodeAt(0);
  ASSERT_TRUE(mfa_.ValidateTotp(method_.id, "entity-1", code).ok());
  MfaStore restarted(storage_, clock_);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_FALSE(restarted.ValidateTotp(method_.id, "entity-1", code).ok());
}

TEST_F(MfaStoreTest, ExpiredAndWrongCodesRefused) {
  EXPECT_FALSE(mfa_.ValidateTotp(method_.id, "entity-1", CodeAt(-3)).ok());
  EXPECT_FALSE(mfa_.ValidateTotp(method_.id, "entity-2", CodeAt(0)).ok());  // no secret
  EXPECT_EQ(mfa_.ValidateTotp("nope", "entity-1", CodeAt(0)).code(), Code::kNotFound);
}

TEST_F(MfaStoreTest, AttemptsAreRateLimited) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(mfa_.ValidateTotp(method_.id, "entity-1", "000000").code(), Code::kPermissionDenied);
  }
  // Even the right code is refused now.
  EXPECT_EQ(mfa_.ValidateTotp(method_.id, "entity-1", CodeAt(0)).code(), Code::kRateLimited);
  clock_.Advance(std::chrono::seconds(91));
  EXPECT_TRUE(mfa_.ValidateTotp(method_.id, "entity-1", CodeAt(0)).ok());
}

// Guesses sent at once are counted one after the other: with one attempt
// allowed, a second guess that arrives while the first is being checked is
// refused as over the limit, not checked as well.
TEST(MfaStoreRaceTest, GuessesSentAtOnceCountAgainstTheLimit) {
  storage::test_util::StallingBackend view;
  FakeClock clock;
  MfaStore mfa(view, clock);
  TotpMethod m;
  m.issuer = "Coffer";
  m.max_validation_attempts = 1;
  auto method = mfa.PutMethod(m);
  ASSERT_TRUE(method.has_value());
  auto enrolment = mfa.Generate(method->id, "entity-1", "alice");
  ASSERT_TRUE(enrolment && *enrolment);
  view.stall_get_key = "mfa/secret/" + method->id + "/entity-1";
  auto first = std::async(std::launch::async,
                          [&] { return mfa.ValidateTotp(method->id, "entity-1", "000000"); });
  view.entered.get_future().wait();  // the first guess is being checked
  auto second = std::async(std::launch::async,
                           [&] { return mfa.ValidateTotp(method->id, "entity-1", "111111"); });
  second.wait_for(std::chrono::milliseconds(200));
  view.release.set_value();
  EXPECT_EQ(first.get().code(), Code::kPermissionDenied);
  EXPECT_EQ(second.get().code(), Code::kRateLimited);
}

TEST_F(MfaStoreTest, EnforcementsMatchMountsEntitiesAndGroups) {
  Enforcement e;
  e.name = "people";
  e.mfa_method_ids = {method_.id};
  EXPECT_FALSE(mfa_.PutEnforcement(e));  // no target
  e.auth_method_accessors = {"auth_userpass_1"};
  ASSERT_TRUE(mfa_.PutEnforcement(e));
  Enforcement g;
  g.name = "admins";
  g.mfa_method_ids = {method_.id};
  g.identity_group_ids = {"group-1"};
  ASSERT_TRUE(mfa_.PutEnforcement(g));
  EXPECT_EQ(mfa_.ConstraintsFor("auth_userpass_1", "userpass", "e", {}).size(), 1u);
  EXPECT_EQ(mfa_.ConstraintsFor("auth_approle_1", "approle", "e", {}).size(), 0u);
  EXPECT_EQ(mfa_.ConstraintsFor("auth_approle_1", "approle", "e", {"group-1"}).size(), 1u);
  // In use: the method cannot be deleted.
  EXPECT_FALSE(mfa_.DeleteMethod(method_.id).ok());

  MfaStore restarted(storage_, clock_);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.Enforcements().size(), 2u);
  EXPECT_EQ(restarted.ConstraintsFor("auth_userpass_1", "userpass", "e", {}).size(), 1u);
}

}  // namespace
}  // namespace coffer::identity::mfa
