#pragma once
// Checks shared by the path-help tests of each engine (logical/help.h): a
// table is well formed when every route has a one-line synopsis and a
// description, the overview lists every route, and a path made from each
// route's pattern renders with that route (no earlier route hides it).

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "logical/help.h"

namespace coffer::logical::testing {

// A path the route `pattern` stands for: "{x}" becomes "a", "{x*}" and
// "{x+}" become "a/b".
inline std::string SamplePath(std::string_view pattern) {
  std::string out;
  while (!pattern.empty()) {
    if (pattern.front() != '{') {
      out.push_back(pattern.front());
      pattern.remove_prefix(1);
      continue;
    }
    const std::size_t close = pattern.find('}');
    const char kind = pattern[close - 1];
    out += kind == '*' || kind == '+' ? "a/b" : "a";
    pattern.remove_prefix(close + 1);
  }
  return out;
}

// The help text for `path`; "" (and a test failure) when there is none.
inline std::string HelpTextOf(const EngineHelp& help, std::string_view path) {
  auto r = RenderHelp(help, path);
  EXPECT_TRUE(r.has_value()) << path << ": " << r.error().ToString();
  if (!r.has_value() || !r->raw) return "";
  return r->raw->at("help").get<std::string>();
}

inline std::string MatchingRoute(std::string_view pattern) {
  return "Matching Route: " + RouteRegex(pattern) + "\n";
}

inline void ExpectWellFormedTable(const EngineHelp& help) {
  EXPECT_FALSE(help.description.empty());
  ASSERT_FALSE(help.routes.empty());
  const std::string overview = HelpTextOf(help, "");
  EXPECT_TRUE(overview.starts_with("## DESCRIPTION\n\n" + std::string(help.description)))
      << overview;
  EXPECT_NE(overview.find("## PATHS"), std::string::npos);
  for (const RouteHelp& route : help.routes) {
    EXPECT_FALSE(route.synopsis.empty()) << route.pattern;
    EXPECT_EQ(route.synopsis.find('\n'), std::string_view::npos) << route.pattern;
    EXPECT_FALSE(route.description.empty()) << route.pattern;
    EXPECT_FALSE(route.description.ends_with('\n')) << route.pattern;
    const std::string listed =
        "    " + RouteRegex(route.pattern) + "\n        " + std::string(route.synopsis) + "\n";
    EXPECT_NE(overview.find(listed), std::string::npos) << route.pattern;
    const std::string path = SamplePath(route.pattern);
    EXPECT_NE(HelpTextOf(help, path).find(MatchingRoute(route.pattern)), std::string::npos)
        << path << " does not reach " << route.pattern;
  }
}

}  // namespace coffer::logical::testing
