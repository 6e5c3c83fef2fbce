#include "http/path.h"

#include <gtest/gtest.h>

namespace coffer::http {
namespace {

struct PathCase {
  std::string in;
  Code code;        // kOk when accepted
  std::string out;  // the canonical path when accepted
};

class PathTable : public ::testing::TestWithParam<PathCase> {};

TEST_P(PathTable, Canonicalizes) {
  const PathCase& c = GetParam();
  auto r = CanonicalizePath(c.in);
  if (c.code == Code::kOk) {
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().ToString();
    EXPECT_EQ(*r, c.out) << c.in;
  } else {
    ASSERT_FALSE(r.has_value()) << c.in << " was accepted as " << *r;
    EXPECT_EQ(r.error().code(), c.code) << c.in << ": " << r.error().ToString();
  }
}

const Code kOk = Code::kOk;
const Code kBad = Code::kInvalidArgument;
const Code kNone = Code::kNotFound;

INSTANTIATE_TEST_SUITE_P(
    Cases, PathTable,
    ::testing::Values(
        // accepted
        PathCase{"/v1/sys/health", kOk, "sys/health"},
        PathCase{"/v1/secret/data/foo", kOk, "secret/data/foo"},
        PathCase{"/v1/secret/metadata/", kOk, "secret/metadata/"},  // trailing slash kept
        PathCase{"/v1/a", kOk, "a"}, PathCase{"/v1/a%20b", kOk, "a b"},
        PathCase{"/v1/a+b", kOk, "a+b"},  // '+' is literal in a path
        PathCase{"/v1/caf%C3%A9", kOk, "caf\xC3\xA9"},
        PathCase{"/v1/caf\xC3\xA9", kOk, "caf\xC3\xA9"},
        PathCase{"/v1/%E2%82%AC", kOk, "\xE2\x82\xAC"},
        PathCase{"/v1/%F0%9F%94%91/x", kOk, "\xF0\x9F\x94\x91/x"},
        PathCase{"/v1/a/.b/..c/...", kOk, "a/.b/..c/..."},  // dots inside names are fine
        PathCase{"/v1/a%25b", kOk, "a%b"},                  // decoded once only
        PathCase{"/v1/a%252F", kOk, "a%2F"}, PathCase{"/v1/a:b@c;d=e", kOk, "a:b@c;d=e"},
        PathCase{"/v1/%7euser", kOk, "~user"},
        // not API paths
        PathCase{"/", kNone, ""}, PathCase{"/v1", kNone, ""}, PathCase{"/v1/", kNone, ""},
        PathCase{"/v2/sys/health", kNone, ""}, PathCase{"/V1/sys/health", kNone, ""},
        PathCase{"/ui/", kNone, ""}, PathCase{"v1/sys/health", kNone, ""},
        PathCase{"http://host/v1/sys/health", kNone, ""}, PathCase{"", kNone, ""},
        PathCase{"/%76%31/sys", kNone, ""},  // the prefix is matched before decoding
        // dot segments
        PathCase{"/v1/.", kBad, ""}, PathCase{"/v1/..", kBad, ""}, PathCase{"/v1/a/./b", kBad, ""},
        PathCase{"/v1/a/../b", kBad, ""}, PathCase{"/v1/a/..", kBad, ""},
        PathCase{"/v1/a/../", kBad, ""}, PathCase{"/v1/%2e%2e/sys", kBad, ""},
        PathCase{"/v1/%2E%2E/sys", kBad, ""}, PathCase{"/v1/.%2e/sys", kBad, ""},
        PathCase{"/v1/a/%2e", kBad, ""},
        // empty segments
        PathCase{"/v1//sys", kBad, ""}, PathCase{"/v1/a//b", kBad, ""},
        PathCase{"/v1/a//", kBad, ""}, PathCase{"/v1///", kBad, ""},
        // an encoded slash is a slash, checked like one (Vault reads the
        // decoded path; its newer Go client escapes every path parameter)
        PathCase{"/v1/a%2Fb", kOk, "a/b"}, PathCase{"/v1/a%2fb", kOk, "a/b"},
        PathCase{"/v1/secret/data/team%2Fapp", kOk, "secret/data/team/app"},
        PathCase{"/v1/a%2F", kOk, "a/"}, PathCase{"/v1/%2e%2e%2fsys", kBad, ""},
        PathCase{"/v1/a%2F..%2Fsys", kBad, ""}, PathCase{"/v1/a%2F%2Fb", kBad, ""},
        PathCase{"/v1/%2Fsys", kBad, ""}, PathCase{"/v1/a%2F.", kBad, ""},
        // encoded backslash, and a literal one
        PathCase{"/v1/a%5Cb", kBad, ""}, PathCase{"/v1/a%5cb", kBad, ""},
        PathCase{"/v1/a\\b", kBad, ""},
        // NUL and control characters
        PathCase{"/v1/a%00b", kBad, ""}, PathCase{std::string("/v1/a\0b", 7), kBad, ""},
        PathCase{"/v1/a%0Ab", kBad, ""}, PathCase{"/v1/a%0db", kBad, ""},
        PathCase{"/v1/a%09b", kBad, ""}, PathCase{"/v1/a%7Fb", kBad, ""},
        PathCase{"/v1/a\x01", kBad, ""},
        // invalid UTF-8
        PathCase{"/v1/%FF", kBad, ""}, PathCase{"/v1/%C0%AF", kBad, ""},  // overlong '/'
        PathCase{"/v1/%E0%80%AF", kBad, ""},                              // overlong '/'
        PathCase{"/v1/%ED%A0%80", kBad, ""},                              // surrogate
        PathCase{"/v1/%F4%90%80%80", kBad, ""},                           // > U+10FFFF
        PathCase{"/v1/%C3", kBad, ""},                                    // truncated
        PathCase{"/v1/\x80", kBad, ""},
        // malformed escapes
        PathCase{"/v1/a%", kBad, ""}, PathCase{"/v1/a%2", kBad, ""}, PathCase{"/v1/a%zz", kBad, ""},
        PathCase{"/v1/a%g0", kBad, ""}, PathCase{"/v1/%%32%65", kBad, ""},
        PathCase{"/v1/a#frag", kBad, ""}));

TEST(SplitTarget, SeparatesQuery) {
  auto t = SplitTarget("/v1/a?b=c&d");
  EXPECT_EQ(t.path, "/v1/a");
  EXPECT_EQ(t.query, "b=c&d");
  auto u = SplitTarget("/v1/a");
  EXPECT_EQ(u.path, "/v1/a");
  EXPECT_TRUE(u.query.empty());
}

TEST(ParseQuery, DecodesPairs) {
  auto q = ParseQuery("list=true&a=x%20y&b=1+2&flag&a=second&=nokey&&c=%E2%82%AC");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->at("list"), "true");
  EXPECT_EQ(q->at("a"), "x y");  // the first one wins
  EXPECT_EQ(q->at("b"), "1 2");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("c"), "\xE2\x82\xAC");
  EXPECT_EQ(q->count(""), 0u);
}

