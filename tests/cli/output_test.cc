#include "cli/output.h"

#include <gtest/gtest.h>

#include "cli/api_client.h"
#include "cli/http_client.h"

namespace coffer::cli {
namespace {

TEST(OutputTest, KeyValueTableAlignsLikeVault) {
  std::string got = FormatKeyValue({{"Seal Type", "shamir"},
                                    {"Sealed", "false"},
                                    {"Unseal Nonce", ""},
                                    {"Storage Type", "inmem"}});
  EXPECT_EQ(got,
            "Key             Value\n"
            "---             -----\n"
            "Seal Type       shamir\n"
            "Sealed          false\n"
            "Unseal Nonce    n/a\n"
            "Storage Type    inmem\n");
}

TEST(OutputTest, ColumnsHaveNoHeaderAndNoTrailingSpaces) {
  EXPECT_EQ(FormatColumns({{"Key Term", "2"}, {"Encryption Count", "10"}}),
            "Key Term            2\n"
            "Encryption Count    10\n");
  EXPECT_EQ(FormatColumns({}), "");
  EXPECT_EQ(FormatTable({}), "");
}

TEST(OutputTest, TableWithThreeColumns) {
  EXPECT_EQ(FormatTable({{"Path", "Type", "Description"}, {"secret/", "kv", ""}}),
            "Path       Type    Description\n"
            "----       ----    -----------\n"
            "secret/    kv      n/a\n");
}

TEST(OutputTest, JsonIsIndentedAndKeepsOrder) {
  Json j = Json::object();
  j["b"] = 1;
  j["a"] = Json::array({"x"});
  EXPECT_EQ(FormatJson(j), "{\n  \"b\": 1,\n  \"a\": [\n    \"x\"\n  ]\n}\n");
}

TEST(OutputTest, ScalarText) {
  EXPECT_EQ(ScalarText(Json("s")), "s");
  EXPECT_EQ(ScalarText(Json(true)), "true");
  EXPECT_EQ(ScalarText(Json(3)), "3");
  EXPECT_EQ(ScalarText(Json()), "");
}

TEST(OutputTest, ParseFormat) {
  EXPECT_EQ(ParseFormat("table").value(), OutputFormat::kTable);
  EXPECT_EQ(ParseFormat("json").value(), OutputFormat::kJson);
  ASSERT_FALSE(ParseFormat("xml").has_value());
  EXPECT_EQ(ParseFormat("xml").error().message(), "Invalid output format: xml");
  EXPECT_EQ(ParseFormat("JSON").value(), OutputFormat::kJson);
  EXPECT_EQ(ParseFormat("Table").value(), OutputFormat::kTable);
}

TEST(OutputTest, WrapAtLength) {
  EXPECT_EQ(WrapAtLength("aaa bbb ccc", 7), "aaa bbb\nccc");
  EXPECT_EQ(WrapAtLength("one\ntwo three", 5), "one\ntwo\nthree");
  EXPECT_EQ(WrapAtLength("short", 78), "short");
}

TEST(OutputTest, Rfc822) {
  EXPECT_EQ(FormatRfc822("2022-01-21T04:13:00.123456789Z"), "21 Jan 22 04:13 UTC");
  EXPECT_EQ(FormatRfc822("2022-01-01T01:30:00+02:00"), "31 Dec 21 23:30 UTC");
  EXPECT_EQ(FormatRfc822("not a time"), "not a time");
  EXPECT_EQ(FormatRfc822(""), "");
}

TEST(OutputTest, ApiErrorLooksLikeVault) {
  Json body = Json::parse(R"({"errors":["Vault is already initialized"]})");
  EXPECT_EQ(FormatApiError("PUT", "http://127.0.0.1:8200/v1/sys/init", 400, body),
            "Error making API request.\n\n"
            "URL: PUT http://127.0.0.1:8200/v1/sys/init\n"
            "Code: 400. Errors:\n\n"
            "* Vault is already initialized");
  EXPECT_EQ(FormatApiError("GET", "http://h/v1/x", 502, Json("bad gateway")),
            "Error making API request.\n\nURL: GET http://h/v1/x\nCode: 502. Raw Message:\n\n"
            "bad gateway");
}

TEST(ParseAddressTest, Variants) {
  auto a = ParseAddress("http://127.0.0.1:8200");
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "8200");
  EXPECT_EQ(a->base_path, "");

  a = ParseAddress("https://vault.example.com/");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(a->port, "443");

  a = ParseAddress("https://[::1]:8201/prefix/");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, "8201");
  EXPECT_EQ(a->base_path, "/prefix");

  EXPECT_FALSE(ParseAddress("127.0.0.1:8200").has_value());
  EXPECT_FALSE(ParseAddress("http://:8200").has_value());
  EXPECT_FALSE(ParseAddress("http://h:99999").has_value());
  EXPECT_FALSE(ParseAddress("http://h:x").has_value());
}

}  // namespace
}  // namespace coffer::cli
