// sys/wrapping/unwrap and rewrap check the wrapping token they name before
// the caller's token, as Vault does: an unknown, used or expired one is a
// 400 "wrapping token is not valid or does not exist", not a 403.

#include <gtest/gtest.h>

#include <string>

#include "core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class WrappingTest : public CoreFixture {
 protected:
  // A wrapping token for a child token of the root.
  std::string Wrapped(Json data = {{"secret", "value"}}) {
    logical::Request r;
    r.id = "req";
    r.operation = Operation::kUpdate;
    r.path = "sys/wrapping/wrap";
    r.data = std::move(data);
    r.client_token = root_;
    r.remote_address = "127.0.0.1";
    r.wrap_ttl = "5m";
    auto w = core_->HandleRequest(r);
    EXPECT_EQ(w.http_status, 200);
    return w.wrap_info.at("token").get<std::string>();
  }

  static std::string Said(const logical::Response& r) {
    return r.raw ? r.raw->dump() : r.data.dump();
  }
};

constexpr char kInvalid[] = "wrapping token is not valid or does not exist";

// An empty object is wrapped too, as in Vault (hvac's wrap tests send one).
TEST_F(WrappingTest, AnEmptyObjectIsWrappedAndUnwrapsAsOne) {
  const std::string wrap = Wrapped(Json::object());
  ASSERT_FALSE(wrap.empty());
  auto unwrapped = Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), wrap);
  EXPECT_EQ(unwrapped.http_status, 200) << Said(unwrapped);
  EXPECT_EQ(unwrapped.data, Json::object()) << Said(unwrapped);
}

TEST_F(WrappingTest, AUsedOrUnknownWrappingTokenIsABadRequestNotAForbiddenOne) {
  const std::string wrap = Wrapped();
  auto first = Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), wrap);
  ASSERT_EQ(first.http_status, 200) << Said(first);
  EXPECT_EQ(first.data["secret"], "value");

  // Used, as the client token (Spring Vault's unwrap) and in the body.
  auto again = Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), wrap);
  EXPECT_EQ(again.http_status, 400);
  EXPECT_NE(Said(again).find(kInvalid), std::string::npos) << Said(again);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", wrap}}).http_status, 400);
  // Unknown, with no client token at all, and for rewrap.
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), "hvs.nothing").http_status,
      400);
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", "hvs.nothing"}}, "").http_status,
      400);
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/wrapping/rewrap", Json::object(), "hvs.nothing").http_status,
      400);
  // A body token that is not a non-empty string.
  auto number = Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", 5}});
  EXPECT_EQ(number.http_status, 400);
  EXPECT_NE(Said(number).find("could not decode token in request body"), std::string::npos);
  auto empty = Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", ""}});
  EXPECT_EQ(empty.http_status, 400);
  EXPECT_NE(Said(empty).find("empty token in request body"), std::string::npos);
}

// The wrapped response lives in the wrapping token's cubbyhole; the unwrap
// that spends the token deletes it from storage, not only from view.
TEST_F(WrappingTest, UnwrappingDeletesTheStoredResponse) {
  auto stored = [&] {
    auto listed = physical_->List("cubbyhole/");
    EXPECT_TRUE(listed.has_value());
    return listed.has_value() ? listed->size() : 0;
  };
  ASSERT_EQ(stored(), 0u);
  const std::string wrap = Wrapped();
  ASSERT_EQ(stored(), 1u);
  auto unwrapped = Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), wrap);
  ASSERT_EQ(unwrapped.http_status, 200) << Said(unwrapped);
  EXPECT_EQ(stored(), 0u);
}

TEST_F(WrappingTest, AValidWrappingTokenStillNeedsAnAllowedCaller) {
  const std::string wrap = Wrapped();
  // In the body, with no client token: the caller is refused and nothing is
  // spent.
  EXPECT_EQ(Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", wrap}}, "").http_status,
            403);
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", wrap}}, "hvs.unknown").http_status,
      403);
  auto ok = Call(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", wrap}});
  ASSERT_EQ(ok.http_status, 200) << Said(ok);
  EXPECT_EQ(ok.data["secret"], "value");
  // Expired: the clock passes the wrapping TTL.
  const std::string later = Wrapped();
  clock_.Advance(std::chrono::minutes(6));
  EXPECT_EQ(Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), later).http_status,
            400);
}

// A wrapping token that authenticates the unwrap or rewrap of another has
// spent its single use, as in Vault: it cannot be unwrapped afterwards.
TEST_F(WrappingTest, AWrappingTokenUsedAsTheCallerIsSpent) {
  for (const char* op : {"sys/wrapping/unwrap", "sys/wrapping/rewrap"}) {
    const std::string caller = Wrapped({{"secret", "caller's"}});
    const std::string other = Wrapped();
    auto r = Call(Operation::kUpdate, op, {{"token", other}}, caller);
    ASSERT_EQ(r.http_status, 200) << op << ": " << Said(r);
    auto spent = Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), caller);
    EXPECT_EQ(spent.http_status, 400) << op << ": " << Said(spent);
    EXPECT_EQ(Said(spent).find("caller's"), std::string::npos);
  }
  // A lookup (which needs no token) spends nothing.
  const std::string caller = Wrapped();
  const std::string other = Wrapped();
  EXPECT_EQ(Call(Operation::kUpdate, "sys/wrapping/lookup", {{"token", other}}, caller).http_status,
            200);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), caller).http_status,
            200);
}

// The older way to unwrap, which Vault still serves: a read of
// cubbyhole/response with the wrapping token answers the wrapped response's
// envelope as a JSON string, once.
TEST_F(WrappingTest, ReadingCubbyholeResponseUnwrapsOnce) {
  const std::string wrap = Wrapped();
  auto read = Call(Operation::kRead, "cubbyhole/response", Json::object(), wrap);
  ASSERT_EQ(read.http_status, 200) << Said(read);
  ASSERT_TRUE(read.data["response"].is_string()) << read.data.dump();
  Json inner = Json::parse(read.data["response"].get<std::string>());
  EXPECT_EQ(inner["data"]["secret"], "value");
  EXPECT_TRUE(inner.contains("lease_duration"));
  EXPECT_TRUE(inner["wrap_info"].is_null());
  EXPECT_EQ(Call(Operation::kRead, "cubbyhole/response", Json::object(), wrap).http_status, 403);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), wrap).http_status, 400);
  // Only a read: a wrapping token writes nothing there.
  const std::string other = Wrapped();
  EXPECT_EQ(Call(Operation::kUpdate, "cubbyhole/response", {{"x", "y"}}, other).http_status, 403);
  EXPECT_EQ(Call(Operation::kRead, "cubbyhole/other", Json::object(), other).http_status, 403);
  // An ordinary token's own cubbyhole/response is its own data, as before.
  ASSERT_EQ(Call(Operation::kUpdate, "cubbyhole/response", {{"mine", "1"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "cubbyhole/response").data["mine"], "1");
}

}  // namespace
}  // namespace coffer::core
