// sys/config/cors: Vault's API over core::Cors (cors.h).
//
//   GET    {enabled, allowed_origins, allowed_headers, allow_credentials}
//   POST   {allowed_origins (list or comma-separated), allowed_headers,
//           allow_credentials}: turns CORS on with those
//   DELETE turns it off and forgets the lists

#include "core/core.h"
#include "core/system_backend.h"
#include "token/token_params.h"

namespace coffer::core {

using logical::Json;
using logical::Operation;

Result<logical::Response> SystemBackend::CorsConfig(const logical::Request& request) {
  Cors& cors = core_.cors();
  logical::Response r;
  switch (request.operation) {
    case Operation::kRead: {
      Cors::Settings s = cors.Current();
      r.data = Json{{"enabled", s.enabled}};
      if (s.enabled) {
        r.data["allowed_origins"] = s.allowed_origins;
        r.data["allowed_headers"] = s.allowed_headers;
        r.data["allow_credentials"] = s.allow_credentials;
      }
      // Also at the top level, as Vault answers it (injectDataIntoTopRoutes).
      return LegacyResponse(request, std::move(r.data));
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      ASSIGN_OR_RETURN(auto origins, token::params::List(request, "allowed_origins"));
      ASSIGN_OR_RETURN(auto headers, token::params::List(request, "allowed_headers"));
      ASSIGN_OR_RETURN(auto credentials, token::params::Bool(request, "allow_credentials"));
      TRY(cors.Enable(core_.barrier(), origins.value_or(std::vector<std::string>{}),
                      headers.value_or(std::vector<std::string>{}), credentials.value_or(false)));
      return r;
    }
    case Operation::kDelete:
      TRY(cors.Disable(core_.barrier()));
      return r;
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

}  // namespace coffer::core
