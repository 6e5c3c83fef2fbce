#include "engines/database/backend.h"

#include <chrono>
#include <mutex>

#include "common/log.h"
#include "logical/registry.h"

namespace coffer::engines::database {
namespace {

// "roles/x" → {"roles", "x"}; "roles" and "roles/" → {"roles", ""}.
std::pair<std::string, std::string> SplitPath(std::string_view p) {
  auto slash = p.find('/');
  if (slash == std::string_view::npos) return {std::string(p), ""};
  return {std::string(p.substr(0, slash)), std::string(p.substr(slash + 1))};
}

// Vault's PostgreSQL expiration format: "2006-01-02 15:04:05-0700", in UTC.
std::string PgTime(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S+0000", &tm);
  return buf;
}

}  // namespace

std::vector<std::string> DefaultRenewStatements() {
  return {"ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}';"};
}

std::vector<std::string> DefaultRotationStatements() {
  return {"ALTER ROLE \"{{name}}\" WITH PASSWORD '{{password}}';"};
}

DatabaseBackend::DatabaseBackend(const logical::BackendConfig& config, DatabaseOptions options)
    : storage_(config.storage),
      clock_(config.clock),
      generate_password_(config.generate_password),
      options_(options) {}

DatabaseBackend::~DatabaseBackend() {
  {
    std::scoped_lock lock(thread_mu_);
    stopping_ = true;
  }
  thread_cv_.notify_all();
  if (rotation_thread_.joinable()) rotation_thread_.join();
  std::scoped_lock lock(mu_);
  for (auto& [name, pool] : pools_) pool->Close();
  pools_.clear();
}

Status DatabaseBackend::Initialize() {
  {
    std::scoped_lock lock(mu_);
    for (auto& [name, pool] : pools_) pool->Close();
    pools_.clear();
  }
  if (options_.rotation_thread && !rotation_thread_.joinable()) {
    rotation_thread_ = std::thread([this] { RotationLoop(); });
  }
  return Status::Ok();
}

std::int64_t DatabaseBackend::NowUnix() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
}

Result<Response> DatabaseBackend::HandleRequest(const Request& request) {
  auto [kind, name] = SplitPath(request.relative_path);
  if (!name.empty() && name.back() == '/') name.pop_back();
  const bool list = request.operation == logical::Operation::kList;
  if (list) {
    if (!name.empty()) return Err(NotFound("unsupported path"));
    const char* prefix = kind == "config"         ? "config/"
                         : kind == "roles"        ? "role/"
                         : kind == "static-roles" ? "static-role/"
                                                  : nullptr;
    if (prefix == nullptr) return Err(NotFound("unsupported path"));
    ASSIGN_OR_RETURN(auto keys, ListKeys(prefix));
    if (keys.empty()) return logical::NotFoundResponse();
    Response r;
    r.data = Json{{"keys", keys}};
    return r;
  }
  if (name.empty()) return Err(NotFound("unsupported path"));
  TRY(ValidateName(name, "name"));
  if (kind == "config") return ConfigPath(request, name);
  if (kind == "reset") return ResetPath(request, name);
  if (kind == "rotate-root") return RotateRootPath(request, name);
  if (kind == "roles") return RolePath(request, name);
  if (kind == "creds") return CredsPath(request, name);
  if (kind == "static-roles") return StaticRolePath(request, name);
  if (kind == "static-creds") return StaticCredsPath(request, name);
  if (kind == "rotate-role") return RotateRolePath(request, name);
  return Err(NotFound("unsupported path"));
}

Result<bool> DatabaseBackend::ExistenceCheck(const Request& request) {
  auto [kind, name] = SplitPath(request.relative_path);
  std::string key;
  if (kind == "config") key = "config/" + name;
  if (kind == "roles") key = "role/" + name;
  if (kind == "static-roles") key = "static-role/" + name;
  if (key.empty() || name.empty()) return true;
  ASSIGN_OR_RETURN(auto entry, storage_.Get(key));
  return entry.has_value();
}

Result<std::vector<std::string>> DatabaseBackend::ListKeys(std::string_view prefix) {
  ASSIGN_OR_RETURN(auto keys, storage_.List(prefix));
  std::erase_if(keys, [](const std::string& k) { return k.ends_with('/'); });
  return keys;
}

