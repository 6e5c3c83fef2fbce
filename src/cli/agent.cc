// `coffer agent -config=agent.hcl`: Vault Agent's auto-auth, token sinks,
// templates and process supervisor (src/agent/). This file only reads the
// flags, builds the HTTP transport from the CLI's HttpClient and runs the
// agent loop.
#include "agent/agent.h"

#include <fcntl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "agent/config.h"
#include "cli/command.h"
#include "cli/command_util.h"
#include "cli/http_client.h"
#include "common/log.h"

namespace coffer::cli {
namespace {

// agent::Transport over the CLI's synchronous client (one request at a time,
// which is how the agent loop uses it), with a second client for the change
// event stream, which runs on the subscriber's thread.
class HttpTransport : public agent::Transport {
 public:
  HttpTransport(std::unique_ptr<HttpClient> http, std::unique_ptr<HttpClient> stream_http)
      : http_(std::move(http)), stream_http_(std::move(stream_http)) {}

  Result<int> StreamEvents(std::string_view path, const SecretBytes& token,
                           const std::function<void()>& on_open,
                           const std::function<void(std::string_view)>& on_record) override {
    stream_http_->SetToken(token.Clone());
    // The server sends a keepalive every 15 s: three missed means it is gone.
    Result<HttpResponse> r = stream_http_->StreamEvents(path, StreamHandlers{on_open, on_record},
                                                        std::chrono::seconds(45), &canceller_);
    stream_http_->SetToken(SecretBytes());
    if (!r) return Err(r.error());
    return r->status;
  }
  void CancelStream() override { canceller_.Cancel(); }
  void ResetStream() override { canceller_.Reset(); }

  Result<agent::HttpAnswer> Send(std::string_view method, std::string_view path,
                                 std::string_view body, const SecretBytes& token,
                                 std::string_view wrap_ttl) override {
    http_->SetToken(token.Clone());
    http_->SetHeader("X-Vault-Wrap-TTL", std::string(wrap_ttl));
    Result<HttpResponse> r = http_->Do(method, path, body);
    http_->SetToken(SecretBytes());
    if (!r) return Err(r.error());
    return agent::HttpAnswer{r->status, std::move(r->body)};
  }

 private:
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<HttpClient> stream_http_;
  StreamCanceller canceller_;
};

class AgentCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("--config", config_path_, "Agent configuration file (HCL or JSON)")->required();
    app.add_option("--log-level", log_level_,
                   "trace, debug, info, warn or error (or COFFER_LOG_LEVEL, VAULT_LOG_LEVEL)");
    app.add_option("--log-format", log_format_,
                   "standard or json (or COFFER_LOG_FORMAT, VAULT_LOG_FORMAT)");
    app.add_option("--log-file", log_file_, "Also write the logs to this file");
  }

  int Run(Invocation& inv) override {
    Result<agent::AgentConfig> config = agent::LoadConfigFile(config_path_);
    if (!config) {
      inv.err() << "Error loading configuration: " << config.error().message() << "\n";
      return kExitLocal;
    }
    auto env = [&](const char* name) -> std::string {
      if (!inv.env.getenv) return "";
      return inv.env.getenv(name).value_or("");
    };
    if (int rc = SetUpLogging(inv, *config, env); rc != 0) return rc;
    for (const std::string& warning : config->ineffective)
      Log(LogModule::kAgent).warn("{}", warning);
    // The CA and client certificate: flags and environment first (as for
    // every command), then the cert method's own files, then the vault stanza.
    const agent::AuthMethodConfig* cert =
        config->method && config->method->type == "cert" ? &*config->method : nullptr;
    auto make_config = [&]() {
      ClientConfig cc;
      cc.timeout = std::chrono::seconds(30);
      std::string address = inv.options.address;
      if (address.empty()) address = env("COFFER_ADDR");
      if (address.empty()) address = env("VAULT_ADDR");
      if (address.empty()) address = config->vault.address;
      if (!address.empty()) cc.address = address;
      cc.ca_cert = !inv.options.ca_cert.empty()     ? inv.options.ca_cert
                   : !env("COFFER_CACERT").empty()  ? env("COFFER_CACERT")
                   : !env("VAULT_CACERT").empty()   ? env("VAULT_CACERT")
                   : cert && !cert->ca_cert.empty() ? cert->ca_cert
                                                    : config->vault.ca_cert;
      // A CA directory is used only without a CA file (HttpClient).
      cc.ca_path = !inv.options.ca_path.empty()    ? inv.options.ca_path
                   : !env("COFFER_CAPATH").empty() ? env("COFFER_CAPATH")
                   : !env("VAULT_CAPATH").empty()  ? env("VAULT_CAPATH")
                                                   : config->vault.ca_path;
      cc.tls_skip_verify = inv.options.tls_skip_verify.value_or(config->vault.tls_skip_verify);
      cc.tls_server_name = !inv.options.tls_server_name.empty()     ? inv.options.tls_server_name
                           : !env("COFFER_TLS_SERVER_NAME").empty() ? env("COFFER_TLS_SERVER_NAME")
                           : !env("VAULT_TLS_SERVER_NAME").empty()  ? env("VAULT_TLS_SERVER_NAME")
                                                                    : config->vault.tls_server_name;
      if (!inv.options.client_cert.empty()) {
        cc.client_cert = inv.options.client_cert;
        cc.client_key = inv.options.client_key;
      } else if (cert && !cert->client_cert.empty()) {
        cc.client_cert = cert->client_cert;
        cc.client_key = cert->client_key;
      } else {
        cc.client_cert = config->vault.client_cert;
        cc.client_key = config->vault.client_key;
      }
      return cc;
    };
    if (cert && make_config().address.starts_with("http://")) {
      inv.err() << "Error: auto_auth method \"cert\" needs an https:// server address (the "
                   "client certificate is presented in the TLS handshake)\n";
      return kExitLocal;
    }
    Result<std::unique_ptr<HttpClient>> http = HttpClient::Create(make_config());
    Result<std::unique_ptr<HttpClient>> stream_http = HttpClient::Create(make_config());
    if (!http || !stream_http) {
      inv.err() << "Error: " << (http ? stream_http : http).error().message() << "\n";
      return kExitLocal;
    }
    Result<std::unique_ptr<agent::Agent>> a = agent::Agent::Create(
        std::move(*config),
        std::make_unique<HttpTransport>(std::move(*http), std::move(*stream_http)));
    if (!a) {
      inv.err() << "Error: " << a.error().message() << "\n";
      return kExitLocal;
    }
    return (*a)->Run();
  }

