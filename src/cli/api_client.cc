#include "cli/api_client.h"

#include <utility>

#include "common/json_numbers.h"

namespace coffer::cli {
namespace {

Code CodeForStatus(int status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kMethodNotAllowed;
    case 413:
      return Code::kTooLarge;
    case 429:
      return Code::kRateLimited;
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

}  // namespace

ApiClient::ApiClient(std::unique_ptr<HttpClient> http) : http_(std::move(http)) {}

std::string FormatApiError(std::string_view method, std::string_view url, int status,
                           const Json& body) {
  std::string out = "Error making API request.\n\nURL: ";
  out += method;
  out += ' ';
  out += url;
  out += "\nCode: " + std::to_string(status) + ". ";
  const Json* errors = nullptr;
  if (body.is_object()) {
    auto it = body.find("errors");
    if (it != body.end() && it->is_array()) errors = &*it;
  }
  if (errors == nullptr || errors->empty()) {
    // Vault prints the raw body when it is not an error envelope.
    out += "Raw Message:\n\n";
    if (!body.is_null()) out += body.is_string() ? body.get<std::string>() : body.dump();
    return out;
  }
  out += "Errors:\n\n";
  bool first = true;
  for (const auto& e : *errors) {
    if (!first) out += '\n';
    first = false;
    out += "* ";
    out += e.is_string() ? e.get<std::string>() : e.dump();
  }
  return out;
}

Result<ApiResponse> ApiClient::Send(std::string_view method, std::string_view path,
                                    std::string_view body) {
  ASSIGN_OR_RETURN(HttpResponse resp, http_->Do(method, path, body));
  ApiResponse out;
  out.status = resp.status;
  if (!resp.body.empty()) {
    // Numbers as the server sent them (common/json_numbers.h): a secret's
    // 123456789012345678901234567890 or 1.50 prints as written.
    auto parsed = ParseJsonNumbers<Json>(resp.body, kKeepNumberText);
    out.body = parsed ? std::move(parsed->value) : Json(Json::value_t::discarded);
    if (out.body.is_discarded()) {
      if (resp.status >= 200 && resp.status < 300) {
        return Err(
            Internal("the server answered " + std::string(path) + " with a body that is not JSON"));
      }
      out.body = Json(resp.body);  // shown as the raw message
    }
  }
  return out;
}

Result<Json> ApiClient::Request(std::string_view method, std::string_view path,
                                std::string_view body) {
  ASSIGN_OR_RETURN(ApiResponse resp, Send(method, path, body));
  if (resp.status >= 200 && resp.status < 300) return std::move(resp.body);
  std::string url = address();
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  return Err(
      Status(CodeForStatus(resp.status), FormatApiError(method, url, resp.status, resp.body)));
}

}  // namespace coffer::cli
