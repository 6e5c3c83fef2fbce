#include "cli/command_util.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <istream>
#include <iterator>
#include <limits>

#include "common/duration.h"
#include "common/encoding.h"

namespace coffer::cli {

std::unique_ptr<ApiClient> ClientOrReport(Invocation& inv) {
  Result<std::unique_ptr<ApiClient>> client = inv.Client();
  if (!client) {
    inv.err() << client.error().message() << "\n";
    return nullptr;
  }
  return std::move(*client);
}

std::string ArityError(std::size_t n, std::size_t min, std::size_t max) {
  // No upper bound (write's key=value pairs): Vault names only the minimum.
  auto expected = [&] {
    if (min == max || max == std::numeric_limits<std::size_t>::max()) return std::to_string(min);
    return std::to_string(min) + "-" + std::to_string(max);
  };
  if (n < min) {
    return "Not enough arguments (expected " + expected() + ", got " + std::to_string(n) + ")";
  }
  if (n > max) {
    return "Too many arguments (expected " + expected() + ", got " + std::to_string(n) + ")";
  }
  return "";
}

bool ArityOk(Invocation& inv, std::size_t n, std::size_t min, std::size_t max) {
  std::string e = ArityError(n, min, max);
  if (e.empty()) return true;
  inv.err() << e << "\n";
  return false;
}

std::string SanitizePath(std::string_view p) {
  auto strip = [](char c) { return c == ' ' || c == '\t' || c == '/'; };
  while (!p.empty() && strip(p.front())) p.remove_prefix(1);
  while (!p.empty() && strip(p.back())) p.remove_suffix(1);
  return std::string(p);
}

std::string EnsureTrailingSlash(std::string path) {
  if (!path.empty() && path.back() != '/') path += '/';
  return path;
}

std::vector<std::string> SplitCommaList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    std::size_t start = 0;
    while (start <= v.size()) {
      std::size_t comma = v.find(',', start);
      std::string part = v.substr(start, comma == std::string::npos ? comma : comma - start);
      std::string_view t = part;
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
      while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
      if (!t.empty()) out.emplace_back(t);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

Result<long long> DurationSeconds(std::string_view text) {
  ASSIGN_OR_RETURN(std::chrono::seconds d, ParseDuration(text));
  return static_cast<long long>(d.count());
}

bool DurationFlagsValid(Invocation& inv,
                        std::initializer_list<std::pair<const char*, const std::string*>> flags,
                        std::initializer_list<std::string_view> also) {
  for (const auto& [name, value] : flags) {
    if (value->empty() || std::find(also.begin(), also.end(), *value) != also.end()) continue;
    if (!DurationSeconds(*value)) {
      inv.err() << "invalid value \"" << *value << "\" for flag -" << name
                << ": not a duration (such as 30s, 15m or 1h)\n";
      return false;
    }
  }
  return true;
}

std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<SecretBytes> ReadTokenArgument(Invocation& inv, std::string& arg, std::string_view prompt) {
  if (arg.empty()) return inv.ReadSecret(prompt);
  std::string text;
  std::string_view v = arg;
  if (arg == "-") {
    if (inv.env.in == nullptr) return Err(InvalidArgument("stdin is not available"));
    text = ReadAll(*inv.env.in);
    v = text;
  }
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  SecretBytes token = SecretBytes::FromString(v);
  WipeString(text);
  WipeString(arg);
  if (token.empty()) return Err(InvalidArgument("no token was entered"));
  return token;
}

std::string Redact(std::string message, std::string_view secret) {
  if (secret.empty()) return message;
  for (std::size_t pos; (pos = message.find(secret)) != std::string::npos;) {
    message.replace(pos, secret.size(), "<redacted>");
  }
  return message;
}

std::string DescribeFailure(const ApiClient& client, std::string_view method, std::string_view path,
                            const Result<ApiResponse>& resp) {
  if (!resp) return resp.error().message();
  std::string url = client.address();
  while (!url.empty() && url.back() == '/') url.pop_back();
  return FormatApiError(method, url + std::string(path), resp->status, resp->body);
}

Result<Json> SendWiped(ApiClient& client, std::string_view method, std::string_view path,
                       std::string& body) {
  Result<Json> resp = client.Request(method, path, body);
  WipeString(body);
  return resp;
}

void AddBoolFlag(CLI::App& app, const std::string& name, std::optional<bool>& target,
                 const std::string& help) {
  // CLI11's add_flag into a std::optional<bool> sets it even when the flag is
  // absent, so the value is taken from each occurrence here instead. A bare
  // flag's result is "true".
  app.add_flag(name, help)->check([&target](const std::string& value) -> std::string {
    std::optional<bool> b = ParseGoBool(value);
    if (!b) return "not a boolean";
    target = *b;
    return "";
  });
}

void AddFieldFlag(CLI::App& app, std::string& field) {
  app.add_option("--field", field,
                 "Print only this field, raw (no newline unless stdout is a terminal)");
}

void AddWrapTtlFlag(CLI::App& app, std::string& wrap_ttl) {
  app.add_option("--wrap-ttl", wrap_ttl,
                 "Wrap the answer in a single-use token valid for this long (X-Vault-Wrap-TTL)");
}

bool ApplyWrapTtl(Invocation& inv, ApiClient& client, const std::string& wrap_ttl) {
  std::string ttl = wrap_ttl;
  const char* source = "-wrap-ttl";
  // As in Vault, the variable is the flag's default.
  for (const char* name : {"COFFER_WRAP_TTL", "VAULT_WRAP_TTL"}) {
    if (!ttl.empty() || !inv.env.getenv) break;
    if (std::optional<std::string> v = inv.env.getenv(name); v && !v->empty()) {
      ttl = *v;
      source = name;
    }
  }
  if (ttl.empty()) return true;
  if (!DurationSeconds(ttl)) {
    inv.err() << "Invalid " << source << " \"" << ttl << "\": not a duration\n";
    return false;
  }
  client.SetHeader("X-Vault-Wrap-TTL", ttl);
  return true;
}

bool RefuseShareArgument(Invocation& inv, std::string& arg) {
  if (arg.empty() || arg == "-") return true;
  WipeString(arg);
  inv.err() << "Error: unseal key shares are not taken on the command line (they would show "
               "in the process list and shell history). Leave the argument out to be asked "
               "for the share, or pipe it on stdin.\n";
  return false;
}

Result<Json> PostShare(ApiClient& client, Invocation& inv, std::string_view path,
                       std::string_view nonce, std::string_view prompt) {
  Result<SecretBytes> key = inv.ReadSecret(prompt);
  if (!key) return Err(key.error());
  std::string body;
  body.reserve(key->size() * 6 + nonce.size() + 32);
  body += "{\"key\":";
  AppendJsonString(body, key->view());
  body += ",\"nonce\":";
  AppendJsonString(body, nonce);
  body += '}';
  Result<Json> resp = client.Request("PUT", path, body);
  WipeString(body);
  if (!resp) {
    Status st(resp.error().code(), Redact(resp.error().message(), key->view()));
    key->Clear();
    return Err(std::move(st));
  }
  key->Clear();
  return resp;
}

}  // namespace coffer::cli
