#include "common/go_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/json_numbers.h"

namespace coffer::go_template {
namespace {

Json Secret(Json data) {
  return Json{{"Data", std::move(data)}, {"LeaseID", ""},       {"LeaseDuration", 0},
              {"Renewable", false},      {"Warnings", nullptr}, {"RequestID", "r"}};
}

class TemplateTest : public ::testing::Test {
 protected:
  SecretFetcher fetch_ = [this](const std::string& path, const Json& data) -> Result<Json> {
    calls_.push_back(path + (data.is_null() ? "" : " " + data.dump()));
    if (path == "secret/data/app") {
      return Secret({{"data", {{"password", "s3cr3t"}, {"user", "app"}, {"port", 5432}}},
                     {"metadata", {{"version", 3}}}});
    }
    if (path == "secret/data/empty") return Secret({{"data", Json::object()}});
    if (path == "secret/data/numbers") {  // as the agent's client parses them
      return Secret({{"data",
                      {{"big", MakeNumberText("123456789012345678901234567890")},
                       {"zero", MakeNumberText("0.00")},
                       {"rate", MakeNumberText("1.50")},
                       {"tiny", 1e-7}}}});
    }
    if (path == "pki/issue/web") return Secret({{"cn", data.value("common_name", "")}});
    return Err(NotFound("no secret"));
  };
  std::vector<std::string> calls_;

  std::string R(std::string_view text, bool strict = false) {
    Result<Template> t = Template::Parse(text, "t");
    EXPECT_TRUE(t.has_value()) << t.error().message();
    if (!t) return "<parse error>";
    Result<std::string> out = t->Render(fetch_, RenderOptions{strict});
    EXPECT_TRUE(out.has_value()) << out.error().message();
    return out ? *out : "<render error>";
  }

  Status Fails(std::string_view text, bool strict = false) {
    Result<Template> t = Template::Parse(text, "t");
    if (!t) return t.error();
    Result<std::string> out = t->Render(fetch_, RenderOptions{strict});
    if (out) return Status::Ok();
    return out.error();
  }
};

TEST_F(TemplateTest, PlainText) { EXPECT_EQ(R("hello\nworld"), "hello\nworld"); }

// A caller-given dot (policies' list_scan_response_keys_filter_path) and
// OpenBao's helpers.
TEST_F(TemplateTest, DotAndOpenBaoHelpers) {
  Result<Template> t = Template::Parse(
      R"({{ .path | replace "kv/metadata/" "kv/data/" }}{{ .key | lowercase }}/{{ uppercase $.key }})",
      "t");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  RenderOptions options;
  options.dot = Json{{"path", "kv/metadata/app/metadata/"}, {"key", "Db"}};
  auto out = t->Render(fetch_, options);
  ASSERT_TRUE(out.has_value()) << out.error().message();
  // Every occurrence is replaced, as Go's strings.ReplaceAll does.
  EXPECT_EQ(*out, "kv/data/app/metadata/db/DB");
  EXPECT_EQ(R(R"({{ replace "" "x" "abc" }}|{{ replace "b" "" "abcb" }})"), "abc|ac");
  EXPECT_THAT(Fails(R"({{ replace "a" "b" }})").message(),
              ::testing::HasSubstr("wrong number of args for replace"));
  // Without a dot, a field of it is an error, as in Go.
  EXPECT_THAT(Fails("{{ .key }}").message(), ::testing::HasSubstr("nil pointer evaluating"));
}

TEST_F(TemplateTest, WithSecret) {
  EXPECT_EQ(R(R"({{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }})"),
            "s3cr3t");
  EXPECT_EQ(R(R"({{ with secret "secret/data/app" }}v{{ .Data.metadata.version }}{{ end }})"),
            "v3");
}

TEST_F(TemplateTest, SecretIsFetchedOncePerRender) {
  R(R"({{ with secret "secret/data/app" }}{{ .Data.data.user }}{{ end }})"
    R"({{ with secret "secret/data/app" }}{{ .Data.data.user }}{{ end }})");
  EXPECT_EQ(calls_.size(), 2u);  // the renderer caches; the engine itself does not
}

TEST_F(TemplateTest, SecretWithWriteArguments) {
  EXPECT_EQ(
      R(R"({{ with secret "pki/issue/web" "common_name=a.example" }}{{ .Data.cn }}{{ end }})"),
      "a.example");
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0], R"(pki/issue/web {"common_name":"a.example"})");
}

