#include "cli/run_config.h"

#include <cctype>

#include "common/text.h"
#include "hcl/hcl.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

Status FileError(std::string_view source, const std::string& what) {
  return InvalidArgument(std::string(source) + ": " + what);
}

Status AddSecrets(const json& node, std::string_view where, std::string_view source,
                  RunSpec& spec) {
  if (!node.is_object()) {
    return FileError(source, std::string(where) + "secrets must be a map of NAME = \"path#field\"");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!IsValidEnvName(it.key())) {
      return FileError(source, std::string(where) + "secrets: \"" + it.key() +
                                   "\" is not a valid environment variable name");
    }
    if (!it->is_string()) {
      return FileError(
          source, std::string(where) + "secrets." + it.key() + " must be a string \"path#field\"");
    }
    Result<SecretRef> ref = ParseSecretRef(it->get<std::string>());
    if (!ref) {
      return FileError(source,
                       std::string(where) + "secrets." + it.key() + ": " + ref.error().message());
    }
    // A later definition (an environment's) replaces an earlier (top-level) one.
    std::erase_if(spec.secrets, [&](const EnvMapping& m) { return m.name == it.key(); });
    spec.secrets.push_back({it.key(), std::move(*ref)});
  }
  return Status::Ok();
}

Status AddPaths(const json& node, std::string_view where, std::string_view source, RunSpec& spec) {
  if (!node.is_array()) {
    return FileError(source, std::string(where) + "paths must be a list");
  }
  for (const json& entry : node) {
    PathMapping m;
    if (entry.is_string()) {
      m.path = std::string(Trim(entry.get<std::string>(), "/ "));
    } else if (entry.is_object()) {
      for (auto it = entry.begin(); it != entry.end(); ++it) {
        if (it.key() != "path" && it.key() != "prefix") {
          return FileError(source, std::string(where) + "paths: unknown key \"" + it.key() +
                                       "\" (expected path, prefix)");
        }
        if (!it->is_string()) {
          return FileError(source, std::string(where) + "paths: " + it.key() + " must be a string");
        }
      }
      m.path = std::string(Trim(entry.value("path", ""), "/ "));
      m.prefix = entry.value("prefix", "");
    } else {
      return FileError(
          source, std::string(where) + "paths: each entry is \"mount/path\" or {path, prefix}");
    }
    if (m.path.empty()) return FileError(source, std::string(where) + "paths: empty path");
    if (!m.prefix.empty() && !IsValidEnvName(m.prefix)) {
      return FileError(source, std::string(where) + "paths: prefix \"" + m.prefix +
                                   "\" is not a valid start of a variable name");
    }
    spec.paths.push_back(std::move(m));
  }
  return Status::Ok();
}

Status AddSection(const json& node, std::string_view where, std::string_view source, bool top_level,
                  RunSpec& spec) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    if (key == "secrets") {
      TRY(AddSecrets(*it, where, source, spec));
    } else if (key == "paths") {
      TRY(AddPaths(*it, where, source, spec));
    } else if (top_level && (key == "env" || key == "default_env")) {
      continue;
    } else {
      return FileError(source,
                       std::string(where) + "unknown key \"" + key + "\" (expected " +
                           (top_level ? "default_env, secrets, paths, env)" : "secrets, paths)"));
    }
  }
  return Status::Ok();
}

std::string EnvNames(const json& envs) {
  std::string out;
  for (auto it = envs.begin(); it != envs.end(); ++it) {
    if (!out.empty()) out += ", ";
    out += it.key();
  }
  return out;
}

}  // namespace

bool IsValidEnvName(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

std::string EnvNameForField(std::string_view prefix, std::string_view field) {
  std::string out(prefix);
  for (char c : field) {
    unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) != 0 && u < 0x80 ? static_cast<char>(std::toupper(u)) : '_';
  }
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0])) != 0) out.insert(0, "_");
  return out;
}

bool ReservedForFieldNames(std::string_view name) {
  static constexpr std::string_view kPrefixes[] = {
      "LD_", "DYLD_", "COFFER_", "VAULT_", "GIT_", "NPM_CONFIG_", "PIP_", "OPENSSL_", "MALLOC_"};
  static constexpr std::string_view kNames[] = {"PATH",
                                                "BASH_ENV",
                                                "ENV",
                                                "SHELLOPTS",
                                                "BASHOPTS",
                                                "IFS",
                                                "PS4",
                                                "PROMPT_COMMAND",
                                                "HOME",
                                                "SHELL",
                                                "TMPDIR",
                                                "PYTHONPATH",
                                                "PYTHONHOME",
                                                "PYTHONSTARTUP",
                                                "PYTHONBREAKPOINT",
                                                "PYTHONINSPECT",
                                                "PYTHONUSERBASE",
                                                "PYTHONHTTPSVERIFY",
                                                "NODE_OPTIONS",
                                                "NODE_PATH",
                                                "NODE_EXTRA_CA_CERTS",
                                                "NODE_TLS_REJECT_UNAUTHORIZED",
                                                "PERL5OPT",
                                                "PERL5LIB",
                                                "PERLLIB",
                                                "RUBYOPT",
                                                "RUBYLIB",
                                                "JAVA_TOOL_OPTIONS",
                                                "_JAVA_OPTIONS",
                                                "JDK_JAVA_OPTIONS",
                                                "CLASSPATH",
                                                "GCONV_PATH",
                                                "GLIBC_TUNABLES",
                                                "LOCPATH",
                                                "TZDIR",
                                                "HOSTALIASES",
                                                "RESOLV_HOST_CONF",
                                                "LOCALDOMAIN",
                                                "NLSPATH",
                                                "SSL_CERT_FILE",
                                                "SSL_CERT_DIR",
                                                "CURL_CA_BUNDLE",
                                                "REQUESTS_CA_BUNDLE",
                                                "SSLKEYLOGFILE",
                                                "LESSOPEN",
                                                "LESSCLOSE",
                                                "PAGER",
                                                "EDITOR",
                                                "VISUAL",
                                                "BROWSER",
                                                "SSH_ASKPASS",
                                                "SSH_ASKPASS_REQUIRE",
                                                "HTTP_PROXY",
                                                "HTTPS_PROXY",
                                                "ALL_PROXY",
                                                "FTP_PROXY",
                                                "NO_PROXY",
                                                "http_proxy",
                                                "https_proxy",
                                                "all_proxy",
                                                "ftp_proxy",
                                                "no_proxy"};
  for (auto p : kPrefixes) {
    if (name.starts_with(p)) return true;
  }
  for (auto n : kNames) {
    if (name == n) return true;
  }
  return false;
}

