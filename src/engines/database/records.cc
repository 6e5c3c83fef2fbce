#include "engines/database/records.h"

#include <chrono>

#include "common/clock.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "engines/database/pg.h"
#include "engines/database/sql_template.h"

namespace coffer::engines::database {
namespace {

const Json* Field(const logical::Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  return f != nullptr && !f->is_null() ? f : nullptr;
}

Result<std::optional<std::string>> OptString(const logical::Request& r, std::string_view name) {
  const Json* f = Field(r, name);
  if (f == nullptr) return std::optional<std::string>();
  // Weakly, as Vault decodes a string field (a number keeps its digits).
  std::optional<std::string> text = logical::WeakString(*f);
  if (!text) return Err(InvalidArgument(std::string(name) + " must be a string"));
  return text;
}

// A list of strings; a string is one element (statements may contain
// commas, so no splitting) unless `split_commas` (allowed_roles).
Result<std::optional<std::vector<std::string>>> OptList(const logical::Request& r,
                                                        std::string_view name,
                                                        bool split_commas = false) {
  const Json* f = Field(r, name);
  if (f == nullptr) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  if (f->is_string()) {
    std::string s = f->get<std::string>();
    if (split_commas) {
      std::size_t start = 0;
      while (start <= s.size()) {
        std::size_t p = s.find(',', start);
        std::string part = s.substr(start, p == std::string::npos ? p : p - start);
        while (!part.empty() && part.front() == ' ') part.erase(0, 1);
        while (!part.empty() && part.back() == ' ') part.pop_back();
        if (!part.empty()) out.push_back(part);
        if (p == std::string::npos) break;
        start = p + 1;
      }
    } else if (!s.empty()) {
      out.push_back(s);
    }
  } else if (f->is_array()) {
    for (const auto& e : *f) {
      if (!e.is_string()) return Err(InvalidArgument(std::string(name) + " must be strings"));
      out.push_back(e.get<std::string>());
    }
  } else {
    return Err(InvalidArgument(std::string(name) + " must be a list of strings"));
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::int64_t>> OptSeconds(const logical::Request& r, std::string_view name) {
  const Json* f = Field(r, name);
  if (f == nullptr) return std::optional<std::int64_t>();
  if (f->is_number_integer() && f->get<std::int64_t>() >= 0) {
    return std::optional<std::int64_t>(f->get<std::int64_t>());
  }
  if (f->is_string()) {
    auto d = ParseDuration(f->get<std::string>());
    if (d) return std::optional<std::int64_t>(d->count());
  }
  return Err(InvalidArgument("invalid duration in " + std::string(name)));
}

Result<std::optional<bool>> OptBool(const logical::Request& r, std::string_view name) {
  const Json* f = Field(r, name);
  if (f == nullptr) return std::optional<bool>();
  if (f->is_boolean()) return std::optional<bool>(f->get<bool>());
  if (f->is_string()) {
    std::string s = f->get<std::string>();
    if (s == "true" || s == "1") return std::optional<bool>(true);
    if (s == "false" || s == "0") return std::optional<bool>(false);
  }
  return Err(InvalidArgument(std::string(name) + " must be a boolean"));
}

Result<std::optional<std::int64_t>> OptInt(const logical::Request& r, std::string_view name) {
  const Json* f = Field(r, name);
  if (f == nullptr) return std::optional<std::int64_t>();
  if (f->is_number_integer()) return std::optional<std::int64_t>(f->get<std::int64_t>());
  if (f->is_string()) {
    if (auto v = ParseInt64(f->get_ref<const std::string&>())) return v;
  }
  return Err(InvalidArgument(std::string(name) + " must be an integer"));
}

std::vector<std::string> Strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

Result<Json> ParseRecord(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return Err(Internal("database engine: corrupt record"));
  return j;
}

}  // namespace

bool DbConfig::AllowsRole(std::string_view role) const {
  for (const auto& a : allowed_roles) {
    if (a == "*" || a == role) return true;
  }
  return false;
}

Status ValidateName(std::string_view name, std::string_view what) {
  if (name.empty() || name.size() > 128) return InvalidArgument("invalid " + std::string(what));
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument("invalid " + std::string(what) +
                             ": only letters, digits, '_' and '-'");
    }
  }
  return Status::Ok();
}

Status ApplyConfigFields(const logical::Request& request, DbConfig& c) {
  ASSIGN_OR_RETURN(auto plugin, OptString(request, "plugin_name"));
  if (plugin) c.plugin_name = *plugin;
  if (c.plugin_name != kPluginName) {
    return InvalidArgument("unsupported plugin_name: only postgresql-database-plugin");
  }
  ASSIGN_OR_RETURN(auto url, OptString(request, "connection_url"));
  if (url) c.connection_url = *url;
  if (c.connection_url.empty()) return InvalidArgument("connection_url is required");
  ASSIGN_OR_RETURN(auto user, OptString(request, "username"));
  if (user) c.username = *user;
  const Json* pw = Field(request, "password");
  if (pw != nullptr) {
    // A number keeps its digits, as Vault decodes a string field weakly
    // (userpass reads its password the same way).
    std::optional<std::string> text = logical::WeakString(*pw);
    if (!text || pw->is_boolean()) return InvalidArgument("password must be a string");
    c.password = SecretBytes::FromString(*text);
    WipeString(*text);
  }
  ASSIGN_OR_RETURN(auto roles, OptList(request, "allowed_roles", /*split_commas=*/true));
  if (roles) c.allowed_roles = *roles;
  ASSIGN_OR_RETURN(auto policy, OptString(request, "password_policy"));
  if (policy) c.password_policy = *policy;
  ASSIGN_OR_RETURN(auto verify, OptBool(request, "verify_connection"));
  c.verify_connection = verify.value_or(true);
  ASSIGN_OR_RETURN(auto max_open, OptInt(request, "max_open_connections"));
  if (max_open) {
    if (*max_open < 1 || *max_open > 1000) {
      return InvalidArgument("max_open_connections must be between 1 and 1000");
    }
    c.max_open_connections = static_cast<int>(*max_open);
  }
  ASSIGN_OR_RETURN(auto root_stmts, OptList(request, "root_rotation_statements"));
  if (root_stmts) c.root_rotation_statements = *root_stmts;
  TRY(CheckStatements(c.root_rotation_statements, "root_rotation_statements"));
  return Status::Ok();
}

Status ApplyRoleFields(const logical::Request& request, Role& r) {
  ASSIGN_OR_RETURN(auto db, OptString(request, "db_name"));
  if (db) r.db_name = *db;
  TRY(ValidateName(r.db_name, "db_name"));
  struct {
    const char* name;
    std::vector<std::string>* field;
  } lists[] = {{"creation_statements", &r.creation_statements},
               {"revocation_statements", &r.revocation_statements},
               {"renew_statements", &r.renew_statements},
               {"rollback_statements", &r.rollback_statements}};
  for (auto& l : lists) {
    ASSIGN_OR_RETURN(auto v, OptList(request, l.name));
    if (v) *l.field = *v;
    TRY(CheckStatements(*l.field, l.name));
  }
  if (r.creation_statements.empty()) return InvalidArgument("creation_statements is required");
  ASSIGN_OR_RETURN(auto ttl, OptSeconds(request, "default_ttl"));
  if (ttl) r.default_ttl = *ttl;
  ASSIGN_OR_RETURN(auto max, OptSeconds(request, "max_ttl"));
  if (max) r.max_ttl = *max;
  if (r.max_ttl > 0 && r.default_ttl > r.max_ttl) {
    return InvalidArgument("default_ttl cannot be greater than max_ttl");
  }
  return Status::Ok();
}

Status ApplyStaticRoleFields(const logical::Request& request, StaticRole& r) {
  ASSIGN_OR_RETURN(auto db, OptString(request, "db_name"));
  if (db) r.db_name = *db;
  TRY(ValidateName(r.db_name, "db_name"));
  ASSIGN_OR_RETURN(auto user, OptString(request, "username"));
  if (user) {
    if (!r.username.empty() && *user != r.username) {
      return InvalidArgument("cannot update static account username");
    }
    r.username = *user;
  }
  if (r.username.empty()) return InvalidArgument("username is required");
  if (r.username.size() > 63) return InvalidArgument("username is longer than 63 characters");
  ASSIGN_OR_RETURN(auto period, OptSeconds(request, "rotation_period"));
  ASSIGN_OR_RETURN(auto schedule, OptString(request, "rotation_schedule"));
  if (period && schedule && !schedule->empty()) {
    return InvalidArgument("mutually exclusive fields rotation_period and rotation_schedule");
  }
  if (period) {
    if (*period < 1) return InvalidArgument("rotation_period must be at least 1s");
    r.rotation_period = *period;
    r.rotation_schedule.clear();
  }
  if (schedule && !schedule->empty()) {
    r.rotation_schedule = *schedule;
    r.rotation_period = 0;
  }
  if (r.rotation_period == 0 && r.rotation_schedule.empty()) {
    return InvalidArgument("one of rotation_period or rotation_schedule is required");
  }
  ASSIGN_OR_RETURN(auto stmts, OptList(request, "rotation_statements"));
  if (stmts) r.rotation_statements = *stmts;
  TRY(CheckStatements(r.rotation_statements, "rotation_statements"));
  return Status::Ok();
}

std::string RfcTime(std::int64_t unix_seconds) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

std::string EncodeConfig(const DbConfig& c) {
  Json j{{"plugin_name", c.plugin_name},
         {"connection_url", c.connection_url},
         {"username", c.username},
         {"password", std::string(c.password.view())},
         {"allowed_roles", c.allowed_roles},
         {"password_policy", c.password_policy},
         {"verify_connection", c.verify_connection},
         {"max_open_connections", c.max_open_connections},
         {"root_rotation_statements", c.root_rotation_statements}};
  std::string out = j.dump();
  WipeString(j["password"].get_ref<std::string&>());
  return out;
}

Result<DbConfig> DecodeConfig(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ParseRecord(text));
  DbConfig c;
  c.plugin_name = j.value("plugin_name", std::string(kPluginName));
  c.connection_url = j.value("connection_url", "");
  c.username = j.value("username", "");
  if (j.contains("password") && j["password"].is_string()) {
    c.password = SecretBytes::FromString(j["password"].get_ref<const std::string&>());
    WipeString(j["password"].get_ref<std::string&>());
  }
  c.allowed_roles = Strings(j, "allowed_roles");
  c.password_policy = j.value("password_policy", "");
  c.verify_connection = j.value("verify_connection", true);
  c.max_open_connections = j.value("max_open_connections", 4);
  c.root_rotation_statements = Strings(j, "root_rotation_statements");
  return c;
}