TEST_F(TemplateTest, RangeKeyValueSorted) {
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/app" }}{{ range $k, $v := .Data.data }}{{ $k }}={{ $v }};{{ end }}{{ end }})"),
      "password=s3cr3t;port=5432;user=app;");
}

TEST_F(TemplateTest, RangeOneVariableAndDot) {
  EXPECT_EQ(
      R(R"({{ $l := secret "secret/data/app" }}{{ range $v := $l.Data.metadata }}[{{ $v }}]{{ end }})"),
      "[3]");
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/app" }}{{ range .Data.data }}<{{ . }}>{{ end }}{{ end }})"),
      "<s3cr3t><5432><app>");
}

TEST_F(TemplateTest, RangeElse) {
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/empty" }}{{ range .Data.data }}x{{ else }}none{{ end }}{{ end }})"),
      "none");
}

TEST_F(TemplateTest, IfElseIfElse) {
  std::string t =
      R"({{ with secret "secret/data/app" }}{{ if eq .Data.data.user "root" }}R{{ else if eq .Data.data.user "app" }}A{{ else }}O{{ end }}{{ end }})";
  EXPECT_EQ(R(t), "A");
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/app" }}{{ if .Data.data.nothing }}y{{ else }}n{{ end }}{{ end }})"),
      "n");
  EXPECT_FALSE(Fails("{{ .Field }}").ok());  // no top-level data, as in Go with nil
  EXPECT_EQ(
      R(R"({{ if and true (not false) }}y{{ end }}|{{ if or false "" }}y{{ else }}n{{ end }})"),
      "y|n");
  EXPECT_EQ(R(R"({{ if ne 1 2 }}diff{{ end }})"), "diff");
}

TEST_F(TemplateTest, WithElse) {
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/app" }}{{ with .Data.data.missing }}x{{ else }}none{{ end }}{{ end }})"),
      "none");
}

TEST_F(TemplateTest, PipesAndFunctions) {
  EXPECT_EQ(R(R"({{ with secret "secret/data/app" }}{{ .Data.data | toJSON }}{{ end }})"),
            R"({"password":"s3cr3t","port":5432,"user":"app"})");
  EXPECT_EQ(R(R"({{ "hello" | base64Encode }})"), "aGVsbG8=");
  EXPECT_EQ(R(R"({{ "aGVsbG8=" | base64Decode }})"), "hello");
  EXPECT_EQ(R(R"({{ "  x y \n" | trimSpace }})"), "x y");
  EXPECT_EQ(R(R"({{ "MiXed" | toUpper }}{{ "MiXed" | toLower }})"), "MIXEDmixed");
  EXPECT_EQ(R(R"({{ "abc" | toUpper | base64Encode }})"), "QUJD");
  EXPECT_EQ(
      R(R"({{ len "abcd" }} {{ with secret "secret/data/app" }}{{ len .Data.data }}{{ index .Data.data "user" }}{{ end }})"),
      "4 3app");
  EXPECT_EQ(R(R"({{ toJSONPretty (secret "secret/data/app").Data }})").substr(0, 1), "{");
}

// Numbers kept as written (common/json_numbers.h) print as written, as a
// Go template prints a json.Number; their truth is their value's.
TEST_F(TemplateTest, NumbersKeptAsWrittenPrintAsWritten) {
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/numbers" }}{{ .Data.data.big }} {{ .Data.data.rate }}{{ end }})"),
      "123456789012345678901234567890 1.50");
  EXPECT_EQ(R(R"({{ with secret "secret/data/numbers" }}{{ .Data.data | toJSON }}{{ end }})"),
            R"({"big":123456789012345678901234567890,"rate":1.50,"tiny":1e-7,"zero":0.00})");
  EXPECT_EQ(
      R(R"({{ with secret "secret/data/numbers" }}{{ if .Data.data.rate }}y{{ end }}{{ if .Data.data.zero }}n{{ end }}{{ end }})"),
      "y");
}