Result<std::optional<DbConfig>> DatabaseBackend::LoadConfig(const std::string& name) {
  ASSIGN_OR_RETURN(auto entry, storage_.Get("config/" + name));
  if (!entry) return std::optional<DbConfig>();
  ASSIGN_OR_RETURN(DbConfig c, DecodeConfig(entry->value));
  WipeString(entry->value);
  return std::optional<DbConfig>(std::move(c));
}

Result<std::optional<Role>> DatabaseBackend::LoadRole(const std::string& name) {
  ASSIGN_OR_RETURN(auto entry, storage_.Get("role/" + name));
  if (!entry) return std::optional<Role>();
  ASSIGN_OR_RETURN(Role r, DecodeRole(entry->value));
  return std::optional<Role>(std::move(r));
}

Result<std::optional<StaticRole>> DatabaseBackend::LoadStaticRole(const std::string& name) {
  ASSIGN_OR_RETURN(auto entry, storage_.Get("static-role/" + name));
  if (!entry) return std::optional<StaticRole>();
  ASSIGN_OR_RETURN(StaticRole r, DecodeStaticRole(entry->value));
  WipeString(entry->value);
  return std::optional<StaticRole>(std::move(r));
}

Result<std::shared_ptr<PgPool>> DatabaseBackend::Pool(const std::string& name) {
  {
    std::scoped_lock lock(mu_);
    auto it = pools_.find(name);
    if (it != pools_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto config, LoadConfig(name));
  if (!config) return Err(InvalidArgument("no database config named " + name));
  auto pool = std::make_shared<PgPool>(ConnectionParams{config->connection_url, config->username,
                                                        std::move(config->password),
                                                        config->max_open_connections});
  std::scoped_lock lock(mu_);
  auto [it, inserted] = pools_.emplace(name, pool);
  return it->second;
}

void DatabaseBackend::DropPool(const std::string& name) {
  std::shared_ptr<PgPool> old;
  {
    std::scoped_lock lock(mu_);
    auto it = pools_.find(name);
    if (it == pools_.end()) return;
    old = std::move(it->second);
    pools_.erase(it);
  }
  old->Close();
}

Status DatabaseBackend::RunStatements(const std::string& db_name,
                                      const std::vector<std::string>& statements,
                                      const TemplateValues& values) {
  Status last;
  // A pooled connection may have died since its last use: a retry on a
  // fresh one. Concurrent GRANTs on one object can fail with "tuple
  // concurrently updated" (PostgreSQL updates the object's ACL row in
  // place): the transaction rolled back, so it is retried as well.
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<PgPool> pool, Pool(db_name));
    ASSIGN_OR_RETURN(PgPool::Handle conn, pool->Acquire());
    std::string sql = "BEGIN;\n";
    for (const auto& s : statements) {
      ASSIGN_OR_RETURN(std::string rendered, RenderStatement(s, values, *conn));
      sql += rendered;
      sql += "\n;\n";
      WipeString(rendered);
    }
    sql += "COMMIT;";
    last = conn->Exec(sql);
    WipeString(sql);
    if (last.ok()) return last;
    const bool transient = last.code() == Code::kUnavailable ||
                           last.message().find("concurrently updated") != std::string::npos ||
                           last.message().find("deadlock detected") != std::string::npos;
    if (!transient) return last;
  }
  return last;
}

Result<SecretBytes> DatabaseBackend::GeneratePassword(const std::string& policy) {
  if (!generate_password_) return Err(Unsupported("no password generator available"));
  return generate_password_(policy);
}

