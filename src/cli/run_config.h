#pragma once
// What `coffer run` injects: secret references, environment-variable names
// and the project file (.coffer.hcl / .coffer.yaml) that lists them per
// environment. Pure parsing, no I/O except ReadProjectFile; see docs/run.md
// for the file format.
//
// Project file schema (the same tree from HCL and YAML):
//
//   default_env = "dev"                      # optional
//   secrets = { NAME = "secret/data/app#f" } # every environment
//   paths   = ["secret/common", { path = "secret/x", prefix = "X_" }]
//   env "prod" {                             # YAML: env: {prod: {...}}
//     secrets = { ... }
//     paths   = [ ... ]
//   }
//
// Unknown keys are errors (a typo must not silently drop a secret).
//
// Errors: kInvalidArgument with a message naming the file, key or reference
// that is wrong; never a secret value (the file holds none).
// Thread-safety: free functions, reentrant.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::cli {

// One field of one secret: "secret/data/app#password".
struct SecretRef {
  std::string path;   // "secret/data/app" (no leading/trailing slash)
  std::string field;  // "password"
  std::string Text() const { return path + "#" + field; }
};

// --secret NAME=REF
struct EnvMapping {
  std::string name;
  SecretRef ref;
};

// --path PATH (with --prefix): every field of the secret.
struct PathMapping {
  std::string path;
  std::string prefix;
};

struct RunSpec {
  std::vector<EnvMapping> secrets;
  std::vector<PathMapping> paths;
  bool empty() const { return secrets.empty() && paths.empty(); }
};

// "secret/data/app#password" -> {path, field}. Both parts are required.
Result<SecretRef> ParseSecretRef(std::string_view text);

// "NAME=secret/data/app#password". NAME must be a valid variable name.
Result<EnvMapping> ParseSecretFlag(std::string_view text);

// [A-Za-z_][A-Za-z0-9_]*
bool IsValidEnvName(std::string_view name);

// The variable for a field taken with --path: prefix + field upper-cased with
// every character outside [A-Za-z0-9_] replaced by '_'; a leading '_' is
// added when the result would start with a digit ("db-pass" -> "APP_DB_PASS").
std::string EnvNameForField(std::string_view prefix, std::string_view field);
// Whether a variable named after a secret's field (--path) is refused
// because it changes how the child or its programs load and run (LD_*,
// PATH, BASH_ENV, COFFER_ADDR, ...): whoever can write the secret must not
// steer the child that way.
bool ReservedForFieldNames(std::string_view name);
// kInvalidArgument if `name` is not a variable name ([A-Za-z_][A-Za-z0-9_]*)
// or `value` holds a NUL byte (the child would see it cut short). `from`
// names the secret field in the message; neither value nor name is echoed
// beyond the name.
Status CheckEnvEntry(std::string_view name, std::string_view value, std::string_view from);

enum class ProjectFormat { kHcl, kYaml };

// The mappings of environment `env_name` ("" = default_env, else only the
// top-level ones; an error when the file defines environments but none was
// chosen). `source_name` prefixes error messages.
Result<RunSpec> ParseProjectFile(std::string_view text, ProjectFormat format,
                                 std::string_view env_name, std::string_view source_name);

// The project tree (already parsed) to a RunSpec; exposed for tests.
Result<RunSpec> ProjectSpecFromJson(const nlohmann::json& doc, std::string_view env_name,
                                    std::string_view source_name);

// A YAML document as a JSON tree: mappings -> objects, sequences -> arrays,
// every scalar -> string. Anchors/aliases, tags other than the standard ones,
// several documents and duplicate keys are refused (kInvalidArgument with
// "line L, column C"); inputs over 1 MiB are kTooLarge. Uses libyaml.
Result<nlohmann::json> ParseYaml(std::string_view text);

}  // namespace coffer::cli
