#pragma once
// Template: a subset of Go's text/template, the language Vault Agent (through
// consul-template) uses for `template` and `env_template` blocks, and
// OpenBao's policies for `list_scan_response_keys_filter_path`. It is
// hand-written because no packaged Go-template engine exists for C++.
//
// Supported (docs/agent.md lists it with examples):
//   text, {{ pipeline }}, {{/* comment */}}, {{- and -}} whitespace trimming
//   {{ if P }} .. {{ else if P }} .. {{ else }} .. {{ end }}
//   {{ with P }} .. {{ else }} .. {{ end }}     (dot becomes the value)
//   {{ range P }}, {{ range $v := P }}, {{ range $k, $v := P }} .. {{ else }} .. {{ end }}
//   {{ $x := P }}, {{ $x = P }}, $x.field, $ (the top-level dot)
//   operands: .Field.chain, "strings" with Go escapes, `raw strings`,
//             numbers, true, false, nil, (sub pipelines)
//   pipes:    P | f a  calls f(a, P)
//   functions: secret, toJSON, toJSONPretty, base64Encode, base64Decode,
//              trimSpace, toUpper, toLower, eq, ne, not, and, or, len, index;
//              OpenBao's helpers: replace OLD NEW S, lowercase, uppercase
//
// Values are JSON. A missing map key renders "<no value>" (and is false in
// `if`), as in Go, unless error_on_missing_key is set: then it is an error
// naming the key. Errors name template line numbers and keys, never values.
//
// Thread-safety: a parsed Template is immutable; Render may be called from
// several threads if the fetcher allows it.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::go_template {

using Json = nlohmann::json;

// Answers `secret "path"` (read; `data` is null) and `secret "path" "k=v" ..`
// (write; `data` is the object of the k=v pairs). Returns the object the
// template sees: {"Data": .., "LeaseID": .., "LeaseDuration": .., "Renewable": ..,
// "Warnings": .., "RequestID": ..}.
using SecretFetcher = std::function<Result<Json>(const std::string& path, const Json& data)>;

struct RenderOptions {
  bool error_on_missing_key = false;
  Json dot;  // the value of `.` and `$` at the top (null: none)
};

namespace internal {
struct Node;
}  // namespace internal

class Template {
 public:
  // Errors: kInvalidArgument "NAME:LINE: what" for syntax errors.
  static Result<Template> Parse(std::string_view text, std::string name = "template");

  // Errors: kInvalidArgument "NAME:LINE: what" for evaluation errors
  // (missing key with error_on_missing_key, wrong types, bad base64); the
  // fetcher's own error (prefixed with the line) when a secret call fails.
  // The output may hold secret values: wipe it when done.
  Result<std::string> Render(const SecretFetcher& fetch, const RenderOptions& options = {}) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::shared_ptr<const internal::Node> root_;
};

}  // namespace coffer::go_template
