#include "engines/database/sql_template.h"

#include <gtest/gtest.h>

#include "engines/database/pg.h"

namespace coffer::engines::database {
namespace {

// libpq's own escaping functions, on a connection object that never
// connected (as the engine uses them on a live one).
class SqlTemplateTest : public ::testing::Test {
 protected:
  std::unique_ptr<PgConnection> quoter_ = PgConnection::ForEscapingOnly();

  std::string Render(std::string_view statement, const TemplateValues& values) {
    auto r = RenderStatement(statement, values, *quoter_);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? *r : "";
  }
};

TEST_F(SqlTemplateTest, QuotedTokensAreReplacedWhole) {
  EXPECT_EQ(Render("CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                   "'{{expiration}}';",
                   {{"name", "v-root-ro-abc"}, {"password", "pw"}, {"expiration", "2030-01-01"}}),
            "CREATE ROLE \"v-root-ro-abc\" WITH LOGIN PASSWORD 'pw' VALID UNTIL '2030-01-01';");
}

TEST_F(SqlTemplateTest, BarePlaceholdersAreQuotedByKind) {
  EXPECT_EQ(Render("GRANT SELECT ON t TO {{name}}; ALTER ROLE {{username}} PASSWORD {{password}}",
                   {{"name", "a"}, {"username", "b"}, {"password", "c"}}),
            "GRANT SELECT ON t TO \"a\"; ALTER ROLE \"b\" PASSWORD 'c'");
}

TEST_F(SqlTemplateTest, SingleQuotedNameIsALiteral) {
  EXPECT_EQ(Render("SELECT 1 FROM pg_roles WHERE rolname = '{{name}}'", {{"name", "x'y"}}),
            "SELECT 1 FROM pg_roles WHERE rolname = 'x''y'");
}

TEST_F(SqlTemplateTest, InjectionInIdentifierStaysInsideTheIdentifier) {
  std::string evil = "\"; DROP ROLE x; --";
  std::string out = Render("CREATE ROLE \"{{name}}\";", {{"name", evil}});
  EXPECT_EQ(out, "CREATE ROLE \"\"\"; DROP ROLE x; --\";");
}

TEST_F(SqlTemplateTest, InjectionInLiteralStaysInsideTheLiteral) {
  std::string out = Render("ALTER ROLE \"{{name}}\" PASSWORD '{{password}}';",
                           {{"name", "u"}, {"password", "'; DROP ROLE postgres; --"}});
  EXPECT_EQ(out, "ALTER ROLE \"u\" PASSWORD '''; DROP ROLE postgres; --';");
}

TEST_F(SqlTemplateTest, BackslashesAreEscaped) {
  std::string out = Render("ALTER ROLE u PASSWORD '{{password}}'", {{"password", "a\\'b"}});
  // Without a live connection libpq assumes standard_conforming_strings off
  // and writes an E'' literal with the backslash doubled.
  EXPECT_EQ(out, "ALTER ROLE u PASSWORD  E'a\\\\''b'");
}

TEST_F(SqlTemplateTest, SemicolonsAndCommentsInValuesAreInert) {
  std::string out = Render("CREATE ROLE {{name}}", {{"name", "a;b--c/*d*/"}});
  EXPECT_EQ(out, "CREATE ROLE \"a;b--c/*d*/\"");
}

TEST_F(SqlTemplateTest, PlaceholderInsideALongerStringIsRefused) {
  for (std::string_view s : {"SELECT 'x{{name}}'", "SELECT '{{name}}x'", "SELECT \"a{{name}}\"",
                             "DO $$ BEGIN EXECUTE '{{name}}'; END $$", "SELECT 1 -- {{name}}",
                             "SELECT 1 /* {{password}} */"}) {
    auto r = RenderStatement(s, {{"name", "n"}, {"password", "p"}}, *quoter_);
    EXPECT_FALSE(r.has_value()) << s;
  }
}

TEST_F(SqlTemplateTest, UnknownOrMissingVariablesAreRefused) {
  EXPECT_FALSE(RenderStatement("SELECT {{evil}}", {{"name", "n"}}, *quoter_).has_value());
  EXPECT_FALSE(RenderStatement("SELECT {{password}}", {{"name", "n"}}, *quoter_).has_value());
  EXPECT_FALSE(RenderStatement("SELECT {{name", {{"name", "n"}}, *quoter_).has_value());
}

TEST_F(SqlTemplateTest, ErrorsNeverQuoteValues) {
  auto r = RenderStatement("SELECT 'x{{password}}'", {{"password", "hunter2-secret"}}, *quoter_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().find("hunter2"), std::string::npos);
}

TEST_F(SqlTemplateTest, TextOutsidePlaceholdersIsCopied) {
  EXPECT_EQ(Render("SELECT 'it''s', \"we\"\"ird\", $1, $tag$ body $tag$; -- note\n{{name}}",
                   {{"name", "n"}}),
            "SELECT 'it''s', \"we\"\"ird\", $1, $tag$ body $tag$; -- note\n\"n\"");
}

TEST_F(SqlTemplateTest, NulBytesAreRefused) {
  std::string nul("a\0b", 3);
  EXPECT_FALSE(RenderStatement("CREATE ROLE {{name}}", {{"name", nul}}, *quoter_).has_value());
}

}  // namespace
}  // namespace coffer::engines::database
