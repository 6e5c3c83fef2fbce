#pragma once
// What the database engine stores (in its mount's barrier view, so
// passwords are encrypted at rest) and how request fields become records.
//
//   config/<name>       DbConfig (holds the admin password)
//   role/<name>         Role
//   static-role/<name>  StaticRole (holds the current password and the
//                       next rotation time, so a restart keeps the schedule)
//
// Errors: kInvalidArgument naming the field, never quoting a secret.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::engines::database {

using logical::Json;

inline constexpr std::string_view kPluginName = "postgresql-database-plugin";

struct DbConfig {
  std::string plugin_name{kPluginName};
  std::string connection_url;
  std::string username;
  SecretBytes password;
  std::vector<std::string> allowed_roles;
  std::string password_policy;
  bool verify_connection = true;
  int max_open_connections = 4;
  std::vector<std::string> root_rotation_statements;

  bool AllowsRole(std::string_view role) const;
};

struct Role {
  std::string db_name;
  std::vector<std::string> creation_statements;
  std::vector<std::string> revocation_statements;
  std::vector<std::string> renew_statements;
  std::vector<std::string> rollback_statements;
  std::int64_t default_ttl = 0;
  std::int64_t max_ttl = 0;
};

struct StaticRole {
  std::string db_name;
  std::string username;
  std::int64_t rotation_period = 0;  // seconds; 0 when a schedule is used
  std::string rotation_schedule;     // cron; "" when a period is used
  std::vector<std::string> rotation_statements;
  SecretBytes password;
  std::int64_t last_vault_rotation = 0;  // unix seconds
  std::int64_t next_rotation = 0;        // unix seconds
};

// Names of configs and roles: [A-Za-z0-9_-]+, at most 128 characters.
Status ValidateName(std::string_view name, std::string_view what);

// Applies the request's fields to `config` (an update keeps what is absent).
Status ApplyConfigFields(const logical::Request& request, DbConfig& config);
Status ApplyRoleFields(const logical::Request& request, Role& role);
Status ApplyStaticRoleFields(const logical::Request& request, StaticRole& role);

std::string EncodeConfig(const DbConfig& c);
Result<DbConfig> DecodeConfig(std::string_view text);
// What config/<name> READ shows: never the password.
Json ConfigToPublicJson(const DbConfig& c);
// A connection string with any password in it replaced by "xxxxx": the
// password of a URL's user info (postgresql://user:pw@host) and the value
// of a password=... keyword. Used wherever a connection string is shown
// (config reads, connection errors).
std::string RedactConnectionString(std::string_view text);

std::string EncodeRole(const Role& r);
Result<Role> DecodeRole(std::string_view text);
Json RoleToJson(const Role& r);

std::string EncodeStaticRole(const StaticRole& r);
Result<StaticRole> DecodeStaticRole(std::string_view text);
// What static-roles/<name> READ shows (no password).
Json StaticRoleToJson(const StaticRole& r);

std::string RfcTime(std::int64_t unix_seconds);

}  // namespace coffer::engines::database
