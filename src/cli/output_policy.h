#pragma once
// -output-policy: instead of sending a command's request, print the policy
// that request needs, as Vault's CLI does:
//
//   path "secret/data/app" {
//     capabilities = ["create", "update"]
//   }
//
// The capabilities follow the method (GET read; PUT and POST create and
// update; PATCH patch; DELETE delete; LIST, or GET with ?list=true, list;
// SCAN scan), plus "sudo" on a sudo-protected path (policy::IsSudoPath).

#include <string>

#include "cli/http_client.h"
#include "common/status.h"

namespace coffer::cli {

// The policy for a captured request. Errors: kInvalidArgument when the
// request's "list" parameter is not a boolean.
Result<std::string> SamplePolicy(const RequestCapture& request);

}  // namespace coffer::cli
