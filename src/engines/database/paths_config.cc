// config/:name, reset/:name, rotate-root/:name.

#include "engines/database/backend.h"

namespace coffer::engines::database {
namespace {

bool IsWrite(logical::Operation op) {
  return op == logical::Operation::kCreate || op == logical::Operation::kUpdate;
}

}  // namespace

Result<Response> DatabaseBackend::ConfigPath(const Request& request, const std::string& name) {
  using logical::Operation;
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto config, LoadConfig(name));
    if (!config) return logical::NotFoundResponse();
    Response r;
    r.data = ConfigToPublicJson(*config);
    return r;
  }
  if (request.operation == Operation::kDelete) {
    TRY(storage_.Delete("config/" + name));
    DropPool(name);
    return logical::NoContent();
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  // Under the rotation lock, as rotate-root reads, changes and stores the
  // same record: neither may store over the other's change (a restriction
  // of allowed_roles undone, or the new root password lost).
  std::scoped_lock lock(rotate_mu_);
  ASSIGN_OR_RETURN(auto existing, LoadConfig(name));
  DbConfig config = existing ? std::move(*existing) : DbConfig{};
  TRY(ApplyConfigFields(request, config));
  if (config.verify_connection) {
    ConnectionParams params{config.connection_url, config.username, config.password.Clone(), 1};
    auto conn = PgConnection::Connect(params);
    if (!conn) {
      return Err(InvalidArgument("error creating database object: error verifying connection: " +
                                 conn.error().message()));
    }
    Status s = (*conn)->Exec("SELECT 1");
    if (!s.ok()) return Err(InvalidArgument("error verifying connection: " + s.message()));
  }
  std::string record = EncodeConfig(config);
  Status s = storage_.Put("config/" + name, record);
  WipeString(record);
  TRY(s);
  DropPool(name);
  return logical::NoContent();
}

Result<Response> DatabaseBackend::ResetPath(const Request& request, const std::string& name) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto config, LoadConfig(name));
  if (!config) return Err(InvalidArgument("no database config named " + name));
  DropPool(name);
  return logical::NoContent();
}

Result<Response> DatabaseBackend::RotateRootPath(const Request& request, const std::string& name) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  std::scoped_lock lock(rotate_mu_);
  ASSIGN_OR_RETURN(auto config, LoadConfig(name));
  if (!config) return Err(InvalidArgument("no database config named " + name));
  if (config->username.empty()) {
    return Err(InvalidArgument("rotate-root needs the config's username"));
  }
  ASSIGN_OR_RETURN(SecretBytes password, GeneratePassword(config->password_policy));
  std::vector<std::string> statements = config->root_rotation_statements;
  if (statements.empty()) statements = DefaultRotationStatements();
  TemplateValues values{{"name", config->username},
                        {"username", config->username},
                        {"password", std::string(password.view())}};
  Status ran = RunStatements(name, statements, values);
  WipeString(values["password"]);
  TRY(ran);
  // From here on only the new password works: store it at once.
  config->password = std::move(password);
  std::string record = EncodeConfig(*config);
  Status s = storage_.Put("config/" + name, record);
  WipeString(record);
  DropPool(name);
  if (!s.ok()) {
    return Err(Internal("rotate-root: the database password changed but could not be stored"));
  }
  return logical::NoContent();
}

}  // namespace coffer::engines::database
