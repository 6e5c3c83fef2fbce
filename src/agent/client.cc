#include "agent/client.h"

#include "common/json_numbers.h"

namespace coffer::agent {

Result<nlohmann::json> Client::Call(std::string_view method, std::string_view path,
                                    std::string body, const SecretBytes& token,
                                    std::string_view wrap_ttl) {
  std::string full = "/v1/" + std::string(path);
  Result<HttpAnswer> r = transport_->Send(method, full, body, token, wrap_ttl);
  WipeString(body);
  if (!r) return Err(r.error());
  nlohmann::json decoded;
  if (!r->body.empty()) {
    // Numbers as the server sent them (common/json_numbers.h), so that a
    // template prints 123456789012345678901234567890 or 1.50 as written.
    auto parsed = ParseJsonNumbers(r->body, kKeepNumberText);
    decoded =
        parsed ? std::move(parsed->value) : nlohmann::json(nlohmann::json::value_t::discarded);
    WipeString(r->body);
  }
  if (r->status >= 200 && r->status < 300) {
    if (decoded.is_discarded()) {
      return Err(Internal(std::string(method) + " " + full + ": undecodable answer"));
    }
    return decoded;
  }
  std::string what = std::string(method) + " " + full + ": " + std::to_string(r->status);
  if (decoded.is_object() && decoded.contains("errors") && decoded["errors"].is_array()) {
    for (const auto& e : decoded["errors"]) {
      if (e.is_string()) what += "; " + e.get<std::string>();
    }
  }
  switch (r->status) {
    case 400:
      return Err(InvalidArgument(what));
    case 403:
      return Err(PermissionDenied(what));
    case 404:
      return Err(NotFound(what));
    case 429:
      return Err(Status(Code::kRateLimited, what));
    case 502:
    case 503:
    case 504:
      return Err(Unavailable(what));
    default:
      return Err(Internal(what));
  }
}

}  // namespace coffer::agent