TEST_F(TemplateTest, Variables) {
  EXPECT_EQ(R(R"({{ $x := "a" }}{{ $x }}{{ $x = "b" }}{{ $x }})"), "ab");
  EXPECT_EQ(R(R"({{ $s := secret "secret/data/app" }}{{ $s.Data.data.user }})"), "app");
}

TEST_F(TemplateTest, TrimMarkers) {
  EXPECT_EQ(R("a  \n {{- \"b\" -}} \n  c"), "abc");
  EXPECT_EQ(R("a {{ \"b\" }} c"), "a b c");
  EXPECT_EQ(R("line1\n{{- /* gone */ -}}\nline2"), "line1line2");
  EXPECT_EQ(R("x{{/* comment */}}y"), "xy");
  EXPECT_EQ(R("{{ -3 }}"), "-3");
}

TEST_F(TemplateTest, StringEscapes) {
  EXPECT_EQ(R(R"({{ "a\tb\n\"q\"\\\u00e9\x41" }})"),
            "a\tb\n\"q\"\\\xc3\xa9"
            "A");
  EXPECT_EQ(R("{{ `raw \\n {{ }}` }}"), "raw \\n {{ }}");
  EXPECT_EQ(R(R"({{ "{{" }})"), "{{");
}

TEST_F(TemplateTest, MissingKeyRendersNoValue) {
  EXPECT_EQ(R(R"({{ with secret "secret/data/app" }}{{ .Data.data.nope }}{{ end }})"),
            "<no value>");
}

TEST_F(TemplateTest, ErrorOnMissingKeyNamesTheKeyNotValues) {
  Status s = Fails(R"({{ with secret "secret/data/app" }}{{ .Data.data.nope }}{{ end }})", true);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("\"nope\""), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos);
  // Present keys still work in strict mode.
  EXPECT_EQ(R(R"({{ with secret "secret/data/app" }}{{ .Data.data.user }}{{ end }})", true), "app");
}

TEST_F(TemplateTest, NestedMissingIsAnError) {
  EXPECT_FALSE(Fails(R"({{ with secret "secret/data/app" }}{{ .Data.x.y }}{{ end }})").ok());
}

TEST_F(TemplateTest, FetchErrorsCarryLineAndPath) {
  Status s = Fails("a\n{{ with secret \"secret/data/none\" }}x{{ end }}");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("t:2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("secret/data/none"), std::string::npos);
}

TEST_F(TemplateTest, EvaluationErrors) {
  EXPECT_FALSE(Fails(R"({{ "!!" | base64Decode }})").ok());
  EXPECT_FALSE(Fails(R"({{ nosuchfunc }})").ok());
  EXPECT_FALSE(Fails(R"({{ $undefined }})").ok());
  EXPECT_FALSE(Fails(R"({{ range "str" }}x{{ end }})").ok());
  EXPECT_FALSE(Fails(R"({{ "a".b }})").ok());
}

TEST_F(TemplateTest, SyntaxErrors) {
  for (std::string_view bad :
       {"{{ if true }}x", "{{ end }}", "{{ else }}", "{{ \"unterminated }}", "{{ x", "{{ | x }}",
        "{{ if }}x{{ end }}", "{{ define \"a\" }}{{ end }}", "{{/* open", "{{ (\"a\" }}",
        "{{ if true }}x{{ end extra }}", "{{ \"\\q\" }}"}) {
    Result<Template> t = Template::Parse(bad, "bad");
    EXPECT_FALSE(t.has_value()) << bad;
    if (!t) {
      EXPECT_EQ(t.error().code(), Code::kInvalidArgument) << bad;
    }
  }
}

TEST_F(TemplateTest, SyntaxErrorNamesLine) {
  Result<Template> t = Template::Parse("ok\nok\n{{ if true }}", "file.tmpl");
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("file.tmpl:"), std::string::npos) << t.error().message();
}

TEST_F(TemplateTest, PrintsValuesLikeGo) {
  EXPECT_EQ(R("{{ true }} {{ 1.5 }} {{ nil }}"), "true 1.5 <nil>");
  EXPECT_EQ(R(R"({{ with secret "secret/data/app" }}{{ .Data.metadata }}{{ end }})"),
            "map[version:3]");
}

}  // namespace
}  // namespace coffer::go_template