 private:
  // As Vault Agent: each of level, format and file from the flag, then the
  // environment (level and format), then the config file. Logs go to stderr,
  // so stdout stays free for the child in exec mode, and also to the log
  // file when one is set; the change-event thread logs too, hence the
  // thread-safe sinks.
  template <typename Env>
  int SetUpLogging(Invocation& inv, const agent::AgentConfig& config, const Env& env) {
    auto pick = [&](const std::string& flag, const char* a, const char* b, const std::string& file,
                    const char* def) {
      if (!flag.empty()) return flag;
      if (a != nullptr && !env(a).empty()) return env(a);
      if (b != nullptr && !env(b).empty()) return env(b);
      return file.empty() ? std::string(def) : file;
    };
    std::string level =
        pick(log_level_, "COFFER_LOG_LEVEL", "VAULT_LOG_LEVEL", config.log_level, "info");
    std::string format =
        pick(log_format_, "COFFER_LOG_FORMAT", "VAULT_LOG_FORMAT", config.log_format, "standard");
    std::string file = pick(log_file_, nullptr, nullptr, config.log_file, "");
    std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
    if (!file.empty()) {
      file = LogFilePath(file);
      // Created 0640 before spdlog opens it for appending (its own fopen
      // would leave the mode to the umask).
      int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      if (fd < 0) {
        inv.err() << "Error: cannot open the log file " << file << ": " << std::strerror(errno)
                  << "\n";
        return kExitLocal;
      }
      ::close(fd);
      try {
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false));
      } catch (const spdlog::spdlog_ex& e) {
        inv.err() << "Error: cannot open the log file " << file << ": " << e.what() << "\n";
        return kExitLocal;
      }
    }
    auto logger = std::make_shared<spdlog::logger>("agent", sinks.begin(), sinks.end());
    // Each line reaches the file as it is logged (a file sink buffers
    // otherwise, and a tail -f of a running agent would show nothing).
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
    if (!SetLogLevel(level)) {
      inv.err() << "Unknown log level: " << level << "\n";
      return kExitLocal;
    }
    if (!SetLogFormat(format)) {
      inv.err() << "Unknown log format: " << format << " (standard or json)\n";
      return kExitLocal;
    }
    return 0;
  }

  // Vault Agent's log_file names: a path ending in '/' is a directory and
  // gets agent.log; a last name without an extension gets ".log".
  static std::string LogFilePath(const std::string& path) {
    if (path.ends_with('/')) return path + "agent.log";
    std::size_t slash = path.rfind('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    return name.find('.') == std::string::npos ? path + ".log" : path;
  }

  std::string config_path_;
  std::string log_level_;
  std::string log_format_;
  std::string log_file_;
};

}  // namespace

void RegisterAgentCommand(Registry& registry) {
  registry.Add({"agent", "Run the agent: auto-auth, token sinks, templates, exec",
                "Usage: coffer agent -config=agent.hcl\n\n"
                "  Logs in with the configured auto_auth method, keeps the token renewed,\n"
                "  writes it to the sinks, renders templates and optionally supervises a\n"
                "  child process with secrets in its environment. See docs/agent.md.",
                [] { return std::make_unique<AgentCommand>(); }});
}

}  // namespace coffer::cli
