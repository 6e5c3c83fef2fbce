#include "agent/config.h"

#include <csignal>
#include <fstream>
#include <sstream>

#include "common/duration.h"
#include "hcl/hcl.h"

namespace coffer::agent {
namespace {

using nlohmann::json;

// A block may appear once ({...}) or repeated ([{...}, {...}]).
std::vector<json> Blocks(const json& v) {
  if (v.is_array()) return std::vector<json>(v.begin(), v.end());
  return {v};
}

class Reader {
 public:
  explicit Reader(std::string_view where) : where_(where) {}

  Status Unknown(const json& obj, std::initializer_list<std::string_view> known) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (std::string_view k : known) ok = ok || it.key() == k;
      if (!ok) return InvalidArgument(where_ + ": unknown setting \"" + it.key() + "\"");
    }
    return Status::Ok();
  }

  Result<std::string> String(const json& obj, const char* key, std::string def = "") const {
    auto it = obj.find(key);
    if (it == obj.end()) return def;
    if (!it->is_string()) return Err(InvalidArgument(where_ + ": " + key + " must be a string"));
    return it->get<std::string>();
  }

  Result<bool> Bool(const json& obj, const char* key, bool def) const {
    auto it = obj.find(key);
    if (it == obj.end()) return def;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true";
    return Err(InvalidArgument(where_ + ": " + key + " must be a boolean"));
  }

  // 0640 (HCL octal integer) or "0640".
  Result<unsigned> Mode(const json& obj, const char* key, unsigned def) const {
    auto it = obj.find(key);
    if (it == obj.end()) return def;
    unsigned long v = 0;
    if (it->is_number_integer()) {
      long long n = it->get<long long>();
      if (n < 0) return Err(InvalidArgument(where_ + ": " + key + " must be an octal mode"));
      v = static_cast<unsigned long>(n);
    } else if (it->is_string()) {
      const std::string& s = it->get_ref<const std::string&>();
      char* end = nullptr;
      v = std::strtoul(s.c_str(), &end, 8);
      if (s.empty() || end != s.c_str() + s.size()) {
        return Err(InvalidArgument(where_ + ": " + key + " must be an octal mode like \"0640\""));
      }
    } else {
      return Err(InvalidArgument(where_ + ": " + key + " must be an octal mode"));
    }
    if (v > 07777) return Err(InvalidArgument(where_ + ": " + key + " is not a file mode"));
    return static_cast<unsigned>(v);
  }

  Result<std::chrono::seconds> Duration(const json& obj, const char* key,
                                        std::chrono::seconds def) const {
    auto it = obj.find(key);
    if (it == obj.end()) return def;
    if (it->is_number_integer()) return std::chrono::seconds(it->get<long long>());
    if (!it->is_string()) return Err(InvalidArgument(where_ + ": " + key + " must be a duration"));
    Result<std::chrono::seconds> d = ParseDuration(it->get<std::string>());
    if (!d) return Err(InvalidArgument(where_ + ": " + key + ": " + d.error().message()));
    return *d;
  }

  Reader In(std::string_view sub) const { return Reader(where_ + "." + std::string(sub)); }

 private:
  std::string where_;
};

Result<TemplateConfig> ParseTemplate(const json& t, const Reader& r, bool env) {
  if (!t.is_object()) return Err(InvalidArgument("template must be a block"));
  TRY(r.Unknown(
      t, {"source", "contents", "destination", "perms", "command", "error_on_missing_key",
          "left_delimiter", "right_delimiter", "create_dest_dirs", "backup", "wait", "exec"}));
  TemplateConfig tc;
  ASSIGN_OR_RETURN(tc.source, r.String(t, "source"));
  ASSIGN_OR_RETURN(tc.contents, r.String(t, "contents"));
  ASSIGN_OR_RETURN(tc.destination, r.String(t, "destination"));
  ASSIGN_OR_RETURN(tc.perms, r.Mode(t, "perms", 0644));
  ASSIGN_OR_RETURN(tc.command, r.String(t, "command"));
  ASSIGN_OR_RETURN(tc.error_on_missing_key, r.Bool(t, "error_on_missing_key", false));
  ASSIGN_OR_RETURN(tc.create_dest_dirs, r.Bool(t, "create_dest_dirs", true));
  if (t.contains("left_delimiter") || t.contains("right_delimiter") || t.contains("backup") ||
      t.contains("wait") || t.contains("exec")) {
    return Err(
        Unsupported("template: left_delimiter, right_delimiter, backup, wait and exec "
                    "are not supported"));
  }
  if (tc.source.empty() == tc.contents.empty()) {
    return Err(InvalidArgument("template: exactly one of source and contents is needed"));
  }
  if (!env && tc.destination.empty()) {
    return Err(InvalidArgument("template: destination is required"));
  }
  if (env && (!tc.destination.empty() || !tc.command.empty())) {
    return Err(InvalidArgument("env_template: destination and command are not allowed"));
  }
  if (!tc.source.empty()) {
    std::ifstream in(tc.source, std::ios::binary);
    if (!in) return Err(InvalidArgument("template: cannot read source " + tc.source));
    std::ostringstream ss;
    ss << in.rdbuf();
    tc.contents = ss.str();
  }
  return tc;
}