namespace {

// The placeholder the engine fills in from its username and password
// fields: no secret, and shown as written, as Vault shows it.
bool IsPasswordTemplate(std::string_view value) {
  return value == "{{password}}" || value == "'{{password}}'";
}

}  // namespace

std::string RedactConnectionString(std::string_view text) {
  std::string out(text);
  // URL user info: scheme://user:password@host — every URL in the text.
  for (std::size_t from = 0;;) {
    std::size_t scheme = out.find("://", from);
    if (scheme == std::string::npos) break;
    std::size_t start = scheme + 3;
    std::size_t end = out.find_first_of("/?# \t\r\n\"'", start);
    std::size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at >= start) {
      std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at && colon + 1 != at &&
          !IsPasswordTemplate(std::string_view(out).substr(colon + 1, at - colon - 1))) {
        out.replace(colon + 1, at - colon - 1, "xxxxx");
        at = colon + 1 + 5;
      }
      from = at + 1;
    } else {
      from = start;
    }
  }
  // Keyword form: password=value or password='quoted value'.
  for (std::size_t from = 0;;) {
    std::size_t key = out.find("password=", from);
    if (key == std::string::npos) break;
    std::size_t start = key + 9;
    std::size_t end = start;
    if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      while (end < out.size() && out[end] != ' ' && out[end] != '&') ++end;
    }
    if (IsPasswordTemplate(std::string_view(out).substr(start, end - start))) {
      from = end;
      continue;
    }
    out.replace(start, end - start, "xxxxx");
    from = start + 5;
  }
  return out;
}

