#pragma once
// Which type of token to issue, by Vault's rules.
//
// Type names: "service", "batch", and for roles and auth mounts also
// "default-service", "default-batch" and "default" (the mount decides; on a
// mount it means default-service). Pure functions; thread-safe.

#include <string_view>

#include "common/status.h"

namespace coffer::token {

// auth/token/create[/:role]: `requested` is the request's `type` ("" when
// absent), `role_type` the role's token_type ("" without a role). A role's
// "service"/"batch" overrides the request; its "default-*" only fills in an
// absent type. true = batch. kInvalidArgument for unknown values.
Result<bool> ResolveCreateType(std::string_view requested, std::string_view role_type);

// A login: `role_type` is what the auth method's role/user says (TokenFields
// token_type), `mount_type` the auth mount's tuned token_type ("" = default).
// A mount's "service"/"batch" overrides the role; "default-service"
// (default) issues batch only for a role saying batch/default-batch;
// "default-batch" issues service only for a role saying
// service/default-service. true = batch.
bool ResolveLoginType(std::string_view role_type, std::string_view mount_type);

}  // namespace coffer::token
