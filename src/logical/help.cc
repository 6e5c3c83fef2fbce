#include "logical/help.h"

#include <fmt/format.h>

namespace coffer::logical {

namespace {

// One placeholder at the start of `pattern` ("{name}", "{name*}",
// "{name+}"): its length in the pattern, its name and kind ('\0', '*', '+').
struct Placeholder {
  std::size_t length = 0;
  std::string_view name;
  char kind = '\0';
};

Placeholder ReadPlaceholder(std::string_view pattern) {
  Placeholder p;
  if (!pattern.starts_with('{')) return p;
  const std::size_t close = pattern.find('}');
  if (close == std::string_view::npos) return p;
  p.length = close + 1;
  p.name = pattern.substr(1, close - 1);
  if (p.name.ends_with('*') || p.name.ends_with('+')) {
    p.kind = p.name.back();
    p.name.remove_suffix(1);
  }
  return p;
}

bool Match(std::string_view pattern, std::string_view path) {
  while (!pattern.empty()) {
    const Placeholder p = ReadPlaceholder(pattern);
    if (p.length == 0) {
      if (path.empty() || path.front() != pattern.front()) return false;
      pattern.remove_prefix(1);
      path.remove_prefix(1);
      continue;
    }
    pattern.remove_prefix(p.length);
    if (p.kind != '\0') {
      // The rest of the path, or as much of it as leaves what follows in
      // the pattern ("mounts/{path+}/tune") something to match.
      for (std::size_t n = p.kind == '+' ? 1 : 0; n <= path.size(); ++n) {
        if (Match(pattern, path.substr(n))) return true;
      }
      return false;
    }
    // One segment, not empty; what follows it in the pattern must match the
    // rest of the path.
    const std::size_t end = path.find('/');
    const std::size_t n = end == std::string_view::npos ? path.size() : end;
    if (n == 0) return false;
    path.remove_prefix(n);
  }
  return path.empty();
}

}  // namespace

bool MatchesRoute(std::string_view pattern, std::string_view relative_path) {
  if (Match(pattern, relative_path)) return true;
  if (relative_path.ends_with('/')) {
    return Match(pattern, relative_path.substr(0, relative_path.size() - 1));
  }
  // A folder named without its '/' ("metadata" for "metadata/{path*}").
  return Match(pattern, std::string(relative_path) + "/");
}

std::string RouteRegex(std::string_view pattern) {
  std::string out = "^";
  while (!pattern.empty()) {
    const Placeholder p = ReadPlaceholder(pattern);
    if (p.length == 0) {
      out.push_back(pattern.front());
      pattern.remove_prefix(1);
      continue;
    }
    const char* body = p.kind == '*' ? ".*" : p.kind == '+' ? ".+" : "[^/]+";
    out += fmt::format("(?P<{}>{})", p.name, body);
    pattern.remove_prefix(p.length);
  }
  out.push_back('$');
  return out;
}

Result<Response> RenderHelp(const EngineHelp& help, std::string_view relative_path) {
  std::string text;
  if (relative_path.empty()) {
    text = fmt::format("## DESCRIPTION\n\n{}\n\n## PATHS\n\n", help.description);
    text +=
        "The following paths are supported by this backend. To view help for\n"
        "any of the paths below, use the help command with any route matching\n"
        "the path pattern. Note that depending on the policy of your auth token,\n"
        "you may or may not be able to access certain paths.\n\n";
    for (const RouteHelp& route : help.routes) {
      text += fmt::format("    {}\n        {}\n\n", RouteRegex(route.pattern), route.synopsis);
    }
  } else {
    const RouteHelp* found = nullptr;
    for (const RouteHelp& route : help.routes) {
      if (MatchesRoute(route.pattern, relative_path)) {
        found = &route;
        break;
      }
    }
    if (found == nullptr) return Err(NotFound("unsupported path"));
    text = fmt::format("Request:        {}\nMatching Route: {}\n\n{}\n", relative_path,
                       RouteRegex(found->pattern), found->synopsis);
    if (!found->description.empty()) {
      text += fmt::format("\n## DESCRIPTION\n\n{}\n", found->description);
    }
  }
  while (text.ends_with("\n\n")) text.pop_back();
  Response r;
  r.raw = Json{{"help", std::move(text)}, {"see_also", nullptr}};
  return r;
}

}  // namespace coffer::logical