Json ConfigToPublicJson(const DbConfig& c) {
  return Json{{"plugin_name", c.plugin_name},
              {"plugin_version", ""},
              {"connection_details",
               {{"connection_url", RedactConninfoPassword(c.connection_url)},
                {"username", c.username},
                {"max_open_connections", c.max_open_connections}}},
              {"allowed_roles", c.allowed_roles},
              {"password_policy", c.password_policy},
              {"verify_connection", c.verify_connection},
              {"root_credentials_rotate_statements", c.root_rotation_statements}};
}

std::string EncodeRole(const Role& r) { return RoleToJson(r).dump(); }

Result<Role> DecodeRole(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ParseRecord(text));
  Role r;
  r.db_name = j.value("db_name", "");
  r.creation_statements = Strings(j, "creation_statements");
  r.revocation_statements = Strings(j, "revocation_statements");
  r.renew_statements = Strings(j, "renew_statements");
  r.rollback_statements = Strings(j, "rollback_statements");
  r.default_ttl = j.value("default_ttl", std::int64_t{0});
  r.max_ttl = j.value("max_ttl", std::int64_t{0});
  return r;
}

Json RoleToJson(const Role& r) {
  return Json{{"db_name", r.db_name},
              {"creation_statements", r.creation_statements},
              {"revocation_statements", r.revocation_statements},
              {"renew_statements", r.renew_statements},
              {"rollback_statements", r.rollback_statements},
              {"default_ttl", r.default_ttl},
              {"max_ttl", r.max_ttl},
              {"credential_type", "password"}};
}

