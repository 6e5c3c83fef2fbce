// Path help for the cubbyhole engine (logical/help.h).

#include "engines/cubbyhole/cubbyhole.h"

namespace coffer::engines::cubbyhole {

namespace {

constexpr std::string_view kDescription =
    "The cubbyhole engine gives every token a private place for secrets: a\n"
    "token reads and writes only its own cubbyhole, not even the root token\n"
    "sees another's, and a cubbyhole is destroyed with its token. Response\n"
    "wrapping keeps wrapped responses in the wrapping token's cubbyhole. It\n"
    "is mounted at cubbyhole/ and cannot be moved or disabled.";

constexpr logical::RouteHelp kRoutes[] = {
    {"{path*}", "Read, write, delete and list secrets in the caller's cubbyhole.",
     "GET reads the secret at the path; PUT or POST stores the request's JSON\n"
     "object there; DELETE removes it; LIST on a folder answers the keys below\n"
     "it. Only the calling token's own cubbyhole is reached."},
};

}  // namespace

logical::EngineHelp CubbyholeBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::engines::cubbyhole
