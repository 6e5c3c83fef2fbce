// roles/:name and creds/:name: dynamic credentials.

#include <algorithm>

#include "crypto/random.h"
#include "engines/database/backend.h"

namespace coffer::engines::database {
namespace {

constexpr std::int64_t kDefaultTtl = 768 * 3600;  // the system default lease

// Keeps [A-Za-z0-9_-], replaces anything else by '-', at most `n` chars.
std::string Sanitize(std::string_view s, std::size_t n) {
  std::string out;
  for (char c : s.substr(0, n)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    out.push_back(ok ? c : '-');
  }
  return out;
}

Result<std::string> RandomAlnum(std::size_t n) {
  static constexpr std::string_view kChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  while (out.size() < n) {
    ASSIGN_OR_RETURN(std::string bytes, crypto::RandomString(n * 2));
    for (char b : bytes) {
      auto u = static_cast<unsigned char>(b);
      if (u < 248 && out.size() < n) out.push_back(kChars[u % 62]);  // 248 = 4 * 62
    }
  }
  return out;
}

}  // namespace

Result<Response> DatabaseBackend::RolePath(const Request& request, const std::string& name) {
  using logical::Operation;
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto role, LoadRole(name));
      if (!role) return logical::NotFoundResponse();
      Response r;
      r.data = RoleToJson(*role);
      return r;
    }
    case Operation::kDelete:
      TRY(storage_.Delete("role/" + name));
      return logical::NoContent();
    case Operation::kCreate:
    case Operation::kUpdate: {
      ASSIGN_OR_RETURN(auto existing, LoadRole(name));
      Role role = existing ? std::move(*existing) : Role{};
      TRY(ApplyRoleFields(request, role));
      TRY(storage_.Put("role/" + name, EncodeRole(role)));
      return logical::NoContent();
    }
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> DatabaseBackend::CredsPath(const Request& request, const std::string& name) {
  if (request.operation != logical::Operation::kRead) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto role, LoadRole(name));
  if (!role) return Err(InvalidArgument("unknown role: " + name));
  ASSIGN_OR_RETURN(auto config, LoadConfig(role->db_name));
  if (!config) return Err(InvalidArgument("no database config named " + role->db_name));
  if (!config->AllowsRole(name)) {
    return Err(InvalidArgument("\"" + name + "\" is not an allowed role"));
  }
  // Vault's PostgreSQL username template:
  // v-{{display_name|truncate 8}}-{{role|truncate 8}}-{{random 20}}-{{unix_time}}, at most 63.
  std::string display = request.auth ? request.auth->display_name : "";
  if (display.empty()) display = "token";
  ASSIGN_OR_RETURN(std::string random, RandomAlnum(20));
  const std::int64_t now = NowUnix();
  std::string username = "v-" + Sanitize(display, 8) + "-" + Sanitize(name, 8) + "-" + random +
                         "-" + std::to_string(now);
  if (username.size() > 63) username.resize(63);
  ASSIGN_OR_RETURN(SecretBytes password, GeneratePassword(config->password_policy));
  std::int64_t ttl = role->default_ttl > 0 ? role->default_ttl : kDefaultTtl;
  if (role->max_ttl > 0) ttl = std::min(ttl, role->max_ttl);
  TemplateValues values{{"name", username},
                        {"username", username},
                        {"password", std::string(password.view())},
                        {"expiration", PgExpiration(now + ttl)}};
  Status created = RunStatements(role->db_name, role->creation_statements, values);
  if (!created.ok() && !role->rollback_statements.empty()) {
    Status rb = RunStatements(role->db_name, role->rollback_statements, values);
    (void)rb;
  }
  WipeString(values["password"]);
  TRY(created);
  Response r;
  r.data = Json{{"username", username}, {"password", std::string(password.view())}};
  logical::SecretInfo secret;
  secret.ttl = role->default_ttl;
  secret.max_ttl = role->max_ttl;
  secret.renewable = true;
  secret.internal = Json{{"username", username}, {"role", name}, {"db_name", role->db_name}};
  r.secret = std::move(secret);
  return r;
}

}  // namespace coffer::engines::database
