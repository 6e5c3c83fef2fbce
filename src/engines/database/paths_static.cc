// static-roles/:name, static-creds/:name, rotate-role/:name and the
// scheduled rotation of static roles.

#include <chrono>

#include "common/log.h"
#include "engines/database/backend.h"
#include "engines/database/cron.h"

namespace coffer::engines::database {
namespace {}  // namespace

std::int64_t DatabaseBackend::NextRotation(const StaticRole& role, std::int64_t from) const {
  if (role.rotation_schedule.empty()) return from + std::max<std::int64_t>(1, role.rotation_period);
  auto cron = CronSchedule::Parse(role.rotation_schedule);
  if (!cron) return 0;
  auto next = cron->Next(std::chrono::system_clock::time_point(std::chrono::seconds(from)));
  if (next == std::chrono::system_clock::time_point::max()) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(next.time_since_epoch()).count();
}

Status DatabaseBackend::RotateStaticRole(const std::string& name, StaticRole& role) {
  ASSIGN_OR_RETURN(auto config, LoadConfig(role.db_name));
  if (!config) return InvalidArgument("no database config named " + role.db_name);
  // Checked on every use, not only when the role was written: taking a role
  // off the connection's allowed_roles stops its rotations.
  if (!config->AllowsRole(name)) return InvalidArgument("\"" + name + "\" is not an allowed role");
  ASSIGN_OR_RETURN(SecretBytes password, GeneratePassword(config->password_policy));
  std::vector<std::string> statements = role.rotation_statements;
  if (statements.empty()) statements = DefaultRotationStatements();
  TemplateValues values{{"name", role.username},
                        {"username", role.username},
                        {"password", std::string(password.view())}};
  Status ran = RunStatements(role.db_name, statements, values);
  WipeString(values["password"]);
  TRY(ran);
  const std::int64_t now = NowUnix();
  role.password = std::move(password);
  role.last_vault_rotation = now;
  role.next_rotation = NextRotation(role, now);
  std::string record = EncodeStaticRole(role);
  Status s = storage_.Put("static-role/" + name, record);
  WipeString(record);
  if (!s.ok()) {
    Log(LogModule::kDatabase)
        .error("static role {} rotated but not stored: {}", name, s.ToString());
    return Internal("the password changed but could not be stored");
  }
  return Status::Ok();
}

Result<Response> DatabaseBackend::StaticRolePath(const Request& request, const std::string& name) {
  using logical::Operation;
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto role, LoadStaticRole(name));
      if (!role) return logical::NotFoundResponse();
      Response r;
      r.data = StaticRoleToJson(*role);
      return r;
    }
    case Operation::kDelete: {
      // Under the rotation lock: a rotation running now would store the
      // role it read again after the delete, and keep rotating it.
      std::scoped_lock lock(rotate_mu_);
      TRY(storage_.Delete("static-role/" + name));
      return logical::NoContent();
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(rotate_mu_);
      ASSIGN_OR_RETURN(auto existing, LoadStaticRole(name));
      const bool is_new = !existing;
      StaticRole role = existing ? std::move(*existing) : StaticRole{};
      TRY(ApplyStaticRoleFields(request, role));
      if (!role.rotation_schedule.empty()) {
        ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(role.rotation_schedule));
        (void)cron;
      }
      ASSIGN_OR_RETURN(auto config, LoadConfig(role.db_name));
      if (!config) return Err(InvalidArgument("no database config named " + role.db_name));
      if (!config->AllowsRole(name)) {
        return Err(InvalidArgument("\"" + name + "\" is not an allowed role"));
      }
      if (is_new) {
        // As Vault does: the password is rotated when the role is created.
        TRY(RotateStaticRole(name, role));
      } else {
        role.next_rotation = NextRotation(role, role.last_vault_rotation);
        std::string record = EncodeStaticRole(role);
        Status s = storage_.Put("static-role/" + name, record);
        WipeString(record);
        TRY(s);
      }
      WakeRotation();
      return logical::NoContent();
    }
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> DatabaseBackend::StaticCredsPath(const Request& request, const std::string& name) {
  if (request.operation != logical::Operation::kRead) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto role, LoadStaticRole(name));
  if (!role) return Err(InvalidArgument("unknown static role: " + name));
  // As for dynamic credentials, the connection must still allow the role.
  ASSIGN_OR_RETURN(auto config, LoadConfig(role->db_name));
  if (!config) return Err(InvalidArgument("no database config named " + role->db_name));
  if (!config->AllowsRole(name)) {
    return Err(InvalidArgument("\"" + name + "\" is not an allowed role"));
  }
  Response r;
  r.data = Json{{"username", role->username},
                {"password", std::string(role->password.view())},
                {"last_vault_rotation", RfcTime(role->last_vault_rotation)},
                {"ttl", std::max<std::int64_t>(0, role->next_rotation - NowUnix())}};
  if (role->rotation_schedule.empty()) {
    r.data["rotation_period"] = role->rotation_period;
  } else {
    r.data["rotation_schedule"] = role->rotation_schedule;
  }
  return r;
}

Result<Response> DatabaseBackend::RotateRolePath(const Request& request, const std::string& name) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(MethodNotAllowed());
  }
  std::scoped_lock lock(rotate_mu_);
  ASSIGN_OR_RETURN(auto role, LoadStaticRole(name));
  if (!role) return Err(InvalidArgument("unknown static role: " + name));
  TRY(RotateStaticRole(name, *role));
  WakeRotation();
  return logical::NoContent();
}

Result<std::int64_t> DatabaseBackend::RotateDueStaticRoles(std::int64_t now) {
  ASSIGN_OR_RETURN(auto names, ListKeys("static-role/"));
  std::int64_t next_due = 0;
  for (const auto& name : names) {
    std::scoped_lock lock(rotate_mu_);
    auto role = LoadStaticRole(name);
    if (!role || !*role) continue;
    if ((*role)->next_rotation > 0 && (*role)->next_rotation <= now) {
      Status s = RotateStaticRole(name, **role);
      if (!s.ok()) {
        // Retried on the next pass; the old password stays in place.
        Log(LogModule::kDatabase).warn("rotating static role {} failed: {}", name, s.ToString());
        continue;
      }
    }
    std::int64_t n = (*role)->next_rotation;
    if (n > 0 && (next_due == 0 || n < next_due)) next_due = n;
  }
  return next_due;
}

}  // namespace coffer::engines::database
