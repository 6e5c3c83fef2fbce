// core::Cors: which cross-origin requests go on, with which headers, and
// what is answered instead.
#include "core/cors.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::core {
namespace {

using Headers = std::map<std::string, std::string>;

TEST(CorsTest, OffAnswersNothingAndAddsNothing) {
  Cors cors;
  Headers h;
  EXPECT_FALSE(cors.Enabled());
  EXPECT_FALSE(cors.Check("http://a", "GET", "", &h).has_value());
  EXPECT_TRUE(h.empty());
}

TEST(CorsTest, NamedOriginsWildcardAndPreflights) {
  storage::InmemBackend store;
  Cors cors;
  ASSERT_TRUE(cors.Enable(store, {"http://a", "http://b"}, {"X-Extra"}, false).ok());
  EXPECT_TRUE(cors.Enabled());

  Headers h;
  EXPECT_FALSE(cors.Check("http://b", "GET", "", &h).has_value());
  EXPECT_EQ(h, (Headers{{"Access-Control-Allow-Origin", "http://b"}, {"Vary", "Origin"}}));

  Headers none;
  auto refused = cors.Check("http://c", "GET", "", &none);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->http_status, 403);
  EXPECT_TRUE(none.empty());
  // Origins are compared whole, not as prefixes.
  EXPECT_TRUE(cors.Check("http://a.evil", "GET", "", &none).has_value());

  auto preflight = cors.Check("http://a", "OPTIONS", "LIST", &none);
  ASSERT_TRUE(preflight.has_value());
  EXPECT_EQ(preflight->http_status, 204);
  EXPECT_EQ(preflight->headers["Access-Control-Allow-Origin"], "http://a");
  EXPECT_NE(preflight->headers["Access-Control-Allow-Headers"].find(",X-Extra"), std::string::npos);
  for (const char* method : {"TRACE", "", "GE", "GET,POST"}) {
    auto bad = cors.Check("http://a", "OPTIONS", method, &none);
    ASSERT_TRUE(bad.has_value()) << method;
    EXPECT_EQ(bad->http_status, 405) << method;
  }
  EXPECT_TRUE(none.empty());

  // The wildcard echoes any origin, never with credentials: with them any
  // page could send the user's and read the answer.
  EXPECT_EQ(cors.Enable(store, {"*"}, {}, true).code(), Code::kInvalidArgument);
  EXPECT_EQ(cors.Enable(store, {"http://a", "null"}, {}, true).code(), Code::kInvalidArgument);
  ASSERT_TRUE(cors.Enable(store, {"*"}, {}, false).ok());
  Headers any;
  EXPECT_FALSE(cors.Check("http://anything", "POST", "", &any).has_value());
  EXPECT_EQ(any["Access-Control-Allow-Origin"], "http://anything");
  EXPECT_EQ(any.count("Access-Control-Allow-Credentials"), 0u);
}

TEST(CorsTest, StoredAndLoadedRefusedSettingsChangeNothing) {
  storage::InmemBackend store;
  Cors cors;
  ASSERT_TRUE(cors.Enable(store, {"http://a"}, {}, false).ok());
  EXPECT_EQ(cors.Enable(store, {}, {}, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(cors.Enable(store, {"*", "http://a"}, {}, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(cors.Enable(store, {"http://a\r\nX: y"}, {}, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(cors.Enable(store, {"http://a"}, {"X-A\r\n"}, false).code(), Code::kInvalidArgument);

  Cors loaded;
  ASSERT_TRUE(loaded.Load(store).ok());
  EXPECT_TRUE(loaded.Enabled());
  EXPECT_EQ(loaded.Current().allowed_origins, std::vector<std::string>{"http://a"});
  EXPECT_EQ(loaded.Current().allowed_headers, Cors::StandardHeaders());

  ASSERT_TRUE(cors.Disable(store).ok());
  ASSERT_TRUE(loaded.Load(store).ok());
  EXPECT_FALSE(loaded.Enabled());
  EXPECT_TRUE(loaded.Current().allowed_origins.empty());

  ASSERT_TRUE(store.Put("core/cors", R"({"allowed_origins": 3})").ok());
  EXPECT_EQ(loaded.Load(store).code(), Code::kInternal);
}

}  // namespace
}  // namespace coffer::core
