#include "hcl/hcl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace coffer::hcl {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct GoodCase {
  const char* name;
  const char* input;
  const char* expected_json;
};

// Inputs taken from, or shaped like, Vault's documentation.
const GoodCase kGoodCases[] = {
    {"empty", "", "{}"},
    {"only_comments", "# a\n// b\n/* c\n d */\n", "{}"},
    {"vault_example_config", R"(
storage "raft" {
  path    = "./vault/data"
  node_id = "node1"
}

listener "tcp" {
  address     = "127.0.0.1:8200"
  tls_disable = "true"
}

api_addr = "http://127.0.0.1:8200"
cluster_addr = "https://127.0.0.1:8201"
ui = true
)",
     R"({"storage": {"raft": {"path": "./vault/data", "node_id": "node1"}},
         "listener": {"tcp": {"address": "127.0.0.1:8200", "tls_disable": "true"}},
         "api_addr": "http://127.0.0.1:8200", "cluster_addr": "https://127.0.0.1:8201",
         "ui": true})"},
    {"vault_policy", R"(
# Dev servers have version 2 of KV secrets engine mounted by default, so will
# need these paths to grant permissions:
path "secret/data/*" {
  capabilities = ["create", "update"]
}

path "secret/data/foo" {
  capabilities = ["read"]
}
)",
     R"({"path": {"secret/data/*": {"capabilities": ["create", "update"]},
                  "secret/data/foo": {"capabilities": ["read"]}}})"},
    {"policy_parameters", R"(
path "secret/foo" {
  capabilities = ["create"]
  allowed_parameters = {
    "foo" = ["a", "b"]
    "bar" = []
  }
  denied_parameters = {
    "*" = []
  }
  required_parameters = ["foo"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "90s"
}
)",
     R"({"path": {"secret/foo": {"capabilities": ["create"],
         "allowed_parameters": {"foo": ["a", "b"], "bar": []},
         "denied_parameters": {"*": []}, "required_parameters": ["foo"],
         "min_wrapping_ttl": "1s", "max_wrapping_ttl": "90s"}}})"},
    {"repeated_label_becomes_array", R"(
listener "tcp" { address = "a" }
listener "tcp" { address = "b" }
listener "unix" { address = "c" }
)",
     R"({"listener": {"tcp": [{"address": "a"}, {"address": "b"}],
                      "unix": {"address": "c"}}})"},
    {"repeated_unlabelled_block", "telemetry { a = 1 }\ntelemetry { a = 2 }\n",
     R"({"telemetry": [{"a": 1}, {"a": 2}]})"},
    {"two_labels", "a \"x\" \"y\" { v = 1 }\na \"x\" \"z\" { v = 2 }\n",
     R"({"a": {"x": {"y": {"v": 1}, "z": {"v": 2}}}})"},
    {"identifier_labels", "storage inmem {}\n", R"({"storage": {"inmem": {}}})"},
    {"nested_blocks", "a { b { c \"d\" { e = [1, 2] } } }",
     R"({"a": {"b": {"c": {"d": {"e": [1, 2]}}}}})"},
    {"object_forms", "m = { a = 1, b = \"x\" }\nn { a = 1 }\no = {}\n",
     R"({"m": {"a": 1, "b": "x"}, "n": {"a": 1}, "o": {}})"},
    {"strings_and_escapes",
     R"(s = "tab\tnl\nq\"bs\\u\u00e9astral\U0001F600pair\ud83d\ude00"
i = "${var.foo} and ${lookup(map, "k")}")",
     R"({"s": "tab\tnl\nq\"bs\\u\u00e9astral\ud83d\ude00pair\ud83d\ude00",
         "i": "${var.foo} and ${lookup(map, \"k\")}"})"},
    {"numbers",
     "a = 42\nb = -7\nc = 1.5\nd = 1e3\ne = 0x1F\nf = 0755\ng = 0\nh = 9223372036854775807\n"
     "i = -9223372036854775808\n",
     R"({"a": 42, "b": -7, "c": 1.5, "d": 1000.0, "e": 31, "f": 493, "g": 0,
         "h": 9223372036854775807, "i": -9223372036854775808})"},
    {"booleans", "t = true\nf = false\n", R"({"t": true, "f": false})"},
    {"lists", "l = [\n  \"a\", # first\n  \"b\",\n]\ne = []\nn = [[1], [], [\"x\", [2]]]\n",
     R"({"l": ["a", "b"], "e": [], "n": [[1], [], ["x", [2]]]})"},
    {"list_of_objects", "l = [{a = 1}, {b = \"2\"}]", R"({"l": [{"a": 1}, {"b": "2"}]})"},
    {"heredoc", "h = <<EOF\nline one\n  line \"two\" ${x}\nEOF\nafter = 1\n",
     R"({"h": "line one\n  line \"two\" ${x}\n", "after": 1})"},
    {"indented_heredoc", "h = <<-EOT\n    a\n      b\n\n    c\n    EOT\n",
     R"({"h": "a\n  b\n\nc\n"})"},
    {"heredoc_crlf", "h = <<EOF\r\nx\r\nEOF\r\n", R"({"h": "x\n"})"},
    {"empty_heredoc", "h = <<EOF\nEOF\n", R"({"h": ""})"},
    {"comments_everywhere", "a = 1 # x\nb /* c */ = /* d */ 2 // e\nl = [ /* f */ 3 ]\n",
     R"({"a": 1, "b": 2, "l": [3]})"},
    {"quoted_keys", "\"my key\" = 1\n", R"({"my key": 1})"},
    {"commas_between_items", "a = 1, b = 2", R"({"a": 1, "b": 2})"},
    {"identifier_chars", "key-with.dots_and-dash = 1", R"({"key-with.dots_and-dash": 1})"},
    {"bom",
     "\xEF\xBB\xBF"
     "a = 1",
     R"({"a": 1})"},
    {"json_policy", R"({"path": {"secret/*": {"capabilities": ["read"]}}})",
     R"({"path": {"secret/*": {"capabilities": ["read"]}}})"},
    {"json_config", "  \n{\"listener\": [{\"tcp\": {\"address\": \"x\"}}], \"ui\": true}",
     R"({"listener": [{"tcp": {"address": "x"}}], "ui": true})"},
};

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name; }

class GoodInputTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodInputTest, ParsesToExpectedJson) {
  const GoodCase& c = GetParam();
  auto doc = Parse(c.input);
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  EXPECT_EQ(doc->json(), json::parse(c.expected_json)) << doc->json().dump();
}

INSTANTIATE_TEST_SUITE_P(Table, GoodInputTest, ::testing::ValuesIn(kGoodCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct BadCase {
  const char* name;
  const char* input;
  const char* expected_error;  // a substring, including the position
};

const BadCase kBadCases[] = {
    {"missing_equals", "a = 1\nb 2\n", "line 2, column 3: expected '=' or '{'"},
    {"unterminated_string", "a = 1\nb = \"abc\n", "line 2, column 5: unterminated string"},
    {"unterminated_block", "a {\n  b = 1\n", "line 3, column 1: expected '}' to close"},
    {"unterminated_list", "a = [1,\n2\n", "line 3, column 1: expected ']' to close"},
    {"missing_comma_in_list", "a = [1\n 2]", "line 2, column 2: expected ',' or ']'"},
    {"bare_word_value", "x = 1\ny = yes\n", "line 2, column 5: expected a value"},
    {"unquoted_duration", "ttl = 10s", "line 1, column 9: unexpected character after number"},
    {"stray_close", "a = 1\n}\n", "line 2, column 1: unexpected '}'"},
    {"duplicate_attribute", "a = 1\n\na = 2\n",
     "line 3, column 1: \"a\" is already defined at line 1"},
    {"attribute_then_block", "a = 1\na { }\n",
     "line 2, column 1: \"a\" is already defined as an attribute"},
    {"block_then_attribute", "a { }\na = 1\n",
     "line 2, column 1: \"a\" is already defined at line 1"},
    {"label_count_mismatch", "a \"x\" { }\na { }\n",
     "line 2, column 1: block \"a\" has 0 label(s)"},
    {"labels_then_equals", "a \"x\" = 1", "line 1, column 7: expected '{' after the labels"},
    {"unknown_escape", "a = \"\\q\"", "line 1, column 6: unknown escape sequence"},
    {"bad_unicode_escape", "a = \"\\u12G4\"", "line 1, column 10: expected a hex digit"},
    {"lone_surrogate", "a = \"\\ud800\"", "line 1, column 6: invalid Unicode code point"},
    {"unterminated_heredoc", "a = 1\nh = <<EOF\nabc\n", "line 2, column 5: unterminated heredoc"},
    {"heredoc_no_newline", "h = <<EOF abc\nEOF\n", "line 1, column 10: expected a newline"},
    {"unterminated_comment", "a = 1\n/* never", "line 2, column 1: unterminated /* comment"},
    {"integer_overflow", "a = 9223372036854775808", "line 1, column 5: integer out of range"},
    {"bad_octal", "a = 09", "line 1, column 5: invalid octal number"},
    {"missing_value", "a =", "line 1, column 4: expected a value, found the end of input"},
    {"invalid_utf8", "a = \"\xff\"", "line 1, column 6: invalid UTF-8"},
    {"key_expected", "= 1", "line 1, column 1: expected a key"},
    {"json_syntax", "{\"a\":\n [1,\n x]}", "line 3, column 2: invalid JSON"},
    {"json_duplicate_key", "{\"a\": 1,\n \"a\": 2}", "line 2, column 4: duplicate key \"a\""},
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInputTest, FailsWithPosition) {
  const BadCase& c = GetParam();
  auto doc = Parse(c.input);
  ASSERT_FALSE(doc.has_value()) << doc->json().dump();
  EXPECT_EQ(doc.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(doc.error().message(), HasSubstr(c.expected_error));
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputTest, ::testing::ValuesIn(kBadCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(HclTest, SourceNameFormatsErrorsLikeCompilers) {
  ParseOptions options;
  options.source_name = "policy.hcl";
  auto doc = Parse("a = 1\nb = \n", options);
  ASSERT_FALSE(doc.has_value());
  EXPECT_THAT(doc.error().message(), HasSubstr("policy.hcl:3:1: expected a value"));
}

TEST(HclTest, ErrorMessagesDoNotEchoValues) {
  auto doc = Parse("password = s3cr3t-value\n");
  ASSERT_FALSE(doc.has_value());
  EXPECT_THAT(doc.error().message(), ::testing::Not(HasSubstr("s3cr3t")));
  auto json_doc = Parse("{\"password\": s3cr3t}");
  ASSERT_FALSE(json_doc.has_value());
  EXPECT_THAT(json_doc.error().message(), ::testing::Not(HasSubstr("s3cr3t")));
}

TEST(HclTest, PositionsOfAttributesBlocksAndElements) {
  auto doc = Parse(R"(storage "local" {
  path = "/data"
}
listener "tcp" {
  address = "a"
}

listener "tcp" {
  tls_min_version = "tls13"
  list = [
    "x",
    "y"]
}
)");
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  EXPECT_EQ(doc->LineOf(""), 1);
  EXPECT_EQ(doc->LineOf("/storage/local"), 1);
  EXPECT_EQ(doc->LineOf("/storage/local/path"), 2);
  EXPECT_EQ(doc->PositionOf("/storage/local/path").column, 3);
  EXPECT_EQ(doc->LineOf("/listener/tcp/0"), 4);
  EXPECT_EQ(doc->LineOf("/listener/tcp/0/address"), 5);
  EXPECT_EQ(doc->LineOf("/listener/tcp/1"), 8);
  EXPECT_EQ(doc->LineOf("/listener/tcp/1/tls_min_version"), 9);
  EXPECT_EQ(doc->LineOf("/listener/tcp/1/list/1"), 12);
  // Unknown pointers fall back to the nearest recorded ancestor.
  EXPECT_EQ(doc->LineOf("/listener/tcp/1/nope/deeper"), 8);
}

TEST(HclTest, PositionsInJson) {
  auto doc =
      Parse("{\n  \"path\": {\n    \"a/b\": {\n      \"capabilities\": [\"read\"]\n    }\n  }\n}");
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  EXPECT_EQ(doc->LineOf("/path"), 2);
  EXPECT_EQ(doc->LineOf("/path/a~1b"), 3);
  EXPECT_EQ(doc->LineOf("/path/a~1b/capabilities/0"), 4);
}

TEST(HclTest, JoinPointerEscapes) {
  EXPECT_EQ(JoinPointer("", "a"), "/a");
  EXPECT_EQ(JoinPointer("/path", "secret/*"), "/path/secret~1*");
  EXPECT_EQ(JoinPointer("/x", "a~b"), "/x/a~0b");
}

TEST(HclTest, DepthBombInListIsAnErrorNotACrash) {
  const std::string bomb = "a = " + std::string(100000, '[');
  auto doc = Parse(bomb);
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(doc.error().message(), HasSubstr("nesting deeper than 100 levels"));
}

TEST(HclTest, DepthBombInBlocksAndObjects) {
  std::string blocks;
  for (int i = 0; i < 100000; ++i) blocks += "a {";
  EXPECT_FALSE(Parse(blocks).has_value());
  std::string objects = "x = ";
  for (int i = 0; i < 100000; ++i) objects += "{ a = ";
  EXPECT_FALSE(Parse(objects).has_value());
  std::string labels = "a";
  for (int i = 0; i < 1000; ++i) labels += " \"l\"";
  labels += " {}";
  EXPECT_FALSE(Parse(labels).has_value());
}

TEST(HclTest, DepthBombInJson) {
  const std::string bomb = "{\"a\": " + std::string(100000, '[');
  auto doc = Parse(bomb);
  ASSERT_FALSE(doc.has_value());
  EXPECT_THAT(doc.error().message(), HasSubstr("nesting deeper than 100 levels"));
}

TEST(HclTest, DepthAtTheLimitIsAccepted) {
  // 100 levels: the list brackets; the top-level body is level 0.
  const std::string ok = "a = " + std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(Parse(ok).has_value());
  const std::string too_deep = "a = " + std::string(101, '[') + std::string(101, ']');
  EXPECT_FALSE(Parse(too_deep).has_value());
}

TEST(HclTest, OversizedInputIsRefused) {
  std::string big(4 * 1024 * 1024 + 1, ' ');
  auto doc = Parse(big);
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().code(), Code::kTooLarge);
  std::string exactly(4 * 1024 * 1024, '\n');
  EXPECT_TRUE(Parse(exactly).has_value());
}

TEST(HclTest, JsonTopLevelMustBeAnObjectAndWellFormed) {
  EXPECT_TRUE(Parse("  {} ").has_value());
  EXPECT_FALSE(Parse("{} trailing").has_value());
  EXPECT_FALSE(Parse("{").has_value());
}

TEST(HclTest, TruncatedInputsNeverCrash) {
  // Every prefix of a rich document either parses or fails cleanly.
  const std::string text = R"(path "a/*" { capabilities = ["read", "list"] }
h = <<-EOF
  x ${y}
  EOF
s = "\u00e9\t${a("b")}" /* c */ n = [1.5e3, 0x10, {k = "v"}]
)";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    auto doc = Parse(text.substr(0, n));
    if (!doc.has_value()) {
      EXPECT_EQ(doc.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(HclTest, MutatedInputsNeverCrash) {
  // A fixed-seed mutation loop: each variant parses or fails with an error.
  const std::string seed = R"(storage "local" { path = "/d" }
listener "tcp" { address = "127.0.0.1:8200", tls_disable = "1" }
path "secret/*" { capabilities = ["read"] allowed_parameters = { "k" = ["a", 0x1f, -1.5e3] } }
h = <<-EOF
  x
  EOF
/* c */ s = "\u00e9 ${x("y")}" # end
)";
  const std::string alphabet = "{}[]\"=,<-#/*\\$\n 0xe.9aEOF";
  std::uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int i = 0; i < 10000; ++i) {
    std::string text = seed;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = next() % (text.size() + 1);
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0:
          text.insert(at, 1, c);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = c;
          break;
      }
    }
    auto doc = Parse(text);
    if (!doc.has_value()) {
      ASSERT_EQ(doc.error().code(), Code::kInvalidArgument) << text;
      ASSERT_THAT(doc.error().message(), HasSubstr("line ")) << text;
    } else {
      (void)doc->json().dump();  // the tree is valid UTF-8 JSON
    }
  }
}

}  // namespace
}  // namespace coffer::hcl