std::string EncodeStaticRole(const StaticRole& r) {
  Json j = StaticRoleToJson(r);
  j["password"] = std::string(r.password.view());
  j["last_vault_rotation_unix"] = r.last_vault_rotation;
  j["next_rotation_unix"] = r.next_rotation;
  std::string out = j.dump();
  WipeString(j["password"].get_ref<std::string&>());
  return out;
}

Result<StaticRole> DecodeStaticRole(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ParseRecord(text));
  StaticRole r;
  r.db_name = j.value("db_name", "");
  r.username = j.value("username", "");
  r.rotation_period = j.value("rotation_period", std::int64_t{0});
  r.rotation_schedule = j.value("rotation_schedule", "");
  r.rotation_statements = Strings(j, "rotation_statements");
  if (j.contains("password") && j["password"].is_string()) {
    r.password = SecretBytes::FromString(j["password"].get_ref<const std::string&>());
    WipeString(j["password"].get_ref<std::string&>());
  }
  r.last_vault_rotation = j.value("last_vault_rotation_unix", std::int64_t{0});
  r.next_rotation = j.value("next_rotation_unix", std::int64_t{0});
  return r;
}

Json StaticRoleToJson(const StaticRole& r) {
  Json j{{"db_name", r.db_name},
         {"username", r.username},
         {"rotation_statements", r.rotation_statements},
         {"credential_type", "password"}};
  if (r.rotation_schedule.empty()) {
    j["rotation_period"] = r.rotation_period;
  } else {
    j["rotation_schedule"] = r.rotation_schedule;
  }
  if (r.last_vault_rotation > 0) j["last_vault_rotation"] = RfcTime(r.last_vault_rotation);
  return j;
}

}  // namespace coffer::engines::database
