#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "cli/command.h"
#include "cli/command_util.h"
#include "cli/token_file.h"
#include "common/text.h"

namespace coffer::cli {
namespace {

constexpr std::string_view kDefaultAddress = "https://127.0.0.1:8200";

// Echo must come back even when the user presses Ctrl-C at the prompt.
int g_tty_fd = -1;
struct termios g_saved_termios;
struct sigaction g_old_sigint;

void RestoreTerminalOnSignal(int sig) {
  if (g_tty_fd >= 0) tcsetattr(g_tty_fd, TCSANOW, &g_saved_termios);
  sigaction(sig, &g_old_sigint, nullptr);
  raise(sig);
}

}  // namespace

SecretBytes Invocation::Token() const {
  auto get = [this](const char* name) -> std::optional<std::string> {
    if (!env.getenv) return std::nullopt;
    std::optional<std::string> v = env.getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  if (auto t = get("COFFER_TOKEN")) {
    SecretBytes token = SecretBytes::FromString(Trim(*t, kLineSpace));
    WipeString(*t);
    return token;
  }
  if (auto t = get("VAULT_TOKEN")) {
    SecretBytes token = SecretBytes::FromString(Trim(*t, kLineSpace));
    WipeString(*t);
    return token;
  }
  // The token helper file written by `coffer login` (or `vault login`).
  if (auto home = get("HOME")) return ReadTokenFile(*home);
  return SecretBytes();
}

Result<std::unique_ptr<ApiClient>> Invocation::Client() const {
  auto get = [this](const char* name) -> std::optional<std::string> {
    if (!env.getenv) return std::nullopt;
    std::optional<std::string> v = env.getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  ClientConfig config;
  if (!options.address.empty()) {
    config.address = options.address;
  } else if (auto a = get("COFFER_ADDR")) {
    config.address = *a;
  } else if (auto a2 = get("VAULT_ADDR")) {
    config.address = *a2;
  } else {
    config.address = std::string(kDefaultAddress);
  }

  config.token = Token();

  if (!options.ca_cert.empty()) {
    config.ca_cert = options.ca_cert;
  } else if (auto c = get("COFFER_CACERT")) {
    config.ca_cert = *c;
  } else if (auto c2 = get("VAULT_CACERT")) {
    config.ca_cert = *c2;
  }
  config.ca_path = options.ca_path;
  for (const char* name : {"COFFER_CAPATH", "VAULT_CAPATH"}) {
    if (!config.ca_path.empty()) break;
    if (auto v = get(name)) config.ca_path = *v;
  }

  // A TLS client certificate (cert logins): flags, then the environment.
  config.client_cert = options.client_cert;
  config.client_key = options.client_key;
  for (const char* name : {"COFFER_CLIENT_CERT", "VAULT_CLIENT_CERT"}) {
    if (!config.client_cert.empty()) break;
    if (auto v = get(name)) config.client_cert = *v;
  }
  for (const char* name : {"COFFER_CLIENT_KEY", "VAULT_CLIENT_KEY"}) {
    if (!config.client_key.empty()) break;
    if (auto v = get(name)) config.client_key = *v;
  }
  if (config.client_cert.empty() != config.client_key.empty()) {
    return Err(InvalidArgument("-client-cert and -client-key go together"));
  }

  if (options.tls_skip_verify.has_value()) {
    config.tls_skip_verify = *options.tls_skip_verify;
  } else {
    for (const char* name : {"COFFER_SKIP_VERIFY", "VAULT_SKIP_VERIFY"}) {
      if (auto v = get(name)) {
        std::optional<bool> b = ParseGoBool(*v);
        if (!b) return Err(InvalidArgument(std::string("invalid boolean in ") + name));
        config.tls_skip_verify = *b;
        break;
      }
    }
  }
  config.capture = capture;
  config.tls_server_name = options.tls_server_name;
  for (const char* name : {"COFFER_TLS_SERVER_NAME", "VAULT_TLS_SERVER_NAME"}) {
    if (!config.tls_server_name.empty()) break;
    if (auto v = get(name)) config.tls_server_name = *v;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(std::move(config)));
  // -header K=V, as Vault's CLI: the X-Vault-* headers are the client's own.
  for (const std::string& h : options.headers) {
    const std::size_t eq = h.find('=');
    const std::string name = h.substr(0, eq);
    if (eq == std::string::npos || name.empty() || h.find_first_of("\r\n") != std::string::npos) {
      return Err(InvalidArgument("invalid -header: expected K=V on one line"));
    }
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.starts_with("x-vault-")) {
      return Err(InvalidArgument("-header " + name +
                                 ": headers starting with X-Vault- are for the client's own use"));
    }
    http->SetHeader(name, h.substr(eq + 1));
  }
  std::string ns = options.vault_namespace;
  for (const char* name : {"COFFER_NAMESPACE", "VAULT_NAMESPACE"}) {
    if (!ns.empty()) break;
    if (auto v = get(name)) ns = *v;
  }
  if (!ns.empty()) http->SetHeader("X-Vault-Namespace", ns);
  return std::make_unique<ApiClient>(std::move(http));
}

Result<SecretBytes> Invocation::ReadSecret(std::string_view prompt) {
  std::string line;
  line.reserve(1024);  // so that getline does not leave copies behind while growing
  if (env.tty_fd >= 0) {
    if (options.non_interactive) {
      return Err(InvalidArgument("a value is needed and -non-interactive forbids asking for it"));
    }
    err() << prompt << std::flush;
    struct termios quiet;
    bool restore = tcgetattr(env.tty_fd, &g_saved_termios) == 0;
    if (restore) {
      g_tty_fd = env.tty_fd;
      struct sigaction sa {};
      sa.sa_handler = RestoreTerminalOnSignal;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGINT, &sa, &g_old_sigint);
      quiet = g_saved_termios;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(env.tty_fd, TCSAFLUSH, &quiet);
    }
    std::getline(*env.in, line);
    if (restore) {
      tcsetattr(env.tty_fd, TCSAFLUSH, &g_saved_termios);
      sigaction(SIGINT, &g_old_sigint, nullptr);
      g_tty_fd = -1;
    }
    err() << "\n";
  } else {
    std::getline(*env.in, line);
  }
  std::string_view value = Trim(line, kLineSpace);
  if (value.empty()) {
    WipeString(line);
    return Err(InvalidArgument("no value was entered"));
  }
  SecretBytes secret = SecretBytes::FromString(value);
  WipeString(line);
  return secret;
}

}  // namespace coffer::cli
