#pragma once
// DatabaseBackend: routes database/ paths (paths_*.cc), owns one connection
// pool per config and the static-role rotation thread.
//
//   config/:name          config, LIST config, DELETE
//   reset/:name           closes the pool; the next use reconnects
//   rotate-root/:name     ALTER ROLE <admin> WITH PASSWORD <generated>
//   roles/:name           dynamic roles, LIST roles
//   creds/:name           a new PostgreSQL user, leased (RevokeSecret drops it)
//   static-roles/:name    static roles, LIST static-roles
//   static-creds/:name    the static role's current password
//   rotate-role/:name     rotates a static role now
//
// Storage is the source of truth; memory holds only the pools (keyed by
// config name, replaced whenever the config changes) and the rotation
// thread's wake-up time.
//
// Thread safety: every method may be called concurrently. mu_ guards the
// pool map and is never held across database or storage I/O; rotate_mu_
// serialises static-role rotations (the thread and rotate-role) and
// rotate-root. The destructor stops and joins the rotation thread and
// closes every pool (the router drops the engine on unmount and seal).

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "engines/database/database.h"
#include "engines/database/pg.h"
#include "engines/database/records.h"
#include "logical/backend.h"

namespace coffer::engines::database {

using logical::Request;
using logical::Response;

class DatabaseBackend final : public logical::Backend {
 public:
  DatabaseBackend(const logical::BackendConfig& config, DatabaseOptions options);
  ~DatabaseBackend() override;
  DatabaseBackend(const DatabaseBackend&) = delete;
  DatabaseBackend& operator=(const DatabaseBackend&) = delete;

  Result<Response> HandleRequest(const Request& request) override;
  Result<bool> ExistenceCheck(const Request& request) override;
  Status Initialize() override;
  Status RevokeSecret(const logical::SecretLease& lease) override;
  Status RenewSecret(const logical::SecretLease& lease) override;
  logical::SecretTtls RenewalTtls(const logical::SecretLease& lease) override;
  // Path help for every route served here (database_help.cc).
  logical::EngineHelp Help() const override;

  // Rotates every static role that is due at `now_unix`; the unix time of
  // the next one due (0 when there is none).
  Result<std::int64_t> RotateDueStaticRoles(std::int64_t now_unix);

 private:
  // paths_config.cc
  Result<Response> ConfigPath(const Request& request, const std::string& name);
  Result<Response> ResetPath(const Request& request, const std::string& name);
  Result<Response> RotateRootPath(const Request& request, const std::string& name);
  // paths_roles.cc
  Result<Response> RolePath(const Request& request, const std::string& name);
  Result<Response> CredsPath(const Request& request, const std::string& name);
  // paths_static.cc
  Result<Response> StaticRolePath(const Request& request, const std::string& name);
  Result<Response> StaticCredsPath(const Request& request, const std::string& name);
  Result<Response> RotateRolePath(const Request& request, const std::string& name);
  // Sets a new password on the static role's user and stores it (rotate_mu_
  // held by the caller).
  Status RotateStaticRole(const std::string& name, StaticRole& role);
  std::int64_t NextRotation(const StaticRole& role, std::int64_t from_unix) const;

  Result<std::vector<std::string>> ListKeys(std::string_view prefix);
  Result<std::optional<DbConfig>> LoadConfig(const std::string& name);
  Result<std::optional<Role>> LoadRole(const std::string& name);
  Result<std::optional<StaticRole>> LoadStaticRole(const std::string& name);
  // The pool of config `name`, created from storage on first use.
  Result<std::shared_ptr<PgPool>> Pool(const std::string& name);
  void DropPool(const std::string& name);
  // Runs rendered statements in one transaction on a pooled connection.
  Status RunStatements(const std::string& db_name, const std::vector<std::string>& statements,
                       const TemplateValues& values);
  Result<SecretBytes> GeneratePassword(const std::string& policy);
  std::int64_t NowUnix() const;

  void RotationLoop();
  void WakeRotation();

  storage::Backend& storage_;
  Clock& clock_;
  std::function<Result<SecretBytes>(std::string_view)> generate_password_;
  DatabaseOptions options_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<PgPool>> pools_;  // guarded by mu_
  std::mutex rotate_mu_;

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stopping_ = false;  // guarded by thread_mu_
  bool wake_ = false;      // guarded by thread_mu_
  std::thread rotation_thread_;
};

// Default statements (Vault's PostgreSQL plugin defaults).
std::vector<std::string> DefaultRenewStatements();
std::vector<std::string> DefaultRotationStatements();
// "2006-01-02 15:04:05+0000" (UTC), the {{expiration}} value.
std::string PgExpiration(std::int64_t unix_seconds);

}  // namespace coffer::engines::database
