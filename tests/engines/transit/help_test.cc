#include "logical/help.h"

#include <gtest/gtest.h>

#include <string>

#include "help_test_util.h"
#include "transit_test_util.h"

namespace coffer::engines::transit::testing {
namespace {

class TransitHelpTest : public TransitTest {
 protected:
  // The help text for `path`, or "" (with a test failure) when there is none.
  std::string HelpText(std::string_view path) {
    return logical::testing::HelpTextOf(backend().Help(), path);
  }
};

TEST_F(TransitHelpTest, DescribesTheEngineAndItsRoutes) {
  const logical::EngineHelp help = backend().Help();
  EXPECT_NE(help.description.find("transit"), std::string_view::npos);
  logical::testing::ExpectWellFormedTable(help);
}

TEST_F(TransitHelpTest, NamedKey) {
  const std::string text = HelpText("keys/my-key");
  EXPECT_NE(text.find("Request:        keys/my-key\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Matching Route: ^keys/(?P<name>[^/]+)$\n"), std::string::npos) << text;
  EXPECT_NE(text.find("## DESCRIPTION"), std::string::npos) << text;
  EXPECT_NE(text.find("deletion_allowed"), std::string::npos) << text;
}

TEST_F(TransitHelpTest, NestedRouteMatchesItself) {
  const std::string text = HelpText("keys/k/rotate");
  EXPECT_NE(text.find("Matching Route: ^keys/(?P<name>[^/]+)/rotate$\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("Matching Route: ^keys/(?P<name>[^/]+)$"), std::string::npos) << text;
  EXPECT_NE(HelpText("sign/k/sha2-512")
                .find("Matching Route: ^sign/(?P<name>[^/]+)/"
                      "(?P<algorithm>[^/]+)$"),
            std::string::npos);
  EXPECT_NE(HelpText("keys/").find("Matching Route: ^keys$"), std::string::npos);
}

TEST_F(TransitHelpTest, UnknownPathIsNotFound) {
  for (std::string_view path : {"nope/x", "keys/k/unknown", "encrypt/k/extra", "datakey/k"}) {
    auto r = logical::RenderHelp(backend().Help(), path);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code(), Code::kNotFound) << path;
  }
}

}  // namespace
}  // namespace coffer::engines::transit::testing
