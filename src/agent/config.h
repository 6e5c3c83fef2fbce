#pragma once
// The agent's configuration file (HCL or JSON, parsed with hcl::Parse), in
// Vault Agent's shape:
//
//   pid_file = "/run/coffer-agent.pid"
//   exit_after_auth = false
//   vault { address = "http://127.0.0.1:8200"  ca_cert = ""  ca_path = ""
//           tls_skip_verify = false  client_cert = ""  client_key = "" }
//   auto_auth {
//     method "approle" {            # or: method { type = "approle" ... }
//       mount_path = "auth/approle"
//       config = { role_id_file_path = "..."  secret_id_file_path = "..."
//                  remove_secret_id_file_after_reading = true }
//     }
//     # or: method "cert" { config = { name = "web"  client_cert = "c.pem"
//     #                                client_key = "k.pem"  ca_cert = "ca.pem" } }
//     sink "file" { wrap_ttl = "5m"  config = { path = "/run/token"  mode = 0600 } }
//   }
//   template_config { static_secret_render_interval = "5m" }
//   template { source = "in.tmpl" | contents = "..."  destination = "out"
//              perms = "0640"  command = "systemctl reload app"  error_on_missing_key = false }
//   exec { command = ["/usr/bin/app", "arg"]  restart_on_secret_changes = "always"
//          restart_stop_signal = "SIGTERM" }
//   env_template "DB_PASSWORD" { contents = "{{ with secret \"...\" }}..{{ end }}" }
//
// Errors: kInvalidArgument naming the file position or the setting that is
// wrong; kUnsupported for the `cache`/`listener` proxy settings and the
// other Vault Agent settings named in docs/agent.md.
// Thread-safety: plain values.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::agent {

struct VaultConfig {
  std::string address;  // empty: COFFER_ADDR / VAULT_ADDR
  std::string ca_cert;
  std::string ca_path;  // a directory of PEM CA certificates; ca_cert wins
  bool tls_skip_verify = false;
  std::string tls_server_name;  // SNI and certificate name; empty: the address's host
  // A TLS client certificate (PEM chain) and key presented to the server
  // (both or neither); the cert method's own pair wins over these.
  std::string client_cert;
  std::string client_key;
};

struct AuthMethodConfig {
  std::string type;        // "approle", "jwt" or "cert"
  std::string mount_path;  // "auth/<type>" by default
  // approle
  std::string role_id_file_path;
  std::string secret_id_file_path;
  bool remove_secret_id_file_after_reading = true;
  // jwt
  std::string jwt_path;
  std::string role;
  bool remove_jwt_after_reading = true;
  // cert: the role (`name`, optional: the server tries every role) and the
  // files of the client certificate, its key and the server's CA (each
  // empty: the vault stanza's).
  std::string cert_name;
  std::string client_cert;
  std::string client_key;
  std::string ca_cert;
};

struct SinkConfig {
  std::string path;
  unsigned mode = 0600;
  std::chrono::seconds wrap_ttl{0};  // 0: write the token itself
};

struct TemplateConfig {
  std::string source;       // a file, read at start
  std::string contents;     // or the template inline
  std::string destination;  // required for `template`
  unsigned perms = 0644;
  std::string command;  // run with /bin/sh -c after each change
  bool error_on_missing_key = false;
  bool create_dest_dirs = true;  // create the destination's missing parent directories
};

struct ExecConfig {
  std::vector<std::string> command;
  bool restart_on_secret_changes = true;  // "always" (default) or "never"
  int restart_stop_signal = 15;           // SIGTERM
  // Files the child's stdout and stderr are appended to (created 0600);
  // empty: the agent's own.
  std::string child_process_stdout;
  std::string child_process_stderr;
};

struct AgentConfig {
  std::string pid_file;
  bool exit_after_auth = false;
  VaultConfig vault;
  std::optional<AuthMethodConfig> method;
  std::vector<SinkConfig> sinks;
  std::chrono::seconds static_secret_render_interval{300};
  // Fraction of a leased secret's lease_duration after which it is read
  // again (template_config.lease_renewal_threshold).
  double lease_renewal_threshold = 2.0 / 3.0;
  // Logging, as Vault Agent's log_level, log_format and log_file; empty
  // means not set (the flag, then the environment, then these, then the
  // defaults: info, standard, stderr only).
  std::string log_level;
  std::string log_format;
  std::string log_file;
  // Settings read but without effect here, one sentence each, logged at
  // start so that they are not taken for settings in effect.
  std::vector<std::string> ineffective;
  std::vector<TemplateConfig> templates;
  std::optional<ExecConfig> exec;
  std::map<std::string, TemplateConfig> env_templates;  // by variable name
};

// Parses the text of a config file; `source_name` prefixes error positions.
// Relative `source` paths are read relative to the current directory.
Result<AgentConfig> ParseConfig(std::string_view text, std::string_view source_name = "");

// Reads and parses a file.
Result<AgentConfig> LoadConfigFile(const std::string& path);

// "SIGTERM", "TERM", "15" -> 15. kInvalidArgument for unknown names.
Result<int> ParseSignal(std::string_view name);

}  // namespace coffer::agent
