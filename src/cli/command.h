#pragma once
// The command registry: each command family (status.cc, operator.cc, and
// later kv.cc, token.cc, ...) registers its commands by full name
// ("operator init") from a Register*Commands(Registry&) function, listed once
// in builtins.cc. The dispatcher (cli.cc) matches the longest registered name
// at the start of argv, parses the rest with CLI11 (global flags plus the
// command's own), and calls Command::Run.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "common/secret_bytes.h"
#include "common/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace coffer::cli {

// Vault's "HTTP Options" and "Output Options", given as flags. Unset flags
// fall back to the environment (see Invocation::Client).
struct GlobalOptions {
  std::string address;                  // -address
  std::string format;                   // -format
  std::string ca_cert;                  // -ca-cert
  std::string ca_path;                  // -ca-path
  std::optional<bool> tls_skip_verify;  // -tls-skip-verify
  std::string tls_server_name;          // -tls-server-name
  std::string client_cert;              // -client-cert
  std::string client_key;               // -client-key
  std::string vault_namespace;          // -namespace, -ns
  std::vector<std::string> headers;     // -header K=V, repeatable
  bool non_interactive = false;         // -non-interactive
  bool output_policy = false;           // -output-policy
  bool output_curl_string = false;      // -output-curl-string
};

// One run of one command.
struct Invocation {
  Env& env;
  GlobalOptions options;
  OutputFormat format = OutputFormat::kTable;
  // Set under -output-policy and -output-curl-string: every client of this
  // run records its first request instead of sending it (RequestCapture).
  std::shared_ptr<RequestCapture> capture;

  std::ostream& out() { return *env.out; }
  std::ostream& err() { return *env.err; }

  // A client for the address and token in effect:
  //   address: -address, COFFER_ADDR, VAULT_ADDR, https://127.0.0.1:8200
  //   token:   COFFER_TOKEN, VAULT_TOKEN, the file ~/.coffer-token, else ~/.vault-token
  //   CA file: -ca-cert, COFFER_CACERT, VAULT_CACERT; else a CA directory:
  //            -ca-path, COFFER_CAPATH, VAULT_CAPATH; else the system store
  //   skip TLS verification: -tls-skip-verify, COFFER_SKIP_VERIFY, VAULT_SKIP_VERIFY
  //   TLS server name: -tls-server-name, COFFER_TLS_SERVER_NAME, VAULT_TLS_SERVER_NAME
  // Errors: kInvalidArgument for a bad address or a bad boolean variable.
  Result<std::unique_ptr<ApiClient>> Client() const;
  // The token Client() sends: COFFER_TOKEN, VAULT_TOKEN, else the token
  // files (empty when there is none).
  SecretBytes Token() const;

  // Reads a secret (an unseal key): from the terminal with echo off after
  // writing `prompt` to err(), or, when stdin is not a terminal, one line of
  // stdin without a prompt. Surrounding whitespace is trimmed.
  // Errors: kInvalidArgument when nothing was entered.
  Result<SecretBytes> ReadSecret(std::string_view prompt);
};

class Command {
 public:
  virtual ~Command() = default;
  // Declares the command's own flags and positional arguments.
  virtual void AddFlags(CLI::App& app) { (void)app; }
  // Runs after a successful parse; returns the exit code.
  virtual int Run(Invocation& inv) = 0;
};

struct CommandSpec {
  std::string name;      // full name: "status", "operator init"
  std::string synopsis;  // one line, for command lists
  std::string help;      // shown by -h above the flags
  // Creates the command; null for a group ("operator") that only lists its
  // subcommands.
  std::function<std::unique_ptr<Command>()> make;
};

class Registry {
 public:
  void Add(CommandSpec spec);

  // The longest registered name formed by the leading words of `args`;
  // `*words` receives how many arguments it took. Null when none matches.
  const CommandSpec* Match(const std::vector<std::string>& args, std::size_t* words) const;

  // Commands one level below `parent` ("" for the top level), by name.
  std::vector<const CommandSpec*> Children(std::string_view parent) const;

 private:
  std::map<std::string, CommandSpec, std::less<>> commands_;
};

// Every built-in command family; see builtins.cc.
void RegisterBuiltins(Registry& registry);

// The help text of a group: its help plus its subcommands and synopses.
std::string GroupHelp(const Registry& registry, const CommandSpec& group);

}  // namespace coffer::cli
