#include "token/token_type.h"

#include <string>

namespace coffer::token {

Result<bool> ResolveCreateType(std::string_view requested, std::string_view role_type) {
  std::string type(requested);
  if (role_type == "service" || role_type == "batch") {
    type = std::string(role_type);
  } else if (role_type == "default-batch") {
    if (type.empty()) type = "batch";
  } else if (!role_type.empty() && role_type != "default-service" && role_type != "default") {
    return Err(InvalidArgument("role being used for token creation contains invalid token type \"" +
                               std::string(role_type) + "\""));
  }
  if (type.empty() || type == "service") return false;
  if (type == "batch") return true;
  return Err(InvalidArgument("invalid 'token_type' value"));
}

bool ResolveLoginType(std::string_view role_type, std::string_view mount_type) {
  if (mount_type == "service") return false;
  if (mount_type == "batch") return true;
  if (mount_type == "default-batch") {
    return !(role_type == "service" || role_type == "default-service");
  }
  return role_type == "batch" || role_type == "default-batch";
}

}  // namespace coffer::token
