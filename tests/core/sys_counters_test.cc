// sys/internal/counters/{tokens,entities} and sys/in-flight-req.

#include <gtest/gtest.h>

#include "core/core_fixture.h"
#include "http/in_flight.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class CountersTest : public CoreFixture {
 protected:
  std::int64_t Total(const std::string& which, const char* key) {
    logical::Response r = Call(Operation::kRead, "sys/internal/counters/" + which);
    EXPECT_EQ(r.http_status, 200) << r.data.dump();
    return r.data["counters"][key]["total"].get<std::int64_t>();
  }
};

TEST_F(CountersTest, CountServiceTokensButNotBatchTokens) {
  EXPECT_EQ(Total("tokens", "service_tokens"), 1);  // the root token
  std::string child;
  for (int i = 0; i < 3; ++i) {
    logical::Response r = Call(Operation::kUpdate, "auth/token/create", Json{{"ttl", "1h"}});
    ASSERT_EQ(r.http_status, 200) << r.data.dump();
    child = r.auth["client_token"].get<std::string>();
  }
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/create",
                 Json{{"type", "batch"}, {"policies", Json::array({"default"})}})
                .http_status,
            200);
  EXPECT_EQ(Total("tokens", "service_tokens"), 4);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/revoke", Json{{"token", child}}).http_status, 204);
  EXPECT_EQ(Total("tokens", "service_tokens"), 3);
}

TEST_F(CountersTest, CountEntities) {
  EXPECT_EQ(Total("entities", "entities"), 0);
  ASSERT_EQ(Call(Operation::kUpdate, "identity/entity", Json{{"name", "alice"}}).http_status, 200);
  ASSERT_EQ(Call(Operation::kUpdate, "identity/entity", Json{{"name", "bob"}}).http_status, 200);
  EXPECT_EQ(Total("entities", "entities"), 2);
  ASSERT_EQ(Call(Operation::kDelete, "identity/entity/name/bob").http_status, 204);
  EXPECT_EQ(Total("entities", "entities"), 1);
}

TEST_F(CountersTest, RefusesOtherCountersOperationsAndTokensWithoutTheGrant) {
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/counters/activity").http_status, 404);
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/counters/requests").http_status, 404);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/internal/counters/tokens").http_status, 405);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/in-flight-req").http_status, 405);
  logical::Response r =
      Call(Operation::kUpdate, "auth/token/create", Json{{"policies", Json::array({"default"})}});
  ASSERT_EQ(r.http_status, 200);
  const std::string user = r.auth["client_token"].get<std::string>();
  for (const char* path :
       {"sys/internal/counters/tokens", "sys/internal/counters/entities", "sys/in-flight-req"}) {
    EXPECT_EQ(Call(Operation::kRead, path, Json::object(), user).http_status, 403) << path;
  }
}

TEST_F(CountersTest, InFlightRequestsAreTheRegistrysInVaultsShape) {
  http::InFlightRegistry::Slot slot(http::InFlightRegistry::Global(), 0);
  http::InFlightRequest& f = slot.fields();
  f.id = "5e1d0c3a-0000-4000-8000-000000000001";
  f.method = "LIST";
  f.path = "/v1/secret/metadata/";
  f.remote_address = "127.0.0.9:4711";
  f.start = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
  slot.Begin();
  logical::Response r = Call(Operation::kRead, "sys/in-flight-req");
  ASSERT_EQ(r.http_status, 200);
  ASSERT_TRUE(r.raw.has_value());  // the map itself, no envelope
  ASSERT_TRUE(r.raw->contains(f.id)) << r.raw->dump();
  EXPECT_EQ((*r.raw)[f.id], (Json{{"start_time", "2026-01-01T00:00:00.000000000Z"},
                                  {"client_remote_address", "127.0.0.9:4711"},
                                  {"request_path", "/v1/secret/metadata/"},
                                  {"request_method", "LIST"},
                                  {"client_id", ""}}));
  slot.End();
  r = Call(Operation::kRead, "sys/in-flight-req");
  ASSERT_TRUE(r.raw.has_value());
  EXPECT_FALSE(r.raw->contains(f.id));
}

}  // namespace
}  // namespace coffer::core
