#include "cli/output.h"

#include <gtest/gtest.h>

#include "cli/api_client.h"
#include "cli/http_client.h"
#include "cli/run_config.h"

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
  EXPECT_EQ(ParseFormat("yaml").value(), OutputFormat::kYaml);
  EXPECT_EQ(ParseFormat("YML").value(), OutputFormat::kYaml);
}

// The shape of Vault's -format=yaml: sorted keys, two-space indents, a
// sequence under a key at the key's indent, flow style only when empty.
TEST(OutputTest, YamlLooksLikeVaults) {
  Json secret = Json::parse(R"({
    "request_id": "5e0c1b2a-0000-4000-8000-000000000001",
    "lease_id": "", "lease_duration": 2764800, "renewable": false,
    "data": {"data": {"password": "s3cr3t", "port": "5432"},
             "metadata": {"version": 3, "destroyed": false, "custom_metadata": null}},
    "warnings": null, "keys": ["a", "b/"], "empty": {}, "none": []})");
  EXPECT_EQ(FormatYaml(secret),
            "data:\n"
            "  data:\n"
            "    password: s3cr3t\n"
            "    port: \"5432\"\n"
            "  metadata:\n"
            "    custom_metadata: null\n"
            "    destroyed: false\n"
            "    version: 3\n"
            "empty: {}\n"
            "keys:\n"
            "- a\n"
            "- b/\n"
            "lease_duration: 2764800\n"
            "lease_id: \"\"\n"
            "none: []\n"
            "renewable: false\n"
            "request_id: 5e0c1b2a-0000-4000-8000-000000000001\n"
            "warnings: null\n");
  EXPECT_EQ(FormatYaml(Json("plain")), "plain\n");
  EXPECT_EQ(FormatYaml(Json(nullptr)), "null\n");
  EXPECT_EQ(FormatStructured(OutputFormat::kJson, Json{{"a", 1}}), "{\n  \"a\": 1\n}\n");
  EXPECT_EQ(FormatStructured(OutputFormat::kYaml, Json{{"a", 1}}), "a: 1\n");
}

// Strings that YAML would read as something else, or could not write plain,
// come back as the same strings: checked by reading the output with libyaml
// (ParseYaml keeps every scalar as text) and by the quoting chosen.
TEST(OutputTest, YamlStringsReadBackAsTheSameStrings) {
  // clang-format off
  const std::vector<std::string> tricky = {
      "true", "No", "on", "~", "null", "", "123", "-1.5e3", "0x1f", "1_000", ".inf", "1.", ".5",
      "2024-05-09T14:22:03Z", "a: b", "- item", "#not a comment", "key: [x]", "multi\nline\n",
      " leading space", "trailing space ", "quote\"and\\backslash", "tab\there", "é unicode",
      "@at", "`tick", "&anchor", "*alias", "!tag", "%percent", "{flow}", "[flow]", "|pipe", ">gt"};
  // clang-format on
  Json tree = Json::object();
  for (std::size_t i = 0; i < tricky.size(); ++i) tree["k" + std::to_string(i)] = tricky[i];
  tree["nested"] = Json::array({Json{{"true", "false"}}, "yes"});
  const std::string yaml = FormatYaml(tree);
  auto back = ParseYaml(yaml);
  ASSERT_TRUE(back.has_value()) << back.error().ToString() << "\n" << yaml;
  EXPECT_EQ(*back, tree) << yaml;
  EXPECT_NE(yaml.find("k0: \"true\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("k6: \"123\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("k18: |\n"), std::string::npos) << yaml;
  // Not numbers, so plain, as Vault prints a request id.
  for (const char* plain : {"5e0c1b2a-0000-4000-8000-000000000001", "1.2.3", "0x", "e5", "1e"}) {
    EXPECT_EQ(FormatYaml(Json{{"v", plain}}), std::string("v: ") + plain + "\n");
  }
  EXPECT_NE(yaml.find("- \"yes\"\n"), std::string::npos) << yaml;
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