TEST(ParseQuery, RejectsBadInput) {
  EXPECT_FALSE(ParseQuery("a=%zz").has_value());
  EXPECT_FALSE(ParseQuery("a=%").has_value());
  EXPECT_FALSE(ParseQuery("a=%00").has_value());
  EXPECT_FALSE(ParseQuery("a=%FF").has_value());
  EXPECT_FALSE(ParseQuery("%0A=1").has_value());
  EXPECT_TRUE(ParseQuery("").has_value());
}

TEST(ParseFormBody, DecodesPairsAndJoinsRepeatedKeys) {
  auto f = ParseFormBody("password=s3cret%21+pw&policies=a&policies=b&flag&=nokey&&c=%E2%82%AC");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->at("password"), "s3cret! pw");
  EXPECT_EQ(f->at("policies"), "a,b");  // Vault joins a repeated key's values
  EXPECT_EQ(f->at("flag"), "");
  EXPECT_EQ(f->at("c"), "\xE2\x82\xAC");
  EXPECT_EQ(f->count(""), 0u);
  // A value may span lines (a policy's text), unlike a query's.
  auto policy =
      ParseFormBody("policy=path+%22a%22+%7B%0A++capabilities+%3D+%5B%22read%22%5D%0A%7D");
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->at("policy"), "path \"a\" {\n  capabilities = [\"read\"]\n}");
  auto empty = ParseFormBody("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseFormBody, RejectsBadInput) {
  EXPECT_FALSE(ParseFormBody("a=%zz").has_value());
  EXPECT_FALSE(ParseFormBody("a=%").has_value());
  EXPECT_FALSE(ParseFormBody("a=%FF").has_value());
  EXPECT_FALSE(ParseFormBody("a=1;b=2").has_value());  // Go's url.ParseQuery refuses ';'
  EXPECT_FALSE(ParseFormBody("a%3D=1;").has_value());
}

TEST(Utf8, Validates) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x94\x91"));
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
}

TEST(RedirectForRepeatedSlashes, CollapsesRunsUnderV1Only) {
  EXPECT_EQ(RedirectForRepeatedSlashes("/v1//sys"), "/v1/sys");
  EXPECT_EQ(RedirectForRepeatedSlashes("/v1/a///b//"), "/v1/a/b/");
  EXPECT_EQ(RedirectForRepeatedSlashes("/v1/a/b"), std::nullopt);
  EXPECT_EQ(RedirectForRepeatedSlashes("//v1/a"), std::nullopt);
  EXPECT_EQ(RedirectForRepeatedSlashes("/v2//a"), std::nullopt);
  // Never a protocol-relative URL, whatever follows /v1/.
  EXPECT_EQ(RedirectForRepeatedSlashes("/v1//evil.example/x"), "/v1/evil.example/x");
}

}  // namespace
}  // namespace coffer::http