Status DatabaseBackend::RevokeSecret(const logical::SecretLease& lease) {
  std::string username = lease.internal.value("username", "");
  std::string db_name = lease.internal.value("db_name", "");
  std::string role_name = lease.internal.value("role", "");
  if (username.empty() || db_name.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto config, LoadConfig(db_name));
  if (!config) {
    // The user may still exist in the database: keep the lease (expiry
    // retries it with backoff) until the config is back or an operator
    // drops the lease on purpose, as Vault does.
    return InvalidArgument("cannot revoke lease " + lease.lease_id + ": connection config \"" +
                           db_name +
                           "\" no longer exists, so its database user may still exist; write "
                           "the config again to revoke it, or drop the lease with "
                           "sys/leases/revoke-force");
  }
  std::optional<Role> role;
  if (!role_name.empty()) {
    ASSIGN_OR_RETURN(role, LoadRole(role_name));
  }
  TemplateValues values{{"name", username}, {"username", username}};
  if (role && !role->revocation_statements.empty()) {
    return RunStatements(db_name, role->revocation_statements, values);
  }
  // Vault's default for PostgreSQL: end the user's sessions, hand what it
  // owns to the admin, drop it. Idempotent: a user already gone is Ok.
  ASSIGN_OR_RETURN(std::shared_ptr<PgPool> pool, Pool(db_name));
  {
    ASSIGN_OR_RETURN(PgPool::Handle conn, pool->Acquire());
    ASSIGN_OR_RETURN(auto exists,
                     conn->Query("SELECT 1 FROM pg_roles WHERE rolname = $1", {username}));
    if (exists.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(auto killed, conn->Query("SELECT pg_terminate_backend(pid) FROM "
                                              "pg_stat_activity WHERE usename = $1 AND pid <> "
                                              "pg_backend_pid()",
                                              {username}));
    (void)killed;
  }
  return RunStatements(db_name,
                       {"REASSIGN OWNED BY {{name}} TO CURRENT_USER", "DROP OWNED BY {{name}}",
                        "DROP ROLE IF EXISTS {{name}}"},
                       values);
}

Status DatabaseBackend::RenewSecret(const logical::SecretLease& lease) {
  std::string username = lease.internal.value("username", "");
  std::string db_name = lease.internal.value("db_name", "");
  std::string role_name = lease.internal.value("role", "");
  if (username.empty() || db_name.empty()) return Status::Ok();
  std::vector<std::string> statements = DefaultRenewStatements();
  if (!role_name.empty()) {
    ASSIGN_OR_RETURN(auto role, LoadRole(role_name));
    // As Vault: credentials of a deleted role are not renewed.
    if (!role) return InvalidArgument("could not find role with name: \"" + role_name + "\"");
    if (!role->renew_statements.empty()) statements = role->renew_statements;
  }
  TemplateValues values{
      {"name", username}, {"username", username}, {"expiration", PgTime(lease.expire_time)}};
  return RunStatements(db_name, statements, values);
}

logical::SecretTtls DatabaseBackend::RenewalTtls(const logical::SecretLease& lease) {
  const std::string role_name = lease.internal.value("role", "");
  if (role_name.empty()) return {};
  // A role that cannot be read or is gone sets no bound and no default
  // here: RenewSecret refuses the renewal then.
  auto role = LoadRole(role_name);
  if (!role || !*role) return {};
  return {(*role)->default_ttl, (*role)->max_ttl};
}

std::string PgExpiration(std::int64_t unix_seconds) { return PgTime(unix_seconds); }

void DatabaseBackend::WakeRotation() {
  {
    std::scoped_lock lock(thread_mu_);
    wake_ = true;
  }
  thread_cv_.notify_all();
}

void DatabaseBackend::RotationLoop() {
  std::unique_lock lock(thread_mu_);
  while (!stopping_) {
    lock.unlock();
    std::int64_t now = NowUnix();
    auto next = RotateDueStaticRoles(now);
    lock.lock();
    if (stopping_) break;
    // Wake when the next role is due, at least every 10 s (clock changes,
    // retries after a failure), at most once a second.
    std::int64_t wait = 10;
    if (next && *next > 0) wait = std::clamp<std::int64_t>(*next - NowUnix(), 1, 10);
    thread_cv_.wait_for(lock, std::chrono::seconds(wait), [this] { return stopping_ || wake_; });
    wake_ = false;
  }
}

void RegisterDatabaseEngine() {
  static std::once_flag once;
  std::call_once(once, [] {
    logical::RegisterEngine("database", [](const logical::BackendConfig& config) {
      return NewDatabaseBackend(config);
    });
  });
}

Result<std::unique_ptr<logical::Backend>> NewDatabaseBackend(const logical::BackendConfig& config,
                                                             DatabaseOptions options) {
  return std::unique_ptr<logical::Backend>(std::make_unique<DatabaseBackend>(config, options));
}

}  // namespace coffer::engines::database
