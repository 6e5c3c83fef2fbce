// What a database configuration's read shows of its connection string:
// passwords become xxxxx, the {{password}} placeholder stays as written.
#include <gtest/gtest.h>

#include "engines/database/pg.h"
#include "engines/database/records.h"

namespace coffer::engines::database {
namespace {

TEST(RedactConnectionStringTest, PasswordsAreHiddenAndThePlaceholderIsShown) {
  EXPECT_EQ(RedactConnectionString("postgresql://admin:s3cret@127.0.0.1:5432/postgres"),
            "postgresql://admin:xxxxx@127.0.0.1:5432/postgres");
  EXPECT_EQ(RedactConnectionString("host=db user=admin password=s3cret dbname=x"),
            "host=db user=admin password=xxxxx dbname=x");
  EXPECT_EQ(RedactConnectionString("host=db password='a b\\'c' dbname=x"),
            "host=db password=xxxxx dbname=x");
  // The placeholder the engine fills in is no secret: shown as written, as
  // Vault shows it (clients compare the read with what they wrote).
  for (std::string_view templated :
       {"postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres",
        "host=db user={{username}} password={{password}} dbname=x",
        "host=db password='{{password}}' dbname=x"}) {
    EXPECT_EQ(RedactConnectionString(templated), templated);
  }
  // Anything else beside it is still hidden.
  EXPECT_EQ(RedactConnectionString("postgresql://{{username}}:{{password}}x@h/d"),
            "postgresql://{{username}}:xxxxx@h/d");
  EXPECT_EQ(RedactConnectionString("password={{password}} password=real"),
            "password={{password}} password=xxxxx");
}

// The spellings libpq reads that the text's own redaction does not know:
// spaces around '=', a percent-encoded key in a URI's query.
TEST(RedactConnectionStringTest, EverySpellingLibpqReadsIsHidden) {
  for (const char* url : {"host=db user=admin password = s3cret-pw dbname=x",
                          "host=db password= 's3cret-pw' dbname=x",
                          "postgresql://admin@127.0.0.1/db?%70assword=s3cret-pw",
                          "postgresql://admin@127.0.0.1/db?sslmode=disable&password=s3cret-pw"}) {
    const std::string shown = RedactConninfoPassword(url);
    EXPECT_EQ(shown.find("s3cret"), std::string::npos) << url << " -> " << shown;
    EXPECT_NE(shown.find("xxxxx"), std::string::npos) << shown;
  }
  EXPECT_EQ(RedactConninfoPassword("host=db password={{password}}"),
            "host=db password={{password}}");
}

}  // namespace
}  // namespace coffer::engines::database