Result<AuthMethodConfig> ParseMethod(std::string type, const json& m, const Reader& r,
                                     std::vector<std::string>* ineffective) {
  TRY(r.Unknown(m, {"type", "mount_path", "config", "namespace", "wrap_ttl", "min_backoff",
                    "max_backoff", "exit_on_err"}));
  // Settings that would change what the agent does are refused rather than
  // ignored: a wrapped login (the sinks would get a bare token instead) and
  // exiting on an auth error (the agent retries). The others are logged.
  ASSIGN_OR_RETURN(std::chrono::seconds wrap, r.Duration(m, "wrap_ttl", std::chrono::seconds(0)));
  if (wrap.count() != 0) {
    return Err(Unsupported(
        "auto_auth method: wrap_ttl is not supported (the login answer is not wrapped); "
        "set wrap_ttl on a sink to write a wrapped token"));
  }
  ASSIGN_OR_RETURN(bool exit_on_err, r.Bool(m, "exit_on_err", false));
  if (exit_on_err) {
    return Err(Unsupported(
        "auto_auth method: exit_on_err = true is not supported: failed logins are retried "
        "with backoff (1 s doubling to 30 s)"));
  }
  for (const char* key : {"namespace", "min_backoff", "max_backoff"}) {
    if (m.contains(key)) {
      ineffective->push_back(std::string("auto_auth method: ") + key + " has no effect: " +
                             (std::string_view(key) == "namespace"
                                  ? "Coffer has no namespaces"
                                  : "the login backoff is fixed at 1 s doubling to 30 s"));
    }
  }
  if (type.empty()) {
    ASSIGN_OR_RETURN(type, r.String(m, "type"));
  }
  if (type != "approle" && type != "jwt" && type != "cert") {
    return Err(InvalidArgument("auto_auth: unknown method type \"" + type +
                               "\" (supported: approle, jwt, cert)"));
  }
  AuthMethodConfig mc;
  mc.type = type;
  ASSIGN_OR_RETURN(mc.mount_path, r.String(m, "mount_path", "auth/" + type));
  while (!mc.mount_path.empty() && mc.mount_path.back() == '/') mc.mount_path.pop_back();
  json cfg = m.value("config", json::object());
  if (cfg.is_array() && cfg.size() == 1) cfg = cfg[0];
  Reader cr = r.In("config");
  if (type == "approle") {
    TRY(cr.Unknown(
        cfg, {"role_id_file_path", "secret_id_file_path", "remove_secret_id_file_after_reading"}));
    ASSIGN_OR_RETURN(mc.role_id_file_path, cr.String(cfg, "role_id_file_path"));
    ASSIGN_OR_RETURN(mc.secret_id_file_path, cr.String(cfg, "secret_id_file_path"));
    ASSIGN_OR_RETURN(mc.remove_secret_id_file_after_reading,
                     cr.Bool(cfg, "remove_secret_id_file_after_reading", true));
    if (mc.role_id_file_path.empty()) {
      return Err(InvalidArgument("auto_auth approle: role_id_file_path is required"));
    }
  } else if (type == "cert") {
    TRY(cr.Unknown(cfg, {"name", "client_cert", "client_key", "ca_cert", "reload"}));
    ASSIGN_OR_RETURN(mc.cert_name, cr.String(cfg, "name"));
    ASSIGN_OR_RETURN(mc.client_cert, cr.String(cfg, "client_cert"));
    ASSIGN_OR_RETURN(mc.client_key, cr.String(cfg, "client_key"));
    ASSIGN_OR_RETURN(mc.ca_cert, cr.String(cfg, "ca_cert"));
    // Vault's `reload` re-reads the files before each login; Coffer always
    // does (each connection loads them), so it is accepted and changes nothing.
    ASSIGN_OR_RETURN(bool reload, cr.Bool(cfg, "reload", false));
    (void)reload;
    if (mc.client_cert.empty() != mc.client_key.empty()) {
      return Err(InvalidArgument("auto_auth cert: client_cert and client_key go together"));
    }
  } else {
    TRY(cr.Unknown(cfg, {"path", "role", "remove_jwt_after_reading"}));
    ASSIGN_OR_RETURN(mc.jwt_path, cr.String(cfg, "path"));
    ASSIGN_OR_RETURN(mc.role, cr.String(cfg, "role"));
    ASSIGN_OR_RETURN(mc.remove_jwt_after_reading, cr.Bool(cfg, "remove_jwt_after_reading", true));
    if (mc.jwt_path.empty() || mc.role.empty()) {
      return Err(InvalidArgument("auto_auth jwt: config path and role are required"));
    }
  }
  return mc;
}

