#include "cli/output_policy.h"

#include <optional>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "policy/sudo_paths.h"

namespace coffer::cli {

Result<std::string> SamplePolicy(const RequestCapture& request) {
  std::string_view path = request.path;
  std::string_view query;
  if (std::size_t q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (path.starts_with("/v1/")) path.remove_prefix(4);
  while (path.starts_with('/')) path.remove_prefix(1);

  std::string_view method = request.method;
  // A listing sent as GET ?list=true (Vault's client decides the same way).
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!param.starts_with("list=")) continue;
    std::optional<bool> list = ParseGoBool(param.substr(5));
    if (!list) {
      return Err(InvalidArgument("the value of the list parameter is not a boolean: " +
                                 std::string(param.substr(5))));
    }
    if (*list) method = "LIST";
  }

  std::vector<std::string_view> caps;
  if (method == "GET" || method.empty()) {
    caps = {"read"};
  } else if (method == "PUT" || method == "POST") {
    caps = {"create", "update"};
  } else if (method == "PATCH") {
    caps = {"patch"};
  } else if (method == "DELETE") {
    caps = {"delete"};
  } else if (method == "LIST") {
    caps = {"list"};
  } else if (method == "SCAN") {
    caps = {"scan"};
  }
  if (policy::IsSudoPath(path)) caps.push_back("sudo");

  std::string out = "path \"";
  for (char c : path) {
    if (c == '"' || c == '\\') out += '\\';  // still one HCL string
    out += c;
  }
  out += "\" {\n  capabilities = [";
  for (std::size_t i = 0; i < caps.size(); ++i) {
    if (i > 0) out += ", ";
    out += '"';
    out += caps[i];
    out += '"';
  }
  out += "]\n}";
  return out;
}

}  // namespace coffer::cli
