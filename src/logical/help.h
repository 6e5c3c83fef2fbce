#pragma once
// Path help: the answer to Vault's help operation (`GET /v1/<path>?help=1`,
// the HELP method, `coffer path-help`, node-vault's help()). Each engine
// describes itself and its routes in a table (Backend::Help); the text is
// rendered here in Vault's layout, so clients that print it show what their
// users expect. Vault generates it from its route framework; Coffer's
// engines dispatch by hand, so the tables are written next to them.

#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "logical/request.h"

namespace coffer::logical {

struct RouteHelp {
  // The route, relative to the mount: literal text, `{name}` for one path
  // segment, `{name*}` for the rest of the path (possibly empty) and
  // `{name+}` for a non-empty rest. Shown as Vault writes routes:
  // "data/{path+}" as "^data/(?P<path>.+)$".
  std::string_view pattern;
  std::string_view synopsis;     // one line
  std::string_view description;  // what each operation does there; may be empty
};

struct EngineHelp {
  std::string_view description;  // the engine as a whole: what it is for
  std::span<const RouteHelp> routes;
};

// Whether `relative_path` matches `pattern` (RouteHelp's syntax). A path's
// trailing '/' is optional both ways: "keys/" matches "keys", and
// "metadata" matches "metadata/{path*}".
bool MatchesRoute(std::string_view pattern, std::string_view relative_path);

// `pattern` as Vault shows a route: "^data/(?P<path>.+)$".
std::string RouteRegex(std::string_view pattern);

// The answer to a help request for `relative_path` under a mount (Vault's
// body, without the envelope: {"help": ..., "see_also": null}): the engine's
// overview with its routes for the mount itself (""), the first matching
// route's help otherwise, kNotFound when none matches.
Result<Response> RenderHelp(const EngineHelp& help, std::string_view relative_path);

}  // namespace coffer::logical