Status ParseAutoAuth(const json& aa, AgentConfig& c) {
  Reader r("auto_auth");
  TRY(r.Unknown(aa, {"method", "sink", "enable_reauth_on_new_credentials"}));
  ASSIGN_OR_RETURN(bool reauth, r.Bool(aa, "enable_reauth_on_new_credentials", false));
  if (reauth) {
    // Refused rather than taken for a watcher that is not there.
    return Unsupported(
        "auto_auth: enable_reauth_on_new_credentials = true is not supported: the agent does "
        "not watch its credentials for changes");
  }
  if (!aa.contains("method")) return InvalidArgument("auto_auth: a method block is required");
  const json& method = aa["method"];
  // method "approle" {..} -> {"approle": {..}}; method {type = ..} -> {type: ..}
  if (method.is_object() && method.contains("type") && method["type"].is_string()) {
    ASSIGN_OR_RETURN(c.method, ParseMethod("", method, r.In("method"), &c.ineffective));
  } else if (method.is_object() && method.size() == 1 && method.begin().value().is_object()) {
    ASSIGN_OR_RETURN(c.method, ParseMethod(method.begin().key(), method.begin().value(),
                                           r.In("method." + method.begin().key()), &c.ineffective));
  } else {
    return InvalidArgument("auto_auth: exactly one method is allowed");
  }
  if (aa.contains("sink")) {
    const json& sinks = aa["sink"];
    std::vector<std::pair<std::string, json>> list;
    if (sinks.is_object() && sinks.contains("type")) {
      list.emplace_back(sinks.value("type", ""), sinks);
    } else if (sinks.is_array()) {
      for (const json& s : sinks) list.emplace_back(s.value("type", ""), s);
    } else if (sinks.is_object()) {
      for (auto it = sinks.begin(); it != sinks.end(); ++it) {
        for (const json& s : Blocks(it.value())) list.emplace_back(it.key(), s);
      }
    }
    for (auto& [type, s] : list) {
      Reader sr = r.In("sink");
      if (type != "file") {
        return InvalidArgument("auto_auth: unknown sink type \"" + type + "\" (supported: file)");
      }
      TRY(sr.Unknown(s, {"type", "config", "wrap_ttl", "dh_type", "dh_path", "aad", "aad_env_var",
                         "derive_key"}));
      for (const char* key : {"dh_type", "dh_path", "aad", "aad_env_var", "derive_key"}) {
        if (s.contains(key)) {
          return Unsupported(std::string("auto_auth sink: ") + key +
                             ": response encryption (Diffie-Hellman) is not supported");
        }
      }
      SinkConfig sc;
      ASSIGN_OR_RETURN(sc.wrap_ttl, sr.Duration(s, "wrap_ttl", std::chrono::seconds(0)));
      json cfg = s.value("config", json::object());
      if (cfg.is_array() && cfg.size() == 1) cfg = cfg[0];
      Reader cr = sr.In("config");
      TRY(cr.Unknown(cfg, {"path", "mode"}));
      ASSIGN_OR_RETURN(sc.path, cr.String(cfg, "path"));
      ASSIGN_OR_RETURN(sc.mode, cr.Mode(cfg, "mode", 0600));
      if (sc.path.empty())
        return InvalidArgument("auto_auth sink \"file\": config path is required");
      c.sinks.push_back(std::move(sc));
    }
  }
  return Status::Ok();
}