Status CheckEnvEntry(std::string_view name, std::string_view value, std::string_view from) {
  if (!IsValidEnvName(name)) {
    return InvalidArgument(std::string(from) + " does not give a valid variable name");
  }
  if (value.find('\0') != std::string_view::npos) {
    return InvalidArgument(std::string(from) + " (" + std::string(name) +
                           ") holds a NUL byte, which an environment variable cannot carry");
  }
  return Status::Ok();
}

Result<SecretRef> ParseSecretRef(std::string_view text) {
  std::size_t hash = text.rfind('#');
  if (hash == std::string_view::npos) {
    return Err(InvalidArgument("reference \"" + std::string(text) +
                               "\" has no #field (expected mount/path#field)"));
  }
  SecretRef ref{std::string(Trim(text.substr(0, hash), "/ ")), std::string(text.substr(hash + 1))};
  if (ref.path.empty() || ref.field.empty()) {
    return Err(InvalidArgument("reference \"" + std::string(text) +
                               "\" needs both a path and a field (mount/path#field)"));
  }
  return ref;
}

Result<EnvMapping> ParseSecretFlag(std::string_view text) {
  std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Err(
        InvalidArgument("--secret \"" + std::string(text) + "\" must be NAME=mount/path#field"));
  }
  std::string name(text.substr(0, eq));
  if (!IsValidEnvName(name)) {
    return Err(
        InvalidArgument("--secret: \"" + name + "\" is not a valid environment variable name"));
  }
  ASSIGN_OR_RETURN(SecretRef ref, ParseSecretRef(text.substr(eq + 1)));
  return EnvMapping{std::move(name), std::move(ref)};
}

Result<RunSpec> ProjectSpecFromJson(const json& doc, std::string_view env_name,
                                    std::string_view source_name) {
  if (doc.is_null()) return RunSpec{};
  if (!doc.is_object()) return Err(FileError(source_name, "the document must be a map"));
  RunSpec spec;
  TRY(AddSection(doc, "", source_name, /*top_level=*/true, spec));

  std::string chosen(env_name);
  if (chosen.empty() && doc.contains("default_env")) {
    if (!doc["default_env"].is_string()) {
      return Err(FileError(source_name, "default_env must be a string"));
    }
    chosen = doc["default_env"].get<std::string>();
  }
  const json* envs = nullptr;
  if (doc.contains("env")) {
    envs = &doc["env"];
    if (!envs->is_object()) {
      return Err(FileError(source_name, "env must hold one block per environment name"));
    }
  }
  if (chosen.empty()) {
    if (envs != nullptr && !envs->empty()) {
      return Err(FileError(source_name,
                           "choose an environment with --env (defined: " + EnvNames(*envs) + ")"));
    }
    return spec;
  }
  if (envs == nullptr || !envs->contains(chosen)) {
    return Err(
        FileError(source_name, "environment \"" + chosen + "\" is not defined" +
                                   (envs != nullptr ? " (defined: " + EnvNames(*envs) + ")" : "")));
  }
  const json& section = (*envs)[chosen];
  if (!section.is_object()) {
    // HCL turns a repeated `env "x" {}` block into a list.
    return Err(FileError(source_name, "env \"" + chosen + "\" must be defined exactly once"));
  }
  TRY(AddSection(section, "env " + chosen + ": ", source_name, /*top_level=*/false, spec));
  return spec;
}

Result<RunSpec> ParseProjectFile(std::string_view text, ProjectFormat format,
                                 std::string_view env_name, std::string_view source_name) {
  json doc;
  if (format == ProjectFormat::kHcl) {
    hcl::ParseOptions options;
    options.max_bytes = 1 << 20;
    options.source_name = std::string(source_name);
    ASSIGN_OR_RETURN(hcl::Document parsed, hcl::Parse(text, options));
    doc = parsed.json();
  } else {
    Result<json> parsed = ParseYaml(text);
    if (!parsed) {
      return Err(Status(parsed.error().code(),
                        std::string(source_name) + ": " + parsed.error().message()));
    }
    doc = std::move(*parsed);
  }
  return ProjectSpecFromJson(doc, env_name, source_name);
}

}  // namespace coffer::cli
