#pragma once
// The `coffer` command line client (every subcommand except `server`). It
// talks to a Coffer or Vault server over the HTTP API only.
//
// Exit codes follow Vault's CLI: 0 success, 1 usage or local error, 2 an
// error answered by the server (or, for `status` / `operator init -status`,
// "sealed" / "not initialised"), 127 unknown command.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace coffer::cli {

// What a command sees of its process. Main() fills it with the real streams
// and environment; tests inject string streams and a fake environment.
struct Env {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // A terminal file descriptor behind `in`, or -1. When set, secrets are read
  // from it with echo turned off and a prompt is written to `err`.
  int tty_fd = -1;
  // Whether `out` is a terminal: a raw -field value gets a final newline only
  // then, as Vault does, so that `$(coffer kv get -field=x ...)` is exact.
  bool out_is_tty = false;
  // Environment lookup (COFFER_ADDR, VAULT_TOKEN, HOME, ...).
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// Entry point for `coffer <command> ...` (argv[0] is the program name).
int Main(int argc, char** argv);

// Runs one command line; `args` excludes the program name and is normalised
// (see args.h) here. Returns the exit code.
int Run(const std::vector<std::string>& args, Env& env);

}  // namespace coffer::cli