Status ParseExec(const json& e, AgentConfig& c) {
  Reader r("exec");
  TRY(r.Unknown(e, {"command", "restart_on_secret_changes", "restart_stop_signal",
                    "child_process_stdout", "child_process_stderr"}));
  ExecConfig ec;
  const json& cmd = e.value("command", json());
  if (cmd.is_string()) {
    ec.command.push_back(cmd.get<std::string>());
  } else if (cmd.is_array() && !cmd.empty()) {
    for (const json& a : cmd) {
      if (!a.is_string()) return InvalidArgument("exec: command must be a list of strings");
      ec.command.push_back(a.get<std::string>());
    }
  } else {
    return InvalidArgument("exec: command is required (a list of strings)");
  }
  ASSIGN_OR_RETURN(std::string restart, r.String(e, "restart_on_secret_changes", "always"));
  if (restart != "always" && restart != "never") {
    return InvalidArgument("exec: restart_on_secret_changes must be \"always\" or \"never\"");
  }
  ec.restart_on_secret_changes = restart == "always";
  ASSIGN_OR_RETURN(std::string sig, r.String(e, "restart_stop_signal", "SIGTERM"));
  ASSIGN_OR_RETURN(ec.restart_stop_signal, ParseSignal(sig));
  ASSIGN_OR_RETURN(ec.child_process_stdout, r.String(e, "child_process_stdout"));
  ASSIGN_OR_RETURN(ec.child_process_stderr, r.String(e, "child_process_stderr"));
  c.exec = std::move(ec);
  return Status::Ok();
}

Status ParseVault(const json& v, AgentConfig& c) {
  Reader r("vault");
  TRY(r.Unknown(v, {"address", "ca_cert", "ca_path", "tls_skip_verify", "tls_server_name", "retry",
                    "client_cert", "client_key"}));
  if (v.contains("retry")) {
    c.ineffective.push_back(
        "vault: retry has no effect: requests are retried by the render and login backoff");
  }
  ASSIGN_OR_RETURN(c.vault.address, r.String(v, "address"));
  ASSIGN_OR_RETURN(c.vault.ca_cert, r.String(v, "ca_cert"));
  ASSIGN_OR_RETURN(c.vault.ca_path, r.String(v, "ca_path"));
  ASSIGN_OR_RETURN(c.vault.tls_skip_verify, r.Bool(v, "tls_skip_verify", false));
  ASSIGN_OR_RETURN(c.vault.tls_server_name, r.String(v, "tls_server_name"));
  ASSIGN_OR_RETURN(c.vault.client_cert, r.String(v, "client_cert"));
  ASSIGN_OR_RETURN(c.vault.client_key, r.String(v, "client_key"));
  if (c.vault.client_cert.empty() != c.vault.client_key.empty()) {
    return InvalidArgument("vault: client_cert and client_key go together");
  }
  return Status::Ok();
}

}  // namespace

