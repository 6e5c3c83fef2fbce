#pragma once
// Running the CLI in-process against a FakeServer, for the command tests.

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/fake_server.h"

namespace coffer::cli::cli_testing {

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

inline Outcome RunCli(const std::vector<std::string>& args, std::map<std::string, std::string> vars,
                      const std::string& stdin_text = "", bool out_is_tty = false) {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  Env env;
  env.in = &in;
  env.out = &out;
  env.err = &err;
  env.out_is_tty = out_is_tty;
  env.getenv = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  Outcome o;
  o.code = Run(args, env);
  o.out = out.str();
  o.err = err.str();
  return o;
}

// The environment of a CLI run against the server, with a client token.
inline std::map<std::string, std::string> Vars(const FakeServer& s,
                                               const std::string& token = "s.tok") {
  return {{"COFFER_ADDR", s.address()}, {"COFFER_TOKEN", token}};
}

// Answers "METHOD TARGET" from the map; 404 otherwise.
inline FakeServer::Handler Routes(std::map<std::string, FakeServer::Reply> routes) {
  return [routes](const FakeServer::Request& r) -> FakeServer::Reply {
    auto it = routes.find(r.method + " " + r.target);
    if (it != routes.end()) return it->second;
    return {404, R"({"errors":[]})"};
  };
}

// The KV v2 mount "secret/" as sys/internal/ui/mounts describes it.
inline constexpr char kSecretV2[] =
    R"({"data":{"path":"secret/","type":"kv","options":{"version":"2"}}})";
inline constexpr char kSecretV1[] =
    R"({"data":{"path":"secret/","type":"kv","options":{"version":"1"}}})";

}  // namespace coffer::cli::cli_testing