Result<int> ParseSignal(std::string_view name) {
  std::string n(name);
  if (n.starts_with("SIG")) n = n.substr(3);
  static const std::pair<const char*, int> kSignals[] = {
      {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},   {"QUIT", SIGQUIT},
      {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
  };
  for (auto [s, v] : kSignals) {
    if (n == s) return v;
  }
  char* end = nullptr;
  long v = std::strtol(n.c_str(), &end, 10);
  if (!n.empty() && end == n.c_str() + n.size() && v > 0 && v < 65) return static_cast<int>(v);
  return Err(InvalidArgument("unknown signal \"" + std::string(name) + "\""));
}

Result<AgentConfig> ParseConfig(std::string_view text, std::string_view source_name) {
  hcl::ParseOptions opts;
  opts.source_name = std::string(source_name);
  ASSIGN_OR_RETURN(hcl::Document doc, hcl::Parse(text, opts));
  const json& root = doc.json();
  Reader r("config");
  TRY(r.Unknown(
      root, {"pid_file", "exit_after_auth", "vault", "auto_auth", "template_config", "template",
             "exec", "env_template", "cache", "listener", "log_level", "log_format", "log_file"}));
  if (root.contains("cache") || root.contains("listener")) {
    return Err(Unsupported("the cache and listener (local proxy) settings are not supported"));
  }
  AgentConfig c;
  ASSIGN_OR_RETURN(c.pid_file, r.String(root, "pid_file"));
  ASSIGN_OR_RETURN(c.exit_after_auth, r.Bool(root, "exit_after_auth", false));
  ASSIGN_OR_RETURN(c.log_level, r.String(root, "log_level"));
  ASSIGN_OR_RETURN(c.log_format, r.String(root, "log_format"));
  ASSIGN_OR_RETURN(c.log_file, r.String(root, "log_file"));
  if (!c.log_format.empty() && c.log_format != "standard" && c.log_format != "json") {
    return Err(InvalidArgument("config: log_format must be \"standard\" or \"json\""));
  }
  if (root.contains("vault")) {
    for (const json& v : Blocks(root["vault"])) TRY(ParseVault(v, c));
  }
  if (root.contains("auto_auth")) {
    std::vector<json> aa = Blocks(root["auto_auth"]);
    if (aa.size() != 1) return Err(InvalidArgument("only one auto_auth block is allowed"));
    TRY(ParseAutoAuth(aa[0], c));
  }
  if (root.contains("template_config")) {
    for (const json& tc : Blocks(root["template_config"])) {
      Reader tr("template_config");
      TRY(tr.Unknown(tc, {"static_secret_render_interval", "exit_on_retry_failure",
                          "max_connections_per_host", "lease_renewal_threshold"}));
      ASSIGN_OR_RETURN(c.static_secret_render_interval,
                       tr.Duration(tc, "static_secret_render_interval", std::chrono::seconds(300)));
      if (c.static_secret_render_interval.count() < 1) {
        return Err(InvalidArgument("template_config: static_secret_render_interval must be >= 1s"));
      }
      if (tc.contains("max_connections_per_host")) {
        c.ineffective.push_back(
            "template_config: max_connections_per_host has no effect: the agent reads "
            "secrets over one connection");
      }
      if (auto it = tc.find("lease_renewal_threshold"); it != tc.end()) {
        if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 1) {
          return Err(InvalidArgument(
              "template_config: lease_renewal_threshold must be a number above 0 and at most 1"));
        }
        c.lease_renewal_threshold = it->get<double>();
      }
      // Renders that fail are retried with backoff until they succeed; an
      // agent that should exit instead cannot be had here, so it is refused
      // rather than silently kept running.
      ASSIGN_OR_RETURN(bool exit_on_failure, tr.Bool(tc, "exit_on_retry_failure", false));
      if (exit_on_failure) {
        return Err(Unsupported(
            "template_config: exit_on_retry_failure = true is not supported: failed renders "
            "are retried with backoff until they succeed"));
      }
    }
  }
  if (root.contains("template")) {
    for (const json& t : Blocks(root["template"])) {
      ASSIGN_OR_RETURN(TemplateConfig tc, ParseTemplate(t, Reader("template"), false));
      c.templates.push_back(std::move(tc));
    }
  }
  if (root.contains("exec")) {
    std::vector<json> ex = Blocks(root["exec"]);
    if (ex.size() != 1) return Err(InvalidArgument("only one exec block is allowed"));
    TRY(ParseExec(ex[0], c));
  }
  if (root.contains("env_template")) {
    const json& et = root["env_template"];
    if (!et.is_object()) return Err(InvalidArgument("env_template blocks need a variable name"));
    for (auto it = et.begin(); it != et.end(); ++it) {
      if (it.value().is_array()) {
        return Err(InvalidArgument("env_template \"" + it.key() + "\" is defined twice"));
      }
      ASSIGN_OR_RETURN(TemplateConfig tc,
                       ParseTemplate(it.value(), Reader("env_template." + it.key()), true));
      c.env_templates[it.key()] = std::move(tc);
    }
    if (!c.exec) return Err(InvalidArgument("env_template needs an exec block"));
  }
  if (c.method && c.method->type == "cert" && c.method->client_cert.empty() &&
      c.vault.client_cert.empty()) {
    return Err(InvalidArgument(
        "auto_auth cert: a client certificate is required: client_cert and client_key in the "
        "method's config or in the vault stanza"));
  }
  if (!c.method && (!c.templates.empty() || c.exec || !c.sinks.empty())) {
    return Err(InvalidArgument("auto_auth is required"));
  }
  return c;
}

Result<AgentConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(InvalidArgument("cannot read config file " + path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace coffer::agent
